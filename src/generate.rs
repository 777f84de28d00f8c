//! The synthetic registry of `subsidy generate`: the seven registry CSV files of INTERFACE.md for
//! N elders, byte-identical for a seed, optionally with malformed rows appended to test `import`.
//!
//! ## What it imitates
//!
//! Xicheng 2020 (POLICY.md, "Scale for sizing"): roughly 310,000 residents aged 60 and over, about
//! 73,000 longevity recipients (23.5 % of the 60+) and 15,000 care recipients a month (4.8 %).
//! Not every 80-year-old is paid (no application yet, deaths, moves), so 25.35 % are aged 80+ for
//! 23.5 % to be paid; likewise about 6.6 % ever qualify for care for 4.8 % to be paid in a month.
//! Ages are read in 2020-01 with R3's rule (an age opens in the month of the birthday), so a
//! person "aged 80" was born between 1939-02 and 1940-01.
//!
//! | what | default share | of whom |
//! |---|---|---|
//! | aged 60–69 / 70–79 / 80–89 / 90–99 / 100–105 in 2020-01 | 46 / 28.65 / 21.6 / 3.7 / 0.05 % | everyone, falling with age inside each band |
//! | dies in 2020 | 1 / 3 / 10 % | aged 60–79 / 80–89 / 90+ (≈ 4 % of the 80+) |
//! | moved registration in during 2019–2020 | 0.3 % | everyone; half from the other district (a second row there) |
//! | moves registration out during 2020 | 0.3 % | everyone; half to the other district (a second row there); they do not die in 2020 |
//! | no account number (held, L3) | 1 % | everyone |
//! | longevity application approved / rejected / pending / none | 95 / 2 / 1.5 / 1.5 % | those aged 80 by 2020-12-31 |
//! | disability certificate | 5.5 % | everyone; grades 1–4: 30 / 40 / 18 / 12 % (about 73 % qualify for a tier); 15 % list two categories (`multiple`), 4 % are revoked and 6 % replaced by a graver one in 2020 |
//! | ability assessment | 2 / 6 / 12 % | aged 60–79 / 80–89 / 90+ (about 3 % overall); 70 % severe, 15 % moderate, 8 % mild, 7 % able; 10 % reassessed |
//! | care application approved | 92 % / 50 % | holders of a qualifying certificate / others assessed severe (the assessment counts anyway, T5) |
//! | care application rejected | 10 % | holders of a certificate that qualifies for no tier |
//! | household status | 3 % | everyone: dibao 35 %, low_income 25 %, special_family 40 %; 12 % end in 2020, 8 % get a second status |
//! | hardship application approved / rejected | 90 / 3 % | those with a household status |
//! | exclusion (R8) | 6 % / 0.25 % | those qualifying for care / others |
//! | suspension (T4) | 0.2 % | everyone |
//!
//! When applications are submitted: of those already eligible before the policy's start
//! (2019-10), 85 % applied in 2019-01..2019-09, 10 % within its first seven months (back pay, T5)
//! and 5 % later; of those becoming eligible after it, 85 % apply within 3 months, 10 % within 3–6
//! and 5 % after 200–365 days. Decisions come 5–30 days later (pending when that would pass
//! 2020-12-31); 1 % of applicants apply a second time 60–240 days later.
//!
//! Every date lies between the person's birth and 2020-12-31, nothing starts after a death, ends
//! are never before starts. Measured shares are in the tests (`tests/generate.rs`).
//!
//! ## Streaming and determinism
//!
//! One ChaCha8 stream seeded from `--seed` is consumed elder by elder, in index order, and each
//! elder's rows go straight to the seven open CSV writers: memory does not grow with N.
//!
//! ## Unique ID numbers without a set
//!
//! Elder `i` gets sequence `i % 1000` and block `b = i / 1000`. Block `b` uses region
//! `ID_REGIONS[b % 6]` and the birth days whose day number (counted from the earliest birth day)
//! is `≡ b / 6` modulo `C = ⌈blocks / 6⌉`: the birth day is drawn from the age distribution, then
//! moved to the day of that class in its window of `C` days (at most `C − 1` days away; `C` is 52
//! days for Xicheng's 310,000, 4 for 20,000, 1 up to 6,000). Two elders of one block differ in
//! sequence; of two blocks, in region or in birth day. The scheme holds up to about 100 million
//! elders (6 regions × 16,800 birth days × 1000 sequences) and refuses more.
//!
//! ## Malformed rows
//!
//! `malformed` rows are appended after all good rows (so the good rows are the same as without
//! them), cycling through ten defects (INTERFACE.md's list of rejections: bad checksum, birth date
//! not that of the ID, nonexistent date, future date, end before start, unknown code, street
//! outside the district, unknown person, duplicate key, empty required value) and spreading each
//! over the files it can appear in. Each has exactly one defect: rows of `elders.csv` describe new persons (region
//! `110111`, absent from the good rows); rows of other files describe persons who have no other
//! rows, each used once while there are enough, so that no key collides by accident.

use crate::codes::{AccountType, Allowance, AssessmentResult, Category, Decision};
use crate::codes::{ExclusionKind, HouseholdStatus, SuspensionReason};
use crate::idcard;
use anyhow::{bail, ensure, Context};
use chrono::{Datelike, Days, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Options of `subsidy generate`.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Number of distinct elders (persons aged 60+ in 2020-01) in `elders.csv`.
    pub elders: u64,
    /// Seed of the random stream: the same seed gives byte-identical files.
    pub seed: u64,
    /// Number of malformed rows to add across files.
    pub malformed: u64,
    /// District of registration of every elder (6 digits), default 110102 (Xicheng).
    pub district: String,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { elders: 1000, seed: 1, malformed: 0, district: XICHENG.to_string() }
    }
}

/// What was written: rows per file name (good and malformed, header excluded, all seven files),
/// and malformed rows per file (all seven files, zero included).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GenerateSummary {
    /// Data rows written per file name.
    pub files: BTreeMap<String, u64>,
    /// Of those, malformed rows per file name.
    pub malformed: BTreeMap<String, u64>,
}

/// Write the synthetic registry of `opts` into the directory `out` (created if missing).
pub fn generate(opts: &GenerateOptions, out: &Path) -> anyhow::Result<GenerateSummary> {
    check_options(opts)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let layout = IdLayout::new(opts.elders)?;
    let places = Places::new(&opts.district);
    let mut files = Files::create(out)?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut subjects = Subjects::new(opts.malformed);
    for index in 0..opts.elders {
        let person = draw_person(&mut rng, &layout, &places, index);
        let before = files.rows_outside_elders();
        write_person(&mut rng, &mut files, &places, &person)?;
        let alone = files.rows_outside_elders() == before;
        subjects.offer(&person.id, alone);
    }
    for m in 0..opts.malformed {
        write_malformed(&mut files, &places, &subjects, m)?;
    }
    files.finish()
}

