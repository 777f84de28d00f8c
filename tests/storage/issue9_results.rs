//! Issue 9: the platform's answers. January is exported and answered: paid, ACCOUNT_CLOSED,
//! returned (OTHER) and DECEASED; the same file again changes nothing; February holds what waits;
//! between February and March the closed account is replaced, the bank's fault released and the
//! death recorded; March pays what waited. After every step the ledger balances (owed = paid +
//! held + waiting + recovered) and `status` says where each batch stands.
//!
//! Hand derivation. Four elders born 1935 (84 in 2020: R2's 80-89 band, 100.00 a month), each
//! approved for longevity in October 2019 (T5), paid from the start month 2020-01 (T7):
//! - A (seq 301): paid every month: 100.00 in each of January, February, March.
//! - B (302): January's transfer fails ACCOUNT_CLOSED. February holds January (arrears) and
//!   February (regular), 200.00, ACCOUNT_CLOSED (L3). A new account is imported; March pays
//!   January, February and March, 300.00, on the new account.
//! - C (303): January's transfer is paid, then returned OTHER (the bank's side). February holds
//!   200.00 (OTHER); an operator releases it; March pays 300.00.
//! - D (304): January's transfer is returned DECEASED: the review opens, February holds 200.00
//!   (DECEASED). The death date 2019-12-15 is imported (T3: paid through the month of death, so
//!   nothing of 2020 is owed): March owes D nothing and pays nothing; nothing waits; the review is
//!   closed by the death date.
//!
//! Totals: January 400.00 exported, 100.00 stays paid; February 100.00 paid, 600.00 held;
//! March 700.00 paid (A 100.00, B 300.00, C 300.00). Owed over the quarter: 900.00 (A, B, C
//! 300.00 each), paid 900.00.

use crate::import::write_dir;
use crate::ops::init_2020;
use crate::scenario::{clock, month, Elder, APPLICATIONS, DISTRICT, ELDERS, OPERATOR, REVIEWER};
use crate::support::{check, eq};
use libtest_mimic::Failed;
use std::path::Path;
use subsidy::adapters::registry_csv::encoding::Encoding;
use subsidy::batch::RunOutcome;
use subsidy::ledger::{FaultCode, HoldKind, TransferStatus};
use subsidy::ops;
use subsidy::ops::run::RunOrder;
use subsidy::ops::status::Standing;
use subsidy::ops::OpsError;
use subsidy::store::{LedgerStore, Store, WaitingKind};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        l3_results_hold_reissue_and_balance_over_three_months,
        iso20022_pain001_validates_and_pain002_reconciles_as_the_csv,
        l1_a_payment_returned_after_its_recovery_cancels_the_recovery,
        l3_a_name_mismatch_waits_for_a_changed_row_not_a_reimport,
        issue11_a_file_of_many_chunks_and_pages_is_checked_whole_and_refused_whole,
        issue11_a_transfer_answered_meanwhile_makes_the_write_refuse_and_nothing_is_written
    ]
}

fn cast() -> [Elder; 4] {
    let e = |name, seq, account| Elder::new(name, "1935-04-01", seq, "110102007", "shebao", account);
    [
        e("甲一", 301, "6217000000000000301"),
        e("乙二", 302, "6217000000000000302"),
        e("丙三", 303, "6217000000000000303"),
        e("丁四", 304, "6217000000000000304"),
    ]
}

/// Import a folder of registry files through the use-case; no row rejected.
async fn import<S: Store>(s: &S, files: &[(&str, &str)]) -> Result<(), Failed> {
    let dir = write_dir(files);
    let report = ops::import::import(s, dir.path(), Encoding::Utf8, OPERATOR, clock()).await?;
    eq(report.rejects.len(), 0, "import rejects")?;
    Ok(())
}

/// Run, approve and export a month; its batch id.
async fn pay<S: Store + LedgerStore>(s: &S, m: &str, out: &Path) -> Result<String, Failed> {
    let order = RunOrder { district: Some(DISTRICT), month: month(m), by: OPERATOR, dry_run: false };
    let outcomes = ops::run::run(s, &order, clock(), |_| {}).await?;
    let batch = match outcomes.as_slice() {
        [run] => match &run.outcome {
            RunOutcome::Computed(sum) => sum.batch_id.clone(),
            other => return Err(format!("{m}: {other:?}").into()),
        },
        other => return Err(format!("{m}: {other:?}").into()),
    };
    ops::approve::approve(s, &batch, REVIEWER, clock()).await?;
    ops::export::export(s, &batch, out, OPERATOR, clock()).await?;
    Ok(batch)
}

