//! Persons: places, names, ID numbers, births, moves, deaths and accounts, and their rows of
//! `elders.csv`.

use super::*;

// ---------------------------------------------------------------------------------------------
// Places, names and ID numbers.

/// Xicheng, the default district.
pub(super) const XICHENG: &str = "110102";
/// Xicheng's 15 streets (POLICY.md, Identity).
pub(super) const XICHENG_STREETS: [&str; 15] =
    ["001", "003", "007", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020"];
/// Dongcheng, the other end of moves within Beijing (17 streets, 001–017).
pub(super) const DONGCHENG: &str = "110101";
/// Streets assumed for a district whose list the generator does not know.
pub(super) const GENERIC_STREETS: u32 = 10;

/// Regions of first issue of the IDs (Xicheng, former Xuanwu, Dongcheng, former Chongwen,
/// Chaoyang, Haidian): where IDs were issued, not where people are registered now.
pub(super) const ID_REGIONS: [&str; 6] = ["110102", "110104", "110101", "110103", "110105", "110108"];
/// Region of the new persons of malformed `elders.csv` rows and of unknown persons: never one of
/// [`ID_REGIONS`], so never the ID of a good row.
pub(super) const FRESH_REGION: &str = "110111";
/// Caps the malformed rows so that their fresh IDs keep real birth days (1950 + m / 1000 days).
pub(super) const MAX_MALFORMED: u64 = 1_000_000;

pub(super) const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "赵", "杨", "陈", "高", "孙", "马", "郭", "徐", "周", "吴", "何", "朱", "胡", "董", "田",
    "宋", "韩", "于", "曹", "石", "金", "白", "贾", "冯", "郑", "梁", "崔", "常", "齐", "肖", "孟", "侯", "杜", "邢",
    "魏", "程",
];
pub(super) const GIVEN_MALE: [&str; 24] = [
    "国", "建", "志", "明", "文", "德", "福", "振", "树", "宝", "永", "长", "春", "海", "庆", "广", "立", "华", "军",
    "成", "忠", "山", "林", "顺",
];
pub(super) const GIVEN_FEMALE: [&str; 24] = [
    "秀", "淑", "玉", "桂", "兰", "英", "珍", "凤", "芳", "华", "琴", "荣", "云", "霞", "敏", "丽", "素", "翠", "梅",
    "静", "娟", "燕", "萍", "洁",
];

/// The home district (where every elder is registered), the other one (moves within Beijing)
/// and their streets.
pub(super) struct Places {
    pub(super) home: String,
    pub(super) home_streets: Vec<String>,
    pub(super) other: String,
    pub(super) other_streets: Vec<String>,
}

impl Places {
    pub(super) fn new(home: &str) -> Self {
        let other = if home == DONGCHENG { XICHENG } else { DONGCHENG };
        Places {
            home: home.to_string(),
            home_streets: streets_of(home),
            other: other.to_string(),
            other_streets: streets_of(other),
        }
    }

    /// A street code of some district other than home and other (malformed rows).
    pub(super) fn foreign_street(&self) -> String {
        ["110105001", "110106001", "110107001"]
            .into_iter()
            .find(|s| !s.starts_with(&self.home) && !s.starts_with(&self.other))
            .expect("three candidates, two excluded at most")
            .to_string()
    }
}

pub(super) fn streets_of(district: &str) -> Vec<String> {
    match district {
        XICHENG => XICHENG_STREETS.iter().map(|s| format!("{district}{s}")).collect(),
        DONGCHENG => (1..=17).map(|s| format!("{district}{s:03}")).collect(),
        _ => (1..=GENERIC_STREETS).map(|s| format!("{district}{s:03}")).collect(),
    }
}

/// The collision-free ID scheme of the module documentation.
pub(super) struct IdLayout {
    /// `C`: birth-day classes per region.
    pub(super) classes: u64,
    /// Number of possible birth days.
    pub(super) span: u64,
}

impl IdLayout {
    pub(super) fn new(elders: u64) -> anyhow::Result<Self> {
        let span = (LATEST_BIRTH - EARLIEST_BIRTH).num_days() as u64 + 1;
        let blocks = elders.div_ceil(1000).max(1);
        let classes = blocks.div_ceil(ID_REGIONS.len() as u64);
        if classes > span {
            bail!("at most {} elders", span * ID_REGIONS.len() as u64 * 1000);
        }
        Ok(IdLayout { classes, span })
    }

