//! A batch's rows as its platform files list them, streamed (export, verify): memory holds a few
//! rows whatever the batch's size.
//!
//! Each file's rows are sorted by byte order of their columns (INTERFACE.md). The queries order by
//! the columns that come first and that both databases compare byte by byte (the ids: `collate
//! "C"` on PostgreSQL, SQLite's binary collation); the file's writer sorts the few rows equal on
//! them (a person's held months) and refuses rows that arrive out of that order, so that a
//! database sorting otherwise fails the export instead of writing other bytes.

use super::postings::{posting_row, BATCH_TRANSFERS, POSTING_COLUMNS};
use super::rows::{LinesOf, PostingRow, TransferRow, TransferSum};
use super::sql::{Conn, RowStream};
use std::sync::LazyLock;

/// The batch's transfers, by transfer id: the order of `transfers.csv` and of pain.001.
pub(super) fn transfers<'c>(conn: Conn<'c>, batch_id: &'c str) -> RowStream<'c, TransferRow> {
    conn.into_query(BATCH_TRANSFERS).bind(batch_id).stream_as(|r| Ok(r.to()?))
}

/// The postings `which` file lists, by its first column: `lines.csv` by transfer id (lines of no
/// transfer first: their column is empty) and payment key, which is unique; `held.csv` and
/// `recoveries.csv` by person (the writer sorts each person's rows).
pub(super) fn lines<'c>(conn: Conn<'c>, batch_id: &'c str, which: LinesOf) -> RowStream<'c, PostingRow> {
    static SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
        let select = format!("select {} from postings where batch_id = $1", POSTING_COLUMNS.join(", "));
        [
            format!(
                "{select} and held_reason is null and line_type <> 'recovery'
                 order by transfer_id is not null, transfer_id, payment_key"
            ),
            format!("{select} and held_reason is not null order by id_number, payment_key"),
            format!("{select} and line_type = 'recovery' order by id_number, payment_key"),
        ]
    });
    let sql = match which {
        LinesOf::Paid => &SQL[0],
        LinesOf::Held => &SQL[1],
        LinesOf::Recovered => &SQL[2],
    };
    conn.into_query(sql).bind(batch_id).stream_as(posting_row)
}

/// Per transfer of the batch, by transfer id: its amount and the sum of the batch's lines naming it.
pub(super) fn transfer_sums<'c>(conn: Conn<'c>, batch_id: &'c str) -> RowStream<'c, TransferSum> {
    conn.into_query(
        "select t.transfer_id, t.amount_fen, coalesce(l.lines_fen, 0) as lines_fen
         from transfers t
         left join (select transfer_id, cast(sum(amount_fen) as bigint) as lines_fen
                    from postings where batch_id = $1 and transfer_id is not null
                    group by transfer_id) l on l.transfer_id = t.transfer_id
         where t.batch_id = $1
         order by t.transfer_id",
    )
    .bind(batch_id)
    .stream_as(|r| Ok(r.to()?))
}

/// A batch's rows read on the pool, outside any transaction (`verify`).
pub struct PoolBatchRows<'a> {
    pub(super) pool: &'a super::sql::Pool,
    pub(super) batch_id: &'a str,
}

impl super::contract::BatchRows for PoolBatchRows<'_> {
    fn transfers(&mut self) -> RowStream<'_, TransferRow> {
        transfers(Conn::Pool(self.pool), self.batch_id)
    }

    fn lines(&mut self, which: LinesOf) -> RowStream<'_, PostingRow> {
        lines(Conn::Pool(self.pool), self.batch_id, which)
    }

    fn transfer_sums(&mut self) -> RowStream<'_, TransferSum> {
        transfer_sums(Conn::Pool(self.pool), self.batch_id)
    }
}
