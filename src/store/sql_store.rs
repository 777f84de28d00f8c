//! The storage contract implemented once, for both databases: [`SqliteStore`] and [`PgStore`]
//! are each a [`Pool`] of their database ([`SqlStore`]), and every trait method below is a call
//! into the plain function that holds its SQL, in the file of its topic. Only connecting,
//! migrating and taking a district's run lock differ per database (`sqlite.rs`, `postgres.rs`).

use super::answers;
use super::audit;
use super::batch_files;
use super::batches::{self, SqlBatch};
use super::contract::{BatchRows, BatchTx, ExportTx, ImportTx, LedgerStore, PlatformStore, StatisticsOf, Store};
use super::error::StoreResult;
use super::imports::{self, SqlImport};
use super::ledger_view;
use super::postgres::{self, PgStore};
use super::postings;
use super::reads;
use super::registry;
use super::reruns;
use super::results;
use super::review::{self, FlagRules, Flags, LineGroup, RegularChange};
use super::rows::{
    BatchRow, BatchTotals, CarriedRow, DistrictSettled, HistoryRow, IdRange, KeyPaid, LinesOf, NetRow, NewBatch,
    PendingRow, PolicyLoad, PostingRow, RecipientsRow, RecoveryRow, StoreReject, StoredReject, TransferCount,
    TransferRow, TransferState, TransferSum, WaitingRow,
};
use super::sql::{Conn, Pool, RowStream};
use super::sqlite::{self, SqliteStore};
use super::transitions::{self, Change, SqlExport, Transition};
use crate::audit::{AuditEntry, AuditRow};
use crate::codes::Allowance;
use crate::ledger::{BatchState, OpenHold};
use crate::month::ServiceMonth;
use crate::policy::Policy;
use crate::registry::rows::{FileKind, RowOp};
use crate::registry::PersonRecords;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A store over one of the two databases: what the contract's implementation needs of it.
pub trait SqlStore {
    /// The store's connection pool.
    fn pool(&self) -> &Pool;
}

impl SqlStore for SqliteStore {
    fn pool(&self) -> &Pool {
        &self.pool
    }
}

impl SqlStore for PgStore {
    fn pool(&self) -> &Pool {
        &self.pool
    }
}

impl<S: SqlStore> Store for S {
    type Import = SqlImport;

    async fn refresh_statistics(&self, tables: StatisticsOf) -> StoreResult<()> {
        if let Pool::Postgres(pool) = self.pool() {
            // `skip_locked`: a table another session holds (an anti-wraparound vacuum, DDL) is
            // left for autovacuum rather than waited for between two districts of a run.
            sqlx::query(&format!("analyze (skip_locked) {}", tables.tables())).execute(pool).await?;
        }
        Ok(())
    }

    async fn migrate(&self) -> StoreResult<()> {
        match self.pool() {
            Pool::Sqlite(pool) => sqlite::migrate(pool).await,
            Pool::Postgres(pool) => postgres::migrate(pool).await,
        }
    }

    async fn schema_versions(&self) -> StoreResult<(i64, i64)> {
        let latest = match self.pool() {
            Pool::Sqlite(_) => sqlite::latest_migration(),
            Pool::Postgres(_) => postgres::latest_migration(),
        };
        let applied: Option<i64> = self
            .pool()
            .query("select cast(max(version) as bigint) from _sqlx_migrations where success")
            .fetch_scalar()
            .await?;
        Ok((applied.unwrap_or(0), latest))
    }

    async fn start_month(&self) -> StoreResult<Option<ServiceMonth>> {
        registry::start_month(self.pool()).await
    }

    async fn set_start_month(&self, month: ServiceMonth) -> StoreResult<()> {
        registry::set_start_month(self.pool(), month).await
    }

    async fn policy_versions(&self) -> StoreResult<Vec<Policy>> {
        registry::policy_versions(self.pool()).await
    }

    async fn add_policy(&self, policy: &Policy, source: &str, now: DateTime<Utc>) -> StoreResult<PolicyLoad> {
        registry::add_policy(self.pool(), policy, source, now).await
    }

    async fn begin_import(&self, dir: &str, now: DateTime<Utc>) -> StoreResult<SqlImport> {
        imports::begin(self.pool(), dir, now).await
    }

