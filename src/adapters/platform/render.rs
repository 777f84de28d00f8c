//! What each platform file says, row by row: a row of the database rendered into a record is a
//! pure function, and a file is written as its rows come, one at a time, into any
//! [`Write`](std::io::Write) (a temporary file when exporting, a comparison with the folder's file
//! when verifying, memory in tests). Nothing here holds more than a few rows, so that a batch of
//! any size is written in constant memory; the totals the payment order needs are added up on the
//! way ([`Totals`]).

use crate::adapters::registry_csv::encoding::Encoding;
use crate::money::format_fen;
use crate::store::{BatchRow, LinesOf, PostingRow, TransferRow};
use serde_json::json;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The four CSV files, in the order they are written and listed in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvFile {
    /// `<batch>-transfers.csv`
    Transfers,
    /// `<batch>-lines.csv`
    Lines,
    /// `<batch>-held.csv`
    Held,
    /// `<batch>-recoveries.csv`
    Recoveries,
}

impl CsvFile {
    /// In the order they are written.
    pub const ALL: [CsvFile; 4] = [CsvFile::Transfers, CsvFile::Lines, CsvFile::Held, CsvFile::Recoveries];

    /// The file's name for a batch.
    pub fn name(self, batch_id: &str) -> String {
        let suffix = match self {
            CsvFile::Transfers => "transfers",
            CsvFile::Lines => "lines",
            CsvFile::Held => "held",
            CsvFile::Recoveries => "recoveries",
        };
        format!("{batch_id}-{suffix}.csv")
    }

    /// The header row (INTERFACE.md).
    pub fn header(self) -> &'static [&'static str] {
        match self {
            CsvFile::Transfers => {
                &["transfer_id", "id_number", "name", "account_type", "account_no", "allowance", "amount"]
            }
            CsvFile::Lines => &[
                "transfer_id",
                "payment_key",
                "id_number",
                "allowance",
                "tier",
                "service_month",
                "line_type",
                "amount",
                "lottery_amount",
                "district_amount",
                "street_code",
            ],
            CsvFile::Held | CsvFile::Recoveries => {
                &["id_number", "name", "allowance", "service_month", "amount", "reason"]
            }
        }
    }

    /// The postings the file lists; none for `transfers.csv`.
    pub fn lines_of(self) -> Option<LinesOf> {
        match self {
            CsvFile::Transfers => None,
            CsvFile::Lines => Some(LinesOf::Paid),
            CsvFile::Held => Some(LinesOf::Held),
            CsvFile::Recoveries => Some(LinesOf::Recovered),
        }
    }

    /// How many leading columns the store already orders the rows by (byte order,
    /// [`BatchRows`](crate::store::BatchRows)): the writer sorts only the rows equal on them.
    /// Transfer ids and payment keys are unique; a person's held months and recovery items are
    /// sorted here.
    fn sorted_by(self) -> usize {
        match self {
            CsvFile::Transfers | CsvFile::Held | CsvFile::Recoveries => 1,
            CsvFile::Lines => 2,
        }
    }

    /// A posting this file lists, as its record.
    pub fn posting_record(self, p: &PostingRow) -> Vec<String> {
        match self {
            CsvFile::Transfers => unreachable!("transfers.csv lists transfers"),
            CsvFile::Lines => vec![
                opt(&p.transfer_id),
                p.payment_key.clone(),
                p.id_number.clone(),
                p.allowance.clone(),
                p.tier.clone(),
                p.service_month.clone(),
                p.line_type.as_str().to_string(),
                format_fen(p.amount_fen),
                format_fen(p.lottery_fen),
                format_fen(p.district_fen),
                p.street_code.clone(),
            ],
            CsvFile::Held => {
                person_line(p, p.amount_fen, p.held_reason.map(|h| h.as_str().to_string()).unwrap_or_default())
            }
            // A recovery item is stored as a negative line; the file lists what the person owes back.
            CsvFile::Recoveries => person_line(p, -p.amount_fen, opt(&p.recovery_reason)),
        }
    }
}

/// A transfer as its `transfers.csv` record.
pub fn transfer_record(t: &TransferRow) -> Vec<String> {
    vec![
        t.transfer_id.clone(),
        t.id_number.clone(),
        t.name.clone(),
        opt(&t.account_type),
        t.account_no.clone(),
        t.allowance.clone(),
        format_fen(t.amount_fen),
    ]
}

