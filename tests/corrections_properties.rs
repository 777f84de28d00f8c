//! Corrections over a real ledger (proptest, SQLite, a fresh temporary database per case): a small
//! Xicheng registry (3–6 elders, some 80+ or 90+ or turning so in 2020, some with a disability
//! certificate and a care application, some without an account number), 0–2 months already run,
//! approved and exported, and a random sequence of 4–12 operator steps over service months
//! 2020-01 … 2020-06: registry corrections imported as CSV (a death date, a certificate added,
//! revoked or replaced, an approved application with an earlier `applied_on`, an account number
//! recorded or cleared, a `hukou_out_date`), `run` of the next month, `rerun` of the latest month
//! (sometimes `--dry-run`), `discard` of the open batch, and approval (with or without export) of
//! the open batch. A regular run while a batch is open must be refused and change nothing. At the
//! end every open batch is approved and exported, one last correction `rerun` of the last month is
//! run and exported, and then:
//!
//! - L1/L2: for every person, allowance and month from 2020-01 through the last month, the net
//!   paid (counted postings: not held, in batches computed, approved or exported) equals what
//!   `owed_between` says on the final registry; for a person without an account number it stays
//!   within [0, owed] (what is owed and not paid is held, L3);
//! - L4: no payment key repeats across every batch (superseded and discarded ones included), the
//!   adjustment numbers of a (person, allowance, month) run 0, 1, 2 … without a gap, the balances
//!   and the counted postings agree (`ledger_check`, also after every step), and no net paid
//!   leaves [0, top rate];
//! - L2: a rerun with unchanged inputs emits no line: right after the last correction is
//!   exported, `rerun` of the same month (and its dry run) says there is nothing to settle and
//!   writes no batch.
//!
//! Two plain tests pin the L2 cases down: a rerun right after a regular batch's export has nothing
//! to settle, and a second correction of a month replaces the month's open correction batch.
//!
//! Case counts come from `SUBSIDY_TEST_SCALE` (`small`, the default: 40 cases per property).
//! A failure prints the minimal registry and steps, and the log of what each step did.

use chrono::{DateTime, Duration, Months, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use subsidy::adapters::registry_csv::import::import_dir;
use subsidy::adapters::registry_csv::validate::Context;
use subsidy::batch::{run_district, RunOutcome, RunRequest};
use subsidy::clock::Clock;
use subsidy::codes::Allowance;
use subsidy::eligibility::owed_between;
use subsidy::ledger::BatchKind;
use subsidy::ledger::BatchState;
use subsidy::money::to_fen;
use subsidy::month::ServiceMonth;
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{BatchRow, LedgerStore, SqliteStore, Store};

const DISTRICT: &str = "110102";
const OPERATOR: &str = "operator-wang";
const REVIEWER: &str = "reviewer-li";

const ELDERS: &str = concat!(
    "id_number,name,birth_date,district_code,street_code,",
    "hukou_in_date,hukou_out_date,death_date,account_type,account_no\n"
);
const APPLICATIONS: &str = "id_number,allowance,applied_on,decision,decided_on\n";
const CERTS: &str = "id_number,category,grade,multiple,issued_on,revoked_on\n";

/// Birth dates: 100 in 2020-01, 90-99 all year, 90 in 2020-02 / 2020-04, 80-89 all year, 80 in
/// 2020-03 / 2020-06, and 60-79 (care only; one turns 60 in 2020-04).
const BIRTHS: [&str; 10] = [
    "1920-01-10",
    "1925-06-01",
    "1930-02-14",
    "1930-04-30",
    "1938-07-07",
    "1940-03-01",
    "1940-06-15",
    "1950-05-20",
    "1957-09-09",
    "1960-04-04",
];
const NAMES: [&str; 6] = ["赵一", "钱二", "孙三", "李四", "周五", "吴六"];
const STREETS: [&str; 6] = ["110102003", "110102007", "110102009", "110102010", "110102011", "110102012"];

/// A disability certificate as R4 grades it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct CertKind {
    category: &'static str,
    grade: u8,
    multiple: bool,
}

impl fmt::Debug for CertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.category, self.grade, if self.multiple { "+multiple" } else { "" })
    }
}

/// Tier A (two ways), B, C, and a grade that pays nothing.
const CERT_KINDS: [CertKind; 5] = [
    CertKind { category: "limb", grade: 1, multiple: false },
    CertKind { category: "intellectual", grade: 2, multiple: true },
    CertKind { category: "limb", grade: 2, multiple: false },
    CertKind { category: "hearing", grade: 1, multiple: false },
    CertKind { category: "limb", grade: 4, multiple: false },
];

/// A day between 2019-10-01 and 2020-06-28: month index 0 = 2019-10 … 8 = 2020-06.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Day {
    month: u8,
    day: u8,
}

impl Day {
    fn date(self) -> NaiveDate {
        let first = NaiveDate::from_ymd_opt(2019, 10, 1).expect("date") + Months::new(self.month as u32);
        first + Duration::days(self.day as i64 - 1)
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date())
    }
}

