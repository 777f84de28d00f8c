//! The ledger's side of storage: batches, postings, transfers and balances (L1–L4). A batch is
//! computed inside one [`BatchTx`], a database transaction that also holds the district's run
//! lock, so a crash or a kill leaves no partial batch.

use crate::ledger::{BatchKind, BatchState};
use crate::month::ServiceMonth;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreResult;
use crate::registry::PersonRecords;

/// A stored batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchRow {
    /// Batch id.
    pub batch_id: String,
    /// District code.
    pub district_code: String,
    /// Service month.
    pub service_month: ServiceMonth,
    /// Regular or correction.
    pub kind: BatchKind,
    /// Sequence within district, month and kind.
    pub seq: u32,
    /// State.
    pub state: BatchState,
    /// Who ran it.
    pub run_by: String,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Policy version in force for the service month.
    pub policy_version: String,
    /// SHA-256 over the registry records it was computed from.
    pub registry_fingerprint: String,
    /// Number of transfers.
    pub transfer_count: i64,
    /// Sum of transfers, fen.
    pub control_sum_fen: i64,
    /// Lottery share of paid lines, fen.
    pub lottery_fen: i64,
    /// District share of paid lines, fen.
    pub district_fen: i64,
    /// Held lines, fen.
    pub held_fen: i64,
    /// Recovery items raised, fen (positive).
    pub recovery_fen: i64,
    /// JSON summary (totals by allowance, lottery purse).
    pub summary: String,
    /// Why it was discarded or rerun.
    pub state_reason: Option<String>,
    /// The registry it read: every import up to this one.
    pub registry_import_id: i64,
}

/// One stored posting as the next batch needs it (L1 history).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    /// Person.
    pub id_number: String,
    /// Allowance code.
    pub allowance: String,
    /// Service month.
    pub service_month: String,
    /// District whose batch posted it.
    pub district_code: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Lottery share, fen.
    pub lottery_fen: i64,
    /// District share, fen.
    pub district_fen: i64,
    /// Adjustment number.
    pub adjustment: i32,
    /// Tier.
    pub tier: String,
    /// Whether it counts in the net paid (L1).
    pub counted: bool,
    /// Whether it is a held line of a batch that counts (L3: waiting to be paid).
    pub held: bool,
}

/// A posting to store (a line or a recovery item), with the person's name and account as
/// recorded when the batch was computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PostingRow {
    /// Payment key (L4).
    pub payment_key: String,
    /// Batch.
    pub batch_id: String,
    /// Paying district.
    pub district_code: String,
    /// Person.
    pub id_number: String,
    /// Allowance code.
    pub allowance: String,
    /// Service month `YYYY-MM`.
    pub service_month: String,
    /// Adjustment number.
    pub adjustment: i32,
    /// Line type.
    pub line_type: String,
    /// Tier.
    pub tier: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Lottery share, fen.
    pub lottery_fen: i64,
    /// District share, fen.
    pub district_fen: i64,
    /// Hold reason code, when held (L3).
    pub held_reason: Option<String>,
    /// Transfer paying it, if any.
    pub transfer_id: Option<String>,
    /// Name.
    pub name: String,
    /// Account type.
    pub account_type: Option<String>,
    /// Account number.
    pub account_no: Option<String>,
    /// Street.
    pub street_code: String,
    /// Why a recovery was raised.
    pub recovery_reason: Option<String>,
}

/// A transfer to store (one person and allowance with a positive net).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TransferRow {
    /// Transfer id (≤ 35 characters).
    pub transfer_id: String,
    /// Batch.
    pub batch_id: String,
    /// Person.
    pub id_number: String,
    /// Allowance code.
    pub allowance: String,
    /// Name.
    pub name: String,
    /// Account type.
    pub account_type: Option<String>,
    /// Account number.
    pub account_no: String,
    /// Amount, fen.
    pub amount_fen: i64,
}

/// A batch about to be computed.
#[derive(Clone, Debug)]
pub struct NewBatch {
    /// Batch id.
    pub batch_id: String,
    /// District.
    pub district_code: String,
    /// Service month.
    pub service_month: ServiceMonth,
    /// Kind.
    pub kind: BatchKind,
    /// Sequence.
    pub seq: u32,
    /// Who runs it.
    pub run_by: String,
    /// When.
    pub computed_at: DateTime<Utc>,
    /// Policy version of the service month.
    pub policy_version: String,
    /// Why (correction batches).
    pub reason: Option<String>,
}

