//! The platform files of INTERFACE.md, rendered from what the database holds for a batch.
//! `export` and `verify` go through one path ([`write_files`]): the rows stream from the store
//! in each file's order and each file is written as they come (its rows rendered by the pure
//! functions of `render.rs`), counted and hashed for the manifest, into an [`Output`]: temporary
//! files written and fsynced, then put in place all or none ([`Staging`], the CSV and XML files
//! with mode 0640), or the folder's files compared byte for byte ([`FolderCheck`]). Memory holds a
//! few rows whatever the batch's size. The CSV files hold nothing that depends on the clock or on
//! the database that computed them. [`iso20022`] says the same batch in ISO 20022 (pain.001) and
//! reads the bank's answer (pain.002). [`render()`] and [`compare`] do the same in memory, for
//! tests and small batches.

mod check;
mod check_rows;
mod files;
pub mod iso20022;
mod render;
pub mod results;
mod write;

pub use check::{control_sum, line_shares, transfer_total, Compared, FolderCheck};
pub use files::{write_files, write_pain001, FilesError};
pub use render::{Totals, Written};

use render::CsvFile;
pub use write::{
    stage, write_all_atomically, write_atomically, Staged, Staging, TempFile, WriteError, PRIVATE_MODE, PUBLIC_MODE,
};

use crate::adapters::registry_csv::encoding::Encoding;
use crate::store::{BatchRow, BatchRows, LinesOf, PostingRow, RowStream, TransferRow, TransferSum};
use futures_util::stream::{self, StreamExt as _};
use futures_util::FutureExt as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where [`write_files`] puts each file, one after the other: opened, written, closed.
pub trait Output {
    /// A file being written.
    type File: std::io::Write;
    /// Open `name` for writing (`mode`, for a file created).
    fn open(&mut self, name: &str, mode: u32) -> Result<Self::File, WriteError>;
    /// The file is complete; `written` says what it holds.
    fn close(&mut self, file: Self::File, written: &Written) -> Result<(), WriteError>;
    /// Where `name` goes (for messages).
    fn path(&self, name: &str) -> PathBuf;
}

impl Output for Staging {
    type File = TempFile;

    fn open(&mut self, name: &str, mode: u32) -> Result<TempFile, WriteError> {
        Staging::open(self, name, mode)
    }

    fn close(&mut self, file: TempFile, written: &Written) -> Result<(), WriteError> {
        self.keep(&written.name, file)
    }

    fn path(&self, name: &str) -> PathBuf {
        Staging::path(self, name)
    }
}

/// One rendered file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformFile {
    /// File name, e.g. `110102-2020-07-R1-transfers.csv`.
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Data rows (CSV) or 1 (JSON).
    pub rows: usize,
}

impl PlatformFile {
    /// The file's mode ([`mode_of`]).
    pub fn mode(&self) -> u32 {
        mode_of(&self.name)
    }
}

/// A file's mode: the CSV files and the ISO 20022 XML file carry ID and account numbers, so they
/// are not readable by everyone (0640); the order and the manifest carry totals only (0644).
pub fn mode_of(name: &str) -> u32 {
    if name.ends_with(".csv") || name.ends_with(".xml") {
        PRIVATE_MODE
    } else {
        PUBLIC_MODE
    }
}

/// A file written: name, size, data rows and SHA-256, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Data rows.
    pub rows: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// Render the six files of a batch, manifest last, the CSV files in UTF-8.
pub fn render(batch: &BatchRow, transfers: &[TransferRow], postings: &[PostingRow]) -> Vec<PlatformFile> {
    render_as(batch, transfers, postings, Encoding::Utf8)
}

/// Render the six files of a batch in memory, manifest last, the CSV files in `encoding` (the
/// JSON files are UTF-8 whatever it is: JSON is UTF-8 by definition). The same path as an export:
/// rows sorted on the UTF-8 text, so that both encodings list the same rows in the same order; the
/// manifest names the encoding.
pub fn render_as(
    batch: &BatchRow,
    transfers: &[TransferRow],
    postings: &[PostingRow],
    encoding: Encoding,
) -> Vec<PlatformFile> {
    let mut rows = InMemory { transfers, postings };
    let mut out = Memory::default();
    write_files(&mut rows, batch, encoding, &mut out, |_| {})
        .now_or_never()
        .expect("rows in memory are ready at once")
        .expect("writing into memory cannot fail");
    out.files
}