/// One elder of the generated registry, as first imported.
#[derive(Clone, Debug)]
struct ElderSpec {
    birth: &'static str,
    has_account: bool,
    /// An approved longevity application submitted on this day.
    longevity_applied: Option<Day>,
    /// A certificate issued on the first day, and an approved care application on the second.
    care: Option<(CertKind, Day, Day)>,
}

/// A registry correction, resolved against the registry as it stands when it is imported
/// (`who` modulo the number of elders, `which` modulo the number of certificates).
#[derive(Clone, Debug)]
enum Change {
    /// Set or clear the death date.
    Death { who: usize, on: Option<Day> },
    /// Set or clear the move-out date.
    HukouOut { who: usize, on: Option<Day> },
    /// Record or clear the account number.
    Account { who: usize, record: bool },
    /// A new certificate issued on a day (possibly before one already held).
    CertAdd { who: usize, kind: CertKind, issued: Day },
    /// Revoke a held certificate (revoked_on after its issue date).
    CertRevoke { who: usize, which: usize, on: Day },
    /// A new certificate issued `days_after` the latest one's issue date.
    CertReplace { who: usize, kind: CertKind, days_after: u8 },
    /// An approved application `months_earlier` than the earliest of that allowance (or than
    /// 2020-06-10 when there is none).
    Application { who: usize, allowance: Allowance, months_earlier: u8 },
}

#[derive(Clone, Debug)]
enum Step {
    Import(Change),
    /// `run` the month after the latest counted batch's (regular).
    Run,
    /// `rerun` the latest counted month (correction).
    Rerun {
        dry_run: bool,
    },
    /// `discard` the open batch.
    Discard,
    /// `approve` the open batch, then `export` it or not.
    Approve {
        export: bool,
    },
}

// ------------------------------------------------------------------------------ strategies

fn day() -> impl Strategy<Value = Day> {
    (0u8..9, 1u8..=28).prop_map(|(month, day)| Day { month, day })
}

/// A day between 2019-10-01 and 2020-02-28: initial applications and certificates, so that most
/// registries owe something from the first months on.
fn early_day() -> impl Strategy<Value = Day> {
    (0u8..5, 1u8..=28).prop_map(|(month, day)| Day { month, day })
}

fn elder_spec() -> impl Strategy<Value = ElderSpec> {
    (
        prop::sample::select(&BIRTHS[..]),
        prop::bool::weighted(0.75),
        prop::option::weighted(0.75, early_day()),
        prop::option::weighted(0.45, (prop::sample::select(&CERT_KINDS[..]), early_day(), early_day())),
    )
        .prop_map(|(birth, has_account, longevity_applied, care)| ElderSpec {
            birth,
            has_account,
            longevity_applied,
            care,
        })
}

fn change() -> impl Strategy<Value = Change> {
    let who = 0usize..6;
    let kind = prop::sample::select(&CERT_KINDS[..]);
    prop_oneof![
        3 => (who.clone(), prop::option::weighted(0.75, day())).prop_map(|(who, on)| Change::Death { who, on }),
        1 => (who.clone(), prop::option::weighted(0.75, day())).prop_map(|(who, on)| Change::HukouOut { who, on }),
        3 => (who.clone(), any::<bool>()).prop_map(|(who, record)| Change::Account { who, record }),
        2 => (who.clone(), kind.clone(), day()).prop_map(|(who, kind, issued)| Change::CertAdd { who, kind, issued }),
        2 => (who.clone(), 0usize..4, day()).prop_map(|(who, which, on)| Change::CertRevoke { who, which, on }),
        2 => (who.clone(), kind, 1u8..60)
            .prop_map(|(who, kind, days_after)| Change::CertReplace { who, kind, days_after }),
        3 => (who, prop::sample::select(vec![Allowance::Longevity, Allowance::Care]), 1u8..=9)
            .prop_map(|(who, allowance, months_earlier)| Change::Application { who, allowance, months_earlier }),
    ]
}

/// Relative weights of import, run, rerun, discard and approve steps.
fn step(weights: [u32; 5]) -> impl Strategy<Value = Step> {
    let [import, run, rerun, discard, approve] = weights;
    prop_oneof![
        import => change().prop_map(Step::Import),
        run => Just(Step::Run),
        rerun => prop::bool::weighted(0.25).prop_map(|dry_run| Step::Rerun { dry_run }),
        discard => Just(Step::Discard),
        approve => prop::bool::weighted(0.85).prop_map(|export| Step::Approve { export }),
    ]
}

/// A registry, the number of months (0–2) already run, approved and exported before the steps,
/// and the steps.
fn scenario(weights: [u32; 5]) -> impl Strategy<Value = (Vec<ElderSpec>, u8, Vec<Step>)> {
    (prop::collection::vec(elder_spec(), 3..=6), 0u8..=2, prop::collection::vec(step(weights), 4..=12))
}

fn cases() -> u32 {
    match std::env::var("SUBSIDY_TEST_SCALE").as_deref() {
        Ok("large") => 512,
        Ok("medium") => 128,
        _ => 40,
    }
}

