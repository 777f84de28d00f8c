//! Issue 7, points 9 and 10: a district or year with no lottery allocation loaded has nothing to
//! draw (F3), and `status` and `report` count the right batches (L3 held lines, F5 paid).
//!
//! Engine start 2020-01 (T7); the default policy (fixtures/policy/beijing-2019.toml), whose only
//! allocation is Xicheng (110102) 2020: 101,247,600.00. Rates and quotas: longevity 80-89 100
//! (quota 100), 90-99 500 (quota 200); F2: lottery = min(quota, amount), district the rest.
//! Every elder applied for longevity on 2019-10-08 (T5: paid from the engine's start, T7).

use crate::scenario::{
    approve, export, id, load, month, posting_text, regular_in, run_time, totals_text, APPLICATIONS, ELDERS, OPERATOR,
};
use crate::support::{check, eq};
use chrono::{TimeZone, Utc};
use libtest_mimic::Failed;
use rust_decimal::Decimal;
use subsidy::batch::{run_district, BatchSummary, MissingAllocation, RunOutcome, RunRequest};
use subsidy::ledger::BatchKind;
use subsidy::ledger::BatchState;
use subsidy::money::format_fen;
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        f3_no_allocation_district_pays_all,
        f3_no_allocation_for_the_year_while_earlier_years_draw,
        status_held_waiting_after_replacing_rerun,
        f5_report_counts_exported_batches_only,
        f5_person_times_count_positive_net_paid_only,
    ]
}

const XICHENG: &str = "110102";
const HAIDIAN: &str = "110108";

async fn setup<S: Store>(s: &S) -> Result<PolicyBook, Failed> {
    s.set_start_month(month("2020-01")).await?;
    let loaded = Utc.with_ymd_and_hms(2019, 10, 1, 0, 0, 0).unwrap();
    s.add_policy(&Policy::parse(DEFAULT_POLICY)?, "fixtures/policy/beijing-2019.toml", loaded).await?;
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

/// An elders.csv row: registered in `district` (street 001), optional death date and account.
fn elder(who: &str, name: &str, birth: &str, district: &str, death: &str, account: Option<&str>) -> String {
    let account = account.map(|a| format!("shebao,{a}")).unwrap_or_else(|| ",".into());
    format!("{who},{name},{birth},{district},{district}001,,,{death},{account}\n")
}

fn applied(who: &str) -> String {
    format!("{who},longevity,2019-10-08,approved,2019-10-20\n")
}

async fn computed<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    district: &str,
    m: &str,
) -> Result<Box<BatchSummary>, Failed> {
    match regular_in(s, book, district, m).await? {
        RunOutcome::Computed(sum) => Ok(sum),
        other => Err(format!("run {district} {m}: expected a computed batch, got {other:?}").into()),
    }
}

async fn postings<S: LedgerStore>(s: &S, batch: &str) -> Result<Vec<String>, Failed> {
    Ok(s.batch_postings(batch).await?.iter().map(posting_text).collect())
}

