//! The year's report as one self-contained HTML page: what `report --format html` writes. It is
//! read offline, mailed and archived, so nothing is fetched: the styles are inline, the charts
//! are inline SVG (`svg.rs`), there is no script, and the fonts are the reader's own (a list
//! that starts with CJK faces).
//!
//! The page, top to bottom:
//!
//! - the title (the period) and, with several districts, a line of links to each;
//! - per district, one `<section class="district" id="d-CODE">`:
//!   1. its title (name and code, the year or the month), as the text form writes it;
//!   2. section 一: the lottery allocation line (allocation, used, pending, remaining, in 万元
//!      and yuan, F3) and a table per allowance and in total: person-times (人次, F5), the amount
//!      in yuan and 万元, of which district matching (区财政配套) and the lottery share;
//!   3. the batches computed or approved but not yet exported, if any (not counted as paid);
//!   4. per service month, per street and per age band: a chart beside its table.
//!
//! Labels are Chinese first, then English, like the text form. Amounts are printed exactly
//! (`format_yuan`, `wan`), never through a float. Every text taken from the data is escaped. The
//! report is aggregate: no ID or account number appears. The page carries no date of its own, so
//! the same figures always give the same bytes.

use super::{english_name, svg, AllowanceFigures, DistrictReport};
use crate::money::{format_yuan, wan};
use std::borrow::Cow;

/// The html form of the districts' reports for `year` (the year names the page when there is no
/// district to report).
pub fn html(reports: &[DistrictReport], year: i32) -> String {
    let period = reports.first().map(|r| period(r).0).unwrap_or_else(|| format!("{year} 年"));
    let title = format!("老年人津贴补贴发放情况 {period} / allowances paid");
    let mut s = head(&title);
    s += &format!("<h1>{}</h1>\n", esc(&title));
    if reports.is_empty() {
        s += "<p class=\"note\">无区县数据 / no district to report</p>\n";
    }
    if reports.len() > 1 {
        s += "<nav>区县 / districts：";
        for r in reports {
            s += &format!("<a href=\"#d-{}\">{}（{}）</a> ", esc(&r.district), esc(&r.name), esc(&r.district));
        }
        s += "</nav>\n";
    }
    for r in reports {
        s += &district(r);
    }
    s += "<footer>由 <code>subsidy report --format html</code> 生成；金额精确到分，图形按比例绘制。\
          / Written by <code>subsidy report --format html</code>; amounts exact to the fen, charts drawn \
          to scale.</footer>\n</body>\n</html>\n";
    s
}

/// Text from the data, escaped for HTML text and attribute values alike.
pub(super) fn esc(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// The page's head: its styles, inline (nothing fetched).
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    )
    .replace("FONTS", svg::FONTS)
}

