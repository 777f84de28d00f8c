//! Logs as an operator and a log collector read them (issue 8): quiet by default, `RUST_LOG`
//! honoured with `SUBSIDY_LOG` as an alias, a span per command and per district run, counts and
//! durations, no colour codes when stderr is not a terminal, `--log-format json`, and never a
//! full ID number.

mod cli_support;

use cli_support::{bin, ok, subsidy};
use std::path::Path;
use std::process::{Command, Output};

/// Run `subsidy` with extra environment variables (the log filter), as the login `cli-test`.
fn logged(db: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.env("DATABASE_URL", db)
        .env("USER", "cli-test")
        .env_remove("SUBSIDY_DISTRICT")
        .env_remove("RUST_LOG")
        .env_remove("SUBSIDY_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run subsidy")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A database with a small generated registry imported (quietly: an import logs nothing by
/// default), and the registry's ID numbers.
fn prepared(dir: &Path) -> (String, Vec<String>) {
    let reg = dir.join("registry");
    ok(&subsidy(
        "sqlite://unused.db",
        &["generate", "--elders", "300", "--seed", "5", "--out", &reg.display().to_string()],
    ));
    let db = format!("sqlite://{}", dir.join("log.db").display());
    ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    let out = logged(&db, &[], &["import", &reg.display().to_string()]);
    ok(&out);
    assert_eq!(stderr(&out), "", "an import logs nothing by default");
    let elders = std::fs::read_to_string(reg.join("elders.csv")).expect("elders.csv");
    let ids = elders.lines().skip(1).filter_map(|l| l.split(',').next()).map(str::to_string).collect();
    (db, ids)
}

#[test]
fn logs_are_quiet_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = prepared(dir.path());
    let out = logged(&db, &[], &["run", "--month", "2020-01"]);
    ok(&out);
    assert_eq!(stderr(&out), "", "a run logs nothing unless RUST_LOG asks");
}

#[test]
fn rust_log_shows_spans_counts_and_durations_without_colour_or_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ids) = prepared(dir.path());
    let out = logged(&db, &[("RUST_LOG", "info")], &["run", "--month", "2020-01"]);
    ok(&out);
    let log = stderr(&out);
    assert!(!log.contains('\u{1b}'), "no ANSI escape when stderr is a pipe:\n{log}");
    assert!(log.contains("command{command=\"run\" district=\"all\"}"), "command span:\n{log}");
    assert!(
        log.contains("district_run{district=\"110102\" month=2020-01 kind=\"regular\" dry_run=false batch_id=\"110102-2020-01-R1\"}"),
        "district run span with its batch id:\n{log}"
    );
    assert!(log.contains("batch computed persons_read="), "run counts:\n{log}");
    assert!(log.contains(" ms="), "durations:\n{log}");
    assert!(log.contains("command finished status=0"), "command end:\n{log}");
    assert!(ids.len() > 290, "the registry's IDs were read: {}", ids.len());
    for id in &ids {
        assert!(!log.contains(id.as_str()), "a full ID number in the log");
    }
}

#[test]
fn subsidy_log_is_an_alias_of_rust_log() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = prepared(dir.path());
    let out = logged(&db, &[("SUBSIDY_LOG", "info")], &["status"]);
    ok(&out);
    assert!(stderr(&out).contains("command{command=\"status\""), "SUBSIDY_LOG=info:\n{}", stderr(&out));
    // The engine's own variable wins when both are set: a host's RUST_LOG cannot override it.
    let out = logged(&db, &[("SUBSIDY_LOG", "error"), ("RUST_LOG", "info")], &["status"]);
    ok(&out);
    assert_eq!(stderr(&out), "", "SUBSIDY_LOG=error silences info whatever RUST_LOG says");
    let out = logged(&db, &[("RUST_LOG", "info")], &["status"]);
    ok(&out);
    assert!(stderr(&out).contains("command{command=\"status\""), "RUST_LOG=info alone:\n{}", stderr(&out));
}

#[test]
fn log_format_json_writes_one_object_per_line_with_the_spans() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = prepared(dir.path());
    let reg = dir.path().join("registry").display().to_string();
    let out = logged(&db, &[("RUST_LOG", "info")], &["--log-format", "json", "import", &reg]);
    ok(&out);
    let lines: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let committed = lines
        .iter()
        .find(|v| v["fields"]["message"] == "import committed")
        .unwrap_or_else(|| panic!("an `import committed` event: {lines:?}"));
    assert_eq!(committed["level"], "INFO");
    assert_eq!(committed["span"]["command"], "import");
    assert!(committed["fields"]["accepted"].as_u64().is_some_and(|n| n > 0), "{committed}");
    assert!(committed["fields"]["ms"].is_u64(), "{committed}");

    let out = logged(&db, &[("RUST_LOG", "info")], &["--log-format", "json", "run", "--month", "2020-01"]);
    ok(&out);
    let run: Vec<serde_json::Value> = stderr(&out).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let computed = run
        .iter()
        .find(|v| v["fields"]["message"] == "batch computed" && v["span"]["district"] == "110102")
        .unwrap_or_else(|| panic!("Xicheng's batch computed: {run:?}"));
    assert_eq!(computed["span"]["batch_id"], "110102-2020-01-R1");
    assert_eq!(computed["span"]["month"], "2020-01");
    let transfers = computed["fields"]["transfers"].as_u64().expect("transfers counted");

    ok(&logged(&db, &[], &["approve", "--batch", "110102-2020-01-R1", "--by", "reviewer-li"]));
    let out_dir = dir.path().join("out").display().to_string();
    let out = logged(
        &db,
        &[("RUST_LOG", "info")],
        &["--log-format", "json", "export", "--batch", "110102-2020-01-R1", "--out", &out_dir],
    );
    ok(&out);
    let export: Vec<serde_json::Value> = stderr(&out).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let exported = export
        .iter()
        .find(|v| v["fields"]["message"] == "batch exported")
        .unwrap_or_else(|| panic!("a `batch exported` event: {export:?}"));
    assert_eq!(exported["fields"]["batch_id"], "110102-2020-01-R1");
    assert_eq!(exported["fields"]["transfers"].as_u64(), Some(transfers), "the run's transfers are exported");
    assert_eq!(exported["fields"]["files"], 6);
    assert_eq!(exported["span"]["command"], "export");
}

#[test]
fn a_log_filter_that_does_not_parse_is_reported_and_errors_still_show() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = prepared(dir.path());
    let out = logged(&db, &[("RUST_LOG", "subsidy=loud")], &["status"]);
    ok(&out);
    assert!(stderr(&out).contains("RUST_LOG=`subsidy=loud` is not a log filter"), "{}", stderr(&out));
}
