//! `schedule` and the stoppable `run`: the process side of unattended work. A SIGTERM or Ctrl-C
//! asks the run to stop between two districts (the district in progress finishes: its transaction
//! commits or fails whole, never half written), and the process says which districts were done;
//! a second signal ends it at once (the open transaction rolls back). `schedule` stays running,
//! sleeping until the timetable's next run (the injected clock decides "now": `SUBSIDY_NOW`
//! replays a date), or with `--once` does what is due and exits.

use super::{exit, render, ExitStatus};
use crate::clock::Clock;
use crate::ops;
use crate::ops::run::Runs;
use crate::ops::schedule::Scheduled;
use crate::store::{LedgerStore, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Set by the first SIGTERM or Ctrl-C; the second exits at once.
#[derive(Clone, Default)]
pub(super) struct StopSignal {
    pub(super) asked: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl StopSignal {
    /// Listen for SIGTERM and Ctrl-C for as long as the process lives.
    pub(super) fn listen() -> StopSignal {
        let stop = StopSignal::default();
        let s = stop.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                #[cfg(unix)]
                let term_recv = async {
                    match term.as_mut() {
                        Some(t) => t.recv().await,
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let term_recv = std::future::pending::<Option<()>>();
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term_recv => {}
                }
                if s.asked.swap(true, Ordering::SeqCst) {
                    eprintln!("stopped at once: the district in progress is rolled back");
                    std::process::exit(130);
                }
                eprintln!(
                    "stopping: the district in progress finishes, no other is started (signal again to stop at once)"
                );
                s.wake.notify_waiters();
            }
        });
        stop
    }
}

/// The exit status of runs that may have been stopped: that of the districts run, and 1 when
/// some were not started (they are named, with those done).
pub(super) fn runs_finished(runs: &Runs, json: bool) -> ExitStatus {
    let status = runs_done(&runs.runs, json);
    if runs.not_started.is_empty() {
        return status;
    }
    stopped(&runs.runs, &runs.not_started);
    status.max(exit::FAILED)
}

/// `schedule [--once]`.
pub async fn schedule<S: Store + LedgerStore>(
    s: &S,
    by: &str,
    once: bool,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let stop = StopSignal::listen();
    loop {
        let mut done = ops::schedule::due_now(s, clock).await?;
        if !json {
            render::schedule::due(&done);
        }
        ops::schedule::run_due(s, &mut done, by, clock, &stop.asked, |r| print_run(r, json)).await?;
        render::schedule::scheduled(&done, json);
        let runs = Runs { runs: std::mem::take(&mut done.runs), not_started: std::mem::take(&mut done.not_started) };
        let status = runs_finished(&runs, false);
        if once || !runs.not_started.is_empty() {
            return Ok(status);
        }
        // Unattended, a refused district (a batch waits for approval or export) or a busy one
        // (another worker) is tried again within the hour, not given up until next month.
        let retry = (status != exit::DONE).then(|| clock.now() + chrono::Duration::hours(1));
        if retry.is_some() {
            eprintln!("schedule: not every district could run; trying again within the hour");
        }
        if !sleep_until_next(&done, retry, clock, &stop).await {
            eprintln!("schedule stopped while waiting; nothing was running");
            return Ok(exit::DONE);
        }
    }
}

/// Sleep until the next run of the timetable (or `retry`, when sooner); false when a stop was
/// asked for meanwhile.
async fn sleep_until_next(
    done: &Scheduled,
    retry: Option<chrono::DateTime<chrono::Utc>>,
    clock: Clock,
    stop: &StopSignal,
) -> bool {
    let Some(next) = done.next.map(|n| n.at).into_iter().chain(retry).min() else { return false };
    loop {
        if stop.asked.load(Ordering::SeqCst) {
            return false;
        }
        let wait = next - clock.now();
        if wait <= chrono::Duration::zero() {
            return true;
        }
        // Wake at least hourly: a clock that moves (a suspended laptop, a replayed date) is read again.
        let nap = wait.to_std().unwrap_or_default().min(std::time::Duration::from_secs(3600));
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = stop.wake.notified() => {}
        }
    }
}

/// What a stopped run did and did not do.
fn stopped(runs: &[ops::run::DistrictRun], not_started: &[String]) {
    let done: Vec<&str> = runs.iter().map(|r| r.district.as_str()).collect();
    eprintln!(
        "stopped on request: districts done: {}; not started: {} (run the month again to do them: the done ones are left as they are)",
        if done.is_empty() { "none".to_string() } else { done.join(", ") },
        not_started.join(", ")
    );
}

/// A district's run as it finishes (text; JSON prints all at the end).
pub(super) fn print_run(run: &ops::run::DistrictRun, json: bool) {
    if !json {
        render::batch::district_run(run);
    }
}

/// The runs' JSON (with `--json`) and their exit status.
pub(super) fn runs_done(runs: &[ops::run::DistrictRun], json: bool) -> ExitStatus {
    if json {
        render::batch::runs_json(runs);
    }
    exit::of_runs(runs)
}
