//! The monthly review (`report --month M`, `subsidy::ops::review`) on both databases, checked by
//! hand against POLICY.md. Xicheng (110102), engine start 2020-01 (T7); months 2020-01 … 2020-06
//! are run, approved and exported, then 2020-07 (M) is computed and reviewed against 2020-06
//! (M−1). Rates and quotas of fixtures/policy/beijing-2019.toml: longevity 80-89 100 (quota 100),
//! 90-99 500 (quota 200), 100+ 800 (quota 300); care C 200 (quota 100); F2 lottery =
//! min(quota, amount), district the rest. Everyone applied for longevity on 2019-10-08 (approved
//! 2019-10-20) unless said otherwise. ID numbers sort by birth date.
//!
//! | elder      | born       | street    | 2020-06 (M−1)          | 2020-07 (M)                          | rules         |
//! |------------|------------|-----------|------------------------|--------------------------------------|---------------|
//! | `oldest`   | 1910-07-31 | 007 月坛  | 100+ 800 = 300 + 500   | 800; 110 on 2020-07-31: age_110      | R2, review    |
//! | `almost`   | 1910-08-01 | 007       | 100+ 800               | 800; 109 at the month's end: no flag | R2            |
//! | `leaves`   | 1919-03-15 | 009 展览路 | 100+ 800               | — hukou out of Beijing 2020-06-20    | T3            |
//! | `dies`     | 1928-05-05 | 009       | 90-99 500 = 200 + 300  | — died 2020-06-15                    | T3            |
//! | `ninety`   | 1930-07-14 | 009       | 80-89 100 = 100 + 0    | 90 in July: 90-99 500 = 200 + 300    | R3, T2        |
//! | `mover`    | 1933-09-09 | 009       | 80-89 100              | — moved to Dongcheng 2020-06-12      | T3, R1        |
//! | `steady`   | 1935-04-01 | 007       | 80-89 100              | 100                                  | T6            |
//! | `noacct`   | 1936-10-10 | 007       | no account: held       | held                                 | L3            |
//! | `husband`  | 1937-02-02 | 007       | 80-89 100              | 100; account shared with `wife`      | review        |
//! | `wife`     | 1938-03-03 | 007       | 80-89 100              | 100; the same account                | review        |
//! | `newcomer` | 1940-07-05 | 007       | — (79)                 | 80 in July, applied 2020-06-10: 100  | R3, T5        |
//! | `backpay`  | 1950-03-03 | 009       | — (no application)     | care C from 2019-12: 6 arrears + 200 | R4, T5, T7    |
//!
//! `noacct` (L3): every batch holds the month and again each earlier unpaid month, as arrears:
//! June holds 2020-01 … 2020-05 and June (6 × 100), July 2020-01 … 2020-06 and July (7 × 100).
//! `backpay`: a hearing grade 1 certificate issued 2019-12-10 (R4: tier C, 200; T2: a raise counts
//! in its own month) opens a spell in 2019-12; the care application of 2020-06-10 (approved
//! 2020-06-20) reaches the engine after June's batch. T5: 2019-12 is 6 months before the
//! application's month, within `timing.backpay_months` = 6, so payment starts in 2019-12; T7 cuts
//! it to 2020-01. July pays 2020-01 … 2020-06 as arrears (6 × 200, each 100 + 100) and July.

use crate::scenario::{approve, clock, export, load, month, regular, Elder, APPLICATIONS, CERTS, DISTRICT, ELDERS};
use crate::scenario::{OPERATOR, REVIEWER};
use crate::support::{check, eq};
use libtest_mimic::Failed;
use rust_decimal::Decimal;
use subsidy::adapters::report::review::{ChangeLine, Flag, MonthReview, ReviewBatch, Total};
use subsidy::batch::RunOutcome;
use subsidy::money::format_yuan;
use subsidy::ops::{self, OpsError};
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        review_bridge_adds_up_to_the_control_sums_l1_l3,
        review_regular_change_new_t5_exits_t3_r1_band_t2,
        review_regular_change_rate_of_a_new_policy_version_r2,
        review_offsets_and_recovery_items_of_late_news_l2,
        review_totals_by_allowance_tier_fund_f2_street_and_held_l3,
        review_flags_age_110_far_above_usual_many_arrears_shared_account,
        review_first_month_every_regular_line_is_a_new_entrant,
        review_no_standing_batch_is_no_batch_naming_district_and_month,
    ]
}

