//! What a use-case refuses or fails with: one [`OpsError`] for all of them, each case with what the
//! operator can do next. The command line maps them to exit statuses in one place (`cli::exit`):
//! [`OpsError::Usage`] is wrong usage (2), a [`StoreError::Busy`] or [`StoreError::Conflict`] in
//! the chain is another command writing at the same time (4), anything else a failure (1).

use crate::adapters::platform::WriteError;
use crate::ledger::BatchState;
use crate::month::ServiceMonth;
use crate::policy::PolicyError;
use crate::store::{BatchRow, StoreError};
use std::path::PathBuf;

/// The step asked of a batch, for the messages that refuse it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `approve`.
    Approve,
    /// `export`, before anything is written.
    Export,
    /// Writing the files, under the export's lock.
    WriteFiles,
    /// `discard`.
    Discard,
    /// `withdraw`.
    Withdraw,
}

/// Why a use-case did not do what it was asked; nothing was changed unless the case says so.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Wrong usage: a value the rules refuse, with what to type instead (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// The database has no start month: `init` was not run on it (wrong usage, exit status 2;
    /// the command line names the database).
    #[error("this database is not initialised: run `subsidy init --start-month YYYY-MM` first")]
    NotInitialised,
    /// No batch has this id.
    #[error("there is no batch {0}; `subsidy status` lists the batches")]
    NoBatch(String),
    /// Four eyes: whoever ran a batch may not approve it.
    #[error(
        "{run_by} ran batch {batch} and cannot approve it (names are compared ignoring case and surrounding spaces): \
         the approver must be someone else"
    )]
    SamePerson {
        /// The batch.
        batch: String,
        /// Who ran it (and asked to approve it).
        run_by: String,
    },
    /// The batch's state does not allow the step (L1: only open batches change; only approved
    /// ones are exported).
    #[error("{}", wrong_state(batch, *state, *step))]
    WrongState {
        /// The batch.
        batch: String,
        /// Its state.
        state: BatchState,
        /// What was asked.
        step: Step,
    },
    /// Another command changed the batch's state between the check and the write.
    #[error("{}", state_changed(batch, *step))]
    StateChanged {
        /// The batch.
        batch: String,
        /// What was asked.
        step: Step,
    },
    /// Batches of other districts pay months this one recovers (a move known late): discarding it
    /// would count those months twice (L4).
    #[error("{}", relied_on(batch, *month, relying))]
    ReliedOn {
        /// The batch asked to be discarded.
        batch: String,
        /// Its service month.
        month: ServiceMonth,
        /// The batches relying on it.
        relying: Vec<BatchRow>,
    },
    /// The export could not be completed (boxed: it is the largest case).
    #[error(transparent)]
    Export(Box<ExportError>),
    /// T7: the start month may change until the first batch exists, not after.
    #[error(
        "the start month is {start} and cannot change now that batch {first_batch} exists (T7: months before it \
         were settled by the system this engine replaces); to start over, use a new database"
    )]
    StartMonthFixed {
        /// The start month set before.
        start: ServiceMonth,
        /// The first batch computed (by service month, then when computed).
        first_batch: String,
    },
    /// The policy compiled into the binary does not parse (a build defect).
    #[error("the built-in policy file is broken")]
    BuiltInPolicy(#[source] PolicyError),
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A policy file that is not in the format of fixtures/policy/ or breaks its rules.
    #[error("{} is not a usable policy file", path.display())]
    BadPolicyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: PolicyError,
    },
    /// No registration of this person.
    #[error("no person {masked_id} in the registry; check the ID number or import elders.csv")]
    NoPerson {
        /// The ID number, masked.
        masked_id: String,
    },
    /// The registry has no district to act on.
    #[error("the registry is empty: import a registry first (`subsidy import DIR`)")]
    EmptyRegistry,
    /// One district's batch failed; it wrote nothing (those before it stand).
    #[error("district {district}, month {month}: nothing was written")]
    District {
        /// The district.
        district: String,
        /// The service month.
        month: ServiceMonth,
        /// Why.
        source: anyhow::Error,
    },
    /// A masked payment key that names several recovery items.
    #[error("{count} recovery items match {key}; give the full payment key")]
    AmbiguousKey {
        /// The key as given.
        key: String,
        /// How many match.
        count: usize,
    },
    /// No recovery item has this key.
    #[error("no recovery item {masked_key}; `subsidy status --recoveries` lists them")]
    NoRecovery {
        /// The key, masked.
        masked_key: String,
    },
    /// The recovery item is closed already.
    #[error("recovery item {masked_key} is already {decision} (by {decided_by})")]
    AlreadyDecided {
        /// The key, masked.
        masked_key: String,
        /// Collected or waived.
        decision: String,
        /// Who decided.
        decided_by: String,
    },
    /// A recovery item is closed only once its batch is exported.
    #[error("recovery item {masked_key} cannot be closed: its batch {batch} is not exported")]
    RecoveryNotExported {
        /// The key, masked.
        masked_key: String,
        /// The batch that raised it.
        batch: String,
    },
    /// A platform result file with problems: refused whole, nothing recorded.
    #[error("{}", refused_file(file, problems, *more))]
    ResultFile {
        /// The file.
        file: String,
        /// Each problem, with its line (the first ones, of a file with very many).
        problems: Vec<String>,
        /// Problems beyond those listed.
        more: usize,
    },
    /// No hold of this person to release.
    #[error("{masked_id} has no hold{} to release; `subsidy status` lists the holds", of_allowance(allowance))]
    NoHold {
        /// The ID number, masked.
        masked_id: String,
        /// The allowance asked for, if any.
        allowance: Option<String>,
    },
    /// Storage failed (or was busy: see [`StoreError::is_retryable`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored policy versions cannot be used.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A file of the registry could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An adapter (the registry import) failed; its message says what to do.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Why an export did not complete; each case says what state the batch is left in and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The export's files could not be written: the batch is as it was.
    #[error(
        "nothing was exported: batch {batch} {}; {why}; fix the folder (it must be a directory you can \
         write, with space) and run `subsidy export --batch {batch} --out {}` again",
        stays(*exported), out.display()
    )]
    NotStaged {
        /// The batch.
        batch: String,
        /// Whether it was exported before (its earlier export stands).
        exported: bool,
        /// The folder asked for.
        out: PathBuf,
        /// What the file system said.
        why: WriteError,
    },
    /// The batch could not be marked exported: its files were not put in place.
    #[error(
        "nothing was exported: batch {batch} {} (check with `subsidy status`); \
         run `subsidy export --batch {batch} --out {}` again",
        stays(*exported), out.display()
    )]
    NotCommitted {
        /// The batch.
        batch: String,
        /// Whether it was exported before.
        exported: bool,
        /// The folder asked for.
        out: PathBuf,
        /// What the database said.
        source: StoreError,
    },
    /// The batch is exported but its files are not in place.
    #[error(
        "batch {batch} is exported, but its files could not be put in place: {why}; run `subsidy export \
         --batch {batch} --out DIR` again (it writes the same bytes) and send nothing before `subsidy verify` passes"
    )]
    NotPublished {
        /// The batch.
        batch: String,
        /// What the file system said.
        why: WriteError,
    },
}

