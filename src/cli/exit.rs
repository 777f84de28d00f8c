//! Exit statuses (INTERFACE.md), decided here and nowhere else: from a command's outcome when it
//! ran to the end, or from its error.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | failed, nothing half-written (or a policy version refused, or the database cannot be opened) |
//! | 2 | wrong usage (or a database URL that names no database) |
//! | 3 | the import rejected rows (the accepted ones are stored) |
//! | 4 | another run holds the district, or another command was writing at the same time |
//! | 5 | verify found a difference |

use super::{CodedUsage, ExitStatus, UsageError};
use crate::adapters::registry_csv::import::ImportReport;
use crate::batch::RunOutcome;
use crate::ops::run::DistrictRun;
use crate::ops::OpsError;
use crate::store::{PolicyLoad, StoreError};

/// Done.
pub const DONE: ExitStatus = 0;
/// Failed; nothing half-written.
pub const FAILED: ExitStatus = 1;
/// Wrong usage.
pub const USAGE: ExitStatus = 2;
/// The import rejected rows.
pub const REJECTED_ROWS: ExitStatus = 3;
/// Another run or command holds what this one needed; running it again later is the remedy.
pub const BUSY: ExitStatus = 4;
/// Verify found a difference.
pub const DIFFERENCE: ExitStatus = 5;

/// `import`: rejected rows are reported with status 3.
pub fn of_import(report: &ImportReport) -> ExitStatus {
    if report.has_rejects() {
        REJECTED_ROWS
    } else {
        DONE
    }
}

/// `policy load`: a version in conflict with a stored one is refused (status 1).
pub fn of_policy_load(outcome: &PolicyLoad) -> ExitStatus {
    match outcome {
        PolicyLoad::Conflict(_) => FAILED,
        PolicyLoad::Added | PolicyLoad::AlreadyLoaded => DONE,
    }
}

/// `run`, `rerun`: the worst of the districts' outcomes (a district another run holds: 4; one
/// refused: 1).
pub fn of_runs(runs: &[DistrictRun]) -> ExitStatus {
    runs.iter()
        .map(|r| match r.outcome {
            RunOutcome::Locked => BUSY,
            RunOutcome::Refused(_) => FAILED,
            RunOutcome::Computed(_) | RunOutcome::Existing(_) | RunOutcome::NothingToSettle => DONE,
        })
        .fold(DONE, ExitStatus::max)
}

/// `verify`: any difference is status 5.
pub fn of_differences(differences: &[String]) -> ExitStatus {
    if differences.is_empty() {
        DONE
    } else {
        DIFFERENCE
    }
}

/// A command that failed: its exit status and what to tell the operator (with `--json`, the object
/// `{"error": {"code", "message", "hint"}}` of docs/json/error.schema.json).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exit status.
    pub status: ExitStatus,
    /// A stable name of what went wrong (`usage`, `busy`, `no_batch`, …), for scripts.
    pub code: &'static str,
    /// The message (the error and its causes).
    pub message: String,
}

impl Failure {
    /// What to do next: the message's own remedy (its last clause, when that says what to do),
    /// or the one of its code.
    pub fn hint(&self) -> String {
        remedy(&self.message).map_or_else(|| default_hint(self.code).to_string(), str::to_string)
    }
}

/// Words a remedy clause starts with ("…; check the ID number", "…: run `subsidy init` first").
const REMEDY_STARTS: [&str; 22] = [
    "run ",
    "give ",
    "check ",
    "import ",
    "fix ",
    "pass ",
    "point ",
    "type ",
    "use ",
    "try ",
    "correct ",
    "export ",
    "approve ",
    "ask ",
    "wait ",
    "release ",
    "`subsidy ",
    "load ",
    "drop ",
    "see ",
    "start ",
    "set ",
];

/// The last clause of a message, after `; ` or `: `, when it says what to do.
fn remedy(message: &str) -> Option<&str> {
    let clause = |sep: &str| message.rsplit_once(sep).map(|(_, tail)| tail.trim());
    [clause("; "), clause(": ")]
        .into_iter()
        .flatten()
        .filter(|tail| REMEDY_STARTS.iter().any(|start| tail.starts_with(start)))
        .max_by_key(|tail| tail.len())
}