fn config() -> ProptestConfig {
    // Shrinking replays whole scenarios on fresh databases: keep it bounded. No regression files
    // written into tests/: a failure prints its minimal case.
    ProptestConfig { cases: cases(), max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::default() }
}

// ------------------------------------------------------------------------------ the world

#[derive(Clone, Debug)]
struct Cert {
    kind: CertKind,
    issued_on: NaiveDate,
    revoked_on: Option<NaiveDate>,
}

/// The registry's view of one elder, kept in step with what was imported.
#[derive(Clone, Debug)]
struct Elder {
    id: String,
    name: &'static str,
    birth: NaiveDate,
    street: &'static str,
    account_no: Option<String>,
    own_account: String,
    death: Option<NaiveDate>,
    hukou_out: Option<NaiveDate>,
    certs: Vec<Cert>,
    applications: Vec<(Allowance, NaiveDate)>,
}

impl Elder {
    fn row(&self) -> String {
        let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        format!(
            "{},{},{},{DISTRICT},{},,{},{},shebao,{}\n",
            self.id,
            self.name,
            self.birth,
            self.street,
            opt(self.hukou_out),
            opt(self.death),
            self.account_no.as_deref().unwrap_or("")
        )
    }

    fn cert_row(&self, c: &Cert) -> String {
        format!(
            "{},{},{},{},{},{}\n",
            self.id,
            c.kind.category,
            c.kind.grade,
            c.kind.multiple,
            c.issued_on,
            c.revoked_on.map(|d| d.to_string()).unwrap_or_default()
        )
    }

    fn application_row(&self, allowance: Allowance, applied_on: NaiveDate) -> String {
        format!("{},{},{applied_on},approved,{}\n", self.id, allowance.as_str(), applied_on + Duration::days(7))
    }
}

/// One case: a fresh database, the policy, the registry model, a logical clock and a log.
struct World {
    store: SqliteStore,
    book: PolicyBook,
    policy: Policy,
    elders: Vec<Elder>,
    dir: tempfile::TempDir,
    tick: i64,
    imports: u32,
    log: Vec<String>,
}

type Res<T> = anyhow::Result<T>;

/// What must not change across a refused run, a dry run or a run with nothing to settle.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    batches: Vec<BatchRow>,
    postings: usize,
    ledger: (i64, i64),
}

fn jan() -> ServiceMonth {
    ServiceMonth::new(2020, 1).expect("month")
}

fn jun() -> ServiceMonth {
    ServiceMonth::new(2020, 6).expect("month")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 1).expect("date")
}

