//! Issue 10, point 2: many workers. 8 `subsidy run` and 8 `subsidy schedule --once` processes
//! start at once on the same month over a registry of three districts; every process exits 0 or 4,
//! every district gets exactly one batch, and the batches are those a lone run computes (same
//! transfers, same control sums, same lines): each district is computed exactly once, whoever
//! claims it (the district's run lock). Repeated (`SUBSIDY_TEST_SCALE`: `small`, the default, 3
//! rounds; otherwise 10) on SQLite and, when `SUBSIDY_TEST_PG_URL` is set, on PostgreSQL.
//!
//! The registry: a generated Xicheng (110102, seed 11, 1,500 elders: a batch long enough for the
//! processes to overlap) plus 40 elders each in Dongcheng (110101) and Chaoyang (110105), born
//! 1935 (80-89: 100.00 a month, R2), approved for longevity in October 2019 (T5).

mod cli_support;

use cli_support::{bin, ok, subsidy, PgDatabase};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn rounds() -> usize {
    match std::env::var("SUBSIDY_TEST_SCALE").as_deref() {
        Ok("small") | Err(_) => 3,
        Ok(_) => 10,
    }
}

fn registry(dir: &Path, xicheng: u32) -> PathBuf {
    let reg = dir.join("registry");
    let n = xicheng.to_string();
    ok(&subsidy(
        "sqlite://unused.db",
        &["generate", "--elders", &n, "--seed", "11", "--out", &reg.display().to_string()],
    ));
    let born = chrono::NaiveDate::from_ymd_opt(1935, 4, 1).unwrap();
    let (mut elders, mut applications) = (String::new(), String::new());
    for (district, street) in [("110101", "110101007"), ("110105", "110105001")] {
        for seq in 0..40u32 {
            let id = subsidy::idcard::make(district, born, 300 + seq);
            elders.push_str(&format!("{id},周{seq},1935-04-01,{district},{street},,,,shebao,62170000000{seq:08}\n"));
            applications.push_str(&format!("{id},longevity,2019-10-08,approved,2019-10-20\n"));
        }
    }
    for (file, rows) in [("elders.csv", elders), ("applications.csv", applications)] {
        let path = reg.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&rows);
        std::fs::write(&path, text).unwrap();
    }
    reg
}

