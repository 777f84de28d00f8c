//! What status, explain, verify and the report read, outside any batch transaction: batches,
//! recovery items, a person's postings and records as a batch saw them, the year's figures (F5),
//! held lines waiting (L3) and the ledger's self-check.

use super::batches::{batch_row, BATCH_COLUMNS};
use super::error::{StoreError, StoreResult};
use super::postings::{posting_row, POSTING_COLUMNS};
use super::rows::{BatchRow, NetRow, PendingRow, PostingRow, RecipientsRow, RecoveryRow};
use super::sql::{Pool, Row};
use super::transitions::relying_batches_sql;
use crate::counting_states;
use crate::ledger::{BatchState, COUNTED};
use crate::month::ServiceMonth;
use crate::registry::rows::Row as RegistryRow;
use crate::registry::PersonRecords;

/// Batches, optionally of one district and month, ordered by district, month, kind, seq.
pub(super) async fn batches(
    pool: &Pool,
    district: Option<&str>,
    month: Option<ServiceMonth>,
) -> StoreResult<Vec<BatchRow>> {
    let sql = format!(
        "select {BATCH_COLUMNS} from batches where ($1 = '' or district_code = $1) and ($2 = '' or service_month = $2)
         order by district_code, service_month, kind, seq"
    );
    pool.query(&sql)
        .bind(district.unwrap_or(""))
        .bind(month.map(|m| m.to_string()).unwrap_or_default())
        .fetch_all_as(batch_row)
        .await
}

/// One batch.
pub(super) async fn batch(pool: &Pool, batch_id: &str) -> StoreResult<Option<BatchRow>> {
    let sql = format!("select {BATCH_COLUMNS} from batches where batch_id = $1");
    pool.query(&sql).bind(batch_id).fetch_optional().await?.as_ref().map(batch_row).transpose()
}

/// Counted batches of other districts paying a month that this batch recovers or offsets.
pub(super) async fn relying_batches(pool: &Pool, batch_id: &str) -> StoreResult<Vec<BatchRow>> {
    let sql =
        format!("select {BATCH_COLUMNS} from batches where batch_id in ({}) order by batch_id", relying_batches_sql());
    pool.query(&sql).bind(batch_id).fetch_all_as(batch_row).await
}

/// Recovery items of counted batches, with their decision if any, by payment key (not those a
/// returned payment cancelled: nothing is owed for them).
pub(super) async fn recoveries(pool: &Pool, district: Option<&str>) -> StoreResult<Vec<RecoveryRow>> {
    let sql = format!(
        "select p.payment_key, p.batch_id, p.district_code, p.id_number, p.name, p.allowance, p.service_month,
                -p.amount_fen as amount_fen, p.recovery_reason as reason, d.decision, d.decided_by, d.reason as decision_reason
         from postings p join batches b on b.batch_id = p.batch_id
         left join recovery_decisions d on d.payment_key = p.payment_key
         where p.line_type = 'recovery' and p.cancelled_by is null and b.state in {}
           and ($1 = '' or p.district_code = $1)
         order by p.payment_key",
        counting_states!()
    );
    pool.query(&sql).bind(district.unwrap_or("")).stream_records().await
}

/// Every posting of a person for a month, with its batch's state and registry watermark.
pub(super) async fn postings_of(
    pool: &Pool,
    id_number: &str,
    month: ServiceMonth,
) -> StoreResult<Vec<(PostingRow, BatchState, i64)>> {
    let columns: Vec<String> = POSTING_COLUMNS.iter().map(|c| format!("p.{c}")).collect();
    let sql = format!(
        "select {}, b.state, b.registry_import_id from postings p join batches b on b.batch_id = p.batch_id
         where p.id_number = $1 and p.service_month = $2 order by p.payment_key",
        columns.join(", ")
    );
    let posting = |r: &Row| {
        let state: String = r.get("state")?;
        let state = BatchState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("batch state `{state}`")))?;
        Ok((posting_row(r)?, state, r.get("registry_import_id")?))
    };
    pool.query(&sql).bind(id_number).bind(month.to_string()).fetch_all_as(posting).await
}

/// A person's records as they stood after import `import_id` (registry versions).
pub(super) async fn person_as_of(pool: &Pool, id_number: &str, import_id: i64) -> StoreResult<Option<PersonRecords>> {
    let rows = pool
        .query(
            "select file, row_key, deleted, row_json from registry_versions
             where id_number = $1 and import_id <= $2 order by file, row_key, import_id desc",
        )
        .bind(id_number)
        .bind(import_id)
        .fetch_all_as(|r| {
            Ok(((r.get::<String, _>(0)?, r.get::<String, _>(1)?), r.get::<i32, _>(2)?, r.get::<String, _>(3)?))
        })
        .await?;
    let mut latest = Vec::new();
    let mut last_key: Option<(String, String)> = None;
    for (k, deleted, json) in rows {
        if last_key.as_ref() == Some(&k) {
            continue;
        }
        last_key = Some(k);
        if deleted == 0 {
            latest.push(
                serde_json::from_str::<RegistryRow>(&json)
                    .map_err(|e| StoreError::Corrupt(format!("registry version: {e}")))?,
            );
        }
    }
    Ok(PersonRecords::from_rows(id_number, latest))
}

