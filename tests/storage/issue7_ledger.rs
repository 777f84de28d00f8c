//! Corrections that stay right when the policy changes (issue 7, points 1–5 and 12). Each case
//! fails on the code before the fix and states, in its comments, how the expected values follow
//! from POLICY.md.
//!
//! Rates and quotas are those of the default policy (fixtures/policy/beijing-2019.toml) unless a
//! case loads another version: longevity 80-89 100 (quota 100), 90-99 500 (quota 200), 100+ 800
//! (quota 300). F2: lottery = min(quota, amount) per person-month, district the rest; a line that
//! adjusts an earlier payment carries only the change of each share. Every case loads a lottery
//! allocation for each district and year it pays (F3), large enough not to run out unless the
//! case says otherwise.

use crate::scenario::{approve, export, id, load, month, posting_text, regular_in, run_time, APPLICATIONS, ELDERS};
use crate::support::{check, eq};
use chrono::{DateTime, TimeZone, Utc};
use libtest_mimic::Failed;
use std::path::Path;
use subsidy::batch::{run_district, BatchSummary, RunOutcome, RunRequest};
use subsidy::cli::commands;
use subsidy::clock::Clock;
use subsidy::ledger::BatchKind;
use subsidy::ledger::BatchState;
use subsidy::money::{format_fen, format_yuan};
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, PostingRow, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        l4_a_policy_version_can_raise_a_top_rate_from_an_exported_month,
        l2_a_second_rerun_sees_a_policy_loaded_after_the_first,
        l1_a_rerun_pays_months_held_for_another_district_once_it_recovered,
        f3_a_replacing_rerun_splits_as_discard_and_run,
        l2_rerun_dry_run_announces_what_the_rerun_writes,
        l3_reimporting_identical_files_changes_nobody_and_a_recorded_account_pays,
        l4_rerun_of_a_batch_another_district_relies_on_succeeds,
        discard_of_a_batch_another_district_relies_on_is_refused,
        discard_is_refused_whatever_the_tier_and_the_bound,
        a_policy_loaded_while_a_run_goes_on_is_not_missed,
        l3_a_correction_holding_new_lines_is_written,
    ]
}

const XICHENG: &str = "110102";
const HAIDIAN: &str = "110108";

// ------------------------------------------------------------------------------------ helpers

/// The default policy with text replacements (each must match once) and an allocation for
/// Haidian 2020 beside Xicheng's (F3), `xicheng_2020` replacing Xicheng's when given.
fn policy(edits: &[(&str, &str)], xicheng_2020: Option<&str>) -> Result<Policy, Failed> {
    let mut text = DEFAULT_POLICY.to_string();
    for (from, to) in edits {
        check(text.matches(from).count() == 1, format!("the default policy has `{from}` once"))?;
        text = text.replace(from, to);
    }
    if let Some(amount) = xicheng_2020 {
        text = text.replace("amount = \"101247600.00\"", &format!("amount = \"{amount}\""));
    }
    text.push_str("\n[[allocations]]\ndistrict = \"110108\"\nyear = 2020\namount = \"50000000.00\"\n");
    Ok(Policy::parse(&text)?)
}

/// Start month 2020-01 (T7) and `first`, loaded 2019-10-01.
async fn setup<S: Store>(s: &S, first: Policy) -> Result<PolicyBook, Failed> {
    s.set_start_month(month("2020-01")).await?;
    s.add_policy(&first, "tests/storage/issue7_ledger.rs", at("2019-10-01")).await?;
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

/// Load a later policy version at `when`; the book after it.
async fn load_policy<S: Store>(s: &S, p: Policy, when: &str) -> Result<PolicyBook, Failed> {
    s.add_policy(&p, "tests/storage/issue7_ledger.rs", at(when)).await?;
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

/// Midnight UTC of a day.
fn at(day: &str) -> DateTime<Utc> {
    let d = crate::scenario::day(day);
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
}

fn clock() -> Clock {
    Clock::fixed(crate::scenario::day("2021-01-01"))
}

/// A regular batch of `district` for `m`; its id, or a failure naming what came instead.
async fn regular<S: Store + LedgerStore>(s: &S, book: &PolicyBook, district: &str, m: &str) -> Result<String, Failed> {
    match regular_in(s, book, district, m).await? {
        RunOutcome::Computed(sum) => Ok(sum.batch_id),
        other => Err(format!("run {district} {m}: expected a computed batch, got {other:?}").into()),
    }
}

/// Run, approve and export a regular month.
async fn pay<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    district: &str,
    m: &str,
    out: &Path,
) -> Result<String, Failed> {
    let b = regular(s, book, district, m).await?;
    approve(s, &b).await?;
    export(s, &b, out).await?;
    Ok(b)
}

/// How a rerun is asked.
#[derive(Clone, Copy)]
struct Rerun {
    dry_run: bool,
    read_everyone: bool,
}

const WRITE: Rerun = Rerun { dry_run: false, read_everyone: false };
const DRY: Rerun = Rerun { dry_run: true, read_everyone: false };
const DRY_FULL: Rerun = Rerun { dry_run: true, read_everyone: true };

async fn rerun<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    district: &str,
    m: &str,
    how: Rerun,
    when: DateTime<Utc>,
) -> Result<RunOutcome, Failed> {
    let req = RunRequest {
        month: month(m),
        by: crate::scenario::OPERATOR.into(),
        dry_run: how.dry_run,
        kind: BatchKind::Correction,
        reason: Some("issue 7".into()),
        read_everyone: how.read_everyone,
        keep_postings: true,
    };
    Ok(run_district(s, book, month("2020-01"), district, &req, when).await?)
}

