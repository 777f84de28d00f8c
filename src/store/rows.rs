//! The rows the storage contract reads and writes: batches, postings, transfers and what the
//! reports and the rerun need of them, plus the outcomes of policy loads and imports. Line types,
//! hold reasons, allowances and months are the core's types here; they become text only inside the
//! store, where the SQL reads and writes them.

use crate::codes::Allowance;
use crate::ledger::{BatchKind, BatchState, FaultCode, HoldReason, LineType, TransferResult, TransferStatus};
use crate::month::ServiceMonth;
use crate::registry::rows::RejectCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

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
    /// Sum of transfers, fen (in JSON: `control_sum`, yuan).
    #[serde(rename = "control_sum", serialize_with = "crate::money::json::fen")]
    pub control_sum_fen: i64,
    /// Lottery share of paid lines, fen.
    #[serde(rename = "lottery_amount", serialize_with = "crate::money::json::fen")]
    pub lottery_fen: i64,
    /// District share of paid lines, fen.
    #[serde(rename = "district_amount", serialize_with = "crate::money::json::fen")]
    pub district_fen: i64,
    /// Held lines, fen.
    #[serde(rename = "held", serialize_with = "crate::money::json::fen")]
    pub held_fen: i64,
    /// Recovery items raised, fen (positive).
    #[serde(rename = "recoveries", serialize_with = "crate::money::json::fen")]
    pub recovery_fen: i64,
    /// JSON summary (totals by allowance, lottery purse); in `--json` output it is an object, put
    /// there by the renderer that reads it (`cli::render`), never a string.
    #[serde(skip)]
    pub summary: String,
    /// Why it was discarded or rerun.
    pub state_reason: Option<String>,
    /// The registry it read: every import up to this one.
    pub registry_import_id: i64,
    /// When it was computed (the pain.001 file's creation time, the only clock value in it).
    pub computed_at: DateTime<Utc>,
}

/// One stored posting as the next batch needs it (L1 history).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// Person.
    pub id_number: String,
    /// Allowance.
    pub allowance: Allowance,
    /// Service month.
    pub service_month: ServiceMonth,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    pub line_type: LineType,
    /// Tier.
    pub tier: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Lottery share, fen.
    pub lottery_fen: i64,
    /// District share, fen.
    pub district_fen: i64,
    /// Why it is held, when it is (L3).
    pub held_reason: Option<HoldReason>,
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

/// Which of a batch's postings a platform file lists. The three partition the postings (the
/// schema allows no held recovery item, nor a transfer for a held line or a recovery item).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinesOf {
    /// `lines.csv`: the lines paid, or consumed by offsets (neither held nor a recovery item).
    Paid,
    /// `held.csv`: the held lines (L3).
    Held,
    /// `recoveries.csv`: the recovery items (L2).
    Recovered,
}

impl LinesOf {
    /// Whether this file lists `p`.
    pub fn lists(self, p: &PostingRow) -> bool {
        match self {
            LinesOf::Paid => p.held_reason.is_none() && p.line_type != LineType::Recovery,
            LinesOf::Held => p.held_reason.is_some(),
            LinesOf::Recovered => p.line_type == LineType::Recovery,
        }
    }
}

/// A transfer's amount beside the sum of the batch's lines that name it (`verify`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TransferSum {
    /// Transfer id.
    pub transfer_id: String,
    /// Its amount, fen.
    pub amount_fen: i64,
    /// Its lines' amounts added up, fen (0 when it has none).
    pub lines_fen: i64,
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
    /// Street of the person's lines.
    pub street_code: String,
    /// The birth year in the ID number (YYYY).
    pub birth_year: String,
    /// Number of distinct persons with a positive net in that allowance and month.
    pub person_times: i64,
    /// Net paid, fen.
    pub amount_fen: i64,
    /// Lottery share, fen.
    pub lottery_fen: i64,
    /// District share, fen.
    pub district_fen: i64,
}

/// Distinct persons paid (F5), per street or per birth year, for reports.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RecipientsRow {
    /// The street; empty on a birth-year row.
    pub street_code: String,
    /// The birth year (YYYY); empty on a street row.
    pub birth_year: String,
    /// Distinct persons.
    pub recipients: i64,
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
/// sums; the transfers grouped by allowance, without a line type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarriedRow {
    /// Allowance.
    pub allowance: Allowance,
    /// Line type of the postings; `None` for the transfers.
    pub line_type: Option<LineType>,
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

/// What happened when a policy version was offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyLoad {
    /// Stored as a new version.
    Added,
    /// The same version with the same content was already there.
    AlreadyLoaded,
    /// A version of this name or effective month exists with different content.
    Conflict(String),
}

/// A row the store refused within an import (the checks that need the database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreReject {
    /// Line number in the file.
    pub line: u64,
    /// Reason code.
    pub code: RejectCode,
    /// What is wrong.
    pub detail: String,
}

/// A rejected row as kept in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReject {
    /// File name.
    pub file: String,
    /// Line number.
    pub line: u64,
    /// Reason code.
    pub reason: String,
    /// What is wrong.
    pub detail: String,
}

/// A transfer as `reconcile` checks a result against it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferState {
    /// Transfer id.
    pub transfer_id: String,
    /// Its batch.
    pub batch_id: String,
    /// The batch's district.
    pub district_code: String,
    /// The batch's state (only an exported batch's transfers can have been paid).
    pub batch_state: BatchState,
    /// Person.
    pub id_number: String,
    /// Allowance.
    pub allowance: Allowance,
    /// The account it went to.
    pub account_no: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// What the platform said so far.
    pub status: TransferStatus,
    /// Why, for a failed or returned transfer.
    pub fault: Option<FaultCode>,
}