/// F3 [decision]: Haidian (110108) has no allocation loaded for 2020, so its lines draw nothing:
/// each is paid wholly by the district, the run names the missing allocation with the lines and
/// the F2 lottery share moved, and so do `status` (the store's paid years) and the report. A
/// later recovery of a month that drew nothing gives nothing back: its lottery share is 0 - 0.
async fn f3_no_allocation_district_pays_all<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    // `eighty`: 84 in 2020 (80-89: 100, quota 100); `ninety`: 94 (90-99: 500, quota 200).
    let eighty = id(HAIDIAN, "1935-04-01", 11);
    let ninety = id(HAIDIAN, "1925-06-01", 21);
    let rows = elder(&eighty, "孙一", "1935-04-01", HAIDIAN, "", Some("6217000000000000011"))
        + &elder(&ninety, "孙二", "1925-06-01", HAIDIAN, "", Some("6217000000000000021"));
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{rows}")),
            ("applications.csv", &format!("{APPLICATIONS}{}{}", applied(&eighty), applied(&ninety))),
        ],
    )
    .await?;

    let jan = computed(s, &book, HAIDIAN, "2020-01").await?;
    // F2 would give 100 + 0 and 200 + 300; without allocation both lottery shares (100 and 200)
    // move to the district: 100 = 0 + 100, 500 = 0 + 500.
    eq(
        postings(s, &jan.batch_id).await?,
        vec![
            format!(
                "{ninety}-longevity-2020-01-0 regular 90-99 500.00 = 0.00 + 500.00 {HAIDIAN} -> {}-000001",
                jan.batch_id
            ),
            format!(
                "{eighty}-longevity-2020-01-0 regular 80-89 100.00 = 0.00 + 100.00 {HAIDIAN} -> {}-000002",
                jan.batch_id
            ),
        ],
        "Haidian 2020-01 postings",
    )?;
    eq(
        jan.missing_allocations.clone(),
        vec![MissingAllocation { year: 2020, lines: 2, moved_to_district: Decimal::new(300, 0) }],
        "missing allocations of the run",
    )?;
    eq(jan.lottery_years.len(), 0, "allocation years of the run (none loaded)")?;
    let said = jan.describe().join("\n");
    let want = "F3: no lottery allocation loaded for district 110108, year 2020: the district pays all \
                (2 lines, 300.00 yuan moved to the district); load one with `subsidy policy load FILE`";
    check(said.contains(want), format!("run output must say `{want}`, got:\n{said}"))?;
    // Totals: 2 transfers, 600 = lottery 0 + district 600.
    eq(
        totals_text(&s.batch(&jan.batch_id).await?.ok_or("batch missing")?).as_str(),
        "2: 600.00 = 0.00 + 600.00; held 0.00; recovered 0.00",
        "Haidian 2020-01 totals",
    )?;
    approve(s, &jan.batch_id).await?;
    export(s, &jan.batch_id, out.path()).await?;
    let feb = computed(s, &book, HAIDIAN, "2020-02").await?;
    approve(s, &feb.batch_id).await?;
    export(s, &feb.batch_id, out.path()).await?;

    // `eighty`'s death on 2020-01-20 is reported in March: T3 pays through January, so February's
    // 100 (lottery 0, district 100) is no longer owed. No positive longevity line of hers in March
    // absorbs it: a recovery item of -100 whose shares are owed minus paid, lottery 0 - 0 = 0,
    // district 0 - 100 = -100 (nothing given back to an allocation that does not exist).
    load(
        s,
        &[(
            "elders.csv",
            &format!(
                "{ELDERS}{}",
                elder(&eighty, "孙一", "1935-04-01", HAIDIAN, "2020-01-20", Some("6217000000000000011"))
            ),
        )],
    )
    .await?;
    let mar = computed(s, &book, HAIDIAN, "2020-03").await?;
    let lines = postings(s, &mar.batch_id).await?;
    eq(
        lines,
        vec![
            format!(
                "{ninety}-longevity-2020-03-0 regular 90-99 500.00 = 0.00 + 500.00 {HAIDIAN} -> {}-000001",
                mar.batch_id
            ),
            format!("{eighty}-longevity-2020-02-1 recovery 80-89 -100.00 = 0.00 + -100.00 {HAIDIAN} no transfer"),
        ],
        "Haidian 2020-03 postings",
    )?;
    // One line moved (ninety's March 200); the recovery had no share to move.
    eq(
        mar.missing_allocations.clone(),
        vec![MissingAllocation { year: 2020, lines: 1, moved_to_district: Decimal::new(200, 0) }],
        "missing allocations of March",
    )?;
    approve(s, &mar.batch_id).await?;
    export(s, &mar.batch_id, out.path()).await?;

    // status: Haidian 2020 is paid by counted batches; no allocation is loaded for it.
    eq(s.paid_years().await?, vec![(HAIDIAN.to_string(), 2020)], "districts and years paid")?;
    // report: paid (exported): ninety 3 months × 500 = 1,500 (3 person-times), eighty January 100
    // (February's net 100 - 100 = 0 is no person-time): 1,600, 4 person-times, lottery 0.
    let reports = subsidy::ops::report::build(s, &book, &[HAIDIAN.to_string()], 2020, None).await?;
    let r = &reports[0];
    eq(
        (r.total.person_times, r.total.amount, r.total.lottery),
        (4, Decimal::new(1600, 0), Decimal::ZERO),
        "report total",
    )?;
    eq(r.lottery_allocation, None, "report allocation")?;
    let note = r.missing_allocation.clone().unwrap_or_default();
    check(
        note.contains("no lottery allocation loaded for district 110108, year 2020: the district pays all"),
        format!("report must name the missing allocation, got `{note}`"),
    )?;
    let text = subsidy::adapters::report::text(&reports);
    check(text.contains(&note), format!("report text must name the missing allocation:\n{text}"))?;
    let csv = subsidy::adapters::report::csv(&reports);
    check(
        csv.lines().skip(1).all(|l| l.split(',').nth(11) == Some("not loaded")),
        format!("report CSV must say `not loaded`:\n{csv}"),
    )?;
    Ok(())
}