/// One account number for two persons (`husband`, `wife`).
const SHARED: &str = "6217000000000000099";
const YUETAN: &str = "110102007";
const ZHANLAN: &str = "110102009";

pub struct Cast {
    oldest: Elder,
    almost: Elder,
    leaves: Elder,
    dies: Elder,
    ninety: Elder,
    mover: Elder,
    steady: Elder,
    noacct: Elder,
    husband: Elder,
    wife: Elder,
    newcomer: Elder,
    backpay: Elder,
}

impl Cast {
    pub fn new() -> Cast {
        let e = |name, birth, seq, street, account| Elder::new(name, birth, seq, street, "shebao", account);
        Cast {
            oldest: e("郑百岁", "1910-07-31", 11, YUETAN, "6217000000000000011"),
            almost: e("王九九", "1910-08-01", 12, YUETAN, "6217000000000000012"),
            leaves: e("冯出京", "1919-03-15", 13, ZHANLAN, "6217000000000000013"),
            dies: e("陈故", "1928-05-05", 14, ZHANLAN, "6217000000000000014"),
            ninety: e("褚九十", "1930-07-14", 15, ZHANLAN, "6217000000000000015"),
            mover: e("卫迁", "1933-09-09", 16, ZHANLAN, "6217000000000000016"),
            steady: e("蒋常", "1935-04-01", 17, YUETAN, "6217000000000000017"),
            noacct: e("沈缓", "1936-10-10", 18, YUETAN, ""),
            husband: e("韩共", "1937-02-02", 19, YUETAN, SHARED),
            wife: e("杨共", "1938-03-03", 20, YUETAN, SHARED),
            newcomer: e("朱新", "1940-07-05", 21, YUETAN, "6217000000000000021"),
            backpay: e("秦补", "1950-03-03", 22, ZHANLAN, "6217000000000000022"),
        }
    }

    /// The ten longevity recipients of 2019-10 (all but `newcomer` and `backpay`).
    fn longevity(&self) -> Vec<&Elder> {
        let c = self;
        let mut v = vec![&c.oldest, &c.almost, &c.leaves, &c.dies, &c.ninety];
        v.extend([&c.mover, &c.steady, &c.noacct, &c.husband, &c.wife]);
        v
    }

    /// `noacct`'s `elders.csv` row once an account is recorded.
    pub fn noacct_with_account(&self) -> String {
        self.noacct.row_with_account("", "6217000000000000018")
    }

    fn all(&self) -> Vec<&Elder> {
        let mut v = self.longevity();
        v.extend([&self.newcomer, &self.backpay]);
        v
    }
}

/// An `elders.csv` row of `e` in `district` (street), with hukou dates and death.
fn registration(e: &Elder, district: &str, street: &str, hukou_in: &str, hukou_out: &str, death: &str) -> String {
    let (name, birth, kind, no) = (e.name, e.birth, e.account_type, e.account_no);
    format!("{},{name},{birth},{district},{street},{hukou_in},{hukou_out},{death},{kind},{no}\n", e.id)
}

