//! F2 and F4: how one person-month's amount splits between the city's welfare-lottery fund and
//! the district's budget. Adjustment lines carry differences of two splits (the ledger's job), so
//! every line of a person-month adds up to the split of what is owed.

use super::{Funding, SplitRule};
use crate::money::round_half_up;
use rust_decimal::Decimal;
use serde::Serialize;

/// The two shares of an amount; `lottery + district` is always the amount, to the fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FundSplit {
    /// Municipal welfare-lottery public welfare fund (市级彩票公益金), yuan.
    #[serde(rename = "lottery_amount", serialize_with = "crate::money::json::yuan")]
    pub lottery: Decimal,
    /// District budget (区财政), yuan.
    #[serde(rename = "district_amount", serialize_with = "crate::money::json::yuan")]
    pub district: Decimal,
}

impl FundSplit {
    /// The whole amount.
    pub fn total(&self) -> Decimal {
        self.lottery + self.district
    }
}

/// Split `amount` (what is owed for one person, allowance and month) under `rule`.
/// F2: lottery = min(quota, amount). F4: lottery = amount × percent, half up to the fen.
/// The district share is always the remainder, so nothing is lost or invented.
pub fn split(rule: &Funding, amount: Decimal, quota: Decimal) -> FundSplit {
    let lottery = match (rule.rule, rule.lottery_percent) {
        (SplitRule::Percentage, Some(percent)) => round_half_up(amount * percent / Decimal::ONE_HUNDRED),
        // Policy::check guarantees a percentage rule has its percent; quota otherwise.
        _ => quota.min(amount).max(Decimal::ZERO),
    };
    FundSplit { lottery, district: amount - lottery }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const QUOTA: Funding = Funding { rule: SplitRule::Quota, lottery_percent: None };

    fn pct(p: Decimal) -> Funding {
        Funding { rule: SplitRule::Percentage, lottery_percent: Some(p) }
    }

    #[test]
    fn f2_quota_split_takes_min_of_quota_and_amount() {
        // 90-99 band: 500 owed, quota 200 → lottery 200, district 300.
        let s = split(&QUOTA, dec!(500.00), dec!(200.00));
        assert_eq!((s.lottery, s.district), (dec!(200.00), dec!(300.00)));
        // 80-89 band: 100 owed, quota 100 → all lottery.
        let s = split(&QUOTA, dec!(100.00), dec!(100.00));
        assert_eq!((s.lottery, s.district), (dec!(100.00), dec!(0.00)));
        // hardship: quota 0 → all district.
        let s = split(&QUOTA, dec!(300.00), dec!(0.00));
        assert_eq!((s.lottery, s.district), (dec!(0.00), dec!(300.00)));
    }

    #[test]
    fn f4_percentage_rounds_half_up_and_adds_up() {
        // 33.33 % of 100.05 = 33.346665 → 33.35; district 66.70.
        let s = split(&pct(dec!(33.33)), dec!(100.05), dec!(0));
        assert_eq!((s.lottery, s.district), (dec!(33.35), dec!(66.70)));
        // 50 % of 0.05 = 0.025 → 0.03 half up (banker's would give 0.02).
        let s = split(&pct(dec!(50)), dec!(0.05), dec!(0));
        assert_eq!((s.lottery, s.district), (dec!(0.03), dec!(0.02)));
    }
}
