//! Shared by `tests/rules.rs` and `tests/properties.rs`: the default policy, date and month
//! shorthands, and a builder of `PersonRecords` by hand.
#![allow(dead_code)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use subsidy::codes::{
    Allowance, AssessmentResult, Category, Decision, ExclusionKind, HouseholdStatus, SuspensionReason,
};
use subsidy::eligibility::{owed_between, Entitlement, Reason};
use subsidy::idcard;
use subsidy::month::ServiceMonth;
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::registry::{Application, Assessment, CertificateLine, Period, PersonRecords, Registration};

/// Xicheng, the seed's district.
pub const XICHENG: &str = "110102";
/// Dongcheng.
pub const DONGCHENG: &str = "110101";
/// Chaoyang.
pub const CHAOYANG: &str = "110105";

/// The default policy (fixtures/policy/beijing-2019.toml).
pub fn policy() -> Policy {
    Policy::parse(DEFAULT_POLICY).expect("default policy parses")
}

/// A book holding only the default policy.
pub fn book() -> PolicyBook {
    PolicyBook::new(vec![policy()]).expect("one version")
}

/// `YYYY-MM-DD`.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// `YYYY-MM`.
pub fn m(s: &str) -> ServiceMonth {
    s.parse().expect("test month")
}

/// The policy's first month, 2019-10 (T5).
pub fn policy_start() -> ServiceMonth {
    m("2019-10")
}

/// A person's records, built by hand. `born` registers them in Xicheng for good (no move-in
/// date, no move-out, alive); the other methods add records.
#[derive(Clone, Debug)]
pub struct Person {
    rec: PersonRecords,
}

impl Person {
    /// Born on `birth`, registered in Xicheng since always.
    pub fn born(birth: &str) -> Person {
        Person::unregistered(birth).registered(XICHENG, None, None)
    }

    /// Born on `birth`, with no registration anywhere.
    pub fn unregistered(birth: &str) -> Person {
        let birth = d(birth);
        Person {
            rec: PersonRecords {
                id_number: idcard::make(XICHENG, birth, 1),
                birth_date: Some(birth),
                ..PersonRecords::default()
            },
        }
    }

    /// Add a registration in `district`, moved in on `moved_in` (none: always) and out on
    /// `moved_out` (none: still there).
    pub fn registered(mut self, district: &str, moved_in: Option<&str>, moved_out: Option<&str>) -> Self {
        self.rec.registrations.push(Registration {
            district_code: district.to_string(),
            street_code: format!("{district}001"),
            name: "测试".to_string(),
            hukou_in_date: moved_in.map(d),
            hukou_out_date: moved_out.map(d),
            death_date: None,
            account_type: None,
            account_no: Some("6200000000000000".to_string()),
        });
        self
    }

    /// Registration moves out of the (only) current district on `date`.
    pub fn moves_out(mut self, date: &str) -> Self {
        let last = self.rec.registrations.last_mut().expect("registered");
        last.hukou_out_date = Some(d(date));
        self
    }

    /// Moves within Beijing on `date`: the current registration ends, one in `district` begins.
    pub fn moves_to(self, district: &str, date: &str) -> Self {
        self.moves_out(date).registered(district, Some(date), None)
    }

    /// Dies on `date` (recorded on every registration).
    pub fn dies(mut self, date: &str) -> Self {
        for r in &mut self.rec.registrations {
            r.death_date = Some(d(date));
        }
        self
    }

    /// An approved application for `allowance`, submitted on `date`.
    pub fn applies(self, allowance: Allowance, date: &str) -> Self {
        self.application(allowance, date, Decision::Approved)
    }

    /// Applications for all three allowances on `date`, approved.
    pub fn applies_for_all(self, date: &str) -> Self {
        Allowance::ALL.iter().fold(self, |p, &a| p.applies(a, date))
    }

    /// An application with any decision.
    pub fn application(mut self, allowance: Allowance, date: &str, decision: Decision) -> Self {
        self.rec.applications.push(Application { allowance, applied_on: d(date), decision, decided_on: Some(d(date)) });
        self
    }

