//! Reasons: for one person and month, each allowance owed or not, with the rule numbers of
//! POLICY.md and the registry records that decided it. `explain` prints these.

use super::{death_date, Entitlement, MonthState, StartRule, StartSource, TierReading, Timeline, Why};
use crate::codes::Allowance;
use crate::money::format_yuan;
use crate::month::ServiceMonth;
use crate::policy::{Policy, PolicyBook};
use crate::registry::PersonRecords;
use serde::Serialize;

/// One reason: the rule of POLICY.md and what, in the records, made it apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Rule number (`R4`, `T2`, `F2` …).
    pub rule: &'static str,
    /// What the rule found, naming the record.
    pub detail: String,
}

/// The decision on one allowance for one person and month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowanceDecision {
    /// Which allowance.
    pub allowance: Allowance,
    /// The service month.
    #[serde(rename = "service_month")]
    pub month: ServiceMonth,
    /// What is owed, if anything.
    pub owed: Option<Entitlement>,
    /// Why, in rule order of evaluation.
    pub reasons: Vec<Reason>,
}

/// Decide every allowance of `month` for a person, with reasons. `engine_start` is the engine's
/// first service month (T7): an earlier month may be owed under the policy, but not by this engine.
pub fn explain_month(
    book: &PolicyBook,
    rec: &PersonRecords,
    engine_start: Option<ServiceMonth>,
    month: ServiceMonth,
) -> Vec<AllowanceDecision> {
    Allowance::ALL
        .iter()
        .map(|&allowance| {
            let tl = Timeline::compute(book, rec, allowance, month);
            let mut reasons = Vec::new();
            let mut owed = tl.entitlement(book, rec, month);
            match tl.state(month) {
                None => reasons.push(reason("T5", format!("{month} is before the policy's start {}", tl.first))),
                Some(state) => explain_state(book.in_force(month), rec, allowance, state, &mut reasons),
            }
            if tl.state(month).is_some_and(MonthState::eligible) {
                explain_start(&tl, rec, month, &mut reasons);
            }
            if let Some(e) = &owed {
                reasons.push(reason(
                    "F2",
                    format!(
                        "{} yuan (tier {}, policy {}): lottery fund {}, district {}",
                        format_yuan(e.amount),
                        e.tier,
                        e.policy_version,
                        format_yuan(e.split.lottery),
                        format_yuan(e.split.district)
                    ),
                ));
            }
            if let (Some(start), true) = (engine_start, owed.is_some()) {
                if month < start {
                    reasons.push(reason(
                        "T7",
                        format!(
                            "{month} is before the engine's start month {start}: settled by the system it replaces"
                        ),
                    ));
                    owed = None;
                }
            }
            AllowanceDecision { allowance, month, owed, reasons }
        })
        .collect()
}

fn reason(rule: &'static str, detail: String) -> Reason {
    Reason { rule, detail }
}

fn explain_state(policy: &Policy, rec: &PersonRecords, allowance: Allowance, s: &MonthState, out: &mut Vec<Reason>) {
    let month = s.month;
    match s.registration {
        Some(i) => {
            let r = &rec.registrations[i];
            let since = r.hukou_in_date.map(|d| format!(", moved in {d}")).unwrap_or_default();
            let until = r.hukou_out_date.map(|d| format!(", moving out {d}")).unwrap_or_default();
            out.push(reason("R1", format!("registered in district {} (street {}) on {}{since}{until}", r.district_code, r.street_code, month.first_day())));
        }
        None => match super::registrations_in_force(rec, month).as_slice() {
            [] => out.push(reason("T3", format!("not registered in any district on {}: paid from the month after moving in, through the month of moving out", month.first_day()))),
            many => {
                let districts: Vec<&str> = many.iter().map(|i| rec.registrations[*i].district_code.as_str()).collect();
                out.push(reason("R1", format!("registered in {} districts on {} ({}): paid by neither until the registry is corrected (a move out or in recorded in one only)", many.len(), month.first_day(), districts.join(", "))));
            }
        },
    }
    if !s.alive {
        let d = death_date(rec).map(|d| d.to_string()).unwrap_or_default();
        out.push(reason("T3", format!("died {d}: paid through the month of death only")));
    }
    if let Some(i) = s.suspension {
        let p = &rec.suspensions[i];
        let to = p.valid_to.map(|d| d.to_string()).unwrap_or_else(|| "open".into());
        out.push(reason(
            "T4",
            format!(
                "suspended ({}, {} to {to}): blocks the months after {} through {to}",
                p.kind,
                p.valid_from,
                ServiceMonth::of(p.valid_from)
            ),
        ));
    }
    let tiers = policy.tiers(allowance);
    let name = |r: &TierReading| r.tier.map(|t| tiers[t].tier.to_string()).unwrap_or_else(|| "none".into());
    out.push(reason(
        rule_of(allowance),
        format!("end of {month}: tier {} ({})", name(&s.at_end), why_text(rec, allowance, &s.at_end.why)),
    ));
    out.push(reason(
        rule_of(allowance),
        format!(
            "end of {}: tier {} ({})",
            month.prev(),
            name(&s.at_prev_end),
            why_text(rec, allowance, &s.at_prev_end.why)
        ),
    ));
    let paid = s.paid_tier().map(|t| tiers[t].tier.to_string()).unwrap_or_else(|| "none".into());
    out.push(reason(
        "T2",
        format!(
            "tier for {month} is the better of the two: {paid} (a raise counts in its own month, a cut from the next)"
        ),
    ));
}

