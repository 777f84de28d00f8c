//! The platform files of INTERFACE.md, rendered from what the database holds for a batch. One
//! pure renderer serves both `export` (which writes them atomically, all or none, the CSV files
//! with mode 0640) and `verify` (which renders again and compares), so the two can never disagree
//! about what a file should contain. The CSV files hold nothing that depends on the clock or on the database that computed them.
//! [`iso20022`] says the same batch in ISO 20022 (pain.001) and reads the bank's answer (pain.002).

pub mod iso20022;
pub mod results;
mod write;

pub use write::{stage, write_all_atomically, write_atomically, Staged, WriteError, PRIVATE_MODE, PUBLIC_MODE};

use crate::adapters::registry_csv::encoding::Encoding;
use crate::ledger::LineType;
use crate::money::format_fen;
use crate::store::{BatchRow, PostingRow, TransferRow};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// One rendered file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformFile {
    /// File name, e.g. `110102-2020-07-R1-transfers.csv`.
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Data rows (CSV) or 1 (JSON).
    pub rows: usize,
}

impl PlatformFile {
    /// The file's mode: the CSV files and the ISO 20022 XML file carry ID and account numbers, so
    /// they are not readable by everyone (0640); the order and the manifest carry totals only (0644).
    pub fn mode(&self) -> u32 {
        if self.name.ends_with(".csv") || self.name.ends_with(".xml") {
            PRIVATE_MODE
        } else {
            PUBLIC_MODE
        }
    }
}

/// A manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Data rows.
    pub rows: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

fn csv_file(name: String, header: &[&str], mut rows: Vec<Vec<String>>) -> PlatformFile {
    // INTERFACE.md: rows sorted by byte order of their first column (ties: the rest, in order).
    rows.sort();
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(header).expect("in-memory write");
    let count = rows.len();
    for r in rows {
        w.write_record(&r).expect("in-memory write");
    }
    PlatformFile { name, bytes: w.into_inner().expect("in-memory flush"), rows: count }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// Render the six files of a batch, manifest last, the CSV files in UTF-8.
pub fn render(batch: &BatchRow, transfers: &[TransferRow], postings: &[PostingRow]) -> Vec<PlatformFile> {
    render_as(batch, transfers, postings, Encoding::Utf8)
}

/// Render the six files of a batch, manifest last, the CSV files in `encoding` (the JSON files are
/// UTF-8 whatever it is: JSON is UTF-8 by definition). Rows are sorted on the UTF-8 text first, so
/// that both encodings list the same rows in the same order; the manifest names the encoding.
pub fn render_as(
    batch: &BatchRow,
    transfers: &[TransferRow],
    postings: &[PostingRow],
    encoding: Encoding,
) -> Vec<PlatformFile> {
    let mut files = render_utf8(batch, transfers, postings);
    if encoding != Encoding::Utf8 {
        for f in files.iter_mut().filter(|f| f.name.ends_with(".csv")) {
            f.bytes = encoding.encode(std::str::from_utf8(&f.bytes).expect("rendered as UTF-8"));
        }
    }
    let manifest = self::manifest(batch, &files, encoding);
    files.push(manifest);
    files
}

/// The encoding a folder's manifest names (`verify` renders in it); UTF-8 when the manifest is
/// missing or names none.
pub fn encoding_in(dir: &std::path::Path, batch_id: &str) -> Encoding {
    std::fs::read(dir.join(format!("{batch_id}-manifest.json")))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("encoding").and_then(|e| e.as_str()).and_then(Encoding::from_name))
        .unwrap_or_default()
}

