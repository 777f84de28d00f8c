//! The ledger's SQL, written once for both databases (see `registry_sql.rs` for why a macro).

/// Columns of `batches` in the order `batch_row!` reads them.
pub(super) const BATCH_COLUMNS: &str =
    "batch_id, district_code, service_month, kind, seq, state, run_by, approved_by, \
     policy_version, registry_fingerprint, transfer_count, control_sum_fen, lottery_fen, district_fen, held_fen, \
     recovery_fen, summary, state_reason, registry_import_id";

/// Columns of `postings` in the order `posting_row!` reads and the insert writes them.
pub(super) const POSTING_COLUMNS: &str = "payment_key, batch_id, district_code, id_number, allowance, service_month, \
     adjustment, line_type, tier, amount_fen, lottery_fen, district_fen, held_reason, transfer_id, name, account_type, \
     account_no, street_code, recovery_reason";

/// A batch's transfers, by transfer id.
pub(super) const BATCH_TRANSFERS: &str =
    "select transfer_id, batch_id, id_number, allowance, name, account_type, account_no, amount_fen \
     from transfers where batch_id = $1 order by transfer_id";

/// Batches of other districts, counted, that pay a month batch `$1` recovers or offsets (a move
/// known late): they rely on it (L1).
pub(super) const RELYING_BATCHES: &str = concat!(
    "select distinct q.batch_id from postings p
     join postings q on q.id_number = p.id_number and q.allowance = p.allowance and q.service_month = p.service_month
     join batches b on b.batch_id = q.batch_id
     where p.batch_id = $1 and p.amount_fen < 0 and q.amount_fen > 0 and q.held_reason is null
       and q.district_code <> p.district_code and b.state in ",
    crate::counting_states!()
);

/// Rows per multi-row INSERT (19 columns × 50 stays far below both databases' parameter limits).
pub(super) const ROWS_PER_INSERT: usize = 50;

