//! A hand-checked scenario of four monthly batches (service months 2020-01 … 2020-04) for
//! Xicheng (110102), run, approved and exported as the district's operators would, with
//! corrections imported between months. Six elders, each chosen for one rule; ID numbers sort by
//! birth date, so persons are settled (and transfers numbered) in the order of this table:
//!
//! | elder      | born       | allowance | what happens                                         | rules          |
//! |------------|------------|-----------|------------------------------------------------------|----------------|
//! | `late`     | 1928-06-01 | longevity | 90-99; died 2020-02-10, reported before 2020-04      | T3, L2         |
//! | `ninety`   | 1930-02-14 | longevity | turns 90 in 2020-02                                  | R2, R3, F2     |
//! | `dies`     | 1935-04-01 | longevity | died 2020-02-10, reported before 2020-02             | T3             |
//! | `held`     | 1936-07-07 | longevity | no account number until before 2020-03               | L3, L4         |
//! | `backpay`  | 1939-12-15 | longevity | 80 in 2019-12, applies in 2020-03                    | T5, T7         |
//! | `regraded` | 1950-05-20 | care      | limb grade 1 (A); grade 2 (B) issued 2020-02-15,     | R4, R5, T2, L2 |
//! |            |            |           | known before 2020-04                                 |                |
//!
//! The run's own date plays no part in what is owed: the engine reads the registry as imported.
//! Rates and quotas are those of the default policy (fixtures/policy/beijing-2019.toml):
//! longevity 80-89 100 (quota 100), 90-99 500 (quota 200); care A 600, B 400 (quota 100 each);
//! F2: lottery = min(quota, amount), district the rest.
//!
//! Case `batch_four_months_hand_checked` runs the scenario and checks every posting, transfer and
//! exported file. Case `batch_files_identical_to_a_sqlite_run` runs the same scenario on the
//! case's database and on a fresh SQLite file and compares the exported files byte for byte (on
//! PostgreSQL: the same files from both databases, as INTERFACE.md requires).

use crate::scenario::{
    clock, csv, ledger_rows, load, month, regular, rows_streamed_as_stored, transfer, transfer_id, transfer_row,
    transfer_text, Elder, APPLICATIONS, CERTS, DISTRICT, ELDERS, HELD_HEADER, LINES_HEADER, OPERATOR,
    RECOVERIES_HEADER, REVIEWER, TRANSFERS_HEADER,
};
use crate::support::{check, eq};
use libtest_mimic::Failed;
use std::collections::BTreeMap;
use std::path::Path;
use subsidy::adapters::platform;
use subsidy::batch::RunOutcome;
use subsidy::eligibility::owed_between;
use subsidy::ledger::BatchKind;
use subsidy::ledger::BatchState;
use subsidy::money::{format_fen, to_fen};
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, PostingRow, SqliteStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![batch_four_months_hand_checked, batch_files_identical_to_a_sqlite_run]
}

/// Exported files of every batch: file name → bytes.
type Files = BTreeMap<String, Vec<u8>>;

struct Cast {
    late: Elder,
    ninety: Elder,
    dies: Elder,
    held: Elder,
    backpay: Elder,
    regraded: Elder,
}

impl Cast {
    fn new() -> Cast {
        Cast {
            late: Elder::new("赵一", "1928-06-01", 101, "110102003", "shebao", "6217000000000000011"),
            ninety: Elder::new("钱二", "1930-02-14", 202, "110102007", "yanglao_zhucan", "6217000000000000022"),
            dies: Elder::new("孙三", "1935-04-01", 303, "110102009", "minzheng", "6217000000000000033"),
            held: Elder::new("李四", "1936-07-07", 404, "110102010", "yanglao_zhucan", "6217000000000000044"),
            backpay: Elder::new("周五", "1939-12-15", 505, "110102011", "shebao", "6217000000000000055"),
            regraded: Elder::new("吴六", "1950-05-20", 606, "110102012", "canji", "6217000000000000066"),
        }
    }

    fn all(&self) -> [&Elder; 6] {
        [&self.late, &self.ninety, &self.dies, &self.held, &self.backpay, &self.regraded]
    }
}