fn computed(outcome: RunOutcome) -> Result<Box<BatchSummary>, Failed> {
    match outcome {
        RunOutcome::Computed(sum) => Ok(sum),
        other => Err(format!("expected a computed batch, got {other:?}").into()),
    }
}

/// A computed posting as `person-allowance-month type tier amount = lottery + district [held]`,
/// without its adjustment number (a full run and an incremental one may number differently).
fn line_of(p: &subsidy::ledger::Posting) -> String {
    format!(
        "{}-{}-{} {} {} {} = {} + {}{}",
        p.key.id_number,
        p.key.allowance,
        p.key.month,
        p.line_type.as_str(),
        p.tier,
        format_yuan(p.amount),
        format_yuan(p.split.lottery),
        format_yuan(p.split.district),
        p.held.map(|h| format!(" held {}", h.as_str())).unwrap_or_default()
    )
}

fn lines(sum: &BatchSummary) -> Vec<String> {
    let mut v: Vec<String> = sum.postings.iter().map(line_of).collect();
    v.sort();
    v
}

/// A stored posting as [`line_of`] renders a computed one, plus its transfer's sequence number.
fn stored_line(p: &PostingRow) -> String {
    format!(
        "{}-{}-{} {} {} {} = {} + {}{} {}",
        p.id_number,
        p.allowance,
        p.service_month,
        p.line_type,
        p.tier,
        format_fen(p.amount_fen),
        format_fen(p.lottery_fen),
        format_fen(p.district_fen),
        p.held_reason.as_ref().map(|h| format!(" held {h}")).unwrap_or_default(),
        p.transfer_id.as_ref().map(|t| t.rsplit('-').next().unwrap_or("").to_string()).unwrap_or_default()
    )
}

async fn stored_lines<S: LedgerStore>(s: &S, batch: &str) -> Result<Vec<String>, Failed> {
    let mut v: Vec<String> = s.batch_postings(batch).await?.iter().map(stored_line).collect();
    v.sort();
    Ok(v)
}

async fn postings<S: LedgerStore>(s: &S, batch: &str) -> Result<Vec<String>, Failed> {
    Ok(s.batch_postings(batch).await?.iter().map(posting_text).collect())
}

/// The elders.csv row of a person registered in `district`.
fn elder(id: &str, name: &str, birth: &str, district: &str, moved_in: &str, moved_out: &str, death: &str) -> String {
    format!(
        "{id},{name},{birth},{district},{district}001,{moved_in},{moved_out},{death},shebao,62170000{}\n",
        &id[10..]
    )
}

// -------------------------------------------------------------------------------------- cases

