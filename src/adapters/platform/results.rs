//! The platform's result file (INTERFACE.md "Platform result file"), read for `reconcile`:
//! `transfer_id,status,reason_code` and an optional `reason`, in any column order, UTF-8 (a
//! byte-order mark is allowed) or GB18030 as Excel on Chinese Windows saves it, CRLF or LF. Every
//! row is checked before anything is stored; a file with any bad row is refused whole, each
//! problem named by its line.

use crate::adapters::registry_csv::encoding::Encoding;
use crate::ledger::{FaultCode, TransferResult, TransferStatus};
use std::collections::BTreeMap;

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

/// The file's text: UTF-8 without its byte-order mark, or GB18030 decoded; CRLF and CR as LF.
fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, FileProblem> {
    let text = match encoding {
        Encoding::Utf8 => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(bytes).map(str::to_string).map_err(|e| {
                let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
                problem(line, "not UTF-8 (Excel on Chinese Windows saves GB18030): read it with `--encoding gb18030`")
            })?
        }
        Encoding::Gb18030 => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|t| t.into_owned())
            .ok_or_else(|| problem(0, "not GB18030 text: if it is UTF-8, read it without `--encoding`"))?,
    };
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Read a result file. Every row's problems are gathered; any problem refuses the whole file.
pub fn read_results_csv(bytes: &[u8], encoding: Encoding) -> Result<Vec<TransferResult>, Vec<FileProblem>> {
    let text = decode(bytes, encoding).map_err(|p| vec![p])?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => return Err(vec![problem(1, format!("cannot read the header: {e}"))]),
    };
    let column = |name: &str| header.iter().position(|c| c == name);
    let mut problems = Vec::new();
    for c in &header {
        if !["transfer_id", "status", "reason_code", "reason"].contains(&c.as_str()) {
            problems.push(problem(
                1,
                format!("unknown column `{c}`: the columns are transfer_id,status,reason_code[,reason]"),
            ));
        }
    }
    let (Some(id_col), Some(status_col), Some(code_col)) =
        (column("transfer_id"), column("status"), column("reason_code"))
    else {
        problems.push(problem(1, "the header must name transfer_id, status and reason_code (reason is optional)"));
        return Err(problems);
    };
    let reason_col = column("reason");
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(problem(line, format!("not a CSV row of {} columns: {e}", header.len())));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let id = cell(id_col);
        if !id.is_empty() {
            if let Some(first) = seen.insert(id.clone(), line) {
                problems.push(problem(
                    line,
                    format!("transfer {id} is listed again (first at line {first}): one answer per transfer"),
                ));
                continue;
            }
        }
        match row(line, &id, &cell(status_col), &cell(code_col), reason_col.map(cell)) {
            Ok(result) => out.push(result),
            Err(message) => problems.push(problem(line, message)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// One row: a transfer id, a final status, a reason code exactly for failed and returned.
fn row(line: u64, id: &str, status: &str, code: &str, reason: Option<String>) -> Result<TransferResult, String> {
    if id.is_empty() {
        return Err("transfer_id is empty".into());
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
    fn a_file_without_the_columns_is_refused() {
        let err = read_results_csv(b"id,state\nT1,paid\n", Encoding::Utf8).unwrap_err();
        assert!(err.iter().any(|p| p.message.contains("unknown column `id`")));
        assert!(err.iter().any(|p| p.message.contains("must name transfer_id, status and reason_code")));
    }
}
