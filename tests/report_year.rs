//! The "done when": the demo's year report has every line of section 一 of the seed
//! report — person-times and amounts per allowance, district matching, the lottery fund against
//! its allocation — computed from the demo's ledger. This test runs `subsidy demo`, reads the
//! postings of `subsidy-demo.db` with plain SQL and recomputes F5 on its own:
//!
//! - L1: a line counts when its batch is exported, it is not held, its transfer was not reported
//!   failed or returned, and it is not a recovery item a return cancelled; recovery items count
//!   (negative). The net of a (district, person, allowance, service month) is the sum of its
//!   counted lines; F5: a person-time is a net above zero, the amounts are those nets' sums.
//! - F3: the lottery fund used is the lottery share of those nets; what batches not yet exported
//!   draw (lines not held of computed or approved batches) is pending; the allocation is the
//!   one of fixtures/policy/beijing-2019.toml or fixtures/demo/allocations.toml, whichever loads
//!   the district and year; what is left is allocation − used − pending.
//!
//! `report --format json` must give exactly these figures, per allowance and in total, per
//! service month, and per age band (the age reached in 2020 from the ID's birth year); the
//! streets must add up to the total; the text form must print section 一 with them. (The html
//! and xlsx tests check that those forms show the JSON's figures; this one checks the figures.)

mod cli_support;

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

/// The demo's folder, run once for the tests of this file.
fn demo() -> &'static Path {
    cli_support::demo_folder("report_year")
}

/// `report --year 2020 ARGS` on the demo's database: its standard output.
fn report(args: &[&str]) -> String {
    String::from_utf8(cli_support::demo_report("report_year", args).stdout).expect("UTF-8")
}

fn json() -> &'static Value {
    static JSON: OnceLock<Value> = OnceLock::new();
    JSON.get_or_init(|| serde_json::from_str(&report(&["--format", "json"])).expect("json"))
}

/// Person-times and fen: amount, lottery share, district share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fig {
    person_times: i64,
    amount: i64,
    lottery: i64,
    district: i64,
}

impl Fig {
    fn add(&mut self, n: &Net) {
        self.person_times += 1;
        self.amount += n.amount;
        self.lottery += n.lottery;
        self.district += n.district;
    }

    /// The JSON form's figures (amounts are yuan strings) in fen.
    fn of(v: &Value) -> Fig {
        Fig {
            person_times: v["person_times"].as_i64().expect("person_times"),
            amount: fen(&v["amount"]),
            lottery: fen(&v["lottery_amount"]),
            district: fen(&v["district_amount"]),
        }
    }
}

/// The counted lines of one (district, person, allowance, service month), added up.
#[derive(Default)]
struct Net {
    amount: i64,
    lottery: i64,
    district: i64,
}

/// (district, person, allowance, service month).
type Key = (String, String, String, String);

/// What the ledger says of 2020.
struct Ledger {
    /// Nets above zero (F5).
    positive: BTreeMap<Key, Net>,
    /// Lottery share of the lines not held of computed or approved batches, per district.
    pending_lottery: BTreeMap<String, i64>,
    /// Lottery share of every counted line, per district: what the allocation paid out (F3).
    counted_lottery: BTreeMap<String, i64>,
    /// Lines read, and lines left out by L1 (by why), to be sure the demo exercises the rules.
    read: usize,
    left_out: BTreeMap<&'static str, usize>,
}

fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| {
        let url = format!("sqlite://{}?mode=ro", demo().join("subsidy-demo.db").display());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let rows = rt.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("the demo's database");
            let rows = sqlx::query(
                "select p.district_code, p.id_number, p.allowance, p.service_month, p.amount_fen, p.lottery_fen,
                        p.district_fen, p.held_reason, p.cancelled_by, b.state, t.status
                 from postings p join batches b on b.batch_id = p.batch_id
                 left join transfers t on t.transfer_id = p.transfer_id
                 where p.service_month like '2020-%'",
            )
            .fetch_all(&pool)
            .await
            .expect("the postings");
            pool.close().await;
            rows
        });
        let mut nets: BTreeMap<Key, Net> = BTreeMap::new();
        let mut pending_lottery = BTreeMap::new();
        let mut left_out = BTreeMap::new();
        let mut counted_lottery = BTreeMap::new();
        for r in &rows {
            let text = |c: &str| r.get::<Option<String>, _>(c);
            let (state, held, cancelled) = (text("state").unwrap(), text("held_reason"), text("cancelled_by"));
            let status = text("status");
            let district: String = r.get("district_code");
            let why_not = if state != "exported" {
                if held.is_none() && (state == "computed" || state == "approved") {
                    *pending_lottery.entry(district.clone()).or_default() += r.get::<i64, _>("lottery_fen");
                }
                Some("not exported")
            } else if held.is_some() {
                Some("held")
            } else if cancelled.is_some() {
                Some("cancelled recovery")
            } else if matches!(status.as_deref(), Some("failed" | "returned")) {
                Some("failed or returned")
            } else {
                None
            };
            if let Some(why) = why_not {
                *left_out.entry(why).or_default() += 1;
                continue;
            }
            *counted_lottery.entry(district.clone()).or_default() += r.get::<i64, _>("lottery_fen");
            let key = (district, r.get("id_number"), r.get("allowance"), r.get("service_month"));
            let n = nets.entry(key).or_default();
            n.amount += r.get::<i64, _>("amount_fen");
            n.lottery += r.get::<i64, _>("lottery_fen");
            n.district += r.get::<i64, _>("district_fen");
        }
        nets.retain(|_, n| n.amount > 0);
        Ledger { positive: nets, pending_lottery, counted_lottery, read: rows.len(), left_out }
    })
}

/// A yuan string of the JSON form, in fen.
fn fen(v: &Value) -> i64 {
    let d = Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("an amount: {v}"))).expect("decimal");
    i64::try_from(d * Decimal::ONE_HUNDRED).expect("whole fen")
}

/// Fen as yuan with two decimals.
fn yuan(fen: i64) -> String {
    format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, fen.abs() / 100, fen.abs() % 100)
}

/// Fen as 万元 as the seed writes it: exact, no trailing zeros (5,200,000 fen → 5.2).
fn wan(fen: i64) -> String {
    assert!(fen >= 0, "no negative figure in section 一");
    let (whole, frac) = (fen / 1_000_000, fen % 1_000_000);
    let frac = format!("{frac:06}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

/// The allocations loaded for the demo (F3): (district, year) → fen.
fn allocations() -> BTreeMap<(String, i64), i64> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::new();
    for file in ["fixtures/policy/beijing-2019.toml", "fixtures/demo/allocations.toml"] {
        let doc: toml::Value = toml::from_str(&std::fs::read_to_string(root.join(file)).unwrap()).unwrap();
        for a in doc["allocations"].as_array().expect("allocations") {
            let amount = Decimal::from_str(a["amount"].as_str().unwrap()).unwrap();
            let key = (a["district"].as_str().unwrap().to_string(), a["year"].as_integer().unwrap());
            out.insert(key, i64::try_from(amount * Decimal::ONE_HUNDRED).unwrap());
        }
    }
    out
}

const ALLOWANCES: [&str; 3] = ["care", "longevity", "hardship"];

/// The ledger's figures of `district` per allowance (seed order) for the nets `keep` selects.
fn figures(district: &str, keep: impl Fn(&Key) -> bool) -> [Fig; 3] {
    let mut f = [Fig::default(); 3];
    for (k, n) in ledger().positive.iter().filter(|(k, _)| k.0 == district && keep(k)) {
        f[ALLOWANCES.iter().position(|a| *a == k.2).expect("an allowance")].add(n);
    }
    f
}

fn total(f: &[Fig]) -> Fig {
    f.iter().fold(Fig::default(), |mut t, x| {
        t.person_times += x.person_times;
        t.amount += x.amount;
        t.lottery += x.lottery;
        t.district += x.district;
        t
    })
}

fn districts() -> &'static [Value] {
    json()["districts"].as_array().expect("districts")
}