/// Point 1, L4: the bound is the highest monthly rate of the allowance in any policy version
/// loaded, so a version loaded later can raise it for a month already paid; what is owed is
/// decided by the version in force for the month.
async fn l4_a_policy_version_can_raise_a_top_rate_from_an_exported_month<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    // Born 1916-12-10: 103 in 2020, tier 100+ (R2: 800, quota 300); applied 2019-12-05 (T5).
    let old = id(XICHENG, "1916-12-10", 11);
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&old, "赵一", "1916-12-10", XICHENG, "", "", ""))),
            ("applications.csv", &format!("{APPLICATIONS}{old},longevity,2019-12-05,approved,2019-12-10\n")),
        ],
    )
    .await?;
    let r1 = pay(s, &book, XICHENG, "2020-01", out.path()).await?;
    // F2: 800 = lottery min(300, 800) + district 500.
    eq(
        postings(s, &r1).await?,
        vec![format!("{old}-longevity-2020-01-0 regular 100+ 800.00 = 300.00 + 500.00 110102 -> {r1}-000001")],
        "R1",
    )?;

    // A version effective 2020-01 raises 100+ to 850 (quota unchanged), loaded after R1's export.
    let raised = policy(
        &[
            ("version = \"beijing-2019-v1\"", "version = \"beijing-2020-raise-test\""),
            ("effective_from = \"2019-10\"", "effective_from = \"2020-01\""),
            ("monthly = \"800.00\", lottery_quota = \"300.00\"", "monthly = \"850.00\", lottery_quota = \"300.00\""),
        ],
        None,
    )?;
    let book = load_policy(s, raised, "2020-01-20").await?;
    let r2 = pay(s, &book, XICHENG, "2020-02", out.path()).await?;
    // 2020-01: owed 850 (300 + 550), paid 800 (300 + 500): top-up 50 = lottery 0 + district 50 (F2).
    // 2020-02: 850 = 300 + 550. One transfer of 900.
    eq(
        postings(s, &r2).await?,
        vec![
            format!("{old}-longevity-2020-01-1 topup 100+ 50.00 = 0.00 + 50.00 110102 -> {r2}-000001"),
            format!("{old}-longevity-2020-02-0 regular 100+ 850.00 = 300.00 + 550.00 110102 -> {r2}-000001"),
        ],
        "R2 after the raise",
    )?;
    // Later months run too: 2020-03 850.
    let r3 = regular(s, &book, XICHENG, "2020-03").await?;
    eq(
        postings(s, &r3).await?,
        vec![format!("{old}-longevity-2020-03-0 regular 100+ 850.00 = 300.00 + 550.00 110102 -> {r3}-000001")],
        "R3",
    )?;
    // And a discard + run of that month gives the same again (adjustment 1: keys are never reused).
    let entry = subsidy::audit::AuditEntry {
        actor: "reviewer-li".into(),
        command: "discard".into(),
        target: r3.clone(),
        reason: "test".into(),
        input_fingerprint: String::new(),
        details: "{}".into(),
    };
    eq(s.discard_batch(&r3, "test", &entry, clock().now()).await?, true, "R3 discarded")?;
    let r3b = regular(s, &book, XICHENG, "2020-03").await?;
    eq(
        postings(s, &r3b).await?,
        vec![format!("{old}-longevity-2020-03-1 regular 100+ 850.00 = 300.00 + 550.00 110102 -> {r3b}-000001")],
        "R2 of 2020-03",
    )?;
    let (balances, counted) = s.ledger_check().await?;
    eq(balances, counted, "balances agree with the counted postings")?;
    // 800 + 50 + 850 + 850.
    eq(format_fen(counted), "2550.00".to_string(), "net paid")
}

/// Point 2, L2: a second rerun sees a policy version loaded after the batch that vouches for the
/// month, even when a first correction of an earlier month was computed after the load.
async fn l2_a_second_rerun_sees_a_policy_loaded_after_the_first<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    // Born 1935-04-01: 84, tier 80-89 (100, quota 100); applied 2019-10-08.
    let p = id(XICHENG, "1935-04-01", 22);
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&p, "钱二", "1935-04-01", XICHENG, "", "", ""))),
            ("applications.csv", &format!("{APPLICATIONS}{p},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        pay(s, &book, XICHENG, m, out.path()).await?;
    }
    // A version effective 2020-02 raises 80-89 to 120 (quota 100), loaded 2020-03-01.
    let raised = policy(
        &[
            ("version = \"beijing-2019-v1\"", "version = \"beijing-2020-02-test\""),
            ("effective_from = \"2019-10\"", "effective_from = \"2020-02\""),
            ("monthly = \"100.00\", lottery_quota = \"100.00\"", "monthly = \"120.00\", lottery_quota = \"100.00\""),
        ],
        None,
    )?;
    let book = load_policy(s, raised, "2020-03-01").await?;
    // First rerun, of 2020-02: top-up 20 for February (lottery min(100, 120) = 100 already paid: 0;
    // district 20).
    let c1 = computed(rerun(s, &book, XICHENG, "2020-02", WRITE, at("2020-03-02")).await?)?;
    eq(lines(&c1), vec![format!("{p}-longevity-2020-02 topup 80-89 20.00 = 0.00 + 20.00")], "C1 of 2020-02")?;
    approve(s, &c1.batch_id).await?;
    export(s, &c1.batch_id, out.path()).await?;
    // Second rerun, of 2020-03: R3 vouches for March and the version was loaded after it, so
    // everyone is read: March is owed 120 and was paid 100 → top-up 20.
    let incremental = computed(rerun(s, &book, XICHENG, "2020-03", DRY, at("2020-03-03")).await?)?;
    let full = computed(rerun(s, &book, XICHENG, "2020-03", DRY_FULL, at("2020-03-03")).await?)?;
    eq(lines(&incremental), vec![format!("{p}-longevity-2020-03 topup 80-89 20.00 = 0.00 + 20.00")], "C1 of 2020-03")?;
    eq(lines(&incremental), lines(&full), "incremental = full")?;
    let c2 = computed(rerun(s, &book, XICHENG, "2020-03", WRITE, at("2020-03-03")).await?)?;
    eq(lines(&c2), lines(&full), "written = announced")?;
    approve(s, &c2.batch_id).await?;
    export(s, &c2.batch_id, out.path()).await?;
    // A third rerun of 2020-02 finds nothing: C1 settled February after the load.
    match rerun(s, &book, XICHENG, "2020-02", DRY, at("2020-03-04")).await? {
        RunOutcome::NothingToSettle => Ok(()),
        other => Err(format!("rerun 2020-02 again: expected nothing to settle, got {other:?}").into()),
    }
}

