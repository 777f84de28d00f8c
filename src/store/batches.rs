//! A district's batch as stored, and what its transaction ([`SqlBatch`]) reads and writes before
//! and after its postings: the district's batches, the pages of persons to settle with their
//! history (L1), the lottery already drawn (F3), the batch row and its totals.

use super::error::{StoreError, StoreResult};
use super::registry::records_of;
use super::rows::{BatchRow, BatchTotals, HistoryRow, NewBatch};
use super::sql::{list_params, Conn, Pool, Row, Tx};
use crate::counting_states;
use crate::ledger::{BatchKind, BatchState, COUNTED};
use crate::registry::PersonRecords;

/// A batch transaction (holds the district's run lock until commit or rollback).
pub struct SqlBatch {
    pub(super) tx: Tx,
    /// For reads that must see past the transaction's snapshot (the audit chain's head).
    pub(super) pool: Pool,
}

/// Columns of `batches` as [`batch_row`] reads them.
pub(super) const BATCH_COLUMNS: &str =
    "batch_id, district_code, service_month, kind, seq, state, run_by, approved_by, \
     policy_version, registry_fingerprint, transfer_count, control_sum_fen, lottery_fen, district_fen, held_fen, \
     recovery_fen, summary, state_reason, registry_import_id, computed_at";

/// A stored batch, its codes read back into the core's types.
pub(super) fn batch_row(r: &Row) -> StoreResult<BatchRow> {
    let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("batch {what} `{v}`"));
    let month: String = r.get("service_month")?;
    let kind: String = r.get("kind")?;
    let state: String = r.get("state")?;
    let seq: i32 = r.get("seq")?;
    Ok(BatchRow {
        batch_id: r.get("batch_id")?,
        district_code: r.get("district_code")?,
        service_month: month.parse().map_err(|_| corrupt("month", &month))?,
        kind: match kind.as_str() {
            "regular" => BatchKind::Regular,
            "correction" => BatchKind::Correction,
            _ => return Err(corrupt("kind", &kind)),
        },
        seq: u32::try_from(seq).map_err(|_| corrupt("seq", &seq.to_string()))?,
        state: BatchState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        run_by: r.get("run_by")?,
        approved_by: r.get("approved_by")?,
        policy_version: r.get("policy_version")?,
        registry_fingerprint: r.get("registry_fingerprint")?,
        transfer_count: r.get("transfer_count")?,
        control_sum_fen: r.get("control_sum_fen")?,
        lottery_fen: r.get("lottery_fen")?,
        district_fen: r.get("district_fen")?,
        held_fen: r.get("held_fen")?,
        recovery_fen: r.get("recovery_fen")?,
        summary: r.get("summary")?,
        state_reason: r.get("state_reason")?,
        registry_import_id: r.get("registry_import_id")?,
        computed_at: r.get("computed_at")?,
    })
}

/// Every batch of the district, oldest first.
pub(super) async fn district_batches(tx: &mut Tx, district: &str) -> StoreResult<Vec<BatchRow>> {
    let sql = format!("select {BATCH_COLUMNS} from batches where district_code = $1 order by service_month, kind, seq");
    tx.query(&sql).bind(district).fetch_all_as(batch_row).await
}

/// The next page of persons the district's batch must consider (registered there, or paid by it
/// before), after `after` in byte order, with their records.
pub(super) async fn persons_page(
    tx: &mut Tx,
    district: &str,
    after: &str,
    limit: i64,
) -> StoreResult<Vec<PersonRecords>> {
    let ids: Vec<String> = tx
        .query(
            // Each side is an index range scan cut at the page size, so a page costs the same at
            // the end of the registry as at its start.
            "select id_number from (
                 select id_number from (select id_number from elders
                                        where district_code = $1 and id_number > $2
                                        order by id_number limit $3) e
                 union
                 select id_number from (select distinct id_number from postings
                                        where district_code = $1 and id_number > $2
                                        order by id_number limit $3) p
             ) page order by id_number limit $3",
        )
        .bind(district)
        .bind(after)
        .bind(limit)
        .fetch_scalars()
        .await?;
    records_of(&mut Conn::Tx(tx), ids).await
}

