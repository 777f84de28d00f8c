//! `report --month M`: the review of a district's month before its batch is approved (`approve`
//! prints it too). The store adds the lines up (`store::review`); this file turns the sums into
//! the bridge from last month, the explained change of the regular lines (each exit's reason
//! decided by the eligibility core from the registry the batch read), the breakdowns and the
//! flags. The shapes are in [`crate::adapters::report::review`].

use super::{districts, find_batch, policy_book, OpsError, OpsResult};
use crate::adapters::report::review::{BridgeLine, ChangeLine, Flag, FlaggedLine, MonthReview, ReviewBatch, Total};
use crate::codes::Allowance;
use crate::eligibility::{why_stopped, Stop};
use crate::idcard::mask;
use crate::ledger::{BatchState, HoldReason};
use crate::money::yuan;
use crate::month::ServiceMonth;
use crate::policy::PolicyBook;
use crate::store::{BatchRow, FlagRules, FlaggedPerson, LedgerStore, LineGroup, RegularChange, Store};
use chrono::Datelike;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Persons listed per flag.
pub const FLAG_LIST: i64 = 50;
/// A payment is far above a person's usual at this many times their regular amount …
pub const TIMES_USUAL: i64 = 3;
/// … and this much above it (500 yuan): a longevity allowance's six months of arrears are not
/// news, a care subsidy's year is.
pub const ABOVE_USUAL_FEN: i64 = 50_000;
/// Many months of arrears at once.
pub const ARREARS_MONTHS: i64 = 6;
/// Persons this old or older are flagged: most such records are a wrong birth date or a death
/// not reported.
pub const AGE_FLAG: i32 = 110;

/// The review of `month` for `district` (or every district with a batch that month).
pub async fn review<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: ServiceMonth,
) -> OpsResult<Vec<MonthReview>> {
    let book = policy_book(s).await?;
    let mut out = Vec::new();
    for d in districts(s, district).await? {
        let batches = standing(s.batches(Some(&d), Some(month)).await?);
        if !batches.is_empty() {
            out.push(month_review(s, &book, &d, month, batches).await?);
        }
    }
    if out.is_empty() {
        let whose = district.map(|d| format!("district {d}")).unwrap_or_else(|| "any district".into());
        return Err(OpsError::NoBatch(format!(
            "of {whose} for service month {month} (computed, approved or exported); run it first: subsidy run --month {month}"
        )));
    }
    Ok(out)
}

/// The review of the month of `batch_id` in its district (what `approve` shows).
pub async fn of_batch<S: Store + LedgerStore>(s: &S, batch_id: &str) -> OpsResult<MonthReview> {
    let b = find_batch(s, batch_id).await?;
    let book = policy_book(s).await?;
    let batches = standing(s.batches(Some(&b.district_code), Some(b.service_month)).await?);
    month_review(s, &book, &b.district_code, b.service_month, batches).await
}

/// Batches whose lines stand: computed, approved or exported.
fn standing(batches: Vec<BatchRow>) -> Vec<BatchRow> {
    let mut v: Vec<BatchRow> =
        batches.into_iter().filter(|b| !matches!(b.state, BatchState::Superseded | BatchState::Discarded)).collect();
    v.sort_by(|a, b| (a.computed_at, &a.batch_id).cmp(&(b.computed_at, &b.batch_id))); // oldest first
    v
}

