//! `recovery`: close a recovery item (追回) of an exported batch, as collected or as waived by
//! decision. Either way it stays in the net paid (L1); it is closed once.

use super::{audit_entry, OpsError, OpsResult};
use crate::clock::Clock;
use crate::idcard::mask_key;
use crate::store::{LedgerStore, RecoveryRow};
use serde_json::json;

/// How a recovery item is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The money came back.
    Collected,
    /// The district decided not to collect it.
    Waived,
}

impl Decision {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Collected => "collected",
            Decision::Waived => "waived",
        }
    }

    /// Parse stored text.
    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Collected, Decision::Waived].into_iter().find(|d| d.as_str() == s)
    }
}

/// Close the recovery item `key` (as `status --recoveries` prints it, masked, or in full) with
/// `decision`, on behalf of `by`, for `reason`; returns the item as it was. Refused when the key is
/// unknown or ambiguous, the item is closed already, or its batch is not exported.
pub async fn close<S: LedgerStore>(
    s: &S,
    key: &str,
    decision: Decision,
    reason: &str,
    by: &str,
    clock: Clock,
) -> OpsResult<RecoveryRow> {
    let mut found: Vec<RecoveryRow> = s
        .recoveries(None)
        .await?
        .into_iter()
        .filter(|r| r.payment_key == key || mask_key(&r.payment_key) == key)
        .collect();
    if found.len() > 1 {
        return Err(OpsError::AmbiguousKey { key: key.to_string(), count: found.len() });
    }
    let Some(item) = found.pop() else {
        return Err(OpsError::NoRecovery { masked_key: mask_key(key) });
    };
    let masked_key = mask_key(&item.payment_key);
    if let Some(d) = &item.decision {
        let decided_by = item.decided_by.clone().unwrap_or_default();
        return Err(OpsError::AlreadyDecided { masked_key, decision: d.clone(), decided_by });
    }
    let entry = audit_entry(
        by,
        "recovery",
        &masked_key,
        reason,
        crate::digest::sha256_hex(item.payment_key.as_bytes()),
        json!({ "decision": decision.as_str(), "amount": crate::money::format_fen(item.amount_fen) }),
    );
    if !s.decide_recovery(&item.payment_key, decision.as_str(), by, reason, &entry, clock.now()).await? {
        return Err(OpsError::RecoveryNotExported { masked_key, batch: item.batch_id });
    }
    Ok(item)
}