/// The policy, the start month and the registry as known before 2020-01.
async fn setup<S: Store + LedgerStore>(s: &S, c: &Cast) -> Result<PolicyBook, Failed> {
    s.set_start_month(month("2020-01")).await?; // T7
    s.add_policy(&Policy::parse(DEFAULT_POLICY)?, "fixtures/policy/beijing-2019.toml", clock().now()).await?;
    let elders: String = c.all().iter().map(|e| e.row("")).collect();
    let applications: String =
        c.longevity().iter().map(|e| format!("{},longevity,2019-10-08,approved,2019-10-20\n", e.id)).collect();
    let certs = format!("{CERTS}{},hearing,1,false,2019-12-10,\n", c.backpay.id);
    let files = [
        ("elders.csv", format!("{ELDERS}{elders}")),
        ("applications.csv", format!("{APPLICATIONS}{applications}")),
        ("disability_certs.csv", certs),
    ];
    load(s, &files.iter().map(|(f, t)| (*f, t.as_str())).collect::<Vec<_>>()).await?;
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

/// Run month `m`'s regular batch: it must be computed; its id.
pub async fn run<S: Store + LedgerStore>(s: &S, book: &PolicyBook, m: &str) -> Result<String, Failed> {
    match regular(s, book, m).await? {
        RunOutcome::Computed(sum) => Ok(sum.batch_id),
        other => Err(format!("run {m}: expected a computed batch, got {other:?}").into()),
    }
}

/// 2020-01 … 2020-06 run, approved and exported; the changes known after June's batch imported;
/// 2020-07 computed. The review of 2020-07 (and `ops::review::of_batch` gives the same).
async fn july<S: Store + LedgerStore>(s: &S, c: &Cast) -> Result<MonthReview, Failed> {
    july_with(s, c, Extra::default()).await
}

/// What else reaches the engine before July's run, besides the changes of the table above.
#[derive(Default)]
pub struct Extra {
    /// A policy version to load.
    policy: Option<Policy>,
    /// `elders.csv` rows.
    elders: String,
    /// `suspensions.csv` rows.
    suspensions: String,
}

/// [`july`], with `extra` known before July's run.
pub async fn july_with<S: Store + LedgerStore>(s: &S, c: &Cast, extra: Extra) -> Result<MonthReview, Failed> {
    let mut book = setup(s, c).await?;
    let out = tempfile::tempdir()?;
    for m in ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06"] {
        let b = run(s, &book, m).await?;
        approve(s, &b).await?;
        export(s, &b, out.path()).await?;
    }
    let elders = [
        registration(&c.dies, DISTRICT, ZHANLAN, "", "", "2020-06-15"),
        registration(&c.leaves, DISTRICT, ZHANLAN, "", "2020-06-20", ""),
        registration(&c.mover, DISTRICT, ZHANLAN, "", "2020-06-12", ""),
        registration(&c.mover, "110101", "110101007", "2020-06-12", "", ""),
        extra.elders,
    ]
    .concat();
    let applications = format!(
        "{APPLICATIONS}{},longevity,2020-06-10,approved,2020-06-20\n{},care,2020-06-10,approved,2020-06-20\n",
        c.newcomer.id, c.backpay.id
    );
    let suspensions = format!("id_number,reason,valid_from,valid_to\n{}", extra.suspensions);
    let files = [
        ("elders.csv", format!("{ELDERS}{elders}")),
        ("applications.csv", applications),
        ("suspensions.csv", suspensions),
    ];
    load(s, &files.iter().map(|(f, t)| (*f, t.as_str())).collect::<Vec<_>>()).await?;
    if let Some(p) = extra.policy {
        s.add_policy(&p, "a new rate from July", clock().now()).await?;
        book = PolicyBook::new(s.policy_versions().await?)?;
    }
    let batch = run(s, &book, "2020-07").await?;
    eq(batch.as_str(), "110102-2020-07-R1", "July's batch")?;
    let mut reviews = ops::review::review(s, Some(DISTRICT), month("2020-07")).await?;
    eq(reviews.len(), 1, "one review: Xicheng's")?;
    let r = reviews.pop().ok_or("no review")?;
    eq(&ops::review::of_batch(s, &batch).await?, &r, "the review `approve` shows")?;
    // Dongcheng (registered since the move) has no July batch: the review of every district is Xicheng's.
    eq(ops::review::review(s, None, month("2020-07")).await?, vec![r.clone()], "review of every district")?;
    Ok(r)
}

fn y(d: Decimal) -> String {
    format_yuan(d)
}

/// A masked ID or account as the review must show it: the first and last four characters.
fn masked(s: &str) -> String {
    format!("{}{}{}", &s[..4], "*".repeat(s.len() - 8), &s[s.len() - 4..])
}