async fn month_review<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    d: &str,
    month: ServiceMonth,
    batches: Vec<BatchRow>,
) -> OpsResult<MonthReview> {
    let previous = month.prev();
    let previous_batches = standing(s.batches(Some(d), Some(previous)).await?);
    let groups = s.review_lines(d, month, previous).await?;
    let key = month.to_string();
    let (this, last): (Vec<&LineGroup>, Vec<&LineGroup>) = groups.iter().partition(|g| g.month == key);
    let bridge = bridge(&this, &last);
    let regular_delta = bridge.iter().find(|l| l.key == "regular").map(|l| l.change).unwrap_or_default();
    // The registry the month's last batch read decides why someone left.
    let import = batches.iter().map(|b| b.registry_import_id).max().unwrap_or(0);
    let changes = s.review_changes(d, month, previous).await?;
    let mut regular_change = explain_changes(s, book, d, month, import, &changes).await?;
    let explained: Decimal = regular_change.iter().map(|c| c.amount).sum();
    if explained != regular_delta {
        // The reads are separate statements: a run, rerun or discard committed between them.
        regular_change.push(ChangeLine {
            kind: "other",
            allowance: String::new(),
            detail: "batches changed while the review read them: run the review again".into(),
            rule: "",
            persons: 0,
            amount: regular_delta - explained,
        });
    }
    let district = book.latest().district(d);
    let street_name = |code: &str| {
        district.and_then(|x| x.streets.iter().find(|s| s.code == code)).map(|s| s.name.clone()).unwrap_or_default()
    };
    let rules = flag_rules(month);
    let flags = s.review_flags(d, month, rules).await?;
    Ok(MonthReview {
        district_code: d.to_string(),
        district_name: district.map(|x| x.name.clone()).unwrap_or_default(),
        month,
        previous_month: previous,
        batches: batches.iter().map(|b| review_batch(b, &this)).collect(),
        previous_batches: previous_batches.iter().map(|b| review_batch(b, &last)).collect(),
        bridge,
        regular_change,
        by_allowance: breakdown(&this, &last, to_pay, |g| (g.allowance.clone(), String::new())),
        by_tier: breakdown(&this, &last, to_pay, |g| (format!("{} {}", g.allowance, g.tier), String::new())),
        by_fund: by_fund(&this, &last),
        by_street: breakdown(&this, &last, to_pay, |g| (g.street_code.clone(), street_name(&g.street_code))),
        held: breakdown(&this, &last, |g| !g.held_reason.is_empty(), |g| (g.held_reason.clone(), held_name(g))),
        recovery_items: owed_back(
            breakdown(&this, &last, |g| g.line_type == "recovery", |_| ("recovery".into(), String::new())).pop(),
        ),
        flags: flag_list(flags, rules),
    })
}

/// A batch and its own lines by type (what a correction adds to the month's regular batch).
fn review_batch(b: &BatchRow, groups: &[&LineGroup]) -> ReviewBatch {
    let own: Vec<&LineGroup> = groups.iter().filter(|g| g.batch_id == b.batch_id).copied().collect();
    let kind = |g: &LineGroup| match (g.line_type.as_str(), g.held_reason.is_empty()) {
        ("recovery", _) => ("recovery items".to_string(), String::new()),
        (t, true) => (t.to_string(), String::new()),
        (t, false) => (format!("{t} held"), String::new()),
    };
    ReviewBatch {
        lines: breakdown(&own, &[], |_| true, kind),
        batch_id: b.batch_id.clone(),
        kind: b.kind.as_str().to_string(),
        state: b.state.as_str().to_string(),
        run_by: b.run_by.clone(),
        approved_by: b.approved_by.clone(),
        transfers: b.transfer_count,
        control_sum: yuan(b.control_sum_fen),
    }
}

/// A line paid by the month's transfers: not held, not a recovery item (L1, L3).
fn to_pay(g: &LineGroup) -> bool {
    g.held_reason.is_empty() && g.line_type != "recovery"
}

fn sum(groups: &[&LineGroup], keep: impl Fn(&LineGroup) -> bool) -> Decimal {
    groups.iter().filter(|g| keep(g)).map(|g| yuan(g.amount_fen)).sum()
}

