//! Building blocks shared by the scenario cases (`batch`, `corrections`, `regressions`): the
//! people who run and approve batches, the registry and platform files' CSV headers, elders of a
//! cast and their rows, fixed dates and run times (T1), loading registry files, running a regular
//! batch, approving and exporting it, and the plain-text renderings of stored postings and
//! transfers that the cases compare against.
//!
//! Only helpers that are the same in every file that uses them live here; where a file needs a
//! variant (its own four-eyes `approve`, export checks, setup or CSV ordering) it keeps its own.

use crate::import::{import, write_dir};
use crate::support::eq;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use libtest_mimic::Failed;
use std::collections::BTreeMap;
use std::path::Path;
use subsidy::batch::{run_district, RunOutcome, RunRequest};
use subsidy::clock::Clock;
use subsidy::ledger::BatchKind;
use subsidy::ledger::BatchState;
use subsidy::money::format_fen;
use subsidy::month::ServiceMonth;
use subsidy::policy::PolicyBook;
use subsidy::store::{BatchRow, LedgerStore, PostingRow, Store, TransferRow};

/// Xicheng, where the scenarios' elders are registered.
pub const DISTRICT: &str = "110102";
/// Who runs batches (`run --by`).
pub const OPERATOR: &str = "operator-wang";
/// Who approves them (`approve --by`), never the runner.
pub const REVIEWER: &str = "reviewer-li";

