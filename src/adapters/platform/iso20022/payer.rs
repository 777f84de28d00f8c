//! Who pays: each district's paying office, its account and its bank, as a pain.001 file names
//! them (Dbtr, DbtrAcct, DbtrAgt). They are configuration, not registry data: a district writes
//! its own `[[payer]]` entry in a TOML file; without one the engine uses [`BUILTIN_PAYERS`], a
//! single **fictional** payer for Xicheng that exists so that the demo and the tests can write a
//! file. Nothing in it is a real account or bank.
//!
//! The requested execution date is a rule, not a reading of the clock ([`execution_date`]): T1
//! pays service month M in advance, before the end of M−1, so the bank is asked to pay on the
//! payer's `execution_day` of M−1 (the scheduled run is on the 26th: the fixture asks for the
//! 28th), or on the day the batch was computed when that is later (a correction computed months
//! after its service month is not asked to be paid in the past). Both come from what the batch
//! recorded, so an export repeated later writes the same file. Day 1–28 exists in every month.

use crate::month::ServiceMonth;
use chrono::NaiveDate;
use serde::Deserialize;

/// The payers built into the binary: one fictional payer for Xicheng (110102).
pub const BUILTIN_PAYERS: &str = include_str!("../../../../fixtures/payers.toml");

/// A district's paying office as pain.001 names it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payer {
    /// The district it pays for (6 digits, e.g. `110102`).
    pub district_code: String,
    /// Name of the paying office: the initiating party and the debtor (Max140Text).
    pub name: String,
    /// The account the allowances are paid from (DbtrAcct/Id/Othr/Id, Max34Text).
    pub account: String,
    /// The bank's BIC (DbtrAgt/FinInstnId/BICFI), if it has one.
    #[serde(default)]
    pub agent_bic: Option<String>,
    /// The bank's name (DbtrAgt/FinInstnId/Nm, Max140Text).
    #[serde(default)]
    pub agent_name: Option<String>,
    /// The bank's CNAPS code (支付系统行号, 12 digits), written as
    /// DbtrAgt/FinInstnId/ClrSysMmbId with clearing system `CNAPS`.
    #[serde(default)]
    pub agent_member_id: Option<String>,
    /// Day of the month after the service month on which the bank is asked to pay (1–28).
    pub execution_day: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayersFile {
    #[serde(default)]
    payer: Vec<Payer>,
}

/// A payers file that cannot be used, naming the entry and the field.
#[derive(Debug, thiserror::Error)]
pub enum PayerError {
    /// Not TOML, or a field missing, misspelt or of the wrong type.
    #[error("payers file: {0}")]
    Toml(#[from] toml::de::Error),
    /// No `[[payer]]` entry at all.
    #[error("payers file: no [[payer]] entry; write one per district (see fixtures/payers.toml)")]
    Empty,
    /// A field with a value pain.001 cannot carry.
    #[error("payers file: payer {index} (district {district}): `{field}` {problem}")]
    Invalid {
        /// 1-based position of the entry in the file.
        index: usize,
        /// Its district code, as written.
        district: String,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Two entries for one district.
    #[error("payers file: district {0} has more than one [[payer]] entry")]
    Duplicate(String),
}

/// Read and check a payers file (`[[payer]]` entries).
pub fn payers_from_toml(text: &str) -> Result<Vec<Payer>, PayerError> {
    let file: PayersFile = toml::from_str(text)?;
    if file.payer.is_empty() {
        return Err(PayerError::Empty);
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in file.payer.iter().enumerate() {
        p.check().map_err(|(field, problem)| PayerError::Invalid {
            index: i + 1,
            district: p.district_code.clone(),
            field,
            problem,
        })?;
        if !seen.insert(p.district_code.as_str()) {
            return Err(PayerError::Duplicate(p.district_code.clone()));
        }
    }
    Ok(file.payer)
}

/// The payer of `district`, if the list has one.
pub fn payer_for<'a>(payers: &'a [Payer], district: &str) -> Option<&'a Payer> {
    payers.iter().find(|p| p.district_code == district)
}

/// The requested execution date of a batch of `month` computed on `computed_on` (Beijing date):
/// `day` of the month before (T1: paid in advance; service month 2020-07, day 28: 2020-06-28), or
/// `computed_on` when that is later. Never the clock: the same batch asks for the same date however
/// late it is exported.
pub fn execution_date(month: ServiceMonth, day: u32, computed_on: NaiveDate) -> Option<NaiveDate> {
    let before = month.prev();
    NaiveDate::from_ymd_opt(before.year(), before.month(), day).map(|d| d.max(computed_on))
}

impl Payer {
    /// Whether pain.001 can carry this payer: the field and what is wrong with it, if not.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let bad = |field: &'static str, problem: String| (field, problem);
        if self.district_code.len() != 6 || !self.district_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("district_code", format!("`{}` is not a 6-digit district code", self.district_code)));
        }
        text(&self.name, 140).map_err(|e| bad("name", e))?;
        text(&self.account, 34).map_err(|e| bad("account", e))?;
        if self.account.chars().any(char::is_whitespace) {
            return Err(bad("account", "contains a space; write the account number without spaces".into()));
        }
        if !(1..=28).contains(&self.execution_day) {
            return Err(bad("execution_day", format!("{} is not 1–28 (a day every month has)", self.execution_day)));
        }
        if let Some(bic) = &self.agent_bic {
            if !is_bic(bic) {
                return Err(bad(
                    "agent_bic",
                    format!("`{bic}` is not a BIC (8 or 11 letters and digits, e.g. XXXXCNBJXXX)"),
                ));
            }
        }
        if let Some(name) = &self.agent_name {
            text(name, 140).map_err(|e| bad("agent_name", e))?;
        }
        if let Some(id) = &self.agent_member_id {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("agent_member_id", format!("`{id}` is not a 12-digit CNAPS bank code")));
            }
        }
        // The schema lets FinInstnId be empty, but a debtor agent identified by nothing is no agent:
        // the bank must be named by at least one of them.
        if self.agent_bic.is_none() && self.agent_member_id.is_none() && self.agent_name.is_none() {
            return Err(bad(
                "agent_bic",
                "missing: name the payer's bank by agent_bic, agent_member_id or agent_name (at least one)".into(),
            ));
        }
        Ok(())
    }
}