    async fn person(&self, id_number: &str) -> StoreResult<Option<PersonRecords>> {
        registry::person(self.pool(), id_number).await
    }

    async fn registry_counts(&self) -> StoreResult<BTreeMap<String, i64>> {
        registry::registry_counts(self.pool()).await
    }

    async fn districts(&self) -> StoreResult<Vec<String>> {
        registry::districts(self.pool()).await
    }

    async fn append_audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<AuditRow> {
        let mut tx = self.pool().begin_write().await?;
        let row = audit::append(&mut tx, entry, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn audit_log(&self) -> StoreResult<(Vec<AuditRow>, Option<(i64, String)>)> {
        audit::log(self.pool()).await
    }
}

impl ImportTx for SqlImport {
    fn import_id(&self) -> i64 {
        SqlImport::import_id(self)
    }

    async fn apply_rows(&mut self, kind: FileKind, rows: &[(u64, RowOp)]) -> StoreResult<Vec<StoreReject>> {
        SqlImport::apply_rows(self, kind, rows).await
    }

    async fn finish(
        self,
        accepted: u64,
        rejects: &[StoredReject],
        files_sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        SqlImport::finish(self, accepted, rejects, files_sha256, now).await
    }
}

impl<S: SqlStore> LedgerStore for S {
    type Tx = SqlBatch;
    type Export = SqlExport;

    async fn begin_batch(&self, district: &str) -> StoreResult<Option<SqlBatch>> {
        let tx = match self.pool() {
            pool @ Pool::Sqlite(_) => sqlite::begin_batch(pool).await?,
            Pool::Postgres(pool) => postgres::begin_batch(pool, district).await?,
        };
        Ok(tx.map(|tx| SqlBatch { tx, pool: self.pool().clone() }))
    }

    async fn batches(&self, district: Option<&str>, month: Option<ServiceMonth>) -> StoreResult<Vec<BatchRow>> {
        reads::batches(self.pool(), district, month).await
    }

    async fn batch(&self, batch_id: &str) -> StoreResult<Option<BatchRow>> {
        reads::batch(self.pool(), batch_id).await
    }

    async fn approve_batch(&self, batch_id: &str, by: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        transitions::approve(self.pool(), batch_id, by, now).await
    }

    async fn discard_batch(
        &self,
        batch_id: &str,
        reason: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        transitions::discard(self.pool(), batch_id, reason, audit, now).await
    }

    async fn relying_batches(&self, batch_id: &str) -> StoreResult<Vec<BatchRow>> {
        reads::relying_batches(self.pool(), batch_id).await
    }

    async fn withdraw_approval(&self, batch_id: &str, audit: &AuditEntry, now: DateTime<Utc>) -> StoreResult<bool> {
        Transition::make(self.pool(), Change::Withdraw { batch_id }, audit, now).await
    }

    async fn decide_recovery(
        &self,
        payment_key: &str,
        decision: &str,
        by: &str,
        reason: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let change = Change::DecideRecovery { payment_key, decision, by, reason, at: now };
        Transition::make(self.pool(), change, audit, now).await
    }

    async fn recoveries(&self, district: Option<&str>) -> StoreResult<Vec<RecoveryRow>> {
        reads::recoveries(self.pool(), district).await
    }

    async fn postings_of(
        &self,
        id_number: &str,
        month: ServiceMonth,
    ) -> StoreResult<Vec<(PostingRow, BatchState, i64)>> {
        reads::postings_of(self.pool(), id_number, month).await
    }

    async fn person_as_of(&self, id_number: &str, import_id: i64) -> StoreResult<Option<PersonRecords>> {
        reads::person_as_of(self.pool(), id_number, import_id).await
    }

    async fn begin_export(&self, batch_id: &str) -> StoreResult<Option<SqlExport>> {
        transitions::begin_export(self.pool(), batch_id).await
    }

    fn batch_rows<'a>(&'a self, batch_id: &'a str) -> impl BatchRows + 'a {
        batch_files::PoolBatchRows { pool: self.pool(), batch_id }
    }

    async fn batch_transfers(&self, batch_id: &str) -> StoreResult<Vec<TransferRow>> {
        postings::batch_transfers(&mut Conn::Pool(self.pool()), batch_id).await
    }

    async fn batch_postings(&self, batch_id: &str) -> StoreResult<Vec<PostingRow>> {
        postings::batch_postings(&mut Conn::Pool(self.pool()), batch_id).await
    }

    async fn net_by_month(&self, district: &str, year: i32) -> StoreResult<Vec<NetRow>> {
        reads::net_by_month(self.pool(), district, year).await
    }

    async fn review_lines(
        &self,
        district: &str,
        month: ServiceMonth,
        previous: ServiceMonth,
    ) -> StoreResult<Vec<LineGroup>> {
        review::line_groups(self.pool(), district, month, previous).await
    }

    async fn review_changes(
        &self,
        district: &str,
        month: ServiceMonth,
        previous: ServiceMonth,
    ) -> StoreResult<Vec<RegularChange>> {
        review::regular_changes(self.pool(), district, month, previous).await
    }

    async fn review_flags(&self, district: &str, month: ServiceMonth, rules: FlagRules) -> StoreResult<Flags> {
        review::flags(self.pool(), district, month, rules).await
    }

    async fn recipients(
        &self,
        district: &str,
        from: ServiceMonth,
        to: ServiceMonth,
    ) -> StoreResult<Vec<RecipientsRow>> {
        reads::recipients(self.pool(), district, from, to).await
    }

    async fn pending_by_batch(&self, district: &str, year: i32) -> StoreResult<Vec<PendingRow>> {
        reads::pending_by_batch(self.pool(), district, year).await
    }

    async fn held_waiting(&self) -> StoreResult<Vec<(String, i64)>> {
        // One definition of what waits (L3): the held lines among `results::waiting`.
        Ok(super::rows::held_by_district(&results::waiting(self.pool(), IdRange::ALL).await?))
    }

    async fn paid_years(&self) -> StoreResult<Vec<(String, i32)>> {
        reads::paid_years(self.pool()).await
    }

    async fn ledger_check(&self) -> StoreResult<(i64, i64)> {
        reads::ledger_check(self.pool()).await
    }
}

impl<S: SqlStore> PlatformStore for S {
    async fn transfer_states(&self, ids: &[String]) -> StoreResult<Vec<TransferState>> {
        results::transfer_states(self.pool(), ids).await
    }

    type Answers = answers::SqlAnswers;

    async fn stage_answers(&self) -> StoreResult<Self::Answers> {
        answers::open(self.pool()).await
    }

    async fn open_holds(&self) -> StoreResult<Vec<OpenHold>> {
        results::open_holds(&mut Conn::Pool(self.pool())).await
    }

    async fn add_hold(
        &self,
        id_number: &str,
        allowance: Option<Allowance>,
        by: &str,
        reason: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        results::add_hold(self.pool(), id_number, allowance, by, reason, audit, now).await
    }

    async fn release_holds(
        &self,
        id_number: &str,
        allowance: Option<Allowance>,
        by: &str,
        reason: &str,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        results::release_holds(self.pool(), id_number, allowance, by, reason, audit, now).await
    }

    async fn waiting(&self, ids: IdRange<'_>) -> StoreResult<Vec<WaitingRow>> {
        results::waiting(self.pool(), ids).await
    }

    async fn transfer_counts(&self) -> StoreResult<Vec<TransferCount>> {
        results::transfer_counts(self.pool()).await
    }

    async fn all_persons_page(&self, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>> {
        ledger_view::persons_page(self.pool(), after, limit).await
    }

    async fn keys_paid(&self, ids: IdRange<'_>) -> StoreResult<Vec<KeyPaid>> {
        ledger_view::keys_paid(self.pool(), ids).await
    }

    async fn districts_settled(&self) -> StoreResult<Vec<DistrictSettled>> {
        ledger_view::districts_settled(self.pool()).await
    }

    async fn person_changes(&self, ids: IdRange<'_>) -> StoreResult<Vec<(String, i64)>> {
        ledger_view::person_changes(self.pool(), ids).await
    }
}

impl BatchTx for SqlBatch {
    async fn district_batches(&mut self, district: &str) -> StoreResult<Vec<BatchRow>> {
        batches::district_batches(&mut self.tx, district).await
    }

    async fn persons_page(&mut self, district: &str, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>> {
        batches::persons_page(&mut self.tx, district, after, limit).await
    }

    async fn history(&mut self, ids: &[String]) -> StoreResult<Vec<HistoryRow>> {
        batches::history(&mut self.tx, ids).await
    }

    async fn lottery_used(&mut self, district: &str, year: i32) -> StoreResult<i64> {
        batches::lottery_used(&mut self.tx, district, year).await
    }

    async fn insert_batch(&mut self, batch: &NewBatch) -> StoreResult<String> {
        batches::insert_batch(&mut self.tx, batch).await
    }

    async fn insert_postings(
        &mut self,
        rows: &[PostingRow],
        ceilings: &[(String, i64)],
        update_balances: bool,
    ) -> StoreResult<()> {
        postings::insert_postings(&mut self.tx, rows, ceilings, update_balances).await
    }

    async fn insert_transfers(&mut self, rows: &[TransferRow]) -> StoreResult<()> {
        postings::insert_transfers(&mut self.tx, rows).await
    }

    async fn finish_batch(&mut self, batch_id: &str, totals: &BatchTotals) -> StoreResult<()> {
        batches::finish_batch(&mut self.tx, batch_id, totals).await
    }

    async fn supersede(&mut self, batch_id: &str, by_batch: &str, reason: &str) -> StoreResult<bool> {
        // Committed, with the rerun's own audit entry, when the rerun commits.
        Change::Supersede { batch_id, by_batch, reason }.apply(&mut self.tx).await
    }

    async fn carry_over(&mut self, old: &str, new: &str) -> StoreResult<Vec<CarriedRow>> {
        reruns::carry_over(&mut self.tx, old, new).await
    }

    async fn mark_rerun_persons(
        &mut self,
        district: &str,
        vouching: &str,
        watermark: i64,
        since_seq: i64,
    ) -> StoreResult<i64> {
        reruns::mark_rerun_persons(&mut self.tx, district, vouching, watermark, since_seq).await
    }

    async fn rerun_persons_page(&mut self, after: &str, limit: i64) -> StoreResult<Vec<PersonRecords>> {
        reruns::rerun_persons_page(&mut self.tx, after, limit).await
    }

    async fn policy_version_names(&mut self) -> StoreResult<Vec<String>> {
        reruns::policy_version_names(&mut self.tx).await
    }

    async fn batch_seq(&mut self, batch_id: &str) -> StoreResult<Option<(i64, i64)>> {
        reruns::batch_seq(&mut self.tx, batch_id).await
    }

    async fn policy_loaded_since(&mut self, batch_id: &str, since_seq: i64) -> StoreResult<bool> {
        reruns::policy_loaded_since(&mut self.tx, batch_id, since_seq).await
    }

    async fn refresh_balances(
        &mut self,
        batch_ids: &[&str],
        ceilings: &[(String, i64)],
        rerun_persons_only: bool,
    ) -> StoreResult<()> {
        postings::refresh_balances(&mut self.tx, batch_ids, ceilings, rerun_persons_only).await
    }

    async fn renumber_transfers(&mut self, batch_id: &str) -> StoreResult<u32> {
        reruns::renumber_transfers(&mut self.tx, batch_id).await
    }

    async fn open_holds(&mut self) -> StoreResult<Vec<OpenHold>> {
        results::open_holds(&mut Conn::Tx(&mut self.tx)).await
    }

    async fn append_audit(&mut self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
        audit::append_in_batch(&mut self.tx, &self.pool, entry, now).await?;
        Ok(())
    }

    async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
    }

    async fn rollback(self) -> StoreResult<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl BatchRows for SqlExport {
    fn transfers(&mut self) -> RowStream<'_, TransferRow> {
        batch_files::transfers(Conn::Tx(&mut self.tx), &self.batch.batch_id)
    }

    fn lines(&mut self, which: LinesOf) -> RowStream<'_, PostingRow> {
        batch_files::lines(Conn::Tx(&mut self.tx), &self.batch.batch_id, which)
    }

    fn transfer_sums(&mut self) -> RowStream<'_, TransferSum> {
        batch_files::transfer_sums(Conn::Tx(&mut self.tx), &self.batch.batch_id)
    }
}

impl ExportTx for SqlExport {
    fn batch(&self) -> &BatchRow {
        &self.batch
    }

    async fn finish(self, audit: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
        transitions::finish_export(self, audit, now).await
    }

    async fn abandon(self) -> StoreResult<()> {
        Ok(self.tx.rollback().await?)
    }
}
