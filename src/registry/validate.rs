//! Validation of registry rows (INTERFACE.md "Registry files"): pure functions from one CSV row
//! to a typed upsert or delete, or to a reject with a reason code. The database-dependent checks
//! (unknown person, duplicate key within a file) are the store's, in the same import transaction.

use super::{Application, Assessment, CertificateLine, Period, Registration};
use crate::codes::*;
use crate::idcard::{self, IdError};
use crate::policy::Policy;
use chrono::NaiveDate;
use csv::StringRecord;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// The seven registry files, in the order an import applies them (persons before their records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FileKind {
    /// `elders.csv`
    Elders,
    /// `applications.csv`
    Applications,
    /// `assessments.csv`
    Assessments,
    /// `disability_certs.csv`
    DisabilityCerts,
    /// `household_status.csv`
    HouseholdStatus,
    /// `exclusions.csv`
    Exclusions,
    /// `suspensions.csv`
    Suspensions,
}

impl FileKind {
    /// All files in import order.
    pub const ALL: [FileKind; 7] = [
        FileKind::Elders,
        FileKind::Applications,
        FileKind::Assessments,
        FileKind::DisabilityCerts,
        FileKind::HouseholdStatus,
        FileKind::Exclusions,
        FileKind::Suspensions,
    ];

    /// The file name.
    pub fn file_name(self) -> &'static str {
        match self {
            FileKind::Elders => "elders.csv",
            FileKind::Applications => "applications.csv",
            FileKind::Assessments => "assessments.csv",
            FileKind::DisabilityCerts => "disability_certs.csv",
            FileKind::HouseholdStatus => "household_status.csv",
            FileKind::Exclusions => "exclusions.csv",
            FileKind::Suspensions => "suspensions.csv",
        }
    }

    /// Whether the file is a dated period of one code (status, exclusion, suspension).
    pub fn is_period(self) -> bool {
        matches!(self, FileKind::HouseholdStatus | FileKind::Exclusions | FileKind::Suspensions)
    }

    /// The required columns (INTERFACE.md), in the documented order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            FileKind::Elders => &[
                "id_number",
                "name",
                "birth_date",
                "district_code",
                "street_code",
                "hukou_in_date",
                "hukou_out_date",
                "death_date",
                "account_type",
                "account_no",
            ],
            FileKind::Applications => &["id_number", "allowance", "applied_on", "decision", "decided_on"],
            FileKind::Assessments => &["id_number", "assessed_on", "result"],
            FileKind::DisabilityCerts => &["id_number", "category", "grade", "multiple", "issued_on", "revoked_on"],
            FileKind::HouseholdStatus => &["id_number", "status", "valid_from", "valid_to"],
            FileKind::Exclusions => &["id_number", "kind", "valid_from", "valid_to"],
            FileKind::Suspensions => &["id_number", "reason", "valid_from", "valid_to"],
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Why a row (or a whole file) was rejected. The code is what reports and `--json` carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectCode {
    /// The header lacks a required column: the whole file is rejected.
    MissingColumn,
    /// The header has a column the format does not know: the whole file is rejected.
    UnknownColumn,
    /// The header names a column twice: the whole file is rejected.
    DuplicateColumn,
    /// The file is not in the import's encoding (UTF-8 unless `--encoding gb18030`): the whole
    /// file is rejected, once, naming the encoding it looks like.
    BadEncoding,
    /// The row cannot be read as CSV or has the wrong number of fields.
    BadRow,
    /// A required value is empty.
    MissingValue,
    /// The ID number is not 17 digits and a digit or X.
    BadIdFormat,
    /// The ID number's check character is wrong (ISO 7064 MOD 11-2).
    BadIdChecksum,
    /// The birth date embedded in the ID number is not a real date.
    BadIdBirthDate,
    /// `birth_date` differs from the date embedded in the ID number.
    BirthDateMismatch,
    /// A date is not `YYYY-MM-DD` or does not exist.
    BadDate,
    /// A date lies in the future.
    FutureDate,
    /// An end date lies before its start (or a date before birth).
    EndBeforeStart,
    /// A value is not one of the known codes.
    UnknownCode,
    /// A value is not of the expected form (grade, flag).
    BadValue,
    /// The street code is not a street of the row's district.
    StreetOutsideDistrict,
    /// The record names a person the registry does not know.
    UnknownPerson,
    /// The key repeats an earlier row of the same file.
    DuplicateKey,
}

