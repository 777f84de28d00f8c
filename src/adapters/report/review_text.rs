//! The monthly review as text: four parts a reviewer reads top to bottom — the bridge from last
//! month, why the regular lines changed, the totals against last month, the flags.

use super::review::{Flag, MonthReview, ReviewBatch, Total};
use super::text::pad;
use crate::money::format_yuan;
use rust_decimal::Decimal;

/// Terminal columns of the labels.
const LABEL: usize = 64;

/// The text form of the reviews.
pub fn review_text(reviews: &[MonthReview]) -> String {
    let mut s = String::new();
    for r in reviews {
        header(&mut s, r);
        bridge(&mut s, r);
        changes(&mut s, r);
        totals(&mut s, r);
        flags(&mut s, &r.flags);
        s += "\n";
    }
    s
}

/// A signed amount: `+12.00`, `-3.50`, `0.00`.
fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", format_yuan(d))
    } else {
        format_yuan(d)
    }
}

fn batch_line(b: &ReviewBatch) -> String {
    let approved = b.approved_by.as_deref().map(|a| format!(", approved by {a}")).unwrap_or_default();
    format!(
        "{} ({}, {}; run by {}{approved}): {} transfers, {} yuan",
        b.batch_id,
        b.kind,
        b.state,
        b.run_by,
        b.transfers,
        format_yuan(b.control_sum)
    )
}

fn header(s: &mut String, r: &MonthReview) {
    *s += &format!(
        "{}（{}）{} 月度发放审核 / review of service month {} against {}\n",
        r.district_name, r.district_code, r.month, r.month, r.previous_month
    );
    for b in &r.batches {
        *s += &format!("  本月批次 batch: {}\n", batch_line(b));
        if r.batches.len() > 1 {
            // Several batches stand for the month: what each adds (a correction's own lines).
            let own: Vec<String> =
                b.lines.iter().map(|t| format!("{} {} ({})", t.key, format_yuan(t.amount), t.lines)).collect();
            *s += &format!("      its lines: {}\n", if own.is_empty() { "none".into() } else { own.join(", ") });
        }
    }
    if r.previous_batches.is_empty() {
        *s += &format!("  上月批次 previous: none for {} (every regular line counts as new)\n", r.previous_month);
    }
    for b in &r.previous_batches {
        *s += &format!("  上月批次 previous: {}\n", batch_line(b));
    }
}

fn columns(s: &mut String, title: &str, a: &str, b: &str, c: &str) {
    *s += &format!("{}{:>16}{:>16}{:>16}\n", pad(title, LABEL), a, b, c);
}

fn bridge(s: &mut String, r: &MonthReview) {
    *s += "\n";
    columns(
        s,
        "一、本月与上月 / from last month to this month",
        &r.previous_month.to_string(),
        &r.month.to_string(),
        "change",
    );
    for l in &r.bridge {
        let label = format!("{}{} {}", if l.key == "to_pay" { "= " } else { "  " }, l.label.0, l.label.1);
        *s += &format!(
            "{}{:>16}{:>16}{:>16}\n",
            pad(&label, LABEL),
            format_yuan(l.previous),
            format_yuan(l.this),
            signed(l.change)
        );
    }
}

fn changes(s: &mut String, r: &MonthReview) {
    *s += "\n";
    *s += &format!(
        "{}{:>16}{:>16}\n",
        pad("二、当月应发为何变化 / why the regular lines changed", LABEL),
        "persons",
        "amount"
    );
    if r.regular_change.is_empty() {
        *s += "  无变化 / no change: the same persons at the same amounts\n";
    }
    for c in &r.regular_change {
        let kind = match c.kind {
            "new" => "新增 new entrant",
            "exit" => "减少 exit",
            "band" => "档次变化 band change",
            "rate" => "标准变化 rate change",
            _ => "其他 other",
        };
        let rule = if c.rule.is_empty() { String::new() } else { format!(" ({})", c.rule) };
        let label = format!("  {kind}: {} {}{rule}", c.allowance, c.detail);
        *s += &format!("{}{:>16}{:>16}\n", pad(&label, LABEL), c.persons, signed(c.amount));
    }
    let regular = r.bridge.iter().find(|l| l.key == "regular").map(|l| l.change).unwrap_or_default();
    *s += &format!("{}{:>16}{:>16}\n", pad("= 当月应发的变化 change of the regular lines", LABEL), "", signed(regular));
}

