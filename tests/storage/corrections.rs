//! Corrections after the fact, hand-checked: `rerun` (a correction batch, or one replacing the
//! month's unexported batch), `discard`, `withdraw`, recovery decisions and the audit log, on
//! Xicheng (110102) from the engine's start month 2020-01 (T7).
//!
//! The cast (ID numbers sort by birth date, so persons are settled and transfers numbered in this
//! order); each case uses some of them:
//!
//! | elder     | born       | paid                                     | rules      |
//! |-----------|------------|------------------------------------------|------------|
//! | `late`    | 1928-06-01 | longevity 90-99: 500 (lottery 200)       | R2, T3     |
//! | `steady`  | 1935-04-01 | longevity 80-89: 100 (lottery 100)       | R2         |
//! | `backpay` | 1939-11-15 | longevity 80-89 from 2019-11 (R3)        | T5, T7     |
//! | `carer`   | 1950-05-20 | care A (limb grade 1): 600 (lottery 100) | R4, R5, T2 |
//!
//! Rates and quotas are those of the default policy (fixtures/policy/beijing-2019.toml): longevity
//! 80-89 100 (quota 100), 90-99 500 (quota 200); care A 600, B 400, C 200 (quota 100 each);
//! F2: lottery = min(quota, amount), district the rest; a line that adjusts a month carries the
//! change of each share.
//!
//! The policy is loaded with a time before every batch (2019-10-01), as `init` does before the
//! first run: a policy loaded after the district's latest batch would make a correction read
//! every person, not only the changed ones.
//!
//! Every case that pays ends with [`settled`]: the ledger's balances agree with the counted
//! postings, and for every (person, allowance, month) from the start month through the last month
//! run, the net paid (L1) equals what the final registry says is owed (L2).

use crate::scenario::{
    approve, clock, day, export, ledger_rows, load, month, posting_text, regular, totals_text, transfer, transfer_id,
    transfer_row, transfer_text, Elder, APPLICATIONS, CERTS, DISTRICT, ELDERS, HELD_HEADER, LINES_HEADER, OPERATOR,
    RECOVERIES_HEADER, REVIEWER, TRANSFERS_HEADER,
};
use crate::support::{check, eq, pg_admin_url, with_database};
use chrono::{DateTime, TimeZone, Utc};
use libtest_mimic::Failed;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use subsidy::batch::{run_district, BatchSummary, RunOutcome, RunRequest};
use subsidy::cli::commands;
use subsidy::codes::Allowance;
use subsidy::eligibility::owed_between;
use subsidy::ledger::BatchState;
use subsidy::ledger::{BatchKind, LineType};
use subsidy::money::{format_fen, format_yuan, to_fen};
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, Store};
use BatchState::{Computed, Discarded, Exported, Superseded};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        rerun_late_death_after_export,
        rerun_grade_lowered_then_raised_retroactively,
        rerun_late_approval_with_back_pay,
        rerun_replaces_unexported_batch,
        correction_batch_with_only_recoveries,
        offsets_consume_a_whole_payment,
        waived_recovery_stays_in_net_paid,
        discard_and_withdraw,
        audit_log_chains_every_change,
        audit_log_refuses_update_and_delete,
        rerun_earlier_month_then_later_month_settles_both,
        rerun_dry_run_lists_net_paid_through_the_month,
        rerun_replacing_a_batch_with_nothing_left_to_pay,
    ]
}

/// Who exports (`export --by`).
const EXPORTER: &str = "exporter-zhao";

// ------------------------------------------------------------------------------------------ cast

struct Cast {
    late: Elder,
    steady: Elder,
    backpay: Elder,
    carer: Elder,
}

impl Cast {
    fn new() -> Cast {
        Cast {
            late: Elder::new("赵一", "1928-06-01", 101, "110102003", "shebao", "6217000000000000011"),
            steady: Elder::new("钱二", "1935-04-01", 202, "110102007", "shebao", "6217000000000000022"),
            backpay: Elder::new("孙三", "1939-11-15", 303, "110102009", "shebao", "6217000000000000033"),
            carer: Elder::new("李四", "1950-05-20", 404, "110102010", "shebao", "6217000000000000044"),
        }
    }
}

/// An approved application submitted 2019-10-08 (T5: eligible then, so payment starts with the
/// spell, cut at 2019-10; T7: the engine pays from 2020-01).
fn applied(e: &Elder, allowance: &str) -> String {
    format!("{},{allowance},2019-10-08,approved,2019-10-20\n", e.id)
}

/// The registry before 2020-01: `carer` holds a limb grade 1 certificate since 2018 (R4: tier A).
/// `backpay`, when listed, is registered without an application.
async fn load_cast<S: Store>(s: &S, c: &Cast, who: &[&Elder]) -> Result<(), Failed> {
    let elders: String = who.iter().map(|e| e.row("")).collect();
    let mut applications = APPLICATIONS.to_string();
    for e in who {
        if e.id == c.late.id || e.id == c.steady.id {
            applications += &applied(e, "longevity");
        } else if e.id == c.carer.id {
            applications += &applied(e, "care");
        }
    }
    let mut files = vec![("elders.csv", format!("{ELDERS}{elders}")), ("applications.csv", applications)];
    if who.iter().any(|e| e.id == c.carer.id) {
        files.push(("disability_certs.csv", format!("{CERTS}{},limb,1,false,2018-05-01,\n", c.carer.id)));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    load(s, &files).await
}

// ------------------------------------------------------------------------------------ helpers

/// A time of day on a date, for reruns (after the runs before them).
fn at(date: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(date).and_hms_opt(3, 0, 0).unwrap())
}

/// Start month 2020-01 (T7) and the default policy, loaded before any batch.
async fn setup<S: Store>(s: &S) -> Result<PolicyBook, Failed> {
    s.set_start_month(month("2020-01")).await?;
    s.add_policy(&Policy::parse(DEFAULT_POLICY)?, "fixtures/policy/beijing-2019.toml", at("2019-10-01")).await?;
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

fn batch_id(m: &str, tag: &str) -> String {
    format!("{DISTRICT}-{m}-{tag}")
}

async fn rerun<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    m: &str,
    reason: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<RunOutcome, Failed> {
    let req = RunRequest {
        month: month(m),
        by: OPERATOR.into(),
        dry_run,
        kind: BatchKind::Correction,
        reason: Some(reason.into()),
        ..Default::default()
    };
    Ok(run_district(s, book, month("2020-01"), DISTRICT, &req, now).await?)
}

/// The summary of a computed batch with this id, or a failure naming what came instead.
fn computed(outcome: RunOutcome, want: &str) -> Result<Box<BatchSummary>, Failed> {
    match outcome {
        RunOutcome::Computed(sum) => {
            eq(sum.batch_id.as_str(), want, "batch id")?;
            Ok(sum)
        }
        other => Err(format!("expected batch {want} to be computed, got {other:?}").into()),
    }
}

fn nothing(outcome: RunOutcome, what: &str) -> Result<(), Failed> {
    match outcome {
        RunOutcome::NothingToSettle => Ok(()),
        other => Err(format!("{what}: expected NothingToSettle, got {other:?}").into()),
    }
}

/// Run, approve and export a regular month; returns its batch id.
async fn pay_month<S: Store + LedgerStore>(s: &S, book: &PolicyBook, m: &str, out: &Path) -> Result<String, Failed> {
    let b = computed(regular(s, book, m).await?, &batch_id(m, "R1"))?.batch_id;
    approve(s, &b).await?;
    export(s, &b, out).await?;
    Ok(b)
}

/// How an expected posting is paid.
#[derive(Clone)]
enum Pay {
    /// On the batch's transfer with this sequence number.
    T(u32),
    /// On no transfer: a recovery item, or a line whose person's net in the batch is not positive.
    None,
}

/// One expected posting: amounts are yuan as the files print them (amount, lottery, district).
struct Want<'a> {
    who: &'a Elder,
    allowance: &'static str,
    month: &'static str,
    adjustment: u32,
    line_type: &'static str,
    tier: &'static str,
    yuan: [&'static str; 3],
    pay: Pay,
}

#[allow(clippy::too_many_arguments)]
fn want<'a>(
    who: &'a Elder,
    allowance: &'static str,
    month: &'static str,
    adjustment: u32,
    line_type: &'static str,
    tier: &'static str,
    yuan: [&'static str; 3],
    pay: Pay,
) -> Want<'a> {
    Want { who, allowance, month, adjustment, line_type, tier, yuan, pay }
}

