//! The use-cases (`subsidy::ops`) on both databases: the rules that moved out of the command line
//! refuse with typed errors, exactly (T7 start month fixed once a batch exists; the T1/T7 month window of a run;
//! four eyes; which batch state allows which step), and the audit entries are written by the
//! use-cases themselves (`init`, `import`), so that the demo's log is the commands' log.

use crate::import::write_dir;
use crate::scenario::{clock, month, Elder, APPLICATIONS, DISTRICT, ELDERS, OPERATOR, REVIEWER};
use crate::support::{check, eq};
use libtest_mimic::Failed;
use subsidy::adapters::registry_csv::encoding::Encoding;
use subsidy::batch::RunOutcome;
use subsidy::ledger::BatchState;
use subsidy::ops::init::{InitOutcome, InitRequest};
use subsidy::ops::run::RunOrder;
use subsidy::ops::{self, OpsError, Step};
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        ops_init_sets_the_start_month_until_the_first_batch_and_audits_it,
        ops_run_refuses_months_outside_the_window_as_usage,
        ops_four_eyes_and_batch_states_refuse_with_typed_errors
    ]
}

/// An elder of 84 in 2020 with an approved longevity application (R2: 80-89, 100 a month).
fn steady() -> Elder {
    Elder::new("钱二", "1935-04-01", 202, "110102007", "shebao", "6217000000000000022")
}

/// The audit log's (actor, command, target), in order.
async fn audit<S: Store>(s: &S) -> Result<Vec<(String, String, String)>, Failed> {
    let (rows, _) = s.audit_log().await?;
    Ok(rows.into_iter().map(|r| (r.entry.actor, r.entry.command, r.entry.target)).collect())
}

fn entry(actor: &str, command: &str, target: &str) -> (String, String, String) {
    (actor.to_string(), command.to_string(), target.to_string())
}

/// The registry of the steady elder, imported through the use-case (audited); the folder.
async fn import_steady<S: Store>(s: &S) -> Result<tempfile::TempDir, Failed> {
    import_approved_for_longevity(s, &steady()).await
}

/// The registry of one elder approved for longevity (applied 2019-10-08, approved 2019-10-20),
/// imported through the use-case (audited), every row accepted; the folder.
pub async fn import_approved_for_longevity<S: Store>(s: &S, elder: &Elder) -> Result<tempfile::TempDir, Failed> {
    let application = format!("{},longevity,2019-10-08,approved,2019-10-20\n", elder.id);
    let dir = write_dir(&[
        ("elders.csv", &format!("{ELDERS}{}", elder.row(""))),
        ("applications.csv", &format!("{APPLICATIONS}{application}")),
    ]);
    let report = ops::import::import(s, dir.path(), Encoding::Utf8, OPERATOR, clock()).await?;
    eq(report.rejects.len(), 0, "import rejects")?;
    Ok(dir)
}

/// `init` with start month 2020-01, through the use-case.
pub async fn init_2020<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let req = InitRequest { start_month: Some(month("2020-01")), first_policy: None };
    ops::init::init(s, req, OPERATOR, clock()).await?;
    Ok(())
}