/// A line of the bridge: key, label, the lines it adds up, its sign.
type BridgePart = (&'static str, (&'static str, &'static str), fn(&LineGroup) -> bool, i32);

/// From last month's amount to pay to this month's. The regular lines count held or not (what
/// the month itself is owed); what is held of them is taken off below, so the lines add up to
/// the amount to pay: every line not held and not a recovery item.
fn bridge(this: &[&LineGroup], last: &[&LineGroup]) -> Vec<BridgeLine> {
    let parts: [BridgePart; 6] = [
        ("regular", ("当月应发", "regular lines (the month itself, held or not)"), |g| g.line_type == "regular", 1),
        (
            "arrears",
            ("补发以前月份", "arrears paid (earlier months)"),
            |g| g.line_type == "arrears" && g.held_reason.is_empty(),
            1,
        ),
        ("topup", ("补差", "top-ups paid"), |g| g.line_type == "topup" && g.held_reason.is_empty(), 1),
        ("offset", ("冲减", "offsets (overpaid months, L2)"), |g| g.line_type == "offset", 1),
        (
            "held",
            ("暂缓发放（当月）", "regular lines held (L3)"),
            |g| g.line_type == "regular" && !g.held_reason.is_empty(),
            -1,
        ),
        ("to_pay", ("本月实发", "to pay (the transfers' control sum)"), to_pay, 1),
    ];
    parts
        .iter()
        .map(|&(key, label, keep, sign)| {
            let (previous, now) = (sum(last, keep) * Decimal::from(sign), sum(this, keep) * Decimal::from(sign));
            BridgeLine { key, label, previous, this: now, change: now - previous }
        })
        .collect()
}

/// A breakdown of the lines `keep` selects, keyed by `key` (key and name), against last month.
fn breakdown(
    this: &[&LineGroup],
    last: &[&LineGroup],
    keep: impl Fn(&LineGroup) -> bool,
    key: impl Fn(&LineGroup) -> (String, String),
) -> Vec<Total> {
    let mut rows: BTreeMap<String, Total> = BTreeMap::new();
    for (groups, now) in [(this, true), (last, false)] {
        for g in groups.iter().filter(|g| keep(g)) {
            let (k, name) = key(g);
            let t = rows.entry(k.clone()).or_insert_with(|| Total { key: k, name, ..Default::default() });
            if now {
                t.lines += g.lines;
                t.amount += yuan(g.amount_fen);
            } else {
                t.previous += yuan(g.amount_fen);
            }
        }
    }
    rows.into_values().map(|t| Total { change: t.amount - t.previous, ..t }).collect()
}

/// What is to pay, per fund (F2).
fn by_fund(this: &[&LineGroup], last: &[&LineGroup]) -> Vec<Total> {
    let fund = |key: &str, name: &str, fen: fn(&LineGroup) -> i64| {
        let of = |groups: &[&LineGroup]| -> Decimal { groups.iter().filter(|g| to_pay(g)).map(|g| yuan(fen(g))).sum() };
        let lines = this.iter().filter(|g| to_pay(g)).map(|g| g.lines).sum();
        let (amount, previous) = (of(this), of(last));
        Total { key: key.into(), name: name.into(), lines, amount, previous, change: amount - previous }
    };
    vec![
        fund("lottery", "市级福利彩票公益金 city welfare-lottery fund", |g| g.lottery_fen),
        fund("district", "区财政 district budget", |g| g.district_fen),
    ]
}

/// Recovery items as amounts owed back, positive, as the batch (`recovery_fen`), `status` and
/// recoveries.csv show them (their lines are stored negative).
fn owed_back(items: Option<Total>) -> Total {
    let t = items.unwrap_or_else(|| Total { key: "recovery".into(), ..Default::default() });
    // Negated without a sign on zero (`-0.00` is not an amount).
    let neg = |d: Decimal| if d.is_zero() { Decimal::ZERO } else { -d };
    Total { amount: neg(t.amount), previous: neg(t.previous), change: neg(t.change), ..t }
}

fn held_name(g: &LineGroup) -> String {
    match HoldReason::parse(&g.held_reason) {
        Some(HoldReason::NoAccount) => "无账户 no account recorded: paid once one is (L3)".into(),
        Some(HoldReason::OtherDistrictPaid) => "他区已发 another district's payment stands (L1)".into(),
        Some(HoldReason::OnHold) => "人工暂停 an operator's hold, until released".into(),
        Some(HoldReason::Fault(code)) => format!("发放失败 failed or returned: {code}, waits for its cure (L3)"),
        None => String::new(),
    }
}

/// New entrants, band and rate changes as the store added them up; exits counted by reason.
async fn explain_changes<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    d: &str,
    month: ServiceMonth,
    import: i64,
    changes: &[RegularChange],
) -> OpsResult<Vec<ChangeLine>> {
    let mut out = Vec::new();
    let mut exits: BTreeMap<(String, Stop), (i64, Decimal)> = BTreeMap::new();
    for c in changes {
        match c.change.as_str() {
            "exit" => {
                let rec = s.person_as_of(&c.id_number, import).await?;
                let allowance = c.allowance.parse::<Allowance>().ok();
                let stop = match allowance {
                    Some(a) => why_stopped(book, rec.as_ref(), a, month, d),
                    None => Stop::StillOwed,
                };
                let e = exits.entry((c.allowance.clone(), stop)).or_default();
                e.0 += c.persons;
                e.1 += yuan(c.amount_fen);
            }
            kind => out.push(ChangeLine {
                kind: match kind {
                    "new" => "new",
                    "band" => "band",
                    _ => "rate",
                },
                allowance: c.allowance.clone(),
                detail: match kind {
                    "new" => format!("tier {}", c.to_tier),
                    _ => format!("{} → {}", c.from_tier, c.to_tier),
                },
                rule: match kind {
                    "new" => "T5",
                    "band" => "T2",
                    _ => rate_rule(&c.allowance),
                },
                persons: c.persons,
                amount: yuan(c.amount_fen),
            }),
        }
    }
    for ((allowance, stop), (persons, amount)) in exits {
        let (rule, zh, en) = stop.describe();
        out.push(ChangeLine { kind: "exit", allowance, detail: format!("{zh} {en}"), rule, persons, amount });
    }
    // The order a reviewer reads a month: who came, who left, who moved up or down a band.
    let rank = |kind: &str| ["new", "exit", "band", "rate"].iter().position(|k| *k == kind);
    out.sort_by_key(|c| rank(c.kind));
    Ok(out)
}

