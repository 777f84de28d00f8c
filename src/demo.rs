//! `subsidy demo`: a year of Xicheng's allowances, end to end, on a database of its own
//! (`subsidy-demo.db`, rebuilt each time; never `subsidy.db`). Its fixtures are compiled into the
//! binary ([`fixtures`]) and written into a temporary folder, so the binary alone runs it from any
//! folder. It imports the committed registry in `fixtures/demo/registry`, then for each month of
//! 2020 imports the corrections dated for it (`fixtures/demo/corrections/YYYY-MM-what/`: a death
//! reported late, a certificate re-graded),
//! with a lottery allocation (F3) for each district it pays (`fixtures/demo/allocations.toml`),
//! runs the month, approves it as a second person, exports and verifies the platform files,
//! reconciles the platform's answer (every transfer paid, except those `fixtures/demo/platform/`
//! names: in April a closed account and a deceased holder's returned payments), checks the ledger
//! (`verify --ledger`), and finally prints the year's report. It goes through the same use-cases as the commands
//! ([`crate::ops`]: init, import, run, approve, export, verify, report), so its audit log holds
//! what theirs would.

use crate::adapters::registry_csv::encoding::Encoding;
use crate::adapters::registry_csv::import::ImportReport;
use crate::batch::RunOutcome;
use crate::clock::Clock;
use crate::money::{format_fen, format_yuan};
use crate::month::ServiceMonth;
use crate::ops;
use crate::ops::init::InitRequest;
use crate::ops::run::{DistrictRun, RunOrder};
use crate::policy::{Policy, DEFAULT_POLICY};
use crate::store::{SqliteStore, Store};
use anyhow::Context as _;
use std::path::Path;

mod fixtures;

/// The demo's own database file.
pub const DEMO_DB: &str = "subsidy-demo.db";
const OPERATOR: &str = "demo-operator";
const REVIEWER: &str = "demo-reviewer";

/// Run the demo; prints as it goes and ends with the report of 2020.
pub async fn run(out: &Path, json: bool, clock: Clock) -> anyhow::Result<i32> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DEMO_DB}{suffix}"));
    }
    let s = SqliteStore::open(&format!("sqlite://{DEMO_DB}")).await?;
    let start: ServiceMonth = "2020-01".parse().expect("month");
    // The embedded fixtures, unpacked for the import; the folder goes when the demo ends.
    let unpacked = tempfile::Builder::new()
        .prefix("subsidy-demo-fixtures-")
        .tempdir()
        .context("demo: cannot create a temporary folder for its fixtures")?;
    fixtures::unpack(unpacked.path()).context("demo: cannot write its fixtures into a temporary folder")?;
    let fixtures = unpacked.path();
    // F3: every district and year the demo pays needs an allocation, or that district pays all.
    let mut policy = Policy::parse(DEFAULT_POLICY)?;
    policy.allocations.extend(demo_allocations(&fixtures.join("allocations.toml"))?);
    let source = "fixtures/policy/beijing-2019.toml + fixtures/demo/allocations.toml".to_string();
    let init = InitRequest { start_month: Some(start), first_policy: Some((policy, source)) };
    ops::init::init(&s, init, OPERATOR, clock).await?;
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    say(format!(
        "subsidy demo: Xicheng's allowances for 2020 on {DEMO_DB} (rebuilt), platform files in {}",
        out.display()
    ));
    let registry = import(&s, fixtures, "registry", clock).await?;
    say(format!("imported the demo registry: {}", counts(&registry)));
    let corrections = corrections(&fixtures.join("corrections"))?;
    say(format!(
        "{:<8} {:<20} {:>9} {:>13} {:>12} {:>12} {:>9} {:>11}",
        "month", "batch", "transfers", "control sum", "lottery", "district", "held", "recoveries"
    ));
    let mut batches = Vec::new();
    for month in start.through("2020-12".parse().expect("month")) {
        for (when, name, dir) in corrections.iter().filter(|(m, _, _)| *m == month) {
            let r = import(&s, fixtures, dir, clock).await?;
            say(format!("before running {when}: imported correction `{name}` ({})", counts(&r)));
        }
        for district in s.districts().await? {
            let order = RunOrder { district: Some(&district), month, by: OPERATOR, dry_run: false };
            // One district asked: one run.
            let Some(DistrictRun { outcome, .. }) = ops::run::run(&s, &order, clock, |_| {}).await?.pop() else {
                continue;
            };
            let sum = match outcome {
                RunOutcome::Computed(sum) => sum,
                RunOutcome::NothingToSettle => continue,
                other => anyhow::bail!("demo: district {district} {month}: unexpected outcome {other:?}"),
            };
            ops::approve::approve(&s, &sum.batch_id, REVIEWER, clock).await?;
            ops::export::export(&s, &sum.batch_id, out, OPERATOR, clock).await?;
            let (_, problems) = ops::verify::verify_batch(&s, &sum.batch_id, out).await?;
            anyhow::ensure!(problems.is_empty(), "demo: verify found {problems:?}");
            let answered = platform_results(&s, fixtures, &sum.batch_id, month, out, clock).await?;
            say(format!(
                "{:<8} {:<20} {:>9} {:>13} {:>12} {:>12} {:>9} {:>11}",
                month.to_string(),
                sum.batch_id,
                sum.transfer_count,
                format_yuan(sum.control_sum),
                format_yuan(sum.lottery),
                format_yuan(sum.district_share),
                format_yuan(sum.held.amount),
                format_yuan(sum.recoveries.amount)
            ));
            if let Some(line) = answered {
                say(line);
            }
            batches.push(sum.batch_id.clone());
        }
    }
    say(format!(
        "{} batches computed by {OPERATOR}, approved by {REVIEWER}, exported and verified in {}\n",
        batches.len(),
        out.display()
    ));
    let ledger = ops::ledger::check_ledger(&s).await?;
    anyhow::ensure!(ledger.breaches.is_empty(), "demo: the ledger does not balance: {:?}", ledger.breaches);
    say(format!(
        "ledger: {} person-months, owed {} = paid {} + held {} + waiting {} + recovered {}: nothing paid twice, nothing lost\n",
        ledger.totals.keys,
        format_fen(ledger.totals.sum.owed),
        format_fen(ledger.totals.sum.paid),
        format_fen(ledger.totals.sum.held),
        format_fen(ledger.totals.sum.waiting),
        format_fen(ledger.totals.sum.recovered)
    ));
    let reports = ops::report::report(&s, None, 2020, None).await?;
    if json {
        let summary = serde_json::json!({ "database": DEMO_DB, "out": out.display().to_string(), "batches": batches, "report": reports });
        println!("{summary}");
    } else {
        print!("{}", crate::adapters::report::text(&reports));
        // The binary as its user runs it: these work from this folder, outside any repository.
        println!("look closer (the database stays until the next demo):");
        let explain = format!("explain --id ID_NUMBER --month 2020-05   (IDs: {}/*-recoveries.csv)", out.display());
        for cmd in ["status --recoveries", "verify --ledger", &explain, "report --year 2020 --json"] {
            println!("  subsidy --database-url sqlite://{DEMO_DB} {cmd}");
        }
    }
    s.close().await;
    Ok(0)
}