/// The store's streams of a batch's rows for its files (export, verify) hold exactly its rows: the
/// transfers by transfer id; the postings, each once, split among the three files that list them,
/// each in its file's order (`lines.csv` by transfer id, those of no transfer first, then payment
/// key; `held.csv` and `recoveries.csv` by person); each transfer beside the sum of its lines.
pub async fn rows_streamed_as_stored<S: LedgerStore>(s: &S, batch: &str) -> Result<(), Failed> {
    use futures_util::TryStreamExt as _;
    use subsidy::store::{BatchRows as _, LinesOf, TransferSum};
    let (transfers, mut postings) = (s.batch_transfers(batch).await?, s.batch_postings(batch).await?);
    let mut rows = s.batch_rows(batch);
    let streamed: Vec<TransferRow> = rows.transfers().try_collect().await?;
    eq(&streamed, &transfers, &format!("{batch}: transfers streamed"))?;
    let mut lines = Vec::new();
    for which in [LinesOf::Paid, LinesOf::Held, LinesOf::Recovered] {
        let got: Vec<PostingRow> = rows.lines(which).try_collect().await?;
        let keys: Vec<(String, String)> = got
            .iter()
            .map(|p| match which {
                LinesOf::Paid => (p.transfer_id.clone().unwrap_or_default(), p.payment_key.clone()),
                LinesOf::Held | LinesOf::Recovered => (p.id_number.clone(), String::new()),
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        eq(keys, sorted, &format!("{batch}: {which:?} lines in their file's order"))?;
        let strays: Vec<&str> = got.iter().filter(|p| !which.lists(p)).map(|p| p.payment_key.as_str()).collect();
        eq(strays, vec![], &format!("{batch}: {which:?} lines the file does not list"))?;
        lines.extend(got);
    }
    lines.sort_by(|a, b| a.payment_key.cmp(&b.payment_key));
    postings.sort_by(|a, b| a.payment_key.cmp(&b.payment_key));
    eq(lines, postings.clone(), &format!("{batch}: every posting streamed once"))?;
    let sums: Vec<TransferSum> = rows.transfer_sums().try_collect().await?;
    let want: Vec<TransferSum> = transfers
        .iter()
        .map(|t| TransferSum {
            transfer_id: t.transfer_id.clone(),
            amount_fen: t.amount_fen,
            lines_fen: postings
                .iter()
                .filter(|p| p.transfer_id.as_ref() == Some(&t.transfer_id))
                .map(|p| p.amount_fen)
                .sum(),
        })
        .collect();
    eq(sums, want, &format!("{batch}: each transfer beside the sum of its lines"))
}

// ------------------------------------------------------------------------------ registry files

pub const ELDERS: &str = concat!(
    "id_number,name,birth_date,district_code,street_code,",
    "hukou_in_date,hukou_out_date,death_date,account_type,account_no\n"
);
pub const APPLICATIONS: &str = "id_number,allowance,applied_on,decision,decided_on\n";
pub const CERTS: &str = "id_number,category,grade,multiple,issued_on,revoked_on\n";

// ------------------------------------------------------------------------------ platform files

pub const TRANSFERS_HEADER: &str = "transfer_id,id_number,name,account_type,account_no,allowance,amount";
pub const LINES_HEADER: &str = concat!(
    "transfer_id,payment_key,id_number,allowance,tier,service_month,line_type,",
    "amount,lottery_amount,district_amount,street_code"
);
pub const HELD_HEADER: &str = "id_number,name,allowance,service_month,amount,reason";
pub const RECOVERIES_HEADER: &str = "id_number,name,allowance,service_month,amount,reason";

// ---------------------------------------------------------------------------------------- cast

/// An ID number whose region of first issue is `region` (the registry, not the ID, says where
/// the person is registered).
pub fn id(region: &str, birth: &str, seq: u32) -> String {
    subsidy::idcard::make(region, day(birth), seq)
}

/// One elder of a cast, registered in [`DISTRICT`].
pub struct Elder {
    pub id: String,
    pub name: &'static str,
    pub birth: &'static str,
    pub street: &'static str,
    pub account_type: &'static str,
    /// The account number once recorded (an elder may be registered without one at first: see
    /// [`Elder::row_with_account`]).
    pub account_no: &'static str,
}

impl Elder {
    pub fn new(
        name: &'static str,
        birth: &'static str,
        seq: u32,
        street: &'static str,
        account_type: &'static str,
        account_no: &'static str,
    ) -> Elder {
        Elder { id: id(DISTRICT, birth, seq), name, birth, street, account_type, account_no }
    }

    /// An `elders.csv` row with the elder's account number; `death` may be empty.
    pub fn row(&self, death: &str) -> String {
        self.row_with_account(death, self.account_no)
    }

    /// An `elders.csv` row; `death` and `account_no` may be empty.
    pub fn row_with_account(&self, death: &str, account_no: &str) -> String {
        format!(
            "{},{},{},{DISTRICT},{},,,{death},{},{account_no}\n",
            self.id, self.name, self.birth, self.street, self.account_type
        )
    }

    /// The payment key of one posting (L4).
    pub fn key(&self, allowance: &str, month: &str, adjustment: u32) -> String {
        format!("{}-{allowance}-{month}-{adjustment}", self.id)
    }
}

// --------------------------------------------------------------------------------- dates, times

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

pub fn month(s: &str) -> ServiceMonth {
    s.parse().expect("month")
}

/// Today for the commands: 2021-01-01, after every month run.
pub fn clock() -> Clock {
    Clock::fixed(day("2021-01-01"))
}

/// T1: month M is run on the 26th of M−1 at 02:00 Beijing time (18:00 UTC the day before).
pub fn run_time(m: &str) -> DateTime<Utc> {
    let p = month(m).prev();
    Utc.with_ymd_and_hms(p.year(), p.month(), 25, 18, 0, 0).unwrap()
}

// ------------------------------------------------------------------------- load, run, approve

/// Import registry files (name, text); fails on any reject.
pub async fn load<S: Store>(s: &S, files: &[(&str, &str)]) -> Result<(), Failed> {
    let dir = write_dir(files);
    let report = import(s, dir.path()).await?;
    eq(report.rejects.len(), 0, &format!("import rejects {:?}", report.rejects))
}

/// Run the regular batch of `district` for month `m` (engine start 2020-01) at its T1 time.
pub async fn regular_in<S: Store + LedgerStore>(
    s: &S,
    book: &PolicyBook,
    district: &str,
    m: &str,
) -> Result<RunOutcome, Failed> {
    let req = RunRequest {
        month: month(m),
        by: OPERATOR.into(),
        dry_run: false,
        kind: BatchKind::Regular,
        reason: None,
        ..Default::default()
    };
    Ok(run_district(s, book, month("2020-01"), district, &req, run_time(m)).await?)
}

/// Run the regular batch of [`DISTRICT`] for month `m`.
pub async fn regular<S: Store + LedgerStore>(s: &S, book: &PolicyBook, m: &str) -> Result<RunOutcome, Failed> {
    regular_in(s, book, DISTRICT, m).await
}

/// The reviewer approves what the operator ran.
pub async fn approve<S: LedgerStore>(s: &S, batch: &str) -> Result<(), Failed> {
    eq(s.approve_batch(batch, REVIEWER, clock().now()).await?, true, &format!("{batch} approved by {REVIEWER}"))
}

/// Export into `out/<batch>`; file name → text. The rows streamed for the files are the batch's
/// rows ([`rows_streamed_as_stored`]).
pub async fn export<S: LedgerStore>(s: &S, batch: &str, out: &Path) -> Result<BTreeMap<String, String>, Failed> {
    let written = subsidy::ops::export::write_export_by(s, batch, &out.join(batch), OPERATOR, clock()).await?;
    eq(s.batch(batch).await?.map(|b| b.state), Some(BatchState::Exported), &format!("{batch} exported"))?;
    rows_streamed_as_stored(s, batch).await?;
    let mut files = BTreeMap::new();
    for f in written {
        let text = String::from_utf8(std::fs::read(out.join(batch).join(&f.name))?)?;
        files.insert(f.name, text);
    }
    Ok(files)
}

/// Rows in the ledger: batches, postings, transfers.
pub async fn ledger_rows<S: LedgerStore>(s: &S) -> Result<(usize, usize, usize), Failed> {
    let batches = s.batches(None, None).await?;
    let (mut postings, mut transfers) = (0, 0);
    for b in &batches {
        postings += s.batch_postings(&b.batch_id).await?.len();
        transfers += s.batch_transfers(&b.batch_id).await?.len();
    }
    Ok((batches.len(), postings, transfers))
}

// ------------------------------------------------------------------------------------- as text

/// The id of a batch's transfer with sequence number `n`.
pub fn transfer_id(batch: &str, n: u32) -> String {
    format!("{batch}-{n:06}")
}

/// `key type tier amount = lottery + district district-code paid`, paid being `-> transfer`,
/// `held REASON` or `no transfer`.
pub fn posting_text(p: &PostingRow) -> String {
    let pay = match (&p.transfer_id, &p.held_reason) {
        (Some(t), _) => format!("-> {t}"),
        (None, Some(h)) => format!("held {h}"),
        (None, None) => "no transfer".to_string(),
    };
    format!(
        "{} {} {} {} = {} + {} {} {pay}",
        p.payment_key,
        p.line_type,
        p.tier,
        format_fen(p.amount_fen),
        format_fen(p.lottery_fen),
        format_fen(p.district_fen),
        p.district_code
    )
}

/// `transfer-id person account-type account-no allowance amount` of a stored transfer.
pub fn transfer_text(t: &TransferRow) -> String {
    format!(
        "{} {} {} {} {} {}",
        t.transfer_id,
        t.id_number,
        t.account_type.clone().unwrap_or_default(),
        t.account_no,
        t.allowance,
        format_fen(t.amount_fen)
    )
}

/// `transfers: control sum = lottery + district; held H; recovered R` of a stored batch (H its
/// held lines, R its recovery items, positive).
pub fn totals_text(b: &BatchRow) -> String {
    format!(
        "{}: {} = {} + {}; held {}; recovered {}",
        b.transfer_count,
        format_fen(b.control_sum_fen),
        format_fen(b.lottery_fen),
        format_fen(b.district_fen),
        format_fen(b.held_fen),
        format_fen(b.recovery_fen)
    )
}

/// An expected transfer as [`transfer_text`] renders it: sequence number, elder, allowance, amount.
pub fn transfer(batch: &str, n: u32, who: &Elder, allowance: &str, amount: &str) -> String {
    format!("{} {} {} {} {allowance} {amount}", transfer_id(batch, n), who.id, who.account_type, who.account_no)
}

/// An expected transfers.csv row.
pub fn transfer_row(batch: &str, n: u32, who: &Elder, allowance: &str, amount: &str) -> String {
    format!(
        "{},{},{},{},{},{allowance},{amount}",
        transfer_id(batch, n),
        who.id,
        who.name,
        who.account_type,
        who.account_no
    )
}

/// A CSV file's expected text: header, then the rows in the order given, each ending in `\n`.
pub fn csv(header: &str, rows: Vec<String>) -> String {
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    text
}