/// The five files before the manifest, the CSV files in UTF-8.
fn render_utf8(batch: &BatchRow, transfers: &[TransferRow], postings: &[PostingRow]) -> Vec<PlatformFile> {
    let id = &batch.batch_id;
    let transfers_csv = csv_file(
        format!("{id}-transfers.csv"),
        &["transfer_id", "id_number", "name", "account_type", "account_no", "allowance", "amount"],
        transfers
            .iter()
            .map(|t| {
                vec![
                    t.transfer_id.clone(),
                    t.id_number.clone(),
                    t.name.clone(),
                    opt(&t.account_type),
                    t.account_no.clone(),
                    t.allowance.clone(),
                    format_fen(t.amount_fen),
                ]
            })
            .collect(),
    );
    let paid: Vec<&PostingRow> =
        postings.iter().filter(|p| p.held_reason.is_none() && p.line_type != LineType::Recovery).collect();
    let lines_csv = csv_file(
        format!("{id}-lines.csv"),
        &[
            "transfer_id",
            "payment_key",
            "id_number",
            "allowance",
            "tier",
            "service_month",
            "line_type",
            "amount",
            "lottery_amount",
            "district_amount",
            "street_code",
        ],
        paid.iter()
            .map(|p| {
                vec![
                    opt(&p.transfer_id),
                    p.payment_key.clone(),
                    p.id_number.clone(),
                    p.allowance.clone(),
                    p.tier.clone(),
                    p.service_month.clone(),
                    p.line_type.as_str().to_string(),
                    format_fen(p.amount_fen),
                    format_fen(p.lottery_fen),
                    format_fen(p.district_fen),
                    p.street_code.clone(),
                ]
            })
            .collect(),
    );
    let held = postings.iter().filter(|p| p.held_reason.is_some());
    let held_csv = person_lines_csv(format!("{id}-held.csv"), held, |p| {
        (p.amount_fen, p.held_reason.map(|h| h.as_str().to_string()).unwrap_or_default())
    });
    // A recovery item is stored as a negative line; the file lists what the person owes back.
    let recoveries = postings.iter().filter(|p| p.line_type == LineType::Recovery);
    let recoveries_csv =
        person_lines_csv(format!("{id}-recoveries.csv"), recoveries, |p| (-p.amount_fen, opt(&p.recovery_reason)));
    let order = payment_order(batch, transfers, &paid);
    vec![transfers_csv, lines_csv, held_csv, recoveries_csv, order]
}

/// A file of lines by person (`held.csv`, `recoveries.csv`): who, which allowance and month, the
/// amount and the reason `amount_and_reason` gives for each line.
fn person_lines_csv<'a>(
    name: String,
    lines: impl Iterator<Item = &'a PostingRow>,
    amount_and_reason: impl Fn(&PostingRow) -> (i64, String),
) -> PlatformFile {
    let rows = lines
        .map(|p| {
            let (amount_fen, reason) = amount_and_reason(p);
            vec![
                p.id_number.clone(),
                p.name.clone(),
                p.allowance.clone(),
                p.service_month.clone(),
                format_fen(amount_fen),
                reason,
            ]
        })
        .collect();
    csv_file(name, &["id_number", "name", "allowance", "service_month", "amount", "reason"], rows)
}

/// The payment order (支付令): totals by allowance and by fund, control sum.
fn payment_order(batch: &BatchRow, transfers: &[TransferRow], paid: &[&PostingRow]) -> PlatformFile {
    let mut by_allowance: BTreeMap<&str, i64> = BTreeMap::new();
    for t in transfers {
        *by_allowance.entry(&t.allowance).or_default() += t.amount_fen;
    }
    let lottery: i64 = paid.iter().map(|p| p.lottery_fen).sum();
    let district: i64 = paid.iter().map(|p| p.district_fen).sum();
    let held: i64 = batch.held_fen;
    let value = json!({
        "batch_id": batch.batch_id,
        "district": batch.district_code,
        "service_month": batch.service_month,
        "batch_kind": batch.kind,
        "transfer_count": transfers.len(),
        "control_sum": format_fen(transfers.iter().map(|t| t.amount_fen).sum()),
        "currency": "CNY",
        "totals_by_allowance": by_allowance.iter().map(|(a, f)| (a.to_string(), format_fen(*f))).collect::<BTreeMap<_, _>>(),
        "totals_by_fund": { "lottery": format_fen(lottery), "district": format_fen(district) },
        "held_total": format_fen(held),
        "recovery_total": format_fen(batch.recovery_fen),
        "run_by": batch.run_by,
        "approved_by": batch.approved_by,
        "policy_version": batch.policy_version,
    });
    let mut bytes = serde_json::to_vec_pretty(&value).expect("json");
    bytes.push(b'\n');
    PlatformFile { name: format!("{}-order.json", batch.batch_id), bytes, rows: 1 }
}

