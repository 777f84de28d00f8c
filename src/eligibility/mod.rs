//! The eligibility core: for one person's records and a service month, which allowances are owed,
//! at which tier, how much, how it splits (F2), and why. Pure and synchronous: no I/O, no clock.
//!
//! The computation per allowance is a [`Timeline`] over the months from the policy's start
//! (T5) through the month asked about:
//! 1. each month's *paid tier* is the better of the tiers read at the end of the month and at
//!    the end of the month before (T2), from the conditions of R2–R8 (`conditions`);
//! 2. a month is *eligible* when that tier exists, the person is registered and alive on its
//!    first day (T3, R1) and no suspension blocks it (T4);
//! 3. the *start* comes from the approved applications (T5), and every eligible month from the
//!    start on is owed (T6), except months before the engine's own start (T7).

mod conditions;
mod explain;
mod stop;

pub use conditions::{read_tier, TierReading, Why};
pub use explain::{explain_month, AllowanceDecision, Reason};
pub use stop::{why_stopped, Stop};

use crate::codes::{Allowance, Decision};
use crate::month::ServiceMonth;
use crate::policy::{split, FundSplit, PolicyBook};
use crate::registry::{PersonRecords, Registration};
use rust_decimal::Decimal;
use serde::Serialize;

/// What is owed to one person for one allowance and service month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entitlement {
    /// Which allowance.
    pub allowance: Allowance,
    /// The service month.
    #[serde(rename = "service_month")]
    pub month: ServiceMonth,
    /// The district that pays (R1, T3).
    #[serde(rename = "district_code")]
    pub district: String,
    /// Tier name (`80-89`, `A`, `dibao` …).
    pub tier: String,
    /// Monthly amount owed, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
    /// Lottery and district shares (F2).
    pub split: FundSplit,
    /// Policy version that priced it.
    pub policy_version: String,
}

/// Every entitlement of a person for months `from..=through` (all districts, all allowances),
/// ordered by allowance then month. Months before `from` are the replaced system's (T7).
pub fn owed_between(
    book: &PolicyBook,
    rec: &PersonRecords,
    from: ServiceMonth,
    through: ServiceMonth,
) -> Vec<Entitlement> {
    let mut out = Vec::new();
    for &allowance in Allowance::ALL {
        let tl = Timeline::compute(book, rec, allowance, through);
        for m in from.max(tl.first).through(through) {
            if let Some(e) = tl.entitlement(book, rec, m) {
                out.push(e);
            }
        }
    }
    out
}

/// Why a month is or is not eligible, before applications are considered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthState {
    /// The service month.
    pub month: ServiceMonth,
    /// Index of the registration in force on the first day (T3), if any.
    pub registration: Option<usize>,
    /// Whether the person was alive on the first day (T3).
    pub alive: bool,
    /// Index of a suspension blocking the month (T4), if any.
    pub suspension: Option<usize>,
    /// Tier read at the end of this month (T2).
    pub at_end: TierReading,
    /// Tier read at the end of the month before (T2).
    pub at_prev_end: TierReading,
}

impl MonthState {
    /// The tier paid: the better (lower index) of the two readings (T2).
    pub fn paid_tier(&self) -> Option<usize> {
        match (self.at_end.tier, self.at_prev_end.tier) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Eligible: a tier, registered, alive, not suspended.
    pub fn eligible(&self) -> bool {
        self.paid_tier().is_some() && self.registration.is_some() && self.alive && self.suspension.is_none()
    }
}

/// Where a payment start came from (T5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartSource {
    /// An approved application (index into the person's applications).
    Application(usize),
    /// A `severe` assessment, counted as an approved care application (index into assessments).
    Assessment(usize),
}

/// How T5 placed a start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartRule {
    /// Eligible in the month of application; the spell began at most the back-pay limit before.
    BackPay {
        /// First month of the spell containing the application month.
        spell_start: ServiceMonth,
    },
    /// Eligible in the month of application, but the spell began longer ago: starts at A.
    DelayTooLong {
        /// First month of the spell.
        spell_start: ServiceMonth,
    },
    /// Applied before being eligible: starts at the first eligible month after.
    FirstEligibleAfter,
}

