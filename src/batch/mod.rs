//! The monthly batch (shell): for one district and service month, stream the persons the
//! district pays or paid, ask the eligibility core what is owed and the ledger core what to post,
//! draw the lottery allocation (F3), and write postings, transfers and totals in the one
//! transaction that also holds the district's run lock. A crash leaves no partial batch; a second
//! run of the same month prints the batch that is there.

mod plan;
mod settle;
mod summary;

pub use plan::{Refusal, RefusalKind};
pub use summary::{missing_allocation_text, AllowanceTotals, BatchSummary, Difference, MissingAllocation};

use crate::ledger::{self, BatchKind};
use crate::month::ServiceMonth;
use crate::policy::PolicyBook;
use crate::store::{BatchRow, BatchTx, LedgerStore, NewBatch, PostingRow, TransferRow};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use plan::{plan, read_mode, ReadMode};
use settle::BatchContext;
use tracing::Instrument as _;

/// Persons read and settled per round trip.
const PAGE: i64 = 500;

/// What a run is asked to do.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    /// Service month.
    pub month: ServiceMonth,
    /// Who runs it.
    pub by: String,
    /// Compute and print, write nothing.
    pub dry_run: bool,
    /// Regular (`run`) or correction (`rerun`).
    pub kind: BatchKind,
    /// Why (reruns).
    pub reason: Option<String>,
    /// Read everyone even where reading only the changed persons would do (the optimisation's
    /// reference: tests compare the two).
    pub read_everyone: bool,
    /// Keep every posting computed in the summary (tests compare batches line by line).
    pub keep_postings: bool,
}

/// What happened in one district.
#[derive(Clone, Debug)]
pub enum RunOutcome {
    /// A batch was computed (and written, unless a dry run).
    Computed(Box<BatchSummary>),
    /// The month already has this batch: nothing changed.
    Existing(Box<BatchRow>),
    /// Nothing owed differs from what was paid: no batch is written (and none is needed).
    NothingToSettle,
    /// Another run holds the district (exit status 4).
    Locked,
    /// Refused, with what to do instead.
    Refused(Refusal),
}

/// Run one district's batch.
pub async fn run_district<S: LedgerStore>(
    store: &S,
    book: &PolicyBook,
    start: ServiceMonth,
    district: &str,
    req: &RunRequest,
    now: DateTime<Utc>,
) -> anyhow::Result<RunOutcome> {
    let span = tracing::info_span!(
        "district_run",
        district,
        month = %req.month,
        kind = req.kind.as_str(),
        dry_run = req.dry_run,
        batch_id = tracing::field::Empty,
    );
    async {
        let started = std::time::Instant::now();
        let outcome = match attempt(store, book, start, district, req, now, false).await? {
            Attempt::Done(outcome) => outcome,
            // F3: the allocation ran out with carried-over lines in the batch. Their lottery shares
            // were drawn in another order than a full run's (a freed share must go to the first lines
            // in payment-key order): compute the whole batch again, reading everyone.
            Attempt::ReadEveryone => {
                tracing::info!("lottery allocation ran out with carried lines: computing again, reading everyone");
                match attempt(store, book, start, district, req, now, true).await? {
                    Attempt::Done(outcome) => outcome,
                    Attempt::ReadEveryone => unreachable!("a run reading everyone carries nothing over"),
                }
            }
        };
        log_outcome(&outcome, started.elapsed());
        Ok(outcome)
    }
    .instrument(span)
    .await
}

/// The run's info event: what it did, with counts and how long it took.
fn log_outcome(outcome: &RunOutcome, took: std::time::Duration) {
    let ms = took.as_millis() as u64;
    match outcome {
        RunOutcome::Computed(s) => tracing::info!(
            persons_read = s.persons_read,
            lines = s.by_line_type.values().map(|c| c.count).sum::<u64>(),
            transfers = s.transfer_count,
            held = s.held.count,
            recoveries = s.recoveries.count,
            read_changed_only = s.read_changed_only,
            written = !s.dry_run,
            ms,
            "batch computed"
        ),
        RunOutcome::Existing(b) => tracing::info!(batch = %b.batch_id, ms, "the month already has this batch"),
        RunOutcome::NothingToSettle => tracing::info!(ms, "nothing to settle"),
        RunOutcome::Locked => tracing::info!(ms, "another run holds the district"),
        RunOutcome::Refused(why) => tracing::info!(ms, refusal = %why, "run refused"),
    }
}

/// One try at a district's batch.
enum Attempt {
    Done(RunOutcome),
    /// Rolled back: the batch must be computed reading everyone.
    ReadEveryone,
}