impl Want<'_> {
    fn key(&self) -> String {
        self.who.key(self.allowance, self.month, self.adjustment)
    }

    /// As [`posting_text`] renders a stored posting.
    fn text(&self, batch: &str) -> String {
        let [amount, lottery, district] = self.yuan;
        let pay = match &self.pay {
            Pay::T(n) => format!("-> {}", transfer_id(batch, *n)),
            Pay::None => "no transfer".into(),
        };
        format!("{} {} {} {amount} = {lottery} + {district} {DISTRICT} {pay}", self.key(), self.line_type, self.tier)
    }

    /// Its lines.csv row (paid lines only, recovery items are not lines).
    fn csv(&self, batch: &str) -> Option<String> {
        if self.line_type == "recovery" {
            return None;
        }
        let transfer = match &self.pay {
            Pay::T(n) => transfer_id(batch, *n),
            Pay::None => String::new(),
        };
        let [amount, lottery, district] = self.yuan;
        Some(format!(
            "{transfer},{},{},{},{},{},{},{amount},{lottery},{district},{}",
            self.key(),
            self.who.id,
            self.allowance,
            self.tier,
            self.month,
            self.line_type,
            self.who.street
        ))
    }
}

/// The batch's postings (by payment key) and transfers (by transfer id), exactly.
async fn expect_rows<S: LedgerStore>(
    s: &S,
    batch: &str,
    lines: &[Want<'_>],
    transfers: Vec<String>,
) -> Result<(), Failed> {
    let got: Vec<String> = s.batch_postings(batch).await?.iter().map(posting_text).collect();
    let wanted: Vec<String> = lines.iter().map(|l| l.text(batch)).collect();
    eq(got, wanted, &format!("{batch}: postings (key type tier amount = lottery + district, district code, paid)"))?;
    let got: Vec<String> = s.batch_transfers(batch).await?.iter().map(transfer_text).collect();
    eq(got, transfers, &format!("{batch}: transfers (id person account allowance amount)"))
}

/// The batch's state, reason (discard, rerun) and totals, written `transfers: control sum =
/// lottery + district; held H; recovered R` (the shares are those of its paid lines, which add up
/// to its transfers; H its held lines; R its recovery items, positive). Its kind is the one
/// its id names (R regular, C correction), its runner the operator.
async fn expect_batch<S: LedgerStore>(
    s: &S,
    batch: &str,
    state: BatchState,
    reason: Option<&str>,
    totals: &str,
) -> Result<(), Failed> {
    let b = s.batch(batch).await?.ok_or_else(|| format!("batch {batch} missing"))?;
    let kind = if batch.contains("-C") { BatchKind::Correction } else { BatchKind::Regular };
    eq((b.kind, b.state, b.run_by.as_str()), (kind, state, OPERATOR), &format!("{batch}: kind, state, runner"))?;
    eq(b.state_reason.as_deref(), reason, &format!("{batch}: reason"))?;
    eq(totals_text(&b).as_str(), totals, &format!("{batch}: totals"))
}

/// A CSV file's expected text: header, then rows sorted as the files sort them (byte order).
fn csv(header: &str, mut rows: Vec<String>) -> String {
    rows.sort();
    crate::scenario::csv(header, rows)
}

/// The exported lines.csv, transfers.csv, held.csv and recoveries.csv of a batch.
fn expect_files(
    files: &BTreeMap<String, String>,
    batch: &str,
    lines: &[Want<'_>],
    transfers: Vec<String>,
    recoveries: Vec<String>,
) -> Result<(), Failed> {
    let file = |suffix: &str| -> Result<&String, Failed> {
        let name = format!("{batch}-{suffix}");
        files.get(&name).ok_or_else(|| format!("{name} not exported").into())
    };
    let rows: Vec<String> = lines.iter().filter_map(|l| l.csv(batch)).collect();
    eq(file("lines.csv")?.as_str(), csv(LINES_HEADER, rows).as_str(), &format!("{batch}-lines.csv"))?;
    eq(file("transfers.csv")?.as_str(), csv(TRANSFERS_HEADER, transfers).as_str(), &format!("{batch}-transfers.csv"))?;
    eq(file("held.csv")?.as_str(), csv(HELD_HEADER, vec![]).as_str(), &format!("{batch}-held.csv"))?;
    eq(
        file("recoveries.csv")?.as_str(),
        csv(RECOVERIES_HEADER, recoveries).as_str(),
        &format!("{batch}-recoveries.csv"),
    )
}

/// The payment order's kind, transfer count, control sum, fund totals, recovery total.
fn expect_order(
    files: &BTreeMap<String, String>,
    batch: &str,
    want: (&str, i64, &str, &str, &str, &str),
) -> Result<(), Failed> {
    let name = format!("{batch}-order.json");
    let order: serde_json::Value = serde_json::from_str(files.get(&name).ok_or_else(|| format!("{name} missing"))?)?;
    let (kind, count, control, lottery, district, recovery) = want;
    eq(
        (
            order["batch_kind"].as_str(),
            order["transfer_count"].as_i64(),
            order["control_sum"].as_str(),
            order["totals_by_fund"]["lottery"].as_str(),
            order["totals_by_fund"]["district"].as_str(),
            order["recovery_total"].as_str(),
        ),
        (Some(kind), Some(count), Some(control), Some(lottery), Some(district), Some(recovery)),
        &name,
    )
}

/// The recovery reason stored with a posting.
async fn recovery_reasons<S: LedgerStore>(s: &S, batch: &str) -> Result<Vec<(String, String)>, Failed> {
    Ok(s.batch_postings(batch)
        .await?
        .into_iter()
        .filter(|p| p.line_type == "recovery")
        .map(|p| (p.payment_key, p.recovery_reason.unwrap_or_default()))
        .collect())
}

async fn audit_len<S: Store>(s: &S) -> Result<usize, Failed> {
    Ok(s.audit_log().await?.0.len())
}

/// (masked id, name, allowance, net paid, owed now, difference) of a dry run's listing.
fn differences(sum: &BatchSummary) -> Vec<(String, String, Allowance, String, String, String)> {
    sum.differences
        .iter()
        .map(|d| {
            (
                d.id_number.clone(),
                d.name.clone(),
                d.allowance,
                format_yuan(d.net_paid),
                format_yuan(d.owed),
                format_yuan(d.difference),
            )
        })
        .collect()
}

fn difference(
    who: &Elder,
    allowance: Allowance,
    paid: &str,
    owed: &str,
    diff: &str,
) -> (String, String, Allowance, String, String, String) {
    (subsidy::idcard::mask(&who.id), who.name.into(), allowance, paid.into(), owed.into(), diff.into())
}

/// L1 + L2 after a case: the balances agree with the counted postings; for every (person,
/// allowance, month) from 2020-01 through `through`, the net paid (counted lines, recovery
/// items subtracted, whether decided or not) equals what the final registry says this district
/// owes. No case leaves a line held, so nothing is excepted. Returns the total net paid, fen.
async fn settled<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    who: &[&Elder],
    through: &str,
) -> Result<i64, Failed> {
    let mut net: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for b in s.batches(None, None).await?.into_iter().filter(|b| b.state.counts()) {
        for p in s.batch_postings(&b.batch_id).await? {
            check(p.held_reason.is_none(), format!("{} is held; no case expects a held line", p.payment_key))?;
            *net.entry((p.id_number, p.allowance, p.service_month)).or_default() += p.amount_fen;
        }
    }
    net.retain(|_, fen| *fen != 0);
    let mut owed: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for e in who {
        let rec = s.person(&e.id).await?.ok_or("person missing")?;
        for x in
            owed_between(book, &rec, month("2020-01"), month(through)).into_iter().filter(|x| x.district == DISTRICT)
        {
            owed.insert((e.id.clone(), x.allowance.to_string(), x.month.to_string()), to_fen(x.amount)?);
        }
    }
    eq(&net, &owed, "net paid per (person, allowance, month) vs owed by the final registry (L1, L2)")?;
    let total: i64 = net.values().sum();
    eq(s.ledger_check().await?, (total, total), "ledger_check (balances, counted postings)")?;
    Ok(total)
}

// -------------------------------------------------------------------------------------- cases

/// A death reported after three months were paid: the correction batch recovers the months after
/// the month of death (T3) and reads only the one changed person.
async fn rerun_late_death_after_export<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady, carer) = (&c.late, &c.steady, &c.carer);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady, carer]).await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        let b = pay_month(s, &book, m, out.path()).await?;
        // late 500 + steady 100 + carer 600 = 1200 = lottery (200 + 100 + 100) + district (300 + 500).
        expect_batch(s, &b, Exported, None, "3: 1200.00 = 400.00 + 800.00; held 0.00; recovered 0.00").await?;
    }

    // Reported only now: `late` died on 2020-02-10.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2020-02-10")))]).await?;
    let reason = "death of 赵一 reported by 新街口 street on 2020-03-20";
    let c1 = batch_id("2020-03", "C1");

    // The dry run lists exactly that person's difference and writes nothing. T3: paid through the
    // month of death, so 2020-01 and 2020-02 (alive on their first day) are owed 500 each, 2020-03
    // nothing: net paid 1500, owed 1000, difference -500.
    let before = (ledger_rows(s).await?, audit_len(s).await?);
    let dry = computed(rerun(s, &book, "2020-03", reason, true, at("2020-03-21")).await?, &c1)?;
    eq(dry.dry_run, true, "dry run flag")?;
    eq(
        differences(&dry),
        vec![difference(late, Allowance::Longevity, "1500.00", "1000.00", "-500.00")],
        "dry run: differences (person, name, allowance, net paid, owed now, difference)",
    )?;
    eq((dry.read_changed_only, dry.persons_read), (true, 1), "dry run: read only the changed person")?;
    eq(
        (ledger_rows(s).await?, audit_len(s).await?),
        before,
        "rows (batches, postings, transfers) and audit after the dry run",
    )?;
    eq(s.batch(&c1).await?, None, "the dry run stored no batch")?;

    // Corrections cost what they change: three persons registered, one changed since the latest
    // batch (which covers 2020-03), so one read.
    let sum = computed(rerun(s, &book, "2020-03", reason, false, at("2020-03-21")).await?, &c1)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 1), "read only the changed person")?;
    eq((sum.replaces.clone(), sum.kind, sum.differences.len()), (None, BatchKind::Correction, 0), "replaces nothing")?;
    eq(
        sum.by_line_type.iter().map(|(t, c)| (*t, c.count, format_yuan(c.amount))).collect::<Vec<_>>(),
        vec![(LineType::Recovery, 1, "-500.00".to_string())],
        "only a recovery item",
    )?;
    // late, 2020-03: paid 500 (200 + 300), owed 0: -500, and the batch has no positive longevity
    // line of late's to absorb it, so a recovery item (L2), the key's second posting (L4:
    // adjustment 1), shares -200 / -300 (F2), tier as last paid. 2020-02 is owed as paid: nothing.
    use Pay::None as NoTransfer;
    let lines =
        [want(late, "longevity", "2020-03", 1, "recovery", "90-99", ["-500.00", "-200.00", "-300.00"], NoTransfer)];
    expect_rows(s, &c1, &lines, vec![]).await?;
    eq(
        recovery_reasons(s, &c1).await?,
        vec![(late.key("longevity", "2020-03", 1), "DECEASED: died 2020-02-10, paid through 2020-02 only (T3)".into())],
        "recovery reason",
    )?;
    expect_batch(s, &c1, Computed, Some(reason), "0: 0.00 = 0.00 + 0.00; held 0.00; recovered 500.00").await?;
    approve(s, &c1).await?;
    let files = export(s, &c1, out.path()).await?;
    let recovery = format!(
        "{},{},longevity,2020-03,500.00,\"DECEASED: died 2020-02-10, paid through 2020-02 only (T3)\"",
        late.id, late.name
    );
    expect_files(&files, &c1, &lines, vec![], vec![recovery])?;
    expect_order(&files, &c1, ("correction", 0, "0.00", "0.00", "0.00", "500.00"))?;

    // Nothing changed since: a further rerun has nothing to settle and writes nothing.
    let before = (ledger_rows(s).await?, audit_len(s).await?);
    nothing(rerun(s, &book, "2020-03", "again", false, at("2020-03-22")).await?, "rerun without changes")?;
    eq((ledger_rows(s).await?, audit_len(s).await?), before, "rows after a rerun without changes")?;
    // late 500 + 500; steady 3 × 100; carer 3 × 600: 1000 + 300 + 1800 = 3100 (= 3 × 1200 - 500).
    eq(format_fen(settled(s, &book, &[late, steady, carer], "2020-03").await?), "3100.00".into(), "net paid")
}

