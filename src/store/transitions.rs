//! Every change of state, made one way: in a write transaction, the guarded write (it changes
//! nothing unless the subject is in a state the change starts from), its rows checked, what else
//! the change needs, its audit entry, commit — the change and its entry commit together or not
//! at all ([`Transition`]). The changes themselves are listed once, in [`Change`].

use super::audit;
use super::batches::{batch_row, BATCH_COLUMNS};
use super::error::{StoreError, StoreResult};
use super::postings::unpost_batch;
use super::rows::BatchRow;
use super::sql::{Pool, Tx};
use crate::audit::AuditEntry;
use crate::counting_states;
use crate::money::format_fen;
use chrono::{DateTime, Utc};

/// The changes of state after a batch is computed (L1), and the decision on a recovery item.
/// Each says, in its SQL, the states it starts from.
pub(super) enum Change<'a> {
    /// computed → approved, by whom and when (the database's four-eyes check refuses the runner).
    Approve { batch_id: &'a str, by: &'a str, at: DateTime<Utc> },
    /// approved (not exported) → computed.
    Withdraw { batch_id: &'a str },
    /// computed or approved → discarded, why.
    Discard { batch_id: &'a str, reason: &'a str },
    /// computed or approved → superseded by a rerun's batch (never counted again).
    Supersede { batch_id: &'a str, by_batch: &'a str, reason: &'a str },
    /// approved → exported; exporting again keeps it exported, its first export time kept.
    Export { batch_id: &'a str, at: DateTime<Utc> },
    /// An outstanding recovery item of an exported batch → collected or waived.
    DecideRecovery { payment_key: &'a str, decision: &'a str, by: &'a str, reason: &'a str, at: DateTime<Utc> },
}

impl Change<'_> {
    /// Make the change in `tx` if its subject is in a state the change starts from; whether it was
    /// (false: nothing changed).
    pub(super) async fn apply(&self, tx: &mut Tx) -> StoreResult<bool> {
        let rows = match *self {
            Change::Approve { batch_id, by, at } => {
                tx.query(
                    "update batches set state = 'approved', approved_by = $1, approved_at = $2
                     where batch_id = $3 and state = 'computed'",
                )
                .bind(by)
                .bind(at)
                .bind(batch_id)
                .execute()
                .await?
            }
            Change::Withdraw { batch_id } => {
                tx.query(
                    "update batches set state = 'computed', approved_by = null, approved_at = null
                     where batch_id = $1 and state = 'approved'",
                )
                .bind(batch_id)
                .execute()
                .await?
            }
            Change::Discard { batch_id, reason } => {
                tx.query(
                    "update batches set state = 'discarded', state_reason = $1
                     where batch_id = $2 and state in ('computed', 'approved')",
                )
                .bind(reason)
                .bind(batch_id)
                .execute()
                .await?
            }
            // The balances are not touched here: the rerun refreshes the keys of both batches once
            // its own postings are in, so that no state halfway through the transaction is held
            // against the L4 bound.
            Change::Supersede { batch_id, by_batch, reason } => {
                tx.query(
                    "update batches set state = 'superseded', superseded_by = $1, state_reason = $2
                     where batch_id = $3 and state in ('computed', 'approved')",
                )
                .bind(by_batch)
                .bind(reason)
                .bind(batch_id)
                .execute()
                .await?
            }
            Change::Export { batch_id, at } => {
                tx.query(
                    "update batches set state = 'exported', exported_at = coalesce(exported_at, $1)
                     where batch_id = $2 and state in ('approved', 'exported')",
                )
                .bind(at)
                .bind(batch_id)
                .execute()
                .await?
            }
            Change::DecideRecovery { payment_key, decision, by, reason, at } => {
                let open: i64 = tx
                    .query(
                        "select count(*) from postings p join batches b on b.batch_id = p.batch_id
                         left join recovery_decisions d on d.payment_key = p.payment_key
                         where p.payment_key = $1 and p.line_type = 'recovery' and b.state = 'exported' and d.payment_key is null
                           and p.cancelled_by is null",
                    )
                    .bind(payment_key)
                    .fetch_scalar()
                    .await?;
                if open == 0 {
                    return Ok(false);
                }
                tx.query(
                    "insert into recovery_decisions (payment_key, decision, decided_by, decided_at, reason)
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(payment_key)
                .bind(decision)
                .bind(by)
                .bind(at.to_rfc3339())
                .bind(reason)
                .execute()
                .await?
            }
        };
        // Batches and payment keys are primary keys: one row or none.
        Ok(rows == 1)
    }
}

/// A change made in a write transaction, waiting for its audit entry and the commit.
pub(super) struct Transition(Tx);

impl Transition {
    /// Make `change` in a new write transaction. `None`, having changed nothing, when its subject
    /// is not in a state the change starts from.
    pub(super) async fn begin(pool: &Pool, change: Change<'_>) -> StoreResult<Option<Transition>> {
        Transition::within(pool.begin_write().await?, change).await
    }

    /// The same in a write transaction already open (an export's, holding the batch's row).
    pub(super) async fn within(mut tx: Tx, change: Change<'_>) -> StoreResult<Option<Transition>> {
        if change.apply(&mut tx).await? {
            Ok(Some(Transition(tx)))
        } else {
            tx.rollback().await?;
            Ok(None)
        }
    }

    /// Make a change that needs nothing but its entry: begin, change, entry, commit. False when its
    /// subject was not in a state the change starts from (nothing changed).
    pub(super) async fn make(
        pool: &Pool,
        change: Change<'_>,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let Some(change) = Transition::begin(pool, change).await? else { return Ok(false) };
        change.commit(entry, now).await?;
        Ok(true)
    }

    /// The transaction, for what else the change needs before its entry.
    pub(super) fn tx(&mut self) -> &mut Tx {
        &mut self.0
    }

    /// Change nothing after all.
    pub(super) async fn rollback(self) -> StoreResult<()> {
        Ok(self.0.rollback().await?)
    }

    /// Append the change's audit entry and commit both.
    pub(super) async fn commit(mut self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
        audit::append(&mut self.0, entry, now).await?;
        Ok(self.0.commit().await?)
    }
}

/// Approve a computed batch, with its audit entry naming what was approved. False when it was not
/// computed.
pub(super) async fn approve(pool: &Pool, batch_id: &str, by: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let Some(mut change) = Transition::begin(pool, Change::Approve { batch_id, by, at: now }).await? else {
        return Ok(false);
    };
    let row = change
        .tx()
        .query("select registry_fingerprint, control_sum_fen, transfer_count from batches where batch_id = $1")
        .bind(batch_id)
        .fetch_one()
        .await?;
    let (fingerprint, control_sum, transfers): (String, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let entry = AuditEntry {
        actor: by.to_string(),
        command: "approve".into(),
        target: batch_id.to_string(),
        reason: String::new(),
        input_fingerprint: fingerprint,
        details: serde_json::json!({ "control_sum": format_fen(control_sum), "transfers": transfers }).to_string(),
    };
    change.commit(&entry, now).await?;
    Ok(true)
}

/// Batches of other districts, counted, that pay a month batch `$1` recovers or offsets (a move
/// known late): they rely on it (L1).
pub(super) fn relying_batches_sql() -> String {
    format!(
        "select distinct q.batch_id from postings p
         join postings q on q.id_number = p.id_number and q.allowance = p.allowance and q.service_month = p.service_month
         join batches b on b.batch_id = q.batch_id
         where p.batch_id = $1 and p.amount_fen < 0 and q.amount_fen > 0 and q.held_reason is null
           and q.district_code <> p.district_code and b.state in {}",
        counting_states!()
    )
}

/// Drop an unexported batch: state discarded, its postings out of the balances, audit entry.
/// False when it was not open; refused when another district's batch relies on it.
pub(super) async fn discard(
    pool: &Pool,
    batch_id: &str,
    reason: &str,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let Some(mut change) = Transition::begin(pool, Change::Discard { batch_id, reason }).await? else {
        return Ok(false);
    };
    // L1/L4: dropping a batch whose recoveries another district's batch relies on (a move known
    // late) would count those months twice, whatever the tier: refuse, in the transaction that
    // would drop it, naming those batches.
    let relying: Vec<String> = change.tx().query(&relying_batches_sql()).bind(batch_id).fetch_scalars().await?;
    if !relying.is_empty() {
        change.rollback().await?;
        return Err(StoreError::ReliedOn { batch_id: batch_id.to_string(), relying });
    }
    unpost_batch(change.tx(), batch_id).await?;
    change.commit(audit, now).await?;
    Ok(true)
}

/// An export's transaction (holds the batch's row until finished or abandoned).
pub struct SqlExport {
    pub(super) tx: Tx,
    pub(super) batch: BatchRow,
}

/// Begin an export: a write transaction holding the batch's row (PostgreSQL `for update`,
/// SQLite's single writer). `None` when there is no such batch.
pub(super) async fn begin_export(pool: &Pool, batch_id: &str) -> StoreResult<Option<SqlExport>> {
    let mut tx = pool.begin_write().await?;
    let sql = format!("select {BATCH_COLUMNS} from batches where batch_id = $1{}", tx.dialect().row_lock());
    let row = tx.query(&sql).bind(batch_id).fetch_optional().await?;
    match row.as_ref().map(batch_row).transpose()? {
        Some(batch) => Ok(Some(SqlExport { tx, batch })),
        None => {
            tx.rollback().await?;
            Ok(None)
        }
    }
}

/// Mark the exported batch so, append the audit entry, commit. The row is locked: the state the
/// caller checked still holds; the guarded update says so again, so that a misuse changes nothing.
pub(super) async fn finish_export(export: SqlExport, audit: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
    let SqlExport { tx, batch } = export;
    let change = Change::Export { batch_id: &batch.batch_id, at: now };
    let Some(change) = Transition::within(tx, change).await? else {
        return Err(StoreError::Corrupt(format!(
            "batch {} is {}, not approved: it cannot be marked exported",
            batch.batch_id,
            batch.state.as_str()
        )));
    };
    change.commit(audit, now).await
}
