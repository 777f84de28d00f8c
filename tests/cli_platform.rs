//! Issue 9 as a district office drives the binary: export with pain.001, the platform's result
//! file reconciled (CRLF, as Excel saves it), the same file twice, an impossible answer refused
//! with its line, `hold` / `release`, `status --json` naming where each batch stands, and
//! `verify --ledger` (exit 0 when it balances); a file of many problems, GB18030 and pain.002 read
//! through the binary (issue 11). On SQLite, and on PostgreSQL when `SUBSIDY_TEST_PG_URL` is set.
//!
//! The registry: two elders born 1935 (80-89: 100.00 a month, R2) approved for longevity in
//! October 2019 (T5), paid from 2020-01 (T7). January: two transfers of 100.00. The platform pays
//! the first and fails the second (ACCOUNT_CLOSED); February holds the second's January and
//! February (200.00) and pays the first 100.00.

mod cli_support;

use cli_support::{elder_1935, ok, registry_dir, subsidy, PgDatabase};
use std::path::Path;

fn ids() -> [String; 2] {
    let birth = chrono::NaiveDate::from_ymd_opt(1935, 4, 1).unwrap();
    [subsidy::idcard::make("110102", birth, 401), subsidy::idcard::make("110102", birth, 402)]
}

fn registry(dir: &Path) -> String {
    let [a, b] = ids();
    let elders = [
        elder_1935(&a, "赵一", "110102", "110102007", "6217000000000000401"),
        elder_1935(&b, "钱二", "110102", "110102007", "6217000000000000402"),
    ];
    registry_dir(dir, "registry", &elders.concat(), &[&a, &b])
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("json ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn session(db: &str, dir: &Path) {
    let out = dir.join("out");
    let out_s = out.display().to_string();
    ok(&subsidy(db, &["init", "--start-month", "2020-01"]));
    ok(&subsidy(db, &["import", &registry(dir)]));
    ok(&subsidy(db, &["run", "--month", "2020-01", "--by", "operator"]));
    ok(&subsidy(db, &["approve", "--batch", "110102-2020-01-R1", "--by", "reviewer"]));
    let export = subsidy(db, &["export", "--batch", "110102-2020-01-R1", "--out", &out_s, "--format", "pain001"]);
    ok(&export);
    assert!(String::from_utf8_lossy(&export.stderr).contains("FICTIONAL"), "the built-in payer is named fictional");
    let xml = std::fs::read_to_string(out.join("110102-2020-01-R1-pain001.xml")).unwrap();
    assert!(
        xml.contains("<CtrlSum>200.00</CtrlSum>") && xml.contains("<EndToEndId>110102-2020-01-R1-000002</EndToEndId>")
    );

    let results = dir.join("results.csv");
    std::fs::write(
        &results,
        "transfer_id,status,reason_code,reason\r\n110102-2020-01-R1-000001,paid,,\r\n110102-2020-01-R1-000002,failed,ACCOUNT_CLOSED,销户\r\n",
    )
    .unwrap();
    let file = results.display().to_string();
    let first = json(&subsidy(db, &["--json", "reconcile", "--file", &file, "--by", "operator"]));
    assert_eq!(first["recorded"]["paid"]["amount"], "100.00");
    assert_eq!(first["recorded"]["failed"]["amount"], "100.00");
    assert_eq!(first["holds"][0]["reason_code"], "ACCOUNT_CLOSED");
    let again = json(&subsidy(db, &["--json", "reconcile", "--file", &file, "--by", "operator"]));
    assert_eq!((again["unchanged"].as_u64(), again["recorded"].as_object().map(|o| o.len())), (Some(2), Some(0)));

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "transfer_id,status,reason_code\n110102-2020-01-R1-000002,paid,\n").unwrap();
    let refused = subsidy(db, &["reconcile", "--file", &bad.display().to_string(), "--by", "operator"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("line 2: transfer 110102-2020-01-R1-000002 is failed (ACCOUNT_CLOSED)"), "{message}");

    let status = json(&subsidy(db, &["--json", "status"]));
    assert_eq!(status["batches"][0]["state"], "settled");
    assert_eq!(status["waiting"][0]["kind"], "failed");
    assert_eq!(status["waiting"][0]["amount"], "100.00");
    let ledger = subsidy(db, &["verify", "--ledger"]);
    assert_eq!(ledger.status.code(), Some(0), "{}", String::from_utf8_lossy(&ledger.stdout));

    let [a, b] = ids();
    ok(&subsidy(db, &["hold", "--id", &a, "--reason", "review", "--by", "chief"]));
    let feb = ok(&subsidy(db, &["run", "--month", "2020-02", "--by", "operator"]));
    assert!(feb.contains("held (L3): 3 lines, 300.00 yuan"), "{feb}");
    ok(&subsidy(db, &["approve", "--batch", "110102-2020-02-R1", "--by", "reviewer"]));
    ok(&subsidy(db, &["export", "--batch", "110102-2020-02-R1", "--out", &out_s]));
    let held = std::fs::read_to_string(out.join("110102-2020-02-R1-held.csv")).unwrap();
    assert!(held.contains(&format!("{a},赵一,longevity,2020-02,100.00,ON_HOLD")), "{held}");
    assert!(held.contains(&format!("{b},钱二,longevity,2020-01,100.00,ACCOUNT_CLOSED")), "{held}");
    let released = json(&subsidy(db, &["--json", "release", "--id", &a, "--reason", "done", "--by", "chief"]));
    assert_eq!(released["released"][0]["kind"], "ON_HOLD");
    let none = subsidy(db, &["release", "--id", &a, "--reason", "again", "--by", "chief"]);
    assert_eq!(none.status.code(), Some(1), "nothing left to release");
    let ledger = json(&subsidy(db, &["--json", "verify", "--ledger"]));
    assert_eq!((ledger["balanced"].as_bool(), ledger["owed"].as_str()), (Some(true), Some("400.00")));
    assert_eq!((ledger["paid"].as_str(), ledger["held"].as_str()), (Some("100.00"), Some("300.00")));
}

#[test]
fn l3_reconcile_hold_release_status_and_ledger_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    session(&format!("sqlite://{}", tmp.path().join("t.db").display()), tmp.path());
}

