//! T1 as a timetable (pure): service month M is run on the policy's `run_day` of M−1 at
//! `run_time`, local time in its `timezone` (Beijing: 02:00 on the 26th, Asia/Shanghai). The
//! timetable is a cron expression built from those parameters (`0 0 2 26 * *`), read by the `cron`
//! crate; from it, what is due at an instant (the latest month whose run time has come) and when
//! the next run is. `subsidy schedule` (ops/schedule.rs) acts on it.

use crate::month::ServiceMonth;
use crate::policy::Timing;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

/// The timetable of the scheduled runs.
#[derive(Clone, Debug)]
pub struct Timetable {
    /// The cron expression (seconds, minutes, hours, day of month, month, day of week).
    pub expression: String,
    cron: cron::Schedule,
    /// Where the times are read.
    pub timezone: Tz,
}

/// The run of one service month, as the timetable has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    /// The service month it computes.
    pub month: ServiceMonth,
    /// When it was due.
    pub at: DateTime<Utc>,
}

impl Timetable {
    /// The timetable of the policy's timing (T1 \[decision\] parameters), or why there is none.
    pub fn of(timing: &Timing) -> Result<Timetable, String> {
        let (hour, minute) = timing
            .run_time
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(h, m)| *h < 24 && *m < 60)
            .ok_or_else(|| format!("run_time `{}` is not HH:MM", timing.run_time))?;
        if !(1..=28).contains(&timing.run_day) {
            return Err(format!("run_day {} is not a day every month has (1–28)", timing.run_day));
        }
        let timezone =
            Tz::from_str(&timing.timezone).map_err(|_| format!("timezone `{}` is unknown", timing.timezone))?;
        let expression = format!("0 {minute} {hour} {} * *", timing.run_day);
        let cron = cron::Schedule::from_str(&expression).map_err(|e| format!("cron `{expression}`: {e}"))?;
        Ok(Timetable { expression, cron, timezone })
    }

    /// The next run strictly after `now`, and the month it computes (the month after the run's).
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<Due> {
        let at = self.cron.after(&now.with_timezone(&self.timezone)).next()?;
        Some(Due { month: ServiceMonth::of(at.date_naive()).next(), at: at.with_timezone(&Utc) })
    }

    /// The latest run whose time has come at `now` (at or before it): the month due.
    pub fn due_at(&self, now: DateTime<Utc>) -> Option<Due> {
        let local = now.with_timezone(&self.timezone);
        // This month's run, if its time has come, else last month's.
        let this = ServiceMonth::of(local.date_naive()).next();
        [this, this.prev()].into_iter().map(|m| (m, self.time_of(m))).find_map(|(month, at)| {
            let at = at?;
            (at <= now).then_some(Due { month, at })
        })
    }

    /// When the run of `month` is due (its month before, at the timetable's day and time).
    pub fn time_of(&self, month: ServiceMonth) -> Option<DateTime<Utc>> {
        let before = month.prev();
        let first = self.timezone.with_ymd_and_hms(before.year(), before.month(), 1, 0, 0, 0).earliest()?;
        let at = self.cron.after(&(first - chrono::Duration::seconds(1))).next()?;
        (at.year() == before.year() && at.month() == before.month()).then(|| at.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beijing() -> Timetable {
        let timing = Timing {
            policy_start: "2019-10".parse().unwrap(),
            backpay_months: 6,
            run_day: 26,
            run_time: "02:00".into(),
            timezone: "Asia/Shanghai".into(),
        };
        Timetable::of(&timing).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn t1_the_timetable_is_02_00_on_the_26th_in_beijing() {
        let t = beijing();
        assert_eq!(t.expression, "0 0 2 26 * *");
        let next = t.next_after(at("2020-01-10T12:00:00+08:00")).unwrap();
        assert_eq!((next.month.to_string(), next.at), ("2020-02".to_string(), at("2020-01-26T02:00:00+08:00")));
        assert_eq!(t.time_of("2020-03".parse().unwrap()), Some(at("2020-02-26T02:00:00+08:00")));
    }

    #[test]
    fn t1_the_month_due_is_the_latest_whose_time_has_come() {
        let t = beijing();
        let due = |s: &str| t.due_at(at(s)).map(|d| d.month.to_string());
        assert_eq!(due("2020-01-26T01:59:59+08:00").as_deref(), Some("2020-01"), "a second early: last month's");
        assert_eq!(due("2020-01-26T02:00:00+08:00").as_deref(), Some("2020-02"), "on time");
        // 2020-01-25T18:00Z is 02:00 in Beijing: the time zone decides, not UTC's date.
        assert_eq!(due("2020-01-25T18:00:00Z").as_deref(), Some("2020-02"));
        assert_eq!(due("2020-03-05T09:00:00+08:00").as_deref(), Some("2020-03"), "the machine was down on the 26th");
    }

    #[test]
    fn t1_a_timing_that_is_no_time_is_refused() {
        let mut timing = Timing {
            policy_start: "2019-10".parse().unwrap(),
            backpay_months: 6,
            run_day: 31,
            run_time: "02:00".into(),
            timezone: "Asia/Shanghai".into(),
        };
        assert!(Timetable::of(&timing).unwrap_err().contains("run_day 31"));
        timing.run_day = 26;
        timing.timezone = "Mars/Olympus".into();
        assert!(Timetable::of(&timing).unwrap_err().contains("Mars/Olympus"));
    }
}
