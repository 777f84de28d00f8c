//! One function per command: it resolves who acts ([`actor`]), calls the use-case in
//! [`crate::ops`] with typed inputs, and hands the outcome to [`super::render`] and
//! [`super::exit`]. The rules live in the use-cases, the wording in the renderers.

use super::args::{Cli, Command, ExportFormat, PolicyAction, ReportFormat};
use super::typed::{actor, allowance_arg, report_format, typed_id, typed_key};
use super::{exit, render, CodedUsage, ExitStatus, UsageError};
use crate::adapters::platform;
use crate::adapters::platform::iso20022::{self, Payer};
use crate::adapters::registry_csv::encoding::Encoding;
use crate::clock::Clock;
use crate::ledger::BatchState;
use crate::month::ServiceMonth;
use crate::ops;
use crate::ops::init::InitRequest;
use crate::ops::recovery::Decision;
use crate::ops::run::RunOrder;
use crate::store::{self, LedgerStore, Store};
use crate::with_store;
use anyhow::Context as _;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

/// Run the parsed command.
pub async fn dispatch(cli: Cli, clock: Clock) -> anyhow::Result<ExitStatus> {
    if let Command::Generate { elders, seed, out, malformed } = &cli.command {
        return generate(*elders, *seed, out, *malformed, cli.district.as_deref(), cli.json);
    }
    if let Command::Completions { shell } = &cli.command {
        let mut cmd = super::args::command();
        clap_complete::generate(*shell, &mut cmd, "subsidy", &mut std::io::stdout());
        return Ok(exit::DONE);
    }
    if let Command::Man = &cli.command {
        let mut page = Vec::new();
        clap_mangen::Man::new(super::args::command()).render(&mut page).context("cannot render the manual page")?;
        std::io::Write::write_all(&mut std::io::stdout(), &page).context("cannot write the manual page")?;
        return Ok(exit::DONE);
    }
    if let Command::Demo { out } = &cli.command {
        return crate::demo::run(out, cli.json, clock).await;
    }
    // Only `init` creates a PostgreSQL database the server does not have ("create the database
    // if needed"); every other command is told to run it.
    let (any, created) = match &cli.command {
        Command::Init { .. } => store::open_or_create(&cli.database_url).await,
        _ => store::open(&cli.database_url).await.map(|any| (any, None)),
    }
    .with_context(|| format!("cannot open the database {}", store::redact_url(&cli.database_url)))?;
    if let Some(created) = created {
        eprintln!("{created}");
    }
    with_store!(&any, |s| on_store(s, &cli, clock).await)
}

