//! One function per command. Each opens the store the URL names and calls into the core and the
//! shell modules; none holds business rules of its own.

use super::args::{Cli, Command, PolicyAction, ReportFormat};
use super::{print_json, ExitStatus, UsageError};
use crate::adapters::platform;
use crate::adapters::registry_csv::encoding::Encoding;
use crate::adapters::registry_csv::import::import_dir_as;
use crate::adapters::registry_csv::validate::Context;
use crate::batch::{run_district, BatchSummary, RunOutcome, RunRequest};
use crate::clock::Clock;
use crate::eligibility::explain_month;
use crate::ledger::BatchKind;
use crate::ledger::BatchState;
use crate::money::format_yuan;
use crate::month::ServiceMonth;
use crate::policy::{Policy, PolicyBook, SplitRule, DEFAULT_POLICY};
use crate::store::LedgerStore;
use crate::store::{self, PolicyLoad, Store};
use crate::{idcard, with_store};
use anyhow::Context as _;
use rust_decimal::Decimal;
use serde_json::json;
use std::path::Path;

/// Run the parsed command.
pub async fn dispatch(cli: Cli, clock: Clock) -> anyhow::Result<ExitStatus> {
    if let Command::Generate { elders, seed, out, malformed } = &cli.command {
        return generate(*elders, *seed, out, *malformed, cli.district.as_deref(), cli.json);
    }
    if let Command::Demo { out } = &cli.command {
        return crate::demo::run(out, cli.json, clock).await;
    }
    let any = store::open(&cli.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&cli.database_url)))?;
    with_store!(&any, |s| on_store(s, &cli, clock).await)
}