/// R5 + T2: a certificate lowering the tier, reported late, then one raising it again.
async fn rerun_grade_lowered_then_raised_retroactively<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (steady, carer) = (&c.steady, &c.carer);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[steady, carer]).await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        let b = pay_month(s, &book, m, out.path()).await?;
        // steady 100 + carer A 600 = 700 = lottery (100 + 100) + district (0 + 500).
        expect_batch(s, &b, Exported, None, "2: 700.00 = 200.00 + 500.00; held 0.00; recovered 0.00").await?;
    }
    use Pay::{None as NoTransfer, T};

    // A new certificate, limb grade 2 (R4: tier B), issued 2020-01-20, reported after 2020-03
    // was paid. R5: the latest certificate replaces the grade 1 one from its issue date.
    // T2, read at month ends: end of 2019-12 A; end of 2020-01, -02, -03 B. So
    //   2020-01 = better of end Jan (B) and end Dec (A) = A 600 (a cut counts from the next month): as paid;
    //   2020-02 = better of end Feb (B) and end Jan (B) = B 400: paid 600 → -200;
    //   2020-03 = B 400: paid 600 → -200.
    // No positive care line in the batch absorbs them: two recovery items, each the key's second
    // posting; shares: owed B 100 / 300 less paid 100 / 500 = 0 / -200 (F2).
    load(s, &[("disability_certs.csv", &format!("{CERTS}{},limb,2,false,2020-01-20,\n", carer.id))]).await?;
    let c1 = batch_id("2020-03", "C1");
    let lowered = "certificate of 2020-01-20 (limb grade 2) reported late";
    let sum = computed(rerun(s, &book, "2020-03", lowered, false, at("2020-03-21")).await?, &c1)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 1), "C1 reads only carer")?;
    let lines = [
        want(carer, "care", "2020-02", 1, "recovery", "B", ["-200.00", "0.00", "-200.00"], NoTransfer),
        want(carer, "care", "2020-03", 1, "recovery", "B", ["-200.00", "0.00", "-200.00"], NoTransfer),
    ];
    expect_rows(s, &c1, &lines, vec![]).await?;
    eq(
        recovery_reasons(s, &c1).await?,
        vec![
            (carer.key("care", "2020-02", 1), "LOWER_TIER: 2020-02 now owed at tier B (400.00 yuan)".into()),
            (carer.key("care", "2020-03", 1), "LOWER_TIER: 2020-03 now owed at tier B (400.00 yuan)".into()),
        ],
        "C1 recovery reasons",
    )?;
    expect_batch(s, &c1, Computed, Some(lowered), "0: 0.00 = 0.00 + 0.00; held 0.00; recovered 400.00").await?;
    approve(s, &c1).await?;
    let files = export(s, &c1, out.path()).await?;
    let recoveries = ["2020-02", "2020-03"]
        .iter()
        .map(|m| {
            format!("{},{},care,{m},200.00,LOWER_TIER: {m} now owed at tier B (400.00 yuan)", carer.id, carer.name)
        })
        .collect();
    expect_files(&files, &c1, &lines, vec![], recoveries)?;

    // Then a further certificate, limb grade 1 (A), issued 2020-02-20, replaces the grade 2 one.
    // End of 2020-01 B; end of 2020-02 and -03 A. So
    //   2020-01 = better of B and end Dec A = A 600: as paid;
    //   2020-02 = better of end Feb (A) and end Jan (B) = A 600 (a raise counts in its own month):
    //             net paid 600 - 200 = 400 → top-up +200;
    //   2020-03 = A 600: net paid 400 → top-up +200.
    // The recovery items stay (L2: listed once, never offset later); the top-ups are the keys'
    // third postings (adjustment 2), shares: owed A 100 / 500 less net 100 / 300 = 0 / +200.
    // One transfer for carer's care: 400.
    load(s, &[("disability_certs.csv", &format!("{CERTS}{},limb,1,false,2020-02-20,\n", carer.id))]).await?;
    let c2 = batch_id("2020-03", "C2");
    let raised = "certificate of 2020-02-20 (limb grade 1) reported late";
    let sum = computed(rerun(s, &book, "2020-03", raised, false, at("2020-03-23")).await?, &c2)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 1), "C2 reads only carer")?;
    let lines = [
        want(carer, "care", "2020-02", 2, "topup", "A", ["200.00", "0.00", "200.00"], T(1)),
        want(carer, "care", "2020-03", 2, "topup", "A", ["200.00", "0.00", "200.00"], T(1)),
    ];
    let transfers = vec![transfer(&c2, 1, carer, "care", "400.00")];
    expect_rows(s, &c2, &lines, transfers).await?;
    expect_batch(s, &c2, Computed, Some(raised), "1: 400.00 = 0.00 + 400.00; held 0.00; recovered 0.00").await?;
    approve(s, &c2).await?;
    let files = export(s, &c2, out.path()).await?;
    expect_files(&files, &c2, &lines, vec![transfer_row(&c2, 1, carer, "care", "400.00")], vec![])?;
    expect_order(&files, &c2, ("correction", 1, "400.00", "0.00", "400.00", "0.00"))?;
    // steady 3 × 100; carer 3 × 600 (2020-02 and -03: 600 - 200 + 200): 2100.
    eq(format_fen(settled(s, &book, &[steady, carer], "2020-03").await?), "2100.00".into(), "net paid")
}

