//! The monthly review of a month with a correction standing beside its exported regular batch:
//! the cast and July of `review.rs`; after July's batch is exported, `noacct` records an account
//! and July is rerun (L3: the first batch after an account is recorded pays what was held).
//!
//! R1 (exported) held `noacct`'s 2020-01 … 2020-06 (arrears, 6 × 100) and July (regular, 100);
//! C1 pays them: July as its first payment (regular, 100 = 100 + 0), the six months as arrears
//! (600). Every batch re-posts held lines, so R1's held postings are replaced by C1's paid ones:
//! each key counts once. The month then stands at: regular 2800 (R1's lines, noacct's July now
//! C1's), arrears 1200 (backpay) + 600, nothing held; to pay 3900 (R1) + 700 (C1) = 4600.

use crate::review::Cast;
use crate::scenario::{approve, export, month, DISTRICT, ELDERS, OPERATOR};
use crate::support::{eq, Case};
use libtest_mimic::Failed;
use subsidy::batch::{run_district, RunOutcome, RunRequest};
use subsidy::ledger::BatchKind;
use subsidy::money::format_yuan as y;
use subsidy::ops;
use subsidy::policy::PolicyBook;
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<Case> {
    crate::cases![review_correction_counts_each_held_key_once_l3]
}

async fn review_correction_counts_each_held_key_once_l3<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let c = Cast::new();
    let july = crate::review::july_with(s, &c, crate::review::Extra::default()).await?;
    let out = tempfile::tempdir()?;
    let r1 = "110102-2020-07-R1";
    approve(s, r1).await?;
    export(s, r1, out.path()).await?;
    crate::scenario::load(s, &[("elders.csv", &format!("{ELDERS}{}", c.noacct_with_account()))]).await?;
    let book = PolicyBook::new(s.policy_versions().await?)?;
    let req = RunRequest {
        month: month("2020-07"),
        by: OPERATOR.into(),
        kind: BatchKind::Correction,
        reason: Some("account recorded".into()),
        ..Default::default()
    };
    let c1 = match run_district(s, &book, month("2020-01"), DISTRICT, &req, crate::scenario::clock().now()).await? {
        RunOutcome::Computed(sum) => sum.batch_id,
        other => return Err(format!("rerun: expected a correction, got {other:?}").into()),
    };
    eq(c1.as_str(), "110102-2020-07-C1", "the correction")?;
    let r = ops::review::of_batch(s, &c1).await?;
    let bridge: Vec<String> =
        r.bridge.iter().map(|l| format!("{}: {} → {}", l.key, y(l.previous), y(l.this))).collect();
    eq(
        bridge,
        vec![
            "regular: 3500.00 → 2800.00".to_string(),
            "arrears: 0.00 → 1800.00".into(),
            "topup: 0.00 → 0.00".into(),
            "offset: 0.00 → 0.00".into(),
            // June held noacct's June; July holds nothing: C1 paid what R1 held.
            "held: -100.00 → 0.00".into(),
            "to_pay: 3400.00 → 4600.00".into(),
        ],
        "bridge with the correction",
    )?;
    let sums: Vec<(String, String)> = r.batches.iter().map(|b| (b.batch_id.clone(), y(b.control_sum))).collect();
    eq(sums, vec![(r1.to_string(), "3900.00".to_string()), (c1.clone(), "700.00".into())], "each batch's control sum")?;
    let own: Vec<String> =
        r.batches[1].lines.iter().map(|t| format!("{} {} ({})", t.key, y(t.amount), t.lines)).collect();
    eq(own, vec!["arrears 600.00 (6)".to_string(), "regular 100.00 (1)".into()], "C1's own lines")?;
    // noacct's July is still one regular line of 100: the change from June is the same as before.
    eq(&r.regular_change, &july.regular_change, "the regular lines' change, as before the correction")?;
    let held: Vec<String> =
        r.held.iter().map(|t| format!("{} {} {} {}", t.key, t.lines, y(t.previous), y(t.amount))).collect();
    eq(held, vec!["NO_ACCOUNT 0 600.00 0.00".to_string()], "held: June held six months, July none")?;
    Ok(())
}