async fn on_store<S: Store + LedgerStore>(s: &S, cli: &Cli, clock: Clock) -> anyhow::Result<ExitStatus> {
    if let Command::Init { start_month, by } = &cli.command {
        let by = actor(by.as_deref())?;
        return init(s, *start_month, &by, cli.json, clock).await;
    }
    if s.start_month().await.ok().flatten().is_none() {
        return Err(UsageError(
            "this database is not initialised: run `subsidy init --start-month YYYY-MM` first".into(),
        )
        .into());
    }
    match &cli.command {
        Command::Init { .. } | Command::Generate { .. } | Command::Demo { .. } => unreachable!("handled above"),
        Command::Run { month, by, dry_run } => {
            let by = actor(by.as_deref())?;
            run(s, cli.district.as_deref(), *month, &by, *dry_run, cli.json, clock).await
        }
        Command::Approve { batch, by } => approve(s, batch, by, cli.json, clock).await,
        Command::Export { batch, out, by } => {
            let by = actor(by.as_deref())?;
            export(s, batch, out, &by, cli.json, clock).await
        }
        Command::Verify { audit: true, .. } => verify_audit(s, cli.json).await,
        Command::Verify { batch, dir, .. } => {
            let (Some(batch), Some(dir)) = (batch, dir) else {
                return Err(UsageError("verify needs --batch ID --dir DIR, or --audit".into()).into());
            };
            verify(s, batch, dir, cli.json).await
        }
        Command::Status { month, recoveries } => {
            status(s, cli.district.as_deref(), *month, *recoveries, cli.json).await
        }
        Command::Rerun { month, reason, by, dry_run } => {
            let by = actor(by.as_deref())?;
            rerun(s, cli.district.as_deref(), *month, reason, &by, *dry_run, cli.json, clock).await
        }
        Command::Discard { batch, reason, by } => {
            let by = actor(by.as_deref())?;
            discard(s, batch, reason, &by, cli.json, clock).await
        }
        Command::Withdraw { batch, reason, by } => {
            let by = actor(by.as_deref())?;
            withdraw(s, batch, reason, &by, cli.json, clock).await
        }
        Command::Recovery { key, collected, reason, by, .. } => {
            let by = actor(Some(by))?;
            recovery(s, key, if *collected { "collected" } else { "waived" }, reason, &by, cli.json, clock).await
        }
        Command::Report { year, month, format, out } => {
            let format = if cli.json { ReportFormat::Json } else { *format };
            report(s, cli.district.as_deref(), *year, *month, format, out.as_deref()).await
        }
        Command::Policy { action: PolicyAction::Show } => policy_show(s, cli.json, clock).await,
        Command::Policy { action: PolicyAction::Load { file, by } } => {
            let by = actor(by.as_deref())?;
            policy_load(s, file, &by, cli.json, clock).await
        }
        Command::Import { dir, encoding, by } => {
            let by = actor(by.as_deref())?;
            import(s, dir, (*encoding).into(), &by, cli.json, clock).await
        }
        Command::Explain { id, month } => explain(s, id, *month, cli.json).await,
    }
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

async fn init<S: Store>(
    s: &S,
    start_month: Option<ServiceMonth>,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    s.migrate().await?;
    let start = match (s.start_month().await?, start_month) {
        (None, None) => {
            return Err(UsageError("the first `subsidy init` needs --start-month YYYY-MM: the first service month this engine pays (T7)".into()).into())
        }
        (None, Some(m)) => {
            s.set_start_month(m).await?;
            let entry = audit(by, "init", &m.to_string(), "", crate::digest::sha256_hex(m.to_string().as_bytes()), json!({ "start_month": m }));
            s.append_audit(&entry, clock.now()).await?;
            m
        }
        (Some(old), Some(new)) if old != new => anyhow::bail!(
            "the start month is {old} and cannot change (T7: months before it were settled by the system this engine replaces); \
             to start over, use a new database"
        ),
        (Some(old), _) => old,
    };
    let mut loaded = None;
    if s.policy_versions().await?.is_empty() {
        let policy = Policy::parse(DEFAULT_POLICY).context("the built-in policy file is broken")?;
        s.add_policy(&policy, "fixtures/policy/beijing-2019.toml", clock.now()).await?;
        loaded = Some(policy.version);
    }
    let versions = s.policy_versions().await?;
    if json {
        print_json(&json!({ "start_month": start, "policy_loaded": loaded, "policy_versions": versions.len() }));
    } else {
        println!("database ready; start month {start} (T7)");
        match loaded {
            Some(v) => println!("loaded the default policy {v}"),
            None => println!("{} policy version(s) already loaded; `subsidy policy show` lists them", versions.len()),
        }
    }
    Ok(0)
}

async fn policy_book<S: Store>(s: &S) -> anyhow::Result<PolicyBook> {
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

async fn policy_show<S: Store>(s: &S, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    let book = policy_book(s).await?;
    let now = ServiceMonth::of(clock.today());
    let in_force = &book.in_force(now).version;
    if json {
        print_json(&json!({ "in_force": in_force, "versions": book.versions() }));
        return Ok(0);
    }
    println!("{} policy version(s); in force for {now}: {in_force}", book.versions().len());
    for p in book.versions() {
        print_policy(p);
    }
    Ok(0)
}

fn print_policy(p: &Policy) {
    println!("\n== {} (effective from service month {}) ==", p.version, p.effective_from);
    if !p.title.is_empty() {
        println!("{}", p.title);
    }
    let t = &p.timing;
    println!(
        "T5: no month before {} counts; back pay at most {} months before the application",
        t.policy_start, t.backpay_months
    );
    println!("T1 [decision]: month M is run on day {} of M-1 at {} {}", t.run_day, t.run_time, t.timezone);
    println!("\nlongevity (R2, R3; F1 quota)      monthly   lottery quota");
    for tier in &p.longevity.tiers {
        println!(
            "  {:<8} from age {:<3}          {:>8}  {:>8}",
            tier.tier,
            tier.min_age,
            format_yuan(tier.monthly),
            format_yuan(tier.lottery_quota)
        );
    }
    println!("care (R4, R5; from age {}; R8 excluded by {})", p.care.min_age, join(&p.care.excluded_by));
    for tier in &p.care.tiers {
        let certs: Vec<String> = tier
            .certificates
            .iter()
            .map(|c| {
                let multiple = match c.multiple {
                    Some(true) => " multiple",
                    Some(false) => " single",
                    None => "",
                };
                format!("{} grade {}{multiple}", join(&c.categories), join(&c.grades))
            })
            .collect();
        let assessed =
            if tier.assessments.is_empty() { String::new() } else { format!("assessed {}; ", join(&tier.assessments)) };
        println!(
            "  {:<8} {:>8}  {:>8}  {assessed}certificate {}",
            tier.tier,
            format_yuan(tier.monthly),
            format_yuan(tier.lottery_quota),
            certs.join("; ")
        );
    }
    println!("hardship (R6; from age {}; R8 excluded by {})", p.hardship.min_age, join(&p.hardship.excluded_by));
    for tier in &p.hardship.tiers {
        println!(
            "  {:<15} {:>8}  {:>8}  status {}",
            tier.tier,
            format_yuan(tier.monthly),
            format_yuan(tier.lottery_quota),
            join(&tier.statuses)
        );
    }
    match (p.funding.rule, p.funding.lottery_percent) {
        (SplitRule::Percentage, Some(pct)) => {
            println!("split (F4): lottery {pct}% of each amount, half up to the fen; district the rest")
        }
        _ => println!("split (F2 [decision]): lottery = min(quota, amount) per person-month; district the rest"),
    }
    println!("lottery allocations (F3):");
    if p.allocations.is_empty() {
        println!("  none loaded");
    }
    for a in &p.allocations {
        let name = p.district(&a.district).map(|d| d.name.as_str()).unwrap_or("");
        println!("  {} {name} {}: {} yuan ({} 万元)", a.district, a.year, format_yuan(a.amount), wan(a.amount));
    }
    let streets: usize = p.districts.iter().map(|d| d.streets.len()).sum();
    println!("districts: {} known, {streets} streets listed", p.districts.len());
}

/// Yuan as 万元 (ten thousands), exact.
pub fn wan(amount: Decimal) -> String {
    (amount / Decimal::from(10_000)).normalize().to_string()
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("/")
}

async fn policy_load<S: Store>(s: &S, file: &Path, by: &str, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let policy = Policy::parse(&text).with_context(|| format!("{} is not a usable policy file", file.display()))?;
    let outcome = s.add_policy(&policy, &file.display().to_string(), clock.now()).await?;
    if outcome == PolicyLoad::Added {
        let entry = audit(
            by,
            "policy load",
            &policy.version,
            "",
            crate::digest::sha256_hex(policy.to_json().as_bytes()),
            json!({ "file": file.display().to_string(), "effective_from": policy.effective_from }),
        );
        s.append_audit(&entry, clock.now()).await?;
    }
    let (status, message) = match &outcome {
        PolicyLoad::Added => (0, format!("loaded policy {} effective from {}", policy.version, policy.effective_from)),
        PolicyLoad::AlreadyLoaded => {
            (0, format!("policy {} is already loaded with the same content; nothing changed", policy.version))
        }
        PolicyLoad::Conflict(why) => (1, format!("refused: {why}")),
    };
    if json {
        print_json(
            &json!({ "version": policy.version, "effective_from": policy.effective_from, "outcome": format!("{outcome:?}"), "message": message }),
        );
    } else if status == 0 {
        println!("{message}");
    } else {
        eprintln!("error: {message}");
    }
    Ok(status)
}

async fn import<S: Store>(
    s: &S,
    dir: &Path,
    encoding: Encoding,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let book = policy_book(s).await?;
    let ctx = Context { today: clock.today(), policy: book.latest() };
    let report = import_dir_as(s, dir, encoding, &ctx, clock.now()).await?;
    let entry = audit(
        by,
        "import",
        &dir.display().to_string(),
        "",
        files_fingerprint(dir)?,
        json!({ "import_id": report.import_id, "files": report.files, "rejected": report.rejects.len() }),
    );
    s.append_audit(&entry, clock.now()).await?;
    if json {
        print_json(&report);
    } else {
        println!("import {} of {}", report.import_id, dir.display());
        for (file, c) in &report.files {
            println!("  {file:<22} accepted {:>9}  rejected {:>7}", c.accepted, c.rejected);
        }
        if report.has_rejects() {
            println!("rejected rows (file:line reason: detail):");
            for r in &report.rejects {
                println!("  {}:{} {}: {}", r.file, r.line, r.reason, r.detail);
            }
            println!("the accepted rows are stored; correct the rejected rows and import the files again (rows update by key)");
        }
    }
    Ok(if report.has_rejects() { 3 } else { 0 })
}

async fn explain<S: Store + LedgerStore>(
    s: &S,
    id: &str,
    month: ServiceMonth,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    let book = policy_book(s).await?;
    let Some(rec) = s.person(id).await? else {
        anyhow::bail!("no person {} in the registry; check the ID number or import elders.csv", idcard::mask(id));
    };
    let start = s.start_month().await?;
    let decisions = explain_month(&book, &rec, start, month);
    let postings = s.postings_of(id, month).await?;
    // For each batch that posted this month: the decision as the registry stood when it was computed.
    let mut as_computed: Vec<(String, BatchState, i64, Vec<crate::eligibility::AllowanceDecision>)> = Vec::new();
    for (p, state, watermark) in &postings {
        if as_computed.iter().any(|(b, ..)| *b == p.batch_id) {
            continue;
        }
        let then = s.person_as_of(id, *watermark).await?;
        let decided = then.map(|r| explain_month(&book, &r, start, month)).unwrap_or_default();
        as_computed.push((p.batch_id.clone(), *state, *watermark, decided));
    }
    if json {
        let posted: Vec<serde_json::Value> = postings
            .iter()
            .map(|(p, state, _)| {
                json!({ "payment_key": mask_key(&p.payment_key), "batch_id": p.batch_id, "batch_state": state,
                        "allowance": p.allowance, "line_type": p.line_type, "tier": p.tier,
                        "amount": crate::money::format_fen(p.amount_fen), "lottery_amount": crate::money::format_fen(p.lottery_fen),
                        "district_amount": crate::money::format_fen(p.district_fen), "held": p.held_reason, "transfer_id": p.transfer_id,
                        "counts": state.counts() && p.held_reason.is_none() })
            })
            .collect();
        let batches: Vec<serde_json::Value> = as_computed
            .iter()
            .map(|(b, state, w, d)| json!({ "batch_id": b, "state": state, "registry_after_import": w, "allowances": d }))
            .collect();
        print_json(
            &json!({ "id_number": idcard::mask(id), "month": month, "allowances": decisions, "postings": posted, "as_computed": batches }),
        );
        return Ok(0);
    }
    println!("{} in {month} — as the registry stands now", idcard::mask(id));
    for d in &decisions {
        print_decision(d, "");
        let mine: Vec<_> = postings.iter().filter(|(p, ..)| p.allowance == d.allowance.as_str()).collect();
        if mine.is_empty() {
            println!("  paid: nothing posted for this month");
            continue;
        }
        let mut net = 0;
        println!("  postings (L4 payment keys):");
        for (p, state, _) in &mine {
            let counts = state.counts() && p.held_reason.is_none();
            if counts {
                net += p.amount_fen;
            }
            let note = match (&p.held_reason, counts) {
                (Some(h), _) => format!("held: {h}"),
                (None, false) => format!("not counted: batch {}", state.as_str()),
                (None, true) => {
                    p.transfer_id.clone().map(|t| format!("transfer {t}")).unwrap_or_else(|| "no transfer".into())
                }
            };
            println!(
                "    {:<40} {:<20} {:<9} {:<6} {:>9} (lottery {}, district {})  {note}",
                mask_key(&p.payment_key),
                p.batch_id,
                p.line_type,
                p.tier,
                crate::money::format_fen(p.amount_fen),
                crate::money::format_fen(p.lottery_fen),
                crate::money::format_fen(p.district_fen)
            );
        }
        let owed = d.owed.as_ref().map(|e| crate::money::to_fen(e.amount).unwrap_or(0)).unwrap_or(0);
        println!(
            "  net paid (L1): {} yuan; owed now: {} yuan",
            crate::money::format_fen(net),
            crate::money::format_fen(owed)
        );
        for (b, state, w, then) in &as_computed {
            if !mine.iter().any(|(p, ..)| p.batch_id == *b) {
                continue;
            }
            println!("  as computed in {b} ({}, registry after import {w}):", state.as_str());
            if let Some(t) = then.iter().find(|t| t.allowance == d.allowance) {
                print_decision(t, "    ");
            }
        }
    }
    Ok(0)
}

fn print_decision(d: &crate::eligibility::AllowanceDecision, indent: &str) {
    match &d.owed {
        Some(e) => println!(
            "\n{indent}{}: owed {} yuan, tier {}, district {} (lottery {}, district {})",
            d.allowance,
            format_yuan(e.amount),
            e.tier,
            e.district,
            format_yuan(e.split.lottery),
            format_yuan(e.split.district)
        ),
        None => println!("\n{indent}{}: not owed", d.allowance),
    }
    for r in &d.reasons {
        println!("{indent}  {:<3} {}", r.rule, r.detail);
    }
}

fn generate(
    elders: u64,
    seed: u64,
    out: &Path,
    malformed: u64,
    district: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    let mut opts = crate::generate::GenerateOptions { elders, seed, malformed, ..Default::default() };
    if let Some(d) = district {
        opts.district = d.to_string();
    }
    let summary = crate::generate::generate(&opts, out)?;
    if json {
        print_json(&summary);
    } else {
        println!("wrote a synthetic registry of {elders} elders (seed {seed}) to {}", out.display());
        for (file, rows) in &summary.files {
            let bad = summary.malformed.get(file).copied().unwrap_or(0);
            println!(
                "  {file:<22} {rows:>9} rows{}",
                if bad > 0 { format!(" ({bad} malformed)") } else { String::new() }
            );
        }
    }
    Ok(0)
}

/// Who is acting, as recorded in batches and the audit log: `--by` if given, else the login name
/// (`$USER`, then `$LOGNAME`), trimmed. An empty name, or none at all, is a usage error: every
/// change names a person, never a stand-in.
pub fn actor(by: Option<&str>) -> Result<String, UsageError> {
    if let Some(by) = by {
        let name = by.trim();
        if name.is_empty() {
            return Err(UsageError("--by is empty: give the name of the person acting, e.g. --by wang".into()));
        }
        return Ok(name.to_string());
    }
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .ok_or_else(|| {
            UsageError(
                "no one to record as acting: neither --by nor $USER or $LOGNAME names a person; pass --by NAME".into(),
            )
        })
}

/// Whether two recorded names are one person, as people compare names: trimmed and case-folded
/// (`alice`, `Alice` and ` alice ` are one person for four eyes).
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The districts a command acts on: the one given, or every district in the registry.
async fn districts<S: Store>(s: &S, district: Option<&str>) -> anyhow::Result<Vec<String>> {
    let all = s.districts().await?;
    match district {
        Some(d) if all.iter().any(|x| x == d) => Ok(vec![d.to_string()]),
        Some(d) => {
            Err(UsageError(format!("district {d} has no registration in the registry; known: {}", all.join(", ")))
                .into())
        }
        None if all.is_empty() => {
            anyhow::bail!("the registry is empty: import a registry first (`subsidy import DIR`)")
        }
        None => Ok(all),
    }
}

/// `run`: each district's regular batch for the month.
pub async fn run<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: ServiceMonth,
    by: &str,
    dry_run: bool,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let req =
        RunRequest { month, by: by.to_string(), dry_run, kind: BatchKind::Regular, reason: None, ..Default::default() };
    run_batches(s, district, &req, json, clock).await
}

/// `rerun`: a correction batch per district (L2), replacing the month's unexported batch.
#[allow(clippy::too_many_arguments)]
pub async fn rerun<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: ServiceMonth,
    reason: &str,
    by: &str,
    dry_run: bool,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    if reason.trim().is_empty() {
        return Err(UsageError("--reason must say why the month is run again".into()).into());
    }
    let req = RunRequest {
        month,
        by: by.to_string(),
        dry_run,
        kind: BatchKind::Correction,
        reason: Some(reason.to_string()),
        ..Default::default()
    };
    run_batches(s, district, &req, json, clock).await
}

