//! What the batch commands print: `run` and `rerun` (per district, as each finishes), `approve`,
//! `withdraw`, `discard`, `export`, `verify`, `verify --audit` and `recovery`.

use super::print_json;
use crate::adapters::platform::Written;
use crate::adapters::report::review::MonthReview;
use crate::batch::{BatchSummary, Difference, RunOutcome};
use crate::idcard::mask_key;
use crate::money::{format_fen, format_yuan};
use crate::ops::recovery::Decision;
use crate::ops::run::DistrictRun;
use crate::ops::verify::AuditCheck;
use crate::store::{BatchRow, RecoveryRow};
use rust_decimal::Decimal;
use serde_json::json;
use std::path::Path;

/// The summary a stored batch was computed with (none if it cannot be read back).
pub(super) fn stored_summary(b: &BatchRow) -> Option<BatchSummary> {
    serde_json::from_str(&b.summary).ok()
}

/// One district's run, as text: the batch computed (or there already), or why there is none.
pub fn district_run(run: &DistrictRun) {
    let district = run.district.as_str();
    match &run.outcome {
        RunOutcome::Computed(sum) => computed(district, sum),
        RunOutcome::Existing(b) => {
            println!(
                "month {} already has batch {} ({}); nothing changed",
                b.service_month,
                b.batch_id,
                b.state.as_str()
            );
            if let Some(sum) = stored_summary(b) {
                for line in sum.describe() {
                    println!("{line}");
                }
            }
        }
        RunOutcome::NothingToSettle => println!("district {district}: nothing to pay or settle; no batch written"),
        RunOutcome::Locked => {
            eprintln!("district {district}: another run holds this district; try again later (exit status 4)")
        }
        RunOutcome::Refused(why) => eprintln!("district {district}: refused: {why}"),
    }
}

fn computed(district: &str, sum: &BatchSummary) {
    let dry = if sum.dry_run { " — DRY RUN, nothing written" } else { "" };
    println!(
        "batch {} ({}, service month {}, district {district}){dry}",
        sum.batch_id,
        sum.kind.as_str(),
        sum.service_month
    );
    if let Some(old) = &sum.replaces {
        let verb = if sum.dry_run { "would replace" } else { "replaces" };
        println!("  {verb} {old} (not yet exported; kept, marked superseded)");
    }
    if sum.carried_postings > 0 {
        println!("  carried over {} postings of unchanged persons from the batch it replaces", sum.carried_postings);
    }
    if sum.read_changed_only {
        println!("  read only the {} person(s) changed since the district's last batch", sum.persons_read);
    }
    for line in sum.describe() {
        println!("{line}");
    }
    differences(&sum.differences);
    if !sum.dry_run {
        println!("  next: subsidy approve --batch {} --by NAME   (someone other than {})", sum.batch_id, sum.run_by);
    }
}

/// `rerun --dry-run`: per person and allowance, net paid, owed now and the difference.
fn differences(diffs: &[Difference]) {
    if diffs.is_empty() {
        return;
    }
    println!(
        "  {:<20} {:<10} {:<10} {:>12} {:>12} {:>12}",
        "person", "name", "allowance", "net paid", "owed now", "difference"
    );
    let (mut paid, mut owed, mut diff) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for d in diffs {
        println!(
            "  {:<20} {:<10} {:<10} {:>12} {:>12} {:>12}",
            d.id_number,
            d.name,
            d.allowance.as_str(),
            format_yuan(d.net_paid),
            format_yuan(d.owed),
            format_yuan(d.difference)
        );
        paid += d.net_paid;
        owed += d.owed;
        diff += d.difference;
    }
    println!(
        "  {:<20} {:<10} {:<10} {:>12} {:>12} {:>12}",
        "total",
        "",
        "",
        format_yuan(paid),
        format_yuan(owed),
        format_yuan(diff)
    );
}

/// Every district's run as one JSON object (with `batch_id` when exactly one batch is named).
pub fn runs_json(runs: &[DistrictRun]) {
    let results: Vec<serde_json::Value> = runs.iter().map(run_json).collect();
    let mut out = json!({ "batches": results });
    let ids: Vec<&serde_json::Value> =
        out["batches"].as_array().expect("array").iter().filter_map(|b| b.get("batch_id")).collect();
    if ids.len() == 1 {
        out["batch_id"] = ids[0].clone();
    }
    print_json(&out);
}

