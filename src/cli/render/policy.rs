//! What `init`, `policy show` and `policy load` print.

use super::print_json;
use crate::money::{format_yuan, wan};
use crate::ops::init::InitOutcome;
use crate::ops::policy::{PolicyLoaded, PolicyShown};
use crate::policy::{Policy, SplitRule};
use crate::store::PolicyLoad;
use serde_json::json;

/// `init`.
pub fn initialised(o: &InitOutcome, json: bool) {
    if json {
        print_json(
            &json!({ "start_month": o.start_month, "policy_loaded": o.policy_loaded, "policy_versions": o.policy_versions }),
        );
    } else {
        println!("database ready; start month {} (T7)", o.start_month);
        match &o.policy_loaded {
            Some(v) => println!("loaded the default policy {v}"),
            None => {
                println!("{} policy version(s) already loaded; `subsidy policy show` lists them", o.policy_versions)
            }
        }
    }
}

/// `policy show`: every version, the one in force now named.
pub fn shown(shown: &PolicyShown, json: bool) {
    let versions = shown.book.versions();
    if json {
        let versions: Vec<serde_json::Value> = versions.iter().map(policy_json).collect();
        print_json(&json!({ "in_force": shown.in_force, "versions": versions }));
        return;
    }
    println!("{} policy version(s); in force for {}: {}", versions.len(), shown.now, shown.in_force);
    for p in versions {
        policy(p);
    }
}

/// A policy version as `--json` shows it: its stored form (which must not change: a re-load of the
/// same file is recognised by it), with the JSON contract's vocabulary: money in yuan with two
/// decimals, an allocation's district as `district_code`.
fn policy_json(p: &Policy) -> serde_json::Value {
    let mut v = serde_json::to_value(p).expect("a policy serializes");
    let tiers = [
        ("longevity", p.longevity.tiers.iter().map(|t| (t.monthly, t.lottery_quota)).collect::<Vec<_>>()),
        ("care", p.care.tiers.iter().map(|t| (t.monthly, t.lottery_quota)).collect()),
        ("hardship", p.hardship.tiers.iter().map(|t| (t.monthly, t.lottery_quota)).collect()),
    ];
    for (allowance, amounts) in tiers {
        for (i, (monthly, quota)) in amounts.into_iter().enumerate() {
            let tier = &mut v[allowance]["tiers"][i];
            tier["monthly"] = json!(format_yuan(monthly));
            tier["lottery_quota"] = json!(format_yuan(quota));
        }
    }
    v["allocations"] = p
        .allocations
        .iter()
        .map(|a| json!({ "district_code": a.district, "year": a.year, "amount": format_yuan(a.amount) }))
        .collect();
    v
}

fn policy(p: &Policy) {
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

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("/")
}

/// `policy load`: loaded or already there; a refusal is a failure (exit status 1): `error: …` on
/// stderr and, with `--json`, the error object (code `policy_conflict`) on stdout.
pub fn loaded(l: &PolicyLoaded, json: bool) {
    let p = &l.policy;
    let (outcome, message) = match &l.outcome {
        PolicyLoad::Added => ("added", format!("loaded policy {} effective from {}", p.version, p.effective_from)),
        PolicyLoad::AlreadyLoaded => {
            ("already_loaded", format!("policy {} is already loaded with the same content; nothing changed", p.version))
        }
        PolicyLoad::Conflict(why) => {
            eprintln!("error: refused: {why}");
            if json {
                let hint = "give the new file its own version name and effective month, then load it";
                print_json(&super::error_json("policy_conflict", &format!("refused: {why}"), hint));
            }
            return;
        }
    };
    if json {
        print_json(
            &json!({ "version": p.version, "effective_from": p.effective_from, "outcome": outcome, "message": message }),
        );
    } else {
        println!("{message}");
    }
}
