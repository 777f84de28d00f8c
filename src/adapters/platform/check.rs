//! What `verify` checks: each file the database renders against the one in the folder, byte for
//! byte as it is rendered ([`FolderCheck`]: the folder's file is read alongside, never whole), and
//! the database's own totals, one row at a time ([`line_shares`], [`transfer_total`],
//! [`control_sum`]). Each difference is one sentence; a file's names its first differing lines,
//! masked (`check_rows.rs`).

use super::check_rows::{shown, First, Outcome, Rows, Seen};
use super::render::{Totals, Written};
use super::{Output, WriteError};
use crate::money::format_fen;
use crate::store::{BatchRow, PostingRow, TransferSum};
use sha2::Digest as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Bytes read from the folder's files at a time.
const BUFFER: usize = 256 * 1024;

/// The files rendered, compared with those of a folder: the differences found.
#[derive(Debug)]
pub struct FolderCheck {
    dir: PathBuf,
    problems: Vec<String>,
}

impl FolderCheck {
    /// Compare with the files in `dir`.
    pub fn new(dir: &Path) -> FolderCheck {
        FolderCheck { dir: dir.to_path_buf(), problems: Vec::new() }
    }

    /// What differs, file by file in the order they were rendered.
    pub fn problems(self) -> Vec<String> {
        self.problems
    }
}

/// A rendered file compared, as it is written, with the folder's file of the same name.
pub struct Compared {
    /// The comparison; none when the folder's file cannot be opened.
    rows: Option<Rows<BufReader<File>>>,
}

