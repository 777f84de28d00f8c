//! Properties of the eligibility core over random registries (proptest): the fund split (F2),
//! amounts only from the policy's tables (R2, R4, R6), no raise after a cut (T2), the bounds on
//! owed months (T3, T4, T5, T7), explain agreeing with `owed_between`, and a reference model
//! written from POLICY.md alone that the core must match month by month.

mod support;

use chrono::{Datelike, NaiveDate, TimeDelta};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use subsidy::codes::{
    Allowance, AssessmentResult, Category, Decision, ExclusionKind, HouseholdStatus, SuspensionReason,
};
use subsidy::eligibility::{explain_month, owed_between, Entitlement, Timeline};
use subsidy::month::ServiceMonth;
use subsidy::registry::{Application, Assessment, CertificateLine, Period, PersonRecords, Registration};
use support::{book, d, policy, policy_start, CHAOYANG, DONGCHENG, XICHENG};

/// The last month the properties look at.
fn horizon() -> ServiceMonth {
    support::m("2021-12")
}

fn config() -> ProptestConfig {
    // No regression files written into tests/: a failure prints its minimal case.
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// Generators.

fn date_between(lo: &str, hi: &str) -> impl Strategy<Value = NaiveDate> + Clone {
    let lo = d(lo);
    let days = (d(hi) - lo).num_days();
    // Month boundaries decide T2 and T3: a third of the dates are a first or a last day.
    (0..=days, 0u8..6).prop_map(move |(k, how)| snap(lo + TimeDelta::days(k), how))
}

/// Move `day` to the first (how 0) or last (how 1) day of its month; otherwise leave it.
fn snap(day: NaiveDate, how: u8) -> NaiveDate {
    let month = ServiceMonth::of(day);
    match how {
        0 => month.first_day(),
        1 => month.last_day(),
        _ => day,
    }
}

/// A record date, 2019–2021.
fn record_date() -> impl Strategy<Value = NaiveDate> + Clone {
    date_between("2019-01-01", "2021-12-31")
}

fn birth_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        6 => date_between("1910-01-01", "1960-12-31"),
        // Birthdays that open an age band within 2019–2021 (60, 80, 90, 100).
        3 => (prop::sample::select(vec![1959, 1939, 1929, 1919]), date_between("2000-01-01", "2002-12-31"))
            .prop_map(|(y, day)| NaiveDate::from_ymd_opt(y + day.year() - 2000, day.month(), day.day().min(28)).unwrap()),
        // 29 February birthdays (R3).
        1 => prop::sample::select(vec![1920, 1928, 1932, 1940, 1952, 1956, 1960])
            .prop_map(|y| NaiveDate::from_ymd_opt(y, 2, 29).unwrap()),
    ]
}

fn allowance() -> impl Strategy<Value = Allowance> {
    prop::sample::select(Allowance::ALL.to_vec())
}

fn period<K: Clone + std::fmt::Debug + 'static>(
    kinds: &'static [K],
    from: impl Strategy<Value = NaiveDate>,
) -> impl Strategy<Value = Period<K>> {
    (prop::sample::select(kinds.to_vec()), from, prop::option::weighted(0.7, 0i64..700)).prop_map(
        |(kind, valid_from, len)| Period { kind, valid_from, valid_to: len.map(|n| valid_from + TimeDelta::days(n)) },
    )
}

/// Registrations as a person's moves: always registered or moved in from outside, up to two
/// moves within Beijing (out of one district and into the next on the same day), perhaps a move
/// out of Beijing, perhaps a death; or no registration at all.
fn registrations() -> impl Strategy<Value = Vec<Registration>> {
    (
        0usize..=3,
        prop::option::weighted(0.3, date_between("2018-06-01", "2021-06-30")),
        prop::collection::vec(record_date(), 2),
        prop::collection::vec(prop::sample::select(vec![XICHENG, DONGCHENG, CHAOYANG]), 3),
        prop::option::weighted(0.2, record_date()),
        prop::option::weighted(0.25, date_between("2019-01-01", "2022-06-30")),
    )
        .prop_map(|(n, first_in, mut moves, districts, out, death)| {
            moves.sort();
            let mut regs: Vec<Registration> = Vec::new();
            for i in 0..n {
                let hukou_in_date =
                    if i == 0 { first_in.filter(|&f| n == 1 || f <= moves[0]) } else { Some(moves[i - 1]) };
                let hukou_out_date =
                    if i + 1 < n { Some(moves[i]) } else { out.filter(|&o| hukou_in_date.is_none_or(|i| o >= i)) };
                regs.push(Registration {
                    district_code: districts[i].to_string(),
                    street_code: format!("{}001", districts[i]),
                    name: "测试".into(),
                    hukou_in_date,
                    hukou_out_date,
                    death_date: death,
                    account_type: None,
                    account_no: None,
                });
            }
            regs
        })
}

