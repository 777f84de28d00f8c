//! The registry as the core sees it: one person's records from the seven input files, already
//! validated. `import` (the shell) turns CSV rows into these; `eligibility` (the core) reads them.

pub mod rows;

use crate::codes::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A person's household registration in one district (`elders.csv`, keyed by ID and district).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// 6-digit district code, e.g. 110102 for Xicheng.
    pub district_code: String,
    /// 9-digit street code inside the district.
    pub street_code: String,
    /// The person's name as registered.
    pub name: String,
    /// Date registration moved into the district; none when always registered there.
    pub hukou_in_date: Option<NaiveDate>,
    /// Date registration moved out of the district.
    pub hukou_out_date: Option<NaiveDate>,
    /// Date of death (or court-declared disappearance).
    pub death_date: Option<NaiveDate>,
    /// Kind of payment account.
    pub account_type: Option<AccountType>,
    /// Account number; none means payments are held (L3).
    pub account_no: Option<String>,
}

/// An application for one allowance (`applications.csv`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Which allowance.
    pub allowance: Allowance,
    /// Date submitted (T5 counts from its month).
    pub applied_on: NaiveDate,
    /// Approved, rejected or pending.
    pub decision: Decision,
    /// Date decided.
    pub decided_on: Option<NaiveDate>,
}

/// An ability assessment (`assessments.csv`); the latest replaces earlier ones (R5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Date assessed.
    pub assessed_on: NaiveDate,
    /// The result.
    pub result: AssessmentResult,
}

/// One category line of a disability certificate (`disability_certs.csv`). Rows sharing an issue
/// date form one certificate (R5: a person holds one certificate at a time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateLine {
    /// Disability category.
    pub category: Category,
    /// Grade 1 (most severe) to 4.
    pub grade: u8,
    /// Multiple disabilities (多重残疾).
    pub multiple: bool,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// First day the certificate no longer counts.
    pub revoked_on: Option<NaiveDate>,
}

/// A dated period: household status, exclusion or suspension. `valid_to` is inclusive (T2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period<K> {
    /// What holds during the period.
    pub kind: K,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day (inclusive); none means open.
    pub valid_to: Option<NaiveDate>,
}

impl<K> Period<K> {
    /// Whether the period holds on `day`.
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// Everything the registry knows of one person: the input of the eligibility core.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecords {
    /// 18-character resident ID.
    pub id_number: String,
    /// Birth date (embedded in the ID, checked equal at import).
    pub birth_date: Option<NaiveDate>,
    /// Registrations, one per district.
    pub registrations: Vec<Registration>,
    /// Applications.
    pub applications: Vec<Application>,
    /// Ability assessments.
    pub assessments: Vec<Assessment>,
    /// Disability certificate lines.
    pub certificates: Vec<CertificateLine>,
    /// Household statuses (R6).
    pub statuses: Vec<Period<HouseholdStatus>>,
    /// Exclusions (R8).
    pub exclusions: Vec<Period<ExclusionKind>>,
    /// Suspensions (T4).
    pub suspensions: Vec<Period<SuspensionReason>>,
}

impl PersonRecords {
    /// Assemble a person from validated rows (e.g. registry versions), ordered as the store
    /// orders them. None when no registration is among them.
    pub fn from_rows(id_number: &str, rows: Vec<rows::Row>) -> Option<PersonRecords> {
        use rows::Row;
        let mut rec = PersonRecords { id_number: id_number.to_string(), ..Default::default() };
        for row in rows {
            match row {
                Row::Elder(e) => {
                    rec.birth_date = Some(e.birth_date);
                    rec.registrations.push(e.registration);
                }
                Row::Application(_, a) => rec.applications.push(a),
                Row::Assessment(_, a) => rec.assessments.push(a),
                Row::Certificate(_, c) => rec.certificates.push(c),
                Row::Status(_, p) => rec.statuses.push(p),
                Row::Exclusion(_, p) => rec.exclusions.push(p),
                Row::Suspension(_, p) => rec.suspensions.push(p),
            }
        }
        if rec.registrations.is_empty() {
            return None;
        }
        rec.registrations.sort_by(|a, b| a.district_code.cmp(&b.district_code));
        rec.applications
            .sort_by(|a, b| (a.allowance.as_str(), a.applied_on).cmp(&(b.allowance.as_str(), b.applied_on)));
        rec.assessments.sort_by_key(|a| a.assessed_on);
        rec.certificates.sort_by(|a, b| (a.issued_on, a.category.as_str()).cmp(&(b.issued_on, b.category.as_str())));
        rec.statuses.sort_by(|a, b| (a.valid_from, a.kind.as_str()).cmp(&(b.valid_from, b.kind.as_str())));
        rec.exclusions.sort_by(|a, b| (a.valid_from, a.kind.as_str()).cmp(&(b.valid_from, b.kind.as_str())));
        rec.suspensions.sort_by(|a, b| (a.valid_from, a.kind.as_str()).cmp(&(b.valid_from, b.kind.as_str())));
        Some(rec)
    }
}
