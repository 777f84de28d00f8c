//! Appending to and reading the audit log, the same SQL on both databases.

/// Stamp `audit_insert` (append one entry inside a write transaction), `audit_insert_fresh` (the
/// same inside a batch's transaction) and `audit_rows` for a database. `$lock` serialises appends
/// until commit (PostgreSQL locks the table; SQLite's `begin immediate` already has). `$stale` says
/// whether a batch's transaction may read an older snapshot than the last append: PostgreSQL's
/// repeatable-read batch transaction took its snapshot when the batch began, so another district's
/// batch committed since is invisible to it; SQLite's single writer always reads the latest.
macro_rules! impl_audit {
    ($db:ty, $lock:literal, $stale:literal) => {
        /// Append an entry in `tx` (a read-committed or serial write transaction): next sequence
        /// number, hash chained to the entry before, head appended to `audit_heads`.
        pub(crate) async fn audit_insert(
            tx: &mut sqlx::Transaction<'static, $db>,
            e: &$crate::audit::AuditEntry,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::store::StoreResult<$crate::audit::AuditRow> {
            audit_append(tx, None, e, now).await
        }

        /// [`audit_insert`] in a batch's transaction, whose snapshot may predate the last append:
        /// once the lock is held no other append can commit, so the chain's head is read through
        /// `pool` (a fresh read of what is committed) instead of through the old snapshot.
        pub(crate) async fn audit_insert_fresh(
            tx: &mut sqlx::Transaction<'static, $db>,
            pool: &sqlx::Pool<$db>,
            e: &$crate::audit::AuditEntry,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::store::StoreResult<$crate::audit::AuditRow> {
            audit_append(tx, if $stale { Some(pool) } else { None }, e, now).await
        }

        async fn audit_append(
            tx: &mut sqlx::Transaction<'static, $db>,
            head_from: Option<&sqlx::Pool<$db>>,
            e: &$crate::audit::AuditEntry,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::store::StoreResult<$crate::audit::AuditRow> {
            // Held until commit: the head read below stays the head until this entry commits.
            sqlx::query($lock).execute(&mut **tx).await?;
            let head = "select seq, hash from audit_log order by seq desc limit 1";
            let last: Option<(i64, String)> = match head_from {
                Some(pool) => sqlx::query_as(head).fetch_optional(pool).await?,
                None => sqlx::query_as(head).fetch_optional(&mut **tx).await?,
            };
            let (seq, prev_hash) = match last {
                Some((s, h)) => (s + 1, h),
                None => (1, $crate::audit::GENESIS.to_string()),
            };
            let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let hash = $crate::audit::entry_hash(seq, &at, e, &prev_hash);
            sqlx::query(
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
            .execute(&mut **tx)
            .await?;
            // Appended, never updated: a repeatable-read transaction could not update a row that
            // another append changed after its snapshot.
            sqlx::query("insert into audit_heads (seq, hash) values ($1, $2)")
                .bind(seq)
                .bind(&hash)
                .execute(&mut **tx)
                .await?;
            Ok($crate::audit::AuditRow { seq, at, entry: e.clone(), prev_hash, hash })
        }

        /// The whole log in order, and the head recorded at the last append.
        pub(crate) async fn audit_rows(
            pool: &sqlx::Pool<$db>,
        ) -> $crate::store::StoreResult<(Vec<$crate::audit::AuditRow>, Option<(i64, String)>)> {
            use sqlx::Row as _;
            let rows = sqlx::query(
                "select seq, at, actor, command, target, reason, input_fingerprint, details, prev_hash, hash
                 from audit_log order by seq",
            )
            .fetch_all(pool)
            .await?;
            let rows = rows
                .iter()
                .map(|r| {
                    Ok($crate::audit::AuditRow {
                        seq: r.try_get("seq")?,
                        at: r.try_get("at")?,
                        entry: $crate::audit::AuditEntry {
                            actor: r.try_get("actor")?,
                            command: r.try_get("command")?,
                            target: r.try_get("target")?,
                            reason: r.try_get("reason")?,
                            input_fingerprint: r.try_get("input_fingerprint")?,
                            details: r.try_get("details")?,
                        },
                        prev_hash: r.try_get("prev_hash")?,
                        hash: r.try_get("hash")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let head: Option<(i64, String)> =
                sqlx::query_as("select seq, hash from audit_heads order by seq desc limit 1").fetch_optional(pool).await?;
            Ok((rows, head))
        }
    };
}
pub(super) use impl_audit;
