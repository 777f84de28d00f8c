//! `subsidy generate`: determinism, well-formed and consistent files, Xicheng-like shares, and
//! the malformed rows import must reject.

use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use subsidy::generate::{generate, GenerateOptions, GenerateSummary};
use subsidy::idcard;

const FILES: [&str; 7] = [
    "elders.csv",
    "applications.csv",
    "assessments.csv",
    "disability_certs.csv",
    "household_status.csv",
    "exclusions.csv",
    "suspensions.csv",
];

/// Key columns per file (INTERFACE.md).
fn key_columns(file: &str) -> &'static [&'static str] {
    match file {
        "elders.csv" => &["id_number", "district_code"],
        "applications.csv" => &["id_number", "allowance", "applied_on"],
        "assessments.csv" => &["id_number", "assessed_on"],
        "disability_certs.csv" => &["id_number", "category", "issued_on"],
        "household_status.csv" => &["id_number", "status", "valid_from"],
        "exclusions.csv" => &["id_number", "kind", "valid_from"],
        "suspensions.csv" => &["id_number", "reason", "valid_from"],
        _ => unreachable!(),
    }
}

fn options(elders: u64, seed: u64, malformed: u64) -> GenerateOptions {
    GenerateOptions { elders, seed, malformed, ..GenerateOptions::default() }
}

fn run(opts: &GenerateOptions) -> (tempfile::TempDir, GenerateSummary) {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(opts, dir.path()).unwrap();
    (dir, summary)
}

/// A file's rows as maps from column name to value.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(dir: &Path, file: &str) -> Table {
        let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        Table { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap()
    }

    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let i = self.col(name);
        self.rows.iter().map(move |r| r[i].as_str())
    }

    fn get<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        &row[self.col(name)]
    }
}

fn day(s: &str) -> Option<NaiveDate> {
    (!s.is_empty()).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let opts = options(3_000, 42, 10);
    let (a, summary_a) = run(&opts);
    let (b, summary_b) = run(&opts);
    for file in FILES {
        let left = std::fs::read(a.path().join(file)).unwrap();
        let right = std::fs::read(b.path().join(file)).unwrap();
        assert_eq!(left, right, "{file} differs between two runs of one seed");
    }
    assert_eq!(summary_a.files, summary_b.files);
}

#[test]
fn another_seed_gives_other_files() {
    let (a, _) = run(&options(1_000, 1, 0));
    let (b, _) = run(&options(1_000, 2, 0));
    let left = std::fs::read(a.path().join("elders.csv")).unwrap();
    let right = std::fs::read(b.path().join("elders.csv")).unwrap();
    assert_ne!(left, right);
}

#[test]
fn headers_are_those_of_interface() {
    let (dir, _) = run(&options(10, 1, 0));
    let expected: BTreeMap<&str, &str> = BTreeMap::from([
        ("elders.csv", "id_number,name,birth_date,district_code,street_code,hukou_in_date,hukou_out_date,death_date,account_type,account_no"),
        ("applications.csv", "id_number,allowance,applied_on,decision,decided_on"),
        ("assessments.csv", "id_number,assessed_on,result"),
        ("disability_certs.csv", "id_number,category,grade,multiple,issued_on,revoked_on"),
        ("household_status.csv", "id_number,status,valid_from,valid_to"),
        ("exclusions.csv", "id_number,kind,valid_from,valid_to"),
        ("suspensions.csv", "id_number,reason,valid_from,valid_to"),
    ]);
    for (file, header) in expected {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert_eq!(text.lines().next().unwrap(), header, "{file}");
    }
}

#[test]
fn summary_counts_every_row_of_every_file() {
    let (dir, summary) = run(&options(2_000, 5, 0));
    assert_eq!(summary.files.len(), 7);
    for file in FILES {
        let rows = Table::read(dir.path(), file).rows.len() as u64;
        assert_eq!(summary.files[file], rows, "{file}");
        assert_eq!(summary.malformed[file], 0, "{file}");
    }
}

