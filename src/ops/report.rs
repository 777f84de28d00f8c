//! `report --year`: each district's figures for a year (or one month of it), computed from the
//! store: per allowance, person-times (人次, F5) and amounts, net of corrections, of exported
//! batches (paid out); what computed or approved batches hold, apart; the lottery allocation (F3)
//! used, pending and left. The shapes and their text and CSV forms are in
//! [`crate::adapters::report`].

use super::{districts, no_allocation_message, policy_book, OpsResult};
use crate::adapters::report::{chinese_name, AllowanceFigures, DistrictReport, NotExported, PendingBatch};
use crate::codes::Allowance;
use crate::money::{wan, yuan};
use crate::month::ServiceMonth;
use crate::policy::PolicyBook;
use crate::store::{LedgerStore, Store};
use rust_decimal::Decimal;

/// The report of `district` (or every district in the registry) for `year`, or one month of it.
pub async fn report<S: Store + LedgerStore>(
    s: &S,
    district: Option<&str>,
    year: i32,
    month: Option<ServiceMonth>,
) -> OpsResult<Vec<DistrictReport>> {
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
        let rows = s.net_by_month(d, year).await?;
        let mut allowances = Vec::new();
        for a in [Allowance::Care, Allowance::Longevity, Allowance::Hardship] {
            let mut f = AllowanceFigures { allowance: Some(a), name: chinese_name(a), ..Default::default() };
            for r in rows
                .iter()
                .filter(|r| r.allowance == a.as_str() && month.is_none_or(|m| r.service_month == m.to_string()))
            {
                f.person_times += r.person_times;
                f.amount += yuan(r.amount_fen);
                f.lottery += yuan(r.lottery_fen);
                f.district += yuan(r.district_fen);
            }
            f.amount_wan = wan(f.amount);
            allowances.push(f);
        }
        let mut total = AllowanceFigures { name: "合计", ..Default::default() };
        for f in &allowances {
            total.person_times += f.person_times;
            total.amount += f.amount;
            total.lottery += f.lottery;
            total.district += f.district;
        }
        total.amount_wan = wan(total.amount);
        let allocation = book.versions().iter().rev().find_map(|p| p.allocation(d, year));
        let name = book.latest().district(d).map(|x| x.name.clone()).unwrap_or_default();
        let mut not_exported = NotExported::default();
        let pending_all = s.pending_by_batch(d, year).await?;
        // The allocation is drawn by every counted batch of the year, whatever month is shown.
        let used_in_year: Decimal = rows.iter().map(|r| yuan(r.lottery_fen)).sum();
        let pending_in_year: Decimal = pending_all.iter().map(|r| yuan(r.lottery_fen)).sum();
        for r in pending_all.iter().filter(|r| month.is_none_or(|m| r.service_month == m.to_string())) {
            let amount = yuan(r.amount_fen);
            match not_exported.batches.last_mut() {
                Some(b) if b.batch_id == r.batch_id => b.amount += amount,
                _ => not_exported.batches.push(PendingBatch {
                    batch_id: r.batch_id.clone(),
                    state: r.state.clone(),
                    amount,
                }),
            }
            not_exported.amount += amount;
            not_exported.lottery += yuan(r.lottery_fen);
            not_exported.district += yuan(r.district_fen);
        }
        for a in [Allowance::Care, Allowance::Longevity, Allowance::Hardship] {
            let sum: Decimal = pending_all
                .iter()
                .filter(|r| r.allowance == a.as_str() && month.is_none_or(|m| r.service_month == m.to_string()))
                .map(|r| yuan(r.amount_fen))
                .sum();
            if !sum.is_zero() {
                not_exported.by_allowance.insert(a, sum);
            }
        }
        let missing_allocation = allocation.is_none().then(|| no_allocation_message(d, year));
        out.push(DistrictReport {
            district: d.clone(),
            name,
            year,
            month,
            lottery_used: used_in_year,
            lottery_not_exported: pending_in_year,
            lottery_remaining: allocation.map(|a| a - used_in_year - pending_in_year),
            lottery_allocation: allocation,
            missing_allocation,
            not_exported,
            allowances,
            total,
        });
    }
    Ok(out)
}