/// The page's styles. Each chart sits beside its table when the page is wide enough, under it
/// otherwise; each district starts a new printed page.
const STYLE: &str = "\
body { font-family: FONTS; color: #222; margin: 24px auto; max-width: 1160px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-top: 12px; border-top: 3px solid #2f6db5; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.en { color: #555; font-weight: normal; font-size: 0.9em; }
p { margin: 4px 0; line-height: 1.5; }
.note { color: #555; font-size: 13px; }
nav a { margin-right: 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; background: #fafafa; }
.pair { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
.pair figure { margin: 0; flex: 1 1 600px; max-width: 640px; }
.pair figure svg { width: 100%; height: auto; }
.pair table { flex: 0 1 auto; }
footer { margin-top: 32px; color: #777; font-size: 12px; }
@media print { section.district { break-before: page; } }
";

/// The period, Chinese and English, as the text form names it.
fn period(r: &DistrictReport) -> (String, String) {
    match r.month {
        Some(m) => (m.to_string(), format!("service month {m}")),
        None => (format!("{} 年", r.year), format!("service months of {}", r.year)),
    }
}

/// One district's section.
fn district(r: &DistrictReport) -> String {
    let (zh, en) = period(r);
    let mut s = format!("<section class=\"district\" id=\"d-{}\">\n", esc(&r.district));
    s += &format!(
        "<h2>{}（{}）{} 老年人津贴补贴发放情况 <span class=\"en\">/ allowances paid for {}</span></h2>\n",
        esc(&r.name),
        esc(&r.district),
        esc(&zh),
        esc(&en)
    );
    s += "<h3>一、老年人津贴补贴项目安排情况 <span class=\"en\">/ section 一: allowances arranged</span></h3>\n";
    s += &lottery(r);
    s += &section_one(r);
    s += &not_exported(r);
    s += &by_month(r);
    s += &by_street(r);
    s += &by_age_band(r);
    s + "</section>\n"
}

/// The lottery allocation line (F3), or why there is none, with the same figures as the text
/// form.
fn lottery(r: &DistrictReport) -> String {
    let (Some(a), Some(left)) = (r.lottery_allocation, r.lottery_remaining) else {
        let mut s = "<p>资金额度：本年度未载入彩票公益金分配，区财政全额负担 \
                     <span class=\"en\">/ no lottery allocation loaded for this year</span></p>\n"
            .to_string();
        if let Some(m) = &r.missing_allocation {
            s += &format!("<p class=\"note\">{}</p>\n", esc(m));
        }
        return s;
    };
    let (zh, en) = super::lottery_line(r, a, left);
    format!("<p>{}<br>\n<span class=\"en\">{}</span></p>\n", esc(&zh), esc(&en))
}

/// Section 一's table: per allowance, then the total.
fn section_one(r: &DistrictReport) -> String {
    let mut s = "<table class=\"section-one\">\n<tr><th>项目<br><span class=\"en\">allowance</span></th>\
                 <th>人次<br><span class=\"en\">person-times</span></th>\
                 <th>金额（元）<br><span class=\"en\">amount, yuan</span></th>\
                 <th>金额（万元）<br><span class=\"en\">amount, 万元</span></th>\
                 <th>其中区财政配套（元）<br><span class=\"en\">of which district matching, yuan</span></th>\
                 <th>区财政配套（万元）<br><span class=\"en\">district matching, 万元</span></th>\
                 <th>彩票公益金（元）<br><span class=\"en\">lottery share, yuan</span></th></tr>\n"
        .to_string();
    for f in &r.allowances {
        s += &allowance_row(f, "");
    }
    s += &allowance_row(&r.total, "total");
    s += "</table>\n<p class=\"note\">人次：当期净发放额为正的（人、补贴、月）数；仅已导出批次计为已发放。\
          / person-times: distinct (person, allowance, month) with a positive net paid (F5); only exported \
          batches count as paid.</p>\n";
    s
}

/// One row of section 一, marked with its allowance (`total` for the total).
fn allowance_row(f: &AllowanceFigures, class: &str) -> String {
    let (key, en) = match f.allowance {
        Some(a) => (a.as_str(), english_name(a)),
        None => ("total", "total"),
    };
    format!(
        "<tr class=\"{class}\" data-allowance=\"{key}\"><td>{}<br><span class=\"en\">{en}</span></td>{}{}{}{}{}{}</tr>\n",
        esc(f.name),
        num(f.person_times),
        num(format_yuan(f.amount)),
        num(f.amount_wan),
        num(format_yuan(f.district)),
        num(wan(f.district)),
        num(format_yuan(f.lottery)),
    )
}

/// A right-aligned cell of figures (figures need no escaping, but the cell is built once).
fn num(v: impl std::fmt::Display) -> String {
    format!("<td class=\"num\">{}</td>", esc(&v.to_string()))
}

/// The batches computed or approved, not yet exported: what they hold, apart from what was paid.
fn not_exported(r: &DistrictReport) -> String {
    let n = &r.not_exported;
    if n.batches.is_empty() {
        return "<p>未导出批次：无 <span class=\"en\">/ computed or approved, not yet exported: none</span></p>\n"
            .to_string();
    }
    let mut s = format!(
        "<h3>未导出批次 <span class=\"en\">/ computed or approved, not yet exported</span></h3>\n\
         <p>已计算或已审批，未计入上述发放：{} 万元<br><span class=\"en\">not counted as paid above: {} yuan = \
         lottery {} + district {}</span></p>\n<table class=\"not-exported\">\n<tr><th>批次<br><span class=\"en\">\
         batch</span></th><th>状态<br><span class=\"en\">state</span></th><th>金额（元）<br><span class=\"en\">\
         amount, yuan</span></th></tr>\n",
        wan(n.amount),
        format_yuan(n.amount),
        format_yuan(n.lottery),
        format_yuan(n.district)
    );
    for b in &n.batches {
        s += &format!(
            "<tr><td>{}</td><td>{}</td>{}</tr>\n",
            esc(&b.batch_id),
            esc(&b.state),
            num(format_yuan(b.amount))
        );
    }
    s + "</table>\n"
}

/// A breakdown's heading, then its chart beside its table.
fn pair(zh: &str, en: &str, chart: String, table: String) -> String {
    format!("<h3>{zh} <span class=\"en\">/ {en}</span></h3>\n<div class=\"pair\">\n<figure>\n{chart}</figure>\n{table}</div>\n")
}

/// A table's header row from (Chinese, English) labels.
fn header(labels: &[(&str, &str)]) -> String {
    let cells: String =
        labels.iter().map(|(zh, en)| format!("<th>{zh}<br><span class=\"en\">{en}</span></th>")).collect();
    format!("<tr>{cells}</tr>\n")
}

/// Per service month: the amounts by fund.
fn by_month(r: &DistrictReport) -> String {
    let mut t = "<table class=\"by-month\">\n".to_string()
        + &header(&[
            ("服务月", "service month"),
            ("人次", "person-times"),
            ("金额（元）", "amount, yuan"),
            ("彩票公益金（元）", "lottery, yuan"),
            ("区财政（元）", "district, yuan"),
        ]);
    for m in &r.by_month {
        t += &format!(
            "<tr><td>{}</td>{}{}{}{}</tr>\n",
            m.month,
            num(m.total.person_times),
            num(format_yuan(m.total.amount)),
            num(format_yuan(m.total.lottery)),
            num(format_yuan(m.total.district))
        );
    }
    pair("按月", "by service month", svg::months(&r.by_month), t + "</table>\n")
}

/// Per street: recipients and amounts.
fn by_street(r: &DistrictReport) -> String {
    let mut t = "<table class=\"by-street\">\n".to_string()
        + &header(&[
            ("街道", "street"),
            ("人数", "recipients"),
            ("人次", "person-times"),
            ("金额（元）", "amount, yuan"),
        ]);
    for st in &r.by_street {
        t += &format!(
            "<tr><td>{} <span class=\"en\">{}</span></td>{}{}{}</tr>\n",
            esc(&st.name),
            esc(&st.street_code),
            num(st.recipients),
            num(st.total.person_times),
            num(format_yuan(st.total.amount))
        );
    }
    if r.by_street.is_empty() {
        t += "<tr><td colspan=\"4\">无发放 / no payments</td></tr>\n";
    }
    pair("按街道", "by street", svg::streets(&r.by_street), t + "</table>\n")
}

/// Per age band: recipients, person-times and amounts.
fn by_age_band(r: &DistrictReport) -> String {
    let mut t = "<table class=\"by-age-band\">\n".to_string()
        + &header(&[
            ("年龄段", "age band"),
            ("人数", "recipients"),
            ("人次", "person-times"),
            ("金额（元）", "amount, yuan"),
        ]);
    for b in &r.by_age_band {
        let (zh, en) = b.band.label();
        t += &format!(
            "<tr><td>{zh} <span class=\"en\">{en}</span></td>{}{}{}</tr>\n",
            num(b.recipients),
            num(b.person_times),
            num(format_yuan(b.amount))
        );
    }
    pair("按年龄段", "by age band (age reached in the year)", svg::age_bands(&r.by_age_band), t + "</table>\n")
}

#[cfg(test)]
mod tests {
    use super::super::{AgeBand, AgeBandFigures, MonthFigures, NotExported, PendingBatch};
    use super::*;
    use crate::month::ServiceMonth;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    /// A district that paid nothing in 2020: every month and band listed, all zero.
    fn nothing_paid(code: &str, name: &str) -> DistrictReport {
        let zero = AllowanceFigures { name: "合计", ..Default::default() };
        DistrictReport {
            district: code.into(),
            name: name.into(),
            year: 2020,
            month: None,
            allowances: Vec::new(),
            total: zero.clone(),
            lottery_allocation: None,
            lottery_used: Decimal::ZERO,
            lottery_not_exported: Decimal::ZERO,
            lottery_remaining: None,
            missing_allocation: Some("load the 2020 allocation".into()),
            not_exported: NotExported::default(),
            by_month: (1..=12)
                .map(|m| MonthFigures {
                    month: ServiceMonth::new(2020, m).unwrap(),
                    allowances: Vec::new(),
                    total: zero.clone(),
                })
                .collect(),
            by_street: Vec::new(),
            by_age_band: AgeBand::ALL
                .iter()
                .map(|&band| AgeBandFigures { band, recipients: 0, person_times: 0, amount: Decimal::ZERO })
                .collect(),
        }
    }

    #[test]
    fn a_district_that_paid_nothing_has_notes_instead_of_bars() {
        let page = html(&[nothing_paid("110101", "东城区")], 2020);
        assert_eq!(page.matches("<svg class=\"chart").count(), 3);
        assert_eq!(page.matches("无发放 / no payments</text>").count(), 3, "one note per chart");
        assert!(!page.contains("class=\"bar"), "no bar without a figure");
        assert!(!page.contains("NaN") && !page.contains("inf"), "no scale made from a zero");
        assert!(page.contains("本年度未载入彩票公益金分配") && page.contains("load the 2020 allocation"));
    }

    #[test]
    fn text_from_the_data_is_escaped() {
        let mut r = nothing_paid("110101", "<东城区 & \"x\">");
        r.not_exported = NotExported {
            batches: vec![PendingBatch {
                batch_id: "110101-2020-12-R1<script>".into(),
                state: "computed".into(),
                amount: dec!(100.00),
            }],
            amount: dec!(100.00),
            lottery: dec!(100.00),
            ..Default::default()
        };
        let page = html(&[r], 2020);
        assert!(page.contains("&lt;东城区 &amp; &quot;x&quot;&gt;（110101）"), "{page}");
        assert!(page.contains("110101-2020-12-R1&lt;script&gt;"));
        assert!(!page.contains("<script"), "no script, and none smuggled in");
        assert!(page.contains("not counted as paid above: 100.00 yuan = lottery 100.00 + district 0.00"));
    }

    #[test]
    fn several_districts_are_sections_of_one_page_linked_from_its_top() {
        let page = html(&[nothing_paid("110101", "东城区"), nothing_paid("110102", "西城区")], 2020);
        assert_eq!(page.matches("<!DOCTYPE html>").count(), 1);
        assert_eq!(page.matches("<section class=\"district\"").count(), 2);
        assert!(page.contains("<a href=\"#d-110102\">西城区（110102）</a>"));
        assert!(page.contains("<section class=\"district\" id=\"d-110102\">"));
    }

    #[test]
    fn no_district_still_makes_a_page_named_after_the_year() {
        let page = html(&[], 2021);
        assert!(page.contains("<title>老年人津贴补贴发放情况 2021 年 / allowances paid</title>"));
        assert!(page.contains("no district to report") && page.ends_with("</html>\n"));
    }
}
