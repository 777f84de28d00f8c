//! Properties of the ledger core (proptest) over random owed schedules and random ledger
//! histories: a transfer is the sum of its lines (L2), splits lose or invent no fen (F2) and the
//! lottery allocation is drawn in payment-key order until it runs out (F3), line types follow
//! first payment and the batch's month (L2), postings come out in payment-key byte order (L4),
//! and over random sequences of batches in two districts (some held, some discarded) the net paid
//! stays within [0, top rate], payment keys never repeat and a rerun with unchanged inputs emits
//! no line (L1–L4).

mod support;

use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use subsidy::codes::Allowance;
use subsidy::eligibility::Entitlement;
use subsidy::ledger::{
    self, HoldReason, KeyHistory, LineType, LotteryPurse, PaymentKey, PersonHolds, Posting, SettleInput,
};
use subsidy::money::{to_fen, yuan};
use subsidy::month::ServiceMonth;
use subsidy::policy::{split, FundSplit, Policy};
use support::{d, m, DONGCHENG, XICHENG};

/// (allowance, service month): what one person's ledger is kept by.
type Key = (Allowance, ServiceMonth);
/// One person's ledger before a batch, as `settle` reads it.
type History = BTreeMap<Key, KeyHistory>;
/// A posting without its payment key's adjustment number: what was settled, not under which key.
type Settled = (Key, LineType, String, Decimal, FundSplit, Option<HoldReason>);

/// The person of the single-person properties.
const ID: &str = "11010519491231002X";

fn config(cases: u32) -> ProptestConfig {
    // No regression files written into tests/: a failure prints its minimal case.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// The default policy, parsed once.
fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(support::policy)
}

/// L4: the highest monthly rate of each allowance (800, 600, 300).
fn ceilings() -> BTreeMap<Allowance, Decimal> {
    Allowance::ALL.iter().map(|&a| (a, policy().top_rate(a))).collect()
}

fn top_fen(allowance: Allowance) -> i64 {
    to_fen(policy().top_rate(allowance)).unwrap()
}

/// What is owed for `month` at the policy's tier `tier` (0 best), split as F2 says.
fn owed_at(allowance: Allowance, month: ServiceMonth, tier: usize, district: &str) -> Entitlement {
    let p = policy();
    let rate = p.tier(allowance, tier);
    Entitlement {
        allowance,
        month,
        district: district.to_string(),
        tier: rate.tier.to_string(),
        amount: rate.monthly,
        split: split(&p.funding, rate.monthly, rate.lottery_quota),
        policy_version: p.version.clone(),
    }
}

/// An amount already paid, split as F2 splits it: with the quota of the tier paying exactly that
/// amount, or else of tier `hint` (a part payment).
fn paid_split(allowance: Allowance, amount: Decimal, hint: usize) -> FundSplit {
    let tiers = policy().tiers(allowance);
    let quota = tiers.iter().find(|t| t.monthly == amount).unwrap_or(&tiers[hint]).lottery_quota;
    split(&policy().funding, amount, quota)
}

fn sum(amounts: impl IntoIterator<Item = Decimal>) -> Decimal {
    amounts.into_iter().fold(Decimal::ZERO, |a, b| a + b)
}

fn add(a: FundSplit, b: FundSplit) -> FundSplit {
    FundSplit { lottery: a.lottery + b.lottery, district: a.district + b.district }
}

fn key_of(p: &Posting) -> Key {
    (p.key.allowance, p.key.month)
}

/// A line that goes into a transfer: paid (not held) and not a recovery item.
fn is_paid_line(p: &Posting) -> bool {
    p.held.is_none() && p.line_type != LineType::Recovery
}

// ---------------------------------------------------------------------------------------------
// One batch of one person: random owed entitlements and a random ledger history.

/// Month slots per allowance: from two months before the engine's start to 17 after.
const SLOTS: usize = 20;

/// A key's ledger history, before it is turned into a [`KeyHistory`].
#[derive(Clone, Debug)]
struct HistSpec {
    /// 0: nothing paid; 1: exactly the amount of tier `hint`; else `fen` (a part payment).
    kind: u8,
    fen: i64,
    hint: usize,
    counted: u32,
    /// Postings beyond the counted ones (held, discarded, superseded).
    extra: Option<u32>,
    /// Paid by another district (fen), which the L4 ceiling counts.
    other: Option<i64>,
}

fn hist_spec() -> impl Strategy<Value = HistSpec> {
    (
        0u8..4,
        0i64..=80_000,
        0usize..3,
        0u32..4,
        prop::option::weighted(0.6, 0u32..=12),
        prop::option::weighted(0.15, 0i64..=80_000),
    )
        .prop_map(|(kind, fen, hint, counted, extra, other)| HistSpec { kind, fen, hint, counted, extra, other })
}

fn key_history(allowance: Allowance, s: &HistSpec) -> KeyHistory {
    let top = top_fen(allowance);
    let amount = match s.kind {
        0 => Decimal::ZERO,
        1 => policy().tier(allowance, s.hint).monthly,
        _ => yuan(s.fen % (top + 1)),
    };
    // Nothing net paid with counted postings: paid, then taken back.
    let counted = if amount > Decimal::ZERO { s.counted.max(1) } else { s.counted };
    let last_adjustment = if counted == 0 { s.extra } else { Some(counted - 1 + s.extra.unwrap_or(0)) };
    KeyHistory {
        paid: paid_split(allowance, amount, s.hint),
        counted,
        last_adjustment,
        paid_all_districts: amount + s.other.map_or(Decimal::ZERO, |f| yuan(f % (top + 1))),
        last_tier: (counted > 0).then(|| policy().tier(allowance, s.hint).tier.to_string()),
        held_before: false,
    }
}

