//! What `verify` checks: each file the database renders against the one in the folder, byte for
//! byte as it is rendered ([`FolderCheck`]: the folder's file is read alongside, never whole), and
//! the database's own totals, one row at a time ([`line_shares`], [`transfer_total`],
//! [`control_sum`]). Each difference is one sentence.

use super::render::{Totals, Written};
use super::{Output, WriteError};
use crate::money::format_fen;
use crate::store::{BatchRow, PostingRow, TransferSum};
use sha2::Digest as _;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
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
    /// The folder's file; none when it cannot be opened.
    disk: Option<BufReader<File>>,
    /// Every byte so far is the same.
    same: bool,
    /// The folder's file could not be read to the end.
    unreadable: bool,
    scratch: Vec<u8>,
}

impl Write for Compared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let (true, Some(disk)) = (self.same, &mut self.disk) {
            self.scratch.resize(buf.len(), 0);
            match disk.read_exact(&mut self.scratch) {
                Ok(()) => self.same = self.scratch == buf,
                // Shorter than the rendered file.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => self.same = false,
                Err(_) => (self.same, self.unreadable) = (false, true),
            }
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
        Ok(Compared { disk, same: true, unreadable: false, scratch: Vec::new() })
    }

    fn close(&mut self, file: Compared, written: &Written) -> Result<(), WriteError> {
        let name = &written.name;
        let missing = format!("{name} is missing from {}", self.dir.display());
        let Some(mut disk) = file.disk else {
            self.problems.push(missing);
            return Ok(());
        };
        // Longer than the rendered file?
        let longer = file.same && disk.read(&mut [0u8]).map_or(true, |n| n > 0);
        if file.unreadable {
            self.problems.push(missing);
        } else if !file.same || longer {
            match hash_file(&self.dir.join(name)) {
                Ok((bytes, sha256)) => self.problems.push(format!(
                    "{name} differs from the database ({bytes} bytes on disk, {} expected; sha256 {sha256} on disk)",
                    written.bytes
                )),
                Err(_) => self.problems.push(missing),
            }
        }
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Size and SHA-256 of a file, read block by block.
fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut hash = sha2::Sha256::new();
    let bytes = io::copy(&mut BufReader::with_capacity(BUFFER, File::open(path)?), &mut hash)?;
    Ok((bytes, hex::encode(hash.finalize())))
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

    #[test]
    fn a_missing_shorter_longer_or_changed_file_is_a_difference() {
        assert_eq!(compared(None, b"a,b\n"), vec!["f.csv is missing from DIR"]);
        let sha = |b: &[u8]| crate::digest::sha256_hex(b);
        for disk in [&b"a,b\n1,"[..], b"a,b\n1,2\n3\n", b"a,b\n1,3\n"] {
            let want = format!(
                "f.csv differs from the database ({} bytes on disk, 8 expected; sha256 {} on disk)",
                disk.len(),
                sha(disk)
            );
            assert_eq!(compared(Some(disk), b"a,b\n1,2\n"), vec![want]);
        }
    }
}
