//! What `verify --ledger` reads to check that nothing is paid twice and nothing is lost
//! ([`crate::ledger::invariant`]): every person the engine knows, page by page with their records;
//! per (person, allowance, month) the counted lines and recovery items; per district how far its
//! batches settled and what they saw; and which persons changed since.

use super::error::{StoreError, StoreResult};
use super::registry::records_of;
use super::rows::{DistrictSettled, IdRange, KeyPaid};
use super::sql::{Conn, Pool};
use crate::counting_states;
use crate::ledger::COUNTED;
use crate::registry::PersonRecords;

/// The next page of every person registered or posted, after `after` in byte order.
pub(super) async fn persons_page(pool: &Pool, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>> {
    let ids: Vec<String> = pool
        .query(
            "select id_number from (
                 select id_number from (select distinct id_number from elders where id_number > $1
                                        order by id_number limit $2) e
                 union
                 select id_number from (select distinct id_number from postings where id_number > $1
                                        order by id_number limit $2) p
             ) page order by id_number limit $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_scalars()
        .await?;
    records_of(&mut Conn::Pool(pool), ids).await
}

/// Per (person, allowance, month) of the persons in `ids` with a counted posting: counted lines
/// and recovery items, fen.
pub(super) async fn keys_paid(pool: &Pool, ids: IdRange<'_>) -> StoreResult<Vec<KeyPaid>> {
    let sql = format!(
        "select p.id_number, p.allowance, p.service_month,
                cast(sum(case when p.line_type = 'recovery' then 0 else p.amount_fen end) as bigint) as paid_fen,
                cast(sum(case when p.line_type = 'recovery' then p.amount_fen else 0 end) as bigint) as recovered_fen
         from postings p join batches b on b.batch_id = p.batch_id
         left join transfers t on t.transfer_id = p.transfer_id
         where {COUNTED} and {range}
         group by p.id_number, p.allowance, p.service_month",
        range = ids.condition("p.id_number")
    );
    pool.query(&sql)
        .bind(ids.after)
        .bind(ids.through)
        .stream_all_as(|r| {
            let (allowance, month): (String, String) = (r.get("allowance")?, r.get("service_month")?);
            Ok(KeyPaid {
                id_number: r.get("id_number")?,
                allowance: allowance.parse().map_err(|_| StoreError::Corrupt(format!("allowance `{allowance}`")))?,
                service_month: month.parse().map_err(|_| StoreError::Corrupt(format!("month `{month}`")))?,
                paid_fen: r.get("paid_fen")?,
                recovered_fen: r.get("recovered_fen")?,
            })
        })
        .await
}

/// Per district with a counted batch: the latest service month its batches settled, and of its
/// latest batch (the last to be computed) the registry import it read and whether a policy
/// version was loaded after it.
pub(super) async fn districts_settled(pool: &Pool) -> StoreResult<Vec<DistrictSettled>> {
    let sql = format!(
        "select b.district_code,
                (select max(c.service_month) from batches c
                 where c.district_code = b.district_code and c.state in {counting}) as through,
                cast(b.registry_import_id as bigint) as registry_import_id,
                case when exists (select 1 from audit_log a
                                  where a.command = 'policy load' and a.seq > coalesce(b.seen_audit_seq, 0))
                     then true else false end as policy_since
         from batches b
         where b.state in {counting}
           and not exists (select 1 from batches c where c.district_code = b.district_code and c.state in {counting}
                             and coalesce(c.seen_audit_seq, 0) > coalesce(b.seen_audit_seq, 0))
         order by b.district_code",
        counting = counting_states!()
    );
    pool.query(&sql)
        .fetch_all_as(|r| {
            let through: String = r.get("through")?;
            Ok(DistrictSettled {
                district_code: r.get("district_code")?,
                through: through.parse().map_err(|_| StoreError::Corrupt(format!("month `{through}`")))?,
                registry_import_id: r.get("registry_import_id")?,
                policy_since: r.get("policy_since")?,
            })
        })
        .await
}

/// Per person in `ids`, the last import that changed their records.
pub(super) async fn person_changes(pool: &Pool, ids: IdRange<'_>) -> StoreResult<Vec<(String, i64)>> {
    let sql =
        format!("select id_number, cast(import_id as bigint) from person_changes where {}", ids.condition("id_number"));
    pool.query(&sql).bind(ids.after).bind(ids.through).stream_all_as(|r| Ok((r.get(0)?, r.get(1)?))).await
}
