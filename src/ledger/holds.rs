//! L3: holds. A hold keeps a person's positive lines (of one allowance, or all) held instead of
//! paid. The platform opens one for every failed or returned transfer (its fault code); an operator
//! opens one with `subsidy hold` pending a review. A fault is cured by what the registry shows
//! (a new account number for a closed or invalid account, or for a deceased holder once the death
//! date is recorded; a changed elders row for a name or ID mismatch) or released by an operator; an
//! operator's hold and an `OTHER` fault only by release. Cures are read from the registry each time,
//! not recorded: a batch discarded after a cure leaves nothing to undo.

use super::{FaultCode, HoldReason};
use crate::codes::Allowance;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// What opened a hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HoldKind {
    /// A failed or returned transfer, for this fault.
    Fault(FaultCode),
    /// An operator, pending a review.
    OnHold,
}

impl HoldKind {
    /// Stored text: the fault code, or `ON_HOLD`.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::Fault(code) => code.as_str(),
            HoldKind::OnHold => "ON_HOLD",
        }
    }

    /// Parse stored text.
    pub fn parse(s: &str) -> Option<HoldKind> {
        match s {
            "ON_HOLD" => Some(HoldKind::OnHold),
            code => FaultCode::parse(code).map(HoldKind::Fault),
        }
    }

    /// The reason its lines are held for.
    pub fn reason(self) -> HoldReason {
        match self {
            HoldKind::Fault(code) => HoldReason::Fault(code),
            HoldKind::OnHold => HoldReason::OnHold,
        }
    }
}

/// How a fault was corrected in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cure {
    /// A different account number is recorded now.
    NewAccount,
    /// The person's elders row changed since the fault was reported.
    CorrectedRow,
}

/// A hold not released, with the registry facts that may have cured it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenHold {
    /// Its number (`subsidy status` lists it).
    pub hold_id: i64,
    /// The person.
    pub id_number: String,
    /// The allowance held, or every allowance.
    pub allowance: Option<Allowance>,
    /// What opened it.
    pub kind: HoldKind,
    /// The transfer whose result opened it.
    pub transfer_id: Option<String>,
    /// The account that transfer went to.
    pub account_no: Option<String>,
    /// When and by whom it was opened, and why.
    pub opened_at: String,
    /// Who opened it (the operator, or whoever ran `reconcile`).
    pub opened_by: String,
    /// The platform's or the operator's words.
    pub reason: String,
    /// The person's account number recorded now (any district).
    pub account_now: Option<String>,
    /// Whether the person's elders row changed (its content, not merely imported again) since the
    /// hold was opened.
    pub row_changed: bool,
    /// The death date recorded now, if any.
    pub death_date: Option<NaiveDate>,
}

impl OpenHold {
    /// How the registry corrected the fault, with `account_now` the account the caller reads
    /// (a batch reads the registration of its own district).
    pub fn cure_with(&self, account_now: Option<&str>) -> Option<Cure> {
        let new_account = account_now.is_some_and(|now| Some(now) != self.account_no.as_deref());
        match self.kind {
            HoldKind::Fault(FaultCode::AccountClosed | FaultCode::AccountInvalid) => {
                new_account.then_some(Cure::NewAccount)
            }
            // A DECEASED report stops the person until the review closes: a new account (an
            // heir's) pays what is still owed only once the death date is recorded.
            HoldKind::Fault(FaultCode::Deceased) => {
                (new_account && self.death_date.is_some()).then_some(Cure::NewAccount)
            }
            HoldKind::Fault(FaultCode::NameMismatch | FaultCode::IdMismatch) => {
                self.row_changed.then_some(Cure::CorrectedRow)
            }
            HoldKind::Fault(FaultCode::Other) | HoldKind::OnHold => None,
        }
    }

    /// How the registry corrected the fault, as the store read it.
    pub fn cure(&self) -> Option<Cure> {
        self.cure_with(self.account_now.as_deref())
    }

    /// A DECEASED report waiting for a decision: no death date recorded and not released.
    pub fn review_open(&self) -> bool {
        self.kind == HoldKind::Fault(FaultCode::Deceased) && self.death_date.is_none()
    }
}

/// The holds that apply to one person in one batch: everything held (no account, or a hold of
/// every allowance), or some allowances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonHolds {
    /// Held whatever the allowance.
    pub all: Option<HoldReason>,
    /// Held for these allowances.
    pub only: BTreeMap<Allowance, HoldReason>,
}