#[test]
fn ids_are_valid_distinct_and_carry_the_birth_date() {
    let n = 20_000;
    let (dir, _) = run(&options(n, 7, 0));
    let elders = Table::read(dir.path(), "elders.csv");
    let mut persons = HashSet::new();
    for row in &elders.rows {
        let id = elders.get(row, "id_number");
        let born = idcard::validate(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(born.to_string(), elders.get(row, "birth_date"), "{id}");
        persons.insert(id.to_string());
    }
    assert_eq!(persons.len() as u64, n, "one person per elder");
    let home = elders.values("district_code").filter(|d| *d == "110102");
    assert_eq!(home.count() as u64, n, "every elder is registered in Xicheng");
}

#[test]
fn keys_are_unique_in_every_file() {
    let (dir, _) = run(&options(20_000, 11, 0));
    for file in FILES {
        let table = Table::read(dir.path(), file);
        let cols: Vec<usize> = key_columns(file).iter().map(|c| table.col(c)).collect();
        let mut keys = HashSet::new();
        for row in &table.rows {
            let key: Vec<&str> = cols.iter().map(|&c| row[c].as_str()).collect();
            assert!(keys.insert(key.join("|")), "{file}: duplicate key {key:?}");
        }
    }
}

#[test]
fn every_record_refers_to_a_known_person() {
    let (dir, _) = run(&options(20_000, 13, 0));
    let known: HashSet<String> = Table::read(dir.path(), "elders.csv").values("id_number").map(String::from).collect();
    for file in &FILES[1..] {
        let table = Table::read(dir.path(), file);
        for id in table.values("id_number") {
            assert!(known.contains(id), "{file}: unknown person {id}");
        }
    }
}

#[test]
fn codes_streets_and_accounts_are_valid() {
    let (dir, _) = run(&options(20_000, 17, 0));
    let elders = Table::read(dir.path(), "elders.csv");
    let xicheng =
        ["001", "003", "007", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020"];
    let mut empty_accounts = 0;
    for row in &elders.rows {
        let district = elders.get(row, "district_code");
        let street = elders.get(row, "street_code");
        assert!(street.starts_with(district) && street.len() == 9, "{street}");
        if district == "110102" {
            assert!(xicheng.contains(&&street[6..]), "{street}");
        }
        assert!(!elders.get(row, "name").is_empty());
        let account = elders.get(row, "account_no");
        if account.is_empty() {
            empty_accounts += 1;
        } else {
            assert!(account.len() == 19 && account.starts_with("6217"), "{account}");
            assert!(account.bytes().all(|b| b.is_ascii_digit()));
        }
        let kinds = ["yanglao_zhucan", "minzheng", "canji", "teshu_jiating", "shebao", "junren"];
        assert!(kinds.contains(&elders.get(row, "account_type")));
    }
    assert!((100..=320).contains(&empty_accounts), "{empty_accounts}");
    let codes: [(&str, &str, &[&str]); 7] = [
        ("applications.csv", "allowance", &["longevity", "care", "hardship"]),
        ("applications.csv", "decision", &["approved", "rejected", "pending"]),
        ("assessments.csv", "result", &["severe", "moderate", "mild", "able"]),
        ("disability_certs.csv", "category", &["visual", "hearing", "speech", "limb", "intellectual", "mental"]),
        ("household_status.csv", "status", &["dibao", "low_income", "special_family"]),
        (
            "exclusions.csv",
            "kind",
            &[
                "disabled_person_subsidy",
                "tekun",
                "work_injury_care",
                "heroic_injury_care",
                "zhiqing_injury_care",
                "institution_subsidy",
            ],
        ),
        ("suspensions.csv", "reason", &["imprisonment", "review_failed", "missing"]),
    ];
    for (file, column, allowed) in codes {
        let table = Table::read(dir.path(), file);
        for value in table.values(column) {
            assert!(allowed.contains(&value), "{file}.{column}: {value}");
        }
    }
    let certs = Table::read(dir.path(), "disability_certs.csv");
    assert!(certs.values("grade").all(|g| ["1", "2", "3", "4"].contains(&g)));
    assert!(certs.values("multiple").all(|m| m == "true" || m == "false"));
}

/// (file, start column, end column, end may equal start)
const SPANS: [(&str, &str, &str, bool); 7] = [
    ("elders.csv", "birth_date", "death_date", false),
    ("elders.csv", "hukou_in_date", "hukou_out_date", true),
    ("applications.csv", "applied_on", "decided_on", true),
    ("disability_certs.csv", "issued_on", "revoked_on", false),
    ("household_status.csv", "valid_from", "valid_to", true),
    ("exclusions.csv", "valid_from", "valid_to", true),
    ("suspensions.csv", "valid_from", "valid_to", true),
];

#[test]
fn dates_are_real_ordered_and_not_after_2020() {
    let (dir, _) = run(&options(20_000, 19, 0));
    let last = ymd(2020, 12, 31);
    for file in FILES {
        let table = Table::read(dir.path(), file);
        let date_cols: Vec<usize> = (0..table.header.len())
            .filter(|&c| {
                let h = &table.header[c];
                h.ends_with("_date") || h.ends_with("_on") || h.starts_with("valid_")
            })
            .collect();
        for row in &table.rows {
            for &c in &date_cols {
                if let Some(d) = day(&row[c]) {
                    assert!(d <= last, "{file}: {} in the future", row[c]);
                    assert!(d.to_string().len() == 10 && d >= ymd(1914, 1, 1));
                }
            }
        }
    }
    for (file, start, end, may_equal) in SPANS {
        let table = Table::read(dir.path(), file);
        for row in &table.rows {
            let (Some(from), Some(to)) = (day(table.get(row, start)), day(table.get(row, end))) else {
                continue;
            };
            assert!(to > from || (may_equal && to == from), "{file}: {end} {to} before {start} {from}");
        }
    }
    let decided = Table::read(dir.path(), "applications.csv");
    for row in &decided.rows {
        let pending = decided.get(row, "decision") == "pending";
        assert_eq!(pending, decided.get(row, "decided_on").is_empty());
    }
}

#[test]
fn moves_within_beijing_have_one_row_per_district() {
    let (dir, _) = run(&options(20_000, 23, 0));
    let elders = Table::read(dir.path(), "elders.csv");
    let mut by_id: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    for row in &elders.rows {
        by_id.entry(elders.get(row, "id_number")).or_default().push(row);
    }
    let moves: Vec<_> = by_id.values().filter(|rows| rows.len() == 2).collect();
    assert!(!moves.is_empty(), "some moves within Beijing");
    for rows in moves {
        let (a, b) = (rows[0], rows[1]);
        assert_ne!(elders.get(a, "district_code"), elders.get(b, "district_code"));
        // The day one district's registration ends is the day the other's begins.
        let out_a = elders.get(a, "hukou_out_date");
        let in_b = elders.get(b, "hukou_in_date");
        let out_b = elders.get(b, "hukou_out_date");
        let in_a = elders.get(a, "hukou_in_date");
        assert!((!out_a.is_empty() && out_a == in_b) || (!out_b.is_empty() && out_b == in_a));
    }
}

/// Measured shares of one generated registry (fractions of the elders registered at home).
#[derive(Debug)]
struct Shares {
    elders: usize,
    aged_80: f64,
    aged_90: f64,
    centenarians: usize,
    /// A certificate that qualifies for a tier of R4, or a severe assessment.
    care_qualifying: f64,
    /// Rough recipients of 2020-06 (registered and alive on 06-01, started, qualifying).
    longevity_2020_06: f64,
    care_2020_06: f64,
    household_status: f64,
    exclusions: f64,
    suspensions: f64,
    deaths_80: f64,
}

fn cert_tier(category: &str, grade: &str, multiple: bool) -> Option<char> {
    match (category, grade) {
        ("visual" | "limb" | "intellectual" | "mental", "1") => Some('A'),
        ("intellectual" | "mental", "2") if multiple => Some('A'),
        ("visual" | "limb" | "intellectual" | "mental", "2") => Some('B'),
        ("intellectual" | "mental", "3") => Some('B'),
        ("hearing" | "speech", "1" | "2") => Some('C'),
        _ => None,
    }
}

fn aged(birth: NaiveDate, age: i32, by: NaiveDate) -> bool {
    use chrono::Datelike;
    let opens = NaiveDate::from_ymd_opt(birth.year() + age, birth.month(), 1).unwrap();
    opens <= by
}

fn measure(dir: &Path) -> Shares {
    let elders = Table::read(dir, "elders.csv");
    let apps = Table::read(dir, "applications.csv");
    let certs = Table::read(dir, "disability_certs.csv");
    let assessments = Table::read(dir, "assessments.csv");
    let june = ymd(2020, 6, 1);
    let june_end = ymd(2020, 6, 30);
    let jan = ymd(2020, 1, 31);

    let ids_of = |t: &Table| -> HashSet<String> { t.values("id_number").map(String::from).collect() };
    // Care: qualifying at any time, and in June (certificate in force or latest assessment).
    let mut qualifying: HashSet<&str> = HashSet::new();
    let mut qualifying_june: HashSet<&str> = HashSet::new();
    let mut latest_cert: HashMap<&str, NaiveDate> = HashMap::new();
    for row in &certs.rows {
        let issued = day(certs.get(row, "issued_on")).unwrap();
        if issued <= june_end {
            let e = latest_cert.entry(certs.get(row, "id_number")).or_insert(issued);
            *e = (*e).max(issued);
        }
    }
    for row in &certs.rows {
        let id = certs.get(row, "id_number");
        let multiple = certs.get(row, "multiple") == "true";
        if cert_tier(certs.get(row, "category"), certs.get(row, "grade"), multiple).is_none() {
            continue;
        }
        qualifying.insert(id);
        let issued = day(certs.get(row, "issued_on")).unwrap();
        let revoked = day(certs.get(row, "revoked_on"));
        if latest_cert.get(id) == Some(&issued) && revoked.is_none_or(|r| r > june_end) {
            qualifying_june.insert(id);
        }
    }
    let mut latest: HashMap<&str, (NaiveDate, &str)> = HashMap::new();
    let mut severe_by_june: HashSet<&str> = HashSet::new();
    for row in &assessments.rows {
        let id = assessments.get(row, "id_number");
        let on = day(assessments.get(row, "assessed_on")).unwrap();
        let result = assessments.get(row, "result");
        if result == "severe" {
            qualifying.insert(id);
        }
        if on <= june_end {
            let e = latest.entry(id).or_insert((on, result));
            if on >= e.0 {
                *e = (on, result);
            }
            if result == "severe" {
                severe_by_june.insert(id);
            }
        }
    }
    for (id, (_, result)) in &latest {
        if *result == "severe" {
            qualifying_june.insert(id);
        }
    }
    let mut started: HashMap<&str, HashSet<&str>> = HashMap::new();
    for row in &apps.rows {
        let applied = day(apps.get(row, "applied_on")).unwrap();
        if apps.get(row, "decision") == "approved" && applied <= june_end {
            started.entry(apps.get(row, "allowance")).or_default().insert(apps.get(row, "id_number"));
        }
    }
    let excluded = ids_of(&Table::read(dir, "exclusions.csv"));

    let (mut n, mut a80, mut a90, mut a100, mut dead80) = (0, 0, 0, 0, 0);
    let (mut longevity, mut care, mut care_q) = (0, 0, 0);
    for row in &elders.rows {
        if elders.get(row, "district_code") != "110102" {
            continue;
        }
        n += 1;
        let id = elders.get(row, "id_number");
        let birth = day(elders.get(row, "birth_date")).unwrap();
        let is_80 = aged(birth, 80, jan);
        a80 += usize::from(is_80);
        a90 += usize::from(aged(birth, 90, jan));
        a100 += usize::from(aged(birth, 100, jan));
        let death = day(elders.get(row, "death_date"));
        dead80 += usize::from(is_80 && death.is_some());
        care_q += usize::from(qualifying.contains(id));
        let here = day(elders.get(row, "hukou_in_date")).is_none_or(|d| d < june)
            && day(elders.get(row, "hukou_out_date")).is_none_or(|d| d >= june)
            && death.is_none_or(|d| d >= june);
        let longevity_started = started.get("longevity").is_some_and(|s| s.contains(id));
        longevity += usize::from(here && aged(birth, 80, june) && longevity_started);
        let care_started = severe_by_june.contains(id) || started.get("care").is_some_and(|s| s.contains(id));
        let cares = qualifying_june.contains(id) && care_started && !excluded.contains(id);
        care += usize::from(here && cares);
    }
    let share = |k: usize| k as f64 / n as f64;
    Shares {
        elders: n,
        aged_80: share(a80),
        aged_90: share(a90),
        centenarians: a100,
        care_qualifying: share(care_q),
        longevity_2020_06: share(longevity),
        care_2020_06: share(care),
        household_status: share(ids_of(&Table::read(dir, "household_status.csv")).len()),
        exclusions: share(excluded.len()),
        suspensions: share(ids_of(&Table::read(dir, "suspensions.csv")).len()),
        deaths_80: dead80 as f64 / a80 as f64,
    }
}

#[test]
fn shares_resemble_xicheng_for_20000_elders() {
    let (dir, _) = run(&options(20_000, 2020, 0));
    let s = measure(dir.path());
    eprintln!("{s:#?}");
    assert_eq!(s.elders, 20_000);
    assert!((0.20..=0.27).contains(&s.aged_80), "80+: {}", s.aged_80);
    assert!((0.025..=0.045).contains(&s.aged_90), "90+: {}", s.aged_90);
    assert!((1..=40).contains(&s.centenarians), "100+: {}", s.centenarians);
    assert!((0.035..=0.075).contains(&s.care_qualifying), "care: {}", s.care_qualifying);
    assert!((0.19..=0.25).contains(&s.longevity_2020_06), "{}", s.longevity_2020_06);
    assert!((0.035..=0.065).contains(&s.care_2020_06), "{}", s.care_2020_06);
    assert!((0.02..=0.04).contains(&s.household_status));
    assert!((0.002..=0.009).contains(&s.exclusions));
    assert!((0.0005..=0.004).contains(&s.suspensions));
    assert!((0.025..=0.06).contains(&s.deaths_80));
}

#[test]
fn malformed_rows_are_appended_one_per_defect() {
    let (good, clean) = run(&options(3_000, 9, 0));
    let (bad, summary) = run(&options(3_000, 9, 10));
    assert_eq!(summary.malformed.values().sum::<u64>(), 10);
    let mut appended: Vec<(String, String)> = Vec::new();
    for file in FILES {
        let before = std::fs::read_to_string(good.path().join(file)).unwrap();
        let after = std::fs::read_to_string(bad.path().join(file)).unwrap();
        // The good rows are unchanged: malformed rows only follow them.
        assert!(after.starts_with(&before), "{file}");
        let extra: Vec<&str> = after[before.len()..].lines().collect();
        assert_eq!(extra.len() as u64, summary.malformed[file], "{file}");
        assert_eq!(summary.files[file], clean.files[file] + summary.malformed[file]);
        appended.extend(extra.iter().map(|l| (file.to_string(), l.to_string())));
    }
    let known: HashSet<String> = Table::read(good.path(), "elders.csv").values("id_number").map(String::from).collect();
    let has = |pred: &dyn Fn(&str, &[&str]) -> bool| {
        appended.iter().filter(|(f, line)| pred(f, &line.split(',').collect::<Vec<_>>())).count()
    };
    let bad_checksum = has(&|_, cells| idcard::validate(cells[0]) == Err(idcard::IdError::Checksum));
    assert_eq!(bad_checksum, 1);
    let mismatch =
        has(&|f, cells| f == "elders.csv" && idcard::validate(cells[0]).is_ok_and(|b| b.to_string() != cells[2]));
    assert_eq!(mismatch, 1);
    assert_eq!(has(&|_, c| c.contains(&"2020-02-30")), 1);
    assert_eq!(has(&|_, c| c.iter().any(|v| v.starts_with("2099-"))), 1);
    let unknown_code = ["bank", "pension", "bedridden", "cognitive", "wubao", "pension_supplement", "travel"];
    assert_eq!(has(&|_, c| c.iter().any(|v| unknown_code.contains(v))), 1);
    assert_eq!(has(&|f, c| f == "elders.csv" && c[4] == "110105001"), 1);
    let unknown_person = has(&|f, c| f != "elders.csv" && idcard::validate(c[0]).is_ok() && !known.contains(c[0]));
    assert_eq!(unknown_person, 1);
    let empty = has(&|f, c| match f {
        "elders.csv" | "household_status.csv" | "exclusions.csv" | "suspensions.csv" => c[1].is_empty(),
        "applications.csv" => c[3].is_empty(),
        "assessments.csv" => c[2].is_empty(),
        _ => c[2].is_empty(),
    });
    assert_eq!(empty, 1, "{appended:#?}");
}

#[test]
fn malformed_rows_spread_over_files_and_keys_collide_only_when_meant() {
    let (dir, summary) = run(&options(5_000, 3, 70));
    assert_eq!(summary.malformed.values().sum::<u64>(), 70);
    let touched = summary.malformed.values().filter(|&&k| k > 0).count();
    assert_eq!(touched, 7, "{:?}", summary.malformed);
    // Exactly the seven duplicate-key rows repeat a key.
    let mut duplicates = 0;
    for file in FILES {
        let table = Table::read(dir.path(), file);
        let cols: Vec<usize> = key_columns(file).iter().map(|c| table.col(c)).collect();
        let mut keys = HashSet::new();
        for row in &table.rows {
            let key: Vec<&str> = cols.iter().map(|&c| row[c].as_str()).collect();
            duplicates += usize::from(!keys.insert(key.join("|")));
        }
    }
    assert_eq!(duplicates, 7);
}

#[test]
fn refuses_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(10, 1, 0);
    opts.district = "1101".into();
    assert!(generate(&opts, dir.path()).is_err());
    assert!(generate(&options(0, 1, 3), dir.path()).is_err());
    let summary = generate(&options(0, 1, 0), dir.path()).unwrap();
    assert!(summary.files.values().all(|&k| k == 0));
}

/// Xicheng's size: run with `cargo test --release --test generate -- --ignored --nocapture`.
#[test]
#[ignore]
fn xicheng_scale_310000_elders() {
    let started = std::time::Instant::now();
    let (dir, summary) = run(&options(310_000, 2020, 0));
    let elapsed = started.elapsed();
    eprintln!("generated in {elapsed:?}: {:?}", summary.files);
    let s = measure(dir.path());
    eprintln!("{s:#?}");
    eprintln!(
        "2020-06 recipients: longevity ≈ {:.0}, care ≈ {:.0}",
        s.longevity_2020_06 * s.elders as f64,
        s.care_2020_06 * s.elders as f64
    );
    let elders = Table::read(dir.path(), "elders.csv");
    let ids: HashSet<&str> = elders.values("id_number").collect();
    assert_eq!(ids.len(), 310_000);
    assert!((0.20..=0.27).contains(&s.aged_80));
}
