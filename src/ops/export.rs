//! `export`: the six platform files of an approved batch, written into a folder all or nothing,
//! and the batch marked exported with its audit entry. Exporting an exported batch again writes
//! the same bytes (INTERFACE.md).

use super::{audit_entry, ExportError, OpsError, OpsResult, Step};
use crate::adapters::platform::iso20022::{self, Payer};
use crate::adapters::platform::{self, PlatformFile};
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
) -> OpsResult<Vec<PlatformFile>> {
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
) -> OpsResult<Vec<PlatformFile>> {
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
) -> OpsResult<Vec<PlatformFile>> {
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
) -> OpsResult<Vec<PlatformFile>> {
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
) -> OpsResult<Vec<PlatformFile>> {
    let started = std::time::Instant::now();
    let Some(mut tx) = s.begin_export(batch_id).await? else {
        return Err(OpsError::NoBatch(batch_id.to_string()));
    };
    let b = tx.batch().clone();
    if !matches!(b.state, BatchState::Approved | BatchState::Exported) {
        tx.abandon().await?;
        return Err(OpsError::WrongState { batch: batch_id.to_string(), state: b.state, step });
    }
    crate::progress::start(&format!("export {batch_id}"), "transfers", Some(b.transfer_count.max(0) as u64));
    let (transfers, postings) = (tx.transfers().await?, tx.postings().await?);
    let mut files = platform::render_as(&b, &transfers, &postings, encoding);
    crate::progress::advance(transfers.len() as u64);
    if let Some(payer) = payer.filter(|_| !transfers.is_empty()) {
        match iso20022::pain001(&b, &transfers, payer) {
            Ok(bytes) => {
                files.push(PlatformFile { name: format!("{batch_id}-pain001.xml"), bytes, rows: transfers.len() })
            }
            Err(e) => {
                tx.abandon().await?;
                return Err(OpsError::Usage(format!("nothing was exported: {e}")));
            }
        }
    }
    let named: Vec<(&str, &[u8], u32)> =
        files.iter().map(|f| (f.name.as_str(), f.bytes.as_slice(), f.mode())).collect();
    let exported = b.state == BatchState::Exported;
    // Written and fsynced under temporary names first; put in place only once the batch is
    // committed as exported. A crash before the commit leaves no file of an unexported batch in
    // `out` (nothing the platform could be sent); a crash after it leaves an exported batch whose
    // export is simply run again (the same bytes).
    let staged = match platform::stage(out, &named) {
        Ok(staged) => staged,
        Err(why) => {
            tx.abandon().await?;
            let out = out.to_path_buf();
            return Err(ExportError::NotStaged { batch: batch_id.to_string(), exported, out, why }.into());
        }
    };
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
    crate::progress::finish();
    tracing::info!(
        batch_id,
        transfers = transfers.len(),
        files = files.len(),
        control_sum_fen = b.control_sum_fen,
        again = exported,
        encoding = encoding.name(),
        ms = started.elapsed().as_millis() as u64,
        "batch exported"
    );
    Ok(files)
}
