//! `verify`: a batch's files against what the database renders now (files, manifest, control sum,
//! line totals; a batch that is not exported is itself a difference); `verify --audit`: the hash
//! chain of the audit log.

use super::{find_batch, OpsResult};
use crate::adapters::platform::{self, PlatformFile};
use crate::ledger::BatchState;
use crate::store::{LedgerStore, Store};
use std::path::Path;

/// Render a batch's files from the database and compare them with those in `dir`: the files
/// expected, and what differs (nothing, when the files may be sent).
pub async fn verify_batch<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    dir: &Path,
) -> OpsResult<(Vec<PlatformFile>, Vec<String>)> {
    let b = find_batch(s, batch_id).await?;
    let (transfers, postings) = (s.batch_transfers(batch_id).await?, s.batch_postings(batch_id).await?);
    // The folder's manifest says in which encoding its CSV files were written (export --encoding).
    let files = platform::render_as(&b, &transfers, &postings, platform::encoding_in(dir, batch_id));
    let mut problems = platform::compare(&files, dir, &b, &transfers, &postings);
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