/// T5 + T7: an application submitted in 2020-02 and approved, known only after 2020-03 was
/// paid, for a person eligible since 2019-11: one correction transfer pays 2020-01 … 2020-03.
async fn rerun_late_approval_with_back_pay<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (steady, backpay) = (&c.steady, &c.backpay);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[steady, backpay]).await?;
    // backpay's application is pending when the months are run: nothing is owed (T5).
    load(s, &[("applications.csv", &format!("{APPLICATIONS}{},longevity,2020-02-18,pending,\n", backpay.id))]).await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        let b = pay_month(s, &book, m, out.path()).await?;
        expect_batch(s, &b, Exported, None, "1: 100.00 = 100.00 + 0.00; held 0.00; recovered 0.00").await?;
    }

    // The same application, now approved on 2020-03-30 (rows update by key).
    // T5: submitted in A = 2020-02; backpay turned 80 on 2019-11-15 (R3: 80-89 from 2019-11), so
    // is eligible in A and the spell began in 2019-11, 3 months before A (≤ 6): payment starts
    // 2019-11. T7: the engine pays nothing before 2020-01. So 2020-01 and 2020-02 are arrears
    // (earlier months, first payment) and 2020-03 regular (the batch's service month, first
    // payment, L2); 100 each, lottery min(100, 100) = 100 (F2); one transfer of 300.
    load(
        s,
        &[("applications.csv", &format!("{APPLICATIONS}{},longevity,2020-02-18,approved,2020-03-30\n", backpay.id))],
    )
    .await?;
    let c1 = batch_id("2020-03", "C1");
    let reason = "application of 2020-02-18 approved on 2020-03-30";
    let dry = computed(rerun(s, &book, "2020-03", reason, true, at("2020-04-02")).await?, &c1)?;
    eq(
        differences(&dry),
        vec![difference(backpay, Allowance::Longevity, "0.00", "300.00", "300.00")],
        "dry run: differences",
    )?;
    let sum = computed(rerun(s, &book, "2020-03", reason, false, at("2020-04-02")).await?, &c1)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 1), "read only backpay")?;
    use Pay::T;
    let lines = [
        want(backpay, "longevity", "2020-01", 0, "arrears", "80-89", ["100.00", "100.00", "0.00"], T(1)),
        want(backpay, "longevity", "2020-02", 0, "arrears", "80-89", ["100.00", "100.00", "0.00"], T(1)),
        want(backpay, "longevity", "2020-03", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(1)),
    ];
    expect_rows(s, &c1, &lines, vec![transfer(&c1, 1, backpay, "longevity", "300.00")]).await?;
    expect_batch(s, &c1, Computed, Some(reason), "1: 300.00 = 300.00 + 0.00; held 0.00; recovered 0.00").await?;
    approve(s, &c1).await?;
    let files = export(s, &c1, out.path()).await?;
    expect_files(&files, &c1, &lines, vec![transfer_row(&c1, 1, backpay, "longevity", "300.00")], vec![])?;
    expect_order(&files, &c1, ("correction", 1, "300.00", "300.00", "0.00", "0.00"))?;
    // steady 3 × 100 + backpay 3 × 100.
    eq(format_fen(settled(s, &book, &[steady, backpay], "2020-03").await?), "600.00".into(), "net paid")
}

/// A rerun of a month whose batch is computed but not exported: that batch is superseded (kept,
/// never counted) and the correction batch holds everything the month needs: the unchanged
/// persons' postings carried over as they stood, the changed persons settled again.
async fn rerun_replaces_unexported_batch<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady, carer) = (&c.late, &c.steady, &c.carer);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady, carer]).await?;
    pay_month(s, &book, "2020-01", out.path()).await?;
    let r1 = computed(regular(s, &book, "2020-02").await?, &batch_id("2020-02", "R1"))?.batch_id;
    use Pay::T;
    let r1_lines = [
        want(late, "longevity", "2020-02", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(1)),
        want(steady, "longevity", "2020-02", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(2)),
        want(carer, "care", "2020-02", 0, "regular", "A", ["600.00", "100.00", "500.00"], T(3)),
    ];
    expect_rows(
        s,
        &r1,
        &r1_lines,
        vec![
            transfer(&r1, 1, late, "longevity", "500.00"),
            transfer(&r1, 2, steady, "longevity", "100.00"),
            transfer(&r1, 3, carer, "care", "600.00"),
        ],
    )
    .await?;

    // Before R1 is approved, corrections arrive: late died 2020-01-15; carer's new certificate,
    // limb grade 2 (B), issued 2020-01-10.
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-15"))),
            ("disability_certs.csv", &format!("{CERTS}{},limb,2,false,2020-01-10,\n", carer.id)),
        ],
    )
    .await?;
    let c1 = batch_id("2020-02", "C1");
    let reason = "death of 赵一 and certificate of 李四 reported before approval";

    // The dry run announces exactly what the rerun writes (issue 7, point 4): within a transaction
    // it rolls back, R1 is superseded (no longer counted, L1) and the changed persons are settled
    // against what counts without it:
    // late: T3 owed 2020-01 only (500); paid 500 (2020-01) → no difference, nothing listed.
    // carer: T2 2020-01 = better of end Jan (B) and end Dec (A) = A 600; 2020-02 = B 400; owed 1000,
    // paid 600 (2020-01) → +400. steady did not change and is not read (carried over).
    let before = ledger_rows(s).await?;
    let dry = computed(rerun(s, &book, "2020-02", reason, true, at("2020-01-27")).await?, &c1)?;
    eq(dry.replaces.as_deref(), Some(r1.as_str()), "dry run names the batch it would replace")?;
    eq((dry.read_changed_only, dry.persons_read), (true, 2), "dry run reads the two changed persons")?;
    eq(
        differences(&dry),
        vec![difference(carer, Allowance::Care, "600.00", "1000.00", "400.00")],
        "dry run: differences",
    )?;
    eq(ledger_rows(s).await?, before, "rows after the dry run")?;
    eq(s.batch(&r1).await?.map(|b| b.state), Some(Computed), "R1 untouched by the dry run")?;

    // The rerun: R1 superseded. steady did not change: its R1 posting and transfer move to C1 as
    // they stand (carried over, nothing recomputed); only late and carer are read again (L2
    // through 2020-02).
    let sum = computed(rerun(s, &book, "2020-02", reason, false, at("2020-01-27")).await?, &c1)?;
    eq(sum.replaces.as_deref(), Some(r1.as_str()), "replaces R1")?;
    eq((sum.read_changed_only, sum.persons_read, sum.carried_postings), (true, 2, 1), "reads the two changed persons")?;
    // R1's remaining postings (late, carer) no longer count (L1), so for 2020-02 they are not
    // paid; carer's next posting continues after R1's (L4: adjustment 1, keys are never reused)
    // and, being the first counted payment of the service month, is `regular` (L2).
    // late: 2020-02 not owed (T3), not paid: nothing. steady: R1's 100 (100 + 0), carried.
    // carer: B 400, lottery min(100, 400) = 100, district 300, on C1's first transfer.
    // Every transfer id of C1 starts with C1's id (INTERFACE.md): the carried transfer is numbered
    // again, in person order as a full run numbers them (steady's ID sorts before carer's).
    let lines = [
        want(steady, "longevity", "2020-02", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(1)),
        want(carer, "care", "2020-02", 1, "regular", "B", ["400.00", "100.00", "300.00"], T(2)),
    ];
    let transfers = vec![transfer(&c1, 1, steady, "longevity", "100.00"), transfer(&c1, 2, carer, "care", "400.00")];
    expect_rows(s, &c1, &lines, transfers).await?;
    // What the dry run announced is what was written.
    eq(
        (dry.transfer_count, dry.control_sum, dry.held.clone(), dry.recoveries.clone(), dry.by_line_type.clone()),
        (sum.transfer_count, sum.control_sum, sum.held.clone(), sum.recoveries.clone(), sum.by_line_type.clone()),
        "dry run = rerun (counts and amounts)",
    )?;
    // 100 + 400 = 500 = lottery (100 + 100) + district (0 + 300).
    expect_batch(s, &c1, Computed, Some(reason), "2: 500.00 = 200.00 + 300.00; held 0.00; recovered 0.00").await?;
    // R1 is kept, marked superseded with the reason; `status` lists both.
    expect_batch(s, &r1, Superseded, Some(reason), "3: 1200.00 = 400.00 + 800.00; held 0.00; recovered 0.00").await?;
    // R1 keeps the postings it computed for the persons that changed (never counted); its stored
    // totals stay as computed.
    eq(s.batch_postings(&r1).await?.len(), 2, "R1 keeps late's and carer's postings")?;
    let listed: Vec<(String, BatchState, Option<String>)> = s
        .batches(Some(DISTRICT), Some(month("2020-02")))
        .await?
        .into_iter()
        .map(|b| (b.batch_id, b.state, b.state_reason))
        .collect();
    eq(
        listed,
        vec![(c1.clone(), Computed, Some(reason.to_string())), (r1.clone(), Superseded, Some(reason.to_string()))],
        "batches of 2020-02 (status)",
    )?;
    eq(commands::status(s, Some(DISTRICT), Some(month("2020-02")), true, false).await?, 0, "status")?;
    // Payment keys are unique over every batch, superseded ones included.
    let mut keys = BTreeSet::new();
    for b in s.batches(None, None).await? {
        for p in s.batch_postings(&b.batch_id).await? {
            check(keys.insert(p.payment_key.clone()), format!("payment key {} reused", p.payment_key))?;
        }
    }
    // A superseded batch is never paid; the month's batch is now C1.
    check(commands::approve(s, &r1, REVIEWER, false, clock()).await.is_err(), "approving the superseded R1 must fail")?;
    eq(s.approve_batch(&r1, REVIEWER, clock().now()).await?, false, "the store does not approve a superseded batch")?;
    match regular(s, &book, "2020-02").await? {
        RunOutcome::Existing(b) => eq(b.batch_id.as_str(), c1.as_str(), "running 2020-02 again returns C1")?,
        other => return Err(format!("running 2020-02 again: expected Existing(C1), got {other:?}").into()),
    }
    // 2020-01 (500 + 100 + 600) + C1 (100 + 400) = 1700.
    eq(format_fen(settled(s, &book, &[late, steady, carer], "2020-02").await?), "1700.00".into(), "net paid")?;
    approve(s, &c1).await?;
    let files = export(s, &c1, out.path()).await?;
    expect_files(
        &files,
        &c1,
        &lines,
        vec![transfer_row(&c1, 1, steady, "longevity", "100.00"), transfer_row(&c1, 2, carer, "care", "400.00")],
        vec![],
    )?;

    // The next month runs as usual: steady 100, carer B 400 (first postings of 2020-03).
    let r3 = pay_month(s, &book, "2020-03", out.path()).await?;
    let lines = [
        want(steady, "longevity", "2020-03", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(1)),
        want(carer, "care", "2020-03", 0, "regular", "B", ["400.00", "100.00", "300.00"], T(2)),
    ];
    let transfers = vec![transfer(&r3, 1, steady, "longevity", "100.00"), transfer(&r3, 2, carer, "care", "400.00")];
    expect_rows(s, &r3, &lines, transfers).await?;
    eq(format_fen(settled(s, &book, &[late, steady, carer], "2020-03").await?), "2200.00".into(), "net paid")
}