fn rule_of(allowance: Allowance) -> &'static str {
    match allowance {
        Allowance::Longevity => "R2",
        Allowance::Care => "R4",
        Allowance::Hardship => "R6",
    }
}

fn why_text(rec: &PersonRecords, allowance: Allowance, why: &Why) -> String {
    match *why {
        Why::AgeBand(m) => format!("R3: age band opened in {m}, the month of the birthday"),
        Why::TooYoung(m) => format!("R3: the qualifying age opens in {m}"),
        Why::NoBirthDate => "no birth date on record".into(),
        Why::Excluded(i) => {
            let e = &rec.exclusions[i];
            let to = e.valid_to.map(|d| d.to_string()).unwrap_or_else(|| "open".into());
            format!("R8: exclusions.csv {} from {} to {to} excludes {allowance}", e.kind, e.valid_from)
        }
        Why::Assessment(i) => {
            let a = &rec.assessments[i];
            format!("R5: latest assessment {} on {}", a.result, a.assessed_on)
        }
        Why::Certificate(i) => {
            let c = &rec.certificates[i];
            let multiple = if c.multiple { ", multiple" } else { "" };
            format!("R5: certificate issued {}: {} grade {}{multiple}", c.issued_on, c.category, c.grade)
        }
        Why::Status(i) => {
            let s = &rec.statuses[i];
            format!("household_status.csv {} from {}", s.kind, s.valid_from)
        }
        Why::NothingQualifies => match allowance {
            Allowance::Care => "R5: no severe assessment and no qualifying certificate in force".into(),
            _ => "R6: no qualifying household status".into(),
        },
    }
}

fn explain_start(tl: &Timeline, rec: &PersonRecords, month: ServiceMonth, out: &mut Vec<Reason>) {
    let Some(start) = tl.start.filter(|s| s.month <= month) else {
        let later = tl.start.map(|s| format!("; payment starts {}", s.month)).unwrap_or_default();
        out.push(reason(
            "T5",
            format!("eligible, but no approved application of {} starts payment by {month}{later}", tl.allowance),
        ));
        return;
    };
    let source = match start.source {
        StartSource::Application(i) => {
            let a = &rec.applications[i];
            format!("application of {} approved", a.applied_on)
        }
        StartSource::Assessment(i) => {
            format!("severe assessment of {} (counts as an approved care application)", rec.assessments[i].assessed_on)
        }
    };
    let how = match start.rule {
        StartRule::BackPay { spell_start } => format!(
            "eligible since {spell_start}, {} months before {}: back pay from {spell_start}",
            start.applied.months_since(spell_start),
            start.applied
        ),
        StartRule::DelayTooLong { spell_start } => format!(
            "eligible since {spell_start}, more than the back-pay limit before {}: paid from {}",
            start.applied, start.applied
        ),
        StartRule::FirstEligibleAfter => {
            format!("applied before being eligible: paid from the first eligible month, {}", start.month)
        }
    };
    out.push(reason("T5", format!("{source}; {how}")));
    if month > start.month {
        out.push(reason("T6", format!("paid since {} without a new application", start.month)));
    }
}
