//! Postings and transfers, and the balances that hold the ledger's bound (L4): a batch's rows
//! written many per statement, the balances kept by the same transaction (the database refuses a
//! net paid outside [0, top rate]), and a batch's rows read back for its files.

use super::error::{StoreError, StoreResult};
use super::pg_copy::{copy_in, CopyText};
use super::rows::{PostingRow, TransferRow};
use super::sql::{value_rows, Conn, Row, Tx};
use crate::idcard::mask_key;
use crate::ledger::{HoldReason, LineType, COUNTED};

/// Rows per multi-row INSERT on SQLite (19 columns × 500 stays below its 32,766 parameters): a
/// page of persons in a few statements. PostgreSQL writes a page by COPY (`pg_copy.rs`).
const ROWS_PER_INSERT: usize = 500;

/// Columns of `postings` in the order the insert writes them.
pub(super) const POSTING_COLUMNS: [&str; 19] = [
    "payment_key",
    "batch_id",
    "district_code",
    "id_number",
    "allowance",
    "service_month",
    "adjustment",
    "line_type",
    "tier",
    "amount_fen",
    "lottery_fen",
    "district_fen",
    "held_reason",
    "transfer_id",
    "name",
    "account_type",
    "account_no",
    "street_code",
    "recovery_reason",
];

/// The highest monthly rate of each allowance (L4's bound), `(allowance, fen)`.
fn ceiling_of(ceilings: &[(String, i64)], allowance: &str) -> i64 {
    ceilings.iter().find(|(a, _)| a == allowance).map(|(_, c)| *c).unwrap_or(0)
}

/// Store postings and, with `update_balances`, add the counted ones (not held) to the balances.
pub(super) async fn insert_postings(
    tx: &mut Tx,
    rows: &[PostingRow],
    ceilings: &[(String, i64)],
    update_balances: bool,
) -> StoreResult<()> {
    match &mut *tx {
        // PostgreSQL: the page's postings in one COPY.
        Tx::Postgres(pg) => {
            let statement = format!("copy postings ({}) from stdin", POSTING_COLUMNS.join(", "));
            copy_in(pg, &statement, posting_copy(rows)).await?;
        }
        // Many rows per statement: a batch writes tens of thousands of postings.
        Tx::Sqlite(_) => {
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let sql = format!(
                    "insert into postings ({}) values {}",
                    POSTING_COLUMNS.join(", "),
                    value_rows(tx.dialect(), chunk.len(), POSTING_COLUMNS.len())
                );
                let q = chunk.iter().flat_map(posting_fields).fold(tx.query(&sql), |q, field| match field {
                    Field::Text(v) => q.bind(v),
                    Field::Int(v) => q.bind(v),
                    Field::Fen(v) => q.bind(v),
                });
                q.execute().await?;
            }
        }
    }
    if update_balances {
        add_to_balances(tx, rows, ceilings).await?;
    }
    Ok(())
}

