//! `status`: the batches and their states with counts and amounts, the ledger's self-check (the
//! balances agree with the counted postings), held lines waiting for an account (L3), recovery
//! items, and the districts and years paid with no lottery allocation loaded (F3).

use super::{no_allocation_message, policy_book, OpsResult};
use crate::ledger::{BatchState, OpenHold, TransferStatus};
use crate::month::ServiceMonth;
use crate::store::{held_by_district, BatchRow, LedgerStore, RecoveryRow, Store, WaitingKind, WaitingRow};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a batch stands, the platform's answers included: an exported batch is partly settled
/// once the platform answered for some of its transfers, settled once it answered for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Computed, waiting for approval.
    Computed,
    /// Approved, not exported.
    Approved,
    /// Exported, no answer from the platform yet.
    Exported,
    /// Exported, some transfers answered for.
    PartlySettled,
    /// Exported, every transfer answered for (paid, failed or returned).
    Settled,
    /// Replaced by a rerun before export.
    Superseded,
    /// Dropped before export.
    Discarded,
}

impl Standing {
    /// Printed text (JSON uses snake case: `partly_settled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Computed => "computed",
            Standing::Approved => "approved",
            Standing::Exported => "exported",
            Standing::PartlySettled => "partly settled",
            Standing::Settled => "settled",
            Standing::Superseded => "superseded",
            Standing::Discarded => "discarded",
        }
    }

    /// The standing of a batch whose platform has answered for `answered` of its transfers.
    pub fn of(state: BatchState, transfers: i64, answered: i64) -> Standing {
        match state {
            BatchState::Computed => Standing::Computed,
            BatchState::Approved => Standing::Approved,
            BatchState::Superseded => Standing::Superseded,
            BatchState::Discarded => Standing::Discarded,
            BatchState::Exported if answered == 0 => Standing::Exported,
            BatchState::Exported if answered < transfers => Standing::PartlySettled,
            BatchState::Exported => Standing::Settled,
        }
    }
}

/// What the platform said of a batch's transfers: per status, transfers and fen.
pub type Answers = BTreeMap<TransferStatus, (i64, i64)>;

/// What waits (L3), per kind (held, failed, returned) and reason: lines, persons, fen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitingTotals {
    /// Lines.
    pub lines: i64,
    /// Distinct persons.
    pub persons: i64,
    /// Amount, fen.
    pub fen: i64,
}

/// What the batches of one standing hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateTotals {
    /// Batches.
    pub batches: i64,
    /// Their transfers.
    pub transfers: i64,
    /// Their control sums, fen.
    pub control_sum_fen: i64,
    /// Held, fen.
    pub held_fen: i64,
    /// Recovery items, fen.
    pub recovery_fen: i64,
}

/// A district and year whose counted batches pay with no lottery allocation loaded (F3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingAllocation {
    /// District code.
    pub district: String,
    /// Year of the service months.
    pub year: i32,
}

impl MissingAllocation {
    /// What it means and what to do.
    pub fn message(&self) -> String {
        no_allocation_message(&self.district, self.year)
    }
}

/// Everything `status` reports.
#[derive(Clone, Debug)]
pub struct Status {
    /// The batches (of the district and month asked, if any).
    pub batches: Vec<BatchRow>,
    /// Per batch: where it stands and what the platform said of its transfers.
    pub standing: BTreeMap<String, (Standing, Answers)>,
    /// Per standing: how many batches and what they hold.
    pub by_state: BTreeMap<Standing, StateTotals>,
    /// The platform's answers over the batches listed, per status: transfers and fen.
    pub answers: Answers,
    /// What waits now (L3), per kind and reason (of the month asked, if any).
    pub waiting: BTreeMap<(WaitingKind, String), WaitingTotals>,
    /// The holds not released: cured ones are paid by the next batch.
    pub holds: Vec<OpenHold>,
    /// Sum of the balances table, fen.
    pub balances_fen: i64,
    /// Sum of the counted postings, fen (L1; must equal the balances).
    pub counted_postings_fen: i64,
    /// Every recovery item (of the district asked), closed or not.
    pub recoveries: Vec<RecoveryRow>,
    /// L3: per district, the held lines waiting for an account, fen.
    pub held_by_district: Vec<(String, i64)>,
    /// F3: districts and years paid with no allocation loaded.
    pub missing_allocations: Vec<MissingAllocation>,
}

