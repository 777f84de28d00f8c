//! Scenario tests of the eligibility core, one or more per rule of `shared/domain/POLICY.md`,
//! each named after its rule number first. Every expected amount is derived in a comment from
//! the rule and the default policy (fixtures/policy/beijing-2019.toml).

mod support;

use rust_decimal_macros::dec;
use subsidy::codes::Allowance::{Care, Hardship, Longevity};
use subsidy::codes::{
    Allowance, AssessmentResult, Category, Decision, ExclusionKind, HouseholdStatus, SuspensionReason,
};
use subsidy::eligibility::{explain_month, owed_between, AllowanceDecision};
use subsidy::policy::{Funding, PolicyBook, SplitRule};
use subsidy::registry::PersonRecords;
use support::*;

fn decision(rec: &PersonRecords, engine_start: Option<&str>, month: &str, a: Allowance) -> AllowanceDecision {
    explain_month(&book(), rec, engine_start.map(m), m(month))
        .into_iter()
        .find(|x| x.allowance == a)
        .expect("one decision per allowance")
}

// ---------------------------------------------------------------------------------------------
// R1: registration in the district that pays.

#[test]
fn r1_unregistered_person_is_owed_nothing() {
    let rec = Person::unregistered("1935-05-10")
        .cert(Category::Limb, 1, false, "2019-01-15", None)
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .applies_for_all("2019-10-08")
        .build();
    // R1: no registration anywhere, so no allowance, however old, disabled or poor.
    assert!(owed_between(&book(), &rec, m("2019-10"), m("2021-12")).is_empty());
    for a in [Longevity, Care, Hardship] {
        let why = decision(&rec, None, "2020-06", a);
        assert_eq!(why.owed, None);
        // T3 names the missing registration on the month's first day.
        assert!(cites(&why.reasons, "T3"), "{a}: {:?}", why.reasons);
    }
}

#[test]
fn r1_district_of_registration_pays() {
    let rec =
        Person::unregistered("1935-05-10").registered(DONGCHENG, None, None).applies(Longevity, "2019-10-08").build();
    // R1/F1: registered in Dongcheng, so Dongcheng pays. R2: age 84 → 80-89, 100 yuan;
    // F2: quota 100 → lottery 100, district 0.
    assert_eq!(
        owed(&rec, Longevity, "2019-10", "2019-12"),
        run("2019-10", "2019-12", DONGCHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );
    let why = decision(&rec, None, "2019-11", Longevity);
    assert!(cites(&why.reasons, "R1"));
    assert!(why.reasons.iter().any(|r| r.rule == "R1" && r.detail.contains(DONGCHENG)));
}

// ---------------------------------------------------------------------------------------------
// R2, R3: longevity bands, opening in the birthday month.

#[test]
fn r2_longevity_bands_pay_100_500_800() {
    let aged = |birth: &str| {
        let rec = Person::born(birth).applies(Longevity, "2019-10-08").build();
        owed(&rec, Longevity, "2020-06", "2020-06")
    };
    // R2: age 85 in 2020-06 → band 80-89, 100; F1 quota 100 → lottery 100, district 0.
    assert_eq!(aged("1935-05-10"), vec![expect("2020-06", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))]);
    // R2: age 92 → band 90-99, 500; F1 quota 200 → lottery 200, district 300.
    assert_eq!(aged("1928-03-01"), vec![expect("2020-06", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00))]);
    // R2: age 101 → band 100+, 800; F1 quota 300 → lottery 300, district 500.
    assert_eq!(aged("1918-12-31"), vec![expect("2020-06", XICHENG, "100+", dec!(800.00), dec!(300.00), dec!(500.00))]);
    // R2: age 79 → no band, nothing.
    assert_eq!(aged("1941-01-01"), vec![]);
}

#[test]
fn r3_band_opens_in_birthday_month_including_29_february() {
    // Born 1940-02-29: the 80th birthday is 2020-02-29, so 80-89 opens in 2020-02 (R3); the
    // application of 2019-11 came before eligibility, so payment starts then (T5): 100 a month.
    let rec = Person::born("1940-02-29").applies(Longevity, "2019-11-05").build();
    assert_eq!(
        owed(&rec, Longevity, "2019-10", "2020-03"),
        run("2020-02", "2020-03", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );

    // Born 1932-02-29: the 90th birthday falls in 2022, not a leap year; R3 still puts it in
    // February. 2022-01: 80-89, 100 (lottery 100); from 2022-02: 90-99, 500 (lottery 200,
    // district 300).
    let rec = Person::born("1932-02-29").applies(Longevity, "2019-10-08").build();
    assert_eq!(
        owed(&rec, Longevity, "2022-01", "2022-03"),
        concat(vec![
            run("2022-01", "2022-01", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
            run("2022-02", "2022-03", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00)),
        ])
    );

    // Born 1920-02-29: 100th birthday 2020-02-29 → 100+ from 2020-02: 800 (lottery 300,
    // district 500); 2020-01 is still 90-99: 500 (200/300).
    let rec = Person::born("1920-02-29").applies(Longevity, "2019-10-08").build();
    assert_eq!(
        owed(&rec, Longevity, "2020-01", "2020-02"),
        vec![
            expect("2020-01", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00)),
            expect("2020-02", XICHENG, "100+", dec!(800.00), dec!(300.00), dec!(500.00)),
        ]
    );
}

#[test]
fn r3_care_and_hardship_open_in_the_60th_birthday_month() {
    // Born 1960-07-31: 60 in 2020-07. Disabled and on dibao all along, applied in 2020-03
    // (before eligibility, T5: starts at the first eligible month, 2020-07).
    let rec = Person::born("1960-07-31")
        .cert(Category::Limb, 1, false, "2019-01-15", None)
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .applies(Care, "2020-03-02")
        .applies(Hardship, "2020-03-02")
        .build();
    // R4: limb grade 1 → A, 600; F1 quota 100 → lottery 100, district 500.
    assert_eq!(
        owed(&rec, Care, "2019-10", "2020-08"),
        run("2020-07", "2020-08", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))
    );
    // R6: dibao, 300; no quota → lottery 0, district 300.
    assert_eq!(
        owed(&rec, Hardship, "2019-10", "2020-08"),
        run("2020-07", "2020-08", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))
    );
    assert_eq!(owed(&rec, Longevity, "2019-10", "2020-08"), vec![]);

    // Born 1960-02-29: the 60th birthday month is 2020-02 (R3).
    let rec = Person::born("1960-02-29")
        .status(HouseholdStatus::LowIncome, "2019-01-01", None)
        .applies(Hardship, "2019-12-01")
        .build();
    // R6: low income, 200; lottery 0, district 200.
    assert_eq!(
        owed(&rec, Hardship, "2019-10", "2020-03"),
        run("2020-02", "2020-03", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00))
    );
}

