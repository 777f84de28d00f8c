//! `reconcile`: the platform's answer about a batch's transfers (a result CSV, or an ISO 20022
//! pain.002 status report) recorded: each transfer paid, failed or returned with its reason. A
//! failed or returned transfer's lines stop counting as paid (L1) and wait, held, for their fault
//! to be corrected (L3); DECEASED also stops the person and opens a review. The whole file is
//! checked first and refused whole (nothing recorded) when any answer is for an unknown transfer,
//! a transfer of another district or of a batch not exported, or is a change the platform cannot
//! make (failed → paid without a new batch). The same file twice changes nothing.

use super::{audit_entry, OpsError, OpsResult};
use crate::adapters::platform::iso20022;
use crate::adapters::platform::results::{read_results_csv, FileProblem};
use crate::adapters::registry_csv::encoding::Encoding;
use crate::clock::Clock;
use crate::idcard::mask;
use crate::ledger::{BatchState, FaultCode, TransferResult, TransferStatus};
use crate::money::format_fen;
use crate::store::{PlatformStore, ResultChange, TransferState};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The format of a result file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultFormat {
    /// INTERFACE.md's `transfer_id,status,reason_code[,reason]`.
    Csv,
    /// ISO 20022 pain.002.001.12.
    Pain002,
}

/// What a reconcile recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Reconciled {
    /// The file read.
    pub file: String,
    /// Its format.
    pub format: ResultFormat,
    /// The district its transfers belong to.
    pub district_code: String,
    /// The batches it answers for.
    pub batches: Vec<String>,
    /// Answers read.
    pub answers: usize,
    /// Answers recorded before (the same file again): nothing changed for them.
    pub unchanged: usize,
    /// Per new status: transfers and their amount, fen.
    pub recorded: BTreeMap<TransferStatus, (usize, i64)>,
    /// Holds opened (L3): the person (masked), the fault, the transfer.
    pub holds: Vec<(String, FaultCode, String)>,
    /// Transfers a pain.002 report says are still in process (transfer, status): they stay
    /// pending until a report with a final status.
    pub not_final: Vec<(String, String)>,
    /// Recovery items (payment keys, masked) cancelled because the bank returned the payment they
    /// recover: the money came back, the person owes nothing for it.
    pub cancelled_recoveries: Vec<String>,
}

/// Read `file` and record what it says, on behalf of `by`. `district`, when given, is the district
/// the file must answer for (otherwise the district of its first known transfer).
pub async fn reconcile<S: PlatformStore>(
    s: &S,
    file: &Path,
    encoding: Encoding,
    district: Option<&str>,
    by: &str,
    clock: Clock,
) -> OpsResult<Reconciled> {
    let bytes = std::fs::read(file).map_err(|source| OpsError::Unreadable { path: file.to_path_buf(), source })?;
    let name = file.display().to_string();
    let refused = |problems: Vec<FileProblem>| OpsError::ResultFile {
        file: name.clone(),
        problems: problems.iter().map(ToString::to_string).collect(),
    };
    let Answers { format, results, of_message, not_final } = read_answers(&bytes, encoding).map_err(refused)?;
    let ids: Vec<String> = results.iter().map(|r| r.transfer_id.clone()).collect();
    // A transfer answered for meanwhile (another reconcile) makes the write refuse: read again.
    for _ in 0..3 {
        let states = s.transfer_states(&ids).await?;
        let plan = plan(&results, &states, district, of_message.as_deref()).map_err(refused)?;
        let mut out = Reconciled {
            file: name.clone(),
            format,
            district_code: plan.district.clone(),
            batches: plan.batches.iter().cloned().collect(),
            answers: results.len(),
            unchanged: plan.unchanged,
            recorded: BTreeMap::new(),
            holds: Vec::new(),
            not_final: not_final.clone(),
            cancelled_recoveries: Vec::new(),
        };
        let amounts: BTreeMap<&str, i64> = states.iter().map(|t| (t.transfer_id.as_str(), t.amount_fen)).collect();
        for c in &plan.changes {
            let amount = amounts.get(c.transfer_id.as_str()).copied().unwrap_or(0);
            let e = out.recorded.entry(c.to).or_default();
            e.0 += 1;
            e.1 += amount;
            if !c.to.counts() {
                out.holds.push((mask(&c.id_number), c.fault.unwrap_or(FaultCode::Other), c.transfer_id.clone()));
            }
        }
        if plan.changes.is_empty() {
            return Ok(out);
        }
        let details = json!({
            "format": format,
            "district_code": plan.district,
            "batches": out.batches,
            "answers": results.len(),
            "unchanged": plan.unchanged,
            "recorded": out.recorded.iter().map(|(st, (n, fen))| (st.as_str(), json!({"transfers": n, "amount": format_fen(*fen)}))).collect::<BTreeMap<_, _>>(),
        });
        let entry = audit_entry(by, "reconcile", &name, "", crate::digest::sha256_hex(&bytes), details);
        match s.record_results(&plan.district, &plan.changes, by, &entry, clock.now()).await {
            Ok(Some(cancelled)) => {
                out.cancelled_recoveries = cancelled.iter().map(|k| crate::idcard::mask_key(k)).collect();
                return Ok(out);
            }
            // Changed meanwhile, or collided with another writer (nothing written): read again.
            Ok(None) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpsError::Usage(format!(
        "the transfers of {name} kept changing while it was recorded (another reconcile?): run it again"
    )))
}

/// The answers of a file: a pain.002 status report when it is XML, the result CSV otherwise.
fn read_answers(bytes: &[u8], encoding: Encoding) -> Result<Answers, Vec<FileProblem>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        let report =
            iso20022::pain002_report(body).map_err(|e| vec![FileProblem { line: 0, message: e.to_string() }])?;
        let answers = Answers {
            format: ResultFormat::Pain002,
            results: report.results,
            of_message: report.original_message,
            not_final: report.not_final.into_iter().map(|n| (n.transfer_id, n.status)).collect(),
        };
        return Ok(answers);
    }
    Ok(Answers {
        format: ResultFormat::Csv,
        results: read_results_csv(bytes, encoding)?,
        of_message: None,
        not_final: vec![],
    })
}

