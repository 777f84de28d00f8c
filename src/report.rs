//! `report --year`: the district's figures in the shape of section 一 of the seed report —
//! per allowance, person-times (人次, F5) and amounts in yuan and 万元 including district matching
//! (含区财政配套资金), and the lottery fund used against its allocation (F3).

use crate::codes::Allowance;
use crate::money::{format_yuan, yuan};
use crate::month::ServiceMonth;
use crate::policy::PolicyBook;
use crate::store::LedgerStore;
use rust_decimal::Decimal;
use serde::Serialize;

/// One allowance's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllowanceFigures {
    /// Allowance.
    pub allowance: Option<Allowance>,
    /// Chinese name as the seed report writes it.
    pub name: &'static str,
    /// Distinct (person, allowance, month) with a positive net paid (F5).
    pub person_times: i64,
    /// Net paid, yuan.
    pub amount: Decimal,
    /// The same in 万元.
    pub amount_wan: Decimal,
    /// Lottery fund share, yuan.
    pub lottery: Decimal,
    /// District budget share (配套), yuan.
    pub district: Decimal,
}

/// One district's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DistrictReport {
    /// District code.
    pub district: String,
    /// District name.
    pub name: String,
    /// Year of the service months.
    pub year: i32,
    /// Only this month, if asked.
    pub month: Option<ServiceMonth>,
    /// Per allowance, in the seed's order (care, longevity, hardship).
    pub allowances: Vec<AllowanceFigures>,
    /// All allowances.
    pub total: AllowanceFigures,
    /// Lottery allocation of the year (F3), yuan, if loaded.
    pub lottery_allocation: Option<Decimal>,
    /// Allocation left, yuan.
    pub lottery_remaining: Option<Decimal>,
}

fn chinese_name(a: Allowance) -> &'static str {
    match a {
        Allowance::Care => "失能老年人护理补贴",
        Allowance::Longevity => "高龄津贴",
        Allowance::Hardship => "困难老年人养老服务补贴",
    }
}

fn wan(y: Decimal) -> Decimal {
    (y / Decimal::from(10_000)).normalize()
}

/// Build the report of each district for `year` (or one month of it).
pub async fn build<S: LedgerStore>(
    s: &S,
    book: &PolicyBook,
    districts: &[String],
    year: i32,
    month: Option<ServiceMonth>,
) -> anyhow::Result<Vec<DistrictReport>> {
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
        let used_in_year: Decimal = rows.iter().map(|r| yuan(r.lottery_fen)).sum();
        out.push(DistrictReport {
            district: d.clone(),
            name,
            year,
            month,
            lottery_remaining: allocation.map(|a| a - used_in_year),
            lottery_allocation: allocation,
            allowances,
            total,
        });
    }
    Ok(out)
}

/// The text form.
pub fn text(reports: &[DistrictReport]) -> String {
    let mut s = String::new();
    for r in reports {
        let period = r.month.map(|m| m.to_string()).unwrap_or_else(|| format!("{} 年", r.year));
        let period_en =
            r.month.map(|m| format!("service month {m}")).unwrap_or_else(|| format!("service months of {}", r.year));
        s +=
            &format!("{}（{}）{period} 老年人津贴补贴发放情况 / allowances paid for {period_en}\n", r.name, r.district);
        s += "一、老年人津贴补贴项目安排情况\n";
        match (r.lottery_allocation, r.lottery_remaining) {
            (Some(a), Some(left)) => {
                let used = a - left;
                let pct = if a.is_zero() { Decimal::ZERO } else { (used * Decimal::ONE_HUNDRED / a).round_dp(2) };
                s += &format!(
                    "资金额度（市级彩票公益金）：{} 万元；已使用 {} 万元（{pct}%），结余 {} 万元\n  lottery allocation (F3): {} yuan, used {} yuan, left {} yuan\n",
                    wan(a),
                    wan(used),
                    wan(left),
                    format_yuan(a),
                    format_yuan(used),
                    format_yuan(left)
                );
            }
            _ => s += "资金额度：本年度未载入彩票公益金分配 / no lottery allocation loaded for this year\n",
        }
        for f in r.allowances.iter().chain(std::iter::once(&r.total)) {
            let label = f.allowance.map(|a| a.as_str()).unwrap_or("total");
            s += &format!(
                "发放{} {} 人次，资金 {} 万元（含区财政配套资金 {} 万元）\n  {label}: {} person-times, {} yuan = lottery {} + district {}\n",
                f.name,
                f.person_times,
                f.amount_wan,
                wan(f.district),
                f.person_times,
                format_yuan(f.amount),
                format_yuan(f.lottery),
                format_yuan(f.district)
            );
        }
        s += "\n";
    }
    s
}

/// The CSV form: one row per district and allowance (and a total row).
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
    ])
    .expect("write");
    for r in reports {
        for f in r.allowances.iter().chain(std::iter::once(&r.total)) {
            w.write_record([
                r.district.clone(),
                r.year.to_string(),
                r.month.map(|m| m.to_string()).unwrap_or_default(),
                f.allowance.map(|a| a.as_str().to_string()).unwrap_or_else(|| "total".into()),
                f.person_times.to_string(),
                format_yuan(f.amount),
                f.amount_wan.to_string(),
                format_yuan(f.lottery),
                format_yuan(f.district),
            ])
            .expect("write");
        }
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}