async fn run_batches<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    req: &RunRequest,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let month = req.month;
    let start = s.start_month().await?.expect("checked by dispatch");
    if month < start {
        return Err(UsageError(format!(
            "{month} is before the start month {start}: this engine pays no month before it (T7)"
        ))
        .into());
    }
    // T1: month M is paid in advance, before the end of M−1; a month further ahead is a typo.
    let next = ServiceMonth::of(clock.today()).next();
    if month > next {
        return Err(UsageError(format!(
            "{month} is after {next}, the next month to pay (T1: month M is paid before the end of M−1); check --month"
        ))
        .into());
    }
    let mut status = 0;
    let mut results = Vec::new();
    for d in districts(s, district).await? {
        // On PostgreSQL two districts' batches may update the same rows (a person who moved pays
        // from both); the later one to commit then fails whole, writing nothing: run it again.
        let mut attempt = 1;
        let outcome = loop {
            // The policy as it stands now (a version loaded while the previous district ran
            // counts for this one).
            let book = policy_book(s).await?;
            match run_district(s, &book, start, &d, req, clock.now()).await {
                Err(e) if attempt < 3 && super::is_serialization_failure(&e) => attempt += 1,
                other => break other.with_context(|| format!("district {d}, month {month}: nothing was written"))?,
            }
        };
        status = status.max(match &outcome {
            RunOutcome::Locked => 4,
            RunOutcome::Refused(_) => 1,
            _ => 0,
        });
        if !json {
            print_outcome(&d, &outcome);
        }
        results.push(outcome_json(&d, &outcome));
    }
    if json {
        print_batches_json(results);
    }
    Ok(status)
}

