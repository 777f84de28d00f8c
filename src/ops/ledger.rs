//! `verify --ledger`: nothing paid twice, nothing lost ([`crate::ledger::invariant`]). For every
//! (person, allowance, month) from the start month through the latest month each district's
//! batches settled, what the rules owe now equals what the ledger accounts for: paid, held,
//! waiting on a failed or returned transfer, recovered. Persons whose records changed after the
//! last batch (or every person, after a policy version loaded since) are not settled yet and are
//! counted apart.

use super::{policy_book, OpsError, OpsResult};
use crate::codes::Allowance;
use crate::eligibility::owed_between;
use crate::ledger::invariant::{check, Breach, KeyAccount, LedgerTotals};
use crate::money::to_fen;
use crate::month::ServiceMonth;
use crate::store::{IdRange, PlatformStore, Store, WaitingKind};
use std::collections::{BTreeMap, HashMap};

/// Persons read at a time, with their part of the ledger: memory is per page (about 55 MiB on
/// SQLite), and on PostgreSQL 5,000 took 7.4 s where 2,000 took 9.5 to 11 s (200,000 elders).
const PAGE: i64 = 5_000;

/// The ledger checked.
#[derive(Clone, Debug, Default)]
pub struct LedgerCheck {
    /// Person-months whose account does not balance.
    pub breaches: Vec<Breach>,
    /// Totals of the person-months checked.
    pub totals: LedgerTotals,
    /// Districts and the month their batches settled through.
    pub districts: Vec<(String, ServiceMonth)>,
    /// Whether a policy version was loaded after a district's latest batch (nothing is settled).
    pub policy_since: bool,
}

type Key = (String, Allowance, ServiceMonth);

/// Check every person-month the engine settled.
pub async fn check_ledger<S: Store + PlatformStore>(s: &S) -> OpsResult<LedgerCheck> {
    let Some(start) = s.start_month().await? else {
        return Err(OpsError::Usage("the database has no start month: run `subsidy init` first".into()));
    };
    let districts = s.districts_settled().await?;
    let Some(last) = districts.iter().map(|d| d.through).max() else {
        return Ok(LedgerCheck::default());
    };
    let book = policy_book(s).await?;
    let through: HashMap<&str, ServiceMonth> =
        districts.iter().map(|d| (d.district_code.as_str(), d.through)).collect();
    let policy_since = districts.iter().any(|d| d.policy_since);
    // A person changed after the registry import some district's latest batch read may not be
    // settled there yet.
    let watermark = districts.iter().map(|d| d.registry_import_id).min().unwrap_or(0);
    let mut breaches = Vec::new();
    let mut totals = LedgerTotals::default();
    // A page of persons at a time, with their part of the ledger: memory does not grow with the city.
    let mut after = String::new();
    loop {
        let page = s.all_persons_page(&after, PAGE).await?;
        let Some(last_person) = page.last() else { break };
        let ids = IdRange { after: &after, through: Some(&last_person.id_number) };
        let changed: HashMap<String, i64> = s.person_changes(ids).await?.into_iter().collect();
        let mut accounts: BTreeMap<Key, KeyAccount> = BTreeMap::new();
        for k in s.keys_paid(ids).await? {
            let a = accounts.entry((k.id_number, k.allowance, k.service_month)).or_default();
            a.paid += k.paid_fen;
            a.recovered += k.recovered_fen;
        }
        for w in s.waiting(ids).await? {
            let a = accounts.entry((w.id_number, w.allowance, w.service_month)).or_default();
            match w.kind {
                WaitingKind::Held => a.held += w.amount_fen,
                WaitingKind::Failed | WaitingKind::Returned => a.waiting += w.amount_fen,
            }
        }
        for rec in &page {
            for e in owed_between(&book, rec, start, last) {
                if through.get(e.district.as_str()).is_some_and(|t| e.month <= *t) {
                    let fen = to_fen(e.amount).map_err(|e| OpsError::Failed(anyhow::anyhow!("{e}")))?;
                    accounts.entry((rec.id_number.clone(), e.allowance, e.month)).or_default().owed += fen;
                }
            }
        }
        let unsettled = |id: &str| policy_since || changed.get(id).is_some_and(|i| *i > watermark);
        let (page_breaches, page_totals) =
            check(accounts.iter().map(|((id, a, m), acc)| ((id.as_str(), *a, *m), acc.clone(), unsettled(id))));
        breaches.extend(page_breaches);
        totals.add(&page_totals);
        after = last_person.id_number.clone();
    }
    Ok(LedgerCheck {
        breaches,
        totals,
        districts: districts.into_iter().map(|d| (d.district_code, d.through)).collect(),
        policy_since,
    })
}
