//! What `status` prints: a table of batches, totals per state, the ledger's self-check, held
//! lines waiting, missing allocations and recovery items (payment keys masked).

use super::print_json;
use crate::idcard::{mask, mask_key};
use crate::ledger::{BatchState, FaultCode, HoldKind, TransferStatus};
use crate::money::format_fen;
use crate::ops::status::{Answers, Status};
use crate::store::WaitingKind;
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
            (serde_json::to_value(state).expect("standing").as_str().unwrap_or_default().to_string(), v)
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
    let batches: Vec<serde_json::Value> = st
        .batches
        .iter()
        .map(|b| {
            let mut v = serde_json::to_value(b).expect("serializable batch");
            v["summary"] = json!(super::batch::stored_summary(b));
            if let Some((standing, answers)) = st.standing.get(&b.batch_id) {
                v["state"] = json!(standing);
                v["transfers_by_status"] = answers_json(answers);
            }
            v
        })
        .collect();
    let waiting: Vec<serde_json::Value> = st
        .waiting
        .iter()
        .map(|((kind, reason), t)| {
            json!({ "kind": kind, "reason": reason, "lines": t.lines, "persons": t.persons, "amount": format_fen(t.fen) })
        })
        .collect();
    let holds: Vec<serde_json::Value> = st
        .holds
        .iter()
        .map(|h| {
            json!({ "hold_id": h.hold_id, "id_number": mask(&h.id_number), "allowance": h.allowance,
                    "kind": h.kind.as_str(), "transfer_id": h.transfer_id, "opened_at": h.opened_at,
                    "opened_by": h.opened_by, "reason": h.reason, "cured": h.cure(), "review_open": h.review_open() })
        })
        .collect();
    print_json(&json!({
        "batches": batches,
        "transfers_by_status": answers_json(&st.answers),
        "waiting": waiting,
        "holds": holds,
        "by_state": states,
        "ledger": { "balances": format_fen(st.balances_fen), "net_paid": format_fen(st.counted_postings_fen), "consistent": st.consistent() },
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
        "{:<22} {:<14} {:>9} {:>15} {:>12} {:>12}  run by / approved by",
        "batch", "state", "transfers", "control sum", "held", "recoveries"
    );
    for b in &st.batches {
        let note = match (&b.state_reason, b.state) {
            (Some(r), BatchState::Superseded | BatchState::Discarded) if !r.is_empty() => format!("  ({r})"),
            _ => String::new(),
        };
        let standing = st.standing.get(&b.batch_id).map_or(b.state.as_str(), |(s, _)| s.as_str());
        println!(
            "{:<22} {:<14} {:>9} {:>15} {:>12} {:>12}  {} / {}{note}",
            b.batch_id,
            standing,
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
            "{:<14} {:>4} batches, {:>9} transfers, control sum {:>15}, held {:>12}, recoveries {:>12}",
            state.as_str(),
            t.batches,
            t.transfers,
            format_fen(t.control_sum_fen),
            format_fen(t.held_fen),
            format_fen(t.recovery_fen)
        );
    }
    platform_text(st);
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

fn answers_json(a: &Answers) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> = a
        .iter()
        .map(|(s, (n, fen))| (s.as_str().to_string(), json!({ "transfers": n, "amount": format_fen(*fen) })))
        .collect();
    serde_json::Value::Object(m)
}

/// The platform's answers, what waits (L3) and the holds.
fn platform_text(st: &Status) {
    let answered: Vec<String> =
        [TransferStatus::Paid, TransferStatus::Failed, TransferStatus::Returned, TransferStatus::Pending]
            .iter()
            .filter_map(|s| st.answers.get(s).map(|(n, fen)| format!("{} {n} ({} yuan)", s.as_str(), format_fen(*fen))))
            .collect();
    if !answered.is_empty() {
        println!("transfers: {}", answered.join(", "));
    }
    let held: i64 = st.waiting.iter().filter(|((k, _), _)| *k == WaitingKind::Held).map(|(_, t)| t.fen).sum();
    let failed: i64 = st.waiting.iter().filter(|((k, _), _)| *k != WaitingKind::Held).map(|(_, t)| t.fen).sum();
    let recovered: i64 = st.recoveries.iter().map(|r| r.amount_fen).sum();
    println!(
        "owed as the ledger stands {} yuan = paid {} + held {} + failed or returned, not yet re-issued {} - recovered {} \
         (`subsidy verify --ledger` checks it against the rules)",
        format_fen(st.counted_postings_fen + held + failed),
        format_fen(st.counted_postings_fen + recovered),
        format_fen(held),
        format_fen(failed),
        format_fen(recovered)
    );
    for ((kind, reason), t) in &st.waiting {
        let next = match (kind, FaultCode::parse(reason)) {
            (WaitingKind::Held, _) if reason == "NO_ACCOUNT" => "paid once an account is recorded".to_string(),
            (WaitingKind::Held, _) if reason == "OTHER_DISTRICT_PAID" => {
                "paid once the other district has recovered its payment".to_string()
            }
            (WaitingKind::Held, _) if reason == "ON_HOLD" => "held by an operator until `subsidy release`".to_string(),
            (WaitingKind::Held, Some(code)) => code.cure().to_string(),
            (_, _) => "settled by the next batch (held there while the fault lasts)".to_string(),
        };
        println!(
            "  {:<8} {:<19} {:>6} lines {:>5} persons {:>12} yuan: {next}",
            format!("{kind:?}").to_lowercase(),
            reason,
            t.lines,
            t.persons,
            format_fen(t.fen)
        );
    }
    let open: Vec<_> = st.holds.iter().filter(|h| h.cure().is_none()).collect();
    let cured = st.holds.len() - open.len();
    if !st.holds.is_empty() {
        println!(
            "holds: {} open{}",
            open.len(),
            if cured > 0 {
                format!(", {cured} cured by the registry (a new account or a corrected row)")
            } else {
                String::new()
            }
        );
    }
    for h in open {
        let what = match h.kind {
            HoldKind::OnHold => format!("ON_HOLD by {}: {}", h.opened_by, h.reason),
            HoldKind::Fault(code) => format!(
                "{code} (transfer {}){}",
                h.transfer_id.as_deref().unwrap_or("-"),
                match (h.review_open(), h.death_date) {
                    (true, _) => ", REVIEW OPEN: no death date recorded".to_string(),
                    (false, Some(d)) if h.kind == HoldKind::Fault(FaultCode::Deceased) => format!(
                        ", death recorded {d}: months after it are not owed; any still owed stay held until a new account or a release"
                    ),
                    _ => String::new(),
                }
            ),
        };
        println!(
            "  hold {:<4} {} {:<9} since {}: {what}",
            h.hold_id,
            mask(&h.id_number),
            h.allowance.map_or("all", |a| a.as_str()),
            h.opened_at.get(..10).unwrap_or(&h.opened_at)
        );
    }
}
