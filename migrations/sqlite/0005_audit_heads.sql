-- Issue 7, point 7: the audit head is appended (one row per entry), not updated in `settings`.
-- Same change as the PostgreSQL migration, where a repeatable-read batch transaction may not
-- update a row another transaction changed after its snapshot; the newest row is the head
-- `subsidy verify --audit` compares the log's last entry with.

create table audit_heads (
    seq integer primary key,
    hash text not null unique
);

insert into audit_heads (seq, hash)
    select cast(substr(value, 1, instr(value, ' ') - 1) as integer), substr(value, instr(value, ' ') + 1)
    from settings where key = 'audit_head';
delete from settings where key = 'audit_head';

create trigger audit_heads_no_update before update on audit_heads
begin
    select raise(abort, 'audit_heads is append-only');
end;
create trigger audit_heads_no_delete before delete on audit_heads
begin
    select raise(abort, 'audit_heads is append-only');
end;