/// The start of payment of one allowance (T5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// First month paid.
    pub month: ServiceMonth,
    /// Month the winning application was submitted.
    pub applied: ServiceMonth,
    /// The record that started it.
    pub source: StartSource,
    /// How T5 placed it.
    pub rule: StartRule,
}

/// One allowance's months from the policy's start through a month, with the start of payment.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// The allowance.
    pub allowance: Allowance,
    /// First month of `states` (T5: the policy's start).
    pub first: ServiceMonth,
    /// One state per month from `first`.
    pub states: Vec<MonthState>,
    /// The earliest start over all applications (T5), if any falls in range.
    pub start: Option<Start>,
}

impl Timeline {
    /// Compute the timeline of `allowance` through `through`. The states run on past `through`
    /// to any application submitted up to the back-pay limit later, whose back pay may reach
    /// into `through` (T5): what is owed for a month does not depend on how far one looks.
    pub fn compute(book: &PolicyBook, rec: &PersonRecords, allowance: Allowance, through: ServiceMonth) -> Timeline {
        let first = book.versions()[0].timing.policy_start;
        let reach = book.versions().iter().map(|p| p.timing.backpay_months as i32).max().unwrap_or(0);
        let last = applications(book, rec, allowance)
            .map(|(applied, _)| applied)
            .filter(|&applied| applied <= through.plus(reach))
            .fold(through, ServiceMonth::max);
        let states: Vec<MonthState> = if last < first {
            Vec::new()
        } else {
            first.through(last).map(|m| month_state(book, rec, allowance, m)).collect()
        };
        let mut tl = Timeline { allowance, first, states, start: None };
        tl.start = tl.earliest_start(book, rec);
        tl
    }

    /// The state of `month`, if within the timeline.
    pub fn state(&self, month: ServiceMonth) -> Option<&MonthState> {
        let i = month.months_since(self.first);
        usize::try_from(i).ok().and_then(|i| self.states.get(i))
    }

    fn eligible(&self, month: ServiceMonth) -> bool {
        self.state(month).is_some_and(MonthState::eligible)
    }

    /// Whether `month` is owed: eligible and on or after the start (T5, T6).
    pub fn owed(&self, month: ServiceMonth) -> bool {
        self.eligible(month) && self.start.is_some_and(|s| month >= s.month)
    }

    /// The entitlement for `month`, priced by the policy in force then, if owed.
    pub fn entitlement(&self, book: &PolicyBook, rec: &PersonRecords, month: ServiceMonth) -> Option<Entitlement> {
        if !self.owed(month) {
            return None;
        }
        let state = self.state(month)?;
        let policy = book.in_force(month);
        let rate = policy.tier(self.allowance, state.paid_tier()?);
        let reg: &Registration = &rec.registrations[state.registration?];
        Some(Entitlement {
            allowance: self.allowance,
            month,
            district: reg.district_code.clone(),
            tier: rate.tier.to_string(),
            amount: rate.monthly,
            split: split(&policy.funding, rate.monthly, rate.lottery_quota),
            policy_version: policy.version.clone(),
        })
    }

    /// T5: of all approved applications (and, for care, `severe` assessments), the earliest start.
    fn earliest_start(&self, book: &PolicyBook, rec: &PersonRecords) -> Option<Start> {
        applications(book, rec, self.allowance)
            .filter_map(|(applied, source)| self.start_for(book, applied, source))
            .min_by_key(|s| (s.month, s.applied))
    }

    fn start_for(&self, book: &PolicyBook, applied: ServiceMonth, source: StartSource) -> Option<Start> {
        if self.eligible(applied) {
            let mut spell_start = applied;
            while self.eligible(spell_start.prev()) {
                spell_start = spell_start.prev();
            }
            let limit = book.in_force(applied).timing.backpay_months as i32;
            let (month, rule) = if applied.months_since(spell_start) <= limit {
                (spell_start, StartRule::BackPay { spell_start })
            } else {
                (applied, StartRule::DelayTooLong { spell_start })
            };
            return Some(Start { month, applied, source, rule });
        }
        let from = applied.max(self.first);
        let last = self.first.plus(self.states.len() as i32 - 1);
        from.through(last).find(|m| self.eligible(*m)).map(|month| Start {
            month,
            applied,
            source,
            rule: StartRule::FirstEligibleAfter,
        })
    }
}

