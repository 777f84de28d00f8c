//! The platform's answers and the holds they open (L1, L3): the transfers a result file names,
//! their new statuses recorded with the balances of their lines and the holds of their faults in
//! one transaction, operators' holds and releases, and what waits: held lines and lines of failed
//! or returned transfers that no later batch has settled again.

use super::audit;
use super::error::{StoreError, StoreResult};
use super::rows::{IdRange, ResultChange, TransferCount, TransferState, WaitingKind, WaitingRow};
use super::sql::{list_params, Conn, Pool, Row, Txn, ROWS_PER_STATEMENT};
use crate::audit::AuditEntry;
use crate::codes::Allowance;
use crate::counting_states;
use crate::ledger::{BatchState, FaultCode, HoldKind, OpenHold, TransferStatus, COUNTED};
use chrono::{DateTime, SecondsFormat, Utc};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} `{value}`"))
}

/// The holds not released, oldest first, with the registry facts that may have cured them.
pub(super) async fn open_holds(conn: &mut Conn<'_>) -> StoreResult<Vec<OpenHold>> {
    conn.query(
        "select h.hold_id, h.id_number, h.allowance, h.kind, h.transfer_id, h.account_no, h.opened_at, h.opened_by,
                h.reason,
                (select max(e.account_no) from elders e where e.id_number = h.id_number) as account_now,
                case when exists (select 1 from registry_versions v
                                  where v.file = 'elders.csv' and v.id_number = h.id_number
                                    and v.import_id > h.opened_import_id
                                    and v.row_json <> coalesce((select w.row_json from registry_versions w
                                                               where w.file = v.file and w.row_key = v.row_key
                                                                 and w.import_id <= h.opened_import_id
                                                               order by w.import_id desc limit 1), ''))
                     then true else false end as row_changed,
                (select cast(max(e.death_date) as text) from elders e where e.id_number = h.id_number) as death_date
         from holds h where h.released_seq is null order by h.hold_id",
    )
    .fetch_all_as(open_hold)
    .await
}

fn open_hold(r: &Row) -> StoreResult<OpenHold> {
    let allowance: Option<String> = r.get("allowance")?;
    let kind: String = r.get("kind")?;
    let death: Option<String> = r.get("death_date")?;
    Ok(OpenHold {
        hold_id: r.get("hold_id")?,
        id_number: r.get("id_number")?,
        allowance: allowance.map(|a| a.parse::<Allowance>().map_err(|_| corrupt("hold allowance", &a))).transpose()?,
        kind: HoldKind::parse(&kind).ok_or_else(|| corrupt("hold kind", &kind))?,
        transfer_id: r.get("transfer_id")?,
        account_no: r.get("account_no")?,
        opened_at: r.get("opened_at")?,
        opened_by: r.get("opened_by")?,
        reason: r.get("reason")?,
        account_now: r.get("account_now")?,
        row_changed: r.get("row_changed")?,
        death_date: death
            .map(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| corrupt("death date", &d)))
            .transpose()?,
    })
}

/// The transfers among `ids` that exist, with their batch's district and state.
pub(super) async fn transfer_states(pool: &Pool, ids: &[String]) -> StoreResult<Vec<TransferState>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "select t.transfer_id, t.batch_id, b.district_code, b.state, t.id_number, t.allowance, t.account_no,
                    t.amount_fen, t.status, t.reason_code
             from transfers t join batches b on b.batch_id = t.batch_id
             where t.transfer_id in ({})
             order by t.transfer_id",
            list_params(pool.dialect(), chunk.len())
        );
        out.extend(chunk.iter().fold(pool.query(&sql), |q, id| q.bind(id)).fetch_all_as(transfer_state).await?);
    }
    Ok(out)
}

pub(super) fn transfer_state(r: &Row) -> StoreResult<TransferState> {
    let (state, allowance, status): (String, String, String) = (r.get("state")?, r.get("allowance")?, r.get("status")?);
    let fault: Option<String> = r.get("reason_code")?;
    Ok(TransferState {
        transfer_id: r.get("transfer_id")?,
        batch_id: r.get("batch_id")?,
        district_code: r.get("district_code")?,
        batch_state: BatchState::parse(&state).ok_or_else(|| corrupt("batch state", &state))?,
        id_number: r.get("id_number")?,
        allowance: allowance.parse().map_err(|_| corrupt("transfer allowance", &allowance))?,
        account_no: r.get("account_no")?,
        amount_fen: r.get("amount_fen")?,
        status: TransferStatus::parse(&status).ok_or_else(|| corrupt("transfer status", &status))?,
        fault: fault.map(|f| FaultCode::parse(&f).ok_or_else(|| corrupt("transfer reason code", &f))).transpose()?,
    })
}

