//! The year's report as an Excel workbook, for reviewers who filter, sort and add up: four
//! sheets, labels in Chinese with the English beside them ("人次 person-times").
//!
//! - "汇总 Summary": per district, section 一 of the seed report (per allowance and in total:
//!   person-times, amount in yuan and 万元, district matching 区财政配套, lottery share), and
//!   under it the lottery fund of the year (F3): allocation, used, in batches not yet exported,
//!   remaining.
//! - "按月 By month": per district, service month and allowance.
//! - "按街道 By street": per district and street.
//! - "按年龄段 By age band": per district and age band.
//!
//! Each sheet's table has a bold header row, frozen, with a filter (the lottery table under the
//! summary only a bold header: Excel allows one filter a sheet), and columns as wide as their
//! contents. Money is a number (reviewers sum it) shown with two decimals; see [`number`] for why
//! a double is exact enough. The breakdown sheets have no total rows, so that a column adds up to
//! the summary's total. Nothing here names a person: the report is aggregate.

use super::{chinese_name, english_name, AllowanceFigures, DistrictReport};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use unicode_width::UnicodeWidthStr;

/// The sheets' names, in their order in the workbook.
const SHEETS: [&str; 4] = ["汇总 Summary", "按月 By month", "按街道 By street", "按年龄段 By age band"];

/// The workbook's bytes (an .xlsx file, a zip archive).
pub fn xlsx(reports: &[DistrictReport]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    book.set_properties(&properties(reports)?);
    let formats = Formats::new();
    let [summary_name, month_name, street_name, band_name] = SHEETS;
    let (summary, lottery) = (summary(reports), lottery(reports));
    let sheet = named(&mut book, summary_name)?;
    let below = write_table(sheet, 0, &summary, &formats)?;
    // One filter per sheet (Excel's limit): the lottery table under section 一 has none.
    write_table(sheet, below + 1, &lottery, &formats)?;
    freeze_and_filter(sheet, 0, &summary)?;
    fit_columns(sheet, &[&summary, &lottery])?;
    for (name, table) in
        [(month_name, by_month(reports)), (street_name, by_street(reports)), (band_name, by_age_band(reports))]
    {
        let sheet = named(&mut book, name)?;
        write_table(sheet, 0, &table, &formats)?;
        freeze_and_filter(sheet, 0, &table)?;
        fit_columns(sheet, &[&table])?;
    }
    book.save_to_buffer()
}

/// Title and creation date. The date is fixed (1980-01-01, the date the archive's entries carry
/// too), so that the same figures give the same bytes, as the platform files do, and the
/// library does not read the system clock (the engine's "now" is `clock.rs`'s).
fn properties(reports: &[DistrictReport]) -> Result<DocProperties, XlsxError> {
    let period = reports.first().map(period).unwrap_or_default();
    Ok(DocProperties::new()
        .set_title(format!("老年人津贴补贴发放情况 {period} / allowances paid, {period}"))
        .set_creation_datetime(&ExcelDateTime::from_ymd(1980, 1, 1)?))
}

/// A new sheet with its name.
fn named<'a>(book: &'a mut Workbook, name: &str) -> Result<&'a mut Worksheet, XlsxError> {
    book.add_worksheet().set_name(name)
}

/// The report's period as the seed report names it: `2020` or a service month `2020-07`.
fn period(r: &DistrictReport) -> String {
    r.month.map(|m| m.to_string()).unwrap_or_else(|| r.year.to_string())
}

/// A value to write, typed so that money gets the money format and widths can be measured.
enum Cell {
    /// Text.
    Text(String),
    /// A count (persons, person-times): exact as a double below 2^53.
    Count(i64),
    /// Yuan, shown with two decimals.
    Yuan(Decimal),
    /// 万元, shown with two to six decimals (a fen is 0.000001 万元).
    Wan(Decimal),
    /// Nothing (an allocation not loaded has no remainder).
    Empty,
}

impl Cell {
    /// Text from anything printable.
    fn text(s: impl ToString) -> Cell {
        Cell::Text(s.to_string())
    }

    /// About how many columns Excel shows it in (a Chinese character takes two; thousands
    /// separators included).
    fn shown_width(&self) -> usize {
        match self {
            Cell::Text(s) => s.width(),
            Cell::Count(n) => n.to_string().len(),
            Cell::Yuan(y) => crate::money::format_yuan(*y).len() * 4 / 3,
            Cell::Wan(w) => w.to_string().len() * 4 / 3 + 2,
            Cell::Empty => 0,
        }
    }
}

