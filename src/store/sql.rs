//! The two databases behind one small surface, so that the store's SQL is written once, as plain
//! functions: a [`Pool`], a transaction ([`Tx`]) and a connection kept across transactions
//! ([`Held`]) of either database, a [`Query`] that binds
//! values straight into the concrete sqlx query of its database (no boxing per value: a bulk
//! insert costs what it cost through sqlx alone), and a [`Row`] that decodes on both.
//!
//! One SQL text serves both databases: both take `$1, $2, …` placeholders (sqlx-sqlite numbers
//! `$N` as PostgreSQL does, and a repeated `$N` is the same value); only long lists of values
//! are spelled per database ([`list_params`], [`value_rows`]), for speed. What else really differs
//! is said by [`Dialect`]. Every error goes through [`StoreError`](super::StoreError)'s one classification
//! (`?`); [`Query::execute`] hands back the database's own error first, so that a write the
//! schema's bound refused can be named (L4).

use super::error::StoreResult;
use futures_util::stream::{BoxStream, StreamExt as _};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{
    ColumnIndex, Connection as _, Decode, Encode, FromRow, PgPool, Postgres, Row as _, Sqlite, SqlitePool, Transaction,
    Type,
};

/// A connection pool of either database.
#[derive(Clone, Debug)]
pub enum Pool {
    /// The embedded database.
    Sqlite(SqlitePool),
    /// The production database.
    Postgres(PgPool),
}

/// An open transaction of either database, on a connection it owns (`'static`: [`Tx`]) or borrows
/// from a [`Held`] one; dropped without commit, it rolls back.
pub enum Txn<'c> {
    /// SQLite.
    Sqlite(Transaction<'c, Sqlite>),
    /// PostgreSQL.
    Postgres(Transaction<'c, Postgres>),
}

/// A transaction on a connection of the pool, which returns to the pool with it.
pub type Tx = Txn<'static>;

/// One connection of the pool kept for a command's whole work, for what lives on a connection
/// (a temporary table) across several transactions. It is closed when dropped, not returned to
/// the pool: what it created, and any transaction left open, go with it.
pub enum Held {
    /// SQLite.
    Sqlite(PoolConnection<Sqlite>),
    /// PostgreSQL.
    Postgres(PoolConnection<Postgres>),
}

/// Where the two databases really differ, beyond connecting and migrating (`sqlite.rs`,
/// `postgres.rs`). Everything else is the same SQL text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: one writer at a time; a write transaction (`begin immediate`) excludes all others.
    Sqlite,
    /// PostgreSQL: many writers; row locks, advisory locks and snapshots say who waits for whom.
    Postgres,
}