/// Age band index (youngest first) of a person in 2020, from the birth year in the ID.
fn band(id: &str) -> usize {
    match 2020 - id[6..10].parse::<i64>().expect("birth year") {
        ..=69 => 0,
        70..=79 => 1,
        80..=89 => 2,
        90..=99 => 3,
        _ => 4,
    }
}

#[test]
fn section_one_per_allowance_and_the_lottery_fund_are_the_ledger_nets() {
    let l = ledger();
    // The demo exercises L1: held lines, failed and returned transfers (April), recovery items.
    assert!(l.read > 10_000, "the demo's postings of 2020: {}", l.read);
    assert!(l.left_out.get("held").is_some_and(|n| *n > 0), "held lines: {:?}", l.left_out);
    assert!(l.left_out.get("failed or returned").is_some_and(|n| *n > 0), "failed lines: {:?}", l.left_out);
    let in_ledger: BTreeSet<&str> = l.positive.keys().map(|k| k.0.as_str()).collect();
    let reported: BTreeSet<&str> = districts().iter().map(|d| d["district_code"].as_str().unwrap()).collect();
    assert_eq!(reported, in_ledger, "a report for each district the ledger paid in 2020");
    for d in districts() {
        let code = d["district_code"].as_str().unwrap();
        let want = figures(code, |_| true);
        let got: Vec<Fig> = d["allowances"].as_array().unwrap().iter().map(Fig::of).collect();
        assert_eq!(got, want, "{code}: care, longevity, hardship");
        let names: Vec<&str> =
            d["allowances"].as_array().unwrap().iter().map(|a| a["allowance"].as_str().unwrap()).collect();
        assert_eq!(names, ALLOWANCES, "{code}: the seed's order");
        assert_eq!(Fig::of(&d["total"]), total(&want), "{code}: total");
        for f in d["allowances"].as_array().unwrap().iter().chain([&d["total"]]) {
            assert!(f.get("amount_wan").is_none(), "{code}: money in JSON is yuan only (万元 is the text's)");
        }
        let used = total(&want).lottery;
        assert_eq!(used, l.counted_lottery[code], "{code}: the positive nets hold every counted line's lottery share");
        let pending = l.pending_lottery.get(code).copied().unwrap_or(0);
        let allocation = allocations()[&(code.to_string(), 2020)];
        assert_eq!(fen(&d["lottery_allocation"]), allocation, "{code}: allocation");
        assert_eq!(fen(&d["lottery_used"]), used, "{code}: lottery used");
        assert_eq!(fen(&d["lottery_not_exported"]), pending, "{code}: lottery pending");
        assert_eq!(fen(&d["lottery_remaining"]), allocation - used - pending, "{code}: allocation - used - pending");
    }
    // Xicheng pays all three allowances in the demo; the figures are not all zero.
    let xicheng = figures("110102", |_| true);
    assert!(xicheng.iter().all(|f| f.person_times > 0 && f.amount > 0), "{xicheng:?}");
}

