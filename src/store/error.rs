//! What can go wrong in storage, classified once, from the database's error codes (never from
//! message text), into the cases callers act on: wait and retry ([`StoreError::Busy`],
//! [`StoreError::Conflict`]), a bound the schema refused ([`StoreError::LedgerBound`]), a thing
//! that is not there ([`StoreError::NotFound`]), or a plain database failure. The command line maps
//! them to exit statuses in one place (`cli::exit`).

/// How two commands collided on PostgreSQL (both roll back; the database decided which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// SQLSTATE 40001 (serialization failure) or 40P01 (deadlock): running again is the remedy.
    Serialization,
    /// SQLSTATE 23505: another command wrote the same key at the same time.
    Duplicate,
}

/// A storage failure, with what the operator can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered an error not classified below.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// SQLite's one writer is taken by another command and did not free within the busy timeout
    /// (SQLITE_BUSY / SQLITE_LOCKED).
    #[error(
        "another command is writing to this database (SQLite allows one writer at a time) and did not \
         finish within 30 s; nothing was changed: try again when it has finished"
    )]
    Busy(#[source] sqlx::Error),
    /// Two commands wrote the same rows at the same time on PostgreSQL; this one was rolled back.
    #[error("{}", conflict_message(*.kind, .source))]
    Conflict {
        /// Which kind of collision.
        kind: Conflict,
        /// The database's error.
        source: sqlx::Error,
    },
    /// Migrations could not be applied.
    #[error("could not apply migrations: {0}; is this database used by another version of subsidy?")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Stored data that the engine cannot read back (a bug or a hand edit).
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// Something asked for by name is not stored (a batch id, a recovery key).
    #[error("{what} `{key}` is not in this database")]
    NotFound {
        /// What kind of thing (`batch`, `recovery item`).
        what: &'static str,
        /// Its name, masked where it carries an ID number.
        key: String,
    },
    /// L4: the database refused a posting that would take a net paid outside [0, top rate].
    #[error(
        "L4: the database refused posting {payment_key}: the net paid would leave [0, top rate] \
         (constraint {constraint}; {source})"
    )]
    LedgerBound {
        /// The posting refused.
        payment_key: String,
        /// The schema's constraint that refused it, as the database names it.
        constraint: String,
        /// The database's error.
        source: sqlx::Error,
    },
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    /// A batch cannot be discarded: batches of other districts pay months it recovers (a move known
    /// late, L1/L4); dropping it would count those months twice.
    #[error("batch {batch_id} is relied on by {}", relying.join(", "))]
    ReliedOn {
        /// The batch asked to be discarded.
        batch_id: String,
        /// The batches relying on it.
        relying: Vec<String>,
    },
}

fn conflict_message(kind: Conflict, source: &sqlx::Error) -> String {
    let said = match source {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    };
    match kind {
        Conflict::Serialization => format!(
            "another command changed the same rows at the same time (PostgreSQL: {said}); \
             nothing was changed: run the command again"
        ),
        Conflict::Duplicate => format!(
            "another command wrote the same record at the same time (PostgreSQL: {said}); nothing was \
             changed: `subsidy status` shows what is there; run the command again if it is still needed"
        ),
    }
}