/// What to do next, by error code, when the message does not say.
pub fn default_hint(code: &str) -> &'static str {
    match code {
        "usage" | "bad_id_number" => "see `subsidy COMMAND --help` for the options and an example",
        "busy" => "nothing was changed: run the command again once the other one has finished",
        "database_unreachable" => {
            "start the database server or correct --database-url (DATABASE_URL), then run the command again"
        }
        "same_person" => "ask someone other than whoever ran the batch to approve it",
        "wrong_state" | "state_changed" | "no_batch" => "`subsidy status` shows each batch and its state",
        "ledger_bound" => "nothing was written; report this with `subsidy verify --ledger`'s output",
        _ => "nothing was half-written: correct what the message names and run the command again",
    }
}

/// The status and message of a failed command: another command writing at the same time (4,
/// nothing changed), wrong usage (2, including a database URL that names no database), or a
/// failure (1, including a database that cannot be opened).
pub fn of_error(e: &anyhow::Error) -> Failure {
    if let Some(message) = concurrent_failure(e) {
        return Failure { status: BUSY, code: "busy", message };
    }
    if let Some(failure) = open_failure(e) {
        return failure;
    }
    let (status, code) = if e.downcast_ref::<UsageError>().is_some() {
        (USAGE, "usage")
    } else if let Some(coded) = e.downcast_ref::<CodedUsage>() {
        (USAGE, coded.code)
    } else {
        match e.downcast_ref::<OpsError>() {
            Some(o @ (OpsError::Usage(_) | OpsError::NotInitialised)) => (USAGE, o.code()),
            Some(o) => (FAILED, o.code()),
            None => (FAILED, store_error(e).map_or("failed", StoreError::code)),
        }
    };
    Failure { status, code, message: chain_text(e) }
}

/// The error and its causes, `: `-separated, each said once: a cause whose words already end
/// the text (the drivers' errors quote their source: "error returned from database: X", then X)
/// is left out.
fn chain_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let said = cause.to_string();
        if text.is_empty() {
            text = said;
        } else if !text.ends_with(&said) {
            text = format!("{text}: {said}");
        }
    }
    text
}

/// A database that could not be opened (1) or a URL that names none (2): the store's sentence
/// alone, which says what happened, where and what to do (the URL, without its password, is
/// in it or beside the point).
fn open_failure(e: &anyhow::Error) -> Option<Failure> {
    let store = store_error(e)?;
    let status = match store {
        StoreError::Connect { .. } => FAILED,
        StoreError::UnsupportedUrl(_) | StoreError::BadUrl { .. } | StoreError::NoDatabaseFile { .. } => USAGE,
        _ => return None,
    };
    Some(Failure { status, code: store.code(), message: store.to_string() })
}

/// The storage error anywhere in an error's chain, if any (an [`OpsError`] that is one counts).
fn store_error(e: &anyhow::Error) -> Option<&StoreError> {
    e.chain().find_map(|cause| {
        cause.downcast_ref::<StoreError>().or_else(|| cause.downcast_ref::<OpsError>().and_then(OpsError::store))
    })
}

