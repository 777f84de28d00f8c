//! The `subsidy` command line: [`args`] holds the clap types, [`commands`] one function per
//! command. `main.rs` only parses and calls [`run`]. Exit statuses follow INTERFACE.md:
//! 0 done, 1 failed (nothing half-written), 2 wrong usage, 3 import rejected rows,
//! 4 another run holds the district and month, 5 verify found a difference.

pub mod args;
pub mod commands;

use crate::clock::Clock;
use crate::store::{Conflict, StoreError};
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

/// The storage error anywhere in an error's chain, if any.
fn store_error(e: &anyhow::Error) -> Option<&StoreError> {
    e.chain().find_map(|cause| cause.downcast_ref::<StoreError>())
}

/// Whether a command failed only because another one wrote the same rows at the same time
/// (PostgreSQL serialization failure or deadlock): running it again is the remedy.
pub(crate) fn is_serialization_failure(e: &anyhow::Error) -> bool {
    matches!(store_error(e), Some(StoreError::Conflict { kind: Conflict::Serialization, .. }))
}

/// When a command failed because another command was writing at the same time (exit status 4,
/// nothing changed): what to tell the operator, with what the command was doing when it happened.
fn concurrent_failure(e: &anyhow::Error) -> Option<String> {
    let store = store_error(e)?;
    if !matches!(store, StoreError::Busy(_) | StoreError::Conflict { .. }) {
        return None;
    }
    let said = store.to_string();
    let context = e.chain().next().map(|c| c.to_string()).filter(|c| *c != said).unwrap_or_default();
    Some(if context.is_empty() { said } else { format!("{context}: {said}") })
}

/// Print a JSON value as one line on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serializable output"));
}