/// The rule whose rates a same-tier change of amount comes from: a new policy version's monthly
/// rate (R2 longevity, R4 care, R6 hardship). The fund split (F2) never changes what is owed.
fn rate_rule(allowance: &str) -> &'static str {
    match allowance.parse::<Allowance>() {
        Ok(Allowance::Longevity) => "R2",
        Ok(Allowance::Care) => "R4",
        Ok(Allowance::Hardship) => "R6",
        Err(_) => "",
    }
}

/// The flags' thresholds for `month`.
fn flag_rules(month: ServiceMonth) -> FlagRules {
    // Born on or before the last day of the same month AGE_FLAG years earlier: aged AGE_FLAG by
    // the month's end (a 29 February birthday falls in February, as R3 counts it).
    let born_by = ServiceMonth::new(month.year() - AGE_FLAG, month.month()).expect("a month").last_day();
    FlagRules {
        born_by: born_by.year() as u32 * 10_000 + born_by.month() * 100 + born_by.day(),
        times_usual: TIMES_USUAL,
        above_usual_fen: ABOVE_USUAL_FEN,
        arrears_months: ARREARS_MONTHS,
        list: FLAG_LIST,
    }
}

fn flag_list(f: crate::store::Flags, rules: FlagRules) -> Vec<Flag> {
    let list = |kind, rule: String, rows: Vec<FlaggedPerson>| Flag {
        kind,
        rule,
        more: rows.len() as i64 > rules.list,
        persons: rows.into_iter().take(rules.list as usize).map(flagged).collect(),
    };
    vec![
        list("age_110", format!("aged {AGE_FLAG} or more by the month's end (born on or before {}): 年满{AGE_FLAG}岁", rules.born_by), f.oldest),
        list(
            "far_above_usual",
            format!(
                "paid at least {TIMES_USUAL} times the person's regular amount and {} yuan above it: 本月发放远高于平常",
                yuan(ABOVE_USUAL_FEN)
            ),
            f.far_above_usual,
        ),
        list("many_arrears", format!("{ARREARS_MONTHS} or more months of arrears at once: 一次补发多月"), f.many_arrears),
        list("shared_account", "one account paid for several persons: 多人共用一个账户".into(), f.shared_accounts),
    ]
}

fn flagged(p: FlaggedPerson) -> FlaggedLine {
    FlaggedLine {
        id_number: mask(&p.id_number),
        name: p.name,
        allowance: p.allowance,
        to_pay: yuan(p.to_pay_fen),
        usual: yuan(p.usual_fen),
        months: p.months,
        account_no: if p.account_no.is_empty() { String::new() } else { mask(&p.account_no) },
    }
}
