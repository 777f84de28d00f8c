//! `import DIR`: the registry CSV files of a folder, validated against today and the latest
//! policy, streamed into the store, and recorded in the audit log with a fingerprint of the files.

use super::{audit_entry, policy_book, OpsResult};
use crate::adapters::registry_csv::encoding::Encoding;
use crate::adapters::registry_csv::import::{import_dir_as, ImportReport};
use crate::adapters::registry_csv::validate::Context;
use crate::clock::Clock;
use crate::store::{StatisticsOf, Store};
use serde_json::json;
use std::path::Path;

/// Import every registry file in `dir`, read in `encoding`, on behalf of `by`. Rows that fail a
/// check are reported in the outcome (the accepted ones are stored): rejected rows are an outcome,
/// not an error.
pub async fn import<S: Store>(
    s: &S,
    dir: &Path,
    encoding: Encoding,
    by: &str,
    clock: Clock,
) -> OpsResult<ImportReport> {
    let book = policy_book(s).await?;
    let ctx = Context { today: clock.today(), policy: book.latest() };
    let report = import_dir_as(s, dir, encoding, &ctx, clock.now()).await?;
    let entry = audit_entry(
        by,
        "import",
        &dir.display().to_string(),
        "",
        report.files_sha256.clone(),
        json!({ "import_id": report.import_id, "files": report.files, "rejected": report.rejects.len() }),
    );
    s.append_audit(&entry, clock.now()).await?;
    super::refresh_statistics(s, StatisticsOf::Registry, report.accepted()).await;
    Ok(report)
}
