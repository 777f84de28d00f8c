//! PostgreSQL's bulk path for an import (issue 11): a chunk's validated rows travel by `COPY` into
//! a temporary staging table shaped like the registry table, and one statement then does what the
//! bound statements do row group by row group on SQLite (`imports.rs`): meets each key (a key met
//! before in this import is a duplicate), upserts the rows whose content changed, keeps their
//! versions and marks their persons. A 2,000-row chunk costs one COPY and two statements instead
//! of a dozen statements of 400 rows, each parsed and planned.

use super::error::StoreResult;
use super::import_sql::{cells, key_mismatch, upsert_spec, Cell};
use super::pg_copy::{copy_in, CopyText};
use crate::registry::rows::{FileKind, Row};
use sqlx::{Postgres, Transaction};

/// Stage `rows` (line, row, key text) of one file and write them; returns the lines whose key
/// this import met before (duplicates: the earlier row was kept), and whether a row was written. A written row whose key the
/// database renders otherwise than `RowKey::text()` refuses the import (it would go unversioned).
pub(super) async fn flush(
    tx: &mut Transaction<'static, Postgres>,
    import_id: i64,
    kind: FileKind,
    rows: &[(u64, &Row, String)],
) -> StoreResult<(Vec<u64>, bool)> {
    let spec = upsert_spec(kind);
    let stage = format!("import_stage_{}", spec.table);
    sqlx::query(&format!(
        "create temporary table if not exists {stage} (line bigint not null, row_key text collate \"C\" not null, \
         row_json text not null, like {table}) on commit drop",
        table = spec.table
    ))
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!("truncate {stage}")).execute(&mut **tx).await?;

    let statement = format!("copy {stage} (line, row_key, row_json, {}, import_id) from stdin", spec.column_list);
    copy_in(tx, &statement, copy_text(import_id, rows)).await?;

    let sql = format!(
        "with fresh as (
             insert into import_keys (file, row_key) select $1, row_key from {stage}
             on conflict (file, row_key) do nothing returning row_key),
         written as (
             {head} select {columns}, import_id from {stage} where row_key in (select row_key from fresh)
             {tail}),
         versions as (
             insert into registry_versions (import_id, file, id_number, row_key, deleted, row_json)
             select $2, $1, s.id_number, s.row_key, 0, s.row_json from {stage} s join written w on w.row_key = s.row_key
             returning id_number),
         marked as (
             insert into person_changes (id_number, import_id) select distinct id_number, $2 from versions
             on conflict (id_number) do update set import_id = excluded.import_id
             where person_changes.import_id <> excluded.import_id)
         select line from {stage} where row_key not in (select row_key from fresh)
         union all
         select -1 where (select count(*) from written) <> (select count(*) from versions)
         union all
         select -2 where exists (select 1 from versions)
         order by 1",
        head = spec.head,
        columns = spec.column_list,
        tail = spec.tail,
    );
    let repeated: Vec<i64> =
        sqlx::query_scalar(&sql).bind(kind.file_name()).bind(import_id).fetch_all(&mut **tx).await?;
    // -2: a row was written; -1: a written row whose returned key matched no staged row (it would
    // have no version).
    if repeated.contains(&-1) {
        return Err(key_mismatch(kind));
    }
    let written = repeated.first() == Some(&-2);
    Ok((repeated.into_iter().filter(|l| *l >= 0).map(|l| l as u64).collect(), written))
}

/// The staged rows: line, key, the row's JSON (its version), its cells, the import.
fn copy_text(import_id: i64, rows: &[(u64, &Row, String)]) -> CopyText {
    let mut out = CopyText::with_capacity(rows.len() * 256);
    for (line, row, key) in rows {
        let json = serde_json::to_string(row).expect("row serializes");
        out.int(*line as i64).text(key).text(&json);
        for cell in cells(row) {
            match cell {
                Cell::Text(s) => out.opt_text(s),
                Cell::Date(d) => out.date(d),
                Cell::Int(i) => out.int(i64::from(i)),
                Cell::Bool(b) => out.bool(b),
            };
        }
        out.int(import_id).end_row();
    }
    out
}
