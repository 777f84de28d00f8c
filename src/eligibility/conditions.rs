//! T2: the conditions of R2–R8 read as they stand on one day (a month's last day), giving the
//! tier they qualify for and the record that decided it.

use crate::codes::Allowance;
use crate::month::ServiceMonth;
use crate::policy::Policy;
use crate::registry::PersonRecords;
use chrono::NaiveDate;

/// A tier read on one day: the tier's index in the policy (best first) and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierReading {
    /// Index into the allowance's tiers, best first; none when nothing qualifies.
    pub tier: Option<usize>,
    /// The deciding fact.
    pub why: Why,
}

/// The fact that decided a reading; indices point into the person's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// R2/R3: the age band opened in this month.
    AgeBand(ServiceMonth),
    /// R2/R3, R4, R6: too young; the qualifying age opens in this month.
    TooYoung(ServiceMonth),
    /// No birth date on record.
    NoBirthDate,
    /// R8: excluded by this exclusion.
    Excluded(usize),
    /// R4/R5: the latest assessment qualifies.
    Assessment(usize),
    /// R4/R5: a line of the certificate in force qualifies.
    Certificate(usize),
    /// R6: a household status qualifies.
    Status(usize),
    /// Nothing qualifies (no severe assessment, no qualifying certificate or status).
    NothingQualifies,
}

fn reading(tier: Option<usize>, why: Why) -> TierReading {
    TierReading { tier, why }
}

/// R3: the month containing the birthday that opens `age` (29 February falls in February).
pub fn birthday_month(birth: NaiveDate, age: u32) -> ServiceMonth {
    ServiceMonth::of(birth).plus(age as i32 * 12)
}

/// Read the tier of `allowance` on `day` (T2), using `policy`'s tiers.
pub fn read_tier(policy: &Policy, allowance: Allowance, rec: &PersonRecords, day: NaiveDate) -> TierReading {
    let Some(birth) = rec.birth_date else {
        return reading(None, Why::NoBirthDate);
    };
    let month = ServiceMonth::of(day);
    match allowance {
        Allowance::Longevity => longevity(policy, birth, month),
        Allowance::Care => {
            if let Some(r) = gate(birth, policy.care.min_age, month, rec, &policy.care.excluded_by, day) {
                return r;
            }
            care(policy, rec, day)
        }
        Allowance::Hardship => {
            if let Some(r) = gate(birth, policy.hardship.min_age, month, rec, &policy.hardship.excluded_by, day) {
                return r;
            }
            hardship(policy, rec, day)
        }
    }
}

/// R2, R3: the oldest band whose opening birthday month has come.
fn longevity(policy: &Policy, birth: NaiveDate, month: ServiceMonth) -> TierReading {
    for (i, t) in policy.longevity.tiers.iter().enumerate() {
        let opens = birthday_month(birth, t.min_age);
        if opens <= month {
            return reading(Some(i), Why::AgeBand(opens));
        }
    }
    let youngest = policy.longevity.tiers.last().map(|t| t.min_age).unwrap_or(0);
    reading(None, Why::TooYoung(birthday_month(birth, youngest)))
}

/// R3 age and R8 exclusions, shared by care and hardship: Some(reading) when they bar the tier.
fn gate(
    birth: NaiveDate,
    min_age: u32,
    month: ServiceMonth,
    rec: &PersonRecords,
    excluded_by: &[crate::codes::ExclusionKind],
    day: NaiveDate,
) -> Option<TierReading> {
    let opens = birthday_month(birth, min_age);
    if month < opens {
        return Some(reading(None, Why::TooYoung(opens)));
    }
    rec.exclusions
        .iter()
        .position(|e| excluded_by.contains(&e.kind) && e.holds_on(day))
        .map(|i| reading(None, Why::Excluded(i)))
}

/// R4, R5: the best tier for which the latest assessment or a line of the certificate in force
/// qualifies.
fn care(policy: &Policy, rec: &PersonRecords, day: NaiveDate) -> TierReading {
    // R5: the latest assessment on or before the day replaces earlier ones.
    let assessment =
        rec.assessments.iter().enumerate().filter(|(_, a)| a.assessed_on <= day).max_by_key(|(_, a)| a.assessed_on);
    // R5: one certificate at a time: the latest issued on or before the day, all its lines,
    // each counting until revoked.
    let cert_date = rec.certificates.iter().map(|c| c.issued_on).filter(|d| *d <= day).max();
    let cert_lines = rec
        .certificates
        .iter()
        .enumerate()
        .filter(|(_, c)| Some(c.issued_on) == cert_date && c.revoked_on.is_none_or(|r| day < r));
    let cert_lines: Vec<_> = cert_lines.collect();
    for (i, tier) in policy.care.tiers.iter().enumerate() {
        if let Some((ai, a)) = assessment {
            if tier.assessments.contains(&a.result) {
                return reading(Some(i), Why::Assessment(ai));
            }
        }
        if let Some((ci, _)) = cert_lines
            .iter()
            .find(|(_, c)| tier.certificates.iter().any(|r| r.matches(c.category, c.grade, c.multiple)))
        {
            return reading(Some(i), Why::Certificate(*ci));
        }
    }
    reading(None, Why::NothingQualifies)
}

/// R6: the best tier among the household statuses holding on the day.
fn hardship(policy: &Policy, rec: &PersonRecords, day: NaiveDate) -> TierReading {
    for (i, tier) in policy.hardship.tiers.iter().enumerate() {
        if let Some(si) = rec.statuses.iter().position(|s| s.holds_on(day) && tier.statuses.contains(&s.kind)) {
            return reading(Some(i), Why::Status(si));
        }
    }
    reading(None, Why::NothingQualifies)
}