/// A result CSV with these rows (`transfer_id,status,reason_code`), reconciled.
async fn reconcile<S: Store + LedgerStore>(
    s: &S,
    dir: &Path,
    name: &str,
    rows: &[(String, &str, &str)],
) -> Result<ops::reconcile::Reconciled, Failed> {
    let mut text = String::from("transfer_id,status,reason_code\r\n");
    for (t, status, code) in rows {
        text.push_str(&format!("{t},{status},{code}\r\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(ops::reconcile::reconcile(s, &path, Encoding::Utf8, None, OPERATOR, clock()).await?)
}

/// The ledger balances; returns owed, paid, held, waiting (fen) and the unsettled person-months.
async fn balanced<S: Store + LedgerStore>(s: &S, step: &str) -> Result<(i64, i64, i64, i64, u64), Failed> {
    let c = ops::ledger::check_ledger(s).await?;
    check(c.breaches.is_empty(), format!("{step}: the ledger balances: {:?}", c.breaches))?;
    let t = c.totals.sum;
    Ok((t.owed, t.paid, t.held, t.waiting, c.totals.unsettled))
}

/// Where each batch stands, by batch id.
async fn standings<S: Store + LedgerStore>(s: &S) -> Result<Vec<(String, Standing)>, Failed> {
    let st = ops::status::status(s, Some(DISTRICT), None).await?;
    Ok(st.standing.iter().map(|(b, (standing, _))| (b.clone(), *standing)).collect())
}

fn t(batch: &str, n: u32) -> String {
    format!("{batch}-{n:06}")
}

async fn l3_results_hold_reissue_and_balance_over_three_months<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let [a, b, c, d] = cast();
    init_2020(s).await?;
    let approved = |e: &Elder| format!("{},longevity,2019-10-08,approved,2019-10-20\n", e.id);
    let elders: String = [&a, &b, &c, &d].iter().map(|e| e.row("")).collect();
    let applications: String = [&a, &b, &c, &d].iter().map(|e| approved(e)).collect();
    import(
        s,
        &[("elders.csv", &format!("{ELDERS}{elders}")), ("applications.csv", &format!("{APPLICATIONS}{applications}"))],
    )
    .await?;
    let out = tempfile::tempdir()?;

    // January: four transfers of 100.00, in ID order A, B, C, D.
    let jan = pay(s, "2020-01", out.path()).await?;
    eq(balanced(s, "January exported").await?, (40_000, 40_000, 0, 0, 0), "January: owed, paid, held, waiting")?;
    let answers = [
        (t(&jan, 1), "paid", ""),
        (t(&jan, 2), "failed", "ACCOUNT_CLOSED"),
        (t(&jan, 3), "returned", "OTHER"),
        (t(&jan, 4), "returned", "DECEASED"),
    ];
    let first = reconcile(s, out.path(), "jan.csv", &answers).await?;
    eq(first.unchanged, 0, "first reading: nothing recorded before")?;
    eq(first.recorded.get(&TransferStatus::Paid).copied(), Some((1, 10_000)), "paid")?;
    eq(first.recorded.get(&TransferStatus::Failed).copied(), Some((1, 10_000)), "failed")?;
    eq(first.recorded.get(&TransferStatus::Returned).copied(), Some((2, 20_000)), "returned")?;
    eq(first.holds.len(), 3, "three holds: B, C, D")?;
    // L1: 300.00 of January no longer counts; it waits (nothing re-issued yet).
    eq(balanced(s, "January answered").await?, (40_000, 10_000, 0, 30_000, 0), "after the answers")?;
    eq(standings(s).await?, vec![(jan.clone(), Standing::Settled)], "January is settled")?;

    // The same file twice changes nothing (no audit entry either).
    let entries = s.audit_log().await?.0.len();
    let again = reconcile(s, out.path(), "jan.csv", &answers).await?;
    eq((again.unchanged, again.recorded.len()), (4, 0), "the same file again")?;
    eq(s.audit_log().await?.0.len(), entries, "no audit entry for a file that changes nothing")?;
    // An impossible change refuses the whole file: B failed cannot become paid, and A's answer in
    // the same file is not recorded either.
    let path = out.path().join("bad.csv");
    std::fs::write(&path, format!("transfer_id,status,reason_code\n{},paid,\n{},paid,\n", t(&jan, 1), t(&jan, 2)))?;
    let refused = ops::reconcile::reconcile(s, &path, Encoding::Utf8, None, OPERATOR, clock()).await;
    check(
        matches!(&refused, Err(e) if e.to_string().contains("line 3: transfer") && e.to_string().contains("cannot become paid")),
        format!("failed → paid refused: {refused:?}"),
    )?;
    eq(s.audit_log().await?.0.len(), entries, "a refused file records nothing")?;

    // February: A paid 100.00; B, C, D held 200.00 each (January arrears + February).
    let feb = pay(s, "2020-02", out.path()).await?;
    let feb_batch = s.batch(&feb).await?.ok_or("February batch")?;
    eq((feb_batch.transfer_count, feb_batch.control_sum_fen, feb_batch.held_fen), (1, 10_000, 60_000), "February")?;
    let held = std::fs::read_to_string(out.path().join(format!("{feb}-held.csv")))?;
    for (e, reason) in [(&b, "ACCOUNT_CLOSED"), (&c, "OTHER"), (&d, "DECEASED")] {
        for m in ["2020-01", "2020-02"] {
            let row = format!("{},{},longevity,{m},100.00,{reason}", e.id, e.name);
            check(held.lines().any(|l| l == row), format!("held.csv has {row}"))?;
        }
    }
    eq(balanced(s, "February exported").await?, (80_000, 20_000, 60_000, 0, 0), "February: owed, paid, held, waiting")?;
    let st = ops::status::status(s, Some(DISTRICT), None).await?;
    let held_of = |code: &str| st.waiting.get(&(WaitingKind::Held, code.to_string())).map(|w| (w.lines, w.fen));
    eq(held_of("ACCOUNT_CLOSED"), Some((2, 20_000)), "status: held for the closed account")?;
    eq(held_of("DECEASED"), Some((2, 20_000)), "status: held for the deceased")?;
    let reviews: Vec<_> = st.holds.iter().filter(|h| h.review_open()).map(|h| h.id_number.clone()).collect();
    eq(reviews, vec![d.id.clone()], "one DECEASED review open")?;
    reconcile(s, out.path(), "feb.csv", &[(t(&feb, 1), "paid", "")]).await?;

    // Between February and March: B's new account, C released, D's death recorded.
    import(s, &[("elders.csv", &format!("{ELDERS}{}", b.row_with_account("", "6217000000000009302")))]).await?;
    let released = ops::holds::release(s, &c.id, None, "bank fixed it", REVIEWER, clock()).await?;
    eq(released.holds.iter().map(|(_, k)| *k).collect::<Vec<_>>(), vec![HoldKind::Fault(FaultCode::Other)], "release")?;
    import(s, &[("elders.csv", &format!("{ELDERS}{}", d.row("2019-12-15")))]).await?;
    // B's and D's records changed since February's batch. B's new account changes nothing owed:
    // his months balance. D's death makes January and February owed 0 while 200.00 is held: not
    // settled until March.
    let (_, _, _, _, unsettled) = balanced(s, "before March").await?;
    eq(unsettled, 2, "D's two months are not settled yet")?;

    // March: A 100.00; B 300.00 on the new account; C 300.00; D nothing.
    let mar = pay(s, "2020-03", out.path()).await?;
    let transfers = std::fs::read_to_string(out.path().join(format!("{mar}-transfers.csv")))?;
    let expected = format!(
        "transfer_id,id_number,name,account_type,account_no,allowance,amount\n\
         {},{},甲一,shebao,6217000000000000301,longevity,100.00\n\
         {},{},乙二,shebao,6217000000000009302,longevity,300.00\n\
         {},{},丙三,shebao,6217000000000000303,longevity,300.00\n",
        t(&mar, 1),
        a.id,
        t(&mar, 2),
        b.id,
        t(&mar, 3),
        c.id
    );
    eq(transfers.as_str(), expected.as_str(), "March's transfers")?;
    eq(s.batch(&mar).await?.ok_or("March")?.held_fen, 0, "nothing held in March")?;
    eq(balanced(s, "March exported").await?, (90_000, 90_000, 0, 0, 0), "March: owed, paid, held, waiting")?;
    let answers: Vec<_> = (1..=3).map(|n| (t(&mar, n), "paid", "")).collect();
    reconcile(s, out.path(), "mar.csv", &answers).await?;
    eq(
        standings(s).await?,
        vec![(jan, Standing::Settled), (feb, Standing::Settled), (mar, Standing::Settled)],
        "every batch settled",
    )?;
    let st = ops::status::status(s, Some(DISTRICT), None).await?;
    check(st.waiting.is_empty(), format!("nothing waits: {:?}", st.waiting))?;
    check(!st.holds.iter().any(|h| h.review_open()), "the review closed with the death date")?;
    eq(balanced(s, "March answered").await?, (90_000, 90_000, 0, 0, 0), "the quarter")?;
    Ok(())
}

/// A pain.002.001.12 report answering `batch`: per transfer, TxSts, the reason code and whether it
/// is a return (the engine's convention: RJCT with AddtlInf starting RETURNED).
fn pain002(batch: &str, answers: &[(String, &str, &str, bool)]) -> String {
    let mut tx = String::new();
    for (id, status, code, returned) in answers {
        tx.push_str(&format!("<TxInfAndSts><OrgnlEndToEndId>{id}</OrgnlEndToEndId><TxSts>{status}</TxSts>"));
        if !code.is_empty() {
            let info = if *returned { "<AddtlInf>RETURNED 退票</AddtlInf>" } else { "" };
            tx.push_str(&format!("<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn>{info}</StsRsnInf>"));
        }
        tx.push_str("</TxInfAndSts>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.12\"><CstmrPmtStsRpt>\
         <GrpHdr><MsgId>STS-{batch}</MsgId><CreDtTm>2020-01-05T10:00:00+08:00</CreDtTm></GrpHdr>\
         <OrgnlGrpInfAndSts><OrgnlMsgId>{batch}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>\
         </OrgnlGrpInfAndSts><OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch}</OrgnlPmtInfId>\n{tx}\
         </OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>\n"
    )
}

/// `xmllint --noout --schema` on a file; Debian's libxml2-utils (`.ci/run` installs it).
fn xmllint(schema: &str, file: &Path) -> Result<(), Failed> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/iso20022").join(schema);
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output()
        .map_err(|e| format!("xmllint not found ({e}): apt-get install -y libxml2-utils"))?;
    check(out.status.success(), format!("{} validates: {}", file.display(), String::from_utf8_lossy(&out.stderr)))
}

/// January exported with `--format pain001`: the XML validates against pain.001.001.09 and names
/// the four transfers (100.00 each, control sum 400.00); the bank's pain.002 answer (ACSC; RJCT
/// AC04; returned AM05, a code the engine maps to OTHER; returned MD07) validates against
/// pain.002.001.12 and reconciles to exactly the states the CSV of the first case records: A paid,
/// B failed ACCOUNT_CLOSED, C returned OTHER, D returned DECEASED; 300.00 waits; read twice it
/// changes nothing.
async fn iso20022_pain001_validates_and_pain002_reconciles_as_the_csv<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let cast = cast();
    four_elders(s).await?;
    let out = tempfile::tempdir()?;
    let order = RunOrder { district: Some(DISTRICT), month: month("2020-01"), by: OPERATOR, dry_run: false };
    ops::run::run(s, &order, clock(), |_| {}).await?;
    let jan = "110102-2020-01-R1".to_string();
    ops::approve::approve(s, &jan, REVIEWER, clock()).await?;
    let payers =
        subsidy::adapters::platform::iso20022::payers_from_toml(subsidy::adapters::platform::iso20022::BUILTIN_PAYERS)?;
    let files =
        ops::export::export_with(s, &jan, out.path(), OPERATOR, Encoding::Utf8, payers.first(), clock()).await?;
    let xml_path = out.path().join(format!("{jan}-pain001.xml"));
    check(files.iter().any(|f| out.path().join(&f.name) == xml_path), "the pain.001 file is exported")?;
    xmllint("pain.001.001.09.xsd", &xml_path)?;
    let xml = std::fs::read_to_string(&xml_path)?;
    check(xml.contains("<NbOfTxs>4</NbOfTxs>") && xml.contains("<CtrlSum>400.00</CtrlSum>"), "group header")?;
    for (n, e) in cast.iter().enumerate() {
        check(xml.contains(&format!("<EndToEndId>{}</EndToEndId>", t(&jan, n as u32 + 1))), "end-to-end id")?;
        check(xml.contains(&format!("<Id>{}</Id>", e.account_no)), "creditor account")?;
    }
    // Exporting again writes the same bytes (the creation time is the batch's computed_at).
    ops::export::export_with(s, &jan, out.path(), OPERATOR, Encoding::Utf8, payers.first(), clock()).await?;
    eq(std::fs::read_to_string(&xml_path)?, xml, "the same pain.001 again")?;

    let report = pain002(
        &jan,
        &[
            (t(&jan, 1), "ACSC", "", false),
            (t(&jan, 2), "RJCT", "AC04", false),
            (t(&jan, 3), "RJCT", "AM05", true),
            (t(&jan, 4), "RJCT", "MD07", true),
        ],
    );
    let path = out.path().join("pain002.xml");
    std::fs::write(&path, report)?;
    xmllint("pain.002.001.12.xsd", &path)?;
    let done = ops::reconcile::reconcile(s, &path, Encoding::Utf8, None, OPERATOR, clock()).await?;
    eq(done.format, ops::reconcile::ResultFormat::Pain002, "read as pain.002")?;
    eq(done.recorded.get(&TransferStatus::Paid).copied(), Some((1, 10_000)), "paid")?;
    eq(done.recorded.get(&TransferStatus::Failed).copied(), Some((1, 10_000)), "failed")?;
    eq(done.recorded.get(&TransferStatus::Returned).copied(), Some((2, 20_000)), "returned")?;
    let ids: Vec<String> = (1..=4).map(|n| t(&jan, n)).collect();
    let states: Vec<(TransferStatus, Option<FaultCode>)> =
        s.transfer_states(&ids).await?.into_iter().map(|t| (t.status, t.fault)).collect();
    let csv_says = vec![
        (TransferStatus::Paid, None),
        (TransferStatus::Failed, Some(FaultCode::AccountClosed)),
        (TransferStatus::Returned, Some(FaultCode::Other)),
        (TransferStatus::Returned, Some(FaultCode::Deceased)),
    ];
    eq(states, csv_says, "the states the equivalent CSV records")?;
    eq(balanced(s, "January answered").await?, (40_000, 10_000, 0, 30_000, 0), "owed, paid, held, waiting")?;
    let again = ops::reconcile::reconcile(s, &path, Encoding::Utf8, None, OPERATOR, clock()).await?;
    eq((again.unchanged, again.recorded.len()), (4, 0), "the same report again")?;
    Ok(())
}

/// A death reported late, then the bank's return of a payment it recovered. One elder (84:
/// 100.00 a month) is paid January, February and March; her death on 2020-01-14 reaches the
/// engine in March: the correction C1 of March raises recovery items of 100.00 for February and
/// March (T3: paid through January). Then the bank returns February's transfer (DECEASED) and
/// pays January's. The money of February came back: its recovery item is cancelled (not owed by
/// anyone any more), the March one stays outstanding, the ledger balances at owed 100.00 = paid
/// 200.00 − recovered 100.00 (+ February's 100.00 returned and its cancelled 100.00, netting 0,
/// waiting for the next batch), and April pays and raises nothing.
async fn l1_a_payment_returned_after_its_recovery_cancels_the_recovery<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let [e, ..] = cast();
    init_2020(s).await?;
    let application = format!("{APPLICATIONS}{},longevity,2019-10-08,approved,2019-10-20\n", e.id);
    import(s, &[("elders.csv", &format!("{ELDERS}{}", e.row(""))), ("applications.csv", &application)]).await?;
    let out = tempfile::tempdir()?;
    for m in ["2020-01", "2020-02", "2020-03"] {
        pay(s, m, out.path()).await?;
    }
    import(s, &[("elders.csv", &format!("{ELDERS}{}", e.row("2020-01-14")))]).await?;
    let order = RunOrder { district: Some(DISTRICT), month: month("2020-03"), by: OPERATOR, dry_run: false };
    ops::run::rerun(s, &order, "death reported late", clock(), |_| {}).await?;
    let c1 = "110102-2020-03-C1";
    ops::approve::approve(s, c1, REVIEWER, clock()).await?;
    ops::export::export(s, c1, out.path(), OPERATOR, clock()).await?;
    eq(s.recoveries(None).await?.len(), 2, "February and March recovered")?;
    eq(balanced(s, "after C1").await?, (10_000, 30_000, 0, 0, 0), "owed January, paid three months")?;

    let done = reconcile(
        s,
        out.path(),
        "results.csv",
        &[(t("110102-2020-01-R1", 1), "paid", ""), (t("110102-2020-02-R1", 1), "returned", "DECEASED")],
    )
    .await?;
    eq(done.cancelled_recoveries, vec![subsidy::idcard::mask_key(&e.key("longevity", "2020-02", 1))], "cancelled")?;
    let open: Vec<String> = s.recoveries(None).await?.into_iter().map(|r| r.payment_key).collect();
    eq(open, vec![e.key("longevity", "2020-03", 1)], "March's recovery item stays")?;
    let c = ops::ledger::check_ledger(s).await?;
    check(c.breaches.is_empty(), format!("balanced: {:?}", c.breaches))?;
    eq(
        (c.totals.sum.owed, c.totals.sum.paid, c.totals.sum.recovered),
        (10_000, 20_000, -10_000),
        "owed, paid, recovered",
    )?;
    eq(c.totals.sum.waiting, 0, "February's return and its cancelled recovery net to nothing")?;

    // April: nothing owed, nothing to pay or recover again (the rerun set reads her: her transfer
    // was answered for).
    let order = RunOrder { district: Some(DISTRICT), month: month("2020-04"), by: OPERATOR, dry_run: false };
    let runs = ops::run::run(s, &order, clock(), |_| {}).await?;
    check(matches!(runs.as_slice(), [r] if matches!(r.outcome, RunOutcome::NothingToSettle)), format!("{runs:?}"))?;
    eq(balanced(s, "after April").await?, (10_000, 20_000, 0, 0, 0), "owed, paid, held, waiting")?;
    Ok(())
}

