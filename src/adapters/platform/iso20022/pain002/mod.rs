//! The bank's pain.002.001.12 payment status report, read as the core's
//! [`TransferResult`]s: one per `OrgnlPmtInfAndSts/TxInfAndSts`, matched to its transfer by
//! `OrgnlEndToEndId` (the transfer id the pain.001 carried), `line` being the 1-based position of
//! the TxInfAndSts in the file. Streaming events, one pass, nothing kept but the answers: a file
//! is read from memory ([`pain002_report`]) or as a stream handing out its answers in chunks
//! ([`Pain002Reader`], `reconcile`'s way, whatever the file's size).
//!
//! Statuses (ExternalPaymentTransactionStatus1Code). When a transaction carries no TxSts, the
//! status (and its reasons) of its payment instruction, or else of the group, stands for it.
//! - `ACSC`, `ACCC` (settlement completed): **paid**.
//! - `RJCT`: **failed**, or **returned** by the convention below. `CANC` (cancelled): failed too,
//!   it was not paid.
//! - Not final (`RCVD`, `ACTC`, `ACCP`, `ACFC`, `ACFW`, `ACPD`, `ACSP`, `ACWC`, `ACWP`, `ACIS`,
//!   `PDNG`, `PATC`, `PRES`, `BLCK`): the file says nothing final about that transaction, so it
//!   yields no result and the transfer stays pending (L1 counts it as paid, as it should while the
//!   money may still arrive). It is **skipped, not refused**: a bank's report may answer most
//!   transactions while a few are still in process, and refusing the whole file would hold back
//!   the final answers it does give. Skipping is not silent: [`pain002_report`] lists what was
//!   skipped, for the operator to see; [`pain002`] returns the answers only.
//! - Any other status is an error naming the transaction: an unknown code is not guessed.
//!
//! **Returned payments (退票).** pain.002 has no "returned" status: ISO 20022 returns a settled
//! payment between banks with pacs.004, and tells the customer through its statement (camt.053/
//! camt.054), not a status report. Banks that do report returns in pain.002 send `RJCT` for a
//! transaction they had reported settled. The engine cannot tell that from a plain rejection
//! without a marker, so the convention, to be agreed with the bank, is: TxSts `RJCT` with a
//! `StsRsnInf/AddtlInf` that starts with `RETURNED` (any case), the reason code in
//! `StsRsnInf/Rsn/Cd` as for a rejection. Returns reported only on the statement are entered
//! through the CSV result file.
//!
//! Reason codes (ExternalStatusReason1Code), first `Rsn/Cd` of the transaction:
//! `AC04` closed account, `AC07` closed creditor account: ACCOUNT_CLOSED; `AC01` incorrect account
//! number, `AC03` invalid creditor account number: ACCOUNT_INVALID; `MD07` end customer deceased:
//! DECEASED; `BE01` inconsistent with end customer (the name does not match the account):
//! NAME_MISMATCH; `BE17` creditor identification code missing or invalid (the ID number pain.001
//! sends as `Cdtr/Id/PrvtId`): ID_MISMATCH; every other code, a proprietary `Rsn/Prtry`, or no
//! reason at all: OTHER. The reason text keeps the bank's code and `AddtlInf`, joined, so an OTHER
//! still says what the bank said.
//!
//! Refused files: not UTF-8, malformed XML (line and column), another message (a pain.001, or a
//! pain.002 of another version), a report without any transaction status (a group rejected as a
//! whole, `GrpSts` `RJCT`, included: the engine needs an answer per transfer), a transaction
//! without `OrgnlEndToEndId` or status, an unknown status.

mod status;

use super::{line_col, Iso20022Error};
use crate::adapters::registry_csv::encoding::{TextProblem, TextReader};
use crate::ledger::TransferResult;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use status::{no_transactions, State};
use std::io::{BufRead, BufReader, Read};

