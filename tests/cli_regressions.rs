//! Regressions of the review fixes that only the binary shows: `run` refuses a month beyond the
//! next one to pay (T1), reject details mask long values, `verify` refuses files of a batch that
//! is not exported. Each test runs `subsidy` on its own SQLite file, with `SUBSIDY_TODAY` fixed.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_subsidy")
}

/// Run `subsidy` on a database with today fixed, as the login `cli-test` (init and import record
/// who acted; commands refuse to change anything without a name).
fn subsidy(db: &str, today: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .env("DATABASE_URL", db)
        .env("USER", "cli-test")
        .env("SUBSIDY_TODAY", today)
        .env_remove("SUBSIDY_DISTRICT")
        .args(args)
        .output()
        .expect("run subsidy")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

fn ok(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "failed ({:?}): {stdout}\n{stderr}", out.status.code());
    stdout
}

const ELDERS: &str = concat!(
    "id_number,name,birth_date,district_code,street_code,",
    "hukou_in_date,hukou_out_date,death_date,account_type,account_no"
);

fn id(birth: &str, seq: u32) -> String {
    subsidy::idcard::make("110102", chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap(), seq)
}

/// One Xicheng elder, 84 in 2020 (R2: 80-89, 100 a month), applied 2019-10-08 (T5, T7: paid from
/// the start month).
fn registry(dir: &Path) -> String {
    let steady = id("1935-04-01", 202);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("elders.csv"),
        format!("{ELDERS}\n{steady},钱二,1935-04-01,110102,110102007,,,,shebao,6217000000000000022\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("applications.csv"),
        format!(
            "id_number,allowance,applied_on,decision,decided_on\n{steady},longevity,2019-10-08,approved,2019-10-20\n"
        ),
    )
    .unwrap();
    steady
}

/// A database initialised with start month 2020-01 (T7) and the one-elder registry imported.
fn prepared(dir: &Path, today: &str) -> String {
    let db = format!("sqlite://{}", dir.join("t.db").display());
    ok(&subsidy(&db, today, &["init", "--start-month", "2020-01"]));
    let reg = dir.join("registry");
    registry(&reg);
    ok(&subsidy(&db, today, &["import", &reg.display().to_string()]));
    db
}

