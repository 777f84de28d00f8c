//! Appending to and reading the audit log, the same SQL on both databases.

/// Stamp `audit_insert` (append one entry inside a write transaction) and `audit_rows` for a
/// database. `$lock` serialises appends (PostgreSQL locks the table; SQLite's `begin immediate`
/// already has).
macro_rules! impl_audit {
    ($db:ty, $lock:literal) => {
        /// Append an entry in `tx`: next sequence number, hash chained to the entry before, head
        /// recorded in settings.
        pub(crate) async fn audit_insert(
            tx: &mut sqlx::Transaction<'static, $db>,
            e: &$crate::audit::AuditEntry,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::store::StoreResult<$crate::audit::AuditRow> {
            sqlx::query($lock).execute(&mut **tx).await?;
            let last: Option<(i64, String)> = sqlx::query_as("select seq, hash from audit_log order by seq desc limit 1")
                .fetch_optional(&mut **tx)
                .await?;
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
            sqlx::query(
                "insert into settings (key, value) values ('audit_head', $1)
                 on conflict (key) do update set value = excluded.value",
            )
            .bind(format!("{seq} {hash}"))
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
            let head: Option<String> =
                sqlx::query_scalar("select value from settings where key = 'audit_head'").fetch_optional(pool).await?;
            let head = head.and_then(|h| {
                let (seq, hash) = h.split_once(' ')?;
                Some((seq.parse().ok()?, hash.to_string()))
            });
            Ok((rows, head))
        }
    };
}
pub(super) use impl_audit;
