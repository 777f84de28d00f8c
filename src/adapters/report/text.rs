//! The year's report as text: section 一 of the seed report, Chinese first, English under it.

use super::DistrictReport;
use crate::money::{format_yuan, wan};

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
        if r.month.is_none() {
            s += &format!("项目周期：{} 年 / project period: {}\n", r.year, r.year);
        }
        match (r.lottery_allocation, r.lottery_remaining) {
            (Some(a), Some(left)) => {
                let (zh, en) = super::lottery_line(r, a, left);
                s += &format!("{zh}\n  {en}\n");
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
        breakdowns(&mut s, r);
        s += "\n";
    }
    s
}

/// `s` padded with spaces to `width` terminal columns (a Chinese character takes two).
pub(crate) fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// Per month, per street and per age band, as three small tables.
fn breakdowns(s: &mut String, r: &DistrictReport) {
    if r.by_month.len() > 1 {
        *s += &format!(
            "{}{:>16}{:>18}{:>18}{:>18}\n",
            pad("按月 / by service month", 34),
            "人次 person-times",
            "金额 amount",
            "彩票 lottery",
            "区财政 district"
        );
        for m in &r.by_month {
            *s += &format!(
                "  {}{:>16}{:>18}{:>18}{:>18}\n",
                pad(&m.month.to_string(), 32),
                m.total.person_times,
                format_yuan(m.total.amount),
                format_yuan(m.total.lottery),
                format_yuan(m.total.district)
            );
        }
    }
    *s += &format!(
        "{}{:>16}{:>18}{:>18}\n",
        pad("按街道 / by street", 34),
        "人数 recipients",
        "人次 person-times",
        "金额 amount"
    );
    for st in &r.by_street {
        *s += &format!(
            "  {}{:>16}{:>18}{:>18}\n",
            pad(&format!("{} {}", st.street_code, st.name), 32),
            st.recipients,
            st.total.person_times,
            format_yuan(st.total.amount)
        );
    }
    *s += &format!(
        "{}{:>16}{:>18}{:>18}\n",
        pad("按年龄段 / by age band (age reached in the year)", 34),
        "人数 recipients",
        "人次 person-times",
        "金额 amount"
    );
    for b in &r.by_age_band {
        let (zh, en) = b.band.label();
        *s += &format!(
            "  {}{:>16}{:>18}{:>18}\n",
            pad(&format!("{zh} / {en}"), 32),
            b.recipients,
            b.person_times,
            format_yuan(b.amount)
        );
    }
}