/// A batch's totals, written when its postings are in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchTotals {
    /// Number of transfers.
    pub transfer_count: i64,
    /// Sum of transfers, fen.
    pub control_sum_fen: i64,
    /// Lottery share of paid lines, fen.
    pub lottery_fen: i64,
    /// District share of paid lines, fen.
    pub district_fen: i64,
    /// Held lines, fen.
    pub held_fen: i64,
    /// Recovery items, fen (positive).
    pub recovery_fen: i64,
    /// Registry fingerprint.
    pub registry_fingerprint: String,
    /// JSON summary.
    pub summary: String,
}

/// Per (allowance, person, month) net paid by a district, for reports (F5).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NetRow {
    /// Allowance code.
    pub allowance: String,
    /// Service month.
    pub service_month: String,
    /// Number of distinct persons with a positive net in that allowance and month.
    pub person_times: i64,
    /// Net paid, fen.
    pub amount_fen: i64,
    /// Lottery share, fen.
    pub lottery_fen: i64,
    /// District share, fen.
    pub district_fen: i64,
}

/// Lines of a batch computed or approved and not yet exported, for the report: per batch,
/// allowance and service month (F5 reports them apart from what was paid).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingRow {
    /// Batch id.
    pub batch_id: String,
    /// Batch state (`computed` or `approved`).
    pub state: String,
    /// Allowance code.
    pub allowance: String,
    /// Service month.
    pub service_month: String,
    /// Paid lines and recovery items (held lines excluded).
    pub lines: i64,
    /// Sum of amounts, fen.
    pub amount_fen: i64,
    /// Sum of lottery shares, fen.
    pub lottery_fen: i64,
    /// Sum of district shares, fen.
    pub district_fen: i64,
}

/// Postings a replacing batch carried over, grouped: (allowance, line type, held) with count and
/// sums; transfers as line type `transfer`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CarriedRow {
    /// Allowance code.
    pub allowance: String,
    /// Line type, or `transfer` for the transfers.
    pub line_type: String,
    /// Whether the lines are held.
    pub held: bool,
    /// Rows.
    pub count: i64,
    /// Sum of amounts, fen.
    pub amount_fen: i64,
    /// Sum of lottery shares, fen.
    pub lottery_fen: i64,
    /// Sum of district shares, fen.
    pub district_fen: i64,
}

/// A recovery item and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RecoveryRow {
    /// Payment key of the recovery posting.
    pub payment_key: String,
    /// Batch that raised it.
    pub batch_id: String,
    /// District.
    pub district_code: String,
    /// Person.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Allowance.
    pub allowance: String,
    /// Service month.
    pub service_month: String,
    /// Amount owed back, fen (positive).
    pub amount_fen: i64,
    /// Why it was raised.
    pub reason: Option<String>,
    /// `collected` or `waived`; none while outstanding.
    pub decision: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why.
    pub decision_reason: Option<String>,
}