/// A batch's rows held in memory, handed out in the store's order.
struct InMemory<'a> {
    transfers: &'a [TransferRow],
    postings: &'a [PostingRow],
}

impl BatchRows for InMemory<'_> {
    fn transfers(&mut self) -> RowStream<'_, TransferRow> {
        let mut transfers = self.transfers.to_vec();
        transfers.sort_by(|a, b| a.transfer_id.cmp(&b.transfer_id));
        stream::iter(transfers.into_iter().map(Ok)).boxed()
    }

    fn lines(&mut self, which: LinesOf) -> RowStream<'_, PostingRow> {
        let file = CsvFile::ALL.into_iter().find(|f| f.lines_of() == Some(which)).expect("a file lists them");
        let mut lines: Vec<PostingRow> = self.postings.iter().filter(|p| which.lists(p)).cloned().collect();
        lines.sort_by_cached_key(|p| file.posting_record(p));
        stream::iter(lines.into_iter().map(Ok)).boxed()
    }

    fn transfer_sums(&mut self) -> RowStream<'_, TransferSum> {
        let mut lines: BTreeMap<&str, i64> = BTreeMap::new();
        for p in self.postings {
            if let Some(t) = &p.transfer_id {
                *lines.entry(t).or_default() += p.amount_fen;
            }
        }
        let mut sums: Vec<TransferSum> = self
            .transfers
            .iter()
            .map(|t| TransferSum {
                transfer_id: t.transfer_id.clone(),
                amount_fen: t.amount_fen,
                lines_fen: lines.get(t.transfer_id.as_str()).copied().unwrap_or(0),
            })
            .collect();
        sums.sort_by(|a, b| a.transfer_id.cmp(&b.transfer_id));
        stream::iter(sums.into_iter().map(Ok)).boxed()
    }
}

/// Files written into memory.
#[derive(Default)]
struct Memory {
    files: Vec<PlatformFile>,
}

impl Output for Memory {
    type File = Vec<u8>;

    fn open(&mut self, _name: &str, _mode: u32) -> Result<Vec<u8>, WriteError> {
        Ok(Vec::new())
    }

    fn close(&mut self, bytes: Vec<u8>, written: &Written) -> Result<(), WriteError> {
        self.files.push(PlatformFile { name: written.name.clone(), bytes, rows: written.rows as usize });
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(name)
    }
}

/// The encoding a folder's manifest names (`verify` renders in it); UTF-8 when the manifest is
/// missing or names none.
pub fn encoding_in(dir: &std::path::Path, batch_id: &str) -> Encoding {
    std::fs::read(dir.join(format!("{batch_id}-manifest.json")))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("encoding").and_then(|e| e.as_str()).and_then(Encoding::from_name))
        .unwrap_or_default()
}

/// What `verify` finds wrong with the files in `dir`, `expected` being the files rendered in memory
/// ([`render()`]): one sentence each.
pub fn compare(
    expected: &[PlatformFile],
    dir: &Path,
    batch: &BatchRow,
    transfers: &[TransferRow],
    postings: &[PostingRow],
) -> Vec<String> {
    let mut folder = FolderCheck::new(dir);
    for f in expected {
        let mut file = folder.open(&f.name, f.mode()).expect("comparing opens nothing for writing");
        file.write_all(&f.bytes).expect("comparing cannot fail");
        let written = Written {
            name: f.name.clone(),
            bytes: f.bytes.len() as u64,
            rows: f.rows as u64,
            sha256: crate::digest::sha256_hex(&f.bytes),
        };
        folder.close(file, &written).expect("comparing cannot fail");
    }
    let mut problems = folder.problems();
    problems.extend(check_totals(batch, transfers, postings));
    problems
}

/// The database's own totals must agree with its rows: each transfer equals the sum of its lines,
/// each line's shares add up, the batch's control sum equals its transfers.
pub fn check_totals(batch: &BatchRow, transfers: &[TransferRow], postings: &[PostingRow]) -> Vec<String> {
    let mut rows = InMemory { transfers, postings };
    let mut problems: Vec<String> = postings.iter().filter_map(line_shares).collect();
    let sums = rows.transfer_sums().map(|t| t.expect("in memory")).collect::<Vec<_>>();
    problems.extend(sums.now_or_never().expect("in memory").iter().filter_map(transfer_total));
    let mut totals = Totals::default();
    transfers.iter().for_each(|t| totals.add_transfer(t));
    problems.extend(control_sum(batch, &totals));
    problems
}
