//! What a correction needs beyond a regular run: which persons something touched since the batch
//! that vouches for the district (the rerun set, in a temporary table of the transaction), what
//! the batch it replaces carries over, the transfers numbered again, and whether a policy version
//! came in between (then everyone is read).

use super::error::StoreResult;
use super::registry::records_of;
use super::rows::CarriedRow;
use super::sql::{value_rows, Conn, Row, Tx, ROWS_PER_STATEMENT};
use crate::counting_states;
use crate::ledger::{transfer_id, LineType};
use crate::registry::PersonRecords;

/// A rerun replacing `old` by `new`: move the postings and transfers of the persons outside the
/// rerun set from `old` to `new` (they stand as they were computed; nothing is copied) and return
/// what `new` then holds.
pub(super) async fn carry_over(tx: &mut Tx, old: &str, new: &str) -> StoreResult<Vec<CarriedRow>> {
    for table in ["postings", "transfers"] {
        let sql = format!(
            "update {table} set batch_id = $1
             where batch_id = $2 and id_number not in (select id_number from rerun_persons)"
        );
        tx.query(&sql).bind(new).bind(old).execute().await?;
    }
    tx.query(
            "select allowance, line_type, case when held_reason is null then false else true end as held, count(*) as count,
                    cast(sum(amount_fen) as bigint) as amount_fen, cast(sum(lottery_fen) as bigint) as lottery_fen,
                    cast(sum(district_fen) as bigint) as district_fen
             from postings where batch_id = $1
             group by allowance, line_type, case when held_reason is null then false else true end
             union all
             select allowance, 'transfer' as line_type, false as held, count(*) as count, cast(sum(amount_fen) as bigint) as amount_fen,
                    cast(0 as bigint) as lottery_fen, cast(0 as bigint) as district_fen
             from transfers where batch_id = $1 group by allowance
             order by 1, 2, 3",
        )
        .bind(new)
        .fetch_all_as(carried_row)
        .await
}

/// A group of carried rows; the transfers' group has the line type `transfer` in SQL, none here.
fn carried_row(r: &Row) -> StoreResult<CarriedRow> {
    use super::error::StoreError::Corrupt;
    let allowance: String = r.get("allowance")?;
    let line_type: String = r.get("line_type")?;
    Ok(CarriedRow {
        allowance: allowance.parse().map_err(|_| Corrupt(format!("posting allowance `{allowance}`")))?,
        line_type: match line_type.as_str() {
            "transfer" => None,
            t => Some(LineType::parse(t).ok_or_else(|| Corrupt(format!("posting line type `{t}`")))?),
        },
        held: r.get("held")?,
        count: r.get("count")?,
        amount_fen: r.get("amount_fen")?,
        lottery_fen: r.get("lottery_fen")?,
        district_fen: r.get("district_fen")?,
    })
}

/// Fill the rerun set of a correction of `district` and return its size: the persons whose owed
/// or paid amounts may have changed since the batch `vouching` vouches for the others.
pub(super) async fn mark_rerun_persons(
    tx: &mut Tx,
    district: &str,
    vouching: &str,
    watermark: i64,
    since_seq: i64,
) -> StoreResult<i64> {
    let create = tx.dialect().rerun_persons_table();
    tx.query(create).execute().await?;
    tx.query("delete from rerun_persons").execute().await?;
    // Everything that can change what a person is owed or has been paid since what the batch
    // that vouches for the district saw (`since_seq`; audit entries commit in order, so `seq`
    // orders them), that batch itself aside: their registry rows (imports), batches run, rerun or
    // discarded since (any district: L1 counts every district's payments), the postings a rerun
    // left on the batch it superseded, transfers the platform answered for since (a failed or
    // returned one no longer counts; a paid one counts as it did while pending, so it changes
    // nothing), holds opened or released since, and lines still held (L3:
    // re-held by every batch that reads the person; a new account cures a fault through the
    // registry, which the imports cover). A policy version loaded since makes the caller read everyone.
    let sql = format!(
        "insert into rerun_persons (id_number)
         select distinct c.id_number from (
             select id_number from person_changes where import_id > $1
             union
             select p.id_number from postings p
             where p.batch_id in (select a.target from audit_log a
                                  where a.seq > $2 and a.command in ('run', 'rerun', 'discard')
                                    and a.target <> $4)
             union
             select p.id_number from postings p join batches b on b.batch_id = p.batch_id
             where b.superseded_by in (select a.target from audit_log a
                                       where a.seq > $2 and a.command = 'rerun' and a.target <> $4)
             union
             select t.id_number from transfers t where t.result_seq > $2 and t.status in ('failed', 'returned')
             union
             select h.id_number from holds h where h.opened_seq > $2 or h.released_seq > $2
             union
             select p.id_number from postings p join batches b on b.batch_id = p.batch_id
             where p.district_code = $3 and p.held_reason is not null
               and b.state in {}
         ) c
         where exists (select 1 from elders e where e.id_number = c.id_number and e.district_code = $3)
            or exists (select 1 from postings p where p.id_number = c.id_number and p.district_code = $3)",
        counting_states!()
    );
    tx.query(&sql).bind(watermark).bind(since_seq).bind(district).bind(vouching).execute().await?;
    tx.query("select count(*) from rerun_persons").fetch_scalar().await
}