/// Point 2, L1/L3: a month held OTHER_DISTRICT_PAID is paid by the next correction once the other
/// district recovered it, though nothing was imported since.
async fn l1_a_rerun_pays_months_held_for_another_district_once_it_recovered<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    let p = id(XICHENG, "1935-04-01", 33);
    let apply = format!("{APPLICATIONS}{p},longevity,2019-10-08,approved,2019-10-20\n");
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&p, "孙三", "1935-04-01", XICHENG, "", "", ""))),
            ("applications.csv", &apply),
        ],
    )
    .await?;
    pay(s, &book, XICHENG, "2020-01", out.path()).await?;
    pay(s, &book, XICHENG, "2020-02", out.path()).await?;
    // Known late: moved to Haidian on 2020-01-15. T3: Xicheng pays through January, Haidian from
    // February; Xicheng's February payment (100) still stands.
    load(
        s,
        &[(
            "elders.csv",
            &format!(
                "{ELDERS}{}{}",
                elder(&p, "孙三", "1935-04-01", XICHENG, "", "2020-01-15", ""),
                elder(&p, "孙三", "1935-04-01", HAIDIAN, "2020-01-15", "", "")
            ),
        )],
    )
    .await?;
    // Haidian runs March first: February waits for Xicheng's recovery (L1); March 100 is paid.
    let h3 = pay(s, &book, HAIDIAN, "2020-03", out.path()).await?;
    eq(
        postings(s, &h3).await?,
        vec![
            // Adjustment 1: Xicheng's payment of the month was 0 (keys are per person, L4).
            format!("{p}-longevity-2020-02-1 arrears 80-89 100.00 = 100.00 + 0.00 110108 held OTHER_DISTRICT_PAID"),
            format!("{p}-longevity-2020-03-0 regular 80-89 100.00 = 100.00 + 0.00 110108 -> {h3}-000001"),
        ],
        "Haidian R3",
    )?;
    // Xicheng's March batch recovers February (no positive line to offset it: L2).
    let x3 = pay(s, &book, XICHENG, "2020-03", out.path()).await?;
    eq(
        postings(s, &x3).await?,
        vec![format!("{p}-longevity-2020-02-2 recovery 80-89 -100.00 = -100.00 + 0.00 110102 no transfer")],
        "Xicheng R3",
    )?;
    // Haidian's correction now pays February (arrears: its first counted payment of the month),
    // nothing having been imported since its R3; a full read gives the same.
    let incremental = computed(rerun(s, &book, HAIDIAN, "2020-03", DRY, run_time("2020-03")).await?)?;
    let full = computed(rerun(s, &book, HAIDIAN, "2020-03", DRY_FULL, run_time("2020-03")).await?)?;
    eq(lines(&incremental), vec![format!("{p}-longevity-2020-02 arrears 80-89 100.00 = 100.00 + 0.00")], "Haidian C1")?;
    eq(lines(&incremental), lines(&full), "incremental = full")
}

