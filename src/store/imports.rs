//! An import: every file's validated rows upserted or deleted by key, many rows per statement, in
//! one transaction ([`SqlImport`]). A row whose content differs from the stored one is written and
//! kept as a version (`explain` shows records as a batch saw them), and its person is marked, so
//! that a correction reads only the persons something touched; a row identical to the stored one
//! is only read (re-importing an unchanged registry rewrites nothing). Duplicate keys are found in
//! the database (a temporary table of the keys met), without holding a file's keys in memory.

use super::error::StoreResult;
use super::import_sql::{cells, key_mismatch, upsert_spec, Cell};
use super::rows::{StoreReject, StoredReject};
use super::sql::{list_params, value_rows, Pool, Query, Tx};
use crate::idcard;
use crate::registry::rows::{FileKind, RejectCode, Row, RowKey, RowOp};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// Rows per statement on SQLite: a whole chunk of the file (2,000 rows × 11 values stays below
/// SQLite's 32,766 parameters), so that a chunk is a few statements, not a few dozen.
const ROWS_PER_STATEMENT: usize = 2_000;

/// An import's transaction.
pub struct SqlImport {
    tx: Tx,
    import_id: i64,
    /// The file whose rows came last (its keys are in `import_keys`).
    file: Option<FileKind>,
    /// Whether a row was written (new, changed or deleted): the registry fingerprint moves on.
    changed: bool,
}

/// Open an import: its transaction and its row in `imports`.
pub(super) async fn begin(pool: &Pool, dir: &str, now: DateTime<Utc>) -> StoreResult<SqlImport> {
    let mut tx = pool.begin_write().await?;
    // Imports one at a time, so that their ids are in commit order: a batch's watermark (the
    // last finished import it saw) then vouches for every import up to it.
    if let Some(lock) = tx.dialect().import_lock() {
        tx.query(lock).execute().await?;
    }
    // Emptied by the first file's rows (`apply_rows`).
    let keys = tx.dialect().import_keys_table();
    tx.query(keys).execute().await?;
    for pragma in tx.dialect().bulk_cache().0 {
        tx.query(pragma).execute().await?;
    }
    let import_id: i64 = tx
        .query("insert into imports (dir, started_at) values ($1, $2) returning import_id")
        .bind(dir)
        .bind(now)
        .fetch_scalar()
        .await?;
    Ok(SqlImport { tx, import_id, file: None, changed: false })
}

impl SqlImport {
    /// The import's id.
    pub(super) fn import_id(&self) -> i64 {
        self.import_id
    }