/// L4 balances: add each counted posting to its key's net paid. A batch has at most one positive
/// posting per key, so positive ones go in many-row upserts. Negative ones update first and
/// insert when absent: SQLite checks a CHECK constraint on the row an upsert proposes before it
/// sees the conflict, so a negative candidate row could never reach `do update`.
async fn add_to_balances(tx: &mut Tx, rows: &[PostingRow], ceilings: &[(String, i64)]) -> StoreResult<()> {
    let counted = rows.iter().filter(|p| p.held_reason.is_none());
    let (positive, negative): (Vec<_>, Vec<_>) = counted.partition(|p| p.amount_fen > 0);
    match &mut *tx {
        Tx::Postgres(pg) => add_positive_pg(pg, &positive, ceilings).await?,
        Tx::Sqlite(_) => add_positive(tx, &positive, ceilings).await?,
    }
    for p in negative {
        let bound = |e| StoreError::bound_or_database(e, || mask_key(&p.payment_key));
        let ceiling = ceiling_of(ceilings, &p.allowance);
        let updated = tx
            .query(
                "update balances set net_fen = net_fen + $1,
                        ceiling_fen = case when $5 > ceiling_fen then $5 else ceiling_fen end
                 where id_number = $2 and allowance = $3 and service_month = $4",
            )
            .bind(p.amount_fen)
            .bind(&p.id_number)
            .bind(&p.allowance)
            .bind(&p.service_month)
            .bind(ceiling)
            .execute()
            .await
            .map_err(bound)?;
        if updated == 0 {
            tx.query(
                "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen)
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(&p.id_number)
            .bind(&p.allowance)
            .bind(&p.service_month)
            .bind(p.amount_fen)
            .bind(ceiling)
            .execute()
            .await
            .map_err(bound)?;
        }
    }
    Ok(())
}

/// How a positive posting adds to its key's balance: L4's bound is the highest monthly rate in
/// any policy version loaded, so a version loaded later can raise it for months paid before.
const ADD_TO_BALANCE: &str = "on conflict (id_number, allowance, service_month) do update
     set net_fen = balances.net_fen + excluded.net_fen,
         ceiling_fen = case when excluded.ceiling_fen > balances.ceiling_fen
                            then excluded.ceiling_fen else balances.ceiling_fen end";

/// Positive postings into the balances, many rows per statement (a batch has at most one
/// positive posting per key).
async fn add_positive(tx: &mut Tx, positive: &[&PostingRow], ceilings: &[(String, i64)]) -> StoreResult<()> {
    for chunk in positive.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen) values {} {ADD_TO_BALANCE}",
            value_rows(tx.dialect(), chunk.len(), 5)
        );
        let q = chunk.iter().fold(tx.query(&sql), |q, p| {
            q.bind(&p.id_number)
                .bind(&p.allowance)
                .bind(&p.service_month)
                .bind(p.amount_fen)
                .bind(ceiling_of(ceilings, &p.allowance))
        });
        q.execute().await.map_err(|e| bound_error(e, chunk))?;
    }
    Ok(())
}

/// [`add_positive`] on PostgreSQL: the page's positive postings as five arrays, one statement.
async fn add_positive_pg(
    pg: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    positive: &[&PostingRow],
    ceilings: &[(String, i64)],
) -> StoreResult<()> {
    if positive.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[]) {ADD_TO_BALANCE}"
    );
    let texts = |f: fn(&PostingRow) -> &str| positive.iter().map(|p| f(p)).collect::<Vec<&str>>();
    sqlx::query(&sql)
        .bind(texts(|p| &p.id_number))
        .bind(texts(|p| &p.allowance))
        .bind(texts(|p| &p.service_month))
        .bind(positive.iter().map(|p| p.amount_fen).collect::<Vec<i64>>())
        .bind(positive.iter().map(|p| ceiling_of(ceilings, &p.allowance)).collect::<Vec<i64>>())
        .execute(&mut **pg)
        .await
        .map_err(|e| bound_error(e, positive))?;
    Ok(())
}

/// A refused balance names the first posting of the statement (masked) and how many followed.
fn bound_error(e: sqlx::Error, rows: &[&PostingRow]) -> StoreError {
    let first = rows.first().map(|p| mask_key(&p.payment_key)).unwrap_or_default();
    StoreError::bound_or_database(e, || format!("{first} or one of the {} after it", rows.len().saturating_sub(1)))
}

/// One value of a posting, typed as its column.
enum Field<'a> {
    Text(Option<&'a str>),
    Int(i32),
    Fen(i64),
}

