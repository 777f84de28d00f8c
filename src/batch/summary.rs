//! A batch's running totals: all a run keeps in memory besides one page of persons. Stored as
//! JSON with the batch, printed by `run`, `status` and the payment order.

use crate::codes::Allowance;
use crate::ledger::{BatchKind, LineType, LotteryPurse, Posting};
use crate::money::{format_yuan, to_fen};
use crate::month::ServiceMonth;
use crate::store::BatchTotals;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Totals of one allowance in a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceTotals {
    /// Transfers.
    pub transfers: u64,
    /// Sum of transfers, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
    /// Lottery share of paid lines, yuan.
    #[serde(rename = "lottery_amount", alias = "lottery", serialize_with = "crate::money::json::yuan")]
    pub lottery: Decimal,
    /// District share of paid lines, yuan.
    #[serde(rename = "district_amount", alias = "district", serialize_with = "crate::money::json::yuan")]
    pub district: Decimal,
}

/// Count and sum of one kind of line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountAmount {
    /// Number of postings.
    pub count: u64,
    /// Their sum, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub amount: Decimal,
}

/// F3: one year's lottery allocation as this batch leaves it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryYear {
    /// Year of the service months.
    pub year: i32,
    /// Allocation, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub allocation: Decimal,
    /// Remaining after this batch, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub remaining: Decimal,
    /// Lines whose lottery share was cut because the allocation ran out.
    pub exhausted_lines: u64,
    /// Lottery share moved to the district by exhaustion, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub shifted_to_district: Decimal,
}

/// F3: a year of the batch's lines with no allocation loaded for the district: nothing to draw,
/// the district pays all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingAllocation {
    /// Year of the service months.
    pub year: i32,
    /// Lines whose lottery share (F2) moved wholly to the district.
    pub lines: u64,
    /// Their lottery share, moved to the district, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub moved_to_district: Decimal,
}

/// Everything a run reports about one batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSummary {
    /// Batch id.
    pub batch_id: String,
    /// District.
    #[serde(rename = "district_code", alias = "district")]
    pub district: String,
    /// Service month.
    pub service_month: ServiceMonth,
    /// Regular or correction.
    pub kind: BatchKind,
    /// Who ran it.
    pub run_by: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// Policy version of the service month.
    pub policy_version: String,
    /// SHA-256 of the registry records read.
    pub registry_fingerprint: String,
    /// Number of transfers.
    pub transfer_count: u64,
    /// Sum of transfers, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub control_sum: Decimal,
    /// Per allowance.
    pub by_allowance: BTreeMap<Allowance, AllowanceTotals>,
    /// Per line type (regular, arrears, topup, offset, recovery), including held lines.
    pub by_line_type: BTreeMap<LineType, CountAmount>,
    /// Held lines (L3).
    pub held: CountAmount,
    /// Recovery items raised (amount positive: owed back).
    pub recoveries: CountAmount,
    /// Lottery share of paid lines, yuan.
    #[serde(rename = "lottery_amount", alias = "lottery", serialize_with = "crate::money::json::yuan")]
    pub lottery: Decimal,
    /// District share of paid lines, yuan.
    #[serde(rename = "district_amount", alias = "district_share", serialize_with = "crate::money::json::yuan")]
    pub district_share: Decimal,
    /// F3 per year.
    pub lottery_years: Vec<LotteryYear>,
    /// F3: years of the batch's lines with no allocation loaded (the district paid all).
    #[serde(default)]
    pub missing_allocations: Vec<MissingAllocation>,
    /// The unexported batch this one replaces (rerun).
    #[serde(default)]
    pub replaces: Option<String>,
    /// Whether only persons changed since the district's last batch were read.
    #[serde(default)]
    pub read_changed_only: bool,
    /// Persons read and settled.
    #[serde(default)]
    pub persons_read: u64,
    /// Postings carried over unchanged from the batch this one replaces.
    #[serde(default)]
    pub carried_postings: u64,
    /// Dry-run reruns: per person and allowance, what changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// Held lines of keys no counted batch held before (L3: news for the operator).
    #[serde(default)]
    pub new_holds: u64,
    /// Persons registered in this district and another for the same months through the batch's
    /// month (R1): those months are paid by neither until the registry is corrected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registered_twice: Vec<String>,
    /// Every posting computed (not carried), when the request asked to keep them; never stored.
    #[serde(skip)]
    pub postings: Vec<Posting>,
}