    /// The ID and birth date of elder `index`, born near day `target` (days after the earliest).
    pub(super) fn id(&self, index: u64, target: u64) -> (String, NaiveDate) {
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
pub(super) fn draw_birth_day(rng: &mut ChaCha8Rng) -> u64 {
    let (first, last) = pick_band(rng);
    // Inside a band the weight falls linearly with age, from 2 to about 1.
    let len = last - first + 1;
    let weights: Vec<(i32, u32)> = (0..len).map(|k| (k, (2 * len - k) as u32)).collect();
    let age = first + pick(rng, &weights);
    let (lo, hi) = birth_window(age);
    let birth = day_in(rng, lo, hi).expect("a window is never empty");
    (birth - EARLIEST_BIRTH).num_days() as u64
}

pub(super) fn pick_band(rng: &mut ChaCha8Rng) -> (i32, i32) {
    let bands: Vec<((i32, i32), u32)> = AGE_BANDS.iter().map(|&(a, b, w)| ((a, b), w)).collect();
    pick(rng, &bands)
}

pub(super) fn draw_name(rng: &mut ChaCha8Rng, male: bool) -> String {
    let given: &[&str] = if male { &GIVEN_MALE } else { &GIVEN_FEMALE };
    let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let first = given[rng.gen_range(0..given.len())];
    let second = given[rng.gen_range(0..given.len())];
    format!("{surname}{first}{second}")
}

// ---------------------------------------------------------------------------------------------
// Persons and their registration rows.

/// One elder as drawn: identity, registration in the home district, life and account.
pub(super) struct Person {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) birth: NaiveDate,
    pub(super) age: i32,
    pub(super) street: String,
    pub(super) hukou_in: Option<NaiveDate>,
    pub(super) hukou_out: Option<NaiveDate>,
    pub(super) death: Option<NaiveDate>,
    pub(super) account_type: AccountType,
    pub(super) account_no: String,
    /// The row in the other district of a move within Beijing: its street, in and out dates.
    pub(super) counterpart: Option<(String, Option<NaiveDate>, Option<NaiveDate>)>,
}

impl Person {
    /// The last day anything can happen to the person in the data.
    pub(super) fn last_day(&self) -> NaiveDate {
        self.death.unwrap_or(LAST_DAY).min(LAST_DAY)
    }

    /// The first day an application to the home district makes sense (after moving in).
    pub(super) fn applies_from(&self, day: NaiveDate) -> NaiveDate {
        self.hukou_in.map_or(day, |d| d.max(day))
    }
}

pub(super) fn draw_person(rng: &mut ChaCha8Rng, layout: &IdLayout, places: &Places, index: u64) -> Person {
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

pub(super) fn draw_account_no(rng: &mut ChaCha8Rng) -> String {
    if NO_ACCOUNT.hit(rng) {
        return String::new();
    }
    format!("6217{:015}", rng.gen_range(0..1_000_000_000_000_000u64))
}

/// Moves in and out are exclusive: one roll decides.
pub(super) fn draw_moves(rng: &mut ChaCha8Rng, p: &mut Person, other_street: String) {
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

pub(super) fn draw_death(rng: &mut ChaCha8Rng, p: &mut Person) {
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

pub(super) fn write_person(rng: &mut ChaCha8Rng, files: &mut Files, places: &Places, p: &Person) -> anyhow::Result<()> {
    write_registrations(files, places, p)?;
    write_longevity(rng, files, p)?;
    let care = write_care(rng, files, p)?;
    write_hardship(rng, files, p)?;
    write_exclusion(rng, files, p, care)?;
    write_suspension(rng, files, p)
}

pub(super) fn write_registrations(files: &mut Files, places: &Places, p: &Person) -> anyhow::Result<()> {
    let row = elders_row(p, &places.home, &p.street, p.hukou_in, p.hukou_out, p.death);
    files.write(RegistryFile::Elders, row)?;
    if let Some((street, hukou_in, hukou_out)) = &p.counterpart {
        let row = elders_row(p, &places.other, street, *hukou_in, *hukou_out, None);
        files.write(RegistryFile::Elders, row)?;
    }
    Ok(())
}

pub(super) fn elders_row(
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