/// A posting's values in the order of [`POSTING_COLUMNS`]: the one list both the bound statements
/// (SQLite) and COPY (PostgreSQL) write from.
fn posting_fields(p: &PostingRow) -> [Field<'_>; 19] {
    use Field::*;
    fn text(s: &str) -> Field<'_> {
        Text(Some(s))
    }
    [
        text(&p.payment_key),
        text(&p.batch_id),
        text(&p.district_code),
        text(&p.id_number),
        text(&p.allowance),
        text(&p.service_month),
        Int(p.adjustment),
        text(p.line_type.as_str()),
        text(&p.tier),
        Fen(p.amount_fen),
        Fen(p.lottery_fen),
        Fen(p.district_fen),
        Text(p.held_reason.map(HoldReason::as_str)),
        Text(p.transfer_id.as_deref()),
        text(&p.name),
        Text(p.account_type.as_deref()),
        Text(p.account_no.as_deref()),
        text(&p.street_code),
        Text(p.recovery_reason.as_deref()),
    ]
}

/// Postings in COPY's text format.
fn posting_copy(rows: &[PostingRow]) -> CopyText {
    let mut out = CopyText::with_capacity(rows.len() * 200);
    for p in rows {
        for field in posting_fields(p) {
            match field {
                Field::Text(v) => out.opt_text(v),
                Field::Int(v) => out.int(i64::from(v)),
                Field::Fen(v) => out.int(v),
            };
        }
        out.end_row();
    }
    out
}

/// Store transfers.
pub(super) async fn insert_transfers(tx: &mut Tx, rows: &[TransferRow]) -> StoreResult<()> {
    if let Tx::Postgres(pg) = tx {
        let mut out = CopyText::with_capacity(rows.len() * 120);
        for t in rows {
            out.text(&t.transfer_id)
                .text(&t.batch_id)
                .text(&t.id_number)
                .text(&t.allowance)
                .text(&t.name)
                .opt_text(t.account_type.as_deref())
                .text(&t.account_no)
                .int(t.amount_fen)
                .end_row();
        }
        let statement =
            "copy transfers (transfer_id, batch_id, id_number, allowance, name, account_type, account_no, amount_fen) from stdin";
        return copy_in(pg, statement, out).await;
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "insert into transfers (transfer_id, batch_id, id_number, allowance, name, account_type, account_no, amount_fen)
             values {}",
            value_rows(tx.dialect(), chunk.len(), 8)
        );
        let q = chunk.iter().fold(tx.query(&sql), |q, t| {
            q.bind(&t.transfer_id)
                .bind(&t.batch_id)
                .bind(&t.id_number)
                .bind(&t.allowance)
                .bind(&t.name)
                .bind(&t.account_type)
                .bind(&t.account_no)
                .bind(t.amount_fen)
        });
        q.execute().await?;
    }
    Ok(())
}

/// Take a batch's counted postings out of the balances (it is discarded).
pub(super) async fn unpost_batch(tx: &mut Tx, batch_id: &str) -> StoreResult<()> {
    tx.query(
        "update balances set net_fen = net_fen - (
             select cast(coalesce(sum(p.amount_fen), 0) as bigint) from postings p
             left join transfers t on t.transfer_id = p.transfer_id
             where p.batch_id = $1 and p.held_reason is null
               and (t.status is null or t.status not in ('failed', 'returned'))
               and p.id_number = balances.id_number and p.allowance = balances.allowance
               and p.service_month = balances.service_month)
         where exists (select 1 from postings p where p.batch_id = $1 and p.id_number = balances.id_number
                       and p.allowance = balances.allowance and p.service_month = balances.service_month)",
    )
    .bind(batch_id)
    .execute()
    .await
    .map_err(|e| StoreError::bound_or_database(e, || format!("the postings of batch {batch_id}")))?;
    Ok(())
}

