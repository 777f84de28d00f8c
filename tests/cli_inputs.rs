//! Issue 7, points 11 and 8, as the binary shows them. Point 11: registry files as offices write
//! them (CRLF line ends, GB18030/GBK from Chinese Excel). Point 8: identities compared as people
//! compare them (trimmed, case-folded), never empty, never a silent stand-in. Each test runs
//! `subsidy` on its own SQLite file with today fixed at 2020-01-10.

use std::path::Path;
use std::process::{Command, Output};

const TODAY: &str = "2020-01-10";

/// Run `subsidy` on a database as the login `cli-test` (or, with `login` = None, with no
/// $USER/$LOGNAME at all).
fn subsidy_as(login: Option<&str>, db: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_subsidy"));
    cmd.env("DATABASE_URL", db).env("SUBSIDY_TODAY", TODAY).env_remove("SUBSIDY_DISTRICT").env_remove("LOGNAME");
    match login {
        Some(name) => cmd.env("USER", name),
        None => cmd.env_remove("USER"),
    };
    cmd.args(args).output().expect("run subsidy")
}

fn subsidy(db: &str, args: &[&str]) -> Output {
    subsidy_as(Some("cli-test"), db, args)
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

/// The output's exit status, checked against `want`; stdout and stderr.
fn exits(out: &Output, want: i32) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(want), "exit status; stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

const ELDERS: &str = concat!(
    "id_number,name,birth_date,district_code,street_code,",
    "hukou_in_date,hukou_out_date,death_date,account_type,account_no\n"
);

fn id(birth: &str, seq: u32) -> String {
    subsidy::idcard::make("110102", chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap(), seq)
}

/// Xicheng elder 钱二, 84 in 2020 (R2: 80-89, 100 yuan a month); `elders.csv` text and ID.
fn qian() -> (String, String) {
    let id = id("1935-04-01", 202);
    (format!("{id},钱二,1935-04-01,110102,110102007,,,,shebao,6217000000000000022\n"), id)
}

/// Her approved application, 2019-10-08 (T5, T7: paid from the start month 2020-01).
fn application(id: &str) -> String {
    format!("id_number,allowance,applied_on,decision,decided_on\n{id},longevity,2019-10-08,approved,2019-10-20\n")
}

/// `elders.csv` with one row as Chinese Excel saves it: GB18030/GBK, CRLF line ends.
fn gbk_elders(row: &str) -> Vec<u8> {
    let text = format!("{ELDERS}{row}").replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable && bytes.len() != text.len(), "GBK differs from UTF-8 for a Chinese name");
    bytes.into_owned()
}

/// A database initialised with start month 2020-01 (T7).
fn initialised(dir: &Path) -> String {
    let db = format!("sqlite://{}", dir.join("t.db").display());
    exits(&subsidy(&db, &["init", "--start-month", "2020-01"]), 0);
    db
}

/// Registry files in `dir/registry`, given as bytes.
fn registry(dir: &Path, files: &[(&str, &[u8])]) -> String {
    let reg = dir.join("registry");
    std::fs::create_dir_all(&reg).unwrap();
    for (name, bytes) in files {
        std::fs::write(reg.join(name), bytes).unwrap();
    }
    reg.display().to_string()
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).expect("one JSON object")
}

/// (line, reason) of each rejected row of `--json` import output.
fn rejects(v: &serde_json::Value) -> Vec<(u64, String)> {
    v["rejects"]
        .as_array()
        .expect("rejects")
        .iter()
        .map(|r| (r["line"].as_u64().expect("line"), r["reason"].as_str().expect("reason").to_string()))
        .collect()
}

