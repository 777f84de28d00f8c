//! `hold` and `release`: an operator withholds a person's payments pending a review (all
//! allowances, or one) and releases them; released months are settled by the next batch (L3).
//! `release` also ends a platform fault the bank fixed on its side (`OTHER`), or a DECEASED report
//! found to be an error.

use super::{audit_entry, OpsError, OpsResult};
use crate::clock::Clock;
use crate::codes::Allowance;
use crate::idcard::mask;
use crate::ledger::{HoldKind, OpenHold};
use crate::store::{LedgerStore, PlatformStore, Store};
use serde::Serialize;
use serde_json::json;

/// A hold opened or holds released.
#[derive(Clone, Debug, Serialize)]
pub struct HoldOutcome {
    /// The person, masked.
    pub id_number: String,
    /// The allowance, or every one.
    pub allowance: Option<Allowance>,
    /// The holds: the one opened, or those released (with what opened them).
    pub holds: Vec<(i64, HoldKind)>,
}

/// Hold the person's payments (of `allowance`, or all) on behalf of `by`, for `reason`.
pub async fn hold<S: Store + LedgerStore + PlatformStore>(
    s: &S,
    id_number: &str,
    allowance: Option<Allowance>,
    reason: &str,
    by: &str,
    clock: Clock,
) -> OpsResult<HoldOutcome> {
    let masked = mask(id_number);
    if s.person(id_number).await?.is_none() {
        return Err(OpsError::NoPerson { masked_id: masked });
    }
    let entry = entry(by, "hold", id_number, reason, json!({ "allowance": allowance.map(|a| a.as_str()) }));
    let hold_id = s.add_hold(id_number, allowance, by, reason, &entry, clock.now()).await?;
    Ok(HoldOutcome { id_number: masked, allowance, holds: vec![(hold_id, HoldKind::OnHold)] })
}

/// Release the person's holds (of `allowance`, or all) on behalf of `by`, for `reason`.
pub async fn release<S: PlatformStore>(
    s: &S,
    id_number: &str,
    allowance: Option<Allowance>,
    reason: &str,
    by: &str,
    clock: Clock,
) -> OpsResult<HoldOutcome> {
    let masked = mask(id_number);
    let open: Vec<OpenHold> = s
        .open_holds()
        .await?
        .into_iter()
        .filter(|h| h.id_number == id_number && (allowance.is_none() || h.allowance == allowance))
        .collect();
    if open.is_empty() {
        return Err(OpsError::NoHold { masked_id: masked, allowance: allowance.map(|a| a.as_str().to_string()) });
    }
    let kinds: Vec<&str> = open.iter().map(|h| h.kind.as_str()).collect();
    let entry =
        entry(by, "release", id_number, reason, json!({ "allowance": allowance.map(|a| a.as_str()), "holds": kinds }));
    let released = s.release_holds(id_number, allowance, by, reason, &entry, clock.now()).await?;
    let holds = open.iter().filter(|h| released.contains(&h.hold_id)).map(|h| (h.hold_id, h.kind)).collect();
    Ok(HoldOutcome { id_number: masked, allowance, holds })
}

/// The audit entry of a hold or release: the person masked as its target, the full ID only as a
/// fingerprint.
fn entry(
    by: &str,
    command: &str,
    id_number: &str,
    reason: &str,
    details: serde_json::Value,
) -> crate::audit::AuditEntry {
    audit_entry(by, command, &mask(id_number), reason, crate::digest::sha256_hex(id_number.as_bytes()), details)
}