impl Dialect {
    /// The clause that locks a row read in a write transaction until commit. SQLite's write
    /// transaction already excludes every other writer.
    pub fn row_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " for update",
        }
    }

    /// The pragmas that give the connection of a bulk write (an import, a batch) a bigger page
    /// cache, and those that restore the defaults (SQLite: 64 MiB instead of 2 MiB, for the
    /// database and for the temporary one that holds an import's keys met, so that a large
    /// registry's indexes stay cached and the keys spill to disk only beyond 64 MiB). Only there:
    /// a bigger one on every connection would let every sort of an export or a verify hold that
    /// much too. Nothing on PostgreSQL.
    pub fn bulk_cache(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Dialect::Sqlite => (
                &["pragma cache_size = -65536", "pragma temp.cache_size = -65536"],
                &["pragma cache_size = -2000", "pragma temp.cache_size = -2000"],
            ),
            Dialect::Postgres => (&[], &[]),
        }
    }

    /// The statement that makes imports wait for each other until commit, so that import ids are
    /// in commit order (a batch's watermark then vouches for every import up to it): a
    /// transaction-scoped advisory lock ("SUBI" = 0x53554249, 0). SQLite's writer is alone anyway.
    pub fn import_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("select pg_advisory_xact_lock(1398096457, 0)"),
        }
    }

    /// The statement that serialises audit appends until commit, so that the chain's head read
    /// next stays the head until the new entry commits.
    pub fn audit_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("lock table audit_log in exclusive mode"),
        }
    }

    /// Whether a batch's transaction may read an older snapshot than the last commit: PostgreSQL's
    /// repeatable-read batch transaction took its snapshot when the batch began; SQLite's single
    /// writer always reads the latest.
    pub fn batch_snapshot_may_be_stale(self) -> bool {
        self == Dialect::Postgres
    }

    /// The keys an import has met so far in the file it reads (a key met twice is a duplicate): a
    /// temporary table, emptied when the import begins and when it turns to the next file.
    pub fn import_keys_table(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "create temp table if not exists import_keys (file text not null, row_key text not null, \
                 primary key (file, row_key)) without rowid"
            }
            Dialect::Postgres => {
                "create temporary table if not exists import_keys (file text not null, row_key text collate \"C\" \
                 not null, primary key (file, row_key)) on commit drop"
            }
        }
    }

    /// The statements before and after a set-based update that must visit its rows in key order:
    /// a result file's payments, a million rows. PostgreSQL's hash join, once the rows outgrow
    /// `work_mem`, hands them over partition by partition, scrambled, and every heap and index page
    /// of the transfers is then read and written again and again (18 s instead of 12 s for a
    /// million, with the default 128 MB of shared buffers); without it the join is a merge join in
    /// key order. Local to the transaction, and undone for the statements after it. Nothing on
    /// SQLite, whose joins are nested loops.
    pub fn key_ordered_join(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Dialect::Sqlite => (&[], &[]),
            Dialect::Postgres => (&["set local enable_hashjoin = off"], &["set local enable_hashjoin = on"]),
        }
    }

    /// The DDL of a result file's answers staged for `reconcile` (`answers.rs`): a temporary
    /// table of the connection that checks and records them, kept across its transactions
    /// (transfer ids in byte order on PostgreSQL, like the transfers' own).
    pub fn answers_table(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "create temp table reconcile_answers (line integer primary key, transfer_id text not null, \
                 status text, fault text, reason text, problem text)"
            }
            Dialect::Postgres => {
                "create temporary table reconcile_answers (line bigint primary key, transfer_id text collate \"C\" \
                 not null, status text, fault text, reason text, problem text)"
            }
        }
    }

    /// The DDL of a rerun's set of persons to read: a temporary table of the batch's connection
    /// (SQLite), dropped with its transaction (PostgreSQL; byte order like every ID column).
    pub fn rerun_persons_table(self) -> &'static str {
        match self {
            Dialect::Sqlite => "create temp table if not exists rerun_persons (id_number text primary key)",
            Dialect::Postgres => {
                "create temporary table if not exists rerun_persons (id_number text collate \"C\" primary key) \
                 on commit drop"
            }
        }
    }
}

impl Pool {
    /// Which database.
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement run on a connection of the pool, outside any transaction.
    pub fn query<'q>(&'q self, sql: &'q str) -> Query<'q> {
        Query(match self {
            Pool::Sqlite(p) => Statement::Sqlite(sqlx::query(sql), On::Pool(p)),
            Pool::Postgres(p) => Statement::Postgres(sqlx::query(sql), On::Pool(p)),
        })
    }

    /// Begin a write transaction. SQLite begins it `immediate`: it takes the one writer's lock at
    /// once (waiting up to the busy timeout), so two writers queue instead of failing half-way.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("begin immediate").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Take a connection out of the pool for a while (see [`Held`]).
    pub async fn hold(&self) -> Result<Held, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => {
                let mut c = p.acquire().await?;
                c.close_on_drop();
                Held::Sqlite(c)
            }
            Pool::Postgres(p) => {
                let mut c = p.acquire().await?;
                c.close_on_drop();
                Held::Postgres(c)
            }
        })
    }

    /// Close the pool (waits for connections to return).
    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Txn<'_> {
    /// Which database.
    pub fn dialect(&self) -> Dialect {
        match self {
            Txn::Sqlite(_) => Dialect::Sqlite,
            Txn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement run in this transaction.
    pub fn query<'q>(&'q mut self, sql: &'q str) -> Query<'q> {
        Query(match self {
            Txn::Sqlite(tx) => Statement::Sqlite(sqlx::query(sql), On::Conn(&mut **tx)),
            Txn::Postgres(tx) => Statement::Postgres(sqlx::query(sql), On::Conn(&mut **tx)),
        })
    }

    /// Make it all durable.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Txn::Sqlite(tx) => tx.commit().await,
            Txn::Postgres(tx) => tx.commit().await,
        }
    }

    /// Undo it all.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Txn::Sqlite(tx) => tx.rollback().await,
            Txn::Postgres(tx) => tx.rollback().await,
        }
    }
}

