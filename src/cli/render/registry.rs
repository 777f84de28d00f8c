//! What `import`, `generate` and `report` print.

use super::print_json;
use crate::adapters::registry_csv::import::ImportReport;
use crate::adapters::report::review::MonthReview;
use crate::adapters::report::DistrictReport;
use crate::cli::args::ReportFormat;
use crate::generate::GenerateSummary;
use std::path::Path;

/// `import`: counts per file, and every rejected row with what to do.
pub fn imported(report: &ImportReport, dir: &Path, json: bool) {
    if json {
        print_json(report);
        return;
    }
    println!("import {} of {}", report.import_id, dir.display());
    for (file, c) in &report.files {
        println!("  {file:<22} accepted {:>9}  rejected {:>7}", c.accepted, c.rejected);
    }
    if report.has_rejects() {
        println!("rejected rows (file:line reason: detail):");
        for r in &report.rejects {
            println!("  {}:{} {}: {}", r.file, r.line, r.reason, r.detail);
        }
        println!(
            "the accepted rows are stored; correct the rejected rows and import the files again (rows update by key)"
        );
    }
}

/// `generate`: rows written per file.
pub fn generated(summary: &GenerateSummary, elders: u64, seed: u64, out: &Path, json: bool) {
    if json {
        print_json(summary);
        return;
    }
    println!("wrote a synthetic registry of {elders} elders (seed {seed}) to {}", out.display());
    for (file, rows) in &summary.files {
        let bad = summary.malformed.get(file).copied().unwrap_or(0);
        println!("  {file:<22} {rows:>9} rows{}", if bad > 0 { format!(" ({bad} malformed)") } else { String::new() });
    }
}

/// `report`: the districts' figures in `format`, as the bytes to print or write (the text forms
/// in UTF-8).
pub fn report(reports: &[DistrictReport], year: i32, format: ReportFormat) -> anyhow::Result<Vec<u8>> {
    let text = match format {
        ReportFormat::Text => crate::adapters::report::text(reports),
        ReportFormat::Csv => crate::adapters::report::csv(reports),
        ReportFormat::Json => serde_json::to_string(&serde_json::json!({ "year": year, "districts": reports }))? + "\n",
        ReportFormat::Html => crate::adapters::report::html(reports, year),
        ReportFormat::Xlsx => return Ok(crate::adapters::report::xlsx(reports)?),
    };
    Ok(text.into_bytes())
}

/// The month's review in `format` (text, CSV or JSON: `{"reviews": [...]}`).
pub fn review(reviews: &[MonthReview], format: ReportFormat) -> serde_json::Result<String> {
    Ok(match format {
        ReportFormat::Csv => crate::adapters::report::review_csv(reviews),
        ReportFormat::Json => serde_json::to_string(&serde_json::json!({ "reviews": reviews }))? + "\n",
        // Refused before the review is computed (`commands::review`).
        _ => crate::adapters::report::review_text(reviews),
    })
}
