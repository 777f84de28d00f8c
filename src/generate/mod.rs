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

mod malformed;
mod people;
mod records;
mod tables;

use malformed::*;
use people::*;
use records::*;
use tables::*;

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
