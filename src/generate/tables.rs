//! The generator's data tables: shares of the population (integer parts of 100,000) and the
//! dates that bound every draw. Changing a figure here changes the synthetic registry.

use super::*;

// ---------------------------------------------------------------------------------------------
// Shares: every probability is an integer number of 1/100,000, drawn with integer arithmetic.

/// A share of a population in units of 1/100,000 (so 4.5 % is `Share(4_500)`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Share(pub(super) u32);

impl Share {
    /// Whether this draw falls inside the share.
    pub(super) fn hit(self, rng: &mut ChaCha8Rng) -> bool {
        rng.gen_range(0..100_000) < self.0
    }
}

/// Age bands in 2020-01 (first age, last age, share per 100,000): 25.35 % aged 80+ so that about
/// 23.5 % are paid in a month as in Xicheng (73,000 of 310,000), 3.75 % 90+ and centenarians a
/// handful (0.05 %).
pub(super) const AGE_BANDS: [(i32, i32, u32); 5] =
    [(60, 69, 46_000), (70, 79, 28_650), (80, 89, 21_600), (90, 99, 3_700), (100, 105, 50)];

/// Deaths in 2020 by age in 2020-01: averages about 4 % of the 80+ and 1 % of the younger.
pub(super) const DEATH_60_79: Share = Share(1_000);
pub(super) const DEATH_80_89: Share = Share(3_000);
pub(super) const DEATH_90_PLUS: Share = Share(10_000);

/// Registration moved into the district in 2019–2020 (T3, from the month after).
pub(super) const MOVED_IN: Share = Share(300);
/// Registration moves out of the district in 2020 (T3, through the month of the move).
pub(super) const MOVES_OUT: Share = Share(300);
/// Of the moves, those within Beijing (the other district then has a row too).
pub(super) const MOVE_WITHIN_BEIJING: Share = Share(50_000);
/// Persons without an account number: their payments are held (L3).
pub(super) const NO_ACCOUNT: Share = Share(1_000);
/// Account kinds (most elders use the 养老助残卡).
pub(super) const ACCOUNT_TYPES: [(AccountType, u32); 6] = [
    (AccountType::YanglaoZhucan, 70),
    (AccountType::Shebao, 12),
    (AccountType::Minzheng, 8),
    (AccountType::Canji, 5),
    (AccountType::TeshuJiating, 3),
    (AccountType::Junren, 2),
];

/// Outcome of a longevity application of those aged 80 by 2020-12-31 (95 % approved, so that
/// about 73,000 of 310,000 are paid).
pub(super) const LONGEVITY_DECISIONS: [(Option<Decision>, u32); 4] = [
    (Some(Decision::Approved), 95_000),
    (Some(Decision::Rejected), 2_000),
    (Some(Decision::Pending), 1_500),
    (None, 1_500),
];
/// When applications come relative to eligibility (T5's back pay and its six-month limit).
pub(super) const TIMINGS: [(Timing, u32); 3] = [(Timing::Prompt, 85), (Timing::WithinSixMonths, 10), (Timing::Late, 5)];
/// Applicants who apply a second time for the same allowance (T5: the earliest start wins).
pub(super) const REAPPLY: Share = Share(1_000);

/// Holders of a disability certificate; with the grade mix below about 73 % of them qualify, and
/// with the assessments below about 4.8 % of all elders are paid care in a month.
pub(super) const CERTIFICATE: Share = Share(5_500);
/// Certificates listing two categories (多重残疾, `multiple` = true).
pub(super) const TWO_CATEGORIES: Share = Share(15_000);
pub(super) const CERTIFICATE_REVOKED: Share = Share(4_000);
pub(super) const CERTIFICATE_REPLACED: Share = Share(6_000);
/// Categories of elderly certificate holders (limb and the senses dominate).
pub(super) const CATEGORIES: [(Category, u32); 6] = [
    (Category::Limb, 40),
    (Category::Hearing, 22),
    (Category::Visual, 18),
    (Category::Mental, 11),
    (Category::Intellectual, 6),
    (Category::Speech, 3),
];
/// Grades 1 (gravest) to 4: graver than the whole disabled population, as elders apply.
pub(super) const GRADES: [(u8, u32); 4] = [(1, 30), (2, 40), (3, 18), (4, 12)];
/// Ability assessments, more frequent with age (about 3 % overall).
pub(super) const ASSESSED_60_79: Share = Share(2_000);
pub(super) const ASSESSED_80_89: Share = Share(6_000);
pub(super) const ASSESSED_90_PLUS: Share = Share(12_000);
pub(super) const REASSESSED: Share = Share(10_000);
/// Assessment results: those assessed mostly asked because they need care.
pub(super) const RESULTS: [(AssessmentResult, u32); 4] = [
    (AssessmentResult::Severe, 70),
    (AssessmentResult::Moderate, 15),
    (AssessmentResult::Mild, 8),
    (AssessmentResult::Able, 7),
];
/// Care applications: approved for most qualifying certificate holders; for the severely
/// assessed the assessment already counts (T5), half apply anyway.
pub(super) const CARE_APPROVED_CERTIFICATE: Share = Share(92_000);
pub(super) const CARE_APPROVED_ASSESSED: Share = Share(50_000);
pub(super) const CARE_REJECTED_NOT_QUALIFYING: Share = Share(10_000);

