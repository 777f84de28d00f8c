//! The JSON contract (issue 13, `docs/json/`): every command's `--json` output, success and
//! failure, is one object on stdout that validates against the command's schema (errors against
//! `error.schema.json`, with the exit status the same command has without `--json`), and speaks
//! one vocabulary: `district_code`, `service_month`, `lottery_amount`, `district_amount`; money a
//! string of yuan with two decimals; no fen, no JSON inside a string, no full ID or account number.
//! On SQLite, and on PostgreSQL when `SUBSIDY_TEST_PG_URL` is set.
//!
//! The registry: three elders born 1935 (80-89: 100.00 a month, R2) approved for longevity in
//! October 2019 (T5), paid from 2020-01 (T7): January's batch is three transfers of 100.00. The
//! platform pays two and fails one. Then the first elder's death on 2019-12-20 is imported late:
//! the correction of January owes him nothing, so his 100.00 becomes a recovery item (L2).

mod cli_support;

use cli_support::{elder_1935, registry_dir, subsidy, PgDatabase, ELDERS};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// Every schema of `docs/json/`, by name, compiled with the others as references.
fn validators() -> &'static BTreeMap<String, jsonschema::Validator> {
    static ALL: std::sync::OnceLock<BTreeMap<String, jsonschema::Validator>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json");
        let mut schemas = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("docs/json") {
            let path = entry.expect("an entry").path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".schema.json"))
            else {
                continue;
            };
            let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect(name);
            schemas.insert(name.to_string(), schema);
        }
        let mut registry = jsonschema::Registry::new();
        for schema in schemas.values() {
            let id = schema["$id"].as_str().expect("every schema has an $id").to_string();
            registry = registry.add(id, schema.clone()).expect("a schema registers");
        }
        let registry = registry.prepare().expect("the schemas' references resolve");
        let options = jsonschema::options().with_registry(&registry);
        schemas
            .iter()
            .map(|(name, schema)| {
                let v = options.build(schema).unwrap_or_else(|e| panic!("{name}.schema.json: {e}"));
                (name.clone(), v)
            })
            .collect()
    })
}

/// Keys the contract renamed: none may appear.
const OLD_NAMES: [&str; 6] = ["district", "month", "lottery", "district_share", "amount_wan", "exit"];

/// One vocabulary: no fen, no old name, no JSON in a string, no full ID or account number.
fn vocabulary(v: &Value, path: &str, problems: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if k.ends_with("_fen") || OLD_NAMES.contains(&k.as_str()) {
                    problems.push(format!("{path}.{k}: a name outside the vocabulary"));
                }
                // Hashes are hex: a run of digits there is no ID.
                if !k.contains("fingerprint") && !k.contains("sha256") {
                    vocabulary(x, &format!("{path}.{k}"), problems);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| vocabulary(x, &format!("{path}[]"), problems)),
        Value::String(s) => {
            let t = s.trim_start();
            if (t.starts_with('{') || t.starts_with('[')) && serde_json::from_str::<Value>(t).is_ok() {
                problems.push(format!("{path}: JSON inside a string"));
            }
            let longest = s.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            if longest >= 15 {
                problems.push(format!("{path}: a full ID or account number ({longest} digits)"));
            }
        }
        _ => {}
    }
}

/// `out` is one JSON object on one line, valid against `schema`, with exit status `status`.
fn check(schema: &str, out: &Output, status: i32) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "{schema}: exit status\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{schema}: one line on stdout\n{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{schema}: not JSON ({e}): {stdout}"));
    assert!(v.is_object(), "{schema}: one object");
    let errors: Vec<String> =
        validators()[schema].iter_errors(&v).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{schema}: {} schema violation(s):\n{}\n{stdout}", errors.len(), errors.join("\n"));
    let mut problems = Vec::new();
    vocabulary(&v, "", &mut problems);
    assert!(problems.is_empty(), "{schema}: {problems:?}\n{stdout}");
    v
}

/// `subsidy --json ARGS` succeeds (or ends with `status`) with output valid against `schema`.
fn json(db: &str, schema: &str, status: i32, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend(args);
    check(schema, &subsidy(db, &all), status)
}

/// `subsidy --json ARGS` fails with `status` and error `code`; without `--json` it fails with the
/// same status and prints nothing on stdout.
fn error(db: &str, status: i32, code: &str, args: &[&str]) -> Value {
    let v = json_error(db, status, code, args);
    let plain = subsidy(db, args);
    assert_eq!(plain.status.code(), Some(status), "{args:?} without --json");
    assert!(plain.stdout.is_empty(), "{args:?} without --json prints its error on stderr only");
    v
}

