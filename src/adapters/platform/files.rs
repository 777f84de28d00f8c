//! A batch's platform files written from its rows as the store streams them ([`BatchRows`]), one
//! file after the other, into an [`Output`]: temporary files when exporting
//! ([`Staging`](super::Staging)), the folder's files to compare with when verifying
//! ([`FolderCheck`](super::FolderCheck)), memory for [`render`](super::render()). Export and
//! verify go through this one path, so they can never disagree about what a file should contain;
//! memory holds a few rows and the totals, whatever the batch's size.
//!
//! One pass over the store per file: `transfers.csv` (adding up the payment order's transfer
//! totals), `lines.csv` (its fund totals), `held.csv`, `recoveries.csv`; then the payment order
//! and the manifest, from the totals and what each file's writer counted and hashed. pain.001
//! announces the number of transactions and their sum before the first one: it is written in a
//! second pass over the transfers, with the totals of the first ([`write_pain001`]).

use super::iso20022::{Iso20022Error, Pain001, Payer};
use super::render::{manifest, payment_order, transfer_record, CsvFile, CsvOut, PushError, Tally, Totals, Written};
use super::{mode_of, Output, WriteError};
use crate::adapters::registry_csv::encoding::Encoding;
use crate::store::{BatchRow, BatchRows, LinesOf, PostingRow, StoreError};
use futures_util::TryStreamExt as _;
use std::io::Write as _;

/// Why a batch's files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Reading the batch's rows failed (or they came out of the files' order).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The pain.001 file cannot carry the batch (its payer, a transfer).
    #[error(transparent)]
    Pain001(#[from] Iso20022Error),
}

/// Transfers between two reports of progress.
const PROGRESS_EVERY: u64 = 1024;

/// Write the six files of `batch` from `rows` into `out`, the CSV files in `encoding`, the manifest
/// last; `each_line` sees every posting once (verify checks each line's shares). Returns the files
/// written, in order, and the payment order's totals.
pub async fn write_files<R: BatchRows, O: Output>(
    rows: &mut R,
    batch: &BatchRow,
    encoding: Encoding,
    out: &mut O,
    mut each_line: impl FnMut(&PostingRow),
) -> Result<(Vec<Written>, Totals), FilesError> {
    let id = &batch.batch_id;
    let mut totals = Totals::default();
    let mut files = Vec::new();
    for file in CsvFile::ALL {
        let name = file.name(id);
        let cannot_write = |out: &O| {
            let path = out.path(&name);
            move |source| WriteError { path, source }
        };
        let sink = out.open(&name, mode_of(&name))?;
        let mut csv = CsvOut::start(file, id, sink, encoding).map_err(cannot_write(out))?;
        let pushed = match file.lines_of() {
            None => {
                let mut transfers = rows.transfers();
                let mut pushed = Ok(());
                while let Some(t) = transfers.try_next().await? {
                    totals.add_transfer(&t);
                    if totals.transfer_count % PROGRESS_EVERY == 0 {
                        crate::progress::advance(PROGRESS_EVERY);
                    }
                    pushed = csv.push(transfer_record(&t));
                    if pushed.is_err() {
                        break;
                    }
                }
                crate::progress::advance(totals.transfer_count % PROGRESS_EVERY);
                pushed
            }
            Some(which) => {
                let mut lines = rows.lines(which);
                let mut pushed = Ok(());
                while let Some(p) = lines.try_next().await? {
                    each_line(&p);
                    if which == LinesOf::Paid {
                        totals.add_paid_line(&p);
                    }
                    pushed = csv.push(file.posting_record(&p));
                    if pushed.is_err() {
                        break;
                    }
                }
                pushed
            }
        };
        match pushed {
            Ok(()) => {}
            Err(PushError::Io(e)) => return Err(cannot_write(out)(e).into()),
            Err(PushError::Order(o)) => {
                return Err(StoreError::Corrupt(format!("{o}: the database does not sort as the file must")).into())
            }
        }
        let (written, sink) = csv.finish().map_err(cannot_write(out))?;
        out.close(sink, &written)?;
        files.push(written);
    }
    files.push(whole_file(out, format!("{id}-order.json"), &payment_order(batch, &totals), 1)?);
    let manifest = manifest(batch, &files, encoding);
    files.push(whole_file(out, format!("{id}-manifest.json"), &manifest, files.len() as u64)?);
    Ok((files, totals))
}

/// Write the pain.001 file of `batch` (`<batch>-pain001.xml`) from its transfers, paid from
/// `payer`'s account, into `out`; `totals` are those [`write_files`] added up (the header
/// announces them; the file is refused when its transfers do not add up to them).
pub async fn write_pain001<R: BatchRows, O: Output>(
    rows: &mut R,
    batch: &BatchRow,
    payer: &Payer,
    totals: &Totals,
    out: &mut O,
) -> Result<Written, FilesError> {
    let name = format!("{}-pain001.xml", batch.batch_id);
    // Batch and payer checked before anything is written.
    let mut xml = Pain001::start(batch, payer, totals.transfer_count, totals.control_sum_fen)?;
    let mut sink = Tally::new(out.open(&name, mode_of(&name))?);
    let mut transfers = rows.transfers();
    let cannot_write = |e| WriteError { path: out.path(&name), source: e };
    xml.write_to(&mut sink).map_err(cannot_write)?;
    while let Some(t) = transfers.try_next().await? {
        xml.push(&t)?;
        xml.write_to(&mut sink).map_err(cannot_write)?;
    }
    drop(transfers);
    xml.finish()?;
    xml.write_to(&mut sink).map_err(cannot_write)?;
    let (bytes, sha256, file) = sink.finish();
    let written = Written { name, bytes, rows: totals.transfer_count, sha256 };
    out.close(file, &written)?;
    Ok(written)
}

/// A small file whose bytes are known at once (the payment order, the manifest).
fn whole_file<O: Output>(out: &mut O, name: String, bytes: &[u8], rows: u64) -> Result<Written, FilesError> {
    let mut file = Tally::new(out.open(&name, mode_of(&name))?);
    file.write_all(bytes).map_err(|source| WriteError { path: out.path(&name), source })?;
    let (bytes, sha256, file) = file.finish();
    let written = Written { name, bytes, rows, sha256 };
    out.close(file, &written)?;
    Ok(written)
}