impl World {
    async fn new(specs: &[ElderSpec]) -> Res<World> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = SqliteStore::open(&url).await?;
        store.migrate().await?;
        store.set_start_month(jan()).await?;
        let policy = Policy::parse(DEFAULT_POLICY)?;
        // Loaded before any batch: corrections may then read only the persons changed since the
        // district's latest counted batch.
        let loaded = Utc.with_ymd_and_hms(2019, 11, 1, 0, 0, 0).unwrap();
        store.add_policy(&policy, "fixtures/policy/beijing-2019.toml", loaded).await?;
        let book = PolicyBook::new(store.policy_versions().await?)?;
        let elders = specs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let birth = NaiveDate::parse_from_str(s.birth, "%Y-%m-%d").expect("birth");
                let seq = 101 + 2 * i as u32;
                let own_account = format!("62170000000000{seq:05}");
                let mut certs = Vec::new();
                let mut applications = Vec::new();
                if let Some(d) = s.longevity_applied {
                    applications.push((Allowance::Longevity, d.date()));
                }
                if let Some((kind, issued, applied)) = s.care {
                    certs.push(Cert { kind, issued_on: issued.date(), revoked_on: None });
                    applications.push((Allowance::Care, applied.date()));
                }
                Elder {
                    id: subsidy::idcard::make(DISTRICT, birth, seq),
                    name: NAMES[i],
                    birth,
                    street: STREETS[i],
                    account_no: s.has_account.then(|| own_account.clone()),
                    own_account,
                    death: None,
                    hukou_out: None,
                    certs,
                    applications,
                }
            })
            .collect();
        let mut w = World { store, book, policy, elders, dir, tick: 0, imports: 0, log: Vec::new() };
        let elders: String = w.elders.iter().map(Elder::row).collect();
        let certs: String = w.elders.iter().flat_map(|e| e.certs.iter().map(|c| e.cert_row(c))).collect();
        let apps: String =
            w.elders.iter().flat_map(|e| e.applications.iter().map(|(a, d)| e.application_row(*a, *d))).collect();
        w.import(&[
            ("elders.csv", format!("{ELDERS}{elders}")),
            ("disability_certs.csv", format!("{CERTS}{certs}")),
            ("applications.csv", format!("{APPLICATIONS}{apps}")),
        ])
        .await?;
        w.log.push(format!("registry: {}", w.elders.iter().map(describe).collect::<Vec<_>>().join("; ")));
        Ok(w)
    }

    /// The logical clock: one minute per action, from 2019-12-01.
    fn now(&mut self) -> DateTime<Utc> {
        self.tick += 1;
        Utc.with_ymd_and_hms(2019, 12, 1, 0, 0, 0).unwrap() + Duration::minutes(self.tick)
    }

    async fn import(&mut self, files: &[(&str, String)]) -> Res<()> {
        self.imports += 1;
        let dir = self.dir.path().join(format!("import-{}", self.imports));
        std::fs::create_dir_all(&dir)?;
        for (name, text) in files {
            std::fs::write(dir.join(name), text)?;
        }
        let now = self.now();
        let ctx = Context { today: today(), policy: &self.policy };
        let report = import_dir(&self.store, &dir, &ctx, now).await?;
        anyhow::ensure!(report.rejects.is_empty(), "import rejected rows: {:?}\nfiles: {files:?}", report.rejects);
        Ok(())
    }

    async fn batches(&self) -> Res<Vec<BatchRow>> {
        Ok(self.store.batches(Some(DISTRICT), None).await?)
    }

    /// The latest service month of a counted batch (L1).
    async fn last_counted(&self) -> Res<Option<ServiceMonth>> {
        Ok(self.batches().await?.iter().filter(|b| b.state.counts()).map(|b| b.service_month).max())
    }

    /// The batch neither exported nor superseded/discarded, if any (there is at most one).
    async fn open_batch(&self) -> Res<Option<BatchRow>> {
        let open: Vec<BatchRow> = self.batches().await?.into_iter().filter(|b| b.state.is_open()).collect();
        anyhow::ensure!(open.len() <= 1, "more than one open batch: {open:?}");
        Ok(open.into_iter().next())
    }

    async fn snapshot(&self) -> Res<Snapshot> {
        let batches = self.store.batches(None, None).await?;
        let mut postings = 0;
        for b in &batches {
            postings += self.store.batch_postings(&b.batch_id).await?.len();
        }
        Ok(Snapshot { batches, postings, ledger: self.store.ledger_check().await? })
    }

    async fn run(&mut self, kind: BatchKind, month: ServiceMonth, dry_run: bool) -> Res<RunOutcome> {
        let reason = (kind == BatchKind::Correction).then(|| "registry corrected".to_string());
        let req = RunRequest { month, by: OPERATOR.into(), dry_run, kind, reason, ..Default::default() };
        let now = self.now();
        run_district(&self.store, &self.book, jan(), DISTRICT, &req, now).await
    }

    async fn approve(&mut self, batch: &BatchRow, export: bool) -> Res<()> {
        if batch.state == BatchState::Computed {
            let now = self.now();
            anyhow::ensure!(
                self.store.approve_batch(&batch.batch_id, REVIEWER, now).await?,
                "approve {}",
                batch.batch_id
            );
        }
        if export {
            let out = self.dir.path().join("out").join(&batch.batch_id);
            let clock = Clock::fixed(today());
            subsidy::ops::export::write_export_by(&self.store, &batch.batch_id, &out, OPERATOR, clock).await?;
            let state = self.store.batch(&batch.batch_id).await?.map(|b| b.state);
            anyhow::ensure!(state == Some(BatchState::Exported), "{} after export: {state:?}", batch.batch_id);
        }
        Ok(())
    }

    /// Run one step, checking what it must and must not change.
    async fn step(&mut self, step: &Step) -> Res<()> {
        match step {
            Step::Import(change) => self.correct(change).await?,
            Step::Run => {
                let month = self.last_counted().await?.map_or(jan(), ServiceMonth::next);
                if month > jun() {
                    self.log.push("run: 2020-06 is done, skipped".into());
                    return Ok(());
                }
                let open = self.open_batch().await?;
                let before = self.snapshot().await?;
                let outcome = self.run(BatchKind::Regular, month, false).await?;
                self.log.push(format!("run {month}: {}", outcome_text(&outcome)));
                match (&outcome, &open) {
                    (RunOutcome::Refused(_), Some(_)) | (RunOutcome::NothingToSettle, None) => {
                        anyhow::ensure!(
                            self.snapshot().await? == before,
                            "run {month} ({:?}) changed the ledger",
                            outcome
                        )
                    }
                    (RunOutcome::Computed(s), None) if !s.dry_run => {
                        let b = self.store.batch(&s.batch_id).await?;
                        let got = b.map(|b| (b.state, b.kind, b.service_month));
                        anyhow::ensure!(
                            got == Some((BatchState::Computed, BatchKind::Regular, month)),
                            "run {month} wrote {got:?}"
                        );
                    }
                    _ => anyhow::bail!(
                        "run {month} with open batch {:?}: unexpected {outcome:?}",
                        open.map(|b| b.batch_id)
                    ),
                }
            }
            Step::Rerun { dry_run } => {
                let Some(month) = self.last_counted().await? else {
                    self.log.push("rerun: no month paid yet, skipped".into());
                    return Ok(());
                };
                let open = self.open_batch().await?;
                if let Some(o) = &open {
                    anyhow::ensure!(o.service_month == month, "open batch {} is not of the latest month", o.batch_id);
                }
                let before = self.snapshot().await?;
                let outcome = self.run(BatchKind::Correction, month, *dry_run).await?;
                let dry = if *dry_run { " --dry-run" } else { "" };
                self.log.push(format!("rerun {month}{dry}: {}", outcome_text(&outcome)));
                match &outcome {
                    RunOutcome::NothingToSettle => {
                        anyhow::ensure!(
                            self.snapshot().await? == before,
                            "rerun {month}{dry} with nothing to settle wrote"
                        )
                    }
                    RunOutcome::Computed(s) if s.dry_run == *dry_run => {
                        if *dry_run {
                            anyhow::ensure!(self.snapshot().await? == before, "rerun {month} --dry-run wrote");
                        } else {
                            let b = self.store.batch(&s.batch_id).await?;
                            let got = b.map(|b| (b.state, b.kind, b.service_month));
                            anyhow::ensure!(
                                got == Some((BatchState::Computed, BatchKind::Correction, month)),
                                "rerun {month} wrote {got:?}"
                            );
                            let replaced = open.as_ref().map(|o| o.batch_id.clone());
                            anyhow::ensure!(
                                s.replaces == replaced,
                                "rerun replaced {:?}, open was {replaced:?}",
                                s.replaces
                            );
                            if let Some(old) = replaced {
                                let state = self.store.batch(&old).await?.map(|b| b.state);
                                anyhow::ensure!(state == Some(BatchState::Superseded), "{old} after rerun: {state:?}");
                            }
                        }
                    }
                    other => anyhow::bail!("rerun {month}{dry}: unexpected {other:?}"),
                }
            }
            Step::Discard => match self.open_batch().await? {
                None => self.log.push("discard: no open batch, skipped".into()),
                Some(b) => {
                    let audit = subsidy::audit::AuditEntry {
                        actor: REVIEWER.into(),
                        command: "discard".into(),
                        target: b.batch_id.clone(),
                        reason: "operator error".into(),
                        input_fingerprint: b.registry_fingerprint.clone(),
                        details: "{}".into(),
                    };
                    let now = self.now();
                    let done = self.store.discard_batch(&b.batch_id, "operator error", &audit, now).await?;
                    anyhow::ensure!(done, "discard {} ({:?}) refused", b.batch_id, b.state);
                    self.log.push(format!("discard {} ({})", b.batch_id, b.state.as_str()));
                }
            },
            Step::Approve { export } => match self.open_batch().await? {
                None => self.log.push("approve: no open batch, skipped".into()),
                Some(b) => {
                    self.approve(&b, *export).await?;
                    self.log.push(format!("approve {}{}", b.batch_id, if *export { " + export" } else { "" }));
                }
            },
        }
        // L4, after every step: the balances table agrees with the counted postings.
        let (balances, postings) = self.store.ledger_check().await?;
        anyhow::ensure!(balances == postings, "L4: balances sum {balances} fen, counted postings {postings} fen");
        Ok(())
    }

    /// Apply a correction to the model and import the rows it changes.
    async fn correct(&mut self, change: &Change) -> Res<()> {
        let n = self.elders.len();
        let (file, text, what) = match *change {
            Change::Death { who, on } => {
                let e = &mut self.elders[who % n];
                e.death = on.map(Day::date);
                ("elders.csv", format!("{ELDERS}{}", e.row()), format!("{} death {:?}", e.name, e.death))
            }
            Change::HukouOut { who, on } => {
                let e = &mut self.elders[who % n];
                e.hukou_out = on.map(Day::date);
                ("elders.csv", format!("{ELDERS}{}", e.row()), format!("{} hukou_out {:?}", e.name, e.hukou_out))
            }
            Change::Account { who, record } => {
                let e = &mut self.elders[who % n];
                e.account_no = record.then(|| e.own_account.clone());
                let what = format!("{} account {}", e.name, if record { "recorded" } else { "cleared" });
                ("elders.csv", format!("{ELDERS}{}", e.row()), what)
            }
            Change::CertAdd { who, kind, issued } => {
                let e = &mut self.elders[who % n];
                let cert = Cert { kind, issued_on: issued.date(), revoked_on: None };
                let row = e.cert_row(&cert);
                upsert_cert(e, cert);
                ("disability_certs.csv", format!("{CERTS}{row}"), format!("{} cert {kind:?} issued {issued:?}", e.name))
            }
            Change::CertRevoke { who, which, on } => {
                let e = &mut self.elders[who % n];
                if e.certs.is_empty() {
                    self.log.push(format!("revoke: {} holds no certificate, skipped", e.name));
                    return Ok(());
                }
                let i = which % e.certs.len();
                let revoked = on.date().max(e.certs[i].issued_on + Duration::days(1));
                e.certs[i].revoked_on = Some(revoked);
                let what =
                    format!("{} cert {:?} of {} revoked {revoked}", e.name, e.certs[i].kind, e.certs[i].issued_on);
                ("disability_certs.csv", format!("{CERTS}{}", e.cert_row(&e.certs[i])), what)
            }
            Change::CertReplace { who, kind, days_after } => {
                let e = &mut self.elders[who % n];
                let latest = e.certs.iter().map(|c| c.issued_on).max().unwrap_or(jan().first_day());
                let cert = Cert { kind, issued_on: latest + Duration::days(days_after as i64), revoked_on: None };
                let row = e.cert_row(&cert);
                let what = format!("{} cert replaced by {kind:?} issued {}", e.name, cert.issued_on);
                upsert_cert(e, cert);
                ("disability_certs.csv", format!("{CERTS}{row}"), what)
            }
            Change::Application { who, allowance, months_earlier } => {
                let e = &mut self.elders[who % n];
                let earliest = e
                    .applications
                    .iter()
                    .filter(|(a, _)| *a == allowance)
                    .map(|(_, d)| *d)
                    .min()
                    .unwrap_or(NaiveDate::from_ymd_opt(2020, 6, 10).expect("date"));
                let applied = earliest - Months::new(months_earlier as u32);
                e.applications.push((allowance, applied));
                let what = format!("{} {} application applied {applied}", e.name, allowance.as_str());
                ("applications.csv", format!("{APPLICATIONS}{}", e.application_row(allowance, applied)), what)
            }
        };
        self.import(&[(file, text)]).await?;
        self.log.push(format!("import: {what}"));
        Ok(())
    }

    /// Approve and export the open batch, run the last correction of the last month and export
    /// it, then check L2 (c): a rerun with unchanged inputs emits no line. Returns the last month.
    async fn finish(&mut self) -> Res<ServiceMonth> {
        if let Some(b) = self.open_batch().await? {
            self.approve(&b, true).await?;
            self.log.push(format!("final: approve + export {}", b.batch_id));
        }
        if self.last_counted().await?.is_none() {
            let outcome = self.run(BatchKind::Regular, jan(), false).await?;
            self.log.push(format!("final: run 2020-01: {}", outcome_text(&outcome)));
            self.export_outcome(&outcome).await?;
        }
        let last = self.last_counted().await?.unwrap_or(jan());
        let outcome = self.run(BatchKind::Correction, last, false).await?;
        self.log.push(format!("final: rerun {last}: {}", outcome_text(&outcome)));
        self.export_outcome(&outcome).await?;
        anyhow::ensure!(self.open_batch().await?.is_none(), "a batch is still open");
        // L2: nothing changed since the last correction was exported: nothing to settle.
        let before = self.snapshot().await?;
        for dry_run in [true, false] {
            let outcome = self.run(BatchKind::Correction, last, dry_run).await?;
            self.log.push(format!("final: rerun {last} again (dry run: {dry_run}): {}", outcome_text(&outcome)));
            anyhow::ensure!(
                matches!(outcome, RunOutcome::NothingToSettle),
                "L2: rerun {last} (dry run: {dry_run}) with unchanged inputs emitted lines: {outcome:?}"
            );
            anyhow::ensure!(self.snapshot().await? == before, "L2: rerun {last} with unchanged inputs wrote");
        }
        Ok(last)
    }

    async fn export_outcome(&mut self, outcome: &RunOutcome) -> Res<()> {
        match outcome {
            RunOutcome::Computed(s) => {
                let b =
                    self.store.batch(&s.batch_id).await?.ok_or_else(|| anyhow::anyhow!("{} missing", s.batch_id))?;
                self.approve(&b, true).await
            }
            RunOutcome::NothingToSettle => Ok(()),
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }

    /// Net paid per (person, allowance, month), fen: counted postings only (L1).
    async fn net_paid(&self) -> Res<BTreeMap<(String, Allowance, ServiceMonth), i64>> {
        let mut net = BTreeMap::new();
        for b in self.store.batches(None, None).await?.iter().filter(|b| b.state.counts()) {
            for p in self.store.batch_postings(&b.batch_id).await? {
                if p.held_reason.is_none() {
                    let key = (p.id_number.clone(), p.allowance.parse()?, p.service_month.parse()?);
                    *net.entry(key).or_insert(0) += p.amount_fen;
                }
            }
        }
        Ok(net)
    }

    /// L1/L2: net paid equals owed on the final registry (within [0, owed] without an account).
    async fn check_net_paid_equals_owed(&self, last: ServiceMonth) -> Res<()> {
        let net = self.net_paid().await?;
        if let Some(((id, a, m), fen)) = net.iter().find(|((_, _, m), _)| *m > last) {
            anyhow::bail!("L2: {id} {a} {m} paid {fen} fen, after the last month {last}");
        }
        for e in &self.elders {
            let rec = self.store.person(&e.id).await?.ok_or_else(|| anyhow::anyhow!("{} not stored", e.id))?;
            let has_account =
                rec.registrations.iter().find(|r| r.district_code == DISTRICT).and_then(|r| r.account_no.as_ref());
            anyhow::ensure!(has_account == e.account_no.as_ref(), "{}: stored account differs from the model", e.name);
            let mut owed: BTreeMap<(Allowance, ServiceMonth), i64> = BTreeMap::new();
            for x in owed_between(&self.book, &rec, jan(), last).into_iter().filter(|x| x.district == DISTRICT) {
                *owed.entry((x.allowance, x.month)).or_insert(0) += to_fen(x.amount)?;
            }
            let paid: BTreeMap<(Allowance, ServiceMonth), i64> =
                net.iter().filter(|((id, _, _), _)| *id == e.id).map(|((_, a, m), f)| ((*a, *m), *f)).collect();
            let keys: BTreeSet<(Allowance, ServiceMonth)> = owed.keys().chain(paid.keys()).copied().collect();
            for (a, m) in keys {
                let (o, p) = (owed.get(&(a, m)).copied().unwrap_or(0), paid.get(&(a, m)).copied().unwrap_or(0));
                if has_account.is_some() {
                    anyhow::ensure!(p == o, "L1/L2: {} ({}) {a} {m}: net paid {p} fen, owed {o} fen", e.name, e.id);
                } else {
                    anyhow::ensure!(
                        (0..=o).contains(&p),
                        "L1/L3: {} ({}, no account) {a} {m}: net paid {p} fen outside [0, owed {o}]",
                        e.name,
                        e.id
                    );
                }
            }
        }
        Ok(())
    }

    /// L4: keys never repeat (every batch, whatever its state), adjustments count 0, 1, 2 …
    /// without a gap, balances agree with postings, net paid within [0, top rate].
    async fn check_payment_keys(&self) -> Res<()> {
        let mut keys = BTreeSet::new();
        let mut adjustments: BTreeMap<(String, String, String), Vec<i32>> = BTreeMap::new();
        for b in self.store.batches(None, None).await? {
            for p in self.store.batch_postings(&b.batch_id).await? {
                let text = format!("{}-{}-{}-{}", p.id_number, p.allowance, p.service_month, p.adjustment);
                anyhow::ensure!(p.payment_key == text, "L4: key {} does not name {text}", p.payment_key);
                anyhow::ensure!(
                    keys.insert(p.payment_key.clone()),
                    "L4: payment key {} repeats (batch {}, {})",
                    p.payment_key,
                    b.batch_id,
                    b.state.as_str()
                );
                adjustments.entry((p.id_number, p.allowance, p.service_month)).or_default().push(p.adjustment);
            }
        }
        for (key, mut adj) in adjustments {
            adj.sort_unstable();
            let want: Vec<i32> = (0..adj.len() as i32).collect();
            anyhow::ensure!(adj == want, "L4: adjustments of {key:?} are {adj:?}, not 0, 1, 2 …");
        }
        let (balances, postings) = self.store.ledger_check().await?;
        anyhow::ensure!(balances == postings, "L4: balances sum {balances} fen, counted postings {postings} fen");
        let top = self.book.in_force(jan());
        for ((id, a, m), fen) in self.net_paid().await? {
            let ceiling = to_fen(top.top_rate(a))?;
            anyhow::ensure!(
                (0..=ceiling).contains(&fen),
                "L4: {id} {a} {m}: net paid {fen} fen outside [0, {ceiling}]"
            );
        }
        Ok(())
    }
}

