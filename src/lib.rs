//! # subsidy: the batch engine that pays Beijing's elderly allowances
//!
//! A tour, core first (pure, synchronous, property-tested: where money is decided), then the
//! shell (storage, files, use-cases, command line). `docs/architecture.md` draws the layers, and
//! `tests/architecture.rs` keeps them (no import cycle, a pure core, no file over 600 lines):
//!
//! | module | what lives there | rules |
//! |---|---|---|
//! | [`month`] | `ServiceMonth`, first and last days | T1–T3 |
//! | [`money`] | yuan as `Decimal`, fen as `i64`, half-up rounding | F4 |
//! | [`codes`] | the fixed codes of the file formats | — |
//! | [`idcard`] | resident ID checksum, birth date, masking | Identity |
//! | [`policy`] | the policy as data, versions, the fund split | R2–R8 rates, T1/T5 parameters, F1–F4 |
//! | [`eligibility`] | who is owed what, each month, and why | R1–R8, T2–T7 |
//! | [`ledger`] | batch states and what counts as paid, differences into postings, payment keys, the lottery purse | L1–L4, F2, F3 |
//! | [`schedule`] | T1 as a timetable: the cron expression of the policy's run day and time, what is due, when next | T1 |
//! | [`audit`], [`digest`] | the hash-chained audit log, checked; SHA-256 fingerprints | — |
//! | [`registry`] | a person's records, and the rows of the registry files | INTERFACE.md |
//! | [`store`] | the storage contract (`Store`, `LedgerStore`), SQLite and PostgreSQL | L4 in the schema |
//! | [`batch`] | the monthly run and corrections: one transaction per district | L2, L3 |
//! | [`adapters`] | the registry CSV import, the six platform files written as the rows stream (for `export` and `verify` alike), the report's text and CSV | INTERFACE.md, F5 |
//! | [`ops`] | the use-cases the commands and the demo call: typed inputs, typed outcomes and errors, the audit entries | four eyes, T1, T7, L1 |
//! | [`generate`], [`demo`] | the synthetic registry; a year of Xicheng end to end, through [`ops`] | — |
//! | [`progress`] | progress of long work, reported to a sink the shell installs (bars on a terminal) | — |
//! | [`clock`], [`logging`] | the one injected "now" (date and time); logs on stderr (`RUST_LOG`, text or JSON) | — |
//! | [`cli`] | the `subsidy` command line: parse, call [`ops`], render, exit status | INTERFACE.md |
//!
//! Rule numbers (R, T, F, L) are those of `shared/domain/POLICY.md`; tests are named after them.

pub mod adapters;
pub mod audit;
pub mod batch;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod demo;
pub mod digest;
pub mod eligibility;
pub mod generate;
pub mod idcard;
pub mod ledger;
pub mod logging;
pub mod money;
pub mod month;
pub mod ops;
pub mod policy;
pub mod progress;
pub mod registry;
pub mod schedule;
pub mod store;
