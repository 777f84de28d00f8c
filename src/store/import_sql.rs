//! What an import writes, table by table, shared by the bound statements (`imports.rs`, SQLite)
//! and PostgreSQL's COPY path (`pg_import.rs`): a registry row's values in its table's column
//! order, and the upsert that writes a row only when its content changed.

use super::error::StoreError;
use crate::registry::rows::{FileKind, Row};
use chrono::NaiveDate;

/// One value of a registry row, typed as its column is.
pub(super) enum Cell<'a> {
    Text(Option<&'a str>),
    Date(Option<NaiveDate>),
    Int(i32),
    Bool(bool),
}

/// A row's values in the order of its table's columns in [`upsert_spec`] (`import_id` aside): the
/// one list both the bound statements and PostgreSQL's COPY (`pg_import.rs`) write from.
pub(super) fn cells(row: &Row) -> Vec<Cell<'_>> {
    use Cell::*;
    let date = |d: NaiveDate| Date(Some(d));
    match row {
        Row::Elder(e) => {
            let r = &e.registration;
            vec![
                Text(Some(&e.id_number)),
                Text(Some(&r.district_code)),
                Text(Some(&r.name)),
                date(e.birth_date),
                Text(Some(&r.street_code)),
                Date(r.hukou_in_date),
                Date(r.hukou_out_date),
                Date(r.death_date),
                Text(r.account_type.map(|a| a.as_str())),
                Text(r.account_no.as_deref()),
            ]
        }
        Row::Application(id, a) => vec![
            Text(Some(id)),
            Text(Some(a.allowance.as_str())),
            date(a.applied_on),
            Text(Some(a.decision.as_str())),
            Date(a.decided_on),
        ],
        Row::Assessment(id, a) => vec![Text(Some(id)), date(a.assessed_on), Text(Some(a.result.as_str()))],
        Row::Certificate(id, c) => vec![
            Text(Some(id)),
            Text(Some(c.category.as_str())),
            Int(c.grade as i32),
            Bool(c.multiple),
            date(c.issued_on),
            Date(c.revoked_on),
        ],
        Row::Status(id, p) => vec![Text(Some(id)), Text(Some(p.kind.as_str())), date(p.valid_from), Date(p.valid_to)],
        Row::Exclusion(id, p) => {
            vec![Text(Some(id)), Text(Some(p.kind.as_str())), date(p.valid_from), Date(p.valid_to)]
        }
        Row::Suspension(id, p) => {
            vec![Text(Some(id)), Text(Some(p.kind.as_str())), date(p.valid_from), Date(p.valid_to)]
        }
    }
}

/// How the rows of one registry file are upserted, many per statement:
/// `{head} values (…), (…) {tail}`. The `where` of the update leaves a row whose content is the
/// stored one untouched, and `returning` names the rows written (`RowKey::text()` of each): new
/// keys and changed rows, the ones that make a version and mark their person.
pub(super) struct UpsertSpec {
    /// The table.
    pub table: &'static str,
    /// Its columns written by an import, `import_id` aside, in the order of [`cells`].
    pub column_list: &'static str,
    /// `insert into table (columns, import_id)`
    pub head: String,
    /// Values per row, `import_id` included.
    pub columns: usize,
    /// `on conflict … do update … where … returning key`
    pub tail: String,
}

/// The upsert of a file's rows.
pub(super) fn upsert_spec(kind: FileKind) -> UpsertSpec {
    use FileKind::*;
    let (table, columns, key, update) = match kind {
        Elders => (
            "elders",
            "id_number, district_code, name, birth_date, street_code, hukou_in_date, hukou_out_date, death_date, account_type, account_no",
            &["id_number", "district_code"][..],
            "name = excluded.name, birth_date = excluded.birth_date, street_code = excluded.street_code, \
             hukou_in_date = excluded.hukou_in_date, hukou_out_date = excluded.hukou_out_date, \
             death_date = excluded.death_date, account_type = excluded.account_type, account_no = excluded.account_no",
        ),
        Applications => (
            "applications",
            "id_number, allowance, applied_on, decision, decided_on",
            &["id_number", "allowance", "applied_on"][..],
            "decision = excluded.decision, decided_on = excluded.decided_on",
        ),
        Assessments => ("assessments", "id_number, assessed_on, result", &["id_number", "assessed_on"][..], "result = excluded.result"),
        DisabilityCerts => (
            "disability_certs",
            "id_number, category, grade, multiple, issued_on, revoked_on",
            &["id_number", "category", "issued_on"][..],
            "grade = excluded.grade, multiple = excluded.multiple, revoked_on = excluded.revoked_on",
        ),
        HouseholdStatus => {
            ("household_status", "id_number, status, valid_from, valid_to", &["id_number", "status", "valid_from"][..], "valid_to = excluded.valid_to")
        }
        Exclusions => ("exclusions", "id_number, kind, valid_from, valid_to", &["id_number", "kind", "valid_from"][..], "valid_to = excluded.valid_to"),
        Suspensions => ("suspensions", "id_number, reason, valid_from, valid_to", &["id_number", "reason", "valid_from"][..], "valid_to = excluded.valid_to"),
    };
    // Dates render as YYYY-MM-DD in both databases, as in RowKey::text().
    let key_text = key.iter().map(|c| format!("cast({table}.{c} as text)")).collect::<Vec<_>>().join(" || '|' || ");
    // Changed: any column other than the key differs (`is distinct from`: nulls compare equal).
    let changed = columns
        .split(", ")
        .filter(|c| !key.contains(c))
        .map(|c| format!("{table}.{c} is distinct from excluded.{c}"))
        .collect::<Vec<_>>()
        .join(" or ");
    UpsertSpec {
        table,
        column_list: columns,
        head: format!("insert into {table} ({columns}, import_id)"),
        columns: columns.split(", ").count() + 1,
        tail: format!(
            " on conflict ({}) do update set {update}, import_id = excluded.import_id \
             where {changed} returning {key_text} as row_key",
            key.join(", ")
        ),
    }
}

/// The keys the database returned are not the keys the import staged (see the callers).
pub(super) fn key_mismatch(kind: FileKind) -> StoreError {
    StoreError::Corrupt(format!(
        "the database returned a key of {kind} that the import did not send; nothing was imported"
    ))
}
