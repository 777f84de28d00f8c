//! Fresh databases per case, and small helpers shared by the cases.

use libtest_mimic::Failed;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use subsidy::store::AnyStore;

/// Which database a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A case body: gets a migrated, empty store.
pub type CaseFn = fn(&AnyStore) -> Pin<Box<dyn Future<Output = Result<(), Failed>> + '_>>;

/// A named case of the contract.
pub struct Case {
    pub name: &'static str,
    pub run: CaseFn,
}

/// Declare cases: each name is an `async fn name<S: Store>(s: &S) -> Result<(), Failed>` in scope.
#[macro_export]
macro_rules! cases {
    ($($name:ident),+ $(,)?) => {
        vec![$($crate::support::Case {
            name: stringify!($name),
            run: |any| Box::pin(async move { subsidy::with_store!(any, |s| $name(s).await) }),
        }),+]
    };
}

/// The PostgreSQL server for tests, if any.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("SUBSIDY_TEST_PG_URL").ok().filter(|s| !s.is_empty())
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Run a case on a fresh database of `backend`, then drop that database.
pub fn run_case(backend: Backend, run: CaseFn) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("t.db").display());
                let store = fresh(&url).await?;
                run(&store).await
            }
            Backend::Postgres => {
                let admin = pg_admin_url().ok_or("SUBSIDY_TEST_PG_URL not set")?;
                let name = format!("subsidy_t_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
                let admin_pool = sqlx::PgPool::connect(&admin).await?;
                sqlx::query(&format!("drop database if exists {name}")).execute(&admin_pool).await?;
                sqlx::query(&format!("create database {name}")).execute(&admin_pool).await?;
                let url = with_database(&admin, &name);
                let result = match fresh(&url).await {
                    Ok(store) => {
                        let r = run(&store).await;
                        close(store).await;
                        r
                    }
                    Err(e) => Err(e),
                };
                sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&admin_pool).await?;
                result
            }
        }
    })
}

async fn fresh(url: &str) -> Result<AnyStore, Failed> {
    let store = subsidy::store::open_or_create(url).await?.0;
    subsidy::with_store!(&store, |s| subsidy::store::Store::migrate(s).await)?;
    Ok(store)
}

async fn close(store: AnyStore) {
    if let AnyStore::Postgres(s) = store {
        s.close().await;
    }
}

/// The admin URL with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    format!("{}/{db}{query}", &base[..host_end])
}

/// Fail with a message unless `cond`.
pub fn check(cond: bool, msg: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(msg.into().into())
    }
}

/// Fail unless `left == right`, showing both.
pub fn eq<T: PartialEq + std::fmt::Debug>(left: T, right: T, what: &str) -> Result<(), Failed> {
    if left == right {
        Ok(())
    } else {
        Err(format!("{what}: got {left:?}, expected {right:?}").into())
    }
}
