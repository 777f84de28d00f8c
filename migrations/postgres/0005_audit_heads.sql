-- Issue 7, point 7: districts run in parallel. A batch is computed in a repeatable-read
-- transaction, which may not update a row that another transaction changed after its snapshot
-- began; the audit head kept in `settings` was such a row (every append updated it). The head is
-- now appended instead: one row per entry, the newest is the head `subsidy verify --audit`
-- compares the log's last entry with (so that entries removed from the end are still seen).

create table audit_heads (
    seq bigint primary key,
    hash text not null unique
);

insert into audit_heads (seq, hash)
    select cast(split_part(value, ' ', 1) as bigint), split_part(value, ' ', 2)
    from settings where key = 'audit_head';
delete from settings where key = 'audit_head';

-- Append-only, like the log itself.
create function audit_heads_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_heads is append-only';
end;
$$;
create trigger audit_heads_no_update_delete before update or delete on audit_heads
    for each row execute function audit_heads_append_only();
create trigger audit_heads_no_truncate before truncate on audit_heads
    for each statement execute function audit_heads_append_only();