/// What identifies a batch's content: id, transfers, control sum, lottery and district shares.
fn batches(db: &str) -> Vec<(String, i64, String, String, String)> {
    let out = ok(&subsidy(db, &["--json", "status"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut rows: Vec<_> = v["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let n = |k: &str| b[k].as_i64().unwrap();
            let yuan = |k: &str| b[k].as_str().unwrap().to_string();
            (
                b["batch_id"].as_str().unwrap().to_string(),
                n("transfer_count"),
                yuan("control_sum"),
                yuan("lottery_amount"),
                yuan("district_amount"),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn prepared(db: &str, reg: &Path) {
    ok(&subsidy(db, &["init", "--start-month", "2020-01"]));
    ok(&subsidy(db, &["import", &reg.display().to_string()]));
}

/// 16 processes at once on `db`, at 2020-01-26 02:00:30 Beijing (February is due).
fn sixteen_workers(db: &str) -> Vec<Output> {
    let now = "2020-01-26T02:00:30+08:00";
    let children: Vec<_> = (0..16)
        .map(|i| {
            let args: Vec<String> = if i % 2 == 0 {
                vec!["run".into(), "--month".into(), "2020-02".into(), "--by".into(), format!("operator{i}")]
            } else {
                vec!["schedule".into(), "--once".into(), "--by".into(), format!("scheduler{i}")]
            };
            Command::new(bin())
                .env("DATABASE_URL", db)
                .env("SUBSIDY_NOW", now)
                .env_remove("SUBSIDY_TODAY")
                .env_remove("SUBSIDY_DISTRICT")
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect()
}

fn each_district_once(fresh: impl Fn(usize) -> (String, Option<PgDatabase>)) {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path(), 1_500);
    let (lone, _keep) = fresh(0);
    prepared(&lone, &reg);
    let out = Command::new(bin())
        .env("DATABASE_URL", &lone)
        .env("SUBSIDY_NOW", "2020-01-26T02:00:30+08:00")
        .args(["run", "--month", "2020-02", "--by", "operator"])
        .output()
        .unwrap();
    ok(&out);
    let expected = batches(&lone);
    let ids: Vec<&str> = expected.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(ids, vec!["110101-2020-02-R1", "110102-2020-02-R1", "110105-2020-02-R1"]);
    for round in 1..=rounds() {
        let (db, _keep) = fresh(round);
        prepared(&db, &reg);
        for o in sixteen_workers(&db) {
            let code = o.status.code().unwrap_or(-1);
            assert!(
                code == 0 || code == 4,
                "round {round}: a worker exited {code}:\n{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        assert_eq!(batches(&db), expected, "round {round}: one batch per district, as a lone run computes it");
        let ledger = subsidy(&db, &["verify", "--ledger"]);
        assert_eq!(ledger.status.code(), Some(0), "{}", String::from_utf8_lossy(&ledger.stdout));
        let audit = subsidy(&db, &["verify", "--audit"]);
        assert_eq!(audit.status.code(), Some(0), "{}", String::from_utf8_lossy(&audit.stdout));
    }
}

#[test]
fn t1_sixteen_workers_compute_each_district_once_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    each_district_once(|i| (format!("sqlite://{}", dir.join(format!("w{i}.db")).display()), None));
}

#[test]
fn t1_sixteen_workers_compute_each_district_once_on_postgres() {
    if PgDatabase::fresh("cli_workers_probe").is_none() {
        return;
    }
    each_district_once(|i| {
        let pg = PgDatabase::fresh(&format!("cli_workers_{i}")).expect("PostgreSQL");
        (pg.url.clone(), Some(pg))
    });
}

/// SIGTERM during a three-district run: the district in progress (Xicheng, the long one) is
/// finished, those after it are not started, the process says which were done and exits 1;
/// running the month again computes only what was left.
#[cfg(unix)]
#[test]
fn t1_sigterm_during_a_three_district_run_finishes_the_district_in_progress() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    // Xicheng long enough (6,000 elders) that the signal arrives while it runs.
    let reg = registry(tmp.path(), 6_000);
    let db = format!("sqlite://{}", tmp.path().join("t.db").display());
    prepared(&db, &reg);
    let mut child = Command::new(bin())
        .env("DATABASE_URL", &db)
        .env("SUBSIDY_NOW", "2020-01-26T02:00:30+08:00")
        .args(["run", "--month", "2020-02", "--by", "operator"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Districts run in code order: Dongcheng (40 elders), Xicheng (6,000), Chaoyang (40). Once
    // Dongcheng's batch is printed, Xicheng is in progress.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("110101-2020-02-R1") {
        line.clear();
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    // The signal lands while Xicheng runs (it is finished) or just before it starts (it is not
    // started): either way no district is half done, and the process names both lists.
    let all = ["110101", "110102", "110105"];
    let said = |done: usize| {
        format!(
            "stopped on request: districts done: {}; not started: {}",
            all[..done].join(", "),
            all[done..].join(", ")
        )
    };
    let done = (1..3).find(|d| stderr.contains(&said(*d))).unwrap_or_else(|| panic!("{stderr}"));
    let ids: Vec<String> = batches(&db).into_iter().map(|b| b.0).collect();
    let expected: Vec<String> = all[..done].iter().map(|d| format!("{d}-2020-02-R1")).collect();
    assert_eq!(ids, expected, "the districts done have their batch, the others none");
    let again = Command::new(bin())
        .env("DATABASE_URL", &db)
        .env("SUBSIDY_NOW", "2020-01-26T02:05:00+08:00")
        .args(["run", "--month", "2020-02", "--by", "operator"])
        .output()
        .unwrap();
    ok(&again);
    let ids: Vec<String> = batches(&db).into_iter().map(|b| b.0).collect();
    assert_eq!(ids, vec!["110101-2020-02-R1", "110102-2020-02-R1", "110105-2020-02-R1"]);
}