// ---------------------------------------------------------------------------------------------
// R4, R5: care tiers, certificates and assessments.

/// Care owed in 2020-06 to someone aged 75 holding one certificate line since 2019-01-15.
fn care_for_line(category: Category, grade: u8, multiple: bool) -> Vec<Line> {
    let rec = Person::born("1945-04-04")
        .cert(category, grade, multiple, "2019-01-15", None)
        .applies(Care, "2019-10-10")
        .build();
    owed(&rec, Care, "2020-06", "2020-06")
}

#[test]
fn r4_care_tiers_a_b_c_pay_600_400_200() {
    // R4: limb grade 1 → A, 600; F1 quota 100 → lottery 100, district 500.
    assert_eq!(
        care_for_line(Category::Limb, 1, false),
        vec![expect("2020-06", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))]
    );
    // R4: visual grade 2 → B, 400; lottery 100, district 300.
    assert_eq!(
        care_for_line(Category::Visual, 2, false),
        vec![expect("2020-06", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00))]
    );
    // R4: hearing grade 1 → C, 200; lottery 100, district 100.
    assert_eq!(
        care_for_line(Category::Hearing, 1, false),
        vec![expect("2020-06", XICHENG, "C", dec!(200.00), dec!(100.00), dec!(100.00))]
    );
}

#[test]
fn r4_grade_2_intellectual_with_multiple_true_is_a_without_is_b() {
    // R4: grade 2 intellectual or mental with multiple disabilities → A, 600 (100/500).
    for category in [Category::Intellectual, Category::Mental] {
        assert_eq!(
            care_for_line(category, 2, true),
            vec![expect("2020-06", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))],
            "{category} 2 multiple"
        );
        // Without multiple disabilities, grade 2 intellectual or mental → B, 400 (100/300).
        assert_eq!(
            care_for_line(category, 2, false),
            vec![expect("2020-06", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00))],
            "{category} 2"
        );
    }
}

#[test]
fn r4_every_category_and_grade_maps_to_the_tier_of_the_table() {
    use Category::*;
    // R4's table, line by line: (category, grade, multiple, tier).
    let table: &[(Category, u8, bool, Option<&str>)] = &[
        (Visual, 1, false, Some("A")),
        (Limb, 1, false, Some("A")),
        (Intellectual, 1, false, Some("A")),
        (Mental, 1, false, Some("A")),
        (Hearing, 1, false, Some("C")),
        (Speech, 1, false, Some("C")),
        (Visual, 2, false, Some("B")),
        (Visual, 2, true, Some("B")),
        (Limb, 2, false, Some("B")),
        (Limb, 2, true, Some("B")),
        (Intellectual, 2, false, Some("B")),
        (Mental, 2, false, Some("B")),
        (Intellectual, 2, true, Some("A")),
        (Mental, 2, true, Some("A")),
        (Hearing, 2, false, Some("C")),
        (Hearing, 2, true, Some("C")),
        (Speech, 2, false, Some("C")),
        (Intellectual, 3, false, Some("B")),
        (Intellectual, 3, true, Some("B")),
        (Mental, 3, false, Some("B")),
        (Visual, 3, false, None),
        (Limb, 3, false, None),
        (Hearing, 3, false, None),
        (Speech, 3, true, None),
        (Visual, 4, false, None),
        (Limb, 4, true, None),
        (Intellectual, 4, true, None),
        (Mental, 4, false, None),
        (Hearing, 4, false, None),
        (Speech, 4, false, None),
    ];
    for &(category, grade, multiple, tier) in table {
        let got = care_for_line(category, grade, multiple);
        // A 600, B 400, C 200; the lottery share is the quota of 100 in every tier (F1).
        let want = match tier {
            Some("A") => vec![expect("2020-06", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))],
            Some("B") => vec![expect("2020-06", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00))],
            Some("C") => vec![expect("2020-06", XICHENG, "C", dec!(200.00), dec!(100.00), dec!(100.00))],
            _ => vec![],
        };
        assert_eq!(got, want, "{category} grade {grade} multiple {multiple}");
    }
}

#[test]
fn r4_severe_assessment_is_tier_a() {
    // R4: severe (重度失能) → A, 600 (100/500). The assessment of 2019-09 also counts as the
    // care application (T5); it precedes the policy, so payment starts in 2019-10.
    let rec = Person::born("1945-04-04").assessed("2019-09-20", AssessmentResult::Severe).build();
    assert_eq!(
        owed(&rec, Care, "2019-10", "2019-11"),
        run("2019-10", "2019-11", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))
    );
    // Moderate, mild and able qualify for nothing (R5: only severe).
    for result in [AssessmentResult::Moderate, AssessmentResult::Mild, AssessmentResult::Able] {
        let rec = Person::born("1945-04-04").assessed("2019-09-20", result).applies(Care, "2019-10-10").build();
        assert_eq!(owed(&rec, Care, "2019-10", "2020-12"), vec![], "{result}");
    }
}

#[test]
fn r4_highest_tier_applies_never_two() {
    // One certificate listing limb 2 (B), speech 1 (C) and hearing 2 (C): the highest, B 400
    // (100/300), and only it.
    let rec = Person::born("1945-04-04")
        .cert(Category::Limb, 2, false, "2019-01-15", None)
        .cert(Category::Speech, 1, false, "2019-01-15", None)
        .cert(Category::Hearing, 2, false, "2019-01-15", None)
        .applies(Care, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Care, "2020-06", "2020-06"),
        vec![expect("2020-06", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00))]
    );
    // Severe assessment and a C certificate: A 600 (100/500), never A + C.
    let rec = Person::born("1945-04-04")
        .cert(Category::Hearing, 1, false, "2019-01-15", None)
        .assessed("2019-05-05", AssessmentResult::Severe)
        .build();
    assert_eq!(
        owed(&rec, Care, "2020-06", "2020-06"),
        vec![expect("2020-06", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))]
    );
}

