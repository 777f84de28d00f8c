//! What the operator typed, checked before any use-case runs: an ID number or payment key, an
//! allowance, who acts, the report's form. Each refusal is wrong usage (exit status 2) saying what
//! to type instead.

use super::args::ReportFormat;
use super::{CodedUsage, UsageError};
use crate::codes::Allowance;

/// The report's form: `--json` is JSON on stdout and refuses another `--format` or `--out` (a
/// script asking for both would otherwise get one of them silently: `--format json --out FILE`
/// writes the object to a file); without it, `--format` or text.
pub fn report_format(json: bool, format: Option<ReportFormat>, out: bool) -> Result<ReportFormat, UsageError> {
    match (json, format) {
        (true, _) if out => Err(UsageError(
            "--json prints one JSON object on stdout and --out writes to a file: for the JSON in a file, give \
             --format json --out FILE"
                .into(),
        )),
        (true, None | Some(ReportFormat::Json)) => Ok(ReportFormat::Json),
        (true, Some(other)) => Err(UsageError(format!(
            "--json prints one JSON object and --format {} asks for another form: give one of them",
            format!("{other:?}").to_lowercase()
        ))),
        (false, format) => Ok(format.unwrap_or(ReportFormat::Text)),
    }
}

/// An ID number as the operator typed it, checked (wrong usage, status 2, saying exactly what is
/// wrong, the ID masked) and with a final lowercase `x` made `X`.
pub fn typed_id(id: &str) -> anyhow::Result<String> {
    crate::idcard::parse_typed(id).map_err(|e| CodedUsage { code: "bad_id_number", message: e.to_string() }.into())
}

/// A recovery item's payment key as typed: its ID part checked like [`typed_id`] unless it is the
/// masked form `subsidy status --recoveries` shows.
pub fn typed_key(key: &str) -> anyhow::Result<String> {
    let key = key.trim();
    match key.split_once('-') {
        Some((id, rest)) if !id.contains('*') => Ok(format!("{}-{rest}", typed_id(id)?)),
        _ => Ok(key.to_string()),
    }
}

/// `--allowance`: none, or one of the allowance codes.
pub fn allowance_arg(a: Option<&str>) -> Result<Option<Allowance>, UsageError> {
    a.map(|a| {
        a.parse::<Allowance>()
            .map_err(|_| UsageError(format!("--allowance `{a}` is not one of longevity, care, hardship")))
    })
    .transpose()
}

/// Who is acting, as recorded in batches and the audit log: `--by` if given, else the login name
/// (`$USER`, then `$LOGNAME`), trimmed. An empty name, or none at all, is a usage error: every
/// change names a person, never a stand-in.
pub fn actor(by: Option<&str>) -> Result<String, UsageError> {
    if let Some(by) = by {
        let name = by.trim();
        if name.is_empty() {
            return Err(UsageError("--by is empty: give the name of the person acting, e.g. --by wang".into()));
        }
        return Ok(name.to_string());
    }
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .ok_or_else(|| {
            UsageError(
                "no one to record as acting: neither --by nor $USER or $LOGNAME names a person; pass --by NAME".into(),
            )
        })
}