impl PersonHolds {
    /// The person's holds in a batch: no account (L3) first, then the uncured holds in the order
    /// they were opened; `account_now` is the account the batch would pay.
    pub fn of(account_now: Option<&str>, holds: &[&OpenHold]) -> PersonHolds {
        let mut out = PersonHolds { all: account_now.is_none().then_some(HoldReason::NoAccount), ..Default::default() };
        let mut open: Vec<&&OpenHold> = holds.iter().filter(|h| h.cure_with(account_now).is_none()).collect();
        open.sort_by_key(|h| h.hold_id);
        for h in open {
            match h.allowance {
                None => {
                    out.all.get_or_insert(h.kind.reason());
                }
                Some(a) => {
                    out.only.entry(a).or_insert(h.kind.reason());
                }
            }
        }
        out
    }

    /// Why the allowance's lines are held, if they are.
    pub fn reason(&self, allowance: Allowance) -> Option<HoldReason> {
        self.all.or_else(|| self.only.get(&allowance).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(id: i64, kind: HoldKind, allowance: Option<Allowance>) -> OpenHold {
        OpenHold {
            hold_id: id,
            id_number: "110102193001010012".into(),
            allowance,
            kind,
            transfer_id: Some("110102-2020-07-R1-000001".into()),
            account_no: Some("6217000000000000001".into()),
            opened_at: "2020-08-05T09:00:00+08:00".into(),
            opened_by: "ops".into(),
            reason: String::new(),
            account_now: Some("6217000000000000001".into()),
            row_changed: false,
            death_date: None,
        }
    }

    #[test]
    fn l3_a_closed_account_is_cured_by_a_new_account_number_only() {
        let h = hold(1, HoldKind::Fault(FaultCode::AccountClosed), None);
        assert_eq!(h.cure(), None);
        assert_eq!(h.cure_with(None), None, "no account at all is not a cure");
        assert_eq!(h.cure_with(Some("6217000000000000002")), Some(Cure::NewAccount));
        let changed = OpenHold { row_changed: true, ..h.clone() };
        assert_eq!(changed.cure(), None, "a changed row with the same account does not cure a closed account");
    }

    #[test]
    fn l3_a_name_mismatch_is_cured_by_a_corrected_row() {
        let h = hold(1, HoldKind::Fault(FaultCode::NameMismatch), None);
        assert_eq!(h.cure_with(Some("6217000000000000002")), None);
        assert_eq!(OpenHold { row_changed: true, ..h }.cure(), Some(Cure::CorrectedRow));
    }

    #[test]
    fn l3_other_faults_and_operator_holds_wait_for_a_release() {
        for kind in [HoldKind::Fault(FaultCode::Other), HoldKind::OnHold] {
            let h = OpenHold { row_changed: true, account_now: Some("x".into()), ..hold(1, kind, None) };
            assert_eq!(h.cure(), None);
        }
    }

    #[test]
    fn l3_deceased_opens_a_review_until_the_death_date_is_recorded() {
        let h = hold(1, HoldKind::Fault(FaultCode::Deceased), None);
        assert!(h.review_open());
        assert_eq!(h.cure_with(Some("6217000000000000002")), None, "no new account pays while the review is open");
        let recorded = OpenHold { death_date: NaiveDate::from_ymd_opt(2020, 6, 3), ..h.clone() };
        assert_eq!(recorded.cure_with(Some("6217000000000000002")), Some(Cure::NewAccount), "an heir's account");
        assert!(!OpenHold { death_date: NaiveDate::from_ymd_opt(2020, 6, 3), ..h }.review_open());
    }

    #[test]
    fn l3_no_account_comes_first_then_holds_in_the_order_opened() {
        let closed = hold(2, HoldKind::Fault(FaultCode::AccountClosed), None);
        let care = hold(1, HoldKind::OnHold, Some(Allowance::Care));
        let h = PersonHolds::of(None, &[&closed, &care]);
        assert_eq!(h.reason(Allowance::Longevity), Some(HoldReason::NoAccount));
        let h = PersonHolds::of(Some("6217000000000000001"), &[&closed, &care]);
        assert_eq!(h.reason(Allowance::Longevity), Some(HoldReason::Fault(FaultCode::AccountClosed)));
        let h = PersonHolds::of(Some("6217000000000000009"), &[&closed, &care]);
        assert_eq!(h.reason(Allowance::Longevity), None, "the new account cured the closed one");
        assert_eq!(h.reason(Allowance::Care), Some(HoldReason::OnHold));
    }
}