/// F3: a line draws on the allocation of its service month's year. Xicheng has one for 2020 and
/// none for 2021: a first run in 2021-01 pays the 2020 months as arrears, drawing on 2020's
/// allocation, and 2021-01 wholly from the district.
async fn f3_no_allocation_for_the_year_while_earlier_years_draw<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s).await?;
    let who = id(XICHENG, "1935-04-01", 31);
    load(
        s,
        &[
            (
                "elders.csv",
                &format!("{ELDERS}{}", elder(&who, "李三", "1935-04-01", XICHENG, "", Some("6217000000000000031"))),
            ),
            ("applications.csv", &format!("{APPLICATIONS}{}", applied(&who))),
        ],
    )
    .await?;
    let b = computed(s, &book, XICHENG, "2021-01").await?;
    let lines = postings(s, &b.batch_id).await?;
    eq(lines.len(), 13, "12 arrears of 2020 and 2021-01")?;
    // 2020: 100 = 100 + 0 (F2, drawn from 2020's allocation); 2021-01: 100 = 0 + 100.
    check(
        lines[..12].iter().all(|l| l.contains("arrears 80-89 100.00 = 100.00 + 0.00")),
        format!("2020 lines draw their F2 share: {lines:?}"),
    )?;
    eq(
        lines[12].clone(),
        format!("{who}-longevity-2021-01-0 regular 80-89 100.00 = 0.00 + 100.00 {XICHENG} -> {}-000001", b.batch_id),
        "2021-01 line",
    )?;
    // 2020's allocation: 101,247,600.00 - 12 × 100 = 101,246,400.00 left.
    eq(
        b.lottery_years.iter().map(|y| (y.year, y.remaining)).collect::<Vec<_>>(),
        vec![(2020, Decimal::new(101_246_400, 0))],
        "2020 allocation after the batch",
    )?;
    eq(
        b.missing_allocations.clone(),
        vec![MissingAllocation { year: 2021, lines: 1, moved_to_district: Decimal::new(100, 0) }],
        "2021 has no allocation",
    )?;
    eq(
        s.paid_years().await?,
        vec![(XICHENG.to_string(), 2020), (XICHENG.to_string(), 2021)],
        "years paid (status lists 2021 as missing, 2020 has one)",
    )?;
    Ok(())
}