    /// Apply validated rows of one file in the file's order: upsert or delete by key. Rows naming
    /// an unknown person, or repeating a key this import already wrote, are refused and returned.
    pub(super) async fn apply_rows(&mut self, kind: FileKind, rows: &[(u64, RowOp)]) -> StoreResult<Vec<StoreReject>> {
        let import_id = self.import_id;
        let tx = &mut self.tx;
        if self.file != Some(kind) {
            // Duplicates are within one file: the keys of the file before are not needed again.
            tx.query("delete from import_keys").execute().await?;
            self.file = Some(kind);
        }
        let mut rejects = Vec::new();
        let known = known_persons(tx, kind, rows).await?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut pending: Vec<(u64, &Row, String)> = Vec::new();
        for (line, op) in rows {
            match op {
                RowOp::Delete(key) if !seen.insert(key.text()) => rejects.push(duplicate(*line, kind)),
                RowOp::Delete(key) => {
                    // Keep the file's order: rows before the delete are written first.
                    self.changed |= flush(tx, import_id, kind, &mut pending, &mut rejects).await?;
                    // A key an earlier chunk of this import wrote (or deleted) repeats it.
                    if first_met(tx, kind, &[key.text()]).await?.is_empty() {
                        rejects.push(duplicate(*line, kind));
                        continue;
                    }
                    if delete_key(tx, key).await? {
                        record_versions(tx, import_id, kind, &[(key.clone(), None)]).await?;
                        self.changed = true;
                    }
                }
                RowOp::Upsert(row) if kind != FileKind::Elders && !known.contains(row.id_number()) => {
                    rejects.push(StoreReject {
                        line: *line,
                        code: RejectCode::UnknownPerson,
                        detail: format!(
                            "no registration of {} in elders.csv; import the person first",
                            idcard::mask(row.id_number())
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
        self.changed |= flush(tx, import_id, kind, &mut pending, &mut rejects).await?;
        rejects.sort_by_key(|r| r.line);
        Ok(rejects)
    }

    /// Record the totals and rejected rows, and commit the import.
    pub(super) async fn finish(
        self,
        accepted: u64,
        rejects: &[StoredReject],
        files_sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let SqlImport { mut tx, import_id, changed, .. } = self;
        for pragma in tx.dialect().bulk_cache().1 {
            tx.query(pragma).execute().await?;
        }
        for r in rejects {
            tx.query("insert into import_rejects (import_id, file, line, reason, detail) values ($1, $2, $3, $4, $5)")
                .bind(import_id)
                .bind(&r.file)
                .bind(r.line as i64)
                .bind(&r.reason)
                .bind(&r.detail)
                .execute()
                .await?;
        }
        let fingerprint = next_fingerprint(&mut tx, import_id, changed, files_sha256).await?;
        tx.query(
            "update imports set finished_at = $1, accepted = $2, rejected = $3, registry_fingerprint = $4
             where import_id = $5",
        )
        .bind(now)
        .bind(accepted as i64)
        .bind(rejects.len() as i64)
        .bind(fingerprint)
        .bind(import_id)
        .execute()
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The registry fingerprint this import leaves (issue 11, point 6: kept incrementally, never
/// computed by reading the registry): the one the import before left when this one wrote nothing,
/// else SHA-256 of that one, this import's id and the SHA-256 of its files. Equal fingerprints
/// therefore mean the same registry; a batch records the fingerprint of the import it read.
async fn next_fingerprint(tx: &mut Tx, import_id: i64, changed: bool, files_sha256: &str) -> StoreResult<String> {
    let before = tx
        .query(
            "select registry_fingerprint from imports where finished_at is not null and import_id < $1
             order by import_id desc limit 1",
        )
        .bind(import_id)
        .fetch_optional()
        .await?;
    let before: String = match before {
        Some(row) => row.get(0)?,
        None => crate::digest::EMPTY_REGISTRY.to_string(),
    };
    if !changed {
        return Ok(before);
    }
    Ok(crate::digest::sha256_hex(format!("{before}\n{import_id}\n{files_sha256}").as_bytes()))
}

fn duplicate(line: u64, kind: FileKind) -> StoreReject {
    StoreReject {
        line,
        code: RejectCode::DuplicateKey,
        detail: format!("the key of this row repeats an earlier row of {kind}; the earlier row was kept"),
    }
}

/// The persons of the chunk that have a registration (for every file but elders.csv).
async fn known_persons(tx: &mut Tx, kind: FileKind, rows: &[(u64, RowOp)]) -> StoreResult<HashSet<String>> {
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
    if let Tx::Postgres(pg) = tx {
        // One array instead of lists of 400 values, each statement parsed and planned anew.
        let found: Vec<String> = sqlx::query_scalar("select distinct id_number from elders where id_number = any($1)")
            .bind(ids)
            .fetch_all(&mut **pg)
            .await?;
        return Ok(found.into_iter().collect());
    }
    for part in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "select distinct id_number from elders where id_number in ({})",
            list_params(tx.dialect(), part.len())
        );
        let q = part.iter().fold(tx.query(&sql), |q, id| q.bind(*id));
        known.extend(q.fetch_scalars::<String>().await?);
    }
    Ok(known)
}

/// The keys of `keys` this import meets for the first time (the others repeat a key of an
/// earlier chunk of the file).
async fn first_met(tx: &mut Tx, kind: FileKind, keys: &[String]) -> StoreResult<HashSet<String>> {
    let sql = format!(
        "insert into import_keys (file, row_key) values {} on conflict (file, row_key) do nothing returning row_key",
        value_rows(tx.dialect(), keys.len(), 2)
    );
    let q = keys.iter().fold(tx.query(&sql), |q, k| q.bind(kind.file_name()).bind(k));
    Ok(q.fetch_scalars::<String>().await?.into_iter().collect())
}

/// Write the pending rows, many per statement: a row repeating a key met earlier in this import is
/// refused; a row identical to the stored one is left alone; the others are written and versioned.
/// Returns whether any row was written.
async fn flush(
    tx: &mut Tx,
    import_id: i64,
    kind: FileKind,
    pending: &mut Vec<(u64, &Row, String)>,
    rejects: &mut Vec<StoreReject>,
) -> StoreResult<bool> {
    if let Tx::Postgres(pg) = tx {
        // PostgreSQL: the whole chunk by COPY and one statement (`pg_import.rs`).
        let (repeated, changed) = super::pg_import::flush(pg, import_id, kind, pending).await?;
        rejects.extend(repeated.into_iter().map(|line| duplicate(line, kind)));
        pending.clear();
        return Ok(changed);
    }
    let mut changed = false;
    let spec = upsert_spec(kind);
    for part in pending.chunks(ROWS_PER_STATEMENT) {
        let keys: Vec<String> = part.iter().map(|(_, _, text)| text.clone()).collect();
        let fresh = first_met(tx, kind, &keys).await?;
        let (part, repeated): (Vec<_>, Vec<_>) = part.iter().partition(|(_, _, text)| fresh.contains(text));
        rejects.extend(repeated.iter().map(|(line, _, _)| duplicate(*line, kind)));
        if part.is_empty() {
            continue;
        }
        let sql = format!("{} values {}{}", spec.head, value_rows(tx.dialect(), part.len(), spec.columns), spec.tail);
        let q = part.iter().fold(tx.query(&sql), |q, (_, row, _)| bind_row(q, row).bind(import_id));
        let written: HashSet<String> = q.fetch_scalars::<String>().await?.into_iter().collect();
        let versions: Vec<(RowKey, Option<&Row>)> = part
            .iter()
            .filter(|(_, _, text)| written.contains(text))
            .map(|(_, row, _)| (row.key(), Some(*row)))
            .collect();
        if versions.len() != written.len() {
            // The database's rendering of a key and `RowKey::text()` disagree: a written row would
            // have no version and its person no mark. Refuse the import rather than lose either.
            return Err(key_mismatch(kind));
        }
        record_versions(tx, import_id, kind, &versions).await?;
        changed |= !versions.is_empty();
    }
    pending.clear();
    Ok(changed)
}

/// Bind a row's values in the order of its table's columns in [`upsert_spec`].
fn bind_row<'q>(q: Query<'q>, row: &'q Row) -> Query<'q> {
    cells(row).into_iter().fold(q, |q, cell| match cell {
        Cell::Text(v) => q.bind(v),
        Cell::Date(v) => q.bind(v),
        Cell::Int(v) => q.bind(v),
        Cell::Bool(v) => q.bind(v),
    })
}

/// Delete the row a `deleted` row names; false when there was none (nothing changes).
async fn delete_key(tx: &mut Tx, key: &RowKey) -> StoreResult<bool> {
    let q = match key {
        RowKey::Elder(id, d) => {
            tx.query("delete from elders where id_number = $1 and district_code = $2").bind(id).bind(d)
        }
        RowKey::Application(id, a, on) => tx
            .query("delete from applications where id_number = $1 and allowance = $2 and applied_on = $3")
            .bind(id)
            .bind(a.as_str())
            .bind(*on),
        RowKey::Assessment(id, on) => {
            tx.query("delete from assessments where id_number = $1 and assessed_on = $2").bind(id).bind(*on)
        }
        RowKey::Certificate(id, c, on) => tx
            .query("delete from disability_certs where id_number = $1 and category = $2 and issued_on = $3")
            .bind(id)
            .bind(c.as_str())
            .bind(*on),
        RowKey::Status(id, s, from) => tx
            .query("delete from household_status where id_number = $1 and status = $2 and valid_from = $3")
            .bind(id)
            .bind(s.as_str())
            .bind(*from),
        RowKey::Exclusion(id, k, from) => tx
            .query("delete from exclusions where id_number = $1 and kind = $2 and valid_from = $3")
            .bind(id)
            .bind(k.as_str())
            .bind(*from),
        RowKey::Suspension(id, r, from) => tx
            .query("delete from suspensions where id_number = $1 and reason = $2 and valid_from = $3")
            .bind(id)
            .bind(r.as_str())
            .bind(*from),
    };
    Ok(q.execute().await? > 0)
}

/// Keep these versions of rows (explain shows records as they stood; a `None` row is a deletion)
/// and mark their persons changed by this import (corrections read only changed persons). Only
/// changes come here: a new key, a row whose content changed, a key deleted.
async fn record_versions(
    tx: &mut Tx,
    import_id: i64,
    kind: FileKind,
    versions: &[(RowKey, Option<&Row>)],
) -> StoreResult<()> {
    for part in versions.chunks(ROWS_PER_STATEMENT) {
        let part: Vec<(&RowKey, Option<String>)> = part
            .iter()
            .map(|(key, row)| (key, row.map(|r| serde_json::to_string(r).expect("row serializes"))))
            .collect();
        let sql = format!(
            "insert into registry_versions (import_id, file, id_number, row_key, deleted, row_json) values {}",
            value_rows(tx.dialect(), part.len(), 6)
        );
        let q = part.iter().fold(tx.query(&sql), |q, (key, json)| {
            q.bind(import_id)
                .bind(kind.file_name())
                .bind(key.id_number())
                .bind(key.text())
                .bind(i32::from(json.is_none()))
                .bind(json.as_deref().unwrap_or_default())
        });
        q.execute().await?;
        let mut ids: Vec<&str> = part.iter().map(|(k, _)| k.id_number()).collect();
        ids.sort_unstable();
        ids.dedup();
        let sql = format!(
            "insert into person_changes (id_number, import_id) values {}
             on conflict (id_number) do update set import_id = excluded.import_id
             where person_changes.import_id <> excluded.import_id",
            value_rows(tx.dialect(), ids.len(), 2)
        );
        ids.iter().fold(tx.query(&sql), |q, id| q.bind(*id).bind(import_id)).execute().await?;
    }
    Ok(())
}
