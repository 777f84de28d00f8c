//! `report --format html` (issue 12.3): the demo's year as one page. The page is checked as text
//! (self-contained, section 一's figures as the text form prints them, three charts with bars per
//! district, no ID or account number) and then rendered by a real browser: chromium, headless,
//! takes a screenshot and dumps the DOM, and any message on the page's console fails the test
//! (the page has no script: a message there is the browser complaining about it).
//!
//! Without `/usr/bin/chromium` the browser half is skipped, saying so, except in CI (`CI=true`),
//! where it fails: `.ci/run` installs chromium and fonts-noto-cjk.

use rust_decimal::Decimal;
use serde_json::Value;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};
use subsidy::money::{format_yuan, wan};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A browser that has not finished by then is hung: it is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);
const WINDOW: (u32, u32) = (1200, 2400);

/// `subsidy` run in `dir`, on no database but the one its arguments name.
fn subsidy(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_subsidy"))
        .current_dir(dir)
        .env("USER", "report-html-test")
        .env_remove("DATABASE_URL")
        .env_remove("SUBSIDY_DISTRICT")
        .env_remove("SUBSIDY_TODAY")
        .env_remove("SUBSIDY_NOW")
        .args(args)
        .output()
        .expect("run subsidy")
}

/// Its standard output, failing the test (with both outputs) unless it succeeded.
fn ok(out: Output) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    assert!(out.status.success(), "failed ({:?}): {}\n{}", out.status.code(), text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_demo_year_is_one_self_contained_page_a_browser_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(subsidy(dir, &["demo", "--out", &dir.join("demo-out").to_string_lossy()]));
    let db = format!("sqlite://{}", dir.join("subsidy-demo.db").display());
    let page_path = dir.join("report.html");
    ok(subsidy(
        dir,
        &["--database-url", &db, "report", "--year", "2020", "--format", "html", "--out", &page_path.to_string_lossy()],
    ));
    let page = std::fs::read_to_string(&page_path).expect("the page is written, in UTF-8");
    let json: Value = serde_json::from_str(&ok(subsidy(
        dir,
        &["--database-url", &db, "report", "--year", "2020", "--format", "json"],
    )))
    .unwrap();
    let text = ok(subsidy(dir, &["--database-url", &db, "report", "--year", "2020"]));
    let districts = json["districts"].as_array().expect("districts");
    assert!(districts.len() >= 2, "the demo reports more than one district: {json}");

    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert_self_contained(&page);
    assert_no_long_numbers(&page);
    for d in districts {
        let section = section(&page, d["district_code"].as_str().unwrap());
        assert_section_one(section, d, &text);
        assert_charts(section);
    }
    in_browser(dir, &page_path, districts.len());
}

/// Nothing is fetched: no reference to another host in `src`, `href`, `url(…)` or `@import`, no
/// style sheet or script loaded from elsewhere.
fn assert_self_contained(page: &str) {
    let lower = page.to_lowercase();
    for needle in ["src=", "href=", "url(", "@import"] {
        for (at, _) in lower.match_indices(needle) {
            let value = lower[at + needle.len()..].trim_start_matches(['"', '\'', ' ']);
            for remote in ["http:", "https:", "//", "ftp:"] {
                assert!(!value.starts_with(remote), "a remote reference: {}", &page[at..(at + 80).min(page.len())]);
            }
        }
    }
    assert!(!lower.contains("<link"), "no style sheet to fetch");
    assert!(lower.contains("<svg"), "the charts are inline SVG");
}

/// The report is aggregate: no run of 15 digits or more (an ID number has 18, an account more).
fn assert_no_long_numbers(page: &str) {
    let longest = page.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest < 15, "a number of {longest} digits: an ID or account number?");
}

/// The district's section of the page.
fn section<'a>(page: &'a str, district: &str) -> &'a str {
    let start =
        page.find(&format!("<section class=\"district\" id=\"d-{district}\">")).expect("the district's section");
    let end = page[start..].find("</section>").expect("its end");
    &page[start..start + end]
}

/// A decimal of the JSON form (amounts are strings there).
fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("an amount: {v}"))).unwrap()
}