#[test]
fn r5_later_certificate_replaces_earlier_whatever_its_category() {
    // Limb 1 (A) since 2019-05-01, then a hearing 2 certificate (C) issued 2020-03-15: the later
    // certificate replaces the earlier one although its category differs.
    let rec = Person::born("1945-04-04")
        .cert(Category::Limb, 1, false, "2019-05-01", None)
        .cert(Category::Hearing, 2, false, "2020-03-15", None)
        .applies(Care, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Care, "2020-02", "2020-05"),
        concat(vec![
            // 2020-02: A, 600 (100/500). 2020-03: end of March reads C, end of February A;
            // T2 pays the better, so the cut to C counts from the next month: A, 600.
            run("2020-02", "2020-03", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00)),
            // From 2020-04: C, 200 (100/100).
            run("2020-04", "2020-05", XICHENG, "C", dec!(200.00), dec!(100.00), dec!(100.00)),
        ])
    );

    // A later certificate that qualifies for nothing (limb grade 4) ends the care subsidy: the
    // earlier grade 1 line no longer counts. A through 2020-03 (T2), nothing after.
    let rec = Person::born("1945-04-04")
        .cert(Category::Limb, 1, false, "2019-05-01", None)
        .cert(Category::Limb, 4, false, "2020-03-15", None)
        .applies(Care, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Care, "2020-02", "2020-12"),
        run("2020-02", "2020-03", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))
    );
}

#[test]
fn r5_revoking_the_later_certificate_does_not_revive_the_earlier_one() {
    // Limb 1 (A) issued 2019-01-10; hearing 2 (C) issued 2020-01-10, revoked 2020-04-01.
    let rec = Person::born("1945-04-04")
        .cert(Category::Limb, 1, false, "2019-01-10", None)
        .cert(Category::Hearing, 2, false, "2020-01-10", Some("2020-04-01"))
        .applies(Care, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Care, "2019-12", "2020-12"),
        concat(vec![
            // 2019-12: A; 2020-01: end of January C, end of December A → A (T2): 600 (100/500).
            run("2019-12", "2020-01", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00)),
            // 2020-02, 03: C. 2020-04: end of April reads nothing (the certificate in force is
            // revoked and the earlier one stays replaced, R5), end of March C → C (T2).
            // C = 200 (100/100). Nothing from 2020-05.
            run("2020-02", "2020-04", XICHENG, "C", dec!(200.00), dec!(100.00), dec!(100.00)),
        ])
    );
}

#[test]
fn r5_latest_assessment_non_severe_replaces_an_earlier_severe_one() {
    // Severe on 2019-06-01 (A, and the care application, T5), moderate on 2020-05-10; a hearing
    // 1 certificate (C) all along.
    let rec = Person::born("1945-04-04")
        .cert(Category::Hearing, 1, false, "2019-01-01", None)
        .assessed("2019-06-01", AssessmentResult::Severe)
        .assessed("2020-05-10", AssessmentResult::Moderate)
        .build();
    assert_eq!(
        owed(&rec, Care, "2019-10", "2020-07"),
        concat(vec![
            // A, 600 (100/500) from the policy's start through 2020-05 (end of April severe: the
            // cut counts from the next month, T2).
            run("2019-10", "2020-05", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00)),
            // From 2020-06 only the certificate counts: C, 200 (100/100).
            run("2020-06", "2020-07", XICHENG, "C", dec!(200.00), dec!(100.00), dec!(100.00)),
        ])
    );
    // Without the certificate, care stops after 2020-05.
    let rec = Person::born("1945-04-04")
        .assessed("2019-06-01", AssessmentResult::Severe)
        .assessed("2020-05-10", AssessmentResult::Mild)
        .build();
    assert_eq!(owed_months(&rec, Care, "2020-12"), months("2019-10", "2020-05"));
}

// ---------------------------------------------------------------------------------------------
// R6: hardship by household status.

#[test]
fn r6_hardship_tiers_dibao_300_low_income_200_special_family_100() {
    let with = |kind: HouseholdStatus| {
        let rec = Person::born("1950-08-08").status(kind, "2019-01-01", None).applies(Hardship, "2019-10-10").build();
        owed(&rec, Hardship, "2020-06", "2020-06")
    };
    // R6: dibao 300; F1: no lottery quota for hardship → lottery 0, district 300.
    assert_eq!(
        with(HouseholdStatus::Dibao),
        vec![expect("2020-06", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))]
    );
    // R6: low income 200 → lottery 0, district 200.
    assert_eq!(
        with(HouseholdStatus::LowIncome),
        vec![expect("2020-06", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00))]
    );
    // R6: family-planning special family 100 → lottery 0, district 100.
    assert_eq!(
        with(HouseholdStatus::SpecialFamily),
        vec![expect("2020-06", XICHENG, "special_family", dec!(100.00), dec!(0.00), dec!(100.00))]
    );
}

#[test]
fn r6_best_household_status_applies() {
    // Special family all along, low income through 2020-12-31, dibao 2020-02-10 to 2020-05-15.
    let rec = Person::born("1950-08-08")
        .status(HouseholdStatus::SpecialFamily, "2019-01-01", None)
        .status(HouseholdStatus::LowIncome, "2019-01-01", Some("2020-12-31"))
        .status(HouseholdStatus::Dibao, "2020-02-10", Some("2020-05-15"))
        .applies(Hardship, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Hardship, "2020-01", "2021-03"),
        concat(vec![
            // 2020-01: low income is the best status: 200 (0/200).
            run("2020-01", "2020-01", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00)),
            // Dibao from 2020-02 (a raise counts in its own month, T2) through 2020-05 (ended
            // 15 May: end of April still dibao, T2): 300 (0/300).
            run("2020-02", "2020-05", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00)),
            // Low income again through 2021-01 (valid_to 2020-12-31 is inclusive: end of
            // December still low income, so January keeps it): 200 (0/200).
            run("2020-06", "2021-01", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00)),
            // Then special family: 100 (0/100).
            run("2021-02", "2021-03", XICHENG, "special_family", dec!(100.00), dec!(0.00), dec!(100.00)),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// R7: all three at once.