/// Every other file with size, rows and SHA-256; the encoding of the CSV files, the policy version
/// and the registry fingerprint.
fn manifest(batch: &BatchRow, files: &[PlatformFile], encoding: Encoding) -> PlatformFile {
    let entries: Vec<ManifestEntry> = files
        .iter()
        .map(|f| ManifestEntry {
            name: f.name.clone(),
            bytes: f.bytes.len() as u64,
            rows: f.rows as u64,
            sha256: crate::digest::sha256_hex(&f.bytes),
        })
        .collect();
    let value = json!({
        "batch_id": batch.batch_id,
        "encoding": encoding.name(),
        "files": entries,
        "policy_version": batch.policy_version,
        "registry_fingerprint": batch.registry_fingerprint,
    });
    let mut bytes = serde_json::to_vec_pretty(&value).expect("json");
    bytes.push(b'\n');
    PlatformFile { name: format!("{}-manifest.json", batch.batch_id), bytes, rows: entries.len() }
}

/// What `verify` found wrong, one sentence each.
pub fn compare(
    expected: &[PlatformFile],
    dir: &std::path::Path,
    batch: &BatchRow,
    transfers: &[TransferRow],
    postings: &[PostingRow],
) -> Vec<String> {
    let mut problems = Vec::new();
    for f in expected {
        match std::fs::read(dir.join(&f.name)) {
            Err(_) => problems.push(format!("{} is missing from {}", f.name, dir.display())),
            Ok(bytes) if bytes != f.bytes => problems.push(format!(
                "{} differs from the database ({} bytes on disk, {} expected; sha256 {} on disk)",
                f.name,
                bytes.len(),
                f.bytes.len(),
                crate::digest::sha256_hex(&bytes)
            )),
            Ok(_) => {}
        }
    }
    problems.extend(check_totals(batch, transfers, postings));
    problems
}

/// The database's own totals must agree with its rows: each transfer equals the sum of its lines,
/// each line's shares add up, the batch's control sum equals its transfers.
pub fn check_totals(batch: &BatchRow, transfers: &[TransferRow], postings: &[PostingRow]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_transfer: BTreeMap<&str, i64> = BTreeMap::new();
    for p in postings {
        if p.lottery_fen + p.district_fen != p.amount_fen {
            problems.push(format!("line {}: lottery + district ≠ amount (F2)", p.payment_key));
        }
        if let Some(t) = &p.transfer_id {
            *by_transfer.entry(t).or_default() += p.amount_fen;
        }
    }
    for t in transfers {
        let lines = by_transfer.get(t.transfer_id.as_str()).copied().unwrap_or(0);
        if lines != t.amount_fen {
            problems.push(format!(
                "transfer {}: amount {} but its lines add up to {}",
                t.transfer_id,
                format_fen(t.amount_fen),
                format_fen(lines)
            ));
        }
    }
    let sum: i64 = transfers.iter().map(|t| t.amount_fen).sum();
    if sum != batch.control_sum_fen || transfers.len() as i64 != batch.transfer_count {
        problems.push(format!(
            "batch {}: stored control sum {} over {} transfers, but the transfers add up to {} over {}",
            batch.batch_id,
            format_fen(batch.control_sum_fen),
            batch.transfer_count,
            format_fen(sum),
            transfers.len()
        ));
    }
    problems
}
