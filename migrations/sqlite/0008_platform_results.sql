-- Issue 9: the platform's answers. What the platform said of each transfer and when the engine
-- learned it, the holds that keep a person's lines waiting (a failed or returned transfer's
-- fault, L3, or an operator's hold pending a review), and the new reasons a line can be held for.
-- SQLite cannot change a check constraint in place: `postings` is built again with the new list
-- (and `recovery_decisions`, which refers to it, around it).

-- The audit entry of the `reconcile` that recorded the transfer's status: a batch whose
-- computation saw that entry (batches.seen_audit_seq >= result_seq) has settled its lines again.
-- (The reason code's values are checked by the engine here; PostgreSQL checks them in the table.)
alter table transfers add column reason text;
alter table transfers add column result_seq bigint;
alter table transfers add column result_at text;

-- A hold keeps a person's positive lines (of one allowance, or all when allowance is null) held
-- until it is cured (a new account, a corrected registry row: the engine sees it in the registry)
-- or released by an operator. Opened by a failed or returned transfer (kind = its fault code) or
-- by `subsidy hold` (kind ON_HOLD).
create table holds (
    hold_id integer primary key,
    id_number text not null,
    allowance text check (allowance is null or allowance in ('longevity', 'care', 'hardship')),
    kind text not null check (kind in ('ACCOUNT_CLOSED', 'ACCOUNT_INVALID', 'NAME_MISMATCH', 'ID_MISMATCH',
                                       'DECEASED', 'OTHER', 'ON_HOLD')),
    transfer_id text unique,                    -- the transfer whose result opened it
    account_no text,                            -- the account that transfer went to
    opened_seq integer not null,                -- its audit entry
    opened_import_id integer not null,          -- the registry import current when it opened
    opened_by text not null,
    opened_at text not null,
    reason text not null,
    released_seq integer,
    released_by text,
    released_at text,
    release_reason text,
    check ((transfer_id is null) = (kind = 'ON_HOLD')),
    check ((released_seq is null) = (released_by is null))
);
create index holds_open on holds(id_number) where released_seq is null;

create table recovery_decisions_kept as select * from recovery_decisions;
drop table recovery_decisions;

create table postings_rebuilt (
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
    held_reason text check (held_reason in ('NO_ACCOUNT', 'OTHER_DISTRICT_PAID', 'ACCOUNT_CLOSED', 'ACCOUNT_INVALID',
                                            'NAME_MISMATCH', 'ID_MISMATCH', 'DECEASED', 'OTHER', 'ON_HOLD')),
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
insert into postings_rebuilt select * from postings;
drop table postings;
alter table postings_rebuilt rename to postings;
create index postings_by_batch on postings(batch_id, transfer_id);
create index postings_by_person on postings(id_number, allowance, service_month);
create index postings_by_district on postings(district_code, id_number);
create index postings_held_by_district on postings(district_code, id_number) where held_reason is not null;

create table recovery_decisions (
    payment_key text primary key references postings(payment_key),
    decision text not null check (decision in ('collected', 'waived')),
    decided_by text not null,
    decided_at text not null,
    reason text not null
);
insert into recovery_decisions select * from recovery_decisions_kept;
drop table recovery_decisions_kept;