/// The inputs of one `settle`.
#[derive(Clone, Debug)]
struct Case {
    from: ServiceMonth,
    month: ServiceMonth,
    owed: Vec<Entitlement>,
    history: History,
    hold: Option<HoldReason>,
}

impl Case {
    fn settle(&self) -> Vec<Posting> {
        let ceiling = ceilings();
        ledger::settle(&SettleInput {
            id_number: ID,
            month: self.month,
            from: self.from,
            owed: &self.owed,
            history: &self.history,
            hold: &PersonHolds { all: self.hold, ..Default::default() },
            ceiling: &ceiling,
        })
    }

    /// The keys L2 settles: owed or in the ledger, from the engine's start through the batch's month.
    fn keys(&self) -> BTreeSet<Key> {
        let owed = self.owed.iter().map(|e| (e.allowance, e.month));
        owed.chain(self.history.keys().copied()).filter(|&(_, mo)| mo >= self.from && mo <= self.month).collect()
    }

    fn owed(&self, key: Key) -> Option<&Entitlement> {
        self.owed.iter().find(|e| (e.allowance, e.month) == key)
    }

    fn history(&self, key: Key) -> KeyHistory {
        self.history.get(&key).cloned().unwrap_or_default()
    }

    /// What is owed for the key, split (zero when not owed).
    fn target(&self, key: Key) -> FundSplit {
        self.owed(key).map(|e| e.split).unwrap_or_default()
    }

    /// Owed minus net paid.
    fn diff(&self, key: Key) -> Decimal {
        self.target(key).total() - self.history(key).paid.total()
    }
}

fn case() -> impl Strategy<Value = Case> {
    let slot = (prop::option::weighted(0.6, 0usize..3), prop::option::weighted(0.5, hist_spec()));
    (
        0i32..=6,
        0i32..=15,
        prop::collection::vec(slot, 3 * SLOTS),
        prop::option::weighted(0.2, Just(HoldReason::NoAccount)),
    )
        .prop_map(|(start, span, slots, hold)| {
            let from = m("2019-10").plus(start);
            let month = from.plus(span);
            let mut owed = Vec::new();
            let mut history = History::new();
            for (i, (tier, hist)) in slots.into_iter().enumerate() {
                let allowance = Allowance::ALL[i / SLOTS];
                let offset = (i % SLOTS) as i32 - 2;
                // Also a month before the start and one after the batch's: settle must skip them.
                if offset > span + 1 {
                    continue;
                }
                let mo = from.plus(offset);
                if let Some(t) = tier {
                    owed.push(owed_at(allowance, mo, t, XICHENG));
                }
                if let Some(h) = hist {
                    history.insert((allowance, mo), key_history(allowance, &h));
                }
            }
            Case { from, month, owed, history, hold }
        })
}

/// Lottery allocation (fen) per year 2019–2021; none: no allocation loaded (nothing to draw, F3).
fn allocations() -> impl Strategy<Value = Vec<Option<i64>>> {
    prop::collection::vec(prop::option::weighted(0.7, 0i64..=150_000), 3)
}

fn purse_of(alloc: &[Option<i64>]) -> LotteryPurse {
    LotteryPurse::new((2019..).zip(alloc).filter_map(|(y, a)| a.map(|f| (y, yuan(f)))).collect())
}

// ---------------------------------------------------------------------------------------------
// Batches in sequence: one person, two districts, an owed schedule that changes between batches.

/// Months of the schedule, from the engine's start.
const HORIZON: usize = 18;
const DISTRICTS: [&str; 2] = [XICHENG, DONGCHENG];

/// What changes before a batch, and how the batch goes.
#[derive(Clone, Debug)]
struct StepSpec {
    /// Months from the previous batch's month (0: a correction batch of the same month).
    advance: i32,
    /// Registry changes: (allowance index, month offset, new tier or none, paying district).
    changes: Vec<(usize, usize, Option<usize>, usize)>,
    /// Which district runs the batch.
    district: usize,
    /// No account (L3).
    hold: bool,
    /// The batch is discarded (or superseded): its postings never count (L1).
    discard: bool,
    /// Lottery allocation (fen) for each year of this batch; none: no allocation loaded (nothing to
    /// draw, F3), so a person-month may be paid with lottery shares in one batch and without in
    /// the next.
    allocation: Option<i64>,
}

#[derive(Clone, Debug)]
struct Scenario {
    from: ServiceMonth,
    /// Per allowance and month offset: tier owed (none: not owed) and paying district.
    schedule: Vec<(Option<usize>, usize)>,
    steps: Vec<StepSpec>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let district = prop::sample::select(vec![0usize, 0, 0, 1]);
    let entry = (prop::option::weighted(0.6, 0usize..3), district.clone());
    let change = (0usize..3, 0usize..HORIZON, prop::option::weighted(0.6, 0usize..3), district.clone());
    let step = (
        prop::sample::select(vec![0, 1, 1, 1, 1, 1, 2, 3]),
        prop::collection::vec(change, 0..8),
        district,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.15),
        prop::option::weighted(0.5, 0i64..=200_000),
    )
        .prop_map(|(advance, changes, district, hold, discard, allocation)| StepSpec {
            advance,
            changes,
            district,
            hold,
            discard,
            allocation,
        });
    (0i32..=3, prop::collection::vec(entry, 3 * HORIZON), prop::collection::vec(step, 1..=12))
        .prop_map(|(start, schedule, steps)| Scenario { from: m("2019-10").plus(start), schedule, steps })
}