impl RejectCode {
    /// The code as printed (`BAD_ID_CHECKSUM`).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MissingColumn => "MISSING_COLUMN",
            RejectCode::UnknownColumn => "UNKNOWN_COLUMN",
            RejectCode::DuplicateColumn => "DUPLICATE_COLUMN",
            RejectCode::BadEncoding => "BAD_ENCODING",
            RejectCode::BadRow => "BAD_ROW",
            RejectCode::MissingValue => "MISSING_VALUE",
            RejectCode::BadIdFormat => "BAD_ID_FORMAT",
            RejectCode::BadIdChecksum => "BAD_ID_CHECKSUM",
            RejectCode::BadIdBirthDate => "BAD_ID_BIRTH_DATE",
            RejectCode::BirthDateMismatch => "BIRTH_DATE_MISMATCH",
            RejectCode::BadDate => "BAD_DATE",
            RejectCode::FutureDate => "FUTURE_DATE",
            RejectCode::EndBeforeStart => "END_BEFORE_START",
            RejectCode::UnknownCode => "UNKNOWN_CODE",
            RejectCode::BadValue => "BAD_VALUE",
            RejectCode::StreetOutsideDistrict => "STREET_OUTSIDE_DISTRICT",
            RejectCode::UnknownPerson => "UNKNOWN_PERSON",
            RejectCode::DuplicateKey => "DUPLICATE_KEY",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected row: code and a sentence naming the column and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Reason code.
    pub code: RejectCode,
    /// What is wrong, for the operator.
    pub detail: String,
}

fn err(code: RejectCode, detail: impl Into<String>) -> RowError {
    RowError { code, detail: detail.into() }
}

/// One registration row (`elders.csv`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ElderRow {
    /// ID number.
    pub id_number: String,
    /// Birth date (equal to the ID's).
    pub birth_date: NaiveDate,
    /// The registration in one district.
    pub registration: Registration,
}

/// A validated row to store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Row {
    /// `elders.csv`
    Elder(ElderRow),
    /// `applications.csv`
    Application(String, Application),
    /// `assessments.csv`
    Assessment(String, Assessment),
    /// `disability_certs.csv`
    Certificate(String, CertificateLine),
    /// `household_status.csv`
    Status(String, Period<HouseholdStatus>),
    /// `exclusions.csv`
    Exclusion(String, Period<ExclusionKind>),
    /// `suspensions.csv`
    Suspension(String, Period<SuspensionReason>),
}

impl Row {
    /// The row's key (INTERFACE.md).
    pub fn key(&self) -> RowKey {
        match self {
            Row::Elder(e) => RowKey::Elder(e.id_number.clone(), e.registration.district_code.clone()),
            Row::Application(id, a) => RowKey::Application(id.clone(), a.allowance, a.applied_on),
            Row::Assessment(id, a) => RowKey::Assessment(id.clone(), a.assessed_on),
            Row::Certificate(id, c) => RowKey::Certificate(id.clone(), c.category, c.issued_on),
            Row::Status(id, p) => RowKey::Status(id.clone(), p.kind, p.valid_from),
            Row::Exclusion(id, p) => RowKey::Exclusion(id.clone(), p.kind, p.valid_from),
            Row::Suspension(id, p) => RowKey::Suspension(id.clone(), p.kind, p.valid_from),
        }
    }

    /// The person the row describes.
    pub fn id_number(&self) -> &str {
        match self {
            Row::Elder(e) => &e.id_number,
            Row::Application(id, _)
            | Row::Assessment(id, _)
            | Row::Certificate(id, _)
            | Row::Status(id, _)
            | Row::Exclusion(id, _)
            | Row::Suspension(id, _) => id,
        }
    }
}

/// The key of a row of each file (INTERFACE.md), for `deleted` rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum RowKey {
    /// id_number, district_code
    Elder(String, String),
    /// id_number, allowance, applied_on
    Application(String, Allowance, NaiveDate),
    /// id_number, assessed_on
    Assessment(String, NaiveDate),
    /// id_number, category, issued_on
    Certificate(String, Category, NaiveDate),
    /// id_number, status, valid_from
    Status(String, HouseholdStatus, NaiveDate),
    /// id_number, kind, valid_from
    Exclusion(String, ExclusionKind, NaiveDate),
    /// id_number, reason, valid_from
    Suspension(String, SuspensionReason, NaiveDate),
}