impl From<ExportError> for OpsError {
    fn from(e: ExportError) -> OpsError {
        OpsError::Export(Box::new(e))
    }
}

impl OpsError {
    /// The storage error this is, when it is one: [`OpsError::Store`], or an adapter's failure
    /// that is a storage error itself. (A storage error this only has as its source is further down
    /// the error's chain.)
    pub fn store(&self) -> Option<&StoreError> {
        match self {
            OpsError::Store(e) => Some(e),
            // Transparent: the adapter's outermost error is this one's face, not in the chain.
            OpsError::Failed(e) => (**e).downcast_ref::<StoreError>(),
            _ => None,
        }
    }

    /// Its `code` in `--json` errors (docs/json/error.schema.json): one stable name per case, for
    /// scripts to act on without reading the sentence.
    pub fn code(&self) -> &'static str {
        match self {
            OpsError::Usage(_) => "usage",
            OpsError::NotInitialised => "not_initialised",
            OpsError::NoBatch(_) => "no_batch",
            OpsError::SamePerson { .. } => "same_person",
            OpsError::WrongState { .. } => "wrong_state",
            OpsError::StateChanged { .. } => "state_changed",
            OpsError::ReliedOn { .. } => "relied_on",
            OpsError::Export(_) => "export_failed",
            OpsError::StartMonthFixed { .. } => "start_month_fixed",
            OpsError::BuiltInPolicy(_) => "built_in_policy",
            OpsError::Unreadable { .. } => "unreadable_file",
            OpsError::BadPolicyFile { .. } => "bad_policy_file",
            OpsError::NoPerson { .. } => "no_person",
            OpsError::EmptyRegistry => "empty_registry",
            OpsError::District { source, .. } => {
                source.chain().find_map(|c| c.downcast_ref::<StoreError>()).map_or("district_failed", StoreError::code)
            }
            OpsError::AmbiguousKey { .. } => "ambiguous_key",
            OpsError::NoRecovery { .. } => "no_recovery",
            OpsError::AlreadyDecided { .. } => "already_decided",
            OpsError::RecoveryNotExported { .. } => "recovery_not_exported",
            OpsError::ResultFile { .. } => "result_file_refused",
            OpsError::NoHold { .. } => "no_hold",
            OpsError::Store(e) => e.code(),
            OpsError::Policy(_) => "policy",
            OpsError::Io(_) => "io",
            OpsError::Failed(e) => e.downcast_ref::<StoreError>().map_or("failed", StoreError::code),
        }
    }
}