fn print_batches_json(results: Vec<serde_json::Value>) {
    let mut out = json!({ "batches": results });
    let ids: Vec<&serde_json::Value> =
        out["batches"].as_array().expect("array").iter().filter_map(|b| b.get("batch_id")).collect();
    if ids.len() == 1 {
        out["batch_id"] = ids[0].clone();
    }
    print_json(&out);
}

fn stored_summary(b: &crate::store::BatchRow) -> Option<BatchSummary> {
    serde_json::from_str(&b.summary).ok()
}

fn outcome_json(district: &str, outcome: &RunOutcome) -> serde_json::Value {
    match outcome {
        RunOutcome::Computed(sum) => {
            json!({ "district": district, "batch_id": sum.batch_id, "outcome": "computed", "state": if sum.dry_run { "dry-run" } else { "computed" }, "summary": sum })
        }
        RunOutcome::Existing(b) => {
            json!({ "district": district, "batch_id": b.batch_id, "outcome": "existing", "state": b.state, "summary": stored_summary(b) })
        }
        RunOutcome::NothingToSettle => {
            json!({ "district": district, "outcome": "nothing", "message": "nothing to pay or settle; no batch written" })
        }
        RunOutcome::Locked => {
            json!({ "district": district, "outcome": "locked", "message": "another run holds this district; try again later" })
        }
        RunOutcome::Refused(why) => json!({ "district": district, "outcome": "refused", "message": why }),
    }
}

