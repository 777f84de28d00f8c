//! What a pain.002 report says, event by event: the status and reasons at the group, payment and
//! transaction levels, and each transaction read whole turned into an answer, a note that it is
//! not final yet, or the problem that refuses the file (the statuses and reason codes are those of
//! the module above).

use super::super::{Iso20022Error, PAIN002_NS};
use super::{NotFinal, Pain002Failure, Pain002Report};
use crate::ledger::{FaultCode, TransferResult, TransferStatus};
use quick_xml::events::BytesStart;

/// Statuses that say the transaction is on its way, not where it ended.
const NOT_FINAL: [&str; 14] =
    ["RCVD", "ACTC", "ACCP", "ACFC", "ACFW", "ACPD", "ACSP", "ACWC", "ACWP", "ACIS", "PDNG", "PATC", "PRES", "BLCK"];

/// A status and the reasons given with it, at one level (group, payment, transaction).
#[derive(Clone, Debug, Default)]
pub(super) struct Level {
    status: Option<String>,
    reasons: Vec<Reason>,
}

/// One StsRsnInf.
#[derive(Clone, Debug, Default)]
struct Reason {
    code: Option<String>,
    proprietary: Option<String>,
    info: Vec<String>,
}

#[derive(Default)]
struct Tx {
    position: u64,
    /// Bytes up to its start tag (its line, counted when a problem needs it).
    offset: u64,
    end_to_end: Option<String>,
    level: Level,
}

/// The report read so far.
#[derive(Default)]
pub(super) struct State {
    /// Local names of the open elements, `Document` first.
    pub(super) path: Vec<String>,
    pub(super) root_seen: bool,
    pub(super) text: String,
    pub(super) group: Level,
    payment: Level,
    tx: Option<Tx>,
    pub(super) transactions: u64,
    /// Transactions of the open OrgnlPmtInfAndSts.
    payment_transactions: u64,
    pub(super) report: Pain002Report,
}

/// Paths below `Document/CstmrPmtStsRpt`.
const GROUP: &[&str] = &["OrgnlGrpInfAndSts"];
const PAYMENT: &[&str] = &["OrgnlPmtInfAndSts"];
const TX: &[&str] = &["OrgnlPmtInfAndSts", "TxInfAndSts"];

impl State {
    /// Where the innermost open element is, relative to `Document/CstmrPmtStsRpt`.
    fn below(&self, base: &[&str], rest: &[&str]) -> bool {
        let p = &self.path;
        p.len() == 2 + base.len() + rest.len()
            && p[0] == "Document"
            && p[1] == "CstmrPmtStsRpt"
            && p[2..2 + base.len()].iter().zip(base).all(|(a, b)| a == b)
            && p[2 + base.len()..].iter().zip(rest).all(|(a, b)| a == b)
    }

    pub(super) fn start(&mut self, e: &BytesStart<'_>, ns: Option<String>, offset: u64) -> Result<(), Pain002Failure> {
        let name = e.local_name().as_ref().to_string();
        if !self.root_seen {
            self.root_seen = true;
            check_root(&name, ns.as_deref())?;
        }
        self.path.push(name);
        self.text.clear();
        if self.below(PAYMENT, &[]) {
            self.payment = Level::default();
            self.payment_transactions = 0;
        } else if self.below(TX, &[]) {
            self.transactions += 1;
            self.payment_transactions += 1;
            self.tx = Some(Tx { position: self.transactions, offset, ..Tx::default() });
        } else if let Some(level) = self.reason_level(&[]) {
            level.reasons.push(Reason::default());
        }
        Ok(())
    }

    /// The level whose `StsRsnInf` (followed by `rest`) is the innermost open element.
    fn reason_level(&mut self, rest: &[&str]) -> Option<&mut Level> {
        let at = |base: &[&str]| self.below(base, &[&["StsRsnInf"], rest].concat());
        if at(TX) {
            self.tx.as_mut().map(|t| &mut t.level)
        } else if at(PAYMENT) {
            Some(&mut self.payment)
        } else if at(GROUP) {
            Some(&mut self.group)
        } else {
            None
        }
    }

    pub(super) fn end(&mut self) -> Result<(), Pain002Failure> {
        let text = std::mem::take(&mut self.text).trim().to_string();
        if self.below(GROUP, &["OrgnlMsgId"]) {
            self.report.original_message = Some(text);
        } else if self.below(GROUP, &["GrpSts"]) {
            self.group.status = Some(text);
        } else if self.below(PAYMENT, &["PmtInfSts"]) {
            self.payment.status = Some(text);
        } else if self.below(TX, &["OrgnlEndToEndId"]) {
            if let Some(tx) = self.tx.as_mut() {
                tx.end_to_end = Some(text);
            }
        } else if self.below(TX, &["TxSts"]) {
            if let Some(tx) = self.tx.as_mut() {
                tx.level.status = Some(text);
            }
        } else if let Some(level) = self.reason_level(&["Rsn", "Cd"]) {
            level.reasons.last_mut().expect("opened with StsRsnInf").code = Some(text);
        } else if let Some(level) = self.reason_level(&["Rsn", "Prtry"]) {
            level.reasons.last_mut().expect("opened with StsRsnInf").proprietary = Some(text);
        } else if let Some(level) = self.reason_level(&["AddtlInf"]) {
            level.reasons.last_mut().expect("opened with StsRsnInf").info.push(text);
        } else if self.below(TX, &[]) {
            let tx = self.tx.take().expect("opened with TxInfAndSts");
            self.finish(tx)?;
        } else if self.below(PAYMENT, &[]) && self.payment_transactions == 0 {
            // Its transfers would get no answer: a payment-level status says nothing per transfer.
            let (element, level) =
                if self.payment.status.is_some() { ("PmtInfSts", &self.payment) } else { ("GrpSts", &self.group) };
            return Err(Iso20022Error::NoTransactions(no_transactions(element, level)).into());
        }
        self.path.pop();
        Ok(())
    }

