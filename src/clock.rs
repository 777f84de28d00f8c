//! "Now", injected: every command takes the date and the time from one [`Clock`], so that tests,
//! replays and (later) the scheduler can fix them. Nothing else in the engine reads the system
//! time. The policy's dates are Beijing's (Asia/Shanghai).
//!
//! - `SUBSIDY_TODAY=2021-01-15` fixes the date the rules see (future dates, the T1/T7 month window);
//!   timestamps the engine writes keep the real time, so records of successive commands stay in order.
//! - `SUBSIDY_NOW=2021-01-15T09:30:00+08:00` starts the clock at that instant: `now()` runs on from
//!   it, and `today()` is its Beijing date (unless `SUBSIDY_TODAY` says otherwise).
//! - [`Clock::frozen`] stops time altogether, for tests that need an exact instant.

use chrono::{DateTime, NaiveDate, Utc};
use std::time::Instant;

/// Where commands get the current date and time.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    fixed_today: Option<NaiveDate>,
    start: Start,
}

/// Where `now()` counts from.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// The system clock.
    System,
    /// This instant, when the clock was made, running on with real elapsed time.
    Running(DateTime<Utc>, Instant),
    /// This instant, always.
    Frozen(DateTime<Utc>),
}

impl Clock {
    /// The system clock, unless `SUBSIDY_NOW` (RFC 3339) or `SUBSIDY_TODAY` (YYYY-MM-DD) fix it.
    pub fn from_env() -> anyhow::Result<Clock> {
        let mut clock = Clock::system();
        if let Some(s) = env_value("SUBSIDY_NOW") {
            let at = DateTime::parse_from_rfc3339(&s).map_err(|_| {
                anyhow::anyhow!("SUBSIDY_NOW=`{s}` is not an instant like 2021-01-15T09:30:00+08:00 (RFC 3339)")
            })?;
            clock = Clock::starting_at(at.with_timezone(&Utc));
        }
        if let Some(s) = env_value("SUBSIDY_TODAY") {
            let today = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| anyhow::anyhow!("SUBSIDY_TODAY=`{s}` is not a date YYYY-MM-DD"))?;
            clock.fixed_today = Some(today);
        }
        Ok(clock)
    }

    /// The system clock.
    pub fn system() -> Clock {
        Clock { fixed_today: None, start: Start::System }
    }

    /// A clock whose date is fixed (timestamps keep the real time).
    pub fn fixed(today: NaiveDate) -> Clock {
        Clock { fixed_today: Some(today), start: Start::System }
    }

    /// A clock that starts at `at` and runs on.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock { fixed_today: None, start: Start::Running(at, Instant::now()) }
    }

    /// A clock stopped at `at`.
    pub fn frozen(at: DateTime<Utc>) -> Clock {
        Clock { fixed_today: None, start: Start::Frozen(at) }
    }

    /// Current instant (for timestamps of records the engine writes).
    pub fn now(&self) -> DateTime<Utc> {
        match self.start {
            Start::System => Utc::now(),
            Start::Running(at, since) => at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default(),
            Start::Frozen(at) => at,
        }
    }

    /// Today's date in Beijing: registry dates after it are in the future.
    pub fn today(&self) -> NaiveDate {
        self.fixed_today.unwrap_or_else(|| self.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive())
    }
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_frozen_clock_gives_its_instant_and_its_beijing_date() {
        // 2021-01-31 17:00 UTC is already 1 February in Beijing (UTC+8).
        let at = Utc.with_ymd_and_hms(2021, 1, 31, 17, 0, 0).unwrap();
        let clock = Clock::frozen(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2021, 2, 1).unwrap());
    }

    #[test]
    fn a_running_clock_starts_at_its_instant_and_never_goes_back() {
        let at = Utc.with_ymd_and_hms(2021, 1, 15, 1, 30, 0).unwrap();
        let clock = Clock::starting_at(at);
        let first = clock.now();
        let second = clock.now();
        assert!(first >= at && second >= first && first - at < chrono::Duration::minutes(1));
    }

    #[test]
    fn a_fixed_date_keeps_the_date_whatever_the_time() {
        let today = NaiveDate::from_ymd_opt(2021, 1, 15).unwrap();
        assert_eq!(Clock::fixed(today).today(), today);
    }
}