/// A NAME_MISMATCH is cured by a corrected elders row, not by the same row imported again (a
/// district's monthly full export): January fails NAME_MISMATCH; the registry is re-imported
/// unchanged and February holds January and February (200.00); the name is corrected and March
/// pays January, February and March (300.00) on the same account.
async fn l3_a_name_mismatch_waits_for_a_changed_row_not_a_reimport<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let [e, ..] = cast();
    init_2020(s).await?;
    let application = format!("{APPLICATIONS}{},longevity,2019-10-08,approved,2019-10-20\n", e.id);
    let elders = format!("{ELDERS}{}", e.row(""));
    import(s, &[("elders.csv", &elders), ("applications.csv", &application)]).await?;
    let out = tempfile::tempdir()?;
    let jan = pay(s, "2020-01", out.path()).await?;
    reconcile(s, out.path(), "jan.csv", &[(t(&jan, 1), "failed", "NAME_MISMATCH")]).await?;
    import(s, &[("elders.csv", &elders), ("applications.csv", &application)]).await?;
    let feb = pay(s, "2020-02", out.path()).await?;
    let b = s.batch(&feb).await?.ok_or("February")?;
    eq((b.transfer_count, b.held_fen), (0, 20_000), "the same row again cures nothing: held")?;
    let corrected = e.row("").replacen(e.name, "甲壹", 1);
    import(s, &[("elders.csv", &format!("{ELDERS}{corrected}"))]).await?;
    let mar = pay(s, "2020-03", out.path()).await?;
    let b = s.batch(&mar).await?.ok_or("March")?;
    eq((b.transfer_count, b.control_sum_fen, b.held_fen), (1, 30_000, 0), "the corrected row pays what waited")?;
    eq(balanced(s, "after March").await?, (30_000, 30_000, 0, 0, 0), "owed, paid, held, waiting")?;
    Ok(())
}