fn check_options(opts: &GenerateOptions) -> anyhow::Result<()> {
    ensure!(
        opts.district.len() == 6 && opts.district.bytes().all(|b| b.is_ascii_digit()),
        "a district code is 6 digits, not `{}`",
        opts.district
    );
    // A duplicate key needs an earlier row to repeat.
    ensure!(opts.malformed == 0 || opts.elders > 0, "malformed rows need at least one elder");
    ensure!(opts.malformed <= MAX_MALFORMED, "at most {MAX_MALFORMED} malformed rows");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shares: every probability is an integer number of 1/100,000, drawn with integer arithmetic.

/// A share of a population in units of 1/100,000 (so 4.5 % is `Share(4_500)`).
#[derive(Clone, Copy, Debug)]
struct Share(u32);

impl Share {
    /// Whether this draw falls inside the share.
    fn hit(self, rng: &mut ChaCha8Rng) -> bool {
        rng.gen_range(0..100_000) < self.0
    }
}

/// Age bands in 2020-01 (first age, last age, share per 100,000): 25.35 % aged 80+ so that about
/// 23.5 % are paid in a month as in Xicheng (73,000 of 310,000), 3.75 % 90+ and centenarians a
/// handful (0.05 %).
const AGE_BANDS: [(i32, i32, u32); 5] =
    [(60, 69, 46_000), (70, 79, 28_650), (80, 89, 21_600), (90, 99, 3_700), (100, 105, 50)];

/// Deaths in 2020 by age in 2020-01: averages about 4 % of the 80+ and 1 % of the younger.
const DEATH_60_79: Share = Share(1_000);
const DEATH_80_89: Share = Share(3_000);
const DEATH_90_PLUS: Share = Share(10_000);

/// Registration moved into the district in 2019–2020 (T3, from the month after).
const MOVED_IN: Share = Share(300);
/// Registration moves out of the district in 2020 (T3, through the month of the move).
const MOVES_OUT: Share = Share(300);
/// Of the moves, those within Beijing (the other district then has a row too).
const MOVE_WITHIN_BEIJING: Share = Share(50_000);
/// Persons without an account number: their payments are held (L3).
const NO_ACCOUNT: Share = Share(1_000);
/// Account kinds (most elders use the 养老助残卡).
const ACCOUNT_TYPES: [(AccountType, u32); 6] = [
    (AccountType::YanglaoZhucan, 70),
    (AccountType::Shebao, 12),
    (AccountType::Minzheng, 8),
    (AccountType::Canji, 5),
    (AccountType::TeshuJiating, 3),
    (AccountType::Junren, 2),
];

/// Outcome of a longevity application of those aged 80 by 2020-12-31 (95 % approved, so that
/// about 73,000 of 310,000 are paid).
const LONGEVITY_DECISIONS: [(Option<Decision>, u32); 4] = [
    (Some(Decision::Approved), 95_000),
    (Some(Decision::Rejected), 2_000),
    (Some(Decision::Pending), 1_500),
    (None, 1_500),
];
/// When applications come relative to eligibility (T5's back pay and its six-month limit).
const TIMINGS: [(Timing, u32); 3] = [(Timing::Prompt, 85), (Timing::WithinSixMonths, 10), (Timing::Late, 5)];
/// Applicants who apply a second time for the same allowance (T5: the earliest start wins).
const REAPPLY: Share = Share(1_000);

/// Holders of a disability certificate; with the grade mix below about 73 % of them qualify, and
/// with the assessments below about 4.8 % of all elders are paid care in a month.
const CERTIFICATE: Share = Share(5_500);
/// Certificates listing two categories (多重残疾, `multiple` = true).
const TWO_CATEGORIES: Share = Share(15_000);
const CERTIFICATE_REVOKED: Share = Share(4_000);
const CERTIFICATE_REPLACED: Share = Share(6_000);
/// Categories of elderly certificate holders (limb and the senses dominate).
const CATEGORIES: [(Category, u32); 6] = [
    (Category::Limb, 40),
    (Category::Hearing, 22),
    (Category::Visual, 18),
    (Category::Mental, 11),
    (Category::Intellectual, 6),
    (Category::Speech, 3),
];
/// Grades 1 (gravest) to 4: graver than the whole disabled population, as elders apply.
const GRADES: [(u8, u32); 4] = [(1, 30), (2, 40), (3, 18), (4, 12)];
/// Ability assessments, more frequent with age (about 3 % overall).
const ASSESSED_60_79: Share = Share(2_000);
const ASSESSED_80_89: Share = Share(6_000);
const ASSESSED_90_PLUS: Share = Share(12_000);
const REASSESSED: Share = Share(10_000);
/// Assessment results: those assessed mostly asked because they need care.
const RESULTS: [(AssessmentResult, u32); 4] = [
    (AssessmentResult::Severe, 70),
    (AssessmentResult::Moderate, 15),
    (AssessmentResult::Mild, 8),
    (AssessmentResult::Able, 7),
];
/// Care applications: approved for most qualifying certificate holders; for the severely
/// assessed the assessment already counts (T5), half apply anyway.
const CARE_APPROVED_CERTIFICATE: Share = Share(92_000);
const CARE_APPROVED_ASSESSED: Share = Share(50_000);
const CARE_REJECTED_NOT_QUALIFYING: Share = Share(10_000);

/// Household status holders (R6).
const HOUSEHOLD: Share = Share(3_000);
const STATUSES: [(HouseholdStatus, u32); 3] =
    [(HouseholdStatus::Dibao, 35), (HouseholdStatus::LowIncome, 25), (HouseholdStatus::SpecialFamily, 40)];
const STATUS_ENDS: Share = Share(12_000);
const SECOND_STATUS: Share = Share(8_000);
const HARDSHIP_APPROVED: Share = Share(90_000);
const HARDSHIP_REJECTED: Share = Share(3_000);

/// Exclusions (R8): mostly disabled persons choosing the disabled-person subsidy, so they are
/// concentrated among those who qualify for care (about 0.5 % overall).
const EXCLUDED_CARE: Share = Share(6_000);
const EXCLUDED_OTHERS: Share = Share(250);
const EXCLUSIONS_CARE: [(ExclusionKind, u32); 6] = [
    (ExclusionKind::DisabledPersonSubsidy, 60),
    (ExclusionKind::Tekun, 10),
    (ExclusionKind::WorkInjuryCare, 8),
    (ExclusionKind::HeroicInjuryCare, 4),
    (ExclusionKind::ZhiqingInjuryCare, 8),
    (ExclusionKind::InstitutionSubsidy, 10),
];
const EXCLUSIONS_OTHERS: [(ExclusionKind, u32); 6] = [
    (ExclusionKind::DisabledPersonSubsidy, 20),
    (ExclusionKind::Tekun, 25),
    (ExclusionKind::WorkInjuryCare, 15),
    (ExclusionKind::HeroicInjuryCare, 5),
    (ExclusionKind::ZhiqingInjuryCare, 15),
    (ExclusionKind::InstitutionSubsidy, 20),
];
const EXCLUSION_ENDS: Share = Share(20_000);

/// Suspensions (T4).
const SUSPENDED: Share = Share(200);
const SUSPENSION_REASONS: [(SuspensionReason, u32); 3] =
    [(SuspensionReason::ReviewFailed, 55), (SuspensionReason::Missing, 30), (SuspensionReason::Imprisonment, 15)];
const SUSPENSION_ENDS: Share = Share(70_000);

// ---------------------------------------------------------------------------------------------
// Dates.

/// A date known at compile time.
const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(day) => day,
        None => panic!("not a date"),
    }
}

