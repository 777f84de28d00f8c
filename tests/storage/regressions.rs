//! Regressions of the review fixes (commit "Review fixes: …"): each case fails on the code before
//! the fix and states, in its comments, how the expected values follow from POLICY.md.
//!
//! - `export_after_discard_writes_nothing`: export wrote the files of a batch discarded after its
//!   approval; verify passed files of a batch that was never exported.
//! - `l1_another_districts_standing_payment_holds_the_line`: a move reported late had the new
//!   district pay months the old one had paid and not yet recovered (paid twice, L1).
//! - `a_lowered_top_rate_in_a_later_policy_version_does_not_hold_earlier_months`: arrears priced by
//!   an earlier policy version were held against the later version's lower top rate (L4).
//! - `deleted_and_upserted_key_twice_in_one_file_is_a_duplicate`: a `deleted` row repeating a key
//!   upserted earlier in the file was applied (the key deleted) instead of rejected.
//! - `deleted_key_repeating_a_row_of_an_earlier_chunk_is_a_duplicate`: the same across the
//!   import's 2,000-row chunks.
//!
//! Rates and quotas are those of the default policy (fixtures/policy/beijing-2019.toml):
//! longevity 80-89 100 (quota 100), 90-99 500 (quota 200), 100+ 800 (quota 300); F2: lottery =
//! min(quota, amount), district the rest. Xicheng (110102) has the default policy's lottery
//! allocation (2020: 101,247,600.00) and `setup` loads one for Chaoyang (110105, 2020:
//! 1,000,000.00), neither exhausted here, so the split of every line is the F2 split. (Without
//! an allocation a district pays all, F3: the issue 7 cases test that.)

use crate::import::{import, write_dir};
use crate::scenario::{
    approve, clock, csv, day, export, id, load, month, posting_text, regular_in, totals_text, APPLICATIONS, ELDERS,
    HELD_HEADER, OPERATOR, RECOVERIES_HEADER,
};
use crate::support::{check, eq};
use chrono::{TimeZone, Utc};
use libtest_mimic::Failed;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use subsidy::adapters::platform;
use subsidy::batch::RunOutcome;
use subsidy::cli::commands;
use subsidy::eligibility::owed_between;
use subsidy::ledger::BatchState;
use subsidy::money::{format_fen, format_yuan, to_fen};
use subsidy::policy::{Allocation, Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        export_after_discard_writes_nothing,
        l1_another_districts_standing_payment_holds_the_line,
        a_lowered_top_rate_in_a_later_policy_version_does_not_hold_earlier_months,
        deleted_and_upserted_key_twice_in_one_file_is_a_duplicate,
        deleted_key_repeating_a_row_of_an_earlier_chunk_is_a_duplicate,
    ]
}

const XICHENG: &str = "110102";
const CHAOYANG: &str = "110105";

// ------------------------------------------------------------------------------------ helpers

/// Start month 2020-01 (T7) and the default policy, plus `more` versions, all loaded before any
/// batch (2019-10-01).
async fn setup<S: Store>(s: &S, more: &[Policy]) -> Result<PolicyBook, Failed> {
    let loaded = Utc.with_ymd_and_hms(2019, 10, 1, 0, 0, 0).unwrap();
    s.set_start_month(month("2020-01")).await?;
    let mut default = Policy::parse(DEFAULT_POLICY)?;
    // F3: Chaoyang pays these cases' movers; with an allocation its lines keep the F2 split.
    default.allocations.push(Allocation { district: CHAOYANG.into(), year: 2020, amount: Decimal::new(1_000_000, 0) });
    s.add_policy(&default, "fixtures/policy/beijing-2019.toml", loaded).await?;
    for p in more {
        s.add_policy(p, "tests/storage/regressions.rs", loaded).await?;
    }
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

/// A regular batch of `district` for month `m`; fails unless it is computed with id `<district>-<m>-R<seq>`.
async fn regular<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    district: &str,
    m: &str,
    seq: u32,
) -> Result<String, Failed> {
    let want = format!("{district}-{m}-R{seq}");
    match regular_in(s, book, district, m).await? {
        RunOutcome::Computed(sum) => {
            eq(sum.batch_id.as_str(), want.as_str(), "batch id")?;
            Ok(sum.batch_id)
        }
        other => Err(format!("run {district} {m}: expected batch {want} computed, got {other:?}").into()),
    }
}

