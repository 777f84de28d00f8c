//! `report --format xlsx` (issue 12): the workbook of the demo's year, read back with calamine,
//! holds the figures of `report --format json` to the fen (every amount of the demo, printed
//! with two decimals, is the JSON's amount), its months add up to the year, it has a row per
//! street; without `--out` it goes to a redirected stdout, and is refused on a terminal.

mod cli_support;

use calamine::{open_workbook, Data, Reader, Xlsx};
use rust_decimal::Decimal;
use serde_json::Value;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;
use subsidy::money::format_yuan;

/// The demo's folder, run once for the tests of this file.
fn demo() -> &'static Path {
    cli_support::demo_folder("report_xlsx")
}

/// `report --year 2020 ARGS` on the demo's database; its output, which must be a success.
fn report(args: &[&str]) -> Output {
    cli_support::demo_report("report_xlsx", args)
}

/// A sheet's cells as text: numbers as their format shows them (two decimals for yuan, the
/// shortest exact form for 万元, whole for counts), asserting along the way that every number
/// has one of these formats.
fn sheet(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> Vec<Vec<String>> {
    let cells = book.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    let styles = book.worksheet_style(name).expect("styles");
    let start = cells.start().expect("not empty");
    assert_eq!(start, (0, 0), "{name} starts at A1");
    let mut rows = Vec::new();
    for (r, row) in cells.rows().enumerate() {
        let mut texts = Vec::new();
        for (c, cell) in row.iter().enumerate() {
            let style = styles.get((r as u32, c as u32));
            let format = style.and_then(|s| s.number_format.as_ref()).map_or("General", |f| f.format_code.as_str());
            if r == 0 {
                assert!(style.and_then(|s| s.font.as_ref()).is_some_and(|f| f.is_bold()), "{name}: bold header");
            }
            texts.push(match cell {
                Data::Float(x) if format == "#,##0.00" => format!("{x:.2}"),
                Data::Float(x) if format == "#,##0.00####" => format!("{x}"),
                Data::Float(x) if format == "General" && x.fract() == 0.0 => format!("{x}"),
                Data::String(s) => s.clone(),
                Data::Empty => String::new(),
                other => panic!("{name} row {r} column {c}: {other:?} in format {format}"),
            });
        }
        rows.push(texts);
    }
    rows
}

/// A JSON amount with two decimals, as the report prints yuan.
fn yuan(v: &Value) -> String {
    format_yuan(Decimal::from_str(v.as_str().expect("an amount is a string")).expect("decimal"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Section 一's figures as the workbook shows them: person-times, yuan, 万元, district, lottery.
fn figures(f: &Value) -> Vec<String> {
    vec![
        text(&f["person_times"]),
        yuan(&f["amount"]),
        // 万元 is the workbook's; JSON has the yuan it is computed from.
        subsidy::money::wan(Decimal::from_str(f["amount"].as_str().unwrap()).unwrap()).to_string(),
        yuan(&f["district_amount"]),
        yuan(&f["lottery_amount"]),
    ]
}

/// The allowance cell: the Chinese name, and the English after it (the total: "合计 total").
fn allowance_starts(f: &Value) -> String {
    format!("{} ", text(&f["name"]))
}

/// The rows with figures of a table, with the allowance column cut to its Chinese name.
fn compare_figures(rows: &[Vec<String>], expected: &[(String, String, Value)], what: &str) {
    assert_eq!(rows.len(), expected.len(), "{what}: one row each");
    for (row, (district, when, f)) in rows.iter().zip(expected) {
        assert_eq!((&row[0], &row[2]), (district, when), "{what}");
        assert!(row[3].starts_with(&allowance_starts(f)), "{what}: {} for {}", row[3], f["name"]);
        assert_eq!(row[4..9], figures(f)[..], "{what}: {district} {when} {}", f["name"]);
    }
}

#[test]
fn the_workbook_holds_the_json_figures_to_the_fen() {
    let path: PathBuf = demo().join("r.xlsx");
    report(&["--format", "xlsx", "--out", &path.to_string_lossy()]);
    let json: Value = serde_json::from_slice(&report(&["--format", "json"]).stdout).expect("json");
    let districts = json["districts"].as_array().expect("districts");
    assert_eq!(districts.len(), 2, "the demo pays two districts");
    let mut book: Xlsx<_> = open_workbook(&path).expect("an xlsx workbook");
    assert_eq!(book.sheet_names(), ["汇总 Summary", "按月 By month", "按街道 By street", "按年龄段 By age band"]);

    // Summary: section 一 per district (allowances, then the total), a blank row, the lottery.
    let summary = sheet(&mut book, "汇总 Summary");
    assert_eq!(summary[0][4], "人次\nperson-times");
    let mut expected = Vec::new();
    for d in districts {
        for f in d["allowances"].as_array().unwrap().iter().chain([&d["total"]]) {
            expected.push((text(&d["district_code"]), "2020".to_string(), f.clone()));
        }
    }
    let lottery_header = expected.len() + 2;
    compare_figures(&summary[1..=expected.len()], &expected, "summary");
    assert!(summary[expected.len() + 1].iter().all(String::is_empty), "a blank row before the lottery");
    assert!(summary[lottery_header][3].starts_with("彩票公益金额度"), "{:?}", summary[lottery_header]);
    for (row, d) in summary[lottery_header + 1..].iter().zip(districts) {
        let amounts = ["lottery_allocation", "lottery_used", "lottery_not_exported", "lottery_remaining"];
        assert_eq!(row[0], text(&d["district_code"]));
        assert_eq!(row[3..7], amounts.map(|k| yuan(&d[k]))[..], "lottery of {}", d["district_code"]);
    }
    assert_eq!(summary.len(), lottery_header + 1 + districts.len());

    // By month: every (month, allowance), no total rows; they add up to the year's total.
    let by_month = sheet(&mut book, "按月 By month");
    let mut expected = Vec::new();
    for d in districts {
        for m in d["by_month"].as_array().unwrap() {
            for f in m["allowances"].as_array().unwrap() {
                expected.push((text(&d["district_code"]), text(&m["service_month"]), f.clone()));
            }
        }
    }
    compare_figures(&by_month[1..], &expected, "by month");
    for d in districts {
        let rows = by_month[1..].iter().filter(|r| r[0] == text(&d["district_code"]));
        let (times, sum) = rows.fold((0i64, Decimal::ZERO), |(t, s), r| {
            (t + r[4].parse::<i64>().unwrap(), s + Decimal::from_str(&r[5]).unwrap())
        });
        assert_eq!(times.to_string(), text(&d["total"]["person_times"]), "{} person-times", d["district_code"]);
        assert_eq!(format_yuan(sum), yuan(&d["total"]["amount"]), "{} months add up to the year", d["district_code"]);
    }

    // By street: one row per street of the JSON, in its order.
    let by_street = sheet(&mut book, "按街道 By street");
    let streets: Vec<(&Value, &Value)> =
        districts.iter().flat_map(|d| d["by_street"].as_array().unwrap().iter().map(move |s| (d, s))).collect();
    assert_eq!(by_street.len() - 1, streets.len(), "a row per street");
    for (row, (d, st)) in by_street[1..].iter().zip(&streets) {
        let t = &st["total"];
        let want = [
            text(&d["district_code"]),
            text(&d["name"]),
            text(&st["street_code"]),
            text(&st["name"]),
            text(&st["recipients"]),
            text(&t["person_times"]),
            yuan(&t["amount"]),
            yuan(&t["district_amount"]),
            yuan(&t["lottery_amount"]),
        ];
        assert_eq!(row[..], want[..]);
    }

    // By age band: every band of every district.
    let by_band = sheet(&mut book, "按年龄段 By age band");
    let bands: Vec<(&Value, &Value)> =
        districts.iter().flat_map(|d| d["by_age_band"].as_array().unwrap().iter().map(move |b| (d, b))).collect();
    assert_eq!(by_band.len() - 1, bands.len(), "a row per band");
    for (row, (d, b)) in by_band[1..].iter().zip(&bands) {
        let want = [text(&d["district_code"]), text(&b["recipients"]), text(&b["person_times"]), yuan(&b["amount"])];
        assert_eq!([&row[0], &row[3], &row[4], &row[5]].map(String::clone), want);
    }
}

/// Not a terminal (a pipe, a redirection): the workbook's bytes, the same as `--out` writes.
#[test]
fn without_out_the_workbook_goes_to_a_redirected_stdout() {
    let bytes = report(&["--format", "xlsx"]).stdout;
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip archive");
    let path = demo().join("again.xlsx");
    report(&["--format", "xlsx", "--out", &path.to_string_lossy()]);
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the same figures, the same bytes");
}

/// A terminal: refused as wrong usage (2), saying to add --out, and nothing written to it.
#[test]
fn without_out_the_workbook_is_refused_on_a_terminal() {
    let dir = demo();
    let (master, terminal) = pty();
    let url = format!("sqlite://{}", dir.join("subsidy-demo.db").display());
    let mut cmd =
        cli_support::in_folder(dir, &["--database-url", &url, "report", "--year", "2020", "--format", "xlsx"]);
    let out = cmd.stdout(terminal).output().expect("run subsidy");
    drop(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("add --out FILE.xlsx"), "{stderr}");
    // Nothing reached the terminal (the pseudo-terminal's master reads nothing, without waiting).
    let mut buf = [0u8; 64];
    // SAFETY: a valid descriptor we own, a buffer of its length.
    let n = unsafe {
        libc::fcntl(master.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK);
        libc::read(master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())
    };
    assert!(n <= 0, "{n} bytes written to the terminal");
}

/// A pseudo-terminal: its master, and its slave to give a child as stdout (a terminal to it).
fn pty() -> (OwnedFd, std::process::Stdio) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the name, termios and winsize may be null.
    let rc =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave).into()) }
}
