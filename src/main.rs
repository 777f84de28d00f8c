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
    let matches = subsidy::cli::args::command().try_get_matches().unwrap_or_else(|e| usage_exit(e));
    let cli = subsidy::cli::args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_exit(e));
    subsidy::logging::init(cli.log_format);
    let span = subsidy::logging::command_span(matches.subcommand_name().unwrap_or("-"), cli.district.as_deref());
    match subsidy::clock::Clock::from_env() {
        Ok(clock) => subsidy::logging::logged(subsidy::cli::run(cli, clock)).instrument(span).await,
        Err(e) => {
            eprintln!("error: {e:#}");
            if cli.json {
                let hint = "set SUBSIDY_TODAY=YYYY-MM-DD or SUBSIDY_NOW=RFC 3339 with an offset, or unset them";
                println!("{}", subsidy::cli::render::error_json("usage", &format!("{e:#}"), hint));
            }
            subsidy::cli::exit::USAGE
        }
    }
}

/// A command line clap refuses: its message on stderr as usual (help and version print and exit
/// 0); when `--json` was asked for, also the error object on stdout, so a script reading stdout
/// gets JSON for every outcome (exit status 2 either way).
fn usage_exit(e: clap::Error) -> ! {
    let json = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
    // Help and version are printed on stdout (`use_stderr` false): they are no error.
    if !json || !e.use_stderr() {
        e.exit();
    }
    let _ = e.print();
    let message = first_line(&e.to_string());
    let hint = subsidy::cli::exit::default_hint("usage");
    println!("{}", subsidy::cli::render::error_json("usage", &message, hint));
    std::process::exit(subsidy::cli::exit::USAGE);
}

/// clap's message without its `error: ` prefix and the usage lines after it.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}