/// `key: previous → this (change)` of each bridge line.
fn bridge(r: &MonthReview) -> Vec<String> {
    r.bridge.iter().map(|l| format!("{}: {} → {} ({})", l.key, y(l.previous), y(l.this), y(l.change))).collect()
}

/// `kind allowance [detail] (rule): persons: amount` of each part of the regular lines' change;
/// checked to add up to the bridge's regular line's change.
fn changes(r: &MonthReview) -> Result<Vec<String>, Failed> {
    let explained: Decimal = r.regular_change.iter().map(|c| c.amount).sum();
    eq(y(explained), y(r.bridge[0].change), "the changes add up to the regular line's change")?;
    let line = |c: &ChangeLine| {
        format!("{} {} [{}] ({}): {}, {}", c.kind, c.allowance, c.detail, c.rule, c.persons, y(c.amount))
    };
    Ok(r.regular_change.iter().map(line).collect())
}

/// `key name: lines, amount, previous, change` of a breakdown.
fn totals(rows: &[Total]) -> Vec<String> {
    rows.iter()
        .map(|t| format!("{} {}: {}, {}, {}, {}", t.key, t.name, t.lines, y(t.amount), y(t.previous), y(t.change)))
        .collect()
}

/// `masked-id name allowance: to pay, usual, months, account` of a flag's persons.
fn flagged(f: &Flag) -> Vec<String> {
    f.persons
        .iter()
        .map(|p| {
            let (to_pay, usual) = (y(p.to_pay), y(p.usual));
            format!("{} {} {}: {to_pay}, {usual}, {}, {}", p.id_number, p.name, p.allowance, p.months, p.account_no)
        })
        .collect()
}

fn flag<'a>(r: &'a MonthReview, kind: &str) -> Result<&'a Flag, Failed> {
    r.flags.iter().find(|f| f.kind == kind).ok_or_else(|| format!("no flag {kind}").into())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The bridge from June's amount to pay to July's, line by line; each month's amount to pay is
/// the sum of its batches' control sums (L1: what the transfers pay; L3: held lines are not).
async fn review_bridge_adds_up_to_the_control_sums_l1_l3<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let r = july(s, &Cast::new()).await?;
    eq((r.district_code.as_str(), r.district_name.as_str()), (DISTRICT, "西城区"), "district")?;
    eq((r.month, r.previous_month), (month("2020-07"), month("2020-06")), "months")?;
    let batches = |b: &[ReviewBatch]| -> Vec<String> {
        b.iter()
            .map(|b| {
                let approved = b.approved_by.clone().unwrap_or_default();
                format!(
                    "{} {} {} {} {approved} {} {}",
                    b.batch_id,
                    b.kind,
                    b.state,
                    b.run_by,
                    b.transfers,
                    y(b.control_sum)
                )
            })
            .collect()
    };
    // July: oldest, almost (800 each), ninety (500), steady, husband, wife, newcomer (100 each),
    // backpay (1200 + 200): 8 transfers, 3900. June: oldest, almost, leaves (800 each), dies (500),
    // ninety, mover, steady, husband, wife (100 each): 9 transfers, 3400; noacct is held both months.
    eq(
        batches(&r.batches),
        vec![format!("110102-2020-07-R1 regular computed {OPERATOR}  8 3900.00")],
        "this month's batches",
    )?;
    eq(
        batches(&r.previous_batches),
        vec![format!("110102-2020-06-R1 regular exported {OPERATOR} {REVIEWER} 9 3400.00")],
        "last month's batches",
    )?;
    eq(
        bridge(&r),
        strings(&[
            // June: 800 × 3 + 500 + 100 × 6 (noacct's held line included) = 3500. July: 800 × 2 + 500
            // + 100 × 5 (steady, noacct, husband, wife, newcomer) + 200 (backpay) = 2800.
            "regular: 3500.00 → 2800.00 (-700.00)",
            // backpay's 2020-01 … 2020-06 at 200 (T5); noacct's arrears are held, not here.
            "arrears: 0.00 → 1200.00 (1200.00)",
            "topup: 0.00 → 0.00 (0.00)",
            "offset: 0.00 → 0.00 (0.00)",
            // noacct's regular line, held (L3) both months.
            "held: -100.00 → -100.00 (0.00)",
            // 3500 - 100 = 3400; 2800 + 1200 - 100 = 3900.
            "to_pay: 3400.00 → 3900.00 (500.00)",
        ]),
        "bridge",
    )?;
    let parts: Decimal = r.bridge[..5].iter().map(|l| l.this).sum();
    eq(y(parts), y(r.bridge[5].this), "the bridge's lines add up to July's amount to pay")?;
    let control = |b: &[ReviewBatch]| y(b.iter().map(|b| b.control_sum).sum());
    eq(y(r.bridge[5].this), control(&r.batches), "July to pay = its batches' control sums")?;
    eq(y(r.bridge[5].previous), control(&r.previous_batches), "June to pay = its batches' control sums")?;
    let stored = s.batch("110102-2020-07-R1").await?.ok_or("July's batch")?;
    eq((stored.control_sum_fen, stored.held_fen), (390_000, 70_000), "July's stored control sum and held lines")
}

