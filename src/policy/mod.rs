//! The policy as data (POLICY.md R, T, F): rates, tiers, quotas, timing parameters, the split
//! rule and the lottery allocations, each version effective from a service month. Files live in
//! `fixtures/policy/` (TOML); the database keeps every loaded version. No amount is in code.

mod funding;

pub use funding::{split, FundSplit};

use crate::codes::*;
use crate::month::ServiceMonth;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The default policy, Beijing 2019, loaded by `init` when the database has none.
pub const DEFAULT_POLICY: &str = include_str!("../../fixtures/policy/beijing-2019.toml");

/// One version of the policy, in force from `effective_from` until a later version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Version name, unique among loaded versions.
    pub version: String,
    /// First service month this version governs.
    pub effective_from: ServiceMonth,
    /// Human title (the regulation it encodes).
    #[serde(default)]
    pub title: String,
    /// T1, T5 parameters.
    pub timing: Timing,
    /// R2: longevity tiers by age, best first.
    pub longevity: Longevity,
    /// R4, R5, R8: care tiers, best first.
    pub care: Care,
    /// R6, R8: hardship tiers, best first.
    pub hardship: Hardship,
    /// F2/F4: how an amount splits between lottery fund and district.
    pub funding: Funding,
    /// F3: lottery allocations per district and year.
    #[serde(default)]
    pub allocations: Vec<Allocation>,
    /// Reference data: districts and their streets (import validation, R1).
    #[serde(default)]
    pub districts: Vec<District>,
}

/// Timing parameters (T1, T5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// T5: no month before this counts.
    pub policy_start: ServiceMonth,
    /// T5: the longest back pay, in months before the month of application.
    pub backpay_months: u32,
    /// T1 \[decision\]: day of month M-1 on which month M is run.
    pub run_day: u32,
    /// T1 \[decision\]: local time of the scheduled run, `HH:MM`.
    pub run_time: String,
    /// T1 \[decision\]: the time zone of the schedule.
    pub timezone: String,
}

impl Timing {
    /// T1: service month `month` is paid in advance: its run is on day `run_day` of the month
    /// before, at `run_time`, local time in `timezone`. None when the parameters do not form a
    /// time (checked when the policy is loaded).
    pub fn run_at(&self, month: ServiceMonth) -> Option<chrono::NaiveDateTime> {
        let before = month.prev();
        let day = chrono::NaiveDate::from_ymd_opt(before.year(), before.month(), self.run_day)?;
        let time = chrono::NaiveTime::parse_from_str(&self.run_time, "%H:%M").ok()?;
        Some(day.and_time(time))
    }
}

/// Longevity allowance (R2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Longevity {
    /// Age bands, best (oldest) first.
    pub tiers: Vec<AgeTier>,
}

/// An age band of the longevity allowance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeTier {
    /// Tier name as in the platform files (`80-89`).
    pub tier: String,
    /// The birthday that opens the band (R3).
    pub min_age: u32,
    /// Monthly amount, yuan.
    pub monthly: Decimal,
    /// F1: lottery quota per person-month, yuan.
    pub lottery_quota: Decimal,
}

/// Care subsidy (R4, R5, R8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Care {
    /// Minimum age (the birthday month opens it, R3).
    pub min_age: u32,
    /// Exclusion kinds that stop this allowance (R8).
    pub excluded_by: Vec<ExclusionKind>,
    /// Tiers, best first.
    pub tiers: Vec<CareTier>,
}

/// A care tier and what qualifies for it (R4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareTier {
    /// Tier name (`A`, `B`, `C`).
    pub tier: String,
    /// Monthly amount, yuan.
    pub monthly: Decimal,
    /// F1: lottery quota per person-month, yuan.
    pub lottery_quota: Decimal,
    /// Assessment results that qualify (R5: the latest assessment counts).
    #[serde(default)]
    pub assessments: Vec<AssessmentResult>,
    /// Certificate lines that qualify.
    #[serde(default)]
    pub certificates: Vec<CertificateRule>,
}

/// Which certificate lines qualify for a care tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRule {
    /// Any of these categories.
    pub categories: Vec<Category>,
    /// Any of these grades.
    pub grades: Vec<u8>,
    /// When set, the line's multiple-disabilities flag must equal it.
    #[serde(default)]
    pub multiple: Option<bool>,
}

impl CertificateRule {
    /// Whether a certificate line of this category, grade and flag qualifies.
    pub fn matches(&self, category: Category, grade: u8, multiple: bool) -> bool {
        self.categories.contains(&category)
            && self.grades.contains(&grade)
            && self.multiple.is_none_or(|m| m == multiple)
    }
}

/// Hardship subsidy (R6, R8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardship {
    /// Minimum age.
    pub min_age: u32,
    /// Exclusion kinds that stop this allowance (R8).
    pub excluded_by: Vec<ExclusionKind>,
    /// Tiers, best first.
    pub tiers: Vec<StatusTier>,
}

