//! What the monthly review (`report --month`, printed by `approve`) reads of a district's month
//! and the month before: the lines of their batches that stand (computed, approved or exported)
//! added up by allowance, tier, street, line type and hold; the change in each person's regular
//! line; and the few persons a reviewer should look at. Everything is added up in the database,
//! so the review reads a few thousand rows whatever the district's size.

use super::error::StoreResult;
use super::sql::Pool;
use crate::month::ServiceMonth;

/// The batches whose lines stand: not superseded, not discarded.
const STANDING: &str = "b.state in ('computed', 'approved', 'exported')";

/// A held line counts once in its month: every batch that reads a held person posts their held
/// lines again (L3: held is not paid), so a correction of the month re-posts the regular batch's
/// held lines; only the latest posting of a key among the month's standing batches stands for it
/// (a later paid posting of the key replaces it as well).
const LATEST_HELD: &str = "not (p.held_reason is not null and exists (
        select 1 from postings q join batches bq on bq.batch_id = q.batch_id
        where q.id_number = p.id_number and q.allowance = p.allowance and q.service_month = p.service_month
          and q.adjustment > p.adjustment and bq.district_code = b.district_code
          and bq.service_month = b.service_month and bq.state in ('computed', 'approved', 'exported')))";

/// Lines of the month's standing batches, added up.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LineGroup {
    /// The batches' service month (YYYY-MM): the month reviewed or the one before.
    pub month: String,
    /// The batch.
    pub batch_id: String,
    /// Allowance code.
    pub allowance: String,
    /// Tier.
    pub tier: String,
    /// Street.
    pub street_code: String,
    /// `regular`, `arrears`, `topup`, `offset` or `recovery`.
    pub line_type: String,
    /// Why held (L3), empty when paid.
    pub held_reason: String,
    /// Number of lines.
    pub lines: i64,
    /// Fen.
    pub amount_fen: i64,
    /// Lottery share, fen.
    pub lottery_fen: i64,
    /// District share, fen.
    pub district_fen: i64,
}

/// The change of regular lines (the month itself) from the month before, per person and
/// allowance, added up: `new` (no regular line the month before), `band` (another tier),
/// `rate` (same tier, another amount); `exit` rows are one per person (no regular line now).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RegularChange {
    /// `new`, `band`, `rate` or `exit`.
    pub change: String,
    /// Allowance code.
    pub allowance: String,
    /// Tier the month before (empty for `new`).
    pub from_tier: String,
    /// Tier now (empty for `exit`).
    pub to_tier: String,
    /// The person (`exit` rows only).
    pub id_number: String,
    /// Persons.
    pub persons: i64,
    /// Change of the regular amount, fen (negative for an exit).
    pub amount_fen: i64,
}

/// A person flagged for a look, with what the month pays them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FlaggedPerson {
    /// ID number (masked when shown).
    pub id_number: String,
    /// Name on the lines.
    pub name: String,
    /// Allowance, where the flag is about one.
    pub allowance: String,
    /// To pay this month (lines not held, recovery items aside), fen.
    pub to_pay_fen: i64,
    /// The regular lines of the month itself, fen (the person's usual).
    pub usual_fen: i64,
    /// Months of arrears paid at once (the many-arrears flag), else 0.
    pub months: i64,
    /// The account, for the shared-account flag (masked when shown).
    pub account_no: String,
}

/// Thresholds of the review's flags.
#[derive(Clone, Copy, Debug)]
pub struct FlagRules {
    /// Born on or before this day (YYYYMMDD): aged 110 or more by the month's end.
    pub born_by: u32,
    /// A payment is far above the usual when it is at least this many times the usual …
    pub times_usual: i64,
    /// … and at least this much (fen) above it.
    pub above_usual_fen: i64,
    /// Many months of arrears: at least this many months paid at once.
    pub arrears_months: i64,
    /// At most this many persons are listed per flag.
    pub list: i64,
}

/// The flags' lists, each at most `list + 1` long (one more tells there are more).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// Aged 110 or more.
    pub oldest: Vec<FlaggedPerson>,
    /// Paid far above their usual.
    pub far_above_usual: Vec<FlaggedPerson>,
    /// Many months of arrears at once.
    pub many_arrears: Vec<FlaggedPerson>,
    /// One account paid for several persons: one row per account and person.
    pub shared_accounts: Vec<FlaggedPerson>,
}

/// Lines of the standing batches of `month` and `previous`, added up.
pub(super) async fn line_groups(
    pool: &Pool,
    district: &str,
    month: ServiceMonth,
    previous: ServiceMonth,
) -> StoreResult<Vec<LineGroup>> {
    let sql = format!(
        "select b.service_month as month, b.batch_id, p.allowance, p.tier, p.street_code, p.line_type,
                coalesce(p.held_reason, '') as held_reason, count(*) as lines,
                cast(sum(p.amount_fen) as bigint) as amount_fen, cast(sum(p.lottery_fen) as bigint) as lottery_fen,
                cast(sum(p.district_fen) as bigint) as district_fen
         from batches b join postings p on p.batch_id = b.batch_id
         where b.district_code = $1 and b.service_month in ($2, $3) and {STANDING} and {LATEST_HELD}
         group by b.service_month, b.batch_id, p.allowance, p.tier, p.street_code, p.line_type, coalesce(p.held_reason, '')
         order by month, b.batch_id, p.allowance, p.tier, p.street_code, p.line_type, held_reason"
    );
    pool.query(&sql).bind(district).bind(month.to_string()).bind(previous.to_string()).fetch_records().await
}