async fn attempt<S: LedgerStore>(
    store: &S,
    book: &PolicyBook,
    start: ServiceMonth,
    district: &str,
    req: &RunRequest,
    now: DateTime<Utc>,
    read_everyone: bool,
) -> anyhow::Result<Attempt> {
    let Some(mut tx) = store.begin_batch(district).await? else {
        return Ok(Attempt::Done(RunOutcome::Locked));
    };
    let batches = tx.district_batches(district).await?;
    // The batch is computed with the policy versions its transaction sees (a version loaded while
    // a run goes on must not be missed by the batch nor by the corrections it vouches for, T/F
    // rules are data).
    let mut seen = tx.policy_version_names().await?;
    let mut given: Vec<String> = book.versions().iter().map(|p| p.version.clone()).collect();
    seen.sort();
    given.sort();
    if seen != given {
        tx.rollback().await?;
        anyhow::bail!(
            "a policy version was loaded while this run was going on; nothing was written for district {district}: \
             run it again"
        );
    }
    let plan = match plan(&batches, req) {
        Ok(plan) => plan,
        Err(outcome) => {
            tx.rollback().await?;
            return Ok(Attempt::Done(*outcome));
        }
    };
    let mode = if read_everyone || req.read_everyone {
        ReadMode::Everyone
    } else {
        read_mode(&mut tx, district, &batches, req).await?
    };
    if mode == ReadMode::Changed(0) {
        // Nothing changed since the batch that vouches for the district: a correction has nothing
        // to do (and a batch it would replace stays as it is).
        tx.rollback().await?;
        return Ok(Attempt::Done(RunOutcome::NothingToSettle));
    }
    let seq = batches.iter().filter(|b| b.service_month == req.month && b.kind == req.kind).count() as u32 + 1;
    let batch_id = ledger::batch_id(district, req.month, req.kind, seq);
    tracing::Span::current().record("batch_id", batch_id.as_str());
    let policy = book.in_force(req.month);
    let registry_fingerprint = tx
        .insert_batch(&NewBatch {
            batch_id: batch_id.clone(),
            district_code: district.to_string(),
            service_month: req.month,
            kind: req.kind,
            seq,
            run_by: req.by.clone(),
            computed_at: now,
            policy_version: policy.version.clone(),
            reason: req.reason.clone(),
        })
        .await?;
    // A rerun replaces the month's unexported batch, which then stops counting (L1). The postings
    // and transfers of persons outside the rerun set move to the new batch as they stand (nothing
    // is copied or recomputed); only the others are settled again. A dry run does the same in a
    // transaction it rolls back, so that it announces exactly what the rerun writes.
    let mut carried = Vec::new();
    if let Some(old) = &plan.replaces {
        if let ReadMode::Changed(_) = mode {
            carried = tx.carry_over(&old.batch_id, &batch_id).await?;
        }
        let reason = req.reason.clone().unwrap_or_default();
        anyhow::ensure!(
            tx.supersede(&old.batch_id, &batch_id, &reason).await?,
            "batch {} changed state meanwhile",
            old.batch_id
        );
    }
    let mut ctx = BatchContext::new(&mut tx, book, start, district, &batch_id, req.month).await?;
    ctx.list_differences = req.dry_run && req.kind == BatchKind::Correction;
    ctx.keep_postings = req.keep_postings;
    let mut after = String::new();
    let ceilings = ctx.ceilings_fen.clone();
    // A replacing rerun refreshes the balances once at the end: until the batch it replaces is out
    // of them, its postings and the new ones would both count.
    let update_balances = plan.replaces.is_none();
    // The page settled last, written while the next one is computed.
    let mut settled: Option<SettledPage> = None;
    crate::progress::start(&format!("{} {district} {}", req.kind.as_str(), req.month), "persons", None);
    loop {
        let people = match mode {
            ReadMode::Everyone => tx.persons_page(district, &after, PAGE).await?,
            ReadMode::Changed(_) => tx.rerun_persons_page(&after, PAGE).await?,
        };
        let Some(last) = people.last() else { break };
        after = last.id_number.clone();
        let ids: Vec<String> = people.iter().map(|p| p.id_number.clone()).collect();
        let history = tx.history(&ids).await?;
        // Both cores busy (issue 11): this page is computed on a blocking thread while the
        // database writes the page before. They are different persons, so nothing computed here
        // depends on what is written there; the context (purse, transfer numbers, totals) goes
        // to the thread and comes back in page order.
        let span = tracing::Span::current();
        let computing = tokio::task::spawn_blocking(move || {
            // Its warnings belong to the district's run, as on the run's own thread.
            let _run = span.enter();
            let page = ctx.settle_page(&people, &history);
            (ctx, page.map(|(postings, transfers)| SettledPage { postings, transfers, persons: people.len() }))
        });
        let written = write_page(&mut tx, settled.take(), &ceilings, update_balances).await;
        let (back, page) = computing.await.context("the computation of a page of persons stopped")?;
        ctx = back;
        written?;
        settled = Some(page?);
    }
    write_page(&mut tx, settled.take(), &ceilings, update_balances).await?;
    crate::progress::finish();
    if plan.replaces.as_ref().is_some_and(|old| !carried.is_empty() && ctx.purse_ran_out_with_carried(old)) {
        tx.rollback().await?;
        return Ok(Attempt::ReadEveryone);
    }
    if let Some(old) = &plan.replaces {
        let changed_only = matches!(mode, ReadMode::Changed(_));
        tx.refresh_balances(&[&old.batch_id, &batch_id], &ctx.ceilings_fen, changed_only).await.map_err(explain_l4)?;
        if !carried.is_empty() {
            // Every transfer id of a batch starts with that batch's id (INTERFACE.md), numbered as
            // a full run numbers them.
            tx.renumber_transfers(&batch_id).await?;
        }
    }
    let mut summary = ctx.finish(req, policy.version.clone());
    summary.registry_fingerprint = registry_fingerprint;
    summary.absorb_carried(&carried)?;
    summary.replaces = plan.replaces.as_ref().map(|b| b.batch_id.clone());
    summary.read_changed_only = matches!(mode, ReadMode::Changed(_));
    let lines: u64 = summary.by_line_type.values().map(|c| c.count).sum();
    let only_held = req.kind == BatchKind::Correction && lines == summary.held.count && summary.new_holds == 0;
    if (lines == 0 || only_held) && plan.replaces.is_none() {
        // An empty batch would only wait for an approval that approves nothing; so would a
        // correction that only holds again what waits already (L3: the next batch lists it; a
        // hold that is new is written, so that it is seen). (A
        // rerun that replaces a batch keeps its batch: the one it replaces must stop counting.)
        tx.rollback().await?;
        return Ok(Attempt::Done(RunOutcome::NothingToSettle));
    }
    tx.finish_batch(&batch_id, &summary.totals()).await?;
    if req.dry_run {
        tx.rollback().await?;
        return Ok(Attempt::Done(RunOutcome::Computed(Box::new(summary))));
    }
    tx.append_audit(&audit_entry(req, &summary), now).await?;
    tx.commit().await.with_context(|| format!("could not commit batch {batch_id}; nothing of it was written"))?;
    Ok(Attempt::Done(RunOutcome::Computed(Box::new(summary))))
}

