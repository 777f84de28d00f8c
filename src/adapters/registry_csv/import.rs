//! `subsidy import DIR`: stream each registry file row by row, validate it ([`super::validate`]),
//! and apply accepted rows in chunks, all in one transaction (a failed or killed import leaves
//! nothing half-written). Memory holds one chunk and the list of rejects, never the file. Every data row ends up either accepted or reported with file,
//! line and reason code: nothing is dropped silently. Line numbers are the file's physical lines
//! (header = line 1; a record spanning lines is reported at its first), whatever its line ends
//! ([`super::encoding`]). A file not in the import's encoding is rejected whole, once, before any
//! of its rows is stored, like a file with an unknown or missing column.

use super::encoding::{self, Encoding, TextReader};
use super::validate::{check_header, validate_row, Context};
use crate::registry::rows::{FileKind, RejectCode, RowOp};
use crate::store::{ImportTx, Store, StoredReject};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Rows applied per transaction.
const CHUNK: usize = 2_000;

/// Accepted and rejected rows of one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    /// Rows stored (upserted or deleted).
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
}

/// One rejected row, as `import` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// File name.
    pub file: String,
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// Reason code (`BAD_ID_CHECKSUM` …).
    pub reason: RejectCode,
    /// What is wrong and what to fix.
    pub detail: String,
}

/// The result of an import, in the shape of INTERFACE.md's `--json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The import's id in the database.
    pub import_id: i64,
    /// Counts per file found in DIR.
    pub files: BTreeMap<String, FileCounts>,
    /// Every rejected row, by file then line.
    pub rejects: Vec<Reject>,
    /// SHA-256 of the folder's CSV files, names and bytes (the audit entry's fingerprint).
    #[serde(skip)]
    pub files_sha256: String,
}

impl ImportReport {
    /// Rows accepted, every file.
    pub fn accepted(&self) -> u64 {
        self.files.values().map(|c| c.accepted).sum()
    }

    /// Whether any row was rejected (exit status 3).
    pub fn has_rejects(&self) -> bool {
        !self.rejects.is_empty()
    }
}

/// Import every registry file present in `dir`, persons first, read as UTF-8.
pub async fn import_dir<S: Store>(
    store: &S,
    dir: &Path,
    ctx: &Context<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    import_dir_as(store, dir, Encoding::Utf8, ctx, now).await
}

/// Import every registry file present in `dir`, persons first, each read in `encoding`.
pub async fn import_dir_as<S: Store>(
    store: &S,
    dir: &Path,
    encoding: Encoding,
    ctx: &Context<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a directory; give the folder that holds elders.csv and the other registry files",
            dir.display()
        );
    }
    let present: Vec<FileKind> = FileKind::ALL.into_iter().filter(|k| dir.join(k.file_name()).is_file()).collect();
    if present.is_empty() {
        let names: Vec<&str> = FileKind::ALL.iter().map(|k| k.file_name()).collect();
        anyhow::bail!("no registry file in {}: expected any of {}", dir.display(), names.join(", "));
    }
    // Hashed before the rows are read, as the audit entry and the registry fingerprint name them.
    let files_sha256 = crate::digest::csv_folder_sha256(dir)
        .with_context(|| format!("could not read the files of {} to fingerprint them", dir.display()))?;
    // One transaction for the whole import: a failure or a kill leaves nothing of it.
    let mut tx = store.begin_import(&dir.display().to_string(), now).await?;
    let mut report = ImportReport { import_id: tx.import_id(), files_sha256, ..Default::default() };
    let started = std::time::Instant::now();
    for kind in present {
        let file_started = std::time::Instant::now();
        crate::progress::start(&format!("import {}", kind.file_name()), "rows", None);
        let counts =
            import_file(&mut tx, kind, &dir.join(kind.file_name()), encoding, ctx, &mut report.rejects).await?;
        crate::progress::finish();
        let ms = file_started.elapsed().as_millis() as u64;
        tracing::info!(file = kind.file_name(), accepted = counts.accepted, rejected = counts.rejected, ms, "imported");
        report.files.insert(kind.file_name().to_string(), counts);
    }
    let accepted = report.accepted();
    let stored: Vec<StoredReject> = report
        .rejects
        .iter()
        .map(|r| StoredReject {
            file: r.file.clone(),
            line: r.line,
            reason: r.reason.as_str().to_string(),
            detail: r.detail.clone(),
        })
        .collect();
    tx.finish(accepted, &stored, &report.files_sha256, now).await?;
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(import_id = report.import_id, accepted, rejected = stored.len(), ms, "import committed");
    Ok(report)
}