fn print_outcome(district: &str, outcome: &RunOutcome) {
    match outcome {
        RunOutcome::Computed(sum) => {
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
                println!(
                    "  carried over {} postings of unchanged persons from the batch it replaces",
                    sum.carried_postings
                );
            }
            if sum.read_changed_only {
                println!("  read only the {} person(s) changed since the district's last batch", sum.persons_read);
            }
            for line in sum.describe() {
                println!("{line}");
            }
            print_differences(&sum.differences);
            if !sum.dry_run {
                println!(
                    "  next: subsidy approve --batch {} --by NAME   (someone other than {})",
                    sum.batch_id, sum.run_by
                );
            }
        }
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

async fn find_batch<S: LedgerStore>(s: &S, batch_id: &str) -> anyhow::Result<crate::store::BatchRow> {
    s.batch(batch_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no batch {batch_id}; `subsidy status` lists the batches"))
}

/// `approve`: four eyes; never prompts.
pub async fn approve<S: LedgerStore + Store>(
    s: &S,
    batch_id: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let by = actor(Some(by))?;
    let b = find_batch(s, batch_id).await?;
    match b.state {
        BatchState::Computed if same_person(&b.run_by, &by) => {
            anyhow::bail!(
                "{} ran batch {batch_id} and cannot approve it (names are compared ignoring case and surrounding spaces): \
                 the approver must be someone else",
                b.run_by
            )
        }
        BatchState::Computed => {
            if !s.approve_batch(batch_id, &by, clock.now()).await? {
                anyhow::bail!("batch {batch_id} changed state while approving; run `subsidy status` and try again");
            }
        }
        BatchState::Approved => {}
        BatchState::Exported => anyhow::bail!("batch {batch_id} is already exported; approval cannot change"),
        BatchState::Superseded | BatchState::Discarded => {
            anyhow::bail!("batch {batch_id} is {} and will never be paid", b.state.as_str())
        }
    }
    let b = find_batch(s, batch_id).await?;
    if json {
        print_json(&json!({ "batch_id": batch_id, "state": b.state, "approved_by": b.approved_by }));
    } else {
        println!(
            "batch {batch_id} approved by {}; next: subsidy export --batch {batch_id} --out DIR",
            b.approved_by.unwrap_or_default()
        );
    }
    Ok(0)
}

/// `export`: the six files, each written atomically; repeated exports are byte-identical.
pub async fn export<S: LedgerStore + Store>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let b = find_batch(s, batch_id).await?;
    match b.state {
        BatchState::Approved | BatchState::Exported => {}
        BatchState::Computed => {
            anyhow::bail!("batch {batch_id} is not approved: `subsidy approve --batch {batch_id} --by NAME` first")
        }
        _ => anyhow::bail!("batch {batch_id} is {} and must not be paid", b.state.as_str()),
    }
    let files = write_export_by(s, batch_id, out, by, clock).await?;
    if json {
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        print_json(&json!({ "batch_id": batch_id, "dir": out.display().to_string(), "files": names }));
    } else {
        println!("batch {batch_id} exported to {}:", out.display());
        for f in &files {
            println!("  {:<40} {:>7} rows  sha256 {}", f.name, f.rows, &crate::digest::sha256_hex(&f.bytes)[..16]);
        }
    }
    Ok(0)
}

/// `verify`: exit 5 on any difference between files, manifest, totals and database.
pub async fn verify<S: LedgerStore>(s: &S, batch_id: &str, dir: &Path, json: bool) -> anyhow::Result<ExitStatus> {
    let (files, problems) = verify_batch(s, batch_id, dir).await?;
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
        for p in &problems {
            println!("  {p}");
        }
        println!("do not send these files; export the batch again into an empty folder and verify that");
    }
    Ok(if problems.is_empty() { 0 } else { 5 })
}

/// Render a batch's files from the database and compare them with those in `dir`: what differs,
/// and the files expected. A batch that is not exported is itself a difference.
pub async fn verify_batch<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    dir: &Path,
) -> anyhow::Result<(Vec<platform::PlatformFile>, Vec<String>)> {
    let b = find_batch(s, batch_id).await?;
    let (transfers, postings) = (s.batch_transfers(batch_id).await?, s.batch_postings(batch_id).await?);
    let files = platform::render(&b, &transfers, &postings);
    let mut problems = platform::compare(&files, dir, &b, &transfers, &postings);
    if b.state != BatchState::Exported {
        problems
            .insert(0, format!("batch {batch_id} is {}, not exported: these files must not be paid", b.state.as_str()));
    }
    Ok((files, problems))
}

