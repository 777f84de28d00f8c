//! The check of a result file's answers against the transfers as stored, answer by answer in file
//! order, page by page (L1, L3): each answer must name a transfer the database has, of the file's
//! district and of an exported batch (of the message a pain.002 answers, when it names one), and
//! its status must be one the platform can give (a repeated answer changes nothing; a different
//! reason for the same status is a contradiction). What is kept across pages is small: the
//! district, the batches, counts and amounts per status, the few changes that are not payments,
//! and the problems (the first [`PROBLEMS_KEPT`](crate::adapters::platform::results::PROBLEMS_KEPT)).

use crate::adapters::platform::results::{FileProblem, Problems};
use crate::ledger::{BatchState, FaultCode, TransferStatus};
use crate::store::{AnswerState, ResultChange, StagedAnswer};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The format of a result file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultFormat {
    /// INTERFACE.md's `transfer_id,status,reason_code[,reason]`.
    Csv,
    /// ISO 20022 pain.002.001.12.
    Pain002,
}

/// What a file will change, once every answer is checked against the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultPlan {
    /// The district the file answers for.
    pub district: String,
    /// Its batches.
    pub batches: BTreeSet<String>,
    /// Pending transfers the file says are paid: recorded together, in one statement.
    pub paid: u64,
    /// The other changes (failed, returned), in file order: recorded one by one.
    pub others: Vec<ResultChange>,
    /// Per new status: transfers and their amount, fen.
    pub recorded: BTreeMap<TransferStatus, (usize, i64)>,
    /// Answers already recorded.
    pub unchanged: usize,
}

/// A file's answers being checked, page after page.
pub struct Check<'a> {
    format: ResultFormat,
    /// The district the file must answer for: given, or the first known transfer's.
    district: Option<String>,
    /// The message (batch) a pain.002 report answers, if it names one.
    of_batch: Option<&'a str>,
    /// Problems of the file's rows themselves (CSV: an unreadable row, a transfer listed again):
    /// they refuse the file before any answer is held against the database.
    rows: Problems,
    /// Answers the database refuses.
    problems: Problems,
    plan: ResultPlan,
}

impl<'a> Check<'a> {
    /// Begin checking a file of `format`; `district`, when given, is the district it must answer
    /// for; `of_batch` the message a pain.002 report says it answers.
    pub fn new(format: ResultFormat, district: Option<&str>, of_batch: Option<&'a str>) -> Self {
        Check {
            format,
            district: district.map(str::to_string),
            of_batch,
            rows: Problems::default(),
            problems: Problems::default(),
            plan: ResultPlan::default(),
        }
    }

    /// Check the next answer in file order.
    pub fn answer(&mut self, a: &AnswerState) {
        let id = a.answer.transfer_id();
        let at = |message: String| FileProblem { line: a.answer.line(), message };
        if let Some(first) = a.previous {
            match self.format {
                ResultFormat::Csv => self.rows.push(at(format!(
                    "transfer {id} is listed again (first at line {first}): one answer per transfer"
                ))),
                ResultFormat::Pain002 => self
                    .problems
                    .push(at(format!("transfer {id} is answered again (first at {first}): one answer per transfer"))),
            }
            return;
        }
        let r = match &a.answer {
            StagedAnswer::Answer(r) => r,
            StagedAnswer::Unreadable { problem, .. } => return self.rows.push(at(problem.clone())),
        };
        let Some(t) = &a.transfer else {
            return self.problems.push(at(format!(
                "transfer {id} is not in this database: is the file for another district's engine, or a batch not \
                 computed here?"
            )));
        };
        let district = self.district.get_or_insert_with(|| t.district_code.clone());
        if t.district_code != *district {
            return self.problems.push(at(format!(
                "transfer {id} is of district {}, this file answers for district {district}: one district per file",
                t.district_code
            )));
        }
        if t.batch_state != BatchState::Exported {
            return self.problems.push(at(format!(
                "transfer {id} is in batch {}, which is {}, not exported: the platform cannot have an answer for it",
                t.batch_id,
                t.batch_state.as_str()
            )));
        }
        if let Some(batch) = self.of_batch.filter(|b| *b != t.batch_id) {
            return self.problems.push(at(format!(
                "the report answers message {batch}, but transfer {id} is of batch {}: is this the right file?",
                t.batch_id
            )));
        }
        self.plan.batches.insert(t.batch_id.clone());
        let fault = if r.status.counts() { None } else { Some(r.fault.unwrap_or(FaultCode::Other)) };
        if t.status == r.status {
            if t.fault == fault {
                self.plan.unchanged += 1;
            } else {
                self.problems.push(at(format!(
                    "transfer {id} was reported {} {} before; this file says {} {}: one reason per answer",
                    t.status,
                    t.fault.map_or("", FaultCode::as_str),
                    r.status,
                    fault.map_or("", FaultCode::as_str)
                )));
            }
            return;
        }
        if !t.status.may_become(r.status) {
            return self.problems.push(at(format!(
                "transfer {id} is {}{} since an earlier result file and cannot become {}: a failed or returned \
                 transfer is paid again only by a later batch, once its fault is corrected (L3)",
                t.status,
                t.fault.map(|f| format!(" ({f})")).unwrap_or_default(),
                r.status
            )));
        }
        let e = self.plan.recorded.entry(r.status).or_default();
        e.0 += 1;
        e.1 += t.amount_fen;
        // Only a pending transfer becomes paid (`may_become`).
        if r.status == TransferStatus::Paid {
            self.plan.paid += 1;
            return;
        }
        self.plan.others.push(ResultChange {
            transfer_id: t.transfer_id.clone(),
            id_number: t.id_number.clone(),
            account_no: t.account_no.clone(),
            from: t.status,
            to: r.status,
            fault,
            reason: r.reason.clone(),
        });
    }

