//! F3: the lottery fund's allocation to a district for a year is a budget. Lines draw on the
//! allocation of their service month's year in payment-key order; once it is used up, further
//! lines are paid wholly by the district, and the run reports it. A year with no allocation
//! loaded has nothing to draw: its lines are paid wholly by the district from the start, and the
//! run names the missing allocation.

use super::Posting;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// What is left of each year's allocation, and what the batch drew.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LotteryPurse {
    /// Remaining allocation per year; a year absent here has no allocation loaded (nothing to
    /// draw).
    pub remaining: BTreeMap<i32, Decimal>,
    /// Lines whose lottery share was cut because the year's allocation ran out.
    pub exhausted_lines: BTreeMap<i32, u64>,
    /// Lottery share moved to the district by exhaustion, per year.
    pub shifted_to_district: BTreeMap<i32, Decimal>,
    /// Years without allocation that the batch's paid lines and recovery items fall in, with the
    /// number of lines whose lottery share moved to the district and that share's sum.
    pub unallocated: BTreeMap<i32, (u64, Decimal)>,
}

impl LotteryPurse {
    /// A purse with the remaining allocation of each year.
    pub fn new(remaining: BTreeMap<i32, Decimal>) -> Self {
        LotteryPurse { remaining, ..Default::default() }
    }

    /// Draw a posting's lottery share (held lines draw nothing: they are not paid). A negative
    /// share (offset, recovery) gives back to the allocation. In a year without allocation a
    /// positive share moves wholly to the district; a negative one stands, giving back to no
    /// allocation: it can only undo what the person-month's earlier lines drew (the ledger
    /// computes it as owed share minus the lottery share paid so far, and owed shares are never
    /// negative), so the person-month's net lottery share stays at or above zero.
    pub fn draw(&mut self, p: &mut Posting) {
        if p.held.is_some() {
            return;
        }
        let year = p.key.month.year();
        let Some(left) = self.remaining.get_mut(&year) else {
            let (lines, moved) = self.unallocated.entry(year).or_default();
            if p.split.lottery > Decimal::ZERO {
                *lines += 1;
                *moved += p.split.lottery;
                p.split.lottery = Decimal::ZERO;
                p.split.district = p.amount;
            }
            return;
        };
        if p.split.lottery > Decimal::ZERO {
            let take = p.split.lottery.min(*left).max(Decimal::ZERO);
            if take < p.split.lottery {
                *self.exhausted_lines.entry(year).or_default() += 1;
                *self.shifted_to_district.entry(year).or_default() += p.split.lottery - take;
                p.split.lottery = take;
                p.split.district = p.amount - take;
            }
            *left -= take;
        } else {
            *left -= p.split.lottery;
        }
    }

    /// Whether any year ran out during this batch.
    pub fn ran_out(&self) -> bool {
        !self.exhausted_lines.is_empty()
    }
}