/// Point 3, F3: a rerun replacing an unexported batch gives the batch that discard + run gives,
/// lottery shares included, when a death frees allocation ahead of carried-over persons; and its
/// transfer ids all start with its own id.
async fn f3_a_replacing_rerun_splits_as_discard_and_run<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    // Xicheng's 2020 allocation: 250.00, enough for two and a half 80-89 lines (quota 100).
    let book = setup(s, policy(&[], Some("250.00"))?).await?;
    let (a, b, c) = (id(XICHENG, "1935-01-01", 1), id(XICHENG, "1935-02-01", 3), id(XICHENG, "1935-03-01", 5));
    let apply = format!(
        "{APPLICATIONS}{a},longevity,2019-10-08,approved,2019-10-20\n{b},longevity,2019-10-08,approved,2019-10-20\n\
         {c},longevity,2019-10-08,approved,2019-10-20\n"
    );
    let row = |death: &str| {
        format!(
            "{ELDERS}{}{}{}",
            elder(&a, "甲", "1935-01-01", XICHENG, "", "", death),
            elder(&b, "乙", "1935-02-01", XICHENG, "", "", ""),
            elder(&c, "丙", "1935-03-01", XICHENG, "", "", "")
        )
    };
    load(s, &[("elders.csv", &row("")), ("applications.csv", &apply)]).await?;
    // R1, payment-key order a < b < c: a 100/0, b 100/0, c 50/50 (the allocation ran out, F3).
    let r1 = regular(s, &book, XICHENG, "2020-01").await?;
    eq(
        stored_lines(s, &r1).await?,
        vec![
            format!("{a}-longevity-2020-01 regular 80-89 100.00 = 100.00 + 0.00 000001"),
            format!("{b}-longevity-2020-01 regular 80-89 100.00 = 100.00 + 0.00 000002"),
            format!("{c}-longevity-2020-01 regular 80-89 100.00 = 50.00 + 50.00 000003"),
        ],
        "R1",
    )?;
    // a died 2019-12-20 (reported before approval): January is not owed (T3).
    load(s, &[("elders.csv", &row("2019-12-20"))]).await?;
    let c1 = computed(rerun(s, &book, XICHENG, "2020-01", WRITE, run_time("2020-01")).await?)?;
    // a's 100 of the allocation is free again: b 100/0 and c 100/0, as a full run gives.
    let want = vec![
        format!("{b}-longevity-2020-01 regular 80-89 100.00 = 100.00 + 0.00 000001"),
        format!("{c}-longevity-2020-01 regular 80-89 100.00 = 100.00 + 0.00 000002"),
    ];
    eq(stored_lines(s, &c1.batch_id).await?, want.clone(), "C1 replacing R1")?;
    for t in s.batch_transfers(&c1.batch_id).await? {
        check(t.transfer_id.starts_with(&c1.batch_id), format!("transfer {} of {}", t.transfer_id, c1.batch_id))?;
    }
    for p in s.batch_postings(&c1.batch_id).await? {
        let t = p.transfer_id.unwrap_or_default();
        check(t.starts_with(&c1.batch_id), format!("posting's transfer {t} of {}", c1.batch_id))?;
    }
    // Discard C1 and run the month: the same lines and splits.
    let entry = subsidy::audit::AuditEntry {
        actor: "reviewer-li".into(),
        command: "discard".into(),
        target: c1.batch_id.clone(),
        reason: "test".into(),
        input_fingerprint: String::new(),
        details: "{}".into(),
    };
    eq(s.discard_batch(&c1.batch_id, "test", &entry, clock().now()).await?, true, "C1 discarded")?;
    let r2 = regular(s, &book, XICHENG, "2020-01").await?;
    eq(stored_lines(s, &r2).await?, want, "discard + run")
}

/// Point 4, L2: `rerun --dry-run` announces exactly what `rerun` then writes, also when it
/// replaces an unexported batch (which then no longer counts as paid).
async fn l2_rerun_dry_run_announces_what_the_rerun_writes<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    let ids: Vec<String> = (0..3).map(|i| id(XICHENG, "1925-02-10", 41 + 2 * i)).collect();
    let rows = |death: &str| -> String {
        let mut t = ELDERS.to_string();
        for (i, p) in ids.iter().enumerate() {
            t.push_str(&elder(p, &format!("周{i}"), "1925-02-10", XICHENG, "", "", death));
        }
        t
    };
    let mut apply = APPLICATIONS.to_string();
    for p in &ids {
        apply.push_str(&format!("{p},longevity,2019-10-08,approved,2019-10-20\n"));
    }
    load(s, &[("elders.csv", &rows("")), ("applications.csv", &apply)]).await?;
    // 95 in 2020: 90-99, 500 a month (quota 200).
    pay(s, &book, XICHENG, "2020-01", out.path()).await?;
    let r2 = regular(s, &book, XICHENG, "2020-02").await?;
    // All three died 2019-12-15 (reported before R2's approval): January (exported) is not owed,
    // nor February. The replacing rerun: R2 no longer counts; each person's January 500 becomes a
    // recovery (no positive line to absorb it): 3 items, 1,500.00; nothing paid.
    load(s, &[("elders.csv", &rows("2019-12-15"))]).await?;
    let dry = computed(rerun(s, &book, XICHENG, "2020-02", DRY, run_time("2020-02")).await?)?;
    let written = computed(rerun(s, &book, XICHENG, "2020-02", WRITE, run_time("2020-02")).await?)?;
    eq(dry.replaces.as_deref(), Some(r2.as_str()), "the dry run replaces R2")?;
    eq(
        (dry.recoveries.count, format!("{}", dry.recoveries.amount)),
        (3, "1500.00".to_string()),
        "announced recoveries",
    )?;
    eq(
        (written.recoveries.count, written.recoveries.amount, written.transfer_count, written.control_sum),
        (dry.recoveries.count, dry.recoveries.amount, dry.transfer_count, dry.control_sum),
        "written = announced",
    )?;
    eq(written.by_line_type.clone(), dry.by_line_type.clone(), "line types")?;
    // The same postings, to the payment key.
    let keys = |sum: &BatchSummary| -> Vec<String> {
        sum.postings.iter().map(|p| format!("{} {}", p.key, p.amount)).collect()
    };
    eq(keys(&written), keys(&dry), "postings")?;
    eq(keys(&written).len(), 3, "three recovery items")?;
    eq(s.batch(&r2).await?.map(|b| b.state), Some(BatchState::Superseded), "R2 superseded")?;
    Ok(())
}