async fn postings<S: LedgerStore>(s: &S, batch: &str) -> Result<Vec<String>, Failed> {
    Ok(s.batch_postings(batch).await?.iter().map(posting_text).collect())
}

/// `transfers: control sum = lottery + district; held H; recovered R` of a stored batch.
async fn totals<S: LedgerStore>(s: &S, batch: &str) -> Result<String, Failed> {
    let b = s.batch(batch).await?.ok_or_else(|| format!("batch {batch} missing"))?;
    Ok(totals_text(&b))
}

async fn transfers<S: LedgerStore>(s: &S, batch: &str) -> Result<Vec<String>, Failed> {
    Ok(s.batch_transfers(batch)
        .await?
        .iter()
        .map(|t| format!("{} {} {} {}", t.transfer_id, t.id_number, t.allowance, format_fen(t.amount_fen)))
        .collect())
}

/// L1 over every district: the net paid per (allowance, month) of one person, fen: counted
/// lines of every batch neither superseded nor discarded, recovery items subtracted.
async fn net_all_districts<S: LedgerStore>(s: &S, id_number: &str) -> Result<BTreeMap<(String, String), i64>, Failed> {
    let mut net = BTreeMap::new();
    for b in s.batches(None, None).await?.into_iter().filter(|b| b.state.counts()) {
        for p in s.batch_postings(&b.batch_id).await? {
            if p.id_number == id_number && p.held_reason.is_none() {
                *net.entry((p.allowance, p.service_month)).or_default() += p.amount_fen;
            }
        }
    }
    Ok(net)
}

/// L4: no month's net paid over every district is above the allowance's top rate; here the
/// person is owed 100 a month, so no month may be paid above 100 either.
async fn never_above<S: LedgerStore>(s: &S, id_number: &str, fen: i64, when: &str) -> Result<(), Failed> {
    let net = net_all_districts(s, id_number).await?;
    let over: Vec<_> = net.iter().filter(|(_, v)| **v > fen || **v < 0).collect();
    check(over.is_empty(), format!("{when}: net paid over both districts outside [0, {}]: {over:?}", format_fen(fen)))
}

/// The platform files of a batch as `verify` would expect them, written into `dir` (what an
/// export before the fix left behind for a batch discarded meanwhile).
async fn write_rendered<S: LedgerStore>(s: &S, batch: &str, dir: &Path) -> Result<(), Failed> {
    let b = s.batch(batch).await?.ok_or("batch missing")?;
    let files = platform::render(&b, &s.batch_transfers(batch).await?, &s.batch_postings(batch).await?);
    std::fs::create_dir_all(dir)?;
    for f in files {
        std::fs::write(dir.join(&f.name), &f.bytes)?;
    }
    Ok(())
}