impl Held {
    /// Which database.
    pub fn dialect(&self) -> Dialect {
        match self {
            Held::Sqlite(_) => Dialect::Sqlite,
            Held::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement run on this connection, outside any transaction (or in one begun by a statement).
    pub fn query<'q>(&'q mut self, sql: &'q str) -> Query<'q> {
        Query(match self {
            Held::Sqlite(c) => Statement::Sqlite(sqlx::query(sql), On::Conn(&mut **c)),
            Held::Postgres(c) => Statement::Postgres(sqlx::query(sql), On::Conn(&mut **c)),
        })
    }

    /// Begin a write transaction on this connection ([`Pool::begin_write`]'s, `immediate` on SQLite).
    pub async fn begin_write(&mut self) -> Result<Txn<'_>, sqlx::Error> {
        Ok(match self {
            Held::Sqlite(c) => Txn::Sqlite(c.begin_with("begin immediate").await?),
            Held::Postgres(c) => Txn::Postgres(c.begin().await?),
        })
    }

    /// The PostgreSQL connection, for what only it does (`COPY`).
    pub fn postgres(&mut self) -> Option<&mut PgConnection> {
        match self {
            Held::Sqlite(_) => None,
            Held::Postgres(c) => Some(c),
        }
    }
}

/// Where a read runs that serves both a command on its own (the pool) and one inside a
/// transaction (e.g. an export reading its batch's rows under the lock).
pub enum Conn<'c> {
    /// A connection of the pool, outside any transaction.
    Pool(&'c Pool),
    /// An open transaction.
    Tx(&'c mut Tx),
}

impl<'c> Conn<'c> {
    /// Which database.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Pool(pool) => pool.dialect(),
            Conn::Tx(tx) => tx.dialect(),
        }
    }

    /// A statement run there.
    pub fn query<'q>(&'q mut self, sql: &'q str) -> Query<'q> {
        match self {
            Conn::Pool(pool) => pool.query(sql),
            Conn::Tx(tx) => tx.query(sql),
        }
    }

    /// A statement run there, holding the connection for as long as the query lives (a stream).
    pub fn into_query(self, sql: &'c str) -> Query<'c> {
        match self {
            Conn::Pool(pool) => pool.query(sql),
            Conn::Tx(tx) => tx.query(sql),
        }
    }
}

/// Rows decoded one at a time as the database sends them.
pub type RowStream<'q, T> = BoxStream<'q, StoreResult<T>>;

/// A value that binds on both databases.
pub trait Value<'q>: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send + 'q {}

impl<'q, T> Value<'q> for T where
    T: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send + 'q
{
}

/// A column type that decodes on both databases.
pub trait Column: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}

impl<T> Column for T where T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}

/// A row type that derives `sqlx::FromRow` (columns by name), on both databases.
pub trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}

impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}

/// One statement with its values, bound to where it runs.
pub struct Query<'q>(Statement<'q>);

enum Statement<'q> {
    Sqlite(sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>, On<'q, Sqlite>),
    Postgres(sqlx::query::Query<'q, Postgres, PgArguments>, On<'q, Postgres>),
}

