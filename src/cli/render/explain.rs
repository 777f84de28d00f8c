//! What `explain` prints: per allowance, the decision as the registry stands now with its rules,
//! the postings (payment keys masked), the net paid against what is owed now, and the decision as
//! each posting batch computed it.

use super::print_json;
use crate::eligibility::AllowanceDecision;
use crate::idcard::mask_key;
use crate::ledger::TransferStatus;
use crate::money::{format_fen, format_yuan};
use crate::ops::explain::{owed_fen, Explanation, Posted};
use crate::store::PostingRow;
use serde_json::json;

/// The posting's line type as printed.
fn line_type(p: &PostingRow) -> &'static str {
    p.line_type.as_str()
}

/// Why the posting is held, as printed, if it is.
fn held_reason(p: &PostingRow) -> Option<&'static str> {
    p.held_reason.map(|h| h.as_str())
}

/// `explain`, as text or one JSON object.
pub fn explanation(e: &Explanation, json: bool) {
    if json {
        explanation_json(e);
    } else {
        explanation_text(e);
    }
}

fn explanation_json(e: &Explanation) {
    let posted: Vec<serde_json::Value> = e
        .postings
        .iter()
        .map(|posted| {
            let p = &posted.posting;
            json!({ "payment_key": mask_key(&p.payment_key), "batch_id": p.batch_id, "batch_state": posted.batch_state,
                    "allowance": p.allowance, "line_type": line_type(p), "tier": p.tier,
                    "amount": format_fen(p.amount_fen), "lottery_amount": format_fen(p.lottery_fen),
                    "district_amount": format_fen(p.district_fen), "held": held_reason(p), "transfer_id": p.transfer_id,
                    "transfer_status": posted.transfer_status.map(|(s, _)| s.as_str()),
                    "reason_code": posted.transfer_status.and_then(|(_, c)| c).map(|c| c.as_str()),
                    "counts": posted.counts() })
        })
        .collect();
    let batches: Vec<serde_json::Value> = e
        .as_computed
        .iter()
        .map(|b| json!({ "batch_id": b.batch_id, "state": b.state, "registry_after_import": b.registry_after_import, "allowances": b.allowances }))
        .collect();
    print_json(
        &json!({ "id_number": e.masked_id, "service_month": e.month, "allowances": e.decisions, "postings": posted, "as_computed": batches }),
    );
}

fn explanation_text(e: &Explanation) {
    println!("{} in {} — as the registry stands now", e.masked_id, e.month);
    for d in &e.decisions {
        decision(d, "");
        let mine = e.postings_of(d.allowance);
        if mine.is_empty() {
            println!("  paid: nothing posted for this month");
            continue;
        }
        println!("  postings (L4 payment keys):");
        for posted in &mine {
            posting(posted);
        }
        println!(
            "  net paid (L1): {} yuan; owed now: {} yuan",
            format_fen(e.net_paid_fen(d.allowance)),
            format_fen(owed_fen(d))
        );
        for b in &e.as_computed {
            if !mine.iter().any(|p| p.posting.batch_id == b.batch_id) {
                continue;
            }
            println!(
                "  as computed in {} ({}, registry after import {}):",
                b.batch_id,
                b.state.as_str(),
                b.registry_after_import
            );
            if let Some(then) = b.allowances.iter().find(|t| t.allowance == d.allowance) {
                decision(then, "    ");
            }
        }
    }
}

fn posting(posted: &Posted) {
    let p = &posted.posting;
    let note = match (held_reason(p), posted.counts()) {
        (Some(h), _) => format!("held: {h}"),
        (None, false) if !posted.batch_state.counts() => format!("not counted: batch {}", posted.batch_state.as_str()),
        (None, _) => match (&p.transfer_id, posted.transfer_status) {
            (None, _) => "no transfer".into(),
            (Some(t), None | Some((TransferStatus::Pending, _))) => format!("transfer {t}"),
            (Some(t), Some((status, None))) => format!("transfer {t} {status}"),
            (Some(t), Some((status, Some(code)))) => format!("transfer {t} {status} {code}: not counted (L1)"),
        },
    };
    println!(
        "    {:<40} {:<20} {:<9} {:<6} {:>9} (lottery {}, district {})  {note}",
        mask_key(&p.payment_key),
        p.batch_id,
        line_type(p),
        p.tier,
        format_fen(p.amount_fen),
        format_fen(p.lottery_fen),
        format_fen(p.district_fen)
    );
}

fn decision(d: &AllowanceDecision, indent: &str) {
    match &d.owed {
        Some(e) => println!(
            "\n{indent}{}: owed {} yuan, tier {}, district {} (lottery {}, district {})",
            d.allowance,
            format_yuan(e.amount),
            e.tier,
            e.district,
            format_yuan(e.split.lottery),
            format_yuan(e.split.district)
        ),
        None => println!("\n{indent}{}: not owed", d.allowance),
    }
    for r in &d.reasons {
        println!("{indent}  {:<3} {}", r.rule, r.detail);
    }
}
