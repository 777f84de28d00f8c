//! Appending to and reading the audit log: each entry takes the next sequence number and the
//! hash of the entry before it, and the head is recorded apart (`audit_heads`), so that
//! `subsidy verify --audit` sees an entry changed, removed, or cut from the end.

use super::error::StoreResult;
use super::sql::{Pool, Row, Txn};
use crate::audit::{entry_hash, AuditEntry, AuditRow, GENESIS};
use chrono::{DateTime, SecondsFormat, Utc};

const HEAD: &str = "select seq, hash from audit_log order by seq desc limit 1";

/// Append an entry in `tx` (a write transaction): next sequence number, hash chained to the
/// entry before, head appended to `audit_heads`. It commits with `tx` or not at all.
pub(super) async fn append(tx: &mut Txn<'_>, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<AuditRow> {
    append_with_head_from(tx, None, entry, now).await
}

/// [`append`] in a batch's transaction, whose snapshot may predate the last append: once the
/// lock is held no other append can commit, so the chain's head is read through `pool` (a fresh
/// read of what is committed) instead of through the old snapshot.
pub(super) async fn append_in_batch(
    tx: &mut Txn<'_>,
    pool: &Pool,
    entry: &AuditEntry,
    now: DateTime<Utc>,
) -> StoreResult<AuditRow> {
    let head_from = tx.dialect().batch_snapshot_may_be_stale().then_some(pool);
    append_with_head_from(tx, head_from, entry, now).await
}

async fn append_with_head_from(
    tx: &mut Txn<'_>,
    head_from: Option<&Pool>,
    e: &AuditEntry,
    now: DateTime<Utc>,
) -> StoreResult<AuditRow> {
    // Held until commit: the head read below stays the head until this entry commits.
    if let Some(lock) = tx.dialect().audit_lock() {
        tx.query(lock).execute().await?;
    }
    let last = match head_from {
        Some(pool) => pool.query(HEAD).fetch_optional().await?,
        None => tx.query(HEAD).fetch_optional().await?,
    };
    let (seq, prev_hash) = match last {
        Some(row) => (row.get::<i64, _>(0)? + 1, row.get::<String, _>(1)?),
        None => (1, GENESIS.to_string()),
    };
    let at = now.to_rfc3339_opts(SecondsFormat::Micros, true);
    let hash = entry_hash(seq, &at, e, &prev_hash);
    tx.query(
        "insert into audit_log (seq, at, actor, command, target, reason, input_fingerprint, details, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(&at)
    .bind(&e.actor)
    .bind(&e.command)
    .bind(&e.target)
    .bind(&e.reason)
    .bind(&e.input_fingerprint)
    .bind(&e.details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute()
    .await?;
    // Appended, never updated: a repeatable-read transaction could not update a row that
    // another append changed after its snapshot.
    tx.query("insert into audit_heads (seq, hash) values ($1, $2)").bind(seq).bind(&hash).execute().await?;
    Ok(AuditRow { seq, at, entry: e.clone(), prev_hash, hash })
}

/// The whole log in order, and the head recorded at the last append.
pub(super) async fn log(pool: &Pool) -> StoreResult<(Vec<AuditRow>, Option<(i64, String)>)> {
    let rows = pool
        .query(
            "select seq, at, actor, command, target, reason, input_fingerprint, details, prev_hash, hash
             from audit_log order by seq",
        )
        .fetch_all_as(|r| Ok(audit_row(r)?))
        .await?;
    let head = pool.query("select seq, hash from audit_heads order by seq desc limit 1").fetch_optional().await?;
    let head = match head {
        Some(r) => Some((r.get(0)?, r.get(1)?)),
        None => None,
    };
    Ok((rows, head))
}

fn audit_row(r: &Row) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.get("seq")?,
        at: r.get("at")?,
        entry: AuditEntry {
            actor: r.get("actor")?,
            command: r.get("command")?,
            target: r.get("target")?,
            reason: r.get("reason")?,
            input_fingerprint: r.get("input_fingerprint")?,
            details: r.get("details")?,
        },
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
    })
}