/// A transaction in which one district's batch is computed and written.
#[allow(async_fn_in_trait)]
pub trait BatchTx: Sized {
    /// Every batch of the district, oldest first.
    async fn district_batches(&mut self, district: &str) -> StoreResult<Vec<BatchRow>>;
    /// The next page of persons the district's batch must consider (registered there, or paid by
    /// it before), after `after` in byte order, with their records.
    async fn persons_page(&mut self, district: &str, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>>;
    /// Every posting of these persons, ordered by person, allowance, month, adjustment.
    async fn history(&mut self, ids: &[String]) -> StoreResult<Vec<HistoryRow>>;
    /// Lottery share already counted for the district's service months of `year` (F3).
    async fn lottery_used(&mut self, district: &str, year: i32) -> StoreResult<i64>;
    /// Create the batch row (state computed, zero totals).
    async fn insert_batch(&mut self, batch: &NewBatch) -> StoreResult<()>;
    /// Store postings and, with `update_balances`, add the counted ones to the balances (L4,
    /// enforced by the database). A replacing rerun stores without and refreshes at the end.
    async fn insert_postings(
        &mut self,
        rows: &[PostingRow],
        ceilings: &[(String, i64)],
        update_balances: bool,
    ) -> StoreResult<()>;
    /// Store transfers.
    async fn insert_transfers(&mut self, rows: &[TransferRow]) -> StoreResult<()>;
    /// Write the batch's totals.
    async fn finish_batch(&mut self, batch_id: &str, totals: &BatchTotals) -> StoreResult<()>;
    /// Mark a computed or approved batch superseded by `by_batch` (L1: a superseded batch never
    /// counts). The balances are left to [`BatchTx::refresh_balances`]. Returns false when it was
    /// not open.
    async fn supersede(&mut self, batch_id: &str, by_batch: &str, reason: &str) -> StoreResult<bool>;
    /// A rerun replacing `old` by `new`: move the postings and transfers of the persons outside the
    /// rerun set ([`BatchTx::mark_rerun_persons`]) from `old` to `new` (they stand as they were
    /// computed; nothing is copied) and return what `new` then holds.
    async fn carry_over(&mut self, old: &str, new: &str) -> StoreResult<Vec<CarriedRow>>;
    /// Fill the rerun set of a correction of `district`: the persons whose owed or paid amounts may
    /// have changed since the batch `vouching` vouches for the others (registry imports after
    /// `watermark`, other batches run, rerun or discarded after audit entry `since_seq`, held
    /// lines).
    /// Returns its size.
    async fn mark_rerun_persons(
        &mut self,
        district: &str,
        vouching: &str,
        watermark: i64,
        since_seq: i64,
    ) -> StoreResult<i64>;
    /// The next page of the rerun set, after `after` in byte order, with their records.
    async fn rerun_persons_page(&mut self, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>>;
    /// The names of the policy versions stored, as this transaction sees them.
    async fn policy_version_names(&mut self) -> StoreResult<Vec<String>>;
    /// The audit sequence number of the entry that wrote a batch (`run` / `rerun`), if any, and
    /// that of the last entry its computation saw (entries after it may be unseen).
    async fn batch_seq(&mut self, batch_id: &str) -> StoreResult<Option<(i64, i64)>>;
    /// Whether a policy version was loaded after the batch was written (then every person must be
    /// recomputed).
    async fn policy_loaded_since(&mut self, batch_id: &str, since_seq: i64) -> StoreResult<bool>;
    /// Recompute the balance of every key these batches posted from the counted postings (L1) and
    /// check it against the bound (L4) once, on the final state.
    /// With `rerun_persons_only`, only the keys of the rerun set's persons (the others' postings
    /// were carried over unchanged).
    async fn refresh_balances(
        &mut self,
        batch_ids: &[&str],
        ceilings: &[(String, i64)],
        rerun_persons_only: bool,
    ) -> StoreResult<()>;
    /// Number the batch's transfers from 1 in person and allowance order under its own id (a
    /// replacing rerun carries transfers of the batch it replaces). Returns their count.
    async fn renumber_transfers(&mut self, batch_id: &str) -> StoreResult<u32>;
    /// Append to the audit log in this transaction (the entry commits with the batch or not at all).
    async fn append_audit(&mut self, entry: &crate::audit::AuditEntry, now: DateTime<Utc>) -> StoreResult<()>;
    /// Make it all durable.
    async fn commit(self) -> StoreResult<()>;
    /// Drop it all (dry run, or an error).
    async fn rollback(self) -> StoreResult<()>;
}

/// An export in progress (see [`LedgerStore::begin_export`]): the batch as it stands under the
/// lock, its rows, then exported and audited at once once every file is written.
#[allow(async_fn_in_trait)]
pub trait ExportTx: Sized {
    /// The batch, read under the lock.
    fn batch(&self) -> &BatchRow;
    /// The batch's transfers, by transfer id.
    async fn transfers(&mut self) -> StoreResult<Vec<TransferRow>>;
    /// The batch's postings, by payment key.
    async fn postings(&mut self) -> StoreResult<Vec<PostingRow>>;
    /// Mark the batch exported (an exported one stays so, its first export time kept), append the
    /// audit entry, commit. Call only when every file is written and durable, and only for a batch
    /// read as approved or exported.
    async fn finish(self, audit: &crate::audit::AuditEntry, now: DateTime<Utc>) -> StoreResult<()>;
    /// Change nothing (a file could not be written, or the batch is not approved).
    async fn abandon(self) -> StoreResult<()>;
}

/// Ledger storage: batches and what they paid.
#[allow(async_fn_in_trait)]
pub trait LedgerStore {
    /// The transaction type of a batch.
    type Tx: BatchTx;
    /// Begin the district's batch transaction holding its run lock; `None` when another run
    /// holds it (exit status 4).
    async fn begin_batch(&self, district: &str) -> StoreResult<Option<Self::Tx>>;
    /// Batches, optionally of one district and month, ordered by district, month, kind, seq.
    async fn batches(&self, district: Option<&str>, month: Option<ServiceMonth>) -> StoreResult<Vec<BatchRow>>;
    /// One batch.
    async fn batch(&self, batch_id: &str) -> StoreResult<Option<BatchRow>>;
    /// Approve a computed batch, with its audit entry, in one transaction. Returns whether it changed
    /// (false: not in state computed). When `by` ran the batch the database's four-eyes check
    /// refuses it with an error; callers check first.
    async fn approve_batch(&self, batch_id: &str, by: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Drop an unexported batch (computed or approved): state discarded, postings out of the
    /// balances, audit entry, one transaction. Returns false when it was not open.
    async fn discard_batch(
        &self,
        batch_id: &str,
        reason: &str,
        audit: &crate::audit::AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Counted batches of other districts paying a month that this batch recovers or offsets (a
    /// late move: they rely on it, L1/L4).
    async fn relying_batches(&self, batch_id: &str) -> StoreResult<Vec<BatchRow>>;
    /// Withdraw the approval of an approved, unexported batch (back to computed), with its audit entry.
    async fn withdraw_approval(
        &self,
        batch_id: &str,
        audit: &crate::audit::AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Record a recovery item as collected or waived, with its audit entry. Returns false when the
    /// key is not an outstanding recovery item of a counted batch.
    async fn decide_recovery(
        &self,
        payment_key: &str,
        decision: &str,
        by: &str,
        reason: &str,
        audit: &crate::audit::AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Recovery items of counted batches, with their decision if any, by payment key.
    async fn recoveries(&self, district: Option<&str>) -> StoreResult<Vec<RecoveryRow>>;
    /// Every posting of a person for a month, with its batch's state and registry watermark.
    async fn postings_of(
        &self,
        id_number: &str,
        month: ServiceMonth,
    ) -> StoreResult<Vec<(PostingRow, BatchState, i64)>>;
    /// A person's records as they stood after import `import_id` (registry versions).
    async fn person_as_of(&self, id_number: &str, import_id: i64) -> StoreResult<Option<PersonRecords>>;
    /// The transaction an export is written in.
    type Export: ExportTx;
    /// Begin an export: one write transaction holding the batch's row (PostgreSQL `for update`,
    /// SQLite's single writer) until [`ExportTx::finish`] or [`ExportTx::abandon`], so that no
    /// discard, withdrawal or rerun changes the batch while its files are written. `None` when
    /// there is no such batch.
    async fn begin_export(&self, batch_id: &str) -> StoreResult<Option<Self::Export>>;
    /// The batch's transfers, by transfer id.
    async fn batch_transfers(&self, batch_id: &str) -> StoreResult<Vec<TransferRow>>;
    /// The batch's postings, by payment key.
    async fn batch_postings(&self, batch_id: &str) -> StoreResult<Vec<PostingRow>>;
    /// Paid out per allowance and month by a district in a year (F5): the net of the lines of
    /// exported batches (L1, failed and returned transfers excluded) per person-month, counting
    /// only positive nets. Computed or approved batches are not paid yet: see [`Self::pending_by_batch`].
    async fn net_by_month(&self, district: &str, year: i32) -> StoreResult<Vec<NetRow>>;
    /// Lines (not held) of the district's computed or approved batches for service months of
    /// `year`, per batch, allowance and month.
    async fn pending_by_batch(&self, district: &str, year: i32) -> StoreResult<Vec<PendingRow>>;
    /// Held lines waiting now (L3), fen per district. Every batch that reads a person posts their
    /// held lines again under a new adjustment number, so what waits for a (person, allowance,
    /// month) is its held posting with the highest adjustment among postings of counted batches,
    /// when no later counted posting of that key exists.
    async fn held_waiting(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Districts and years of service months with postings in counted batches (F3: `status`
    /// names those with no allocation loaded).
    async fn paid_years(&self) -> StoreResult<Vec<(String, i32)>>;
    /// Sum of the balances table and of counted postings, fen (a self-check: they must agree).
    async fn ledger_check(&self) -> StoreResult<(i64, i64)>;
}
