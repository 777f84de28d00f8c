//! The `subsidy` command line: [`args`] holds the clap types; [`typed`] checks what was typed
//! (an ID, a key, who acts, the report's form); [`commands`] one function per
//! command, which resolves who acts, calls the use-case ([`crate::ops`]) and hands its outcome to
//! [`render`]; [`exit`] decides every exit status (INTERFACE.md: 0 done, 1 failed, nothing
//! half-written, 2 wrong usage, 3 import rejected rows, 4 another run or command holds the
//! district or the database, 5 verify found a difference). `main.rs` only parses and calls [`run`].

pub mod args;
pub mod commands;
pub mod exit;
pub mod progress;
pub mod render;
pub mod schedule;
pub mod typed;

use crate::clock::Clock;
use args::Cli;

/// Exit status of a command that finished.
pub type ExitStatus = i32;

/// A mistake in how the command was called (exit status 2), with what to type instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A mistake in how the command was called (exit status 2) that `--json` names by its own error
/// code (`bad_id_number`, `not_initialised`) rather than the plain `usage`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CodedUsage {
    /// The error's `code` in `--json` output (docs/json/error.schema.json).
    pub code: &'static str,
    /// What is wrong and what to type instead.
    pub message: String,
}

/// Run a parsed command line; returns the process exit status. Errors are printed to stderr
/// (with `--json`, also as `{"error": {"code", "message", "hint"}}` on stdout).
pub async fn run(cli: Cli, clock: Clock) -> ExitStatus {
    let json = cli.json;
    progress::install_if_terminal(json);
    match commands::dispatch(cli, clock).await {
        Ok(status) => status,
        Err(e) => {
            let failure = exit::of_error(&e);
            render::failure(&failure, json);
            failure.status
        }
    }
}
