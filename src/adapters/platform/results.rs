//! The platform's result file (INTERFACE.md "Platform result file"), read for `reconcile`:
//! `transfer_id,status,reason_code` and an optional `reason`, in any column order, UTF-8 (a
//! byte-order mark is allowed) or GB18030 as Excel on Chinese Windows saves it, CRLF or LF. Every
//! row is checked before anything is stored; a file with any bad row is refused whole, each
//! problem named by its line. Read as a stream ([`ResultRows`]): memory holds a block of the file,
//! whatever its size.

use crate::adapters::registry_csv::encoding::{Encoding, TextProblem, TextReader};
use crate::ledger::{FaultCode, TransferResult, TransferStatus};
use crate::store::StagedAnswer;
use std::collections::BTreeMap;
use std::io::BufRead;

/// A problem of a result file, by line (line 1 is the header; 0: the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// Line in the file.
    pub line: u64,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

fn problem(line: u64, message: impl Into<String>) -> FileProblem {
    FileProblem { line, message: message.into() }
}

/// Problems of a file kept to report; beyond these, only counted (the file is refused anyway).
pub const PROBLEMS_KEPT: usize = 1000;

/// A file's problems in line order: the first [`PROBLEMS_KEPT`], and how many more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems {
    /// The first ones.
    pub kept: Vec<FileProblem>,
    /// How many more there are.
    pub more: usize,
}

impl Problems {
    /// Add a problem after those added before (in line order).
    pub fn push(&mut self, p: FileProblem) {
        if self.kept.len() < PROBLEMS_KEPT {
            self.kept.push(p);
        } else {
            self.more += 1;
        }
    }

    /// None at all.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Both lists (each in line order) as one, in line order, `self`'s first on the same line.
    pub fn merge(self, other: Problems) -> Problems {
        let more = self.more + other.more;
        let (mut a, mut b) = (self.kept.into_iter().peekable(), other.kept.into_iter().peekable());
        let mut out = Problems::default();
        while let Some(next) = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if y.line < x.line => b.next(),
            (Some(_), _) => a.next(),
            (None, _) => b.next(),
        } {
            out.push(next);
        }
        out.more += more;
        out
    }
}

/// Why a result file cannot be read on.
#[derive(Debug)]
pub enum Unread {
    /// Refused as a whole, for these problems (it is not text of its encoding, or lacks a column).
    Refused(Vec<FileProblem>),
    /// The file could not be read.
    Io(std::io::Error),
}

/// A result file read row by row as it is decoded (the text checked as it goes, CRLF and CR as
/// LF): memory holds a block of the file and the rows in hand. Rows that name a transfer come out
/// as [`StagedAnswer`]s, an unreadable one with its problem; whether a transfer is named twice is
/// for the reader of all of them to say (`reconcile` asks the database; [`read_results_csv`] a
/// map). The problems of the header and of rows naming no transfer are gathered here.
pub struct ResultRows<R: BufRead> {
    reader: csv::Reader<TextReader<R>>,
    columns: usize,
    id: usize,
    status: usize,
    code: usize,
    reason: Option<usize>,
    record: csv::StringRecord,
    problems: Problems,
}

