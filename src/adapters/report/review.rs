//! The monthly review (`report --month`, printed by `approve` before it asks): what a reviewer
//! must see to approve a batch of tens of thousands of payments in minutes. Its shapes are here;
//! `review_text.rs` prints them (JSON is their serde form); `ops::review` computes them.
//!
//! The review answers, in this order: which batches, how much to pay and why it differs from
//! last month (the bridge: regular lines, then what is paid besides or held), who came and who
//! left (new entrants, exits by reason, band and rate changes: they add up to the change of the
//! regular lines), the totals by allowance, tier, fund and street against last month, and the
//! persons worth a human look.

use crate::month::ServiceMonth;
use rust_decimal::Decimal;
use serde::Serialize;

/// The review of one district's month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthReview {
    /// District code.
    pub district_code: String,
    /// District name.
    pub district_name: String,
    /// The service month reviewed.
    #[serde(rename = "service_month")]
    pub month: ServiceMonth,
    /// The month compared with.
    #[serde(rename = "previous_service_month")]
    pub previous_month: ServiceMonth,
    /// The month's standing batches (computed, approved or exported), oldest first.
    pub batches: Vec<ReviewBatch>,
    /// The previous month's standing batches.
    pub previous_batches: Vec<ReviewBatch>,
    /// From last month's amount to pay to this month's, line by line; the last line is the
    /// amount to pay (the transfers' control sum).
    pub bridge: Vec<BridgeLine>,
    /// The change of the regular lines, explained: new entrants, exits by reason, band and
    /// rate changes. Adds up to the bridge's regular line's change.
    pub regular_change: Vec<ChangeLine>,
    /// To pay per allowance, against last month.
    pub by_allowance: Vec<Total>,
    /// To pay per allowance and tier.
    pub by_tier: Vec<Total>,
    /// To pay per fund (F2): the city's lottery fund and the district's budget.
    pub by_fund: Vec<Total>,
    /// To pay per street.
    pub by_street: Vec<Total>,
    /// Lines held, not paid (L3), per reason.
    pub held: Vec<Total>,
    /// Recovery items raised (owed back, not deducted from any payment), this month and last;
    /// amounts positive, as the batch and recoveries.csv show them.
    pub recovery_items: Total,
    /// Persons worth a human look.
    pub flags: Vec<Flag>,
}

/// One batch of the month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewBatch {
    /// Batch id.
    pub batch_id: String,
    /// `regular` or `correction`.
    pub kind: String,
    /// State.
    pub state: String,
    /// Who ran it.
    pub run_by: String,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Transfers.
    pub transfers: i64,
    /// Their sum, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub control_sum: Decimal,
    /// Its own lines by type (`regular`, `arrears held`, `recovery items` …); `previous` and
    /// `change` unused.
    pub lines: Vec<Total>,
}

/// One line of the bridge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BridgeLine {
    /// `regular`, `arrears`, `topup`, `offset`, `held`, `to_pay`.
    pub key: &'static str,
    /// Label, Chinese and English.
    pub label: (&'static str, &'static str),
    /// Last month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub previous: Decimal,
    /// This month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub this: Decimal,
    /// This month less last month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub change: Decimal,
}

/// One part of the change of the regular lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    /// `new`, `exit`, `band`, `rate`.
    pub kind: &'static str,
    /// Allowance code.
    pub allowance: String,
    /// What: the tier entered, the reason of the exit (with its rule), `from → to` for a band.
    pub detail: String,
    /// The rule of POLICY.md behind it, where there is one.
    pub rule: &'static str,
    /// Persons.
    pub persons: i64,
    /// Change of the regular amount, yuan (negative for exits).
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
}

/// One row of a breakdown, against last month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Total {
    /// What is counted (allowance, `allowance tier`, fund, street code, hold reason).
    pub key: String,
    /// Its name, where it has one (a street's, a fund's).
    pub name: String,
    /// Lines this month.
    pub lines: i64,
    /// This month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
    /// Last month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub previous: Decimal,
    /// This month less last month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub change: Decimal,
}

/// A flag: one kind of look a reviewer should take, and whom it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// `age_110`, `far_above_usual`, `many_arrears`, `shared_account`.
    pub kind: &'static str,
    /// What it means, with its threshold.
    pub rule: String,
    /// Whom (at most the review's list length).
    pub persons: Vec<FlaggedLine>,
    /// Whether more persons were flagged than listed.
    pub more: bool,
}

/// One person flagged. The ID and account are masked: the review is passed around; `explain
/// --id` shows one person in full to an operator who asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlaggedLine {
    /// ID number, masked.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Allowance, where the flag is about one.
    pub allowance: String,
    /// To pay this month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub to_pay: Decimal,
    /// The person's regular amount this month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub usual: Decimal,
    /// Months of arrears at once (many-arrears), else 0.
    pub months: i64,
    /// Account, masked (shared-account).
    pub account_no: String,
}