/// Household status holders (R6).
pub(super) const HOUSEHOLD: Share = Share(3_000);
pub(super) const STATUSES: [(HouseholdStatus, u32); 3] =
    [(HouseholdStatus::Dibao, 35), (HouseholdStatus::LowIncome, 25), (HouseholdStatus::SpecialFamily, 40)];
pub(super) const STATUS_ENDS: Share = Share(12_000);
pub(super) const SECOND_STATUS: Share = Share(8_000);
pub(super) const HARDSHIP_APPROVED: Share = Share(90_000);
pub(super) const HARDSHIP_REJECTED: Share = Share(3_000);

/// Exclusions (R8): mostly disabled persons choosing the disabled-person subsidy, so they are
/// concentrated among those who qualify for care (about 0.5 % overall).
pub(super) const EXCLUDED_CARE: Share = Share(6_000);
pub(super) const EXCLUDED_OTHERS: Share = Share(250);
pub(super) const EXCLUSIONS_CARE: [(ExclusionKind, u32); 6] = [
    (ExclusionKind::DisabledPersonSubsidy, 60),
    (ExclusionKind::Tekun, 10),
    (ExclusionKind::WorkInjuryCare, 8),
    (ExclusionKind::HeroicInjuryCare, 4),
    (ExclusionKind::ZhiqingInjuryCare, 8),
    (ExclusionKind::InstitutionSubsidy, 10),
];
pub(super) const EXCLUSIONS_OTHERS: [(ExclusionKind, u32); 6] = [
    (ExclusionKind::DisabledPersonSubsidy, 20),
    (ExclusionKind::Tekun, 25),
    (ExclusionKind::WorkInjuryCare, 15),
    (ExclusionKind::HeroicInjuryCare, 5),
    (ExclusionKind::ZhiqingInjuryCare, 15),
    (ExclusionKind::InstitutionSubsidy, 20),
];
pub(super) const EXCLUSION_ENDS: Share = Share(20_000);

/// Suspensions (T4).
pub(super) const SUSPENDED: Share = Share(200);
pub(super) const SUSPENSION_REASONS: [(SuspensionReason, u32); 3] =
    [(SuspensionReason::ReviewFailed, 55), (SuspensionReason::Missing, 30), (SuspensionReason::Imprisonment, 15)];
pub(super) const SUSPENSION_ENDS: Share = Share(70_000);

// ---------------------------------------------------------------------------------------------
// Dates.

/// A date known at compile time.
pub(super) const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(day) => day,
        None => panic!("not a date"),
    }
}

/// The last day of the synthetic year: nothing happens after it.
pub(super) const LAST_DAY: NaiveDate = date(2020, 12, 31);
/// The first day of the synthetic year (deaths, moves out).
pub(super) const YEAR_START: NaiveDate = date(2020, 1, 1);
/// The policy's start (T5: no month before it counts).
pub(super) const POLICY_START: NaiveDate = date(2019, 10, 1);
/// Applications of those eligible before the policy came in the months before it.
pub(super) const PRE_POLICY_FROM: NaiveDate = date(2019, 1, 1);
/// The last application day still back-paid to 2019-10 (T5: at most 6 months before).
pub(super) const BACK_PAY_UNTIL: NaiveDate = date(2020, 4, 30);
/// Earliest moves in, certificates, statuses, assessments, exclusions.
pub(super) const MOVES_IN_FROM: NaiveDate = date(2019, 1, 1);
pub(super) const CERTIFICATES_FROM: NaiveDate = date(1995, 1, 1);
pub(super) const STATUSES_FROM: NaiveDate = date(2005, 1, 1);
pub(super) const ASSESSMENTS_FROM: NaiveDate = date(2018, 1, 1);
pub(super) const EXCLUSIONS_FROM: NaiveDate = date(2010, 1, 1);

/// The earliest birth day: aged 105 in 2020-01 (R3: born 1914-02 .. 1915-01).
pub(super) const EARLIEST_BIRTH: NaiveDate = date(1914, 2, 1);
/// The latest birth day: aged 60 in 2020-01.
pub(super) const LATEST_BIRTH: NaiveDate = date(1960, 1, 31);

/// A day drawn uniformly from `lo..=hi`; none when the range is empty.
pub(super) fn day_in(rng: &mut ChaCha8Rng, lo: NaiveDate, hi: NaiveDate) -> Option<NaiveDate> {
    if lo > hi {
        return None;
    }
    let span = (hi - lo).num_days() as u64;
    Some(lo + Days::new(rng.gen_range(0..=span)))
}

pub(super) fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day + Days::new(days)
}

pub(super) fn minus(day: NaiveDate, days: u64) -> NaiveDate {
    day - Days::new(days)
}

pub(super) fn text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.to_string()).unwrap_or_default()
}

/// Age in 2020-01 as R3 reads it: the age whose birthday month is at or before 2020-01.
pub(super) fn age_in_2020_01(birth: NaiveDate) -> i32 {
    2020 - birth.year() - i32::from(birth.month() > 1)
}

/// First and last birth day of those aged `age` in 2020-01.
pub(super) fn birth_window(age: i32) -> (NaiveDate, NaiveDate) {
    (date(2019 - age, 2, 1), date(2020 - age, 1, 31))
}

/// Pick from `(item, weight)` pairs.
pub(super) fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for &(item, weight) in items {
        if roll < weight {
            return item;
        }
        roll -= weight;
    }
    unreachable!("roll below total")
}