/// The net paid of every (person, allowance, month) of a district in service months `from..=to`
/// (F5): the lines of exported batches that count (L1), positive nets only; with the street of
/// its lines. `{select}` reads the columns `id_number`, `allowance`, `service_month`,
/// `street_code`, `amount`, `lottery`, `district`.
fn positive_nets(select: &str) -> String {
    format!(
        "with n as (select p.id_number, p.allowance, p.service_month, max(p.street_code) as street_code,
                           sum(p.amount_fen) as amount, sum(p.lottery_fen) as lottery, sum(p.district_fen) as district
                    from postings p join batches b on b.batch_id = p.batch_id
                    left join transfers t on t.transfer_id = p.transfer_id
                    where p.district_code = $1 and p.service_month >= $2 and p.service_month <= $3 and {COUNTED}
                      and b.state = 'exported'
                    group by p.id_number, p.allowance, p.service_month
                    having sum(p.amount_fen) > 0)
         {select}"
    )
}

/// Paid out per allowance, month, street and birth year by a district in a year (F5): the net
/// of the lines of exported batches per person-month, counting only positive nets.
pub(super) async fn net_by_month(pool: &Pool, district: &str, year: i32) -> StoreResult<Vec<NetRow>> {
    let sql = positive_nets(
        "select allowance, service_month, street_code, substr(id_number, 7, 4) as birth_year,
                count(*) as person_times, cast(sum(amount) as bigint) as amount_fen,
                cast(sum(lottery) as bigint) as lottery_fen, cast(sum(district) as bigint) as district_fen
         from n
         group by allowance, service_month, street_code, substr(id_number, 7, 4)
         order by allowance, service_month, street_code, birth_year",
    );
    pool.query(&sql).bind(district).bind(format!("{year:04}-01")).bind(format!("{year:04}-12")).fetch_records().await
}

/// Distinct persons paid by a district in service months `from..=to` (F5's positive nets), per
/// street (`birth_year` empty) and per birth year (`street_code` empty).
pub(super) async fn recipients(
    pool: &Pool,
    district: &str,
    from: ServiceMonth,
    to: ServiceMonth,
) -> StoreResult<Vec<RecipientsRow>> {
    let sql = positive_nets(
        "select street_code, '' as birth_year, count(distinct id_number) as recipients from n group by street_code
         union all
         select '' as street_code, substr(id_number, 7, 4) as birth_year, count(distinct id_number) as recipients
         from n group by substr(id_number, 7, 4)
         order by street_code, birth_year",
    );
    pool.query(&sql).bind(district).bind(from.to_string()).bind(to.to_string()).fetch_records().await
}

/// Lines (not held) of the district's computed or approved batches for service months of `year`,
/// per batch, allowance and month.
pub(super) async fn pending_by_batch(pool: &Pool, district: &str, year: i32) -> StoreResult<Vec<PendingRow>> {
    pool.query(
        "select b.batch_id, b.state, p.allowance, p.service_month, count(*) as lines,
                    cast(sum(p.amount_fen) as bigint) as amount_fen, cast(sum(p.lottery_fen) as bigint) as lottery_fen,
                    cast(sum(p.district_fen) as bigint) as district_fen
             from postings p join batches b on b.batch_id = p.batch_id
             where p.district_code = $1 and p.service_month >= $2 and p.service_month <= $3
               and p.held_reason is null and b.state in ('computed', 'approved')
             group by b.batch_id, b.state, p.allowance, p.service_month
             order by b.batch_id, p.allowance, p.service_month",
    )
    .bind(district)
    .bind(format!("{year:04}-01"))
    .bind(format!("{year:04}-12"))
    .fetch_records()
    .await
}

/// Districts and years of service months with postings in counted batches (F3).
pub(super) async fn paid_years(pool: &Pool) -> StoreResult<Vec<(String, i32)>> {
    let sql = format!(
        "select distinct p.district_code, substr(p.service_month, 1, 4)
         from postings p join batches b on b.batch_id = p.batch_id
         where b.state in {}
         order by 1, 2",
        counting_states!()
    );
    pool.query(&sql)
        .fetch_all_as(|r| {
            let (district, year): (String, String) = (r.get(0)?, r.get(1)?);
            let year = year.parse().map_err(|_| StoreError::Corrupt(format!("service month year `{year}`")))?;
            Ok((district, year))
        })
        .await
}

/// Sum of the balances table and of counted postings, fen (a self-check: they must agree).
pub(super) async fn ledger_check(pool: &Pool) -> StoreResult<(i64, i64)> {
    let balances: Option<i64> = pool.query("select cast(sum(net_fen) as bigint) from balances").fetch_scalar().await?;
    let sql = format!(
        "select cast(sum(p.amount_fen) as bigint) from postings p join batches b on b.batch_id = p.batch_id
         left join transfers t on t.transfer_id = p.transfer_id where {COUNTED}"
    );
    let postings: Option<i64> = pool.query(&sql).fetch_scalar().await?;
    Ok((balances.unwrap_or(0), postings.unwrap_or(0)))
}
