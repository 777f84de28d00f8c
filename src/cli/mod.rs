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

/// Print a JSON value as one line on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serializable output"));
}
