-- The audit position a batch's computation saw: the last audit entry visible when it was computed
-- (entries commit in sequence order, so every earlier one was visible too). A correction reads the
-- persons touched by anything after it, which includes batches of other districts that committed
-- while this one was being computed (issue 7: reading only changed persons must give what reading
-- everyone gives). Null for batches computed before this migration: their own entry is used.
alter table batches add column seen_audit_seq bigint;

-- Work table of a replacing rerun: the new id of each transfer it carries over (every transfer id
-- of a batch starts with that batch's id). Rows live only inside the rerun's transaction.
create table transfer_renames (
    batch_id text collate "C" not null,
    old_id text collate "C" primary key,      -- the collation of transfers.transfer_id: the
    new_id text collate "C" not null          -- rename's lookup uses this index
);

-- A correction reads every person with a held line of the district (L3): find them without
-- reading the district's other postings.
create index postings_held_by_district on postings(district_code, id_number) where held_reason is not null;
