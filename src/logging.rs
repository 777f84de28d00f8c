//! Logs: `tracing` events to stderr, never stdout (stdout carries the command's answer). Which
//! events: `RUST_LOG` (as every Rust tool), with `SUBSIDY_LOG` kept as an alias that wins when both
//! are set (a host's `RUST_LOG` for other tools cannot override the engine's own); by default only
//! warnings and errors, so that a cron job's mail stays quiet. `RUST_LOG=info` shows a span per
//! command and per district run and the counts and durations of import, run and export.
//! Colour only when stderr is a terminal; `--log-format json` writes one JSON object per line for
//! log collectors. Events carry district codes, months, batch ids and counts, never a full ID or
//! account number (mask with `idcard::mask` when one must be named).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, span fields, message and fields).
    Json,
}

/// The filter: `SUBSIDY_LOG` (this engine's own, and what it read before `RUST_LOG`), else
/// `RUST_LOG`, else warnings only. A filter that does not parse is reported on stderr and the next
/// is tried (a typo must not silence errors).
pub fn filter() -> EnvFilter {
    for var in ["SUBSIDY_LOG", "RUST_LOG"] {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => match EnvFilter::try_new(&v) {
                Ok(f) => return f,
                Err(e) => eprintln!("warning: {var}=`{v}` is not a log filter ({e}); logging warnings only"),
            },
            _ => {}
        }
    }
    // sqlx warns of every statement slower than a second, with its whole text (a 400-value list
    // during a large import): noise for an operator, so by default only its errors show.
    EnvFilter::new("warn,sqlx::query=error")
}

/// Install the subscriber for the process (call once, from `main`).
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter());
    let installed = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).try_init(),
    };
    if let Err(e) = installed {
        eprintln!("warning: logging not set up: {e}");
    }
}

/// The span of one command: every event of the command carries its name (and `--district`).
pub fn command_span(command: &str, district: Option<&str>) -> tracing::Span {
    tracing::info_span!("command", command, district = district.unwrap_or("all"))
}

/// Run a command, logging how it ended: its exit status and how long it took.
pub async fn logged(command: impl std::future::Future<Output = i32>) -> i32 {
    let started = std::time::Instant::now();
    let status = command.await;
    let ms = started.elapsed().as_millis() as u64;
    // At info, not warn: the error itself is already on stderr, and a default run stays quiet.
    tracing::info!(status, ms, "command finished");
    status
}