/// Stamp `impl LedgerStore` for a store type and `impl BatchTx` for its transaction wrapper.
/// The store needs a `begin_batch_tx(district)` inherent method returning the locked transaction,
/// and a `ROW_LOCK` constant: the clause that locks a row read in a write transaction.
macro_rules! impl_ledger {
    ($store:ty, $tx:ident, $export:ident, $db:ty, $rerun_persons_ddl:literal) => {
        /// A batch transaction (holds the district's run lock until commit or rollback).
        pub struct $tx {
            tx: sqlx::Transaction<'static, $db>,
            /// For reads that must see past the transaction's snapshot (the audit chain's head).
            pool: sqlx::Pool<$db>,
        }

        fn batch_row(r: &<$db as sqlx::Database>::Row) -> $crate::store::StoreResult<$crate::store::BatchRow> {
            use sqlx::Row as _;
            use $crate::store::StoreError;
            let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("batch {what} `{v}`"));
            let month: String = r.try_get("service_month")?;
            let kind: String = r.try_get("kind")?;
            let state: String = r.try_get("state")?;
            let seq: i32 = r.try_get::<i32, _>("seq")?;
            Ok($crate::store::BatchRow {
                batch_id: r.try_get("batch_id")?,
                district_code: r.try_get("district_code")?,
                service_month: month.parse().map_err(|_| corrupt("month", &month))?,
                kind: match kind.as_str() {
                    "regular" => $crate::ledger::BatchKind::Regular,
                    "correction" => $crate::ledger::BatchKind::Correction,
                    _ => return Err(corrupt("kind", &kind)),
                },
                seq: u32::try_from(seq).map_err(|_| corrupt("seq", &seq.to_string()))?,
                state: $crate::ledger::BatchState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
                run_by: r.try_get("run_by")?,
                approved_by: r.try_get("approved_by")?,
                policy_version: r.try_get("policy_version")?,
                registry_fingerprint: r.try_get("registry_fingerprint")?,
                transfer_count: r.try_get("transfer_count")?,
                control_sum_fen: r.try_get("control_sum_fen")?,
                lottery_fen: r.try_get("lottery_fen")?,
                district_fen: r.try_get("district_fen")?,
                held_fen: r.try_get("held_fen")?,
                recovery_fen: r.try_get("recovery_fen")?,
                summary: r.try_get("summary")?,
                state_reason: r.try_get("state_reason")?,
                registry_import_id: r.try_get("registry_import_id")?,
            })
        }

        /// The records of these persons, in this order. A person paid before whose registration was
        /// since deleted still needs settling (their months are no longer owed): an empty record.
        async fn records_of(
            tx: &mut sqlx::Transaction<'static, $db>,
            ids: Vec<String>,
        ) -> $crate::store::StoreResult<Vec<$crate::registry::PersonRecords>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut people = $crate::store::registry_sql::load_persons!(&mut **tx, &ids);
            Ok(ids
                .into_iter()
                .map(|id| people.remove(&id).unwrap_or_else(|| $crate::registry::PersonRecords { id_number: id, ..Default::default() }))
                .collect())
        }

        /// Take a batch's counted postings out of the balances (it is superseded or discarded).
        async fn unpost_batch(tx: &mut sqlx::Transaction<'static, $db>, batch_id: &str) -> Result<(), sqlx::Error> {
            sqlx::query(
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
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        impl $crate::store::BatchTx for $tx {
            async fn supersede(&mut self, batch_id: &str, by_batch: &str, reason: &str) -> $crate::store::StoreResult<bool> {
                // The balances are not touched here: the rerun refreshes the keys of both batches
                // once its own postings are in (`refresh_balances`), so that no state halfway
                // through the transaction is held against the L4 bound.
                let done = sqlx::query(
                    "update batches set state = 'superseded', superseded_by = $1, state_reason = $2
                     where batch_id = $3 and state in ('computed', 'approved')",
                )
                .bind(by_batch)
                .bind(reason)
                .bind(batch_id)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn carry_over(
                &mut self,
                old: &str,
                new: &str,
            ) -> $crate::store::StoreResult<Vec<$crate::store::CarriedRow>> {
                // Persons outside the rerun set (`mark_rerun_persons`) are settled as they stand:
                // their postings and transfers move to the new batch.
                for table in ["postings", "transfers"] {
                    sqlx::query(&format!(
                        "update {table} set batch_id = $1
                         where batch_id = $2 and id_number not in (select id_number from rerun_persons)"
                    ))
                    .bind(new)
                    .bind(old)
                    .execute(&mut *self.tx)
                    .await?;
                }
                Ok(sqlx::query_as::<_, $crate::store::CarriedRow>(
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
                .fetch_all(&mut *self.tx)
                .await?)
            }

            async fn mark_rerun_persons(
                &mut self,
                district: &str,
                vouching: &str,
                watermark: i64,
                since_seq: i64,
            ) -> $crate::store::StoreResult<i64> {
                sqlx::query($rerun_persons_ddl).execute(&mut *self.tx).await?;
                sqlx::query("delete from rerun_persons").execute(&mut *self.tx).await?;
                // Everything that can change what a person is owed or has been paid since what the
                // batch that vouches for the district saw (`since_seq`; audit entries commit in
                // order, so `seq` orders them), that batch itself aside: their registry rows (imports), batches run, rerun or discarded since (any
                // district: L1 counts every district's payments), the postings a rerun left on the
                // batch it superseded, and lines still held (L3: re-held by every batch that reads
                // the person). A policy version loaded since makes the caller read everyone.
                sqlx::query(
                    concat!("insert into rerun_persons (id_number)
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
                         select p.id_number from postings p join batches b on b.batch_id = p.batch_id
                         where p.district_code = $3 and p.held_reason is not null
                           and b.state in ", $crate::counting_states!(), "
                     ) c
                     where exists (select 1 from elders e where e.id_number = c.id_number and e.district_code = $3)
                        or exists (select 1 from postings p where p.id_number = c.id_number and p.district_code = $3)"),
                )
                .bind(watermark)
                .bind(since_seq)
                .bind(district)
                .bind(vouching)
                .execute(&mut *self.tx)
                .await?;
                Ok(sqlx::query_scalar::<_, i64>("select count(*) from rerun_persons").fetch_one(&mut *self.tx).await?)
            }

            async fn policy_version_names(&mut self) -> $crate::store::StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("select version from policy_versions order by version").fetch_all(&mut *self.tx).await?)
            }

            async fn batch_seq(&mut self, batch_id: &str) -> $crate::store::StoreResult<Option<(i64, i64)>> {
                let row: (Option<i64>, Option<i64>) = sqlx::query_as(
                    "select (select max(seq) from audit_log where target = $1 and command in ('run', 'rerun')),
                            (select cast(seen_audit_seq as bigint) from batches where batch_id = $1)",
                )
                .bind(batch_id)
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.0.map(|own| (own, row.1.unwrap_or(own))))
            }

            async fn policy_loaded_since(&mut self, batch_id: &str, since_seq: i64) -> $crate::store::StoreResult<bool> {
                // The audit entry orders the load against the batch; the load time is kept as a
                // second witness (a policy stored without its entry still counts).
                let n: i64 = sqlx::query_scalar(
                    "select (select count(*) from audit_log where seq > $1 and command = 'policy load')
                          + (select count(*) from policy_versions
                             where loaded_at > (select computed_at from batches where batch_id = $2))",
                )
                .bind(since_seq)
                .bind(batch_id)
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(n > 0)
            }

            async fn refresh_balances(
                &mut self,
                batch_ids: &[&str],
                ceilings: &[(String, i64)],
                rerun_persons_only: bool,
            ) -> $crate::store::StoreResult<()> {
                // Carried-over postings counted before and count still: only the rerun set's keys
                // can have changed when the rerun carried the others over.
                let only = if rerun_persons_only { " and id_number in (select id_number from rerun_persons)" } else { "" };
                let ceiling_of = |a: &str| ceilings.iter().find(|(x, _)| x == a).map(|(_, c)| *c).unwrap_or(0);
                for batch_id in batch_ids {
                    // Each key's net recomputed from the counted postings (L1) in one statement: the
                    // bound (L4) is checked on the final state of the key, never on a state halfway
                    // through the rerun.
                    let sql = format!(
                        "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen)
                         select k.id_number, k.allowance, k.service_month,
                                coalesce((select cast(sum(p.amount_fen) as bigint) from postings p
                                          join batches b on b.batch_id = p.batch_id
                                          left join transfers t on t.transfer_id = p.transfer_id
                                          where p.id_number = k.id_number and p.allowance = k.allowance
                                            and p.service_month = k.service_month and {}), 0),
                                case k.allowance when 'longevity' then $2 when 'care' then $3 else $4 end
                         from (select distinct id_number, allowance, service_month from postings where batch_id = $1{only}) k
                         where true
                         on conflict (id_number, allowance, service_month) do update
                         set net_fen = excluded.net_fen,
                             ceiling_fen = case when excluded.ceiling_fen > balances.ceiling_fen
                                                then excluded.ceiling_fen else balances.ceiling_fen end",
                        $crate::ledger::COUNTED
                    );
                    sqlx::query(&sql)
                        .bind(*batch_id)
                        .bind(ceiling_of("longevity"))
                        .bind(ceiling_of("care"))
                        .bind(ceiling_of("hardship"))
                        .execute(&mut *self.tx)
                        .await
                        .map_err(|e| $crate::store::StoreError::bound_or_database(e, || format!("a posting of batch {batch_id}")))?;
                }
                Ok(())
            }

            async fn renumber_transfers(&mut self, batch_id: &str) -> $crate::store::StoreResult<u32> {
                // Transfer ids in the order a full run gives them: person, then allowance (byte
                // order), numbered from 1 under this batch's id. Two steps, because the primary key
                // is checked row by row: first out of the way, then to the final ids.
                let mut rows: Vec<(String, String, String)> =
                    sqlx::query_as("select transfer_id, id_number, allowance from transfers where batch_id = $1")
                        .bind(batch_id)
                        .fetch_all(&mut *self.tx)
                        .await?;
                rows.sort_by(|a, b| (a.1.as_bytes(), a.2.as_bytes()).cmp(&(b.1.as_bytes(), b.2.as_bytes())));
                // Only the transfers' ids are a key; the postings are renamed in one step.
                sqlx::query("update transfers set transfer_id = '~' || transfer_id where batch_id = $1")
                    .bind(batch_id)
                    .execute(&mut *self.tx)
                    .await?;
                let renames: Vec<(String, String)> = rows
                    .iter()
                    .enumerate()
                    .flat_map(|(i, (old, ..))| {
                        let new = $crate::ledger::transfer_id(batch_id, i as u32 + 1);
                        [(old.clone(), new.clone()), (format!("~{old}"), new)]
                    })
                    .collect();
                // The new ids go to a work table, then one statement per table renames them all.
                for chunk in renames.chunks($crate::store::registry_sql::REGISTRY_ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("insert into transfer_renames (batch_id, old_id, new_id) ");
                    q.push_values(chunk, |mut b, (old, new)| {
                        b.push_bind(batch_id).push_bind(old.clone()).push_bind(new.clone());
                    });
                    q.build().execute(&mut *self.tx).await?;
                }
                for table in ["transfers", "postings"] {
                    sqlx::query(&format!(
                        "update {table} set transfer_id = (select r.new_id from transfer_renames r where r.old_id = {table}.transfer_id)
                         where batch_id = $1 and transfer_id is not null"
                    ))
                    .bind(batch_id)
                    .execute(&mut *self.tx)
                    .await?;
                }
                sqlx::query("delete from transfer_renames where batch_id = $1").bind(batch_id).execute(&mut *self.tx).await?;
                Ok(rows.len() as u32)
            }

            async fn rerun_persons_page(
                &mut self,
                after: &str,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::registry::PersonRecords>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "select id_number from rerun_persons where id_number > $1 order by id_number limit $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
                records_of(&mut self.tx, ids).await
            }

            async fn district_batches(&mut self, district: &str) -> $crate::store::StoreResult<Vec<$crate::store::BatchRow>> {
                let sql = format!(
                    "select {} from batches where district_code = $1 order by service_month, kind, seq",
                    $crate::store::ledger_sql::BATCH_COLUMNS
                );
                sqlx::query(&sql).bind(district).fetch_all(&mut *self.tx).await?.iter().map(batch_row).collect()
            }

            async fn persons_page(
                &mut self,
                district: &str,
                after: &str,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::registry::PersonRecords>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    // Each side is an index range scan cut at the page size, so a page costs the
                    // same at the end of the registry as at its start.
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
                .fetch_all(&mut *self.tx)
                .await?;
                records_of(&mut self.tx, ids).await
            }

            async fn history(&mut self, ids: &[String]) -> $crate::store::StoreResult<Vec<$crate::store::HistoryRow>> {
                let sql = format!(
                    "select p.id_number, p.allowance, p.service_month, p.district_code, p.amount_fen, p.lottery_fen,
                            p.district_fen, p.adjustment, p.tier,
                            case when {} then true else false end as counted,
                            case when p.held_reason is not null and b.state in {} then true else false end as held
                     from postings p join batches b on b.batch_id = p.batch_id
                     left join transfers t on t.transfer_id = p.transfer_id
                     where p.id_number in ({})
                     order by p.id_number, p.allowance, p.service_month, p.adjustment",
                    $crate::ledger::COUNTED,
                    $crate::counting_states!(),
                    $crate::store::registry_sql::placeholders(ids.len())
                );
                let mut q = sqlx::query_as::<_, $crate::store::HistoryRow>(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                Ok(q.fetch_all(&mut *self.tx).await?)
            }

            async fn lottery_used(&mut self, district: &str, year: i32) -> $crate::store::StoreResult<i64> {
                let sql = format!(
                    "select cast(coalesce(sum(p.lottery_fen), 0) as bigint) from postings p join batches b on b.batch_id = p.batch_id
                     left join transfers t on t.transfer_id = p.transfer_id
                     where p.district_code = $1 and p.service_month >= $2 and p.service_month <= $3 and {}",
                    $crate::ledger::COUNTED
                );
                let used: Option<i64> = sqlx::query_scalar(&sql)
                    .bind(district)
                    .bind(format!("{year:04}-01"))
                    .bind(format!("{year:04}-12"))
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(used.unwrap_or(0))
            }

            async fn insert_batch(&mut self, b: &$crate::store::NewBatch) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "insert into batches (batch_id, district_code, service_month, kind, seq, state, run_by, computed_at,
                                          policy_version, registry_fingerprint, state_reason, registry_import_id,
                                          seen_audit_seq)
                     values ($1, $2, $3, $4, $5, 'computed', $6, $7, $8, '', $9,
                             (select coalesce(max(import_id), 0) from imports where finished_at is not null),
                             (select coalesce(max(seq), 0) from audit_log))",
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
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn insert_postings(
                &mut self,
                rows: &[$crate::store::PostingRow],
                ceilings: &[(String, i64)],
                update_balances: bool,
            ) -> $crate::store::StoreResult<()> {
                // Many rows per statement: a batch writes tens of thousands of postings.
                for chunk in rows.chunks($crate::store::ledger_sql::ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                        "insert into postings ({}) ",
                        $crate::store::ledger_sql::POSTING_COLUMNS
                    ));
                    q.push_values(chunk, |mut b, p| {
                        b.push_bind(&p.payment_key)
                            .push_bind(&p.batch_id)
                            .push_bind(&p.district_code)
                            .push_bind(&p.id_number)
                            .push_bind(&p.allowance)
                            .push_bind(&p.service_month)
                            .push_bind(p.adjustment)
                            .push_bind(&p.line_type)
                            .push_bind(&p.tier)
                            .push_bind(p.amount_fen)
                            .push_bind(p.lottery_fen)
                            .push_bind(p.district_fen)
                            .push_bind(&p.held_reason)
                            .push_bind(&p.transfer_id)
                            .push_bind(&p.name)
                            .push_bind(&p.account_type)
                            .push_bind(&p.account_no)
                            .push_bind(&p.street_code)
                            .push_bind(&p.recovery_reason);
                    });
                    q.build().execute(&mut *self.tx).await?;
                }
                if !update_balances {
                    return Ok(());
                }
                let ceiling_of = |a: &str| ceilings.iter().find(|(x, _)| x == a).map(|(_, c)| *c).unwrap_or(0);
                // L4 balances. A batch has at most one positive posting per key, so positive ones
                // go in many-row upserts. Negative ones update first and insert when absent:
                // SQLite checks a CHECK constraint on the row an upsert proposes before it sees
                // the conflict, so a negative candidate row could never reach `do update`.
                let counted = rows.iter().filter(|p| p.held_reason.is_none());
                let (positive, negative): (Vec<_>, Vec<_>) = counted.partition(|p| p.amount_fen > 0);
                for chunk in positive.chunks($crate::store::ledger_sql::ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen) ",
                    );
                    q.push_values(chunk, |mut b, p| {
                        b.push_bind(&p.id_number)
                            .push_bind(&p.allowance)
                            .push_bind(&p.service_month)
                            .push_bind(p.amount_fen)
                            .push_bind(ceiling_of(&p.allowance));
                    });
                    // L4: the bound is the highest monthly rate in any policy version loaded, so a
                    // version loaded later can raise it for months paid before.
                    q.push(
                        " on conflict (id_number, allowance, service_month) do update set net_fen = balances.net_fen + excluded.net_fen,
                          ceiling_fen = case when excluded.ceiling_fen > balances.ceiling_fen
                                             then excluded.ceiling_fen else balances.ceiling_fen end",
                    );
                    let first = chunk.first().map(|p| $crate::idcard::mask_key(&p.payment_key)).unwrap_or_default();
                    q.build().execute(&mut *self.tx).await.map_err(|e| {
                        $crate::store::StoreError::bound_or_database(e, || format!("{first} or one of the {} after it", chunk.len() - 1))
                    })?;
                }
                for p in negative {
                    let bound = |e| $crate::store::StoreError::bound_or_database(e, || $crate::idcard::mask_key(&p.payment_key));
                    let updated = sqlx::query(
                        "update balances set net_fen = net_fen + $1,
                                ceiling_fen = case when $5 > ceiling_fen then $5 else ceiling_fen end
                         where id_number = $2 and allowance = $3 and service_month = $4",
                    )
                    .bind(p.amount_fen)
                    .bind(&p.id_number)
                    .bind(&p.allowance)
                    .bind(&p.service_month)
                    .bind(ceiling_of(&p.allowance))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(bound)?;
                    if updated.rows_affected() == 0 {
                        sqlx::query(
                            "insert into balances (id_number, allowance, service_month, net_fen, ceiling_fen)
                             values ($1, $2, $3, $4, $5)",
                        )
                        .bind(&p.id_number)
                        .bind(&p.allowance)
                        .bind(&p.service_month)
                        .bind(p.amount_fen)
                        .bind(ceiling_of(&p.allowance))
                        .execute(&mut *self.tx)
                        .await
                        .map_err(bound)?;
                    }
                }
                Ok(())
            }

            async fn insert_transfers(&mut self, rows: &[$crate::store::TransferRow]) -> $crate::store::StoreResult<()> {
                for chunk in rows.chunks($crate::store::ledger_sql::ROWS_PER_INSERT) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "insert into transfers (transfer_id, batch_id, id_number, allowance, name, account_type, account_no, amount_fen) ",
                    );
                    q.push_values(chunk, |mut b, t| {
                        b.push_bind(&t.transfer_id)
                            .push_bind(&t.batch_id)
                            .push_bind(&t.id_number)
                            .push_bind(&t.allowance)
                            .push_bind(&t.name)
                            .push_bind(&t.account_type)
                            .push_bind(&t.account_no)
                            .push_bind(t.amount_fen);
                    });
                    q.build().execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn finish_batch(&mut self, batch_id: &str, t: &$crate::store::BatchTotals) -> $crate::store::StoreResult<()> {
                sqlx::query(
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
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn append_audit(
                &mut self,
                entry: &$crate::audit::AuditEntry,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                audit_insert_fresh(&mut self.tx, &self.pool, entry, now).await?;
                Ok(())
            }

            async fn commit(self) -> $crate::store::StoreResult<()> {
                self.tx.commit().await?;
                Ok(())
            }

            async fn rollback(self) -> $crate::store::StoreResult<()> {
                self.tx.rollback().await?;
                Ok(())
            }
        }

        /// An export's transaction (holds the batch's row until finished or abandoned).
        pub struct $export {
            tx: sqlx::Transaction<'static, $db>,
            batch: $crate::store::BatchRow,
        }

        impl $crate::store::ExportTx for $export {
            fn batch(&self) -> &$crate::store::BatchRow {
                &self.batch
            }

            async fn transfers(&mut self) -> $crate::store::StoreResult<Vec<$crate::store::TransferRow>> {
                Ok(sqlx::query_as($crate::store::ledger_sql::BATCH_TRANSFERS).bind(&self.batch.batch_id).fetch_all(&mut *self.tx).await?)
            }

            async fn postings(&mut self) -> $crate::store::StoreResult<Vec<$crate::store::PostingRow>> {
                let sql = format!(
                    "select {} from postings where batch_id = $1 order by payment_key",
                    $crate::store::ledger_sql::POSTING_COLUMNS
                );
                Ok(sqlx::query_as::<_, $crate::store::PostingRow>(&sql).bind(&self.batch.batch_id).fetch_all(&mut *self.tx).await?)
            }

            async fn finish(
                mut self,
                audit: &$crate::audit::AuditEntry,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                // The row is locked: the state checked by the caller still holds. The update says so
                // again, so that a misuse changes nothing.
                let done = sqlx::query(
                    "update batches set state = 'exported', exported_at = coalesce(exported_at, $1)
                     where batch_id = $2 and state in ('approved', 'exported')",
                )
                .bind(now)
                .bind(&self.batch.batch_id)
                .execute(&mut *self.tx)
                .await?;
                if done.rows_affected() != 1 {
                    self.tx.rollback().await?;
                    return Err($crate::store::StoreError::Corrupt(format!(
                        "batch {} is {}, not approved: it cannot be marked exported",
                        self.batch.batch_id,
                        self.batch.state.as_str()
                    )));
                }
                audit_insert(&mut self.tx, audit, now).await?;
                self.tx.commit().await?;
                Ok(())
            }

            async fn abandon(self) -> $crate::store::StoreResult<()> {
                self.tx.rollback().await?;
                Ok(())
            }
        }

        impl $crate::store::LedgerStore for $store {
            type Tx = $tx;

            async fn begin_batch(&self, district: &str) -> $crate::store::StoreResult<Option<$tx>> {
                Ok(self.begin_batch_tx(district).await?.map(|tx| $tx { tx, pool: self.pool.clone() }))
            }

            async fn batches(
                &self,
                district: Option<&str>,
                month: Option<$crate::month::ServiceMonth>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::BatchRow>> {
                let sql = format!(
                    "select {} from batches where ($1 = '' or district_code = $1) and ($2 = '' or service_month = $2)
                     order by district_code, service_month, kind, seq",
                    $crate::store::ledger_sql::BATCH_COLUMNS
                );
                sqlx::query(&sql)
                    .bind(district.unwrap_or(""))
                    .bind(month.map(|m| m.to_string()).unwrap_or_default())
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(batch_row)
                    .collect()
            }

            async fn batch(&self, batch_id: &str) -> $crate::store::StoreResult<Option<$crate::store::BatchRow>> {
                let sql = format!("select {} from batches where batch_id = $1", $crate::store::ledger_sql::BATCH_COLUMNS);
                sqlx::query(&sql).bind(batch_id).fetch_optional(&self.pool).await?.as_ref().map(batch_row).transpose()
            }

            async fn approve_batch(&self, batch_id: &str, by: &str, now: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "update batches set state = 'approved', approved_by = $1, approved_at = $2
                     where batch_id = $3 and state = 'computed'",
                )
                .bind(by)
                .bind(now)
                .bind(batch_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                // The approval and its audit entry commit together.
                let (fingerprint, control_sum, transfers): (String, i64, i64) = sqlx::query_as(
                    "select registry_fingerprint, control_sum_fen, transfer_count from batches where batch_id = $1",
                )
                .bind(batch_id)
                .fetch_one(&mut *tx)
                .await?;
                let entry = $crate::audit::AuditEntry {
                    actor: by.to_string(),
                    command: "approve".into(),
                    target: batch_id.to_string(),
                    reason: String::new(),
                    input_fingerprint: fingerprint,
                    details: serde_json::json!({ "control_sum": $crate::money::format_fen(control_sum), "transfers": transfers }).to_string(),
                };
                audit_insert(&mut tx, &entry, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn discard_batch(
                &self,
                batch_id: &str,
                reason: &str,
                audit: &$crate::audit::AuditEntry,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "update batches set state = 'discarded', state_reason = $1
                     where batch_id = $2 and state in ('computed', 'approved')",
                )
                .bind(reason)
                .bind(batch_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                // L1/L4: dropping a batch whose recoveries another district's batch relies on (a
                // move known late) would count those months twice, whatever the tier: refuse, in
                // the transaction that would drop it, naming those batches.
                let relying: Vec<String> = sqlx::query_scalar($crate::store::ledger_sql::RELYING_BATCHES).bind(batch_id).fetch_all(&mut *tx).await?;
                if !relying.is_empty() {
                    tx.rollback().await?;
                    return Err($crate::store::StoreError::ReliedOn { batch_id: batch_id.to_string(), relying });
                }
                unpost_batch(&mut tx, batch_id)
                    .await
                    .map_err(|e| $crate::store::StoreError::bound_or_database(e, || format!("the postings of batch {batch_id}")))?;
                audit_insert(&mut tx, audit, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn relying_batches(&self, batch_id: &str) -> $crate::store::StoreResult<Vec<$crate::store::BatchRow>> {
                let sql = format!(
                    "select {} from batches where batch_id in ({}) order by batch_id",
                    $crate::store::ledger_sql::BATCH_COLUMNS,
                    $crate::store::ledger_sql::RELYING_BATCHES
                );
                sqlx::query(&sql).bind(batch_id).fetch_all(&self.pool).await?.iter().map(batch_row).collect()
            }

            async fn withdraw_approval(
                &self,
                batch_id: &str,
                audit: &$crate::audit::AuditEntry,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "update batches set state = 'computed', approved_by = null, approved_at = null
                     where batch_id = $1 and state = 'approved'",
                )
                .bind(batch_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                audit_insert(&mut tx, audit, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn decide_recovery(
                &self,
                payment_key: &str,
                decision: &str,
                by: &str,
                reason: &str,
                audit: &$crate::audit::AuditEntry,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let open: i64 = sqlx::query_scalar(
                    "select count(*) from postings p join batches b on b.batch_id = p.batch_id
                     left join recovery_decisions d on d.payment_key = p.payment_key
                     where p.payment_key = $1 and p.line_type = 'recovery' and b.state = 'exported' and d.payment_key is null",
                )
                .bind(payment_key)
                .fetch_one(&mut *tx)
                .await?;
                if open == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(
                    "insert into recovery_decisions (payment_key, decision, decided_by, decided_at, reason)
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(payment_key)
                .bind(decision)
                .bind(by)
                .bind(now.to_rfc3339())
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                audit_insert(&mut tx, audit, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn recoveries(&self, district: Option<&str>) -> $crate::store::StoreResult<Vec<$crate::store::RecoveryRow>> {
                Ok(sqlx::query_as(
                    "select p.payment_key, p.batch_id, p.district_code, p.id_number, p.name, p.allowance, p.service_month,
                            -p.amount_fen as amount_fen, p.recovery_reason as reason, d.decision, d.decided_by, d.reason as decision_reason
                     from postings p join batches b on b.batch_id = p.batch_id
                     left join recovery_decisions d on d.payment_key = p.payment_key
                     where p.line_type = 'recovery' and b.state in ('computed', 'approved', 'exported')
                       and ($1 = '' or p.district_code = $1)
                     order by p.payment_key",
                )
                .bind(district.unwrap_or(""))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn postings_of(
                &self,
                id_number: &str,
                month: $crate::month::ServiceMonth,
            ) -> $crate::store::StoreResult<Vec<($crate::store::PostingRow, $crate::ledger::BatchState, i64)>> {
                use sqlx::Row as _;
                use sqlx::FromRow as _;
                let columns: Vec<String> =
                    $crate::store::ledger_sql::POSTING_COLUMNS.split(", ").map(|c| format!("p.{}", c.trim())).collect();
                let sql = format!(
                    "select {}, b.state, b.registry_import_id from postings p join batches b on b.batch_id = p.batch_id
                     where p.id_number = $1 and p.service_month = $2 order by p.payment_key",
                    columns.join(", ")
                );
                let rows = sqlx::query(&sql).bind(id_number).bind(month.to_string()).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let state: String = r.try_get("state")?;
                        let state = $crate::ledger::BatchState::parse(&state)
                            .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("batch state `{state}`")))?;
                        Ok(($crate::store::PostingRow::from_row(r)?, state, r.try_get::<i64, _>("registry_import_id")?))
                    })
                    .collect()
            }

            async fn person_as_of(
                &self,
                id_number: &str,
                import_id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::registry::PersonRecords>> {
                let rows: Vec<(String, String, i32, String)> = sqlx::query_as(
                    "select file, row_key, deleted, row_json from registry_versions
                     where id_number = $1 and import_id <= $2 order by file, row_key, import_id desc",
                )
                .bind(id_number)
                .bind(import_id)
                .fetch_all(&self.pool)
                .await?;
                let mut latest = Vec::new();
                let mut last_key: Option<(String, String)> = None;
                for (file, key, deleted, json) in rows {
                    let k = (file, key);
                    if last_key.as_ref() == Some(&k) {
                        continue;
                    }
                    last_key = Some(k);
                    if deleted == 0 {
                        latest.push(
                            serde_json::from_str::<$crate::registry::rows::Row>(&json)
                                .map_err(|e| $crate::store::StoreError::Corrupt(format!("registry version: {e}")))?,
                        );
                    }
                }
                Ok($crate::registry::PersonRecords::from_rows(id_number, latest))
            }

            type Export = $export;

            async fn begin_export(&self, batch_id: &str) -> $crate::store::StoreResult<Option<$export>> {
                let mut tx = self.begin_write().await?;
                let sql = format!(
                    "select {} from batches where batch_id = $1{}",
                    $crate::store::ledger_sql::BATCH_COLUMNS,
                    <$store>::ROW_LOCK
                );
                let row = sqlx::query(&sql).bind(batch_id).fetch_optional(&mut *tx).await?;
                match row.as_ref().map(batch_row).transpose()? {
                    Some(batch) => Ok(Some($export { tx, batch })),
                    None => {
                        tx.rollback().await?;
                        Ok(None)
                    }
                }
            }

            async fn batch_transfers(&self, batch_id: &str) -> $crate::store::StoreResult<Vec<$crate::store::TransferRow>> {
                Ok(sqlx::query_as($crate::store::ledger_sql::BATCH_TRANSFERS)
                .bind(batch_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn batch_postings(&self, batch_id: &str) -> $crate::store::StoreResult<Vec<$crate::store::PostingRow>> {
                let sql = format!(
                    "select {} from postings where batch_id = $1 order by payment_key",
                    $crate::store::ledger_sql::POSTING_COLUMNS
                );
                Ok(sqlx::query_as::<_, $crate::store::PostingRow>(&sql).bind(batch_id).fetch_all(&self.pool).await?)
            }

            async fn net_by_month(&self, district: &str, year: i32) -> $crate::store::StoreResult<Vec<$crate::store::NetRow>> {
                let sql = format!(
                    "select allowance, service_month, count(*) as person_times, cast(sum(amount) as bigint) as amount_fen,
                            cast(sum(lottery) as bigint) as lottery_fen, cast(sum(district) as bigint) as district_fen
                     from (select p.id_number, p.allowance, p.service_month, sum(p.amount_fen) as amount,
                                  sum(p.lottery_fen) as lottery, sum(p.district_fen) as district
                           from postings p join batches b on b.batch_id = p.batch_id
                           left join transfers t on t.transfer_id = p.transfer_id
                           where p.district_code = $1 and p.service_month >= $2 and p.service_month <= $3 and {}
                             and b.state = 'exported'
                           group by p.id_number, p.allowance, p.service_month
                           having sum(p.amount_fen) > 0) n
                     group by allowance, service_month
                     order by allowance, service_month",
                    $crate::ledger::COUNTED
                );
                Ok(sqlx::query_as::<_, $crate::store::NetRow>(&sql)
                    .bind(district)
                    .bind(format!("{year:04}-01"))
                    .bind(format!("{year:04}-12"))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn pending_by_batch(&self, district: &str, year: i32) -> $crate::store::StoreResult<Vec<$crate::store::PendingRow>> {
                Ok(sqlx::query_as::<_, $crate::store::PendingRow>(
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
                .fetch_all(&self.pool)
                .await?)
            }

            async fn held_waiting(&self) -> $crate::store::StoreResult<Vec<(String, i64)>> {
                // Adjustment numbers run over the key in every district (L4), so the latest
                // posting of a key is the one no counted posting with a higher number follows.
                Ok(sqlx::query_as(concat!(
                    "select p.district_code, cast(sum(p.amount_fen) as bigint)
                     from postings p join batches b on b.batch_id = p.batch_id
                     where p.held_reason is not null and b.state in ", $crate::counting_states!(), "
                       and not exists (
                         select 1 from postings q join batches c on c.batch_id = q.batch_id
                         where q.id_number = p.id_number and q.allowance = p.allowance
                           and q.service_month = p.service_month and q.adjustment > p.adjustment
                           and c.state in ", $crate::counting_states!(), ")
                     group by p.district_code
                     order by p.district_code",
                ))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn paid_years(&self) -> $crate::store::StoreResult<Vec<(String, i32)>> {
                let rows: Vec<(String, String)> = sqlx::query_as(concat!(
                    "select distinct p.district_code, substr(p.service_month, 1, 4)
                     from postings p join batches b on b.batch_id = p.batch_id
                     where b.state in ", $crate::counting_states!(), "
                     order by 1, 2",
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(d, y)| {
                        let year = y.parse().map_err(|_| $crate::store::StoreError::Corrupt(format!("service month year `{y}`")))?;
                        Ok((d, year))
                    })
                    .collect()
            }

            async fn ledger_check(&self) -> $crate::store::StoreResult<(i64, i64)> {
                let balances: Option<i64> = sqlx::query_scalar("select cast(sum(net_fen) as bigint) from balances").fetch_one(&self.pool).await?;
                let sql = format!(
                    "select cast(sum(p.amount_fen) as bigint) from postings p join batches b on b.batch_id = p.batch_id
                     left join transfers t on t.transfer_id = p.transfer_id where {}",
                    $crate::ledger::COUNTED
                );
                let postings: Option<i64> = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
                Ok((balances.unwrap_or(0), postings.unwrap_or(0)))
            }
        }
    };
}
pub(super) use impl_ledger;
