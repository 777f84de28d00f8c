//! `policy show` and `policy load FILE`: the policy is data (rates, quotas, allocations, timing
//! parameters), kept as versions in the database; a version is loaded once and never changed.

use super::{audit_entry, policy_book, OpsError, OpsResult};
use crate::clock::Clock;
use crate::month::ServiceMonth;
use crate::policy::{Policy, PolicyBook};
use crate::store::{PolicyLoad, Store};
use serde_json::json;
use std::path::Path;

/// Every stored version, and the one in force this month.
#[derive(Clone, Debug)]
pub struct PolicyShown {
    /// The current service month (today's).
    pub now: ServiceMonth,
    /// The version in force for it.
    pub in_force: String,
    /// Every version, by effective month.
    pub book: PolicyBook,
}

/// The stored policy versions and the one in force now.
pub async fn show<S: Store>(s: &S, clock: Clock) -> OpsResult<PolicyShown> {
    let book = policy_book(s).await?;
    let now = ServiceMonth::of(clock.today());
    let in_force = book.in_force(now).version.clone();
    Ok(PolicyShown { now, in_force, book })
}

/// A policy file offered, and what the store made of it.
#[derive(Clone, Debug)]
pub struct PolicyLoaded {
    /// The version in the file.
    pub policy: Policy,
    /// Added, already there, or refused because a version of that name or month differs.
    pub outcome: PolicyLoad,
}

/// Load the policy version in `file` on behalf of `by` (audited when added). A version that
/// conflicts with a stored one is an outcome ([`PolicyLoad::Conflict`]), nothing is changed.
pub async fn load<S: Store>(s: &S, file: &Path, by: &str, clock: Clock) -> OpsResult<PolicyLoaded> {
    let text =
        std::fs::read_to_string(file).map_err(|source| OpsError::Unreadable { path: file.to_path_buf(), source })?;
    let policy = Policy::parse(&text).map_err(|source| OpsError::BadPolicyFile { path: file.to_path_buf(), source })?;
    let outcome = s.add_policy(&policy, &file.display().to_string(), clock.now()).await?;
    if outcome == PolicyLoad::Added {
        let entry = audit_entry(
            by,
            "policy load",
            &policy.version,
            "",
            crate::digest::sha256_hex(policy.to_json().as_bytes()),
            json!({ "file": file.display().to_string(), "effective_from": policy.effective_from }),
        );
        s.append_audit(&entry, clock.now()).await?;
    }
    Ok(PolicyLoaded { policy, outcome })
}
