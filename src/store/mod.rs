//! Storage: one trait, [`Store`], with a SQLite implementation (the embedded default) and a
//! PostgreSQL one (production), chosen once from the database URL. Both run the same SQL text
//! (written once, in [`registry_sql`]) against their own migrations in `migrations/{sqlite,postgres}`;
//! money is integer fen in both. The contract test suite (`tests/storage`) runs on both.

mod audit_sql;
mod error;
mod ledger;
mod ledger_sql;
mod postgres;
mod registry_sql;
mod sqlite;

pub use error::{Conflict, StoreError, StoreResult};
pub use ledger::*;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::month::ServiceMonth;
use crate::policy::Policy;
use crate::registry::rows::{FileKind, RejectCode, RowOp};
use crate::registry::PersonRecords;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What happened when a policy version was offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyLoad {
    /// Stored as a new version.
    Added,
    /// The same version with the same content was already there.
    AlreadyLoaded,
    /// A version of this name or effective month exists with different content.
    Conflict(String),
}

/// A row the store refused within an import (the checks that need the database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreReject {
    /// Line number in the file.
    pub line: u64,
    /// Reason code.
    pub code: RejectCode,
    /// What is wrong.
    pub detail: String,
}

/// A rejected row as kept in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReject {
    /// File name.
    pub file: String,
    /// Line number.
    pub line: u64,
    /// Reason code.
    pub reason: String,
    /// What is wrong.
    pub detail: String,
}

/// The storage contract. Every method is one transaction or a read.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Apply the migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;
    /// The engine's first service month (T7), once set.
    async fn start_month(&self) -> StoreResult<Option<ServiceMonth>>;
    /// Set the engine's first service month.
    async fn set_start_month(&self, month: ServiceMonth) -> StoreResult<()>;
    /// Every stored policy version.
    async fn policy_versions(&self) -> StoreResult<Vec<Policy>>;
    /// Store a policy version unless it is already there.
    async fn add_policy(&self, policy: &Policy, source: &str, now: DateTime<Utc>) -> StoreResult<PolicyLoad>;
    /// The transaction an import is written in.
    type Import: ImportTx;
    /// Open an import of a directory: one transaction, committed by [`ImportTx::finish`]; an
    /// import that fails or is killed leaves nothing behind.
    async fn begin_import(&self, dir: &str, now: DateTime<Utc>) -> StoreResult<Self::Import>;
    /// Everything recorded of one person, or none when no registration exists.
    async fn person(&self, id_number: &str) -> StoreResult<Option<PersonRecords>>;
    /// Rows per registry table.
    async fn registry_counts(&self) -> StoreResult<BTreeMap<String, i64>>;
    /// The districts with at least one registration.
    async fn districts(&self) -> StoreResult<Vec<String>>;
    /// Append an entry to the audit log, in its own transaction.
    async fn append_audit(
        &self,
        entry: &crate::audit::AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::audit::AuditRow>;
    /// The whole audit log, and the head recorded at the last append.
    async fn audit_log(&self) -> StoreResult<(Vec<crate::audit::AuditRow>, Option<(i64, String)>)>;
}

/// An import in progress: every file's rows, then its totals, in one transaction.
#[allow(async_fn_in_trait)]
pub trait ImportTx {
    /// The import's id.
    fn import_id(&self) -> i64;
    /// Apply validated rows of one file: upsert or delete by key. Rows naming an unknown person,
    /// or repeating a key already written by this import, are refused and returned.
    async fn apply_rows(&mut self, kind: FileKind, rows: &[(u64, RowOp)]) -> StoreResult<Vec<StoreReject>>;
    /// Record the totals and rejected rows and commit the import.
    async fn finish(self, accepted: u64, rejects: &[StoredReject], now: DateTime<Utc>) -> StoreResult<()>;
}

/// The store a URL selects.
pub enum AnyStore {
    /// `sqlite://FILE`
    Sqlite(SqliteStore),
    /// `postgres://…`
    Postgres(PgStore),
}

/// Open (and create, for SQLite) the database a URL names.
pub async fn open(url: &str) -> StoreResult<AnyStore> {
    if url.starts_with("sqlite:") {
        Ok(AnyStore::Sqlite(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(AnyStore::Postgres(PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// Run `$body` with `$s` bound to the concrete store inside an [`AnyStore`].
#[macro_export]
macro_rules! with_store {
    ($any:expr, |$s:ident| $body:expr) => {
        match $any {
            $crate::store::AnyStore::Sqlite($s) => $body,
            $crate::store::AnyStore::Postgres($s) => $body,
        }
    };
}