/// A table: header labels (Chinese, a line break, English) and rows.
struct Table {
    headers: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

/// The formats of the workbook: bold headers, money with two decimals, 万元 with up to six.
struct Formats {
    header: Format,
    yuan: Format,
    wan: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold().set_text_wrap(),
            yuan: Format::new().set_num_format("#,##0.00"),
            wan: Format::new().set_num_format("#,##0.00####"),
        }
    }
}

/// Write `table` from `first_row` down: its header row, bold, then its rows. Returns the first
/// row after it.
fn write_table(sheet: &mut Worksheet, first_row: u32, table: &Table, f: &Formats) -> Result<u32, XlsxError> {
    // Two lines of header (Chinese over English) need a taller row than Excel's default.
    sheet.set_row_height(first_row, 32)?;
    for (col, header) in (0u16..).zip(table.headers) {
        sheet.write_string_with_format(first_row, col, *header, &f.header)?;
    }
    let mut row = first_row + 1;
    for cells in &table.rows {
        for (col, cell) in (0u16..).zip(cells) {
            write_cell(sheet, row, col, cell, f)?;
        }
        row += 1;
    }
    Ok(row)
}

/// The header row of the table written at `header_row` stays in view while scrolling, and
/// filters its rows.
fn freeze_and_filter(sheet: &mut Worksheet, header_row: u32, table: &Table) -> Result<(), XlsxError> {
    sheet.set_freeze_panes(header_row + 1, 0)?;
    let last_row = header_row + table.rows.len() as u32;
    sheet.autofilter(header_row, 0, last_row, table.headers.len() as u16 - 1)?;
    Ok(())
}

/// Each column as wide as its widest header line or cell in the sheet's tables, plus room for
/// the filter's drop-down button, at most 60 characters (a long note wraps in Excel anyway).
fn fit_columns(sheet: &mut Worksheet, tables: &[&Table]) -> Result<(), XlsxError> {
    let columns = tables.iter().map(|t| t.headers.len()).max().unwrap_or(0);
    for col in 0..columns {
        let headers = tables.iter().filter_map(|t| t.headers.get(col));
        let header_width = headers.flat_map(|h| h.lines()).map(UnicodeWidthStr::width).max().unwrap_or(0);
        let cells = tables.iter().flat_map(|t| &t.rows).filter_map(|r| r.get(col)).map(Cell::shown_width);
        let width = cells.fold(header_width, usize::max).min(60) + 4;
        sheet.set_column_width(col as u16, width as f64)?;
    }
    Ok(())
}

/// One cell.
fn write_cell(sheet: &mut Worksheet, row: u32, col: u16, cell: &Cell, f: &Formats) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(s) => sheet.write_string(row, col, s)?,
        Cell::Count(n) => sheet.write_number(row, col, *n as f64)?,
        Cell::Yuan(y) => sheet.write_number_with_format(row, col, number(*y), &f.yuan)?,
        Cell::Wan(w) => sheet.write_number_with_format(row, col, number(*w), &f.wan)?,
        Cell::Empty => return Ok(()),
    };
    Ok(())
}

/// An amount as the IEEE double Excel stores for every number. Exact enough for display: below
/// 10^12 yuan an amount in whole fen has at most 14 significant digits (Excel keeps 15), and
/// `to_f64` gives the double nearest it (the integer of fen, exact below 2^53, divided by 100 in
/// one correctly rounded step); that double is off by half a unit in its last place at most,
/// under 0.0001 yuan there, so printed with two decimals it shows the digits
/// [`crate::money::format_yuan`] prints (tested below, and on every amount of the demo in
/// `tests/report_xlsx.rs`). The amounts stay exact in the ledger; the workbook is a view.
fn number(yuan: Decimal) -> f64 {
    yuan.to_f64().unwrap_or(f64::NAN)
}

/// The two columns every table starts with.
fn district_cells(r: &DistrictReport) -> Vec<Cell> {
    vec![Cell::text(&r.district), Cell::text(&r.name)]
}