/// A line by person (`held.csv`, `recoveries.csv`): who, which allowance and month, the amount
/// and the reason.
fn person_line(p: &PostingRow, amount_fen: i64, reason: String) -> Vec<String> {
    vec![
        p.id_number.clone(),
        p.name.clone(),
        p.allowance.clone(),
        p.service_month.clone(),
        format_fen(amount_fen),
        reason,
    ]
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// A row that came out of the byte order of its file's first columns: the store's order is not
/// the file's, and writing on would give other bytes than INTERFACE.md's order.
#[derive(Debug, thiserror::Error)]
#[error("row {row} of {file} came out of byte order")]
pub struct OutOfOrder {
    /// The file.
    pub file: String,
    /// 1-based data row.
    pub row: u64,
}

/// Why a row could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The file could not be written.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The rows did not come in the file's order.
    #[error(transparent)]
    Order(#[from] OutOfOrder),
}

/// A CSV file written row by row, sorted by byte order of its columns (INTERFACE.md), into `W`
/// in the export's encoding. Rows come ordered by the file's leading columns; those equal on them
/// wait in memory (a few: one person's) until sorted and written.
pub struct CsvOut<W: Write> {
    file: CsvFile,
    name: String,
    out: csv::Writer<Encoded<Tally<W>>>,
    rows: u64,
    group: Vec<Vec<String>>,
}

impl<W: Write> CsvOut<W> {
    /// Start `file` of `batch_id` in `out`: the header first.
    pub fn start(file: CsvFile, batch_id: &str, out: W, encoding: Encoding) -> io::Result<CsvOut<W>> {
        let encoded = Encoded { out: Tally::new(out), encoding, pending: Vec::new() };
        let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(encoded);
        out.write_record(file.header())?;
        Ok(CsvOut { file, name: file.name(batch_id), out, rows: 0, group: Vec::new() })
    }

    /// The next row, in the order of the file's leading columns ([`CsvFile::sorted_by`]).
    pub fn push(&mut self, row: Vec<String>) -> Result<(), PushError> {
        self.rows += 1;
        let k = self.file.sorted_by();
        if let Some(last) = self.group.last() {
            match row[..k].cmp(&last[..k]) {
                std::cmp::Ordering::Less => return Err(OutOfOrder { file: self.name.clone(), row: self.rows }.into()),
                std::cmp::Ordering::Equal => {}
                std::cmp::Ordering::Greater => self.write_group()?,
            }
        }
        self.group.push(row);
        Ok(())
    }

    fn write_group(&mut self) -> io::Result<()> {
        // Ties on the leading columns: by the rest, in order (the whole row's byte order).
        self.group.sort();
        for row in self.group.drain(..) {
            self.out.write_record(&row)?;
        }
        Ok(())
    }

    /// The file is complete: what the manifest says of it, and the writer it went into.
    pub fn finish(mut self) -> io::Result<(Written, W)> {
        self.write_group()?;
        let encoded = self.out.into_inner().map_err(|e| e.into_error())?;
        let (bytes, sha256, out) = encoded.finish()?;
        Ok((Written { name: self.name, bytes, rows: self.rows, sha256 }, out))
    }
}

/// A file written: its name, size, data rows and SHA-256, as the manifest lists it.
pub type Written = super::ManifestEntry;

/// UTF-8 from the CSV writer, into `out` in the export's encoding. The CSV writer hands over its
/// buffer whenever it fills, so a character may be cut between two writes: its first bytes wait.
/// GB18030 encodes character by character, so encoding piece by piece gives the bytes encoding the
/// whole text would.
struct Encoded<W: Write> {
    out: W,
    encoding: Encoding,
    pending: Vec<u8>,
}

impl<W: Write> Write for Encoded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.encoding == Encoding::Utf8 {
            return self.out.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            // The last character is not complete yet.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&self.pending[..whole]).expect("checked above");
        self.out.write_all(&self.encoding.encode(text))?;
        self.pending.drain(..whole);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> Encoded<Tally<W>> {
    fn finish(self) -> io::Result<(u64, String, W)> {
        if !self.pending.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a CSV file ends inside a character"));
        }
        Ok(self.out.finish())
    }
}

/// A writer counting and hashing what goes through it (the manifest's size and SHA-256).
pub struct Tally<W: Write> {
    out: W,
    bytes: u64,
    hash: sha2::Sha256,
}

impl<W: Write> Tally<W> {
    /// Count and hash what is written into `out`.
    pub fn new(out: W) -> Tally<W> {
        Tally { out, bytes: 0, hash: sha2::Sha256::new() }
    }

    /// Bytes written, their lower-case hex SHA-256, and the writer.
    pub fn finish(self) -> (u64, String, W) {
        (self.bytes, hex::encode(self.hash.finalize()), self.out)
    }
}

impl<W: Write> Write for Tally<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// What the payment order adds up, gathered while `transfers.csv` and `lines.csv` are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Transfers.
    pub transfer_count: u64,
    /// Their amounts, fen.
    pub control_sum_fen: i64,
    /// Their amounts by allowance, fen.
    by_allowance: BTreeMap<String, i64>,
    /// The lottery's share of the lines paid, fen.
    lottery_fen: i64,
    /// The district's share of the lines paid, fen.
    district_fen: i64,
}