/// Point 5: a person changes when a row's content changes. Re-importing identical files marks
/// nobody, and the next rerun writes nothing (no empty batch of held lines to approve).
async fn l3_reimporting_identical_files_changes_nobody_and_a_recorded_account_pays<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    let (paid, held) = (id(XICHENG, "1935-04-01", 51), id(XICHENG, "1935-05-01", 53));
    let elders = format!(
        "{ELDERS}{}{held},吴六,1935-05-01,{XICHENG},110102001,,,,shebao,\n",
        elder(&paid, "郑五", "1935-04-01", XICHENG, "", "", "")
    );
    let apply = format!(
        "{APPLICATIONS}{paid},longevity,2019-10-08,approved,2019-10-20\n{held},longevity,2019-10-08,approved,2019-10-20\n"
    );
    load(s, &[("elders.csv", &elders), ("applications.csv", &apply)]).await?;
    let r1 = pay(s, &book, XICHENG, "2020-01", out.path()).await?;
    // held has no account: its January line is held (L3).
    eq(
        postings(s, &r1).await?,
        vec![
            format!("{paid}-longevity-2020-01-0 regular 80-89 100.00 = 100.00 + 0.00 110102 -> {r1}-000001"),
            format!("{held}-longevity-2020-01-0 regular 80-89 100.00 = 100.00 + 0.00 110102 held NO_ACCOUNT"),
        ],
        "R1",
    )?;
    load(s, &[("elders.csv", &elders), ("applications.csv", &apply)]).await?;
    match rerun(s, &book, XICHENG, "2020-01", WRITE, run_time("2020-02")).await? {
        RunOutcome::NothingToSettle => {}
        other => return Err(format!("rerun after an identical import: expected nothing, got {other:?}").into()),
    }
    eq(s.batches(Some(XICHENG), None).await?.len(), 1, "no batch written")?;
    // A changed row does change its person: held's account recorded → the held line is paid.
    let elders = elders.replace(
        &format!("{held},吴六,1935-05-01,{XICHENG},110102001,,,,shebao,\n"),
        &elder(&held, "吴六", "1935-05-01", XICHENG, "", "", ""),
    );
    load(s, &[("elders.csv", &elders)]).await?;
    let c1 = computed(rerun(s, &book, XICHENG, "2020-01", WRITE, run_time("2020-02")).await?)?;
    eq(
        lines(&c1),
        vec![format!("{held}-longevity-2020-01 regular 80-89 100.00 = 100.00 + 0.00")],
        "L3: paid once the account is recorded",
    )
}

/// The smallest case of point 12: a move out of Xicheng known late; in one run Xicheng recovers
/// January and Haidian pays it relying on that recovery.
async fn moved_late<S: Store + LedgerStore>(
    s: &S,
) -> Result<(PolicyBook, String, String, String, Vec<(String, String)>), Failed> {
    // Born 1916-12-10: 100+ (800, quota 300); longevity approved 2019-12-05.
    moved_late_born(s, "1916-12-10", ["100+", "800.00", "300.00", "500.00"]).await
}