/// Point 11: a CRLF file (Excel, Python's csv module) reports rejected rows at their physical
/// lines, header = line 1, as an LF file does; a record whose quoted name spans two lines is
/// reported at the line it starts on, and the rows after it keep their own lines.
#[test]
fn import_crlf_reports_physical_lines() {
    let (good, _) = qian();
    let wrong = id("1936-07-07", 303);
    // Line 3-4: a quoted name across a line break, and a birth date that is not the ID's.
    let spanning = format!("{wrong},\"孙\n三\",1936-07-08,110102,110102009,,,,minzheng,6217000000000000033\n");
    // Line 5: a date that does not exist.
    let bad_date = format!("{},李四,1936-02-30,110102,110102010,,,,shebao,\n", id("1936-03-01", 404));
    let lf = format!("{ELDERS}{good}{spanning}{bad_date}");
    let crlf = lf.replace('\n', "\r\n");
    assert!(crlf.contains("\"孙\r\n三\""), "the quoted line break is CRLF too");
    for (what, file) in [("LF", lf), ("CRLF", crlf)] {
        let tmp = tempfile::tempdir().unwrap();
        let db = initialised(tmp.path());
        let reg = registry(tmp.path(), &[("elders.csv", file.as_bytes())]);
        let (stdout, _) = exits(&subsidy(&db, &["--json", "import", &reg]), 3);
        let v = json(&stdout);
        assert_eq!(
            rejects(&v),
            vec![(3, "BIRTH_DATE_MISMATCH".to_string()), (5, "BAD_DATE".to_string())],
            "{what} file: {stdout}"
        );
        assert_eq!(v["files"]["elders.csv"]["accepted"], 1, "{what}: line 2 stored");
    }
}

/// Point 11: `elders.csv` saved by Chinese Excel (GB18030/GBK), imported without --encoding, is
/// refused once as a whole (not one BAD_ROW per line), naming GB18030 and the flag; nothing of it
/// is stored, so the application of its elder is refused as of an unknown person; exit 3 as for
/// a file with an unknown column.
#[test]
fn import_gbk_without_encoding_refused_once_naming_gb18030() {
    let tmp = tempfile::tempdir().unwrap();
    let db = initialised(tmp.path());
    let (row, id) = qian();
    let gbk = gbk_elders(&row);
    let reg = registry(tmp.path(), &[("elders.csv", &gbk), ("applications.csv", application(&id).as_bytes())]);

    let (stdout, _) = exits(&subsidy(&db, &["import", &reg]), 3);
    let refused: Vec<&str> = stdout.lines().filter(|l| l.contains("elders.csv:")).collect();
    assert_eq!(refused.len(), 1, "one line for the whole file:\n{stdout}");
    assert!(
        refused[0].trim_start().starts_with(
            "elders.csv:1 BAD_ENCODING: elders.csv is not UTF-8 (first at line 2): it looks like GB18030/GBK \
             (Chinese Windows/Excel); import it with `--encoding gb18030`, or save it as UTF-8; \
             the whole file (1 rows) was not imported"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("applications.csv:2 UNKNOWN_PERSON"), "{stdout}");

    let (_, stderr) = exits(&subsidy(&db, &["explain", "--id", &id, "--month", "2020-01"]), 1);
    assert!(stderr.contains("no person"), "nothing of elders.csv stored: {stderr}");
}

/// Point 11: the same GBK file with `--encoding gb18030` imports (exit 0) and her name is stored
/// as written: the platform's transfers file of the month's batch carries 钱二 and her 100.00
/// (R2: 80-89 in 2020-01, one month since the start month, T7).
#[test]
fn import_gb18030_stores_names_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let db = initialised(tmp.path());
    let (row, id) = qian();
    let gbk = gbk_elders(&row);
    let reg = registry(tmp.path(), &[("elders.csv", &gbk), ("applications.csv", application(&id).as_bytes())]);

    let (stdout, _) = exits(&subsidy(&db, &["--json", "import", "--encoding", "gb18030", &reg]), 0);
    let v = json(&stdout);
    assert_eq!((v["files"]["elders.csv"]["accepted"].as_u64(), rejects(&v).len()), (Some(1), 0), "{stdout}");

    exits(&subsidy(&db, &["run", "--month", "2020-01", "--by", "alice"]), 0);
    exits(&subsidy(&db, &["approve", "--batch", "110102-2020-01-R1", "--by", "bob"]), 0);
    let out = tmp.path().join("out");
    exits(&subsidy(&db, &["export", "--batch", "110102-2020-01-R1", "--out", &out.display().to_string()]), 0);
    let transfers = std::fs::read_to_string(out.join("110102-2020-01-R1-transfers.csv")).unwrap();
    let row = transfers.lines().nth(1).expect("one transfer");
    assert!(row.contains(&format!(",{id},钱二,shebao,")) && row.ends_with(",longevity,100.00"), "{transfers}");
}