fn application() -> impl Strategy<Value = Application> {
    (
        allowance(),
        date_between("2018-06-01", "2021-12-31"),
        prop::sample::select(vec![
            Decision::Approved,
            Decision::Approved,
            Decision::Approved,
            Decision::Rejected,
            Decision::Pending,
        ]),
    )
        .prop_map(|(allowance, applied_on, decision)| Application {
            allowance,
            applied_on,
            decision,
            decided_on: None,
        })
}

fn assessments(
    dates: impl Strategy<Value = NaiveDate>,
    results: Vec<AssessmentResult>,
) -> impl Strategy<Value = Vec<Assessment>> {
    prop::collection::vec((dates, prop::sample::select(results)), 0..3).prop_map(|v| {
        // Two assessments on one day would leave "the latest" undecided: keep the first.
        let mut out: Vec<Assessment> = Vec::new();
        for (assessed_on, result) in v {
            if out.iter().all(|a| a.assessed_on != assessed_on) {
                out.push(Assessment { assessed_on, result });
            }
        }
        out
    })
}

/// Certificates: each 1–3 lines sharing an issue date, each line perhaps revoked later.
fn certificates(issued: impl Strategy<Value = NaiveDate>) -> impl Strategy<Value = Vec<CertificateLine>> {
    let line = (
        prop::sample::select(Category::ALL.to_vec()),
        1u8..=4,
        any::<bool>(),
        prop::option::weighted(0.3, (0i64..900, 0u8..4)),
    );
    prop::collection::vec((issued, prop::collection::vec(line, 1..=3)), 0..3).prop_map(|certs| {
        let mut out = Vec::new();
        for (issued_on, lines) in certs {
            for (category, grade, multiple, revoked) in lines {
                out.push(CertificateLine {
                    category,
                    grade,
                    multiple,
                    issued_on,
                    revoked_on: revoked.map(|(n, how)| snap(issued_on + TimeDelta::days(n + 31), how)),
                });
            }
        }
        out
    })
}

const STATUSES: &[HouseholdStatus] =
    &[HouseholdStatus::Dibao, HouseholdStatus::LowIncome, HouseholdStatus::SpecialFamily];
const EXCLUSIONS: &[ExclusionKind] = &[
    ExclusionKind::DisabledPersonSubsidy,
    ExclusionKind::Tekun,
    ExclusionKind::WorkInjuryCare,
    ExclusionKind::HeroicInjuryCare,
    ExclusionKind::ZhiqingInjuryCare,
    ExclusionKind::InstitutionSubsidy,
];
const SUSPENSIONS: &[SuspensionReason] =
    &[SuspensionReason::Imprisonment, SuspensionReason::ReviewFailed, SuspensionReason::Missing];

