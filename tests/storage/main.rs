//! The storage contract suite: every case runs on SQLite and on PostgreSQL, each on a fresh
//! database. PostgreSQL cases run when `SUBSIDY_TEST_PG_URL` names a server where the tests may
//! create and drop databases (e.g. `postgres://postgres@127.0.0.1/postgres`); without it they are
//! reported as ignored and a line says plainly that PostgreSQL was skipped.
//!
//! Custom harness (libtest-mimic) so that the PostgreSQL cases can be skipped at run time and the
//! output says how many cases ran on each database.

mod batch;
mod corrections;
mod import;
mod issue7_allocations;
mod issue7_exports;
mod issue7_inputs;
mod issue7_ledger;
mod issue9_exports;
mod issue9_results;
mod ops;
mod registry;
mod regressions;
mod report_year;
mod review;
mod review_correction;
mod scenario;
mod support;

use libtest_mimic::{Arguments, Trial};
use support::{Backend, Case};

fn main() {
    let args = Arguments::from_args();
    let pg = support::pg_admin_url();
    let cases: Vec<Case> = registry::cases()
        .into_iter()
        .chain(import::cases())
        .chain(batch::cases())
        .chain(corrections::cases())
        .chain(regressions::cases())
        .chain(issue7_ledger::cases())
        .chain(issue7_exports::cases())
        .chain(issue7_allocations::cases())
        .chain(issue7_inputs::cases())
        .chain(ops::cases())
        .chain(issue9_exports::cases())
        .chain(issue9_results::cases())
        .chain(review::cases())
        .chain(review_correction::cases())
        .chain(report_year::cases())
        .collect();
    let mut trials = Vec::new();
    for case in &cases {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let (name, run) = (case.name, case.run);
            let trial = Trial::test(format!("{}::{name}", backend.label()), move || support::run_case(backend, run));
            trials.push(trial.with_ignored_flag(backend == Backend::Postgres && pg.is_none()));
        }
    }
    let (on_sqlite, on_pg) = (cases.len(), if pg.is_some() { cases.len() } else { 0 });
    println!("storage contract: {on_sqlite} cases on SQLite, {on_pg} on PostgreSQL");
    if pg.is_none() {
        println!(
            "PostgreSQL SKIPPED: set SUBSIDY_TEST_PG_URL=postgres://postgres@127.0.0.1/postgres to run the {} PostgreSQL cases",
            cases.len()
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
