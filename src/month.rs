//! `ServiceMonth`: the calendar month an allowance pays for (T1), with the date helpers the rules
//! need (first day for T3, last day for T2).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A calendar month, ordered and countable. Stored as `YYYY-MM` text everywhere outside memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceMonth {
    /// Months since year 0: `year * 12 + (month - 1)`, so that arithmetic is plain integers.
    index: i32,
}

impl ServiceMonth {
    /// The month `year-month`; `None` when `month` is not 1–12.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then(|| ServiceMonth { index: year * 12 + month as i32 - 1 })
    }

    /// The month that contains `date`.
    pub fn of(date: NaiveDate) -> Self {
        ServiceMonth { index: date.year() * 12 + date.month0() as i32 }
    }

    /// Calendar year.
    pub fn year(self) -> i32 {
        self.index.div_euclid(12)
    }

    /// Calendar month, 1–12.
    pub fn month(self) -> u32 {
        self.index.rem_euclid(12) as u32 + 1
    }

    /// First day of the month (T3 reads registration and life here).
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).expect("valid month")
    }

    /// Last day of the month (T2 reads conditions here).
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("valid date")
    }

    /// The following month.
    pub fn next(self) -> Self {
        self.plus(1)
    }

    /// The preceding month.
    pub fn prev(self) -> Self {
        self.plus(-1)
    }

    /// This month moved by `n` months (negative goes back).
    pub fn plus(self, n: i32) -> Self {
        ServiceMonth { index: self.index + n }
    }

    /// Whole months from `earlier` to `self` (`2020-03` minus `2020-01` is 2).
    pub fn months_since(self, earlier: ServiceMonth) -> i32 {
        self.index - earlier.index
    }

    /// Every month from `self` through `last`, inclusive.
    pub fn through(self, last: ServiceMonth) -> impl Iterator<Item = ServiceMonth> {
        (self.index..=last.index).map(|index| ServiceMonth { index })
    }
}

/// The policy's start, 2019-10 (only so that summaries can derive `Default`).
impl Default for ServiceMonth {
    fn default() -> Self {
        ServiceMonth { index: 2019 * 12 + 9 }
    }
}

impl fmt::Display for ServiceMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Error for a month that is not `YYYY-MM`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a month: write YYYY-MM, for example 2020-07")]
pub struct BadMonth(pub String);

impl FromStr for ServiceMonth {
    type Err = BadMonth;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadMonth(s.to_string());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        ServiceMonth::new(y, m).ok_or_else(bad)
    }
}

impl Serialize for ServiceMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ServiceMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_counts() {
        let m: ServiceMonth = "2020-02".parse().unwrap();
        assert_eq!(m.to_string(), "2020-02");
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2020, 2, 29).unwrap());
        assert_eq!(m.prev().to_string(), "2020-01");
        assert_eq!("2020-12".parse::<ServiceMonth>().unwrap().next().to_string(), "2021-01");
        assert_eq!(m.months_since("2019-10".parse().unwrap()), 4);
        assert!("2020-13".parse::<ServiceMonth>().is_err());
        assert!("2020-1".parse::<ServiceMonth>().is_err());
    }
}
