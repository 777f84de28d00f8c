//! Shared by the property tests that drive whole scenarios on a store (`rerun_equivalence.rs`,
//! `platform_results.rs`): a fresh database per case, SQLite in a temporary folder or a
//! PostgreSQL database created on the server `SUBSIDY_TEST_PG_URL` names and dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};
use subsidy::store::AnyStore;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A database for one case.
pub struct FreshDb {
    /// Its URL.
    pub url: String,
    /// PostgreSQL: the admin pool and the database's name, to drop it.
    admin: Option<(sqlx::PgPool, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl FreshDb {
    /// SQLite when `pg` is none, else a new database named `{prefix}_{pid}_{n}` on that server.
    pub async fn new(pg: Option<&str>, prefix: &str) -> anyhow::Result<FreshDb> {
        let Some(admin) = pg else {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("t.db").display());
            return Ok(FreshDb { url, admin: None, _dir: Some(dir) });
        };
        let name = format!("{prefix}_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let pool = sqlx::PgPool::connect(admin).await?;
        sqlx::query(&format!("create database {name}")).execute(&pool).await?;
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => anyhow::bail!("SUBSIDY_TEST_PG_URL has no database name"),
        };
        Ok(FreshDb { url, admin: Some((pool, name)), _dir: None })
    }

    /// Close the store and drop the database (PostgreSQL); the case's result passes through.
    pub async fn finish<T>(self, store: AnyStore, result: anyhow::Result<T>) -> anyhow::Result<T> {
        if let AnyStore::Postgres(s) = store {
            s.close().await;
        }
        if let Some((pool, name)) = self.admin {
            sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&pool).await?;
        }
        result
    }
}