fn records() -> impl Strategy<Value = PersonRecords> {
    (
        any_records(),
        prop::option::weighted(0.4, record_date()),
        allowance(),
        prop::option::weighted(0.6, 0i32..=9),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut rec, all_on, allowance, offset, pick)| {
            let approved = |allowance, applied_on| Application {
                allowance,
                applied_on,
                decision: Decision::Approved,
                decided_on: None,
            };
            // Often an application for everything, so that eligibility is what decides.
            if let Some(day) = all_on {
                for &a in Allowance::ALL {
                    rec.applications.push(approved(a, day));
                }
            }
            // T5's edges: an application 0 to 9 months after the first month of one of the
            // allowance's spells (by the reference model), so back pay of exactly 6 months
            // and a delay of 7 come up often.
            if let Some(offset) = offset {
                let starts: Vec<ServiceMonth> = policy_start()
                    .through(horizon())
                    .filter(|&m| {
                        reference::eligible(allowance, &rec, m) && !reference::eligible(allowance, &rec, m.prev())
                    })
                    .collect();
                if !starts.is_empty() {
                    let applied_on = starts[pick.index(starts.len())].plus(offset).first_day() + TimeDelta::days(14);
                    if applied_on <= d("2021-12-31") {
                        rec.applications.push(approved(allowance, applied_on));
                    }
                }
            }
            rec
        })
}

fn any_records() -> impl Strategy<Value = PersonRecords> {
    (
        birth_date(),
        registrations(),
        prop::collection::vec(application(), 0..5),
        assessments(record_date(), AssessmentResult::ALL.to_vec()),
        certificates(date_between("2018-06-01", "2021-12-31")),
        prop::collection::vec(period(STATUSES, date_between("2018-06-01", "2021-12-31")), 0..3),
        prop::collection::vec(period(EXCLUSIONS, record_date()), 0..2),
        prop::collection::vec(period(SUSPENSIONS, record_date()), 0..2),
    )
        .prop_map(
            |(birth, registrations, applications, assessments, certificates, statuses, exclusions, suspensions)| {
                PersonRecords {
                    id_number: subsidy::idcard::make(XICHENG, birth, 1),
                    birth_date: Some(birth),
                    registrations,
                    applications,
                    assessments,
                    certificates,
                    statuses,
                    exclusions,
                    suspensions,
                }
            },
        )
}

/// Records whose conditions only get worse after a date `D` (returned with them): certificates
/// and statuses all begin before D, assessments after D are never severe, exclusions after D
/// never end (a cut may come, a raise may not), and the person is over 60 before 2019 so no
/// age opening falls after D. Revocations, status ends and new exclusions fall anywhere.
fn worsening_records() -> impl Strategy<Value = (PersonRecords, NaiveDate)> {
    date_between("2019-10-01", "2021-06-30")
        .prop_flat_map(|cut| {
            let before = date_between("2018-06-01", "2021-12-31").prop_map(move |x| {
                if x < cut {
                    x
                } else {
                    cut - TimeDelta::days(1 + (x - cut).num_days() % 300)
                }
            });
            (
                Just(cut),
                date_between("1910-01-01", "1955-12-31"),
                prop::collection::vec(application(), 1..4),
                assessments(before.clone(), AssessmentResult::ALL.to_vec()),
                assessments(
                    date_between("2019-06-01", "2021-12-31").prop_map(move |x| x.max(cut)),
                    vec![AssessmentResult::Moderate, AssessmentResult::Mild, AssessmentResult::Able],
                ),
                certificates(before.clone()),
                prop::collection::vec(period(STATUSES, before.clone()), 0..3),
                prop::collection::vec(
                    (period(EXCLUSIONS, date_between("2018-06-01", "2021-12-31")), any::<bool>()),
                    0..3,
                ),
                prop::collection::vec(period(SUSPENSIONS, record_date()), 0..2),
            )
        })
        .prop_map(
            |(cut, birth, applications, mut assessments, later, certificates, statuses, exclusions, suspensions)| {
                assessments.extend(later.into_iter().filter(|l| l.assessed_on >= cut));
                let exclusions = exclusions
                    .into_iter()
                    .map(|(mut e, open)| {
                        // Ends before D, or never ends.
                        if open || e.valid_to.is_none_or(|t| t >= cut) {
                            e.valid_to = None;
                        }
                        e
                    })
                    .collect();
                let rec = PersonRecords {
                    id_number: subsidy::idcard::make(XICHENG, birth, 1),
                    birth_date: Some(birth),
                    registrations: vec![Registration {
                        district_code: XICHENG.into(),
                        street_code: format!("{XICHENG}001"),
                        name: "测试".into(),
                        hukou_in_date: None,
                        hukou_out_date: None,
                        death_date: None,
                        account_type: None,
                        account_no: None,
                    }],
                    applications,
                    assessments,
                    certificates,
                    statuses,
                    exclusions,
                    suspensions,
                };
                (rec, cut)
            },
        )
}

