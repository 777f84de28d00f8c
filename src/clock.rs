//! "Now", injected: commands take the time from a [`Clock`] so that tests and replays can fix it
//! (`SUBSIDY_TODAY=2021-01-15`). The policy's dates are Beijing's (Asia/Shanghai).

use chrono::{DateTime, NaiveDate, Utc};

/// Where commands get the current date and time.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    fixed_today: Option<NaiveDate>,
}

impl Clock {
    /// The system clock, unless `SUBSIDY_TODAY` (YYYY-MM-DD) fixes the date.
    pub fn from_env() -> anyhow::Result<Clock> {
        let fixed_today = match std::env::var("SUBSIDY_TODAY") {
            Ok(s) if !s.is_empty() => Some(
                NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| anyhow::anyhow!("SUBSIDY_TODAY=`{s}` is not a date YYYY-MM-DD"))?,
            ),
            _ => None,
        };
        Ok(Clock { fixed_today })
    }

    /// A clock whose date is fixed.
    pub fn fixed(today: NaiveDate) -> Clock {
        Clock { fixed_today: Some(today) }
    }

    /// Current instant (for timestamps of records the engine writes).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Today's date in Beijing: registry dates after it are in the future.
    pub fn today(&self) -> NaiveDate {
        self.fixed_today.unwrap_or_else(|| Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive())
    }
}
