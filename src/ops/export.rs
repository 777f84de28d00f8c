//! `export`: the six platform files of an approved batch, written into a folder all or nothing,
//! and the batch marked exported with its audit entry. Exporting an exported batch again writes
//! the same bytes (INTERFACE.md). The rows stream from the store into the files, so memory holds a
//! few rows whatever the batch's size (`adapters::platform::write_files`).

use super::{audit_entry, ExportError, OpsError, OpsResult, Step};
use crate::adapters::platform::iso20022::Payer;
use crate::adapters::platform::{self, FilesError, Written};
use crate::adapters::registry_csv::encoding::Encoding;
use crate::clock::Clock;
use crate::ledger::BatchState;
use crate::store::{ExportTx as _, LedgerStore};
use serde_json::json;
use std::path::Path;

/// Export `batch_id` into `out` on behalf of `by`, the CSV files in UTF-8: refused unless the
/// batch is approved (or exported already); returns the files written.
pub async fn export<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    clock: Clock,
) -> OpsResult<Vec<Written>> {
    export_as(s, batch_id, out, by, Encoding::Utf8, clock).await
}

/// [`export`], the CSV files in `encoding` (GB18030 for bank systems that read the GBK family).
pub async fn export_as<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    encoding: Encoding,
    clock: Clock,
) -> OpsResult<Vec<Written>> {
    export_with(s, batch_id, out, by, encoding, None, clock).await
}

/// [`export_as`], with an ISO 20022 pain.001.001.09 file (`<batch>-pain001.xml`) beside the CSV
/// files when `payer` is given: the CSV files stay the accounting record (the manifest lists them;
/// the XML is a rendering of the transfers for banks that read ISO 20022). A batch without
/// transfers has no pain.001 file (the schema requires one transfer at least).
pub async fn export_with<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    encoding: Encoding,
    payer: Option<&Payer>,
    clock: Clock,
) -> OpsResult<Vec<Written>> {
    write_files(s, batch_id, out, by, encoding, payer, clock, Step::Export).await
}

/// Render an approved (or exported) batch's files, write them into `out`, and mark the batch
/// exported, recording `by` as the exporter in the audit log: all or nothing.
///
/// One write transaction holds the batch's row from the state check to the commit, so a discard,
/// withdrawal or rerun waits for the export or is refused after it: files never exist for a batch
/// that is not exported. The batch becomes exported, with its audit entry, only once every file
/// is written and durable; a file that cannot be written leaves it as it was (approved).
pub async fn write_export_by<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    clock: Clock,
) -> OpsResult<Vec<Written>> {
    write_files(s, batch_id, out, by, Encoding::Utf8, None, clock, Step::WriteFiles).await
}

/// The export itself, the CSV files in `encoding` (the manifest names it), the pain.001 file when
/// `payer` is given. The batch's state is checked once, under the export's lock; a batch in the
/// wrong state is refused as `step`.
#[allow(clippy::too_many_arguments)]
async fn write_files<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    encoding: Encoding,
    payer: Option<&Payer>,
    clock: Clock,
    step: Step,
) -> OpsResult<Vec<Written>> {
    let started = std::time::Instant::now();
    let Some(mut tx) = s.begin_export(batch_id).await? else {
        return Err(OpsError::NoBatch(batch_id.to_string()));
    };
    let b = tx.batch().clone();
    if !matches!(b.state, BatchState::Approved | BatchState::Exported) {
        tx.abandon().await?;
        return Err(OpsError::WrongState { batch: batch_id.to_string(), state: b.state, step });
    }
    let exported = b.state == BatchState::Exported;
    let not_staged =
        |why| ExportError::NotStaged { batch: batch_id.to_string(), exported, out: out.to_path_buf(), why };
    // Written and fsynced under temporary names first; put in place only once the batch is
    // committed as exported. A crash before the commit leaves no file of an unexported batch in
    // `out` (nothing the platform could be sent); a crash after it leaves an exported batch whose
    // export is simply run again (the same bytes). An error drops `staging`, which removes the
    // temporary files written so far.
    let mut staging = match platform::Staging::new(out) {
        Ok(staging) => staging,
        Err(why) => {
            tx.abandon().await?;
            return Err(not_staged(why).into());
        }
    };
    crate::progress::start(&format!("export {batch_id}"), "transfers", Some(b.transfer_count.max(0) as u64));
    let mut written = platform::write_files(&mut tx, &b, encoding, &mut staging, |_| {}).await;
    if let (Ok((files, totals)), Some(payer)) = (&mut written, payer) {
        // A batch without transfers has no pain.001 file.
        if totals.transfer_count > 0 {
            match platform::write_pain001(&mut tx, &b, payer, totals, &mut staging).await {
                Ok(file) => files.push(file),
                Err(e) => written = Err(e),
            }
        }
    }
    crate::progress::finish();
    let (files, totals) = match written {
        Ok(written) => written,
        Err(e) => {
            drop(staging);
            // Rolled back whether or not the database answers (a lost connection rolls back too):
            // the error said is the one that stopped the export.
            if let Err(rollback) = tx.abandon().await {
                tracing::warn!(batch_id, error = %rollback, "the export's rollback was not acknowledged");
            }
            return Err(match e {
                FilesError::Store(e) => e.into(),
                FilesError::Write(why) => not_staged(why).into(),
                FilesError::Pain001(e) => OpsError::Usage(format!("nothing was exported: {e}")),
            });
        }
    };
    let staged = staging.done();
    // The audit entry names what is exported: the batch's stored fingerprint and control sum, read
    // under the lock (the files are rendered from exactly these rows).
    let mut details =
        json!({ "dir": out.display().to_string(), "control_sum": crate::money::format_fen(b.control_sum_fen) });
    if encoding != Encoding::Utf8 {
        details["encoding"] = json!(encoding.name());
    }
    if files.iter().any(|f| f.name.ends_with("-pain001.xml")) {
        details["pain001"] = json!(true);
    }
    let entry = audit_entry(by, "export", batch_id, "", b.registry_fingerprint.clone(), details);
    if let Err(source) = tx.finish(&entry, clock.now()).await {
        // `staged` is dropped: its temporary files are removed.
        let out = out.to_path_buf();
        return Err(ExportError::NotCommitted { batch: batch_id.to_string(), exported, out, source }.into());
    }
    staged.publish().map_err(|why| ExportError::NotPublished { batch: batch_id.to_string(), why })?;
    tracing::info!(
        batch_id,
        transfers = totals.transfer_count,
        files = files.len(),
        control_sum_fen = b.control_sum_fen,
        again = exported,
        encoding = encoding.name(),
        ms = started.elapsed().as_millis() as u64,
        "batch exported"
    );
    Ok(files)
}