fn upsert_cert(e: &mut Elder, cert: Cert) {
    match e.certs.iter_mut().find(|c| c.kind.category == cert.kind.category && c.issued_on == cert.issued_on) {
        Some(c) => *c = cert,
        None => e.certs.push(cert),
    }
}

fn describe(e: &Elder) -> String {
    let certs: Vec<String> = e.certs.iter().map(|c| format!("{:?} {}", c.kind, c.issued_on)).collect();
    let apps: Vec<String> = e.applications.iter().map(|(a, d)| format!("{} {d}", a.as_str())).collect();
    format!(
        "{} {} born {}{} certs [{}] apps [{}]",
        e.name,
        e.id,
        e.birth,
        if e.account_no.is_some() { "" } else { " NO ACCOUNT" },
        certs.join(", "),
        apps.join(", ")
    )
}

fn outcome_text(o: &RunOutcome) -> String {
    match o {
        RunOutcome::Computed(s) => format!(
            "{} {}{}{} ({} persons read, {} transfers, control sum {} fen)",
            if s.dry_run { "dry run of" } else { "computed" },
            s.batch_id,
            s.replaces.as_ref().map(|r| format!(" replacing {r}")).unwrap_or_default(),
            if s.read_changed_only { ", changed persons only" } else { "" },
            s.persons_read,
            s.transfer_count,
            to_fen(s.control_sum).unwrap_or_default()
        ),
        RunOutcome::Existing(b) => format!("existing {}", b.batch_id),
        RunOutcome::NothingToSettle => "nothing to settle".into(),
        RunOutcome::Locked => "locked".into(),
        RunOutcome::Refused(why) => format!("refused ({why})"),
    }
}

