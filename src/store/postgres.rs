//! PostgreSQL: the production database (`postgres://…`). Several commands write at once, so
//! a district's batch holds the district's run lock (an advisory lock) and reads the registry
//! from one snapshot.

use super::error::StoreResult;
use super::sql::{Pool, Tx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;

/// The PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(super) pool: Pool,
}

impl PgStore {
    /// Connect to the database a `postgres://` URL names.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new().max_connections(4).connect_with(options).await?;
        Ok(PgStore { pool: Pool::Postgres(pool) })
    }

    /// Close the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Apply the PostgreSQL migrations (idempotent).
pub(super) async fn migrate(pool: &PgPool) -> StoreResult<()> {
    sqlx::migrate!("migrations/postgres").run(pool).await?;
    Ok(())
}

/// The newest migration this binary carries.
pub(super) fn latest_migration() -> i64 {
    sqlx::migrate!("migrations/postgres").iter().map(|m| m.version).max().unwrap_or(0)
}

/// First key of the run lock (`pg_try_advisory_xact_lock(class, district)`): "SUBS" in ASCII.
pub(super) const RUN_LOCK_CLASS: i32 = 0x5355_4253;

/// Begin a batch's transaction holding the district's run lock: a transaction-scoped advisory
/// lock, released by commit, rollback or a dropped connection (a crash leaves no stale lock).
/// `None` when another run holds it.
pub(super) async fn begin_batch(pool: &PgPool, district: &str) -> StoreResult<Option<Tx>> {
    let count = "select count(*) from batches where district_code = $1";
    // The snapshot is taken by the statement that takes the lock, an instant before the lock
    // is granted: a run of the district that committed in that instant is invisible to it,
    // and this run would compute the month again. Once the lock is held no batch of the
    // district can be added, so a fresh count (through the pool) that differs from the
    // snapshot's means exactly that: begin again with a snapshot that sees it.
    for _ in 0..3 {
        // One snapshot for the whole batch: every page reads the registry as it stood at the start.
        let mut tx = pool.begin_with("begin isolation level repeatable read").await?;
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
        let committed: i64 = sqlx::query_scalar(count).bind(district).fetch_one(pool).await?;
        if seen == committed {
            return Ok(Some(Tx::Postgres(tx)));
        }
        tx.rollback().await?;
    }
    // Every attempt lost the lock to another run and then saw its batch late: the district is busy.
    Ok(None)
}