/// Every posting of these persons, ordered by person, allowance, month, adjustment: whether it
/// counts in the net paid (L1) and whether it is a held line of a batch that counts (L3).
pub(super) async fn history(tx: &mut Tx, ids: &[String]) -> StoreResult<Vec<HistoryRow>> {
    let sql = format!(
        "select p.id_number, p.allowance, p.service_month, p.district_code, p.amount_fen, p.lottery_fen,
                p.district_fen, p.adjustment, p.tier,
                case when {COUNTED} then true else false end as counted,
                case when p.held_reason is not null and b.state in {} then true else false end as held
         from postings p join batches b on b.batch_id = p.batch_id
         left join transfers t on t.transfer_id = p.transfer_id
         where p.id_number in ({})
         order by p.id_number, p.allowance, p.service_month, p.adjustment",
        counting_states!(),
        list_params(tx.dialect(), ids.len())
    );
    ids.iter().fold(tx.query(&sql), |q, id| q.bind(id)).fetch_all_as(history_row).await
}

fn history_row(r: &Row) -> StoreResult<HistoryRow> {
    let allowance: String = r.get("allowance")?;
    let month: String = r.get("service_month")?;
    Ok(HistoryRow {
        id_number: r.get("id_number")?,
        allowance: allowance.parse().map_err(|_| StoreError::Corrupt(format!("posting allowance `{allowance}`")))?,
        service_month: month.parse().map_err(|_| StoreError::Corrupt(format!("posting month `{month}`")))?,
        district_code: r.get("district_code")?,
        amount_fen: r.get("amount_fen")?,
        lottery_fen: r.get("lottery_fen")?,
        district_fen: r.get("district_fen")?,
        adjustment: r.get("adjustment")?,
        tier: r.get("tier")?,
        counted: r.get("counted")?,
        held: r.get("held")?,
    })
}

/// Lottery share already counted for the district's service months of `year` (F3).
pub(super) async fn lottery_used(tx: &mut Tx, district: &str, year: i32) -> StoreResult<i64> {
    let sql = format!(
        "select cast(coalesce(sum(p.lottery_fen), 0) as bigint) from postings p join batches b on b.batch_id = p.batch_id
         left join transfers t on t.transfer_id = p.transfer_id
         where p.district_code = $1 and p.service_month >= $2 and p.service_month <= $3 and {COUNTED}"
    );
    let used: Option<i64> = tx
        .query(&sql)
        .bind(district)
        .bind(format!("{year:04}-01"))
        .bind(format!("{year:04}-12"))
        .fetch_scalar()
        .await?;
    Ok(used.unwrap_or(0))
}

/// Create the batch row: state computed, zero totals, the registry watermark (the last finished
/// import) with the registry fingerprint it left, and the last audit entry its computation sees.
/// Returns the registry fingerprint.
pub(super) async fn insert_batch(tx: &mut Tx, b: &NewBatch) -> StoreResult<String> {
    tx.query(
        "insert into batches (batch_id, district_code, service_month, kind, seq, state, run_by, computed_at,
                              policy_version, registry_fingerprint, state_reason, registry_import_id,
                              seen_audit_seq)
         select $1, $2, $3, $4, $5, 'computed', $6, $7, $8, coalesce(i.registry_fingerprint, $10), $9,
                coalesce(i.import_id, 0), (select coalesce(max(seq), 0) from audit_log)
         from (select 1 as one) x
         left join (select import_id, registry_fingerprint from imports where finished_at is not null
                    order by import_id desc limit 1) i on true
         returning registry_fingerprint",
    )
    .bind(&b.batch_id)
    .bind(&b.district_code)
    .bind(b.service_month.to_string())
    .bind(b.kind.as_str())
    .bind(b.seq as i64)
    .bind(&b.run_by)
    .bind(b.computed_at)
    .bind(&b.policy_version)
    .bind(&b.reason)
    .bind(crate::digest::EMPTY_REGISTRY)
    .fetch_scalar()
    .await
}

/// Write the batch's totals.
pub(super) async fn finish_batch(tx: &mut Tx, batch_id: &str, t: &BatchTotals) -> StoreResult<()> {
    tx.query(
        "update batches set transfer_count = $1, control_sum_fen = $2, lottery_fen = $3, district_fen = $4,
                held_fen = $5, recovery_fen = $6, registry_fingerprint = $7, summary = $8
         where batch_id = $9",
    )
    .bind(t.transfer_count)
    .bind(t.control_sum_fen)
    .bind(t.lottery_fen)
    .bind(t.district_fen)
    .bind(t.held_fen)
    .bind(t.recovery_fen)
    .bind(&t.registry_fingerprint)
    .bind(&t.summary)
    .bind(batch_id)
    .execute()
    .await?;
    Ok(())
}