impl<R: BufRead> ResultRows<R> {
    /// Read the header of `text` (UTF-8 without its byte-order mark, or GB18030 as it is). A header
    /// without the columns refuses the file at once, as does text that is not in `encoding`
    /// (anywhere in the file: that is its only problem then).
    pub fn open(text: R, encoding: Encoding) -> Result<Self, Unread> {
        let mut reader =
            csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(TextReader::strict(text, encoding));
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
            Err(e) => return Err(refused(&mut reader, vec![problem(1, format!("cannot read the header: {e}"))])),
        };
        let column = |name: &str| header.iter().position(|c| c == name);
        let mut problems = Problems::default();
        for c in &header {
            if !["transfer_id", "status", "reason_code", "reason"].contains(&c.as_str()) {
                problems.push(problem(
                    1,
                    format!("unknown column `{c}`: the columns are transfer_id,status,reason_code[,reason]"),
                ));
            }
        }
        let (Some(id), Some(status), Some(code)) = (column("transfer_id"), column("status"), column("reason_code"))
        else {
            problems.push(problem(1, "the header must name transfer_id, status and reason_code (reason is optional)"));
            return Err(refused(&mut reader, problems.kept));
        };
        let (columns, reason) = (header.len(), column("reason"));
        Ok(ResultRows { reader, columns, id, status, code, reason, record: csv::StringRecord::new(), problems })
    }

    /// The next rows naming a transfer, about `max`, in file order; none at the end of the file.
    pub fn next_rows(&mut self, max: usize) -> Result<Vec<StagedAnswer>, Unread> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => match self.reader.get_ref().problem() {
                    Some(p) => return Err(Unread::Refused(vec![text_problem(p)])),
                    None => break,
                },
                Err(e) if e.is_io_error() => match e.into_kind() {
                    csv::ErrorKind::Io(e) => return Err(Unread::Io(e)),
                    kind => unreachable!("an I/O error: {kind:?}"),
                },
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    self.problems.push(problem(line, format!("not a CSV row of {} columns: {e}", self.columns)));
                    continue;
                }
            }
            let line = self.record.position().map_or(0, |p| p.line());
            let record = &self.record;
            let cell = |i: usize| record.get(i).unwrap_or("").trim().to_string();
            let id = cell(self.id);
            let answer = row(line, &id, &cell(self.status), &cell(self.code), self.reason.map(cell));
            match answer {
                Ok(result) => out.push(StagedAnswer::Answer(result)),
                // Staged to find the transfer's other lines; an id no transfer can have is not.
                Err(problem) if !id.is_empty() && id.len() <= TRANSFER_ID_MAX => {
                    out.push(StagedAnswer::Unreadable { line, transfer_id: id, problem })
                }
                Err(message) => self.problems.push(problem(line, message)),
            }
        }
        Ok(out)
    }

    /// The problems of the header and of the rows that name no transfer, in line order.
    pub fn finish(self) -> Problems {
        self.problems
    }
}

/// A file refused for `problems`, unless its text is not in its encoding (read on to its end to
/// know): then for that alone.
fn refused<R: BufRead>(reader: &mut csv::Reader<TextReader<R>>, problems: Vec<FileProblem>) -> Unread {
    if let Err(e) = std::io::copy(reader.get_mut(), &mut std::io::sink()) {
        return Unread::Io(e);
    }
    match reader.get_ref().problem() {
        Some(p) => Unread::Refused(vec![text_problem(p)]),
        None => Unread::Refused(problems),
    }
}

fn text_problem(p: TextProblem) -> FileProblem {
    match p {
        TextProblem::NotUtf8 { line, .. } => {
            problem(line, "not UTF-8 (Excel on Chinese Windows saves GB18030): read it with `--encoding gb18030`")
        }
        TextProblem::NotGb18030 => problem(0, "not GB18030 text: if it is UTF-8, read it without `--encoding`"),
    }
}

/// Read a result file whole, from memory (tests, small files): every row's problems gathered,
/// any problem refusing the whole file, a transfer listed twice among them.
pub fn read_results_csv(bytes: &[u8], encoding: Encoding) -> Result<Vec<TransferResult>, Vec<FileProblem>> {
    let text = match encoding {
        Encoding::Utf8 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
        Encoding::Gb18030 => bytes,
    };
    let unread = |u: Unread| match u {
        Unread::Refused(problems) => problems,
        Unread::Io(e) => vec![problem(0, e.to_string())],
    };
    let mut rows = ResultRows::open(text, encoding).map_err(unread)?;
    let (mut seen, mut listed_again, mut out) = (BTreeMap::new(), Problems::default(), Vec::new());
    loop {
        let chunk = rows.next_rows(usize::MAX).map_err(unread)?;
        if chunk.is_empty() {
            break;
        }
        for answer in chunk {
            let line = answer.line();
            if let Some(first) = seen.insert(answer.transfer_id().to_string(), line) {
                let message = format!(
                    "transfer {} is listed again (first at line {first}): one answer per transfer",
                    answer.transfer_id()
                );
                listed_again.push(problem(line, message));
                continue;
            }
            match answer {
                StagedAnswer::Answer(result) => out.push(result),
                StagedAnswer::Unreadable { line, problem: message, .. } => listed_again.push(problem(line, message)),
            }
        }
    }
    let problems = rows.finish().merge(listed_again);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.kept)
    }
}

