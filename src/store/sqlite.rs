//! SQLite: the embedded default (`sqlite://subsidy.db`, created by `init` if missing; other
//! commands open an existing file only). WAL with `synchronous=FULL` so a committed batch survives a power cut; write transactions begin
//! `IMMEDIATE` so two writers queue instead of failing half-way. A file that cannot be opened
//! (its folder missing, not a database, not writable) is said in one sentence (`connect.rs`); a
//! missing folder is not created: a path in one is more likely a mistake than a wish.

use super::connect;
use super::error::{StoreError, StoreResult};
use super::sql::{Pool, Tx};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: Pool,
}

impl SqliteStore {
    /// Open (creating if missing) the database file a `sqlite:` URL names.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_as(url, true).await
    }

    /// Open the database file a `sqlite:` URL names, which must exist
    /// ([`StoreError::NoDatabaseFile`] otherwise: nothing is created).
    pub async fn open_existing(url: &str) -> StoreResult<Self> {
        Self::open_as(url, false).await
    }

    async fn open_as(url: &str, create: bool) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl { url: url.to_string(), said: e.to_string() })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let file = options.get_filename().to_path_buf();
        if let Some(missing) = connect::sqlite_missing_folder(&file) {
            return Err(missing);
        }
        let named = file.to_string_lossy();
        if !create && !named.starts_with("file:") && named != ":memory:" && !file.exists() {
            return Err(StoreError::NoDatabaseFile { url: connect::redact_url(url), file: file.display().to_string() });
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| connect::sqlite_failure(e, &file))?;
        Ok(SqliteStore { pool: Pool::Sqlite(pool) })
    }

    /// Close the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Apply the SQLite migrations (idempotent).
pub(super) async fn migrate(pool: &SqlitePool) -> StoreResult<()> {
    sqlx::migrate!("migrations/sqlite").run(pool).await?;
    Ok(())
}

/// The newest migration this binary carries.
pub(super) fn latest_migration() -> i64 {
    sqlx::migrate!("migrations/sqlite").iter().map(|m| m.version).max().unwrap_or(0)
}

/// Begin a batch's write transaction. SQLite has one writer at a time: `begin immediate` waits
/// up to the busy timeout for it, then reports the district as held by another run (`None`).
pub(super) async fn begin_batch(pool: &Pool) -> StoreResult<Option<Tx>> {
    match pool.begin_write().await {
        Ok(mut tx) => {
            // A batch writes a posting, a transfer and a balance per payment into large indexes:
            // the import's 64 MiB page cache on this connection (not the pool's: every sort of an
            // export or verify would hold that much too).
            for pragma in tx.dialect().bulk_cache().0 {
                tx.query(pragma).execute().await?;
            }
            Ok(Some(tx))
        }
        Err(e) => match StoreError::from(e) {
            StoreError::Busy(_) => Ok(None),
            other => Err(other),
        },
    }
}