    /// An ability assessment.
    pub fn assessed(mut self, date: &str, result: AssessmentResult) -> Self {
        self.rec.assessments.push(Assessment { assessed_on: d(date), result });
        self
    }

    /// One line of a disability certificate (lines sharing `issued` form one certificate).
    pub fn cert(mut self, category: Category, grade: u8, multiple: bool, issued: &str, revoked: Option<&str>) -> Self {
        self.rec.certificates.push(CertificateLine {
            category,
            grade,
            multiple,
            issued_on: d(issued),
            revoked_on: revoked.map(d),
        });
        self
    }

    /// A household status from `from` through `to` (inclusive; none: open).
    pub fn status(mut self, kind: HouseholdStatus, from: &str, to: Option<&str>) -> Self {
        self.rec.statuses.push(period(kind, from, to));
        self
    }

    /// An exclusion from `from` through `to`.
    pub fn excluded(mut self, kind: ExclusionKind, from: &str, to: Option<&str>) -> Self {
        self.rec.exclusions.push(period(kind, from, to));
        self
    }

    /// A suspension from `from` through `to`.
    pub fn suspended(mut self, reason: SuspensionReason, from: &str, to: Option<&str>) -> Self {
        self.rec.suspensions.push(period(reason, from, to));
        self
    }

    /// The records.
    pub fn build(self) -> PersonRecords {
        self.rec
    }
}

fn period<K>(kind: K, from: &str, to: Option<&str>) -> Period<K> {
    Period { kind, valid_from: d(from), valid_to: to.map(d) }
}

/// One entitlement in a form easy to compare: (month, district, tier, amount, lottery, district
/// share).
pub type Line = (String, String, String, Decimal, Decimal, Decimal);

/// An entitlement as a [`Line`].
pub fn line(e: &Entitlement) -> Line {
    (e.month.to_string(), e.district.clone(), e.tier.clone(), e.amount, e.split.lottery, e.split.district)
}

/// A [`Line`] from its parts.
pub fn expect(
    month: &str,
    district: &str,
    tier: &str,
    amount: Decimal,
    lottery: Decimal,
    district_share: Decimal,
) -> Line {
    (month.to_string(), district.to_string(), tier.to_string(), amount, lottery, district_share)
}

/// What the engine owes for `allowance` from `from` through `through`, as lines.
pub fn owed(rec: &PersonRecords, allowance: Allowance, from: &str, through: &str) -> Vec<Line> {
    owed_between(&book(), rec, m(from), m(through)).iter().filter(|e| e.allowance == allowance).map(line).collect()
}

/// The months owed for `allowance` from the policy's start through `through`.
pub fn owed_months(rec: &PersonRecords, allowance: Allowance, through: &str) -> Vec<String> {
    owed_between(&book(), rec, policy_start(), m(through))
        .iter()
        .filter(|e| e.allowance == allowance)
        .map(|e| e.month.to_string())
        .collect()
}

/// Every month from `from` through `through`, as text.
pub fn months(from: &str, through: &str) -> Vec<String> {
    m(from).through(m(through)).map(|x| x.to_string()).collect()
}

/// Whether the reasons cite `rule`, as their rule or as the rule a detail opens with
/// (`R8: exclusions.csv …` inside an R4 reading).
pub fn cites(reasons: &[Reason], rule: &str) -> bool {
    let tag = format!("{rule}:");
    reasons.iter().any(|r| r.rule == rule || r.detail.starts_with(&tag) || r.detail.contains(&format!("({tag}")))
}

/// The same [`Line`] for every month from `from` through `through`.
pub fn run(
    from: &str,
    through: &str,
    district: &str,
    tier: &str,
    amount: Decimal,
    lottery: Decimal,
    district_share: Decimal,
) -> Vec<Line> {
    m(from)
        .through(m(through))
        .map(|x| expect(&x.to_string(), district, tier, amount, lottery, district_share))
        .collect()
}

/// Concatenate runs of lines.
pub fn concat(parts: Vec<Vec<Line>>) -> Vec<Line> {
    parts.into_iter().flatten().collect()
}
