//! Issue 7, point 6: export is all or nothing. A batch becomes exported, with its audit entry,
//! only once every file is written; a folder that cannot be written leaves it approved (or, when
//! it was exported before, exported) and the audit log as it was. The export holds the batch's row
//! throughout, so a discard that arrives meanwhile waits and is then refused.
//!
//! The one elder of these cases is 84 in 2020 (R2: 80-89, longevity 100 a month), applied
//! 2019-10-08 (T5: paid from the engine's start month 2020-01, T7): batch 2020-01 pays one
//! transfer of 100.00 (F2: lottery = min(quota 100, 100) = 100, district 0).

use crate::scenario::{approve, clock, id, load, month, regular_in, APPLICATIONS, ELDERS, OPERATOR};
use crate::support::{check, eq};
use chrono::{TimeZone, Utc};
use libtest_mimic::Failed;
use std::path::Path;
use subsidy::batch::RunOutcome;
use subsidy::cli::commands;
use subsidy::ledger::BatchState;
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        p6_export_into_unwritable_folder_leaves_batch_approved_and_unaudited,
        p6_failed_re_export_leaves_batch_exported_and_unaudited,
        p6_discard_during_export_waits_and_is_refused,
    ]
}

const XICHENG: &str = "110102";
const BATCH: &str = "110102-2020-01-R1";

/// Start month 2020-01, the default policy, one elder; batch 2020-01 run and approved.
async fn approved_batch<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    s.set_start_month(month("2020-01")).await?;
    let loaded = Utc.with_ymd_and_hms(2019, 10, 1, 0, 0, 0).unwrap();
    s.add_policy(&Policy::parse(DEFAULT_POLICY)?, "fixtures/policy/beijing-2019.toml", loaded).await?;
    let book = PolicyBook::new(s.policy_versions().await?)?;
    let steady = id(XICHENG, "1935-04-01", 202);
    load(
        s,
        &[
            (
                "elders.csv",
                &format!("{ELDERS}{steady},钱二,1935-04-01,{XICHENG},110102007,,,,shebao,6217000000000000022\n"),
            ),
            ("applications.csv", &format!("{APPLICATIONS}{steady},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    match regular_in(s, &book, XICHENG, "2020-01").await? {
        RunOutcome::Computed(sum) => eq(sum.batch_id.as_str(), BATCH, "batch id")?,
        other => return Err(format!("run 2020-01: expected {BATCH} computed, got {other:?}").into()),
    }
    // One transfer of 100.00 (see the module doc).
    eq(s.batch(BATCH).await?.map(|b| (b.transfer_count, b.control_sum_fen)), Some((1, 10_000)), "batch totals")?;
    approve(s, BATCH).await
}

/// Commands of the audit log, in order.
async fn audit_commands<S: Store>(s: &S) -> Result<Vec<String>, Failed> {
    Ok(s.audit_log().await?.0.into_iter().map(|r| r.entry.command).collect())
}

async fn state<S: LedgerStore>(s: &S) -> Result<Option<BatchState>, Failed> {
    Ok(s.batch(BATCH).await?.map(|b| b.state))
}

/// Every entry of `dir` (file names), sorted.
fn entries(dir: &Path) -> Result<Vec<String>, Failed> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().to_string()))
        .collect::<Result<_, Failed>>()?;
    names.sort();
    Ok(names)
}

/// The six files of the batch (INTERFACE.md), sorted by name.
fn six_files() -> Vec<String> {
    let mut names: Vec<String> =
        ["transfers.csv", "lines.csv", "held.csv", "recoveries.csv", "order.json", "manifest.json"]
            .iter()
            .map(|f| format!("{BATCH}-{f}"))
            .collect();
    names.sort();
    names
}

/// A path no one can create a folder at, even root: below a regular file.
fn unwritable(tmp: &Path) -> Result<std::path::PathBuf, Failed> {
    std::fs::write(tmp.join("file.txt"), "not a folder")?;
    Ok(tmp.join("file.txt").join("sub"))
}

