//! The binary as an operator (or cron) runs it: crashes, concurrent runs, exit statuses. Heavy
//! tests take their size from `SUBSIDY_TEST_SCALE` (`small`, the default, for CI; `large` for a
//! registry of 100,000 elders). PostgreSQL variants run when `SUBSIDY_TEST_PG_URL` is set.

mod cli_support;

use cli_support::{bin, ok, subsidy};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

fn elders() -> u64 {
    match std::env::var("SUBSIDY_TEST_SCALE").as_deref() {
        Ok("large") => 100_000,
        Ok("medium") => 20_000,
        _ => 4_000,
    }
}

/// A registry generated once per test, imported into a new SQLite database.
fn prepared(dir: &Path, name: &str, registry: &Path) -> String {
    let db = format!("sqlite://{}", dir.join(name).display());
    ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    ok(&subsidy(&db, &["import", &registry.display().to_string()]));
    db
}

fn registry(dir: &Path) -> PathBuf {
    let reg = dir.join("registry");
    ok(&subsidy(
        "sqlite://unused.db",
        &["generate", "--elders", &elders().to_string(), "--seed", "11", "--out", &reg.display().to_string()],
    ));
    reg
}

fn batch_count(db: &str) -> usize {
    let out = subsidy(db, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    v["batches"].as_array().expect("batches").len()
}

fn export_bytes(db: &str, batch: &str, out: &Path) -> Vec<(String, Vec<u8>)> {
    ok(&subsidy(db, &["approve", "--batch", batch, "--by", "reviewer"]));
    ok(&subsidy(db, &["export", "--batch", batch, "--out", &out.display().to_string()]));
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .expect("out")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    files.sort();
    files
}

/// A run killed part-way leaves no batch and no posting; running again gives the same batch, byte
/// for byte, as a run that was never interrupted.
#[test]
fn l4_run_killed_mid_batch_leaves_nothing_and_running_again_gives_the_same_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path());
    let clean = prepared(tmp.path(), "clean.db", &reg);
    let started = Instant::now();
    ok(&subsidy(&clean, &["run", "--month", "2020-03", "--by", "operator"]));
    let full = started.elapsed();
    let expected = export_bytes(&clean, "110102-2020-03-R1", &tmp.path().join("clean-out"));

    let crashed = prepared(tmp.path(), "crashed.db", &reg);
    let mut killed_mid_run = 0;
    for attempt in 1..=3u32 {
        let mut child = Command::new(bin())
            .env("DATABASE_URL", &crashed)
            .args(["run", "--month", "2020-03", "--by", "operator"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(full * attempt / 4);
        let finished = child.try_wait().expect("wait").is_some();
        child.kill().ok();
        child.wait().ok();
        if finished {
            break;
        }
        killed_mid_run += 1;
        assert_eq!(batch_count(&crashed), 0, "a killed run left a batch behind");
    }
    assert!(killed_mid_run > 0, "the run finished before it could be killed; raise SUBSIDY_TEST_SCALE");
    let out = ok(&subsidy(&crashed, &["run", "--month", "2020-03", "--by", "operator"]));
    assert!(out.contains("110102-2020-03-R1"), "{out}");
    let got = export_bytes(&crashed, "110102-2020-03-R1", &tmp.path().join("crashed-out"));
    assert_eq!(got.len(), 4);
    assert_eq!(got, expected, "the batch after a crash differs from an uninterrupted one");
}

/// Two runs of the same month at once: exactly one batch; the other run waits and prints it, or
/// reports the district busy (exit 4). Never two batches, never a posting twice.
fn concurrent_runs_write_one_batch(db: &str) {
    let children: Vec<_> = (0..2)
        .map(|i| {
            Command::new(bin())
                .env("DATABASE_URL", db)
                .args(["run", "--month", "2020-02", "--by", &format!("operator{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
    assert!(codes.iter().all(|c| *c == 0 || *c == 4), "exit statuses {codes:?}: {:?}", outputs);
    let texts: Vec<String> = outputs.iter().map(|o| String::from_utf8_lossy(&o.stdout).to_string()).collect();
    let computed = texts.iter().filter(|t| t.contains("batch 110102-2020-02-R1 (regular")).count();
    assert_eq!(computed, 1, "exactly one run computes the batch: {texts:?}");
    assert_eq!(batch_count(db), 1);
    let status: serde_json::Value = serde_json::from_slice(&subsidy(db, &["status", "--json"]).stdout).unwrap();
    assert_eq!(status["ledger"]["consistent"], true, "balances agree with postings");
}

#[test]
fn l4_concurrent_runs_on_sqlite_write_one_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path());
    let db = prepared(tmp.path(), "c.db", &reg);
    concurrent_runs_write_one_batch(&db);
}

#[test]
fn l4_concurrent_runs_on_postgres_write_one_batch() {
    let Some(pg) = cli_support::PgDatabase::fresh("subsidy_cli") else { return };
    let db = pg.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path());
    ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    ok(&subsidy(&db, &["import", &reg.display().to_string()]));
    concurrent_runs_write_one_batch(&db);
}

/// Exit statuses of INTERFACE.md, as cron sees them.
#[test]
fn exit_statuses_follow_the_interface() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("x.db").display());
    assert_eq!(subsidy(&db, &["init"]).status.code(), Some(2), "first init without --start-month is wrong usage");
    ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    // The start month may change until the first batch exists (issue 13), and is refused after.
    ok(&subsidy(&db, &["init", "--start-month", "2020-02"]));
    ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    let reg = tmp.path().join("bad");
    ok(&subsidy(
        &db,
        &["generate", "--elders", "300", "--seed", "3", "--malformed", "10", "--out", &reg.display().to_string()],
    ));
    let imported = subsidy(&db, &["import", &reg.display().to_string()]);
    assert_eq!(imported.status.code(), Some(3), "rejected rows give exit 3");
    let text = String::from_utf8_lossy(&imported.stdout);
    assert!(text.contains("BAD_ID_CHECKSUM") && text.contains("DUPLICATE_KEY"), "{text}");
    ok(&subsidy(&db, &["run", "--month", "2020-01", "--by", "alice"]));
    let moved = subsidy(&db, &["init", "--start-month", "2020-02"]);
    assert_eq!(moved.status.code(), Some(1), "start month cannot change once a batch exists");
    let said = String::from_utf8_lossy(&moved.stderr);
    assert!(said.contains("now that batch 110102-2020-01-R1 exists"), "{said}");
    assert_eq!(
        subsidy(&db, &["approve", "--batch", "110102-2020-01-R1", "--by", "alice"]).status.code(),
        Some(1),
        "runner cannot approve"
    );
    assert_eq!(
        subsidy(&db, &["export", "--batch", "110102-2020-01-R1", "--out", "x"]).status.code(),
        Some(1),
        "unapproved export refused"
    );
    assert_eq!(
        subsidy(&db, &["run", "--month", "2020-02", "--by", "alice"]).status.code(),
        Some(1),
        "refused while 2020-01 is open"
    );
    ok(&subsidy(&db, &["approve", "--batch", "110102-2020-01-R1", "--by", "bob"]));
    let out = tmp.path().join("out");
    ok(&subsidy(&db, &["export", "--batch", "110102-2020-01-R1", "--out", &out.display().to_string()]));
    ok(&subsidy(&db, &["verify", "--batch", "110102-2020-01-R1", "--dir", &out.display().to_string()]));
    let lines = out.join("110102-2020-01-R1-lines.csv");
    let mut bytes = std::fs::read(&lines).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    std::fs::write(&lines, bytes).unwrap();
    let verified = subsidy(&db, &["verify", "--batch", "110102-2020-01-R1", "--dir", &out.display().to_string()]);
    assert_eq!(verified.status.code(), Some(5), "a changed file gives exit 5");
    assert!(String::from_utf8_lossy(&verified.stdout).contains("lines.csv differs"));
    let again = subsidy(&db, &["run", "--month", "2020-01", "--by", "carol"]);
    assert_eq!(again.status.code(), Some(0), "a month that has its batch is printed, exit 0");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already has batch 110102-2020-01-R1"));
}

/// Spawn `subsidy ARGS` on `db` (at the instant `now`, when given) and kill it (SIGKILL) after
/// `after`; whether it had finished by then.
fn killed_after(db: &str, args: &[&str], now: Option<&str>, after: std::time::Duration) -> bool {
    let mut cmd = Command::new(bin());
    cmd.env("DATABASE_URL", db).env("USER", "cli-test").args(args).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(now) = now {
        cmd.env("SUBSIDY_NOW", now).env_remove("SUBSIDY_TODAY");
    }
    let mut child = cmd.spawn().expect("spawn");
    std::thread::sleep(after);
    let finished = child.try_wait().expect("wait").is_some();
    child.kill().ok();
    child.wait().ok();
    finished
}

/// `schedule --once` killed (SIGKILL) part-way through its run leaves no batch; the next start
/// computes the batch a run never interrupted computes, byte for byte in its files.
#[test]
fn l4_schedule_killed_mid_run_leaves_nothing_and_the_next_start_gives_the_same_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path());
    let clean = prepared(tmp.path(), "clean.db", &reg);
    let started = Instant::now();
    ok(&subsidy(&clean, &["run", "--month", "2020-03", "--by", "cli-test"]));
    let full = started.elapsed();
    let expected = export_bytes(&clean, "110102-2020-03-R1", &tmp.path().join("clean-out"));

    // 2020-02-26 02:01 Beijing: March is due.
    let now = "2020-02-26T02:01:00+08:00";
    let mut crashed = prepared(tmp.path(), "crashed-0.db", &reg);
    let mut killed_mid_run = 0;
    // The clean run's time is only a guide (other tests share the cores): a kill that comes after
    // the commit finds the whole batch, which must then be the uninterrupted one; the test then
    // starts again on a fresh database, killing sooner.
    let mut delay = full / 4;
    for attempt in 1..=8u32 {
        if killed_after(&crashed, &["schedule", "--once"], Some(now), delay) {
            break;
        }
        if batch_count(&crashed) == 0 {
            killed_mid_run += 1;
            if killed_mid_run == 3 {
                break;
            }
            delay = delay * 3 / 2;
            continue;
        }
        let out = tmp.path().join(format!("after-commit-{attempt}"));
        assert_eq!(export_bytes(&crashed, "110102-2020-03-R1", &out), expected, "a batch a kill left is whole");
        crashed = prepared(tmp.path(), &format!("crashed-{attempt}.db"), &reg);
        killed_mid_run = 0;
        delay /= 2;
    }
    assert!(killed_mid_run > 0, "the schedule finished before it could be killed; raise SUBSIDY_TEST_SCALE");
    let out = Command::new(bin())
        .env("DATABASE_URL", &crashed)
        .env("USER", "cli-test")
        .env("SUBSIDY_NOW", now)
        .args(["schedule", "--once"])
        .output()
        .unwrap();
    assert!(ok(&out).contains("110102-2020-03-R1"));
    let got = export_bytes(&crashed, "110102-2020-03-R1", &tmp.path().join("crashed-out"));
    assert_eq!(got, expected, "the batch after a crash differs from an uninterrupted one");
}