/// A correction batch that pays nothing: only recovery items, for two persons and two
/// allowances; its files list no transfer and no line.
async fn correction_batch_with_only_recoveries<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady, carer) = (&c.late, &c.steady, &c.carer);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady, carer]).await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        pay_month(s, &book, m, out.path()).await?;
    }
    // Reported after 2020-03 was paid: late died 2020-01-10; carer's new certificate, hearing
    // grade 1 (R4: tier C, 200), issued 2020-02-05.
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-10"))),
            ("disability_certs.csv", &format!("{CERTS}{},hearing,1,false,2020-02-05,\n", carer.id)),
        ],
    )
    .await?;
    let c1 = batch_id("2020-03", "C1");
    let reason = "death and certificate reported late";
    let sum = computed(rerun(s, &book, "2020-03", reason, false, at("2020-03-21")).await?, &c1)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 2), "read the two changed persons")?;
    use Pay::None as NoTransfer;
    // late, T3: paid through 2020-01 only; 2020-02 and 2020-03 were paid 500 (200 + 300) each:
    // two recovery items of -500 (-200 / -300).
    // carer, T2: 2020-02 = better of end Feb (C) and end Jan (A) = A: as paid; 2020-03 = C 200
    // (100 + 100), paid 600 (100 + 500): -400 (0 / -400), a recovery item.
    let lines = [
        want(late, "longevity", "2020-02", 1, "recovery", "90-99", ["-500.00", "-200.00", "-300.00"], NoTransfer),
        want(late, "longevity", "2020-03", 1, "recovery", "90-99", ["-500.00", "-200.00", "-300.00"], NoTransfer),
        want(carer, "care", "2020-03", 1, "recovery", "C", ["-400.00", "0.00", "-400.00"], NoTransfer),
    ];
    expect_rows(s, &c1, &lines, vec![]).await?;
    let deceased = "DECEASED: died 2020-01-10, paid through 2020-01 only (T3)";
    let lower = "LOWER_TIER: 2020-03 now owed at tier C (200.00 yuan)";
    eq(
        recovery_reasons(s, &c1).await?,
        vec![
            (late.key("longevity", "2020-02", 1), deceased.into()),
            (late.key("longevity", "2020-03", 1), deceased.into()),
            (carer.key("care", "2020-03", 1), lower.into()),
        ],
        "recovery reasons",
    )?;
    // Nothing paid: no transfer, zero control sum; 500 + 500 + 400 = 1400 to recover.
    expect_batch(s, &c1, Computed, Some(reason), "0: 0.00 = 0.00 + 0.00; held 0.00; recovered 1400.00").await?;
    approve(s, &c1).await?;
    let files = export(s, &c1, out.path()).await?;
    let recoveries = vec![
        format!("{},{},longevity,2020-02,500.00,\"{deceased}\"", late.id, late.name),
        format!("{},{},longevity,2020-03,500.00,\"{deceased}\"", late.id, late.name),
        format!("{},{},care,2020-03,400.00,{lower}", carer.id, carer.name),
    ];
    expect_files(&files, &c1, &lines, vec![], recoveries)?;
    expect_order(&files, &c1, ("correction", 0, "0.00", "0.00", "0.00", "1400.00"))?;
    // late 500; steady 300; carer 600 + 600 + 200: 2200 (= 3 × 1200 - 1400).
    eq(format_fen(settled(s, &book, &[late, steady, carer], "2020-03").await?), "2200.00".into(), "net paid")
}

