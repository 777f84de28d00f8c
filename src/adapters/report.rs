//! `report --year`, rendered: the district's figures in the shape of section 一 of the seed report
//! — per allowance, person-times (人次, F5) and amounts in yuan and 万元 including district
//! matching (含区财政配套资金), and the lottery fund used against its allocation (F3) — as text or
//! CSV (JSON is their serde form). The figures are computed from the store by
//! `ops::report::build`.

use crate::codes::Allowance;
use crate::money::{format_yuan, wan};
use crate::month::ServiceMonth;
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
    /// Lottery share of the year paid out (exported batches), yuan.
    pub lottery_used: Decimal,
    /// Lottery share of the year drawn by batches not yet exported, yuan.
    pub lottery_not_exported: Decimal,
    /// Allocation left after what was paid and what batches not yet exported drew, yuan.
    pub lottery_remaining: Option<Decimal>,
    /// F3: set when no allocation is loaded for the year: what that means and what to do.
    pub missing_allocation: Option<String>,
    /// Computed or approved batches, not yet exported (not counted as paid above).
    pub not_exported: NotExported,
}

/// What batches computed or approved, not yet exported, hold for the period (held lines aside).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NotExported {
    /// The batches, with their state and amounts.
    pub batches: Vec<PendingBatch>,
    /// Per allowance with lines, yuan.
    pub by_allowance: std::collections::BTreeMap<Allowance, Decimal>,
    /// Sum of their lines and recovery items, yuan.
    pub amount: Decimal,
    /// Lottery share, yuan.
    pub lottery: Decimal,
    /// District share, yuan.
    pub district: Decimal,
}

/// One batch not yet exported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PendingBatch {
    /// Batch id.
    pub batch_id: String,
    /// `computed` or `approved`.
    pub state: String,
    /// Sum of its lines for the period, yuan.
    pub amount: Decimal,
}

/// An allowance's name as the seed report writes it.
pub fn chinese_name(a: Allowance) -> &'static str {
    match a {
        Allowance::Care => "失能老年人护理补贴",
        Allowance::Longevity => "高龄津贴",
        Allowance::Hardship => "困难老年人养老服务补贴",
    }
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
                let (used, pending) = (r.lottery_used, r.lottery_not_exported);
                let pct = if a.is_zero() { Decimal::ZERO } else { (used * Decimal::ONE_HUNDRED / a).round_dp(2) };
                s += &format!(
                    "资金额度（市级彩票公益金）：{} 万元；已使用 {} 万元（{pct}%），待发 {} 万元，结余 {} 万元\n  lottery allocation (F3): {} yuan, used {} yuan (paid out), {} yuan in batches not yet exported, left {} yuan\n",
                    wan(a),
                    wan(used),
                    wan(pending),
                    wan(left),
                    format_yuan(a),
                    format_yuan(used),
                    format_yuan(pending),
                    format_yuan(left)
                );
            }
            _ => {
                s += "资金额度：本年度未载入彩票公益金分配，区财政全额负担 / no lottery allocation loaded for this year\n";
                if let Some(m) = &r.missing_allocation {
                    s += &format!("  {m}\n");
                }
            }
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
        let n = &r.not_exported;
        if n.batches.is_empty() {
            s += "未导出批次：无 / computed or approved, not yet exported: none\n";
        } else {
            s += &format!(
                "未导出批次（已计算或已审批，未计入上述发放）：{} 万元\n  computed or approved, not yet exported (not counted as paid above): {} yuan = lottery {} + district {}\n",
                wan(n.amount),
                format_yuan(n.amount),
                format_yuan(n.lottery),
                format_yuan(n.district)
            );
            for b in &n.batches {
                s += &format!("  {} ({}): {} yuan\n", b.batch_id, b.state, format_yuan(b.amount));
            }
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
        "not_exported_amount",
        "not_exported_batches",
        "lottery_allocation",
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
                format_yuan(match f.allowance {
                    Some(a) => r.not_exported.by_allowance.get(&a).copied().unwrap_or_default(),
                    None => r.not_exported.amount,
                }),
                r.not_exported.batches.iter().map(|b| b.batch_id.as_str()).collect::<Vec<_>>().join(" "),
                r.lottery_allocation.map(format_yuan).unwrap_or_else(|| "not loaded".into()),
            ])
            .expect("write");
        }
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}
