//! Validation of registry rows (INTERFACE.md "Registry files"): pure functions from one CSV row
//! to a typed upsert or delete, or to a reject with a reason code. The database-dependent checks
//! (unknown person, duplicate key within a file) are the store's, in the same import transaction.

use crate::codes::*;
use crate::idcard::{self, IdError};
use crate::policy::Policy;
use crate::registry::rows::*;
use crate::registry::{Application, Assessment, CertificateLine, Period, Registration};
use chrono::NaiveDate;
use csv::StringRecord;
use std::collections::HashMap;

fn err(code: RejectCode, detail: impl Into<String>) -> RowError {
    RowError { code, detail: detail.into() }
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