async fn on_store<S: Store + LedgerStore>(s: &S, cli: &Cli, clock: Clock) -> anyhow::Result<ExitStatus> {
    if let Command::Init { start_month, by } = &cli.command {
        let by = actor(by.as_deref())?;
        return init(s, *start_month, &by, cli.json, clock).await;
    }
    ops::init::initialised(s).await.map_err(|e| match e {
        ops::OpsError::NotInitialised => anyhow::Error::new(CodedUsage {
            code: "not_initialised",
            message: format!(
                "the database {} is not initialised: run `subsidy init --start-month YYYY-MM` first, \
                 or point --database-url (DATABASE_URL) at the initialised one",
                store::redact_url(&cli.database_url)
            ),
        }),
        e => e.into(),
    })?;
    match &cli.command {
        Command::Init { .. }
        | Command::Generate { .. }
        | Command::Demo { .. }
        | Command::Completions { .. }
        | Command::Man => unreachable!("handled above"),
        Command::Run { month, by, dry_run } => {
            let by = actor(by.as_deref())?;
            run(s, cli.district.as_deref(), *month, &by, *dry_run, cli.json, clock).await
        }
        Command::Approve { batch, by, yes } => approve_reviewed(s, batch, by, *yes, cli.json, clock).await,
        Command::Export { batch, out, by, encoding, format, payers } => {
            let by = actor(by.as_deref())?;
            let payer = match format {
                ExportFormat::Csv => None,
                ExportFormat::Pain001 => Some(payer_of(s, batch, payers.as_deref()).await?),
            };
            let files = ops::export::export_with(s, batch, out, &by, (*encoding).into(), payer.as_ref(), clock).await?;
            render::batch::exported(batch, out, &files, cli.json);
            if payer.is_some() && !files.iter().any(|f| f.name.ends_with("-pain001.xml")) && !cli.json {
                println!("  no pain.001 file: the batch has no transfers (ISO 20022 requires one at least)");
            }
            Ok(exit::DONE)
        }
        Command::Verify { audit: true, .. } => verify_audit(s, cli.json).await,
        Command::Verify { ledger: true, .. } => {
            let check = ops::ledger::check_ledger(s).await?;
            render::platform::ledger_checked(&check, cli.json);
            Ok(if check.breaches.is_empty() { exit::DONE } else { exit::DIFFERENCE })
        }
        Command::Verify { batch, dir, .. } => {
            let (Some(batch), Some(dir)) = (batch, dir) else {
                return Err(UsageError("verify needs --batch ID --dir DIR, or --audit, or --ledger".into()).into());
            };
            verify(s, batch, dir, cli.json).await
        }
        Command::Status { month, recoveries } => {
            status(s, cli.district.as_deref(), *month, *recoveries, cli.json).await
        }
        Command::Rerun { month, reason, by, dry_run } => {
            let by = actor(by.as_deref())?;
            rerun(s, cli.district.as_deref(), *month, reason, &by, *dry_run, cli.json, clock).await
        }
        Command::Discard { batch, reason, by } => {
            let by = actor(by.as_deref())?;
            discard(s, batch, reason, &by, cli.json, clock).await
        }
        Command::Withdraw { batch, reason, by } => {
            let by = actor(by.as_deref())?;
            withdraw(s, batch, reason, &by, cli.json, clock).await
        }
        Command::Recovery { key, collected, reason, by, .. } => {
            let by = actor(Some(by))?;
            let decision = if *collected { "collected" } else { "waived" };
            let key = typed_key(key)?;
            recovery(s, &key, decision, reason, &by, cli.json, clock).await
        }
        Command::Report { year: None, month: Some(month), format, out } => {
            let format = report_format(cli.json, *format, out.is_some())?;
            review(s, cli.district.as_deref(), *month, format, out.as_deref()).await
        }
        Command::Report { year, month, format, out } => {
            let format = report_format(cli.json, *format, out.is_some())?;
            let year = year.ok_or_else(|| {
                UsageError("report needs --year YYYY (or --month YYYY-MM alone for the month's review)".into())
            })?;
            report(s, cli.district.as_deref(), year, *month, format, out.as_deref()).await
        }
        Command::Policy { action: PolicyAction::Show } => policy_show(s, cli.json, clock).await,
        Command::Policy { action: PolicyAction::Load { file, by } } => {
            let by = actor(by.as_deref())?;
            policy_load(s, file, &by, cli.json, clock).await
        }
        Command::Import { dir, encoding, by } => {
            let by = actor(by.as_deref())?;
            import(s, dir, (*encoding).into(), &by, cli.json, clock).await
        }
        Command::Explain { id, month } => explain(s, &typed_id(id)?, *month, cli.json).await,
        Command::Schedule { once, by } => {
            let by = actor(by.as_deref())?;
            super::schedule::schedule(s, &by, *once, cli.json, clock).await
        }
        Command::Reconcile { file, encoding, by } => {
            let by = actor(by.as_deref())?;
            let done =
                ops::reconcile::reconcile(s, file, (*encoding).into(), cli.district.as_deref(), &by, clock).await?;
            render::platform::reconciled(&done, cli.json);
            Ok(exit::DONE)
        }
        Command::Hold(h) => {
            let by = actor(h.by.as_deref())?;
            let done =
                ops::holds::hold(s, &typed_id(&h.id)?, allowance_arg(h.allowance.as_deref())?, &h.reason, &by, clock)
                    .await?;
            render::platform::held(&done, cli.json);
            Ok(exit::DONE)
        }
        Command::Release(h) => {
            let by = actor(h.by.as_deref())?;
            let done = ops::holds::release(
                s,
                &typed_id(&h.id)?,
                allowance_arg(h.allowance.as_deref())?,
                &h.reason,
                &by,
                clock,
            )
            .await?;
            render::platform::released(&done, cli.json);
            Ok(exit::DONE)
        }
    }
}