/// L3: held lines wait until an account is recorded, and every batch that reads the person posts
/// them again under the next adjustment number; `status` must show what waits now, per key the
/// latest counted posting when it is held, whatever batch (regular, replacing correction) holds it.
async fn status_held_waiting_after_replacing_rerun<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    // `first` (80-89, 100) and, imported later, `second` (90-99, 500): neither has an account.
    let first = id(XICHENG, "1935-04-01", 41);
    let second = id(XICHENG, "1925-06-01", 51);
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&first, "周一", "1935-04-01", XICHENG, "", None))),
            ("applications.csv", &format!("{APPLICATIONS}{}", applied(&first))),
        ],
    )
    .await?;
    let r1 = computed(s, &book, XICHENG, "2020-01").await?;
    // January held: first's 100.
    eq(s.held_waiting().await?, vec![(XICHENG.to_string(), 10_000)], "held waiting after R1")?;

    // second is imported while R1 is unexported; the rerun replaces R1 (superseded) by C1, which
    // holds first's 100 (carried over) and second's 500: 600 waits, none of it R1's.
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", elder(&second, "周二", "1925-06-01", XICHENG, "", None))),
            ("applications.csv", &format!("{APPLICATIONS}{}", applied(&second))),
        ],
    )
    .await?;
    let req = RunRequest {
        month: month("2020-01"),
        by: OPERATOR.into(),
        dry_run: false,
        kind: BatchKind::Correction,
        reason: Some("a late registration".into()),
        ..Default::default()
    };
    let c1 = match run_district(s, &book, month("2020-01"), XICHENG, &req, run_time("2020-01")).await? {
        RunOutcome::Computed(sum) => sum,
        other => return Err(format!("rerun 2020-01: expected a batch, got {other:?}").into()),
    };
    eq(c1.replaces.clone(), Some(r1.batch_id.clone()), "C1 replaces R1")?;
    eq(s.batch(&r1.batch_id).await?.map(|b| b.state), Some(BatchState::Superseded), "R1 superseded")?;
    eq(s.held_waiting().await?, vec![(XICHENG.to_string(), 60_000)], "held waiting after the replacing rerun")?;
    approve(s, &c1.batch_id).await?;
    export(s, &c1.batch_id, out.path()).await?;

    // February posts January again (adjustment 1) and February (0) for both: what waits is
    // 2 × 100 + 2 × 500 = 1,200, January once.
    let r2 = computed(s, &book, XICHENG, "2020-02").await?;
    eq(format_fen(s.batch(&r2.batch_id).await?.ok_or("R2")?.held_fen), "1200.00".to_string(), "R2 holds")?;
    eq(s.held_waiting().await?, vec![(XICHENG.to_string(), 120_000)], "held waiting after R2")?;
    approve(s, &r2.batch_id).await?;
    export(s, &r2.batch_id, out.path()).await?;

    // first's account is recorded: March pays her January to March (300); second's three months
    // (1,500) still wait.
    load(
        s,
        &[(
            "elders.csv",
            &format!("{ELDERS}{}", elder(&first, "周一", "1935-04-01", XICHENG, "", Some("6217000000000000041"))),
        )],
    )
    .await?;
    let r3 = computed(s, &book, XICHENG, "2020-03").await?;
    eq((r3.transfer_count, r3.control_sum), (1, Decimal::new(300, 0)), "R3 pays first's three months")?;
    eq(s.held_waiting().await?, vec![(XICHENG.to_string(), 150_000)], "held waiting after R3")?;
    Ok(())
}