fn run_json(run: &DistrictRun) -> serde_json::Value {
    let district = run.district.as_str();
    match &run.outcome {
        RunOutcome::Computed(sum) => {
            json!({ "district_code": district, "batch_id": sum.batch_id, "outcome": "computed", "state": if sum.dry_run { "dry-run" } else { "computed" }, "summary": sum })
        }
        RunOutcome::Existing(b) => {
            json!({ "district_code": district, "batch_id": b.batch_id, "outcome": "existing", "state": b.state, "summary": stored_summary(b) })
        }
        RunOutcome::NothingToSettle => {
            json!({ "district_code": district, "outcome": "nothing_to_settle", "message": "nothing to pay or settle; no batch written" })
        }
        RunOutcome::Locked => {
            json!({ "district_code": district, "outcome": "locked", "message": "another run holds this district; try again later" })
        }
        RunOutcome::Refused(why) => {
            json!({ "district_code": district, "outcome": "refused", "message": why.to_string() })
        }
    }
}

/// `approve`.
pub fn approved(b: &BatchRow, review: Option<&MonthReview>, json: bool) {
    let batch_id = &b.batch_id;
    if json {
        print_json(&json!({ "batch_id": batch_id, "state": b.state, "approved_by": b.approved_by, "review": review }));
    } else {
        println!(
            "batch {batch_id} approved by {}; next: subsidy export --batch {batch_id} --out DIR",
            b.approved_by.as_deref().unwrap_or_default()
        );
    }
}

/// `withdraw`.
pub fn withdrawn(batch_id: &str, json: bool) {
    if json {
        print_json(&json!({ "batch_id": batch_id, "state": "computed" }));
    } else {
        println!("approval of {batch_id} withdrawn; it is computed again: approve, rerun or discard it");
    }
}

/// `discard`, given the batch as it was.
pub fn discarded(b: &BatchRow, reason: &str, json: bool) {
    let batch_id = &b.batch_id;
    if json {
        print_json(&json!({ "batch_id": batch_id, "state": "discarded" }));
    } else {
        println!(
            "batch {batch_id} discarded ({reason}); it will never be paid. `subsidy run --month {}` computes the month again",
            b.service_month
        );
    }
}

/// `export`: the files written, with the start of their SHA-256.
pub fn exported(batch_id: &str, out: &Path, files: &[Written], json: bool) {
    if json {
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        print_json(&json!({ "batch_id": batch_id, "dir": out.display().to_string(), "files": names }));
    } else {
        println!("batch {batch_id} exported to {}:", out.display());
        for f in files {
            println!("  {:<40} {:>7} rows  sha256 {}", f.name, f.rows, &f.sha256[..16]);
        }
    }
}

/// `verify --batch`: agreement, or every difference and what to do.
pub fn verified(batch_id: &str, dir: &Path, files: &[Written], problems: &[String], json: bool) {
    if json {
        print_json(&json!({ "batch_id": batch_id, "ok": problems.is_empty(), "differences": problems }));
    } else if problems.is_empty() {
        println!(
            "batch {batch_id}: {} files in {} match the database; manifest, control sum and line totals agree",
            files.len(),
            dir.display()
        );
    } else {
        println!("batch {batch_id}: {} difference(s):", problems.len());
        for p in problems {
            println!("  {p}");
        }
        println!("do not send these files; export the batch again into an empty folder and verify that");
    }
}

/// `verify --audit`.
pub fn audit_verified(check: &AuditCheck, json: bool) {
    let problems = &check.problems;
    if json {
        print_json(&json!({ "entries": check.entries, "ok": problems.is_empty(), "differences": problems }));
    } else if problems.is_empty() {
        println!("audit log: {} entries, hash chain intact", check.entries);
    } else {
        println!("audit log: {} problem(s) in {} entries:", problems.len(), check.entries);
        for p in problems {
            println!("  {p}");
        }
    }
}

/// `recovery`: the item closed (its key masked).
pub fn recovery_closed(item: &RecoveryRow, decision: Decision, by: &str, json: bool) {
    let key = mask_key(&item.payment_key);
    let decision = decision.as_str();
    if json {
        print_json(&json!({ "payment_key": key, "decision": decision }));
    } else {
        println!("recovery {key} ({} yuan) recorded as {decision} by {by}", format_fen(item.amount_fen));
    }
}