/// A hardship tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusTier {
    /// Tier name (`dibao`, …).
    pub tier: String,
    /// Monthly amount, yuan.
    pub monthly: Decimal,
    /// F1: lottery quota per person-month, yuan.
    pub lottery_quota: Decimal,
    /// Household statuses that qualify.
    pub statuses: Vec<HouseholdStatus>,
}

/// The split rule (F2, F4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    /// Which rule.
    pub rule: SplitRule,
    /// F4: the lottery fund's percentage (required with `percentage`, refused otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lottery_percent: Option<Decimal>,
}

/// The two split rules the policy allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitRule {
    /// F2: lottery = min(quota, amount).
    Quota,
    /// F4: lottery = amount × percent / 100, rounded half up to the fen.
    Percentage,
}

/// F3: the lottery allocation of one district and year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// District code.
    pub district: String,
    /// Calendar year of the service months it funds.
    pub year: i32,
    /// Amount, yuan.
    pub amount: Decimal,
}

/// A district and, where known, its streets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct District {
    /// 6-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Streets (街道); empty means "any 3-digit suffix".
    #[serde(default)]
    pub streets: Vec<Street>,
}

/// A street (街道).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Street {
    /// 9-digit code: district code plus three digits.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A tier as the core uses it, whatever the allowance: name, amount, quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierRate<'a> {
    /// Tier name.
    pub tier: &'a str,
    /// Monthly amount, yuan.
    pub monthly: Decimal,
    /// Lottery quota, yuan.
    pub lottery_quota: Decimal,
}

/// A policy file that cannot be used, with what to fix.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not valid TOML or not the expected shape.
    #[error("policy file is not in the format of fixtures/policy/: {0}")]
    Format(String),
    /// A value breaks a rule of the format.
    #[error("policy {version}: {problem}")]
    Invalid {
        /// Version name.
        version: String,
        /// What is wrong.
        problem: String,
    },
}

impl Policy {
    /// Parse and check a policy file's text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Format(e.to_string()))?;
        p.check()?;
        Ok(p)
    }

    /// Canonical JSON of this version (what the database stores and fingerprints).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("policy serializes")
    }

    /// Read back the stored JSON.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError::Format(e.to_string()))
    }

    /// The tiers of an allowance, best first.
    pub fn tiers(&self, allowance: Allowance) -> Vec<TierRate<'_>> {
        match allowance {
            Allowance::Longevity => {
                self.longevity.tiers.iter().map(|t| rate(&t.tier, t.monthly, t.lottery_quota)).collect()
            }
            Allowance::Care => self.care.tiers.iter().map(|t| rate(&t.tier, t.monthly, t.lottery_quota)).collect(),
            Allowance::Hardship => {
                self.hardship.tiers.iter().map(|t| rate(&t.tier, t.monthly, t.lottery_quota)).collect()
            }
        }
    }

    /// The tier at `index` (best first) of an allowance.
    pub fn tier(&self, allowance: Allowance, index: usize) -> TierRate<'_> {
        self.tiers(allowance)[index]
    }

    /// L4: the highest monthly rate of an allowance, the ceiling of its net paid.
    pub fn top_rate(&self, allowance: Allowance) -> Decimal {
        self.tiers(allowance).iter().map(|t| t.monthly).max().unwrap_or_default()
    }

    /// F3: the lottery allocation of a district for a year, if loaded.
    pub fn allocation(&self, district: &str, year: i32) -> Option<Decimal> {
        self.allocations.iter().find(|a| a.district == district && a.year == year).map(|a| a.amount)
    }

    /// The district with this code, if known.
    pub fn district(&self, code: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.code == code)
    }

    fn check(&self) -> Result<(), PolicyError> {
        let bad = |problem: String| PolicyError::Invalid { version: self.version.clone(), problem };
        if self.version.trim().is_empty() {
            return Err(bad("`version` is empty".into()));
        }
        if self.effective_from < self.timing.policy_start {
            return Err(bad("`effective_from` is before `timing.policy_start`".into()));
        }
        if !(1..=28).contains(&self.timing.run_day) || self.timing.run_at(self.effective_from).is_none() {
            return Err(bad("timing: run_day must be 1–28 and run_time HH:MM".into()));
        }
        if self.timing.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(bad(format!("timing: `{}` is not a time zone name", self.timing.timezone)));
        }
        for allowance in Allowance::ALL {
            let tiers = self.tiers(*allowance);
            if tiers.is_empty() {
                return Err(bad(format!("{allowance} has no tiers")));
            }
            for t in &tiers {
                for (what, v) in [("monthly", t.monthly), ("lottery_quota", t.lottery_quota)] {
                    if v < Decimal::ZERO || crate::money::to_fen(v).is_err() {
                        return Err(bad(format!(
                            "{allowance} tier {}: {what} {v} must be whole fen and not negative",
                            t.tier
                        )));
                    }
                }
            }
            let mut names: Vec<&str> = tiers.iter().map(|t| t.tier).collect();
            names.sort();
            names.dedup();
            if names.len() != tiers.len() {
                return Err(bad(format!("{allowance} repeats a tier name")));
            }
        }
        if self.longevity.tiers.windows(2).any(|w| w[0].min_age <= w[1].min_age) {
            return Err(bad("longevity tiers must be listed oldest band first".into()));
        }
        match (self.funding.rule, self.funding.lottery_percent) {
            (SplitRule::Quota, None) => {}
            (SplitRule::Percentage, Some(p)) if p >= Decimal::ZERO && p <= Decimal::ONE_HUNDRED => {}
            (SplitRule::Quota, Some(_)) => {
                return Err(bad("funding: lottery_percent only goes with rule = \"percentage\"".into()))
            }
            (SplitRule::Percentage, _) => {
                return Err(bad("funding: rule = \"percentage\" needs lottery_percent between 0 and 100".into()))
            }
        }
        for a in &self.allocations {
            if a.amount < Decimal::ZERO || crate::money::to_fen(a.amount).is_err() {
                return Err(bad(format!("allocation {} {}: amount must be whole fen", a.district, a.year)));
            }
        }
        for d in &self.districts {
            if d.code.len() != 6 || !d.code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!("district code `{}` must be 6 digits", d.code)));
            }
            if let Some(s) = d.streets.iter().find(|s| !(s.code.len() == 9 && s.code.starts_with(&d.code))) {
                return Err(bad(format!("street `{}` is not district {} plus three digits", s.code, d.code)));
            }
        }
        Ok(())
    }
}

