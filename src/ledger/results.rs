//! The platform's answers (INTERFACE.md "Platform result file"): what became of each transfer,
//! and why it was not paid. A transfer starts `pending` when its batch is computed; the platform
//! reports it `paid`, `failed` (never paid) or `returned` (paid, then sent back by the bank: 退票).
//! Failed and returned lines no longer count as paid (L1) and wait for their fault to be corrected
//! (L3); the fault codes say what corrects it.

use serde::Serialize;

/// The state of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferStatus {
    /// Exported (or about to be), no answer yet: counts as paid (L1).
    Pending,
    /// The platform paid it.
    Paid,
    /// Not paid: the bank refused it.
    Failed,
    /// Paid, then sent back by the bank (退票).
    Returned,
}

impl TransferStatus {
    /// Stored and written text.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Paid => "paid",
            TransferStatus::Failed => "failed",
            TransferStatus::Returned => "returned",
        }
    }

    /// Parse stored or written text.
    pub fn parse(s: &str) -> Option<TransferStatus> {
        use TransferStatus::*;
        [Pending, Paid, Failed, Returned].into_iter().find(|t| t.as_str() == s)
    }

    /// L1: whether the transfer's lines count as paid.
    pub fn counts(self) -> bool {
        matches!(self, TransferStatus::Pending | TransferStatus::Paid)
    }

    /// Whether the platform may move a transfer from `self` to `to`. The same state again is
    /// allowed (a result file read twice changes nothing); a paid transfer may later be returned;
    /// nothing comes back from failed or returned without a new batch.
    pub fn may_become(self, to: TransferStatus) -> bool {
        use TransferStatus::*;
        self == to || matches!((self, to), (Pending, Paid | Failed | Returned) | (Paid, Returned))
    }
}

impl std::fmt::Display for TransferStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why the platform did not pay (or took back) a transfer, and so what corrects it (L3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FaultCode {
    /// The account is closed: corrected by a new account number in the registry.
    AccountClosed,
    /// The account number is wrong: corrected by a new account number in the registry.
    AccountInvalid,
    /// The name does not match the account: corrected by a corrected registry row.
    NameMismatch,
    /// The ID number does not match the account: corrected by a corrected registry row.
    IdMismatch,
    /// The holder died: the person is stopped and a review opened (death date recorded, or an
    /// error released by an operator).
    Deceased,
    /// Anything else: an operator's `release` once the bank fixed it on its side.
    Other,
}

impl FaultCode {
    /// Every code, in the order INTERFACE.md lists them.
    pub const ALL: [FaultCode; 6] = [
        FaultCode::AccountClosed,
        FaultCode::AccountInvalid,
        FaultCode::NameMismatch,
        FaultCode::IdMismatch,
        FaultCode::Deceased,
        FaultCode::Other,
    ];

    /// Written text (`reason_code` of the result file, `reason` of held.csv).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultCode::AccountClosed => "ACCOUNT_CLOSED",
            FaultCode::AccountInvalid => "ACCOUNT_INVALID",
            FaultCode::NameMismatch => "NAME_MISMATCH",
            FaultCode::IdMismatch => "ID_MISMATCH",
            FaultCode::Deceased => "DECEASED",
            FaultCode::Other => "OTHER",
        }
    }

    /// Parse written text.
    pub fn parse(s: &str) -> Option<FaultCode> {
        FaultCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// What corrects the fault, in the operator's words.
    pub fn cure(self) -> &'static str {
        match self {
            FaultCode::AccountClosed | FaultCode::AccountInvalid => {
                "record a new account number (import elders.csv), or `subsidy release` if the bank fixed it"
            }
            FaultCode::NameMismatch | FaultCode::IdMismatch => {
                "import the corrected elders.csv row (the same row again cures nothing), or `subsidy release` if the bank fixed it"
            }
            FaultCode::Deceased => {
                "review: import the death date (months after it are no longer owed), or `subsidy release` if the report was an error; \
                 once the death date is recorded, months still owed are paid on a new account or a release"
            }
            FaultCode::Other => "`subsidy release` once the bank fixed it on its side",
        }
    }
}

impl std::fmt::Display for FaultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One answer of the platform about one transfer, as read from a result file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferResult {
    /// Where it was read: the line of a CSV file, or the position (1-based) of the transaction
    /// in a pain.002 file.
    pub line: u64,
    /// The transfer (the end-to-end id of ISO 20022).
    pub transfer_id: String,
    /// `paid`, `failed` or `returned` (never `pending`).
    pub status: TransferStatus,
    /// Why, for failed and returned transfers (none for paid ones).
    pub fault: Option<FaultCode>,
    /// The platform's own words, if any.
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::FaultCode;
    use super::TransferStatus::*;

    #[test]
    fn l1_only_pending_and_paid_transfers_count() {
        assert!(Pending.counts() && Paid.counts());
        assert!(!Failed.counts() && !Returned.counts());
    }

    #[test]
    fn l3_no_transfer_comes_back_from_failed_or_returned() {
        assert!(Pending.may_become(Paid) && Pending.may_become(Failed) && Pending.may_become(Returned));
        assert!(Paid.may_become(Returned) && Paid.may_become(Paid));
        assert!(Failed.may_become(Failed) && Returned.may_become(Returned));
        assert!(!Failed.may_become(Paid) && !Returned.may_become(Paid) && !Paid.may_become(Failed));
        assert!(!Failed.may_become(Returned) && !Returned.may_become(Failed));
        assert!(!Paid.may_become(Pending) && !Failed.may_become(Pending));
    }

    #[test]
    fn fault_codes_read_back() {
        for c in FaultCode::ALL {
            assert_eq!(FaultCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(FaultCode::parse("account_closed"), None);
    }
}