/// L2: offsets absorb the person's whole positive line of the batch: their lines carry no
/// transfer id, and no transfer row is written for them.
async fn offsets_consume_a_whole_payment<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (steady, carer) = (&c.steady, &c.carer);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[steady, carer]).await?;
    for m in ["2020-01", "2020-02"] {
        pay_month(s, &book, m, out.path()).await?;
    }
    // Before 2020-03 runs: carer's new certificate, hearing grade 1 (R4: tier C, 200), issued
    // 2020-01-05 (R5: it replaces the limb grade 1 one).
    load(s, &[("disability_certs.csv", &format!("{CERTS}{},hearing,1,false,2020-01-05,\n", carer.id))]).await?;
    let r3 = computed(regular(s, &book, "2020-03").await?, &batch_id("2020-03", "R1"))?.batch_id;
    // carer, T2: 2020-01 = better of end Jan (C) and end Dec (A) = A: as paid.
    // 2020-02 = C 200 (100 + 100), paid 600 (100 + 500): -400 (0 / -400).
    // 2020-03 = C 200, first payment: regular +200 (100 + 100).
    // L2: the -400 is offset against carer's positive care lines of the batch (200): an offset of
    // -200, all of it district (0 / -200: the district share goes first), and the 200 it cannot
    // absorb a recovery item (0 / -200), the key's next posting. carer's net in the batch is
    // 200 - 200 = 0: no transfer, and both lines have no transfer id.
    // steady: 100, transfer 1.
    use Pay::{None as NoTransfer, T};
    let lines = [
        want(steady, "longevity", "2020-03", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(1)),
        want(carer, "care", "2020-02", 1, "offset", "C", ["-200.00", "0.00", "-200.00"], NoTransfer),
        want(carer, "care", "2020-02", 2, "recovery", "C", ["-200.00", "0.00", "-200.00"], NoTransfer),
        want(carer, "care", "2020-03", 0, "regular", "C", ["200.00", "100.00", "100.00"], NoTransfer),
    ];
    expect_rows(s, &r3, &lines, vec![transfer(&r3, 1, steady, "longevity", "100.00")]).await?;
    eq(
        recovery_reasons(s, &r3).await?,
        vec![(carer.key("care", "2020-02", 2), "LOWER_TIER: 2020-02 now owed at tier C (200.00 yuan)".into())],
        "recovery reason",
    )?;
    // Paid lines: 100 - 200 + 200 = 100 = control sum; lottery 100 + 0 + 100 = 200, district
    // 0 - 200 + 100 = -100; 200 to recover.
    expect_batch(s, &r3, Computed, None, "1: 100.00 = 200.00 + -100.00; held 0.00; recovered 200.00").await?;
    approve(s, &r3).await?;
    let files = export(s, &r3, out.path()).await?;
    // lines.csv lists carer's offset and regular line with an empty transfer_id (sorted first).
    let recovery =
        format!("{},{},care,2020-02,200.00,LOWER_TIER: 2020-02 now owed at tier C (200.00 yuan)", carer.id, carer.name);
    expect_files(&files, &r3, &lines, vec![transfer_row(&r3, 1, steady, "longevity", "100.00")], vec![recovery])?;
    expect_order(&files, &r3, ("regular", 1, "100.00", "200.00", "-100.00", "200.00"))?;
    // steady 3 × 100; carer 600 + 200 + 200.
    eq(format_fen(settled(s, &book, &[steady, carer], "2020-03").await?), "1300.00".into(), "net paid")
}

/// L1: a waived recovery item still counts against the net paid (a waiver is a decision, not a
/// debt): nothing is paid again for it, and a rerun finds nothing to settle.
async fn waived_recovery_stays_in_net_paid<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady) = (&c.late, &c.steady);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady]).await?;
    for m in ["2020-01", "2020-02"] {
        pay_month(s, &book, m, out.path()).await?;
    }
    // late died 2020-01-20 (T3: paid through 2020-01): 2020-02's 500 is recovered.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-20")))]).await?;
    let c1 = batch_id("2020-02", "C1");
    computed(rerun(s, &book, "2020-02", "death reported late", false, at("2020-02-20")).await?, &c1)?;
    let key = late.key("longevity", "2020-02", 1);
    let masked = subsidy::idcard::mask_key(&key);
    eq(masked.contains(&late.id), false, "the masked key hides the ID number")?;

    // Not yet exported: nothing to decide.
    let early = commands::recovery(s, &masked, "waived", "too early", REVIEWER, false, clock()).await;
    check(
        early.as_ref().is_err_and(|e| e.to_string().contains("not exported")),
        format!("deciding a recovery of an unexported batch must fail, got {early:?}"),
    )?;
    approve(s, &c1).await?;
    export(s, &c1, out.path()).await?;

    // Waived with the key as `status --recoveries` prints it (masked).
    let why = "estate has no assets (street office 2020-03-02)";
    eq(commands::recovery(s, &masked, "waived", why, REVIEWER, false, clock()).await?, 0, "recovery --waived")?;
    let items: Vec<_> = s
        .recoveries(Some(DISTRICT))
        .await?
        .into_iter()
        .map(|r| (r.payment_key, r.batch_id, r.amount_fen, r.decision, r.decided_by, r.decision_reason))
        .collect();
    eq(
        items,
        vec![(key.clone(), c1.clone(), 50000, Some("waived".into()), Some(REVIEWER.into()), Some(why.into()))],
        "recoveries() after the waiver",
    )?;
    // A second decision is refused, whichever form of the key, and changes nothing.
    let audit = audit_len(s).await?;
    for k in [&key, &masked] {
        let again = commands::recovery(s, k, "collected", "collected after all", OPERATOR, false, clock()).await;
        check(
            again.as_ref().is_err_and(|e| e.to_string().contains("already waived")),
            format!("a second decision must be refused, got {again:?}"),
        )?;
    }
    eq(audit_len(s).await?, audit, "refused decisions write no audit entry")?;
    eq(
        s.recoveries(None).await?.into_iter().map(|r| r.decision).collect::<Vec<_>>(),
        vec![Some("waived".to_string())],
        "still waived",
    )?;

    // Net paid of late's 2020-02: 500 - 500 = 0 = owed (T3), waiver or not.
    let net: i64 = s
        .postings_of(&late.id, month("2020-02"))
        .await?
        .iter()
        .filter(|(p, state, _)| state.counts() && p.held_reason.is_none())
        .map(|(p, ..)| p.amount_fen)
        .sum();
    eq(net, 0, "late's net paid for 2020-02 after the waiver")?;

    // late's record is imported again (unchanged): the correction reads late, finds nothing to
    // settle and writes no batch.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-20")))]).await?;
    let before = (ledger_rows(s).await?, audit_len(s).await?);
    nothing(
        rerun(s, &book, "2020-02", "after the waiver", true, at("2020-03-03")).await?,
        "dry rerun after the waiver",
    )?;
    nothing(rerun(s, &book, "2020-02", "after the waiver", false, at("2020-03-03")).await?, "rerun after the waiver")?;
    eq((ledger_rows(s).await?, audit_len(s).await?), before, "rows after the rerun")?;
    // Nor does the next regular month settle it again: late gets no line in 2020-03.
    let r3 = pay_month(s, &book, "2020-03", out.path()).await?;
    let lines = [want(steady, "longevity", "2020-03", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], Pay::T(1))];
    expect_rows(s, &r3, &lines, vec![transfer(&r3, 1, steady, "longevity", "100.00")]).await?;
    // late 500 (2020-01); steady 3 × 100.
    eq(format_fen(settled(s, &book, &[late, steady], "2020-03").await?), "800.00".into(), "net paid")
}

/// `discard` drops an unexported batch (kept, never counted); the month is run again as R2 with
/// the keys' next adjustment numbers. `withdraw` takes an approval back. Both are refused on an
/// exported batch.
async fn discard_and_withdraw<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (steady, carer) = (&c.steady, &c.carer);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[steady, carer]).await?;
    pay_month(s, &book, "2020-01", out.path()).await?;
    let r1 = computed(regular(s, &book, "2020-02").await?, &batch_id("2020-02", "R1"))?.batch_id;
    // 2020-01 (700) and R1 (700) both count while R1 is computed (L1).
    eq(s.ledger_check().await?, (140000, 140000), "ledger before the discard")?;

    // R1 is approved, then discarded before export (an approved batch is not yet paid either).
    approve(s, &r1).await?;
    let reason = "run before the street's disputes were decided";
    eq(commands::discard(s, &r1, reason, OPERATOR, false, clock()).await?, 0, "discard R1")?;
    expect_batch(s, &r1, Discarded, Some(reason), "2: 700.00 = 200.00 + 500.00; held 0.00; recovered 0.00").await?;
    eq(s.batch_postings(&r1).await?.len(), 2, "the discarded batch's postings are kept")?;
    // Its postings stop counting: only 2020-01's 700 remains.
    eq(s.ledger_check().await?, (70000, 70000), "ledger after the discard")?;
    check(commands::discard(s, &r1, "again", OPERATOR, false, clock()).await.is_err(), "discarding twice must fail")?;
    check(commands::approve(s, &r1, REVIEWER, false, clock()).await.is_err(), "approving a discarded batch must fail")?;

    // The month runs again: R2, every key's next posting (L4: adjustment 1 after R1's 0), regular
    // (the first counted payment of the service month).
    let r2 = computed(regular(s, &book, "2020-02").await?, &batch_id("2020-02", "R2"))?.batch_id;
    use Pay::T;
    let lines = [
        want(steady, "longevity", "2020-02", 1, "regular", "80-89", ["100.00", "100.00", "0.00"], T(1)),
        want(carer, "care", "2020-02", 1, "regular", "A", ["600.00", "100.00", "500.00"], T(2)),
    ];
    let transfers = vec![transfer(&r2, 1, steady, "longevity", "100.00"), transfer(&r2, 2, carer, "care", "600.00")];
    expect_rows(s, &r2, &lines, transfers).await?;

    // Approved, then the approval withdrawn: computed again, no approver.
    let withdrawn = "account of 李四 to be checked";
    check(
        commands::withdraw(s, &r2, withdrawn, REVIEWER, false, clock()).await.is_err(),
        "withdrawing a computed batch",
    )?;
    approve(s, &r2).await?;
    eq(commands::withdraw(s, &r2, withdrawn, REVIEWER, false, clock()).await?, 0, "withdraw R2")?;
    let b = s.batch(&r2).await?.ok_or("R2 missing")?;
    eq((b.state, b.approved_by), (Computed, None), "R2 after the withdrawal")?;
    check(
        commands::export(s, &r2, &out.path().join("x"), EXPORTER, false, clock()).await.is_err(),
        "exporting after withdrawal",
    )?;
    approve(s, &r2).await?;
    export(s, &r2, out.path()).await?;

    // An exported batch can be neither discarded nor have its approval withdrawn.
    let discard = commands::discard(s, &r2, "too late", OPERATOR, false, clock()).await;
    check(
        discard.as_ref().is_err_and(|e| e.to_string().contains("exported") && e.to_string().contains("rerun")),
        format!("discarding an exported batch must fail and point to rerun, got {discard:?}"),
    )?;
    let withdraw = commands::withdraw(s, &r2, "too late", REVIEWER, false, clock()).await;
    check(withdraw.is_err(), format!("withdrawing an exported batch must fail, got {withdraw:?}"))?;
    eq(s.batch(&r2).await?.map(|b| b.state), Some(Exported), "R2 still exported")?;
    eq(s.batch(&r1).await?.map(|b| b.state), Some(Discarded), "R1 still discarded")?;
    // 2 × (100 + 600).
    eq(format_fen(settled(s, &book, &[steady, carer], "2020-02").await?), "1400.00".into(), "net paid")
}

