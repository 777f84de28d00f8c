//! PostgreSQL: the production database (`postgres://…`).

use super::audit_sql::impl_audit;
use super::ledger_sql::impl_ledger;
use super::registry_sql::impl_store;
use super::StoreResult;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;

/// The PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connect to the database a `postgres://` URL names.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new().max_connections(4).connect_with(options).await?;
        Ok(PgStore { pool })
    }

    /// Close the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Locks a row read in a write transaction until commit.
    pub(crate) const ROW_LOCK: &'static str = " for update";

    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    /// Begin a batch's transaction holding the district's run lock: a transaction-scoped advisory
    /// lock, released by commit, rollback or a dropped connection (a crash leaves no stale lock).
    pub(crate) async fn begin_batch_tx(
        &self,
        district: &str,
    ) -> Result<Option<Transaction<'static, Postgres>>, sqlx::Error> {
        let count = "select count(*) from batches where district_code = $1";
        // The snapshot is taken by the statement that takes the lock, an instant before the lock
        // is granted: a run of the district that committed in that instant is invisible to it,
        // and this run would compute the month again. Once the lock is held no batch of the
        // district can be added, so a fresh count (through the pool) that differs from the
        // snapshot's means exactly that: begin again with a snapshot that sees it.
        for _ in 0..3 {
            // One snapshot for the whole batch: every page reads the registry as it stood at the start.
            let mut tx = self.pool.begin_with("begin isolation level repeatable read").await?;
            let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1, $2)")
                .bind(RUN_LOCK_CLASS)
                .bind(district.parse::<i32>().unwrap_or(0))
                .fetch_one(&mut *tx)
                .await?;
            if !locked {
                tx.rollback().await?;
                return Ok(None);
            }
            let seen: i64 = sqlx::query_scalar(count).bind(district).fetch_one(&mut *tx).await?;
            let committed: i64 = sqlx::query_scalar(count).bind(district).fetch_one(&self.pool).await?;
            if seen == committed {
                return Ok(Some(tx));
            }
            tx.rollback().await?;
        }
        // Every attempt lost the lock to another run and then saw its batch late: the district is busy.
        Ok(None)
    }
}

/// First key of the run lock (`pg_try_advisory_xact_lock(class, district)`): "SUBS" in ASCII.
const RUN_LOCK_CLASS: i32 = 0x5355_4253;

impl_audit!(Postgres, "lock table audit_log in exclusive mode", true);
// Imports take a transaction-scoped advisory lock ("SUBI" = 0x53554249, 0): one at a time.
impl_store!(PgStore, PgImport, Postgres, "select pg_advisory_xact_lock(1398096457, 0)");
// A rerun's set of persons to read lives in a temporary table dropped with its transaction.
impl_ledger!(
    PgStore,
    PgBatch,
    PgExport,
    Postgres,
    "create temporary table if not exists rerun_persons (id_number text collate \"C\" primary key) on commit drop"
);