/// Recompute the balance of every key these batches posted from the counted postings (L1) and
/// check it against the bound (L4) once, on the final state. With `rerun_persons_only`, only the
/// keys of the rerun set's persons: carried-over postings counted before and count still.
pub(super) async fn refresh_balances(
    tx: &mut Tx,
    batch_ids: &[&str],
    ceilings: &[(String, i64)],
    rerun_persons_only: bool,
) -> StoreResult<()> {
    let only = if rerun_persons_only { " and id_number in (select id_number from rerun_persons)" } else { "" };
    // Each key's net recomputed from the counted postings (L1) in one statement: the bound (L4)
    // is checked on the final state of the key, never on a state halfway through the rerun.
    let sql = format!(
        "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen)
         select k.id_number, k.allowance, k.service_month,
                coalesce((select cast(sum(p.amount_fen) as bigint) from postings p
                          join batches b on b.batch_id = p.batch_id
                          left join transfers t on t.transfer_id = p.transfer_id
                          where p.id_number = k.id_number and p.allowance = k.allowance
                            and p.service_month = k.service_month and {COUNTED}), 0),
                case k.allowance when 'longevity' then $2 when 'care' then $3 else $4 end
         from (select distinct id_number, allowance, service_month from postings where batch_id = $1{only}) k
         where true
         on conflict (id_number, allowance, service_month) do update
         set net_fen = excluded.net_fen,
             ceiling_fen = case when excluded.ceiling_fen > balances.ceiling_fen
                                then excluded.ceiling_fen else balances.ceiling_fen end"
    );
    for batch_id in batch_ids {
        tx.query(&sql)
            .bind(*batch_id)
            .bind(ceiling_of(ceilings, "longevity"))
            .bind(ceiling_of(ceilings, "care"))
            .bind(ceiling_of(ceilings, "hardship"))
            .execute()
            .await
            .map_err(|e| StoreError::bound_or_database(e, || format!("a posting of batch {batch_id}")))?;
    }
    Ok(())
}

/// A batch's transfers by transfer id (`$1`: the batch): the order of `transfers.csv` and pain.001.
pub(super) const BATCH_TRANSFERS: &str =
    "select transfer_id, batch_id, id_number, allowance, name, account_type, account_no, amount_fen
     from transfers where batch_id = $1 order by transfer_id";

/// A batch's transfers, by transfer id.
pub(super) async fn batch_transfers(conn: &mut Conn<'_>, batch_id: &str) -> StoreResult<Vec<TransferRow>> {
    conn.query(BATCH_TRANSFERS).bind(batch_id).stream_records().await
}

/// A batch's postings, by payment key.
pub(super) async fn batch_postings(conn: &mut Conn<'_>, batch_id: &str) -> StoreResult<Vec<PostingRow>> {
    let sql = format!("select {} from postings where batch_id = $1 order by payment_key", POSTING_COLUMNS.join(", "));
    conn.query(&sql).bind(batch_id).stream_all_as(posting_row).await
}

/// A stored posting, its line type and hold reason read back into the core's types.
pub(super) fn posting_row(r: &Row) -> StoreResult<PostingRow> {
    let line_type: String = r.get("line_type")?;
    let held_reason: Option<String> = r.get("held_reason")?;
    Ok(PostingRow {
        payment_key: r.get("payment_key")?,
        batch_id: r.get("batch_id")?,
        district_code: r.get("district_code")?,
        id_number: r.get("id_number")?,
        allowance: r.get("allowance")?,
        service_month: r.get("service_month")?,
        adjustment: r.get("adjustment")?,
        line_type: LineType::parse(&line_type)
            .ok_or_else(|| StoreError::Corrupt(format!("posting line type `{line_type}`")))?,
        tier: r.get("tier")?,
        amount_fen: r.get("amount_fen")?,
        lottery_fen: r.get("lottery_fen")?,
        district_fen: r.get("district_fen")?,
        held_reason: held_reason
            .map(|h| HoldReason::parse(&h).ok_or_else(|| StoreError::Corrupt(format!("posting hold reason `{h}`"))))
            .transpose()?,
        transfer_id: r.get("transfer_id")?,
        name: r.get("name")?,
        account_type: r.get("account_type")?,
        account_no: r.get("account_no")?,
        street_code: r.get("street_code")?,
        recovery_reason: r.get("recovery_reason")?,
    })
}