    /// One transaction read whole: an answer, a not-final note, or an error.
    fn finish(&mut self, tx: Tx) -> Result<(), Pain002Failure> {
        let bad = |problem: String| Pain002Failure::Transaction { position: tx.position, offset: tx.offset, problem };
        let transfer_id = tx.end_to_end.clone().filter(|id| !id.is_empty()).ok_or_else(|| {
            bad("no OrgnlEndToEndId: a status is matched to its transfer by the end-to-end id (the transfer id \
                 the pain.001 file carried)"
                .into())
        })?;
        if let Some(problem) = crate::adapters::platform::results::impossible_transfer_id(&transfer_id) {
            return Err(bad(problem));
        }
        // A transaction without its own status takes its payment's, or else the group's.
        let level = [&tx.level, &self.payment, &self.group].into_iter().find(|l| l.status.is_some()).cloned();
        let Some(Level { status: Some(status), reasons }) = level else {
            return Err(bad(format!("transfer {transfer_id} has no TxSts (nor a payment or group status)")));
        };
        let returned = reasons.iter().flat_map(|r| &r.info).any(|i| i.to_ascii_uppercase().starts_with("RETURNED"));
        let status_now = match status.as_str() {
            "ACSC" | "ACCC" => TransferStatus::Paid,
            "RJCT" if returned => TransferStatus::Returned,
            "RJCT" | "CANC" => TransferStatus::Failed,
            s if NOT_FINAL.contains(&s) => {
                if self.report.not_final.len() < super::NOT_FINAL_KEPT {
                    self.report.not_final.push(NotFinal { line: tx.position, transfer_id, status });
                } else {
                    self.report.not_final_more += 1;
                }
                return Ok(());
            }
            other => {
                return Err(bad(format!(
                    "transfer {transfer_id}: unknown TxSts `{other}`; the engine reads ACSC and ACCC (paid), RJCT \
                     and CANC (not paid) and skips statuses not final yet ({})",
                    NOT_FINAL.join(", ")
                )))
            }
        };
        let fault = (status_now != TransferStatus::Paid).then(|| fault(&reasons));
        self.report.results.push(TransferResult {
            line: tx.position,
            transfer_id,
            status: status_now,
            fault,
            reason: reason_text(&reasons),
        });
        Ok(())
    }
}

fn check_root(name: &str, ns: Option<&str>) -> Result<(), Iso20022Error> {
    if name == "Document" && ns == Some(PAIN002_NS) {
        return Ok(());
    }
    let ns = ns.unwrap_or("no namespace");
    let found = match ns.strip_prefix("urn:iso:std:iso:20022:tech:xsd:") {
        Some(m) if m.starts_with("pain.001") => format!(
            "this is a {m} credit-transfer initiation (the payment file sent to the bank), not the bank's answer"
        ),
        Some(m) if m.starts_with("pain.002") => {
            format!("this is a {m} status report, a version the engine does not read")
        }
        Some(m) => format!("this is an ISO 20022 {m} message, not a payment status report"),
        None => format!("the root element is <{name}> in {ns}"),
    };
    Err(Iso20022Error::WrongMessage { found })
}

/// The engine's fault for the first reason code given (see the module doc).
fn fault(reasons: &[Reason]) -> FaultCode {
    match reasons.iter().find_map(|r| r.code.as_deref()) {
        Some("AC04" | "AC07") => FaultCode::AccountClosed,
        Some("AC01" | "AC03") => FaultCode::AccountInvalid,
        Some("MD07") => FaultCode::Deceased,
        Some("BE01") => FaultCode::NameMismatch,
        Some("BE17") => FaultCode::IdMismatch,
        _ => FaultCode::Other,
    }
}

/// The bank's own words: each reason's code and additional information, `; ` between reasons.
fn reason_text(reasons: &[Reason]) -> Option<String> {
    let parts: Vec<String> = reasons
        .iter()
        .map(|r| {
            let code = r.code.iter().chain(&r.proprietary).map(String::as_str);
            code.chain(r.info.iter().map(String::as_str)).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
        })
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Why a report without transaction statuses is of no use, and what to do instead.
/// `element` is where the status was read (`GrpSts` or `PmtInfSts`).
pub(super) fn no_transactions(element: &str, level: &Level) -> String {
    let reasons = reason_text(&level.reasons).map(|r| format!(", reason {r}")).unwrap_or_default();
    match level.status.as_deref() {
        Some("RJCT") => format!(
            "the bank rejected the payment file as a whole ({element} RJCT{reasons}) and gives no status per \
             transaction: none of its transfers was paid. Ask the bank why; to record the transfers as failed, \
             write a CSV result file"
        ),
        status => format!(
            "the report gives no transaction status ({element} {}{reasons}): the engine needs one status per \
             transfer (OrgnlPmtInfAndSts/TxInfAndSts). Wait for the bank's report per transaction, or write a \
             CSV result file",
            status.unwrap_or("none")
        ),
    }
}