    /// Every answer checked: what the file changes, or why it is refused whole. `rows`: the
    /// problems of rows that staged nothing (the header, rows naming no transfer), in line order;
    /// any problem of the rows refuses the file before the answers are held against the database.
    pub fn finish(self, rows: Problems) -> Result<ResultPlan, Problems> {
        let rows = rows.merge(self.rows);
        if !rows.is_empty() {
            return Err(rows);
        }
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok(ResultPlan { district: self.district.unwrap_or_default(), ..self.plan })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Allowance;
    use crate::ledger::TransferResult;
    use crate::store::TransferState;
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

    fn answer(line: u64, id: &str, status: TransferStatus, fault: Option<FaultCode>) -> StagedAnswer {
        StagedAnswer::Answer(TransferResult { line, transfer_id: id.into(), status, fault, reason: None })
    }

    /// The answers as the stage hands them out (each with the line above naming its transfer),
    /// checked in pages of two.
    fn plan(
        format: ResultFormat,
        answers: &[StagedAnswer],
        states: &[TransferState],
        district: Option<&str>,
    ) -> Result<ResultPlan, Vec<FileProblem>> {
        let mut check = Check::new(format, district, None);
        let mut above: BTreeMap<&str, u64> = BTreeMap::new();
        let staged: Vec<AnswerState> = answers
            .iter()
            .map(|a| AnswerState {
                answer: a.clone(),
                previous: above.insert(a.transfer_id(), a.line()),
                transfer: states.iter().find(|t| t.transfer_id == a.transfer_id()).cloned(),
            })
            .collect();
        for page in staged.chunks(2) {
            page.iter().for_each(|a| check.answer(a));
        }
        check.finish(Problems::default()).map_err(|p| p.kept)
    }

    #[test]
    fn l3_results_become_changes_and_repeats_change_nothing() {
        let states = [
            state("T1", "110102", BatchState::Exported, Pending),
            state("T2", "110102", BatchState::Exported, Paid),
            state("T3", "110102", BatchState::Exported, Failed),
            state("T4", "110102", BatchState::Exported, Pending),
        ];
        let results = [
            answer(2, "T1", Failed, Some(FaultCode::AccountClosed)),
            answer(3, "T2", Paid, None),
            answer(4, "T3", Failed, Some(FaultCode::AccountClosed)),
            answer(5, "T4", Paid, None),
        ];
        let p = plan(ResultFormat::Csv, &results, &states, None).unwrap();
        assert_eq!(p.district, "110102");
        assert_eq!(p.unchanged, 2);
        assert_eq!(p.paid, 1);
        assert_eq!(p.others.len(), 1);
        assert_eq!((p.others[0].from, p.others[0].to), (Pending, Failed));
        assert_eq!(p.recorded, BTreeMap::from([(Paid, (1, 10_000)), (Failed, (1, 10_000))]));
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
        let problems = plan(ResultFormat::Csv, &results, &states, Some("110102")).unwrap_err();
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
        let ok = plan(ResultFormat::Csv, &[answer(2, "T1", Returned, Some(FaultCode::Deceased))], &states, None);
        assert_eq!(ok.unwrap().others[0].fault, Some(FaultCode::Deceased));
        let err = plan(ResultFormat::Csv, &[answer(2, "T2", Failed, Some(FaultCode::NameMismatch))], &states, None);
        let err = err.unwrap_err();
        assert!(err[0].message.contains("one reason per answer"), "{err:?}");
    }

    #[test]
    fn a_transfer_named_twice_is_a_row_problem_in_csv_and_answered_again_in_pain002() {
        let states = [state("T1", "110102", BatchState::Exported, Pending)];
        let results = [
            answer(2, "T1", Paid, None),
            StagedAnswer::Unreadable { line: 3, transfer_id: "T2".into(), problem: "bad status".into() },
            answer(4, "T1", Paid, None),
            answer(5, "T1", Paid, None),
            answer(6, "T9", Paid, None),
        ];
        let csv = plan(ResultFormat::Csv, &results, &states, None).unwrap_err();
        let said: Vec<String> = csv.iter().map(ToString::to_string).collect();
        // The rows' own problems refuse the file before the database's (T9 unknown) are said.
        assert_eq!(
            said,
            [
                "line 3: bad status",
                "line 4: transfer T1 is listed again (first at line 2): one answer per transfer",
                "line 5: transfer T1 is listed again (first at line 4): one answer per transfer",
            ]
        );
        let xml =
            plan(ResultFormat::Pain002, &[answer(1, "T1", Paid, None), answer(2, "T1", Paid, None)], &states, None);
        let xml = xml.unwrap_err();
        assert_eq!(xml[0].to_string(), "line 2: transfer T1 is answered again (first at 1): one answer per transfer");
    }

    #[test]
    fn the_district_is_that_of_the_first_known_transfer_in_file_order() {
        let states = [
            state("T1", "110105", BatchState::Exported, Pending),
            state("T2", "110102", BatchState::Exported, Pending),
        ];
        let results = [answer(2, "T9", Paid, None), answer(3, "T1", Paid, None), answer(4, "T2", Paid, None)];
        let err = plan(ResultFormat::Csv, &results, &states, None).unwrap_err();
        assert!(err[1].message.contains("transfer T2 is of district 110102, this file answers for district 110105"));
        let p = plan(ResultFormat::Csv, &results[1..2], &states, None).unwrap();
        assert_eq!((p.district.as_str(), p.paid), ("110105", 1));
    }
}
