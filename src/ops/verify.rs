//! `verify`: a batch's files against what the database renders now (files, manifest, control sum,
//! line totals; a batch that is not exported is itself a difference), streamed like the export;
//! `verify --audit`: the hash chain of the audit log.

use super::{find_batch, OpsError, OpsResult};
use crate::adapters::platform::{self, FilesError, FolderCheck, Written};
use crate::ledger::BatchState;
use crate::store::{BatchRows as _, LedgerStore, Store};
use futures_util::TryStreamExt as _;
use std::path::Path;

/// Render a batch's files from the database and compare them with those in `dir`: the files
/// expected, and what differs (nothing, when the files may be sent). The rows stream from the
/// database and each file is compared as it is rendered, the folder's file read alongside: memory
/// holds a few rows whatever the batch's size.
pub async fn verify_batch<S: LedgerStore>(s: &S, batch_id: &str, dir: &Path) -> OpsResult<(Vec<Written>, Vec<String>)> {
    let b = find_batch(s, batch_id).await?;
    // The folder's manifest says in which encoding its CSV files were written (export --encoding).
    let encoding = platform::encoding_in(dir, batch_id);
    let mut rows = s.batch_rows(batch_id);
    let mut folder = FolderCheck::new(dir);
    let mut lines = Vec::new();
    let (files, totals) = platform::write_files(&mut rows, &b, encoding, &mut folder, |p| {
        lines.extend(platform::line_shares(p));
    })
    .await
    .map_err(|e| match e {
        FilesError::Store(e) => OpsError::Store(e),
        // Comparing writes nothing, so this does not happen.
        other => OpsError::Failed(other.into()),
    })?;
    let mut problems = folder.problems();
    problems.extend(lines);
    let mut sums = rows.transfer_sums();
    while let Some(t) = sums.try_next().await? {
        problems.extend(platform::transfer_total(&t));
    }
    problems.extend(platform::control_sum(&b, &totals));
    if b.state != BatchState::Exported {
        problems
            .insert(0, format!("batch {batch_id} is {}, not exported: these files must not be paid", b.state.as_str()));
    }
    Ok((files, problems))
}

/// The audit log checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheck {
    /// Entries in the log.
    pub entries: usize,
    /// What breaks the hash chain (nothing, when it is intact).
    pub problems: Vec<String>,
}

/// Check the audit log's hash chain, entry by entry and against the head recorded last.
pub async fn verify_audit<S: Store>(s: &S) -> OpsResult<AuditCheck> {
    let (rows, head) = s.audit_log().await?;
    let problems = crate::audit::verify_chain(&rows, head);
    Ok(AuditCheck { entries: rows.len(), problems })
}
