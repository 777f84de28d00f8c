//! `subsidy`: parse the command line, set up logging to stderr, run, exit with the status.

use clap::Parser;

#[tokio::main]
async fn main() {
    // Behave like other command-line tools when the reader goes away (`subsidy status | head`).
    // SAFETY: resetting a signal disposition to its default at start-up, before any thread runs.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SUBSIDY_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let cli = subsidy::cli::args::Cli::parse();
    let status = match subsidy::clock::Clock::from_env() {
        Ok(clock) => subsidy::cli::run(cli, clock).await,
        Err(e) => {
            eprintln!("error: {e:#}");
            subsidy::cli::exit::USAGE
        }
    };
    std::process::exit(status);
}
