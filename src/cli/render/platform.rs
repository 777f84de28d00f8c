//! `reconcile`, `hold` and `release`: what the platform's answers changed, and the holds.

use super::print_json;
use crate::idcard::mask;
use crate::ledger::{FaultCode, TransferStatus};
use crate::money::format_fen;
use crate::ops::holds::HoldOutcome;
use crate::ops::ledger::LedgerCheck;
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
            "cancelled_recoveries": r.cancelled_recoveries,
            "not_final": r.not_final.iter().map(|(t, s)| json!({ "transfer_id": t, "status": s })).collect::<Vec<_>>(),
            "not_final_more": r.not_final_more,
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
    for (t, status) in &r.not_final {
        println!("  still in process ({status}): transfer {t} stays pending until a final answer");
    }
    if r.not_final_more > 0 {
        println!("  … and {} more transfers still in process: they stay pending too", r.not_final_more);
    }
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
    for key in &r.cancelled_recoveries {
        println!("  recovery item {key} cancelled: the bank returned the payment it recovered");
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

/// `verify --ledger`: the totals, then each person-month that does not balance.
pub fn ledger_checked(c: &LedgerCheck, json: bool) {
    let t = &c.totals;
    if json {
        let breaches: Vec<_> = c
            .breaches
            .iter()
            .map(|b| {
                json!({ "id_number": mask(&b.id_number), "allowance": b.allowance, "service_month": b.month.to_string(),
                        "owed": format_fen(b.account.owed), "paid": format_fen(b.account.paid),
                        "held": format_fen(b.account.held), "waiting": format_fen(b.account.waiting),
                        "recovered": format_fen(b.account.recovered) })
            })
            .collect();
        print_json(&json!({
            "person_months": t.keys, "unsettled": t.unsettled, "owed": format_fen(t.sum.owed),
            "paid": format_fen(t.sum.paid), "held": format_fen(t.sum.held), "waiting": format_fen(t.sum.waiting),
            "recovered": format_fen(t.sum.recovered), "balanced": c.breaches.is_empty(), "breaches": breaches,
        }));
        return;
    }
    let through: Vec<String> = c.districts.iter().map(|(d, m)| format!("{d} through {m}")).collect();
    println!(
        "ledger: {} person-months checked ({})",
        t.keys,
        if through.is_empty() { "no batch yet".to_string() } else { through.join(", ") }
    );
    println!(
        "  owed {} = paid {} + held {} + waiting on failed or returned transfers {} + recovered {}",
        format_fen(t.sum.owed),
        format_fen(t.sum.paid),
        format_fen(t.sum.held),
        format_fen(t.sum.waiting),
        format_fen(t.sum.recovered)
    );
    if t.unsettled > 0 {
        let why = if c.policy_since { "a policy version was loaded" } else { "their records changed" };
        println!(
            "  {} person-months not settled yet ({why} since the last batch): the next `subsidy run` or `subsidy rerun` settles them",
            t.unsettled
        );
    }
    if c.breaches.is_empty() {
        println!("every person-month balances: nothing paid twice, nothing lost");
        return;
    }
    println!("{} person-months do NOT balance (report this; nothing was changed):", c.breaches.len());
    println!(
        "  {:<20} {:<10} {:<7} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "id_number", "allowance", "month", "owed", "paid", "held", "waiting", "recovered"
    );
    for b in &c.breaches {
        let a = &b.account;
        println!(
            "  {:<20} {:<10} {:<7} {:>10} {:>10} {:>10} {:>10} {:>10}",
            mask(&b.id_number),
            b.allowance.as_str(),
            b.month.to_string(),
            format_fen(a.owed),
            format_fen(a.paid),
            format_fen(a.held),
            format_fen(a.waiting),
            format_fen(a.recovered)
        );
    }
}