/// Section 一's figures, per allowance and in total, and the lottery line: as the text form prints
/// them (checked in it first, so the expectations are the text form's), in the page's table row
/// of the allowance and its paragraph.
fn assert_section_one(section: &str, d: &Value, text: &str) {
    let mut rows: Vec<&Value> = d["allowances"].as_array().unwrap().iter().collect();
    rows.push(&d["total"]);
    assert_eq!(rows.len(), 4, "three allowances and the total: {d}");
    for f in rows {
        let key = f["allowance"].as_str().unwrap_or("total");
        let person_times = f["person_times"].as_i64().unwrap().to_string();
        let (amount, lottery, district) =
            (format_yuan(dec(&f["amount"])), dec(&f["lottery_amount"]), dec(&f["district_amount"]));
        let (lottery, district_wan, district) =
            (format_yuan(lottery), wan(district).to_string(), format_yuan(district));
        // 万元 is the page's and the text's; JSON has the yuan it is computed from.
        let amount_wan = &wan(dec(&f["amount"])).to_string();
        let en = format!("{key}: {person_times} person-times, {amount} yuan = lottery {lottery} + district {district}");
        let zh = format!(
            "发放{} {person_times} 人次，资金 {amount_wan} 万元（含区财政配套资金 {district_wan} 万元）",
            f["name"].as_str().unwrap()
        );
        assert!(text.contains(&en) && text.contains(&zh), "the text form prints {en} / {zh}");
        let start = section.find(&format!("data-allowance=\"{key}\">")).unwrap_or_else(|| panic!("a row for {key}"));
        let row = &section[start..start + section[start..].find("</tr>").unwrap()];
        for figure in [&person_times, &amount, amount_wan, &district, &district_wan, &lottery] {
            assert!(row.contains(&format!(">{figure}</td>")), "{key}'s row shows {figure}: {row}");
        }
    }
    if d["lottery_allocation"].is_null() {
        assert!(section.contains("资金额度：本年度未载入彩票公益金分配"), "the page says no allocation is loaded");
        return;
    }
    let allocation = dec(&d["lottery_allocation"]);
    let (used, pending, left) =
        (dec(&d["lottery_used"]), dec(&d["lottery_not_exported"]), dec(&d["lottery_remaining"]));
    let line = format!(
        "lottery allocation (F3): {} yuan, used {} yuan (paid out), {} yuan in batches not yet exported, left {} yuan",
        format_yuan(allocation),
        format_yuan(used),
        format_yuan(pending),
        format_yuan(left)
    );
    let zh = format!("资金额度（市级彩票公益金）：{} 万元；已使用 {} 万元", wan(allocation), wan(used));
    assert!(text.contains(&line) && text.contains(&zh), "the text form prints {line} / {zh}");
    assert!(section.contains(&line) && section.contains(&zh), "the page prints {line} / {zh}");
}

/// The three charts, each with at least one bar.
fn assert_charts(section: &str) {
    assert_eq!(section.matches("<svg").count(), 3, "three charts");
    for chart in ["months", "streets", "age-bands"] {
        let start = section.find(&format!("<svg class=\"chart\" data-chart=\"{chart}\"")).expect(chart);
        let svg = &section[start..start + section[start..].find("</svg>").expect("its end")];
        assert!(svg.contains("<rect class=\"bar"), "the {chart} chart has bars: {svg}");
    }
}

/// The page in chromium, headless: a screenshot and the DOM, no message on its console.
fn in_browser(dir: &Path, page: &Path, districts: usize) {
    if !Path::new(CHROMIUM).exists() {
        let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        assert!(!ci, "CI: {CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk; .ci/run does it)");
        eprintln!("browser check SKIPPED: {CHROMIUM} is not installed (apt-get install -y chromium fonts-noto-cjk)");
        return;
    }
    let url = format!("file://{}", page.display());
    let shot = dir.join("shot.png");
    let (_, log) = chromium(dir, "screenshot", &[&format!("--screenshot={}", shot.display()), &url]);
    assert_quiet_console(&log);
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 50_000, "a PNG with content: {} bytes", png.len());
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), WINDOW, "the PNG's width and height");

    let (dom, log) = chromium(dir, "dom", &["--dump-dom", &url]);
    assert_quiet_console(&log);
    assert_eq!(dom.matches("<svg class=\"chart\"").count(), 3 * districts, "the DOM still has the charts");
    assert_eq!(dom.matches("<section class=\"district\"").count(), districts);
    assert!(dom.contains("<rect class=\"bar lottery\"") && dom.contains("<rect class=\"bar persons\""));
}

/// No line of the page's console (chromium logs them as `:CONSOLE`), no uncaught error.
fn assert_quiet_console(log: &str) {
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "the page's console:\n{}", console.join("\n"));
}

/// Run chromium headless on `args` with its own profile and home in `dir`; its stdout and stderr.
/// It is killed with its whole process group (renderer, GPU process) after `BROWSER_TIMEOUT`.
fn chromium(dir: &Path, name: &str, args: &[&str]) -> (String, String) {
    let (out, err) = (dir.join(format!("chromium-{name}.out")), dir.join(format!("chromium-{name}.err")));
    let (width, height) = WINDOW;
    let mut child = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", dir.join("chromium-profile").display()))
        .arg(format!("--window-size={width},{height}"))
        .args(args)
        .env("HOME", dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            // SAFETY: kill(2) on the group this test's child leads, which holds only chromium's.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("chromium ({name}) did not finish in {BROWSER_TIMEOUT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (std::fs::read_to_string(&out).unwrap(), std::fs::read_to_string(&err).unwrap());
    assert!(status.success(), "chromium ({name}) failed: {status}\n{stderr}");
    (stdout, stderr)
}