#[test]
fn l3_reconcile_hold_release_status_and_ledger_on_postgres() {
    let Some(pg) = PgDatabase::fresh("cli_platform") else { return };
    let tmp = tempfile::tempdir().unwrap();
    session(&pg.url, tmp.path());
}

/// Issue 11 through the binary: a result file of 1,500 unknown transfers is refused saying how
/// many problems it has, the first twenty and how many more; a GB18030 file (CRLF, the bank's
/// words in Chinese) read as UTF-8 is refused at its first line that is not, and read with
/// `--encoding gb18030` records January; the bank's pain.002 saying the same changes nothing.
fn encodings_and_many_problems(db: &str, dir: &Path) {
    let out = dir.join("out");
    ok(&subsidy(db, &["init", "--start-month", "2020-01"]));
    ok(&subsidy(db, &["import", &registry(dir)]));
    ok(&subsidy(db, &["run", "--month", "2020-01", "--by", "operator"]));
    ok(&subsidy(db, &["approve", "--batch", "110102-2020-01-R1", "--by", "reviewer"]));
    ok(&subsidy(db, &["export", "--batch", "110102-2020-01-R1", "--out", &out.display().to_string()]));

    let many = dir.join("many.csv");
    let rows: String = (1..=1500).map(|n| format!("110102-2020-01-R1-9{n:05},paid,\n")).collect();
    std::fs::write(&many, format!("transfer_id,status,reason_code\n{rows}")).unwrap();
    let refused = subsidy(db, &["reconcile", "--file", &many.display().to_string(), "--by", "operator"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("was refused, nothing recorded (1500 problems)"), "{message}");
    assert!(message.contains("line 2: transfer 110102-2020-01-R1-900001 is not in this database"), "{message}");
    assert!(message.contains("line 21: transfer 110102-2020-01-R1-900020 is not"), "{message}");
    assert!(!message.contains("line 22:"), "twenty shown: {message}");
    assert!(message.contains("… and 1480 more"), "{message}");

    let text = "transfer_id,status,reason_code,reason\r\n110102-2020-01-R1-000001,paid,,\r\n\
                110102-2020-01-R1-000002,failed,ACCOUNT_CLOSED,销户\r\n";
    let gb = dir.join("results-gb18030.csv");
    std::fs::write(&gb, subsidy::adapters::registry_csv::encoding::Encoding::Gb18030.encode(text)).unwrap();
    let gb = gb.display().to_string();
    let refused = subsidy(db, &["reconcile", "--file", &gb, "--by", "operator"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("(1 problem)"), "{message}");
    assert!(message.contains("line 3: not UTF-8 (Excel on Chinese Windows saves GB18030)"), "{message}");
    let done = json(&subsidy(db, &["--json", "reconcile", "--file", &gb, "--encoding", "gb18030", "--by", "operator"]));
    assert_eq!((done["answers"].as_u64(), done["format"].as_str()), (Some(2), Some("csv")));
    assert_eq!(done["recorded"]["paid"]["amount"], "100.00");
    assert_eq!(done["recorded"]["failed"]["amount"], "100.00");
    assert_eq!(done["holds"][0]["reason_code"], "ACCOUNT_CLOSED");

    let xml = dir.join("pain002.xml");
    let tx = |id: &str, status: &str, reason: &str| {
        format!("<TxInfAndSts><OrgnlEndToEndId>{id}</OrgnlEndToEndId><TxSts>{status}</TxSts>{reason}</TxInfAndSts>\n")
    };
    std::fs::write(
        &xml,
        format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.12\">\
             <CstmrPmtStsRpt><GrpHdr><MsgId>S1</MsgId><CreDtTm>2020-02-05T10:00:00+08:00</CreDtTm></GrpHdr>\
             <OrgnlGrpInfAndSts><OrgnlMsgId>110102-2020-01-R1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>\
             </OrgnlGrpInfAndSts><OrgnlPmtInfAndSts><OrgnlPmtInfId>110102-2020-01-R1</OrgnlPmtInfId>\r\n{}{}\
             </OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>\r\n",
            tx("110102-2020-01-R1-000001", "ACSC", ""),
            tx("110102-2020-01-R1-000002", "RJCT", "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf>")
        ),
    )
    .unwrap();
    let again = json(&subsidy(db, &["--json", "reconcile", "--file", &xml.display().to_string(), "--by", "operator"]));
    assert_eq!((again["format"].as_str(), again["unchanged"].as_u64()), (Some("pain002"), Some(2)));
    assert_eq!(again["recorded"].as_object().map(|o| o.len()), Some(0));
}

#[test]
fn issue11_reconcile_encodings_and_many_problems_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    encodings_and_many_problems(&format!("sqlite://{}", tmp.path().join("t.db").display()), tmp.path());
}

#[test]
fn issue11_reconcile_encodings_and_many_problems_on_postgres() {
    let Some(pg) = PgDatabase::fresh("cli_platform_issue11") else { return };
    let tmp = tempfile::tempdir().unwrap();
    encodings_and_many_problems(&pg.url, tmp.path());
}