fn engine_start() -> impl Strategy<Value = ServiceMonth> {
    (0i32..24).prop_map(|k| support::m("2019-06").plus(k))
}

// ---------------------------------------------------------------------------------------------
// A reference model, written from POLICY.md's text (amounts and tables hard-coded from it, not
// read from the policy file), to compare with the core month by month.

mod reference {
    use super::*;

    /// (tier, monthly, lottery quota), best first: R2, R4, R6 with F1's quotas.
    pub fn table(a: Allowance) -> [(&'static str, Decimal, Decimal); 3] {
        match a {
            Allowance::Longevity => {
                [("100+", dec!(800), dec!(300)), ("90-99", dec!(500), dec!(200)), ("80-89", dec!(100), dec!(100))]
            }
            Allowance::Care => [("A", dec!(600), dec!(100)), ("B", dec!(400), dec!(100)), ("C", dec!(200), dec!(100))],
            Allowance::Hardship => [
                ("dibao", dec!(300), dec!(0)),
                ("low_income", dec!(200), dec!(0)),
                ("special_family", dec!(100), dec!(0)),
            ],
        }
    }

    /// R3: the month of the birthday that opens `age` (29 February stays in February).
    fn opens(birth: NaiveDate, age: i32) -> ServiceMonth {
        ServiceMonth::new(birth.year() + age, birth.month()).unwrap()
    }

    fn holds<K>(p: &Period<K>, day: NaiveDate) -> bool {
        p.valid_from <= day && p.valid_to.is_none_or(|t| day <= t)
    }

    /// R4's table: the rank (0 = A) of one certificate line.
    fn line_rank(c: &CertificateLine) -> Option<usize> {
        use Category::*;
        let severe_kind = matches!(c.category, Visual | Limb | Intellectual | Mental);
        let mind = matches!(c.category, Intellectual | Mental);
        let body = matches!(c.category, Visual | Limb);
        let senses = matches!(c.category, Hearing | Speech);
        if (c.grade == 1 && severe_kind) || (c.grade == 2 && mind && c.multiple) {
            Some(0)
        } else if (c.grade == 2 && body) || ((c.grade == 2 || c.grade == 3) && mind) {
            Some(1)
        } else if (c.grade == 1 || c.grade == 2) && senses {
            Some(2)
        } else {
            None
        }
    }

    /// T2: the tier (rank, 0 best) of `a` as things stand on `day`.
    pub fn reading(a: Allowance, rec: &PersonRecords, day: NaiveDate) -> Option<usize> {
        let birth = rec.birth_date?;
        let month = ServiceMonth::of(day);
        if a == Allowance::Longevity {
            // R2, R3.
            return [100, 90, 80].iter().position(|&age| month >= opens(birth, age));
        }
        // R3: 60 and over. R8: exclusions.
        if month < opens(birth, 60) {
            return None;
        }
        let excluding: &[ExclusionKind] = match a {
            Allowance::Care => EXCLUSIONS,
            _ => &EXCLUSIONS[..3],
        };
        if rec.exclusions.iter().any(|e| excluding.contains(&e.kind) && holds(e, day)) {
            return None;
        }
        if a == Allowance::Hardship {
            // R6: the best status holding.
            return rec
                .statuses
                .iter()
                .filter(|s| holds(s, day))
                .map(|s| STATUSES.iter().position(|k| *k == s.kind).unwrap())
                .min();
        }
        // R5: the latest assessment; the certificate issued last, its lines until revoked.
        let severe = rec
            .assessments
            .iter()
            .filter(|x| x.assessed_on <= day)
            .max_by_key(|x| x.assessed_on)
            .is_some_and(|x| x.result == AssessmentResult::Severe);
        let issued = rec.certificates.iter().map(|c| c.issued_on).filter(|&i| i <= day).max();
        let cert = rec
            .certificates
            .iter()
            .filter(|c| Some(c.issued_on) == issued && c.revoked_on.is_none_or(|r| day < r))
            .filter_map(line_rank)
            .min();
        if severe {
            Some(0)
        } else {
            cert
        }
    }

    /// T2: the better of the readings at the end of the month and of the month before.
    pub fn paid(a: Allowance, rec: &PersonRecords, m: ServiceMonth) -> Option<usize> {
        let now = reading(a, rec, m.last_day());
        let before = reading(a, rec, m.prev().last_day());
        match (now, before) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    }

    /// T3: the district registered on the first day of the month.
    pub fn district(rec: &PersonRecords, m: ServiceMonth) -> Option<String> {
        let inside: Vec<&Registration> = rec
            .registrations
            .iter()
            .filter(|r| r.hukou_in_date.is_none_or(|i| ServiceMonth::of(i) < m))
            .filter(|r| r.hukou_out_date.is_none_or(|o| m <= ServiceMonth::of(o)))
            .collect();
        assert!(inside.len() <= 1, "the generator makes no overlapping registrations");
        inside.first().map(|r| r.district_code.clone())
    }

    pub fn death_month(rec: &PersonRecords) -> Option<ServiceMonth> {
        rec.registrations.iter().filter_map(|r| r.death_date).min().map(ServiceMonth::of)
    }

    /// T4.
    pub fn suspended(rec: &PersonRecords, m: ServiceMonth) -> bool {
        rec.suspensions
            .iter()
            .any(|s| ServiceMonth::of(s.valid_from) < m && s.valid_to.is_none_or(|t| m <= ServiceMonth::of(t)))
    }

    pub fn eligible(a: Allowance, rec: &PersonRecords, m: ServiceMonth) -> bool {
        m >= policy_start()
            && paid(a, rec, m).is_some()
            && district(rec, m).is_some()
            && death_month(rec).is_none_or(|dm| m <= dm)
            && !suspended(rec, m)
    }

    /// T5: the months of approved applications (and, for care, severe assessments).
    pub fn applied(a: Allowance, rec: &PersonRecords) -> Vec<ServiceMonth> {
        let mut out: Vec<ServiceMonth> = rec
            .applications
            .iter()
            .filter(|x| x.allowance == a && x.decision == Decision::Approved)
            .map(|x| ServiceMonth::of(x.applied_on))
            .collect();
        if a == Allowance::Care {
            out.extend(
                rec.assessments
                    .iter()
                    .filter(|x| x.result == AssessmentResult::Severe)
                    .map(|x| ServiceMonth::of(x.assessed_on)),
            );
        }
        out
    }

    /// T5: the first month paid, if any, looking as far as `last`.
    pub fn start(a: Allowance, rec: &PersonRecords, last: ServiceMonth) -> Option<ServiceMonth> {
        applied(a, rec)
            .into_iter()
            .filter_map(|app| {
                if eligible(a, rec, app) {
                    let mut spell = app;
                    while eligible(a, rec, spell.prev()) {
                        spell = spell.prev();
                    }
                    Some(if app.months_since(spell) <= 6 { spell } else { app })
                } else {
                    app.max(policy_start()).through(last).find(|&m| eligible(a, rec, m))
                }
            })
            .min()
    }

    /// What is owed from `from` through `through`: (allowance, month) → (district, tier,
    /// amount, lottery, district share).
    pub fn owed(rec: &PersonRecords, from: ServiceMonth, through: ServiceMonth) -> Owed {
        let mut out = BTreeMap::new();
        for &a in Allowance::ALL {
            let Some(start) = start(a, rec, support::m("2023-12")) else {
                continue;
            };
            for m in from.max(start).through(through) {
                if !eligible(a, rec, m) {
                    continue;
                }
                let (tier, amount, quota) = table(a)[paid(a, rec, m).unwrap()];
                // F2: lottery = min(quota, amount), the district the rest.
                let lottery = quota.min(amount);
                out.insert((a, m), (district(rec, m).unwrap(), tier.to_string(), amount, lottery, amount - lottery));
            }
        }
        out
    }
}

/// What is owed, by allowance and month: (district, tier, amount, lottery, district share).
type Owed = BTreeMap<(Allowance, ServiceMonth), (String, String, Decimal, Decimal, Decimal)>;

fn as_map(owed: &[Entitlement]) -> Owed {
    owed.iter()
        .map(|e| {
            ((e.allowance, e.month), (e.district.clone(), e.tier.clone(), e.amount, e.split.lottery, e.split.district))
        })
        .collect()
}

/// Tier rank in the policy's order (0 best); none ranks last.
fn rank(tier: Option<usize>) -> usize {
    tier.unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    /// (a) F2: the shares add up to the amount, neither is negative, the lottery share is at
    /// most the tier's quota (and is min(quota, amount)); (b) amount and tier are a row of the
    /// policy's table for that allowance.
    #[test]
    fn f2_split_adds_up_within_quota_and_amounts_come_from_the_policy(rec in records(), from in engine_start()) {
        let policy = policy();
        for e in owed_between(&book(), &rec, from, horizon()) {
            prop_assert_eq!(e.split.lottery + e.split.district, e.amount);
            prop_assert!(e.split.lottery >= Decimal::ZERO && e.split.district >= Decimal::ZERO);
            let tiers = policy.tiers(e.allowance);
            let row = tiers.iter().find(|t| t.tier == e.tier);
            prop_assert!(row.is_some(), "tier {} is not one of {}'s", e.tier, e.allowance);
            let row = row.unwrap();
            prop_assert_eq!(e.amount, row.monthly);
            prop_assert!(e.split.lottery <= row.lottery_quota);
            prop_assert_eq!(e.split.lottery, row.lottery_quota.min(row.monthly));
            prop_assert!(e.amount > Decimal::ZERO);
            prop_assert_eq!(&e.policy_version, &policy.version);
        }
    }

    /// (c) T2: once conditions only get worse (after D), the tier paid never rises again:
    /// from the month after D's month, each month's tier is no better than the month before's.
    #[test]
    fn t2_tier_never_rises_after_a_cut((rec, cut) in worsening_records()) {
        let book = book();
        let after = ServiceMonth::of(cut).next();
        for a in [Allowance::Care, Allowance::Hardship] {
            let tl = Timeline::compute(&book, &rec, a, horizon());
            for m in after.through(horizon()) {
                let now = tl.state(m).unwrap().paid_tier();
                let before = tl.state(m.prev()).unwrap().paid_tier();
                prop_assert!(rank(now) >= rank(before), "{} {}: {:?} after {:?}", a, m, now, before);
            }
            // The same on what is owed: consecutive owed months never rise in rank.
            let tiers: Vec<String> = policy().tiers(a).iter().map(|t| t.tier.to_string()).collect();
            let owed: BTreeMap<ServiceMonth, usize> = owed_between(&book, &rec, after.prev(), horizon())
                .into_iter()
                .filter(|e| e.allowance == a)
                .map(|e| (e.month, tiers.iter().position(|t| *t == e.tier).unwrap()))
                .collect();
            for (m, r) in &owed {
                if let Some(prev) = owed.get(&m.prev()) {
                    prop_assert!(r >= prev, "{} {}: rank {} after {}", a, m, r, prev);
                }
            }
        }
    }

    /// (d) No owed month before the policy's start or the engine's (T5, T7), after the month of
    /// death (T3), in a month a suspension blocks (T4), without registration there (R1, T3), or
    /// without an approved application (or, for care, a severe assessment) whose T5 start is
    /// at or before it: submitted by then, or at most 6 months later with every month between
    /// owed (back pay within one spell).
    #[test]
    fn t3_t4_t5_t7_owed_months_stay_within_their_bounds(rec in records(), from in engine_start()) {
        let book = book();
        let all = owed_between(&book, &rec, policy_start(), horizon());
        let owed_set: std::collections::BTreeSet<(Allowance, ServiceMonth)> =
            all.iter().map(|e| (e.allowance, e.month)).collect();
        let from_engine = owed_between(&book, &rec, from, horizon());
        for e in &from_engine {
            prop_assert!(e.month >= from, "T7: {} before the engine's start {}", e.month, from);
        }
        // T7: the engine's months are exactly the policy's from its start on.
        let tail: Vec<&Entitlement> = all.iter().filter(|e| e.month >= from).collect();
        prop_assert_eq!(from_engine.iter().collect::<Vec<_>>(), tail);
        for e in &all {
            let m = e.month;
            prop_assert!(m >= policy_start(), "T5: {} before the policy", m);
            if let Some(dm) = reference::death_month(&rec) {
                prop_assert!(m <= dm, "T3: {} after death in {}", m, dm);
            }
            prop_assert!(!reference::suspended(&rec, m), "T4: {} is suspended", m);
            prop_assert_eq!(reference::district(&rec, m), Some(e.district.clone()), "R1/T3 in {}", m);
            let started = reference::applied(e.allowance, &rec).into_iter().any(|app| {
                app <= m
                    || (app.months_since(m) <= 6
                        && m.through(app).all(|x| owed_set.contains(&(e.allowance, x))))
            });
            prop_assert!(started, "T5: {} {} owed without an application starting it", e.allowance, m);
        }
    }

    /// T5/T6 the other way round: an approved application in an eligible month is paid from
    /// that month, and every eligible month after a paid month is paid.
    #[test]
    fn t5_t6_an_eligible_application_month_and_every_later_eligible_month_are_owed(rec in records()) {
        let book = book();
        for &a in Allowance::ALL {
            let tl = Timeline::compute(&book, &rec, a, horizon());
            let eligible = |m: ServiceMonth| tl.state(m).is_some_and(|s| s.eligible());
            for app in reference::applied(a, &rec) {
                if app <= horizon() && eligible(app) {
                    prop_assert!(tl.owed(app), "{} applied and eligible in {} but not owed", a, app);
                }
            }
            for m in policy_start().through(horizon()) {
                if tl.owed(m) && eligible(m.next()) && m.next() <= horizon() {
                    prop_assert!(tl.owed(m.next()), "T6: {} {} owed, {} eligible but not", a, m, m.next());
                }
            }
        }
    }

    /// (e) explain_month decides each month as owed_between does, engine start included (T7);
    /// an owed month's reasons cite R1, T2, T5 and F2, and a not-owed month gives a reason.
    #[test]
    fn t7_explain_month_agrees_with_owed_between(rec in records(), from in engine_start()) {
        let book = book();
        let owed = owed_between(&book, &rec, from, horizon());
        for m in support::m("2019-08").through(horizon()) {
            for x in explain_month(&book, &rec, Some(from), m) {
                let want = owed.iter().find(|e| e.allowance == x.allowance && e.month == m);
                prop_assert_eq!(x.owed.as_ref(), want, "{} {}", x.allowance, m);
                prop_assert!(!x.reasons.is_empty());
                if x.owed.is_some() {
                    for rule in ["R1", "T2", "T5", "F2"] {
                        prop_assert!(support::cites(&x.reasons, rule), "{} {}: no {}", x.allowance, m, rule);
                    }
                }
            }
        }
    }

    /// What is owed for a month does not depend on how far one looks: owed_between through an
    /// earlier month gives the same months as through the horizon (back pay from an application
    /// submitted after it included, T5).
    #[test]
    fn t5_owed_for_a_month_does_not_depend_on_the_horizon(rec in records()) {
        let book = book();
        let long = owed_between(&book, &rec, policy_start(), horizon());
        for through in policy_start().through(horizon()) {
            let short = owed_between(&book, &rec, policy_start(), through);
            let cut: Vec<&Entitlement> = long.iter().filter(|e| e.month <= through).collect();
            prop_assert_eq!(short.iter().collect::<Vec<_>>(), cut, "through {}", through);
        }
    }

    /// The core agrees with the reference model of POLICY.md on every allowance and month:
    /// district, tier, amount and split.
    #[test]
    fn r1_to_t7_core_matches_the_reference_model(rec in records(), from in engine_start()) {
        let got = owed_between(&book(), &rec, from, horizon());
        let want = reference::owed(&rec, from, horizon());
        prop_assert_eq!(as_map(&got), want);
    }
}