impl RowKey {
    /// The key as text, columns joined by `|` (how registry versions are stored).
    pub fn text(&self) -> String {
        match self {
            RowKey::Elder(id, d) => format!("{id}|{d}"),
            RowKey::Application(id, a, on) => format!("{id}|{a}|{on}"),
            RowKey::Assessment(id, on) => format!("{id}|{on}"),
            RowKey::Certificate(id, c, on) => format!("{id}|{c}|{on}"),
            RowKey::Status(id, k, on) => format!("{id}|{k}|{on}"),
            RowKey::Exclusion(id, k, on) => format!("{id}|{k}|{on}"),
            RowKey::Suspension(id, k, on) => format!("{id}|{k}|{on}"),
        }
    }

    /// The person the key names.
    pub fn id_number(&self) -> &str {
        match self {
            RowKey::Elder(id, _)
            | RowKey::Application(id, ..)
            | RowKey::Assessment(id, _)
            | RowKey::Certificate(id, ..)
            | RowKey::Status(id, ..)
            | RowKey::Exclusion(id, ..)
            | RowKey::Suspension(id, ..) => id,
        }
    }
}

/// What a valid row asks the store to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOp {
    /// Insert, or update the row with the same key.
    Upsert(Row),
    /// `deleted` = `true`: remove the row with this key.
    Delete(RowKey),
}

/// A checked header: where each column is.
#[derive(Clone, Debug)]
pub struct Header {
    kind: FileKind,
    index: HashMap<&'static str, usize>,
    deleted: Option<usize>,
}

/// Check a file's header: every required column once, nothing unknown (`deleted` is allowed).
pub fn check_header(kind: FileKind, header: &StringRecord) -> Result<Header, RowError> {
    let mut index = HashMap::new();
    let mut deleted = None;
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().trim_start_matches('\u{feff}');
        if name == "deleted" {
            if deleted.replace(i).is_some() {
                return Err(err(RejectCode::DuplicateColumn, "column `deleted` appears twice"));
            }
            continue;
        }
        let Some(known) = kind.columns().iter().find(|c| **c == name) else {
            return Err(err(
                RejectCode::UnknownColumn,
                format!("unknown column `{name}`; {kind} has {} (and optionally deleted)", kind.columns().join(",")),
            ));
        };
        if index.insert(*known, i).is_some() {
            return Err(err(RejectCode::DuplicateColumn, format!("column `{name}` appears twice")));
        }
    }
    if let Some(missing) = kind.columns().iter().find(|c| !index.contains_key(*c)) {
        return Err(err(
            RejectCode::MissingColumn,
            format!("missing column `{missing}`; {kind} needs {}", kind.columns().join(",")),
        ));
    }
    Ok(Header { kind, index, deleted })
}

/// What validation needs besides the row: today's date (no future dates) and the districts.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Today, in Beijing: a date after it is in the future.
    pub today: NaiveDate,
    /// The policy in force, for districts and streets.
    pub policy: &'a Policy,
}

/// Validate one data row of a file.
pub fn validate_row(header: &Header, ctx: &Context, record: &StringRecord) -> Result<RowOp, RowError> {
    let cells = Cells { header, record };
    if record.len() != header.index.len() + usize::from(header.deleted.is_some()) {
        return Err(err(
            RejectCode::BadRow,
            format!(
                "{} fields where the header has {}",
                record.len(),
                header.index.len() + usize::from(header.deleted.is_some())
            ),
        ));
    }
    let deleted = match header.deleted.map(|i| record.get(i).unwrap_or("").trim()) {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(err(RejectCode::BadValue, format!("deleted `{}` must be true or false", shown(other))))
        }
    };
    let id = cells.id_number()?;
    if deleted {
        return Ok(RowOp::Delete(key(header.kind, &cells, id)?));
    }
    let row = match header.kind {
        FileKind::Elders => elder(&cells, ctx, id)?,
        FileKind::Applications => {
            let applied_on = cells.date(ctx, "applied_on")?;
            let decision: Decision = cells.code("decision")?;
            let decided_on = cells.opt_date(ctx, "decided_on")?;
            if decision != Decision::Pending && decided_on.is_none() {
                return Err(err(RejectCode::MissingValue, format!("decided_on is empty for a {decision} application")));
            }
            not_before(applied_on, decided_on, "decided_on", "applied_on")?;
            Row::Application(id, Application { allowance: cells.code("allowance")?, applied_on, decision, decided_on })
        }
        FileKind::Assessments => Row::Assessment(
            id,
            Assessment { assessed_on: cells.date(ctx, "assessed_on")?, result: cells.code("result")? },
        ),
        FileKind::DisabilityCerts => {
            let issued_on = cells.date(ctx, "issued_on")?;
            let revoked_on = cells.opt_date(ctx, "revoked_on")?;
            if revoked_on.is_some_and(|r| r <= issued_on) {
                return Err(err(RejectCode::EndBeforeStart, "revoked_on must be after issued_on"));
            }
            let grade = match cells.required("grade")? {
                g @ ("1" | "2" | "3" | "4") => g.parse().expect("digit"),
                g => return Err(err(RejectCode::BadValue, format!("grade `{}` must be 1, 2, 3 or 4", shown(g)))),
            };
            Row::Certificate(
                id,
                CertificateLine {
                    category: cells.code("category")?,
                    grade,
                    multiple: cells.flag("multiple")?,
                    issued_on,
                    revoked_on,
                },
            )
        }
        FileKind::HouseholdStatus => Row::Status(id, cells.period(ctx, "status")?),
        FileKind::Exclusions => Row::Exclusion(id, cells.period(ctx, "kind")?),
        FileKind::Suspensions => Row::Suspension(id, cells.period(ctx, "reason")?),
    };
    Ok(RowOp::Upsert(row))
}