impl Status {
    /// Whether the ledger agrees with itself.
    pub fn consistent(&self) -> bool {
        self.balances_fen == self.counted_postings_fen
    }

    /// The recovery items not yet collected or waived.
    pub fn outstanding(&self) -> Vec<&RecoveryRow> {
        self.recoveries.iter().filter(|r| r.decision.is_none()).collect()
    }

    /// Their sum, fen.
    pub fn outstanding_fen(&self) -> i64 {
        self.outstanding().iter().map(|r| r.amount_fen).sum()
    }

    /// L3: all held lines waiting, fen.
    pub fn held_waiting_fen(&self) -> i64 {
        self.held_by_district.iter().map(|(_, f)| f).sum()
    }
}

/// The status of `district` (or every district) and `month` (or every month).
pub async fn status<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: Option<ServiceMonth>,
) -> OpsResult<Status> {
    let batches = s.batches(district, month).await?;
    let (balances_fen, counted_postings_fen) = s.ledger_check().await?;
    let recoveries = s.recoveries(district).await?;
    let mut answers_of: BTreeMap<String, Answers> = BTreeMap::new();
    for c in s.transfer_counts().await? {
        answers_of.entry(c.batch_id).or_default().insert(c.status, (c.count, c.amount_fen));
    }
    let mut standing = BTreeMap::new();
    let mut answers = Answers::new();
    let mut by_state: BTreeMap<Standing, StateTotals> = BTreeMap::new();
    for b in &batches {
        let a = answers_of.remove(&b.batch_id).unwrap_or_default();
        let answered: i64 = a.iter().filter(|(st, _)| **st != TransferStatus::Pending).map(|(_, (n, _))| n).sum();
        let st = Standing::of(b.state, b.transfer_count, answered);
        for (status, (n, fen)) in &a {
            let e = answers.entry(*status).or_default();
            e.0 += n;
            e.1 += fen;
        }
        standing.insert(b.batch_id.clone(), (st, a));
        let t = by_state.entry(st).or_default();
        t.batches += 1;
        t.transfers += b.transfer_count;
        t.control_sum_fen += b.control_sum_fen;
        t.held_fen += b.held_fen;
        t.recovery_fen += b.recovery_fen;
    }
    // F3: districts and years the counted batches pay with no lottery allocation loaded.
    let book = policy_book(s).await?;
    let missing_allocations = s
        .paid_years()
        .await?
        .into_iter()
        .filter(|(d, y)| district.is_none_or(|x| x == d) && month.is_none_or(|m| m.year() == *y))
        .filter(|(d, y)| book.versions().iter().all(|p| p.allocation(d, *y).is_none()))
        .map(|(district, year)| MissingAllocation { district, year })
        .collect();
    // Held lines are posted again by every batch that reads the person (L3), and failed ones
    // settled again by the next batch: the store finds those no later batch has settled.
    let all: Vec<WaitingRow> = s
        .waiting(crate::store::IdRange::ALL)
        .await?
        .into_iter()
        .filter(|w| district.is_none_or(|d| d == w.district_code))
        .collect();
    let held_by_district = held_by_district(&all);
    let rows: Vec<&WaitingRow> = all.iter().filter(|w| month.is_none_or(|m| m == w.service_month)).collect();
    let mut waiting: BTreeMap<(WaitingKind, String), WaitingTotals> = BTreeMap::new();
    let mut persons: BTreeMap<(WaitingKind, String), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for w in rows {
        let key = (w.kind, w.reason.clone());
        let t = waiting.entry(key.clone()).or_default();
        t.lines += 1;
        t.fen += w.amount_fen;
        persons.entry(key).or_default().insert(&w.id_number);
    }
    for (key, p) in persons {
        if let Some(t) = waiting.get_mut(&key) {
            t.persons = p.len() as i64;
        }
    }
    let holds = s.open_holds().await?;
    Ok(Status {
        batches,
        standing,
        by_state,
        answers,
        waiting,
        holds,
        balances_fen,
        counted_postings_fen,
        recoveries,
        held_by_district,
        missing_allocations,
    })
}
