//! A result file's answers staged for `reconcile` (issue 11): a temporary table of one held
//! connection (`reconcile_answers`), filled chunk by chunk as the file is read (`COPY` on
//! PostgreSQL, many-row inserts on SQLite), then read back page by page in line order, each answer
//! with the answer above it naming the same transfer and the transfer as stored, and at last
//! recorded by one transaction on the same connection: every payment in one set-based statement,
//! the few failures and returns one by one (`results::record_change`). Memory holds a chunk or a
//! page, whatever the file's size; the connection is closed with the stage, taking the table.

use super::audit;
use super::contract::AnswerStage;
use super::error::{StoreError, StoreResult};
use super::pg_copy::{copy_in, CopyText};
use super::postgres::run_lock;
use super::results::{record_change, transfer_state};
use super::rows::{AnswerState, ResultChange, StagedAnswer};
use super::sql::{value_rows, Dialect, Held, Pool, Row, ROWS_PER_STATEMENT};
use crate::audit::AuditEntry;
use crate::ledger::{FaultCode, TransferResult, TransferStatus};
use chrono::{DateTime, SecondsFormat, Utc};

/// The staged answers of one result file, on their connection.
pub struct SqlAnswers {
    conn: Held,
}

/// The columns staged per answer: its line, the transfer it names, the answer (status, fault,
/// the platform's words), or why the row is none.
const COLUMNS: &str = "line, transfer_id, status, fault, reason, problem";

/// Create the stage on a connection of its own, and begin the transaction the answers are staged
/// in (it writes only the temporary table: no other writer waits for it).
pub(super) async fn open(pool: &Pool) -> StoreResult<SqlAnswers> {
    let mut conn = pool.hold().await?;
    let ddl = conn.dialect().answers_table();
    conn.query(ddl).execute().await?;
    conn.query("begin").execute().await?;
    Ok(SqlAnswers { conn })
}

/// An answer's staged values: status, fault, reason, problem.
fn values(a: &StagedAnswer) -> (Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
    match a {
        StagedAnswer::Answer(r) => (Some(r.status.as_str()), r.fault.map(FaultCode::as_str), r.reason.as_deref(), None),
        StagedAnswer::Unreadable { problem, .. } => (None, None, None, Some(problem.as_str())),
    }
}

impl AnswerStage for SqlAnswers {
    async fn add(&mut self, answers: &[StagedAnswer]) -> StoreResult<()> {
        if let Some(pg) = self.conn.postgres() {
            let mut rows = CopyText::with_capacity(answers.len() * 64);
            for a in answers {
                let (status, fault, reason, problem) = values(a);
                rows.int(a.line() as i64).text(a.transfer_id()).opt_text(status).opt_text(fault);
                rows.opt_text(reason).opt_text(problem).end_row();
            }
            return copy_in(pg, &format!("copy reconcile_answers ({COLUMNS}) from stdin"), rows).await;
        }
        let d = self.conn.dialect();
        for chunk in answers.chunks(ROWS_PER_STATEMENT) {
            let sql = format!("insert into reconcile_answers ({COLUMNS}) values {}", value_rows(d, chunk.len(), 6));
            let mut q = self.conn.query(&sql);
            for a in chunk {
                let (status, fault, reason, problem) = values(a);
                q = q.bind(a.line() as i64).bind(a.transfer_id()).bind(status).bind(fault).bind(reason).bind(problem);
            }
            q.execute().await?;
        }
        Ok(())
    }

    async fn seal(&mut self) -> StoreResult<()> {
        // The answer above one naming the same transfer is an index probe; built once, at the end,
        // it costs a sort instead of an update per answer staged.
        self.conn
            .query("create index reconcile_answers_transfer on reconcile_answers (transfer_id, line)")
            .execute()
            .await?;
        self.conn.query("commit").execute().await?;
        if self.conn.dialect() == Dialect::Postgres {
            // A temporary table has no statistics unless asked (autovacuum does not see it).
            self.conn.query("analyze reconcile_answers").execute().await?;
        }
        Ok(())
    }

