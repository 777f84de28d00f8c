-- The ledger (POLICY.md L1–L4): batches, their postings (lines and recovery items), the transfers
-- the platform pays, and the per-(person, allowance, month) balance whose bounds the database
-- itself enforces (L4). Money is integer fen.

create table batches (
    batch_id text primary key,                 -- 110102-2020-07-R1: district, month, kind, sequence
    district_code text not null,
    service_month text not null,               -- YYYY-MM
    kind text not null check (kind in ('regular', 'correction')),
    seq integer not null check (seq >= 1),
    state text not null check (state in ('computed', 'approved', 'exported', 'superseded', 'discarded')),
    run_by text not null,
    computed_at text not null,
    approved_by text,
    approved_at text,
    exported_at text,
    state_reason text,                         -- why discarded / rerun
    superseded_by text,
    policy_version text not null,
    registry_fingerprint text not null,
    transfer_count integer not null default 0,
    control_sum_fen integer not null default 0, -- sum of transfers
    lottery_fen integer not null default 0,     -- paid lines, lottery share (net of offsets)
    district_fen integer not null default 0,
    held_fen integer not null default 0,
    recovery_fen integer not null default 0,    -- recovery items raised (positive: owed back)
    summary text not null default '{}',         -- JSON: totals by allowance, lottery purse
    unique (district_code, service_month, kind, seq),
    -- Four eyes: whoever ran a batch never approves it.
    check (approved_by is null or approved_by <> run_by)
);
create index batches_by_state on batches(district_code, state);

create table postings (
    payment_key text primary key,              -- L4: ID-allowance-YYYY-MM-adjustment
    batch_id text not null references batches(batch_id),
    district_code text not null,
    id_number text not null,
    allowance text not null check (allowance in ('longevity', 'care', 'hardship')),
    service_month text not null,
    adjustment integer not null check (adjustment >= 0),
    line_type text not null check (line_type in ('regular', 'arrears', 'topup', 'offset', 'recovery')),
    tier text not null,
    amount_fen integer not null,
    lottery_fen integer not null,
    district_fen integer not null,
    held_reason text check (held_reason in ('NO_ACCOUNT', 'OTHER_DISTRICT_PAID')),
    transfer_id text,
    name text not null,                        -- as recorded when the batch was computed
    account_type text,
    account_no text,
    street_code text not null,
    recovery_reason text,
    check (lottery_fen + district_fen = amount_fen),                      -- F2
    check ((line_type in ('offset', 'recovery')) = (amount_fen < 0)),
    check (amount_fen <> 0),
    check (held_reason is null or line_type in ('regular', 'arrears', 'topup')),
    check (transfer_id is null or (held_reason is null and line_type <> 'recovery')),
    unique (id_number, allowance, service_month, adjustment)              -- L4
);
create index postings_by_batch on postings(batch_id, transfer_id);
create index postings_by_person on postings(id_number, allowance, service_month);
create index postings_by_district on postings(district_code, id_number);

create table transfers (
    transfer_id text primary key check (length(transfer_id) <= 35),  -- ISO 20022 end-to-end id
    batch_id text not null references batches(batch_id),
    id_number text not null,
    allowance text not null,
    name text not null,
    account_type text,
    account_no text not null,
    amount_fen integer not null check (amount_fen > 0),
    status text not null default 'pending' check (status in ('pending', 'paid', 'failed', 'returned')),
    reason_code text,
    unique (batch_id, id_number, allowance)
);

-- L4 in the database: the net paid of every (person, allowance, month), over all districts,
-- kept by the same transaction that writes or voids postings; it can never leave [0, ceiling],
-- the allowance's highest monthly rate.
create table balances (
    id_number text not null,
    allowance text not null,
    service_month text not null,
    net_fen integer not null,
    ceiling_fen integer not null,
    primary key (id_number, allowance, service_month),
    constraint l4_net_paid_within_bounds check (net_fen >= 0 and net_fen <= ceiling_fen)
);