/// Record one transfer's new status in `tx`, under audit entry `seq` (a result file's failures and
/// returns, one by one; its payments are recorded together, `answers.rs`): the status, only from
/// the status it was read in; for a failed or returned transfer, its lines' balances (L1: they no
/// longer count; the bound L4 is the database's) and a hold for its fault (L3). Returns the
/// payment keys of the recovery items the return made moot (cancelled); `None`, having written
/// nothing more, when the transfer changed since it was read.
pub(super) async fn record_change(
    tx: &mut Txn<'_>,
    c: &ResultChange,
    by: &str,
    seq: i64,
    at: &str,
) -> StoreResult<Option<Vec<String>>> {
    let rows = tx
        .query(
            "update transfers set status = $1, reason_code = $2, reason = $3, result_seq = $4, result_at = $5
             where transfer_id = $6 and status = $7",
        )
        .bind(c.to.as_str())
        .bind(c.fault.map(FaultCode::as_str))
        .bind(c.reason.as_deref())
        .bind(seq)
        .bind(at)
        .bind(c.transfer_id.as_str())
        .bind(c.from.as_str())
        .execute()
        .await?;
    if rows != 1 {
        return Ok(None);
    }
    if c.to.counts() {
        return Ok(Some(Vec::new()));
    }
    let cancelled = unbalance_transfer(tx, &c.transfer_id).await?;
    let kind = c.fault.unwrap_or(FaultCode::Other);
    let reason = c.reason.as_deref().unwrap_or(kind.as_str());
    let hold = NewHold {
        kind: kind.as_str(),
        transfer: Some((&c.transfer_id, &c.account_no)),
        reason,
        ..NewHold::of(&c.id_number, by, seq, at)
    };
    insert_hold(tx, &hold).await?;
    Ok(Some(cancelled))
}

/// A transfer's lines stop counting (L1): per key they post to, the recovery items the return
/// made moot are cancelled (those of the transfer's district not collected from the person,
/// newest first, while the net
/// paid would be below zero: the money they recover came back from the bank), then the net paid
/// and the amount on failed or returned transfers are recomputed (the bound, L4, lets the net go
/// below zero by at most the latter: an offset taken from a later payment for a month whose own
/// payment never arrived is owed back). Returns the cancelled items' payment keys.
async fn unbalance_transfer(tx: &mut Txn<'_>, transfer_id: &str) -> StoreResult<Vec<String>> {
    let keys: Vec<(String, String, String, String)> = tx
        .query(
            "select distinct id_number, allowance, service_month, district_code from postings where transfer_id = $1",
        )
        .bind(transfer_id)
        .fetch_all_as(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .await?;
    let net_sql = format!(
        "select cast(coalesce(sum(p.amount_fen), 0) as bigint) from postings p
         join batches b on b.batch_id = p.batch_id left join transfers t on t.transfer_id = p.transfer_id
         where p.id_number = $1 and p.allowance = $2 and p.service_month = $3 and {COUNTED}"
    );
    let items_sql = format!(
        "select p.payment_key, p.amount_fen from postings p join batches b on b.batch_id = p.batch_id
         where p.id_number = $1 and p.allowance = $2 and p.service_month = $3 and p.line_type = 'recovery'
           and p.district_code = $4 and p.cancelled_by is null and b.state in {}
           and not exists (select 1 from recovery_decisions d where d.payment_key = p.payment_key and d.decision = 'collected')
         order by p.adjustment desc",
        counting_states!()
    );
    let mut cancelled = Vec::new();
    for (id, allowance, month, district) in &keys {
        let mut net: i64 = tx.query(&net_sql).bind(id).bind(allowance).bind(month).fetch_scalar().await?;
        if net >= 0 {
            continue;
        }
        let items: Vec<(String, i64)> = tx
            .query(&items_sql)
            .bind(id)
            .bind(allowance)
            .bind(month)
            .bind(district)
            .fetch_all_as(|r| Ok((r.get(0)?, r.get(1)?)))
            .await?;
        for (key, amount) in items {
            if net >= 0 {
                break;
            }
            tx.query("update postings set cancelled_by = $1 where payment_key = $2")
                .bind(transfer_id)
                .bind(key.as_str())
                .execute()
                .await?;
            net -= amount;
            cancelled.push(key);
        }
    }
    let sql = format!(
        "update balances set
             net_fen = coalesce((
                 select cast(sum(p.amount_fen) as bigint) from postings p
                 join batches b on b.batch_id = p.batch_id
                 left join transfers t on t.transfer_id = p.transfer_id
                 where p.id_number = $1 and p.allowance = $2 and p.service_month = $3 and {COUNTED}), 0),
             returned_fen = coalesce((
                 select cast(sum(p.amount_fen) as bigint) from postings p
                 join batches b on b.batch_id = p.batch_id
                 join transfers t on t.transfer_id = p.transfer_id
                 where p.id_number = $1 and p.allowance = $2 and p.service_month = $3 and p.amount_fen > 0
                   and t.status in ('failed', 'returned') and b.state in {counting}), 0)
         where id_number = $1 and allowance = $2 and service_month = $3",
        counting = counting_states!()
    );
    // Key by key (the balances' primary key), never a scan of every balance.
    for (id, allowance, month, _) in &keys {
        tx.query(&sql)
            .bind(id)
            .bind(allowance)
            .bind(month)
            .execute()
            .await
            .map_err(|e| StoreError::bound_or_database(e, || format!("a line of transfer {transfer_id}")))?;
    }
    Ok(cancelled)
}

/// A hold to open: by an operator (kind ON_HOLD), or by a failed or returned transfer.
struct NewHold<'a> {
    id_number: &'a str,
    allowance: Option<Allowance>,
    kind: &'a str,
    /// The transfer that opened it and the account it went to.
    transfer: Option<(&'a str, &'a str)>,
    by: &'a str,
    seq: i64,
    at: &'a str,
    reason: &'a str,
}