/// A pain.002 file as read: the final answers, and the transactions it reports as not final yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pain002Report {
    /// `OrgnlGrpInfAndSts/OrgnlMsgId`: the pain.001 message it answers (the batch id).
    pub original_message: Option<String>,
    /// One per transaction with a final status, in file order.
    pub results: Vec<TransferResult>,
    /// Transactions with a status that is not final: their transfers stay pending. The first
    /// [`NOT_FINAL_KEPT`]; the others are counted in `not_final_more` (an interim report may list
    /// every transfer of a batch).
    pub not_final: Vec<NotFinal>,
    /// Transactions not final beyond those listed.
    pub not_final_more: usize,
}

/// How many transactions not final a report keeps by name.
pub const NOT_FINAL_KEPT: usize = 1_000;

/// A transaction the report says is still in process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFinal {
    /// 1-based position of the TxInfAndSts in the file.
    pub line: u64,
    /// The transfer.
    pub transfer_id: String,
    /// Its status, e.g. `ACSP`.
    pub status: String,
}

/// The final answers of a pain.002.001.12 file; transactions not final yet are skipped (see
/// [`pain002_report`] to list them).
pub fn pain002(bytes: &[u8]) -> Result<Vec<TransferResult>, Iso20022Error> {
    Ok(pain002_report(bytes)?.results)
}

/// Read a pain.002.001.12 file: its final answers and what it reports as not final yet.
pub fn pain002_report(bytes: &[u8]) -> Result<Pain002Report, Iso20022Error> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = Pain002Reader::new(text);
    let mut results = Vec::new();
    loop {
        match reader.next_answers(usize::MAX) {
            Ok(answers) if answers.is_empty() => break,
            Ok(answers) => results.extend(answers),
            Err(failure) => {
                let e = failure.locate(text).expect("a slice reads without error");
                // An offset in the file, byte-order mark included.
                return Err(match e {
                    Iso20022Error::NotUtf8 { offset } => {
                        Iso20022Error::NotUtf8 { offset: offset + bytes.len() - text.len() }
                    }
                    e => e,
                });
            }
        }
    }
    let (original_message, not_final, not_final_more) = reader.finish();
    Ok(Pain002Report { original_message, results, not_final, not_final_more })
}

/// A pain.002.001.12 file read as a stream, its answers handed out in chunks as its transactions
/// are read (`reconcile` stages them): memory holds a block of the file and a chunk of answers.
/// The text is checked to be UTF-8 as it is read; a byte that is not, anywhere in the file, is the
/// file's problem, whatever else is wrong before it.
pub struct Pain002Reader<R: BufRead> {
    reader: NsReader<BufReader<TextReader<R>>>,
    buf: Vec<u8>,
    state: State,
    done: bool,
}

/// Why a pain.002 file was refused, before the line of its problem is counted (a stream keeps no
/// text behind it): [`Pain002Failure::locate`] counts it on the file's text read again.
#[derive(Debug)]
pub enum Pain002Failure {
    /// Said as it is.
    Said(Iso20022Error),
    /// Not well-formed XML at a byte offset (`u64::MAX`: the end of the file).
    Malformed {
        /// Bytes before the problem.
        offset: u64,
        /// What the parser found.
        message: String,
    },
    /// A transaction the engine cannot use, whose TxInfAndSts starts before byte `offset`.
    Transaction {
        /// 1-based position of the TxInfAndSts in the file.
        position: u64,
        /// Bytes up to its start tag.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
}

impl From<Iso20022Error> for Pain002Failure {
    fn from(e: Iso20022Error) -> Self {
        Pain002Failure::Said(e)
    }
}

impl Pain002Failure {
    /// The error, its line (and column) counted on `text`: the text the reader read, from its
    /// start.
    pub fn locate(self, text: impl Read) -> std::io::Result<Iso20022Error> {
        Ok(match self {
            Pain002Failure::Said(e) => e,
            Pain002Failure::Malformed { offset, message } => {
                let (line, column) = line_col(text, offset)?;
                Iso20022Error::Malformed { line, column, message }
            }
            Pain002Failure::Transaction { position, offset, problem } => {
                Iso20022Error::Transaction { position, line: line_col(text, offset)?.0, problem }
            }
        })
    }
}

impl<R: BufRead> Pain002Reader<R> {
    /// Read `text`: the file without its byte-order mark.
    pub fn new(text: R) -> Self {
        let reader = NsReader::from_reader(BufReader::new(TextReader::strict_utf8_as_is(text)));
        Pain002Reader { reader, buf: Vec::new(), state: State::default(), done: false }
    }

