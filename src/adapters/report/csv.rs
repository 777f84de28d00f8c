//! The year's report as CSV: one row per district and allowance, then the breakdowns.

use super::{AllowanceFigures, DistrictReport};
use crate::money::format_yuan;

/// The CSV form: one row per district and allowance (and a total row), for the period; then, with
/// `section` saying which, the same per service month (`month` set), per street (`street_code`,
/// all allowances) and per age band (`age_band`, all allowances, with `recipients`). The first
/// twelve columns are the form's since issue 7; the breakdowns' are added after them.
pub fn csv(reports: &[DistrictReport]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record([
        "district",
        "year",
        "month",
        "allowance",
        "person_times",
        "amount",
        "amount_wan",
        "lottery_amount",
        "district_amount",
        "not_exported_amount",
        "not_exported_batches",
        "lottery_allocation",
        "section",
        "street_code",
        "age_band",
        "recipients",
    ])
    .expect("write");
    for r in reports {
        let allocation = r.lottery_allocation.map(format_yuan).unwrap_or_else(|| "not loaded".into());
        let period = r.month.map(|m| m.to_string()).unwrap_or_default();
        for f in r.allowances.iter().chain(std::iter::once(&r.total)) {
            let pending = match f.allowance {
                Some(a) => r.not_exported.by_allowance.get(&a).copied().unwrap_or_default(),
                None => r.not_exported.amount,
            };
            let batches = r.not_exported.batches.iter().map(|b| b.batch_id.as_str()).collect::<Vec<_>>().join(" ");
            let mut row = figures(r, &period, f);
            row.extend([format_yuan(pending), batches, allocation.clone()]);
            row.extend(["period".into(), String::new(), String::new(), String::new()]);
            w.write_record(&row).expect("write");
        }
        for m in r.by_month.iter().filter(|_| r.month.is_none()) {
            for f in m.allowances.iter().chain(std::iter::once(&m.total)) {
                let mut row = figures(r, &m.month.to_string(), f);
                row.extend([String::new(), String::new(), allocation.clone()]);
                row.extend(["month".into(), String::new(), String::new(), String::new()]);
                w.write_record(&row).expect("write");
            }
        }
        for st in &r.by_street {
            let mut row = figures(r, &period, &st.total);
            row.extend([String::new(), String::new(), allocation.clone()]);
            row.extend(["street".into(), st.street_code.clone(), String::new(), st.recipients.to_string()]);
            w.write_record(&row).expect("write");
        }
        for b in &r.by_age_band {
            let mut row = vec![
                r.district.clone(),
                r.year.to_string(),
                period.clone(),
                "total".into(),
                b.person_times.to_string(),
                format_yuan(b.amount),
                crate::money::wan(b.amount).to_string(),
                String::new(),
                String::new(),
            ];
            row.extend([String::new(), String::new(), allocation.clone()]);
            let band =
                serde_json::to_value(b.band).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            row.extend(["age_band".into(), String::new(), band, b.recipients.to_string()]);
            w.write_record(&row).expect("write");
        }
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}

/// The first nine columns: where, when, which allowance and its figures.
fn figures(r: &DistrictReport, month: &str, f: &AllowanceFigures) -> Vec<String> {
    vec![
        r.district.clone(),
        r.year.to_string(),
        month.to_string(),
        f.allowance.map(|a| a.as_str().to_string()).unwrap_or_else(|| "total".into()),
        f.person_times.to_string(),
        format_yuan(f.amount),
        f.amount_wan.to_string(),
        format_yuan(f.lottery),
        format_yuan(f.district),
    ]
}
