//! `reconcile`, `hold` and `release`: what the platform's answers changed, and the holds.

use super::print_json;
use crate::ledger::{FaultCode, TransferStatus};
use crate::money::format_fen;
use crate::ops::holds::HoldOutcome;
use crate::ops::reconcile::Reconciled;
use serde_json::json;

/// What a result file recorded.
pub fn reconciled(r: &Reconciled, json: bool) {
    if json {
        let recorded: serde_json::Map<String, serde_json::Value> = r
            .recorded
            .iter()
            .map(|(s, (n, fen))| (s.as_str().to_string(), json!({ "transfers": n, "amount": format_fen(*fen) })))
            .collect();
        let holds: Vec<_> = r
            .holds
            .iter()
            .map(|(id, code, t)| json!({ "id_number": id, "reason_code": code.as_str(), "transfer_id": t }))
            .collect();
        print_json(&json!({
            "file": r.file, "format": r.format, "district_code": r.district_code, "batches": r.batches,
            "answers": r.answers, "unchanged": r.unchanged, "recorded": recorded, "holds": holds,
        }));
        return;
    }
    println!(
        "{} ({}): {} answers for district {} (batches {})",
        r.file,
        match r.format {
            crate::ops::reconcile::ResultFormat::Csv => "result CSV",
            crate::ops::reconcile::ResultFormat::Pain002 => "ISO 20022 pain.002",
        },
        r.answers,
        if r.district_code.is_empty() { "-" } else { &r.district_code },
        r.batches.join(", ")
    );
    if r.recorded.is_empty() {
        println!("  nothing new: every answer was recorded before ({} unchanged)", r.unchanged);
        return;
    }
    for status in [TransferStatus::Paid, TransferStatus::Failed, TransferStatus::Returned] {
        if let Some((n, fen)) = r.recorded.get(&status) {
            println!("  {:<9} {n:>7} transfers {:>14} yuan", status.as_str(), format_fen(*fen));
        }
    }
    if r.unchanged > 0 {
        println!("  {} answers were recorded before (unchanged)", r.unchanged);
    }
    for (id, code, transfer) in &r.holds {
        println!("  held: {id} ({code}, transfer {transfer}): {}", code.cure());
        if *code == FaultCode::Deceased {
            println!("        review opened: the person is stopped from the next batch on");
        }
    }
    if !r.holds.is_empty() {
        println!("  their lines wait (L3); `subsidy status` lists what is held and failed");
    }
}

/// An operator's hold opened.
pub fn held(h: &HoldOutcome, json: bool) {
    let allowance = h.allowance.map_or("every allowance", |a| a.as_str());
    let id = h.holds.first().map_or(0, |(id, _)| *id);
    if json {
        print_json(&json!({ "id_number": h.id_number, "allowance": h.allowance, "hold_id": id }));
    } else {
        println!(
            "hold {id}: {} ({allowance}) held from the next batch on, until `subsidy release --id … --reason …`",
            h.id_number
        );
    }
}

/// Holds released.
pub fn released(h: &HoldOutcome, json: bool) {
    if json {
        let holds: Vec<_> = h.holds.iter().map(|(id, kind)| json!({ "hold_id": id, "kind": kind.as_str() })).collect();
        print_json(&json!({ "id_number": h.id_number, "allowance": h.allowance, "released": holds }));
    } else {
        for (id, kind) in &h.holds {
            println!("hold {id} ({}) of {} released: the next batch pays what waited", kind.as_str(), h.id_number);
        }
    }
}