/// Why the regular lines fell by 700: two new entrants (T5: `backpay` care C 200, `newcomer`
/// 80-89 100), three exits by the reason the eligibility core gives from the registry the batch
/// read (T3 died: `dies` 500; T3 registration ended: `leaves` 800; R1 another district: `mover`
/// 100, registered in Dongcheng from July), one band change (T2: `ninety` 100 → 500).
async fn review_regular_change_new_t5_exits_t3_r1_band_t2<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let r = july(s, &Cast::new()).await?;
    eq(
        changes(&r)?,
        strings(&[
            "new care [tier C] (T5): 1, 200.00",
            "new longevity [tier 80-89] (T5): 1, 100.00",
            "exit longevity [死亡 died] (T3): 1, -500.00",
            "exit longevity [户籍迁出 registration ended] (T3): 1, -800.00",
            "exit longevity [迁往他区 registered in another district] (T3): 1, -100.00",
            "band longevity [80-89 → 90-99] (T2): 1, 400.00",
        ]),
        "regular_change",
    )?;
    eq(y(r.bridge[0].change), "-700.00".to_string(), "200 + 100 - 500 - 800 - 100 + 400")
}

/// A policy version in force from July raises the 80-89 rate from 100 to 150 (R2 as data; the
/// quota stays 100, F2: 100 + 50). `steady`, `husband`, `wife` and `noacct` (held, still a
/// regular line) are paid 50 more: a rate change, not a band change; `newcomer` enters at 150.
/// Earlier months keep their version's rate: `backpay`'s arrears are 200 each as before.
async fn review_regular_change_rate_of_a_new_policy_version_r2<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let raised = DEFAULT_POLICY
        .replace("version = \"beijing-2019-v1\"", "version = \"beijing-2020-07-test\"")
        .replace("effective_from = \"2019-10\"", "effective_from = \"2020-07\"")
        .replace("min_age = 80, monthly = \"100.00\"", "min_age = 80, monthly = \"150.00\"");
    let r = july_with(s, &Cast::new(), Extra { policy: Some(Policy::parse(&raised)?), ..Default::default() }).await?;
    eq(
        changes(&r)?,
        strings(&[
            "new care [tier C] (T5): 1, 200.00",
            "new longevity [tier 80-89] (T5): 1, 150.00",
            "exit longevity [死亡 died] (T3): 1, -500.00",
            "exit longevity [户籍迁出 registration ended] (T3): 1, -800.00",
            "exit longevity [迁往他区 registered in another district] (T3): 1, -100.00",
            "band longevity [80-89 → 90-99] (T2): 1, 400.00",
            "rate longevity [80-89 → 80-89] (R2): 4, 200.00",
        ]),
        "regular_change",
    )?;
    // June 3500; July 800 × 2 + 500 + 150 × 5 + 200 = 3050: 200 + 150 - 1400 + 400 + 200 = -450.
    eq(bridge(&r)[0].as_str(), "regular: 3500.00 → 3050.00 (-450.00)", "the regular line")?;
    eq(bridge(&r)[1].as_str(), "arrears: 0.00 → 1200.00 (1200.00)", "backpay's arrears at the old rate")
}