/// The export fails naming the folder and what to do; the batch stays approved and the audit log
/// gains nothing; then an export into a good folder writes the six files (the CSV files, which
/// carry ID and account numbers, with mode 0640), marks the batch exported, and adds exactly one
/// audit entry.
async fn p6_export_into_unwritable_folder_leaves_batch_approved_and_unaudited<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    approved_batch(s).await?;
    let before = audit_commands(s).await?;
    eq(before.last().map(String::as_str), Some("approve"), "last audit entry before the export")?;
    let tmp = tempfile::tempdir()?;
    let bad = unwritable(tmp.path())?;
    let failed = subsidy::ops::export::write_export_by(s, BATCH, &bad, OPERATOR, clock()).await;
    let message = match failed {
        Ok(files) => return Err(format!("export into {} succeeded with {} files", bad.display(), files.len()).into()),
        Err(e) => format!("{e:#}"),
    };
    for part in [
        "nothing was exported",
        &format!("batch {BATCH} stays approved"),
        &bad.display().to_string(),
        &format!("run `subsidy export --batch {BATCH} --out"),
    ] {
        check(message.contains(part), format!("the error should say `{part}`: {message}"))?;
    }
    eq(state(s).await?, Some(BatchState::Approved), "state after the failed export")?;
    eq(audit_commands(s).await?, before.clone(), "audit log after the failed export")?;
    eq(entries(tmp.path())?, vec!["file.txt".to_string()], "nothing left beside the file")?;

    let good = tmp.path().join("out");
    let files = subsidy::ops::export::write_export_by(s, BATCH, &good, OPERATOR, clock()).await?;
    eq(files.len(), 6, "files written")?;
    eq(entries(&good)?, six_files(), "the folder holds the six files and no temporary file")?;
    eq(state(s).await?, Some(BatchState::Exported), "state after the good export")?;
    let mut want = before;
    want.push("export".into());
    eq(audit_commands(s).await?, want, "audit log after the good export: one entry more")?;
    let (_, problems) = subsidy::ops::verify::verify_batch(s, BATCH, &good).await?;
    eq(problems, Vec::<String>::new(), "verify of the good export")?;
    eq(commands::verify_audit(s, false).await?, 0, "verify --audit")?;
    #[cfg(unix)]
    for name in six_files().iter().filter(|n| n.ends_with(".csv")) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(good.join(name))?.permissions().mode() & 0o777;
        eq(format!("{mode:o}"), "640".to_string(), &format!("mode of {name}"))?;
    }
    Ok(())
}

/// Exporting an exported batch again writes the same bytes (INTERFACE.md); when the folder cannot
/// be written the batch stays exported, its earlier files stand, and no audit entry is added.
async fn p6_failed_re_export_leaves_batch_exported_and_unaudited<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    approved_batch(s).await?;
    let tmp = tempfile::tempdir()?;
    let first = subsidy::ops::export::write_export_by(s, BATCH, &tmp.path().join("first"), OPERATOR, clock()).await?;
    let before = audit_commands(s).await?;
    let failed = subsidy::ops::export::write_export_by(s, BATCH, &unwritable(tmp.path())?, OPERATOR, clock()).await;
    let message = failed.err().map(|e| format!("{e:#}")).ok_or("the export into a file's path succeeded")?;
    check(
        message.contains(&format!("batch {BATCH} stays exported")),
        format!("the error should say the batch stays exported: {message}"),
    )?;
    eq(state(s).await?, Some(BatchState::Exported), "state after the failed re-export")?;
    eq(audit_commands(s).await?, before.clone(), "audit log after the failed re-export")?;
    let again = subsidy::ops::export::write_export_by(s, BATCH, &tmp.path().join("again"), OPERATOR, clock()).await?;
    eq(again, first, "a re-export writes the same files, byte for byte")?;
    eq(audit_commands(s).await?.len(), before.len() + 1, "the good re-export is audited")?;
    Ok(())
}

/// A discard of the approved batch issued while its export is writing waits for the export (the
/// export holds the batch's row) and is then refused: the batch is exported, its files stand, and
/// the audit log has the export and no discard.
async fn p6_discard_during_export_waits_and_is_refused<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    use subsidy::store::ExportTx;
    approved_batch(s).await?;
    let before = audit_commands(s).await?;
    let tx = s.begin_export(BATCH).await?.ok_or("begin_export found no batch")?;
    eq(tx.batch().state, BatchState::Approved, "state read under the lock")?;
    let discard_entry = subsidy::audit::AuditEntry {
        actor: OPERATOR.into(),
        command: "discard".into(),
        target: BATCH.into(),
        reason: "racing the export".into(),
        input_fingerprint: String::new(),
        details: "{}".into(),
    };
    let export_entry = subsidy::audit::AuditEntry { command: "export".into(), ..discard_entry.clone() };
    let discard = async {
        let started = std::time::Instant::now();
        let done = s.discard_batch(BATCH, "racing the export", &discard_entry, clock().now()).await;
        (done, started.elapsed())
    };
    let export = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        tx.finish(&export_entry, clock().now()).await
    };
    let ((discarded, waited), exported) = tokio::join!(discard, export);
    exported?;
    eq(discarded?, false, "the discard, once the export committed")?;
    check(waited.as_millis() >= 250, format!("the discard waited for the export: {waited:?}"))?;
    eq(state(s).await?, Some(BatchState::Exported), "state")?;
    let mut want = before;
    want.push("export".into());
    eq(audit_commands(s).await?, want, "audit log: the export, no discard")?;
    Ok(())
}
