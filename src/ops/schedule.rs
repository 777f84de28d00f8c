//! `schedule`: what the timetable (T1, [`crate::schedule`]) says is due now, run for every
//! district. The month due is the latest whose run time has come; a district that already has
//! its batch is left alone (so a second worker, or a second start, changes nothing). A run done
//! after its time (the machine was down on the 26th) says so, and a district whose months between
//! its last batch and the month due have no batch of their own says it catches them up (L2 settles
//! every month through the one run). A due run whose district still has an unexported batch is
//! refused as `run` refuses it.

use super::init::start_month;
use super::run::{run_until, DistrictRun, RunOrder};
use super::{districts, policy_book, OpsError, OpsResult};
use crate::clock::Clock;
use crate::month::ServiceMonth;
use crate::schedule::{Due, Timetable};
use crate::store::{BatchRow, LedgerStore, Store};
use chrono::Duration;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

/// A run is late when it starts this long after its time.
const LATE_AFTER_MINUTES: i64 = 60;

/// What `schedule` found and did at one instant.
#[derive(Clone, Debug)]
pub struct Scheduled {
    /// The timetable read from the policy.
    pub timetable: String,
    /// Its time zone.
    pub timezone: String,
    /// The run due now, if any month from the start month on is due.
    pub due: Option<Due>,
    /// Whether it is done after its time (a missed run), and by how much.
    pub late_by: Option<Duration>,
    /// Per district, the months before the one due that have no batch of their own: settled by
    /// this run (caught up).
    pub caught_up: BTreeMap<String, Vec<ServiceMonth>>,
    /// What each district's run did.
    pub runs: Vec<DistrictRun>,
    /// Districts not started because a stop was asked for.
    pub not_started: Vec<String>,
    /// The next run after now.
    pub next: Option<Due>,
}

/// The timetable of the policy in force now.
pub async fn timetable<S: Store>(s: &S, clock: Clock) -> OpsResult<Timetable> {
    let book = policy_book(s).await?;
    let timing = &book.in_force(ServiceMonth::of(clock.today())).timing;
    Timetable::of(timing).map_err(|e| OpsError::Usage(format!("the policy's schedule (T1) cannot be used: {e}")))
}

/// What is due now: the month, whether it is late, the months each district catches up, the
/// next run. Nothing is written.
pub async fn due_now<S: Store + LedgerStore>(s: &S, clock: Clock) -> OpsResult<Scheduled> {
    let start = start_month(s).await?;
    let table = timetable(s, clock).await?;
    let now = clock.now();
    let mut out = Scheduled {
        timetable: table.expression.clone(),
        timezone: table.timezone.name().to_string(),
        due: table.due_at(now).filter(|d| d.month >= start),
        late_by: None,
        caught_up: BTreeMap::new(),
        runs: Vec::new(),
        not_started: Vec::new(),
        next: table.next_after(now),
    };
    let Some(due) = out.due else { return Ok(out) };
    let (mut waiting, mut never_paid, mut all) = (0, 0, 0);
    // Every district's batches in one read (`batches` orders them by district).
    let mut by_district: BTreeMap<String, Vec<BatchRow>> = BTreeMap::new();
    for b in s.batches(None, None).await? {
        by_district.entry(b.district_code.clone()).or_default().push(b);
    }
    for d in districts(s, None).await? {
        all += 1;
        match uncovered_months(by_district.get(&d).map_or(&[], Vec::as_slice), start, due.month) {
            Uncovered::AlreadyRun => {}
            Uncovered::NeverPaid => never_paid += 1,
            Uncovered::Waiting(months) => {
                waiting += 1;
                if !months.is_empty() {
                    out.caught_up.insert(d, months);
                }
            }
        }
    }
    // Late only when a district paid before still waits for this run, or on the very first run (a
    // second start changes nothing; a district with nobody to pay never has a batch).
    let behind = waiting > 0 || never_paid == all;
    out.late_by = Some(now - due.at).filter(|late| behind && *late > Duration::minutes(LATE_AFTER_MINUTES));
    Ok(out)
}

/// Run what `due_now` found due, for every district, on behalf of `by`, stopping between
/// districts once `stop` is set; `each` sees every district's outcome as it is known.
pub async fn run_due<S: Store + LedgerStore>(
    s: &S,
    scheduled: &mut Scheduled,
    by: &str,
    clock: Clock,
    stop: &AtomicBool,
    each: impl FnMut(&DistrictRun),
) -> OpsResult<()> {
    let Some(due) = scheduled.due else { return Ok(()) };
    let order = RunOrder { district: None, month: due.month, by, dry_run: false };
    let runs = run_until(s, &order, clock, stop, each).await?;
    scheduled.runs = runs.runs;
    scheduled.not_started = runs.not_started;
    Ok(())
}

/// Where a district stands with the month due.
enum Uncovered {
    /// It has its regular batch for the month.
    AlreadyRun,
    /// It has no batch at all (nobody to pay so far, or never run).
    NeverPaid,
    /// It waits for the run; these months after its latest batch have no batch of their own and
    /// the run settles them too (L2).
    Waiting(Vec<ServiceMonth>),
}

fn uncovered_months(batches: &[BatchRow], start: ServiceMonth, due: ServiceMonth) -> Uncovered {
    // A month is covered by any counted batch of its own, regular or a correction that replaced
    // it (as `run` finds it there).
    let covered = |m: ServiceMonth| batches.iter().any(|b| b.service_month == m && b.state.counts());
    if covered(due) {
        return Uncovered::AlreadyRun;
    }
    let last = batches.iter().filter(|b| b.state.counts() && b.service_month < due).map(|b| b.service_month).max();
    match last {
        Some(last) => Uncovered::Waiting(last.next().max(start).through(due.prev()).filter(|m| !covered(*m)).collect()),
        None => Uncovered::NeverPaid,
    }
}