fn stays(exported: bool) -> &'static str {
    if exported {
        "stays exported (its earlier export stands)"
    } else {
        "stays approved"
    }
}

fn wrong_state(batch: &str, state: BatchState, step: Step) -> String {
    let is = state.as_str();
    match step {
        Step::Approve if state == BatchState::Exported => {
            format!("batch {batch} is already exported; approval cannot change")
        }
        Step::Approve => format!("batch {batch} is {is} and will never be paid"),
        Step::Export if state == BatchState::Computed => {
            format!("batch {batch} is not approved: `subsidy approve --batch {batch} --by NAME` first")
        }
        Step::Export => format!("batch {batch} is {is} and must not be paid"),
        Step::WriteFiles => {
            format!("batch {batch} is {is}, not approved: nothing was written; `subsidy status` shows it")
        }
        Step::Discard => format!(
            "batch {batch} is {is}: only a computed or approved batch that is not exported can be discarded{}",
            if state == BatchState::Exported {
                "; correct it with `subsidy rerun --month M --reason TEXT`"
            } else {
                ""
            }
        ),
        Step::Withdraw => format!(
            "batch {batch} is {is}: only an approved batch that is not exported can have its approval withdrawn"
        ),
    }
}

fn state_changed(batch: &str, step: Step) -> String {
    match step {
        Step::Approve => format!("batch {batch} changed state while approving; run `subsidy status` and try again"),
        _ => format!("batch {batch} changed state meanwhile; `subsidy status` shows it"),
    }
}

/// Name the batches relying on `batch` and what to do: discard or rerun them first when they are
/// all open, else correct this batch by a rerun.
fn relied_on(batch: &str, month: ServiceMonth, relying: &[BatchRow]) -> String {
    let names: Vec<String> = relying
        .iter()
        .map(|r| format!("{} (district {}, {})", r.batch_id, r.district_code, r.state.as_str()))
        .collect();
    let open: Vec<&str> = relying.iter().filter(|r| r.state.is_open()).map(|r| r.batch_id.as_str()).collect();
    let next = if open.len() == relying.len() && !open.is_empty() {
        format!(
            "discard or rerun {} first, or correct this batch with `subsidy rerun --month {month}`",
            open.join(", ")
        )
    } else {
        format!("correct it with `subsidy rerun --month {month} --reason TEXT` instead")
    };
    format!(
        "batch {batch} cannot be discarded: {} pays months whose recovery it raises (a move known late); \
         without it those months would be paid twice (L4). Nothing changed; {next}",
        if names.is_empty() { "another district's batch".to_string() } else { names.join(", ") }
    )
}

fn refused_file(file: &str, problems: &[String], more: usize) -> String {
    const SHOWN: usize = 20;
    let total = problems.len() + more;
    let mut out = format!(
        "{file} was refused, nothing recorded ({total} problem{}); fix the file (or ask the platform for a corrected \
         one) and run `subsidy reconcile --file {file}` again:",
        if total == 1 { "" } else { "s" }
    );
    for p in problems.iter().take(SHOWN) {
        out.push_str("\n  ");
        out.push_str(p);
    }
    if total > SHOWN {
        out.push_str(&format!("\n  … and {} more", total - SHOWN.min(problems.len())));
    }
    out
}

fn of_allowance(allowance: &Option<String>) -> String {
    allowance.as_ref().map(|a| format!(" of allowance {a}")).unwrap_or_default()
}
