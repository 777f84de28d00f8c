//! PostgreSQL: the production database (`postgres://…`). Several commands write at once, so
//! a district's batch holds the district's run lock (an advisory lock) and reads the registry
//! from one snapshot. Opening tries one connection first, bounded and classified
//! (`connect.rs`), so that a stopped server or a missing database is said at once; `init` alone
//! creates a missing database.

use super::connect;
use super::error::{ConnectProblem, StoreError, StoreResult};
use super::sql::{Pool, Tx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};
use std::str::FromStr;

/// The PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(super) pool: Pool,
}

impl PgStore {
    /// Connect to the database a `postgres://` URL names. The first connection is tried alone,
    /// for at most [`connect::CONNECT_TIMEOUT`] (the pool would retry a refused one for 30 s and
    /// then say only that it timed out); its failure is a [`StoreError::Connect`].
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = options(url)?;
        connect::pg_connect(&options).await?.close().await?;
        let pool = PgPoolOptions::new().max_connections(4).connect_with(options).await?;
        Ok(PgStore { pool: Pool::Postgres(pool) })
    }

    /// [`PgStore::open`], creating the database first when the server has none of that name and
    /// the role may create one (`init`: "create the database if needed"). Also returns where the
    /// database was created, if it was.
    pub async fn open_or_create(url: &str) -> StoreResult<(Self, Option<String>)> {
        match PgStore::open(url).await {
            Err(StoreError::Connect { problem: ConnectProblem::DatabaseMissing { database }, target }) => {
                create_database(&options(url)?, &database, &target).await?;
                let created = format!("created the PostgreSQL database \"{database}\" on {target}");
                Ok((PgStore::open(url).await?, Some(created)))
            }
            opened => Ok((opened?, None)),
        }
    }

    /// Close the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The connection options a URL gives, quieter than the server's default (notices are not errors).
fn options(url: &str) -> StoreResult<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::BadUrl { url: connect::redact_url(url), said: e.to_string() })?;
    Ok(options.options([("client_min_messages", "warning")]))
}

/// `CREATE DATABASE` through the server's maintenance database (`postgres`, else `template1`, as
/// `createdb` does). Another `init` creating it at the same moment is as good; a role that may
/// not is told what to do instead.
async fn create_database(options: &PgConnectOptions, database: &str, target: &str) -> StoreResult<()> {
    let mut conn = match connect::pg_connect(&options.clone().database("postgres")).await {
        Err(StoreError::Connect { problem: ConnectProblem::DatabaseMissing { .. }, .. }) => {
            connect::pg_connect(&options.clone().database("template1")).await?
        }
        other => other?,
    };
    let created = sqlx::query(&format!("create database {}", connect::quote_ident(database))).execute(&mut conn).await;
    let code = match &created {
        Err(sqlx::Error::Database(d)) => d.code().map(|c| c.into_owned()),
        _ => None,
    };
    conn.close().await?;
    match (created, code.as_deref()) {
        (Ok(_), _) | (Err(_), Some("42P04")) => Ok(()), // 42P04: it exists now
        (Err(_), Some("42501")) => Err(StoreError::Connect {
            problem: ConnectProblem::MayNotCreate {
                database: database.to_string(),
                role: options.get_username().to_string(),
            },
            target: target.to_string(),
        }),
        (Err(e), _) => Err(e.into()),
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
const RUN_LOCK_CLASS: i32 = 0x5355_4253;

/// The two keys of a district's run lock, taken by a batch (`begin_batch`) and waited for by
/// whatever must not run beside one (`reconcile`'s write).
pub(super) fn run_lock(district: &str) -> (i32, i32) {
    (RUN_LOCK_CLASS, district.parse::<i32>().unwrap_or(0))
}

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
        let (class, key) = run_lock(district);
        let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1, $2)")
            .bind(class)
            .bind(key)
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