/// Which properties a case checks at the end.
#[derive(Clone, Copy)]
enum Check {
    NetPaidEqualsOwed,
    PaymentKeys,
}

/// Run a scenario on a fresh database; on failure, the log of the steps.
fn run_case(specs: &[ElderSpec], paid_months: u8, steps: &[Step], check: Check) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    rt.block_on(async {
        let mut world = World::new(specs).await.map_err(|e| TestCaseError::fail(format!("setup: {e:#}")))?;
        let result = async {
            for _ in 0..paid_months {
                world.step(&Step::Run).await?;
                world.step(&Step::Approve { export: true }).await?;
            }
            world.log.push("-- steps".into());
            for s in steps {
                world.step(s).await?;
            }
            let last = world.finish().await?;
            match check {
                Check::NetPaidEqualsOwed => world.check_net_paid_equals_owed(last).await,
                Check::PaymentKeys => world.check_payment_keys().await,
            }
        }
        .await;
        world.store.close().await;
        result.map_err(|e| TestCaseError::fail(format!("{e:#}\nsteps:\n  {}", world.log.join("\n  "))))
    })
}

proptest! {
    #![proptest_config(config())]

    /// L1/L2 (and L3): after any sequence of corrections, runs, reruns, discards and approvals,
    /// and a last correction, the net paid of every person, allowance and month equals what is
    /// owed on the final registry (held, not paid, while there is no account number).
    #[test]
    fn l1_l2_net_paid_equals_owed_after_any_sequence_of_corrections((specs, paid, steps) in scenario([5, 3, 2, 1, 4])) {
        run_case(&specs, paid, &steps, Check::NetPaidEqualsOwed)?;
    }

    /// L4: over sequences heavy in reruns (replacing open batches) and discards, payment keys never
    /// repeat, adjustments count up without a gap, and the net paid stays within [0, top rate].
    #[test]
    fn l4_payment_keys_never_repeat_across_reruns_and_discards((specs, paid, steps) in scenario([3, 3, 4, 2, 3])) {
        run_case(&specs, paid, &steps, Check::PaymentKeys)?;
    }
}