/// The last day of the synthetic year: nothing happens after it.
const LAST_DAY: NaiveDate = date(2020, 12, 31);
/// The first day of the synthetic year (deaths, moves out).
const YEAR_START: NaiveDate = date(2020, 1, 1);
/// The policy's start (T5: no month before it counts).
const POLICY_START: NaiveDate = date(2019, 10, 1);
/// Applications of those eligible before the policy came in the months before it.
const PRE_POLICY_FROM: NaiveDate = date(2019, 1, 1);
/// The last application day still back-paid to 2019-10 (T5: at most 6 months before).
const BACK_PAY_UNTIL: NaiveDate = date(2020, 4, 30);
/// Earliest moves in, certificates, statuses, assessments, exclusions.
const MOVES_IN_FROM: NaiveDate = date(2019, 1, 1);
const CERTIFICATES_FROM: NaiveDate = date(1995, 1, 1);
const STATUSES_FROM: NaiveDate = date(2005, 1, 1);
const ASSESSMENTS_FROM: NaiveDate = date(2018, 1, 1);
const EXCLUSIONS_FROM: NaiveDate = date(2010, 1, 1);

/// The earliest birth day: aged 105 in 2020-01 (R3: born 1914-02 .. 1915-01).
const EARLIEST_BIRTH: NaiveDate = date(1914, 2, 1);
/// The latest birth day: aged 60 in 2020-01.
const LATEST_BIRTH: NaiveDate = date(1960, 1, 31);

/// A day drawn uniformly from `lo..=hi`; none when the range is empty.
fn day_in(rng: &mut ChaCha8Rng, lo: NaiveDate, hi: NaiveDate) -> Option<NaiveDate> {
    if lo > hi {
        return None;
    }
    let span = (hi - lo).num_days() as u64;
    Some(lo + Days::new(rng.gen_range(0..=span)))
}

fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day + Days::new(days)
}

fn minus(day: NaiveDate, days: u64) -> NaiveDate {
    day - Days::new(days)
}

fn text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.to_string()).unwrap_or_default()
}

/// Age in 2020-01 as R3 reads it: the age whose birthday month is at or before 2020-01.
fn age_in_2020_01(birth: NaiveDate) -> i32 {
    2020 - birth.year() - i32::from(birth.month() > 1)
}

/// First and last birth day of those aged `age` in 2020-01.
fn birth_window(age: i32) -> (NaiveDate, NaiveDate) {
    (date(2019 - age, 2, 1), date(2020 - age, 1, 31))
}

/// Pick from `(item, weight)` pairs.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for &(item, weight) in items {
        if roll < weight {
            return item;
        }
        roll -= weight;
    }
    unreachable!("roll below total")
}

// ---------------------------------------------------------------------------------------------
// Places, names and ID numbers.

/// Xicheng, the default district.
const XICHENG: &str = "110102";
/// Xicheng's 15 streets (POLICY.md, Identity).
const XICHENG_STREETS: [&str; 15] =
    ["001", "003", "007", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020"];
/// Dongcheng, the other end of moves within Beijing (17 streets, 001–017).
const DONGCHENG: &str = "110101";
/// Streets assumed for a district whose list the generator does not know.
const GENERIC_STREETS: u32 = 10;

/// Regions of first issue of the IDs (Xicheng, former Xuanwu, Dongcheng, former Chongwen,
/// Chaoyang, Haidian): where IDs were issued, not where people are registered now.
const ID_REGIONS: [&str; 6] = ["110102", "110104", "110101", "110103", "110105", "110108"];
/// Region of the new persons of malformed `elders.csv` rows and of unknown persons: never one of
/// [`ID_REGIONS`], so never the ID of a good row.
const FRESH_REGION: &str = "110111";
/// Caps the malformed rows so that their fresh IDs keep real birth days (1950 + m / 1000 days).
const MAX_MALFORMED: u64 = 1_000_000;

const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "赵", "杨", "陈", "高", "孙", "马", "郭", "徐", "周", "吴", "何", "朱", "胡", "董", "田",
    "宋", "韩", "于", "曹", "石", "金", "白", "贾", "冯", "郑", "梁", "崔", "常", "齐", "肖", "孟", "侯", "杜", "邢",
    "魏", "程",
];
const GIVEN_MALE: [&str; 24] = [
    "国", "建", "志", "明", "文", "德", "福", "振", "树", "宝", "永", "长", "春", "海", "庆", "广", "立", "华", "军",
    "成", "忠", "山", "林", "顺",
];
const GIVEN_FEMALE: [&str; 24] = [
    "秀", "淑", "玉", "桂", "兰", "英", "珍", "凤", "芳", "华", "琴", "荣", "云", "霞", "敏", "丽", "素", "翠", "梅",
    "静", "娟", "燕", "萍", "洁",
];

/// The home district (where every elder is registered), the other one (moves within Beijing)
/// and their streets.
struct Places {
    home: String,
    home_streets: Vec<String>,
    other: String,
    other_streets: Vec<String>,
}

impl Places {
    fn new(home: &str) -> Self {
        let other = if home == DONGCHENG { XICHENG } else { DONGCHENG };
        Places {
            home: home.to_string(),
            home_streets: streets_of(home),
            other: other.to_string(),
            other_streets: streets_of(other),
        }
    }

    /// A street code of some district other than home and other (malformed rows).
    fn foreign_street(&self) -> String {
        ["110105001", "110106001", "110107001"]
            .into_iter()
            .find(|s| !s.starts_with(&self.home) && !s.starts_with(&self.other))
            .expect("three candidates, two excluded at most")
            .to_string()
    }
}

