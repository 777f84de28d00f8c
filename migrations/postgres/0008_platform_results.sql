-- Issue 9: the platform's answers. What the platform said of each transfer and when the engine
-- learned it, the holds that keep a person's lines waiting (a failed or returned transfer's
-- fault, L3, or an operator's hold pending a review), and the new reasons a line can be held for.

-- The audit entry of the `reconcile` that recorded the transfer's status: a batch whose
-- computation saw that entry (batches.seen_audit_seq >= result_seq) has settled its lines again.
alter table transfers add column reason text;
alter table transfers add column result_seq bigint;
alter table transfers add column result_at text;
alter table transfers add constraint transfers_result_reason
    check ((status in ('pending', 'paid')) = (reason_code is null)
           and (reason_code is null or reason_code in
               ('ACCOUNT_CLOSED', 'ACCOUNT_INVALID', 'NAME_MISMATCH', 'ID_MISMATCH', 'DECEASED', 'OTHER'))
           and ((status = 'pending') = (result_seq is null)));

-- A hold keeps a person's positive lines (of one allowance, or all when allowance is null) held
-- until it is cured (a new account, a corrected registry row: the engine sees it in the registry)
-- or released by an operator. Opened by a failed or returned transfer (kind = its fault code) or
-- by `subsidy hold` (kind ON_HOLD).
create table holds (
    hold_id bigint primary key,
    id_number text collate "C" not null,
    allowance text check (allowance is null or allowance in ('longevity', 'care', 'hardship')),
    kind text not null check (kind in ('ACCOUNT_CLOSED', 'ACCOUNT_INVALID', 'NAME_MISMATCH', 'ID_MISMATCH',
                                       'DECEASED', 'OTHER', 'ON_HOLD')),
    transfer_id text collate "C" unique,        -- the transfer whose result opened it
    account_no text,                            -- the account that transfer went to
    opened_seq bigint not null,                 -- its audit entry
    opened_import_id bigint not null,           -- the registry import current when it opened
    opened_by text not null,
    opened_at text not null,
    reason text not null,
    released_seq bigint,
    released_by text,
    released_at text,
    release_reason text,
    check ((transfer_id is null) = (kind = 'ON_HOLD')),
    check ((released_seq is null) = (released_by is null))
);
create index holds_open on holds(id_number) where released_seq is null;

alter table postings drop constraint postings_held_reason_check;
alter table postings add constraint postings_held_reason_check
    check (held_reason in ('NO_ACCOUNT', 'OTHER_DISTRICT_PAID', 'ACCOUNT_CLOSED', 'ACCOUNT_INVALID', 'NAME_MISMATCH',
                           'ID_MISMATCH', 'DECEASED', 'OTHER', 'ON_HOLD'));