/// Four elders paid January (transfers 1–4, 100.00 each); the batch id.
async fn january_of_four<S: Store + LedgerStore>(s: &S, out: &Path) -> Result<String, Failed> {
    four_elders(s).await?;
    pay(s, "2020-01", out).await
}

/// The start month 2020-01 and the four elders of `cast`, each with an approved longevity
/// application.
async fn four_elders<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let cast = cast();
    init_2020(s).await?;
    let elders: String = cast.iter().map(|e| e.row("")).collect();
    let applications: String =
        cast.iter().map(|e| format!("{},longevity,2019-10-08,approved,2019-10-20\n", e.id)).collect();
    import(
        s,
        &[("elders.csv", &format!("{ELDERS}{elders}")), ("applications.csv", &format!("{APPLICATIONS}{applications}"))],
    )
    .await?;
    Ok(())
}

/// Reconcile `bytes` written to `name`, staging two answers at a time and checking two per page.
async fn reconcile_paged<S: Store + LedgerStore>(
    s: &S,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
) -> Result<ops::reconcile::Reconciled, OpsError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the result file");
    let paging = ops::reconcile::Paging { chunk: 2, page: 2 };
    ops::reconcile::reconcile_in(s, &path, encoding, None, OPERATOR, clock(), paging).await
}