/// The allowance's name, Chinese then English, or "合计 total" for the total row.
fn allowance_cell(f: &AllowanceFigures) -> Cell {
    match f.allowance {
        Some(a) => Cell::Text(format!("{} {}", chinese_name(a), english_name(a))),
        None => Cell::text("合计 total"),
    }
}

/// Section 一's figures of one allowance (or the total): person-times, yuan, 万元, district
/// matching, lottery share.
fn figure_cells(f: &AllowanceFigures) -> [Cell; 5] {
    [
        Cell::Count(f.person_times),
        Cell::Yuan(f.amount),
        Cell::Wan(f.amount_wan),
        Cell::Yuan(f.district),
        Cell::Yuan(f.lottery),
    ]
}

/// Section 一's header after the allowance.
const FIGURE_HEADERS: [&str; 5] = [
    "人次\nperson-times",
    "金额（元）\namount, yuan",
    "金额（万元）\namount, 万元",
    "区财政配套（元）\ndistrict matching, yuan",
    "彩票公益金（元）\nlottery share, yuan",
];

/// "汇总 Summary": per district, each allowance and the total.
fn summary(reports: &[DistrictReport]) -> Table {
    const HEADERS: [&str; 9] = [
        "区划代码\ndistrict code",
        "区\ndistrict",
        "期间\nperiod",
        "项目\nallowance",
        FIGURE_HEADERS[0],
        FIGURE_HEADERS[1],
        FIGURE_HEADERS[2],
        FIGURE_HEADERS[3],
        FIGURE_HEADERS[4],
    ];
    let mut rows = Vec::new();
    for r in reports {
        for f in r.allowances.iter().chain(std::iter::once(&r.total)) {
            let mut row = district_cells(r);
            row.extend([Cell::Text(period(r)), allowance_cell(f)]);
            row.extend(figure_cells(f));
            rows.push(row);
        }
    }
    Table { headers: &HEADERS, rows }
}

/// The lottery fund per district (F3): what was allocated, paid out, drawn by batches not yet
/// exported (not counted as paid in section 一) and what is left.
fn lottery(reports: &[DistrictReport]) -> Table {
    const HEADERS: [&str; 9] = [
        "区划代码\ndistrict code",
        "区\ndistrict",
        "期间\nperiod",
        "彩票公益金额度（元）\nlottery allocation, yuan",
        "已使用（元）\npaid out, yuan",
        "待发（元）\nnot yet exported, yuan",
        "结余（元）\nremaining, yuan",
        "未导出批次\nbatches not yet exported",
        "说明\nnote",
    ];
    let rows = reports
        .iter()
        .map(|r| {
            let mut row = district_cells(r);
            row.push(Cell::Text(period(r)));
            row.push(r.lottery_allocation.map_or_else(|| Cell::text("未载入 not loaded"), Cell::Yuan));
            row.extend([Cell::Yuan(r.lottery_used), Cell::Yuan(r.lottery_not_exported)]);
            row.push(r.lottery_remaining.map_or(Cell::Empty, Cell::Yuan));
            let batches = r.not_exported.batches.iter().map(|b| format!("{} ({})", b.batch_id, b.state));
            row.push(Cell::Text(batches.collect::<Vec<_>>().join(", ")));
            row.push(Cell::Text(r.missing_allocation.clone().unwrap_or_default()));
            row
        })
        .collect();
    Table { headers: &HEADERS, rows }
}

/// "按月 By month": per district, service month and allowance (no total rows: the amount column
/// adds up to the period's total).
fn by_month(reports: &[DistrictReport]) -> Table {
    const HEADERS: [&str; 9] = [
        "区划代码\ndistrict code",
        "区\ndistrict",
        "服务月份\nservice month",
        "项目\nallowance",
        FIGURE_HEADERS[0],
        FIGURE_HEADERS[1],
        FIGURE_HEADERS[2],
        FIGURE_HEADERS[3],
        FIGURE_HEADERS[4],
    ];
    let mut rows = Vec::new();
    for r in reports {
        for m in &r.by_month {
            for f in &m.allowances {
                let mut row = district_cells(r);
                row.extend([Cell::text(m.month), allowance_cell(f)]);
                row.extend(figure_cells(f));
                rows.push(row);
            }
        }
    }
    Table { headers: &HEADERS, rows }
}