/// A posting as stored: which district's batch made it and whether it counts (L1).
#[derive(Clone, Debug)]
struct Row {
    district: usize,
    posting: Posting,
    counted: bool,
}

/// L1, L4: a district's view of the person's ledger, folded from every stored posting the way the
/// batch reads it: adjustment numbers and the ceiling's net paid over all districts, net paid,
/// count and last tier over this district's counted postings.
fn history_of(rows: &[Row], district: usize) -> History {
    let mut out = History::new();
    for r in rows {
        let p = &r.posting;
        let k = out.entry(key_of(p)).or_default();
        k.last_adjustment = Some(k.last_adjustment.map_or(p.key.adjustment, |a| a.max(p.key.adjustment)));
        if !r.counted {
            continue;
        }
        k.paid_all_districts += p.amount;
        if r.district == district {
            k.paid = add(k.paid, p.split);
            k.counted += 1;
            k.last_tier = Some(p.tier.clone());
        }
    }
    out
}

/// Net paid per district and key, with shares (L1).
fn net_paid(rows: &[Row]) -> BTreeMap<(usize, Key), FundSplit> {
    let mut out: BTreeMap<(usize, Key), FundSplit> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.counted) {
        let e = out.entry((r.district, key_of(&r.posting))).or_default();
        *e = add(*e, r.posting.split);
    }
    out
}

/// One batch of a scenario, as run.
#[derive(Clone, Debug)]
struct Step {
    spec: StepSpec,
    month: ServiceMonth,
    /// What the running district owes, every month of the schedule (settle reads through `month`).
    owed: Vec<Entitlement>,
    /// The postings as settled, before the lottery draw.
    settled: Vec<Posting>,
    /// The postings after the lottery draw, as stored.
    posted: Vec<Posting>,
    /// The ledger after the batch.
    rows: Vec<Row>,
    /// The same batch settled again right after, with the same owed and the updated ledger.
    rerun: Vec<Posting>,
}