/// L2: right after a regular run is approved and exported, with nothing imported since, a rerun
/// of the month (and its dry run) has nothing to settle and writes no batch; so does the next
/// month after its own regular batch, for a registry with a held elder and one turning 90.
#[test]
fn l2_rerun_with_unchanged_inputs_emits_no_line() {
    let day = |month, day| Day { month, day };
    let specs = vec![
        ElderSpec { birth: "1930-02-14", has_account: true, longevity_applied: Some(day(0, 8)), care: None },
        ElderSpec { birth: "1938-07-07", has_account: false, longevity_applied: Some(day(0, 8)), care: None },
        ElderSpec {
            birth: "1950-05-20",
            has_account: true,
            longevity_applied: None,
            care: Some((CERT_KINDS[0], day(0, 1), day(0, 8))),
        },
    ];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut w = World::new(&specs).await.expect("setup");
        for month in [jan(), jan().next()] {
            let outcome = w.run(BatchKind::Regular, month, false).await.expect("run");
            let RunOutcome::Computed(s) = &outcome else { panic!("run {month}: {outcome:?}") };
            assert!(s.transfer_count > 0 && s.held.count > 0, "run {month}: {}", outcome_text(&outcome));
            w.export_outcome(&outcome).await.expect("approve and export");
            let before = w.snapshot().await.expect("snapshot");
            for dry_run in [true, false] {
                let outcome = w.run(BatchKind::Correction, month, dry_run).await.expect("rerun");
                assert!(
                    matches!(outcome, RunOutcome::NothingToSettle),
                    "rerun {month} (dry run: {dry_run}) right after its export: {}",
                    outcome_text(&outcome)
                );
                assert_eq!(w.snapshot().await.expect("snapshot"), before, "rerun {month} wrote");
            }
        }
        w.check_net_paid_equals_owed(jan().next()).await.expect("L1/L2");
        w.store.close().await;
    });
}