#[test]
fn r7_one_person_receives_all_three_at_once() {
    let rec = Person::born("1928-03-01")
        .cert(Category::Visual, 1, false, "2019-01-01", None)
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .applies_for_all("2019-10-08")
        .build();
    let got: Vec<(Allowance, Line)> =
        owed_between(&book(), &rec, m("2020-06"), m("2020-06")).iter().map(|e| (e.allowance, line(e))).collect();
    assert_eq!(
        got,
        vec![
            // Age 92 → 90-99: 500; quota 200 → lottery 200, district 300.
            (Longevity, expect("2020-06", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00))),
            // Visual grade 1 → A: 600; quota 100 → lottery 100, district 500.
            (Care, expect("2020-06", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))),
            // Dibao: 300; no quota → lottery 0, district 300.
            (Hardship, expect("2020-06", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))),
        ]
    );
    // Together 1400 a month: lottery 300, district 1100.
    let all = owed_between(&book(), &rec, m("2020-06"), m("2020-06"));
    assert_eq!(all.iter().map(|e| e.amount).sum::<rust_decimal::Decimal>(), dec!(1400.00));
    assert_eq!(all.iter().map(|e| e.split.lottery).sum::<rust_decimal::Decimal>(), dec!(300.00));
    assert_eq!(all.iter().map(|e| e.split.district).sum::<rust_decimal::Decimal>(), dec!(1100.00));
}

// ---------------------------------------------------------------------------------------------
// R8: exclusions.

/// 85 years old, limb grade 1, on dibao, applied for everything in 2019-10, and excluded by
/// `kind` from 2019-01-01 on.
fn excluded_by(kind: ExclusionKind) -> PersonRecords {
    Person::born("1935-05-10")
        .cert(Category::Limb, 1, false, "2019-01-15", None)
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .excluded(kind, "2019-01-01", None)
        .applies_for_all("2019-10-08")
        .build()
}

#[test]
fn r8_tekun_excludes_care_and_hardship_not_longevity() {
    let rec = excluded_by(ExclusionKind::Tekun);
    // Longevity is never excluded: 80-89, 100 (100/0), every month.
    assert_eq!(
        owed(&rec, Longevity, "2019-10", "2020-06"),
        run("2019-10", "2020-06", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );
    assert_eq!(owed(&rec, Care, "2019-10", "2020-06"), vec![]);
    assert_eq!(owed(&rec, Hardship, "2019-10", "2020-06"), vec![]);
    // explain names R8 as what blocks care and hardship.
    for a in [Care, Hardship] {
        let why = decision(&rec, None, "2020-06", a);
        assert_eq!(why.owed, None);
        assert!(cites(&why.reasons, "R8"), "{a}: {:?}", why.reasons);
    }
    assert!(decision(&rec, None, "2020-06", Longevity).owed.is_some());
}

#[test]
fn r8_disabled_person_subsidy_tekun_and_work_injury_care_exclude_care_and_hardship() {
    for kind in [ExclusionKind::DisabledPersonSubsidy, ExclusionKind::Tekun, ExclusionKind::WorkInjuryCare] {
        let rec = excluded_by(kind);
        assert_eq!(owed(&rec, Care, "2019-10", "2021-12"), vec![], "{kind}");
        assert_eq!(owed(&rec, Hardship, "2019-10", "2021-12"), vec![], "{kind}");
        // Longevity stays: 27 months of 80-89 (2019-10 to 2021-12).
        assert_eq!(owed_months(&rec, Longevity, "2021-12").len(), 27, "{kind}");
    }
}

#[test]
fn r8_heroic_zhiqing_and_institution_subsidy_exclude_care_only() {
    for kind in [ExclusionKind::HeroicInjuryCare, ExclusionKind::ZhiqingInjuryCare, ExclusionKind::InstitutionSubsidy] {
        let rec = excluded_by(kind);
        assert_eq!(owed(&rec, Care, "2019-10", "2021-12"), vec![], "{kind}");
        // Hardship is not excluded by these: dibao 300 (0/300).
        assert_eq!(
            owed(&rec, Hardship, "2020-06", "2020-06"),
            vec![expect("2020-06", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))],
            "{kind}"
        );
        let why = decision(&rec, None, "2020-06", Care);
        assert!(cites(&why.reasons, "R8"), "{kind}: {:?}", why.reasons);
    }
}

#[test]
fn r8_exclusion_ending_mid_month_pays_from_that_month() {
    // Tekun through 2020-04-15; applied while excluded, in 2019-11 (T5: payment starts at the
    // first eligible month after the application).
    let rec = Person::born("1945-04-04")
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .excluded(ExclusionKind::Tekun, "2019-01-01", Some("2020-04-15"))
        .applies(Hardship, "2019-11-20")
        .build();
    // End of April: no longer excluded → dibao; an opening counts in its own month (T2):
    // 2020-04 on, 300 (0/300).
    assert_eq!(
        owed(&rec, Hardship, "2019-10", "2020-05"),
        run("2020-04", "2020-05", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))
    );
    let why = decision(&rec, None, "2020-03", Hardship);
    assert_eq!(why.owed, None);
    assert!(cites(&why.reasons, "R8"), "{:?}", why.reasons);
}

#[test]
fn r8_exclusion_starting_mid_month_stops_from_the_next_month() {
    // Tekun from 2020-04-15: end of April excluded, end of March not → April is still paid (a
    // stop counts from the next month, T2); nothing from May. Dibao 300 (0/300).
    let rec = Person::born("1945-04-04")
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .excluded(ExclusionKind::Tekun, "2020-04-15", None)
        .applies(Hardship, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Hardship, "2019-10", "2020-12"),
        run("2019-10", "2020-04", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))
    );
}

// ---------------------------------------------------------------------------------------------
// T2: conditions read at month ends; raise in own month, cut from the next.

#[test]
fn t2_cut_counts_from_next_month_raise_in_own_month() {
    // Low income all along; dibao from 2020-03-20 to 2020-06-10.
    let rec = Person::born("1945-04-04")
        .status(HouseholdStatus::LowIncome, "2019-01-01", None)
        .status(HouseholdStatus::Dibao, "2020-03-20", Some("2020-06-10"))
        .applies(Hardship, "2019-10-10")
        .build();
    assert_eq!(
        owed(&rec, Hardship, "2020-02", "2020-08"),
        concat(vec![
            // 2020-02: low income, 200 (0/200).
            run("2020-02", "2020-02", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00)),
            // The raise to dibao counts in its own month, 2020-03; the cut of 2020-06-10 counts
            // from 2020-07 (June pays the better of end of June, low income, and end of May,
            // dibao): 300 (0/300) for 2020-03..06.
            run("2020-03", "2020-06", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00)),
            run("2020-07", "2020-08", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00)),
        ])
    );
    let why = decision(&rec, None, "2020-06", Hardship);
    assert!(cites(&why.reasons, "T2"));
    assert!(why.reasons.iter().any(|r| r.rule == "T2" && r.detail.contains("dibao")));
}