/// What a correction changes for one person and allowance (`rerun --dry-run`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Masked ID number.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Allowance.
    pub allowance: Allowance,
    /// Net paid through the month (L1), yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub net_paid: Decimal,
    /// Owed now through the month, yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub owed: Decimal,
    /// The postings' sum (held lines included), yuan.
    #[serde(serialize_with = "crate::money::json::yuan")]
    pub difference: Decimal,
}

impl BatchSummary {
    /// Count a posting.
    pub fn add_posting(&mut self, p: &Posting) {
        let t = self.by_line_type.entry(p.line_type).or_default();
        t.count += 1;
        t.amount += p.amount;
        if p.held.is_some() {
            self.held.count += 1;
            self.held.amount += p.amount;
        } else if p.line_type == LineType::Recovery {
            self.recoveries.count += 1;
            self.recoveries.amount -= p.amount;
        } else {
            let a = self.by_allowance.entry(p.key.allowance).or_default();
            a.lottery += p.split.lottery;
            a.district += p.split.district;
            self.lottery += p.split.lottery;
            self.district_share += p.split.district;
        }
    }

    /// Add what a replacing batch carried over from the batch it replaces.
    pub fn absorb_carried(&mut self, rows: &[crate::store::CarriedRow]) -> anyhow::Result<()> {
        use crate::money::yuan;
        for r in rows {
            let allowance = r.allowance;
            let Some(line_type) = r.line_type else {
                let a = self.by_allowance.entry(allowance).or_default();
                a.transfers += r.count as u64;
                a.amount += yuan(r.amount_fen);
                self.transfer_count += r.count as u64;
                self.control_sum += yuan(r.amount_fen);
                continue;
            };
            self.carried_postings += r.count as u64;
            let t = self.by_line_type.entry(line_type).or_default();
            t.count += r.count as u64;
            t.amount += yuan(r.amount_fen);
            if r.held {
                self.held.count += r.count as u64;
                self.held.amount += yuan(r.amount_fen);
            } else if line_type == LineType::Recovery {
                self.recoveries.count += r.count as u64;
                self.recoveries.amount -= yuan(r.amount_fen);
            } else {
                let a = self.by_allowance.entry(allowance).or_default();
                a.lottery += yuan(r.lottery_fen);
                a.district += yuan(r.district_fen);
                self.lottery += yuan(r.lottery_fen);
                self.district_share += yuan(r.district_fen);
            }
        }
        Ok(())
    }

    /// Count a transfer.
    pub fn add_transfer(&mut self, allowance: Allowance, amount: Decimal) {
        let a = self.by_allowance.entry(allowance).or_default();
        a.transfers += 1;
        a.amount += amount;
        self.transfer_count += 1;
        self.control_sum += amount;
    }

    /// The totals stored with the batch.
    pub fn totals(&self) -> BatchTotals {
        let fen = |d: Decimal| to_fen(d).expect("whole fen");
        BatchTotals {
            transfer_count: self.transfer_count as i64,
            control_sum_fen: fen(self.control_sum),
            lottery_fen: fen(self.lottery),
            district_fen: fen(self.district_share),
            held_fen: fen(self.held.amount),
            recovery_fen: fen(self.recoveries.amount),
            registry_fingerprint: self.registry_fingerprint.clone(),
            summary: serde_json::to_string(self).expect("summary serializes"),
        }
    }

