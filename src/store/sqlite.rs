//! SQLite: the embedded default (`sqlite://subsidy.db`, created if missing). WAL with
//! `synchronous=FULL` so a committed batch survives a power cut; write transactions begin
//! `IMMEDIATE` so two writers queue instead of failing half-way.

use super::audit_sql::impl_audit;
use super::ledger_sql::impl_ledger;
use super::registry_sql::impl_store;
use super::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Open (creating if missing) the database file a `sqlite:` URL names.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        Ok(SqliteStore { pool })
    }

    /// Close the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Nothing to add: a write transaction (`begin immediate`) already excludes every other writer.
    pub(crate) const ROW_LOCK: &'static str = "";

    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("begin immediate").await
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    /// Begin a batch's write transaction. SQLite has one writer at a time: `begin immediate` waits
    /// up to the busy timeout for it, then reports the district as held by another run.
    pub(crate) async fn begin_batch_tx(&self, _district: &str) -> StoreResult<Option<Transaction<'static, Sqlite>>> {
        match self.begin_write().await {
            Ok(tx) => Ok(Some(tx)),
            Err(e) => match StoreError::from(e) {
                StoreError::Busy(_) => Ok(None),
                other => Err(other),
            },
        }
    }
}

impl_audit!(Sqlite, "select 1", false);
impl_store!(SqliteStore, SqliteImport, Sqlite, "select 1");
// A rerun's set of persons to read lives in a temporary table of the batch's connection.
impl_ledger!(
    SqliteStore,
    SqliteBatch,
    SqliteExport,
    Sqlite,
    "create temp table if not exists rerun_persons (id_number text primary key)"
);
