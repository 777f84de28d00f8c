//! `reconcile`: the platform's answer about a batch's transfers (a result CSV, or an ISO 20022
//! pain.002 status report) recorded: each transfer paid, failed or returned with its reason. A
//! failed or returned transfer's lines stop counting as paid (L1) and wait, held, for their fault
//! to be corrected (L3); DECEASED also stops the person and opens a review. The whole file is
//! checked first and refused whole (nothing recorded) when any answer is for an unknown transfer,
//! a transfer of another district or of a batch not exported, or is a change the platform cannot
//! make (failed → paid without a new batch). The same file twice changes nothing.
//!
//! Memory stays flat whatever the file's size (issue 11): the file is read as a stream (its
//! fingerprint hashed on the way) and its answers staged in the database chunk by chunk
//! ([`AnswerStage`]), then checked page by page in file order ([`check`]), keeping counts, the
//! batches, the few changes that are not payments and the problems; the payments are recorded by
//! one set-based statement that must move exactly the transfers the check counted.

mod check;

pub use check::{Check, ResultFormat, ResultPlan};

use super::{audit_entry, OpsError, OpsResult};
use crate::adapters::platform::iso20022::{Iso20022Error, Pain002Failure, Pain002Reader};
use crate::adapters::platform::results::{FileProblem, Problems, ResultRows, Unread};
use crate::adapters::registry_csv::encoding::Encoding;
use crate::clock::Clock;
use crate::idcard::mask;
use crate::ledger::{FaultCode, TransferStatus};
use crate::money::format_fen;
use crate::store::{AnswerStage, PlatformStore, StagedAnswer};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, BufReader, Cursor, Read as _};
use std::path::Path;

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
    /// pending until a report with a final status. The first 1,000.
    pub not_final: Vec<(String, String)>,
    /// Transfers still in process beyond those listed.
    pub not_final_more: usize,
    /// Recovery items (payment keys, masked) cancelled because the bank returned the payment they
    /// recover: the money came back, the person owes nothing for it.
    pub cancelled_recoveries: Vec<String>,
}

/// How many answers go to the database per chunk, and are checked per page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    /// Answers staged at a time.
    pub chunk: usize,
    /// Answers checked at a time.
    pub page: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Paging { chunk: 5_000, page: 5_000 }
    }
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
    reconcile_in(s, file, encoding, district, by, clock, Paging::default()).await
}