/// The problems a refused file was refused for.
fn refused_for(result: Result<ops::reconcile::Reconciled, OpsError>) -> Result<(Vec<String>, usize), Failed> {
    match result {
        Err(OpsError::ResultFile { problems, more, .. }) => Ok((problems, more)),
        other => Err(format!("expected a refused file, got {other:?}").into()),
    }
}

/// Issue 11: the answers are staged two at a time and checked two per page; whatever page an
/// answer falls on, the file is checked and refused whole. Problems on the first and last pages
/// are all said; a transfer listed again pages after its first answer is found (CSV: listed
/// again, and the rows' own problems come first; pain.002: answered again); a refused file
/// records nothing and leaves nothing behind: the good file that follows, on the same store,
/// records January (paid 200.00, failed 100.00, returned 100.00: two holds); read again, in
/// GB18030 with the bank's words, or as UTF-8 with a byte-order mark and CRLF, it changes
/// nothing and writes no audit entry.
async fn issue11_a_file_of_many_chunks_and_pages_is_checked_whole_and_refused_whole<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let out = tempfile::tempdir()?;
    let jan = january_of_four(s, out.path()).await?;
    let ids: Vec<String> = (1..=4).map(|n| t(&jan, n)).collect();
    let entries = s.audit_log().await?.0.len();

    // Unknown transfers on the first and the last page (lines 3 and 6, pages of two).
    let unknown = format!("{jan}-000099");
    let other = "110105-2020-01-R1-000001";
    let file = format!(
        "transfer_id,status,reason_code\n{},paid,\n{unknown},paid,\n{},failed,ACCOUNT_CLOSED\n{},paid,\n{other},paid,\n{},paid,\n",
        ids[0], ids[1], ids[2], ids[3]
    );
    let (problems, more) =
        refused_for(reconcile_paged(s, out.path(), "unknown.csv", file.as_bytes(), Encoding::Utf8).await)?;
    let not_here = "is not in this database: is the file for another district's engine, or a batch not computed here?";
    eq(
        problems,
        vec![format!("line 3: transfer {unknown} {not_here}"), format!("line 6: transfer {other} {not_here}")],
        "both unknown transfers, pages apart",
    )?;
    eq(more, 0, "none left unsaid")?;
    untouched(s, &jan, entries, "unknown transfers").await?;

    // Transfer 1 listed again two pages after its first answer, a failure without its reason and
    // the same transfer again: the rows' own problems refuse the file (the unknown transfer is not
    // held against the database then).
    let file = format!(
        "transfer_id,status,reason_code\n{},paid,\n{unknown},paid,\n{},paid,\n{},paid,\n{},paid,\n{},failed,\n{},bounced,\n",
        ids[0], ids[1], ids[2], ids[0], ids[3], ids[3]
    );
    let (problems, _) =
        refused_for(reconcile_paged(s, out.path(), "again.csv", file.as_bytes(), Encoding::Utf8).await)?;
    eq(
        problems,
        vec![
            format!("line 6: transfer {} is listed again (first at line 2): one answer per transfer", ids[0]),
            format!("line 7: a failed transfer needs a reason_code: one of {}", fault_codes()),
            format!("line 8: transfer {} is listed again (first at line 7): one answer per transfer", ids[3]),
        ],
        "CSV: the rows' own problems",
    )?;
    untouched(s, &jan, entries, "a transfer listed again").await?;
    let report = pain002(
        &jan,
        &[
            (ids[0].clone(), "ACSC", "", false),
            (ids[1].clone(), "ACSC", "", false),
            (ids[2].clone(), "ACSC", "", false),
            (ids[0].clone(), "RJCT", "AC04", false),
        ],
    );
    let (problems, _) =
        refused_for(reconcile_paged(s, out.path(), "again.xml", report.as_bytes(), Encoding::Utf8).await)?;
    eq(
        problems,
        vec![format!("line 4: transfer {} is answered again (first at 1): one answer per transfer", ids[0])],
        "pain.002: answered again",
    )?;
    untouched(s, &jan, entries, "a transaction answered again").await?;

    // The good file, CRLF: recorded whole, on the same store.
    let rows = [
        (&ids[0], "paid", ""),
        (&ids[1], "failed", "ACCOUNT_CLOSED"),
        (&ids[2], "returned", "OTHER"),
        (&ids[3], "paid", ""),
    ];
    let crlf: String = std::iter::once("transfer_id,status,reason_code\r\n".to_string())
        .chain(rows.iter().map(|(t, st, code)| format!("{t},{st},{code}\r\n")))
        .collect();
    let done = reconcile_paged(s, out.path(), "jan.csv", crlf.as_bytes(), Encoding::Utf8).await?;
    eq((done.answers, done.unchanged, done.batches.clone()), (4, 0, vec![jan.clone()]), "answers, unchanged, batches")?;
    eq(done.recorded.get(&TransferStatus::Paid).copied(), Some((2, 20_000)), "paid")?;
    eq(done.recorded.get(&TransferStatus::Failed).copied(), Some((1, 10_000)), "failed")?;
    eq(done.recorded.get(&TransferStatus::Returned).copied(), Some((1, 10_000)), "returned")?;
    let held: Vec<&str> = done.holds.iter().map(|(_, _, t)| t.as_str()).collect();
    eq(held, vec![ids[1].as_str(), ids[2].as_str()], "holds, in file order")?;
    let states: Vec<(TransferStatus, Option<FaultCode>)> =
        s.transfer_states(&ids).await?.into_iter().map(|t| (t.status, t.fault)).collect();
    let expected = vec![
        (TransferStatus::Paid, None),
        (TransferStatus::Failed, Some(FaultCode::AccountClosed)),
        (TransferStatus::Returned, Some(FaultCode::Other)),
        (TransferStatus::Paid, None),
    ];
    eq(states, expected, "stored")?;
    eq(balanced(s, "January answered").await?, (40_000, 20_000, 0, 20_000, 0), "owed, paid, held, waiting")?;
    let entries = s.audit_log().await?.0.len();
    let log = s.audit_log().await?.0;
    let last = log.last().ok_or("an audit entry")?;
    eq(last.entry.input_fingerprint.clone(), subsidy::digest::sha256_hex(crlf.as_bytes()), "the file's SHA-256")?;

    // Read again: as it was, in GB18030 with the bank's words, as UTF-8 with a byte-order mark.
    let words: String = std::iter::once("transfer_id,status,reason_code,reason\r\n".to_string())
        .chain(
            rows.iter()
                .map(|(t, st, code)| format!("{t},{st},{code},{}\r\n", if code.is_empty() { "" } else { "销户" })),
        )
        .collect();
    let variants = [
        ("again.csv", crlf.as_bytes().to_vec(), Encoding::Utf8),
        ("gb18030.csv", Encoding::Gb18030.encode(&words), Encoding::Gb18030),
        ("bom.csv", [b"\xEF\xBB\xBF".as_slice(), words.as_bytes()].concat(), Encoding::Utf8),
    ];
    for (name, bytes, encoding) in variants {
        let again = reconcile_paged(s, out.path(), name, &bytes, encoding).await?;
        eq((again.unchanged, again.recorded.len(), again.holds.len()), (4, 0, 0), &format!("{name}: nothing new"))?;
    }
    eq(s.audit_log().await?.0.len(), entries, "no audit entry for files that change nothing")?;
    // Read as UTF-8, the GB18030 file is not text: that is its one problem, with its line.
    let gb = Encoding::Gb18030.encode(&words);
    let (problems, _) = refused_for(reconcile_paged(s, out.path(), "gb.csv", &gb, Encoding::Utf8).await)?;
    eq(
        problems,
        vec![
            "line 3: not UTF-8 (Excel on Chinese Windows saves GB18030): read it with `--encoding gb18030`".to_string()
        ],
        "GB18030 read as UTF-8",
    )?;
    Ok(())
}

