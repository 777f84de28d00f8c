//! `withdraw`: take back the approval of a batch that is not yet exported; it is computed again
//! (to be approved, rerun or discarded). Audited with the approver it had.

use super::{audit_entry, find_batch, OpsError, OpsResult, Step};
use crate::clock::Clock;
use crate::ledger::BatchState;
use crate::store::LedgerStore;
use serde_json::json;

/// Withdraw the approval of `batch_id` on behalf of `by`, for `reason`. Only an approved batch
/// qualifies; one exported meanwhile is refused.
pub async fn withdraw<S: LedgerStore>(s: &S, batch_id: &str, reason: &str, by: &str, clock: Clock) -> OpsResult<()> {
    let b = find_batch(s, batch_id).await?;
    if b.state != BatchState::Approved {
        return Err(OpsError::WrongState { batch: batch_id.to_string(), state: b.state, step: Step::Withdraw });
    }
    let details = json!({ "approved_by": b.approved_by });
    let entry = audit_entry(by, "withdraw", batch_id, reason, b.registry_fingerprint.clone(), details);
    if !s.withdraw_approval(batch_id, &entry, clock.now()).await? {
        return Err(OpsError::StateChanged { batch: batch_id.to_string(), step: Step::Withdraw });
    }
    Ok(())
}
