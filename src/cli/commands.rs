//! One function per command. Each opens the store the URL names and calls into the core and the
//! shell modules; none holds business rules of its own.

use super::args::{Cli, Command, PolicyAction};
use super::{print_json, ExitStatus, UsageError};
use crate::clock::Clock;
use crate::eligibility::explain_month;
use crate::money::format_yuan;
use crate::month::ServiceMonth;
use crate::policy::{Policy, PolicyBook, SplitRule, DEFAULT_POLICY};
use crate::registry::import::import_dir;
use crate::registry::validate::Context;
use crate::store::{self, PolicyLoad, Store};
use crate::{idcard, with_store};
use anyhow::Context as _;
use rust_decimal::Decimal;
use serde_json::json;
use std::path::Path;

/// Run the parsed command.
pub async fn dispatch(cli: Cli, clock: Clock) -> anyhow::Result<ExitStatus> {
    if let Command::Generate { elders, seed, out, malformed } = &cli.command {
        return generate(*elders, *seed, out, *malformed, cli.json);
    }
    let any = store::open(&cli.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&cli.database_url)))?;
    with_store!(&any, |s| on_store(s, &cli, clock).await)
}

async fn on_store<S: Store>(s: &S, cli: &Cli, clock: Clock) -> anyhow::Result<ExitStatus> {
    if let Command::Init { start_month } = &cli.command {
        return init(s, *start_month, cli.json, clock).await;
    }
    if s.start_month().await.ok().flatten().is_none() {
        return Err(UsageError("this database is not initialised: run `subsidy init --start-month YYYY-MM` first".into()).into());
    }
    match &cli.command {
        Command::Init { .. } | Command::Generate { .. } => unreachable!("handled above"),
        Command::Policy { action: PolicyAction::Show } => policy_show(s, cli.json, clock).await,
        Command::Policy { action: PolicyAction::Load { file } } => policy_load(s, file, cli.json, clock).await,
        Command::Import { dir } => import(s, dir, cli.json, clock).await,
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

async fn init<S: Store>(s: &S, start_month: Option<ServiceMonth>, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    s.migrate().await?;
    let start = match (s.start_month().await?, start_month) {
        (None, None) => {
            return Err(UsageError("the first `subsidy init` needs --start-month YYYY-MM: the first service month this engine pays (T7)".into()).into())
        }
        (None, Some(m)) => {
            s.set_start_month(m).await?;
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
    println!("T5: no month before {} counts; back pay at most {} months before the application", t.policy_start, t.backpay_months);
    println!("T1 [decision]: month M is run on day {} of M-1 at {} {}", t.run_day, t.run_time, t.timezone);
    println!("\nlongevity (R2, R3; F1 quota)      monthly   lottery quota");
    for tier in &p.longevity.tiers {
        println!("  {:<8} from age {:<3}          {:>8}  {:>8}", tier.tier, tier.min_age, format_yuan(tier.monthly), format_yuan(tier.lottery_quota));
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
        let assessed = if tier.assessments.is_empty() { String::new() } else { format!("assessed {}; ", join(&tier.assessments)) };
        println!("  {:<8} {:>8}  {:>8}  {assessed}certificate {}", tier.tier, format_yuan(tier.monthly), format_yuan(tier.lottery_quota), certs.join("; "));
    }
    println!("hardship (R6; from age {}; R8 excluded by {})", p.hardship.min_age, join(&p.hardship.excluded_by));
    for tier in &p.hardship.tiers {
        println!("  {:<15} {:>8}  {:>8}  status {}", tier.tier, format_yuan(tier.monthly), format_yuan(tier.lottery_quota), join(&tier.statuses));
    }
    match (p.funding.rule, p.funding.lottery_percent) {
        (SplitRule::Percentage, Some(pct)) => println!("split (F4): lottery {pct}% of each amount, half up to the fen; district the rest"),
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

async fn policy_load<S: Store>(s: &S, file: &Path, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let policy = Policy::parse(&text).with_context(|| format!("{} is not a usable policy file", file.display()))?;
    let outcome = s.add_policy(&policy, &file.display().to_string(), clock.now()).await?;
    let (status, message) = match &outcome {
        PolicyLoad::Added => (0, format!("loaded policy {} effective from {}", policy.version, policy.effective_from)),
        PolicyLoad::AlreadyLoaded => (0, format!("policy {} is already loaded with the same content; nothing changed", policy.version)),
        PolicyLoad::Conflict(why) => (1, format!("refused: {why}")),
    };
    if json {
        print_json(&json!({ "version": policy.version, "effective_from": policy.effective_from, "outcome": format!("{outcome:?}"), "message": message }));
    } else if status == 0 {
        println!("{message}");
    } else {
        eprintln!("error: {message}");
    }
    Ok(status)
}

async fn import<S: Store>(s: &S, dir: &Path, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    let book = policy_book(s).await?;
    let ctx = Context { today: clock.today(), policy: book.latest() };
    let report = import_dir(s, dir, &ctx, clock.now()).await?;
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

async fn explain<S: Store>(s: &S, id: &str, month: ServiceMonth, json: bool) -> anyhow::Result<ExitStatus> {
    let book = policy_book(s).await?;
    let Some(rec) = s.person(id).await? else {
        anyhow::bail!("no person {} in the registry; check the ID number or import elders.csv", idcard::mask(id));
    };
    let start = s.start_month().await?;
    let decisions = explain_month(&book, &rec, start, month);
    if json {
        print_json(&json!({ "id_number": idcard::mask(id), "month": month, "allowances": decisions }));
        return Ok(0);
    }
    println!("{} in {month}", idcard::mask(id));
    for d in &decisions {
        match &d.owed {
            Some(e) => println!(
                "\n{}: owed {} yuan, tier {}, district {} (lottery {}, district {})",
                d.allowance,
                format_yuan(e.amount),
                e.tier,
                e.district,
                format_yuan(e.split.lottery),
                format_yuan(e.split.district)
            ),
            None => println!("\n{}: not owed", d.allowance),
        }
        for r in &d.reasons {
            println!("  {:<3} {}", r.rule, r.detail);
        }
    }
    Ok(0)
}

fn generate(elders: u64, seed: u64, out: &Path, malformed: u64, json: bool) -> anyhow::Result<ExitStatus> {
    let opts = crate::generate::GenerateOptions { elders, seed, malformed, ..Default::default() };
    let summary = crate::generate::generate(&opts, out)?;
    if json {
        print_json(&summary);
    } else {
        println!("wrote a synthetic registry of {elders} elders (seed {seed}) to {}", out.display());
        for (file, rows) in &summary.files {
            let bad = summary.malformed.get(file).copied().unwrap_or(0);
            println!("  {file:<22} {rows:>9} rows{}", if bad > 0 { format!(" ({bad} malformed)") } else { String::new() });
        }
    }
    Ok(0)
}

