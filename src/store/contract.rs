//! The storage contract: [`Store`] (settings, policy versions, the registry and its imports, the
//! audit log) and [`LedgerStore`] (batches and what they paid), with the transactions they hand
//! out: [`ImportTx`], [`BatchTx`], [`ExportTx`], a batch's rows streamed for its files
//! ([`BatchRows`]) and a result file's answers staged for their check ([`AnswerStage`]). Every
//! method is one transaction or a read. Both databases implement it once, in `sql_store.rs`.

use super::error::StoreResult;
use super::review::{FlagRules, Flags, LineGroup, RegularChange};
use super::rows::{
    AnswerState, BatchRow, BatchTotals, CarriedRow, DistrictSettled, HistoryRow, IdRange, KeyPaid, LinesOf, NetRow,
    NewBatch, PendingRow, PolicyLoad, PostingRow, RecipientsRow, RecoveryRow, ResultChange, StagedAnswer, StoreReject,
    StoredReject, TransferCount, TransferRow, TransferState, TransferSum, WaitingRow,
};
use super::sql::RowStream;
use crate::audit::{AuditEntry, AuditRow};
use crate::codes::Allowance;
use crate::ledger::{BatchState, OpenHold};
use crate::month::ServiceMonth;
use crate::policy::Policy;
use crate::registry::rows::{FileKind, RowOp};
use crate::registry::PersonRecords;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The storage contract. Every method is one transaction or a read.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Apply the migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;
    /// The newest migration applied to the database, and the newest this binary carries.
    async fn schema_versions(&self) -> StoreResult<(i64, i64)>;
    /// The engine's first service month (T7), once set.
    async fn start_month(&self) -> StoreResult<Option<ServiceMonth>>;
    /// Set the engine's first service month.
    async fn set_start_month(&self, month: ServiceMonth) -> StoreResult<()>;
    /// Every stored policy version.
    async fn policy_versions(&self) -> StoreResult<Vec<Policy>>;
    /// Store a policy version unless it is already there.
    async fn add_policy(&self, policy: &Policy, source: &str, now: DateTime<Utc>) -> StoreResult<PolicyLoad>;
    /// The transaction an import is written in.
    type Import: ImportTx;
    /// Open an import of a directory: one transaction, committed by [`ImportTx::finish`]; an
    /// import that fails or is killed leaves nothing behind.
    async fn begin_import(&self, dir: &str, now: DateTime<Utc>) -> StoreResult<Self::Import>;
    /// Everything recorded of one person, or none when no registration exists.
    async fn person(&self, id_number: &str) -> StoreResult<Option<PersonRecords>>;
    /// Rows per registry table.
    async fn registry_counts(&self) -> StoreResult<BTreeMap<String, i64>>;
    /// The districts with at least one registration.
    async fn districts(&self) -> StoreResult<Vec<String>>;
    /// Append an entry to the audit log, in its own transaction.
    async fn append_audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<AuditRow>;
    /// The whole audit log, and the head recorded at the last append.
    async fn audit_log(&self) -> StoreResult<(Vec<AuditRow>, Option<(i64, String)>)>;
    /// Bring the planner's statistics up to date after a bulk write (PostgreSQL: `analyze`;
    /// autovacuum would come later, and a run's per-page reads are planned as seq scans over
    /// tables it believes empty). Nothing on SQLite, whose planner assumes indexes are selective.
    async fn refresh_statistics(&self, tables: StatisticsOf) -> StoreResult<()>;
}

/// Which tables a bulk write changed enough for [`Store::refresh_statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsOf {
    /// The registry tables, their versions and the persons changed (an import).
    Registry,
    /// Postings, transfers, balances and batches (a run or rerun).
    Ledger,
}

impl StatisticsOf {
    /// The tables.
    pub fn tables(self) -> &'static str {
        match self {
            StatisticsOf::Registry => {
                "elders, applications, assessments, disability_certs, household_status, exclusions, suspensions, \
                 registry_versions, person_changes"
            }
            StatisticsOf::Ledger => "postings, transfers, balances, batches",
        }
    }
}