/// A transfer's new status to record, from the status it was read in (the write is refused when
/// it changed meanwhile).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResultChange {
    /// Transfer id.
    pub transfer_id: String,
    /// Person (a failed or returned transfer opens a hold on them).
    pub id_number: String,
    /// The account it went to (a new one cures an account fault).
    pub account_no: String,
    /// Status as read.
    pub from: TransferStatus,
    /// Status to record.
    pub to: TransferStatus,
    /// Why, for failed and returned.
    pub fault: Option<FaultCode>,
    /// The platform's words.
    pub reason: Option<String>,
}

/// An answer of a result file as `reconcile` stages it for its check, in the file's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StagedAnswer {
    /// A readable answer.
    Answer(TransferResult),
    /// A row that names a transfer but is no answer: why (said unless the row repeats a transfer
    /// named above it, which is said instead).
    Unreadable {
        /// Line in the file.
        line: u64,
        /// The transfer it names.
        transfer_id: String,
        /// What is wrong.
        problem: String,
    },
}

impl StagedAnswer {
    /// Its line (CSV) or position (pain.002) in the file.
    pub fn line(&self) -> u64 {
        match self {
            StagedAnswer::Answer(r) => r.line,
            StagedAnswer::Unreadable { line, .. } => *line,
        }
    }

    /// The transfer it names.
    pub fn transfer_id(&self) -> &str {
        match self {
            StagedAnswer::Answer(r) => &r.transfer_id,
            StagedAnswer::Unreadable { transfer_id, .. } => transfer_id,
        }
    }
}

/// A staged answer with what its check needs: the answer above it naming the same transfer, and
/// the transfer as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerState {
    /// The answer.
    pub answer: StagedAnswer,
    /// The line of the nearest answer above it naming the same transfer, if any.
    pub previous: Option<u64>,
    /// The transfer, if the database has it.
    pub transfer: Option<TransferState>,
}

/// Whether a waiting line is held or on a failed or returned transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitingKind {
    /// A held line (L3) of the latest batch that settled its person-month.
    Held,
    /// A line of a failed transfer no batch has settled again yet.
    Failed,
    /// A line of a returned transfer no batch has settled again yet.
    Returned,
}

/// A line whose money waits (L3): owed, not paid, not yet settled again by a later batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitingRow {
    /// The district whose batch holds it.
    pub district_code: String,
    /// Person.
    pub id_number: String,
    /// Allowance.
    pub allowance: Allowance,
    /// Service month.
    pub service_month: ServiceMonth,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Held, failed or returned.
    pub kind: WaitingKind,
    /// The hold reason, or the transfer's fault code.
    pub reason: String,
    /// Its batch.
    pub batch_id: String,
}

/// The held lines among `rows`, fen per district, by district code (L3: what waits for an
/// account, a cure or a release).
pub fn held_by_district(rows: &[WaitingRow]) -> Vec<(String, i64)> {
    let mut by_district: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for w in rows.iter().filter(|w| w.kind == WaitingKind::Held) {
        *by_district.entry(w.district_code.as_str()).or_default() += w.amount_fen;
    }
    by_district.into_iter().map(|(d, fen)| (d.to_string(), fen)).collect()
}

/// What the platform said of a batch's transfers, per status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferCount {
    /// Batch.
    pub batch_id: String,
    /// Status.
    pub status: TransferStatus,
    /// Transfers.
    pub count: i64,
    /// Their amount, fen.
    pub amount_fen: i64,
}

/// Persons by ID number, in byte order: those after `after` (every one when empty) up to and
/// including `through` (no end when `None`). `verify --ledger` reads the ledger a page of persons
/// at a time through it, so that its memory does not grow with the city.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdRange<'a> {
    /// Persons after this one.
    pub after: &'a str,
    /// Persons up to this one.
    pub through: Option<&'a str>,
}

impl IdRange<'_> {
    /// Every person.
    pub const ALL: IdRange<'static> = IdRange { after: "", through: None };

    /// The SQL condition on `column`, placeholders `$1` (bind `after`) and `$2` (bind `through`).
    /// A plain range when there is an end, so that SQLite bounds its index scan at both ends (it
    /// cannot bound a scan by a condition inside an `or`: each page would walk the rest of the
    /// ledger).
    pub(crate) fn condition(&self, column: &str) -> String {
        match self.through {
            Some(_) => format!("{column} > $1 and {column} <= $2"),
            None => format!("{column} > $1 and $2 is null"),
        }
    }
}

/// The counted lines and recovery items of one (person, allowance, month), fen (L1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyPaid {
    /// Person.
    pub id_number: String,
    /// Allowance.
    pub allowance: Allowance,
    /// Service month.
    pub service_month: ServiceMonth,
    /// Counted lines (regular, arrears, top-ups, offsets).
    pub paid_fen: i64,
    /// Counted recovery items (negative).
    pub recovered_fen: i64,
}

/// How far a district's batches settled (for `verify --ledger`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DistrictSettled {
    /// District.
    pub district_code: String,
    /// The latest service month of its counted batches.
    pub through: ServiceMonth,
    /// The registry import its latest batch read.
    pub registry_import_id: i64,
    /// Whether a policy version was loaded after its latest batch.
    pub policy_since: bool,
}

#[cfg(test)]
mod tests {
    use super::IdRange;

    #[test]
    fn a_page_of_persons_is_a_plain_range_so_that_sqlite_bounds_its_index_scan_at_both_ends() {
        let page = IdRange { after: "1", through: Some("2") };
        assert_eq!(page.condition("p.id_number"), "p.id_number > $1 and p.id_number <= $2");
        assert_eq!(IdRange::ALL.condition("id_number"), "id_number > $1 and $2 is null");
    }
}
