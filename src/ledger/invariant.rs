//! Nothing paid twice, nothing lost (issue 9, L1–L4): for every (person, allowance, month) the
//! engine owes, what the rules owe equals what the ledger accounts for:
//!
//! owed = paid + held + waiting on a failure + recovered
//!
//! where `paid` is the counted lines (L1: batches neither superseded nor discarded, transfers not
//! failed or returned), `recovered` the recovery items raised for the month (negative: collected,
//! waived or outstanding, L1), `held` the held lines of the latest batch that settled the month
//! (L3), and `waiting` the lines of failed or returned transfers that no batch has settled again
//! yet. A person-month whose records or policy changed after the last batch that settled it is
//! not yet settled (the next run or rerun settles it): it is reported apart, not as a breach.

use crate::codes::Allowance;
use crate::month::ServiceMonth;
use serde::Serialize;

/// What the rules and the ledger say of one (person, allowance, month), fen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyAccount {
    /// Owed by the rules now (every district).
    pub owed: i64,
    /// Counted lines, recovery items aside.
    pub paid: i64,
    /// Recovery items (negative).
    pub recovered: i64,
    /// Held lines waiting (L3).
    pub held: i64,
    /// Lines of failed or returned transfers not yet settled again, less the recovery items their
    /// return cancelled (negative when the return settled more than it took back).
    pub waiting: i64,
}

impl KeyAccount {
    /// What the ledger accounts for.
    pub fn accounted(&self) -> i64 {
        self.paid + self.recovered + self.held + self.waiting
    }

    /// Whether the account balances: owed is accounted for, and nothing held is negative. (The net
    /// paid alone may be below zero: an offset taken from a later payment for a month whose own
    /// payment came back is owed back to the person, and waits or is held until paid; the
    /// database bounds it by the returned lines, L4.)
    pub fn balances(&self) -> bool {
        self.owed == self.accounted() && self.held >= 0 && self.owed >= 0
    }
}

/// A person-month whose account does not balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// The person (masked by whoever prints it).
    pub id_number: String,
    /// The allowance.
    pub allowance: Allowance,
    /// The month.
    pub month: ServiceMonth,
    /// The figures.
    pub account: KeyAccount,
}

/// The totals of a check, fen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LedgerTotals {
    /// Person-months checked.
    pub keys: u64,
    /// Person-months changed since the last batch that do not balance yet: not settled, not
    /// counted in the sums (the next run or rerun settles them).
    pub unsettled: u64,
    /// Sums over the checked person-months.
    pub sum: KeyAccount,
}

impl LedgerTotals {
    /// Add the totals of another part of the ledger (a page of persons).
    pub fn add(&mut self, o: &LedgerTotals) {
        // Every field named, so that a new one cannot be forgotten here.
        let LedgerTotals { keys, unsettled, sum: KeyAccount { owed, paid, recovered, held, waiting } } = o;
        self.keys += keys;
        self.unsettled += unsettled;
        self.sum.owed += owed;
        self.sum.paid += paid;
        self.sum.recovered += recovered;
        self.sum.held += held;
        self.sum.waiting += waiting;
    }
}

/// Check every account; the breaches, and the totals of those checked.
pub fn check<'a>(
    accounts: impl IntoIterator<Item = ((&'a str, Allowance, ServiceMonth), KeyAccount, bool)>,
) -> (Vec<Breach>, LedgerTotals) {
    let mut breaches = Vec::new();
    let mut totals = LedgerTotals::default();
    for ((id, allowance, month), a, changed) in accounts {
        // A person-month whose records changed since the last batch is only unsettled if it does
        // not balance yet (the change may not touch what is owed).
        if changed && !a.balances() {
            totals.unsettled += 1;
            continue;
        }
        totals.keys += 1;
        totals.sum.owed += a.owed;
        totals.sum.paid += a.paid;
        totals.sum.recovered += a.recovered;
        totals.sum.held += a.held;
        totals.sum.waiting += a.waiting;
        if !a.balances() {
            breaches.push(Breach { id_number: id.to_string(), allowance, month, account: a });
        }
    }
    (breaches, totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (&'static str, Allowance, ServiceMonth) {
        ("110102193001010012", Allowance::Longevity, "2020-03".parse().unwrap())
    }

    #[test]
    fn l1_owed_equals_paid_held_waiting_and_recovered() {
        // 500 owed: 500 paid once, returned (waiting), nothing else.
        let waiting = KeyAccount { owed: 50_000, waiting: 50_000, ..Default::default() };
        // 500 owed, then 0 (late death): 500 paid, 500 recovered.
        let recovered = KeyAccount { owed: 0, paid: 50_000, recovered: -50_000, ..Default::default() };
        // Paid twice: 1000 counted for 500 owed.
        let twice = KeyAccount { owed: 50_000, paid: 100_000, ..Default::default() };
        let (breaches, totals) =
            check([(key(), waiting, false), (key(), recovered, false), (key(), twice.clone(), false)]);
        assert_eq!(breaches.len(), 1);
        assert_eq!(breaches[0].account, twice);
        assert_eq!(totals.keys, 3);
        assert_eq!(totals.sum.owed, 100_000);
        assert_eq!(totals.sum.paid, 150_000);
    }

    #[test]
    fn l4_a_negative_net_balances_only_when_what_is_owed_back_waits_or_is_held() {
        let a = KeyAccount { owed: 0, paid: -100, ..Default::default() };
        assert!(!a.balances());
        // An offset of 100 taken for a month whose payment came back, owed back, held (DECEASED).
        let a = KeyAccount { owed: 0, paid: -10_000, held: 10_000, ..Default::default() };
        assert!(a.balances());
        let a = KeyAccount { owed: 0, paid: 0, held: -100, waiting: 100, ..Default::default() };
        assert!(!a.balances(), "a held line is never negative");
        // 100 paid, an offset of 20 taken from a later payment, then the 100 came back: the person
        // is owed 80 and 20 more; the 100 waits.
        let a = KeyAccount { owed: 8_000, paid: -2_000, waiting: 10_000, ..Default::default() };
        assert!(a.balances());
    }

    #[test]
    fn changed_person_months_that_do_not_balance_yet_are_counted_apart() {
        let a = KeyAccount { owed: 50_000, ..Default::default() };
        let (breaches, totals) = check([(key(), a, true)]);
        assert!(breaches.is_empty());
        assert_eq!((totals.keys, totals.unsettled), (0, 1));
        let settled = KeyAccount { owed: 50_000, paid: 50_000, ..Default::default() };
        let (_, totals) = check([(key(), settled, true)]);
        assert_eq!((totals.keys, totals.unsettled, totals.sum.paid), (1, 0, 50_000), "a change that owes nothing new");
    }
}