/// The longest transfer id: pain.001's EndToEndId is at most 35 characters (Max35Text), and the
/// engine's ids are shorter (INTERFACE.md: the batch id and a sequence number).
pub const TRANSFER_ID_MAX: usize = 35;

/// Why `id` cannot be a transfer id of this engine, if it cannot.
pub fn impossible_transfer_id(id: &str) -> Option<String> {
    (id.len() > TRANSFER_ID_MAX).then(|| {
        let start: String = id.chars().take(20).collect();
        format!("transfer_id `{start}…` is {} bytes long: no transfer id is longer than {TRANSFER_ID_MAX}", id.len())
    })
}

/// One row: a transfer id, a final status, a reason code exactly for failed and returned.
fn row(line: u64, id: &str, status: &str, code: &str, reason: Option<String>) -> Result<TransferResult, String> {
    if id.is_empty() {
        return Err("transfer_id is empty".into());
    }
    if let Some(problem) = impossible_transfer_id(id) {
        return Err(problem);
    }
    let status = match TransferStatus::parse(status) {
        Some(TransferStatus::Pending) | None => {
            return Err(format!("status `{status}` is not one of paid, failed, returned"));
        }
        Some(s) => s,
    };
    let fault = match (status, code) {
        (TransferStatus::Paid, "") => None,
        (TransferStatus::Paid, c) => return Err(format!("a paid transfer has no reason_code (found `{c}`)")),
        (_, "") => {
            return Err(format!(
                "a {status} transfer needs a reason_code: one of {}",
                FaultCode::ALL.map(FaultCode::as_str).join(", ")
            ))
        }
        (_, c) => Some(FaultCode::parse(c).ok_or_else(|| {
            format!("reason_code `{c}` is not one of {}", FaultCode::ALL.map(FaultCode::as_str).join(", "))
        })?),
    };
    let reason = reason.filter(|r| !r.is_empty());
    Ok(TransferResult { line, transfer_id: id.to_string(), status, fault, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_in_any_column_order_with_bom_and_crlf() {
        let file = "\u{feff}status,transfer_id,reason_code,reason\r\npaid,T1,,\r\nfailed,T2,ACCOUNT_CLOSED,销户\r\n";
        let rows = read_results_csv(file.as_bytes(), Encoding::Utf8).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].status, rows[0].fault), (2, TransferStatus::Paid, None));
        assert_eq!(rows[1].fault, Some(FaultCode::AccountClosed));
        assert_eq!(rows[1].reason.as_deref(), Some("销户"));
    }

    #[test]
    fn reads_gb18030() {
        let text = "transfer_id,status,reason_code,reason\nT2,returned,DECEASED,持卡人死亡\n";
        let rows = read_results_csv(&Encoding::Gb18030.encode(text), Encoding::Gb18030).unwrap();
        assert_eq!(rows[0].reason.as_deref(), Some("持卡人死亡"));
        let err = read_results_csv(&Encoding::Gb18030.encode(text), Encoding::Utf8).unwrap_err();
        assert!(err[0].message.contains("--encoding gb18030"), "{err:?}");
    }

    #[test]
    fn every_bad_row_is_named_by_its_line() {
        let file = "transfer_id,status,reason_code\nT1,paid,AC04\nT2,failed,\nT3,bounced,\nT4,failed,CLOSED\nT1,paid,\n,paid,\n";
        let err = read_results_csv(file.as_bytes(), Encoding::Utf8).unwrap_err();
        let lines: Vec<u64> = err.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7], "{err:?}");
        assert!(err[4].message.contains("listed again (first at line 2)"));
    }

    #[test]
    fn problems_keep_the_first_in_line_order_and_count_the_rest() {
        let at = |line| problem(line, "x");
        let mut a = Problems::default();
        for line in (2..2 * PROBLEMS_KEPT as u64 + 2).step_by(2) {
            a.push(at(line));
        }
        a.push(at(9_999_999));
        let b = Problems { kept: vec![at(1), at(3)], more: 4 };
        let merged = a.merge(b);
        let lines: Vec<u64> = merged.kept.iter().take(4).map(|p| p.line).collect();
        assert_eq!(lines, [1, 2, 3, 4]);
        assert_eq!(merged.kept.len(), PROBLEMS_KEPT);
        assert_eq!(merged.kept.len() + merged.more, PROBLEMS_KEPT + 1 + 2 + 4, "every problem counted");
    }

    #[test]
    fn a_transfer_id_longer_than_any_transfer_has_is_a_problem_of_its_line_not_staged() {
        let long = "T".repeat(TRANSFER_ID_MAX + 1);
        let fits = "T".repeat(TRANSFER_ID_MAX);
        let file = format!("transfer_id,status,reason_code\n{long},paid,\n{fits},paid,\n{long},bounced,\n");
        let mut rows = ResultRows::open(file.as_bytes(), Encoding::Utf8).unwrap();
        let staged = rows.next_rows(10).unwrap();
        let ids: Vec<&str> = staged.iter().map(StagedAnswer::transfer_id).collect();
        assert_eq!(ids, [fits.as_str()], "only the id a transfer can have is staged");
        let problems = rows.finish();
        let lines: Vec<u64> = problems.kept.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 4]);
        assert!(
            problems.kept[0].message.contains("36 bytes long: no transfer id is longer than 35"),
            "{:?}",
            problems.kept
        );
    }

    #[test]
    fn a_file_without_the_columns_is_refused() {
        let err = read_results_csv(b"id,state\nT1,paid\n", Encoding::Utf8).unwrap_err();
        assert!(err.iter().any(|p| p.message.contains("unknown column `id`")));
        assert!(err.iter().any(|p| p.message.contains("must name transfer_id, status and reason_code")));
        // Unless it is not UTF-8: then that is its one problem, wherever it is.
        let err = read_results_csv(b"id,state\nT1,paid\nT2,\xFF\n", Encoding::Utf8).unwrap_err();
        assert_eq!(
            err,
            vec![problem(3, "not UTF-8 (Excel on Chinese Windows saves GB18030): read it with `--encoding gb18030`")]
        );
    }

    #[test]
    fn rows_come_out_chunk_by_chunk_with_the_unreadable_ones() {
        let file = "transfer_id,status,reason_code\nT1,paid,\nT2,failed,\n,paid,\nT3,paid,\n\"x\n";
        let mut rows = ResultRows::open(file.as_bytes(), Encoding::Utf8).unwrap();
        let first = rows.next_rows(2).unwrap();
        assert_eq!(first.iter().map(StagedAnswer::line).collect::<Vec<_>>(), [2, 3]);
        assert!(matches!(&first[1], StagedAnswer::Unreadable { transfer_id, .. } if transfer_id == "T2"));
        let second = rows.next_rows(2).unwrap();
        assert_eq!(second.iter().map(StagedAnswer::line).collect::<Vec<_>>(), [5], "line 4 names no transfer");
        assert!(rows.next_rows(2).unwrap().is_empty());
        let lines: Vec<u64> = rows.finish().kept.iter().map(|p| p.line).collect();
        assert_eq!(lines, [4, 6], "no transfer id; not a CSV row");
    }
}
