//! `run` and `rerun`: for a service month, each district's batch (L2), regular or correction. A
//! month is run only inside its window: not before the start month (T7), not after the next month
//! to pay (T1). Districts run one after another, each in its own transaction; a district whose
//! transaction collided with another command's is run again (PostgreSQL serialisation failures).

use super::init::start_month;
use super::{districts, policy_book, OpsError, OpsResult};
use crate::batch::{run_district, RunOutcome, RunRequest};
use crate::clock::Clock;
use crate::ledger::BatchKind;
use crate::month::ServiceMonth;
use crate::store::{Conflict, LedgerStore, StatisticsOf, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};

/// What `run` or `rerun` is asked: the month, for whom, by whom.
#[derive(Clone, Copy, Debug)]
pub struct RunOrder<'a> {
    /// Only this district; `None`: every district in the registry.
    pub district: Option<&'a str>,
    /// The service month.
    pub month: ServiceMonth,
    /// Who runs it (recorded; may not approve it).
    pub by: &'a str,
    /// Compute and report, write nothing.
    pub dry_run: bool,
}

/// One district's part of a run.
#[derive(Clone, Debug)]
pub struct DistrictRun {
    /// The district.
    pub district: String,
    /// What happened there.
    pub outcome: RunOutcome,
}

/// Times a district's batch is tried when it collides with another command's transaction.
const ATTEMPTS: u32 = 3;

/// `run`: each district's regular batch for the month. `each` sees every district's outcome as it
/// is known (the ones before a failure stand); all are returned at the end.
pub async fn run<S: Store + LedgerStore>(
    s: &S,
    order: &RunOrder<'_>,
    clock: Clock,
    each: impl FnMut(&DistrictRun),
) -> OpsResult<Vec<DistrictRun>> {
    Ok(run_until(s, order, clock, &AtomicBool::new(false), each).await?.runs)
}

/// What a run did before it was asked to stop.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    /// The districts run, in order.
    pub runs: Vec<DistrictRun>,
    /// The districts not started because a stop was asked for (SIGTERM, Ctrl-C).
    pub not_started: Vec<String>,
}

/// [`run`], stopping between two districts once `stop` is set: the district in progress is
/// finished (its transaction commits, or fails whole), the others are not started.
pub async fn run_until<S: Store + LedgerStore>(
    s: &S,
    order: &RunOrder<'_>,
    clock: Clock,
    stop: &AtomicBool,
    each: impl FnMut(&DistrictRun),
) -> OpsResult<Runs> {
    let req = RunRequest {
        month: order.month,
        by: order.by.to_string(),
        dry_run: order.dry_run,
        kind: BatchKind::Regular,
        reason: None,
        ..Default::default()
    };
    run_batches(s, order.district, &req, clock, stop, each).await
}

/// `rerun`: a correction batch per district settling every difference through the month (L2); it
/// replaces the month's batch when that is not yet exported. `reason` must say why.
pub async fn rerun<S: Store + LedgerStore>(
    s: &S,
    order: &RunOrder<'_>,
    reason: &str,
    clock: Clock,
    each: impl FnMut(&DistrictRun),
) -> OpsResult<Vec<DistrictRun>> {
    if reason.trim().is_empty() {
        return Err(OpsError::Usage("--reason must say why the month is run again".into()));
    }
    let req = RunRequest {
        month: order.month,
        by: order.by.to_string(),
        dry_run: order.dry_run,
        kind: BatchKind::Correction,
        reason: Some(reason.to_string()),
        ..Default::default()
    };
    Ok(run_batches(s, order.district, &req, clock, &AtomicBool::new(false), each).await?.runs)
}

/// T7 and T1: the months a run may be asked for, from the start month through the month after
/// today's (month M is paid in advance, before the end of M−1; a month further ahead is a typo).
pub fn check_month(month: ServiceMonth, start: ServiceMonth, clock: Clock) -> OpsResult<()> {
    if month < start {
        return Err(OpsError::Usage(format!(
            "{month} is before the start month {start}: this engine pays no month before it (T7)"
        )));
    }
    let next = ServiceMonth::of(clock.today()).next();
    if month > next {
        return Err(OpsError::Usage(format!(
            "{month} is after {next}, the next month to pay (T1: month M is paid before the end of M−1); check --month"
        )));
    }
    Ok(())
}

async fn run_batches<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    req: &RunRequest,
    clock: Clock,
    stop: &AtomicBool,
    mut each: impl FnMut(&DistrictRun),
) -> OpsResult<Runs> {
    let month = req.month;
    let start = start_month(s).await?;
    check_month(month, start, clock)?;
    let mut done = Runs::default();
    // Ledger rows written since the statistics were last refreshed.
    let mut unanalysed = 0u64;
    for d in districts(s, district).await? {
        if stop.load(Ordering::SeqCst) {
            done.not_started.push(d);
            continue;
        }
        // On PostgreSQL two districts' batches may update the same rows (a person who moved pays
        // from both); the later one to commit then fails whole, writing nothing: run it again.
        let mut attempt = 1;
        let outcome = loop {
            // The policy as it stands now (a version loaded while the previous district ran
            // counts for this one).
            let book = policy_book(s).await?;
            match run_district(s, &book, start, &d, req, clock.now()).await {
                Err(e) if attempt < ATTEMPTS && is_serialization_failure(&e) => attempt += 1,
                Err(source) => return Err(OpsError::District { district: d, month, source }),
                Ok(outcome) => break outcome,
            }
        };
        if let RunOutcome::Computed(summary) = &outcome {
            if !req.dry_run {
                // Districts under the threshold add up: many small batches move the tables too.
                unanalysed += summary.by_line_type.values().map(|c| c.count).sum::<u64>();
                if super::refresh_statistics(s, StatisticsOf::Ledger, unanalysed).await {
                    unanalysed = 0;
                }
            }
        }
        let run = DistrictRun { district: d, outcome };
        each(&run);
        done.runs.push(run);
    }
    Ok(done)
}

/// Whether a district's batch failed only because another command wrote the same rows at the same
/// time (PostgreSQL serialization failure or deadlock): running it again is the remedy.
fn is_serialization_failure(e: &anyhow::Error) -> bool {
    let store = e.chain().find_map(|cause| cause.downcast_ref::<StoreError>());
    matches!(store, Some(StoreError::Conflict { kind: Conflict::Serialization, .. }))
}