fn simulate(s: &Scenario) -> Vec<Step> {
    let ceiling = ceilings();
    let mut schedule = s.schedule.clone();
    let mut rows: Vec<Row> = Vec::new();
    let mut month = s.from;
    let mut out = Vec::new();
    for (i, spec) in s.steps.iter().enumerate() {
        if i > 0 {
            month = month.plus(spec.advance).min(s.from.plus(HORIZON as i32 - 1));
        }
        for &(a, offset, tier, district) in &spec.changes {
            schedule[a * HORIZON + offset] = (tier, district);
        }
        let owed: Vec<Entitlement> = schedule
            .iter()
            .enumerate()
            .filter(|(_, (tier, district))| tier.is_some() && *district == spec.district)
            .map(|(j, (tier, _))| {
                let mo = s.from.plus((j % HORIZON) as i32);
                owed_at(Allowance::ALL[j / HORIZON], mo, tier.unwrap(), DISTRICTS[spec.district])
            })
            .collect();
        let settle = |rows: &[Row]| {
            ledger::settle(&SettleInput {
                id_number: ID,
                month,
                from: s.from,
                owed: &owed,
                history: &history_of(rows, spec.district),
                hold: &PersonHolds { all: spec.hold.then_some(HoldReason::NoAccount), ..Default::default() },
                ceiling: &ceiling,
            })
        };
        let settled = settle(&rows);
        let mut posted = settled.clone();
        let mut purse = purse_of(&[spec.allocation; 3]);
        for p in &mut posted {
            purse.draw(p);
        }
        rows.extend(posted.iter().map(|p| Row {
            district: spec.district,
            posting: p.clone(),
            counted: !spec.discard && p.held.is_none(),
        }));
        let rerun = settle(&rows);
        out.push(Step { spec: spec.clone(), month, owed, settled, posted, rows: rows.clone(), rerun });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Several persons, first payments only: the lottery purse (F3).

#[derive(Clone, Debug)]
struct PurseCase {
    /// Per person: per allowance and month 2019-10..=2021-03, tier owed.
    persons: Vec<Vec<Option<usize>>>,
    /// Allocation per year 2019–2021 as per mille of the year's lottery need; none: no allocation
    /// loaded (nothing to draw).
    permille: Vec<Option<i64>>,
}

const PURSE_MONTHS: usize = 18;

fn purse_case() -> impl Strategy<Value = PurseCase> {
    let person = prop::collection::vec(prop::option::weighted(0.5, 0usize..3), 3 * PURSE_MONTHS);
    (
        prop::collection::vec(person, 1..=3),
        prop::collection::vec(prop::option::weighted(0.85, prop_oneof![4 => 0i64..1000, 1 => 1000i64..=1200]), 3),
    )
        .prop_map(|(persons, permille)| PurseCase { persons, permille })
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config(384))]

    /// L2: a person's transfer of an allowance is the sum of its lines (the paid, non-recovery
    /// postings), positive; an allowance whose lines net to zero or less has no transfer; offsets
    /// never exceed the positive lines that absorb them, so the transfers add up to all lines.
    #[test]
    fn l2_transfer_equals_sum_of_its_lines(c in case()) {
        let postings = c.settle();
        let mut net: BTreeMap<&str, (Allowance, Decimal)> = BTreeMap::new();
        for p in postings.iter().filter(|p| is_paid_line(p)) {
            net.entry(p.key.allowance.as_str()).or_insert((p.key.allowance, Decimal::ZERO)).1 += p.amount;
        }
        for (allowance, n) in net.values() {
            prop_assert!(*n >= Decimal::ZERO, "{} lines net to {}", allowance, n);
        }
        let want: Vec<(Allowance, Decimal)> = net.values().copied().filter(|(_, n)| *n > Decimal::ZERO).collect();
        let got = ledger::transfers(&postings);
        prop_assert_eq!(&got, &want);
        prop_assert!(got.iter().all(|(_, amount)| *amount > Decimal::ZERO));
        prop_assert_eq!(
            sum(got.iter().map(|(_, a)| *a)),
            sum(postings.iter().filter(|p| is_paid_line(p)).map(|p| p.amount))
        );
    }

    /// F2: every posting's shares add up to its amount; the shares of all postings of a key and
    /// what was paid before add up to the split of what is owed, share by share (a held key keeps
    /// its one held line and nothing else). F3: drawing the allocation in key order keeps
    /// lottery + district = amount, never takes a year's remainder below zero, and what was not
    /// drawn is exactly what moved to the district.
    #[test]
    fn f2_no_fen_lost_or_invented_by_splits(c in case(), alloc in allocations()) {
        let postings = c.settle();
        let keys = c.keys();
        for p in &postings {
            prop_assert_eq!(p.split.lottery + p.split.district, p.amount, "{}", p.key);
            prop_assert!(keys.contains(&key_of(p)), "{} is outside {}..={}", p.key, c.from, c.month);
        }
        for key in keys {
            let of_key: Vec<&Posting> = postings.iter().filter(|p| key_of(p) == key).collect();
            let paid = c.history(key).paid;
            if of_key.iter().any(|p| p.held.is_some()) {
                prop_assert_eq!(of_key.len(), 1);
                prop_assert_eq!(of_key[0].amount, c.diff(key));
                prop_assert_eq!(add(paid, of_key[0].split), c.target(key));
            } else {
                let after = of_key.iter().fold(paid, |acc, p| add(acc, p.split));
                prop_assert_eq!(after, c.target(key), "{:?}", key);
            }
        }

        let before: Vec<Posting> = postings.clone();
        let mut purse = purse_of(&alloc);
        let start = purse.remaining.clone();
        let mut drawn = postings;
        for p in drawn.iter_mut() {
            let was = p.clone();
            purse.draw(p);
            prop_assert_eq!(&p.key, &was.key);
            prop_assert_eq!(p.amount, was.amount);
            prop_assert_eq!(p.split.lottery + p.split.district, p.amount, "{}", p.key);
            if p.held.is_some() || was.split.lottery <= Decimal::ZERO {
                prop_assert_eq!(p.split, was.split, "{} draws nothing to cut", p.key);
            } else if !start.contains_key(&p.key.month.year()) {
                // F3: no allocation loaded, nothing to draw: the district pays all.
                prop_assert_eq!(p.split, FundSplit { lottery: Decimal::ZERO, district: p.amount }, "{}", p.key);
            }
            prop_assert!(purse.remaining.values().all(|r| *r >= Decimal::ZERO), "{:?}", purse.remaining);
        }
        for (year, initial) in &start {
            let of_year = |ps: &[Posting]| {
                sum(ps.iter().filter(|p| p.held.is_none() && p.key.month.year() == *year).map(|p| p.split.lottery))
            };
            let shifted = purse.shifted_to_district.get(year).copied().unwrap_or_default();
            prop_assert_eq!(of_year(&drawn) + shifted, of_year(&before), "{}", year);
            prop_assert_eq!(*initial - purse.remaining[year], of_year(&drawn), "{}", year);
            let cut = drawn.iter().zip(&before).filter(|(a, b)| a.key.month.year() == *year && a.split != b.split);
            prop_assert_eq!(purse.exhausted_lines.get(year).copied().unwrap_or(0), cut.count() as u64);
        }
        for year in purse.shifted_to_district.keys().chain(purse.exhausted_lines.keys()) {
            prop_assert!(start.contains_key(year), "{} without allocation reported as exhausted", year);
        }
        // F3, no allocation: every positive share of the year moved to the district, counted and
        // summed; a negative one stands (it undoes what the key drew before, never more: F2 keeps
        // the key's net lottery share at its owed share, which is never negative).
        for year in 2019..=2021 {
            if start.contains_key(&year) {
                prop_assert!(!purse.unallocated.contains_key(&year));
                continue;
            }
            let paid: Vec<(&Posting, &Posting)> = before
                .iter()
                .zip(&drawn)
                .filter(|(b, _)| b.held.is_none() && b.key.month.year() == year)
                .collect();
            let moved: Vec<&Posting> =
                paid.iter().filter(|(b, _)| b.split.lottery > Decimal::ZERO).map(|(b, _)| *b).collect();
            let want = (!paid.is_empty()).then(|| (moved.len() as u64, sum(moved.iter().map(|p| p.split.lottery))));
            prop_assert_eq!(purse.unallocated.get(&year).copied(), want, "{}", year);
        }
    }

    /// L2: a positive difference on a key never paid is `regular` in the batch's month and
    /// `arrears` before it, on a key paid before a `topup`, for exactly the difference, at the tier
    /// owed; it is held for no account (L3) or when all districts together would pass the top
    /// rate (L4), and only positive lines are held. A negative difference becomes an offset, a
    /// recovery or an offset then a recovery, adding up to it; per allowance, offsets absorb
    /// exactly the smaller of the paid positive lines and the negative differences. L4: the
    /// adjustment numbers of a key continue from its last posting.
    #[test]
    fn l2_line_types_follow_first_payment_and_the_batch_month(c in case()) {
        let postings = c.settle();
        let ceiling = ceilings();
        for p in &postings {
            let key = key_of(p);
            let h = c.history(key);
            let diff = c.diff(key);
            prop_assert!(!diff.is_zero(), "{}: nothing to settle", p.key);
            let tier = c.owed(key).map(|e| e.tier.clone()).or(h.last_tier.clone()).unwrap_or_default();
            prop_assert_eq!(&p.tier, &tier, "{}", p.key);
            if p.amount > Decimal::ZERO {
                let want = match (h.counted, key.1 == c.month) {
                    (0, true) => LineType::Regular,
                    (0, false) => LineType::Arrears,
                    _ => LineType::Topup,
                };
                prop_assert_eq!(p.line_type, want, "{}", p.key);
                prop_assert_eq!(p.amount, diff);
                prop_assert_eq!(p.key.adjustment, h.last_adjustment.map_or(0, |a| a + 1));
                // Held while another district's payment stands (L1), or above the top rate (L4).
                let over = h.paid_all_districts - h.paid.total() > Decimal::ZERO
                    || h.paid_all_districts + diff > ceiling[&key.0];
                prop_assert_eq!(p.held, c.hold.or(over.then_some(HoldReason::OtherDistrictPaid)), "{}", p.key);
            } else {
                prop_assert!(p.amount < Decimal::ZERO, "{}: zero posting", p.key);
                prop_assert!(matches!(p.line_type, LineType::Offset | LineType::Recovery), "{}", p.key);
                prop_assert_eq!(p.held, None, "{}: held negative", p.key);
            }
        }
        let mut negatives: BTreeMap<Allowance, Decimal> = BTreeMap::new();
        for key in c.keys().into_iter().filter(|&k| c.diff(k) < Decimal::ZERO) {
            *negatives.entry(key.0).or_default() -= c.diff(key);
            // In adjustment order (byte order of the keys may put adjustment 10 before 9).
            let mut of_key: Vec<&Posting> = postings.iter().filter(|p| key_of(p) == key).collect();
            of_key.sort_by_key(|p| p.key.adjustment);
            let types: Vec<LineType> = of_key.iter().map(|p| p.line_type).collect();
            prop_assert!(
                [vec![LineType::Offset], vec![LineType::Recovery], vec![LineType::Offset, LineType::Recovery]]
                    .contains(&types),
                "{:?}: {:?}", key, types
            );
            prop_assert_eq!(sum(of_key.iter().map(|p| p.amount)), c.diff(key));
            let next = c.history(key).last_adjustment.map_or(0, |a| a + 1);
            let adjustments: Vec<u32> = of_key.iter().map(|p| p.key.adjustment).collect();
            prop_assert_eq!(adjustments, (next..).take(of_key.len()).collect::<Vec<u32>>());
        }
        for &allowance in Allowance::ALL {
            let of = |t: LineType| {
                sum(postings.iter().filter(|p| p.key.allowance == allowance && p.line_type == t).map(|p| p.amount))
            };
            let capacity = sum(
                postings.iter().filter(|p| p.key.allowance == allowance && p.held.is_none() && p.amount > Decimal::ZERO)
                    .map(|p| p.amount),
            );
            let negative = negatives.get(&allowance).copied().unwrap_or_default();
            prop_assert_eq!(-of(LineType::Offset), capacity.min(negative), "{}", allowance);
            prop_assert_eq!(-of(LineType::Recovery), negative - capacity.min(negative), "{}", allowance);
        }
        // Order itself is `l4_postings_come_out_in_payment_key_byte_order`'s; here: no key twice.
        let mut keys: Vec<String> = postings.iter().map(|p| p.key.to_string()).collect();
        keys.sort();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "a payment key repeats: {:?}", keys);
    }

    /// L4: postings come out in the byte order of their payment keys as written
    /// (`ID-allowance-YYYY-MM-N`), the order of lines.csv and of the lottery draw (F3).
    #[test]
    fn l4_postings_come_out_in_payment_key_byte_order(c in case()) {
        let keys: Vec<String> = c.settle().iter().map(|p| p.key.to_string()).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "not in byte order: {:?}", keys);
    }

    /// F3: with an allocation below a year's lottery need, lines draw it in payment-key order:
    /// the lines before the first cut get their whole share, the first cut line what is left,
    /// every later line of the year none; amounts never change, the district pays the rest, the
    /// year's remainder ends at zero and the run reports exhaustion. A year with enough is
    /// untouched; a year with none loaded has nothing to draw (the district pays every line, and
    /// the purse names the year with the lines and share moved).
    #[test]
    fn f3_lottery_drawn_in_key_order_until_exhausted(c in purse_case()) {
        let from = m("2019-10");
        let month = from.plus(PURSE_MONTHS as i32 - 1);
        let ceiling = ceilings();
        let history = History::new();
        let mut ids: Vec<String> =
            (0..c.persons.len()).map(|i| subsidy::idcard::make(XICHENG, d("1935-06-15"), 7 * i as u32 + 1)).collect();
        ids.sort();
        let mut before: Vec<Posting> = Vec::new();
        for (id, person) in ids.iter().zip(&c.persons) {
            let owed: Vec<Entitlement> = person
                .iter()
                .enumerate()
                .filter_map(|(j, t)| {
                    let mo = from.plus((j % PURSE_MONTHS) as i32);
                    t.map(|t| owed_at(Allowance::ALL[j / PURSE_MONTHS], mo, t, XICHENG))
                })
                .collect();
            let input = SettleInput {
                id_number: id, month, from, owed: &owed, history: &history, hold: &PersonHolds::default(), ceiling: &ceiling,
            };
            before.extend(ledger::settle(&input));
        }
        prop_assert!(before.iter().all(|p| p.amount > Decimal::ZERO && p.split.lottery >= Decimal::ZERO));
        let need = |year: i32| sum(before.iter().filter(|p| p.key.month.year() == year).map(|p| p.split.lottery));
        let allocation: BTreeMap<i32, Decimal> = (2019..)
            .zip(&c.permille)
            .filter_map(|(y, pm)| pm.map(|pm| (y, yuan(to_fen(need(y)).unwrap() * pm / 1000))))
            .collect();
        let mut purse = LotteryPurse::new(allocation.clone());
        let mut after = before.clone();
        for p in after.iter_mut() {
            purse.draw(p);
        }
        for (a, b) in after.iter().zip(&before) {
            prop_assert_eq!((&a.key, a.amount, a.line_type), (&b.key, b.amount, b.line_type));
            prop_assert_eq!(a.split.lottery + a.split.district, a.amount);
        }
        let short: Vec<i32> = allocation.iter().filter(|(y, a)| **a < need(**y)).map(|(y, _)| *y).collect();
        prop_assert_eq!(purse.ran_out(), !short.is_empty());
        for year in 2019..=2021 {
            let lines: Vec<(&Posting, &Posting)> =
                before.iter().zip(&after).filter(|(b, _)| b.key.month.year() == year).collect();
            let Some(&alloc) = allocation.get(&year) else {
                // F3: no allocation loaded: nothing to draw, every line paid wholly by the district.
                prop_assert!(
                    lines.iter().all(|(b, a)| a.split.lottery.is_zero() && a.split.district == b.amount),
                    "{} without allocation drew", year
                );
                let moved = lines.iter().filter(|(b, _)| b.split.lottery > Decimal::ZERO).count() as u64;
                let want = (!lines.is_empty()).then_some((moved, need(year)));
                prop_assert_eq!(purse.unallocated.get(&year).copied(), want, "{}", year);
                continue;
            };
            if !short.contains(&year) {
                prop_assert!(lines.iter().all(|(b, a)| a.split == b.split), "{} cut with enough", year);
                prop_assert_eq!(purse.remaining[&year], alloc - need(year));
                prop_assert!(!purse.exhausted_lines.contains_key(&year));
                continue;
            }
            let first = lines.iter().position(|(b, a)| a.split != b.split);
            prop_assert!(first.is_some(), "{} short but nothing cut", year);
            let first = first.unwrap();
            let drawn_before = sum(lines[..first].iter().map(|(b, _)| b.split.lottery));
            let (b, a) = lines[first];
            prop_assert_eq!(a.split.lottery, alloc - drawn_before, "first cut {}", a.key);
            prop_assert!(a.split.lottery < b.split.lottery);
            let mut cut = 1;
            for (b, a) in &lines[first + 1..] {
                prop_assert_eq!(a.split.lottery, Decimal::ZERO, "{} after exhaustion", a.key);
                prop_assert_eq!(a.split.district, a.amount);
                cut += u64::from(b.split.lottery > Decimal::ZERO);
            }
            prop_assert_eq!(purse.remaining[&year], Decimal::ZERO);
            prop_assert_eq!(purse.shifted_to_district[&year], need(year) - alloc);
            prop_assert_eq!(purse.exhausted_lines[&year], cut);
        }
    }
}