/// When a command failed because another command was writing at the same time (SQLite busy,
/// PostgreSQL serialization failure or duplicate key): what to tell the operator, with what the
/// command was doing when it happened.
fn concurrent_failure(e: &anyhow::Error) -> Option<String> {
    let store = store_error(e)?;
    match store {
        // SQLite's one writer was taken: the sentence says all (what the command was doing is
        // beside the point: nothing was changed, run it again).
        StoreError::Busy(_) => return Some(store.to_string()),
        StoreError::Conflict { .. } => {}
        _ => return None,
    }
    let said = store.to_string();
    let context = e.chain().next().map(|c| c.to_string()).filter(|c| *c != said).unwrap_or_default();
    Some(if context.is_empty() { said } else { format!("{context}: {said}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Refusal;
    use crate::ledger::BatchState;

    fn m(month: u32) -> crate::month::ServiceMonth {
        format!("2020-{month:02}").parse().expect("a month")
    }

    #[test]
    fn usage_errors_of_the_command_line_and_of_the_use_cases_are_status_2() {
        let cli = anyhow::Error::new(UsageError("--by is empty".into()));
        assert_eq!(of_error(&cli), Failure { status: USAGE, code: "usage", message: "--by is empty".into() });
        let ops = anyhow::Error::new(OpsError::Usage("--reason must say why the month is run again".into()));
        assert_eq!(
            of_error(&ops),
            Failure { status: USAGE, code: "usage", message: "--reason must say why the month is run again".into() }
        );
    }

    #[test]
    fn other_failures_are_status_1_with_their_causes() {
        let e = anyhow::Error::new(OpsError::NoBatch("110102-2020-07-R1".into()));
        assert_eq!(
            of_error(&e),
            Failure {
                status: FAILED,
                code: "no_batch",
                message: "there is no batch 110102-2020-07-R1; `subsidy status` lists the batches".into()
            }
        );
        let read = OpsError::Unreadable {
            path: "p.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(of_error(&anyhow::Error::new(read)).message, "cannot read p.toml: gone");
    }

    #[test]
    fn another_command_writing_is_status_4_however_the_store_error_is_wrapped() {
        let busy = || StoreError::Busy(sqlx::Error::PoolTimedOut);
        let said = busy().to_string();
        for e in [
            anyhow::Error::new(busy()),
            anyhow::Error::new(OpsError::Store(busy())),
            anyhow::Error::new(OpsError::Failed(anyhow::Error::new(busy()))),
        ] {
            assert_eq!(of_error(&e), Failure { status: BUSY, code: "busy", message: said.clone() });
        }
        let month = "2020-07".parse().expect("month");
        // SQLite busy: the sentence alone, whatever the command was doing (as before issue 8).
        let district = OpsError::District { district: "110102".into(), month, source: anyhow::Error::new(busy()) };
        assert_eq!(
            of_error(&anyhow::Error::new(district)),
            Failure { status: BUSY, code: "busy", message: said.clone() }
        );
    }

    #[test]
    fn a_database_not_opened_is_status_1_and_a_url_naming_none_2_each_in_one_sentence() {
        use crate::store::ConnectProblem;
        let refused = StoreError::Connect { problem: ConnectProblem::Refused, target: "127.0.0.1:5999".into() };
        let said = refused.to_string();
        let e = anyhow::Error::new(refused).context("cannot open the database postgres://u:***@127.0.0.1:5999/x");
        assert_eq!(of_error(&e), Failure { status: FAILED, code: "database_unreachable", message: said });
        let e = anyhow::Error::new(StoreError::UnsupportedUrl("foo".into())).context("cannot open the database foo");
        assert_eq!(of_error(&e).status, USAGE);
    }

    #[test]
    fn a_cause_its_parent_already_quotes_is_said_once() {
        let inner = anyhow::anyhow!("database \"x\" does not exist");
        let e = inner.context("error returned from database: database \"x\" does not exist").context("opening");
        assert_eq!(of_error(&e).message, "opening: error returned from database: database \"x\" does not exist");
    }

    #[test]
    fn each_failure_has_a_code_and_a_hint_taken_from_its_own_remedy_when_it_says_one() {
        let no_batch = of_error(&anyhow::Error::new(OpsError::NoBatch("110102-2020-07-R1".into())));
        assert_eq!((no_batch.code, no_batch.hint().as_str()), ("no_batch", "`subsidy status` lists the batches"));
        let person = of_error(&anyhow::Error::new(OpsError::NoPerson { masked_id: "1101**********002X".into() }));
        assert_eq!((person.code, person.hint().as_str()), ("no_person", "check the ID number or import elders.csv"));
        let same = of_error(&anyhow::Error::new(OpsError::SamePerson { batch: "b".into(), run_by: "wang".into() }));
        assert_eq!(
            (same.status, same.code, same.hint().as_str()),
            (FAILED, "same_person", "ask someone other than whoever ran the batch to approve it")
        );
        let bad_id = of_error(&anyhow::Error::new(CodedUsage { code: "bad_id_number", message: "too short".into() }));
        assert_eq!(
            (bad_id.status, bad_id.code, bad_id.hint().as_str()),
            (USAGE, "bad_id_number", "see `subsidy COMMAND --help` for the options and an example")
        );
        let busy = of_error(&anyhow::Error::new(StoreError::Busy(sqlx::Error::PoolTimedOut)));
        assert_eq!(busy.hint(), "try again when it has finished");
    }

    #[test]
    fn outcomes_map_to_their_statuses() {
        assert_eq!(of_differences(&[]), DONE);
        assert_eq!(of_differences(&["x".to_string()]), DIFFERENCE);
        assert_eq!(of_policy_load(&PolicyLoad::Conflict("differs".into())), FAILED);
        assert_eq!(of_policy_load(&PolicyLoad::AlreadyLoaded), DONE);
        let run = |outcome| DistrictRun { district: "110102".into(), outcome };
        assert_eq!(of_runs(&[run(RunOutcome::NothingToSettle), run(RunOutcome::Locked)]), BUSY);
        assert_eq!(
            of_runs(&[
                run(RunOutcome::Refused(Refusal::open_batch("110102-2020-06-R1", m(6), BatchState::Computed, m(7)))),
                run(RunOutcome::NothingToSettle)
            ]),
            FAILED
        );
        assert_eq!(of_runs(&[]), DONE);
    }
}
