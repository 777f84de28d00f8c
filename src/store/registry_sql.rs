//! The storage contract's SQL, written once for both databases. Both accept `$N` placeholders
//! (numbered in order of first use) and `insert … on conflict … do update … where`, so the same
//! text runs on SQLite and PostgreSQL; what differs (connection, migrations, how a write
//! transaction begins) lives in `sqlite.rs` and `postgres.rs`. The macro stamps the same
//! `impl Store` for each store type, so the two cannot drift apart.

/// How the rows of one registry file are upserted, many per statement:
/// `{head} values (…), (…) {tail}`. The `where … import_id <> excluded.import_id` turns a second
/// row with the same key in the same import into a no-op, and `returning` names the rows written:
/// a row of the chunk that is not returned repeated a key of an earlier chunk of the file (a
/// duplicate key, found in the database without holding the file's keys in memory).
pub(super) struct UpsertSpec {
    /// `insert into table (columns) `
    pub head: String,
    /// `on conflict … do update … where … returning key`
    pub tail: String,
}

/// The upsert of a file's rows; the returned `row_key` is `RowKey::text()` of each row written.
pub(super) fn upsert_spec(kind: crate::registry::rows::FileKind) -> UpsertSpec {
    use crate::registry::rows::FileKind::*;
    let (table, columns, key, update) = match kind {
        Elders => (
            "elders",
            "id_number, district_code, name, birth_date, street_code, hukou_in_date, hukou_out_date, death_date, account_type, account_no",
            vec!["id_number", "district_code"],
            "name = excluded.name, birth_date = excluded.birth_date, street_code = excluded.street_code, \
             hukou_in_date = excluded.hukou_in_date, hukou_out_date = excluded.hukou_out_date, \
             death_date = excluded.death_date, account_type = excluded.account_type, account_no = excluded.account_no",
        ),
        Applications => (
            "applications",
            "id_number, allowance, applied_on, decision, decided_on",
            vec!["id_number", "allowance", "applied_on"],
            "decision = excluded.decision, decided_on = excluded.decided_on",
        ),
        Assessments => ("assessments", "id_number, assessed_on, result", vec!["id_number", "assessed_on"], "result = excluded.result"),
        DisabilityCerts => (
            "disability_certs",
            "id_number, category, grade, multiple, issued_on, revoked_on",
            vec!["id_number", "category", "issued_on"],
            "grade = excluded.grade, multiple = excluded.multiple, revoked_on = excluded.revoked_on",
        ),
        HouseholdStatus => ("household_status", "id_number, status, valid_from, valid_to", vec!["id_number", "status", "valid_from"], "valid_to = excluded.valid_to"),
        Exclusions => ("exclusions", "id_number, kind, valid_from, valid_to", vec!["id_number", "kind", "valid_from"], "valid_to = excluded.valid_to"),
        Suspensions => ("suspensions", "id_number, reason, valid_from, valid_to", vec!["id_number", "reason", "valid_from"], "valid_to = excluded.valid_to"),
    };
    // Dates render as YYYY-MM-DD in both databases, as in RowKey::text().
    let key_text = key.iter().map(|c| format!("cast({table}.{c} as text)")).collect::<Vec<_>>().join(" || '|' || ");
    UpsertSpec {
        head: format!("insert into {table} ({columns}, import_id) "),
        tail: format!(
            " on conflict ({}) do update set {update}, import_id = excluded.import_id \
             where {table}.import_id <> excluded.import_id returning {key_text} as row_key",
            key.join(", ")
        ),
    }
}

/// Rows per many-row registry statement (11 columns × 400 stays below both parameter limits).
pub(super) const REGISTRY_ROWS_PER_STATEMENT: usize = 400;

