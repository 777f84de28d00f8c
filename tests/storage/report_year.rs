//! The year's report (`report --year`, F5) on both databases, hand-checked on the cast of
//! [`crate::review`] with its late news (a death and a suspension reported before July's run:
//! a recovery item and an offset), July approved and exported, August computed and left so.
//!
//! F5: person-times are the (person, allowance, service month) whose net paid is above zero; the
//! net counts the lines of exported batches (L1), not held, recovery items subtracted. Per person
//! over the exported months 2020-01 … 2020-07 (rates of fixtures/policy/beijing-2019.toml, F2
//! shares lottery + district; the age band is 2020 − the birth year):
//!
//! | elder      | band  | months paid (net > 0)                           | amount | lottery | district |
//! |------------|-------|--------------------------------------------------|--------|---------|----------|
//! | `oldest`   | 100+  | Jan–Jul at 800                                   | 5600   | 2100    | 3500     |
//! | `almost`   | 100+  | Jan–Jul at 800                                   | 5600   | 2100    | 3500     |
//! | `leaves`   | 100+  | Jan–Jun at 800 (out of Beijing in June, T3)      | 4800   | 1800    | 3000     |
//! | `dies`     | 90-99 | Jan–Jun at 500 (died in June, T3)                | 3000   | 1200    | 1800     |
//! | `ninety`   | 90-99 | Jan–May at 100; June paid 100, offset −100 in July (T4): net 0; July 500 | 1000 | 700 | 300 |
//! | `mover`    | 80-89 | Jan–Jun at 100 (to Dongcheng from July, T3/R1)   | 600    | 600     | 0        |
//! | `steady`   | 80-89 | Jan–May at 100; June paid 100, recovered in July (died in May, T3): net 0 | 500 | 500 | 0 |
//! | `noacct`   | 80-89 | none: every month held (L3)                      | 0      | 0       | 0        |
//! | `husband`  | 80-89 | Jan–Jul at 100                                   | 700    | 700     | 0        |
//! | `wife`     | 80-89 | Jan–Jul at 100                                   | 700    | 700     | 0        |
//! | `newcomer` | 80-89 | Jul at 100                                       | 100    | 100     | 0        |
//! | `backpay`  | 70-79 | care C Jan–Jul at 200 (Jan–Jun as July's arrears) | 1400  | 700     | 700      |
//!
//! Longevity: 7 + 7 + 6 + 6 + 6 + 6 + 5 + 7 + 7 + 1 = 58 person-times, 22,600 yuan = 10,500 +
//! 12,100; care 7, 1,400 = 700 + 700; hardship none. August (computed, not exported) is not paid:
//! it holds 2,600 yuan for the year (oldest, almost 800; ninety 500; husband, wife, newcomer 100;
//! backpay 200), lottery 300 + 300 + 200 + 3 × 100 + 100 = 1,200, which the allocation counts as
//! drawn: 101,247,600 − 11,200 used − 1,200 pending = 101,235,200 left (F3).

use crate::review::{july_with, late_news, run, Cast};
use crate::scenario::{approve, export, DISTRICT};
use crate::support::eq;
use libtest_mimic::Failed;
use subsidy::adapters::report::{text, AllowanceFigures, DistrictReport};
use subsidy::money::format_yuan;
use subsidy::ops;
use subsidy::policy::PolicyBook;
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![report_year_f5_counts_positive_nets_of_exported_batches_f3_pending_apart]
}