/// How an expected line is paid.
#[derive(Clone, Copy)]
enum Pay {
    /// On the batch's transfer with this sequence number.
    Transfer(u32),
    /// Held (L3) with this reason code.
    Held(&'static str),
    /// A recovery item: on no transfer.
    Recovery,
}

/// One expected posting of a batch: amounts are yuan as the files print them.
struct Line<'a> {
    who: &'a Elder,
    allowance: &'static str,
    month: &'static str,
    adjustment: u32,
    line_type: &'static str,
    tier: &'static str,
    /// amount, lottery share, district share (F2)
    yuan: [&'static str; 3],
    pay: Pay,
}

#[allow(clippy::too_many_arguments)]
fn line<'a>(
    who: &'a Elder,
    allowance: &'static str,
    month: &'static str,
    adjustment: u32,
    line_type: &'static str,
    tier: &'static str,
    yuan: [&'static str; 3],
    pay: Pay,
) -> Line<'a> {
    Line { who, allowance, month, adjustment, line_type, tier, yuan, pay }
}

impl Line<'_> {
    fn key(&self) -> String {
        self.who.key(self.allowance, self.month, self.adjustment)
    }

    /// As [`posting_text`] renders a stored posting.
    fn text(&self, batch: &str) -> String {
        let [amount, lottery, district] = self.yuan;
        let pay = match self.pay {
            Pay::Transfer(n) => format!("-> {}", transfer_id(batch, n)),
            Pay::Held(reason) => format!("held {reason}"),
            Pay::Recovery => "no transfer".to_string(),
        };
        format!("{} {} {} {amount} = {lottery} + {district} {pay}", self.key(), self.line_type, self.tier)
    }
}

/// One expected transfer: sequence number, elder, allowance, amount.
struct Transfer<'a>(u32, &'a Elder, &'static str, &'static str);

impl Transfer<'_> {
    fn text(&self, batch: &str) -> String {
        let Transfer(n, who, allowance, amount) = self;
        transfer(batch, *n, who, allowance, amount)
    }
}

/// Like [`crate::scenario::posting_text`] without the district code (every posting here is Xicheng's).
fn posting_text(p: &PostingRow) -> String {
    let pay = match (&p.transfer_id, &p.held_reason) {
        (Some(t), _) => format!("-> {t}"),
        (None, Some(h)) => format!("held {h}"),
        (None, None) => "no transfer".to_string(),
    };
    format!(
        "{} {} {} {} = {} + {} {pay}",
        p.payment_key,
        p.line_type,
        p.tier,
        format_fen(p.amount_fen),
        format_fen(p.lottery_fen),
        format_fen(p.district_fen)
    )
}

/// What one batch must hold, and what its files must say.
struct Expect<'a> {
    month: &'static str,
    lines: Vec<Line<'a>>,
    transfers: Vec<Transfer<'a>>,
    /// recoveries.csv rows, written out by hand (the reason is quoted: it holds a comma).
    recoveries: Vec<String>,
    /// transfer count, control sum, lottery, district (paid lines), held, recoveries (positive).
    totals: (i64, &'static str, &'static str, &'static str, &'static str, &'static str),
}

async fn run_computed<S: Store + LedgerStore>(s: &S, book: &PolicyBook, m: &str) -> Result<String, Failed> {
    match regular(s, book, m).await? {
        RunOutcome::Computed(sum) => {
            eq(sum.batch_id.as_str(), format!("{DISTRICT}-{m}-R1").as_str(), "batch id")?;
            Ok(sum.batch_id)
        }
        other => Err(format!("run {m}: expected a computed batch, got {other:?}").into()),
    }
}

/// Four eyes: the runner is refused by the command and by the database, the reviewer approves.
async fn approve<S: Store + LedgerStore>(s: &S, batch: &str) -> Result<(), Failed> {
    let by_runner = subsidy::cli::commands::approve(s, batch, OPERATOR, false, clock()).await;
    check(by_runner.is_err(), format!("{batch}: `approve --by {OPERATOR}` (the runner) must fail, got {by_runner:?}"))?;
    // The database refuses too (check approved_by <> run_by): an error or no row changed.
    let db = s.approve_batch(batch, OPERATOR, clock().now()).await;
    check(!matches!(db, Ok(true)), format!("{batch}: the database approved the runner's own batch"))?;
    let b = s.batch(batch).await?.ok_or("batch missing")?;
    eq((b.state, b.approved_by), (BatchState::Computed, None), &format!("{batch} after the runner tried to approve"))?;
    eq(s.approve_batch(batch, REVIEWER, clock().now()).await?, true, &format!("{batch} approved by {REVIEWER}"))?;
    let b = s.batch(batch).await?.ok_or("batch missing")?;
    eq((b.state, b.approved_by.as_deref()), (BatchState::Approved, Some(REVIEWER)), "approved")
}

