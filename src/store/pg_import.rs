//! PostgreSQL's bulk path for an import (issue 11): a chunk's validated rows travel by `COPY` into
//! a temporary staging table shaped like the registry table, and one statement then does what the
//! bound statements do row group by row group on SQLite (`imports.rs`): meets each key (a key met
//! before in this import is a duplicate), upserts the rows whose content changed, keeps their
//! versions and marks their persons. A 2,000-row chunk costs one COPY and two statements instead
//! of a dozen statements of 400 rows, each parsed and planned.

use super::error::StoreResult;
use super::imports::{cells, upsert_spec, Cell};
use crate::registry::rows::{FileKind, Row};
use chrono::Datelike;
use sqlx::{Postgres, Transaction};
use std::fmt::Write as _;

/// Stage `rows` (line, row, key text) of one file and write them; returns the lines whose key
/// this import met before (duplicates: the earlier row was kept).
pub(super) async fn flush(
    tx: &mut Transaction<'static, Postgres>,
    import_id: i64,
    kind: FileKind,
    rows: &[(u64, &Row, String)],
) -> StoreResult<Vec<u64>> {
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

    let mut copy = tx
        .copy_in_raw(&format!("copy {stage} (line, row_key, row_json, {}, import_id) from stdin", spec.column_list))
        .await?;
    copy.send(copy_text(import_id, rows).into_bytes()).await?;
    copy.finish().await?;

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
         select line from {stage} where row_key not in (select row_key from fresh) order by line",
        head = spec.head,
        columns = spec.column_list,
        tail = spec.tail,
    );
    let repeated: Vec<i64> =
        sqlx::query_scalar(&sql).bind(kind.file_name()).bind(import_id).fetch_all(&mut **tx).await?;
    Ok(repeated.into_iter().map(|l| l as u64).collect())
}

/// The rows in COPY's text format: tab-separated, `\N` for null, backslash escapes.
fn copy_text(import_id: i64, rows: &[(u64, &Row, String)]) -> String {
    let mut out = String::with_capacity(rows.len() * 256);
    for (line, row, key) in rows {
        let json = serde_json::to_string(row).expect("row serializes");
        let _ = write!(out, "{line}\t");
        push_escaped(&mut out, key);
        out.push('\t');
        push_escaped(&mut out, &json);
        for cell in cells(row) {
            out.push('\t');
            match cell {
                Cell::Text(Some(s)) => push_escaped(&mut out, s),
                Cell::Date(Some(d)) => {
                    let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
                }
                Cell::Text(None) | Cell::Date(None) => out.push_str("\\N"),
                Cell::Int(i) => {
                    let _ = write!(out, "{i}");
                }
                Cell::Bool(b) => out.push(if b { 't' } else { 'f' }),
            }
        }
        let _ = writeln!(out, "\t{import_id}");
    }
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_read_as_structure() {
        let mut out = String::new();
        push_escaped(&mut out, "a\tb\\c\nd\re");
        assert_eq!(out, "a\\tb\\\\c\\nd\\re");
    }
}
