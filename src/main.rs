//! `subsidy`: parse the command line, set up logging to stderr (`logging`), run, exit with the status.

use clap::FromArgMatches;
use tracing::Instrument;

#[tokio::main]
async fn main() {
    // Behave like other command-line tools when the reader goes away (`subsidy status | head`).
    // SAFETY: resetting a signal disposition to its default at start-up, before any thread runs.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let matches = subsidy::cli::args::command().get_matches();
    let cli = subsidy::cli::args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    subsidy::logging::init(cli.log_format);
    let span = subsidy::logging::command_span(matches.subcommand_name().unwrap_or("-"), cli.district.as_deref());
    let status = match subsidy::clock::Clock::from_env() {
        Ok(clock) => subsidy::logging::logged(subsidy::cli::run(cli, clock)).instrument(span).await,
        Err(e) => {
            eprintln!("error: {e:#}");
            subsidy::cli::exit::USAGE
        }
    };
    std::process::exit(status);
}
