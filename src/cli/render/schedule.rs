//! What `schedule` prints at each due time: the timetable, the month due (late or on time) and
//! the months a district catches up, before the runs; one line per district run as each finishes
//! (`run`'s renderer); the next run at the end. With `--json`, one object per due time.

use super::print_json;
use crate::ops::schedule::Scheduled;
use crate::schedule::Due;
use serde_json::json;

fn local(due: &Due, s: &Scheduled) -> String {
    let tz: chrono_tz::Tz = s.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    format!("{} ({})", due.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"), s.timezone)
}

/// What is due, before it runs (text).
pub fn due(s: &Scheduled) {
    match (&s.due, s.late_by) {
        (None, _) => println!("schedule ({} {}): nothing is due yet", s.timetable, s.timezone),
        (Some(d), None) => {
            println!("schedule ({} {}): {} is due since {}", s.timetable, s.timezone, d.month, local(d, s))
        }
        (Some(d), Some(late)) => println!(
            "schedule ({} {}): {} was due at {}: the run was missed, done now ({} h {} min late)",
            s.timetable,
            s.timezone,
            d.month,
            local(d, s),
            late.num_hours(),
            late.num_minutes() % 60
        ),
    }
    for (district, months) in &s.caught_up {
        let months: Vec<String> = months.iter().map(|m| m.to_string()).collect();
        println!(
            "  district {district}: {} had no batch of its own; this run settles {} too (L2)",
            months.join(", "),
            if months.len() == 1 { "it" } else { "them" }
        );
    }
}

/// The end of one due time: JSON (everything), or the next run (text).
pub fn scheduled(s: &Scheduled, json: bool) {
    if json {
        report_json(s);
    } else if let Some(next) = &s.next {
        println!("next run: {} for {}", local(next, s), next.month);
    }
}

fn report_json(s: &Scheduled) {
    let runs: Vec<_> = s
        .runs
        .iter()
        .map(|r| {
            let (outcome, batch) = match &r.outcome {
                crate::batch::RunOutcome::Computed(sum) => ("computed", Some(sum.batch_id.clone())),
                crate::batch::RunOutcome::Existing(b) => ("existing", Some(b.batch_id.clone())),
                crate::batch::RunOutcome::NothingToSettle => ("nothing_to_settle", None),
                crate::batch::RunOutcome::Locked => ("locked", None),
                crate::batch::RunOutcome::Refused(_) => ("refused", None),
            };
            json!({ "district_code": r.district, "outcome": outcome, "batch_id": batch })
        })
        .collect();
    let caught: serde_json::Map<String, serde_json::Value> = s
        .caught_up
        .iter()
        .map(|(d, ms)| (d.clone(), json!(ms.iter().map(|m| m.to_string()).collect::<Vec<_>>())))
        .collect();
    // RFC 3339 with the timetable's offset: a script reads it without knowing the time zone.
    let tz: chrono_tz::Tz = s.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let at = |d: &Due| json!({ "service_month": d.month.to_string(), "at": d.at.with_timezone(&tz).to_rfc3339() });
    print_json(&json!({
        "timetable": s.timetable, "timezone": s.timezone,
        "due": s.due.as_ref().map(at),
        "late_minutes": s.late_by.map(|l| l.num_minutes()),
        "caught_up": caught, "runs": runs, "not_started": s.not_started,
        "next": s.next.as_ref().map(at),
    }));
}
