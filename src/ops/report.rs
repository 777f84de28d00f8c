//! `report --year`: each district's figures for a year (or one month of it), computed from the
//! store: per allowance, person-times (人次, F5) and amounts, net of corrections, of exported
//! batches (paid out); what computed or approved batches hold, apart; the lottery allocation (F3)
//! used, pending and left. The shapes and their text and CSV forms are in
//! [`crate::adapters::report`].

use super::{districts, no_allocation_message, policy_book, OpsError, OpsResult};
use crate::adapters::report::{
    chinese_name, AgeBand, AgeBandFigures, AllowanceFigures, DistrictReport, MonthFigures, NotExported, PendingBatch,
    StreetFigures,
};
use crate::codes::Allowance;
use crate::money::{wan, yuan};
use crate::month::ServiceMonth;
use crate::policy::PolicyBook;
use crate::store::{LedgerStore, NetRow, PendingRow, RecipientsRow, Store};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The report of `district` (or every district in the registry) for `year`, or one month of it.
pub async fn report<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    year: i32,
    month: Option<ServiceMonth>,
) -> OpsResult<Vec<DistrictReport>> {
    if let Some(m) = month.filter(|m| m.year() != year) {
        return Err(OpsError::Usage(format!(
            "--month {m} is not a month of --year {year}: ask for --year {} --month {m}, or --month {m} alone for its review",
            m.year()
        )));
    }
    let book = policy_book(s).await?;
    build(s, &book, &districts(s, district).await?, year, month).await
}

/// Build the report of each district for `year` (or one month of it).
pub async fn build<S: LedgerStore>(
    s: &S,
    book: &PolicyBook,
    districts: &[String],
    year: i32,
    month: Option<ServiceMonth>,
) -> OpsResult<Vec<DistrictReport>> {
    let mut out = Vec::new();
    for d in districts {
        out.push(district_report(s, book, d, year, month).await?);
    }
    Ok(out)
}

/// The three allowances in the seed report's order.
const SEED_ORDER: [Allowance; 3] = [Allowance::Care, Allowance::Longevity, Allowance::Hardship];

/// One district's report.
async fn district_report<S: LedgerStore>(
    s: &S,
    book: &PolicyBook,
    d: &str,
    year: i32,
    month: Option<ServiceMonth>,
) -> OpsResult<DistrictReport> {
    let rows = s.net_by_month(d, year).await?;
    let in_period = |m: &str| month.is_none_or(|x| m == x.to_string());
    let shown: Vec<&NetRow> = rows.iter().filter(|r| in_period(&r.service_month)).collect();
    let (allowances, total) = figures(&shown);
    let allocation = book.versions().iter().rev().find_map(|p| p.allocation(d, year));
    let district = book.latest().district(d);
    let name = district.map(|x| x.name.clone()).unwrap_or_default();
    let pending_all = s.pending_by_batch(d, year).await?;
    // The allocation is drawn by every counted batch of the year, whatever month is shown.
    let used_in_year: Decimal = rows.iter().map(|r| yuan(r.lottery_fen)).sum();
    let pending_in_year: Decimal = pending_all.iter().map(|r| yuan(r.lottery_fen)).sum();
    let not_exported = not_exported(pending_all.iter().filter(|r| in_period(&r.service_month)));
    let (from, to) = match month {
        Some(m) => (m, m),
        None => (ServiceMonth::new(year, 1).expect("January"), ServiceMonth::new(year, 12).expect("December")),
    };
    let recipients = s.recipients(d, from, to).await?;
    let street_name = |code: &str| {
        district.and_then(|x| x.streets.iter().find(|s| s.code == code)).map(|s| s.name.clone()).unwrap_or_default()
    };
    Ok(DistrictReport {
        district: d.to_string(),
        name,
        year,
        month,
        lottery_used: used_in_year,
        lottery_not_exported: pending_in_year,
        lottery_remaining: allocation.map(|a| a - used_in_year - pending_in_year),
        lottery_allocation: allocation,
        missing_allocation: allocation.is_none().then(|| no_allocation_message(d, year)),
        not_exported,
        allowances,
        total,
        by_month: from.through(to).map(|m| by_month(&shown, m)).collect(),
        by_street: by_street(&shown, &recipients, street_name),
        by_age_band: by_age_band(&shown, &recipients, year),
    })
}

