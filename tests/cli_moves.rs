//! R1 with a move recorded inconsistently (issue 10, point 2): an elder (born 1935: 80-89,
//! 100.00 a month, R2) registered in Xicheng (110102) moves to Dongcheng (110101) on 2020-01-10.
//! Dongcheng records the move in (T3: it pays from February) before Xicheng records the move out,
//! so from February the registry has her in both districts. Each district's run reports it and
//! neither pays those months; once Xicheng's row says she moved out on 2020-01-10, Dongcheng's
//! rerun pays February (100.00) and Xicheng has paid exactly January. On SQLite, and on PostgreSQL
//! when `SUBSIDY_TEST_PG_URL` is set.

mod cli_support;

use cli_support::{ok, registry_dir, subsidy, PgDatabase};
use std::path::Path;

fn id() -> String {
    subsidy::idcard::make("110102", chrono::NaiveDate::from_ymd_opt(1935, 4, 1).unwrap(), 601)
}

fn write(dir: &Path, name: &str, elders: &str, with_application: bool) -> String {
    let x = id();
    let approved: Vec<&str> = if with_application { vec![x.as_str()] } else { vec![] };
    registry_dir(dir, name, elders, &approved)
}

fn control_sums(db: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&ok(&subsidy(db, &["--json", "status"]))).unwrap();
    v["batches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["state"] != "superseded")
        .map(|b| (b["batch_id"].as_str().unwrap().to_string(), b["control_sum"].as_str().unwrap().to_string()))
        .collect()
}

fn session(db: &str, dir: &Path) {
    let x = id();
    ok(&subsidy(db, &["init", "--start-month", "2020-01"]));
    let xicheng = format!("{x},周六,1935-04-01,110102,110102007,,,,shebao,6217000000000000601\n");
    let dongcheng = format!("{x},周六,1935-04-01,110101,110101007,2020-01-10,,,shebao,6217000000000000601\n");
    ok(&subsidy(db, &["import", &write(dir, "both", &format!("{xicheng}{dongcheng}"), true)]));
    ok(&subsidy(db, &["run", "--month", "2020-01", "--by", "operator"]));
    ok(&subsidy(db, &["approve", "--batch", "110102-2020-01-R1", "--by", "reviewer"]));
    ok(&subsidy(db, &["export", "--batch", "110102-2020-01-R1", "--out", &dir.join("out").display().to_string()]));
    let feb = subsidy(db, &["run", "--month", "2020-02", "--by", "operator"]);
    ok(&feb);
    let said = String::from_utf8_lossy(&feb.stderr);
    let masked = subsidy::idcard::mask(&x);
    assert!(said.contains("registered in two districts for the same months (R1)") && said.contains(&masked), "{said}");
    assert!(!said.contains(&x), "the full ID is never logged");
    // January: Xicheng pays (she moved out in January: T3, through the month of the move).
    // February: registered in both, paid by neither.
    assert_eq!(control_sums(db), vec![("110102-2020-01-R1".to_string(), "100.00".to_string())]);
    let explain = ok(&subsidy(db, &["explain", "--id", &x, "--month", "2020-02"]));
    assert!(explain.contains("registered in 2 districts on 2020-02-01 (110101, 110102): paid by neither"), "{explain}");
    // Xicheng records the move out: Dongcheng pays February by a rerun.
    let corrected = format!("{x},周六,1935-04-01,110102,110102007,,2020-01-10,,shebao,6217000000000000601\n");
    ok(&subsidy(db, &["import", &write(dir, "fixed", &corrected, false)]));
    let rerun = ok(&subsidy(db, &["rerun", "--month", "2020-02", "--reason", "move out recorded", "--by", "operator"]));
    assert!(!rerun.contains("registered in two districts"), "{rerun}");
    assert_eq!(
        control_sums(db),
        vec![
            ("110101-2020-02-C1".to_string(), "100.00".to_string()),
            ("110102-2020-01-R1".to_string(), "100.00".to_string())
        ],
        "each month paid once, by the district that owes it"
    );
    let ledger = subsidy(db, &["verify", "--ledger"]);
    assert_eq!(ledger.status.code(), Some(0), "{}", String::from_utf8_lossy(&ledger.stdout));
}

#[test]
fn r1_a_person_registered_in_two_districts_is_paid_by_neither_until_corrected_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    session(&format!("sqlite://{}", tmp.path().join("m.db").display()), tmp.path());
}

#[test]
fn r1_a_person_registered_in_two_districts_is_paid_by_neither_until_corrected_on_postgres() {
    let Some(pg) = PgDatabase::fresh("cli_moves") else { return };
    let tmp = tempfile::tempdir().unwrap();
    session(&pg.url, tmp.path());
}
