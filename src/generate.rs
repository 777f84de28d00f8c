//! generator (placeholder until the generator lands)
#[derive(Clone, Debug, Default)]
pub struct GenerateOptions { pub elders: u64, pub seed: u64, pub malformed: u64, pub district: String }
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GenerateSummary { pub files: std::collections::BTreeMap<String, u64>, pub malformed: std::collections::BTreeMap<String, u64> }
pub fn generate(_opts: &GenerateOptions, _out: &std::path::Path) -> anyhow::Result<GenerateSummary> { anyhow::bail!("not yet") }