/// The payer of the batch's district for pain.001: from `file`, or the built-in fictional one.
async fn payer_of<S: LedgerStore>(s: &S, batch: &str, file: Option<&Path>) -> anyhow::Result<Payer> {
    let district =
        s.batch(batch).await?.map(|b| b.district_code).ok_or_else(|| ops::OpsError::NoBatch(batch.into()))?;
    let (text, source) = match file {
        Some(f) => (
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
            f.display().to_string(),
        ),
        None => {
            (iso20022::BUILTIN_PAYERS.to_string(), "the built-in payers (fixtures/payers.toml, FICTIONAL)".to_string())
        }
    };
    let payers = iso20022::payers_from_toml(&text).map_err(|e| UsageError(format!("{source}: {e}")))?;
    let payer = iso20022::payer_for(&payers, &district).cloned().ok_or_else(|| {
        UsageError(format!(
            "{source} name no payer for district {district}: add a [[payer]] entry for it (see fixtures/payers.toml) \
             and pass the file with --payers FILE"
        ))
    })?;
    if file.is_none() {
        eprintln!("note: pain.001 written with the built-in FICTIONAL payer of fixtures/payers.toml: do not send it to a bank; pass --payers FILE");
    }
    Ok(payer)
}

/// `init`: migrations, start month (T7), the default policy.
async fn init<S: Store + LedgerStore>(
    s: &S,
    start_month: Option<ServiceMonth>,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let outcome = ops::init::init(s, InitRequest { start_month, first_policy: None }, by, clock).await?;
    render::policy::initialised(&outcome, json);
    Ok(exit::DONE)
}

/// `policy show`.
async fn policy_show<S: Store>(s: &S, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    render::policy::shown(&ops::policy::show(s, clock).await?, json);
    Ok(exit::DONE)
}

/// `policy load FILE`.
async fn policy_load<S: Store>(s: &S, file: &Path, by: &str, json: bool, clock: Clock) -> anyhow::Result<ExitStatus> {
    let loaded = ops::policy::load(s, file, by, clock).await?;
    render::policy::loaded(&loaded, json);
    Ok(exit::of_policy_load(&loaded.outcome))
}

/// `import DIR`.
async fn import<S: Store>(
    s: &S,
    dir: &Path,
    encoding: Encoding,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    if !dir.is_dir() {
        let what = if dir.exists() { "is not a folder" } else { "does not exist" };
        return Err(UsageError(format!(
            "the registry folder {} {what}: give the folder that holds elders.csv and the other registry files \
             (`subsidy import DIR`)",
            dir.display()
        ))
        .into());
    }
    let report = ops::import::import(s, dir, encoding, by, clock).await?;
    render::registry::imported(&report, dir, json);
    Ok(exit::of_import(&report))
}

/// `explain --id --month`.
async fn explain<S: Store + LedgerStore>(
    s: &S,
    id: &str,
    month: ServiceMonth,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    render::explain::explanation(&ops::explain::explain(s, id, month).await?, json);
    Ok(exit::DONE)
}

/// `generate`: a synthetic registry (no database).
fn generate(
    elders: u64,
    seed: u64,
    out: &Path,
    malformed: u64,
    district: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    let mut opts = crate::generate::GenerateOptions { elders, seed, malformed, ..Default::default() };
    if let Some(d) = district {
        opts.district = d.to_string();
    }
    let summary = crate::generate::generate(&opts, out)?;
    render::registry::generated(&summary, elders, seed, out, json);
    Ok(exit::DONE)
}