/// The platform's answer to an exported batch, as the district receives it: every transfer paid,
/// except those `fixtures/demo/platform/YYYY-MM.csv` names (`id_number,allowance,status,
/// reason_code,reason`); written beside the batch's files as `<batch>-results.csv` and reconciled.
/// A line to print when the month had answers other than paid.
async fn platform_results(
    s: &SqliteStore,
    fixtures: &Path,
    batch: &str,
    month: ServiceMonth,
    out: &Path,
    clock: Clock,
) -> anyhow::Result<Option<String>> {
    let mut exceptions = std::collections::BTreeMap::new();
    let special = fixtures.join("platform").join(format!("{month}.csv"));
    if special.is_file() {
        let mut r = csv::Reader::from_path(&special)?;
        for row in r.records() {
            let row = row?;
            let field = |i: usize| row.get(i).unwrap_or_default().to_string();
            exceptions.insert((field(0), field(1)), (field(2), field(3), field(4)));
        }
    }
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(["transfer_id", "status", "reason_code", "reason"])?;
    let mut r = csv::Reader::from_path(out.join(format!("{batch}-transfers.csv")))?;
    for row in r.records() {
        let row = row?;
        let (transfer, id, allowance) = (&row[0], &row[1], &row[5]);
        match exceptions.get(&(id.to_string(), allowance.to_string())) {
            Some((status, code, reason)) => w.write_record([transfer, status, code, reason])?,
            None => w.write_record([transfer, "paid", "", ""])?,
        }
    }
    let file = out.join(format!("{batch}-results.csv"));
    std::fs::write(&file, w.into_inner()?)?;
    let done = ops::reconcile::reconcile(s, &file, Encoding::Utf8, None, OPERATOR, clock).await?;
    if done.holds.is_empty() {
        return Ok(None);
    }
    let held: Vec<String> = done.holds.iter().map(|(id, code, _)| format!("{id} {code}")).collect();
    Ok(Some(format!("         platform results for {batch}: {} (held until corrected, L3)", held.join(", "))))
}

/// Import the folder `folder` of the demo's fixtures (unpacked in `fixtures`) as the operator;
/// every row must be accepted.
async fn import(s: &SqliteStore, fixtures: &Path, folder: &str, clock: Clock) -> anyhow::Result<ImportReport> {
    let report = ops::import::import(s, &fixtures.join(folder), Encoding::Utf8, OPERATOR, clock).await?;
    if let Some(first) = report.rejects.first() {
        // The fixtures are a year of 2020: a date fixed before its end (SUBSIDY_TODAY, SUBSIDY_NOW)
        // makes their later dates "in the future".
        anyhow::bail!(
            "the demo's registry (fixtures/demo/{folder}, built in) has {} rejected row(s), the first {} line {}: \
             {} {}; the demo plays the year 2020 and needs today's date after it: unset SUBSIDY_TODAY \
             and SUBSIDY_NOW (or set them to 2021 or later)",
            report.rejects.len(),
            first.file,
            first.line,
            first.reason,
            first.detail
        );
    }
    Ok(report)
}

/// The demo's extra lottery allocations (F3).
fn demo_allocations(path: &Path) -> anyhow::Result<Vec<crate::policy::Allocation>> {
    #[derive(serde::Deserialize)]
    struct File {
        allocations: Vec<crate::policy::Allocation>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("demo: cannot read {}", path.display()))?;
    let file: File =
        toml::from_str(&text).with_context(|| format!("demo: {} is not an allocations file", path.display()))?;
    Ok(file.allocations)
}

fn counts(r: &ImportReport) -> String {
    r.files.iter().map(|(f, c)| format!("{f} {}", c.accepted)).collect::<Vec<_>>().join(", ")
}

/// Correction folders `YYYY-MM-what` (as `corrections/YYYY-MM-what`, below the fixtures),
/// imported before running month YYYY-MM.
fn corrections(dir: &Path) -> anyhow::Result<Vec<(ServiceMonth, String, String)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let Some(month) = name.get(..7).and_then(|m| m.parse().ok()) else { continue };
        out.push((month, name[7..].trim_start_matches('-').to_string(), format!("corrections/{name}")));
    }
    out.sort();
    Ok(out)
}