/// `$1, $2, …, $n`: placeholders for a list of `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Stamp `impl Store` for a store type with fields `pool` and inherent methods
/// `begin_write()` and `run_migrations()`.
macro_rules! impl_store {
    ($store:ty, $import:ident, $db:ty, $import_lock:literal) => {
        /// An import's transaction.
        pub struct $import {
            tx: sqlx::Transaction<'static, $db>,
            import_id: i64,
        }

        impl $crate::store::Store for $store {
            type Import = $import;

            async fn migrate(&self) -> $crate::store::StoreResult<()> {
                self.run_migrations().await
            }

            async fn start_month(&self) -> $crate::store::StoreResult<Option<$crate::month::ServiceMonth>> {
                let v: Option<String> = sqlx::query_scalar("select value from settings where key = 'start_month'")
                    .fetch_optional(&self.pool)
                    .await?;
                v.map(|s| s.parse().map_err(|e: $crate::month::BadMonth| $crate::store::StoreError::Corrupt(e.to_string())))
                    .transpose()
            }

            async fn set_start_month(&self, month: $crate::month::ServiceMonth) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "insert into settings (key, value) values ('start_month', $1)
                     on conflict (key) do update set value = excluded.value",
                )
                .bind(month.to_string())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn policy_versions(&self) -> $crate::store::StoreResult<Vec<$crate::policy::Policy>> {
                let bodies: Vec<String> = sqlx::query_scalar("select body from policy_versions order by effective_from")
                    .fetch_all(&self.pool)
                    .await?;
                bodies
                    .iter()
                    .map(|b| $crate::policy::Policy::from_json(b).map_err(|e| $crate::store::StoreError::Corrupt(e.to_string())))
                    .collect()
            }

            async fn add_policy(
                &self,
                policy: &$crate::policy::Policy,
                source: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::store::PolicyLoad> {
                use $crate::store::PolicyLoad;
                let body = policy.to_json();
                let mut tx = self.begin_write().await?;
                let existing: Vec<(String, String, String)> = sqlx::query_as(
                    "select version, effective_from, body from policy_versions where version = $1 or effective_from = $2",
                )
                .bind(&policy.version)
                .bind(policy.effective_from.to_string())
                .fetch_all(&mut *tx)
                .await?;
                if let Some((version, from, old)) = existing.first() {
                    return Ok(if *old == body && *version == policy.version {
                        PolicyLoad::AlreadyLoaded
                    } else {
                        PolicyLoad::Conflict(format!(
                            "version {version} (effective {from}) is already loaded with other content; give the new file its own version name and effective month"
                        ))
                    });
                }
                sqlx::query(
                    "insert into policy_versions (version, effective_from, body, sha256, source, loaded_at)
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&policy.version)
                .bind(policy.effective_from.to_string())
                .bind(&body)
                .bind($crate::digest::sha256_hex(body.as_bytes()))
                .bind(source)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(PolicyLoad::Added)
            }

            async fn begin_import(&self, dir: &str, now: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<$import> {
                let mut tx = self.begin_write().await?;
                // Imports one at a time, so that their ids are in commit order: a batch's watermark
                // (the last finished import it saw) then vouches for every import up to it.
                sqlx::query($import_lock).execute(&mut *tx).await?;
                let import_id: i64 = sqlx::query_scalar("insert into imports (dir, started_at) values ($1, $2) returning import_id")
                    .bind(dir)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                Ok($import { tx, import_id })
            }

            async fn person(&self, id_number: &str) -> $crate::store::StoreResult<Option<$crate::registry::PersonRecords>> {
                let ids = [id_number.to_string()];
                let mut people = $crate::store::registry_sql::load_persons!(&self.pool, &ids);
                Ok(people.remove(id_number))
            }

            async fn registry_counts(&self) -> $crate::store::StoreResult<std::collections::BTreeMap<String, i64>> {
                let mut out = std::collections::BTreeMap::new();
                for table in $crate::store::registry_sql::REGISTRY_TABLES {
                    let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&self.pool).await?;
                    out.insert(table.to_string(), n);
                }
                Ok(out)
            }

            async fn append_audit(
                &self,
                entry: &$crate::audit::AuditEntry,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<$crate::audit::AuditRow> {
                let mut tx = self.begin_write().await?;
                let row = audit_insert(&mut tx, entry, now).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn audit_log(
                &self,
            ) -> $crate::store::StoreResult<(Vec<$crate::audit::AuditRow>, Option<(i64, String)>)> {
                audit_rows(&self.pool).await
            }

            async fn districts(&self) -> $crate::store::StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("select distinct district_code from elders order by district_code").fetch_all(&self.pool).await?)
            }
        }

        impl $crate::store::ImportTx for $import {
            fn import_id(&self) -> i64 {
                self.import_id
            }

            async fn apply_rows(
                &mut self,
                kind: $crate::registry::rows::FileKind,
                rows: &[(u64, $crate::registry::rows::RowOp)],
            ) -> $crate::store::StoreResult<Vec<$crate::store::StoreReject>> {
                use $crate::registry::rows::{FileKind, RejectCode, Row, RowKey, RowOp};
                use $crate::store::registry_sql::*;
                use $crate::store::StoreReject;
                use std::collections::HashSet;
                let import_id = self.import_id;
                let tx = &mut self.tx;
                let mut rejects = Vec::new();
                let known = known_persons(tx, kind, rows).await?;
                let mut seen: HashSet<String> = HashSet::new();
                let mut pending: Vec<(u64, &Row, String)> = Vec::new();
                for (line, op) in rows {
                    match op {
                        RowOp::Delete(key) if !seen.insert(key.text()) => rejects.push(duplicate(*line, kind)),
                        RowOp::Delete(key) => {
                            // Keep the file's order: rows before the delete are written first.
                            flush(tx, import_id, kind, &mut pending, &mut rejects).await?;
                            // A key an earlier chunk of this import wrote (or deleted) repeats it.
                            let earlier: i64 = sqlx::query_scalar(
                                "select count(*) from registry_versions where file = $1 and row_key = $2 and import_id = $3",
                            )
                            .bind(kind.file_name())
                            .bind(key.text())
                            .bind(import_id)
                            .fetch_one(&mut **tx)
                            .await?;
                            if earlier > 0 {
                                rejects.push(duplicate(*line, kind));
                                continue;
                            }
                            delete_key(tx, key).await?;
                            record_versions(tx, import_id, kind, &[(key.clone(), None)]).await?;
                        }
                        RowOp::Upsert(row) if kind != FileKind::Elders && !known.contains(row.id_number()) => {
                            rejects.push(StoreReject {
                                line: *line,
                                code: RejectCode::UnknownPerson,
                                detail: format!(
                                    "no registration of {} in elders.csv; import the person first",
                                    $crate::idcard::mask(row.id_number())
                                ),
                            });
                        }
                        RowOp::Upsert(row) => {
                            let text = row.key().text();
                            if seen.insert(text.clone()) {
                                pending.push((*line, row, text));
                            } else {
                                rejects.push(duplicate(*line, kind));
                            }
                        }
                    }
                }
                flush(tx, import_id, kind, &mut pending, &mut rejects).await?;
                rejects.sort_by_key(|r| r.line);
                return Ok(rejects);

                fn duplicate(line: u64, kind: FileKind) -> StoreReject {
                    StoreReject {
                        line,
                        code: RejectCode::DuplicateKey,
                        detail: format!("the key of this row repeats an earlier row of {kind}; the earlier row was kept"),
                    }
                }

                /// The persons of the chunk that have a registration (for every file but elders.csv).
                async fn known_persons(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    kind: FileKind,
                    rows: &[(u64, RowOp)],
                ) -> Result<HashSet<String>, sqlx::Error> {
                    let mut known = HashSet::new();
                    if kind == FileKind::Elders {
                        return Ok(known);
                    }
                    let mut ids: Vec<&str> = rows
                        .iter()
                        .filter_map(|(_, op)| match op {
                            RowOp::Upsert(r) => Some(r.id_number()),
                            RowOp::Delete(_) => None,
                        })
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    for part in ids.chunks(REGISTRY_ROWS_PER_STATEMENT) {
                        let sql = format!("select distinct id_number from elders where id_number in ({})", placeholders(part.len()));
                        let mut q = sqlx::query_scalar::<_, String>(&sql);
                        for id in part {
                            q = q.bind(*id);
                        }
                        known.extend(q.fetch_all(&mut **tx).await?);
                    }
                    Ok(known)
                }

                /// Write the pending rows, many per statement; a row the database did not return
                /// repeated a key written earlier by this import.
                async fn flush(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    import_id: i64,
                    kind: FileKind,
                    pending: &mut Vec<(u64, &Row, String)>,
                    rejects: &mut Vec<StoreReject>,
                ) -> Result<(), sqlx::Error> {
                    let spec = upsert_spec(kind);
                    for part in pending.chunks(REGISTRY_ROWS_PER_STATEMENT) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(&spec.head);
                        q.push_values(part, |mut b, (_, row, _)| match row {
                            Row::Elder(e) => {
                                let r = &e.registration;
                                b.push_bind(e.id_number.clone())
                                    .push_bind(r.district_code.clone())
                                    .push_bind(r.name.clone())
                                    .push_bind(e.birth_date)
                                    .push_bind(r.street_code.clone())
                                    .push_bind(r.hukou_in_date)
                                    .push_bind(r.hukou_out_date)
                                    .push_bind(r.death_date)
                                    .push_bind(r.account_type.map(|a| a.as_str()))
                                    .push_bind(r.account_no.clone())
                                    .push_bind(import_id);
                            }
                            Row::Application(id, a) => {
                                b.push_bind(id.clone())
                                    .push_bind(a.allowance.as_str())
                                    .push_bind(a.applied_on)
                                    .push_bind(a.decision.as_str())
                                    .push_bind(a.decided_on)
                                    .push_bind(import_id);
                            }
                            Row::Assessment(id, a) => {
                                b.push_bind(id.clone()).push_bind(a.assessed_on).push_bind(a.result.as_str()).push_bind(import_id);
                            }
                            Row::Certificate(id, c) => {
                                b.push_bind(id.clone())
                                    .push_bind(c.category.as_str())
                                    .push_bind(c.grade as i32)
                                    .push_bind(c.multiple)
                                    .push_bind(c.issued_on)
                                    .push_bind(c.revoked_on)
                                    .push_bind(import_id);
                            }
                            Row::Status(id, p) => {
                                b.push_bind(id.clone()).push_bind(p.kind.as_str()).push_bind(p.valid_from).push_bind(p.valid_to).push_bind(import_id);
                            }
                            Row::Exclusion(id, p) => {
                                b.push_bind(id.clone()).push_bind(p.kind.as_str()).push_bind(p.valid_from).push_bind(p.valid_to).push_bind(import_id);
                            }
                            Row::Suspension(id, p) => {
                                b.push_bind(id.clone()).push_bind(p.kind.as_str()).push_bind(p.valid_from).push_bind(p.valid_to).push_bind(import_id);
                            }
                        });
                        q.push(&spec.tail);
                        let written: HashSet<String> = q.build_query_scalar::<String>().fetch_all(&mut **tx).await?.into_iter().collect();
                        let mut versions = Vec::with_capacity(part.len());
                        for (line, row, text) in part {
                            if written.contains(text) {
                                versions.push((row.key(), Some(*row)));
                            } else {
                                rejects.push(duplicate(*line, kind));
                            }
                        }
                        record_versions(tx, import_id, kind, &versions).await?;
                    }
                    pending.clear();
                    Ok(())
                }

                async fn delete_key(tx: &mut sqlx::Transaction<'_, $db>, key: &RowKey) -> Result<(), sqlx::Error> {
                    let q = match key {
                        RowKey::Elder(id, d) => sqlx::query("delete from elders where id_number = $1 and district_code = $2").bind(id).bind(d),
                        RowKey::Application(id, a, on) => sqlx::query("delete from applications where id_number = $1 and allowance = $2 and applied_on = $3")
                            .bind(id)
                            .bind(a.as_str())
                            .bind(*on),
                        RowKey::Assessment(id, on) => sqlx::query("delete from assessments where id_number = $1 and assessed_on = $2").bind(id).bind(*on),
                        RowKey::Certificate(id, c, on) => sqlx::query("delete from disability_certs where id_number = $1 and category = $2 and issued_on = $3")
                            .bind(id)
                            .bind(c.as_str())
                            .bind(*on),
                        RowKey::Status(id, s, from) => sqlx::query("delete from household_status where id_number = $1 and status = $2 and valid_from = $3")
                            .bind(id)
                            .bind(s.as_str())
                            .bind(*from),
                        RowKey::Exclusion(id, k, from) => sqlx::query("delete from exclusions where id_number = $1 and kind = $2 and valid_from = $3")
                            .bind(id)
                            .bind(k.as_str())
                            .bind(*from),
                        RowKey::Suspension(id, r, from) => sqlx::query("delete from suspensions where id_number = $1 and reason = $2 and valid_from = $3")
                            .bind(id)
                            .bind(r.as_str())
                            .bind(*from),
                    };
                    q.execute(&mut **tx).await?;
                    Ok(())
                }

                /// Keep these versions of rows (explain shows records as they stood; a `None` row
                /// is a deletion) and mark their persons changed by this import (corrections read
                /// only changed persons).
                async fn record_versions(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    import_id: i64,
                    kind: FileKind,
                    versions: &[(RowKey, Option<&Row>)],
                ) -> Result<(), sqlx::Error> {
                    for part in versions.chunks(REGISTRY_ROWS_PER_STATEMENT) {
                        // A person changes when a row's content changes: a row identical to the key's
                        // latest version (or a delete of a key already gone) is no change, and
                        // re-importing the same files marks nobody for the next correction. (The
                        // version is kept all the same: it records that this import wrote the key.)
                        let latest = latest_versions(tx, import_id, kind, part).await?;
                        let part: Vec<(&RowKey, Option<String>)> = part
                            .iter()
                            .map(|(key, row)| (key, row.map(|r| serde_json::to_string(r).expect("row serializes"))))
                            .collect();
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "insert into registry_versions (import_id, file, id_number, row_key, deleted, row_json) ",
                        );
                        q.push_values(&part, |mut b, (key, json)| {
                            b.push_bind(import_id)
                                .push_bind(kind.file_name())
                                .push_bind(key.id_number().to_string())
                                .push_bind(key.text())
                                .push_bind(i32::from(json.is_none()))
                                .push_bind(json.clone().unwrap_or_default());
                        });
                        q.push(
                            " on conflict (file, row_key, import_id) do update set deleted = excluded.deleted, row_json = excluded.row_json",
                        );
                        q.build().execute(&mut **tx).await?;
                        let mut ids: Vec<&str> = part
                            .iter()
                            .filter(|(key, json)| match (latest.get(&key.text()), json) {
                                (Some(Some(before)), Some(now)) => before != now,
                                (Some(None) | None, None) => false,
                                _ => true,
                            })
                            .map(|(k, _)| k.id_number())
                            .collect();
                        if ids.is_empty() {
                            continue;
                        }
                        ids.sort_unstable();
                        ids.dedup();
                        let mut q = sqlx::QueryBuilder::<$db>::new("insert into person_changes (id_number, import_id) ");
                        q.push_values(ids, |mut b, id| {
                            b.push_bind(id.to_string()).push_bind(import_id);
                        });
                        q.push(" on conflict (id_number) do update set import_id = excluded.import_id");
                        q.build().execute(&mut **tx).await?;
                    }
                    Ok(())
                }

                /// The latest version before this import of each key of `part`: its row JSON, or
                /// `None` when it was deleted. Keys never seen are absent.
                async fn latest_versions(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    import_id: i64,
                    kind: FileKind,
                    part: &[(RowKey, Option<&Row>)],
                ) -> Result<std::collections::HashMap<String, Option<String>>, sqlx::Error> {
                    let sql = format!(
                        "select v.row_key, v.deleted, v.row_json from registry_versions v
                         where v.file = $1 and v.row_key in ({})
                           and v.import_id = (select max(w.import_id) from registry_versions w
                                              where w.file = v.file and w.row_key = v.row_key and w.import_id < $2)",
                        (0..part.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ")
                    );
                    let mut q = sqlx::query_as::<_, (String, i32, String)>(&sql).bind(kind.file_name()).bind(import_id);
                    for (key, _) in part {
                        q = q.bind(key.text());
                    }
                    Ok(q.fetch_all(&mut **tx)
                        .await?
                        .into_iter()
                        .map(|(key, deleted, json)| (key, (deleted == 0).then_some(json)))
                        .collect())
                }
            }

            async fn finish(
                self,
                accepted: u64,
                rejects: &[$crate::store::StoredReject],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                let import_id = self.import_id;
                let mut tx = self.tx;
                for r in rejects {
                    sqlx::query("insert into import_rejects (import_id, file, line, reason, detail) values ($1, $2, $3, $4, $5)")
                        .bind(import_id)
                        .bind(&r.file)
                        .bind(r.line as i64)
                        .bind(&r.reason)
                        .bind(&r.detail)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("update imports set finished_at = $1, accepted = $2, rejected = $3 where import_id = $4")
                    .bind(now)
                    .bind(accepted as i64)
                    .bind(rejects.len() as i64)
                    .bind(import_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

        }
    };
}
pub(super) use impl_store;

/// The registry tables, in import order.
pub(super) const REGISTRY_TABLES: [&str; 7] =
    ["elders", "applications", "assessments", "disability_certs", "household_status", "exclusions", "suspensions"];

/// Read the records of the persons `$ids` (a slice of ID strings) from the seven tables, into a
/// map by ID (ordered by key, so results are stable). `$exec` is an executor expression (a pool,
/// or `&mut *tx`), evaluated once per query. Persons are named one by one (`in (…)`), never by a
/// range of IDs, so a district with few persons never reads its neighbours' records.
macro_rules! load_persons {
    ($exec:expr, $ids:expr) => {{
        use sqlx::Row as _;
        use $crate::registry::*;
        use $crate::store::StoreError;
        fn code<T: std::str::FromStr<Err = $crate::codes::UnknownCode>>(s: String) -> Result<T, StoreError> {
            s.parse().map_err(|e: $crate::codes::UnknownCode| StoreError::Corrupt(e.to_string()))
        }
        let ids: &[String] = $ids;
        let list = $crate::store::registry_sql::placeholders(ids.len());
        macro_rules! fetch {
            ($sql:expr) => {{
                let sql = $sql;
                let mut q = sqlx::query(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                q.fetch_all($exec).await?
            }};
        }
        let mut people: std::collections::BTreeMap<String, PersonRecords> = std::collections::BTreeMap::new();
        let regs = fetch!(format!(
            "select id_number, district_code, street_code, name, birth_date, hukou_in_date, hukou_out_date, death_date,
                    account_type, account_no
             from elders where id_number in ({list}) order by id_number, district_code"
        ));
        for r in &regs {
            let id: String = r.try_get("id_number")?;
            let rec = people.entry(id.clone()).or_insert_with(|| PersonRecords { id_number: id, ..Default::default() });
            rec.birth_date = Some(r.try_get("birth_date")?);
            rec.registrations.push(Registration {
                district_code: r.try_get("district_code")?,
                street_code: r.try_get("street_code")?,
                name: r.try_get("name")?,
                hukou_in_date: r.try_get("hukou_in_date")?,
                hukou_out_date: r.try_get("hukou_out_date")?,
                death_date: r.try_get("death_date")?,
                account_type: r.try_get::<Option<String>, _>("account_type")?.map(code).transpose()?,
                account_no: r.try_get("account_no")?,
            });
        }
        for r in fetch!(format!(
            "select id_number, allowance, applied_on, decision, decided_on from applications
             where id_number in ({list}) order by id_number, allowance, applied_on"
        )) {
            if let Some(rec) = people.get_mut(&r.try_get::<String, _>("id_number")?) {
                rec.applications.push(Application {
                    allowance: code(r.try_get("allowance")?)?,
                    applied_on: r.try_get("applied_on")?,
                    decision: code(r.try_get("decision")?)?,
                    decided_on: r.try_get("decided_on")?,
                });
            }
        }
        for r in fetch!(format!(
            "select id_number, assessed_on, result from assessments
             where id_number in ({list}) order by id_number, assessed_on"
        )) {
            if let Some(rec) = people.get_mut(&r.try_get::<String, _>("id_number")?) {
                rec.assessments
                    .push(Assessment { assessed_on: r.try_get("assessed_on")?, result: code(r.try_get("result")?)? });
            }
        }
        for r in fetch!(format!(
            "select id_number, category, grade, multiple, issued_on, revoked_on from disability_certs
             where id_number in ({list}) order by id_number, issued_on, category"
        )) {
            if let Some(rec) = people.get_mut(&r.try_get::<String, _>("id_number")?) {
                let grade: i32 = r.try_get("grade")?;
                rec.certificates.push(CertificateLine {
                    category: code(r.try_get("category")?)?,
                    grade: u8::try_from(grade).map_err(|_| StoreError::Corrupt(format!("grade {grade}")))?,
                    multiple: r.try_get("multiple")?,
                    issued_on: r.try_get("issued_on")?,
                    revoked_on: r.try_get("revoked_on")?,
                });
            }
        }
        for (table, col) in [("household_status", "status"), ("exclusions", "kind"), ("suspensions", "reason")] {
            let sql = format!(
                "select id_number, {col} as code, valid_from, valid_to from {table}
                 where id_number in ({list}) order by id_number, valid_from, {col}"
            );
            for r in fetch!(sql) {
                let Some(rec) = people.get_mut(&r.try_get::<String, _>("id_number")?) else { continue };
                let (code_text, valid_from, valid_to): (String, chrono::NaiveDate, Option<chrono::NaiveDate>) =
                    (r.try_get("code")?, r.try_get("valid_from")?, r.try_get("valid_to")?);
                match table {
                    "household_status" => rec.statuses.push(Period { kind: code(code_text)?, valid_from, valid_to }),
                    "exclusions" => rec.exclusions.push(Period { kind: code(code_text)?, valid_from, valid_to }),
                    _ => rec.suspensions.push(Period { kind: code(code_text)?, valid_from, valid_to }),
                }
            }
        }
        people
    }};
}
pub(crate) use load_persons;