/// SQLite's primary result codes for "another connection holds the lock" (the extended codes
/// carry the primary one in their low byte).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        let code = match &e {
            sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
            _ => None,
        };
        let is_sqlite =
            matches!(&e, sqlx::Error::Database(d) if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some());
        match code.as_deref() {
            Some(c) if is_sqlite => match c.parse::<i64>().map(|n| n & 0xff) {
                Ok(SQLITE_BUSY | SQLITE_LOCKED) => StoreError::Busy(e),
                _ => StoreError::Database(e),
            },
            Some("40001" | "40P01") => StoreError::Conflict { kind: Conflict::Serialization, source: e },
            Some("23505") => StoreError::Conflict { kind: Conflict::Duplicate, source: e },
            _ => StoreError::Database(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    /// A migration that failed because the database was busy (SQLite's writer taken, a PostgreSQL
    /// conflict) is that, not a schema problem: classified like any database error.
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        use sqlx::migrate::MigrateError;
        /// The database's error classified; a plain one stays a migration failure.
        fn classified(db: sqlx::Error, rewrap: impl FnOnce(sqlx::Error) -> MigrateError) -> StoreError {
            match StoreError::from(db) {
                StoreError::Database(db) => StoreError::Migrate(rewrap(db)),
                busy_or_conflict => busy_or_conflict,
            }
        }
        match e {
            MigrateError::Execute(db) => classified(db, MigrateError::Execute),
            MigrateError::ExecuteMigration(db, version) => {
                classified(db, |db| MigrateError::ExecuteMigration(db, version))
            }
            other => StoreError::Migrate(other),
        }
    }
}

impl StoreError {
    /// L4: the database's bound refused a write (a CHECK violation) — that is
    /// [`StoreError::LedgerBound`], naming the constraint; any other error (a serialisation failure,
    /// a deadlock, a lost connection) is classified as itself, so that callers can retry or report it.
    pub fn bound_or_database(e: sqlx::Error, payment_key: impl FnOnce() -> String) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::CheckViolation => {
                let constraint = d.constraint().map(str::to_string).unwrap_or_else(|| check_named_in(d.message()));
                StoreError::LedgerBound { payment_key: payment_key(), constraint, source: e }
            }
            _ => e.into(),
        }
    }

    /// Whether running the same command again may succeed (the database was busy or two commands
    /// collided; nothing was written).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Busy(_) | StoreError::Conflict { kind: Conflict::Serialization, .. })
    }
}

/// SQLite names no constraint in its error structure, only in the message: "CHECK constraint
/// failed: balances_bound" (or the constraint's text when it is unnamed).
fn check_named_in(message: &str) -> String {
    message.split_once("constraint failed:").map(|(_, name)| name.trim().to_string()).unwrap_or_else(|| "CHECK".into())
}

/// Result of storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A real SQLITE_BUSY: a second writer on a file whose writer is taken, with no busy timeout.
    async fn sqlite_busy_error(dir: &std::path::Path) -> (sqlx::Error, sqlx::Transaction<'static, sqlx::Sqlite>) {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use std::str::FromStr;
        let url = format!("sqlite://{}", dir.join("busy.db").display());
        let options =
            SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true).busy_timeout(Default::default());
        let holder = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await.unwrap();
        let other = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        let mut writing = holder.begin_with("begin immediate").await.unwrap();
        sqlx::query("create table t (x integer)").execute(&mut *writing).await.unwrap();
        let busy = other.begin_with("begin immediate").await.expect_err("the writer is taken");
        (busy, writing) // the caller holds the writer until it has looked at the error
    }

    #[tokio::test]
    async fn a_busy_sqlite_is_busy_whether_a_command_or_a_migration_met_it() {
        let dir = tempfile::tempdir().unwrap();
        let (busy, _holder) = sqlite_busy_error(dir.path()).await;
        assert!(matches!(StoreError::from(busy), StoreError::Busy(_)), "a busy database is Busy");
        let second = tempfile::tempdir().unwrap();
        let (busy, _second_holder) = sqlite_busy_error(second.path()).await;
        let migrating = StoreError::from(sqlx::migrate::MigrateError::Execute(busy));
        assert!(matches!(migrating, StoreError::Busy(_)), "a migration that met a busy database: {migrating}");
        assert!(migrating.is_retryable());
        let other = StoreError::from(sqlx::migrate::MigrateError::VersionMissing(3));
        assert!(matches!(other, StoreError::Migrate(_)), "a real migration problem stays one: {other}");
    }

    #[test]
    fn l4_the_refusing_check_is_named_from_sqlites_message() {
        assert_eq!(check_named_in("CHECK constraint failed: balances_bound"), "balances_bound");
        assert_eq!(check_named_in("something else"), "CHECK");
    }
}
