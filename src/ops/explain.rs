//! `explain`: for one person and month, each allowance as the registry stands now (owed or not,
//! amount, tier, shares and the rules that decided it), what was posted (L4 payment keys, counted
//! or not, L1), and the decision as each posting batch computed it, from the registry as it stood
//! then.

use super::{policy_book, OpsError, OpsResult};
use crate::codes::Allowance;
use crate::eligibility::{explain_month, AllowanceDecision};
use crate::ledger::{BatchState, FaultCode, TransferStatus};
use crate::month::ServiceMonth;
use crate::store::{LedgerStore, PostingRow, Store};

/// One posting of the person for the month.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The posting.
    pub posting: PostingRow,
    /// Its batch's state.
    pub batch_state: BatchState,
    /// The registry its batch read: after this import.
    pub registry_after_import: i64,
    /// What the platform said of its transfer, and why (failed or returned).
    pub transfer_status: Option<(TransferStatus, Option<FaultCode>)>,
}

impl Posted {
    /// L1: whether it counts in the net paid (its batch counts, the line is not held, and its
    /// transfer was not reported failed or returned).
    pub fn counts(&self) -> bool {
        self.batch_state.counts()
            && self.posting.held_reason.is_none()
            && self.transfer_status.is_none_or(|(status, _)| status.counts())
    }
}

/// The decision on the month as one batch computed it.
#[derive(Clone, Debug)]
pub struct AsComputed {
    /// The batch.
    pub batch_id: String,
    /// Its state.
    pub state: BatchState,
    /// The registry it read: after this import.
    pub registry_after_import: i64,
    /// Each allowance, decided from the registry as it stood then.
    pub allowances: Vec<AllowanceDecision>,
}

/// Everything `explain` says of a person and month.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The person's ID number, masked (the only form of it to print).
    pub masked_id: String,
    /// The month.
    pub month: ServiceMonth,
    /// Each allowance as the registry stands now.
    pub decisions: Vec<AllowanceDecision>,
    /// Every posting for the month, by payment key.
    pub postings: Vec<Posted>,
    /// For each batch that posted: the decision as it computed it.
    pub as_computed: Vec<AsComputed>,
}

impl Explanation {
    /// The postings of one allowance.
    pub fn postings_of(&self, allowance: Allowance) -> Vec<&Posted> {
        self.postings.iter().filter(|p| p.posting.allowance == allowance.as_str()).collect()
    }

    /// L1: the net paid of one allowance for the month, fen (its counted postings).
    pub fn net_paid_fen(&self, allowance: Allowance) -> i64 {
        self.postings_of(allowance).iter().filter(|p| p.counts()).map(|p| p.posting.amount_fen).sum()
    }
}

/// What is owed now of one allowance, fen (zero when not owed).
pub fn owed_fen(d: &AllowanceDecision) -> i64 {
    d.owed.as_ref().map(|e| crate::money::to_fen(e.amount).unwrap_or(0)).unwrap_or(0)
}

/// Explain `month` for the person with ID number `id`.
pub async fn explain<S: Store + LedgerStore>(s: &S, id: &str, month: ServiceMonth) -> OpsResult<Explanation> {
    let book = policy_book(s).await?;
    let masked_id = crate::idcard::mask(id);
    let Some(rec) = s.person(id).await? else {
        return Err(OpsError::NoPerson { masked_id });
    };
    let start = s.start_month().await?;
    let decisions = explain_month(&book, &rec, start, month);
    let rows = s.postings_of(id, month).await?;
    let transfer_ids: Vec<String> = rows.iter().filter_map(|(p, ..)| p.transfer_id.clone()).collect();
    let transfers = s.transfer_states(&transfer_ids).await?;
    let postings: Vec<Posted> = rows
        .into_iter()
        .map(|(posting, batch_state, registry_after_import)| {
            let transfer_status = transfers
                .iter()
                .find(|t| Some(&t.transfer_id) == posting.transfer_id.as_ref())
                .map(|t| (t.status, t.fault));
            Posted { posting, batch_state, registry_after_import, transfer_status }
        })
        .collect();
    // For each batch that posted this month: the decision as the registry stood when it was computed.
    let mut as_computed: Vec<AsComputed> = Vec::new();
    for p in &postings {
        if as_computed.iter().any(|b| b.batch_id == p.posting.batch_id) {
            continue;
        }
        let then = s.person_as_of(id, p.registry_after_import).await?;
        let allowances = then.map(|r| explain_month(&book, &r, start, month)).unwrap_or_default();
        as_computed.push(AsComputed {
            batch_id: p.posting.batch_id.clone(),
            state: p.batch_state,
            registry_after_import: p.registry_after_import,
            allowances,
        });
    }
    Ok(Explanation { masked_id, month, decisions, postings, as_computed })
}