/// A text of 1 to `max` characters (ISO 20022 MaxNText counts characters, not bytes).
fn text(s: &str, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if s.trim().is_empty() {
        Err("is empty".into())
    } else if n > max {
        Err(format!("has {n} characters, more than the {max} ISO 20022 allows"))
    } else if s.chars().any(char::is_control) {
        Err("contains a control character".into())
    } else {
        Ok(())
    }
}

/// BICFIDec2014Identifier: `[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?`.
fn is_bic(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (b.len() == 8 || b.len() == 11)
        && b[..4].iter().all(alnum)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(alnum)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
[[payer]]
district_code = "110105"
name = "示例付款单位"
account = "123456"
agent_name = "示例银行"
execution_day = 28
"#;

    fn with(field: &str, value: &str) -> String {
        ONE.lines()
            .map(|l| if l.starts_with(&format!("{field} =")) { format!("{field} = {value}") } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn problem(text: &str) -> String {
        payers_from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn the_builtin_payer_is_xicheng_and_valid() {
        let payers = payers_from_toml(BUILTIN_PAYERS).unwrap();
        assert_eq!(payers.len(), 1);
        let p = payer_for(&payers, "110102").unwrap();
        assert_eq!(p.execution_day, 28);
        assert!(p.name.contains("虚构"), "the built-in payer says it is fictional: {}", p.name);
        assert!(payer_for(&payers, "110101").is_none());
    }

    #[test]
    fn t1_execution_date_is_the_day_of_the_month_before_or_the_day_computed() {
        let on = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let d =
            |m: &str, day, computed: &str| execution_date(m.parse().unwrap(), day, on(computed)).unwrap().to_string();
        assert_eq!(d("2020-07", 28, "2020-06-26"), "2020-06-28");
        assert_eq!(d("2021-01", 28, "2020-12-26"), "2020-12-28");
        assert_eq!(
            d("2020-03", 28, "2020-05-11"),
            "2020-05-11",
            "a correction computed later is not asked for the past"
        );
    }

    #[test]
    fn each_field_is_checked_and_named() {
        assert!(payers_from_toml(ONE).is_ok());
        let cases = [
            ("district_code", "\"11010\"", "`district_code` `11010` is not a 6-digit district code"),
            ("execution_day", "29", "`execution_day` 29 is not 1–28"),
            ("execution_day", "0", "`execution_day` 0 is not 1–28"),
            ("account", "\"\"", "`account` is empty"),
            ("account", "\"1234 5678\"", "`account` contains a space"),
            ("account", &format!("\"{}\"", "1".repeat(35)), "`account` has 35 characters, more than the 34"),
            ("name", "\"  \"", "`name` is empty"),
            ("agent_name", "\"\"", "`agent_name` is empty"),
        ];
        for (field, value, expected) in cases {
            let msg = problem(&with(field, value));
            assert!(msg.contains(expected), "{field} = {value}: {msg}");
            assert!(msg.contains("payer 1 (district"), "{msg}");
        }
    }

    #[test]
    fn the_bank_is_named_at_least_once_and_a_bic_or_cnaps_code_has_its_form() {
        let no_agent = ONE.replace("agent_name = \"示例银行\"\n", "");
        assert!(problem(&no_agent).contains("agent_bic, agent_member_id or agent_name"), "{}", problem(&no_agent));
        let bic = |b: &str| ONE.replace("agent_name", &format!("agent_bic = \"{b}\"\nagent_name"));
        assert!(payers_from_toml(&bic("XXXXCNBJ")).is_ok());
        assert!(payers_from_toml(&bic("XXXXCNBJXXX")).is_ok());
        assert!(problem(&bic("xxxxcnbj")).contains("`agent_bic` `xxxxcnbj` is not a BIC"));
        assert!(problem(&bic("XXXX11BJ")).contains("is not a BIC"));
        let member = ONE.replace("agent_name", "agent_member_id = \"12345\"\nagent_name");
        assert!(problem(&member).contains("`agent_member_id` `12345` is not a 12-digit CNAPS bank code"));
    }

    #[test]
    fn misspelt_missing_duplicate_and_empty_entries_are_refused() {
        assert!(problem(&ONE.replace("account =", "acount =")).contains("acount"));
        assert!(problem(&ONE.replace("execution_day = 28", "")).contains("execution_day"));
        assert!(problem(&format!("{ONE}\n{ONE}")).contains("district 110105 has more than one"));
        assert!(problem("").contains("no [[payer]] entry"));
    }
}