/// Every state change by a command appends an entry chained to the one before; refused commands
/// and dry runs append nothing; `verify --audit` checks the chain.
async fn audit_log_chains_every_change<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady) = (&c.late, &c.steady);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady]).await?;
    let d = Some(DISTRICT);
    let (jan, jan_c1, feb, feb_r2) =
        (batch_id("2020-01", "R1"), batch_id("2020-01", "C1"), batch_id("2020-02", "R1"), batch_id("2020-02", "R2"));

    eq(commands::run(s, d, month("2020-01"), OPERATOR, false, false, clock()).await?, 0, "run 2020-01")?;
    check(commands::approve(s, &jan, OPERATOR, false, clock()).await.is_err(), "the runner cannot approve")?;
    eq(commands::approve(s, &jan, REVIEWER, false, clock()).await?, 0, "approve")?;
    eq(commands::export(s, &jan, &out.path().join("jan"), EXPORTER, false, clock()).await?, 0, "export")?;
    // late died 2019-12-20 (T3): 2020-01 is not owed; its 500 is recovered.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2019-12-20")))]).await?;
    let why = "death of 赵一 reported late";
    eq(commands::rerun(s, d, month("2020-01"), why, OPERATOR, true, false, clock()).await?, 0, "rerun --dry-run")?;
    eq(commands::rerun(s, d, month("2020-01"), why, OPERATOR, false, false, clock()).await?, 0, "rerun")?;
    eq(commands::approve(s, &jan_c1, REVIEWER, false, clock()).await?, 0, "approve C1")?;
    eq(commands::export(s, &jan_c1, &out.path().join("c1"), EXPORTER, false, clock()).await?, 0, "export C1")?;
    let key = late.key("longevity", "2020-01", 1);
    let waived = "estate has nothing to collect";
    eq(
        commands::recovery(s, &subsidy::idcard::mask_key(&key), "waived", waived, REVIEWER, false, clock()).await?,
        0,
        "recovery --waived",
    )?;
    eq(commands::run(s, d, month("2020-02"), OPERATOR, false, false, clock()).await?, 0, "run 2020-02")?;
    eq(commands::approve(s, &feb, REVIEWER, false, clock()).await?, 0, "approve 2020-02")?;
    let withdrawn = "wrong account for 钱二";
    eq(commands::withdraw(s, &feb, withdrawn, REVIEWER, false, clock()).await?, 0, "withdraw")?;
    let discarded = "recompute after the account fix";
    eq(commands::discard(s, &feb, discarded, OPERATOR, false, clock()).await?, 0, "discard")?;
    check(commands::discard(s, &feb, discarded, OPERATOR, false, clock()).await.is_err(), "discard twice")?;
    eq(commands::run(s, d, month("2020-02"), OPERATOR, false, false, clock()).await?, 0, "run 2020-02 again")?;

    let (rows, head) = s.audit_log().await?;
    let got: Vec<(i64, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (r.seq, r.entry.actor.as_str(), r.entry.command.as_str(), r.entry.target.as_str(), r.entry.reason.as_str())
        })
        .collect();
    // The refused approval, the dry run and the refused second discard wrote nothing; `export`
    // records `--by`; the recovery's target is its payment key with the ID number masked.
    let masked_key = subsidy::idcard::mask_key(&key);
    let want: Vec<(i64, &str, &str, &str, &str)> = vec![
        (1, OPERATOR, "run", &jan, ""),
        (2, REVIEWER, "approve", &jan, ""),
        (3, EXPORTER, "export", &jan, ""),
        (4, OPERATOR, "rerun", &jan_c1, why),
        (5, REVIEWER, "approve", &jan_c1, ""),
        (6, EXPORTER, "export", &jan_c1, ""),
        (7, REVIEWER, "recovery", &masked_key, waived),
        (8, OPERATOR, "run", &feb, ""),
        (9, REVIEWER, "approve", &feb, ""),
        (10, REVIEWER, "withdraw", &feb, withdrawn),
        (11, OPERATOR, "discard", &feb, discarded),
        (12, OPERATOR, "run", &feb_r2, ""),
    ];
    eq(got, want, "audit entries (seq, actor, command, target, reason)")?;
    // Each entry's fingerprint and details: the registry the batch read, the outcome.
    let details = |i: usize| -> Result<serde_json::Value, Failed> { Ok(serde_json::from_str(&rows[i].entry.details)?) };
    let jan_fp = s.batch(&jan).await?.ok_or("batch missing")?.registry_fingerprint;
    eq(rows[0].entry.input_fingerprint.as_str(), jan_fp.as_str(), "run: fingerprint of the registry read")?;
    eq(details(0)?["service_month"].as_str(), Some("2020-01"), "run: service month")?;
    // 2020-01: late 500 + steady 100.
    eq(details(0)?["control_sum"].as_str(), Some("600.00"), "run: control sum")?;
    eq(details(3)?["recoveries"].as_str(), Some("500.00"), "rerun: recoveries")?;
    eq(
        (details(6)?["decision"].as_str(), details(6)?["amount"].as_str()),
        (Some("waived"), Some("500.00")),
        "recovery",
    )?;
    eq(details(10)?["state_before"].as_str(), Some("computed"), "discard: state before")?;
    // The chain: each entry names the hash of the one before; the head is the last entry.
    eq(rows[0].prev_hash.as_str(), subsidy::audit::GENESIS, "first entry follows the genesis hash")?;
    for w in rows.windows(2) {
        eq(w[1].prev_hash.as_str(), w[0].hash.as_str(), &format!("entry {} follows entry {}", w[1].seq, w[0].seq))?;
    }
    eq(head.clone(), Some((12, rows[11].hash.clone())), "audit head")?;
    eq(commands::verify_audit(s, false).await?, 0, "verify --audit on the untouched log")?;
    eq(subsidy::audit::verify_chain(&rows, head.clone()), Vec::<String>::new(), "verify_chain")?;

    // A changed entry is detected (in memory: the database refuses the edit itself, see
    // `audit_log_refuses_update_and_delete`): exactly that entry is named.
    let mut changed = rows.clone();
    changed[6].entry.reason = "collected in full".into();
    eq(
        subsidy::audit::verify_chain(&changed, head.clone()),
        vec![format!("entry 7 (recovery by {REVIEWER}): its content was changed after it was written")],
        "a changed reason",
    )?;
    let mut changed = rows.clone();
    changed[0].entry.actor = "mallory".into();
    changed[0].hash = subsidy::audit::entry_hash(1, &changed[0].at, &changed[0].entry, subsidy::audit::GENESIS);
    eq(
        subsidy::audit::verify_chain(&changed, head.clone()),
        vec!["entry 2: does not follow the entry before it (a missing or changed entry)".to_string()],
        "a changed entry with its hash recomputed breaks the link to the next",
    )?;
    let mut removed = rows.clone();
    removed.pop();
    eq(
        subsidy::audit::verify_chain(&removed, head),
        vec!["the log should end at entry 12, but ends at entry 11".to_string()],
        "a removed last entry",
    )?;
    // 2020-01: steady 100 (late's 500 recovered); 2020-02 R2: steady 100.
    eq(format_fen(settled(s, &book, &[late, steady], "2020-02").await?), "200.00".into(), "net paid")
}