/// The next page of the rerun set, after `after` in byte order, with their records.
pub(super) async fn rerun_persons_page(tx: &mut Tx, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>> {
    let ids: Vec<String> = tx
        .query("select id_number from rerun_persons where id_number > $1 order by id_number limit $2")
        .bind(after)
        .bind(limit)
        .fetch_scalars()
        .await?;
    records_of(&mut Conn::Tx(tx), ids).await
}

/// Number the batch's transfers from 1 in person and allowance order under its own id (a
/// replacing rerun carries transfers of the batch it replaces). Returns their count.
pub(super) async fn renumber_transfers(tx: &mut Tx, batch_id: &str) -> StoreResult<u32> {
    // Transfer ids in the order a full run gives them: person, then allowance (byte order),
    // numbered from 1 under this batch's id. Two steps, because the primary key is checked row
    // by row: first out of the way, then to the final ids.
    let mut rows: Vec<(String, String, String)> = tx
        .query("select transfer_id, id_number, allowance from transfers where batch_id = $1")
        .bind(batch_id)
        .stream_all_as(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .await?;
    rows.sort_by(|a, b| (a.1.as_bytes(), a.2.as_bytes()).cmp(&(b.1.as_bytes(), b.2.as_bytes())));
    // Only the transfers' ids are a key; the postings are renamed in one step.
    tx.query("update transfers set transfer_id = '~' || transfer_id where batch_id = $1")
        .bind(batch_id)
        .execute()
        .await?;
    let renames: Vec<(String, String)> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, (old, ..))| {
            let new = transfer_id(batch_id, i as u32 + 1);
            [(old.clone(), new.clone()), (format!("~{old}"), new)]
        })
        .collect();
    // The new ids go to a work table, then one statement per table renames them all.
    for chunk in renames.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "insert into transfer_renames (batch_id, old_id, new_id) values {}",
            value_rows(tx.dialect(), chunk.len(), 3)
        );
        chunk.iter().fold(tx.query(&sql), |q, (old, new)| q.bind(batch_id).bind(old).bind(new)).execute().await?;
    }
    for table in ["transfers", "postings"] {
        let sql = format!(
            "update {table} set transfer_id = (select r.new_id from transfer_renames r where r.old_id = {table}.transfer_id)
             where batch_id = $1 and transfer_id is not null"
        );
        tx.query(&sql).bind(batch_id).execute().await?;
    }
    tx.query("delete from transfer_renames where batch_id = $1").bind(batch_id).execute().await?;
    Ok(rows.len() as u32)
}

/// The names of the policy versions stored, as this transaction sees them.
pub(super) async fn policy_version_names(tx: &mut Tx) -> StoreResult<Vec<String>> {
    tx.query("select version from policy_versions order by version").fetch_scalars().await
}

/// The audit sequence number of the entry that wrote a batch (`run` / `rerun`), if any, and that
/// of the last entry its computation saw.
pub(super) async fn batch_seq(tx: &mut Tx, batch_id: &str) -> StoreResult<Option<(i64, i64)>> {
    let row = tx
        .query(
            "select (select max(seq) from audit_log where target = $1 and command in ('run', 'rerun')),
                    (select cast(seen_audit_seq as bigint) from batches where batch_id = $1)",
        )
        .bind(batch_id)
        .fetch_one()
        .await?;
    let (own, seen): (Option<i64>, Option<i64>) = (row.get(0)?, row.get(1)?);
    Ok(own.map(|own| (own, seen.unwrap_or(own))))
}

/// Whether a policy version was loaded after the batch was written (then every person must be
/// recomputed).
pub(super) async fn policy_loaded_since(tx: &mut Tx, batch_id: &str, since_seq: i64) -> StoreResult<bool> {
    // The audit entry orders the load against the batch; the load time is kept as a second
    // witness (a policy stored without its entry still counts).
    let n: i64 = tx
        .query(
            "select (select count(*) from audit_log where seq > $1 and command = 'policy load')
                  + (select count(*) from policy_versions
                     where loaded_at > (select computed_at from batches where batch_id = $2))",
        )
        .bind(since_seq)
        .bind(batch_id)
        .fetch_scalar()
        .await?;
    Ok(n > 0)
}