/// `steady`'s death on 2020-05-20 and `ninety`'s imprisonment from 2020-05-10 to 2020-06-30,
/// reported before July's run.
pub fn late_news(c: &Cast) -> Extra {
    Extra {
        elders: registration(&c.steady, DISTRICT, YUETAN, "", "", "2020-05-20"),
        suspensions: format!("{},imprisonment,2020-05-10,2020-06-30\n", c.ninety.id),
        ..Default::default()
    }
}

/// Late news before July's run (L2): `steady` died on 2020-05-20 (T3: June was not owed, yet
/// paid 100 = 100 + 0; nothing of longevity is paid to him in July to offset it against: a
/// recovery item of 100, and he leaves, died); `ninety` was imprisoned from 2020-05-10 to
/// 2020-06-30 (T4: June blocked, paid 100 = 100 + 0; July resumes, 90-99 500): an offset of 100
/// against his July line, transfer 400.
async fn review_offsets_and_recovery_items_of_late_news_l2<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let r = july_with(s, &c, late_news(&c)).await?;
    eq(
        bridge(&r),
        strings(&[
            // 2800 without steady's 100.
            "regular: 3500.00 → 2700.00 (-800.00)",
            "arrears: 0.00 → 1200.00 (1200.00)",
            "topup: 0.00 → 0.00 (0.00)",
            // ninety's June, offset.
            "offset: 0.00 → -100.00 (-100.00)",
            "held: -100.00 → -100.00 (0.00)",
            // 2700 + 1200 - 100 - 100; steady's recovery item is owed back, not paid or deducted.
            "to_pay: 3400.00 → 3700.00 (300.00)",
        ]),
        "bridge",
    )?;
    eq(r.batches.iter().map(|b| (b.transfers, y(b.control_sum))).collect(), vec![(7, "3700.00".into())], "July")?;
    eq(
        totals(std::slice::from_ref(&r.recovery_items)),
        strings(&["recovery : 1, 100.00, 0.00, 100.00"]),
        "recovery items raised: steady's June, 100 owed back",
    )?;
    eq(
        changes(&r)?,
        strings(&[
            "new care [tier C] (T5): 1, 200.00",
            "new longevity [tier 80-89] (T5): 1, 100.00",
            // dies 500 and steady 100.
            "exit longevity [死亡 died] (T3): 2, -600.00",
            "exit longevity [户籍迁出 registration ended] (T3): 1, -800.00",
            "exit longevity [迁往他区 registered in another district] (T3): 1, -100.00",
            "band longevity [80-89 → 90-99] (T2): 1, 400.00",
        ]),
        "regular_change",
    )?;
    // ninety: to pay 400 against a usual 500; lottery 1900 - 100 (steady) - 100 (the offset's share).
    eq(flag(&r, "far_above_usual")?.persons.len(), 1, "backpay only")?;
    eq(
        totals(&r.by_fund)[0].as_str(),
        "lottery 市级福利彩票公益金 city welfare-lottery fund: 14, 1700.00, 1600.00, 100.00",
        "lottery",
    )
}

