//! `subsidy schedule` as cron or systemd runs it, the clock fixed from outside (`SUBSIDY_NOW`):
//! three months and two districts, a missed month, a second start that changes nothing, a due run
//! refused while the previous batch waits for export; and the long-running process stopped by
//! SIGTERM while it waits. On SQLite, and on PostgreSQL when `SUBSIDY_TEST_PG_URL` is set.
//!
//! The registry: one elder in Xicheng (110102) and one in Dongcheng (110101), both born 1935 (80-89:
//! 100.00 a month, R2), approved for longevity in October 2019 (T5), paid from 2020-01 (T7). The
//! timetable is the default policy's (T1): 02:00 on the 26th, Asia/Shanghai.

mod cli_support;

use cli_support::{bin, elder_1935, ok, registry_dir, PgDatabase};
use std::path::Path;
use std::process::{Command, Output};

fn registry(dir: &Path) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1935, 4, 1).unwrap();
    let (x, d) = (subsidy::idcard::make("110102", birth, 501), subsidy::idcard::make("110101", birth, 502));
    let elders = [
        elder_1935(&x, "孙三", "110102", "110102007", "6217000000000000501"),
        elder_1935(&d, "李四", "110101", "110101001", "6217000000000000502"),
    ];
    registry_dir(dir, "registry", &elders.concat(), &[&x, &d])
}

/// `subsidy` at the instant `now` (RFC 3339).
fn at(db: &str, now: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .env("DATABASE_URL", db)
        .env("USER", "scheduler")
        .env("SUBSIDY_NOW", now)
        .env_remove("SUBSIDY_TODAY")
        .env_remove("SUBSIDY_DISTRICT")
        .args(args)
        .output()
        .expect("run subsidy")
}

fn schedule_json(db: &str, now: &str) -> serde_json::Value {
    let out = at(db, now, &["--json", "schedule", "--once"]);
    ok(&out);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn outcomes(v: &serde_json::Value) -> Vec<(String, String)> {
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["district_code"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
        .collect()
}

fn pay_out(db: &str, month: &str, dir: &Path) {
    for district in ["110101", "110102"] {
        let batch = format!("{district}-{month}-R1");
        ok(&at(db, "2020-01-01T12:00:00+08:00", &["approve", "--batch", &batch, "--by", "reviewer"]));
        ok(&at(db, "2020-01-01T12:00:00+08:00", &["export", "--batch", &batch, "--out", &dir.display().to_string()]));
    }
}

fn three_months(db: &str, dir: &Path) {
    ok(&at(db, "2019-12-20T10:00:00+08:00", &["init", "--start-month", "2020-01"]));
    ok(&at(db, "2019-12-20T10:00:00+08:00", &["import", &registry(dir)]));
    let out = dir.join("out");

    // Before the first run's time: nothing is due.
    let early = schedule_json(db, "2019-12-26T01:59:00+08:00");
    assert!(early["due"].is_null(), "{early}");
    assert_eq!(early["next"]["service_month"], "2020-01");

    // 2019-12-26 02:00:30 (on time): 2020-01 for both districts.
    let jan = schedule_json(db, "2019-12-26T02:00:30+08:00");
    assert_eq!(jan["due"]["service_month"], "2020-01");
    assert!(jan["late_minutes"].is_null());
    let both = |what: &str| vec![("110101".to_string(), what.to_string()), ("110102".to_string(), what.to_string())];
    assert_eq!(outcomes(&jan), both("computed"));
    assert_eq!(jan["next"]["service_month"], "2020-02");
    pay_out(db, "2020-01", &out);

    // 2020-01-26 02:01: 2020-02.
    let feb = schedule_json(db, "2020-01-26T02:01:00+08:00");
    assert_eq!((feb["due"]["service_month"].as_str(), outcomes(&feb)), (Some("2020-02"), both("computed")));
    pay_out(db, "2020-02", &out);

    // The machine is down on 2020-02-26 and on 2020-03-26; it starts on 2020-03-27 09:00: April
    // is due (its run was at 2020-03-26 02:00, 31 hours ago); March had no batch of its own in
    // either district and is settled by April's run: 200.00 each (March arrears + April).
    let apr = schedule_json(db, "2020-03-27T09:00:00+08:00");
    assert_eq!(apr["due"]["service_month"], "2020-04");
    assert_eq!(apr["late_minutes"], 31 * 60);
    assert_eq!(apr["caught_up"]["110101"], serde_json::json!(["2020-03"]));
    assert_eq!(apr["caught_up"]["110102"], serde_json::json!(["2020-03"]));
    assert_eq!(outcomes(&apr), both("computed"));
    let status = at(db, "2020-03-27T09:00:00+08:00", &["--json", "status", "--month", "2020-04"]);
    let status: serde_json::Value = serde_json::from_slice(&ok(&status).into_bytes()).unwrap();
    for b in status["batches"].as_array().unwrap() {
        assert_eq!((b["transfer_count"].as_i64(), b["control_sum"].as_str()), (Some(1), Some("200.00")), "{b}");
    }

    // Started again at the same instant (a second worker, a restart): nothing changes, not late.
    let again = schedule_json(db, "2020-03-27T09:05:00+08:00");
    assert_eq!(outcomes(&again), both("existing"));
    assert!(again["late_minutes"].is_null() && again["caught_up"].as_object().unwrap().is_empty(), "{again}");

    // 2020-04-26 02:00: May is due, but April's batches are not exported: refused as `run` is,
    // naming the batch that waits.
    let refused = at(db, "2020-04-26T02:00:10+08:00", &["schedule", "--once"]);
    assert_eq!(refused.status.code(), Some(1));
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("district 110102: refused: batch 110102-2020-04-R1 (2020-04) is computed"), "{text}");
}

#[test]
fn t1_schedule_runs_three_months_with_a_missed_one_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    three_months(&format!("sqlite://{}", tmp.path().join("s.db").display()), tmp.path());
}