/// Export into `out/<batch>`, export again into `out/<batch>-again`: both byte-identical, and
/// both match what `verify` renders from the database. Returns the first export's files.
async fn export<S: LedgerStore>(s: &S, batch: &str, out: &Path) -> Result<Files, Failed> {
    let first = out.join(batch);
    let again = out.join(format!("{batch}-again"));
    let written = subsidy::ops::export::write_export_by(s, batch, &first, OPERATOR, clock()).await?;
    subsidy::ops::export::write_export_by(s, batch, &again, OPERATOR, clock()).await?;
    let names: Vec<String> = written.iter().map(|f| f.name.clone()).collect();
    let want: Vec<String> = ["transfers.csv", "lines.csv", "held.csv", "recoveries.csv", "order.json", "manifest.json"]
        .iter()
        .map(|f| format!("{batch}-{f}"))
        .collect();
    eq(names, want, "the six platform files")?;
    let b = s.batch(batch).await?.ok_or("batch missing")?;
    eq(b.state, BatchState::Exported, &format!("{batch} state after export"))?;
    rows_streamed_as_stored(s, batch).await?;
    let (transfers, postings) = (s.batch_transfers(batch).await?, s.batch_postings(batch).await?);
    let rendered = platform::render(&b, &transfers, &postings);
    let mut files = Files::new();
    for (f, r) in written.iter().zip(&rendered) {
        let a = std::fs::read(first.join(&f.name))?;
        let b = std::fs::read(again.join(&f.name))?;
        same_bytes(&f.name, &a, &b, "first export", "second export")?;
        same_bytes(&f.name, &a, &r.bytes, "file on disk", "rendered in memory")?;
        eq((f.bytes, f.sha256.as_str()), (a.len() as u64, subsidy::digest::sha256_hex(&a).as_str()), &f.name)?;
        files.insert(f.name.clone(), a);
    }
    for dir in [&first, &again] {
        eq(platform::compare(&rendered, dir, &b, &transfers, &postings), vec![], &format!("verify {}", dir.display()))?;
    }
    Ok(files)
}

/// Fail unless two files are byte-identical, showing the first line that differs.
fn same_bytes(name: &str, a: &[u8], b: &[u8], a_is: &str, b_is: &str) -> Result<(), Failed> {
    if a == b {
        return Ok(());
    }
    let (ta, tb) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    let i = la.iter().zip(&lb).position(|(x, y)| x != y).unwrap_or(la.len().min(lb.len()));
    Err(format!(
        "{name}: {a_is} ({} bytes) and {b_is} ({} bytes) differ at line {}:\n  {a_is}: {:?}\n  {b_is}: {:?}",
        a.len(),
        b.len(),
        i + 1,
        la.get(i),
        lb.get(i)
    )
    .into())
}

