//! Issue 7 through the binary, as cron and operators run it at once.
//!
//! Point 7: N processes (`SUBSIDY_TEST_SCALE`: `small`, the default, → 4; otherwise 8) run the
//! same month at once over a registry of two districts. Every process exits 0 (it computed or
//! found the batch) or 4 (another run held a district), never 1; each district gets exactly one
//! batch; the audit chain stays one verifiable sequence. On SQLite always, on PostgreSQL when
//! `SUBSIDY_TEST_PG_URL` is set (a fresh database per test; skipped, and said so, otherwise).
//!
//! Point 6: `export --out` into a path that cannot be a folder (below a regular file: even root
//! cannot write there) exits 1 saying nothing was exported and what to do; the batch stays
//! approved; a later export into a good folder works, `verify` passes, and the CSV files (ID and
//! account numbers) have mode 0640.

mod cli_support;

use cli_support::{bin, ok, subsidy};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn processes() -> usize {
    match std::env::var("SUBSIDY_TEST_SCALE").as_deref() {
        Ok("small") | Err(_) => 4,
        Ok(_) => 8,
    }
}

/// A generated registry of Xicheng (110102; seed 11, 2,000 elders, long enough a batch for the
/// runs to overlap), plus one Dongcheng (110101) elder written here, so that the registry holds
/// two districts that both have something to pay: born 1935-04-01, 84 in 2020 (R2: 80-89,
/// longevity 100 a month), applied 2019-10-08 (T5: paid from the start month 2020-01, T7).
fn registry(dir: &Path) -> PathBuf {
    let reg = dir.join("registry");
    ok(&subsidy(
        "sqlite://unused.db",
        &["generate", "--elders", "2000", "--seed", "11", "--out", &reg.display().to_string()],
    ));
    let born = chrono::NaiveDate::from_ymd_opt(1935, 4, 1).unwrap();
    let dongcheng = subsidy::idcard::make("110101", born, 202);
    let append = |file: &str, row: String| {
        let path = reg.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&row);
        std::fs::write(&path, text).unwrap();
    };
    append("elders.csv", format!("{dongcheng},钱二,1935-04-01,110101,110101007,,,,shebao,6217000000000000022\n"));
    append("applications.csv", format!("{dongcheng},longevity,2019-10-08,approved,2019-10-20\n"));
    reg
}

fn status(db: &str) -> serde_json::Value {
    serde_json::from_slice(&ok_output(subsidy(db, &["status", "--json"])).stdout).expect("status json")
}

fn ok_output(out: Output) -> Output {
    ok(&out);
    out
}

/// Run N processes of `run --month 2020-02` at once on `db` (initialised and imported).
fn parallel_runs_one_batch_per_district(db: &str) {
    let n = processes();
    let children: Vec<_> = (0..n)
        .map(|i| {
            Command::new(bin())
                .env("DATABASE_URL", db)
                .env_remove("SUBSIDY_DISTRICT")
                .args(["run", "--month", "2020-02", "--by", &format!("operator{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    for o in &outputs {
        let code = o.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            code == 0 || code == 4,
            "a concurrent run exited {code} (only 0 or 4 allowed):\n{}\n{stderr}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(
            !stderr.contains("duplicate key") || stderr.contains("another command"),
            "raw database error: {stderr}"
        );
    }
    let v = status(db);
    let mut ids: Vec<&str> =
        v["batches"].as_array().expect("batches").iter().map(|b| b["batch_id"].as_str().expect("id")).collect();
    ids.sort();
    assert_eq!(ids, vec!["110101-2020-02-R1", "110102-2020-02-R1"], "exactly one batch per district");
    assert_eq!(v["ledger"]["consistent"], true, "balances agree with postings");
    // Dongcheng's one elder: the first batch, 2020-02, pays 2020-01 and 2020-02 (paid from the
    // start month), 100.00 each: one transfer of 200.00.
    let dongcheng = &v["batches"][0];
    assert_eq!((dongcheng["transfer_count"].as_i64(), dongcheng["control_sum"].as_str()), (Some(1), Some("200.00")));
    let audit = subsidy(db, &["verify", "--audit"]);
    assert_eq!(audit.status.code(), Some(0), "verify --audit: {}", String::from_utf8_lossy(&audit.stdout));
    // Each batch written is audited once: init, import, then one `run` entry per batch.
    let text = String::from_utf8_lossy(&audit.stdout).to_string();
    assert!(text.contains("4 entries, hash chain intact"), "{text}");
}

fn prepare(db: &str, reg: &Path) {
    ok(&subsidy(db, &["init", "--start-month", "2020-01"]));
    ok(&subsidy(db, &["import", &reg.display().to_string()]));
}

#[test]
fn p7_parallel_runs_of_two_districts_on_sqlite_write_one_batch_each() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("c.db").display());
    prepare(&db, &registry(tmp.path()));
    parallel_runs_one_batch_per_district(&db);
}

#[test]
fn p7_parallel_runs_of_two_districts_on_postgres_write_one_batch_each() {
    let Some(pg) = cli_support::PgDatabase::fresh("subsidy_cc") else { return };
    let db = pg.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    prepare(&db, &registry(tmp.path()));
    parallel_runs_one_batch_per_district(&db);
}

#[test]
fn p6_export_into_unwritable_path_exits_1_and_leaves_batch_approved() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("e.db").display());
    prepare(&db, &registry(tmp.path()));
    let batch = "110101-2020-02-R1";
    ok(&subsidy(&db, &["run", "--month", "2020-02", "--district", "110101", "--by", "operator"]));
    ok(&subsidy(&db, &["approve", "--batch", batch, "--by", "reviewer"]));
    std::fs::write(tmp.path().join("file.txt"), "not a folder").unwrap();
    let bad = tmp.path().join("file.txt").join("sub");
    let out = subsidy(&db, &["export", "--batch", batch, "--out", &bad.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [
        "nothing was exported".to_string(),
        format!("batch {batch} stays approved"),
        bad.display().to_string(),
        format!("run `subsidy export --batch {batch} --out"),
    ] {
        assert!(stderr.contains(&part), "the error should say `{part}`: {stderr}");
    }
    let state = |db: &str| status(db)["batches"][0]["state"].as_str().unwrap().to_string();
    assert_eq!(state(&db), "approved");

    let good = tmp.path().join("out");
    ok(&subsidy(&db, &["export", "--batch", batch, "--out", &good.display().to_string()]));
    assert_eq!(state(&db), "exported");
    ok(&subsidy(&db, &["verify", "--batch", batch, "--dir", &good.display().to_string()]));
    // init, import, run, approve, export: the failed export wrote no entry.
    let audit = ok(&subsidy(&db, &["verify", "--audit"]));
    assert!(audit.contains("5 entries, hash chain intact"), "{audit}");
    let mut names: Vec<String> =
        std::fs::read_dir(&good).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    assert_eq!(names.len(), 6, "six files and no temporary file: {names:?}");
    #[cfg(unix)]
    for name in names.iter().filter(|n| n.ends_with(".csv")) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(good.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(format!("{mode:o}"), "640", "mode of {name}");
    }
}