/// Nothing recorded: every transfer of `batch` pending, no hold, the audit log `entries` long.
async fn untouched<S: Store + LedgerStore>(s: &S, batch: &str, entries: usize, what: &str) -> Result<(), Failed> {
    let states = s.transfer_states(&ids_of(batch)).await?;
    check(states.iter().all(|t| t.status == TransferStatus::Pending), format!("{what}: every transfer pending"))?;
    eq(s.audit_log().await?.0.len(), entries, &format!("{what}: no audit entry"))?;
    eq(s.open_holds().await?.len(), 0, &format!("{what}: no hold"))
}

fn ids_of(batch: &str) -> Vec<String> {
    (1..=4).map(|n| t(batch, n)).collect()
}

fn fault_codes() -> String {
    FaultCode::ALL.map(FaultCode::as_str).join(", ")
}

/// Issue 11, concurrency: a file checked while another reconcile records one of its transfers
/// must not record over it. The stage counts two payments (transfers 1 and 2 pending); transfer 1
/// is recorded paid meanwhile; the write then moves one transfer, not two: it refuses, having
/// written nothing (no audit entry, transfer 2 still pending). The same for a failure (transfer 3
/// recorded failed meanwhile). Checked again, the file records transfer 2 and finds 1 unchanged.
async fn issue11_a_transfer_answered_meanwhile_makes_the_write_refuse_and_nothing_is_written<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    use subsidy::ledger::TransferResult;
    use subsidy::store::{AnswerStage, ResultChange, StagedAnswer};
    let out = tempfile::tempdir()?;
    let jan = january_of_four(s, out.path()).await?;
    let ids = ids_of(&jan);
    let answer = |line, id: &str, status, fault| {
        StagedAnswer::Answer(TransferResult { line, transfer_id: id.to_string(), status, fault, reason: None })
    };
    let mut stage = s.stage_answers().await?;
    stage
        .add(&[answer(2, &ids[0], TransferStatus::Paid, None), answer(3, &ids[1], TransferStatus::Paid, None)])
        .await?;
    stage.seal().await?;
    let page = stage.page(0, 10).await?;
    let pending = page.iter().filter(|a| a.transfer.as_ref().is_some_and(|t| t.status == TransferStatus::Pending));
    eq(pending.count(), 2, "the stage sees two pending transfers")?;

    reconcile(s, out.path(), "meanwhile.csv", &[(ids[0].clone(), "paid", ""), (ids[2].clone(), "failed", "OTHER")])
        .await?;
    let entries = s.audit_log().await?.0.len();
    let entry = subsidy::audit::AuditEntry {
        actor: OPERATOR.into(),
        command: "reconcile".into(),
        target: "stale.csv".into(),
        reason: String::new(),
        input_fingerprint: String::new(),
        details: "{}".into(),
    };
    let now = chrono::Utc::now();
    let wrote = stage.record(DISTRICT, 2, &[], OPERATOR, &entry, now).await?;
    eq(wrote, None, "two payments counted, one transfer still pending: refused")?;
    let failure = ResultChange {
        transfer_id: ids[2].clone(),
        id_number: cast()[2].id.clone(),
        account_no: cast()[2].account_no.to_string(),
        from: TransferStatus::Pending,
        to: TransferStatus::Failed,
        fault: Some(FaultCode::Other),
        reason: None,
    };
    let wrote = stage.record(DISTRICT, 1, &[failure], OPERATOR, &entry, now).await?;
    eq(wrote, None, "a failure recorded meanwhile: refused")?;
    drop(stage);
    eq(s.audit_log().await?.0.len(), entries, "nothing written: no audit entry")?;
    let states = s.transfer_states(&ids).await?;
    eq(states[1].status, TransferStatus::Pending, "transfer 2 still pending")?;
    eq(s.open_holds().await?.len(), 1, "only the hold of the failure recorded meanwhile")?;

    let done =
        reconcile(s, out.path(), "stale.csv", &[(ids[0].clone(), "paid", ""), (ids[1].clone(), "paid", "")]).await?;
    eq((done.unchanged, done.recorded.get(&TransferStatus::Paid).copied()), (1, Some((1, 10_000))), "checked again")?;
    Ok(())
}
