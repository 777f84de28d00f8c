//! `subsidy`: parse the command line, set up logging to stderr (`logging`), run, exit with the status.

use clap::FromArgMatches;
use tracing::Instrument;

/// A plain `main`: SIGPIPE is reset before the tokio runtime (and so any thread) exists, then the
/// runtime is built and the command runs on it.
fn main() {
    // Behave like other command-line tools when the reader goes away (`subsidy status | head`):
    // killed quietly by SIGPIPE instead of a panic on a failed write to stdout.
    // SAFETY: `signal` is not thread-safe against concurrent signal-disposition changes; this is
    // the first statement of `main`, before the tokio runtime below starts its threads and before
    // anything else could have spawned one (no library code has run yet), so nothing races it.
    // Resetting SIGPIPE to its default disposition touches no Rust-managed state.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}; check the process's thread and file limits");
            std::process::exit(subsidy::cli::exit::FAILED);
        }
    };
    let status = runtime.block_on(run());
    std::process::exit(status);
}

async fn run() -> subsidy::cli::ExitStatus {
    let matches = subsidy::cli::args::command().get_matches();
    let cli = subsidy::cli::args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    subsidy::logging::init(cli.log_format);
    let span = subsidy::logging::command_span(matches.subcommand_name().unwrap_or("-"), cli.district.as_deref());
    match subsidy::clock::Clock::from_env() {
        Ok(clock) => subsidy::logging::logged(subsidy::cli::run(cli, clock)).instrument(span).await,
        Err(e) => {
            eprintln!("error: {e:#}");
            subsidy::cli::exit::USAGE
        }
    }
}