/// A page of persons settled: its rows, ready to store.
struct SettledPage {
    postings: Vec<PostingRow>,
    transfers: Vec<TransferRow>,
    persons: usize,
}

/// Store a settled page (nothing when there is none yet).
async fn write_page<T: BatchTx>(
    tx: &mut T,
    page: Option<SettledPage>,
    ceilings: &[(String, i64)],
    update_balances: bool,
) -> anyhow::Result<()> {
    let Some(page) = page else { return Ok(()) };
    tx.insert_postings(&page.postings, ceilings, update_balances).await.map_err(explain_l4)?;
    tx.insert_transfers(&page.transfers).await?;
    crate::progress::advance(page.persons as u64);
    Ok(())
}

/// The audit entry of a written batch.
fn audit_entry(req: &RunRequest, s: &BatchSummary) -> crate::audit::AuditEntry {
    crate::audit::AuditEntry {
        actor: req.by.clone(),
        command: match req.kind {
            BatchKind::Regular => "run".into(),
            BatchKind::Correction => "rerun".into(),
        },
        target: s.batch_id.clone(),
        reason: req.reason.clone().unwrap_or_default(),
        input_fingerprint: s.registry_fingerprint.clone(),
        details: serde_json::json!({
            "service_month": s.service_month,
            "replaces": s.replaces,
            "transfers": s.transfer_count,
            "control_sum": crate::money::format_yuan(s.control_sum),
            "recoveries": crate::money::format_yuan(s.recoveries.amount),
            "policy_version": s.policy_version,
        })
        .to_string(),
    }
}

/// The database refuses a posting that would take a net paid outside [0, top rate] (L4): say so.
fn explain_l4(e: crate::store::StoreError) -> anyhow::Error {
    match e {
        crate::store::StoreError::LedgerBound { .. } => {
            anyhow::anyhow!("{e}; nothing was written. This is a defect: keep the database and report it")
        }
        other => other.into(),
    }
}
