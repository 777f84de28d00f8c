//! Before a batch is computed: what the run will do with the district's batches (a regular run
//! finds its month's batch there, a rerun replaces the month's open batch, an open batch of another
//! month refuses the run: one open batch at a time, L1), and which persons it reads (everyone, or
//! only those whose inputs changed since the batch that vouches for the district, L2).

use super::{RunOutcome, RunRequest};
use crate::ledger::{BatchKind, BatchState};
use crate::month::ServiceMonth;
use crate::store::{BatchRow, BatchTx};

/// Why a run will not compute a batch, and what to do instead. It reads (and serialises) as its
/// message, which names the batch in the way and the commands that clear it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is in the way.
    pub kind: RefusalKind,
    message: String,
}

/// What keeps a district from running a month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// Another batch of the district is computed or approved, not exported: one open batch at a time.
    OpenBatch {
        /// The open batch.
        batch_id: String,
        /// Its state (computed or approved).
        state: BatchState,
    },
}

impl Refusal {
    /// `open`, a batch of `open_month` that is computed or approved, keeps the district from
    /// running `month`.
    pub fn open_batch(open: &str, open_month: ServiceMonth, state: BatchState, month: ServiceMonth) -> Refusal {
        let message = format!(
            "batch {open} ({open_month}) is {}: approve and export it (`subsidy approve --batch {open} --by NAME`, \
             then `subsidy export`), or discard it (`subsidy discard --batch {open} --reason TEXT`), before running {month}",
            state.as_str(),
        );
        Refusal { kind: RefusalKind::OpenBatch { batch_id: open.to_string(), state }, message }
    }
}

impl std::ops::Deref for Refusal {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl serde::Serialize for Refusal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.message)
    }
}

/// What a run will do with the district's batches, or why it stops.
pub(super) struct Plan {
    /// The unexported batch of the month a rerun replaces.
    pub(super) replaces: Option<BatchRow>,
}

pub(super) fn plan(batches: &[BatchRow], req: &RunRequest) -> Result<Plan, Box<RunOutcome>> {
    let of_month = |b: &&BatchRow| b.service_month == req.month && b.state.counts();
    if req.kind == BatchKind::Regular {
        if let Some(existing) = batches.iter().rev().find(of_month) {
            return Err(Box::new(RunOutcome::Existing(Box::new(existing.clone()))));
        }
    }
    let replaces = match req.kind {
        // The month's open batch, regular or correction (there is at most one open batch).
        BatchKind::Correction => batches.iter().find(|b| b.service_month == req.month && b.state.is_open()).cloned(),
        BatchKind::Regular => None,
    };
    if let Some(open) =
        batches.iter().find(|b| b.state.is_open() && Some(&b.batch_id) != replaces.as_ref().map(|r| &r.batch_id))
    {
        return Err(Box::new(RunOutcome::Refused(Refusal::open_batch(
            &open.batch_id,
            open.service_month,
            open.state,
            req.month,
        ))));
    }
    Ok(Plan { replaces })
}

/// Which persons a batch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReadMode {
    /// Everyone the district registers or paid: a regular month, a correction after a policy
    /// change, or one with no batch to vouch for the others.
    Everyone,
    /// Only the rerun set, of this many persons ([`BatchTx::mark_rerun_persons`]): everyone else was
    /// settled through the month by the batch that vouches for the district and nothing that
    /// decides their amounts changed since, so their differences are zero (corrections cost what
    /// they change). Reading only them must give exactly what reading everyone gives.
    Changed(i64),
}

pub(super) async fn read_mode<T: BatchTx>(
    tx: &mut T,
    district: &str,
    batches: &[BatchRow],
    req: &RunRequest,
) -> anyhow::Result<ReadMode> {
    if req.kind == BatchKind::Regular {
        return Ok(ReadMode::Everyone);
    }
    // The batch that vouches for the persons a correction does not read: the latest written
    // (audit order) of the district's counted batches that settled through this month or later (a
    // correction of an earlier month settled its persons only through that month).
    // What changed is counted from the last audit entry that batch's computation saw: a batch of
    // another district committed while it was computed is after it (PostgreSQL runs districts at
    // once, each in its own snapshot).
    let mut vouching: Option<((i64, i64), &BatchRow)> = None;
    for b in batches.iter().filter(|b| b.state.counts() && b.service_month >= req.month) {
        if let Some(seqs) = tx.batch_seq(&b.batch_id).await? {
            if vouching.is_none_or(|((best, _), _)| seqs.0 > best) {
                vouching = Some((seqs, b));
            }
        }
    }
    let Some(((_, seen), batch)) = vouching else { return Ok(ReadMode::Everyone) };
    if tx.policy_loaded_since(&batch.batch_id, seen).await? {
        return Ok(ReadMode::Everyone);
    }
    Ok(ReadMode::Changed(tx.mark_rerun_persons(district, &batch.batch_id, batch.registry_import_id, seen).await?))
}
