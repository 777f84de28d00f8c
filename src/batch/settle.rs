//! Settling one batch, page by page (the core called from the shell): for each person read, what
//! is owed in the district (eligibility), what the district's batches already paid (L1), the
//! postings of the difference (ledger, L2/L3), their lottery shares drawn in payment-key order (F3),
//! and the rows to store: postings with the person's name, account and street as recorded now, and
//! one transfer per person and allowance. Only running totals are kept ([`BatchSummary`]).

use super::{BatchSummary, Difference, RunRequest};
use crate::codes::Allowance;
use crate::eligibility::{death_date, owed_between, Entitlement};
use crate::ledger::{self, KeyHistory, LineType, LotteryPurse, OpenHold, PersonHolds, Posting, SettleInput};
use crate::money::{to_fen, yuan};
use crate::month::ServiceMonth;
use crate::policy::{FundSplit, PolicyBook};
use crate::registry::PersonRecords;
use crate::store::{BatchRow, BatchTx, HistoryRow, PostingRow, TransferRow};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The running state of one batch: settles persons page by page, keeps only running totals.
pub(super) struct BatchContext {
    /// Shared with the thread that settles a page (`batch::attempt`).
    pub(super) book: std::sync::Arc<PolicyBook>,
    pub(super) start: ServiceMonth,
    pub(super) district: String,
    pub(super) batch_id: String,
    pub(super) month: ServiceMonth,
    pub(super) ceilings: BTreeMap<Allowance, Decimal>,
    pub(super) ceilings_fen: Vec<(String, i64)>,
    pub(super) purse: LotteryPurse,
    pub(super) allocations: BTreeMap<i32, Decimal>,
    pub(super) transfer_seq: u32,
    pub(super) summary: BatchSummary,
    /// Dry-run reruns list, per person and allowance, net paid, owed now and the difference.
    pub(super) list_differences: bool,
    /// Keep the postings in the summary ([`RunRequest::keep_postings`]).
    pub(super) keep_postings: bool,
    /// The holds not released, by person (L3): cured or not, decided per person with the
    /// account this district would pay.
    pub(super) holds: BTreeMap<String, Vec<OpenHold>>,
}

impl BatchContext {
    pub(super) async fn new<T: BatchTx>(
        tx: &mut T,
        book: &PolicyBook,
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
        let mut holds: BTreeMap<String, Vec<OpenHold>> = BTreeMap::new();
        for h in tx.open_holds().await? {
            holds.entry(h.id_number.clone()).or_default().push(h);
        }
        let summary = BatchSummary {
            batch_id: batch_id.to_string(),
            district: district.to_string(),
            service_month: month,
            ..Default::default()
        };
        Ok(BatchContext {
            book: std::sync::Arc::new(book.clone()),
            start,
            district: district.to_string(),
            batch_id: batch_id.to_string(),
            month,
            ceilings,
            ceilings_fen,
            purse: LotteryPurse::new(remaining),
            allocations,
            transfer_seq: 0,
            summary,
            list_differences: false,
            keep_postings: false,
            holds,
        })
    }

    /// Settle a page of persons: their postings and transfers, rows ready to store.
    pub(super) fn settle_page(
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
            let history =
                key_history(by_person.get(rec.id_number.as_str()).map(Vec::as_slice).unwrap_or(&[]), &self.district)?;
            let owed: Vec<Entitlement> = owed_between(&self.book, rec, self.start, self.month)
                .into_iter()
                .filter(|e| e.district == self.district)
                .collect();
            if rec.registrations.len() > 1
                && self.start.through(self.month).any(|m| {
                    let here = crate::eligibility::registrations_in_force(rec, m);
                    here.len() > 1 && here.iter().any(|i| rec.registrations[*i].district_code == self.district)
                })
            {
                let masked = crate::idcard::mask(&rec.id_number);
                // Said even when the run writes no batch (nothing else to settle).
                tracing::warn!(
                    district = %self.district,
                    month = %self.month,
                    id_number = %masked,
                    "registered in two districts for the same months (R1): paid by neither for those months until the registry is corrected"
                );
                self.summary.registered_twice.push(masked);
            }
            let snapshot = Snapshot::of(rec, &self.district);
            let person_holds: Vec<&OpenHold> =
                self.holds.get(rec.id_number.as_str()).map(|v| v.iter().collect()).unwrap_or_default();
            let hold = PersonHolds::of(snapshot.account_no.as_deref(), &person_holds);
            let input = SettleInput {
                id_number: &rec.id_number,
                month: self.month,
                from: self.start,
                owed: &owed,
                history: &history,
                hold: &hold,
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
    pub(super) fn purse_ran_out_with_carried(&self, replaced: &BatchRow) -> bool {
        let replaced_ran_out = serde_json::from_str::<BatchSummary>(&replaced.summary)
            .map(|s| s.lottery_years.iter().any(|y| y.exhausted_lines > 0))
            .unwrap_or(true);
        self.purse.ran_out() || replaced_ran_out
    }

    pub(super) fn finish(mut self, req: &RunRequest, policy_version: String) -> BatchSummary {
        self.summary.kind = req.kind;
        self.summary.run_by = req.by.clone();
        self.summary.dry_run = req.dry_run;
        self.summary.policy_version = policy_version;
        self.summary.lottery_years = super::summary::lottery_lines(&self.allocations, &self.purse);
        self.summary.missing_allocations = super::summary::missing_allocations(&self.purse);
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