/// T7: not initialised is wrong usage; the first `init` needs a start month; it sets it, loads the
/// default policy once, and is audited; a different start month replaces it (audited) until the
/// first batch exists, and is refused after, naming that batch.
async fn ops_init_sets_the_start_month_until_the_first_batch_and_audits_it<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let gate = ops::init::initialised(s).await;
    check(matches!(&gate, Err(OpsError::NotInitialised)), format!("before init: {gate:?}"))?;
    let first = ops::init::init(s, InitRequest::default(), OPERATOR, clock()).await;
    check(
        matches!(&first, Err(OpsError::Usage(m)) if m.starts_with("the first `subsidy init` needs --start-month YYYY-MM")),
        format!("init without a start month: {first:?}"),
    )?;
    let req = InitRequest { start_month: Some(month("2020-01")), first_policy: None };
    let done = ops::init::init(s, req.clone(), OPERATOR, clock()).await?;
    let loaded = InitOutcome {
        start_month: month("2020-01"),
        policy_loaded: Some("beijing-2019-v1".into()),
        policy_versions: 1,
    };
    eq(done, loaded, "first init")?;
    eq(ops::init::initialised(s).await?, month("2020-01"), "start month")?;
    let again = ops::init::init(s, req, REVIEWER, clock()).await?;
    eq(again, InitOutcome { start_month: month("2020-01"), policy_loaded: None, policy_versions: 1 }, "init again")?;
    // Until the first batch exists the start month may change (audited, as the first init).
    let moved = InitRequest { start_month: Some(month("2019-12")), first_policy: None };
    eq(ops::init::init(s, moved, REVIEWER, clock()).await?.start_month, month("2019-12"), "moved before any batch")?;
    eq(ops::init::initialised(s).await?, month("2019-12"), "start month after the move")?;
    let back = InitRequest { start_month: Some(month("2020-01")), first_policy: None };
    eq(ops::init::init(s, back, OPERATOR, clock()).await?.start_month, month("2020-01"), "moved back")?;
    let inits = vec![
        entry(OPERATOR, "init", "2020-01"),
        entry(REVIEWER, "init", "2019-12"),
        entry(OPERATOR, "init", "2020-01"),
    ];
    eq(audit(s).await?, inits.clone(), "audit log: each start month set")?;
    // Once a batch exists, refused naming it; nothing changes.
    let _registry = import_steady(s).await?;
    let order = RunOrder { district: None, month: month("2020-01"), by: OPERATOR, dry_run: false };
    ops::run::run(s, &order, clock(), |_| {}).await?;
    let first = s.batches(None, None).await?.first().map(|b| b.batch_id.clone()).unwrap_or_default();
    let moved = InitRequest { start_month: Some(month("2020-02")), first_policy: None };
    let refused = ops::init::init(s, moved, OPERATOR, clock()).await;
    check(
        matches!(&refused, Err(OpsError::StartMonthFixed { start, first_batch })
            if *start == month("2020-01") && *first_batch == first && !first.is_empty()),
        format!("a new start month once a batch exists must be refused naming it: {refused:?}"),
    )?;
    let said = refused.err().map(|e| e.to_string()).unwrap_or_default();
    check(said.contains(&format!("now that batch {first} exists")), said.clone())?;
    eq(ops::init::initialised(s).await?, month("2020-01"), "start month after the refusal")?;
    eq(audit(s).await?[..3].to_vec(), inits, "audit log: the refusal is not recorded")
}

/// T7 and T1 with today 2021-01-01: 2019-12 is before the start month, 2021-03 after the next
/// month to pay (2021-02); an unknown district and a rerun without a reason are wrong usage too;
/// a month inside the window runs, reporting each district to `each` as it finishes.
async fn ops_run_refuses_months_outside_the_window_as_usage<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    init_2020(s).await?;
    let order = RunOrder { district: None, month: month("2020-01"), by: OPERATOR, dry_run: false };
    let empty = ops::run::run(s, &order, clock(), |_| {}).await;
    check(matches!(empty, Err(OpsError::EmptyRegistry)), format!("run on an empty registry: {empty:?}"))?;
    let _registry = import_steady(s).await?;

    let usage = |m: &str| OpsError::Usage(m.to_string()).to_string();
    for (asked, district, want) in [
        ("2019-12", None, usage("2019-12 is before the start month 2020-01: this engine pays no month before it (T7)")),
        (
            "2021-03",
            None,
            usage("2021-03 is after 2021-02, the next month to pay (T1: month M is paid before the end of M−1); check --month"),
        ),
        ("2020-01", Some("999999"), usage("district 999999 has no registration in the registry; known: 110102")),
    ] {
        let order = RunOrder { district, month: month(asked), by: OPERATOR, dry_run: false };
        let got = ops::run::run(s, &order, clock(), |_| {}).await;
        check(
            matches!(&got, Err(e @ OpsError::Usage(_)) if e.to_string() == want),
            format!("run {asked} {district:?}: {got:?}"),
        )?;
    }
    let order = RunOrder { district: None, month: month("2020-01"), by: OPERATOR, dry_run: false };
    let no_reason = ops::run::rerun(s, &order, "  ", clock(), |_| {}).await;
    check(
        matches!(&no_reason, Err(OpsError::Usage(m)) if m == "--reason must say why the month is run again"),
        format!("rerun without a reason: {no_reason:?}"),
    )?;
    eq(s.batches(None, None).await?.len(), 0, "batches after the refused runs")?;

    let mut seen = Vec::new();
    let runs = ops::run::run(s, &order, clock(), |r| seen.push(r.district.clone())).await?;
    eq(seen, vec![DISTRICT.to_string()], "districts reported as they finish")?;
    let computed: Vec<(String, u64)> = runs
        .iter()
        .filter_map(|r| match &r.outcome {
            RunOutcome::Computed(sum) => Some((sum.batch_id.clone(), sum.transfer_count)),
            _ => None,
        })
        .collect();
    eq(computed, vec![("110102-2020-01-R1".to_string(), 1)], "the month's batch: one transfer")
}