    /// The next answers, at least one and about `max`, in file order; none once the file is read
    /// whole (and found a report with transactions).
    pub fn next_answers(&mut self, max: usize) -> Result<Vec<TransferResult>, Pain002Failure> {
        if !self.done {
            if let Err(e) = self.read(max) {
                self.done = true;
                return Err(self.not_utf8().unwrap_or(e));
            }
        }
        Ok(std::mem::take(&mut self.state.report.results))
    }

    /// What the file said besides its answers: the message it answers, the transactions not
    /// final yet (the first [`NOT_FINAL_KEPT`]) and how many more there were.
    pub fn finish(self) -> (Option<String>, Vec<NotFinal>, usize) {
        let report = self.state.report;
        (report.original_message, report.not_final, report.not_final_more)
    }

    /// The first byte that is not UTF-8, read on to the end of the file (it wins over every other
    /// problem: the file is not text).
    fn not_utf8(&mut self) -> Option<Pain002Failure> {
        // A read error here leaves the problem found so far.
        let _ = std::io::copy(self.reader.get_mut(), &mut std::io::sink());
        match self.reader.get_ref().get_ref().problem() {
            Some(TextProblem::NotUtf8 { offset, .. }) => {
                Some(Pain002Failure::Said(Iso20022Error::NotUtf8 { offset: offset as usize }))
            }
            _ => None,
        }
    }

