//! `report --year`, rendered: the district's figures in the shape of section 一 of the seed report
//! — per allowance, person-times (人次, F5) and amounts in yuan and 万元 including district
//! matching (含区财政配套资金), and the lottery fund used against its allocation (F3) — then the
//! same figures per service month, per street and per age band. The shapes are here; each form
//! has its file: `text.rs`, `csv.rs`, `html.rs` (one page, its charts drawn by `svg.rs`), `xlsx.rs`
//! (a workbook for reviewers); JSON is their serde form. The figures are computed from the store
//! by `ops::report::build`.

mod csv;
mod html;
pub mod review;
mod review_text;
mod svg;
mod text;
mod xlsx;

pub use self::csv::csv;
pub use self::html::html;
pub use self::review_text::{review_csv, review_text};
pub use self::text::text;
pub use self::xlsx::xlsx;

use crate::codes::Allowance;
use crate::month::ServiceMonth;
use rust_decimal::Decimal;
use serde::Serialize;

/// One allowance's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllowanceFigures {
    /// Allowance.
    pub allowance: Option<Allowance>,
    /// Chinese name as the seed report writes it.
    pub name: &'static str,
    /// Distinct (person, allowance, month) with a positive net paid (F5).
    pub person_times: i64,
    /// Net paid, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
    /// The same in 万元 (the text, html and xlsx forms; not in JSON, where money is yuan).
    #[serde(skip)]
    pub amount_wan: Decimal,
    /// Lottery fund share, yuan.
    #[serde(rename = "lottery_amount", serialize_with = "crate::money::json::yuan")]
    pub lottery: Decimal,
    /// District budget share (配套), yuan.
    #[serde(rename = "district_amount", serialize_with = "crate::money::json::yuan")]
    pub district: Decimal,
}

/// One district's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DistrictReport {
    /// District code.
    #[serde(rename = "district_code")]
    pub district: String,
    /// District name.
    pub name: String,
    /// Year of the service months.
    pub year: i32,
    /// Only this month, if asked.
    #[serde(rename = "service_month")]
    pub month: Option<ServiceMonth>,
    /// Per allowance, in the seed's order (care, longevity, hardship).
    pub allowances: Vec<AllowanceFigures>,
    /// All allowances.
    pub total: AllowanceFigures,
    /// Lottery allocation of the year (F3), yuan, if loaded.
    #[serde(serialize_with = "crate::money::json::opt_yuan")]
    pub lottery_allocation: Option<Decimal>,
    /// Lottery share of the year paid out (exported batches), yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub lottery_used: Decimal,
    /// Lottery share of the year drawn by batches not yet exported, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub lottery_not_exported: Decimal,
    /// Allocation left after what was paid and what batches not yet exported drew, yuan.
    #[serde(serialize_with = "crate::money::json::opt_yuan")]
    pub lottery_remaining: Option<Decimal>,
    /// F3: set when no allocation is loaded for the year: what that means and what to do.
    pub missing_allocation: Option<String>,
    /// Computed or approved batches, not yet exported (not counted as paid above).
    pub not_exported: NotExported,
    /// Per service month of the period, in month order (months with nothing paid included).
    pub by_month: Vec<MonthFigures>,
    /// Per street (街道) with a payment in the period, in street-code order.
    pub by_street: Vec<StreetFigures>,
    /// Recipients per age band (age reached in the year), youngest first, every band listed.
    pub by_age_band: Vec<AgeBandFigures>,
}

/// One service month's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    /// The service month.
    #[serde(rename = "service_month")]
    pub month: ServiceMonth,
    /// Per allowance, in the seed's order (care, longevity, hardship).
    pub allowances: Vec<AllowanceFigures>,
    /// All allowances.
    pub total: AllowanceFigures,
}

/// One street's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreetFigures {
    /// 9-digit street code.
    pub street_code: String,
    /// Its name from the policy's reference data (empty if the policy does not list it).
    pub name: String,
    /// Distinct persons paid in this street in the period (one who moved counts in each street).
    pub recipients: i64,
    /// All allowances paid in this street.
    pub total: AllowanceFigures,
}

