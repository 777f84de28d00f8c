//! The ledger core (L1–L4), pure: given what a person is owed in one district and what that
//! district's batches have already paid (net, L1), the postings of the next batch (L2): regular,
//! arrears and top-up lines for positive differences, offsets against the same allowance's
//! positive lines in the batch, recovery items for what no line absorbs, held lines for persons
//! who cannot be paid (L3), each with its payment key (L4) and fund shares (F2). The lottery
//! allocation is drawn afterwards, in payment-key order, by [`LotteryPurse`] (F3).

mod holds;
pub mod invariant;
mod keys;
mod purse;
mod results;
mod state;

pub use holds::{Cure, HoldKind, OpenHold, PersonHolds};
pub use keys::{batch_id, transfer_id, BatchKind, PaymentKey};
pub use purse::LotteryPurse;
pub use results::{FaultCode, TransferResult, TransferStatus};
pub use state::{BatchState, COUNTED};

use crate::codes::Allowance;
use crate::eligibility::Entitlement;
use crate::month::ServiceMonth;
use crate::policy::FundSplit;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// The type of a posting (lines.csv `line_type`, plus recovery items).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineType {
    /// The batch's own service month, first payment.
    Regular,
    /// An earlier month, first payment.
    Arrears,
    /// More for a month already paid.
    Topup,
    /// Less for a month already paid, absorbed by the batch's positive lines.
    Offset,
    /// Less for a month already paid, not absorbed: a debt of the person (追回).
    Recovery,
}

impl LineType {
    /// Text stored and written.
    pub fn as_str(self) -> &'static str {
        match self {
            LineType::Regular => "regular",
            LineType::Arrears => "arrears",
            LineType::Topup => "topup",
            LineType::Offset => "offset",
            LineType::Recovery => "recovery",
        }
    }

    /// Parse stored text.
    pub fn parse(s: &str) -> Option<LineType> {
        [LineType::Regular, LineType::Arrears, LineType::Topup, LineType::Offset, LineType::Recovery]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for LineType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that widths and alignment (`{:<9}`) apply as they do to the text.
        f.pad(self.as_str())
    }
}

/// A line type equals its text: `line_type == "recovery"`.
impl PartialEq<&str> for LineType {
    fn eq(&self, text: &&str) -> bool {
        self.as_str() == *text
    }
}

/// Why a positive line is held instead of paid (L3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HoldReason {
    /// L3: no account number recorded.
    NoAccount,
    /// L1: another district's payment for the month still stands (a corrected move date); paid
    /// once that district has recovered it.
    OtherDistrictPaid,
    /// L3: a transfer to the person failed or came back for this fault, not yet corrected.
    Fault(FaultCode),
    /// An operator's hold pending a review (`subsidy hold`), until `subsidy release`.
    OnHold,
}

impl HoldReason {
    /// Code written to held.csv and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::NoAccount => "NO_ACCOUNT",
            HoldReason::OtherDistrictPaid => "OTHER_DISTRICT_PAID",
            HoldReason::Fault(code) => code.as_str(),
            HoldReason::OnHold => "ON_HOLD",
        }
    }

    /// Parse stored text.
    pub fn parse(s: &str) -> Option<HoldReason> {
        match s {
            "NO_ACCOUNT" => Some(HoldReason::NoAccount),
            "OTHER_DISTRICT_PAID" => Some(HoldReason::OtherDistrictPaid),
            "ON_HOLD" => Some(HoldReason::OnHold),
            code => FaultCode::parse(code).map(HoldReason::Fault),
        }
    }
}

impl Serialize for HoldReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for HoldReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What the ledger holds for one (person, allowance, month) before this batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyHistory {
    /// Net paid by this district's counted postings (L1), with its shares.
    pub paid: FundSplit,
    /// Number of counted postings (0: a positive line would be a first payment).
    pub counted: u32,
    /// Highest adjustment number of any posting ever made for the key, counted or not.
    pub last_adjustment: Option<u32>,
    /// Net paid by every district (for the L4 ceiling).
    pub paid_all_districts: Decimal,
    /// Tier of the latest counted posting (for lines that reduce a month no longer owed).
    pub last_tier: Option<String>,
    /// A line of this key is held already by a batch that counts (L3: a new held line repeats it).
    pub held_before: bool,
}

/// One posting of a batch: a line (paid, held or absorbed) or a recovery item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Posting {
    /// Payment key (L4).
    pub key: PaymentKey,
    /// Line type.
    pub line_type: LineType,
    /// Tier owed now, or last paid when nothing is owed.
    pub tier: String,
    /// Amount, yuan (negative for offsets and recoveries).
    pub amount: Decimal,
    /// Change of each fund's share (F2); adds up to `amount`.
    pub split: FundSplit,
    /// Set when the line is held, not paid (L3).
    pub held: Option<HoldReason>,
}

/// Inputs of [`settle`] for one person in one district's batch.
#[derive(Clone, Debug)]
pub struct SettleInput<'a> {
    /// The person.
    pub id_number: &'a str,
    /// The batch's service month.
    pub month: ServiceMonth,
    /// The engine's start month (T7): earlier months are never settled.
    pub from: ServiceMonth,
    /// What this district owes the person, months `from..=month`.
    pub owed: &'a [Entitlement],
    /// The ledger per (allowance, month).
    pub history: &'a BTreeMap<(Allowance, ServiceMonth), KeyHistory>,
    /// What holds the person's lines (L3): no account, an uncured fault, an operator's hold.
    pub hold: &'a PersonHolds,
    /// L4: the highest monthly rate of each allowance.
    pub ceiling: &'a BTreeMap<Allowance, Decimal>,
}