fn totals(s: &mut String, r: &MonthReview) {
    *s += "\n";
    columns(s, "三、本月实发分项 / to pay, by", &r.previous_month.to_string(), &r.month.to_string(), "change");
    let parts: [(&str, &[Total]); 5] = [
        ("按项目 allowance", &r.by_allowance),
        ("按档次 tier", &r.by_tier),
        ("按资金来源 fund (F2)", &r.by_fund),
        ("按街道 street", &r.by_street),
        ("暂缓发放 held, not paid (L3; every month held)", &r.held),
    ];
    for (title, rows) in parts {
        *s += &format!("  {title}\n");
        if rows.is_empty() {
            *s += "    none\n";
        }
        for t in rows {
            let label = if t.key.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !t.name.is_empty() {
                format!("    {}", t.name) // a hold: its name says the code
            } else {
                format!("    {} {}", t.key, t.name)
            };
            *s += &format!(
                "{}{:>16}{:>16}{:>16}\n",
                pad(&label, LABEL),
                format_yuan(t.previous),
                format_yuan(t.amount),
                signed(t.change)
            );
        }
    }
    let t = &r.recovery_items;
    *s += &format!(
        "{}{:>16}{:>16}{:>16}\n",
        pad("  追回 recovery items raised (owed back; not deducted)", LABEL),
        format_yuan(t.previous),
        format_yuan(t.amount),
        signed(t.change)
    );
}

fn flags(s: &mut String, flags: &[Flag]) {
    *s += "\n四、需要关注 / worth a look (IDs and accounts masked; `subsidy explain --id` shows one person)\n";
    for f in flags {
        let count = if f.more { format!("more than {}", f.persons.len()) } else { f.persons.len().to_string() };
        *s += &format!("  {}: {count}\n", f.rule);
        for p in &f.persons {
            let mut what = format!("to pay {}", format_yuan(p.to_pay));
            if f.kind == "far_above_usual" {
                what += &format!(", usually {}", format_yuan(p.usual));
            }
            if p.months > 0 {
                what += &format!(", {} {} months of arrears", p.allowance, p.months);
            }
            if !p.account_no.is_empty() {
                what = format!("account {}, {what}", p.account_no);
            }
            *s += &format!("    {} {}: {what}\n", p.id_number, p.name);
        }
    }
}

/// The CSV form: one row per line of each part (`section`: bridge, change, allowance, tier,
/// fund, street, held, recovery, and each flag's kind), amounts in yuan.
pub fn review_csv(reviews: &[MonthReview]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let header = [
        "district_code",
        "service_month",
        "section",
        "key",
        "name",
        "persons_or_lines",
        "previous",
        "amount",
        "change",
    ];
    w.write_record(header).expect("write");
    for r in reviews {
        let (d, m) = (r.district_code.clone(), r.month.to_string());
        let mut row =
            |section: &str, key: &str, name: &str, n: String, prev: String, amount: String, change: String| {
                w.write_record([d.as_str(), m.as_str(), section, key, name, &n, &prev, &amount, &change])
                    .expect("write");
            };
        for l in &r.bridge {
            let name = format!("{} {}", l.label.0, l.label.1);
            row(
                "bridge",
                l.key,
                &name,
                String::new(),
                format_yuan(l.previous),
                format_yuan(l.this),
                format_yuan(l.change),
            );
        }
        for c in &r.regular_change {
            let key = format!("{} {}", c.kind, c.allowance);
            let name = format!("{} {}", c.detail, c.rule);
            row("change", &key, &name, c.persons.to_string(), String::new(), String::new(), format_yuan(c.amount));
        }
        let recovery = std::slice::from_ref(&r.recovery_items);
        let parts: [(&str, &[Total]); 6] = [
            ("allowance", &r.by_allowance),
            ("tier", &r.by_tier),
            ("fund", &r.by_fund),
            ("street", &r.by_street),
            ("held", &r.held),
            ("recovery", recovery),
        ];
        for (section, rows) in parts {
            for t in rows {
                let (prev, amount, change) = (format_yuan(t.previous), format_yuan(t.amount), format_yuan(t.change));
                row(section, &t.key, &t.name, t.lines.to_string(), prev, amount, change);
            }
        }
        for f in &r.flags {
            for p in &f.persons {
                let key = if p.account_no.is_empty() {
                    p.id_number.clone()
                } else {
                    format!("{} {}", p.account_no, p.id_number)
                };
                let n = p.months.to_string();
                row(f.kind, &key, &p.name, n, format_yuan(p.usual), format_yuan(p.to_pay), String::new());
            }
            if f.more {
                // The list is cut at the review's length: say so rather than look complete.
                let note = "more persons flagged than listed";
                row(f.kind, "more", note, String::new(), String::new(), String::new(), String::new());
            }
        }
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}
