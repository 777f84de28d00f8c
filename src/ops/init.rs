//! `init`: the database's schema, its start month (T7, audited; it may change until the first batch exists) and its first policy
//! version; and the gate every other command passes: the database must be initialised.

use super::{audit_entry, OpsError, OpsResult};
use crate::clock::Clock;
use crate::month::ServiceMonth;
use crate::policy::{Policy, DEFAULT_POLICY};
use crate::store::{LedgerStore, Store};
use serde_json::json;

/// What `init` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct InitRequest {
    /// The first service month this engine pays (required the first time; T7).
    pub start_month: Option<ServiceMonth>,
    /// The policy to load when the database has none, and where it came from; `None` loads the
    /// built-in default (`fixtures/policy/beijing-2019.toml`).
    pub first_policy: Option<(Policy, String)>,
}

/// What `init` found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOutcome {
    /// The start month in force.
    pub start_month: ServiceMonth,
    /// The version loaded now, if the database had none.
    pub policy_loaded: Option<String>,
    /// How many policy versions the database holds.
    pub policy_versions: usize,
}

/// Apply the migrations, set the start month the first time (audited, by `by`), and load the
/// first policy when none is stored. Running it again changes nothing; a different start month
/// replaces it (audited) until the first batch exists, and is refused after, naming that batch
/// (T7: the months before it were settled by the system this engine replaces).
pub async fn init<S: Store + LedgerStore>(s: &S, req: InitRequest, by: &str, clock: Clock) -> OpsResult<InitOutcome> {
    s.migrate().await?;
    let start =
        match (s.start_month().await?, req.start_month) {
            (None, None) => return Err(OpsError::Usage(
                "the first `subsidy init` needs --start-month YYYY-MM: the first service month this engine pays (T7)"
                    .into(),
            )),
            (None, Some(m)) => {
                s.set_start_month(m).await?;
                let fingerprint = crate::digest::sha256_hex(m.to_string().as_bytes());
                let entry = audit_entry(by, "init", &m.to_string(), "", fingerprint, json!({ "start_month": m }));
                s.append_audit(&entry, clock.now()).await?;
                m
            }
            (Some(old), Some(new)) if old != new => {
                let batches = s.batches(None, None).await?;
                if let Some(first) = batches.iter().min_by_key(|b| (b.service_month, b.computed_at)) {
                    return Err(OpsError::StartMonthFixed { start: old, first_batch: first.batch_id.clone() });
                }
                s.set_start_month(new).await?;
                let fingerprint = crate::digest::sha256_hex(new.to_string().as_bytes());
                let details = json!({ "start_month": new, "was": old });
                let entry = audit_entry(by, "init", &new.to_string(), "", fingerprint, details);
                s.append_audit(&entry, clock.now()).await?;
                new
            }
            (Some(old), _) => old,
        };
    let mut policy_loaded = None;
    if s.policy_versions().await?.is_empty() {
        let (policy, source) = match req.first_policy {
            Some(given) => given,
            None => (
                Policy::parse(DEFAULT_POLICY).map_err(OpsError::BuiltInPolicy)?,
                "fixtures/policy/beijing-2019.toml".to_string(),
            ),
        };
        s.add_policy(&policy, &source, clock.now()).await?;
        policy_loaded = Some(policy.version);
    }
    let policy_versions = s.policy_versions().await?.len();
    Ok(InitOutcome { start_month: start, policy_loaded, policy_versions })
}

/// Every command but `init` needs an initialised database (one with a start month): the start
/// month, or wrong usage saying to run `init` first.
pub async fn initialised<S: Store>(s: &S) -> OpsResult<ServiceMonth> {
    // A database without the schema yet cannot say; it is not initialised either.
    let start = s.start_month().await.ok().flatten().ok_or_else(not_initialised)?;
    // A binary newer than the database's schema would fail on a missing column half-way through
    // a command: say so before anything runs, and how to upgrade.
    if let Ok((applied, latest)) = s.schema_versions().await {
        if applied < latest {
            return Err(OpsError::Usage(format!(
                "this database's schema is older than this subsidy (migration {applied} applied, {latest} expected): \
                 run `subsidy init` to upgrade it (each migration is applied in one transaction), then run the command again"
            )));
        }
    }
    Ok(start)
}

fn not_initialised() -> OpsError {
    OpsError::NotInitialised
}

/// The start month, read as part of a command (a storage failure is reported as such).
pub(super) async fn start_month<S: Store>(s: &S) -> OpsResult<ServiceMonth> {
    s.start_month().await?.ok_or_else(not_initialised)
}
