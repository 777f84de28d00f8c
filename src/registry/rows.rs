//! The registry rows as the store keeps them: the seven files (INTERFACE.md "Registry files"),
//! a validated row of each, its key, and the reasons a row is rejected. The CSV parsing that
//! produces them is an adapter (`adapters::registry_csv`).

use super::{Application, Assessment, CertificateLine, Period, Registration};
use crate::codes::*;
use chrono::NaiveDate;
use serde::Serialize;
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
