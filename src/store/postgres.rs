//! PostgreSQL: the production database (`postgres://…`).

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

    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }
}

impl_store!(PgStore, Postgres);
