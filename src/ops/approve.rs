//! `approve`: four eyes. A computed batch is approved for export by someone other than whoever
//! ran it (the database refuses it too); approving an approved batch again changes nothing.

use super::{find_batch, OpsError, OpsResult, Step};
use crate::clock::Clock;
use crate::ledger::BatchState;
use crate::store::{BatchRow, LedgerStore};

/// Whether two recorded names are one person, as people compare names: trimmed and case-folded
/// (`alice`, `Alice` and ` alice ` are one person for four eyes).
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Approve `batch_id` on behalf of `by`; returns the batch as approved. Refused when `by` ran it
/// ([`OpsError::SamePerson`]) or when it is exported, superseded or discarded.
pub async fn approve<S: LedgerStore>(s: &S, batch_id: &str, by: &str, clock: Clock) -> OpsResult<BatchRow> {
    let b = find_batch(s, batch_id).await?;
    let refused = |state| OpsError::WrongState { batch: batch_id.to_string(), state, step: Step::Approve };
    match b.state {
        BatchState::Computed if same_person(&b.run_by, by) => {
            return Err(OpsError::SamePerson { batch: batch_id.to_string(), run_by: b.run_by })
        }
        BatchState::Computed => {
            if !s.approve_batch(batch_id, by, clock.now()).await? {
                return Err(OpsError::StateChanged { batch: batch_id.to_string(), step: Step::Approve });
            }
        }
        BatchState::Approved => {}
        state @ (BatchState::Exported | BatchState::Superseded | BatchState::Discarded) => return Err(refused(state)),
    }
    find_batch(s, batch_id).await
}

#[cfg(test)]
mod tests {
    use super::same_person;

    #[test]
    fn four_eyes_compares_names_trimmed_and_case_folded() {
        assert!(same_person("alice", " Alice "));
        assert!(same_person("OPERATOR-WANG", "operator-wang"));
        assert!(!same_person("alice", "alicia"));
        assert!(!same_person("wang", "li"));
    }
}