/// Per allowance (seed order) and in total, the figures of `rows`.
fn figures(rows: &[&NetRow]) -> (Vec<AllowanceFigures>, AllowanceFigures) {
    let allowances: Vec<AllowanceFigures> = SEED_ORDER
        .iter()
        .map(|&a| {
            let mut f = sum(rows.iter().filter(|r| r.allowance == a.as_str()).copied());
            f.allowance = Some(a);
            f.name = chinese_name(a);
            f
        })
        .collect();
    let total = sum(rows.iter().copied());
    (allowances, total)
}

/// The figures of `rows` added up, named as the total (合计).
fn sum<'a>(rows: impl Iterator<Item = &'a NetRow>) -> AllowanceFigures {
    let mut f = AllowanceFigures { name: "合计", ..Default::default() };
    for r in rows {
        f.person_times += r.person_times;
        f.amount += yuan(r.amount_fen);
        f.lottery += yuan(r.lottery_fen);
        f.district += yuan(r.district_fen);
    }
    f.amount_wan = wan(f.amount);
    f
}

fn by_month(rows: &[&NetRow], m: ServiceMonth) -> MonthFigures {
    let key = m.to_string();
    let of_month: Vec<&NetRow> = rows.iter().filter(|r| r.service_month == key).copied().collect();
    let (allowances, total) = figures(&of_month);
    MonthFigures { month: m, allowances, total }
}

fn by_street(rows: &[&NetRow], recipients: &[RecipientsRow], name: impl Fn(&str) -> String) -> Vec<StreetFigures> {
    let mut streets: BTreeMap<&str, Vec<&NetRow>> = BTreeMap::new();
    for r in rows {
        streets.entry(r.street_code.as_str()).or_default().push(r);
    }
    streets
        .into_iter()
        .map(|(code, of_street)| StreetFigures {
            street_code: code.to_string(),
            name: name(code),
            recipients: recipients
                .iter()
                .filter(|x| x.birth_year.is_empty() && x.street_code == code)
                .map(|x| x.recipients)
                .sum(),
            total: sum(of_street.into_iter()),
        })
        .collect()
}

/// The band of a birth year (YYYY from the ID number) in `year`; an unreadable one falls in the
/// oldest band, where a reviewer looks first.
fn band_of(birth_year: &str, year: i32) -> AgeBand {
    birth_year.parse::<i32>().map(|b| AgeBand::of_age(year - b)).unwrap_or(AgeBand::From100)
}

fn by_age_band(rows: &[&NetRow], recipients: &[RecipientsRow], year: i32) -> Vec<AgeBandFigures> {
    AgeBand::ALL
        .iter()
        .map(|&band| {
            let f = sum(rows.iter().filter(|r| band_of(&r.birth_year, year) == band).copied());
            AgeBandFigures {
                band,
                recipients: recipients
                    .iter()
                    .filter(|x| x.street_code.is_empty() && band_of(&x.birth_year, year) == band)
                    .map(|x| x.recipients)
                    .sum(),
                person_times: f.person_times,
                amount: f.amount,
            }
        })
        .collect()
}

/// What computed or approved batches hold for the period.
fn not_exported<'a>(pending: impl Iterator<Item = &'a PendingRow> + Clone) -> NotExported {
    let mut n = NotExported::default();
    for r in pending.clone() {
        let amount = yuan(r.amount_fen);
        match n.batches.last_mut() {
            Some(b) if b.batch_id == r.batch_id => b.amount += amount,
            _ => n.batches.push(PendingBatch { batch_id: r.batch_id.clone(), state: r.state.clone(), amount }),
        }
        n.amount += amount;
        n.lottery += yuan(r.lottery_fen);
        n.district += yuan(r.district_fen);
    }
    for a in SEED_ORDER {
        let sum: Decimal = pending.clone().filter(|r| r.allowance == a.as_str()).map(|r| yuan(r.amount_fen)).sum();
        if !sum.is_zero() {
            n.by_allowance.insert(a, sum);
        }
    }
    n
}
