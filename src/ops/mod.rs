//! The use-cases: what each command does, as functions of the store, the acting person, a
//! [`Clock`](crate::clock::Clock) and the command's inputs, returning a typed outcome for a
//! renderer to print or an [`OpsError`] saying what to do next. The business rules of the commands
//! live here (four eyes, which batch states allow which step, the month window of a run, retrying
//! a run that collided with another), and so do the audit entries the commands write. Nothing here
//! prints or reads the environment: who acts and what time it is are inputs. The command line
//! (`cli`) and the demo call the same functions.
//!
//! | use-case | what it does | rules |
//! |---|---|---|
//! | [`init`] | migrations, the start month, the first policy; the "is this database initialised" gate | T7 |
//! | [`import`] | load the registry CSV files of a folder, audited | INTERFACE.md |
//! | [`policy`] | show the policy versions; load one from a file, audited | R, T, F as data |
//! | [`schedule`] | what the timetable says is due now, run for every district; late runs and caught-up months said | T1, L2 |
//! | [`run`] | `run` and `rerun`: each district's batch for a month, in the month window | T1, T7, L2 |
//! | [`approve`] | approve a computed batch, never by whoever ran it | four eyes |
//! | [`withdraw`] | take an approval back before export | L1 |
//! | [`discard`] | drop an unexported batch unless another district relies on it | L1, L4 |
//! | [`export`] | write a batch's platform files, all or nothing, and mark it exported | INTERFACE.md |
//! | [`ledger`] | `verify --ledger`: owed = paid + held + waiting + recovered, person-month by person-month | L1–L4 |
//! | [`verify`] | compare files with what the database renders; check the audit chain | — |
//! | [`reconcile`] | record the platform's answers (result CSV or pain.002): paid, failed, returned | L1, L3 |
//! | [`holds`] | `hold` and `release` a person's payments pending a review | L3 |
//! | [`recovery`] | close a recovery item: collected or waived | L1 |
//! | [`explain`] | one person and month: owed now, posted, and as each batch computed it | R1–R8, L1 |
//! | [`status`] | batches, states, the ledger's self-check, held lines, recoveries | L1, L3, F3 |
//! | [`report`] | the year's figures per district | F3, F5 |

pub mod approve;
pub mod discard;
mod error;
pub mod explain;
pub mod export;
pub mod holds;
pub mod import;
pub mod init;
pub mod ledger;
pub mod policy;
pub mod reconcile;
pub mod recovery;
pub mod report;
pub mod review;
pub mod run;
pub mod schedule;
pub mod status;
pub mod verify;
pub mod withdraw;

pub use error::{ExportError, OpsError, Step};

use crate::audit::AuditEntry;
use crate::policy::PolicyBook;
use crate::store::{BatchRow, LedgerStore, StatisticsOf, Store};

/// Result of a use-case.
pub type OpsResult<T> = Result<T, OpsError>;

/// The policy versions as stored now.
async fn policy_book<S: Store>(s: &S) -> OpsResult<PolicyBook> {
    Ok(PolicyBook::new(s.policy_versions().await?)?)
}

/// A batch by id, or [`OpsError::NoBatch`].
async fn find_batch<S: LedgerStore>(s: &S, batch_id: &str) -> OpsResult<BatchRow> {
    s.batch(batch_id).await?.ok_or_else(|| OpsError::NoBatch(batch_id.to_string()))
}

/// The districts a command acts on: the one given, or every district in the registry.
async fn districts<S: Store>(s: &S, district: Option<&str>) -> OpsResult<Vec<String>> {
    let all = s.districts().await?;
    match district {
        Some(d) if all.iter().any(|x| x == d) => Ok(vec![d.to_string()]),
        Some(d) => {
            Err(OpsError::Usage(format!("district {d} has no registration in the registry; known: {}", all.join(", "))))
        }
        None if all.is_empty() => Err(OpsError::EmptyRegistry),
        None => Ok(all),
    }
}

/// An audit entry for a command acting on `target`.
fn audit_entry(
    actor: &str,
    command: &str,
    target: &str,
    reason: &str,
    fingerprint: String,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: actor.to_string(),
        command: command.to_string(),
        target: target.to_string(),
        reason: reason.to_string(),
        input_fingerprint: fingerprint,
        details: details.to_string(),
    }
}

/// F3: what `status` and `report` say of a district and year paid with no lottery allocation
/// loaded.
pub fn no_allocation_message(district: &str, year: i32) -> String {
    format!(
        "F3: no lottery allocation loaded for district {district}, year {year}: the district pays all; \
         load one with `subsidy policy load FILE`"
    )
}

/// Rows a command must have written (an import: read) since the statistics were last refreshed
/// for them to be refreshed: fewer do not move the planner's picture of a table (autovacuum
/// catches up), and at a million elders an `ANALYZE` costs more than a correction of a hundred
/// persons.
const STATISTICS_AFTER_ROWS: u64 = 10_000;

/// Bring the planner's statistics up to date after a bulk write of `rows` rows (the next
/// district's or command's per-page reads depend on them, `Store::refresh_statistics`). The write
/// is committed already: a failure here is said and the command goes on. Returns whether it
/// refreshed them (else the caller may count the rows towards the next time).
async fn refresh_statistics<S: Store>(s: &S, tables: StatisticsOf, rows: u64) -> bool {
    if rows < STATISTICS_AFTER_ROWS {
        return false;
    }
    if let Err(e) = s.refresh_statistics(tables).await {
        tracing::warn!(error = %e, "could not refresh the database's statistics (autovacuum will)");
    }
    true
}