/// [`moved_late`] for a person born on `birth`, whose tier, monthly amount and F2 shares are `t`.
async fn moved_late_born<S: Store + LedgerStore>(
    s: &S,
    birth: &str,
    t: [&str; 4],
) -> Result<(PolicyBook, String, String, String, Vec<(String, String)>), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    let p = id(XICHENG, birth, 61);
    let apply = format!("{APPLICATIONS}{p},longevity,2019-12-05,approved,2019-12-10\n");
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&p, "王七", birth, XICHENG, "", "", ""))),
            ("applications.csv", &apply),
        ],
    )
    .await?;
    pay(s, &book, XICHENG, "2020-01", out.path()).await?;
    // Moved out of Xicheng into Haidian on 2019-12-20 (T3: Haidian pays from January).
    let files = vec![
        (
            "elders.csv".to_string(),
            format!(
                "{ELDERS}{}{}",
                elder(&p, "王七", birth, XICHENG, "", "2019-12-20", ""),
                elder(&p, "王七", birth, HAIDIAN, "2019-12-20", "", "")
            ),
        ),
        ("applications.csv".to_string(), apply),
    ];
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    load(s, &borrowed).await?;
    let x2 = regular(s, &book, XICHENG, "2020-02").await?;
    let h2 = regular(s, &book, HAIDIAN, "2020-02").await?;
    // Xicheng: January no longer owed: recovery 800 (300 + 500). Haidian: January (arrears, the
    // recovery makes the month's net 0 over both districts) and February, 800 each.
    let [tier, amount, lottery, district] = t;
    let neg = |v: &str| if v == "0.00" { v.to_string() } else { format!("-{v}") };
    let (minus_amount, minus_lottery, minus_district) = (neg(amount), neg(lottery), neg(district));
    eq(
        postings(s, &x2).await?,
        vec![format!(
            "{p}-longevity-2020-01-1 recovery {tier} {minus_amount} = {minus_lottery} + {minus_district} 110102 no transfer"
        )],
        "Xicheng R1 of 2020-02",
    )?;
    eq(
        postings(s, &h2).await?,
        vec![
            format!("{p}-longevity-2020-01-2 arrears {tier} {amount} = {lottery} + {district} 110108 -> {h2}-000001"),
            format!("{p}-longevity-2020-02-0 regular {tier} {amount} = {lottery} + {district} 110108 -> {h2}-000001"),
        ],
        "Haidian R1 of 2020-02",
    )?;
    Ok((book, p, x2, h2, files))
}

/// Point 12, L4: a rerun replacing the batch another district relies on succeeds (the bound is
/// checked on the final state, not halfway through the rerun's own transaction).
async fn l4_rerun_of_a_batch_another_district_relies_on_succeeds<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let (book, p, x2, h2, files) = moved_late(s).await?;
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    load(s, &borrowed).await?;
    let when = run_time("2020-02");
    // Xicheng first (as `rerun` orders districts), then Haidian. Xicheng's replacement raises the
    // same recovery again; Haidian's, reading the person because Xicheng's batch changed, pays the
    // same again.
    let xc = computed(rerun(s, &book, XICHENG, "2020-02", WRITE, when).await?)?;
    eq(lines(&xc), vec![format!("{p}-longevity-2020-01 recovery 100+ -800.00 = -300.00 + -500.00")], "Xicheng C1")?;
    let hc = computed(rerun(s, &book, HAIDIAN, "2020-02", WRITE, when).await?)?;
    eq(
        lines(&hc),
        vec![
            format!("{p}-longevity-2020-01 arrears 100+ 800.00 = 300.00 + 500.00"),
            format!("{p}-longevity-2020-02 regular 100+ 800.00 = 300.00 + 500.00"),
        ],
        "Haidian C1",
    )?;
    for old in [&x2, &h2] {
        eq(s.batch(old).await?.map(|b| b.state), Some(BatchState::Superseded), old)?;
    }
    let (balances, counted) = s.ledger_check().await?;
    eq(balances, counted, "balances agree with the counted postings")?;
    // January 800 (Xicheng) − 800 (recovery) + 800 (Haidian); February 800.
    eq(format_fen(counted), "1600.00".to_string(), "net paid")
}

/// Point 12: discarding the batch another district relies on is refused, naming that batch and
/// what to do, never with a raw constraint error; nothing changes.
async fn discard_of_a_batch_another_district_relies_on_is_refused<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let (_, _, x2, h2, _) = moved_late(s).await?;
    let err = commands::discard(s, &x2, "operator error", "reviewer-li", false, clock())
        .await
        .err()
        .ok_or("discarding Xicheng's batch must be refused")?
        .to_string();
    check(
        err.contains(&h2) && err.contains("discard or rerun"),
        format!("the refusal names {h2} and what to do: {err}"),
    )?;
    check(!err.contains("CHECK") && !err.contains("constraint"), format!("no raw constraint error: {err}"))?;
    eq(s.batch(&x2).await?.map(|b| b.state), Some(BatchState::Computed), "Xicheng's batch unchanged")?;
    // Discarding Haidian's first, then Xicheng's, works.
    commands::discard(s, &h2, "operator error", "reviewer-li", false, clock()).await?;
    commands::discard(s, &x2, "operator error", "reviewer-li", false, clock()).await?;
    let (balances, counted) = s.ledger_check().await?;
    eq(balances, counted, "balances agree with the counted postings")?;
    eq(format_fen(counted), "800.00".to_string(), "January's 800 from Xicheng stands")
}