/// F5, INTERFACE.md: the report counts as paid what was paid out (exported batches); a batch
/// computed or approved and not yet exported is reported apart, with its amount.
async fn f5_report_counts_exported_batches_only<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    let eighty = id(XICHENG, "1935-04-01", 61);
    let ninety = id(XICHENG, "1925-06-01", 71);
    let rows = elder(&eighty, "吴一", "1935-04-01", XICHENG, "", Some("6217000000000000061"))
        + &elder(&ninety, "吴二", "1925-06-01", XICHENG, "", Some("6217000000000000071"));
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{rows}")),
            ("applications.csv", &format!("{APPLICATIONS}{}{}", applied(&eighty), applied(&ninety))),
        ],
    )
    .await?;
    let jan = computed(s, &book, XICHENG, "2020-01").await?;
    approve(s, &jan.batch_id).await?;
    export(s, &jan.batch_id, out.path()).await?;
    let feb = computed(s, &book, XICHENG, "2020-02").await?;
    let feb_row = s.batch(&feb.batch_id).await?.ok_or("R2")?;
    eq(feb_row.state, BatchState::Computed, "February computed, not approved")?;

    let reports = subsidy::ops::report::build(s, &book, &[XICHENG.to_string()], 2020, None).await?;
    let r = &reports[0];
    // Paid out: January only, 100 (lottery 100) + 500 (lottery 200, district 300) = 600, 2
    // person-times, lottery 300, district 300.
    eq(
        (r.total.person_times, r.total.amount, r.total.lottery, r.total.district),
        (2, Decimal::new(600, 0), Decimal::new(300, 0), Decimal::new(300, 0)),
        "paid (exported)",
    )?;
    // Not yet exported: February's 600 (lottery 300, district 300), in batch R2 (computed).
    let n = &r.not_exported;
    eq(
        (n.amount, n.lottery, n.district),
        (Decimal::new(600, 0), Decimal::new(300, 0), Decimal::new(300, 0)),
        "not yet exported",
    )?;
    eq(
        n.batches.iter().map(|b| (b.batch_id.clone(), b.state.clone(), b.amount)).collect::<Vec<_>>(),
        vec![(feb.batch_id.clone(), "computed".to_string(), Decimal::new(600, 0))],
        "batches not yet exported",
    )?;
    // The allocation: 101,247,600.00 - 300 paid - 300 drawn by February = 101,247,000.00 left.
    eq(
        (r.lottery_used, r.lottery_not_exported, r.lottery_remaining),
        (Decimal::new(300, 0), Decimal::new(300, 0), Some(Decimal::new(101_247_000, 0))),
        "allocation used, pending, left",
    )?;
    let text = subsidy::adapters::report::text(&reports);
    check(
        text.contains("computed or approved, not yet exported (not counted as paid above): 600.00 yuan")
            && text.contains(&format!("{} (computed): 600.00 yuan", feb.batch_id)),
        format!("report text must show February apart:\n{text}"),
    )?;
    // Approved is still not paid out; exported is.
    approve(s, &feb.batch_id).await?;
    let r = subsidy::ops::report::build(s, &book, &[XICHENG.to_string()], 2020, None).await?.remove(0);
    eq((r.total.amount, r.not_exported.amount), (Decimal::new(600, 0), Decimal::new(600, 0)), "February approved")?;
    export(s, &feb.batch_id, out.path()).await?;
    let r = subsidy::ops::report::build(s, &book, &[XICHENG.to_string()], 2020, None).await?.remove(0);
    // 2 months × 600 = 1,200, 4 person-times; nothing pending.
    eq(
        (r.total.person_times, r.total.amount, r.not_exported.batches.len()),
        (4, Decimal::new(1200, 0), 0),
        "February exported",
    )?;
    Ok(())
}

/// F5: person-times = distinct (person, allowance, service month) whose net paid is above zero.
/// A month paid and later recovered in full nets to zero and is no person-time.
async fn f5_person_times_count_positive_net_paid_only<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    // `dies`: 80-89 (100), died 2020-01-10 reported only before March: February's 100 becomes a
    // recovery (net 0). `turns90`: born 1930-03-15, 89 in January and February (100, 80-89),
    // 90 in March (R3: 500).
    let dies = id(XICHENG, "1935-04-01", 81);
    let turns = id(XICHENG, "1930-03-15", 91);
    let rows = elder(&dies, "郑一", "1935-04-01", XICHENG, "", Some("6217000000000000081"))
        + &elder(&turns, "郑二", "1930-03-15", XICHENG, "", Some("6217000000000000091"));
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{rows}")),
            ("applications.csv", &format!("{APPLICATIONS}{}{}", applied(&dies), applied(&turns))),
        ],
    )
    .await?;
    for m in ["2020-01", "2020-02"] {
        let b = computed(s, &book, XICHENG, m).await?;
        approve(s, &b.batch_id).await?;
        export(s, &b.batch_id, out.path()).await?;
    }
    load(
        s,
        &[(
            "elders.csv",
            &format!(
                "{ELDERS}{}",
                elder(&dies, "郑一", "1935-04-01", XICHENG, "2020-01-10", Some("6217000000000000081"))
            ),
        )],
    )
    .await?;
    let b = computed(s, &book, XICHENG, "2020-03").await?;
    approve(s, &b.batch_id).await?;
    export(s, &b.batch_id, out.path()).await?;
    let r = subsidy::ops::report::build(s, &book, &[XICHENG.to_string()], 2020, None).await?.remove(0);
    // dies: January 100 (net 100) counts, February 100 - 100 = 0 does not: 1 person-time, 100.
    // turns90: January, February 100, March 500: 3 person-times, 700. Total 4, 800.
    eq((r.total.person_times, r.total.amount), (4, Decimal::new(800, 0)), "person-times and amount")?;
    let longevity = &r.allowances[1];
    eq((longevity.person_times, longevity.amount), (4, Decimal::new(800, 0)), "longevity")?;
    Ok(())
}