/// Recipients of one age band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgeBandFigures {
    /// The band.
    pub band: AgeBand,
    /// Distinct persons paid in the period whose age reached in the year is in the band.
    pub recipients: i64,
    /// Their person-times (F5).
    pub person_times: i64,
    /// Their net paid, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
}

/// Age bands of the report: the age a person reaches in the report's year (year − birth year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// Under 70.
    Under70,
    /// 70 to 79.
    From70To79,
    /// 80 to 89.
    From80To89,
    /// 90 to 99.
    From90To99,
    /// 100 and over.
    From100,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 5] =
        [AgeBand::Under70, AgeBand::From70To79, AgeBand::From80To89, AgeBand::From90To99, AgeBand::From100];

    /// The band of an age.
    pub fn of_age(age: i32) -> AgeBand {
        match age {
            ..=69 => AgeBand::Under70,
            70..=79 => AgeBand::From70To79,
            80..=89 => AgeBand::From80To89,
            90..=99 => AgeBand::From90To99,
            _ => AgeBand::From100,
        }
    }

    /// Its label, Chinese and English.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            AgeBand::Under70 => ("70岁以下", "under 70"),
            AgeBand::From70To79 => ("70–79岁", "70–79"),
            AgeBand::From80To89 => ("80–89岁", "80–89"),
            AgeBand::From90To99 => ("90–99岁", "90–99"),
            AgeBand::From100 => ("100岁及以上", "100 and over"),
        }
    }
}

/// What batches computed or approved, not yet exported, hold for the period (held lines aside).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NotExported {
    /// The batches, with their state and amounts.
    pub batches: Vec<PendingBatch>,
    /// Per allowance with lines, yuan.
    #[serde(serialize_with = "crate::money::json::yuan_map")]
    pub by_allowance: std::collections::BTreeMap<Allowance, Decimal>,
    /// Sum of their lines and recovery items, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
    /// Lottery share, yuan.
    #[serde(rename = "lottery_amount", serialize_with = "crate::money::json::yuan")]
    pub lottery: Decimal,
    /// District share, yuan.
    #[serde(rename = "district_amount", serialize_with = "crate::money::json::yuan")]
    pub district: Decimal,
}

/// One batch not yet exported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PendingBatch {
    /// Batch id.
    pub batch_id: String,
    /// `computed` or `approved`.
    pub state: String,
    /// Sum of its lines for the period, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
}

/// The lottery allocation line of section 一 (F3), in Chinese and in English, as every form
/// prints it: the allocation, the share used (to two places), what batches not yet exported
/// drew, and what is left.
pub fn lottery_line(r: &DistrictReport, allocation: Decimal, left: Decimal) -> (String, String) {
    use crate::money::{format_yuan, wan};
    let (used, pending) = (r.lottery_used, r.lottery_not_exported);
    let pct = if allocation.is_zero() { Decimal::ZERO } else { (used * Decimal::ONE_HUNDRED / allocation).round_dp(2) };
    let zh = format!(
        "资金额度（市级彩票公益金）：{} 万元；已使用 {} 万元（{pct}%），待发 {} 万元，结余 {} 万元",
        wan(allocation),
        wan(used),
        wan(pending),
        wan(left)
    );
    let en = format!(
        "lottery allocation (F3): {} yuan, used {} yuan (paid out), {} yuan in batches not yet exported, left {} yuan",
        format_yuan(allocation),
        format_yuan(used),
        format_yuan(pending),
        format_yuan(left)
    );
    (zh, en)
}

/// An allowance's English name.
pub fn english_name(a: Allowance) -> &'static str {
    match a {
        Allowance::Care => "care subsidy for disabled elders",
        Allowance::Longevity => "longevity allowance",
        Allowance::Hardship => "hardship subsidy",
    }
}

/// An allowance's name as the seed report writes it.
pub fn chinese_name(a: Allowance) -> &'static str {
    match a {
        Allowance::Care => "失能老年人护理补贴",
        Allowance::Longevity => "高龄津贴",
        Allowance::Hardship => "困难老年人养老服务补贴",
    }
}