/// INTERFACE.md, `rerun`: "It replaces M's latest batch if that is not yet exported". After a
/// month's regular batch is exported and a first correction of it is computed, a second
/// correction (after another import) replaces that correction: it is not refused.
#[test]
fn l2_rerun_replaces_the_months_open_correction_batch() {
    let specs = vec![ElderSpec {
        birth: "1938-07-07",
        has_account: true,
        longevity_applied: Some(Day { month: 0, day: 8 }),
        care: None,
    }];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut w = World::new(&specs).await.expect("setup");
        let result = async {
            w.step(&Step::Run).await?;
            w.step(&Step::Approve { export: true }).await?;
            // Died 2019-12-20: 2020-01 is no longer owed (T3); the correction raises a recovery.
            w.step(&Step::Import(Change::Death { who: 0, on: Some(Day { month: 2, day: 20 }) })).await?;
            w.step(&Step::Rerun { dry_run: false }).await?;
            // The death was misreported: died 2020-02-20, 2020-01 is owed again.
            w.step(&Step::Import(Change::Death { who: 0, on: Some(Day { month: 4, day: 20 }) })).await?;
            w.step(&Step::Rerun { dry_run: false }).await?;
            w.finish().await?;
            w.check_net_paid_equals_owed(jan()).await?;
            w.check_payment_keys().await
        }
        .await;
        w.store.close().await;
        if let Err(e) = result {
            panic!("{e:#}\nsteps:\n  {}", w.log.join("\n  "));
        }
    });
}