fn batch_ids(db: &str, today: &str) -> Vec<String> {
    let out = subsidy(db, today, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    let mut ids: Vec<String> = v["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| b["batch_id"].as_str().expect("batch_id").to_string())
        .collect();
    ids.sort();
    ids
}

/// T1: month M is paid in advance, before the end of M−1. On 2020-05-20 the next month to pay is
/// 2020-06: `run --month 2020-06` computes it (exit 0); 2020-07 is beyond it, a typo (exit 2,
/// wrong usage, naming 2020-06, nothing written). Likewise `rerun`, and across a year's end.
#[test]
fn run_refuses_a_month_after_the_next_one_to_pay() {
    let tmp = tempfile::tempdir().unwrap();
    let today = "2020-05-20";
    let db = prepared(tmp.path(), today);

    let refused = subsidy(&db, today, &["run", "--month", "2020-07", "--by", "alice"]);
    let (stdout, stderr) = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "run --month 2020-07 on 2020-05-20: {stdout}\n{stderr}");
    assert!(stderr.contains("2020-07") && stderr.contains("2020-06"), "the message names both months: {stderr}");
    assert_eq!(batch_ids(&db, today), Vec::<String>::new(), "the refused run wrote no batch");

    // The next month is allowed: 2020-06, with 2020-01 … 2020-05 as arrears (T7: from 2020-01).
    let out = ok(&subsidy(&db, today, &["run", "--month", "2020-06", "--by", "alice"]));
    assert!(out.contains("batch 110102-2020-06-R1 (regular"), "{out}");
    assert_eq!(batch_ids(&db, today), vec!["110102-2020-06-R1".to_string()]);

    for args in [
        vec!["run", "--month", "2020-07", "--by", "alice"],
        vec!["run", "--month", "2020-07", "--by", "alice", "--dry-run"],
        vec!["rerun", "--month", "2020-07", "--reason", "typo", "--by", "alice"],
        vec!["--json", "run", "--month", "2020-07", "--by", "alice"],
    ] {
        let out = subsidy(&db, today, &args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.contains("2020-06"), "{args:?}: the message names 2020-06: {stderr}");
    }
    // Across the year's end: on 2020-12-31 the next month is 2021-01; 2021-02 is refused.
    let late = subsidy(&db, "2020-12-31", &["run", "--month", "2021-02", "--by", "alice"]);
    let (stdout, stderr) = text(&late);
    assert_eq!(late.status.code(), Some(2), "run --month 2021-02 on 2020-12-31: {stdout}\n{stderr}");
    assert!(stderr.contains("2021-01"), "names 2021-01: {stderr}");
    assert_eq!(batch_ids(&db, today), vec!["110102-2020-06-R1".to_string()], "still one batch");
}

/// A row whose columns are shifted puts an account number (19 digits) where a code, a date or a
/// street was expected: the reject names the row, but never prints the number in full (nor the
/// row's ID number): no run of 18 or more digits anywhere in the output, text or JSON.
#[test]
fn import_rejects_mask_long_values() {
    let tmp = tempfile::tempdir().unwrap();
    let today = "2020-05-20";
    let db = format!("sqlite://{}", tmp.path().join("t.db").display());
    ok(&subsidy(&db, today, &["init", "--start-month", "2020-01"]));
    let (a, b, c, d, e) =
        (id("1935-04-01", 11), id("1935-04-02", 12), id("1935-04-03", 13), id("1935-04-04", 14), id("1935-04-05", 15));
    let account = "6217000000000000011";
    let reg = tmp.path().join("shifted");
    std::fs::create_dir_all(&reg).unwrap();
    std::fs::write(
        reg.join("elders.csv"),
        [
            format!("{ELDERS},deleted\n"),
            // line 2: account_type holds the account number, account_no the type → UNKNOWN_CODE
            format!("{a},甲,1935-04-01,110102,110102003,,,,{account},shebao,\n"),
            // line 3: the number as a date → BAD_DATE
            format!("{b},乙,1935-04-02,110102,110102003,{account}1,,,shebao,1,\n"),
            // line 4: as a street → STREET_OUTSIDE_DISTRICT
            format!("{c},丙,1935-04-03,110102,{account}2,,,,shebao,1,\n"),
            // line 5: as a district → UNKNOWN_CODE
            format!("{d},丁,1935-04-04,{account}3,110102003,,,,shebao,1,\n"),
            // line 6: as the deleted flag → BAD_VALUE
            format!("{e},戊,1935-04-05,110102,110102003,,,,shebao,1,{account}4\n"),
        ]
        .concat(),
    )
    .unwrap();
    let want = [
        ("elders.csv:2 UNKNOWN_CODE", "6217***********0011"),
        ("elders.csv:3 BAD_DATE", "6217************0111"),
        ("elders.csv:4 STREET_OUTSIDE_DISTRICT", "6217************0112"),
        ("elders.csv:5 UNKNOWN_CODE", "6217************0113"),
        ("elders.csv:6 BAD_VALUE", "6217************0114"),
    ];
    for json in [false, true] {
        let mut args = vec!["import", reg.to_str().unwrap()];
        if json {
            args.insert(0, "--json");
        }
        let out = subsidy(&db, today, &args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "rejected rows give exit 3: {stdout}\n{stderr}");
        for (row, masked) in want {
            if json {
                let (file_line, code) = row.split_once(' ').unwrap();
                let line: u64 = file_line.split_once(':').unwrap().1.parse().unwrap();
                let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("import json");
                let r = v["rejects"]
                    .as_array()
                    .expect("rejects")
                    .iter()
                    .find(|r| r["line"].as_u64() == Some(line))
                    .unwrap_or_else(|| panic!("no reject for line {line}: {stdout}"));
                assert_eq!(r["reason"], code, "{stdout}");
                assert!(r.to_string().contains(masked), "line {line} shows {masked}: {r}");
            } else {
                let shown = stdout.lines().find(|l| l.trim_start().starts_with(row));
                assert!(shown.is_some_and(|l| l.contains(masked)), "`{row}` showing {masked}:\n{stdout}");
            }
        }
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            let longest = text.split(|ch: char| !ch.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            assert!(longest < 18, "{stream} (json {json}) shows a run of {longest} digits:\n{text}");
        }
    }
}

/// INTERFACE.md: `discard` drops a batch that is not exported; `export` writes the files of an
/// approved batch. A batch approved then discarded: `export` fails (exit 1) and writes no file;
/// files of it in a folder (as rendered from the database, byte for byte what an export would
/// have written) are refused by `verify`: exit 5, naming the state.
#[test]
fn verify_of_a_discarded_batchs_files_exits_5() {
    let tmp = tempfile::tempdir().unwrap();
    let today = "2020-05-20";
    let db = prepared(tmp.path(), today);
    let batch = "110102-2020-01-R1";
    ok(&subsidy(&db, today, &["run", "--month", "2020-01", "--by", "alice"]));
    ok(&subsidy(&db, today, &["approve", "--batch", batch, "--by", "bob"]));
    ok(&subsidy(&db, today, &["discard", "--batch", batch, "--reason", "wrong account", "--by", "alice"]));
    let out_dir = tmp.path().join("out");
    let export = subsidy(&db, today, &["export", "--batch", batch, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(export.status.code(), Some(1), "export of a discarded batch: {:?}", text(&export));
    let written = std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(written, 0, "no file written for the discarded batch");

    // The batch's files as the database renders them.
    let stale = tmp.path().join("stale");
    std::fs::create_dir_all(&stale).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use subsidy::store::LedgerStore;
        let store = subsidy::store::SqliteStore::open(&db).await.unwrap();
        let b = store.batch(batch).await.unwrap().expect("batch");
        assert_eq!(b.state, subsidy::ledger::BatchState::Discarded);
        let files = subsidy::adapters::platform::render(
            &b,
            &store.batch_transfers(batch).await.unwrap(),
            &store.batch_postings(batch).await.unwrap(),
        );
        assert_eq!(files.len(), 6);
        for f in files {
            std::fs::write(stale.join(&f.name), &f.bytes).unwrap();
        }
        store.close().await;
    });

    let verified = subsidy(&db, today, &["verify", "--batch", batch, "--dir", stale.to_str().unwrap()]);
    let (stdout, stderr) = text(&verified);
    assert_eq!(verified.status.code(), Some(5), "verify of a discarded batch's files: {stdout}\n{stderr}");
    assert!(stdout.contains(&format!("batch {batch} is discarded, not exported")), "names the state: {stdout}");
    let verified = subsidy(&db, today, &["--json", "verify", "--batch", batch, "--dir", stale.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(5));
    let v: serde_json::Value = serde_json::from_slice(&verified.stdout).expect("verify json");
    assert_eq!(v["ok"], false);
    assert!(v["differences"][0].as_str().is_some_and(|d| d.contains("discarded")), "{v}");
}