fn elder(cells: &Cells, ctx: &Context, id: String) -> Result<Row, RowError> {
    let embedded = idcard::validate(&id).expect("checked by id_number()");
    let birth_date = cells.date(ctx, "birth_date")?;
    if birth_date != embedded {
        return Err(err(
            RejectCode::BirthDateMismatch,
            format!("birth_date {birth_date} differs from {embedded} in the ID number"),
        ));
    }
    let name = cells.required("name")?.to_string();
    let district_code = cells.required("district_code")?.to_string();
    let street_code = cells.required("street_code")?.to_string();
    check_street(ctx.policy, &district_code, &street_code)?;
    let hukou_in_date = cells.opt_date(ctx, "hukou_in_date")?;
    let hukou_out_date = cells.opt_date(ctx, "hukou_out_date")?;
    let death_date = cells.opt_date(ctx, "death_date")?;
    for (col, d) in [("hukou_in_date", hukou_in_date), ("hukou_out_date", hukou_out_date), ("death_date", death_date)] {
        if d.is_some_and(|d| d < birth_date) {
            return Err(err(RejectCode::EndBeforeStart, format!("{col} is before birth_date")));
        }
    }
    not_before(hukou_in_date.unwrap_or(birth_date), hukou_out_date, "hukou_out_date", "hukou_in_date")?;
    let account_type = cells.opt("account_type").map(|s| parse_code::<AccountType>("account_type", s)).transpose()?;
    let account_no = cells.opt("account_no").map(str::to_string);
    if account_no.is_some() && account_type.is_none() {
        return Err(err(RejectCode::MissingValue, "account_type is empty but account_no is given"));
    }
    if account_no.as_deref().is_some_and(|a| !a.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return Err(err(RejectCode::BadValue, "account_no must be letters and digits only"));
    }
    let registration = Registration {
        district_code,
        street_code,
        name,
        hukou_in_date,
        hukou_out_date,
        death_date,
        account_type,
        account_no,
    };
    Ok(Row::Elder(ElderRow { id_number: id, birth_date, registration }))
}

/// A known district, and a street inside it (listed streets, or the district code plus 3 digits).
fn check_street(policy: &Policy, district: &str, street: &str) -> Result<(), RowError> {
    let Some(d) = policy.district(district) else {
        return Err(err(
            RejectCode::UnknownCode,
            format!("district_code `{}` is not a Beijing district of the policy", shown(district)),
        ));
    };
    let inside = if d.streets.is_empty() {
        street.len() == 9 && street.starts_with(district) && street.bytes().all(|b| b.is_ascii_digit())
    } else {
        d.streets.iter().any(|s| s.code == street)
    };
    if inside {
        Ok(())
    } else {
        Err(err(
            RejectCode::StreetOutsideDistrict,
            format!("street_code `{}` is not a street of district {district} ({})", shown(street), d.name),
        ))
    }
}

fn not_before(start: NaiveDate, end: Option<NaiveDate>, end_col: &str, start_col: &str) -> Result<(), RowError> {
    match end {
        Some(e) if e < start => {
            Err(err(RejectCode::EndBeforeStart, format!("{end_col} {e} is before {start_col} {start}")))
        }
        _ => Ok(()),
    }
}

