//! The monthly batch (shell): for one district and service month, stream the persons the
//! district pays or paid, ask the eligibility core what is owed and the ledger core what to post,
//! draw the lottery allocation (F3), and write postings, transfers and totals in the one
//! transaction that also holds the district's run lock. A crash leaves no partial batch; a second
//! run of the same month prints the batch that is there.

mod plan;
mod summary;

pub use plan::{Refusal, RefusalKind};
pub use summary::{missing_allocation_text, AllowanceTotals, BatchSummary, Difference, MissingAllocation};

use crate::codes::Allowance;
use crate::eligibility::{death_date, owed_between, Entitlement};
use crate::ledger::{self, BatchKind, HoldReason, KeyHistory, LineType, LotteryPurse, Posting, SettleInput};
use crate::money::{to_fen, yuan};
use crate::month::ServiceMonth;
use crate::policy::{FundSplit, PolicyBook};
use crate::registry::PersonRecords;
use crate::store::{BatchRow, BatchTx, HistoryRow, LedgerStore, NewBatch, PostingRow, TransferRow};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use plan::{plan, read_mode, ReadMode};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
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
    tx.insert_batch(&NewBatch {
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
    loop {
        let people = match mode {
            ReadMode::Everyone => tx.persons_page(district, &after, PAGE).await?,
            ReadMode::Changed(_) => tx.rerun_persons_page(&after, PAGE).await?,
        };
        let Some(last) = people.last() else { break };
        let ids: Vec<String> = people.iter().map(|p| p.id_number.clone()).collect();
        let history = tx.history(&ids).await?;
        let (postings, transfers) = ctx.settle_page(&people, &history)?;
        // A replacing rerun refreshes the balances once at the end: until the batch it replaces is
        // out of them, its postings and the new ones would both count.
        tx.insert_postings(&postings, &ctx.ceilings_fen, plan.replaces.is_none()).await.map_err(explain_l4)?;
        tx.insert_transfers(&transfers).await?;
        after = last.id_number.clone();
    }
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

/// The running state of one batch: settles persons page by page, keeps only running totals.
struct BatchContext<'a> {
    book: &'a PolicyBook,
    start: ServiceMonth,
    district: String,
    batch_id: String,
    month: ServiceMonth,
    ceilings: BTreeMap<Allowance, Decimal>,
    ceilings_fen: Vec<(String, i64)>,
    purse: LotteryPurse,
    allocations: BTreeMap<i32, Decimal>,
    fingerprint: Sha256,
    transfer_seq: u32,
    summary: BatchSummary,
    /// Dry-run reruns list, per person and allowance, net paid, owed now and the difference.
    list_differences: bool,
    /// Keep the postings in the summary ([`RunRequest::keep_postings`]).
    keep_postings: bool,
}

impl<'a> BatchContext<'a> {
    async fn new<T: BatchTx>(
        tx: &mut T,
        book: &'a PolicyBook,
        start: ServiceMonth,
        district: &str,
        batch_id: &str,
        month: ServiceMonth,
    ) -> anyhow::Result<Self> {
        // L4: the highest monthly rate of the allowance, over every policy version, so that a month
        // priced by an earlier version is never held against a later, lower top rate.
        let ceilings: BTreeMap<Allowance, Decimal> = Allowance::ALL
            .iter()
            .map(|a| (*a, book.versions().iter().map(|p| p.top_rate(*a)).max().unwrap_or_default()))
            .collect();
        let ceilings_fen =
            ceilings.iter().map(|(a, c)| Ok((a.as_str().to_string(), to_fen(*c)?))).collect::<anyhow::Result<_>>()?;
        // F3: a year without allocation stays out of the purse: its lines have nothing to draw
        // and the district pays all (the summary names the year).
        let mut allocations = BTreeMap::new();
        let mut remaining = BTreeMap::new();
        for year in start.year()..=month.year() {
            let found = book.versions().iter().rev().find_map(|p| p.allocation(district, year));
            if let Some(amount) = found {
                let used = yuan(tx.lottery_used(district, year).await?);
                allocations.insert(year, amount);
                remaining.insert(year, amount - used);
            }
        }
        let summary = BatchSummary {
            batch_id: batch_id.to_string(),
            district: district.to_string(),
            service_month: month,
            ..Default::default()
        };
        Ok(BatchContext {
            book,
            start,
            district: district.to_string(),
            batch_id: batch_id.to_string(),
            month,
            ceilings,
            ceilings_fen,
            purse: LotteryPurse::new(remaining),
            allocations,
            fingerprint: Sha256::new(),
            transfer_seq: 0,
            summary,
            list_differences: false,
            keep_postings: false,
        })
    }

    /// Settle a page of persons: their postings and transfers, rows ready to store.
    fn settle_page(
        &mut self,
        people: &[PersonRecords],
        history: &[HistoryRow],
    ) -> anyhow::Result<(Vec<PostingRow>, Vec<TransferRow>)> {
        let mut by_person: BTreeMap<&str, Vec<&HistoryRow>> = BTreeMap::new();
        for h in history {
            by_person.entry(h.id_number.as_str()).or_default().push(h);
        }
        let mut posting_rows = Vec::new();
        let mut transfer_rows = Vec::new();
        for rec in people {
            self.summary.persons_read += 1;
            self.fingerprint.update(serde_json::to_vec(rec)?);
            let history =
                key_history(by_person.get(rec.id_number.as_str()).map(Vec::as_slice).unwrap_or(&[]), &self.district)?;
            let owed: Vec<Entitlement> = owed_between(self.book, rec, self.start, self.month)
                .into_iter()
                .filter(|e| e.district == self.district)
                .collect();
            let snapshot = Snapshot::of(rec, &self.district);
            let hold = snapshot.account_no.is_none().then_some(HoldReason::NoAccount);
            let input = SettleInput {
                id_number: &rec.id_number,
                month: self.month,
                from: self.start,
                owed: &owed,
                history: &history,
                hold,
                ceiling: &self.ceilings,
            };
            let mut postings = ledger::settle(&input);
            if self.list_differences && !postings.is_empty() {
                self.summary.differences.extend(differences(rec, &snapshot, &owed, &history, &postings, self.month));
            }
            for p in &mut postings {
                self.purse.draw(p);
            }
            self.summary.new_holds += postings
                .iter()
                .filter(|p| {
                    p.held.is_some() && !history.get(&(p.key.allowance, p.key.month)).is_some_and(|h| h.held_before)
                })
                .count() as u64;
            let transfer_ids = self.transfers(rec, &postings, &snapshot, &mut transfer_rows)?;
            for p in &postings {
                let transfer_id = transfer_ids
                    .get(&p.key.allowance)
                    .filter(|_| p.held.is_none() && p.line_type != LineType::Recovery)
                    .cloned();
                let reason = (p.line_type == LineType::Recovery).then(|| recovery_reason(rec, p, &owed));
                posting_rows.push(self.posting_row(p, transfer_id, &snapshot, reason)?);
                self.summary.add_posting(p);
            }
            if self.keep_postings {
                self.summary.postings.extend(postings);
            }
        }
        Ok((posting_rows, transfer_rows))
    }

    /// One transfer per allowance with a positive net (分户清单), ids in payment-key order.
    fn transfers(
        &mut self,
        rec: &PersonRecords,
        postings: &[Posting],
        snap: &Snapshot,
        out: &mut Vec<TransferRow>,
    ) -> anyhow::Result<BTreeMap<Allowance, String>> {
        let mut ids = BTreeMap::new();
        for (allowance, amount) in ledger::transfers(postings) {
            let Some(account_no) = snap.account_no.clone() else { continue };
            self.transfer_seq += 1;
            let transfer_id = ledger::transfer_id(&self.batch_id, self.transfer_seq);
            out.push(TransferRow {
                transfer_id: transfer_id.clone(),
                batch_id: self.batch_id.clone(),
                id_number: rec.id_number.clone(),
                allowance: allowance.as_str().to_string(),
                name: snap.name.clone(),
                account_type: snap.account_type.clone(),
                account_no,
                amount_fen: to_fen(amount)?,
            });
            self.summary.add_transfer(allowance, amount);
            ids.insert(allowance, transfer_id);
        }
        Ok(ids)
    }

    fn posting_row(
        &self,
        p: &Posting,
        transfer_id: Option<String>,
        snap: &Snapshot,
        recovery_reason: Option<String>,
    ) -> anyhow::Result<PostingRow> {
        Ok(PostingRow {
            payment_key: p.key.to_string(),
            batch_id: self.batch_id.clone(),
            district_code: self.district.clone(),
            id_number: p.key.id_number.clone(),
            allowance: p.key.allowance.as_str().to_string(),
            service_month: p.key.month.to_string(),
            adjustment: p.key.adjustment as i32,
            line_type: p.line_type,
            tier: p.tier.clone(),
            amount_fen: to_fen(p.amount)?,
            lottery_fen: to_fen(p.split.lottery)?,
            district_fen: to_fen(p.split.district)?,
            held_reason: p.held,
            transfer_id,
            name: snap.name.clone(),
            account_type: snap.account_type.clone(),
            account_no: snap.account_no.clone(),
            street_code: snap.street_code.clone(),
            recovery_reason,
        })
    }

    /// F3 with carried-over lines: whether the lottery draw may differ from a full run's. It does
    /// when any year's allocation ran out, in this batch or in the one it replaces (whose carried
    /// lines kept the shares drawn then).
    fn purse_ran_out_with_carried(&self, replaced: &BatchRow) -> bool {
        let replaced_ran_out = serde_json::from_str::<BatchSummary>(&replaced.summary)
            .map(|s| s.lottery_years.iter().any(|y| y.exhausted_lines > 0))
            .unwrap_or(true);
        self.purse.ran_out() || replaced_ran_out
    }

    fn finish(mut self, req: &RunRequest, policy_version: String) -> BatchSummary {
        self.summary.kind = req.kind;
        self.summary.run_by = req.by.clone();
        self.summary.dry_run = req.dry_run;
        self.summary.policy_version = policy_version;
        self.summary.registry_fingerprint = hex::encode(self.fingerprint.finalize());
        self.summary.lottery_years = summary::lottery_lines(&self.allocations, &self.purse);
        self.summary.missing_allocations = summary::missing_allocations(&self.purse);
        self.summary
    }
}

/// Per allowance of one person: net paid through the month, owed now, and the difference.
fn differences(
    rec: &PersonRecords,
    snap: &Snapshot,
    owed: &[Entitlement],
    history: &BTreeMap<(Allowance, ServiceMonth), KeyHistory>,
    postings: &[Posting],
    through: ServiceMonth,
) -> Vec<Difference> {
    let mut out: BTreeMap<&'static str, Difference> = BTreeMap::new();
    for p in postings {
        let a = p.key.allowance;
        out.entry(a.as_str())
            .or_insert_with(|| Difference {
                id_number: crate::idcard::mask(&rec.id_number),
                name: snap.name.clone(),
                allowance: a,
                net_paid: history
                    .iter()
                    .filter(|((ha, m), _)| *ha == a && *m <= through)
                    .map(|(_, h)| h.paid.total())
                    .sum(),
                owed: owed.iter().filter(|e| e.allowance == a).map(|e| e.amount).sum(),
                difference: Decimal::ZERO,
            })
            .difference += p.amount;
    }
    out.into_values().collect()
}

/// Name, account and street of the person as recorded in the paying district now.
struct Snapshot {
    name: String,
    account_type: Option<String>,
    account_no: Option<String>,
    street_code: String,
}

impl Snapshot {
    fn of(rec: &PersonRecords, district: &str) -> Snapshot {
        let reg = rec.registrations.iter().find(|r| r.district_code == district).or(rec.registrations.first());
        Snapshot {
            name: reg.map(|r| r.name.clone()).unwrap_or_default(),
            account_type: reg.and_then(|r| r.account_type).map(|a| a.as_str().to_string()),
            account_no: reg.and_then(|r| r.account_no.clone()),
            street_code: reg.map(|r| r.street_code.clone()).unwrap_or_default(),
        }
    }
}

/// Fold a person's stored postings into the ledger state per (allowance, month) (L1, L4).
fn key_history(
    rows: &[&HistoryRow],
    district: &str,
) -> anyhow::Result<BTreeMap<(Allowance, ServiceMonth), KeyHistory>> {
    let mut out: BTreeMap<(Allowance, ServiceMonth), KeyHistory> = BTreeMap::new();
    for h in rows {
        let k = out.entry((h.allowance, h.service_month)).or_default();
        k.last_adjustment = Some(k.last_adjustment.map_or(h.adjustment as u32, |a| a.max(h.adjustment as u32)));
        k.held_before |= h.held && h.district_code == district;
        if !h.counted {
            continue;
        }
        k.paid_all_districts += yuan(h.amount_fen);
        if h.district_code == district {
            k.paid = FundSplit {
                lottery: k.paid.lottery + yuan(h.lottery_fen),
                district: k.paid.district + yuan(h.district_fen),
            };
            k.counted += 1;
            k.last_tier = Some(h.tier.clone());
        }
    }
    Ok(out)
}

/// Why a recovery item was raised, for the operator and the person.
fn recovery_reason(rec: &PersonRecords, p: &Posting, owed: &[Entitlement]) -> String {
    let now_owed = owed.iter().find(|e| e.allowance == p.key.allowance && e.month == p.key.month);
    match (now_owed, death_date(rec)) {
        (None, Some(d)) if ServiceMonth::of(d) < p.key.month => {
            format!("DECEASED: died {d}, paid through {} only (T3)", ServiceMonth::of(d))
        }
        (None, _) => {
            format!("NOT_OWED: {} for {} is no longer owed (see `subsidy explain`)", p.key.allowance, p.key.month)
        }
        (Some(e), _) => format!(
            "LOWER_TIER: {} now owed at tier {} ({} yuan)",
            p.key.month,
            e.tier,
            crate::money::format_yuan(e.amount)
        ),
    }
}
