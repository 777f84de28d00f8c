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