/// Where a statement runs: on any connection of the pool, or on one connection (a transaction's,
/// or a held one).
enum On<'q, DB: sqlx::Database> {
    Pool(&'q sqlx::Pool<DB>),
    Conn(&'q mut DB::Connection),
}

impl<'q> Query<'q> {
    /// Bind the value of the next placeholder (`$N` in order of `N`).
    pub fn bind<T: Value<'q>>(self, value: T) -> Self {
        Query(match self.0 {
            Statement::Sqlite(q, on) => Statement::Sqlite(q.bind(value), on),
            Statement::Postgres(q, on) => Statement::Postgres(q.bind(value), on),
        })
    }

    /// Run it; the number of rows it changed. The error is the database's own, so that a refused
    /// bound can be named ([`StoreError::bound_or_database`](super::StoreError::bound_or_database)).
    pub async fn execute(self) -> Result<u64, sqlx::Error> {
        Ok(match self.0 {
            Statement::Sqlite(q, On::Pool(p)) => q.execute(p).await?.rows_affected(),
            Statement::Sqlite(q, On::Conn(c)) => q.execute(c).await?.rows_affected(),
            Statement::Postgres(q, On::Pool(p)) => q.execute(p).await?.rows_affected(),
            Statement::Postgres(q, On::Conn(c)) => q.execute(c).await?.rows_affected(),
        })
    }

    /// Every row it returns, read whole, then decoded. The way for results of bounded size (a
    /// page of persons and their postings, a district's batches), and the fastest: decoding rows
    /// as they arrive frees each one while SQLite's worker thread allocates the next, and the two
    /// threads contend for the allocator (a run took a fifth longer so).
    pub async fn fetch_all_as<T>(self, decode: impl FnMut(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        let rows: Vec<Row> = match self.0 {
            Statement::Sqlite(q, On::Pool(p)) => q.fetch_all(p).await?.into_iter().map(Row::Sqlite).collect(),
            Statement::Sqlite(q, On::Conn(c)) => q.fetch_all(c).await?.into_iter().map(Row::Sqlite).collect(),
            Statement::Postgres(q, On::Pool(p)) => q.fetch_all(p).await?.into_iter().map(Row::Postgres).collect(),
            Statement::Postgres(q, On::Conn(c)) => q.fetch_all(c).await?.into_iter().map(Row::Postgres).collect(),
        };
        rows.iter().map(decode).collect()
    }

    /// Every row it returns, each decoded as it arrives, so that the raw rows are never all held at
    /// once: the way for results as large as a batch (hundreds of thousands of postings).
    pub async fn stream_all_as<T, F>(self, mut decode: F) -> StoreResult<Vec<T>>
    where
        T: Send + Unpin,
        F: FnMut(&Row) -> StoreResult<T> + Send,
    {
        let rows: Vec<StoreResult<T>> = match self.0 {
            Statement::Sqlite(q, on) => {
                let q = q.try_map(|r| Ok(decode(&Row::Sqlite(r))));
                match on {
                    On::Pool(p) => q.fetch_all(p).await?,
                    On::Conn(c) => q.fetch_all(c).await?,
                }
            }
            Statement::Postgres(q, on) => {
                let q = q.try_map(|r| Ok(decode(&Row::Postgres(r))));
                match on {
                    On::Pool(p) => q.fetch_all(p).await?,
                    On::Conn(c) => q.fetch_all(c).await?,
                }
            }
        };
        rows.into_iter().collect()
    }

    /// Its rows as a stream, each decoded as it arrives and dropped once the caller is done with
    /// it: memory holds a few rows whatever the result's size (SQLite's worker sends at most its
    /// row channel's 50 ahead; PostgreSQL's rows wait in the socket). The way to read a result
    /// too large to hold, such as every line of a batch for its files.
    pub fn stream_as<T, F>(self, decode: F) -> RowStream<'q, T>
    where
        T: Send + 'q,
        F: Fn(&Row) -> StoreResult<T> + Send + 'q,
    {
        match self.0 {
            Statement::Sqlite(q, on) => {
                let rows = match on {
                    On::Pool(p) => q.fetch(p),
                    On::Conn(c) => q.fetch(c),
                };
                rows.map(move |r| decode(&Row::Sqlite(r?))).boxed()
            }
            Statement::Postgres(q, on) => {
                let rows = match on {
                    On::Pool(p) => q.fetch(p),
                    On::Conn(c) => q.fetch(c),
                };
                rows.map(move |r| decode(&Row::Postgres(r?))).boxed()
            }
        }
    }

    /// Every row it returns, as a [`Record`] (a result of bounded size).
    pub async fn fetch_records<T: Record>(self) -> StoreResult<Vec<T>> {
        self.fetch_all_as(|r| Ok(r.to()?)).await
    }

    /// Every row it returns, as a [`Record`], decoded as they arrive (a result as large as a batch).
    pub async fn stream_records<T: Record + Send + Unpin>(self) -> StoreResult<Vec<T>> {
        self.stream_all_as(|r| Ok(r.to()?)).await
    }

    /// The first column of every row.
    pub async fn fetch_scalars<T: Column>(self) -> StoreResult<Vec<T>> {
        self.fetch_all_as(|r| Ok(r.get(0)?)).await
    }

    /// Its first row, if any.
    pub async fn fetch_optional(self) -> StoreResult<Option<Row>> {
        Ok(match self.0 {
            Statement::Sqlite(q, On::Pool(p)) => q.fetch_optional(p).await?.map(Row::Sqlite),
            Statement::Sqlite(q, On::Conn(c)) => q.fetch_optional(c).await?.map(Row::Sqlite),
            Statement::Postgres(q, On::Pool(p)) => q.fetch_optional(p).await?.map(Row::Postgres),
            Statement::Postgres(q, On::Conn(c)) => q.fetch_optional(c).await?.map(Row::Postgres),
        })
    }

    /// Its first row (`RowNotFound` when there is none).
    pub async fn fetch_one(self) -> StoreResult<Row> {
        Ok(self.fetch_optional().await?.ok_or(sqlx::Error::RowNotFound)?)
    }

    /// The first column of its first row.
    pub async fn fetch_scalar<T: Column>(self) -> StoreResult<T> {
        Ok(self.fetch_one().await?.get(0)?)
    }
}

/// A row of either database.
pub enum Row {
    /// SQLite.
    Sqlite(SqliteRow),
    /// PostgreSQL.
    Postgres(PgRow),
}

impl Row {
    /// The value of a column, by name or position.
    pub fn get<T: Column, I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow>>(&self, column: I) -> Result<T, sqlx::Error> {
        match self {
            Row::Sqlite(r) => r.try_get(column),
            Row::Postgres(r) => r.try_get(column),
        }
    }

    /// The row as a [`Record`].
    pub fn to<T: Record>(&self) -> Result<T, sqlx::Error> {
        match self {
            Row::Sqlite(r) => T::from_row(r),
            Row::Postgres(r) => T::from_row(r),
        }
    }
}

/// Rows per many-row statement of narrow rows (11 columns × 400 stays below both databases'
/// parameter limits).
pub const ROWS_PER_STATEMENT: usize = 400;

/// The placeholders of a statement whose only values are a list of `n` (`… in (…)`): `$1, …, $n`
/// on PostgreSQL, `?, …, ?` on SQLite. SQLite finds the number of a named parameter (`$N`) by a
/// linear search of the statement's names, once per value bound, so that hundreds of `$N` in one
/// statement cost a tenth of a run; its anonymous `?` are numbered in order.
pub fn list_params(dialect: Dialect, n: usize) -> String {
    params_at(dialect, 1, n)
}

/// [`list_params`] for values bound from position `first` on (after `first - 1` others, bound
/// before them in the statement's text order).
pub fn params_at(dialect: Dialect, first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 6);
    push_params(&mut out, dialect, first, n);
    out
}

/// The `values` of a many-row insert of `rows` rows of `columns` values, bound row by row in
/// column order: `($1, $2), ($3, $4), …` on PostgreSQL, `(?, ?), (?, ?), …` on SQLite (see
/// [`list_params`]: an insert binds thousands of values).
pub fn value_rows(dialect: Dialect, rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * (columns * 6 + 4));
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        push_params(&mut out, dialect, r * columns + 1, columns);
        out.push(')');
    }
    out
}

/// Append `n` placeholders, numbered from `first` (PostgreSQL) or anonymous (SQLite).
fn push_params(out: &mut String, dialect: Dialect, first: usize, n: usize) {
    use std::fmt::Write as _;
    for i in first..first + n {
        let sep = if i == first { "" } else { ", " };
        match dialect {
            Dialect::Sqlite => write!(out, "{sep}?"),
            Dialect::Postgres => write!(out, "{sep}${i}"),
        }
        .expect("writing to a String");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_once_in_order() {
        assert_eq!(value_rows(Dialect::Postgres, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(Dialect::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list_params(Dialect::Postgres, 3), "$1, $2, $3");
        assert_eq!(list_params(Dialect::Sqlite, 3), "?, ?, ?");
    }
}