static AUDIT_DB: AtomicU32 = AtomicU32::new(0);

/// The databases refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of the audit log, whoever
/// asks. The stores keep their pools to themselves, so this case makes a database of the same
/// kind whose URL it knows (a SQLite file; a PostgreSQL database on the test server), writes
/// entries through the store, and edits through a connection of its own.
async fn audit_log_refuses_update_and_delete<S: Store + LedgerStore>(_: &S) -> Result<(), Failed> {
    let postgres = std::any::type_name::<S>().contains("PgStore");
    let dir = tempfile::tempdir()?;
    let (url, admin) = if postgres {
        let admin = pg_admin_url().ok_or("SUBSIDY_TEST_PG_URL not set")?;
        let name = format!("subsidy_t_{}_audit_{}", std::process::id(), AUDIT_DB.fetch_add(1, Ordering::SeqCst));
        let pool = sqlx::PgPool::connect(&admin).await?;
        sqlx::query(&format!("drop database if exists {name}")).execute(&pool).await?;
        sqlx::query(&format!("create database {name}")).execute(&pool).await?;
        (with_database(&admin, &name), Some((pool, name)))
    } else {
        (format!("sqlite://{}", dir.path().join("audit.db").display()), None)
    };
    let result = refuse_edits(&url, postgres).await;
    if let Some((pool, name)) = admin {
        sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&pool).await?;
    }
    result
}

async fn refuse_edits(url: &str, postgres: bool) -> Result<(), Failed> {
    let any = subsidy::store::open_or_create(url).await?.0;
    let result = subsidy::with_store!(&any, |store| refuse_edits_on(store, url, postgres).await);
    match any {
        subsidy::store::AnyStore::Sqlite(s) => s.close().await,
        subsidy::store::AnyStore::Postgres(s) => s.close().await,
    }
    result
}

async fn refuse_edits_on<S: Store + LedgerStore>(s: &S, url: &str, postgres: bool) -> Result<(), Failed> {
    s.migrate().await?;
    for (n, command) in [(1, "init"), (2, "run")] {
        let entry = subsidy::audit::AuditEntry {
            actor: OPERATOR.into(),
            command: command.into(),
            target: format!("target-{n}"),
            reason: String::new(),
            input_fingerprint: "f".into(),
            details: "{}".into(),
        };
        s.append_audit(&entry, at("2020-01-01")).await?;
    }
    let before = s.audit_log().await?;
    let mut edits = vec![
        "update audit_log set actor = 'mallory' where seq = 1",
        "update audit_log set reason = 'x'",
        "delete from audit_log where seq = 2",
        "delete from audit_log",
    ];
    if postgres {
        edits.push("truncate audit_log");
    }
    let mut refused = Vec::new();
    if postgres {
        let pool = sqlx::PgPool::connect(url).await?;
        for sql in &edits {
            refused.push((sql.to_string(), sqlx::query(sql).execute(&pool).await.map(|r| r.rows_affected())));
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await?;
        for sql in &edits {
            refused.push((sql.to_string(), sqlx::query(sql).execute(&pool).await.map(|r| r.rows_affected())));
        }
        pool.close().await;
    }
    for (sql, outcome) in refused {
        check(
            outcome.as_ref().is_err_and(|e| e.to_string().contains("audit_log is append-only")),
            format!("`{sql}` must be refused with `audit_log is append-only`, got {outcome:?}"),
        )?;
    }
    eq(before.0.len(), 2, "entries")?;
    eq(s.audit_log().await?, before, "the log after the refused edits")?;
    eq(commands::verify_audit(s, false).await?, 0, "verify --audit after the refused edits")
}

/// `rerun --month 2020-02` and then `rerun --month 2020-03` after a death reported late: each
/// settles every difference through its month (L2). The second must not skip the changed person
/// because the first (a batch for an earlier month) already read them. (Regression: `read_mode`
/// once took the watermark of the district's latest batch whatever its month.)
async fn rerun_earlier_month_then_later_month_settles_both<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady) = (&c.late, &c.steady);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady]).await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        pay_month(s, &book, m, out.path()).await?;
    }
    // late died 2020-01-10 (T3: paid through 2020-01): 2020-02 and 2020-03 (500 each) not owed.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-10")))]).await?;
    use Pay::None as NoTransfer;
    let feb = batch_id("2020-02", "C1");
    let sum = computed(rerun(s, &book, "2020-02", "death reported late", false, at("2020-03-21")).await?, &feb)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 1), "2020-02-C1 reads late only")?;
    let lines =
        [want(late, "longevity", "2020-02", 1, "recovery", "90-99", ["-500.00", "-200.00", "-300.00"], NoTransfer)];
    expect_rows(s, &feb, &lines, vec![]).await?;
    approve(s, &feb).await?;
    export(s, &feb, out.path()).await?;
    // Through 2020-03 late's 2020-03 still differs (paid 500, owed 0): a correction of 2020-03 must
    // settle it. 2020-02-C1 read late but settled only through 2020-02, so it vouches for nobody
    // in 2020-03: the persons to read are those changed since 2020-03-R1, the latest batch that
    // settled through 2020-03 (late, one person).
    let mar = batch_id("2020-03", "C1");
    let sum = computed(rerun(s, &book, "2020-03", "death reported late", false, at("2020-03-22")).await?, &mar)?;
    eq((sum.read_changed_only, sum.persons_read), (true, 1), "2020-03-C1 reads late only")?;
    let lines =
        [want(late, "longevity", "2020-03", 1, "recovery", "90-99", ["-500.00", "-200.00", "-300.00"], NoTransfer)];
    expect_rows(s, &mar, &lines, vec![]).await?;
    approve(s, &mar).await?;
    export(s, &mar, out.path()).await?;
    // late 500; steady 3 × 100.
    eq(format_fen(settled(s, &book, &[late, steady], "2020-03").await?), "800.00".into(), "net paid")
}

/// `rerun --month M --dry-run` lists, per person and allowance, the net paid and the owed amount
/// through M (BatchSummary::Difference), so that net paid − owed = the difference it shows.
async fn rerun_dry_run_lists_net_paid_through_the_month<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let (late, steady) = (&c.late, &c.steady);
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late, steady]).await?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        pay_month(s, &book, m, out.path()).await?;
    }
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-10")))]).await?;
    // Through 2020-02: paid 500 + 500 = 1000, owed 500 (T3: through 2020-01), difference -500.
    // (2020-03's 500 is after the month and not settled by this batch.)
    let dry = computed(rerun(s, &book, "2020-02", "death", true, at("2020-03-21")).await?, &batch_id("2020-02", "C1"))?;
    eq(
        differences(&dry),
        vec![difference(late, Allowance::Longevity, "1000.00", "500.00", "-500.00")],
        "dry run through 2020-02: (person, name, allowance, net paid, owed now, difference)",
    )
}

/// A rerun replacing the month's unexported batch when nothing at all is owed for the month any
/// more (INTERFACE.md: the rerun replaces M's unexported batch, the old one kept as superseded).
/// The old batch must stop counting (L1), or the rerun must be refused, saying to discard it;
/// it must not stay computed, still paying what is no longer owed, behind "nothing to settle".
async fn rerun_replacing_a_batch_with_nothing_left_to_pay<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let late = &c.late;
    let book = setup(s).await?;
    let out = tempfile::tempdir()?;
    load_cast(s, &c, &[late]).await?;
    pay_month(s, &book, "2020-01", out.path()).await?;
    let r1 = computed(regular(s, &book, "2020-02").await?, &batch_id("2020-02", "R1"))?.batch_id;
    // late died 2020-01-15 (T3): 2020-02 is not owed, yet R1 pays it 500.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", late.row("2020-01-15")))]).await?;
    let outcome = rerun(s, &book, "2020-02", "death reported before approval", false, at("2020-01-27")).await?;
    let state = s.batch(&r1).await?.map(|b| b.state);
    match (&outcome, state) {
        (_, Some(st)) if !st.counts() => {}
        (RunOutcome::Refused(_), _) => {
            eq(commands::discard(s, &r1, "as the refusal says", OPERATOR, false, clock()).await?, 0, "discard R1")?
        }
        _ => {
            return Err(format!(
                "after the rerun R1 is {state:?} (outcome {outcome:?}): it still counts, paying late's 2020-02 \
                 (500), which is no longer owed"
            )
            .into())
        }
    }
    // late: 2020-01 only.
    eq(format_fen(settled(s, &book, &[late], "2020-02").await?), "500.00".into(), "net paid")
}