/// `run`: each district's regular batch for the month, printed as each finishes; SIGTERM or Ctrl-C
/// stop it between districts.
pub async fn run<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: ServiceMonth,
    by: &str,
    dry_run: bool,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let stop = super::schedule::StopSignal::listen();
    let order = RunOrder { district, month, by, dry_run };
    let runs = ops::run::run_until(s, &order, clock, &stop.asked, |r| super::schedule::print_run(r, json)).await?;
    Ok(super::schedule::runs_finished(&runs, json))
}

/// `rerun`: a correction batch per district (L2), replacing the month's unexported batch.
#[allow(clippy::too_many_arguments)]
pub async fn rerun<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: ServiceMonth,
    reason: &str,
    by: &str,
    dry_run: bool,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let order = RunOrder { district, month, by, dry_run };
    let runs = ops::run::rerun(s, &order, reason, clock, |r| super::schedule::print_run(r, json)).await?;
    Ok(super::schedule::runs_done(&runs, json))
}

/// `approve` as a script calls it: the review printed, nothing asked (`--yes`).
pub async fn approve<S: LedgerStore + Store>(
    s: &S,
    batch_id: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    approve_reviewed(s, batch_id, by, true, json, clock).await
}

/// `approve`: the month's review printed first (a reviewer sees what they approve), then, on a
/// terminal and without `yes`, a question; a script is never asked.
pub async fn approve_reviewed<S: LedgerStore + Store>(
    s: &S,
    batch_id: &str,
    by: &str,
    yes: bool,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let by = actor(Some(by))?;
    // The review is for a batch this approver may approve; anything else goes straight to
    // `approve`, which refuses it (or, approved already, changes nothing) without the wait.
    let reviewable = s
        .batch(batch_id)
        .await?
        .is_some_and(|b| b.state == BatchState::Computed && !ops::approve::same_person(&b.run_by, &by));
    let review = if reviewable { Some(ops::review::of_batch(s, batch_id).await?) } else { None };
    if let Some(r) = review.as_ref().filter(|_| !json) {
        print!("{}", crate::adapters::report::review_text(std::slice::from_ref(r)));
    }
    // Asked whenever a person can answer: stdin a terminal, even when stdout goes to a pager.
    let ask = review.is_some() && !yes && !json && std::io::stdin().is_terminal();
    let what = review
        .as_ref()
        .and_then(|r| r.batches.iter().find(|b| b.batch_id == batch_id))
        .map(|b| format!("{batch_id} ({} transfers, {} yuan)", b.transfers, crate::money::format_yuan(b.control_sum)));
    if ask && !confirm(what.as_deref().unwrap_or(batch_id)).await? {
        eprintln!("{batch_id} not approved: nothing changed (approve again when ready, or `subsidy rerun` / `subsidy discard` it)");
        return Ok(exit::FAILED);
    }
    render::batch::approved(&ops::approve::approve(s, batch_id, &by, clock).await?, review.as_ref(), json);
    Ok(exit::DONE)
}

/// Ask on the terminal whether to approve; only `y` or `yes` approves.
async fn confirm(what: &str) -> anyhow::Result<bool> {
    let question = format!("approve {what}? [y/N] ");
    let answer = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        // On stderr: stdout may be a pager or a file, the question is for the person.
        let mut out = std::io::stderr();
        write!(out, "{question}")?;
        out.flush()?;
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line)
    })
    .await??;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `export`: the six files, each written atomically; repeated exports are byte-identical.
pub async fn export<S: LedgerStore + Store>(
    s: &S,
    batch_id: &str,
    out: &Path,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let files = ops::export::export(s, batch_id, out, by, clock).await?;
    render::batch::exported(batch_id, out, &files, json);
    Ok(exit::DONE)
}