/// `subsidy --json ARGS` fails with `status` and error `code`.
fn json_error(db: &str, status: i32, code: &str, args: &[&str]) -> Value {
    let v = json(db, "error", status, args);
    assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
    v
}

fn ids() -> [String; 3] {
    let birth = chrono::NaiveDate::from_ymd_opt(1935, 4, 1).unwrap();
    [401, 402, 403].map(|seq| subsidy::idcard::make("110102", birth, seq))
}

fn registry(dir: &Path) -> String {
    let [a, b, c] = ids();
    let elders = [
        elder_1935(&a, "赵一", "110102", "110102007", "6217000000000000401"),
        elder_1935(&b, "钱二", "110102", "110102007", "6217000000000000402"),
        elder_1935(&c, "孙三", "110102", "110102007", "6217000000000000403"),
    ];
    registry_dir(dir, "registry", &elders.concat(), &[&a, &b, &c])
}

/// Every command, its successes and its failures, in the order a district office meets them.
fn every_command(db: &str, dir: &Path) {
    let [a, ..] = ids();
    let d = |name: &str| dir.join(name).display().to_string();
    error(db, 2, "not_initialised", &["status"]);
    json(db, "init", 0, &["init", "--start-month", "2020-01"]);
    json(db, "status", 0, &["status"]);
    let imported = json(db, "import", 0, &["import", &registry(dir)]);
    assert_eq!(imported["files"]["elders.csv"]["accepted"], 3);
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("elders.csv"),
        format!("{ELDERS}110102193504014011,x,1935-04-01,110102,110102007,,,,shebao,1\n"),
    )
    .unwrap();
    let rejected = json(db, "import", 3, &["import", &d("bad")]);
    assert_eq!(rejected["rejects"][0]["line"], 2, "{rejected}");
    error(db, 2, "usage", &["import", &d("no-such-folder")]);

    json(db, "policy", 0, &["policy", "show"]);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy/beijing-2019.toml");
    let loaded = json(db, "policyload", 0, &["policy", "load", &policy.display().to_string()]);
    assert_eq!(loaded["outcome"], "already_loaded");
    error(db, 1, "unreadable_file", &["policy", "load", &d("no-such-policy.toml")]);
    // The same version name with other content is refused (F4 percentage instead of F2 quota).
    let text = std::fs::read_to_string(&policy).unwrap();
    let percentage = text.replace("rule = \"quota\"", "rule = \"percentage\"\nlottery_percent = \"40.00\"");
    std::fs::write(dir.join("conflict.toml"), &percentage).unwrap();
    error(db, 1, "policy_conflict", &["policy", "load", &d("conflict.toml")]);
    // As its own version from 2021, it loads, and `policy show` shows its percentage.
    let v2 = percentage
        .replace("beijing-2019-v1", "beijing-2021-pct")
        .replace("effective_from = \"2019-10\"", "effective_from = \"2021-01\"");
    std::fs::write(dir.join("v2.toml"), v2).unwrap();
    assert_eq!(json(db, "policyload", 0, &["policy", "load", &d("v2.toml")])["outcome"], "added");
    let shown = json(db, "policy", 0, &["policy", "show"]);
    assert_eq!(shown["versions"][1]["funding"]["lottery_percent"], "40.00", "{shown}");

    let january = json(db, "run", 0, &["run", "--month", "2020-01", "--by", "operator"]);
    assert_eq!(
        (january["batch_id"].as_str(), january["batches"][0]["district_code"].as_str()),
        (Some("110102-2020-01-R1"), Some("110102"))
    );
    assert_eq!(january["batches"][0]["summary"]["control_sum"], "300.00");
    json(db, "run", 0, &["run", "--month", "2020-01", "--by", "operator"]);
    error(db, 2, "usage", &["run", "--month", "2019-12"]);
    error(db, 1, "same_person", &["approve", "--batch", "110102-2020-01-R1", "--by", "operator"]);
    error(db, 1, "no_batch", &["approve", "--batch", "110102-2020-07-R1", "--by", "reviewer"]);
    json(db, "approve", 0, &["approve", "--batch", "110102-2020-01-R1", "--by", "reviewer"]);
    json(
        db,
        "withdraw",
        0,
        &["withdraw", "--batch", "110102-2020-01-R1", "--reason", "a second look", "--by", "reviewer"],
    );
    let review = json(db, "review", 0, &["report", "--month", "2020-01"]);
    assert_eq!(review["reviews"][0]["service_month"], "2020-01");
    json(db, "approve", 0, &["approve", "--batch", "110102-2020-01-R1", "--by", "reviewer"]);
    json(db, "export", 0, &["export", "--batch", "110102-2020-01-R1", "--out", &d("out")]);
    error(db, 1, "wrong_state", &["discard", "--batch", "110102-2020-01-R1", "--reason", "x", "--by", "reviewer"]);
    json(db, "verify", 0, &["verify", "--batch", "110102-2020-01-R1", "--dir", &d("out")]);
    let transfers = dir.join("out/110102-2020-01-R1-transfers.csv");
    let text = std::fs::read_to_string(&transfers).unwrap();
    std::fs::write(&transfers, text.replacen(",100.00", ",900.00", 1)).unwrap();
    let differs = json(db, "verify", 5, &["verify", "--batch", "110102-2020-01-R1", "--dir", &d("out")]);
    assert_eq!(differs["ok"], false);
    std::fs::write(&transfers, text).unwrap();
    json(db, "audit", 0, &["verify", "--audit"]);
    json(db, "ledger", 0, &["verify", "--ledger"]);

    let results = dir.join("results.csv");
    std::fs::write(
        &results,
        "transfer_id,status,reason_code\r\n110102-2020-01-R1-000001,paid,\r\n110102-2020-01-R1-000002,paid,\r\n110102-2020-01-R1-000003,failed,ACCOUNT_CLOSED\r\n",
    )
    .unwrap();
    let reconciled = json(db, "reconcile", 0, &["reconcile", "--file", &d("results.csv"), "--by", "operator"]);
    assert_eq!(reconciled["recorded"]["failed"]["amount"], "100.00");
    error(db, 1, "unreadable_file", &["reconcile", "--file", &d("no-such-results.csv"), "--by", "operator"]);

    json(db, "hold", 0, &["hold", "--id", &a.to_lowercase(), "--reason", "a call from the family", "--by", "operator"]);
    json(db, "release", 0, &["release", "--id", &a, "--reason", "resolved", "--by", "operator"]);
    error(db, 1, "no_hold", &["release", "--id", &a, "--reason", "again", "--by", "operator"]);
    error(db, 2, "bad_id_number", &["hold", "--id", "11010519491231002", "--reason", "x", "--by", "operator"]);
    let explained = json(db, "explain", 0, &["explain", "--id", &a, "--month", "2020-01"]);
    assert_eq!(explained["allowances"][0]["owed"]["split"]["lottery_amount"], "100.00");
    error(db, 1, "no_person", &["explain", "--id", "11010519491231002X", "--month", "2020-01"]);

    let february = json(db, "run", 0, &["run", "--month", "2020-02", "--by", "operator"]);
    assert_eq!(february["batch_id"], "110102-2020-02-R1");
    let refused = json(db, "run", 1, &["run", "--month", "2020-03", "--by", "operator"]);
    assert_eq!(refused["batches"][0]["outcome"], "refused");
    json(
        db,
        "discard",
        0,
        &["discard", "--batch", "110102-2020-02-R1", "--reason", "run too early", "--by", "operator"],
    );

    // The first elder died on 2019-12-20, reported now: January's 100.00 is owed back.
    let died = dir.join("died");
    std::fs::create_dir_all(&died).unwrap();
    let row = elder_1935(&a, "赵一", "110102", "110102007", "6217000000000000401")
        .replace(",,,,shebao", ",,,2019-12-20,shebao");
    std::fs::write(died.join("elders.csv"), format!("{ELDERS}{row}")).unwrap();
    json(db, "import", 0, &["import", &d("died")]);
    let dry = json(
        db,
        "run",
        0,
        &["rerun", "--month", "2020-01", "--reason", "a death reported late", "--by", "operator", "--dry-run"],
    );
    assert_eq!(dry["batches"][0]["summary"]["differences"][0]["difference"], "-100.00", "{dry}");
    json(db, "run", 0, &["rerun", "--month", "2020-01", "--reason", "a death reported late", "--by", "operator"]);
    json(db, "approve", 0, &["approve", "--batch", "110102-2020-01-C1", "--by", "reviewer"]);
    json(db, "export", 0, &["export", "--batch", "110102-2020-01-C1", "--out", &d("out-c1")]);
    let status = json(db, "status", 0, &["status", "--recoveries"]);
    let item = &status["recoveries"]["items"][0];
    assert_eq!((item["amount"].as_str(), item["decision"].as_null()), (Some("100.00"), Some(())), "{status}");
    let key = item["payment_key"].as_str().unwrap().to_string();
    json(
        db,
        "recovery",
        0,
        &["recovery", "--key", &key, "--collected", "--reason", "paid back at the counter", "--by", "operator"],
    );
    error(db, 1, "already_decided", &["recovery", "--key", &key, "--waived", "--reason", "x", "--by", "operator"]);

    let year = json(db, "year", 0, &["report", "--year", "2020"]);
    assert_eq!(year["districts"][0]["district_code"], "110102");
    // CSV is a form of its own: asked with --json, which of the two is meant is not known.
    json_error(db, 2, "usage", &["report", "--year", "2020", "--format", "csv"]);
    error(db, 2, "usage", &["report", "--month", "2020-01", "--format", "html"]);
    json_error(db, 2, "usage", &["report", "--year", "2020", "--out", &d("year.json")]);
    let mut bad_clock = std::process::Command::new(cli_support::bin());
    bad_clock.env("DATABASE_URL", db).env("SUBSIDY_TODAY", "2020-13-01").args(["--json", "status"]);
    check("error", &bad_clock.output().expect("run subsidy"), 2);

    let mut cmd = std::process::Command::new(cli_support::bin());
    cmd.env("DATABASE_URL", db).env("USER", "cli-test").env("SUBSIDY_NOW", "2020-01-27T03:00:00+08:00");
    let scheduled = check(
        "schedule",
        &cmd.args(["--json", "schedule", "--once", "--by", "operator"]).output().expect("run subsidy"),
        0,
    );
    assert_eq!(scheduled["due"]["at"], "2020-01-26T02:00:00+08:00", "{scheduled}");
    json(db, "status", 0, &["status", "--month", "2020-02"]);
}