/// Four eyes and the batch states: the runner (however cased or spaced) is refused as
/// `SamePerson`; a computed batch cannot be exported or withdrawn; an exported one cannot be
/// approved or discarded (`WrongState`, with the step); an unknown batch is `NoBatch`. The audit
/// log holds exactly what the use-cases did.
async fn ops_four_eyes_and_batch_states_refuse_with_typed_errors<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    init_2020(s).await?;
    let registry = import_steady(s).await?;
    let order = RunOrder { district: Some(DISTRICT), month: month("2020-01"), by: OPERATOR, dry_run: false };
    ops::run::run(s, &order, clock(), |_| {}).await?;
    let batch = "110102-2020-01-R1";
    let wrong = |state, step| OpsError::WrongState { batch: batch.into(), state, step }.to_string();

    let by_runner = ops::approve::approve(s, batch, " Operator-Wang ", clock()).await;
    check(
        matches!(&by_runner, Err(OpsError::SamePerson { batch: b, run_by }) if b == batch && run_by == OPERATOR),
        format!("approval by the runner: {by_runner:?}"),
    )?;
    let out = tempfile::tempdir()?;
    let early = ops::export::export(s, batch, out.path(), OPERATOR, clock()).await;
    check(
        matches!(&early, Err(e @ OpsError::WrongState { state: BatchState::Computed, step: Step::Export, .. })
            if e.to_string() == wrong(BatchState::Computed, Step::Export)),
        format!("export before approval: {:?}", early.map(|f| f.len())),
    )?;
    let withdraw = ops::withdraw::withdraw(s, batch, "why", REVIEWER, clock()).await;
    check(
        matches!(withdraw, Err(OpsError::WrongState { state: BatchState::Computed, step: Step::Withdraw, .. })),
        "withdrawing an unapproved batch must be refused",
    )?;
    let approved = ops::approve::approve(s, batch, REVIEWER, clock()).await?;
    eq((approved.state, approved.approved_by.as_deref()), (BatchState::Approved, Some(REVIEWER)), "approved")?;
    ops::approve::approve(s, batch, REVIEWER, clock()).await?;
    eq(ops::export::export(s, batch, out.path(), OPERATOR, clock()).await?.len(), 6, "files exported")?;
    let late = ops::approve::approve(s, batch, REVIEWER, clock()).await;
    check(
        matches!(late, Err(OpsError::WrongState { state: BatchState::Exported, step: Step::Approve, .. })),
        "approving an exported batch must be refused",
    )?;
    let discard = ops::discard::discard(s, batch, "why", REVIEWER, clock()).await.err().map(|e| e.to_string());
    eq(
        discard.as_deref(),
        Some(
            "batch 110102-2020-01-R1 is exported: only a computed or approved batch that is not exported can be \
             discarded; correct it with `subsidy rerun --month M --reason TEXT`",
        ),
        "discard of an exported batch",
    )?;
    let none = ops::approve::approve(s, "110102-2020-01-R9", REVIEWER, clock()).await;
    check(matches!(&none, Err(OpsError::NoBatch(b)) if b == "110102-2020-01-R9"), format!("unknown: {none:?}"))?;
    let (_, problems) = ops::verify::verify_batch(s, batch, out.path()).await?;
    eq(problems, Vec::<String>::new(), "the exported files verify")?;
    let dir = registry.path().display().to_string();
    eq(
        audit(s).await?,
        vec![
            entry(OPERATOR, "init", "2020-01"),
            entry(OPERATOR, "import", &dir),
            entry(OPERATOR, "run", batch),
            entry(REVIEWER, "approve", batch),
            entry(OPERATOR, "export", batch),
        ],
        "audit log",
    )
}
