//! What can go wrong in storage, classified once, from the database's error codes (never from
//! message text), into the cases callers act on: wait and retry ([`StoreError::Busy`],
//! [`StoreError::Conflict`]), a bound the schema refused ([`StoreError::LedgerBound`]), a thing
//! that is not there ([`StoreError::NotFound`]), a database that cannot be opened
//! ([`StoreError::Connect`], one sentence: see `connect.rs`), a URL that names none
//! ([`StoreError::UnsupportedUrl`], [`StoreError::BadUrl`]: wrong usage), or a plain database
//! failure. The command line maps them to exit statuses in one place (`cli::exit`).

use std::time::Duration;

/// Why the database could not be opened, as the operator acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectProblem {
    /// Nothing listens at the address (the server is stopped, or the port is wrong).
    Refused,
    /// No answer within the time given (a firewall dropping packets, a host that is down).
    NoAnswer {
        /// How long it was waited for.
        waited: Duration,
    },
    /// No route to the host or its network.
    HostUnreachable,
    /// SQLSTATE 3D000: the server runs but has no such database (`init` creates it).
    DatabaseMissing {
        /// The database's name.
        database: String,
    },
    /// SQLSTATE 28P01: the password was refused.
    AuthenticationFailed {
        /// The role that tried.
        role: String,
    },
    /// SQLSTATE 28000: the server refused the role (it does not exist, may not log in, or
    /// pg_hba.conf has no entry for it); the server's own words say which.
    RoleRefused {
        /// The role that tried.
        role: String,
        /// What the server said.
        said: String,
    },
    /// SQLSTATE 42501 while `init` created the missing database: the role may not.
    MayNotCreate {
        /// The database's name.
        database: String,
        /// The role that tried.
        role: String,
    },
    /// SQLite: the folder of the database file does not exist.
    FolderMissing {
        /// The folder.
        folder: String,
    },
    /// SQLite: the file exists but is not a SQLite database (SQLITE_NOTADB).
    NotADatabase,
    /// SQLite: the file cannot be opened for reading and writing (SQLITE_CANTOPEN, _READONLY,
    /// _PERM): permissions, most often.
    CannotOpen {
        /// SQLite's primary result code.
        code: i64,
    },
    /// Anything else that failed while connecting, in the words of the system or the server.
    Other(String),
}

impl ConnectProblem {
    /// What happened at `target` (a server's address or a file) and what to do, in one sentence.
    pub fn sentence(&self, target: &str) -> String {
        const CHECK_URL: &str = "check --database-url / DATABASE_URL";
        match self {
            ConnectProblem::Refused => {
                format!("connection refused at {target}: is PostgreSQL running? (start it, or {CHECK_URL})")
            }
            ConnectProblem::NoAnswer { waited } => format!(
                "no answer from {target} within {} s: is the host up and the port open? ({CHECK_URL})",
                waited.as_secs()
            ),
            ConnectProblem::HostUnreachable => {
                format!("no route to {target}: is the host up and on a network this machine reaches? ({CHECK_URL})")
            }
            ConnectProblem::DatabaseMissing { database } => format!(
                "database \"{database}\" does not exist on {target}: run `subsidy init` to create it \
                 (or correct the name: {CHECK_URL})"
            ),
            ConnectProblem::AuthenticationFailed { role } => format!(
                "authentication failed for role \"{role}\" on {target} (check the password in the URL, \
                 PGPASSWORD or ~/.pgpass)"
            ),
            ConnectProblem::RoleRefused { role, said } => format!(
                "the server at {target} refused role \"{role}\": {said} (check the user name in the URL, or ask \
                 the DBA for access)"
            ),
            ConnectProblem::MayNotCreate { database, role } => format!(
                "database \"{database}\" does not exist on {target} and role \"{role}\" may not create databases: \
                 create it as a role that may (`createdb -O {role} {database}`), or ask the DBA, then run \
                 `subsidy init` again"
            ),
            ConnectProblem::FolderMissing { folder } => format!(
                "cannot create the database {target}: the folder {folder} does not exist (create it, or give a \
                 file in an existing folder: {CHECK_URL})"
            ),
            ConnectProblem::NotADatabase => {
                format!("{target} is not a SQLite database: give the database's file, or a new file name ({CHECK_URL})")
            }
            ConnectProblem::CannotOpen { code } => format!(
                "cannot open {target} for reading and writing (SQLite code {code}): check that this user may \
                 write the file and its folder"
            ),
            ConnectProblem::Other(said) => format!("cannot connect to {target}: {said} ({CHECK_URL})"),
        }
    }
}

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
    /// The database could not be opened: the problem and what to do, in one sentence (no source:
    /// the driver's error is what the sentence replaces).
    #[error("{}", problem.sentence(target))]
    Connect {
        /// What went wrong.
        problem: ConnectProblem,
        /// The server (`host:port` or socket) or the SQLite file.
        target: String,
    },
    /// A SQLite file that does not exist, opened by a command other than `init` (which alone
    /// creates it): nothing is created.
    #[error(
        "there is no database at {url} (no file {file}): run `subsidy init --start-month YYYY-MM` to create it, \
         or point --database-url (DATABASE_URL) at the initialised one"
    )]
    NoDatabaseFile {
        /// The URL, without its password.
        url: String,
        /// The file it names.
        file: String,
    },
    /// The URL names no supported database (given without its password).
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://USER@HOST[:PORT]/DATABASE")]
    UnsupportedUrl(String),
    /// A `sqlite:` or `postgres:` URL that cannot be read.
    #[error(
        "cannot read the database URL `{url}`: {said} (use sqlite://FILE or postgres://USER@HOST[:PORT]/DATABASE)"
    )]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// What is wrong with it.
        said: String,
    },
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
    /// Its `code` in `--json` errors (docs/json/error.schema.json).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Database(_) => "database",
            StoreError::Busy(_) | StoreError::Conflict { .. } => "busy",
            StoreError::Migrate(_) => "migration",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::NotFound { .. } => "not_found",
            StoreError::LedgerBound { .. } => "ledger_bound",
            StoreError::Connect { .. } => "database_unreachable",
            StoreError::NoDatabaseFile { .. } => "no_database",
            StoreError::UnsupportedUrl(_) | StoreError::BadUrl { .. } => "bad_database_url",
            StoreError::ReliedOn { .. } => "relied_on",
        }
    }

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

    #[test]
    fn each_problem_says_what_to_do() {
        let at = "127.0.0.1:5432";
        let auth = ConnectProblem::AuthenticationFailed { role: "y".into() }.sentence(at);
        assert_eq!(
            auth,
            "authentication failed for role \"y\" on 127.0.0.1:5432 (check the password in the URL, PGPASSWORD or \
             ~/.pgpass)"
        );
        let missing = ConnectProblem::DatabaseMissing { database: "x".into() }.sentence(at);
        assert!(missing.starts_with("database \"x\" does not exist on 127.0.0.1:5432: run `subsidy init` to create it"));
        let silent = ConnectProblem::NoAnswer { waited: std::time::Duration::from_secs(5) }.sentence("10.0.0.9:5432");
        assert!(silent.starts_with("no answer from 10.0.0.9:5432 within 5 s: is the host up and the port open?"));
    }

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
