//! Storage: one contract ([`Store`], [`LedgerStore`]), a SQLite implementation (the embedded
//! default) and a PostgreSQL one (production), chosen once from the database URL. Both run the
//! same SQL, written once as plain functions; money is integer fen in both, and the ledger's
//! bounds (L4) are constraints of the schema (`migrations/{sqlite,postgres}`). The contract test
//! suite (`tests/storage`) runs on both.
//!
//! A tour:
//!
//! | file | what |
//! |---|---|
//! | `contract.rs`, `rows.rs` | the traits and the rows they read and write |
//! | `error.rs` | [`StoreError`], classified once from the databases' error codes |
//! | `connect.rs` | opening a database: a bounded first connection, its failure said in one sentence |
//! | `sql.rs` | the two databases behind one pool, transaction, query and row; where they differ |
//! | `sqlite.rs`, `postgres.rs` | connecting, migrating, and how a district's batch takes its lock |
//! | `sql_store.rs` | the contract implemented once for both stores, each method a call into: |
//! | `registry.rs`, `imports.rs` | settings, policy versions, persons' records; imports |
//! | `batches.rs`, `postings.rs`, `reruns.rs` | a district's batch transaction: reads, writes, balances, replacing reruns |
//! | `batch_files.rs` | a batch's rows streamed in the order of its platform files (export, verify) |
//! | `transitions.rs` | every change of state (approve, withdraw, discard, supersede, export, recovery decisions) |
//! | `results.rs` | the platform's answers (transfer statuses, balances, holds), operators' holds and releases, what waits |
//! | `answers.rs` | a result file's answers staged on one connection, checked page by page and recorded (`reconcile`) |
//! | `ledger_view.rs` | what `verify --ledger` reads: every person, counted amounts per person-month, how far districts settled |
//! | `reads.rs` | what status, explain, verify and the report read |
//! | `audit.rs` | appending to and reading the hash-chained audit log |

mod answers;
mod audit;
mod batch_files;
mod batches;
mod connect;
mod contract;
mod error;
mod import_sql;
mod imports;
mod ledger_view;
mod pg_copy;
mod pg_import;
mod postgres;
mod postings;
mod reads;
mod registry;
mod reruns;
mod results;
mod review;
mod rows;
mod sql;
mod sql_store;
mod sqlite;
mod transitions;

pub use connect::{redact_url, CONNECT_TIMEOUT};
pub use contract::{
    AnswerStage, BatchRows, BatchTx, ExportTx, ImportTx, LedgerStore, PlatformStore, StatisticsOf, Store,
};
pub use error::{Conflict, ConnectProblem, StoreError, StoreResult};
pub use review::{FlagRules, FlaggedPerson, Flags, LineGroup, RegularChange};
pub use rows::{
    held_by_district, AnswerState, BatchRow, BatchTotals, CarriedRow, DistrictSettled, HistoryRow, IdRange, KeyPaid,
    LinesOf, NetRow, NewBatch, PendingRow, PolicyLoad, PostingRow, RecipientsRow, RecoveryRow, ResultChange,
    StagedAnswer, StoreReject, StoredReject, TransferCount, TransferRow, TransferState, TransferSum, WaitingKind,
    WaitingRow,
};
pub use sql::RowStream;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The store a URL selects.
pub enum AnyStore {
    /// `sqlite://FILE`
    Sqlite(SqliteStore),
    /// `postgres://…`
    Postgres(PgStore),
}

/// Open the database a URL names, which must exist: a SQLite file that does not is
/// [`StoreError::NoDatabaseFile`] (nothing is created), a PostgreSQL database
/// [`StoreError::Connect`]; each says to run `subsidy init`, which creates it ([`open_or_create`]).
pub async fn open(url: &str) -> StoreResult<AnyStore> {
    Ok(open_as(url, false).await?.0)
}

/// [`open`], creating the SQLite file, or a PostgreSQL database the server does not have (when the role may): what
/// `init` does. Also returns a sentence saying where a database was created, if one was.
pub async fn open_or_create(url: &str) -> StoreResult<(AnyStore, Option<String>)> {
    open_as(url, true).await
}

async fn open_as(url: &str, create: bool) -> StoreResult<(AnyStore, Option<String>)> {
    if url.starts_with("sqlite:") {
        let store = if create { SqliteStore::open(url).await? } else { SqliteStore::open_existing(url).await? };
        Ok((AnyStore::Sqlite(store), None))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (store, created) =
            if create { PgStore::open_or_create(url).await? } else { (PgStore::open(url).await?, None) };
        Ok((AnyStore::Postgres(store), created))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
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