    /// Read events until `max` answers wait or the file ends.
    fn read(&mut self, max: usize) -> Result<(), Pain002Failure> {
        while self.state.report.results.len() < max {
            self.buf.clear();
            let (ns, event) = match self.reader.read_resolved_event_into(&mut self.buf) {
                Ok((ns, event)) => (namespace(ns), event),
                Err(e) => {
                    return Err(Pain002Failure::Malformed {
                        offset: self.reader.error_position(),
                        message: e.to_string(),
                    })
                }
            };
            let offset = self.reader.buffer_position();
            let state = &mut self.state;
            match event {
                Event::Start(e) => state.start(&e, ns, offset)?,
                Event::Empty(e) => {
                    state.start(&e, ns, offset)?;
                    state.end()?;
                }
                Event::End(_) => state.end()?,
                Event::Text(t) => state.text.push_str(&t.xml10_content()),
                Event::CData(t) => state.text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => match (r.resolve_char_ref(), &*r) {
                    (Ok(Some(c)), _) => state.text.push(c),
                    (Ok(None), "lt") => state.text.push('<'),
                    (Ok(None), "gt") => state.text.push('>'),
                    (Ok(None), "amp") => state.text.push('&'),
                    (Ok(None), "apos") => state.text.push('\''),
                    (Ok(None), "quot") => state.text.push('"'),
                    (_, name) => {
                        return Err(Pain002Failure::Malformed { offset, message: format!("unknown entity `&{name};`") })
                    }
                },
                Event::Eof => {
                    self.done = true;
                    return self.end_of_file();
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The file read whole: it must be a report, closed, with transaction statuses.
    fn end_of_file(&mut self) -> Result<(), Pain002Failure> {
        if let Some(f) = self.not_utf8() {
            return Err(f);
        }
        let state = &self.state;
        if let Some(open) = state.path.last() {
            return Err(Pain002Failure::Malformed {
                offset: u64::MAX,
                message: format!("the file ends before </{open}>"),
            });
        }
        if !state.root_seen {
            return Err(Iso20022Error::WrongMessage { found: "the file holds no XML element".into() }.into());
        }
        if state.transactions == 0 {
            return Err(Iso20022Error::NoTransactions(no_transactions("GrpSts", &state.group)).into());
        }
        Ok(())
    }
}

fn namespace(ns: ResolveResult<'_>) -> Option<String> {
    match ns {
        ResolveResult::Bound(ns) => Some(ns.as_ref().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::PAIN002_NS;
    use super::*;
    use crate::ledger::{FaultCode, TransferStatus};
    use FaultCode::*;
    use TransferStatus::*;

    /// A report of `txs` (TxInfAndSts bodies) with group status `group`.
    fn doc(group: &str, txs: &[&str]) -> String {
        let txs: String = txs.iter().map(|t| format!("<TxInfAndSts>{t}</TxInfAndSts>\n")).collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{PAIN002_NS}\"><CstmrPmtStsRpt>\n\
             <GrpHdr><MsgId>S1</MsgId><CreDtTm>2020-08-11T16:30:00+08:00</CreDtTm></GrpHdr>\n\
             <OrgnlGrpInfAndSts><OrgnlMsgId>110102-2020-07-R1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>\
             {group}</OrgnlGrpInfAndSts>\n<OrgnlPmtInfAndSts><OrgnlPmtInfId>110102-2020-07-R1</OrgnlPmtInfId>\n\
             {txs}</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>\n"
        )
    }

    fn tx(id: u32, status: &str, code: &str, info: &str) -> String {
        let reason = match (code, info) {
            ("", "") => String::new(),
            ("", i) => format!("<StsRsnInf><AddtlInf>{i}</AddtlInf></StsRsnInf>"),
            (c, "") => format!("<StsRsnInf><Rsn><Cd>{c}</Cd></Rsn></StsRsnInf>"),
            (c, i) => format!("<StsRsnInf><Rsn><Cd>{c}</Cd></Rsn><AddtlInf>{i}</AddtlInf></StsRsnInf>"),
        };
        format!("<OrgnlEndToEndId>110102-2020-07-R1-{id:06}</OrgnlEndToEndId><TxSts>{status}</TxSts>{reason}")
    }

    fn one(status: &str, code: &str, info: &str) -> TransferResult {
        let mut r = pain002(doc("", &[&tx(1, status, code, info)]).as_bytes()).unwrap();
        assert_eq!(r.len(), 1);
        r.remove(0)
    }

    fn error(xml: &str) -> String {
        pain002(xml.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn settled_transactions_are_paid_without_a_fault() {
        for s in ["ACSC", "ACCC"] {
            let r = one(s, "", "");
            assert_eq!((r.status, r.fault, r.reason, r.line), (Paid, None, None, 1));
            assert_eq!(r.transfer_id, "110102-2020-07-R1-000001");
        }
    }

    #[test]
    fn l3_each_reason_code_maps_to_the_fault_that_corrects_it() {
        let cases = [
            ("AC04", AccountClosed),
            ("AC07", AccountClosed),
            ("AC01", AccountInvalid),
            ("AC03", AccountInvalid),
            ("MD07", Deceased),
            ("BE01", NameMismatch),
            ("BE17", IdMismatch),
            ("AC06", Other),
            ("RR03", Other),
            ("MS03", Other),
        ];
        for (code, fault) in cases {
            let r = one("RJCT", code, "");
            assert_eq!((r.status, r.fault), (Failed, Some(fault)), "{code}");
            assert_eq!(r.reason.as_deref(), Some(code), "the bank's code is kept");
        }
        let r = one("RJCT", "", "");
        assert_eq!((r.status, r.fault, r.reason), (Failed, Some(Other), None), "no reason at all: OTHER");
        let prtry = "<OrgnlEndToEndId>T1</OrgnlEndToEndId><TxSts>CANC</TxSts>\
                     <StsRsnInf><Rsn><Prtry>X99</Prtry></Rsn><AddtlInf>行内原因</AddtlInf></StsRsnInf>";
        let r = pain002(doc("", &[prtry]).as_bytes()).unwrap().remove(0);
        assert_eq!((r.status, r.fault, r.reason.as_deref()), (Failed, Some(Other), Some("X99 行内原因")));
    }

    #[test]
    fn l3_a_rejection_marked_returned_is_a_returned_payment() {
        let r = one("RJCT", "AC04", "returned 退票 &amp; 销户");
        assert_eq!((r.status, r.fault), (Returned, Some(AccountClosed)));
        assert_eq!(r.reason.as_deref(), Some("AC04 returned 退票 & 销户"));
        assert_eq!(one("RJCT", "AC04", "not RETURNED").status, Failed, "only a leading RETURNED marks it");
        assert_eq!(one("ACSC", "", "RETURNED").status, Paid, "only a rejection can be a return");
    }

    #[test]
    fn l1_statuses_not_final_are_skipped_and_listed_the_transfer_stays_pending() {
        let xml =
            doc("<GrpSts>PART</GrpSts>", &[&tx(1, "ACSP", "", ""), &tx(2, "ACSC", "", ""), &tx(3, "PDNG", "", "")]);
        let report = pain002_report(xml.as_bytes()).unwrap();
        assert_eq!(report.original_message.as_deref(), Some("110102-2020-07-R1"));
        assert_eq!(report.results.len(), 1);
        assert_eq!((report.results[0].line, report.results[0].status), (2, Paid));
        let skipped: Vec<(u64, &str)> = report.not_final.iter().map(|n| (n.line, n.status.as_str())).collect();
        assert_eq!(skipped, [(1, "ACSP"), (3, "PDNG")]);
        assert_eq!(pain002(xml.as_bytes()).unwrap(), report.results);
    }

    #[test]
    fn an_interim_report_of_every_transfer_keeps_the_first_thousand_not_final_and_counts_the_rest() {
        let txs: Vec<String> = (1..=NOT_FINAL_KEPT as u32 + 5).map(|n| tx(n, "ACSP", "", "")).collect();
        let xml = doc("", &txs.iter().map(String::as_str).collect::<Vec<_>>());
        let report = pain002_report(xml.as_bytes()).unwrap();
        assert!(report.results.is_empty());
        assert_eq!(report.not_final.len(), NOT_FINAL_KEPT);
        assert_eq!(report.not_final.last().map(|n| n.line), Some(NOT_FINAL_KEPT as u64));
        assert_eq!(report.not_final_more, 5);
    }

    #[test]
    fn read_as_a_stream_the_answers_come_in_chunks_and_the_same() {
        let txs: Vec<String> = (1..=5).map(|n| tx(n, if n == 3 { "ACSP" } else { "ACSC" }, "", "")).collect();
        let xml = doc("", &txs.iter().map(String::as_str).collect::<Vec<_>>());
        let whole = pain002_report(xml.as_bytes()).unwrap();
        let mut reader = Pain002Reader::new(std::io::BufReader::with_capacity(7, xml.as_bytes()));
        let mut chunks = Vec::new();
        loop {
            let chunk = reader.next_answers(2).unwrap();
            if chunk.is_empty() {
                break;
            }
            chunks.push(chunk.iter().map(|r| r.line).collect::<Vec<_>>());
        }
        assert_eq!(chunks, [vec![1, 2], vec![4, 5]]);
        let (message, not_final, more) = reader.finish();
        assert_eq!((message, not_final, more), (whole.original_message, whole.not_final, 0));
    }

    #[test]
    fn a_byte_not_utf8_anywhere_is_the_problem_even_after_another() {
        // An unknown status in the first transaction; a bad byte near the end.
        let mut bytes = doc("", &[&tx(1, "XXXX", "", ""), &tx(2, "ACSC", "", "")]).into_bytes();
        let at = bytes.len() - 40;
        bytes[at] = 0xFF;
        let e = pain002(&bytes).unwrap_err().to_string();
        assert_eq!(e, format!("the file is not UTF-8 (invalid byte at offset {at}); a pain.002 file is read as UTF-8"));
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(&bytes);
        let e = pain002(&with_bom).unwrap_err().to_string();
        assert!(e.contains(&format!("invalid byte at offset {}", at + 3)), "an offset in the file: {e}");
    }

    #[test]
    fn a_transaction_without_its_own_status_takes_its_payment_s_or_the_group_s() {
        let bare = "<OrgnlEndToEndId>T1</OrgnlEndToEndId>";
        let group = "<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf>";
        let r = pain002(doc(group, &[bare]).as_bytes()).unwrap().remove(0);
        assert_eq!((r.status, r.fault), (Failed, Some(AccountClosed)));
        let payment = doc("<GrpSts>RJCT</GrpSts>", &[bare])
            .replace("</OrgnlPmtInfId>", "</OrgnlPmtInfId><PmtInfSts>ACSC</PmtInfSts>");
        assert_eq!(pain002(payment.as_bytes()).unwrap()[0].status, Paid);
        assert!(error(&doc("", &[bare])).contains("transaction 1 (line 6): transfer T1 has no TxSts"));
    }

    #[test]
    fn errors_name_the_transaction_and_what_is_wrong() {
        let xml = doc("", &[&tx(1, "ACSC", "", ""), "<TxSts>ACSC</TxSts>"]);
        assert!(error(&xml).contains("transaction 2 (line 7): no OrgnlEndToEndId"), "{}", error(&xml));
        let xml = doc("", &[&tx(1, "ACSC", "", ""), &tx(2, "XXXX", "", "")]);
        assert!(error(&xml).contains("transaction 2 (line 7): transfer 110102-2020-07-R1-000002: unknown TxSts `XXXX`"));
    }

    #[test]
    fn a_report_without_transaction_statuses_is_refused() {
        let rejected = doc("<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>", &[]);
        let msg = error(&rejected);
        assert!(
            msg.contains("as a whole (GrpSts RJCT, reason FF01)") && msg.contains("none of its transfers was paid"),
            "{msg}"
        );
        let without_payment = rejected
            .replace("<OrgnlPmtInfAndSts><OrgnlPmtInfId>110102-2020-07-R1</OrgnlPmtInfId>\n</OrgnlPmtInfAndSts>", "");
        assert!(!without_payment.contains("OrgnlPmtInfAndSts"));
        assert_eq!(error(&without_payment), msg);
        let payment = rejected.replace("</OrgnlPmtInfId>", "</OrgnlPmtInfId><PmtInfSts>RJCT</PmtInfSts>");
        assert!(error(&payment).contains("as a whole (PmtInfSts RJCT)"), "{}", error(&payment));
        let accepted = doc("<GrpSts>ACTC</GrpSts>", &[]);
        assert!(error(&accepted).contains("no transaction status (GrpSts ACTC)"), "{}", error(&accepted));
    }

    #[test]
    fn malformed_xml_is_refused_with_its_line_and_column() {
        let xml = doc("", &[&tx(1, "ACSC", "", "")]).replace("</TxSts>", "</TxStatus>");
        let msg = error(&xml);
        assert!(msg.starts_with("malformed XML at line 6, column"), "{msg}");
        assert!(error("<Document").starts_with("malformed XML at line 1"), "{}", error("<Document"));
        let cut = &doc("", &[&tx(1, "ACSC", "", "")])[..200];
        assert!(error(cut).starts_with("malformed XML"), "{}", error(cut));
        assert!(error("").contains("holds no XML element"));
        assert!(pain002(b"<a>\xff</a>").unwrap_err().to_string().contains("not UTF-8 (invalid byte at offset 3)"));
    }

    #[test]
    fn another_message_is_refused_a_pain001_by_name() {
        let pain001 = format!("<Document xmlns=\"{}\"><CstmrCdtTrfInitn/></Document>", super::super::PAIN001_NS);
        assert!(error(&pain001).contains("this is a pain.001.001.09 credit-transfer initiation (the payment file sent"));
        let old = doc("", &[]).replace("pain.002.001.12", "pain.002.001.03");
        assert!(error(&old).contains("pain.002.001.03 status report, a version the engine does not read"));
        assert!(error("<Document/>").contains("root element is <Document> in no namespace"));
        // A prefix instead of the default namespace is the same message.
        let prefixed = doc("", &[&tx(1, "ACSC", "", "")])
            .replace("</", "\u{1}")
            .replace('<', "<p:")
            .replace("<p:?xml", "<?xml")
            .replace('\u{1}', "</p:")
            .replace("xmlns=", "xmlns:p=");
        assert_eq!(pain002(prefixed.as_bytes()).unwrap().len(), 1, "{prefixed}");
    }
}