#[test]
fn t2_valid_to_is_the_last_day_the_period_holds() {
    // Dibao through 2020-05-31 (inclusive): holds at the end of May, so June is still paid
    // (cut from the next month), July not.
    let rec = Person::born("1945-04-04")
        .status(HouseholdStatus::Dibao, "2019-01-01", Some("2020-05-31"))
        .applies(Hardship, "2019-10-10")
        .build();
    assert_eq!(owed_months(&rec, Hardship, "2020-12"), months("2019-10", "2020-06"));
    // Through 2020-05-30: gone at the end of May, so May is the last month paid (its amount
    // from the end of April, T2).
    let rec = Person::born("1945-04-04")
        .status(HouseholdStatus::Dibao, "2019-01-01", Some("2020-05-30"))
        .applies(Hardship, "2019-10-10")
        .build();
    assert_eq!(owed_months(&rec, Hardship, "2020-12"), months("2019-10", "2020-05"));
    // May itself still pays dibao, 300 (0/300).
    assert_eq!(
        owed(&rec, Hardship, "2020-05", "2020-05"),
        vec![expect("2020-05", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00))]
    );
}

#[test]
fn t2_revoked_on_is_the_first_day_the_certificate_no_longer_counts() {
    // Revoked on 2020-06-01: it still counts on 2020-05-31 and on the end of May, so June is
    // paid (cut from the next month) and July is not.
    let rec = Person::born("1945-04-04")
        .cert(Category::Limb, 1, false, "2019-01-01", Some("2020-06-01"))
        .applies(Care, "2019-10-10")
        .build();
    assert_eq!(owed_months(&rec, Care, "2020-12"), months("2019-10", "2020-06"));
    // Revoked on 2020-05-31: no longer counts on the last day of May: May is the last month.
    let rec = Person::born("1945-04-04")
        .cert(Category::Limb, 1, false, "2019-01-01", Some("2020-05-31"))
        .applies(Care, "2019-10-10")
        .build();
    assert_eq!(owed_months(&rec, Care, "2020-12"), months("2019-10", "2020-05"));
    // May pays A, 600 (100/500) from the end of April.
    assert_eq!(
        owed(&rec, Care, "2020-05", "2020-05"),
        vec![expect("2020-05", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00))]
    );
}

#[test]
fn t2_certificate_issued_on_the_last_day_counts_that_month() {
    // Issued on 2020-03-31, the end of March reads it: B from 2020-03 (T2: an opening counts in
    // its own month), 400 (100/300). Applied in 2020-03: eligible then, spell starts 2020-03.
    let rec = Person::born("1945-04-04")
        .cert(Category::Visual, 2, false, "2020-03-31", None)
        .applies(Care, "2020-03-31")
        .build();
    assert_eq!(
        owed(&rec, Care, "2020-01", "2020-04"),
        run("2020-03", "2020-04", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00))
    );
}

// ---------------------------------------------------------------------------------------------
// T3: registration and life on the first day of the month.

