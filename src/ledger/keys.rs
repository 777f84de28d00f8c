//! Identifiers that must never collide and never depend on the clock or the database: payment
//! keys (L4), batch ids and transfer ids (≤ 35 characters, the ISO 20022 end-to-end id limit).

use crate::codes::Allowance;
use crate::month::ServiceMonth;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a batch: the month's regular batch, or a correction batch (`rerun`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchKind {
    /// The month's regular batch (`run`).
    #[default]
    Regular,
    /// A correction batch (`rerun`).
    Correction,
}

impl BatchKind {
    /// Text stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchKind::Regular => "regular",
            BatchKind::Correction => "correction",
        }
    }

    /// One-letter tag in batch ids.
    fn tag(self) -> char {
        match self {
            BatchKind::Regular => 'R',
            BatchKind::Correction => 'C',
        }
    }
}

/// A batch id: district, service month, kind and sequence, e.g. `110102-2020-07-R1`.
pub fn batch_id(district: &str, month: ServiceMonth, kind: BatchKind, seq: u32) -> String {
    format!("{district}-{month}-{}{seq}", kind.tag())
}

/// A transfer id: the batch id and a 6-digit sequence, e.g. `110102-2020-07-R1-000042`
/// (24 characters; at most 35 for any 6-digit district and sequence below 10^9).
pub fn transfer_id(batch_id: &str, seq: u32) -> String {
    let id = format!("{batch_id}-{seq:06}");
    debug_assert!(id.len() <= 35, "transfer id {id} longer than 35");
    id
}

/// L4: the key of one posting of a (person, allowance, month): the adjustment number is 0 for
/// the first posting and counts up. Written `ID-allowance-YYYY-MM-N`; everything that orders
/// keys (files, the lottery draw) uses the byte order of that text, in which adjustment 10 sorts
/// before 9.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PaymentKey {
    /// The person.
    pub id_number: String,
    /// The allowance.
    pub allowance: Allowance,
    /// The service month.
    pub month: ServiceMonth,
    /// The adjustment number.
    pub adjustment: u32,
}

impl fmt::Display for PaymentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}-{}", self.id_number, self.allowance, self.month, self.adjustment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l4_ids_are_deterministic_and_short() {
        let m: ServiceMonth = "2020-07".parse().unwrap();
        let b = batch_id("110102", m, BatchKind::Regular, 1);
        assert_eq!(b, "110102-2020-07-R1");
        assert_eq!(transfer_id(&b, 42), "110102-2020-07-R1-000042");
        assert!(transfer_id(&batch_id("110102", m, BatchKind::Correction, 99), 999_999).len() <= 35);
        let k =
            PaymentKey { id_number: "11010519491231002X".into(), allowance: Allowance::Care, month: m, adjustment: 2 };
        assert_eq!(k.to_string(), "11010519491231002X-care-2020-07-2");
    }
}