#[test]
fn months_streets_and_age_bands_add_up_to_the_year() {
    for d in districts() {
        let code = d["district_code"].as_str().unwrap();
        let year = Fig::of(&d["total"]);
        let months = d["by_month"].as_array().unwrap();
        let listed: Vec<&str> = months.iter().map(|m| m["service_month"].as_str().unwrap()).collect();
        let every: Vec<String> = (1..=12).map(|m| format!("2020-{m:02}")).collect();
        assert_eq!(listed, every, "{code}: every month of 2020");
        for m in months {
            let month = m["service_month"].as_str().unwrap();
            let want = figures(code, |k| k.3 == month);
            let got: Vec<Fig> = m["allowances"].as_array().unwrap().iter().map(Fig::of).collect();
            assert_eq!(got, want, "{code} {month}: per allowance");
            assert_eq!(Fig::of(&m["total"]), total(&want), "{code} {month}: total");
        }
        let of_months: Vec<Fig> = months.iter().map(|m| Fig::of(&m["total"])).collect();
        assert_eq!(total(&of_months), year, "{code}: the months add up to the year");

        let streets: Vec<Fig> = d["by_street"].as_array().unwrap().iter().map(|s| Fig::of(&s["total"])).collect();
        assert_eq!(total(&streets), year, "{code}: the streets add up to the year");
        let paid: BTreeSet<&str> = ledger().positive.keys().filter(|k| k.0 == code).map(|k| k.1.as_str()).collect();
        let street_recipients: i64 =
            d["by_street"].as_array().unwrap().iter().map(|s| s["recipients"].as_i64().unwrap()).sum();
        assert!(street_recipients >= paid.len() as i64, "{code}: each person paid counts in a street");

        let bands = d["by_age_band"].as_array().unwrap();
        assert_eq!(bands.len(), 5, "{code}: every band");
        let (mut sum_pt, mut sum_amount) = (0, 0);
        for (i, b) in bands.iter().enumerate() {
            let nets = ledger().positive.iter().filter(|(k, _)| k.0 == code && band(&k.1) == i);
            let persons: BTreeSet<&str> = nets.clone().map(|(k, _)| k.1.as_str()).collect();
            let want = (persons.len() as i64, nets.clone().count() as i64, nets.map(|(_, n)| n.amount).sum::<i64>());
            let got = (b["recipients"].as_i64().unwrap(), b["person_times"].as_i64().unwrap(), fen(&b["amount"]));
            assert_eq!(got, want, "{code} band {}: recipients, person-times, amount", b["band"]);
            (sum_pt, sum_amount) = (sum_pt + got.1, sum_amount + got.2);
        }
        assert_eq!((sum_pt, sum_amount), (year.person_times, year.amount), "{code}: the bands add up to the year");
        let recipients: i64 = bands.iter().map(|b| b["recipients"].as_i64().unwrap()).sum();
        assert_eq!(recipients, paid.len() as i64, "{code}: each person paid is in one band");
    }
}

#[test]
fn the_text_form_prints_section_one_from_the_ledger() {
    let text = report(&[]);
    let names = ["失能老年人护理补贴", "高龄津贴", "困难老年人养老服务补贴"];
    for d in districts() {
        let code = d["district_code"].as_str().unwrap();
        let name = d["name"].as_str().unwrap();
        assert!(text.contains(&format!("{name}（{code}）2020 年 老年人津贴补贴发放情况")), "{code}: title");
        let section = &text[text.find(&format!("（{code}）2020 年")).unwrap()..];
        let section = &section[..section.find("未导出批次").expect("section 一 ends with the batches not exported")];
        assert!(section.contains("一、老年人津贴补贴项目安排情况"), "{code}: section 一");
        let want = figures(code, |_| true);
        let all = total(&want);
        let rows = want.iter().zip(names).chain([(&all, "合计")]);
        for (f, name) in rows {
            let zh = format!(
                "发放{name} {} 人次，资金 {} 万元（含区财政配套资金 {} 万元）",
                f.person_times,
                wan(f.amount),
                wan(f.district)
            );
            assert!(section.contains(&zh), "{code}: the text form prints {zh}:\n{section}");
        }
        let allocation = allocations()[&(code.to_string(), 2020)];
        let used = total(&want).lottery;
        let pending = ledger().pending_lottery.get(code).copied().unwrap_or(0);
        let pct = (Decimal::new(used, 2) * Decimal::ONE_HUNDRED / Decimal::new(allocation, 2)).round_dp(2);
        let line = format!(
            "资金额度（市级彩票公益金）：{} 万元；已使用 {} 万元（{pct}%），待发 {} 万元，结余 {} 万元",
            wan(allocation),
            wan(used),
            wan(pending),
            wan(allocation - used - pending)
        );
        assert!(section.contains(&line), "{code}: the text form prints {line}:\n{section}");
        let en = format!(
            "lottery allocation (F3): {} yuan, used {} yuan (paid out), {} yuan in batches not yet exported, left {} yuan",
            yuan(allocation),
            yuan(used),
            yuan(pending),
            yuan(allocation - used - pending)
        );
        assert!(section.contains(&en), "{code}: the text form prints {en}");
    }
}