/// What a result file says.
struct Answers {
    format: ResultFormat,
    results: Vec<TransferResult>,
    /// The message (batch) a pain.002 report answers, if it names one.
    of_message: Option<String>,
    /// Transfers a pain.002 report says are still in process, with their status: they stay pending.
    not_final: Vec<(String, String)>,
}

/// What a file will change, once every answer is checked against the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultPlan {
    /// The district the file answers for.
    pub district: String,
    /// Its batches.
    pub batches: BTreeSet<String>,
    /// The statuses to record.
    pub changes: Vec<ResultChange>,
    /// Answers already recorded.
    pub unchanged: usize,
}

/// Check every answer against the transfer as stored: it must exist, be of the file's district
/// and of an exported batch, and its new status must be one the platform can give (a repeated
/// answer changes nothing; a different reason for the same status is a contradiction).
pub fn plan(
    results: &[TransferResult],
    states: &[TransferState],
    district: Option<&str>,
    of_batch: Option<&str>,
) -> Result<ResultPlan, Vec<FileProblem>> {
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    let by_id: BTreeMap<&str, &TransferState> = states.iter().map(|t| (t.transfer_id.as_str(), t)).collect();
    let district = district
        .map(str::to_string)
        .or_else(|| results.iter().find_map(|r| by_id.get(r.transfer_id.as_str())).map(|t| t.district_code.clone()))
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut out =
        ResultPlan { district: district.clone(), batches: BTreeSet::new(), changes: Vec::new(), unchanged: 0 };
    for r in results {
        let at = |message: String| FileProblem { line: r.line, message };
        if let Some(first) = seen.insert(&r.transfer_id, r.line) {
            problems.push(at(format!(
                "transfer {} is answered again (first at {first}): one answer per transfer",
                r.transfer_id
            )));
            continue;
        }
        let Some(t) = by_id.get(r.transfer_id.as_str()) else {
            problems.push(at(format!(
                "transfer {} is not in this database: is the file for another district's engine, or a batch \
                 not computed here?",
                r.transfer_id
            )));
            continue;
        };
        if t.district_code != district {
            problems.push(at(format!(
                "transfer {} is of district {}, this file answers for district {district}: one district per file",
                r.transfer_id, t.district_code
            )));
            continue;
        }
        if t.batch_state != BatchState::Exported {
            problems.push(at(format!(
                "transfer {} is in batch {}, which is {}, not exported: the platform cannot have an answer for it",
                r.transfer_id,
                t.batch_id,
                t.batch_state.as_str()
            )));
            continue;
        }
        if let Some(batch) = of_batch.filter(|b| *b != t.batch_id) {
            problems.push(at(format!(
                "the report answers message {batch}, but transfer {} is of batch {}: is this the right file?",
                r.transfer_id, t.batch_id
            )));
            continue;
        }
        out.batches.insert(t.batch_id.clone());
        let fault = if r.status.counts() { None } else { Some(r.fault.unwrap_or(FaultCode::Other)) };
        if t.status == r.status {
            if t.fault == fault {
                out.unchanged += 1;
            } else {
                problems.push(at(format!(
                    "transfer {} was reported {} {} before; this file says {} {}: one reason per answer",
                    r.transfer_id,
                    t.status,
                    t.fault.map_or("", FaultCode::as_str),
                    r.status,
                    fault.map_or("", FaultCode::as_str)
                )));
            }
            continue;
        }
        if !t.status.may_become(r.status) {
            problems.push(at(format!(
                "transfer {} is {}{} since an earlier result file and cannot become {}: a failed or returned \
                 transfer is paid again only by a later batch, once its fault is corrected (L3)",
                r.transfer_id,
                t.status,
                t.fault.map(|f| format!(" ({f})")).unwrap_or_default(),
                r.status
            )));
            continue;
        }
        out.changes.push(ResultChange {
            transfer_id: t.transfer_id.clone(),
            id_number: t.id_number.clone(),
            account_no: t.account_no.clone(),
            from: t.status,
            to: r.status,
            fault,
            reason: r.reason.clone(),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Allowance;
    use TransferStatus::*;

    fn state(id: &str, district: &str, batch_state: BatchState, status: TransferStatus) -> TransferState {
        TransferState {
            transfer_id: id.into(),
            batch_id: "110102-2020-07-R1".into(),
            district_code: district.into(),
            batch_state,
            id_number: "110102193001010012".into(),
            allowance: Allowance::Longevity,
            account_no: "6217000000000000001".into(),
            amount_fen: 10_000,
            status,
            fault: (!status.counts()).then_some(FaultCode::AccountClosed),
        }
    }

    fn answer(line: u64, id: &str, status: TransferStatus, fault: Option<FaultCode>) -> TransferResult {
        TransferResult { line, transfer_id: id.into(), status, fault, reason: None }
    }

    #[test]
    fn l3_results_become_changes_and_repeats_change_nothing() {
        let states = [
            state("T1", "110102", BatchState::Exported, Pending),
            state("T2", "110102", BatchState::Exported, Paid),
            state("T3", "110102", BatchState::Exported, Failed),
        ];
        let results = [
            answer(2, "T1", Failed, Some(FaultCode::AccountClosed)),
            answer(3, "T2", Paid, None),
            answer(4, "T3", Failed, Some(FaultCode::AccountClosed)),
        ];
        let p = plan(&results, &states, None, None).unwrap();
        assert_eq!(p.district, "110102");
        assert_eq!(p.unchanged, 2);
        assert_eq!(p.changes.len(), 1);
        assert_eq!((p.changes[0].from, p.changes[0].to), (Pending, Failed));
    }

    #[test]
    fn l3_unknown_other_district_unexported_and_impossible_answers_refuse_the_file() {
        let states = [
            state("T1", "110102", BatchState::Exported, Failed),
            state("T2", "110105", BatchState::Exported, Pending),
            state("T3", "110102", BatchState::Approved, Pending),
            state("T4", "110102", BatchState::Exported, Paid),
            state("T5", "110102", BatchState::Exported, Pending),
        ];
        let results = [
            answer(2, "T1", Paid, None),
            answer(3, "T2", Paid, None),
            answer(4, "T3", Paid, None),
            answer(5, "T4", Failed, Some(FaultCode::Other)),
            answer(6, "T9", Paid, None),
            answer(7, "T5", Paid, None),
        ];
        let problems = plan(&results, &states, Some("110102"), None).unwrap_err();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(problems[0].message.contains("cannot become paid"));
        assert!(problems[1].message.contains("of district 110105"));
        assert!(problems[2].message.contains("approved, not exported"));
        assert!(problems[4].message.contains("not in this database"));
    }

    #[test]
    fn l3_a_returned_paid_transfer_is_a_change_and_a_second_reason_a_contradiction() {
        let states =
            [state("T1", "110102", BatchState::Exported, Paid), state("T2", "110102", BatchState::Exported, Failed)];
        let ok = plan(&[answer(2, "T1", Returned, Some(FaultCode::Deceased))], &states, None, None).unwrap();
        assert_eq!(ok.changes[0].fault, Some(FaultCode::Deceased));
        let err = plan(&[answer(2, "T2", Failed, Some(FaultCode::NameMismatch))], &states, None, None).unwrap_err();
        assert!(err[0].message.contains("one reason per answer"), "{err:?}");
    }
}