impl Write for Compared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(rows) = &mut self.rows {
            rows.write(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output for FolderCheck {
    type File = Compared;

    fn open(&mut self, name: &str, _mode: u32) -> Result<Compared, WriteError> {
        let disk = File::open(self.dir.join(name)).ok().map(|f| BufReader::with_capacity(BUFFER, f));
        Ok(Compared { rows: disk.map(Rows::new) })
    }

    fn close(&mut self, file: Compared, written: &Written) -> Result<(), WriteError> {
        let name = &written.name;
        let missing = format!("{name} is missing from {}", self.dir.display());
        let outcome = file.rows.map_or(Outcome::Unreadable, Rows::finish);
        match outcome {
            Outcome::Same => {}
            Outcome::Unreadable => self.problems.push(missing),
            Outcome::Differs { first, further, lines } => match read_whole(&self.dir.join(name)) {
                Ok(disk) => self.problems.push(differs(written, &first, &further, lines, &disk)),
                Err(_) => self.problems.push(missing),
            },
        }
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// A file of the folder read through: its size, lines and SHA-256.
struct OnDisk {
    bytes: u64,
    lines: u64,
    sha256: String,
}

/// Size, lines and SHA-256 of a file, read block by block.
fn read_whole(path: &Path) -> io::Result<OnDisk> {
    let (mut hash, mut file) = (sha2::Sha256::new(), BufReader::with_capacity(BUFFER, File::open(path)?));
    let (mut bytes, mut newlines, mut last) = (0u64, 0u64, None);
    loop {
        let buf = file.fill_buf()?;
        let Some(&end) = buf.last() else { break };
        hash.update(buf);
        newlines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        (bytes, last) = (bytes + buf.len() as u64, Some(end));
        let n = buf.len();
        file.consume(n);
    }
    let lines = newlines + u64::from(last.is_some_and(|b| b != b'\n'));
    Ok(OnDisk { bytes, lines, sha256: hex::encode(hash.finalize()) })
}

/// The sentence saying how a file differs: its first differing line, shown on both sides, the
/// next ones, whether the file on disk is shorter or longer, its size and SHA-256.
fn differs(written: &Written, first: &First, further: &[u64], lines: u64, disk: &OnDisk) -> String {
    let side =
        |seen: &Option<Seen>| seen.as_ref().map_or("no such line".to_string(), |s| format!("\"{}\"", shown(first, s)));
    let (on_disk, expected) = (side(&first.disk), side(&first.expected));
    let mut out = format!(
        "{} differs from the database at line {} (of {lines} expected): on disk {on_disk}, expected {expected}",
        written.name, first.line
    );
    if let (Some(d), Some(e), true) = (&first.disk, &first.expected, on_disk == expected) {
        out += &if d.end != e.end {
            format!(" (line ends: {} on disk, {} expected)", d.end.name(), e.end.name())
        } else {
            " (the same once shown: the bytes differ in the encoding or in masked digits)".to_string()
        };
    }
    match further {
        [] => {}
        [one] => out += &format!("; also line {one} differs"),
        more => {
            out += &format!("; also lines {} differ", more.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
        }
    }
    if disk.lines < lines {
        out += &format!("; the file on disk ends after line {}, expected {lines} lines", disk.lines);
    } else if disk.lines > lines {
        out += &format!("; the file on disk has more lines than the {lines} expected");
    }
    out + &format!(" ({} bytes on disk, {} expected; sha256 {} on disk)", disk.bytes, written.bytes, disk.sha256)
}

/// A line whose shares do not add up to its amount (F2).
pub fn line_shares(p: &PostingRow) -> Option<String> {
    (p.lottery_fen + p.district_fen != p.amount_fen)
        .then(|| format!("line {}: lottery + district ≠ amount (F2)", p.payment_key))
}

/// A transfer whose amount is not the sum of its lines.
pub fn transfer_total(t: &TransferSum) -> Option<String> {
    (t.lines_fen != t.amount_fen).then(|| {
        format!(
            "transfer {}: amount {} but its lines add up to {}",
            t.transfer_id,
            format_fen(t.amount_fen),
            format_fen(t.lines_fen)
        )
    })
}

/// A batch whose stored control sum or transfer count is not that of its transfers.
pub fn control_sum(batch: &BatchRow, totals: &Totals) -> Option<String> {
    let (count, sum) = (totals.transfer_count, totals.control_sum_fen);
    (sum != batch.control_sum_fen || count as i64 != batch.transfer_count).then(|| {
        format!(
            "batch {}: stored control sum {} over {} transfers, but the transfers add up to {} over {}",
            batch.batch_id,
            format_fen(batch.control_sum_fen),
            batch.transfer_count,
            format_fen(sum),
            count
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What comparing `rendered` as `name` with the folder's file (`on_disk`, or none) finds.
    fn compared(on_disk: Option<&[u8]>, rendered: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        if let Some(bytes) = on_disk {
            std::fs::write(dir.path().join("f.csv"), bytes).unwrap();
        }
        let mut folder = FolderCheck::new(dir.path());
        let mut file = folder.open("f.csv", 0o640).unwrap();
        // In pieces, as a CSV writer hands them over.
        for piece in rendered.chunks(3) {
            file.write_all(piece).unwrap();
        }
        let written = Written {
            name: "f.csv".into(),
            bytes: rendered.len() as u64,
            rows: 1,
            sha256: crate::digest::sha256_hex(rendered),
        };
        folder.close(file, &written).unwrap();
        folder.problems().into_iter().map(|p| p.replace(&dir.path().display().to_string(), "DIR")).collect()
    }

    #[test]
    fn the_same_bytes_are_no_difference() {
        assert_eq!(compared(Some(b"a,b\n1,2\n"), b"a,b\n1,2\n"), Vec::<String>::new());
    }

    /// The sentence's end: the size and SHA-256 of `disk`, `expected` bytes rendered.
    fn sizes(disk: &[u8], expected: usize) -> String {
        format!(
            " ({} bytes on disk, {expected} expected; sha256 {} on disk)",
            disk.len(),
            crate::digest::sha256_hex(disk)
        )
    }

    #[test]
    fn a_missing_file_is_named() {
        assert_eq!(compared(None, b"a,b\n"), vec!["f.csv is missing from DIR"]);
    }

    #[test]
    fn a_changed_row_is_named_masked_with_the_next_two() {
        let row = |n: u32, amount: &str| format!("B-{n:06},11010519491231002X,张三,6217000000000000{n:03},{amount}\n");
        let rendered: String = std::iter::once("transfer_id,id_number,name,account_no,amount\n".to_string())
            .chain((1..=9).map(|n| row(n, "500.00")))
            .collect();
        let disk = rendered
            .replace(&row(3, "500.00"), &row(3, "600.00"))
            .replace(&row(5, "500.00"), &row(5, "50.00"))
            .replace(&row(6, "500.00"), "")
            .replace(&row(8, "500.00"), &row(8, "5.00"));
        let want = "f.csv differs from the database at line 4 (of 10 expected): \
                    on disk \"B-000003,1101**********002X,张三,6217***********0003,600.00\", \
                    expected \"B-000003,1101**********002X,张三,6217***********0003,500.00\"; also lines 6, 7 differ; \
                    the file on disk ends after line 9, expected 10 lines";
        let got = compared(Some(disk.as_bytes()), rendered.as_bytes());
        assert_eq!(got, vec![format!("{want}{}", sizes(disk.as_bytes(), rendered.len()))]);
        assert!(!got[0].contains("11010519491231002X") && !got[0].contains("6217000000000000003"));
    }

    #[test]
    fn a_shorter_file_says_where_it_ends() {
        let disk = b"a,b\n1,2\n";
        let want = "f.csv differs from the database at line 3 (of 3 expected): on disk no such line, \
                    expected \"3,4\"; the file on disk ends after line 2, expected 3 lines";
        assert_eq!(compared(Some(disk), b"a,b\n1,2\n3,4\n"), vec![format!("{want}{}", sizes(disk, 12))]);
        let disk = b"a,b\n1,";
        let want = "f.csv differs from the database at line 2 (of 2 expected): on disk \"1,\", expected \"1,2\"";
        assert_eq!(compared(Some(disk), b"a,b\n1,2\n"), vec![format!("{want}{}", sizes(disk, 8))]);
    }

    #[test]
    fn a_longer_file_says_it_has_more_lines() {
        let disk = b"a,b\n1,2\n3\n";
        let want = "f.csv differs from the database at line 3 (of 2 expected): on disk \"3\", expected no such line; \
                    the file on disk has more lines than the 2 expected";
        assert_eq!(compared(Some(disk), b"a,b\n1,2\n"), vec![format!("{want}{}", sizes(disk, 8))]);
        let disk = b"a,b\n1,2\n";
        let want = "f.csv differs from the database at line 2 (of 2 expected): on disk \"1,2\", expected \"1,2\" \
                    (line ends: LF on disk, none expected)";
        assert_eq!(compared(Some(disk), b"a,b\n1,2"), vec![format!("{want}{}", sizes(disk, 7))]);
    }

    #[test]
    fn crlf_against_lf_is_a_difference_shown_without_the_line_ends() {
        let disk = b"a,b\r\n1,2\r\n";
        let want = "f.csv differs from the database at line 1 (of 2 expected): on disk \"a,b\", expected \"a,b\" \
                    (line ends: CRLF on disk, LF expected); also line 2 differs";
        assert_eq!(compared(Some(disk), b"a,b\n1,2\n"), vec![format!("{want}{}", sizes(disk, 8))]);
    }

    #[test]
    fn another_encoding_looks_the_same_and_says_so() {
        let text = "id,name\n1,钱䶮\n";
        let gb = crate::adapters::registry_csv::encoding::Encoding::Gb18030.encode(text);
        let want =
            "f.csv differs from the database at line 2 (of 2 expected): on disk \"1,钱䶮\", expected \"1,钱䶮\" \
                    (the same once shown: the bytes differ in the encoding or in masked digits)";
        assert_eq!(compared(Some(text.as_bytes()), &gb), vec![format!("{want}{}", sizes(text.as_bytes(), gb.len()))]);
    }

    #[test]
    fn a_long_line_is_cut_around_the_first_difference() {
        let tx = |n: u32, amount: &str| {
            format!("<CdtTrfTxInf><PmtId><EndToEndId>B-{n:06}</EndToEndId></PmtId><Amt>{amount}</Amt><CdtrAcct><Id>6217000000000000{n:03}</Id></CdtrAcct></CdtTrfTxInf>")
        };
        let line = |changed: &str| {
            format!(
                "<?xml version=\"1.0\"?>\n<Document>{}{}{}</Document>\n",
                tx(1, "500.00"),
                tx(2, changed),
                tx(3, "500.00")
            )
        };
        let (disk, rendered) = (line("600.00"), line("500.00"));
        // 53 bytes before the first differing byte, 107 from it.
        let cut = |amount: &str| {
            format!(
                "…<PmtId><EndToEndId>B-000002</EndToEndId></PmtId><Amt>{amount}</Amt><CdtrAcct><Id>6217***********0002</Id>\
                 </CdtrAcct></CdtTrfTxInf><CdtTrfTxInf><PmtId><EndToEndId>…"
            )
        };
        let want = format!(
            "f.csv differs from the database at line 2 (of 2 expected): on disk \"{}\", expected \"{}\"",
            cut("600.00"),
            cut("500.00")
        );
        let got = compared(Some(disk.as_bytes()), rendered.as_bytes());
        assert_eq!(got, vec![format!("{want}{}", sizes(disk.as_bytes(), rendered.len()))]);
    }
}