    async fn page(&mut self, after: u64, limit: i64) -> StoreResult<Vec<AnswerState>> {
        self.conn
            .query(
                "select s.line as answer_line, s.transfer_id as answer_transfer, s.status as answer_status,
                        s.fault as answer_fault, s.reason as answer_reason, s.problem as answer_problem,
                        (select p.line from reconcile_answers p
                         where p.transfer_id = s.transfer_id and p.line < s.line
                         order by p.line desc limit 1) as previous,
                        t.transfer_id, t.batch_id, b.district_code, b.state, t.id_number, t.allowance, t.account_no,
                        t.amount_fen, t.status, t.reason_code
                 from reconcile_answers s
                 left join transfers t on t.transfer_id = s.transfer_id
                 left join batches b on b.batch_id = t.batch_id
                 where s.line > $1
                 order by s.line
                 limit $2",
            )
            .bind(after as i64)
            .bind(limit)
            .fetch_all_as(answer_state)
            .await
    }

    async fn record(
        &mut self,
        district: &str,
        paid: u64,
        others: &[ResultChange],
        by: &str,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.conn.begin_write().await?;
        // The district's run lock, waited for: no batch of the district is computed while its
        // transfers' lines leave the balances (a batch would otherwise add to a balance this
        // recomputes from what it sees). SQLite's single writer already orders them.
        if tx.dialect() == Dialect::Postgres {
            let (class, key) = run_lock(district);
            tx.query("select cast(pg_advisory_xact_lock($1, $2) as text)")
                .bind(class)
                .bind(key)
                .fetch_optional()
                .await?;
        }
        let seq = audit::append(&mut tx, entry, now).await?.seq;
        let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        // Pending → paid, the bulk of a result file, in one statement; it must move exactly the
        // transfers the check counted (one answered meanwhile makes the file be checked again).
        if paid > 0 {
            let (ordered, back) = tx.dialect().key_ordered_join();
            for statement in ordered {
                tx.query(statement).execute().await?;
            }
            let rows = tx
                .query(
                    "update transfers as t set status = 'paid', reason = s.reason, result_seq = $1, result_at = $2
                     from reconcile_answers as s
                     where s.transfer_id = t.transfer_id and s.status = 'paid' and t.status = 'pending'",
                )
                .bind(seq)
                .bind(at.as_str())
                .execute()
                .await?;
            for statement in back {
                tx.query(statement).execute().await?;
            }
            if rows != paid {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let mut cancelled = Vec::new();
        for c in others {
            match record_change(&mut tx, c, by, seq, &at).await? {
                Some(keys) => cancelled.extend(keys),
                None => {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
        }
        tx.commit().await?;
        Ok(Some(cancelled))
    }
}

fn answer_state(r: &Row) -> StoreResult<AnswerState> {
    let line = r.get::<i64, _>("answer_line")? as u64;
    let transfer_id: String = r.get("answer_transfer")?;
    let status: Option<String> = r.get("answer_status")?;
    let fault: Option<String> = r.get("answer_fault")?;
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("staged answer {what} `{value}`"));
    let answer = match (status, r.get::<Option<String>, _>("answer_problem")?) {
        (Some(status), None) => StagedAnswer::Answer(TransferResult {
            line,
            transfer_id,
            status: TransferStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            fault: fault.map(|f| FaultCode::parse(&f).ok_or_else(|| corrupt("fault", &f))).transpose()?,
            reason: r.get("answer_reason")?,
        }),
        (None, Some(problem)) => StagedAnswer::Unreadable { line, transfer_id, problem },
        _ => return Err(corrupt("of line", &line.to_string())),
    };
    let known: Option<String> = r.get("transfer_id")?;
    Ok(AnswerState {
        answer,
        previous: r.get::<Option<i64>, _>("previous")?.map(|l| l as u64),
        transfer: known.map(|_| transfer_state(r)).transpose()?,
    })
}
