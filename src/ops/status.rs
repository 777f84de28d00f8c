//! `status`: the batches and their states with counts and amounts, the ledger's self-check (the
//! balances agree with the counted postings), held lines waiting for an account (L3), recovery
//! items, and the districts and years paid with no lottery allocation loaded (F3).

use super::{no_allocation_message, policy_book, OpsResult};
use crate::ledger::BatchState;
use crate::month::ServiceMonth;
use crate::store::{BatchRow, LedgerStore, RecoveryRow, Store};
use std::collections::BTreeMap;

/// What the batches of one state hold.
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
    /// Per batch state: how many batches and what they hold.
    pub by_state: BTreeMap<BatchState, StateTotals>,
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
    // Held lines are posted again by every batch that reads the person (L3), regular or
    // correction: the store finds, per key, the latest counted posting, and sums those held.
    let held_by_district: Vec<(String, i64)> =
        s.held_waiting().await?.into_iter().filter(|(d, _)| district.is_none_or(|x| x == d)).collect();
    let mut by_state: BTreeMap<BatchState, StateTotals> = BTreeMap::new();
    for b in &batches {
        let t = by_state.entry(b.state).or_default();
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
    Ok(Status {
        batches,
        by_state,
        balances_fen,
        counted_postings_fen,
        recoveries,
        held_by_district,
        missing_allocations,
    })
}