/// Point 12 as a class: the refusal does not depend on the L4 bound firing. An 80-89 person (100 a
/// month, far below the 800 bound): discarding Xicheng's batch would leave January paid by both
/// districts; it is refused all the same, naming Haidian's batch.
async fn discard_is_refused_whatever_the_tier_and_the_bound<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    // Born 1935-04-01: 80-89, 100 = lottery 100 (quota 100) + district 0.
    let (_, _, x2, h2, _) = moved_late_born(s, "1935-04-01", ["80-89", "100.00", "100.00", "0.00"]).await?;
    let err = commands::discard(s, &x2, "operator error", "reviewer-li", false, clock())
        .await
        .err()
        .ok_or("discarding Xicheng's batch must be refused")?
        .to_string();
    check(err.contains(&h2), format!("the refusal names {h2}: {err}"))?;
    eq(s.batch(&x2).await?.map(|b| b.state), Some(BatchState::Computed), "Xicheng's batch unchanged")?;
    let (balances, counted) = s.ledger_check().await?;
    eq(balances, counted, "balances agree with the counted postings")?;
    // January 100 (Xicheng) − 100 (recovery) + 100 (Haidian) + February 100 (Haidian).
    eq(format_fen(counted), "200.00".to_string(), "net paid")
}

/// Review finding: a batch computed with the policy versions read before another was loaded is
/// refused (nothing written, "run it again"), so neither it nor the corrections it vouches for
/// miss the new version.
async fn a_policy_loaded_while_a_run_goes_on_is_not_missed<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let p = id(XICHENG, "1935-04-01", 71);
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&p, "冯八", "1935-04-01", XICHENG, "", "", ""))),
            ("applications.csv", &format!("{APPLICATIONS}{p},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    let raised = policy(
        &[
            ("version = \"beijing-2019-v1\"", "version = \"beijing-2020-01-test\""),
            ("effective_from = \"2019-10\"", "effective_from = \"2020-01\""),
        ],
        None,
    )?;
    let fresh = load_policy(s, raised, "2019-12-01").await?;
    let err = regular_in(s, &book, XICHENG, "2020-01").await.err().ok_or("a run with a stale policy must fail")?;
    check(format!("{err:?}").contains("run it again"), format!("says what to do: {err:?}"))?;
    eq(s.batches(Some(XICHENG), None).await?.len(), 0, "nothing written")?;
    regular(s, &fresh, XICHENG, "2020-01").await.map(|_| ())
}

/// Review finding (L3): a correction whose only lines are holds is written when a hold is new (a
/// person registered late without an account, owed back pay), so that the operator sees it; one
/// that only holds again what already waits is not.
async fn l3_a_correction_holding_new_lines_is_written<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s, policy(&[], None)?).await?;
    let out = tempfile::tempdir()?;
    let (a, late) = (id(XICHENG, "1935-04-01", 81), id(XICHENG, "1935-05-01", 83));
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&a, "陈九", "1935-04-01", XICHENG, "", "", ""))),
            ("applications.csv", &format!("{APPLICATIONS}{a},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    pay(s, &book, XICHENG, "2020-01", out.path()).await?;
    pay(s, &book, XICHENG, "2020-02", out.path()).await?;
    // Registered late, no account: January and February (80-89, 100 each) are owed and held.
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{late},褚十,1935-05-01,{XICHENG},110102001,,,,shebao,\n")),
            ("applications.csv", &format!("{APPLICATIONS}{late},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    let c1 = computed(rerun(s, &book, XICHENG, "2020-02", WRITE, run_time("2020-02")).await?)?;
    eq(
        lines(&c1),
        vec![
            format!("{late}-longevity-2020-01 arrears 80-89 100.00 = 100.00 + 0.00 held NO_ACCOUNT"),
            format!("{late}-longevity-2020-02 regular 80-89 100.00 = 100.00 + 0.00 held NO_ACCOUNT"),
        ],
        "C1 lists the new holds",
    )?;
    approve(s, &c1.batch_id).await?;
    export(s, &c1.batch_id, out.path()).await?;
    // Nothing new since: holding them again is no news.
    match rerun(s, &book, XICHENG, "2020-02", WRITE, run_time("2020-02")).await? {
        RunOutcome::NothingToSettle => Ok(()),
        other => Err(format!("a rerun holding only what waits: expected nothing, got {other:?}").into()),
    }
}