/// Check a batch's stored rows, totals and exported files against the hand-derived expectation.
async fn expect_batch<S: LedgerStore>(s: &S, batch: &str, files: &Files, e: &Expect<'_>) -> Result<(), Failed> {
    let postings: Vec<String> = s.batch_postings(batch).await?.iter().map(posting_text).collect();
    let want: Vec<String> = e.lines.iter().map(|l| l.text(batch)).collect();
    eq(postings, want, &format!("{batch}: postings (key type tier amount = lottery + district, paid)"))?;
    let transfers: Vec<String> = s.batch_transfers(batch).await?.iter().map(transfer_text).collect();
    let want: Vec<String> = e.transfers.iter().map(|t| t.text(batch)).collect();
    eq(transfers, want, &format!("{batch}: transfers (id person account allowance amount)"))?;

    let b = s.batch(batch).await?.ok_or("batch missing")?;
    eq(b.service_month.to_string().as_str(), e.month, "service month")?;
    eq((b.kind, b.run_by.as_str()), (BatchKind::Regular, OPERATOR), "kind and runner")?;
    let (count, control, lottery, district, held, recovery) = e.totals;
    eq(
        (
            b.transfer_count,
            format_fen(b.control_sum_fen),
            format_fen(b.lottery_fen),
            format_fen(b.district_fen),
            format_fen(b.held_fen),
            format_fen(b.recovery_fen),
        ),
        (count, control.into(), lottery.into(), district.into(), held.into(), recovery.into()),
        &format!("{batch}: totals (transfers, control sum, lottery, district, held, recoveries)"),
    )?;

    let file = |suffix: &str| -> Result<String, Failed> {
        let name = format!("{batch}-{suffix}");
        let bytes = files.get(&name).ok_or_else(|| format!("{name} not exported"))?;
        Ok(String::from_utf8(bytes.clone())?)
    };
    let transfers_csv = e
        .transfers
        .iter()
        .map(|Transfer(n, who, allowance, amount)| transfer_row(batch, *n, who, allowance, amount))
        .collect();
    eq(file("transfers.csv")?, csv(TRANSFERS_HEADER, transfers_csv), &format!("{batch}-transfers.csv"))?;
    // Paid lines only; here payment-key order is also transfer order, the file's sort order.
    let lines_csv = e
        .lines
        .iter()
        .filter_map(|l| match l.pay {
            Pay::Transfer(n) => Some(format!(
                "{},{},{},{},{},{},{},{},{},{},{}",
                transfer_id(batch, n),
                l.key(),
                l.who.id,
                l.allowance,
                l.tier,
                l.month,
                l.line_type,
                l.yuan[0],
                l.yuan[1],
                l.yuan[2],
                l.who.street
            )),
            _ => None,
        })
        .collect();
    eq(file("lines.csv")?, csv(LINES_HEADER, lines_csv), &format!("{batch}-lines.csv"))?;
    let held_csv = e
        .lines
        .iter()
        .filter_map(|l| match l.pay {
            Pay::Held(reason) => {
                Some(format!("{},{},{},{},{},{reason}", l.who.id, l.who.name, l.allowance, l.month, l.yuan[0]))
            }
            _ => None,
        })
        .collect();
    eq(file("held.csv")?, csv(HELD_HEADER, held_csv), &format!("{batch}-held.csv"))?;
    eq(file("recoveries.csv")?, csv(RECOVERIES_HEADER, e.recoveries.clone()), &format!("{batch}-recoveries.csv"))?;

    // The payment order carries the same totals.
    let order: serde_json::Value = serde_json::from_str(&file("order.json")?)?;
    eq(
        (
            order["batch_id"].as_str(),
            order["service_month"].as_str(),
            order["batch_kind"].as_str(),
            order["transfer_count"].as_i64(),
            order["control_sum"].as_str(),
            order["totals_by_fund"]["lottery"].as_str(),
            order["totals_by_fund"]["district"].as_str(),
            order["held_total"].as_str(),
            order["recovery_total"].as_str(),
            order["approved_by"].as_str(),
        ),
        (
            Some(batch),
            Some(e.month),
            Some("regular"),
            Some(count),
            Some(control),
            Some(lottery),
            Some(district),
            Some(held),
            Some(recovery),
            Some(REVIEWER),
        ),
        &format!("{batch}-order.json"),
    )
}

