//! What `status` prints: a table of batches, totals per state, the ledger's self-check, held
//! lines waiting, missing allocations and recovery items (payment keys masked).

use super::print_json;
use crate::idcard::mask_key;
use crate::ledger::BatchState;
use crate::money::format_fen;
use crate::ops::status::Status;
use serde_json::json;

/// `status`, as text or one JSON object; `list_recoveries` lists every recovery item.
pub fn status(st: &Status, list_recoveries: bool, json: bool) {
    if json {
        status_json(st);
    } else {
        status_text(st, list_recoveries);
    }
}

fn status_json(st: &Status) {
    let masked: Vec<serde_json::Value> = st
        .recoveries
        .iter()
        .map(|r| {
            json!({ "payment_key": mask_key(&r.payment_key), "batch_id": r.batch_id, "allowance": r.allowance,
                    "service_month": r.service_month, "amount": format_fen(r.amount_fen),
                    "reason": r.reason, "decision": r.decision, "decided_by": r.decided_by })
        })
        .collect();
    let states: serde_json::Map<String, serde_json::Value> = st
        .by_state
        .iter()
        .map(|(state, t)| {
            let v = json!({ "batches": t.batches, "transfers": t.transfers, "control_sum": format_fen(t.control_sum_fen),
                            "held": format_fen(t.held_fen), "recoveries": format_fen(t.recovery_fen) });
            (state.as_str().to_string(), v)
        })
        .collect();
    let held: Vec<serde_json::Value> =
        st.held_by_district.iter().map(|(d, f)| json!({ "district_code": d, "amount": format_fen(*f) })).collect();
    let missing: Vec<serde_json::Value> = st
        .missing_allocations
        .iter()
        .map(|m| json!({ "district_code": m.district, "year": m.year, "message": m.message() }))
        .collect();
    let outstanding = st.outstanding();
    print_json(&json!({
        "batches": st.batches,
        "by_state": states,
        "ledger": { "balances_fen": st.balances_fen, "counted_postings_fen": st.counted_postings_fen, "consistent": st.consistent() },
        "recoveries": { "outstanding_count": outstanding.len(), "outstanding": format_fen(st.outstanding_fen()), "items": masked },
        "held_waiting": format_fen(st.held_waiting_fen()),
        "held_waiting_by_district": held,
        "missing_allocations": missing,
    }));
}

fn status_text(st: &Status, list_recoveries: bool) {
    if st.batches.is_empty() {
        println!("no batches yet; `subsidy run --month YYYY-MM` computes one");
    }
    println!(
        "{:<22} {:<10} {:>9} {:>15} {:>12} {:>12}  run by / approved by",
        "batch", "state", "transfers", "control sum", "held", "recoveries"
    );
    for b in &st.batches {
        let note = match (&b.state_reason, b.state) {
            (Some(r), BatchState::Superseded | BatchState::Discarded) if !r.is_empty() => format!("  ({r})"),
            _ => String::new(),
        };
        println!(
            "{:<22} {:<10} {:>9} {:>15} {:>12} {:>12}  {} / {}{note}",
            b.batch_id,
            b.state.as_str(),
            b.transfer_count,
            format_fen(b.control_sum_fen),
            format_fen(b.held_fen),
            format_fen(b.recovery_fen),
            b.run_by,
            b.approved_by.as_deref().unwrap_or("-")
        );
    }
    let note = if st.consistent() { "consistent" } else { "INCONSISTENT: report this" };
    println!("ledger: net paid {} yuan over all batches (balances {note})", format_fen(st.counted_postings_fen));
    for (state, t) in &st.by_state {
        println!(
            "{:<10} {:>4} batches, {:>9} transfers, control sum {:>15}, held {:>12}, recoveries {:>12}",
            state.as_str(),
            t.batches,
            t.transfers,
            format_fen(t.control_sum_fen),
            format_fen(t.held_fen),
            format_fen(t.recovery_fen)
        );
    }
    println!(
        "held, waiting (L3: the latest posting of each held person-month, paid once an account is recorded): {} yuan",
        format_fen(st.held_waiting_fen())
    );
    if st.held_by_district.len() > 1 {
        for (d, f) in &st.held_by_district {
            println!("  district {d}: {} yuan", format_fen(*f));
        }
    }
    for m in &st.missing_allocations {
        println!("{}", m.message());
    }
    let outstanding = st.outstanding();
    println!(
        "recoveries outstanding: {} items, {} yuan (collected or waived: {})",
        outstanding.len(),
        format_fen(st.outstanding_fen()),
        st.recoveries.len() - outstanding.len()
    );
    if list_recoveries {
        for r in &st.recoveries {
            println!(
                "  {:<40} {:<20} {:>9}  {}  {}",
                mask_key(&r.payment_key),
                r.batch_id,
                format_fen(r.amount_fen),
                r.decision.as_deref().unwrap_or("OUTSTANDING"),
                r.reason.as_deref().unwrap_or("")
            );
        }
    } else if !outstanding.is_empty() {
        println!(
            "  `subsidy status --recoveries` lists them; `subsidy recovery --key KEY --collected|--waived` closes one"
        );
    }
}