/// How the regular lines changed from `previous` to `month`, per person and allowance.
pub(super) async fn regular_changes(
    pool: &Pool,
    district: &str,
    month: ServiceMonth,
    previous: ServiceMonth,
) -> StoreResult<Vec<RegularChange>> {
    let sql = format!(
        "with r as (select p.id_number, p.allowance, b.service_month as month, max(p.tier) as tier,
                           cast(sum(p.amount_fen) as bigint) as amount
                    from batches b join postings p on p.batch_id = b.batch_id
                    where b.district_code = $1 and b.service_month in ($2, $3) and {STANDING} and {LATEST_HELD}
                      and p.line_type = 'regular' and p.service_month = b.service_month
                    group by p.id_number, p.allowance, b.service_month),
              cur as (select * from r where month = $2),
              prev as (select * from r where month = $3)
         select 'new' as change, c.allowance as allowance, '' as from_tier, c.tier as to_tier, '' as id_number,
                count(*) as persons, cast(sum(c.amount) as bigint) as amount_fen
         from cur c left join prev p on p.id_number = c.id_number and p.allowance = c.allowance
         where p.id_number is null
         group by c.allowance, c.tier
         union all
         select case when c.tier <> p.tier then 'band' else 'rate' end as change, c.allowance as allowance, p.tier as from_tier,
                c.tier as to_tier, '' as id_number, count(*) as persons, cast(sum(c.amount - p.amount) as bigint) as amount_fen
         from cur c join prev p on p.id_number = c.id_number and p.allowance = c.allowance
         where c.tier <> p.tier or c.amount <> p.amount
         group by c.allowance, p.tier, c.tier
         union all
         select 'exit' as change, p.allowance as allowance, p.tier as from_tier, '' as to_tier, p.id_number as id_number,
                cast(1 as bigint) as persons, -p.amount as amount_fen
         from prev p left join cur c on c.id_number = p.id_number and c.allowance = p.allowance
         where c.id_number is null
         order by change, allowance, from_tier, to_tier, id_number"
    );
    pool.query(&sql).bind(district).bind(month.to_string()).bind(previous.to_string()).fetch_records().await
}

/// The persons the month's standing batches pay that a reviewer should look at.
pub(super) async fn flags(pool: &Pool, district: &str, month: ServiceMonth, rules: FlagRules) -> StoreResult<Flags> {
    let m = month.to_string();
    let to_pay = "cast(sum(case when p.held_reason is null and p.line_type <> 'recovery' then p.amount_fen else 0 end) as bigint)";
    let usual = "cast(sum(case when p.line_type = 'regular' and p.service_month = b.service_month then p.amount_fen else 0 end) as bigint)";
    let of_month = format!(
        "from batches b join postings p on p.batch_id = b.batch_id
         where b.district_code = $1 and b.service_month = $2 and {STANDING} and {LATEST_HELD}"
    );
    let oldest = format!(
        "select p.id_number, max(p.name) as name, '' as allowance, {to_pay} as to_pay_fen, {usual} as usual_fen,
                cast(0 as bigint) as months, '' as account_no
         {of_month} and substr(p.id_number, 7, 8) <= $3
         group by p.id_number order by p.id_number limit $4"
    );
    let far_above = format!(
        "select * from (select p.id_number, max(p.name) as name, '' as allowance, {to_pay} as to_pay_fen,
                               {usual} as usual_fen, cast(0 as bigint) as months, '' as account_no
                        {of_month} group by p.id_number) x
         where to_pay_fen >= $3 * usual_fen and to_pay_fen - usual_fen >= $4
         order by to_pay_fen - usual_fen desc, id_number limit $5"
    );
    let many_arrears = format!(
        "select p.id_number, max(p.name) as name, p.allowance, cast(sum(p.amount_fen) as bigint) as to_pay_fen,
                cast(0 as bigint) as usual_fen, count(distinct p.service_month) as months, '' as account_no
         {of_month} and p.line_type = 'arrears' and p.held_reason is null
         group by p.id_number, p.allowance having count(distinct p.service_month) >= $3
         order by months desc, p.id_number, p.allowance limit $4"
    );
    let shared = format!(
        "select t.id_number, max(t.name) as name, '' as allowance, cast(sum(t.amount_fen) as bigint) as to_pay_fen,
                cast(0 as bigint) as usual_fen, cast(0 as bigint) as months, t.account_no
         from batches b join transfers t on t.batch_id = b.batch_id
         where b.district_code = $1 and b.service_month = $2 and {STANDING}
           and t.account_no in (select t2.account_no from batches b join transfers t2 on t2.batch_id = b.batch_id
                                where b.district_code = $1 and b.service_month = $2 and {STANDING}
                                group by t2.account_no having count(distinct t2.id_number) > 1)
         group by t.account_no, t.id_number order by t.account_no, t.id_number limit $3"
    );
    let list = rules.list + 1;
    Ok(Flags {
        oldest: pool
            .query(&oldest)
            .bind(district)
            .bind(m.clone())
            .bind(format!("{:08}", rules.born_by))
            .bind(list)
            .fetch_records()
            .await?,
        far_above_usual: pool
            .query(&far_above)
            .bind(district)
            .bind(m.clone())
            .bind(rules.times_usual)
            .bind(rules.above_usual_fen)
            .bind(list)
            .fetch_records()
            .await?,
        many_arrears: pool
            .query(&many_arrears)
            .bind(district)
            .bind(m.clone())
            .bind(rules.arrears_months)
            .bind(list)
            .fetch_records()
            .await?,
        shared_accounts: pool.query(&shared).bind(district).bind(m).bind(list).fetch_records().await?,
    })
}