/// A database with 钱二's month 2020-01 computed by `alice` (R1, not approved).
fn run_by_alice(dir: &Path) -> String {
    let db = initialised(dir);
    let (row, id) = qian();
    let elders = format!("{ELDERS}{row}");
    let reg = registry(dir, &[("elders.csv", elders.as_bytes()), ("applications.csv", application(&id).as_bytes())]);
    exits(&subsidy(&db, &["import", &reg]), 0);
    exits(&subsidy(&db, &["run", "--month", "2020-01", "--by", "alice"]), 0);
    db
}

fn batch_state(db: &str) -> (String, serde_json::Value) {
    let (stdout, _) = exits(&subsidy(db, &["--json", "status"]), 0);
    let v = json(&stdout);
    let b = &v["batches"][0];
    (b["state"].as_str().expect("state").to_string(), b["approved_by"].clone())
}

/// Point 8: `alice` ran the batch; `Alice` and ` alice ` are alice, refused by four eyes (exit
/// 1, naming the rule); an empty --by is wrong usage (exit 2). Nothing was approved; then bob,
/// given as ` bob `, approves and is recorded as `bob`.
#[test]
fn four_eyes_compares_trimmed_case_folded_names() {
    let tmp = tempfile::tempdir().unwrap();
    let db = run_by_alice(tmp.path());
    let approve = |by: &str| subsidy(&db, &["approve", "--batch", "110102-2020-01-R1", "--by", by]);
    for alice in ["Alice", " alice "] {
        let (_, stderr) = exits(&approve(alice), 1);
        assert!(stderr.contains("alice ran batch 110102-2020-01-R1 and cannot approve it"), "{alice:?}: {stderr}");
    }
    let (_, stderr) = exits(&approve(""), 2);
    assert!(stderr.contains("--by is empty"), "{stderr}");
    assert_eq!(batch_state(&db), ("computed".to_string(), serde_json::Value::Null), "nothing approved");

    exits(&approve(" bob "), 0);
    assert_eq!(batch_state(&db), ("approved".to_string(), serde_json::json!("bob")), "approved by bob, trimmed");
}

/// Point 8: with no --by and neither $USER nor $LOGNAME, nothing is changed under a stand-in
/// name: `run`, `import` and `export` are wrong usage (exit 2) saying to pass --by NAME, and no
/// batch is written. `run --by "  "` likewise.
#[test]
fn state_change_without_identity_is_wrong_usage() {
    let tmp = tempfile::tempdir().unwrap();
    let db = run_by_alice(tmp.path());
    exits(&subsidy(&db, &["discard", "--batch", "110102-2020-01-R1", "--reason", "test", "--by", "alice"]), 0);
    let reg = tmp.path().join("registry").display().to_string();
    for args in [
        vec!["run", "--month", "2020-01"],
        vec!["import", &reg],
        vec!["export", "--batch", "110102-2020-01-R1", "--out", "unused"],
    ] {
        let (_, stderr) = exits(&subsidy_as(None, &db, &args), 2);
        assert!(
            stderr.contains("neither --by nor $USER or $LOGNAME names a person; pass --by NAME"),
            "{args:?}: {stderr}"
        );
    }
    let (_, stderr) = exits(&subsidy_as(None, &db, &["run", "--month", "2020-01", "--by", "  "]), 2);
    assert!(stderr.contains("--by is empty"), "{stderr}");
    let (stdout, _) = exits(&subsidy(&db, &["--json", "status"]), 0);
    assert_eq!(json(&stdout)["batches"].as_array().map(Vec::len), Some(1), "only the discarded R1: {stdout}");
}

/// The demo plays the year 2020: with today's date fixed inside that year its fixtures' later
/// dates are "in the future". It says so in one sentence, naming the first rejected row and what
/// to unset, instead of dumping every reject (220 of them at 2020-06-15).
#[test]
fn demo_with_a_date_inside_2020_says_what_to_unset() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_subsidy"))
        .current_dir(dir.path())
        .env("USER", "cli-test")
        .env("SUBSIDY_TODAY", "2020-06-15")
        .env_remove("SUBSIDY_NOW")
        .env_remove("DATABASE_URL")
        .arg("demo")
        .output()
        .expect("run subsidy demo");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has 220 rejected row(s), the first elders.csv line 31: FUTURE_DATE"), "{err}");
    assert!(err.contains("unset SUBSIDY_TODAY and SUBSIDY_NOW"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line, not a dump: {err}");
}