fn key(kind: FileKind, cells: &Cells, id: String) -> Result<RowKey, RowError> {
    // A deleted row only needs its key; dates may be past the clock (a mistaken future row).
    let date = |col| cells.parse_date(col, cells.required(col)?);
    Ok(match kind {
        FileKind::Elders => RowKey::Elder(id, cells.required("district_code")?.to_string()),
        FileKind::Applications => RowKey::Application(id, cells.code("allowance")?, date("applied_on")?),
        FileKind::Assessments => RowKey::Assessment(id, date("assessed_on")?),
        FileKind::DisabilityCerts => RowKey::Certificate(id, cells.code("category")?, date("issued_on")?),
        FileKind::HouseholdStatus => RowKey::Status(id, cells.code("status")?, date("valid_from")?),
        FileKind::Exclusions => RowKey::Exclusion(id, cells.code("kind")?, date("valid_from")?),
        FileKind::Suspensions => RowKey::Suspension(id, cells.code("reason")?, date("valid_from")?),
    })
}

fn parse_code<T: Code>(col: &str, value: &str) -> Result<T, RowError> {
    value
        .parse()
        .map_err(|_| err(RejectCode::UnknownCode, format!("{col} `{}` is not one of {}", shown(value), T::codes())))
}

/// A value as a reject message may show it: long runs of digits are masked, since a shifted
/// column can put an ID or account number where a code or date was expected.
fn shown(value: &str) -> String {
    let digits = value.chars().filter(|c| c.is_ascii_digit()).count();
    if value.chars().count() > 12 && digits * 2 > value.chars().count() {
        idcard::mask(value)
    } else {
        value.to_string()
    }
}

struct Cells<'a> {
    header: &'a Header,
    record: &'a StringRecord,
}

impl Cells<'_> {
    fn opt(&self, col: &'static str) -> Option<&str> {
        let v = self.record.get(self.header.index[col]).unwrap_or("").trim();
        (!v.is_empty()).then_some(v)
    }

    fn required(&self, col: &'static str) -> Result<&str, RowError> {
        self.opt(col).ok_or_else(|| err(RejectCode::MissingValue, format!("{col} is empty")))
    }

    fn id_number(&self) -> Result<String, RowError> {
        let id = self.required("id_number")?;
        match idcard::validate(id) {
            Ok(_) => Ok(id.to_string()),
            Err(IdError::Format) => {
                Err(err(RejectCode::BadIdFormat, format!("id_number {}: {}", idcard::mask(id), IdError::Format)))
            }
            Err(IdError::Checksum) => {
                Err(err(RejectCode::BadIdChecksum, format!("id_number {}: {}", idcard::mask(id), IdError::Checksum)))
            }
            Err(IdError::BirthDate) => {
                Err(err(RejectCode::BadIdBirthDate, format!("id_number {}: {}", idcard::mask(id), IdError::BirthDate)))
            }
        }
    }

    fn code<T: Code>(&self, col: &'static str) -> Result<T, RowError> {
        parse_code(col, self.required(col)?)
    }

    fn flag(&self, col: &'static str) -> Result<bool, RowError> {
        match self.required(col)? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(err(RejectCode::BadValue, format!("{col} `{}` must be true or false", shown(v)))),
        }
    }

    fn parse_date(&self, col: &str, v: &str) -> Result<NaiveDate, RowError> {
        let ok_shape = v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if ok_shape => Ok(d),
            _ => Err(err(RejectCode::BadDate, format!("{col} `{}` is not a real date YYYY-MM-DD", shown(v)))),
        }
    }

    fn checked_date(&self, ctx: &Context, col: &str, v: &str) -> Result<NaiveDate, RowError> {
        let d = self.parse_date(col, v)?;
        if d > ctx.today {
            return Err(err(RejectCode::FutureDate, format!("{col} {d} is after today ({})", ctx.today)));
        }
        Ok(d)
    }

    fn date(&self, ctx: &Context, col: &'static str) -> Result<NaiveDate, RowError> {
        self.checked_date(ctx, col, self.required(col)?)
    }

    fn opt_date(&self, ctx: &Context, col: &'static str) -> Result<Option<NaiveDate>, RowError> {
        self.opt(col).map(|v| self.checked_date(ctx, col, v)).transpose()
    }

    /// A dated period. `valid_to` may lie in the future: a status granted until a set date is
    /// known in advance, unlike events such as births, moves or decisions.
    fn period<K: Code>(&self, ctx: &Context, kind_col: &'static str) -> Result<Period<K>, RowError> {
        let valid_from = self.date(ctx, "valid_from")?;
        let valid_to = self.opt("valid_to").map(|v| self.parse_date("valid_to", v)).transpose()?;
        not_before(valid_from, valid_to, "valid_to", "valid_from")?;
        Ok(Period { kind: self.code(kind_col)?, valid_from, valid_to })
    }
}