/// `status`: batches and their states.
pub async fn status<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: Option<ServiceMonth>,
    list_recoveries: bool,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    let batches = s.batches(district, month).await?;
    let (balances, postings) = s.ledger_check().await?;
    let recoveries = s.recoveries(district).await?;
    let outstanding: Vec<&crate::store::RecoveryRow> = recoveries.iter().filter(|r| r.decision.is_none()).collect();
    let outstanding_fen: i64 = outstanding.iter().map(|r| r.amount_fen).sum();
    // Held lines are posted again by every batch that reads the person (L3), regular or
    // correction: the store finds, per key, the latest counted posting, and sums those held.
    let held_by_district: Vec<(String, i64)> =
        s.held_waiting().await?.into_iter().filter(|(d, _)| district.is_none_or(|x| x == d)).collect();
    let held_waiting: i64 = held_by_district.iter().map(|(_, f)| f).sum();
    // Per batch state: how many batches and what they hold.
    let mut by_state: std::collections::BTreeMap<BatchState, [i64; 5]> = Default::default();
    for b in &batches {
        let t = by_state.entry(b.state).or_default();
        for (i, v) in [1, b.transfer_count, b.control_sum_fen, b.held_fen, b.recovery_fen].into_iter().enumerate() {
            t[i] += v;
        }
    }
    // F3: districts and years the counted batches pay with no lottery allocation loaded.
    let book = policy_book(s).await?;
    let missing: Vec<(String, i32)> = s
        .paid_years()
        .await?
        .into_iter()
        .filter(|(d, y)| district.is_none_or(|x| x == d) && month.is_none_or(|m| m.year() == *y))
        .filter(|(d, y)| book.versions().iter().all(|p| p.allocation(d, *y).is_none()))
        .collect();
    if json {
        let masked: Vec<serde_json::Value> = recoveries
            .iter()
            .map(|r| {
                json!({ "payment_key": mask_key(&r.payment_key), "batch_id": r.batch_id, "allowance": r.allowance,
                        "service_month": r.service_month, "amount": crate::money::format_fen(r.amount_fen),
                        "reason": r.reason, "decision": r.decision, "decided_by": r.decided_by })
            })
            .collect();
        let states: serde_json::Map<String, serde_json::Value> = by_state
            .iter()
            .map(|(st, t)| {
                let v = json!({ "batches": t[0], "transfers": t[1], "control_sum": crate::money::format_fen(t[2]),
                                "held": crate::money::format_fen(t[3]), "recoveries": crate::money::format_fen(t[4]) });
                (st.as_str().to_string(), v)
            })
            .collect();
        let held: Vec<serde_json::Value> = held_by_district
            .iter()
            .map(|(d, f)| json!({ "district_code": d, "amount": crate::money::format_fen(*f) }))
            .collect();
        let missing_json: Vec<serde_json::Value> = missing
            .iter()
            .map(|(d, y)| json!({ "district_code": d, "year": y, "message": missing_allocation(d, *y) }))
            .collect();
        print_json(&json!({
            "batches": batches,
            "by_state": states,
            "ledger": { "balances_fen": balances, "counted_postings_fen": postings, "consistent": balances == postings },
            "recoveries": { "outstanding_count": outstanding.len(), "outstanding": crate::money::format_fen(outstanding_fen), "items": masked },
            "held_waiting": crate::money::format_fen(held_waiting),
            "held_waiting_by_district": held,
            "missing_allocations": missing_json,
        }));
        return Ok(0);
    }
    if batches.is_empty() {
        println!("no batches yet; `subsidy run --month YYYY-MM` computes one");
    }
    println!(
        "{:<22} {:<10} {:>9} {:>15} {:>12} {:>12}  run by / approved by",
        "batch", "state", "transfers", "control sum", "held", "recoveries"
    );
    for b in &batches {
        let note = match (&b.state_reason, b.state) {
            (Some(r), BatchState::Superseded | BatchState::Discarded) if !r.is_empty() => format!("  ({r})"),
            _ => String::new(),
        };
        println!(
            "{:<22} {:<10} {:>9} {:>15} {:>12} {:>12}  {} / {}{note}",
            b.batch_id,
            b.state.as_str(),
            b.transfer_count,
            crate::money::format_fen(b.control_sum_fen),
            crate::money::format_fen(b.held_fen),
            crate::money::format_fen(b.recovery_fen),
            b.run_by,
            b.approved_by.as_deref().unwrap_or("-")
        );
    }
    let note = if balances == postings { "consistent" } else { "INCONSISTENT: report this" };
    println!("ledger: net paid {} yuan over all batches (balances {note})", crate::money::format_fen(postings));
    for (st, t) in &by_state {
        println!(
            "{:<10} {:>4} batches, {:>9} transfers, control sum {:>15}, held {:>12}, recoveries {:>12}",
            st.as_str(),
            t[0],
            t[1],
            crate::money::format_fen(t[2]),
            crate::money::format_fen(t[3]),
            crate::money::format_fen(t[4])
        );
    }
    println!(
        "held, waiting (L3: the latest posting of each held person-month, paid once an account is recorded): {} yuan",
        crate::money::format_fen(held_waiting)
    );
    if held_by_district.len() > 1 {
        for (d, f) in &held_by_district {
            println!("  district {d}: {} yuan", crate::money::format_fen(*f));
        }
    }
    for (d, y) in &missing {
        println!("{}", missing_allocation(d, *y));
    }
    println!(
        "recoveries outstanding: {} items, {} yuan (collected or waived: {})",
        outstanding.len(),
        crate::money::format_fen(outstanding_fen),
        recoveries.len() - outstanding.len()
    );
    if list_recoveries {
        for r in &recoveries {
            println!(
                "  {:<40} {:<20} {:>9}  {}  {}",
                mask_key(&r.payment_key),
                r.batch_id,
                crate::money::format_fen(r.amount_fen),
                r.decision.as_deref().unwrap_or("OUTSTANDING"),
                r.reason.as_deref().unwrap_or("")
            );
        }
    } else if !outstanding.is_empty() {
        println!(
            "  `subsidy status --recoveries` lists them; `subsidy recovery --key KEY --collected|--waived` closes one"
        );
    }
    Ok(0)
}