/// [`reconcile`], staging and checking the answers `paging` at a time.
pub async fn reconcile_in<S: PlatformStore>(
    s: &S,
    file: &Path,
    encoding: Encoding,
    district: Option<&str>,
    by: &str,
    clock: Clock,
    paging: Paging,
) -> OpsResult<Reconciled> {
    let started = std::time::Instant::now();
    let name = file.display().to_string();
    let mut stage = s.stage_answers().await?;
    let read = stage_file(&mut stage, file, &name, encoding, paging.chunk).await?;
    stage.seal().await?;
    let mut rows = read.problems;
    // A transfer answered for meanwhile (another reconcile) makes the write refuse: check again.
    for _ in 0..3 {
        let mut check = Check::new(read.format, district, read.of_message.as_deref());
        let mut after = 0;
        loop {
            let page = stage.page(after, paging.page.max(1) as i64).await?;
            let Some(last) = page.last() else { break };
            after = last.answer.line();
            page.iter().for_each(|a| check.answer(a));
        }
        let plan = check.finish(std::mem::take(&mut rows)).map_err(|p| refused(&name, p))?;
        let mut out = Reconciled {
            file: name.clone(),
            format: read.format,
            district_code: plan.district.clone(),
            batches: plan.batches.iter().cloned().collect(),
            answers: read.answers,
            unchanged: plan.unchanged,
            recorded: plan.recorded.clone(),
            holds: plan
                .others
                .iter()
                .map(|c| (mask(&c.id_number), c.fault.unwrap_or(FaultCode::Other), c.transfer_id.clone()))
                .collect(),
            not_final: read.not_final.clone(),
            not_final_more: read.not_final_more,
            cancelled_recoveries: Vec::new(),
        };
        if plan.paid == 0 && plan.others.is_empty() {
            return Ok(out);
        }
        let details = json!({
            "format": read.format,
            "district_code": plan.district,
            "batches": out.batches,
            "answers": read.answers,
            "unchanged": plan.unchanged,
            "recorded": out.recorded.iter().map(|(st, (n, fen))| (st.as_str(), json!({"transfers": n, "amount": format_fen(*fen)}))).collect::<BTreeMap<_, _>>(),
        });
        let entry = audit_entry(by, "reconcile", &name, "", read.fingerprint.clone(), details);
        match stage.record(&plan.district, plan.paid, &plan.others, by, &entry, clock.now()).await {
            Ok(Some(cancelled)) => {
                out.cancelled_recoveries = cancelled.iter().map(|k| crate::idcard::mask_key(k)).collect();
                tracing::info!(
                    answers = read.answers,
                    paid = plan.paid,
                    others = plan.others.len(),
                    unchanged = plan.unchanged,
                    ms = started.elapsed().as_millis() as u64,
                    "reconciled"
                );
                return Ok(out);
            }
            // Changed meanwhile, or collided with another writer (nothing written): check again.
            Ok(None) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpsError::Usage(format!(
        "the transfers of {name} kept changing while it was recorded (another reconcile?): run it again"
    )))
}

/// The file refused whole for `problems`.
fn refused(name: &str, problems: Problems) -> OpsError {
    OpsError::ResultFile {
        file: name.to_string(),
        problems: problems.kept.iter().map(ToString::to_string).collect(),
        more: problems.more,
    }
}

/// What reading a file staged, and what it said besides.
struct FileRead {
    format: ResultFormat,
    /// Answers staged.
    answers: usize,
    /// Problems of rows that staged nothing (the header, rows naming no transfer).
    problems: Problems,
    /// The message (batch) a pain.002 report answers, if it names one.
    of_message: Option<String>,
    /// Transfers a pain.002 report says are still in process, with their status: they stay pending.
    not_final: Vec<(String, String)>,
    /// And how many more.
    not_final_more: usize,
    /// SHA-256 of the file's bytes.
    fingerprint: String,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Read the file as a stream, staging its answers `chunk` at a time: a pain.002 status report when
/// it is XML (its first character, after a byte-order mark, is `<`), the result CSV otherwise.
async fn stage_file<A: AnswerStage>(
    stage: &mut A,
    file: &Path,
    name: &str,
    encoding: Encoding,
    chunk: usize,
) -> OpsResult<FileRead> {
    let unreadable = |source: io::Error| OpsError::Unreadable { path: file.to_path_buf(), source };
    let whole = |problem: FileProblem| refused(name, Problems { kept: vec![problem], more: 0 });
    let mut source = Fingerprint::new(std::fs::File::open(file).map_err(unreadable)?);
    let (head, xml) = sniff(&mut source).map_err(unreadable)?;
    let bom = head.starts_with(BOM);
    let without_bom = if bom { head[BOM.len()..].to_vec() } else { head.clone() };
    let chunk = chunk.max(1);
    let mut answers = 0;
    let mut read = if xml {
        let mut reader = Pain002Reader::new(BufReader::new(Cursor::new(without_bom).chain(&mut source)));
        loop {
            match reader.next_answers(chunk) {
                Ok(a) if a.is_empty() => break,
                Ok(a) => {
                    answers += a.len();
                    stage.add(&a.into_iter().map(StagedAnswer::Answer).collect::<Vec<_>>()).await?;
                }
                Err(failure) => {
                    let e = locate(file, bom, failure).map_err(unreadable)?;
                    return Err(whole(FileProblem { line: 0, message: e.to_string() }));
                }
            }
        }
        let (of_message, not_final, not_final_more) = reader.finish();
        FileRead {
            format: ResultFormat::Pain002,
            answers,
            problems: Problems::default(),
            of_message,
            not_final: not_final.into_iter().map(|n| (n.transfer_id, n.status)).collect(),
            not_final_more,
            fingerprint: String::new(),
        }
    } else {
        // GB18030 is decoded as it is, byte-order mark and all (as Excel saves it, it has none).
        let text = if encoding == Encoding::Utf8 { without_bom } else { head };
        let unread = |u: Unread| match u {
            Unread::Refused(problems) => refused(name, Problems { kept: problems, more: 0 }),
            Unread::Io(e) => unreadable(e),
        };
        let mut rows =
            ResultRows::open(BufReader::new(Cursor::new(text).chain(&mut source)), encoding).map_err(unread)?;
        loop {
            let staged = rows.next_rows(chunk).map_err(unread)?;
            if staged.is_empty() {
                break;
            }
            answers += staged.len();
            stage.add(&staged).await?;
        }
        FileRead {
            format: ResultFormat::Csv,
            answers,
            problems: rows.finish(),
            of_message: None,
            not_final: Vec::new(),
            not_final_more: 0,
            fingerprint: String::new(),
        }
    };
    // What a reader left unread (nothing, for a file read whole) still counts.
    io::copy(&mut source, &mut io::sink()).map_err(unreadable)?;
    read.fingerprint = source.finish();
    Ok(read)
}

/// The file's first bytes, up to its first that is not whitespace after a UTF-8 byte-order mark,
/// and whether that one is `<` (XML).
fn sniff(r: &mut impl io::Read) -> io::Result<(Vec<u8>, bool)> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while r.read(&mut byte)? == 1 {
        head.push(byte[0]);
        if head.len() < BOM.len() && BOM.starts_with(&head) {
            continue;
        }
        let body = head.strip_prefix(BOM).unwrap_or(&head);
        if let Some(first) = body.iter().find(|b| !b.is_ascii_whitespace()) {
            let xml = *first == b'<';
            return Ok((head, xml));
        }
    }
    Ok((head, false))
}

/// A pain.002 failure with its line, counted on the file read again (a stream keeps no text).
fn locate(file: &Path, bom: bool, failure: Pain002Failure) -> io::Result<Iso20022Error> {
    let mut text = BufReader::new(std::fs::File::open(file)?);
    if bom {
        text.read_exact(&mut [0u8; 3])?;
    }
    failure.locate(text)
}

/// A file's bytes as read, hashed on the way: the audit entry's fingerprint, SHA-256 of the file.
struct Fingerprint<R> {
    inner: BufReader<R>,
    hash: Sha256,
}

impl<R: io::Read> Fingerprint<R> {
    fn new(inner: R) -> Self {
        Fingerprint { inner: BufReader::with_capacity(64 * 1024, inner), hash: Sha256::new() }
    }

    /// Lower-case hex SHA-256 of every byte read.
    fn finish(self) -> String {
        hex::encode(self.hash.finalize())
    }
}

impl<R: io::Read> io::Read for Fingerprint<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}