fn rate(tier: &str, monthly: Decimal, lottery_quota: Decimal) -> TierRate<'_> {
    TierRate { tier, monthly, lottery_quota }
}

/// Every loaded policy version, ordered by effective month: the one in force for a month is the
/// latest that starts on or before it.
#[derive(Clone, Debug)]
pub struct PolicyBook {
    versions: Vec<Policy>,
}

impl PolicyBook {
    /// A book of versions (any order). Errors when empty or when two start in the same month.
    pub fn new(mut versions: Vec<Policy>) -> Result<Self, PolicyError> {
        versions.sort_by_key(|p| p.effective_from);
        if versions.is_empty() {
            return Err(PolicyError::Format("no policy is loaded: run `subsidy init`".into()));
        }
        if let Some(w) = versions.windows(2).find(|w| w[0].effective_from == w[1].effective_from) {
            return Err(PolicyError::Invalid {
                version: w[1].version.clone(),
                problem: format!("starts in {} like {}", w[1].effective_from, w[0].version),
            });
        }
        Ok(PolicyBook { versions })
    }

    /// The version in force for `month` (the earliest version for months before all of them).
    pub fn in_force(&self, month: ServiceMonth) -> &Policy {
        self.versions.iter().rev().find(|p| p.effective_from <= month).unwrap_or(&self.versions[0])
    }

    /// All versions, oldest first.
    pub fn versions(&self) -> &[Policy] {
        &self.versions
    }

    /// The latest version (reference data such as districts comes from it).
    pub fn latest(&self) -> &Policy {
        self.versions.last().expect("book is never empty")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses_with_the_seed_allocation() {
        let p = Policy::parse(DEFAULT_POLICY).unwrap();
        assert_eq!(p.allocation("110102", 2020), Some(Decimal::new(10_124_760_000, 2)));
        assert_eq!(p.top_rate(Allowance::Care), Decimal::new(600, 0));
        assert_eq!(p.top_rate(Allowance::Longevity), Decimal::new(800, 0));
        assert_eq!(p.district("110102").unwrap().streets.len(), 15);
        assert_eq!(Policy::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn rejects_sub_fen_amounts_and_unknown_fields() {
        let bad = DEFAULT_POLICY.replace("monthly = \"600.00\"", "monthly = \"600.005\"");
        assert!(matches!(Policy::parse(&bad), Err(PolicyError::Invalid { .. })));
        let unknown = DEFAULT_POLICY.replace("[funding]", "[funding]\nfoo = 1");
        assert!(Policy::parse(&unknown).is_err());
    }

    #[test]
    fn book_picks_the_version_in_force() {
        let v1 = Policy::parse(DEFAULT_POLICY).unwrap();
        let mut v2 = v1.clone();
        v2.version = "v2".into();
        v2.effective_from = "2021-01".parse().unwrap();
        let book = PolicyBook::new(vec![v2, v1]).unwrap();
        assert_eq!(book.in_force("2020-12".parse().unwrap()).version, "beijing-2019-v1");
        assert_eq!(book.in_force("2021-01".parse().unwrap()).version, "v2");
    }
}