/// Names of the files in `dir` that belong to `batch` (none when `dir` does not exist).
fn files_of(dir: &Path, batch: &str) -> Result<Vec<String>, Failed> {
    if !dir.exists() {
        return Ok(vec![]);
    }
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name().to_string_lossy().to_string();
        if name.starts_with(batch) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

// -------------------------------------------------------------------------------------- cases

/// INTERFACE.md: `discard` drops a batch that is not exported, "never counted as paid"; `export`
/// writes "the platform files of an approved batch". An approved batch discarded before its
/// export must get no file, whichever way the export is reached; `verify` must not pass files of
/// a batch that is not exported (exit 5, naming its state).
async fn export_after_discard_writes_nothing<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s, &[]).await?;
    let out = tempfile::tempdir()?;
    // One elder, 84 in 2020 (R2: 80-89, 100 a month), applied 2019-10 (T5: paid from 2020-01, T7).
    let steady = id(XICHENG, "1935-04-01", 202);
    load(
        s,
        &[
            (
                "elders.csv",
                &format!("{ELDERS}{steady},钱二,1935-04-01,{XICHENG},110102007,,,,shebao,6217000000000000022\n"),
            ),
            ("applications.csv", &format!("{APPLICATIONS}{steady},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    let r1 = regular(s, &book, XICHENG, "2020-01", 1).await?;
    approve(s, &r1).await?;
    let reason = "street reported a wrong account after approval";
    eq(commands::discard(s, &r1, reason, OPERATOR, false, clock()).await?, 0, "discard the approved R1")?;

    // The export, called directly (`write_export_by`) and through the command: refused,
    // nothing written, not even the folder's files of R1; R1 stays discarded with its reason.
    let folder = out.path().join("r1");
    let direct = subsidy::ops::export::write_export_by(s, &r1, &folder, OPERATOR, clock()).await;
    check(
        direct
            .as_ref()
            .is_err_and(|e| e.to_string().contains("discarded") && e.to_string().contains("nothing was written")),
        format!(
            "write_export_by of a discarded batch must fail saying it is discarded, got {:?}",
            direct.map(|f| f.len())
        ),
    )?;
    eq(files_of(&folder, &r1)?, vec![], "files of R1 after write_export_by")?;
    let command = commands::export(s, &r1, &folder, OPERATOR, false, clock()).await;
    check(command.is_err(), format!("`export` of a discarded batch must fail, got {command:?}"))?;
    eq(files_of(&folder, &r1)?, vec![], "files of R1 after `export`")?;
    let b = s.batch(&r1).await?.ok_or("R1 missing")?;
    eq((b.state, b.state_reason.as_deref()), (BatchState::Discarded, Some(reason)), "R1 after the refused exports")?;
    // Never counted (L1): the ledger holds nothing.
    eq(s.ledger_check().await?, (0, 0), "ledger (balances, counted postings) with R1 discarded")?;

    // Files of R1 rendered from the database (what an export before the fix wrote): they match the
    // database byte for byte, yet R1 is discarded: `verify` exits 5.
    let stale = out.path().join("stale");
    write_rendered(s, &r1, &stale).await?;
    eq(files_of(&stale, &r1)?.len(), 6, "rendered files of R1")?;
    eq(commands::verify(s, &r1, &stale, false).await?, 5, "verify of a discarded batch's files")?;
    eq(commands::verify(s, &r1, &stale, true).await?, 5, "verify --json of a discarded batch's files")?;

    // The month again: R2, the key's next posting (L4: adjustment 1 after R1's 0), regular (the
    // first counted payment of the month, L2): 100 = lottery min(100, 100) + district 0 (F2).
    let r2 = regular(s, &book, XICHENG, "2020-01", 2).await?;
    eq(
        postings(s, &r2).await?,
        vec![format!("{steady}-longevity-2020-01-1 regular 80-89 100.00 = 100.00 + 0.00 {XICHENG} -> {r2}-000001")],
        "R2 postings",
    )?;
    // Approved but not exported: its rendered files are not yet payable either (exit 5).
    approve(s, &r2).await?;
    let early = out.path().join("early");
    write_rendered(s, &r2, &early).await?;
    eq(commands::verify(s, &r2, &early, false).await?, 5, "verify of an approved, unexported batch's files")?;
    // Exported: its files verify (exit 0), and R1 still has none anywhere.
    export(s, &r2, out.path()).await?;
    eq(commands::verify(s, &r2, &out.path().join(&r2), false).await?, 0, "verify of the exported R2")?;
    eq(files_of(&out.path().join(&r2), &r1)?, vec![], "no R1 file next to R2's")?;
    eq(s.batch(&r1).await?.map(|b| b.state), Some(BatchState::Discarded), "R1 still discarded")?;
    eq(s.ledger_check().await?, (10000, 10000), "ledger: R2's 100 only")
}

/// L1 counts every district's batches; T3: "Moving within Beijing: the old district pays through
/// the month of the move, the new one from the month after." A move reported late, after the old
/// district paid past the move: the new district must not pay those months while the old
/// district's payment stands (held OTHER_DISTRICT_PAID), and pays them once that district has
/// recovered them. No month is ever paid twice over the two districts.
///
/// `mover`, born 1935-04-01 (84 in 2020, R2: 80-89, 100 a month, lottery quota 100, F2: 100 + 0),
/// applied 2019-10-08 (T5: paid from the spell's start, cut at T7's 2020-01).
async fn l1_another_districts_standing_payment_holds_the_line<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let book = setup(s, &[]).await?;
    let out = tempfile::tempdir()?;
    let mover = id(CHAOYANG, "1935-04-01", 505);
    let account = "shebao,6217000000000000055";
    // Registered in Chaoyang (110105 has no street list: 110105 + any 3 digits).
    let chaoyang = |out_date: &str| format!("{mover},周五,1935-04-01,{CHAOYANG},110105001,,{out_date},,{account}\n");
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", chaoyang(""))),
            ("applications.csv", &format!("{APPLICATIONS}{mover},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;

    // Chaoyang pays 2020-01 … 2020-05: 100 each, the first posting of each key.
    for m in ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05"] {
        let b = regular(s, &book, CHAOYANG, m, 1).await?;
        eq(
            postings(s, &b).await?,
            vec![format!("{mover}-longevity-{m}-0 regular 80-89 100.00 = 100.00 + 0.00 {CHAOYANG} -> {b}-000001")],
            &format!("{b} postings"),
        )?;
        approve(s, &b).await?;
        export(s, &b, out.path()).await?;
    }

    // The corrected registry: mover moved to Xicheng on 2020-03-05. T3: Chaoyang pays through
    // 2020-03 (the month of moving out), Xicheng from 2020-04 (the month after moving in). So
    // Chaoyang's 2020-04 and 2020-05 (100 each) are no longer owed by Chaoyang but by Xicheng.
    load(
        s,
        &[(
            "elders.csv",
            &format!(
                "{ELDERS}{}{mover},周五,1935-04-01,{XICHENG},110102003,2020-03-05,,,{account}\n",
                chaoyang("2020-03-05")
            ),
        )],
    )
    .await?;
    let record = s.person(&mover).await?.ok_or("mover missing")?;
    let owed: Vec<(String, String, String, String)> = owed_between(&book, &record, month("2020-01"), month("2020-07"))
        .into_iter()
        .map(|e| (e.month.to_string(), e.district, e.tier, format_yuan(e.amount)))
        .collect();
    let want_owed: Vec<(String, String, String, String)> = [
        ("2020-01", CHAOYANG),
        ("2020-02", CHAOYANG),
        ("2020-03", CHAOYANG),
        ("2020-04", XICHENG),
        ("2020-05", XICHENG),
        ("2020-06", XICHENG),
        ("2020-07", XICHENG),
    ]
    .iter()
    .map(|(m, d)| (m.to_string(), d.to_string(), "80-89".to_string(), "100.00".to_string()))
    .collect();
    eq(owed, want_owed, "owed by the corrected registry (month, district, tier, amount)")?;

    // Xicheng runs 2020-06 before Chaoyang does. Chaoyang's 100 for 2020-04 and 2020-05 still
    // stands (L1): Xicheng's lines for them are held OTHER_DISTRICT_PAID, not paid. They are
    // arrears (earlier months, no counted posting of Xicheng's) and take the keys' next
    // adjustment numbers (L4: 1, after Chaoyang's 0). 2020-06 has no payment anywhere: regular,
    // adjustment 0, paid. Held lines draw nothing: transfer 100, held 200.
    let x6 = regular(s, &book, XICHENG, "2020-06", 1).await?;
    eq(
        postings(s, &x6).await?,
        vec![
            format!(
                "{mover}-longevity-2020-04-1 arrears 80-89 100.00 = 100.00 + 0.00 {XICHENG} held OTHER_DISTRICT_PAID"
            ),
            format!(
                "{mover}-longevity-2020-05-1 arrears 80-89 100.00 = 100.00 + 0.00 {XICHENG} held OTHER_DISTRICT_PAID"
            ),
            format!("{mover}-longevity-2020-06-0 regular 80-89 100.00 = 100.00 + 0.00 {XICHENG} -> {x6}-000001"),
        ],
        &format!("{x6} postings"),
    )?;
    eq(transfers(s, &x6).await?, vec![format!("{x6}-000001 {mover} longevity 100.00")], "x6 transfers")?;
    eq(totals(s, &x6).await?.as_str(), "1: 100.00 = 100.00 + 0.00; held 200.00; recovered 0.00", "x6 totals")?;
    never_above(s, &mover, 10000, "after Xicheng's 2020-06").await?;

    // Chaoyang runs 2020-06: it owes nothing after 2020-03. 2020-04 and 2020-05 were paid 100
    // (100 + 0) and are owed 0 by Chaoyang: -100 each; Chaoyang's batch has no positive line of
    // mover's to absorb them: recovery items (L2), the keys' next postings (L4: adjustment 2, after
    // Xicheng's held 1), shares -100 / 0 (F2), tier as last paid. Nothing for 2020-06: Chaoyang
    // never paid it and does not owe it. No transfer.
    let c6 = regular(s, &book, CHAOYANG, "2020-06", 1).await?;
    eq(
        postings(s, &c6).await?,
        vec![
            format!("{mover}-longevity-2020-04-2 recovery 80-89 -100.00 = -100.00 + 0.00 {CHAOYANG} no transfer"),
            format!("{mover}-longevity-2020-05-2 recovery 80-89 -100.00 = -100.00 + 0.00 {CHAOYANG} no transfer"),
        ],
        &format!("{c6} postings"),
    )?;
    eq(transfers(s, &c6).await?, Vec::<String>::new(), "c6 transfers")?;
    eq(totals(s, &c6).await?.as_str(), "0: 0.00 = 0.00 + 0.00; held 0.00; recovered 200.00", "c6 totals")?;
    never_above(s, &mover, 10000, "after Chaoyang's 2020-06").await?;

    // Both exported: Xicheng's held.csv lists the two held months, Chaoyang's recoveries.csv the
    // two recovered ones.
    approve(s, &x6).await?;
    let files = export(s, &x6, out.path()).await?;
    eq(
        files.get(&format!("{x6}-held.csv")).cloned().unwrap_or_default(),
        csv(
            HELD_HEADER,
            ["2020-04", "2020-05"]
                .iter()
                .map(|m| format!("{mover},周五,longevity,{m},100.00,OTHER_DISTRICT_PAID"))
                .collect(),
        ),
        &format!("{x6}-held.csv"),
    )?;
    approve(s, &c6).await?;
    let files = export(s, &c6, out.path()).await?;
    // Chaoyang no longer owes the months (moved out, T3): NOT_OWED.
    let recoveries: Vec<String> = ["2020-04", "2020-05"]
        .iter()
        .map(|m| {
            format!("{mover},周五,longevity,{m},100.00,NOT_OWED: longevity for {m} is no longer owed (see `subsidy explain`)")
        })
        .collect();
    eq(
        files.get(&format!("{c6}-recoveries.csv")).cloned().unwrap_or_default(),
        csv(RECOVERIES_HEADER, recoveries),
        &format!("{c6}-recoveries.csv"),
    )?;

    // Xicheng runs 2020-07. Chaoyang's payments of 2020-04 and 2020-05 are recovered (net 0 there),
    // so Xicheng pays them now: arrears (still no counted posting of Xicheng's), adjustment 3
    // (after Xicheng's held 1 and Chaoyang's recovery 2: keys are never reused); 2020-06 is paid
    // as owed: nothing; 2020-07 regular. One transfer of 300 = lottery 300 + district 0.
    let x7 = regular(s, &book, XICHENG, "2020-07", 1).await?;
    eq(
        postings(s, &x7).await?,
        vec![
            format!("{mover}-longevity-2020-04-3 arrears 80-89 100.00 = 100.00 + 0.00 {XICHENG} -> {x7}-000001"),
            format!("{mover}-longevity-2020-05-3 arrears 80-89 100.00 = 100.00 + 0.00 {XICHENG} -> {x7}-000001"),
            format!("{mover}-longevity-2020-07-0 regular 80-89 100.00 = 100.00 + 0.00 {XICHENG} -> {x7}-000001"),
        ],
        &format!("{x7} postings"),
    )?;
    eq(transfers(s, &x7).await?, vec![format!("{x7}-000001 {mover} longevity 300.00")], "x7 transfers")?;
    eq(totals(s, &x7).await?.as_str(), "1: 300.00 = 300.00 + 0.00; held 0.00; recovered 0.00", "x7 totals")?;
    never_above(s, &mover, 10000, "after Xicheng's 2020-07").await?;
    approve(s, &x7).await?;
    export(s, &x7, out.path()).await?;

    // Payment keys are unique over every batch.
    let mut keys = BTreeSet::new();
    for b in s.batches(None, None).await? {
        for p in s.batch_postings(&b.batch_id).await? {
            check(keys.insert(p.payment_key.clone()), format!("payment key {} reused", p.payment_key))?;
        }
    }
    // L1 + L2 over both districts: net paid per month = owed, 100 for each of 2020-01 … 2020-07:
    // 01–03 Chaoyang 100; 04, 05 Chaoyang 100 - 100 + Xicheng 100; 06, 07 Xicheng 100.
    let net = net_all_districts(s, &mover).await?;
    let want: BTreeMap<(String, String), i64> =
        ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06", "2020-07"]
            .iter()
            .map(|m| (("longevity".to_string(), m.to_string()), 10000))
            .collect();
    eq(net, want, "net paid per (allowance, month) over both districts")?;
    eq(s.ledger_check().await?, (70000, 70000), "ledger_check (balances, counted postings)")?;
    Ok(())
}

/// L4: "The net paid of a person-month can never be … above the highest monthly rate of its
/// allowance." A later policy version that lowers the rates does not lower the ceiling of months
/// an earlier version priced: arrears at the earlier rates are paid, not held.
///
/// Version `beijing-2020-06-test`, effective 2020-06: the default policy with 90-99 at 300.00 and
/// 100+ at 400.00 (quotas unchanged: 200 and 300). Its top longevity rate (400) is below v1's
/// 90-99 rate (500).
///
/// `old`, born 1925-02-10 (95 in 2020: 90-99 since 2015-02, R3), registered without an
/// application; the application (submitted 2020-03-10, approved) is imported only before the
/// 2020-06 run. T5: eligible in 2020-03, the spell began before the policy's start and is cut at
/// 2019-10, 5 months before 2020-03 (≤ 6): payment starts 2019-10; T7: not before 2020-01.
/// So 2020-01 … 2020-05 are arrears at v1's 500 (lottery min(200, 500) = 200, district 300) and
/// 2020-06 regular at v2's 300 (lottery min(200, 300) = 200, district 100); none held.
/// `steady` (84, 80-89: 100 = 100 + 0 in both versions) is paid every month.
async fn a_lowered_top_rate_in_a_later_policy_version_does_not_hold_earlier_months<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let mut text = DEFAULT_POLICY.to_string();
    for (from, to) in [
        ("version = \"beijing-2019-v1\"", "version = \"beijing-2020-06-test\""),
        ("effective_from = \"2019-10\"", "effective_from = \"2020-06\""),
        (
            "tier = \"100+\", min_age = 100, monthly = \"800.00\"",
            "tier = \"100+\", min_age = 100, monthly = \"400.00\"",
        ),
        (
            "tier = \"90-99\", min_age = 90, monthly = \"500.00\"",
            "tier = \"90-99\", min_age = 90, monthly = \"300.00\"",
        ),
    ] {
        check(text.matches(from).count() == 1, format!("the default policy has `{from}` once"))?;
        text = text.replace(from, to);
    }
    let v2 = Policy::parse(&text)?;
    let book = setup(s, &[v2]).await?;
    eq(
        book.versions().iter().map(|p| (p.version.clone(), p.effective_from.to_string())).collect::<Vec<_>>(),
        vec![("beijing-2019-v1".into(), "2019-10".into()), ("beijing-2020-06-test".into(), "2020-06".into())],
        "policy versions",
    )?;
    let out = tempfile::tempdir()?;
    let old = id(XICHENG, "1925-02-10", 101);
    let steady = id(XICHENG, "1935-04-01", 202);
    load(
        s,
        &[
            (
                "elders.csv",
                &format!(
                    "{ELDERS}{old},赵一,1925-02-10,{XICHENG},110102003,,,,shebao,6217000000000000011\n\
                     {steady},钱二,1935-04-01,{XICHENG},110102007,,,,shebao,6217000000000000022\n"
                ),
            ),
            ("applications.csv", &format!("{APPLICATIONS}{steady},longevity,2019-10-08,approved,2019-10-20\n")),
        ],
    )
    .await?;
    for m in ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05"] {
        let b = regular(s, &book, XICHENG, m, 1).await?;
        eq(totals(s, &b).await?.as_str(), "1: 100.00 = 100.00 + 0.00; held 0.00; recovered 0.00", &b)?;
        approve(s, &b).await?;
        export(s, &b, out.path()).await?;
    }
    load(s, &[("applications.csv", &format!("{APPLICATIONS}{old},longevity,2020-03-10,approved,2020-03-20\n"))])
        .await?;
    let b6 = regular(s, &book, XICHENG, "2020-06", 1).await?;
    eq(s.batch(&b6).await?.map(|b| b.policy_version), Some("beijing-2020-06-test".into()), "b6 policy version")?;
    // IDs sort by birth date here: old's lines and transfer come first.
    let t1 = format!("{b6}-000001");
    let mut want: Vec<String> = ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05"]
        .iter()
        .map(|m| format!("{old}-longevity-{m}-0 arrears 90-99 500.00 = 200.00 + 300.00 {XICHENG} -> {t1}"))
        .collect();
    want.push(format!("{old}-longevity-2020-06-0 regular 90-99 300.00 = 200.00 + 100.00 {XICHENG} -> {t1}"));
    want.push(format!("{steady}-longevity-2020-06-0 regular 80-89 100.00 = 100.00 + 0.00 {XICHENG} -> {b6}-000002"));
    eq(postings(s, &b6).await?, want, &format!("{b6} postings"))?;
    eq(
        transfers(s, &b6).await?,
        vec![format!("{t1} {old} longevity 2800.00"), format!("{b6}-000002 {steady} longevity 100.00")],
        "b6 transfers",
    )?;
    // old 5 × 500 + 300 = 2800, steady 100: 2900 = lottery (6 × 200 + 100) + district (5 × 300 + 100).
    eq(totals(s, &b6).await?.as_str(), "2: 2900.00 = 1300.00 + 1600.00; held 0.00; recovered 0.00", "b6 totals")?;
    approve(s, &b6).await?;
    let files = export(s, &b6, out.path()).await?;
    eq(files.get(&format!("{b6}-held.csv")).cloned(), Some(csv(HELD_HEADER, vec![])), "b6 held.csv is empty")?;
    // The months are priced by the version in force for each: owed = net paid.
    let record = s.person(&old).await?.ok_or("old missing")?;
    let owed: Vec<(String, String, i64)> = owed_between(&book, &record, month("2020-01"), month("2020-06"))
        .into_iter()
        .map(|e| Ok((e.month.to_string(), e.policy_version, to_fen(e.amount)?)))
        .collect::<Result<_, Failed>>()?;
    let mut want_owed: Vec<(String, String, i64)> = ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05"]
        .iter()
        .map(|m| (m.to_string(), "beijing-2019-v1".to_string(), 50000))
        .collect();
    want_owed.push(("2020-06".into(), "beijing-2020-06-test".into(), 30000));
    eq(owed, want_owed, "old: owed (month, policy version, fen)")?;
    // steady 6 × 100 + old 2800.
    eq(s.ledger_check().await?, (340000, 340000), "ledger_check (balances, counted postings)")?;
    Ok(())
}

/// INTERFACE.md: "a duplicate key within the file" is rejected; a `deleted` row has the key of
/// its file like any other. An upsert then a `deleted` row of the same key: the second is the
/// duplicate (DUPLICATE_KEY, its line), the first row stays stored.
async fn deleted_and_upserted_key_twice_in_one_file_is_a_duplicate<S: Store>(s: &S) -> Result<(), Failed> {
    let a = id(XICHENG, "1930-06-15", 21);
    let b = id(XICHENG, "1931-07-16", 22);
    let elders = format!(
        "{ELDERS}{a},甲,1930-06-15,{XICHENG},110102003,,,,shebao,1\n{b},乙,1931-07-16,{XICHENG},110102009,,,,shebao,2\n"
    );
    let header = "id_number,allowance,applied_on,decision,decided_on,deleted\n";
    // line 2: a's application, upserted; line 3: the same key, deleted → DUPLICATE_KEY.
    // line 4: b's application; line 5: b's deleted twice over → line 6 DUPLICATE_KEY.
    let applications = format!(
        "{header}{a},longevity,2019-10-10,approved,2019-10-20,false\n\
         {a},longevity,2019-10-10,,,true\n\
         {b},longevity,2019-10-11,approved,2019-10-12,\n\
         {b},care,2019-10-11,,,true\n\
         {b},care,2019-10-11,,,true\n"
    );
    let dir = write_dir(&[("elders.csv", &elders), ("applications.csv", &applications)]);
    let r = import(s, dir.path()).await?;
    let got: Vec<(String, u64, String)> =
        r.rejects.iter().map(|x| (x.file.clone(), x.line, x.reason.as_str().to_string())).collect();
    eq(
        got,
        vec![
            ("applications.csv".into(), 3, "DUPLICATE_KEY".into()),
            ("applications.csv".into(), 6, "DUPLICATE_KEY".into()),
        ],
        "rejects (file, line, reason)",
    )?;
    eq(r.files["applications.csv"].accepted, 3, "accepted: lines 2, 4, 5")?;
    eq(r.files["applications.csv"].rejected, 2, "rejected: lines 3, 6")?;
    let p = s.person(&a).await?.ok_or("a missing")?;
    eq(p.applications.len(), 1, "a's application is stored (the delete was the duplicate)")?;
    eq(p.applications[0].decision, subsidy::codes::Decision::Approved, "a's application as upserted")?;
    eq(s.registry_counts().await?["applications"], 2, "applications stored: a's and b's longevity")?;

    // The other order, in a later file: a delete then an upsert of the key. The delete comes
    // first and applies; the upsert repeats its key: DUPLICATE_KEY on line 3, the key stays deleted.
    let second = write_dir(&[(
        "applications.csv",
        &format!("{header}{a},longevity,2019-10-10,,,true\n{a},longevity,2019-10-10,approved,2019-10-20,\n"),
    )]);
    let r = import(s, second.path()).await?;
    let got: Vec<(u64, String)> = r.rejects.iter().map(|x| (x.line, x.reason.as_str().to_string())).collect();
    eq(got, vec![(3, "DUPLICATE_KEY".into())], "delete then upsert: rejects (line, reason)")?;
    eq(s.person(&a).await?.map(|p| p.applications.len()), Some(0), "a's application deleted by line 2")?;
    Ok(())
}

/// As above, across the import's chunks (rows are applied 2,000 at a time; repeated upserts
/// there are found by the database, `import_finds_duplicate_keys_across_chunks`): a `deleted` row
/// in the second chunk repeating a key upserted in the first is a duplicate too, and the first
/// row stays stored.
async fn deleted_key_repeating_a_row_of_an_earlier_chunk_is_a_duplicate<S: Store>(s: &S) -> Result<(), Failed> {
    let birth = day("1930-01-01");
    let ids: Vec<String> = (0..2_100u32)
        .map(|i| subsidy::idcard::make(XICHENG, birth + chrono::Days::new(u64::from(i / 1000)), i % 1000))
        .collect();
    let mut text = format!("{},deleted\n", ELDERS.trim_end());
    for (i, id) in ids.iter().enumerate() {
        let born = birth + chrono::Days::new(i as u64 / 1000);
        text += &format!("{id},甲{i},{born},{XICHENG},110102003,,,,,,false\n");
    }
    // Line 2,102 (the second chunk) deletes the key of line 7 (ids[5]), written by this file.
    text += &format!("{},重复,{birth},{XICHENG},110102003,,,,,,true\n", ids[5]);
    let dir = write_dir(&[("elders.csv", &text)]);
    let r = import(s, dir.path()).await?;
    let got: Vec<(String, u64, String)> =
        r.rejects.iter().map(|x| (x.file.clone(), x.line, x.reason.as_str().to_string())).collect();
    eq(got, vec![("elders.csv".into(), 2_102, "DUPLICATE_KEY".into())], "the repeated key, deleted")?;
    eq(r.files["elders.csv"].accepted, 2_100, "accepted")?;
    let p = s.person(&ids[5]).await?;
    eq(p.map(|p| p.registrations.len()), Some(1), "the row of line 7 is kept")?;
    eq(s.registry_counts().await?["elders"], 2_100, "elders stored")?;
    Ok(())
}