proptest! {
    #![proptest_config(config(160))]

    /// L4 over a sequence of batches (registry changes, moves between two districts, held and
    /// discarded batches, lottery exhaustion): after every batch, each district's net paid of a
    /// key, and all districts' together, stay within [0, top rate]; the lottery share within
    /// [0, net paid]; and after a counted batch the running district's net paid equals what it
    /// owes for every key from the start through the batch's month that has no held line.
    #[test]
    fn l4_net_paid_never_outside_zero_and_top_rate(s in scenario()) {
        let ceiling = ceilings();
        let mut prev: BTreeMap<(usize, Key), FundSplit> = BTreeMap::new();
        for step in simulate(&s) {
            let net = net_paid(&step.rows);
            let mut all: BTreeMap<Key, Decimal> = BTreeMap::new();
            for (&(district, key), paid) in &net {
                prop_assert!(paid.total() >= Decimal::ZERO && paid.total() <= ceiling[&key.0],
                    "{} {:?} {} net {}", step.month, key, DISTRICTS[district], paid.total());
                prop_assert!(paid.lottery >= Decimal::ZERO && paid.lottery <= paid.total(),
                    "{:?} lottery {} of {}", key, paid.lottery, paid.total());
                *all.entry(key).or_default() += paid.total();
            }
            for (key, total) in &all {
                prop_assert!(*total <= ceiling[&key.0], "{:?}: all districts {}", key, total);
            }
            if step.spec.discard {
                prop_assert_eq!(&net, &prev, "a discarded batch counted");
            } else {
                let held: BTreeSet<Key> = step.settled.iter().filter(|p| p.held.is_some()).map(key_of).collect();
                for &allowance in Allowance::ALL {
                    for mo in s.from.through(step.month) {
                        let key = (allowance, mo);
                        if held.contains(&key) {
                            continue;
                        }
                        let owed = step.owed.iter().find(|e| (e.allowance, e.month) == key);
                        let paid = net.get(&(step.spec.district, key)).copied().unwrap_or_default();
                        let want = owed.map(|e| e.amount).unwrap_or_default();
                        prop_assert_eq!(paid.total(), want, "{} {:?}", step.month, key);
                    }
                }
            }
            prev = net;
        }
    }

    /// L4: a payment key is never made twice, whatever happens to the batch that made it (held,
    /// discarded, another district's), and each key's adjustment numbers strictly increase.
    #[test]
    fn l4_payment_keys_never_repeat(s in scenario()) {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut last: BTreeMap<Key, u32> = BTreeMap::new();
        for step in simulate(&s) {
            for p in &step.posted {
                prop_assert!(seen.insert(p.key.to_string()), "{} made twice", p.key);
                if let Some(&before) = last.get(&key_of(p)) {
                    prop_assert!(p.key.adjustment > before, "{} after adjustment {}", p.key, before);
                }
                last.insert(key_of(p), p.key.adjustment);
                prop_assert!(p.key.month >= s.from && p.key.month <= step.month, "{} outside the batch", p.key);
            }
        }
    }

    /// F3 over a sequence of batches where some run with no allocation loaded (nothing to draw)
    /// and others with one: a line of a batch without allocation never draws (lottery share at
    /// most zero, and below zero only to undo what the key drew before, by at most that: the
    /// key's net lottery share stays at or above zero after every line of the batch).
    #[test]
    fn f3_no_allocation_never_draws_nor_takes_a_key_below_zero(s in scenario()) {
        let mut before: Vec<Row> = Vec::new();
        for step in simulate(&s) {
            let net_before = net_paid(&before);
            if step.spec.allocation.is_none() {
                for p in step.posted.iter().filter(|p| p.held.is_none()) {
                    prop_assert!(p.split.lottery <= Decimal::ZERO, "{} drew {} without allocation", p.key, p.split.lottery);
                    let drew = net_before.get(&(step.spec.district, key_of(p))).map(|f| f.lottery).unwrap_or_default();
                    prop_assert!(-p.split.lottery <= drew, "{} gives back {} of {}", p.key, -p.split.lottery, drew);
                }
            }
            for ((_, key), paid) in net_paid(&step.rows) {
                prop_assert!(paid.lottery >= Decimal::ZERO, "{:?}: net lottery {}", key, paid.lottery);
            }
            before = step.rows.clone();
        }
    }

    /// L2: a rerun with unchanged inputs emits no line; only held lines come again (L3), each
    /// with the next adjustment number. A discarded batch never counted (L1): the rerun settles
    /// the same differences again, under new payment keys.
    #[test]
    fn l2_rerun_with_unchanged_inputs_emits_no_line(s in scenario()) {
        for step in simulate(&s) {
            if step.spec.discard {
                // Compared in key-then-adjustment order: the byte order of the keys changes when
                // the new adjustment numbers cross from 9 to 10.
                let in_order = |ps: &[Posting]| -> Vec<Posting> {
                    let mut v = ps.to_vec();
                    v.sort_by_key(|p| (key_of(p), p.key.adjustment));
                    v
                };
                let (rerun, settled) = (in_order(&step.rerun), in_order(&step.settled));
                let strip = |ps: &[Posting]| -> Vec<Settled> {
                    ps.iter().map(|p| (key_of(p), p.line_type, p.tier.clone(), p.amount, p.split, p.held)).collect()
                };
                prop_assert_eq!(strip(&rerun), strip(&settled));
                for (again, first) in rerun.iter().zip(&settled) {
                    prop_assert!(again.key.adjustment > first.key.adjustment, "{} reuses {}", again.key, first.key);
                }
            } else {
                let held: Vec<Posting> = step
                    .settled
                    .iter()
                    .filter(|p| p.held.is_some())
                    .map(|p| {
                        let key = PaymentKey { adjustment: p.key.adjustment + 1, ..p.key.clone() };
                        Posting { key, ..p.clone() }
                    })
                    .collect();
                prop_assert_eq!(&step.rerun, &held, "{} {}", step.month, DISTRICTS[step.spec.district]);
                if !step.spec.hold {
                    prop_assert!(step.rerun.iter().all(|p| p.held == Some(HoldReason::OtherDistrictPaid)));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Worked examples.

/// F3, no allocation loaded: care January 2020 paid at tier B (400) with lottery 0 (the district
/// paid all), now owed tier C (200). F2 gives the difference -200 the shares owed-minus-paid:
/// lottery 100 - 0 = +100, district 100 - 400 = -300. Drawn without allocation the +100 has
/// nothing to draw: lottery 0, district -200, and the month's net lottery share stays 0 (never
/// below zero). Then the month stops being owed (a death reported late): -200 with lottery
/// 0 - 0 = 0, district -200.
#[test]
fn f3_no_allocation_offset_of_a_line_that_drew_nothing_keeps_lottery_at_zero() {
    let jan = m("2020-01");
    let feb = m("2020-02");
    let zero = Decimal::ZERO;
    let mut history = History::new();
    let paid = FundSplit { lottery: zero, district: Decimal::new(400, 0) };
    history.insert(
        (Allowance::Care, jan),
        KeyHistory {
            paid,
            counted: 1,
            last_adjustment: Some(0),
            paid_all_districts: Decimal::new(400, 0),
            last_tier: Some("B".into()),
            held_before: false,
        },
    );
    // Tier index 2 is C (200) and February a first payment at C, so the offset is absorbed.
    let owed = vec![owed_at(Allowance::Care, jan, 2, XICHENG), owed_at(Allowance::Care, feb, 2, XICHENG)];
    let c = Case { from: jan, month: feb, owed, history, hold: None };
    let mut postings = c.settle();
    let mut purse = LotteryPurse::new(BTreeMap::new());
    for p in &mut postings {
        purse.draw(p);
    }
    let got: Vec<(String, LineType, Decimal, FundSplit)> =
        postings.iter().map(|p| (p.key.to_string(), p.line_type, p.amount, p.split)).collect();
    assert_eq!(
        got,
        vec![
            (
                format!("{ID}-care-2020-01-1"),
                LineType::Offset,
                Decimal::new(-200, 0),
                FundSplit { lottery: zero, district: Decimal::new(-200, 0) }
            ),
            // February: 200 owed at C, quota 100 moved to the district as well.
            (
                format!("{ID}-care-2020-02-0"),
                LineType::Regular,
                Decimal::new(200, 0),
                FundSplit { lottery: zero, district: Decimal::new(200, 0) }
            ),
        ]
    );
    // The +100 of January and the 100 of February moved to the district: two lines, 200 yuan.
    assert_eq!(purse.unallocated.get(&2020), Some(&(2, Decimal::new(200, 0))));
    let net_lottery = paid.lottery + postings[0].split.lottery;
    assert_eq!(net_lottery, zero, "January's net lottery share");

    // Later January is not owed at all: the remaining 200 (lottery 0, district 200) is undone.
    let mut history = History::new();
    history.insert(
        (Allowance::Care, jan),
        KeyHistory {
            paid: FundSplit { lottery: zero, district: Decimal::new(200, 0) },
            counted: 2,
            last_adjustment: Some(1),
            paid_all_districts: Decimal::new(200, 0),
            last_tier: Some("C".into()),
            held_before: false,
        },
    );
    let c = Case { from: jan, month: jan, owed: vec![], history, hold: None };
    let mut postings = c.settle();
    for p in &mut postings {
        purse.draw(p);
    }
    let got: Vec<(LineType, Decimal, FundSplit)> = postings.iter().map(|p| (p.line_type, p.amount, p.split)).collect();
    assert_eq!(
        got,
        vec![(LineType::Recovery, Decimal::new(-200, 0), FundSplit { lottery: zero, district: Decimal::new(-200, 0) })]
    );
}

/// A key paid 600 (care A) through nine postings, now owed nothing, and a first payment of 200
/// (care C) in the same batch: the offset takes 200 at adjustment 9, the recovery the other 400
/// at adjustment 10. Byte order of the written keys (the order of the files and of the lottery
/// draw) puts `…-2020-01-10` before `…-2020-01-9`, and `settle` returns them in that order.
#[test]
fn l4_byte_order_holds_past_adjustment_nine() {
    let jan = m("2020-01");
    let feb = m("2020-02");
    let mut history = History::new();
    history.insert(
        (Allowance::Care, jan),
        KeyHistory {
            paid: paid_split(Allowance::Care, Decimal::new(600, 0), 0),
            counted: 9,
            last_adjustment: Some(8),
            paid_all_districts: Decimal::new(600, 0),
            last_tier: Some("A".into()),
            held_before: false,
        },
    );
    let c = Case { from: jan, month: feb, owed: vec![owed_at(Allowance::Care, feb, 2, XICHENG)], history, hold: None };
    let postings = c.settle();
    let got: Vec<(String, LineType, Decimal)> =
        postings.iter().map(|p| (p.key.to_string(), p.line_type, p.amount)).collect();
    assert_eq!(
        got,
        vec![
            (format!("{ID}-care-2020-01-10"), LineType::Recovery, Decimal::new(-400, 0)),
            (format!("{ID}-care-2020-01-9"), LineType::Offset, Decimal::new(-200, 0)),
            (format!("{ID}-care-2020-02-0"), LineType::Regular, Decimal::new(200, 0)),
        ]
    );
    let keys: Vec<String> = postings.iter().map(|p| p.key.to_string()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "postings are not in payment-key byte order");
}