    /// Text lines for the terminal.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "  transfers {:>7}  control sum {:>14} yuan  (lottery {}, district {})",
            self.transfer_count,
            format_yuan(self.control_sum),
            format_yuan(self.lottery),
            format_yuan(self.district_share)
        )];
        for (a, t) in &self.by_allowance {
            out.push(format!(
                "  {:<10} transfers {:>7}  amount {:>14}  lottery {:>13}  district {:>13}",
                a.as_str(),
                t.transfers,
                format_yuan(t.amount),
                format_yuan(t.lottery),
                format_yuan(t.district)
            ));
        }
        let types: Vec<String> = self
            .by_line_type
            .iter()
            .map(|(t, c)| format!("{} {} ({})", t.as_str(), c.count, format_yuan(c.amount)))
            .collect();
        out.push(format!("  lines: {}", if types.is_empty() { "none".into() } else { types.join(", ") }));
        if !self.registered_twice.is_empty() {
            out.push(format!(
                "  registered in two districts for the same months (R1): {} persons, paid by neither for those months until the registry is corrected (e.g. `subsidy explain --id` {})",
                self.registered_twice.len(),
                self.registered_twice.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if self.held.count > 0 {
            out.push(format!(
                "  held (L3): {} lines, {} yuan, listed in the held file with their reason, paid once it is cleared (an account recorded, a fault corrected, a release)",
                self.held.count,
                format_yuan(self.held.amount)
            ));
        }
        if self.recoveries.count > 0 {
            out.push(format!(
                "  recoveries (L2): {} items, {} yuan to collect",
                self.recoveries.count,
                format_yuan(self.recoveries.amount)
            ));
        }
        for y in &self.lottery_years {
            out.push(format!(
                "  lottery allocation {} (F3): {} yuan, {} left after this batch",
                y.year,
                format_yuan(y.allocation),
                format_yuan(y.remaining)
            ));
            if y.exhausted_lines > 0 {
                out.push(format!(
                    "  LOTTERY ALLOCATION {} USED UP: {} lines paid wholly by the district ({} yuan moved to the district)",
                    y.year,
                    y.exhausted_lines,
                    format_yuan(y.shifted_to_district)
                ));
            }
        }
        for m in &self.missing_allocations {
            out.push(format!("  {}", missing_allocation_text(&self.district, m)));
        }
        out
    }
}

/// F3: the run's sentence for a year without allocation.
pub fn missing_allocation_text(district: &str, m: &MissingAllocation) -> String {
    format!(
        "F3: no lottery allocation loaded for district {district}, year {}: the district pays all ({} line{}, {} yuan \
         moved to the district); load one with `subsidy policy load FILE`",
        m.year,
        m.lines,
        if m.lines == 1 { "" } else { "s" },
        format_yuan(m.moved_to_district)
    )
}

/// F3: the years without allocation the batch's lines fell in.
pub fn missing_allocations(purse: &LotteryPurse) -> Vec<MissingAllocation> {
    purse
        .unallocated
        .iter()
        .map(|(year, (lines, moved))| MissingAllocation { year: *year, lines: *lines, moved_to_district: *moved })
        .collect()
}

/// F3 figures per year after the batch.
pub fn lottery_lines(allocations: &BTreeMap<i32, Decimal>, purse: &LotteryPurse) -> Vec<LotteryYear> {
    allocations
        .iter()
        .map(|(year, allocation)| LotteryYear {
            year: *year,
            allocation: *allocation,
            remaining: purse.remaining.get(year).copied().unwrap_or_default(),
            exhausted_lines: purse.exhausted_lines.get(year).copied().unwrap_or(0),
            shifted_to_district: purse.shifted_to_district.get(year).copied().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// A summary stored before the JSON contract (issue 13) used other names and money as
    /// `Decimal`'s own string; the rerun reads it back (`settle.rs`), `status` prints it.
    #[test]
    fn a_summary_stored_with_the_old_names_reads_back_and_prints_with_the_new() {
        let old = r#"{"batch_id":"110101-2020-11-R1","district":"110101","service_month":"2020-11","kind":"regular",
            "run_by":"op","dry_run":false,"policy_version":"beijing-2019-v1","registry_fingerprint":"ab",
            "transfer_count":1,"control_sum":"100.00",
            "by_allowance":{"longevity":{"transfers":1,"amount":"100.00","lottery":"100.00","district":"0"}},
            "by_line_type":{"regular":{"count":1,"amount":"100.00"}},"held":{"count":0,"amount":"0"},
            "recoveries":{"count":0,"amount":"0"},"lottery":"100.00","district_share":"0",
            "lottery_years":[{"year":2020,"allocation":"50000.00","remaining":"49900.00","exhausted_lines":0,
            "shifted_to_district":"0"}],"missing_allocations":[],"replaces":null}"#;
        let read: BatchSummary = serde_json::from_str(old).expect("the old form reads back");
        assert_eq!((read.district.as_str(), read.lottery, read.district_share), ("110101", dec!(100.00), dec!(0)));
        let longevity = &read.by_allowance[&Allowance::Longevity];
        assert_eq!((longevity.lottery, longevity.district), (dec!(100.00), dec!(0)));
        let printed = serde_json::to_value(&read).expect("serializes");
        assert_eq!(printed["district_code"], "110101");
        assert_eq!((&printed["lottery_amount"], &printed["district_amount"]), (&"100.00".into(), &"0.00".into()));
        assert_eq!(printed["by_allowance"]["longevity"]["district_amount"], "0.00");
        assert_eq!(printed["held"]["amount"], "0.00");
        assert!(printed.get("district").is_none() && printed.get("district_share").is_none());
    }
}