/// `export` killed (SIGKILL) at any point: an approved batch has no platform file in the folder,
/// and every file in place is whole (a kill between the commit and the last rename leaves an
/// exported batch whose export is run again); exporting again gives the uninterrupted export's
/// bytes and `verify` passes.
#[test]
fn l4_export_killed_part_way_leaves_no_file_of_an_unexported_batch_and_exporting_again_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path());
    let db = prepared(tmp.path(), "e.db", &reg);
    ok(&subsidy(&db, &["run", "--month", "2020-03", "--by", "operator"]));
    let batch = "110102-2020-03-R1";
    ok(&subsidy(&db, &["approve", "--batch", batch, "--by", "reviewer"]));
    let copy = tmp.path().join("copy.db");
    for suffix in ["", "-wal", "-shm"] {
        let from = tmp.path().join(format!("e.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, tmp.path().join(format!("copy.db{suffix}"))).unwrap();
        }
    }
    let reference = format!("sqlite://{}", copy.display());
    let started = Instant::now();
    let expected = export_bytes_approved(&reference, batch, &tmp.path().join("reference-out"));
    let full = started.elapsed();
    let out = tmp.path().join("out");
    for attempt in 1..=4u32 {
        let o = out.display().to_string();
        let finished = killed_after(&db, &["export", "--batch", batch, "--out", &o], None, full * attempt / 5);
        let state = subsidy(&db, &["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&state.stdout).unwrap();
        let exported = v["batches"][0]["state"] != "approved";
        let files = platform_files(&out);
        // Files are put in place only once the batch is committed as exported: an unexported
        // batch has none. A kill after the commit may leave some or none in place (the export is
        // then simply run again); any file in place is whole, the bytes of an uninterrupted export.
        if !exported {
            assert!(files.is_empty(), "an unexported batch has no platform file in the folder: {files:?}");
        }
        for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".csv")) {
            let whole = expected.iter().find(|(n, _)| n == name).map(|(_, b)| b);
            assert_eq!(Some(bytes), whole, "{name} in place is not whole");
        }
        if finished {
            break;
        }
    }
    ok(&subsidy(&db, &["export", "--batch", batch, "--out", &out.display().to_string()]));
    let verify = subsidy(&db, &["verify", "--batch", batch, "--dir", &out.display().to_string()]);
    assert_eq!(verify.status.code(), Some(0), "{}", String::from_utf8_lossy(&verify.stdout));
    let got: Vec<(String, Vec<u8>)> = platform_files(&out).into_iter().filter(|(n, _)| n.ends_with(".csv")).collect();
    assert_eq!(got, expected, "the files after a killed export differ from an uninterrupted export");
}

/// The platform files (the batch's name, not temporary files) in a folder, sorted, with bytes.
fn platform_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("110102-2020-03-R1-")))
        .map(|p| (p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    files.sort();
    files
}

/// Export an approved batch and read back its CSV files.
fn export_bytes_approved(db: &str, batch: &str, out: &Path) -> Vec<(String, Vec<u8>)> {
    ok(&subsidy(db, &["export", "--batch", batch, "--out", &out.display().to_string()]));
    platform_files(out).into_iter().filter(|(n, _)| n.ends_with(".csv")).collect()
}