fn streets_of(district: &str) -> Vec<String> {
    match district {
        XICHENG => XICHENG_STREETS.iter().map(|s| format!("{district}{s}")).collect(),
        DONGCHENG => (1..=17).map(|s| format!("{district}{s:03}")).collect(),
        _ => (1..=GENERIC_STREETS).map(|s| format!("{district}{s:03}")).collect(),
    }
}

/// The collision-free ID scheme of the module documentation.
struct IdLayout {
    /// `C`: birth-day classes per region.
    classes: u64,
    /// Number of possible birth days.
    span: u64,
}

impl IdLayout {
    fn new(elders: u64) -> anyhow::Result<Self> {
        let span = (LATEST_BIRTH - EARLIEST_BIRTH).num_days() as u64 + 1;
        let blocks = elders.div_ceil(1000).max(1);
        let classes = blocks.div_ceil(ID_REGIONS.len() as u64);
        if classes > span {
            bail!("at most {} elders", span * ID_REGIONS.len() as u64 * 1000);
        }
        Ok(IdLayout { classes, span })
    }

    /// The ID and birth date of elder `index`, born near day `target` (days after the earliest).
    fn id(&self, index: u64, target: u64) -> (String, NaiveDate) {
        let block = index / 1000;
        let region = ID_REGIONS[(block % ID_REGIONS.len() as u64) as usize];
        let class = block / ID_REGIONS.len() as u64;
        let mut day = target - target % self.classes + class;
        if day >= self.span {
            day -= self.classes;
        }
        let birth = plus(EARLIEST_BIRTH, day);
        (idcard::make(region, birth, (index % 1000) as u32), birth)
    }
}

/// A birth day drawn from the age distribution, as days after [`EARLIEST_BIRTH`].
fn draw_birth_day(rng: &mut ChaCha8Rng) -> u64 {
    let (first, last) = pick_band(rng);
    // Inside a band the weight falls linearly with age, from 2 to about 1.
    let len = last - first + 1;
    let weights: Vec<(i32, u32)> = (0..len).map(|k| (k, (2 * len - k) as u32)).collect();
    let age = first + pick(rng, &weights);
    let (lo, hi) = birth_window(age);
    let birth = day_in(rng, lo, hi).expect("a window is never empty");
    (birth - EARLIEST_BIRTH).num_days() as u64
}

fn pick_band(rng: &mut ChaCha8Rng) -> (i32, i32) {
    let bands: Vec<((i32, i32), u32)> = AGE_BANDS.iter().map(|&(a, b, w)| ((a, b), w)).collect();
    pick(rng, &bands)
}

fn draw_name(rng: &mut ChaCha8Rng, male: bool) -> String {
    let given: &[&str] = if male { &GIVEN_MALE } else { &GIVEN_FEMALE };
    let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let first = given[rng.gen_range(0..given.len())];
    let second = given[rng.gen_range(0..given.len())];
    format!("{surname}{first}{second}")
}

// ---------------------------------------------------------------------------------------------
// Persons and their registration rows.

/// One elder as drawn: identity, registration in the home district, life and account.
struct Person {
    id: String,
    name: String,
    birth: NaiveDate,
    age: i32,
    street: String,
    hukou_in: Option<NaiveDate>,
    hukou_out: Option<NaiveDate>,
    death: Option<NaiveDate>,
    account_type: AccountType,
    account_no: String,
    /// The row in the other district of a move within Beijing: its street, in and out dates.
    counterpart: Option<(String, Option<NaiveDate>, Option<NaiveDate>)>,
}

impl Person {
    /// The last day anything can happen to the person in the data.
    fn last_day(&self) -> NaiveDate {
        self.death.unwrap_or(LAST_DAY).min(LAST_DAY)
    }

    /// The first day an application to the home district makes sense (after moving in).
    fn applies_from(&self, day: NaiveDate) -> NaiveDate {
        self.hukou_in.map_or(day, |d| d.max(day))
    }
}

fn draw_person(rng: &mut ChaCha8Rng, layout: &IdLayout, places: &Places, index: u64) -> Person {
    let target = draw_birth_day(rng);
    let (id, birth) = layout.id(index, target);
    // GB 11643: an odd sequence is a man.
    let name = draw_name(rng, index % 2 == 1);
    let street = places.home_streets[rng.gen_range(0..places.home_streets.len())].clone();
    let other_street = places.other_streets[rng.gen_range(0..places.other_streets.len())].clone();
    let age = age_in_2020_01(birth);
    let mut person = Person {
        id,
        name,
        birth,
        age,
        street,
        hukou_in: None,
        hukou_out: None,
        death: None,
        account_type: pick(rng, &ACCOUNT_TYPES),
        account_no: draw_account_no(rng),
        counterpart: None,
    };
    draw_moves(rng, &mut person, other_street);
    draw_death(rng, &mut person);
    person
}

fn draw_account_no(rng: &mut ChaCha8Rng) -> String {
    if NO_ACCOUNT.hit(rng) {
        return String::new();
    }
    format!("6217{:015}", rng.gen_range(0..1_000_000_000_000_000u64))
}

/// Moves in and out are exclusive: one roll decides.
fn draw_moves(rng: &mut ChaCha8Rng, p: &mut Person, other_street: String) {
    let roll = rng.gen_range(0..100_000);
    if roll < MOVED_IN.0 {
        let day = day_in(rng, MOVES_IN_FROM, LAST_DAY).expect("non-empty");
        p.hukou_in = Some(day);
        if MOVE_WITHIN_BEIJING.hit(rng) {
            p.counterpart = Some((other_street, None, Some(day)));
        }
    } else if roll < MOVED_IN.0 + MOVES_OUT.0 {
        let day = day_in(rng, YEAR_START, LAST_DAY).expect("non-empty");
        p.hukou_out = Some(day);
        if MOVE_WITHIN_BEIJING.hit(rng) {
            p.counterpart = Some((other_street, Some(day), None));
        }
    }
}

fn draw_death(rng: &mut ChaCha8Rng, p: &mut Person) {
    let share = match p.age {
        ..80 => DEATH_60_79,
        80..90 => DEATH_80_89,
        _ => DEATH_90_PLUS,
    };
    // Those moving out are kept alive, so the other district's row needs no death date.
    if p.hukou_out.is_none() && share.hit(rng) {
        p.death = day_in(rng, p.applies_from(YEAR_START), LAST_DAY);
    }
}

fn write_person(rng: &mut ChaCha8Rng, files: &mut Files, places: &Places, p: &Person) -> anyhow::Result<()> {
    write_registrations(files, places, p)?;
    write_longevity(rng, files, p)?;
    let care = write_care(rng, files, p)?;
    write_hardship(rng, files, p)?;
    write_exclusion(rng, files, p, care)?;
    write_suspension(rng, files, p)
}