/// `verify`: exit 5 on any difference between files, manifest, totals and database.
pub async fn verify<S: LedgerStore>(s: &S, batch_id: &str, dir: &Path, json: bool) -> anyhow::Result<ExitStatus> {
    let (files, problems) = ops::verify::verify_batch(s, batch_id, dir).await?;
    render::batch::verified(batch_id, dir, &files, &problems, json);
    Ok(exit::of_differences(&problems))
}

/// `verify --audit`: the hash chain of the audit log; exit 5 when broken.
pub async fn verify_audit<S: Store>(s: &S, json: bool) -> anyhow::Result<ExitStatus> {
    let check = ops::verify::verify_audit(s).await?;
    render::batch::audit_verified(&check, json);
    Ok(exit::of_differences(&check.problems))
}

/// `status`: batches and their states.
pub async fn status<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: Option<ServiceMonth>,
    list_recoveries: bool,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    render::status::status(&ops::status::status(s, district, month).await?, list_recoveries, json);
    Ok(exit::DONE)
}

/// `report --year`: to stdout, or written atomically to `out`.
pub async fn report<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    year: i32,
    month: Option<ServiceMonth>,
    format: ReportFormat,
    out: Option<&Path>,
) -> anyhow::Result<ExitStatus> {
    // A workbook's bytes are of no use on a terminal (and may upset it); a redirected stdout
    // takes them.
    if format == ReportFormat::Xlsx && out.is_none() && std::io::stdout().is_terminal() {
        let hint = "--format xlsx writes a binary workbook: add --out FILE.xlsx (or redirect stdout to a file)";
        return Err(UsageError(hint.into()).into());
    }
    let reports = ops::report::report(s, district, year, month).await?;
    let bytes = render::registry::report(&reports, year, format)?;
    match out {
        Some(path) => {
            platform::write_atomically(
                path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")),
                &path.file_name().context("--out needs a file name")?.to_string_lossy(),
                &bytes,
            )?;
            eprintln!("report written to {}", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes).and_then(|()| stdout.flush()).context("writing the report to stdout")?;
        }
    }
    Ok(exit::DONE)
}

/// `report --month M`: the month's review, to stdout or written atomically to `out`.
pub async fn review<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    month: ServiceMonth,
    format: ReportFormat,
    out: Option<&Path>,
) -> anyhow::Result<ExitStatus> {
    if !matches!(format, ReportFormat::Text | ReportFormat::Csv | ReportFormat::Json) {
        return Err(UsageError(format!(
            "the month's review (report --month alone) is text, csv or json; for a page or a workbook ask for the year: \
             subsidy report --year {} --month {month} --format ...",
            month.year()
        ))
        .into());
    }
    let reviews = ops::review::review(s, district, month).await?;
    let text = render::registry::review(&reviews, format)?;
    match out {
        Some(path) => {
            platform::write_atomically(
                path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")),
                &path.file_name().context("--out needs a file name")?.to_string_lossy(),
                text.as_bytes(),
            )?;
            eprintln!("review written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(exit::DONE)
}

/// `discard`: an unexported batch is dropped (kept, never counted).
pub async fn discard<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    reason: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let before = ops::discard::discard(s, batch_id, reason, by, clock).await?;
    render::batch::discarded(&before, reason, json);
    Ok(exit::DONE)
}

/// `withdraw`: take back an approval before export.
pub async fn withdraw<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    reason: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    ops::withdraw::withdraw(s, batch_id, reason, by, clock).await?;
    render::batch::withdrawn(batch_id, json);
    Ok(exit::DONE)
}

/// `recovery`: close a recovery item as `collected` or `waived`.
pub async fn recovery<S: LedgerStore>(
    s: &S,
    key: &str,
    decision: &str,
    reason: &str,
    by: &str,
    json: bool,
    clock: Clock,
) -> anyhow::Result<ExitStatus> {
    let decision = Decision::parse(decision)
        .ok_or_else(|| UsageError(format!("a recovery is `collected` or `waived`, not `{decision}`")))?;
    let item = ops::recovery::close(s, key, decision, reason, by, clock).await?;
    render::batch::recovery_closed(&item, decision, by, json);
    Ok(exit::DONE)
}
