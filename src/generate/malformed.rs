//! Malformed rows: one of each defect INTERFACE.md lists, cycled, so that an import of the
//! generated registry exercises every rejection.

use super::*;

// ---------------------------------------------------------------------------------------------
// Malformed rows.

/// The defects of malformed rows, in the order they cycle (INTERFACE.md's list of rejections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Defect {
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

pub(super) const DEFECTS: [Defect; 10] = [
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

pub(super) const NONEXISTENT_DATES: [&str; 6] =
    ["2020-02-30", "2020-02-31", "2020-04-31", "2020-06-31", "2020-09-31", "2019-02-29"];
pub(super) const FUTURE_DATE: NaiveDate = date(2099, 1, 1);

impl Defect {
    /// The files a row with this defect can be written to.
    pub(super) fn files(self) -> &'static [RegistryFile] {
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
pub(super) struct Subjects {
    pub(super) wanted: u64,
    pub(super) ids: Vec<String>,
    /// Fallback when no such person exists (only with very few elders).
    pub(super) first: Option<String>,
}

impl Subjects {
    pub(super) fn new(wanted: u64) -> Self {
        Subjects { wanted, ids: Vec::new(), first: None }
    }

    pub(super) fn offer(&mut self, id: &str, alone: bool) {
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
    pub(super) fn of(&self, m: u64) -> (String, NaiveDate) {
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
pub(super) fn fresh_id(m: u64) -> (String, NaiveDate) {
    let birth = plus(date(1950, 1, 1), m / 1000);
    (idcard::make(FRESH_REGION, birth, (m % 1000) as u32), birth)
}

/// The same ID with a wrong check character.
pub(super) fn break_checksum(id: &str) -> String {
    let check = idcard::check_char(&id[..17]).expect("17 digits");
    let wrong = if check == '0' { '1' } else { '0' };
    format!("{}{wrong}", &id[..17])
}

/// Write malformed row `m`: defect `m % 10`, spread over the files that defect fits.
pub(super) fn write_malformed(files: &mut Files, places: &Places, subjects: &Subjects, m: u64) -> anyhow::Result<()> {
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
pub(super) fn malformed_elder(places: &Places, defect: Defect, m: u64) -> Vec<String> {
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

pub(super) fn nonexistent_date(m: u64) -> String {
    NONEXISTENT_DATES[((m / 10) % NONEXISTENT_DATES.len() as u64) as usize].to_string()
}

pub(super) fn future_date(m: u64) -> String {
    plus(FUTURE_DATE, (m / 10) % 365).to_string()
}

/// A row of another file about a person without other rows, with one defect.
pub(super) fn malformed_record(file: RegistryFile, subjects: &Subjects, defect: Defect, m: u64) -> Vec<String> {
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
pub(super) fn good_record(file: RegistryFile, id: String, day: NaiveDate) -> Vec<String> {
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

pub(super) fn unknown_code(file: RegistryFile) -> &'static str {
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