impl Totals {
    /// A transfer of the batch.
    pub fn add_transfer(&mut self, t: &TransferRow) {
        self.transfer_count += 1;
        self.control_sum_fen += t.amount_fen;
        match self.by_allowance.get_mut(&t.allowance) {
            Some(sum) => *sum += t.amount_fen,
            None => {
                self.by_allowance.insert(t.allowance.clone(), t.amount_fen);
            }
        }
    }

    /// A line of `lines.csv`.
    pub fn add_paid_line(&mut self, p: &PostingRow) {
        self.lottery_fen += p.lottery_fen;
        self.district_fen += p.district_fen;
    }
}

/// The payment order (支付令): totals by allowance and by fund, control sum.
pub fn payment_order(batch: &BatchRow, totals: &Totals) -> Vec<u8> {
    let value = json!({
        "batch_id": batch.batch_id,
        "district": batch.district_code,
        "service_month": batch.service_month,
        "batch_kind": batch.kind,
        "transfer_count": totals.transfer_count,
        "control_sum": format_fen(totals.control_sum_fen),
        "currency": "CNY",
        "totals_by_allowance": totals.by_allowance.iter().map(|(a, f)| (a.clone(), format_fen(*f))).collect::<BTreeMap<_, _>>(),
        "totals_by_fund": { "lottery": format_fen(totals.lottery_fen), "district": format_fen(totals.district_fen) },
        "held_total": format_fen(batch.held_fen),
        "recovery_total": format_fen(batch.recovery_fen),
        "run_by": batch.run_by,
        "approved_by": batch.approved_by,
        "policy_version": batch.policy_version,
    });
    json_file(&value)
}

/// The manifest: every other file with size, rows and SHA-256; the encoding of the CSV files, the
/// policy version and the registry fingerprint.
pub fn manifest(batch: &BatchRow, files: &[Written], encoding: Encoding) -> Vec<u8> {
    let value = json!({
        "batch_id": batch.batch_id,
        "encoding": encoding.name(),
        "files": files,
        "policy_version": batch.policy_version,
        "registry_fingerprint": batch.registry_fingerprint,
    });
    json_file(&value)
}

fn json_file(value: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("json");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(file: CsvFile, rows: &[&[&str]], encoding: Encoding) -> (Written, Vec<u8>) {
        let mut out = CsvOut::start(file, "B", Vec::new(), encoding).unwrap();
        for r in rows {
            out.push(r.iter().map(|s| s.to_string()).collect()).unwrap();
        }
        out.finish().unwrap()
    }

    #[test]
    fn rows_equal_on_the_ordered_columns_are_sorted_by_the_rest() {
        let rows: &[&[&str]] =
            &[&["1", "张三", "care", "2020-02", "100.00", "X"], &["1", "张三", "care", "2020-01", "20.00", "X"]];
        let (w, bytes) = written(CsvFile::Held, rows, Encoding::Utf8);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            "id_number,name,allowance,service_month,amount,reason\n1,张三,care,2020-01,20.00,X\n1,张三,care,2020-02,100.00,X\n"
        );
        assert_eq!((w.name.as_str(), w.rows, w.bytes), ("B-held.csv", 2, bytes.len() as u64));
        assert_eq!(w.sha256, crate::digest::sha256_hex(&bytes));
    }

    #[test]
    fn a_row_out_of_order_is_refused() {
        let mut out = CsvOut::start(CsvFile::Held, "B", Vec::new(), Encoding::Utf8).unwrap();
        out.push(vec!["2".into(), "a".into(), "b".into(), "c".into(), "d".into(), "e".into()]).unwrap();
        let err = out.push(vec!["1".into(), "a".into(), "b".into(), "c".into(), "d".into(), "e".into()]).unwrap_err();
        assert_eq!(err.to_string(), "row 2 of B-held.csv came out of byte order");
    }

    #[test]
    fn gb18030_written_piece_by_piece_is_the_whole_text_encoded() {
        // Enough rows to fill the CSV writer's buffer several times, cutting characters.
        let name = "王𠀀明".repeat(7);
        let rows: Vec<Vec<String>> = (0..2000)
            .map(|i| {
                vec![format!("{i:06}"), name.clone(), "care".into(), "2020-01".into(), "1.00".into(), "原因".into()]
            })
            .collect();
        let mut utf8 = CsvOut::start(CsvFile::Held, "B", Vec::new(), Encoding::Utf8).unwrap();
        let mut gb = CsvOut::start(CsvFile::Held, "B", Vec::new(), Encoding::Gb18030).unwrap();
        for r in rows {
            utf8.push(r.clone()).unwrap();
            gb.push(r).unwrap();
        }
        let (_, utf8) = utf8.finish().unwrap();
        let (_, gb) = gb.finish().unwrap();
        assert_eq!(gb, Encoding::Gb18030.encode(std::str::from_utf8(&utf8).unwrap()));
    }
}