/// What July pays, by allowance, tier, fund (F2) and street, against June; the held lines (L3).
async fn review_totals_by_allowance_tier_fund_f2_street_and_held_l3<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let r = july(s, &Cast::new()).await?;
    eq(
        totals(&r.by_allowance),
        strings(&[
            // backpay: 6 arrears + July, 7 lines of 200.
            "care : 7, 1400.00, 0.00, 1400.00",
            // oldest 800, almost 800, ninety 500, steady, husband, wife, newcomer 100: 2500, against June's 3400.
            "longevity : 7, 2500.00, 3400.00, -900.00",
        ]),
        "by_allowance",
    )?;
    eq(
        totals(&r.by_tier),
        strings(&[
            "care C : 7, 1400.00, 0.00, 1400.00",
            // June: oldest, almost, leaves.
            "longevity 100+ : 2, 1600.00, 2400.00, -800.00",
            // July steady, husband, wife, newcomer; June ninety, mover, steady, husband, wife.
            "longevity 80-89 : 4, 400.00, 500.00, -100.00",
            // July ninety; June dies.
            "longevity 90-99 : 1, 500.00, 500.00, 0.00",
        ]),
        "by_tier",
    )?;
    eq(
        totals(&r.by_fund),
        strings(&[
            // July: 300 + 300 + 200 + 4 × 100 + 7 × 100 = 1900; June: 3 × 300 + 200 + 5 × 100 = 1600.
            "lottery 市级福利彩票公益金 city welfare-lottery fund: 14, 1900.00, 1600.00, 300.00",
            // July: 500 + 500 + 300 + 0 × 4 + 7 × 100 = 2000; June: 3 × 500 + 300 = 1800.
            "district 区财政 district budget: 14, 2000.00, 1800.00, 200.00",
        ]),
        "by_fund",
    )?;
    let funds: Decimal = r.by_fund.iter().map(|t| t.amount).sum();
    eq(y(funds), y(r.bridge[5].this), "the funds add up to the amount to pay")?;
    eq(
        totals(&r.by_street),
        strings(&[
            // oldest, almost, steady, husband, wife, newcomer; June without newcomer.
            "110102007 月坛: 6, 2000.00, 1900.00, 100.00",
            // ninety 500 + backpay 1400; June leaves 800, dies 500, ninety 100, mover 100.
            "110102009 展览路: 8, 1900.00, 1500.00, 400.00",
        ]),
        "by_street",
    )?;
    eq(
        totals(&r.held),
        // noacct: July holds 2020-01 … 2020-07 (7 × 100), June held 2020-01 … 2020-06 (600).
        strings(&["NO_ACCOUNT 无账户 no account recorded: paid once one is (L3): 7, 700.00, 600.00, 100.00"]),
        "held",
    )?;
    eq(totals(std::slice::from_ref(&r.recovery_items)), strings(&["recovery : 0, 0.00, 0.00, 0.00"]), "recoveries")
}

/// The flags of July: `oldest` (born 1910-07-31) is 110 by 2020-07-31, `almost` (1910-08-01) is
/// not; `backpay` is paid 1400 against a usual 200 (≥ 3 × 200 and ≥ 500 above) and six months
/// of arrears at once (`noacct`'s six held months are not paid, not flagged); `husband` and
/// `wife` are paid on one account. IDs and the account are masked.
async fn review_flags_age_110_far_above_usual_many_arrears_shared_account<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let c = Cast::new();
    let r = july(s, &c).await?;
    let kinds: Vec<&str> = r.flags.iter().map(|f| f.kind).collect();
    eq(kinds, vec!["age_110", "far_above_usual", "many_arrears", "shared_account"], "flags")?;
    check(r.flags.iter().all(|f| !f.more), "no flag lists more than it shows")?;
    let age = flag(&r, "age_110")?;
    check(age.rule.contains("born on or before 19100731"), format!("age_110's rule: {}", age.rule))?;
    eq(flagged(age), vec![format!("{} 郑百岁 : 800.00, 800.00, 0, ", masked(&c.oldest.id))], "age_110")?;
    eq(
        flagged(flag(&r, "far_above_usual")?),
        vec![format!("{} 秦补 : 1400.00, 200.00, 0, ", masked(&c.backpay.id))],
        "far_above_usual",
    )?;
    eq(
        flagged(flag(&r, "many_arrears")?),
        vec![format!("{} 秦补 care: 1200.00, 0.00, 6, ", masked(&c.backpay.id))],
        "many_arrears: 2020-01 … 2020-06 at 200",
    )?;
    let account = masked(SHARED);
    eq(account.as_str(), "6217***********0099", "a masked account")?;
    eq(
        flagged(flag(&r, "shared_account")?),
        vec![
            format!("{} 韩共 : 100.00, 0.00, 0, {account}", masked(&c.husband.id)),
            format!("{} 杨共 : 100.00, 0.00, 0, {account}", masked(&c.wife.id)),
        ],
        "shared_account",
    )?;
    // Nothing of the review shows a full ID or account number.
    let json = serde_json::to_string(&r)?;
    for e in c.all() {
        check(!json.contains(&e.id), format!("{}'s full ID in the review", e.name))?;
    }
    check(!json.contains(SHARED), "the full account number in the review")
}