#[test]
fn t3_paid_through_month_of_death() {
    for died in ["2020-05-01", "2020-05-31"] {
        let rec = Person::born("1935-05-10").applies(Longevity, "2019-10-08").dies(died).build();
        // Alive on 1 May: May is paid (100, 100/0); dead on 1 June: nothing from June.
        assert_eq!(
            owed(&rec, Longevity, "2019-10", "2020-12"),
            run("2019-10", "2020-05", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
            "died {died}"
        );
        let why = decision(&rec, None, "2020-06", Longevity);
        assert_eq!(why.owed, None);
        assert!(cites(&why.reasons, "T3"), "{:?}", why.reasons);
    }
}

#[test]
fn t3_move_within_beijing_old_district_through_month_new_from_next() {
    let rec = Person::born("1935-05-10").moves_to(DONGCHENG, "2020-04-17").applies(Longevity, "2019-10-08").build();
    // Xicheng pays through April, the month of the move; Dongcheng from May. 80-89: 100 (100/0).
    assert_eq!(
        owed(&rec, Longevity, "2020-03", "2020-06"),
        concat(vec![
            run("2020-03", "2020-04", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
            run("2020-05", "2020-06", DONGCHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
        ])
    );
    // A move on the first of the month changes nothing: the old district pays that month too.
    let rec = Person::born("1935-05-10").moves_to(CHAOYANG, "2020-04-01").applies(Longevity, "2019-10-08").build();
    let districts: Vec<(String, String)> =
        owed(&rec, Longevity, "2020-03", "2020-06").into_iter().map(|l| (l.0, l.1)).collect();
    assert_eq!(
        districts,
        vec![
            ("2020-03".to_string(), XICHENG.to_string()),
            ("2020-04".to_string(), XICHENG.to_string()),
            ("2020-05".to_string(), CHAOYANG.to_string()),
            ("2020-06".to_string(), CHAOYANG.to_string()),
        ]
    );
}

#[test]
fn t3_moving_in_pays_from_the_next_month_moving_out_through_its_month() {
    // Moved in from outside Beijing on 2020-02-10 and applied on 2020-02-12: not registered on
    // 1 February, so not eligible in February; payment starts in March (T5: first eligible
    // month after the application). Moved out of Beijing on 2020-09-30: paid through September.
    let rec = Person::unregistered("1935-05-10")
        .registered(XICHENG, Some("2020-02-10"), Some("2020-09-30"))
        .applies(Longevity, "2020-02-12")
        .build();
    assert_eq!(
        owed(&rec, Longevity, "2019-10", "2020-12"),
        run("2020-03", "2020-09", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );
    let why = decision(&rec, None, "2020-10", Longevity);
    assert_eq!(why.owed, None);
    assert!(cites(&why.reasons, "T3"));
}

#[test]
fn t3_t6_moving_back_in_pays_from_the_next_month_without_a_new_application() {
    // Moved out of Beijing on 2020-03-05, back into Chaoyang on 2021-01-05: paid through
    // 2020-03 by Xicheng, then from 2021-02 by Chaoyang on the 2019 application (T6).
    let rec = Person::born("1935-05-10")
        .moves_out("2020-03-05")
        .registered(CHAOYANG, Some("2021-01-05"), None)
        .applies(Longevity, "2019-10-08")
        .build();
    assert_eq!(
        owed(&rec, Longevity, "2020-02", "2021-03"),
        concat(vec![
            run("2020-02", "2020-03", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
            run("2021-02", "2021-03", CHAOYANG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// T4: suspensions.

#[test]
fn t4_suspension_blocks_months_after_start_through_end() {
    // Imprisoned 2020-03-10 to 2020-06-20: blocks April, May, June; March is paid, and payment
    // resumes in July without a new application (T6).
    let rec = Person::born("1935-05-10")
        .applies(Longevity, "2019-10-08")
        .suspended(SuspensionReason::Imprisonment, "2020-03-10", Some("2020-06-20"))
        .build();
    assert_eq!(
        owed(&rec, Longevity, "2020-01", "2020-08"),
        concat(vec![
            run("2020-01", "2020-03", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
            run("2020-07", "2020-08", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
        ])
    );
    let blocked = decision(&rec, None, "2020-05", Longevity);
    assert_eq!(blocked.owed, None);
    assert!(cites(&blocked.reasons, "T4"), "{:?}", blocked.reasons);
    let resumed = decision(&rec, None, "2020-07", Longevity);
    assert!(resumed.owed.is_some());
    assert!(cites(&resumed.reasons, "T6"), "{:?}", resumed.reasons);
}

#[test]
fn t4_open_suspension_blocks_every_later_month() {
    let rec = Person::born("1935-05-10")
        .applies(Longevity, "2019-10-08")
        .suspended(SuspensionReason::Missing, "2020-03-10", None)
        .build();
    assert_eq!(owed_months(&rec, Longevity, "2021-12"), months("2019-10", "2020-03"));
}

#[test]
fn t4_suspension_within_one_month_blocks_nothing() {
    // From 2020-03-05 to 2020-03-25: "the months after March through March" is no month.
    let rec = Person::born("1935-05-10")
        .applies(Longevity, "2019-10-08")
        .suspended(SuspensionReason::ReviewFailed, "2020-03-05", Some("2020-03-25"))
        .build();
    assert_eq!(owed_months(&rec, Longevity, "2020-12"), months("2019-10", "2020-12"));
}

#[test]
fn t4_t5_back_pay_does_not_reach_across_a_suspension() {
    // 80 in 2020-01; suspended 2020-02-10 to 2020-03-05, which blocks 2020-03 only. Applied in
    // 2020-06: the spell containing June starts in 2020-04 (2 months back), so back pay reaches
    // 2020-04, not 2020-01.
    let rec = Person::born("1940-01-15")
        .suspended(SuspensionReason::ReviewFailed, "2020-02-10", Some("2020-03-05"))
        .applies(Longevity, "2020-06-11")
        .build();
    assert_eq!(owed_months(&rec, Longevity, "2020-07"), months("2020-04", "2020-07"));
}

// ---------------------------------------------------------------------------------------------
// T5: the start of payment.

#[test]
fn t5_back_pay_at_most_six_months_before_application() {
    // 80 in 2020-01 (born 1940-01-15), applied 2020-07-03: the spell began 6 months before the
    // month of application, so back pay reaches 2020-01. 80-89: 100 (100/0).
    let rec = Person::born("1940-01-15").applies(Longevity, "2020-07-03").build();
    assert_eq!(
        owed(&rec, Longevity, "2019-10", "2020-08"),
        run("2020-01", "2020-08", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );
    let why = decision(&rec, None, "2020-01", Longevity);
    assert!(why.owed.is_some());
    assert!(
        why.reasons.iter().any(|r| r.rule == "T5" && r.detail.contains("back pay from 2020-01")),
        "{:?}",
        why.reasons
    );
}

#[test]
fn t5_delay_beyond_six_months_starts_at_application() {
    // Same person, applied 2020-08-03: 7 months after the spell began → paid from 2020-08.
    let rec = Person::born("1940-01-15").applies(Longevity, "2020-08-03").build();
    assert_eq!(
        owed(&rec, Longevity, "2019-10", "2020-09"),
        run("2020-08", "2020-09", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );
    let why = decision(&rec, None, "2020-07", Longevity);
    assert_eq!(why.owed, None);
    assert!(cites(&why.reasons, "T5"));
}

#[test]
fn t5_application_before_eligibility_starts_at_first_eligible_month() {
    // 80 in 2020-03 (born 1940-03-20), applied 2019-11-05: paid from 2020-03.
    let rec = Person::born("1940-03-20").applies(Longevity, "2019-11-05").build();
    assert_eq!(owed_months(&rec, Longevity, "2020-05"), months("2020-03", "2020-05"));
}

#[test]
fn t5_spells_are_cut_at_the_policy_start() {
    // Eligible long before the policy; the spell counts from 2019-10. Applied 2020-04: 6
    // months after 2019-10 → back pay from 2019-10.
    let rec = Person::born("1935-05-10").applies(Longevity, "2020-04-28").build();
    assert_eq!(owed_months(&rec, Longevity, "2020-06"), months("2019-10", "2020-06"));
    // Applied 2020-05: 7 months → from 2020-05.
    let rec = Person::born("1935-05-10").applies(Longevity, "2020-05-02").build();
    assert_eq!(owed_months(&rec, Longevity, "2020-06"), months("2020-05", "2020-06"));
    // Applied before the policy (2019-03): starts at the policy's first month.
    let rec = Person::born("1935-05-10").applies(Longevity, "2019-03-02").build();
    assert_eq!(owed_months(&rec, Longevity, "2019-12"), months("2019-10", "2019-12"));
}

#[test]
fn t5_earliest_start_of_several_applications_wins() {
    // 80 in 2020-01. Applied 2020-09 (8 months late: would start 2020-09) and 2020-05 (4
    // months: back pay from 2020-01); a rejected one in 2019-12 counts for nothing.
    let rec = Person::born("1940-01-15")
        .applies(Longevity, "2020-09-01")
        .applies(Longevity, "2020-05-10")
        .application(Longevity, "2019-12-01", Decision::Rejected)
        .build();
    assert_eq!(owed_months(&rec, Longevity, "2020-10"), months("2020-01", "2020-10"));
}

#[test]
fn t5_rejected_and_pending_applications_start_nothing() {
    let rec = Person::born("1935-05-10")
        .application(Longevity, "2019-10-08", Decision::Rejected)
        .application(Longevity, "2019-11-08", Decision::Pending)
        .application(Care, "2019-11-08", Decision::Approved)
        .build();
    assert_eq!(owed_months(&rec, Longevity, "2021-12"), Vec::<String>::new());
    let why = decision(&rec, None, "2020-06", Longevity);
    assert_eq!(why.owed, None);
    // Eligible, but no approved application: T5 blocks.
    assert!(why.reasons.iter().any(|r| r.rule == "T5" && r.detail.contains("no approved application")));
}

#[test]
fn t5_severe_assessment_counts_as_an_approved_care_application() {
    // Visual 2 (B) since 2019-12-05; severe assessment 2020-04-10 and no care application. The
    // assessment is the application of 2020-04: eligible then, spell since 2019-12 (4 months) →
    // back pay from 2019-12.
    let rec = Person::born("1945-04-04")
        .cert(Category::Visual, 2, false, "2019-12-05", None)
        .status(HouseholdStatus::Dibao, "2019-01-01", None)
        .assessed("2020-04-10", AssessmentResult::Severe)
        .build();
    assert_eq!(
        owed(&rec, Care, "2019-10", "2020-05"),
        concat(vec![
            // B: 400 (100/300) for 2019-12..2020-03.
            run("2019-12", "2020-03", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00)),
            // Severe from 2020-04 (a raise counts in its own month): A, 600 (100/500).
            run("2020-04", "2020-05", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00)),
        ])
    );
    // It is no application for hardship.
    assert_eq!(owed_months(&rec, Hardship, "2021-12"), Vec::<String>::new());
    let why = decision(&rec, None, "2019-12", Care);
    assert!(why.reasons.iter().any(|r| r.rule == "T5" && r.detail.contains("severe assessment")), "{:?}", why.reasons);
}

#[test]
fn t5_explain_names_the_rules_of_an_owed_month_and_of_a_blocked_one() {
    let rec = Person::born("1935-05-10").applies(Longevity, "2019-10-08").build();
    let why = decision(&rec, None, "2020-06", Longevity);
    // 80-89: 100 (100/0).
    assert_eq!(
        why.owed.as_ref().map(line),
        Some(expect("2020-06", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)))
    );
    for rule in ["R1", "R2", "R3", "T2", "T5", "T6", "F2"] {
        assert!(cites(&why.reasons, rule), "{rule} missing from {:?}", why.reasons);
    }
    assert!(why.reasons.iter().any(|r| r.rule == "F2" && r.detail.contains("lottery fund 100.00, district 0.00")));
    // A month before the policy's start is blocked by T5.
    let why = decision(&rec, None, "2019-09", Longevity);
    assert_eq!(why.owed, None);
    assert!(cites(&why.reasons, "T5"));
    assert!(!cites(&why.reasons, "F2"));
}

// ---------------------------------------------------------------------------------------------
// T6: once started.

#[test]
fn t6_once_started_later_months_paid_at_their_own_tier() {
    // Turns 90 in 2020-08: 80-89, 100 (100/0) through July; 90-99, 500 (200/300) from August,
    // on the 2019 application.
    let rec = Person::born("1930-08-20")
        .cert(Category::Visual, 2, false, "2019-01-01", None)
        .cert(Category::Limb, 1, false, "2020-09-15", None)
        .applies(Longevity, "2019-10-08")
        .applies(Care, "2019-10-08")
        .build();
    assert_eq!(
        owed(&rec, Longevity, "2020-07", "2020-09"),
        vec![
            expect("2020-07", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
            expect("2020-08", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00)),
            expect("2020-09", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00)),
        ]
    );
    // A new certificate (limb 1) raises care from B 400 (100/300) to A 600 (100/500) in its
    // own month, without a new application.
    assert_eq!(
        owed(&rec, Care, "2020-08", "2020-09"),
        vec![
            expect("2020-08", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00)),
            expect("2020-09", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00)),
        ]
    );
}

#[test]
fn t6_a_lapsed_status_that_returns_is_paid_again_without_a_new_application() {
    // Dibao to 2020-02-10, again from 2020-06-01: February is paid (end of January), March to
    // May are not, June on is paid again on the 2019 application.
    let rec = Person::born("1945-04-04")
        .status(HouseholdStatus::Dibao, "2019-01-01", Some("2020-02-10"))
        .status(HouseholdStatus::Dibao, "2020-06-01", None)
        .applies(Hardship, "2019-10-10")
        .build();
    assert_eq!(
        owed_months(&rec, Hardship, "2020-07"),
        [months("2019-10", "2020-02"), months("2020-06", "2020-07")].concat()
    );
}

// ---------------------------------------------------------------------------------------------
// T7: the engine's own start month.

#[test]
fn t7_no_month_before_engine_start() {
    let rec = Person::born("1935-05-10").applies(Longevity, "2019-10-08").build();
    // The engine starts at 2020-06: nothing before, 100 (100/0) a month from it.
    assert_eq!(
        owed(&rec, Longevity, "2020-06", "2020-08"),
        run("2020-06", "2020-08", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00))
    );
    // explain: owed under the policy, not by this engine.
    let why = decision(&rec, Some("2020-06"), "2020-03", Longevity);
    assert_eq!(why.owed, None);
    assert!(cites(&why.reasons, "T7"), "{:?}", why.reasons);
    assert!(decision(&rec, None, "2020-03", Longevity).owed.is_some());
    assert!(decision(&rec, Some("2020-06"), "2020-06", Longevity).owed.is_some());
}

#[test]
fn t7_spells_and_delays_are_counted_from_the_policy_start_all_the_same() {
    // Eligible since the policy's start, applied 2020-07 with the engine starting 2020-06: the
    // spell began 2019-10, 9 months before, so payment starts at 2020-07 and the engine's first
    // month is not owed.
    let rec = Person::born("1935-05-10").applies(Longevity, "2020-07-02").build();
    let got: Vec<String> = owed(&rec, Longevity, "2020-06", "2020-08").into_iter().map(|l| l.0).collect();
    assert_eq!(got, months("2020-07", "2020-08"));
    // Eligible from 2020-01, applied 2020-07: back pay reaches 2020-01 under T5, but the engine
    // pays from its own start, 2020-06.
    let rec = Person::born("1940-01-15").applies(Longevity, "2020-07-02").build();
    let got: Vec<String> = owed(&rec, Longevity, "2020-06", "2020-08").into_iter().map(|l| l.0).collect();
    assert_eq!(got, months("2020-06", "2020-08"));
}

// ---------------------------------------------------------------------------------------------
// F1, F2 (and F4): the split.

#[test]
fn f1_f2_lottery_share_is_min_of_quota_and_amount_district_pays_the_rest() {
    let born = |birth: &str| Person::born(birth).applies_for_all("2019-10-08");
    let cases: Vec<(PersonRecords, Allowance, Line)> = vec![
        // Longevity quotas 100 / 200 / 300 (F1) on 100 / 500 / 800 (R2).
        (
            born("1935-05-10").build(),
            Longevity,
            expect("2020-06", XICHENG, "80-89", dec!(100.00), dec!(100.00), dec!(0.00)),
        ),
        (
            born("1928-03-01").build(),
            Longevity,
            expect("2020-06", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00)),
        ),
        (
            born("1918-12-31").build(),
            Longevity,
            expect("2020-06", XICHENG, "100+", dec!(800.00), dec!(300.00), dec!(500.00)),
        ),
        // Care: quota 100 in every tier (F1) on 600 / 400 / 200 (R4).
        (
            born("1945-04-04").cert(Category::Mental, 1, false, "2019-01-01", None).build(),
            Care,
            expect("2020-06", XICHENG, "A", dec!(600.00), dec!(100.00), dec!(500.00)),
        ),
        (
            born("1945-04-04").cert(Category::Mental, 3, false, "2019-01-01", None).build(),
            Care,
            expect("2020-06", XICHENG, "B", dec!(400.00), dec!(100.00), dec!(300.00)),
        ),
        (
            born("1945-04-04").cert(Category::Speech, 2, false, "2019-01-01", None).build(),
            Care,
            expect("2020-06", XICHENG, "C", dec!(200.00), dec!(100.00), dec!(100.00)),
        ),
        // Hardship: no quota (F1), the district pays all (R6 amounts).
        (
            born("1945-04-04").status(HouseholdStatus::Dibao, "2019-01-01", None).build(),
            Hardship,
            expect("2020-06", XICHENG, "dibao", dec!(300.00), dec!(0.00), dec!(300.00)),
        ),
        (
            born("1945-04-04").status(HouseholdStatus::LowIncome, "2019-01-01", None).build(),
            Hardship,
            expect("2020-06", XICHENG, "low_income", dec!(200.00), dec!(0.00), dec!(200.00)),
        ),
        (
            born("1945-04-04").status(HouseholdStatus::SpecialFamily, "2019-01-01", None).build(),
            Hardship,
            expect("2020-06", XICHENG, "special_family", dec!(100.00), dec!(0.00), dec!(100.00)),
        ),
    ];
    for (rec, allowance, want) in cases {
        assert_eq!(owed(&rec, allowance, "2020-06", "2020-06"), vec![want.clone()], "{want:?}");
        let e = &owed_between(&book(), &rec, m("2020-06"), m("2020-06"))
            .into_iter()
            .find(|e| e.allowance == allowance)
            .expect("owed");
        assert_eq!(e.split.total(), e.amount);
        assert_eq!(e.policy_version, "beijing-2019-v1");
    }
}

#[test]
fn f4_a_later_version_with_a_percentage_rule_prices_its_own_months() {
    let v1 = policy();
    let mut v2 = policy();
    v2.version = "v2-percent".into();
    v2.effective_from = m("2021-01");
    v2.funding = Funding { rule: SplitRule::Percentage, lottery_percent: Some(dec!(12.345)) };
    let book = PolicyBook::new(vec![v1, v2]).unwrap();
    let rec = Person::born("1928-03-01").applies(Longevity, "2019-10-08").build();
    let got: Vec<(Line, String)> = owed_between(&book, &rec, m("2020-12"), m("2021-01"))
        .iter()
        .map(|e| (line(e), e.policy_version.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            // 2020-12 under v1: 90-99, 500, quota 200 → 200 / 300 (F2).
            (
                expect("2020-12", XICHENG, "90-99", dec!(500.00), dec!(200.00), dec!(300.00)),
                "beijing-2019-v1".to_string()
            ),
            // 2021-01 under v2: 500 × 12.345 % = 61.725 → 61.73 half up (F4; banker's rounding
            // would give 61.72); the district pays the rest, 438.27.
            (expect("2021-01", XICHENG, "90-99", dec!(500.00), dec!(61.73), dec!(438.27)), "v2-percent".to_string()),
        ]
    );
}

/// T1 [decision]: month M is paid in advance; its scheduled run is on the 26th of M−1 at 02:00
/// Asia/Shanghai — parameters of the policy, not constants.
#[test]
fn t1_month_m_is_run_in_advance_on_the_26th_of_m_minus_1_at_0200() {
    let policy = subsidy::policy::Policy::parse(subsidy::policy::DEFAULT_POLICY).unwrap();
    let at = |m: &str| policy.timing.run_at(m.parse().unwrap()).unwrap().to_string();
    // 2020-07 is paid before the end of June: run 2020-06-26 02:00.
    assert_eq!(at("2020-07"), "2020-06-26 02:00:00");
    // January's run falls in the previous year.
    assert_eq!(at("2021-01"), "2020-12-26 02:00:00");
    assert_eq!(policy.timing.timezone, "Asia/Shanghai");
    let moved = subsidy::policy::DEFAULT_POLICY.replace("run_day = 26", "run_day = 20");
    let moved = subsidy::policy::Policy::parse(&moved).unwrap();
    assert_eq!(moved.timing.run_at("2020-07".parse().unwrap()).unwrap().to_string(), "2020-06-20 02:00:00");
    let bad = subsidy::policy::DEFAULT_POLICY.replace("run_day = 26", "run_day = 31");
    assert!(subsidy::policy::Policy::parse(&bad).is_err(), "a day that not every month has is refused");
}
