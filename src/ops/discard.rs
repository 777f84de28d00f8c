//! `discard`: drop a batch that is not exported. It is kept, marked discarded, and never counted
//! as paid (L1). Refused while another district's batch relies on it (a move known late): without
//! it, the months it recovers would be paid twice (L4).

use super::{audit_entry, find_batch, OpsError, OpsResult, Step};
use crate::clock::Clock;
use crate::store::{BatchRow, LedgerStore, StoreError};
use serde_json::json;

/// Discard `batch_id` on behalf of `by`, for `reason`; returns the batch as it was before.
pub async fn discard<S: LedgerStore>(
    s: &S,
    batch_id: &str,
    reason: &str,
    by: &str,
    clock: Clock,
) -> OpsResult<BatchRow> {
    let b = find_batch(s, batch_id).await?;
    if !b.state.is_open() {
        return Err(OpsError::WrongState { batch: batch_id.to_string(), state: b.state, step: Step::Discard });
    }
    let details = json!({ "state_before": b.state, "control_sum": crate::money::format_fen(b.control_sum_fen) });
    let entry = audit_entry(by, "discard", batch_id, reason, b.registry_fingerprint.clone(), details);
    match s.discard_batch(batch_id, reason, &entry, clock.now()).await {
        Ok(true) => Ok(b),
        Ok(false) => Err(OpsError::StateChanged { batch: batch_id.to_string(), step: Step::Discard }),
        Err(StoreError::ReliedOn { .. }) => {
            let relying = s.relying_batches(batch_id).await?;
            Err(OpsError::ReliedOn { batch: b.batch_id, month: b.service_month, relying })
        }
        Err(e) => Err(e.into()),
    }
}