/// `name: person-times, amount (万元) = lottery + district` of a row of figures.
fn figures(f: &AllowanceFigures) -> String {
    format!(
        "{}: {}, {} ({}) = {} + {}",
        f.name,
        f.person_times,
        format_yuan(f.amount),
        f.amount_wan,
        format_yuan(f.lottery),
        format_yuan(f.district)
    )
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn report_year_f5_counts_positive_nets_of_exported_batches_f3_pending_apart<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let c = Cast::new();
    july_with(s, &c, late_news(&c)).await?;
    let out = tempfile::tempdir()?;
    approve(s, "110102-2020-07-R1").await?;
    export(s, "110102-2020-07-R1", out.path()).await?;
    let book = PolicyBook::new(s.policy_versions().await?)?;
    eq(run(s, &book, "2020-08").await?.as_str(), "110102-2020-08-R1", "August, computed")?;
    let mut reports = ops::report::report(s, Some(DISTRICT), 2020, None).await?;
    eq(reports.len(), 1, "Xicheng's report")?;
    let r: DistrictReport = reports.pop().ok_or("no report")?;

    let rows: Vec<String> = r.allowances.iter().chain([&r.total]).map(figures).collect();
    eq(
        rows,
        strings(&[
            "失能老年人护理补贴: 7, 1400.00 (0.14) = 700.00 + 700.00",
            "高龄津贴: 58, 22600.00 (2.26) = 10500.00 + 12100.00",
            "困难老年人养老服务补贴: 0, 0.00 (0) = 0.00 + 0.00",
            "合计: 65, 24000.00 (2.4) = 11200.00 + 12800.00",
        ]),
        "section 一: per allowance and in total",
    )?;
    let lottery = [r.lottery_allocation, Some(r.lottery_used), Some(r.lottery_not_exported), r.lottery_remaining];
    eq(
        lottery.iter().map(|a| a.map(format_yuan).unwrap_or_default()).collect(),
        strings(&["101247600.00", "11200.00", "1200.00", "101235200.00"]),
        "F3: allocation, used, pending, left",
    )?;
    eq(r.missing_allocation.as_deref(), None, "Xicheng 2020 has its allocation")?;
    let n = &r.not_exported;
    let pending: Vec<String> = n.batches.iter().map(|b| format!("{} {} {}", b.batch_id, b.state, b.amount)).collect();
    eq(pending, strings(&["110102-2020-08-R1 computed 2600.00"]), "not exported")?;
    eq(
        (format_yuan(n.amount), format_yuan(n.lottery), format_yuan(n.district)),
        ("2600.00".into(), "1200.00".into(), "1400.00".into()),
        "not exported: amount = lottery + district",
    )?;

    // By service month: Jan–May 9 longevity (3400 = 1600 + 1800) and backpay's care (200 =
    // 100 + 100); June without steady and ninety (nets 0); July: oldest, almost, ninety at 500,
    // husband, wife, newcomer and backpay; August is not exported.
    let months: Vec<String> = r
        .by_month
        .iter()
        .map(|m| format!("{} {}", m.month, figures(&m.total)))
        .filter(|m| !m.ends_with(": 0, 0.00 (0) = 0.00 + 0.00"))
        .collect();
    eq(
        months,
        strings(&[
            "2020-01 合计: 10, 3600.00 (0.36) = 1700.00 + 1900.00",
            "2020-02 合计: 10, 3600.00 (0.36) = 1700.00 + 1900.00",
            "2020-03 合计: 10, 3600.00 (0.36) = 1700.00 + 1900.00",
            "2020-04 合计: 10, 3600.00 (0.36) = 1700.00 + 1900.00",
            "2020-05 合计: 10, 3600.00 (0.36) = 1700.00 + 1900.00",
            "2020-06 合计: 8, 3400.00 (0.34) = 1500.00 + 1900.00",
            "2020-07 合计: 7, 2600.00 (0.26) = 1200.00 + 1400.00",
        ]),
        "by service month (the months with a payment)",
    )?;
    eq(r.by_month.len(), 12, "every month of the year listed")?;
    let care: Vec<i64> = r.by_month.iter().map(|m| m.allowances[0].person_times).collect();
    eq(care, vec![1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], "care person-times by service month (backpay)")?;

    let streets: Vec<String> = r
        .by_street
        .iter()
        .map(|st| {
            format!("{} {} {}: {}, {}", st.street_code, st.name, st.recipients, st.total.person_times, st.total.amount)
        })
        .collect();
    eq(
        streets,
        strings(&[
            // oldest 7, almost 7, steady 5, husband 7, wife 7, newcomer 1 (noacct never paid).
            "110102007 月坛 6: 34, 13200.00",
            // leaves 6, dies 6, ninety 6, mover 6, backpay 7.
            "110102009 展览路 5: 31, 10800.00",
        ]),
        "by street",
    )?;
    let bands: Vec<String> = r
        .by_age_band
        .iter()
        .map(|b| format!("{:?} {}: {}, {}", b.band, b.recipients, b.person_times, b.amount))
        .collect();
    eq(
        bands,
        strings(&[
            "Under70 0: 0, 0",
            // backpay, 70.
            "From70To79 1: 7, 1400.00",
            // mover 6, steady 5, husband 7, wife 7, newcomer 1.
            "From80To89 5: 26, 2600.00",
            // dies 6, ninety 6.
            "From90To99 2: 12, 4000.00",
            // oldest and almost (110 in 2020), leaves.
            "From100 3: 20, 16000.00",
        ]),
        "by age band",
    )?;

    // The text form prints section 一 with these figures.
    let printed = text(std::slice::from_ref(&r));
    for line in [
        "西城区（110102）2020 年 老年人津贴补贴发放情况",
        "资金额度（市级彩票公益金）：10124.76 万元；已使用 1.12 万元（0.01%），待发 0.12 万元，结余 10123.52 万元",
        "发放失能老年人护理补贴 7 人次，资金 0.14 万元（含区财政配套资金 0.07 万元）",
        "发放高龄津贴 58 人次，资金 2.26 万元（含区财政配套资金 1.21 万元）",
        "发放困难老年人养老服务补贴 0 人次，资金 0 万元（含区财政配套资金 0 万元）",
        "发放合计 65 人次，资金 2.4 万元（含区财政配套资金 1.28 万元）",
    ] {
        crate::support::check(printed.contains(line), format!("the text form prints {line}:\n{printed}"))?;
    }
    Ok(())
}