/// What fails before any database is opened: clap's usage errors, a missing SQLite file, a URL
/// of no database, the generator.
fn without_a_database(dir: &Path) {
    let nowhere = format!("sqlite://{}", dir.join("nothing-here.db").display());
    error(&nowhere, 2, "no_database", &["status"]);
    error(&nowhere, 2, "usage", &["frobnicate"]);
    error(&nowhere, 2, "usage", &["run"]);
    error(&nowhere, 2, "usage", &["init", "--start-month", "2020-13"]);
    error("mysql://localhost/x", 2, "bad_database_url", &["status"]);
    let generated = json(
        &nowhere,
        "generate",
        0,
        &["generate", "--elders", "20", "--seed", "7", "--out", &dir.join("gen").display().to_string()],
    );
    assert_eq!(generated["files"]["elders.csv"], 20);
}

#[test]
fn every_command_speaks_the_json_contract_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    without_a_database(dir.path());
    // A database file that exists but was never initialised, as a fresh PostgreSQL database is.
    let file = dir.path().join("contract.db");
    std::fs::write(&file, b"").unwrap();
    every_command(&format!("sqlite://{}", file.display()), dir.path());
}

#[test]
fn every_command_speaks_the_json_contract_on_postgres() {
    let Some(pg) = PgDatabase::fresh("json_contract") else { return };
    let dir = tempfile::tempdir().unwrap();
    every_command(&pg.url, dir.path());
    error("postgres://postgres@127.0.0.1:1/x", 1, "database_unreachable", &["status"]);
}

#[test]
fn the_demo_speaks_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli_support::in_folder(dir.path(), &["--json", "demo"]).output().expect("run subsidy");
    let demo = check("demo", &out, 0);
    assert_eq!(demo["report"][0]["total"]["amount"].as_str().map(|s| s.ends_with(".00")), Some(true), "{demo}");
}

#[test]
fn every_schema_is_used_by_a_command_and_names_its_money_as_yuan() {
    let names: Vec<&str> = validators().keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "approve",
            "audit",
            "common",
            "demo",
            "discard",
            "error",
            "explain",
            "export",
            "generate",
            "hold",
            "import",
            "init",
            "ledger",
            "policy",
            "policyload",
            "reconcile",
            "recovery",
            "release",
            "review",
            "run",
            "schedule",
            "status",
            "verify",
            "withdraw",
            "year"
        ]
    );
    let common: Value =
        serde_json::from_str(include_str!("../docs/json/common.schema.json")).expect("common.schema.json");
    assert_eq!(common["$defs"]["yuan"]["pattern"], "^-?[0-9]+\\.[0-9]{2}$");
}