impl<'a> NewHold<'a> {
    /// An operator's hold of every allowance, opened by audit entry `seq`.
    fn of(id_number: &'a str, by: &'a str, seq: i64, at: &'a str) -> NewHold<'a> {
        NewHold { id_number, allowance: None, kind: "ON_HOLD", transfer: None, by, seq, at, reason: "" }
    }
}

/// Insert a hold with the next number, noting the registry import current now (a newer version
/// of the person's elders row cures a name or ID mismatch); its number.
async fn insert_hold(tx: &mut Txn<'_>, h: &NewHold<'_>) -> StoreResult<i64> {
    let import_id: i64 =
        tx.query("select cast(coalesce(max(import_id), 0) as bigint) from imports").fetch_scalar().await?;
    let hold_id: i64 =
        tx.query("select cast(coalesce(max(hold_id), 0) + 1 as bigint) from holds").fetch_scalar().await?;
    tx.query(
        "insert into holds (hold_id, id_number, allowance, kind, transfer_id, account_no, opened_seq, opened_import_id,
                            opened_by, opened_at, reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(hold_id)
    .bind(h.id_number)
    .bind(h.allowance.map(|a| a.as_str()))
    .bind(h.kind)
    .bind(h.transfer.map(|(t, _)| t))
    .bind(h.transfer.map(|(_, a)| a))
    .bind(h.seq)
    .bind(import_id)
    .bind(h.by)
    .bind(h.at)
    .bind(h.reason)
    .execute()
    .await?;
    Ok(hold_id)
}

/// Open an operator's hold on a person (one allowance, or all), with its audit entry. Returns its
/// number.
pub(super) async fn add_hold(
    pool: &Pool,
    id_number: &str,
    allowance: Option<Allowance>,
    by: &str,
    reason: &str,
    entry: &AuditEntry,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let mut tx = pool.begin_write().await?;
    let seq = audit::append(&mut tx, entry, now).await?.seq;
    let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let hold = NewHold { allowance, reason, ..NewHold::of(id_number, by, seq, &at) };
    let hold_id = insert_hold(&mut tx, &hold).await?;
    tx.commit().await?;
    Ok(hold_id)
}

/// Release the person's holds not yet released (of one allowance, or every one), with the audit
/// entry; returns the numbers released (none: nothing written).
pub(super) async fn release_holds(
    pool: &Pool,
    id_number: &str,
    allowance: Option<Allowance>,
    by: &str,
    reason: &str,
    entry: &AuditEntry,
    now: DateTime<Utc>,
) -> StoreResult<Vec<i64>> {
    let mut tx = pool.begin_write().await?;
    let ids: Vec<i64> = tx
        .query(
            "select hold_id from holds where id_number = $1 and ($2 = '' or allowance = $2) and released_seq is null
             order by hold_id",
        )
        .bind(id_number)
        .bind(allowance.map_or("", |a| a.as_str()))
        .fetch_scalars()
        .await?;
    if ids.is_empty() {
        tx.rollback().await?;
        return Ok(ids);
    }
    let seq = audit::append(&mut tx, entry, now).await?.seq;
    for id in &ids {
        tx.query(
            "update holds set released_seq = $1, released_by = $2, released_at = $3, release_reason = $4
             where hold_id = $5",
        )
        .bind(seq)
        .bind(by)
        .bind(now.to_rfc3339_opts(SecondsFormat::Secs, true))
        .bind(reason)
        .bind(*id)
        .execute()
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}

/// What waits now (L3), line by line: held lines, and lines of failed or returned transfers, that
/// no later counted batch of their district settling their month has seen; with them, negative,
/// the recovery items such a return cancelled (what waits is the net to settle again). A batch sees what
/// committed before its computation began (`seen_audit_seq`); every batch that reads a person
/// settles their held and failed months again (holding them again while the fault lasts), so only
/// the latest word counts.
pub(super) async fn waiting(pool: &Pool, ids: IdRange<'_>) -> StoreResult<Vec<WaitingRow>> {
    let sql = format!(
        "select p.district_code, p.id_number, p.allowance, p.service_month, p.amount_fen, 'held' as kind,
                p.held_reason as reason, p.batch_id
         from postings p join batches b on b.batch_id = p.batch_id
         where p.held_reason is not null and b.state in {counting} and {range}
           and not exists (select 1 from batches c
                           where c.district_code = b.district_code and c.state in {counting}
                             and c.service_month >= p.service_month
                             and coalesce(c.seen_audit_seq, 0) > coalesce(b.seen_audit_seq, 0))
         union all
         select p.district_code, p.id_number, p.allowance, p.service_month, p.amount_fen, t.status as kind,
                t.reason_code as reason, p.batch_id
         from postings p join batches b on b.batch_id = p.batch_id
         join transfers t on t.transfer_id = p.transfer_id
         where t.status in ('failed', 'returned') and b.state in {counting} and {range}
           and not exists (select 1 from batches c
                           where c.district_code = b.district_code and c.state in {counting}
                             and c.service_month >= p.service_month
                             and coalesce(c.seen_audit_seq, 0) >= t.result_seq)
         union all
         select p.district_code, p.id_number, p.allowance, p.service_month, p.amount_fen, t.status as kind,
                t.reason_code as reason, p.batch_id
         from postings p join batches b on b.batch_id = p.batch_id
         join transfers t on t.transfer_id = p.cancelled_by
         where b.state in {counting} and {range}
           and not exists (select 1 from batches c
                           where c.district_code = b.district_code and c.state in {counting}
                             and c.service_month >= p.service_month
                             and coalesce(c.seen_audit_seq, 0) >= t.result_seq)
         order by 2, 3, 4",
        counting = counting_states!(),
        range = ids.condition("p.id_number")
    );
    pool.query(&sql).bind(ids.after).bind(ids.through).fetch_all_as(waiting_row).await
}

fn waiting_row(r: &Row) -> StoreResult<WaitingRow> {
    let (allowance, month, kind): (String, String, String) =
        (r.get("allowance")?, r.get("service_month")?, r.get("kind")?);
    Ok(WaitingRow {
        district_code: r.get("district_code")?,
        id_number: r.get("id_number")?,
        allowance: allowance.parse().map_err(|_| corrupt("posting allowance", &allowance))?,
        service_month: month.parse().map_err(|_| corrupt("posting month", &month))?,
        amount_fen: r.get("amount_fen")?,
        kind: match kind.as_str() {
            "held" => WaitingKind::Held,
            "failed" => WaitingKind::Failed,
            "returned" => WaitingKind::Returned,
            other => return Err(corrupt("waiting kind", other)),
        },
        reason: r.get::<Option<String>, _>("reason")?.unwrap_or_default(),
        batch_id: r.get("batch_id")?,
    })
}

/// Per batch and status, the transfers and their amount.
pub(super) async fn transfer_counts(pool: &Pool) -> StoreResult<Vec<TransferCount>> {
    pool.query(
        "select batch_id, status, count(*) as count, cast(sum(amount_fen) as bigint) as amount_fen
         from transfers group by batch_id, status order by batch_id, status",
    )
    .fetch_all_as(|r| {
        let status: String = r.get("status")?;
        Ok(TransferCount {
            batch_id: r.get("batch_id")?,
            status: TransferStatus::parse(&status).ok_or_else(|| corrupt("transfer status", &status))?,
            count: r.get("count")?,
            amount_fen: r.get("amount_fen")?,
        })
    })
    .await
}
