//! Shared by the CLI tests that drive the binary: running `subsidy` as a named login, and a fresh
//! PostgreSQL database per test on the server `SUBSIDY_TEST_PG_URL` names, dropped when the test
//! ends.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_subsidy")
}

/// Run `subsidy` with a database URL, as the login `cli-test` (init and import record who acted;
/// commands refuse to change anything without a name); returns the output.
pub fn subsidy(db: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .env("DATABASE_URL", db)
        .env("USER", "cli-test")
        .env_remove("SUBSIDY_DISTRICT")
        .args(args)
        .output()
        .expect("run subsidy")
}

/// Its standard output, failing the test (with both outputs) unless it succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({:?}): {}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A database created for one test.
pub struct PgDatabase {
    admin: String,
    name: String,
    /// Its URL, for `--database-url` / `DATABASE_URL`.
    pub url: String,
}

fn execute(admin: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(admin).await.expect("connect to SUBSIDY_TEST_PG_URL");
        sqlx::query(sql).execute(&pool).await.expect(sql);
        pool.close().await;
    });
}

impl PgDatabase {
    /// A fresh database named after `prefix` and the process, or `None` (saying plainly that
    /// PostgreSQL was skipped) when `SUBSIDY_TEST_PG_URL` is not set.
    pub fn fresh(prefix: &str) -> Option<PgDatabase> {
        let Some(admin) = std::env::var("SUBSIDY_TEST_PG_URL").ok().filter(|s| !s.is_empty()) else {
            eprintln!("PostgreSQL SKIPPED: set SUBSIDY_TEST_PG_URL to run this test on PostgreSQL");
            return None;
        };
        let name = format!("{prefix}_{}", std::process::id());
        execute(&admin, &format!("drop database if exists {name} with (force)"));
        execute(&admin, &format!("create database {name}"));
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).expect("SUBSIDY_TEST_PG_URL names a database");
        let url = format!("{base}/{name}");
        Some(PgDatabase { admin, name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        execute(&self.admin, &format!("drop database if exists {} with (force)", self.name));
    }
}

/// The header of `elders.csv` (INTERFACE.md).
pub const ELDERS: &str = "id_number,name,birth_date,district_code,street_code,hukou_in_date,hukou_out_date,death_date,account_type,account_no\n";

/// An elder born 1935-04-01 (80-89 in 2020: 100.00 a month, R2) of `district`, with an account.
pub fn elder_1935(id: &str, name: &str, district: &str, street: &str, account: &str) -> String {
    format!("{id},{name},1935-04-01,{district},{street},,,,shebao,{account}\n")
}

/// A registry folder `dir/name` with `elders.csv` (these rows) and, when any person is named,
/// `applications.csv` approving each for longevity in October 2019 (T5: paid from the start
/// month). Returns the folder, for `subsidy import`.
pub fn registry_dir(dir: &std::path::Path, name: &str, elders: &str, approved_longevity: &[&str]) -> String {
    let reg = dir.join(name);
    std::fs::create_dir_all(&reg).expect("registry folder");
    std::fs::write(reg.join("elders.csv"), format!("{ELDERS}{elders}")).expect("elders.csv");
    if !approved_longevity.is_empty() {
        let rows: String =
            approved_longevity.iter().map(|id| format!("{id},longevity,2019-10-08,approved,2019-10-20\n")).collect();
        let text = format!("id_number,allowance,applied_on,decision,decided_on\n{rows}");
        std::fs::write(reg.join("applications.csv"), text).expect("applications.csv");
    }
    reg.display().to_string()
}

/// `subsidy ARGS` run in `cwd`, as the login `cli-test`, with no date, database or district from
/// the environment (a command as a new user types it in a folder).
pub fn in_folder(cwd: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(cwd).env("USER", "cli-test").args(args);
    for var in ["SUBSIDY_TODAY", "SUBSIDY_NOW", "DATABASE_URL", "SUBSIDY_DISTRICT"] {
        cmd.env_remove(var);
    }
    cmd
}

/// The demo's folder (`subsidy demo` run once per test binary: it takes a while), `name` in the
/// target's temporary space: one folder, emptied at the start of each run, so that runs do not
/// pile up copies of the demo's database (a static's `TempDir` is never dropped).
pub fn demo_folder(name: &str) -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the test's folder");
        let out =
            in_folder(&dir, &["demo", "--out", &dir.join("demo-out").to_string_lossy()]).output().expect("run subsidy");
        assert!(out.status.success(), "demo failed: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// `subsidy --database-url <the demo's database> report --year 2020 ARGS` in the demo's folder
/// `name` (see [`demo_folder`]); its output, which must be a success.
pub fn demo_report(name: &str, args: &[&str]) -> Output {
    let dir = demo_folder(name);
    let url = format!("sqlite://{}", dir.join("subsidy-demo.db").display());
    let mut all = vec!["--database-url", &url, "report", "--year", "2020"];
    all.extend(args);
    let out = in_folder(dir, &all).output().expect("run subsidy");
    assert!(out.status.success(), "report {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}