#[test]
fn t1_schedule_runs_three_months_with_a_missed_one_on_postgres() {
    let Some(pg) = PgDatabase::fresh("cli_schedule") else { return };
    let tmp = tempfile::tempdir().unwrap();
    three_months(&pg.url, tmp.path());
}

/// The long-running process: started two seconds before the run's time, it runs 2020-01 on
/// time, says when the next run is, and a SIGTERM while it waits ends it at once with status 0.
#[cfg(unix)]
#[test]
fn t1_schedule_waits_runs_on_time_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("s.db").display());
    ok(&at(&db, "2019-12-20T10:00:00+08:00", &["init", "--start-month", "2020-01"]));
    ok(&at(&db, "2019-12-20T10:00:00+08:00", &["import", &registry(tmp.path())]));
    let started = std::time::Instant::now();
    let mut child = Command::new(bin())
        .env("DATABASE_URL", &db)
        .env("USER", "scheduler")
        .env("SUBSIDY_NOW", "2019-12-26T01:59:58+08:00")
        .arg("schedule")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn schedule");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.starts_with("next run:") && line.ends_with("for 2020-02") {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "no run within a minute: {seen:?}");
    }
    assert!(seen.iter().any(|l| l == "schedule (0 0 2 26 * * Asia/Shanghai): nothing is due yet"), "{seen:?}");
    assert!(seen.iter().any(|l| l.contains("2020-01 is due since 2019-12-26 02:00")), "{seen:?}");
    assert!(started.elapsed().as_secs_f64() >= 1.5, "ran before its time");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("schedule stopped while waiting; nothing was running"), "{stderr}");
}

/// Under cron or a pipe (stderr not a terminal) nothing is drawn: no carriage return, no escape
/// sequence in what `import` and `run` write; their summaries are printed as always.
#[test]
fn no_progress_bars_when_stderr_is_not_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("p.db").display());
    ok(&at(&db, "2019-12-20T10:00:00+08:00", &["init", "--start-month", "2020-01"]));
    let import = at(&db, "2019-12-20T10:00:00+08:00", &["import", &registry(tmp.path())]);
    let run = at(&db, "2019-12-26T03:00:00+08:00", &["run", "--month", "2020-01", "--by", "operator"]);
    for (name, out) in [("import", &import), ("run", &run)] {
        ok(out);
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(!all.iter().any(|b| *b == b'\r' || *b == 0x1b), "{name} drew progress on a pipe");
    }
    assert!(String::from_utf8_lossy(&import.stdout).contains("elders.csv"), "the import's summary");
    assert!(String::from_utf8_lossy(&run.stdout).contains("batch 110102-2020-01-R1"), "the run's summary");
}
