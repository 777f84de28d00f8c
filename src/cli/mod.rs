//! The `subsidy` command line: [`args`] holds the clap types, [`commands`] one function per
//! command. `main.rs` only parses and calls [`run`]. Exit statuses follow INTERFACE.md:
//! 0 done, 1 failed (nothing half-written), 2 wrong usage, 3 import rejected rows,
//! 4 another run holds the district and month, 5 verify found a difference.

pub mod args;
pub mod commands;

use crate::clock::Clock;
use args::Cli;

/// Exit status of a command that finished.
pub type ExitStatus = i32;

/// A mistake in how the command was called (exit status 2), with what to type instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Run a parsed command line; returns the process exit status. Errors are printed to stderr
/// (with `--json`, also as `{"error": …}` on stdout).
pub async fn run(cli: Cli, clock: Clock) -> ExitStatus {
    let json = cli.json;
    match commands::dispatch(cli, clock).await {
        Ok(status) => status,
        Err(e) if concurrent_failure(&e).is_some() => {
            let message = concurrent_failure(&e).unwrap_or_default();
            eprintln!("error: {message}");
            if json {
                println!("{}", serde_json::json!({ "error": message, "exit": 4 }));
            }
            4
        }
        Err(e) => {
            let status = if e.downcast_ref::<UsageError>().is_some() { 2 } else { 1 };
            eprintln!("error: {e:#}");
            if json {
                println!("{}", serde_json::json!({ "error": format!("{e:#}"), "exit": status }));
            }
            status
        }
    }
}

/// The database error anywhere in an error's chain, if any.
fn database_error(e: &anyhow::Error) -> Option<&dyn sqlx::error::DatabaseError> {
    e.chain().find_map(|cause| {
        let db = cause.downcast_ref::<sqlx::Error>().or_else(|| {
            cause.downcast_ref::<crate::store::StoreError>().and_then(|s| match s {
                crate::store::StoreError::Database(d) => Some(d),
                _ => None,
            })
        });
        match db {
            Some(sqlx::Error::Database(d)) => Some(d.as_ref()),
            _ => None,
        }
    })
}

/// Whether a command failed only because another one wrote the same rows at the same time
/// (PostgreSQL serialization failure or deadlock): running it again is the remedy.
pub(crate) fn is_serialization_failure(e: &anyhow::Error) -> bool {
    matches!(database_error(e).and_then(|d| d.code()).as_deref(), Some("40001" | "40P01"))
}

/// When a command failed because another command was writing at the same time (exit status 4,
/// nothing changed): what to tell the operator. The database's own words stay in the message, but
/// never the raw error alone.
fn concurrent_failure(e: &anyhow::Error) -> Option<String> {
    let d = database_error(e)?;
    let code = d.code();
    let message = d.message();
    if code.as_deref() == Some("5") || message.contains("database is locked") {
        return Some(
            "another command is writing to this database (SQLite allows one writer at a time) \
             and did not finish within 30 s; nothing was changed: try again when it has finished"
                .into(),
        );
    }
    let context = e.chain().next().map(|c| c.to_string()).filter(|c| !c.contains(message)).unwrap_or_default();
    let context = if context.is_empty() { String::new() } else { format!("{context}: ") };
    match code.as_deref() {
        Some("40001" | "40P01") => Some(format!(
            "{context}another command changed the same rows at the same time (PostgreSQL: {message}); \
             nothing was changed: run the command again"
        )),
        Some("23505") => Some(format!(
            "{context}another command wrote the same record at the same time (PostgreSQL: {message}); \
             nothing was changed: `subsidy status` shows what is there; run the command again if it is still needed"
        )),
        _ => None,
    }
}

/// Print a JSON value as one line on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serializable output"));
}
