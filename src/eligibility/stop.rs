//! Why a person paid an allowance last month has no line for it this month: the first rule that
//! stops the month, in the order a reviewer asks (did they die, move, get suspended, stop
//! qualifying?). The monthly review counts exits by this reason.

use super::{alive_on_first_day, registrations_in_force, Timeline, Why};
use crate::codes::Allowance;
use crate::month::ServiceMonth;
use crate::policy::PolicyBook;
use crate::registry::PersonRecords;
use serde::Serialize;

/// Why a month is not paid by a district.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// T3: died before the month began (paid through the month of death).
    Died,
    /// T3/R1: registered in this district no longer (moved out, not registered elsewhere here).
    RegistrationEnded,
    /// T3/F1: registered in another district, which pays now (a move within Beijing).
    OtherDistrict,
    /// R1: registered in two districts at once; neither pays until the registry is corrected.
    TwoRegistrations,
    /// T4: a suspension blocks the month.
    Suspended,
    /// R8: an exclusion applies.
    Excluded,
    /// R2–R6: no tier any more (assessment, certificate or household status ended).
    NoLongerQualifies,
    /// T5/T6: eligible, but no start (the application was withdrawn or rejected).
    NotStarted,
    /// The person is no longer in the registry.
    NotInRegistry,
    /// Owed by the rules as the registry stands: already paid, or the registry changed after the
    /// batch was computed (`explain` tells).
    StillOwed,
}

impl Stop {
    /// The rule of POLICY.md and a label, Chinese and English.
    pub fn describe(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Stop::Died => ("T3", "死亡", "died"),
            Stop::RegistrationEnded => ("T3", "户籍迁出", "registration ended"),
            Stop::OtherDistrict => ("T3", "迁往他区", "registered in another district"),
            Stop::TwoRegistrations => ("R1", "两区同时登记", "registered in two districts"),
            Stop::Suspended => ("T4", "暂停发放", "suspended"),
            Stop::Excluded => ("R8", "不予享受", "excluded"),
            Stop::NoLongerQualifies => ("R2–R6", "不再符合条件", "no longer qualifies"),
            Stop::NotStarted => ("T5", "申请未批准", "no approved application"),
            Stop::NotInRegistry => ("", "已不在登记中", "no longer in the registry"),
            Stop::StillOwed => ("", "仍应发放", "still owed (see explain)"),
        }
    }
}

/// Why `month` of `allowance` is not paid to `rec` by `district`; `None` records: not in the
/// registry.
pub fn why_stopped(
    book: &PolicyBook,
    rec: Option<&PersonRecords>,
    allowance: Allowance,
    month: ServiceMonth,
    district: &str,
) -> Stop {
    let Some(rec) = rec else { return Stop::NotInRegistry };
    if !alive_on_first_day(rec, month) {
        return Stop::Died;
    }
    let here = registrations_in_force(rec, month);
    match here.as_slice() {
        [] => return Stop::RegistrationEnded,
        [one] if rec.registrations[*one].district_code != district => return Stop::OtherDistrict,
        [_] => {}
        _ => return Stop::TwoRegistrations,
    }
    let tl = Timeline::compute(book, rec, allowance, month);
    let Some(state) = tl.state(month) else { return Stop::NotStarted };
    if state.suspension.is_some() {
        return Stop::Suspended;
    }
    if state.paid_tier().is_none() {
        let excluded = |r: &super::TierReading| matches!(r.why, Why::Excluded(_));
        return if excluded(&state.at_end) || excluded(&state.at_prev_end) {
            Stop::Excluded
        } else {
            Stop::NoLongerQualifies
        };
    }
    if tl.owed(month) {
        Stop::StillOwed
    } else {
        Stop::NotStarted
    }
}
