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
        Err(e) if is_busy(&e) => {
            let message = "another command is writing to this database (SQLite allows one writer at a time) \
                           and did not finish within 30 s; nothing was changed: try again when it has finished";
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

/// SQLite's "database is locked" (busy) anywhere in the error's chain.
fn is_busy(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let db = cause
            .downcast_ref::<sqlx::Error>()
            .or_else(|| cause.downcast_ref::<crate::store::StoreError>().and_then(|s| match s {
                crate::store::StoreError::Database(d) => Some(d),
                _ => None,
            }));
        matches!(db, Some(sqlx::Error::Database(d)) if d.code().as_deref() == Some("5") || d.message().contains("database is locked"))
    })
}

/// Print a JSON value as one line on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serializable output"));
}
