//! Connecting, and saying in one sentence why it failed. An operator whose server is stopped,
//! whose database is not created yet or whose password is wrong must learn that, and what to do,
//! within seconds: not after the pool's 30 s of retries, as "pool timed out", nor as the driver's
//! error chain repeated three times. So the first PostgreSQL connection is one attempt bounded by
//! [`CONNECT_TIMEOUT`], and its failure is classified (from I/O error kinds and SQLSTATEs, never
//! from message text) into a [`ConnectProblem`]; SQLite's from its result codes, with a missing
//! folder found before SQLite is asked. Messages name the server (host and port, or the socket)
//! or the file, never the URL's password ([`redact_url`]).

use super::error::{ConnectProblem, StoreError};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection as _;
use std::path::Path;
use std::time::Duration;

/// How long the first connection to PostgreSQL may take (name lookup, TCP, authentication).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme + 3..];
    // The authority ends at the first '/', '?' or '#'; its userinfo at its last '@'.
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) if authority[..at].contains(':') => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &rest[at..])
        }
        _ => url.to_string(),
    }
}

/// Where a PostgreSQL connection goes, for messages: `host:port`, or the socket's path.
pub(super) fn pg_target(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(dir) => dir.join(format!(".s.PGSQL.{}", options.get_port())).display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// The database a PostgreSQL connection asks for (the role's name when the URL names none).
pub(super) fn pg_database(options: &PgConnectOptions) -> String {
    options.get_database().unwrap_or(options.get_username()).to_string()
}

/// One connection, given [`CONNECT_TIMEOUT`]; its failure classified.
pub(super) async fn pg_connect(options: &PgConnectOptions) -> Result<PgConnection, StoreError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(pg_failure(e, options)),
        Err(_elapsed) => Err(StoreError::Connect {
            problem: ConnectProblem::NoAnswer { waited: CONNECT_TIMEOUT },
            target: pg_target(options),
        }),
    }
}

/// A failed PostgreSQL connection, classified.
fn pg_failure(e: sqlx::Error, options: &PgConnectOptions) -> StoreError {
    use std::io::ErrorKind;
    let role = || options.get_username().to_string();
    let problem = match &e {
        sqlx::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => ConnectProblem::Refused,
            ErrorKind::TimedOut => ConnectProblem::NoAnswer { waited: CONNECT_TIMEOUT },
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => ConnectProblem::HostUnreachable,
            _ => ConnectProblem::Other(io.to_string()),
        },
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some("3D000") => ConnectProblem::DatabaseMissing { database: pg_database(options) },
            Some("28P01") => ConnectProblem::AuthenticationFailed { role: role() },
            Some("28000") => ConnectProblem::RoleRefused { role: role(), said: d.message().to_string() },
            // Busy (too many connections, starting up): the server's words say it.
            Some(code) => ConnectProblem::Other(format!("{} (SQLSTATE {code})", d.message())),
            None => ConnectProblem::Other(d.message().to_string()),
        },
        other => ConnectProblem::Other(other.to_string()),
    };
    StoreError::Connect { problem, target: pg_target(options) }
}

/// Quote a PostgreSQL identifier (a database's name in `CREATE DATABASE`).
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQLite: the folder a database file would be created in, when it does not exist (SQLite
/// would only say "unable to open database file"). In-memory databases have none.
pub(super) fn sqlite_missing_folder(file: &Path) -> Option<StoreError> {
    let name = file.to_string_lossy();
    if name.starts_with("file:") || name == ":memory:" {
        return None;
    }
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty())?;
    if folder.is_dir() {
        return None;
    }
    Some(StoreError::Connect {
        problem: ConnectProblem::FolderMissing { folder: folder.display().to_string() },
        target: file.display().to_string(),
    })
}

/// SQLite's result codes for a file it cannot use: CANTOPEN, NOTADB, READONLY, PERM.
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_NOTADB: i64 = 26;
const SQLITE_READONLY: i64 = 8;
const SQLITE_PERM: i64 = 3;

/// A failed SQLite open, classified; any other failure (a busy writer) as the store classifies it.
pub(super) fn sqlite_failure(e: sqlx::Error, file: &Path) -> StoreError {
    let code = match &e {
        sqlx::Error::Database(d) => d.code().and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff),
        _ => None,
    };
    let problem = match code {
        Some(SQLITE_NOTADB) => ConnectProblem::NotADatabase,
        Some(code @ (SQLITE_CANTOPEN | SQLITE_READONLY | SQLITE_PERM)) => ConnectProblem::CannotOpen { code },
        _ => return e.into(),
    };
    StoreError::Connect { problem, target: file.display().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(redact_url("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?x=a@b:c"), "postgres://h/db?x=a@b:c");
        assert_eq!(redact_url("mysql://root:pw@h"), "mysql://root:***@h");
        assert_eq!(redact_url("sqlite://subsidy.db"), "sqlite://subsidy.db");
        assert_eq!(redact_url("foo"), "foo");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("subsidy"), "\"subsidy\"");
        assert_eq!(quote_ident("a\"; drop"), "\"a\"\"; drop\"");
    }

    #[test]
    fn a_missing_folder_is_named_and_the_current_one_is_fine() {
        let e = sqlite_missing_folder(Path::new("/no/such/folder/x.db")).expect("missing");
        assert_eq!(
            e.to_string(),
            "cannot create the database /no/such/folder/x.db: the folder /no/such/folder does not exist \
             (create it, or give a file in an existing folder: check --database-url / DATABASE_URL)"
        );
        assert!(sqlite_missing_folder(Path::new("subsidy.db")).is_none());
        assert!(sqlite_missing_folder(Path::new("file:sqlx-in-memory-3")).is_none());
    }
}