/// F3: what `status` says of a district and year its batches pay with no allocation loaded.
fn missing_allocation(district: &str, year: i32) -> String {
    format!(
        "F3: no lottery allocation loaded for district {district}, year {year}: the district pays all; \
         load one with `subsidy policy load FILE`"
    )
}

/// `report --year`.
pub async fn report<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    year: i32,
    month: Option<ServiceMonth>,
    format: ReportFormat,
    out: Option<&Path>,
) -> anyhow::Result<ExitStatus> {
    let book = policy_book(s).await?;
    let reports = crate::adapters::report::build(s, &book, &districts(s, district).await?, year, month).await?;
    let text = match format {
        ReportFormat::Text => crate::adapters::report::text(&reports),
        ReportFormat::Csv => crate::adapters::report::csv(&reports),
        ReportFormat::Json => serde_json::to_string(&json!({ "year": year, "districts": reports }))? + "\n",
    };
    match out {
        Some(path) => {
            platform::write_atomically(
                path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")),
                &path.file_name().context("--out needs a file name")?.to_string_lossy(),
                text.as_bytes(),
            )?;
            eprintln!("report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(0)
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
) -> anyhow::Result<Vec<platform::PlatformFile>> {
    use crate::store::ExportTx as _;
    let Some(mut tx) = s.begin_export(batch_id).await? else {
        anyhow::bail!("there is no batch {batch_id}; `subsidy status` lists the batches");
    };
    let b = tx.batch().clone();
    if !matches!(b.state, BatchState::Approved | BatchState::Exported) {
        tx.abandon().await?;
        anyhow::bail!(
            "batch {batch_id} is {}, not approved: nothing was written; `subsidy status` shows it",
            b.state.as_str()
        );
    }
    let (transfers, postings) = (tx.transfers().await?, tx.postings().await?);
    let files = platform::render(&b, &transfers, &postings);
    let named: Vec<(&str, &[u8], u32)> =
        files.iter().map(|f| (f.name.as_str(), f.bytes.as_slice(), f.mode())).collect();
    let stays =
        if b.state == BatchState::Exported { "stays exported (its earlier export stands)" } else { "stays approved" };
    // Written and fsynced under temporary names first; put in place only once the batch is
    // committed as exported. A crash before the commit leaves no file of an unexported batch in
    // `out` (nothing the platform could be sent); a crash after it leaves an exported batch whose
    // export is simply run again (the same bytes).
    let staged = match platform::stage(out, &named) {
        Ok(staged) => staged,
        Err(e) => {
            tx.abandon().await?;
            anyhow::bail!(
                "nothing was exported: batch {batch_id} {stays}; {e}; fix the folder (it must be a directory you can \
                 write, with space) and run `subsidy export --batch {batch_id} --out {}` again",
                out.display()
            );
        }
    };
    // The audit entry names what is exported: the batch's stored fingerprint and control sum, read
    // under the lock (the files are rendered from exactly these rows).
    let details =
        json!({ "dir": out.display().to_string(), "control_sum": crate::money::format_fen(b.control_sum_fen) });
    let entry = audit(by, "export", batch_id, "", b.registry_fingerprint.clone(), details);
    if let Err(e) = tx.finish(&entry, clock.now()).await {
        // `staged` is dropped: its temporary files are removed.
        return Err(anyhow::Error::new(e).context(format!(
            "nothing was exported: batch {batch_id} {stays} (check with `subsidy status`); \
             run `subsidy export --batch {batch_id} --out {}` again",
            out.display()
        )));
    }
    staged.publish().map_err(|e| {
        anyhow::anyhow!(
            "batch {batch_id} is exported, but its files could not be put in place: {e}; run `subsidy export \
             --batch {batch_id} --out DIR` again (it writes the same bytes) and send nothing before `subsidy verify` passes"
        )
    })?;
    Ok(files)
}

fn print_differences(diffs: &[crate::batch::Difference]) {
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

/// An audit entry for a command acting on `target`.
fn audit(
    actor: &str,
    command: &str,
    target: &str,
    reason: &str,
    fingerprint: String,
    details: serde_json::Value,
) -> crate::audit::AuditEntry {
    crate::audit::AuditEntry {
        actor: actor.to_string(),
        command: command.to_string(),
        target: target.to_string(),
        reason: reason.to_string(),
        input_fingerprint: fingerprint,
        details: details.to_string(),
    }
}

/// `discard`: an unexported batch is dropped (kept, never counted).
pub async fn discard<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    reason: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let b = find_batch(s, batch_id).await?;
    if !b.state.is_open() {
        anyhow::bail!(
            "batch {batch_id} is {}: only a computed or approved batch that is not exported can be discarded{}",
            b.state.as_str(),
            if b.state == BatchState::Exported {
                "; correct it with `subsidy rerun --month M --reason TEXT`"
            } else {
                ""
            }
        );
    }
    let entry = audit(
        by,
        "discard",
        batch_id,
        reason,
        b.registry_fingerprint.clone(),
        json!({ "state_before": b.state, "control_sum": crate::money::format_fen(b.control_sum_fen) }),
    );
    match s.discard_batch(batch_id, reason, &entry, clock.now()).await {
        Ok(true) => {}
        Ok(false) => anyhow::bail!("batch {batch_id} changed state meanwhile; `subsidy status` shows it"),
        Err(store::StoreError::ReliedOn { .. }) => return Err(relied_on(s, &b).await),
        Err(e) => return Err(e.into()),
    }
    if json {
        print_json(&json!({ "batch_id": batch_id, "state": "discarded" }));
    } else {
        println!("batch {batch_id} discarded ({reason}); it will never be paid. `subsidy run --month {}` computes the month again", b.service_month);
    }
    Ok(0)
}

/// Why a batch cannot be discarded: another district's batch pays months it recovers (a late
/// move), and dropping it would count those months twice (L4). Name those batches and what to do.
async fn relied_on<S: LedgerStore>(s: &S, b: &crate::store::BatchRow) -> anyhow::Error {
    let relying = match s.relying_batches(&b.batch_id).await {
        Ok(r) => r,
        Err(e) => return e.into(),
    };
    let names: Vec<String> = relying
        .iter()
        .map(|r| format!("{} (district {}, {})", r.batch_id, r.district_code, r.state.as_str()))
        .collect();
    let open: Vec<&str> = relying.iter().filter(|r| r.state.is_open()).map(|r| r.batch_id.as_str()).collect();
    let next = if open.len() == relying.len() && !open.is_empty() {
        format!(
            "discard or rerun {} first, or correct this batch with `subsidy rerun --month {}`",
            open.join(", "),
            b.service_month
        )
    } else {
        format!("correct it with `subsidy rerun --month {} --reason TEXT` instead", b.service_month)
    };
    anyhow::anyhow!(
        "batch {} cannot be discarded: {} pays months whose recovery it raises (a move known late); \
         without it those months would be paid twice (L4). Nothing changed; {next}",
        b.batch_id,
        if names.is_empty() { "another district's batch".to_string() } else { names.join(", ") }
    )
}

/// `withdraw`: take back an approval before export.
pub async fn withdraw<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    reason: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let b = find_batch(s, batch_id).await?;
    if b.state != BatchState::Approved {
        anyhow::bail!(
            "batch {batch_id} is {}: only an approved batch that is not exported can have its approval withdrawn",
            b.state.as_str()
        );
    }
    let entry = audit(
        by,
        "withdraw",
        batch_id,
        reason,
        b.registry_fingerprint.clone(),
        json!({ "approved_by": b.approved_by }),
    );
    if !s.withdraw_approval(batch_id, &entry, clock.now()).await? {
        anyhow::bail!("batch {batch_id} changed state meanwhile; `subsidy status` shows it");
    }
    if json {
        print_json(&json!({ "batch_id": batch_id, "state": "computed" }));
    } else {
        println!("approval of {batch_id} withdrawn; it is computed again: approve, rerun or discard it");
    }
    Ok(0)
}

/// `recovery`: close a recovery item as collected or waived.
pub async fn recovery<S: LedgerStore>(
    s: &S,
    key: &str,
    decision: &str,
    reason: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    // The key as printed by `status --recoveries` (masked) or in full.
    let mut found: Vec<crate::store::RecoveryRow> = s
        .recoveries(None)
        .await?
        .into_iter()
        .filter(|r| r.payment_key == key || mask_key(&r.payment_key) == key)
        .collect();
    if found.len() > 1 {
        anyhow::bail!("{} recovery items match {key}; give the full payment key", found.len());
    }
    let Some(item) = found.pop() else {
        anyhow::bail!("no recovery item {}; `subsidy status --recoveries` lists them", mask_key(key));
    };
    let key = item.payment_key.as_str();
    if let Some(d) = &item.decision {
        anyhow::bail!(
            "recovery item {} is already {d} (by {})",
            mask_key(key),
            item.decided_by.clone().unwrap_or_default()
        );
    }
    let entry = audit(
        by,
        "recovery",
        &mask_key(key),
        reason,
        crate::digest::sha256_hex(key.as_bytes()),
        json!({ "decision": decision, "amount": crate::money::format_fen(item.amount_fen) }),
    );
    if !s.decide_recovery(key, decision, by, reason, &entry, clock.now()).await? {
        anyhow::bail!("recovery item {} cannot be closed: its batch {} is not exported", mask_key(key), item.batch_id);
    }
    if json {
        print_json(&json!({ "payment_key": mask_key(key), "decision": decision }));
    } else {
        println!(
            "recovery {} ({} yuan) recorded as {decision} by {by}",
            mask_key(key),
            crate::money::format_fen(item.amount_fen)
        );
    }
    Ok(0)
}

/// A payment key with its ID number masked, for terminals and logs.
pub fn mask_key(key: &str) -> String {
    idcard::mask_key(key)
}

/// `verify --audit`: the hash chain of the audit log.
pub async fn verify_audit<S: Store>(s: &S, json: bool) -> anyhow::Result<ExitStatus> {
    let (rows, head) = s.audit_log().await?;
    let problems = crate::audit::verify_chain(&rows, head);
    if json {
        print_json(&json!({ "entries": rows.len(), "ok": problems.is_empty(), "differences": problems }));
    } else if problems.is_empty() {
        println!("audit log: {} entries, hash chain intact", rows.len());
    } else {
        println!("audit log: {} problem(s) in {} entries:", problems.len(), rows.len());
        for p in &problems {
            println!("  {p}");
        }
    }
    Ok(if problems.is_empty() { 0 } else { 5 })
}

/// SHA-256 over the registry files of a folder (name and bytes, in file-name order).
fn files_fingerprint(dir: &Path) -> anyhow::Result<String> {
    use sha2::Digest;
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    names.sort();
    let mut h = sha2::Sha256::new();
    for path in names {
        h.update(path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default().as_bytes());
        let mut f = std::fs::File::open(&path)?;
        std::io::copy(&mut f, &mut h)?;
    }
    Ok(hex::encode(h.finalize()))
}