/// The engine's first month: no batch the month before, so every regular line is a new entrant
/// (T5), by allowance and tier, and the bridge starts from zero. `oldest` is 109 by 2020-01-31:
/// no age flag yet.
async fn review_first_month_every_regular_line_is_a_new_entrant<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let book = setup(s, &c).await?;
    run(s, &book, "2020-01").await?;
    let r = ops::review::review(s, Some(DISTRICT), month("2020-01")).await?.pop().ok_or("no review")?;
    eq((r.previous_month, r.previous_batches.len()), (month("2019-12"), 0), "no batch in 2019-12")?;
    eq(
        bridge(&r),
        strings(&[
            // The ten longevity recipients: 800 × 3 + 500 + 100 × 6 (noacct's included).
            "regular: 0.00 → 3500.00 (3500.00)",
            "arrears: 0.00 → 0.00 (0.00)",
            "topup: 0.00 → 0.00 (0.00)",
            "offset: 0.00 → 0.00 (0.00)",
            "held: 0.00 → -100.00 (-100.00)",
            "to_pay: 0.00 → 3400.00 (3400.00)",
        ]),
        "bridge",
    )?;
    eq(r.batches.iter().map(|b| y(b.control_sum)).collect(), strings(&["3400.00"]), "January's control sum")?;
    eq(
        changes(&r)?,
        strings(&[
            "new longevity [tier 100+] (T5): 3, 2400.00",
            "new longevity [tier 80-89] (T5): 6, 600.00",
            "new longevity [tier 90-99] (T5): 1, 500.00",
        ]),
        "every regular line is new",
    )?;
    eq(totals(&r.by_allowance), strings(&["longevity : 9, 3400.00, 0.00, 3400.00"]), "by_allowance")?;
    for (kind, n) in [("age_110", 0), ("far_above_usual", 0), ("many_arrears", 0), ("shared_account", 2)] {
        eq(flag(&r, kind)?.persons.len(), n, &format!("{kind} in January"))?;
    }
    Ok(())
}

/// A month with no standing batch: not run yet, or its only batch discarded. The error names the
/// district and the month and says to run it.
async fn review_no_standing_batch_is_no_batch_naming_district_and_month<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let book = setup(s, &Cast::new()).await?;
    let b = run(s, &book, "2020-01").await?;
    let no_batch = |whose: &str, m: &str| {
        format!(
            "there is no batch of {whose} for service month {m} (computed, approved or exported); run it first: \
             subsidy run --month {m}; `subsidy status` lists the batches"
        )
    };
    for (district, m, whose) in [(Some(DISTRICT), "2020-02", "district 110102"), (None, "2020-02", "any district")] {
        let got = ops::review::review(s, district, month(m)).await;
        check(
            matches!(&got, Err(e @ OpsError::NoBatch(_)) if e.to_string() == no_batch(whose, m)),
            format!("review {m} of {district:?}: {:?}", got.map(|r| r.len())),
        )?;
    }
    ops::discard::discard(s, &b, "registry incomplete", REVIEWER, clock()).await?;
    let got = ops::review::review(s, Some(DISTRICT), month("2020-01")).await;
    check(
        matches!(&got, Err(e @ OpsError::NoBatch(_)) if e.to_string() == no_batch("district 110102", "2020-01")),
        format!("review of a month whose batch is discarded: {:?}", got.map(|r| r.len())),
    )?;
    let unknown = ops::review::review(s, Some("110105"), month("2020-01")).await;
    check(matches!(unknown, Err(OpsError::Usage(_))), "a district with no registration is wrong usage")
}