/// "按街道 By street": per district and street, all allowances.
fn by_street(reports: &[DistrictReport]) -> Table {
    const HEADERS: [&str; 9] = [
        "区划代码\ndistrict code",
        "区\ndistrict",
        "街道代码\nstreet code",
        "街道\nstreet",
        "人数\nrecipients",
        FIGURE_HEADERS[0],
        FIGURE_HEADERS[1],
        FIGURE_HEADERS[3],
        FIGURE_HEADERS[4],
    ];
    let mut rows = Vec::new();
    for r in reports {
        for st in &r.by_street {
            let mut row = district_cells(r);
            // The code is text: an identifier, not a quantity to sum.
            row.extend([Cell::text(&st.street_code), Cell::text(&st.name), Cell::Count(st.recipients)]);
            let t = &st.total;
            row.extend([
                Cell::Count(t.person_times),
                Cell::Yuan(t.amount),
                Cell::Yuan(t.district),
                Cell::Yuan(t.lottery),
            ]);
            rows.push(row);
        }
    }
    Table { headers: &HEADERS, rows }
}

/// "按年龄段 By age band": per district and band (the age reached in the year), every band.
fn by_age_band(reports: &[DistrictReport]) -> Table {
    const HEADERS: [&str; 6] = [
        "区划代码\ndistrict code",
        "区\ndistrict",
        "年龄段\nage band (age reached in the year)",
        "人数\nrecipients",
        FIGURE_HEADERS[0],
        FIGURE_HEADERS[1],
    ];
    let mut rows = Vec::new();
    for r in reports {
        for b in &r.by_age_band {
            let (zh, en) = b.band.label();
            let mut row = district_cells(r);
            row.extend([Cell::Text(format!("{zh} {en}")), Cell::Count(b.recipients), Cell::Count(b.person_times)]);
            row.push(Cell::Yuan(b.amount));
            rows.push(row);
        }
    }
    Table { headers: &HEADERS, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{format_fen, format_yuan, yuan};

    /// The double of an amount, printed with two decimals, is the amount: every fen up to 10,000
    /// yuan, then amounts up to 10^12 fen (10^10 yuan, a thousand times Beijing's year) in
    /// steps that visit every last two digits, in both signs.
    #[test]
    fn an_amount_as_a_double_prints_as_the_amount() {
        let small = 0..=1_000_000i64;
        let large = (0..=1_000_000_000_000i64).step_by(999_999_937);
        let edges = [999_999_999_999i64, 1_000_000_000_000, 123_456_789_012, 99, 1, 5, 50];
        for fen in small.chain(large).chain(edges) {
            for fen in [fen, -fen] {
                assert_eq!(format!("{:.2}", number(yuan(fen))), format_fen(fen), "{fen} fen");
            }
        }
    }

    /// Sums and 万元 as the report computes them (`Decimal` arithmetic may carry a larger
    /// scale) print the same.
    #[test]
    fn a_computed_amount_as_a_double_prints_as_the_amount() {
        let a = yuan(12_345_678) + yuan(1) - yuan(3);
        assert_eq!(format!("{:.2}", number(a)), format_yuan(a));
        let w = crate::money::wan(yuan(123_456_789));
        assert_eq!(number(w), 123.456789);
        let scaled = yuan(50_000) * Decimal::new(10_000, 4);
        assert_eq!(format!("{:.2}", number(scaled)), "500.00");
    }

    /// The same figures give the same bytes: nothing of the clock in the workbook.
    #[test]
    fn the_workbook_depends_only_on_the_figures() {
        let r = DistrictReport {
            district: "110102".into(),
            name: "西城区".into(),
            year: 2020,
            month: None,
            allowances: vec![],
            total: AllowanceFigures { name: "合计", person_times: 3, amount: yuan(150_000), ..Default::default() },
            lottery_allocation: None,
            lottery_used: Decimal::ZERO,
            lottery_not_exported: Decimal::ZERO,
            lottery_remaining: None,
            missing_allocation: Some("no allocation".into()),
            not_exported: Default::default(),
            by_month: vec![],
            by_street: vec![],
            by_age_band: vec![],
        };
        let first = xlsx(std::slice::from_ref(&r)).expect("workbook");
        assert!(first.starts_with(b"PK"), "a zip archive");
        assert_eq!(first, xlsx(&[r]).expect("workbook"));
    }
}