/// The scenario, asserting as it goes; returns every exported file.
async fn scenario<S: Store + LedgerStore>(s: &S) -> Result<Files, Failed> {
    let c = Cast::new();
    let (late, ninety, dies, held, backpay, regraded) = (&c.late, &c.ninety, &c.dies, &c.held, &c.backpay, &c.regraded);
    let out = tempfile::tempdir()?;
    let mut files = Files::new();
    s.set_start_month(month("2020-01")).await?; // T7: the engine pays from 2020-01
    s.add_policy(&Policy::parse(DEFAULT_POLICY)?, "fixtures/policy/beijing-2019.toml", clock().now()).await?;
    let book = PolicyBook::new(s.policy_versions().await?)?;
    use Pay::{Held, Recovery, Transfer as T};
    const NO_ACCOUNT: Pay = Held("NO_ACCOUNT");

    // The registry as known before 2020-01 runs. Everyone but `backpay` applied in 2019-10 (T5:
    // eligible then, so payment starts at the spell's first month, cut at 2019-10; T7: the engine
    // pays from 2020-01). `held` has no account number yet. `backpay` is known, without an
    // application. `regraded` holds a limb grade 1 certificate (R4: tier A).
    let rows: String =
        c.all().iter().map(|e| if e.id == held.id { e.row_with_account("", "") } else { e.row("") }).collect();
    let elders = format!("{ELDERS}{rows}");
    let applications = [late, ninety, dies, held]
        .iter()
        .map(|e| format!("{},longevity,2019-10-08,approved,2019-10-20\n", e.id))
        .chain([format!("{},care,2019-10-08,approved,2019-10-20\n", regraded.id)])
        .fold(APPLICATIONS.to_string(), |acc, row| acc + &row);
    let certs = format!("{CERTS}{},limb,1,false,2018-05-01,\n", regraded.id);
    load(s, &[("elders.csv", &elders), ("applications.csv", &applications), ("disability_certs.csv", &certs)]).await?;

    // ---------------------------------------------------------------- 2020-01
    let b1 = run_computed(s, &book, "2020-01").await?;
    approve(s, &b1).await?;
    let exported = export(s, &b1, out.path()).await?;
    expect_batch(
        s,
        &b1,
        &exported,
        &Expect {
            month: "2020-01",
            lines: vec![
                // late, 91 (90 in 2018-06): R2 90-99 = 500; F2 lottery min(200, 500) = 200, district 300.
                line(late, "longevity", "2020-01", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(1)),
                // ninety, 89 until 2020-02 (R3: the band opens in the birthday's month): 80-89 = 100,
                // lottery min(100, 100) = 100, district 0.
                line(ninety, "longevity", "2020-01", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(2)),
                // dies, 84: 80-89 = 100.
                line(dies, "longevity", "2020-01", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(3)),
                // held, 83: 100 owed, but no account number: held (L3), no transfer.
                line(held, "longevity", "2020-01", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], NO_ACCOUNT),
                // backpay: no application yet, nothing owed (T5). regraded, 69: care A (limb grade 1)
                // = 600, lottery min(100, 600) = 100, district 500.
                line(regraded, "care", "2020-01", 0, "regular", "A", ["600.00", "100.00", "500.00"], T(4)),
            ],
            transfers: vec![
                Transfer(1, late, "longevity", "500.00"),
                Transfer(2, ninety, "longevity", "100.00"),
                Transfer(3, dies, "longevity", "100.00"),
                Transfer(4, regraded, "care", "600.00"),
            ],
            recoveries: vec![],
            // 500 + 100 + 100 + 600 = 1300 = lottery (200 + 100 + 100 + 100) + district (300 + 500); held 100.
            totals: (4, "1300.00", "500.00", "800.00", "100.00", "0.00"),
        },
    )
    .await?;
    files.extend(exported);

    // Repeating the run of an exported month changes nothing and returns that batch.
    let before = ledger_rows(s).await?;
    match regular(s, &book, "2020-01").await? {
        RunOutcome::Existing(b) => eq((b.batch_id.as_str(), b.state), (b1.as_str(), BatchState::Exported), "rerun")?,
        other => return Err(format!("running 2020-01 again: expected Existing, got {other:?}").into()),
    }
    eq(ledger_rows(s).await?, before, "rows (batches, postings, transfers) after running 2020-01 again")?;

    // ---------------------------------------------------------------- 2020-02
    // Reported before the 2020-02 run: `dies` died on 2020-02-10.
    load(s, &[("elders.csv", &format!("{ELDERS}{}", dies.row("2020-02-10")))]).await?;
    let b2 = run_computed(s, &book, "2020-02").await?;
    // 2020-02 is computed, neither approved nor exported: no later month may run.
    let before = ledger_rows(s).await?;
    for state in ["computed", "approved"] {
        match regular(s, &book, "2020-03").await? {
            RunOutcome::Refused(why) => check(why.contains(&b2), format!("refusal names {b2}: {why}"))?,
            other => {
                return Err(format!("running 2020-03 while {b2} is {state}: expected Refused, got {other:?}").into())
            }
        }
        eq(ledger_rows(s).await?, before, &format!("rows after the refused run ({b2} {state})"))?;
        if state == "computed" {
            approve(s, &b2).await?;
        }
    }
    let exported = export(s, &b2, out.path()).await?;
    expect_batch(
        s,
        &b2,
        &exported,
        &Expect {
            month: "2020-02",
            lines: vec![
                line(late, "longevity", "2020-02", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(1)),
                // ninety turns 90 on 2020-02-14: R3 90-99 from 2020-02 = 500; F2 lottery min(200, 500)
                // = 200, district 300.
                line(ninety, "longevity", "2020-02", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(2)),
                // dies: alive on 2020-02-01 (T3: paid through the month of death) = 100.
                line(dies, "longevity", "2020-02", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(3)),
                // held: 2020-01 still unpaid (held lines never count, L1) → arrears, the key's
                // second posting (L4: adjustment 1); 2020-02 regular; both held again (L3).
                line(held, "longevity", "2020-01", 1, "arrears", "80-89", ["100.00", "100.00", "0.00"], NO_ACCOUNT),
                line(held, "longevity", "2020-02", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], NO_ACCOUNT),
                // regraded: A = 600.
                line(regraded, "care", "2020-02", 0, "regular", "A", ["600.00", "100.00", "500.00"], T(4)),
            ],
            transfers: vec![
                Transfer(1, late, "longevity", "500.00"),
                Transfer(2, ninety, "longevity", "500.00"),
                Transfer(3, dies, "longevity", "100.00"),
                Transfer(4, regraded, "care", "600.00"),
            ],
            recoveries: vec![],
            // 500 + 500 + 100 + 600 = 1700 = lottery (200 + 200 + 100 + 100) + district (300 + 300 + 500).
            totals: (4, "1700.00", "600.00", "1100.00", "200.00", "0.00"),
        },
    )
    .await?;
    files.extend(exported);

    // ---------------------------------------------------------------- 2020-03
    // Before the 2020-03 run: `backpay` applied on 2020-03-02 (approved), `held` gave an account.
    load(
        s,
        &[
            ("applications.csv", &format!("{APPLICATIONS}{},longevity,2020-03-02,approved,2020-03-09\n", backpay.id)),
            ("elders.csv", &format!("{ELDERS}{}", held.row(""))),
        ],
    )
    .await?;
    let b3 = run_computed(s, &book, "2020-03").await?;
    approve(s, &b3).await?;
    let exported = export(s, &b3, out.path()).await?;
    expect_batch(
        s,
        &b3,
        &exported,
        &Expect {
            month: "2020-03",
            lines: vec![
                line(late, "longevity", "2020-03", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(1)),
                line(ninety, "longevity", "2020-03", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(2)),
                // dies: died in 2020-02, not alive on 2020-03-01 (T3): nothing, and nothing to settle.
                // held: account recorded → 2020-01 and 2020-02 paid as arrears (L3), with the next
                // adjustment numbers of their keys (L4: 2020-01 posted twice, 2020-02 once), and
                // 2020-03 regular: one transfer of 300.
                line(held, "longevity", "2020-01", 2, "arrears", "80-89", ["100.00", "100.00", "0.00"], T(3)),
                line(held, "longevity", "2020-02", 1, "arrears", "80-89", ["100.00", "100.00", "0.00"], T(3)),
                line(held, "longevity", "2020-03", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(3)),
                // backpay: 80 in 2019-12 (R3), eligible since 2019-12; applied in 2020-03, 3 months
                // after the spell began (≤ 6): T5 back pay from 2019-12; T7: not before 2020-01. So
                // arrears 2020-01 and 2020-02, regular 2020-03, 100 each, one transfer of 300.
                line(backpay, "longevity", "2020-01", 0, "arrears", "80-89", ["100.00", "100.00", "0.00"], T(4)),
                line(backpay, "longevity", "2020-02", 0, "arrears", "80-89", ["100.00", "100.00", "0.00"], T(4)),
                line(backpay, "longevity", "2020-03", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(4)),
                // regraded: the grade 2 certificate is not known yet: A = 600.
                line(regraded, "care", "2020-03", 0, "regular", "A", ["600.00", "100.00", "500.00"], T(5)),
            ],
            transfers: vec![
                Transfer(1, late, "longevity", "500.00"),
                Transfer(2, ninety, "longevity", "500.00"),
                Transfer(3, held, "longevity", "300.00"),
                Transfer(4, backpay, "longevity", "300.00"),
                Transfer(5, regraded, "care", "600.00"),
            ],
            recoveries: vec![],
            // 500 + 500 + 300 + 300 + 600 = 2200 = lottery (200 + 200 + 300 + 300 + 100)
            // + district (300 + 300 + 500).
            totals: (5, "2200.00", "1100.00", "1100.00", "0.00", "0.00"),
        },
    )
    .await?;
    files.extend(exported);

    // ---------------------------------------------------------------- 2020-04
    // Reported only now, after 2020-03 was paid: `late` died on 2020-02-10; `regraded` got a new
    // certificate, limb grade 2, issued 2020-02-15 (R5: it replaces the grade 1 one; R4: tier B).
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", late.row("2020-02-10"))),
            ("disability_certs.csv", &format!("{CERTS}{},limb,2,false,2020-02-15,\n", regraded.id)),
        ],
    )
    .await?;
    let b4 = run_computed(s, &book, "2020-04").await?;
    approve(s, &b4).await?;
    let exported = export(s, &b4, out.path()).await?;
    expect_batch(
        s,
        &b4,
        &exported,
        &Expect {
            month: "2020-04",
            lines: vec![
                // late: T3 paid through 2020-02 only; 2020-03 was paid 500 (200 + 300) and is owed 0:
                // -500 with no positive longevity line in the batch to absorb it → a recovery item
                // (L2), the key's second posting (adjustment 1), shares -200 / -300 (F2), tier as
                // last paid. Nothing for 2020-04.
                line(late, "longevity", "2020-03", 1, "recovery", "90-99", ["-500.00", "-200.00", "-300.00"], Recovery),
                line(ninety, "longevity", "2020-04", 0, "regular", "90-99", ["500.00", "200.00", "300.00"], T(1)),
                line(held, "longevity", "2020-04", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(2)),
                line(backpay, "longevity", "2020-04", 0, "regular", "80-89", ["100.00", "100.00", "0.00"], T(3)),
                // regraded, T2: 2020-02 = better of end of Feb (B) and end of Jan (A) = A, as paid.
                // 2020-03 = better of end of Mar (B) and end of Feb (B) = B: owed 400 (100 + 300),
                // paid 600 (100 + 500) → offset -200, all of it district (0 / -200), absorbed by the
                // batch's care line; key's second posting.
                line(regraded, "care", "2020-03", 1, "offset", "B", ["-200.00", "0.00", "-200.00"], T(4)),
                // 2020-04: B = 400, lottery min(100, 400) = 100, district 300. Transfer 400 - 200 = 200.
                line(regraded, "care", "2020-04", 0, "regular", "B", ["400.00", "100.00", "300.00"], T(4)),
            ],
            // No transfer for `late`: recovery items are never paid, so numbering starts at `ninety`.
            transfers: vec![
                Transfer(1, ninety, "longevity", "500.00"),
                Transfer(2, held, "longevity", "100.00"),
                Transfer(3, backpay, "longevity", "100.00"),
                Transfer(4, regraded, "care", "200.00"),
            ],
            recoveries: vec![format!(
                "{},{},longevity,2020-03,500.00,\"DECEASED: died 2020-02-10, paid through 2020-02 only (T3)\"",
                late.id, late.name
            )],
            // 500 + 100 + 100 + 200 = 900 = lottery (200 + 100 + 100 + 0 + 100) + district
            // (300 - 200 + 300); the recovery (500) is not a paid line.
            totals: (4, "900.00", "500.00", "400.00", "0.00", "500.00"),
        },
    )
    .await?;

    // A tampered file: verify reports exactly that file.
    let again = out.path().join(format!("{b4}-again"));
    let name = format!("{b4}-transfers.csv");
    let mut bytes = std::fs::read(again.join(&name))?;
    let last = bytes.len() - 2; // the last digit of the last amount
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    std::fs::write(again.join(&name), &bytes)?;
    let b = s.batch(&b4).await?.ok_or("batch missing")?;
    let (transfers, postings) = (s.batch_transfers(&b4).await?, s.batch_postings(&b4).await?);
    let problems = platform::compare(&platform::render(&b, &transfers, &postings), &again, &b, &transfers, &postings);
    eq(problems.len(), 1, &format!("differences after tampering: {problems:?}"))?;
    // The last line, the one changed.
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    let at = format!("{name} differs from the database at line {lines} (of {lines} expected): on disk \"");
    check(problems[0].starts_with(&at), format!("the difference names {name} and its last line: {problems:?}"))?;
    files.extend(exported);

    // ---------------------------------------------------------------- after the four months
    // Every month already has its batch: running again changes nothing.
    let before = ledger_rows(s).await?;
    // Postings 5 + 6 + 9 + 6, transfers 4 + 4 + 5 + 4, as listed above.
    eq(before, (4, 26, 17), "rows (batches, postings, transfers) after four months")?;
    for m in ["2020-01", "2020-04"] {
        match regular(s, &book, m).await? {
            RunOutcome::Existing(b) => eq(b.batch_id, format!("{DISTRICT}-{m}-R1"), "existing batch")?,
            other => return Err(format!("running {m} again: expected Existing, got {other:?}").into()),
        }
    }
    eq(ledger_rows(s).await?, before, "rows after running 2020-01 and 2020-04 again")?;

    // L1 + L2: for every (person, allowance, month) the net paid (lines not held, recovery items
    // subtracted) equals what the final registry says is owed.
    let mut net: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for b in s.batches(None, None).await? {
        for p in s.batch_postings(&b.batch_id).await?.into_iter().filter(|p| p.held_reason.is_none()) {
            *net.entry((p.id_number, p.allowance, p.service_month)).or_default() += p.amount_fen;
        }
    }
    let mut owed: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for e in c.all() {
        let rec = s.person(&e.id).await?.ok_or("person missing")?;
        for x in owed_between(&book, &rec, month("2020-01"), month("2020-04")) {
            owed.insert((e.id.clone(), x.allowance.to_string(), x.month.to_string()), to_fen(x.amount)?);
        }
    }
    net.retain(|_, fen| *fen != 0); // late's 2020-03: 500 paid, 500 recovered
    eq(net.clone(), owed, "net paid per (person, allowance, month) vs owed by the final registry")?;
    // late 500 + 500; ninety 100 + 3 × 500; dies 100 + 100; held 4 × 100; backpay 4 × 100;
    // regraded 600 + 600 + 400 + 400: 1000 + 1600 + 200 + 400 + 400 + 2000 = 5600
    // (= control sums 1300 + 1700 + 2200 + 900 less the 500 recovered).
    let total: i64 = net.values().sum();
    eq(format_fen(total), "5600.00".to_string(), "net paid over the four months")?;
    eq(s.ledger_check().await?, (total, total), "ledger_check (balances, counted postings)")?;
    Ok(files)
}

async fn batch_four_months_hand_checked<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let files = scenario(s).await?;
    eq(files.len(), 24, "six files for each of four batches")
}

/// INTERFACE.md: the same registry, policy and history give byte-identical files on SQLite and
/// PostgreSQL. The scenario runs on the case's database and on a fresh SQLite file; all 24
/// files (CSV, payment order, manifest) are compared byte for byte.
async fn batch_files_identical_to_a_sqlite_run<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let here = scenario(s).await?;
    let dir = tempfile::tempdir()?;
    let sqlite = SqliteStore::open(&format!("sqlite://{}", dir.path().join("reference.db").display())).await?;
    sqlite.migrate().await?;
    let reference = scenario(&sqlite).await;
    sqlite.close().await;
    let reference = reference?;
    eq(here.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "file names")?;
    let mut differ = Vec::new();
    for (name, bytes) in &here {
        if let Err(e) = same_bytes(name, bytes, &reference[name], "this database", "SQLite") {
            differ.push(e);
        }
    }
    check(differ.is_empty(), format!("{} of {} files differ: {differ:?}", differ.len(), here.len()))
}