async fn import_file<T: ImportTx>(
    tx: &mut T,
    kind: FileKind,
    path: &Path,
    encoding: Encoding,
    ctx: &Context<'_>,
    rejects: &mut Vec<Reject>,
) -> anyhow::Result<FileCounts> {
    let open = || std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()));
    let reject = |line: u64, reason: RejectCode, detail: String| Reject {
        file: kind.file_name().to_string(),
        line,
        reason,
        detail,
    };
    let mut counts = FileCounts::default();
    // One pass before any row is stored: a file in another encoding is refused whole and once,
    // not as one garbled or unreadable row after another (and not half-stored).
    let refused = encoding::refusal(path, kind.file_name(), encoding)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(why) = refused {
        // Rows as the CSV reader sees them (bytes, so any encoding), header excluded.
        let rows = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(std::io::BufReader::new(open()?))
            .byte_records()
            .count() as u64;
        rejects.push(reject(
            1,
            RejectCode::BadEncoding,
            format!("{why}; the whole file ({rows} rows) was not imported"),
        ));
        counts.rejected = rows;
        return Ok(counts);
    }
    let text = TextReader::new(std::io::BufReader::new(open()?), encoding);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let header = match reader.headers() {
        Ok(h) => check_header(kind, h),
        Err(e) => Err(crate::registry::rows::RowError {
            code: RejectCode::BadRow,
            detail: format!("header cannot be read: {e}"),
        }),
    };
    let header = match header {
        Ok(h) => h,
        Err(e) => {
            // INTERFACE.md: an unknown or missing column rejects the whole file, nothing stored.
            let rows = reader.byte_records().count() as u64;
            rejects.push(reject(1, e.code, format!("{}; the whole file ({rows} rows) was not imported", e.detail)));
            counts.rejected = rows;
            return Ok(counts);
        }
    };
    let file_start = rejects.len();
    let mut chunk: Vec<(u64, RowOp)> = Vec::with_capacity(CHUNK);
    let mut record = csv::StringRecord::new();
    loop {
        // Where the next record starts (the reader stands just past the previous one's LF).
        let next = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // The line the record starts on, also when a quoted value spans lines.
                let line = record.position().map(|p| p.line()).unwrap_or(next);
                match validate_row(&header, ctx, &record) {
                    Ok(op) => chunk.push((line, op)),
                    Err(e) => rejects.push(reject(line, e.code, e.detail)),
                }
            }
            // Only if the file changed since it was found to be in the import's encoding.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let line = e.position().map(|p| p.line()).unwrap_or(next);
                rejects.push(reject(line, RejectCode::BadRow, format!("row is not valid UTF-8: {e}")));
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(next);
                // The reader cannot resynchronise after a broken row; stop here, said plainly, and
                // count every row after it as rejected too.
                let rest = reader.byte_records().count() as u64;
                rejects.push(reject(line, RejectCode::BadRow, format!("row cannot be read as CSV ({e}); the {rest} rows after it were not read either: fix the file and import it again")));
                counts.rejected += rest;
                break;
            }
        }
        if chunk.len() == CHUNK {
            crate::progress::advance(chunk.len() as u64);
            counts.accepted += flush(tx, kind, &mut chunk, rejects).await?;
        }
    }
    crate::progress::advance(chunk.len() as u64);
    counts.accepted += flush(tx, kind, &mut chunk, rejects).await?;
    counts.rejected += (rejects.len() - file_start) as u64;
    rejects[file_start..].sort_by_key(|r| r.line);
    Ok(counts)
}

/// Apply a chunk; the store's own rejects (unknown person, duplicate key) join the list.
async fn flush<T: ImportTx>(
    tx: &mut T,
    kind: FileKind,
    chunk: &mut Vec<(u64, RowOp)>,
    rejects: &mut Vec<Reject>,
) -> anyhow::Result<u64> {
    if chunk.is_empty() {
        return Ok(0);
    }
    let refused = tx.apply_rows(kind, chunk).await?;
    let accepted = (chunk.len() - refused.len()) as u64;
    rejects.extend(refused.into_iter().map(|r| Reject {
        file: kind.file_name().to_string(),
        line: r.line,
        reason: r.code,
        detail: r.detail,
    }));
    chunk.clear();
    Ok(accepted)
}