/// T5: the month of each approved application of `allowance` and, for care, of each `severe`
/// assessment (which counts as an approved care application).
fn applications<'a>(
    book: &'a PolicyBook,
    rec: &'a PersonRecords,
    allowance: Allowance,
) -> impl Iterator<Item = (ServiceMonth, StartSource)> + 'a {
    let applications = rec
        .applications
        .iter()
        .enumerate()
        .filter(move |(_, a)| a.allowance == allowance && a.decision == Decision::Approved)
        .map(|(i, a)| (ServiceMonth::of(a.applied_on), StartSource::Application(i)));
    let assessments = rec
        .assessments
        .iter()
        .enumerate()
        .filter(move |(_, a)| {
            allowance == Allowance::Care && book.latest().care.tiers.iter().any(|t| t.assessments.contains(&a.result))
        })
        .map(|(i, a)| (ServiceMonth::of(a.assessed_on), StartSource::Assessment(i)));
    applications.chain(assessments)
}

fn month_state(book: &PolicyBook, rec: &PersonRecords, allowance: Allowance, month: ServiceMonth) -> MonthState {
    let policy = book.in_force(month);
    MonthState {
        month,
        registration: registration_in_force(rec, month),
        alive: alive_on_first_day(rec, month),
        suspension: suspension_blocking(rec, month),
        at_end: read_tier(policy, allowance, rec, month.last_day()),
        at_prev_end: read_tier(policy, allowance, rec, month.prev().last_day()),
    }
}

/// T3 + R1: the registrations in force in `month`: moved in before the month (paid from the
/// month after moving in) and not moved out before it (paid through the month of moving out).
fn in_force(rec: &PersonRecords, month: ServiceMonth) -> impl Iterator<Item = usize> + '_ {
    rec.registrations
        .iter()
        .enumerate()
        .filter(move |(_, r)| r.hukou_in_date.is_none_or(|d| ServiceMonth::of(d) < month))
        .filter(move |(_, r)| r.hukou_out_date.is_none_or(|d| ServiceMonth::of(d) >= month))
        .map(|(i, _)| i)
}

/// [`in_force`], as a list (`explain` names them).
pub fn registrations_in_force(rec: &PersonRecords, month: ServiceMonth) -> Vec<usize> {
    in_force(rec, month).collect()
}

/// T3 + R1: the registration that pays `month`. Registered in two districts for the same month
/// (a move recorded inconsistently: the new district registered the person before the old one
/// recorded the move out) is paid by neither until the registry is corrected: which district
/// owes the month is the registry's to say, and paying either could pay it twice (issue 10).
/// (Asked for every person, month and allowance of a run: nothing is allocated.)
pub fn registration_in_force(rec: &PersonRecords, month: ServiceMonth) -> Option<usize> {
    let mut here = in_force(rec, month);
    match (here.next(), here.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// The date of death recorded on any registration (the earliest, should they differ).
pub fn death_date(rec: &PersonRecords) -> Option<chrono::NaiveDate> {
    rec.registrations.iter().filter_map(|r| r.death_date).min()
}

/// T3: paid through the month of death.
pub fn alive_on_first_day(rec: &PersonRecords, month: ServiceMonth) -> bool {
    death_date(rec).is_none_or(|d| ServiceMonth::of(d) >= month)
}

/// T4: a suspension from f to t blocks the months after f's month through t's month.
pub fn suspension_blocking(rec: &PersonRecords, month: ServiceMonth) -> Option<usize> {
    rec.suspensions
        .iter()
        .position(|s| ServiceMonth::of(s.valid_from) < month && s.valid_to.is_none_or(|t| month <= ServiceMonth::of(t)))
}