fn write_registrations(files: &mut Files, places: &Places, p: &Person) -> anyhow::Result<()> {
    let row = elders_row(p, &places.home, &p.street, p.hukou_in, p.hukou_out, p.death);
    files.write(RegistryFile::Elders, row)?;
    if let Some((street, hukou_in, hukou_out)) = &p.counterpart {
        let row = elders_row(p, &places.other, street, *hukou_in, *hukou_out, None);
        files.write(RegistryFile::Elders, row)?;
    }
    Ok(())
}

fn elders_row(
    p: &Person,
    district: &str,
    street: &str,
    hukou_in: Option<NaiveDate>,
    hukou_out: Option<NaiveDate>,
    death: Option<NaiveDate>,
) -> Vec<String> {
    vec![
        p.id.clone(),
        p.name.clone(),
        p.birth.to_string(),
        district.to_string(),
        street.to_string(),
        text(hukou_in),
        text(hukou_out),
        text(death),
        p.account_type.to_string(),
        p.account_no.clone(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Applications.

/// How long after becoming eligible a person applies.
#[derive(Clone, Copy, Debug)]
enum Timing {
    /// Before the policy's start when already eligible, else within 3 months.
    Prompt,
    /// Within T5's six months of back pay.
    WithinSixMonths,
    /// Beyond them: payment starts at the application's month.
    Late,
}

/// When a person eligible from `eligible` applies; none when that would be after the data ends.
fn applied_on(rng: &mut ChaCha8Rng, p: &Person, eligible: NaiveDate) -> Option<NaiveDate> {
    let timing = pick(rng, &TIMINGS);
    let (lo, hi) = if eligible < POLICY_START {
        match timing {
            Timing::Prompt => (eligible.max(PRE_POLICY_FROM), minus(POLICY_START, 1)),
            Timing::WithinSixMonths => (POLICY_START, BACK_PAY_UNTIL),
            Timing::Late => (plus(BACK_PAY_UNTIL, 1), LAST_DAY),
        }
    } else {
        match timing {
            Timing::Prompt => (eligible, plus(eligible, 91)),
            Timing::WithinSixMonths => (plus(eligible, 92), plus(eligible, 182)),
            Timing::Late => (plus(eligible, 200), plus(eligible, 365)),
        }
    };
    day_in(rng, p.applies_from(lo), hi.min(p.last_day()))
}

/// Write an application decided 5–30 days after it was made (pending if that passes the year),
/// and, for some approved ones, a second application of the same allowance.
fn write_application(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    allowance: Allowance,
    applied: NaiveDate,
    decision: Decision,
) -> anyhow::Result<()> {
    write_decided(rng, files, p, allowance, applied, decision)?;
    if decision == Decision::Approved && REAPPLY.hit(rng) {
        let again = day_in(rng, plus(applied, 60), plus(applied, 240).min(p.last_day()));
        if let Some(again) = again {
            write_decided(rng, files, p, allowance, again, Decision::Approved)?;
        }
    }
    Ok(())
}

fn write_decided(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    allowance: Allowance,
    applied: NaiveDate,
    decision: Decision,
) -> anyhow::Result<()> {
    let decided = match decision {
        Decision::Pending => None,
        _ => Some(plus(applied, rng.gen_range(5..=30))).filter(|d| *d <= LAST_DAY),
    };
    let decision = if decided.is_some() { decision } else { Decision::Pending };
    let row = vec![p.id.clone(), allowance.to_string(), applied.to_string(), decision.to_string(), text(decided)];
    files.write(RegistryFile::Applications, row)
}

fn write_longevity(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<()> {
    let turns_80 = p.birth + Months::new(80 * 12);
    if turns_80 > p.last_day() {
        return Ok(());
    }
    let Some(decision) = pick(rng, &LONGEVITY_DECISIONS) else {
        return Ok(());
    };
    match applied_on(rng, p, turns_80) {
        Some(applied) => write_application(rng, files, p, Allowance::Longevity, applied, decision),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Care: certificates, assessments, applications.

/// A disability certificate: its category lines, whether multiple, when issued.
struct Certificate {
    lines: Vec<(Category, u8)>,
    multiple: bool,
    issued: NaiveDate,
}

/// Care tiers of R4 as letters, best first.
fn certificate_tier(cert: &Certificate) -> Option<char> {
    cert.lines.iter().filter_map(|&(category, grade)| line_tier(category, grade, cert.multiple)).min()
}

fn line_tier(category: Category, grade: u8, multiple: bool) -> Option<char> {
    use Category::*;
    match (category, grade) {
        (Visual | Limb | Intellectual | Mental, 1) => Some('A'),
        (Intellectual | Mental, 2) if multiple => Some('A'),
        (Visual | Limb | Intellectual | Mental, 2) | (Intellectual | Mental, 3) => Some('B'),
        (Hearing | Speech, 1 | 2) => Some('C'),
        _ => None,
    }
}

fn draw_certificate(rng: &mut ChaCha8Rng, issued: NaiveDate) -> Certificate {
    let first = pick(rng, &CATEGORIES);
    let mut lines = vec![(first, pick(rng, &GRADES))];
    if TWO_CATEGORIES.hit(rng) {
        // Keys hold the category: the second line must differ from the first.
        let others: Vec<(Category, u32)> = CATEGORIES.iter().copied().filter(|c| c.0 != first).collect();
        lines.push((pick(rng, &others), pick(rng, &GRADES)));
    }
    let multiple = lines.len() > 1;
    Certificate { lines, multiple, issued }
}

/// What a person's certificates amount to for the care application.
struct Certified {
    /// Issue date of the first certificate qualifying for a tier.
    qualifying: Option<NaiveDate>,
    /// Issue date of the first certificate.
    issued: NaiveDate,
}

fn write_certificates(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<Option<Certified>> {
    if !CERTIFICATE.hit(rng) {
        return Ok(None);
    }
    // Most were issued long ago; 15 % during the policy's time.
    let issued = if rng.gen_range(0..100) < 85 {
        day_in(rng, CERTIFICATES_FROM, minus(POLICY_START, 1).min(p.last_day()))
    } else {
        day_in(rng, POLICY_START, p.last_day())
    };
    let Some(issued) = issued else {
        return Ok(None);
    };
    let cert = draw_certificate(rng, issued);
    let mut qualifying = certificate_tier(&cert).map(|_| issued);
    let roll = rng.gen_range(0..100_000);
    if roll < CERTIFICATE_REVOKED.0 {
        let revoked = day_in(rng, plus(issued, 1).max(YEAR_START), LAST_DAY);
        write_certificate(files, p, &cert, revoked)?;
    } else if roll < CERTIFICATE_REVOKED.0 + CERTIFICATE_REPLACED.0 {
        write_certificate(files, p, &cert, None)?;
        let from = plus(issued, 30).max(YEAR_START);
        if let Some(later) = day_in(rng, from, p.last_day()) {
            let graver = graver_certificate(&cert, later);
            qualifying = qualifying.or(certificate_tier(&graver).map(|_| later));
            write_certificate(files, p, &graver, None)?;
        }
    } else {
        write_certificate(files, p, &cert, None)?;
    }
    Ok(Some(Certified { qualifying, issued }))
}

/// A later certificate of the same categories, one grade graver (disabilities worsen).
fn graver_certificate(cert: &Certificate, issued: NaiveDate) -> Certificate {
    Certificate {
        lines: cert.lines.iter().map(|&(c, g)| (c, g.saturating_sub(1).max(1))).collect(),
        multiple: cert.multiple,
        issued,
    }
}

fn write_certificate(
    files: &mut Files,
    p: &Person,
    cert: &Certificate,
    revoked: Option<NaiveDate>,
) -> anyhow::Result<()> {
    for &(category, grade) in &cert.lines {
        let row = vec![
            p.id.clone(),
            category.to_string(),
            grade.to_string(),
            cert.multiple.to_string(),
            cert.issued.to_string(),
            text(revoked),
        ];
        files.write(RegistryFile::DisabilityCerts, row)?;
    }
    Ok(())
}

/// Write the person's assessments; the date of the first severe one, if any.
fn write_assessments(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<Option<NaiveDate>> {
    let share = match p.age {
        ..80 => ASSESSED_60_79,
        80..90 => ASSESSED_80_89,
        _ => ASSESSED_90_PLUS,
    };
    if !share.hit(rng) {
        return Ok(None);
    }
    let Some(first) = day_in(rng, ASSESSMENTS_FROM, p.last_day()) else {
        return Ok(None);
    };
    let mut severe = write_assessment(rng, files, p, first)?;
    if REASSESSED.hit(rng) {
        if let Some(second) = day_in(rng, plus(first, 90), p.last_day()) {
            severe = severe.or(write_assessment(rng, files, p, second)?);
        }
    }
    Ok(severe)
}

fn write_assessment(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    day: NaiveDate,
) -> anyhow::Result<Option<NaiveDate>> {
    let result = pick(rng, &RESULTS);
    let row = vec![p.id.clone(), day.to_string(), result.to_string()];
    files.write(RegistryFile::Assessments, row)?;
    Ok((result == AssessmentResult::Severe).then_some(day))
}

/// Write certificates, assessments and care applications; whether the person qualifies for care.
fn write_care(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<bool> {
    let certified = write_certificates(rng, files, p)?;
    let severe = write_assessments(rng, files, p)?;
    let qualifying = certified.as_ref().and_then(|c| c.qualifying);
    if let Some(since) = qualifying {
        if CARE_APPROVED_CERTIFICATE.hit(rng) {
            if let Some(applied) = applied_on(rng, p, since) {
                write_application(rng, files, p, Allowance::Care, applied, Decision::Approved)?;
                return Ok(true);
            }
        }
    } else if let Some(c) = &certified {
        if CARE_REJECTED_NOT_QUALIFYING.hit(rng) {
            if let Some(applied) = applied_on(rng, p, c.issued) {
                write_decided(rng, files, p, Allowance::Care, applied, Decision::Rejected)?;
                // One care application at most besides re-applications: keys stay distinct, and
                // a severe assessment counts as an application anyway (T5).
                return Ok(severe.is_some());
            }
        }
    }
    if let Some(assessed) = severe {
        // They applied, then were assessed: the application comes up to 30 days before.
        if CARE_APPROVED_ASSESSED.hit(rng) {
            let lo = p.applies_from(minus(assessed, 30));
            if let Some(applied) = day_in(rng, lo, assessed) {
                write_application(rng, files, p, Allowance::Care, applied, Decision::Approved)?;
            }
        }
    }
    Ok(qualifying.is_some() || severe.is_some())
}

// ---------------------------------------------------------------------------------------------
// Hardship, exclusions, suspensions.

fn write_hardship(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<()> {
    if !HOUSEHOLD.hit(rng) {
        return Ok(());
    }
    let from = if rng.gen_range(0..100) < 85 {
        day_in(rng, STATUSES_FROM, minus(POLICY_START, 1).min(p.last_day()))
    } else {
        day_in(rng, POLICY_START, p.last_day())
    };
    let Some(from) = from else {
        return Ok(());
    };
    let status = pick(rng, &STATUSES);
    let to = if STATUS_ENDS.hit(rng) { day_in(rng, from.max(YEAR_START), LAST_DAY) } else { None };
    write_period(files, RegistryFile::HouseholdStatus, p, status, from, to)?;
    if SECOND_STATUS.hit(rng) {
        // Another status (the key holds it), starting later and still open.
        let others: Vec<(HouseholdStatus, u32)> = STATUSES.iter().copied().filter(|s| s.0 != status).collect();
        let next = pick(rng, &others);
        if let Some(later) = day_in(rng, plus(from, 30).max(YEAR_START), p.last_day()) {
            write_period(files, RegistryFile::HouseholdStatus, p, next, later, None)?;
        }
    }
    write_hardship_application(rng, files, p, from)
}

fn write_hardship_application(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    since: NaiveDate,
) -> anyhow::Result<()> {
    let roll = rng.gen_range(0..100_000);
    let decision = if roll < HARDSHIP_APPROVED.0 {
        Decision::Approved
    } else if roll < HARDSHIP_APPROVED.0 + HARDSHIP_REJECTED.0 {
        Decision::Rejected
    } else {
        return Ok(());
    };
    match applied_on(rng, p, since) {
        Some(applied) => write_application(rng, files, p, Allowance::Hardship, applied, decision),
        None => Ok(()),
    }
}

fn write_exclusion(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person, care: bool) -> anyhow::Result<()> {
    let (share, kinds) = if care { (EXCLUDED_CARE, &EXCLUSIONS_CARE) } else { (EXCLUDED_OTHERS, &EXCLUSIONS_OTHERS) };
    if !share.hit(rng) {
        return Ok(());
    }
    let kind = pick(rng, kinds);
    let Some(from) = day_in(rng, EXCLUSIONS_FROM, p.last_day()) else {
        return Ok(());
    };
    let to = if EXCLUSION_ENDS.hit(rng) { day_in(rng, from.max(POLICY_START), LAST_DAY) } else { None };
    write_period(files, RegistryFile::Exclusions, p, kind, from, to)
}

fn write_suspension(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<()> {
    if !SUSPENDED.hit(rng) {
        return Ok(());
    }
    let reason = pick(rng, &SUSPENSION_REASONS);
    let Some(from) = day_in(rng, POLICY_START, p.last_day()) else {
        return Ok(());
    };
    let to = if SUSPENSION_ENDS.hit(rng) {
        Some(plus(from, rng.gen_range(30..=180))).filter(|d| *d <= LAST_DAY)
    } else {
        None
    };
    write_period(files, RegistryFile::Suspensions, p, reason, from, to)
}

fn write_period(
    files: &mut Files,
    file: RegistryFile,
    p: &Person,
    kind: impl std::fmt::Display,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let row = vec![p.id.clone(), kind.to_string(), from.to_string(), text(to)];
    files.write(file, row)
}

// ---------------------------------------------------------------------------------------------
// The seven files.

/// The registry files of INTERFACE.md: the importer's own list, so that names and columns are
/// written exactly as they are read.
use crate::registry::rows::FileKind as RegistryFile;
use RegistryFile as F;

/// The seven open writers, with counts and each file's first row (repeated by a duplicate-key
/// malformed row).
struct Files {
    writers: Vec<csv::Writer<BufWriter<File>>>,
    rows: [u64; 7],
    malformed: [u64; 7],
    first: [Option<Vec<String>>; 7],
}

impl Files {
    fn create(dir: &Path) -> anyhow::Result<Self> {
        let mut writers = Vec::new();
        for file in RegistryFile::ALL {
            let path = dir.join(file.file_name());
            let handle = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            let mut writer = csv::Writer::from_writer(BufWriter::new(handle));
            writer.write_record(file.columns())?;
            writers.push(writer);
        }
        Ok(Files { writers, rows: [0; 7], malformed: [0; 7], first: Default::default() })
    }

    fn write(&mut self, file: RegistryFile, row: Vec<String>) -> anyhow::Result<()> {
        let i = file as usize;
        self.writers[i].write_record(&row)?;
        self.rows[i] += 1;
        if self.first[i].is_none() {
            self.first[i] = Some(row);
        }
        Ok(())
    }

    fn write_malformed(&mut self, file: RegistryFile, row: Vec<String>) -> anyhow::Result<()> {
        self.malformed[file as usize] += 1;
        self.write(file, row)
    }

    fn rows_outside_elders(&self) -> u64 {
        self.rows[1..].iter().sum()
    }

    fn finish(self) -> anyhow::Result<GenerateSummary> {
        let mut summary = GenerateSummary::default();
        for (file, mut writer) in RegistryFile::ALL.into_iter().zip(self.writers) {
            writer.flush()?;
            let i = file as usize;
            summary.files.insert(file.file_name().to_string(), self.rows[i]);
            summary.malformed.insert(file.file_name().to_string(), self.malformed[i]);
        }
        Ok(summary)
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed rows.

/// The defects of malformed rows, in the order they cycle (INTERFACE.md's list of rejections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defect {
    /// The ID's check character is wrong.
    BadChecksum,
    /// `birth_date` is a day after the date in the ID.
    BirthMismatch,
    /// A date that does not exist (2020-02-30 …).
    NonexistentDate,
    /// A date in the future (2099-01-01 …).
    FutureDate,
    /// An end before its start.
    EndBeforeStart,
    /// A code not in the lists (allowance `pension` …).
    UnknownCode,
    /// A street of another district.
    StreetOutside,
    /// A valid ID absent from `elders.csv`.
    UnknownPerson,
    /// The key of the file's first row again.
    DuplicateKey,
    /// A required value left empty (the name …).
    EmptyRequired,
}

const DEFECTS: [Defect; 10] = [
    Defect::BadChecksum,
    Defect::BirthMismatch,
    Defect::NonexistentDate,
    Defect::FutureDate,
    Defect::EndBeforeStart,
    Defect::UnknownCode,
    Defect::StreetOutside,
    Defect::UnknownPerson,
    Defect::DuplicateKey,
    Defect::EmptyRequired,
];

const NONEXISTENT_DATES: [&str; 6] =
    ["2020-02-30", "2020-02-31", "2020-04-31", "2020-06-31", "2020-09-31", "2019-02-29"];
const FUTURE_DATE: NaiveDate = date(2099, 1, 1);

impl Defect {
    /// The files a row with this defect can be written to.
    fn files(self) -> &'static [RegistryFile] {
        const ALL: &[RegistryFile] = &RegistryFile::ALL;
        const ELDERS: &[RegistryFile] = &[F::Elders];
        const WITH_END: &[RegistryFile] =
            &[F::Elders, F::Applications, F::DisabilityCerts, F::HouseholdStatus, F::Exclusions, F::Suspensions];
        match self {
            Defect::BirthMismatch | Defect::StreetOutside => ELDERS,
            Defect::EndBeforeStart => WITH_END,
            Defect::UnknownPerson => &ALL[1..],
            _ => ALL,
        }
    }
}

/// Persons with no rows outside `elders.csv`: the subjects of malformed rows of other files, so
/// that a malformed row's key cannot collide with a good row's.
struct Subjects {
    wanted: u64,
    ids: Vec<String>,
    /// Fallback when no such person exists (only with very few elders).
    first: Option<String>,
}

impl Subjects {
    fn new(wanted: u64) -> Self {
        Subjects { wanted, ids: Vec::new(), first: None }
    }

    fn offer(&mut self, id: &str, alone: bool) {
        if self.wanted == 0 {
            return;
        }
        if self.first.is_none() {
            self.first = Some(id.to_string());
        }
        if alone && (self.ids.len() as u64) < self.wanted {
            self.ids.push(id.to_string());
        }
    }

    /// Subject of malformed row `m` and its key date: distinct subjects while there are enough,
    /// then distinct dates.
    fn of(&self, m: u64) -> (String, NaiveDate) {
        if self.ids.is_empty() {
            let id = self.first.clone().expect("at least one elder");
            return (id, plus(date(2020, 3, 2), m % 280));
        }
        let n = self.ids.len() as u64;
        let id = self.ids[(m % n) as usize].clone();
        (id, plus(date(2020, 3, 2), (m / n) % 280))
    }
}

/// A valid ID that no good row uses: region [`FRESH_REGION`], one per malformed row.
fn fresh_id(m: u64) -> (String, NaiveDate) {
    let birth = plus(date(1950, 1, 1), m / 1000);
    (idcard::make(FRESH_REGION, birth, (m % 1000) as u32), birth)
}

/// The same ID with a wrong check character.
fn break_checksum(id: &str) -> String {
    let check = idcard::check_char(&id[..17]).expect("17 digits");
    let wrong = if check == '0' { '1' } else { '0' };
    format!("{}{wrong}", &id[..17])
}

/// Write malformed row `m`: defect `m % 10`, spread over the files that defect fits.
fn write_malformed(files: &mut Files, places: &Places, subjects: &Subjects, m: u64) -> anyhow::Result<()> {
    let defect = DEFECTS[(m % 10) as usize];
    let choices = defect.files();
    let start = ((m / 10 + m % 10) % choices.len() as u64) as usize;
    if defect == Defect::DuplicateKey {
        // The first file in turn that has a row to repeat (elders.csv always has).
        let (file, mut row) = (0..choices.len())
            .map(|k| choices[(start + k) % choices.len()])
            .find_map(|f| files.first[f as usize].clone().map(|row| (f, row)))
            .expect("elders.csv has a row");
        if file == F::Elders {
            // Same key, conflicting content.
            row[1] = "张某某".to_string();
        }
        return files.write_malformed(file, row);
    }
    let file = choices[start];
    let row = if file == F::Elders {
        malformed_elder(places, defect, m)
    } else {
        malformed_record(file, subjects, defect, m)
    };
    files.write_malformed(file, row)
}

/// An `elders.csv` row of a new person with one defect.
fn malformed_elder(places: &Places, defect: Defect, m: u64) -> Vec<String> {
    let (id, birth) = fresh_id(m);
    let mut row = vec![
        id,
        "王秀兰".to_string(),
        birth.to_string(),
        places.home.clone(),
        places.home_streets[0].clone(),
        String::new(),
        String::new(),
        String::new(),
        AccountType::YanglaoZhucan.to_string(),
        format!("6217{m:015}"),
    ];
    match defect {
        Defect::BadChecksum => row[0] = break_checksum(&row[0]),
        Defect::BirthMismatch => row[2] = plus(birth, 1).to_string(),
        Defect::NonexistentDate => row[7] = nonexistent_date(m),
        Defect::FutureDate => row[7] = future_date(m),
        Defect::EndBeforeStart => {
            row[5] = "2020-05-01".to_string();
            row[6] = "2020-03-01".to_string();
        }
        Defect::UnknownCode => row[8] = "bank".to_string(),
        Defect::StreetOutside => row[4] = places.foreign_street(),
        Defect::EmptyRequired => row[1] = String::new(),
        Defect::UnknownPerson | Defect::DuplicateKey => unreachable!("not for elders.csv"),
    }
    row
}

fn nonexistent_date(m: u64) -> String {
    NONEXISTENT_DATES[((m / 10) % NONEXISTENT_DATES.len() as u64) as usize].to_string()
}

fn future_date(m: u64) -> String {
    plus(FUTURE_DATE, (m / 10) % 365).to_string()
}

/// A row of another file about a person without other rows, with one defect.
fn malformed_record(file: RegistryFile, subjects: &Subjects, defect: Defect, m: u64) -> Vec<String> {
    let (subject, day) = subjects.of(m);
    let subject = if defect == Defect::UnknownPerson { fresh_id(m).0 } else { subject };
    let mut row = good_record(file, subject, day);
    // Column of the end date (the key date for assessments, which have no end), of the code,
    // and of a required non-key value.
    let (end, code, required) = match file {
        F::Applications => (4, 1, 3),
        F::Assessments => (1, 2, 2),
        F::DisabilityCerts => (5, 1, 2),
        _ => (3, 1, 1),
    };
    match defect {
        Defect::BadChecksum => row[0] = break_checksum(&row[0]),
        Defect::NonexistentDate => row[end] = nonexistent_date(m),
        Defect::FutureDate => row[end] = future_date(m),
        Defect::EndBeforeStart => row[end] = minus(day, 1).to_string(),
        Defect::UnknownCode => row[code] = unknown_code(file).to_string(),
        Defect::EmptyRequired => row[required] = String::new(),
        Defect::UnknownPerson => {}
        Defect::BirthMismatch | Defect::StreetOutside | Defect::DuplicateKey => {
            unreachable!("not for {}", file.file_name())
        }
    }
    row
}

/// A well-formed row of `file` for `id` whose key date is `day`.
fn good_record(file: RegistryFile, id: String, day: NaiveDate) -> Vec<String> {
    let later = |n| plus(day, n).to_string();
    let day = day.to_string();
    match file {
        F::Applications => vec![id, "hardship".into(), day, "rejected".into(), later(10)],
        F::Assessments => vec![id, day, "able".into()],
        F::DisabilityCerts => vec![id, "hearing".into(), "4".into(), "false".into(), day, String::new()],
        F::HouseholdStatus => vec![id, "special_family".into(), day, later(60)],
        F::Exclusions => vec![id, "institution_subsidy".into(), day, later(60)],
        F::Suspensions => vec![id, "review_failed".into(), day, later(30)],
        F::Elders => unreachable!("elders rows are built by malformed_elder"),
    }
}

fn unknown_code(file: RegistryFile) -> &'static str {
    match file {
        F::Elders => "bank",
        F::Applications => "pension",
        F::Assessments => "bedridden",
        F::DisabilityCerts => "cognitive",
        F::HouseholdStatus => "wubao",
        F::Exclusions => "pension_supplement",
        F::Suspensions => "travel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_add_up_to_everyone() {
        assert_eq!(AGE_BANDS.iter().map(|b| b.2).sum::<u32>(), 100_000);
        assert_eq!(birth_window(105).0, EARLIEST_BIRTH);
        assert_eq!(birth_window(60).1, LATEST_BIRTH);
        assert_eq!(age_in_2020_01(date(1940, 1, 31)), 80);
        assert_eq!(age_in_2020_01(date(1940, 2, 1)), 79);
    }

    #[test]
    fn certificate_tiers_follow_r4() {
        let cert = |lines: Vec<(Category, u8)>, multiple| Certificate { lines, multiple, issued: YEAR_START };
        assert_eq!(certificate_tier(&cert(vec![(Category::Limb, 1)], false)), Some('A'));
        assert_eq!(certificate_tier(&cert(vec![(Category::Mental, 2)], false)), Some('B'));
        let two = vec![(Category::Mental, 2), (Category::Hearing, 4)];
        assert_eq!(certificate_tier(&cert(two, true)), Some('A'));
        assert_eq!(certificate_tier(&cert(vec![(Category::Speech, 2)], false)), Some('C'));
        assert_eq!(certificate_tier(&cert(vec![(Category::Visual, 3)], false)), None);
    }

    #[test]
    fn ids_are_distinct_across_blocks() {
        // Same target day, same sequence, different blocks: the IDs must differ.
        let layout = IdLayout::new(100_000).unwrap();
        let ids: std::collections::HashSet<String> = (0..100).map(|b| layout.id(b * 1000 + 7, 5000).0).collect();
        assert_eq!(ids.len(), 100);
        let last = layout.id(99_999, layout.span - 1);
        assert!(last.1 <= LATEST_BIRTH);
    }

    #[test]
    fn broken_checksums_fail() {
        let (id, _) = fresh_id(3);
        assert!(idcard::validate(&id).is_ok());
        assert_eq!(idcard::validate(&break_checksum(&id)), Err(idcard::IdError::Checksum));
    }
}