/// L2: every (allowance, month) from the start through the batch's month whose owed amount differs
/// from the net paid becomes postings; returned in payment-key byte order.
pub fn settle(input: &SettleInput) -> Vec<Posting> {
    let mut keys: BTreeMap<(&'static str, ServiceMonth), (Allowance, Option<&Entitlement>)> = BTreeMap::new();
    for e in input.owed.iter().filter(|e| e.month >= input.from && e.month <= input.month) {
        keys.insert((e.allowance.as_str(), e.month), (e.allowance, Some(e)));
    }
    for &(allowance, month) in input.history.keys() {
        if month >= input.from && month <= input.month {
            keys.entry((allowance.as_str(), month)).or_insert((allowance, None));
        }
    }
    let empty = KeyHistory::default();
    let mut postings = Vec::new();
    let mut negatives = Vec::new();
    for ((_, month), (allowance, owed)) in keys {
        let h = input.history.get(&(allowance, month)).unwrap_or(&empty);
        let target = owed.map(|e| e.split).unwrap_or_default();
        let diff = target.total() - h.paid.total();
        if diff.is_zero() {
            continue;
        }
        let delta = FundSplit { lottery: target.lottery - h.paid.lottery, district: target.district - h.paid.district };
        let tier = owed.map(|e| e.tier.clone()).or_else(|| h.last_tier.clone()).unwrap_or_default();
        let key = PaymentKey {
            id_number: input.id_number.to_string(),
            allowance,
            month,
            adjustment: h.last_adjustment.map_or(0, |a| a + 1),
        };
        if diff > Decimal::ZERO {
            let line_type = match (h.counted, month == input.month) {
                (0, true) => LineType::Regular,
                (0, false) => LineType::Arrears,
                _ => LineType::Topup,
            };
            // L1 counts every district's payments: while another district's payment for this
            // month stands (a corrected move date), this one waits for that district's recovery
            // rather than paying the month twice over; the ceiling (L4) is the backstop.
            let ceiling = input.ceiling.get(&allowance).copied().unwrap_or_default();
            let other_district = h.paid_all_districts - h.paid.total();
            let blocked = other_district > Decimal::ZERO || h.paid_all_districts + diff > ceiling;
            let held = input.hold.reason(allowance).or(blocked.then_some(HoldReason::OtherDistrictPaid));
            postings.push(Posting { key, line_type, tier, amount: diff, split: delta, held });
        } else {
            negatives.push((key, tier, diff, delta));
        }
    }
    absorb_negatives(&mut postings, negatives);
    // Byte order of the written keys (what the files and the database sort by): adjustment 10
    // sorts before 9 there, so sort the text, not the numbers.
    postings.sort_by_cached_key(|p| p.key.to_string());
    postings
}

/// L2: negative differences become offsets against the batch's paid positive lines of the same
/// allowance; what they cannot absorb becomes a recovery item. When one difference is split, the
/// offset takes the district share first and the recovery carries the rest, so the shares of both
/// still add up to the difference (F2).
fn absorb_negatives(postings: &mut Vec<Posting>, negatives: Vec<(PaymentKey, String, Decimal, FundSplit)>) {
    let mut capacity: BTreeMap<Allowance, Decimal> = BTreeMap::new();
    for p in postings.iter().filter(|p| p.held.is_none()) {
        *capacity.entry(p.key.allowance).or_default() += p.amount;
    }
    for (key, tier, diff, delta) in negatives {
        let room = capacity.entry(key.allowance).or_default();
        let offset = (-diff).min(*room);
        *room -= offset;
        let rest = -diff - offset;
        let offset_split = if rest.is_zero() {
            delta
        } else if offset.is_zero() {
            FundSplit::default()
        } else {
            let district = (-offset).max(delta.district.min(Decimal::ZERO));
            FundSplit { district, lottery: -offset - district }
        };
        let mut next_key = key.clone();
        if !offset.is_zero() {
            postings.push(Posting {
                key: key.clone(),
                line_type: LineType::Offset,
                tier: tier.clone(),
                amount: -offset,
                split: offset_split,
                held: None,
            });
            next_key.adjustment += 1;
        }
        if !rest.is_zero() {
            let split = FundSplit {
                lottery: delta.lottery - offset_split.lottery,
                district: delta.district - offset_split.district,
            };
            postings.push(Posting {
                key: next_key,
                line_type: LineType::Recovery,
                tier,
                amount: -rest,
                split,
                held: None,
            });
        }
    }
}

/// Transfers of one person (分户清单): per allowance, the paid lines' net when positive. Lines of an
/// allowance whose offsets consumed the whole payment get no transfer.
pub fn transfers(postings: &[Posting]) -> Vec<(Allowance, Decimal)> {
    let mut net: BTreeMap<&'static str, (Allowance, Decimal)> = BTreeMap::new();
    for p in postings.iter().filter(|p| p.held.is_none() && p.line_type != LineType::Recovery) {
        net.entry(p.key.allowance.as_str()).or_insert((p.key.allowance, Decimal::ZERO)).1 += p.amount;
    }
    net.into_values().filter(|(_, amount)| *amount > Decimal::ZERO).collect()
}