/// An import in progress: every file's rows, then its totals, in one transaction.
#[allow(async_fn_in_trait)]
pub trait ImportTx {
    /// The import's id.
    fn import_id(&self) -> i64;
    /// Apply validated rows of one file: upsert or delete by key. Rows naming an unknown person,
    /// or repeating a key already written by this import, are refused and returned.
    async fn apply_rows(&mut self, kind: FileKind, rows: &[(u64, RowOp)]) -> StoreResult<Vec<StoreReject>>;
    /// Record the totals and rejected rows, and the registry fingerprint the import leaves (moved on
    /// with `files_sha256`, the SHA-256 of its files, when it wrote a row), and commit the import.
    async fn finish(
        self,
        accepted: u64,
        rejects: &[StoredReject],
        files_sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
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
    /// Create the batch row (state computed, zero totals); returns the registry fingerprint of
    /// the import it reads.
    async fn insert_batch(&mut self, batch: &NewBatch) -> StoreResult<String>;
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
    /// The holds not released (L3), oldest first, with the registry facts that may have cured them.
    async fn open_holds(&mut self) -> StoreResult<Vec<OpenHold>>;
    /// Append to the audit log in this transaction (the entry commits with the batch or not at all).
    async fn append_audit(&mut self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()>;
    /// Make it all durable.
    async fn commit(self) -> StoreResult<()>;
    /// Drop it all (dry run, or an error).
    async fn rollback(self) -> StoreResult<()>;
}

/// A batch's rows streamed in the order of the platform files that list them (export, verify):
/// memory holds a few rows whatever the batch's size. One stream at a time: each borrows the
/// connection until it is dropped.
pub trait BatchRows {
    /// The batch's transfers, by transfer id (byte order).
    fn transfers(&mut self) -> RowStream<'_, TransferRow>;
    /// The postings the file `which` lists, ordered by the file's first column in byte order
    /// (`lines.csv`: by transfer id, lines of no transfer first, then payment key).
    fn lines(&mut self, which: LinesOf) -> RowStream<'_, PostingRow>;
    /// Per transfer, by transfer id: its amount and the sum of the batch's lines that name it.
    fn transfer_sums(&mut self) -> RowStream<'_, TransferSum>;
}

/// An export in progress (see [`LedgerStore::begin_export`]): the batch as it stands under the
/// lock, its rows streamed under the same lock ([`BatchRows`]), then exported and audited at once
/// once every file is written.
#[allow(async_fn_in_trait)]
pub trait ExportTx: BatchRows + Sized {
    /// The batch, read under the lock.
    fn batch(&self) -> &BatchRow;
    /// Mark the batch exported (an exported one stays so, its first export time kept), append the
    /// audit entry, commit. Call only when every file is written and durable, and only for a batch
    /// read as approved or exported.
    async fn finish(self, audit: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()>;
    /// Change nothing (a file could not be written, or the batch is not approved).
    async fn abandon(self) -> StoreResult<()>;
}

/// Ledger storage: batches and what they paid, and (through [`PlatformStore`]) what the platform
/// answered.
#[allow(async_fn_in_trait)]
pub trait LedgerStore: PlatformStore {
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
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Counted batches of other districts paying a month that this batch recovers or offsets (a
    /// late move: they rely on it, L1/L4).
    async fn relying_batches(&self, batch_id: &str) -> StoreResult<Vec<BatchRow>>;
    /// Withdraw the approval of an approved, unexported batch (back to computed), with its audit entry.
    async fn withdraw_approval(&self, batch_id: &str, audit: &AuditEntry, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Record a recovery item as collected or waived, with its audit entry. Returns false when the
    /// key is not an outstanding recovery item of a counted batch.
    async fn decide_recovery(
        &self,
        payment_key: &str,
        decision: &str,
        by: &str,
        reason: &str,
        audit: &AuditEntry,
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
    /// A batch's rows for its files, streamed, each stream read on its own (`verify`).
    fn batch_rows<'a>(&'a self, batch_id: &'a str) -> impl BatchRows + 'a;
    /// The batch's transfers, by transfer id.
    async fn batch_transfers(&self, batch_id: &str) -> StoreResult<Vec<TransferRow>>;
    /// The batch's postings, by payment key.
    async fn batch_postings(&self, batch_id: &str) -> StoreResult<Vec<PostingRow>>;
    /// Paid out per allowance and month by a district in a year (F5): the net of the lines of
    /// exported batches (L1, failed and returned transfers excluded) per person-month, counting
    /// only positive nets. Computed or approved batches are not paid yet: see [`Self::pending_by_batch`].
    async fn net_by_month(&self, district: &str, year: i32) -> StoreResult<Vec<NetRow>>;
    /// The monthly review: the lines of the standing batches of `month` and `previous`, added up
    /// by month, allowance, tier, street, line type and hold.
    async fn review_lines(
        &self,
        district: &str,
        month: ServiceMonth,
        previous: ServiceMonth,
    ) -> StoreResult<Vec<LineGroup>>;
    /// The monthly review: how each person's regular line changed from `previous` to `month`.
    async fn review_changes(
        &self,
        district: &str,
        month: ServiceMonth,
        previous: ServiceMonth,
    ) -> StoreResult<Vec<RegularChange>>;
    /// The monthly review: persons of `month` worth a human look.
    async fn review_flags(&self, district: &str, month: ServiceMonth, rules: FlagRules) -> StoreResult<Flags>;
    /// Distinct persons a district paid in service months `from..=to` (as [`Self::net_by_month`]
    /// counts them), per street and per birth year.
    async fn recipients(&self, district: &str, from: ServiceMonth, to: ServiceMonth)
        -> StoreResult<Vec<RecipientsRow>>;
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

/// The platform's answers and the holds (L1, L3).
#[allow(async_fn_in_trait)]
pub trait PlatformStore {
    /// The transfers among `ids` that exist, with their batch's district and state.
    async fn transfer_states(&self, ids: &[String]) -> StoreResult<Vec<TransferState>>;
    /// A result file's answers to stage, check and record ([`AnswerStage`]).
    type Answers: AnswerStage;
    /// Begin staging a result file's answers, on a connection kept until the stage is dropped.
    async fn stage_answers(&self) -> StoreResult<Self::Answers>;
    /// The holds not released, oldest first, with the registry facts that may have cured them.
    async fn open_holds(&self) -> StoreResult<Vec<OpenHold>>;
    /// Open an operator's hold (kind ON_HOLD) with its audit entry; returns its number.
    async fn add_hold(
        &self,
        id_number: &str,
        allowance: Option<Allowance>,
        by: &str,
        reason: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Release a person's holds (of one allowance, or all) with the audit entry; returns the
    /// numbers released (none: nothing written).
    async fn release_holds(
        &self,
        id_number: &str,
        allowance: Option<Allowance>,
        by: &str,
        reason: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>>;
    /// What waits now for the persons in `ids`, line by line: held lines and lines of failed or
    /// returned transfers that no later batch has settled again (L3).
    async fn waiting(&self, ids: IdRange<'_>) -> StoreResult<Vec<WaitingRow>>;
    /// Per batch and status, the transfers and their amount.
    async fn transfer_counts(&self) -> StoreResult<Vec<TransferCount>>;
    /// The next page of every person registered or posted, after `after` in byte order.
    async fn all_persons_page(&self, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>>;
    /// Per (person, allowance, month) of the persons in `ids` with a counted posting: counted lines
    /// and recovery items.
    async fn keys_paid(&self, ids: IdRange<'_>) -> StoreResult<Vec<KeyPaid>>;
    /// Per district: how far its batches settled, and what its latest batch read.
    async fn districts_settled(&self) -> StoreResult<Vec<DistrictSettled>>;
    /// Per person in `ids`, the last import that changed their records.
    async fn person_changes(&self, ids: IdRange<'_>) -> StoreResult<Vec<(String, i64)>>;
}

/// A result file's answers, staged in the database to be checked set by set and recorded
/// (`reconcile`, issue 11): memory holds a chunk or a page of them, whatever the file's size. They
/// live in a temporary table of one connection, which the checks read and the write transaction
/// uses; dropping the stage closes that connection and the answers go with it.
#[allow(async_fn_in_trait)]
pub trait AnswerStage {
    /// Stage answers, in the file's order, after those staged before.
    async fn add(&mut self, answers: &[StagedAnswer]) -> StoreResult<()>;
    /// Every answer staged: index them for the check.
    async fn seal(&mut self) -> StoreResult<()>;
    /// The next page of answers after line `after`, in line order, with the answer above each
    /// naming the same transfer and the transfer as stored now.
    async fn page(&mut self, after: u64, limit: i64) -> StoreResult<Vec<AnswerState>>;
    /// Record the answers with the audit entry in one transaction holding `district`'s run lock:
    /// every staged `paid` answer whose transfer is pending (`paid` of them, as the check counted),
    /// then `others`, each from the status it was read in, with the balances of a failed or
    /// returned transfer's lines recomputed (L1) and a hold opened for its fault (L3); the
    /// recovery items of its months not collected from the person are cancelled while the net paid
    /// would be below zero (the money came back from the bank). Returns the cancelled items'
    /// payment keys; `None`, having written nothing, when a transfer's status changed since the
    /// check read it.
    async fn record(
        &mut self,
        district: &str,
        paid: u64,
        others: &[ResultChange],
        by: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<String>>>;
}
