-- Corrections and their paper trail: recovery decisions, the registry's versions by import, the
-- registry watermark of each batch, and the append-only audit log.

-- A recovery item (a posting of type recovery) is closed by one decision: collected or waived
-- (L1: either way it stays in the net paid; a waiver is a decision, not a debt).
create table recovery_decisions (
    payment_key text primary key references postings(payment_key),
    decision text not null check (decision in ('collected', 'waived')),
    decided_by text not null,
    decided_at text not null,
    reason text not null
);

-- Every version of every registry row, by import: what `explain` shows "as it stood" when a
-- batch was computed. Rows are only ever added.
create table registry_versions (
    import_id integer not null,
    file text not null,
    id_number text not null,
    row_key text not null,          -- the file's key columns, joined by '|'
    deleted integer not null check (deleted in (0, 1)),
    row_json text not null,
    primary key (file, row_key, import_id)
);
create index registry_versions_by_person on registry_versions(id_number, import_id);

-- The last import that touched each person: a correction batch reads only persons changed since
-- the district's previous batch.
create table person_changes (
    id_number text primary key,
    import_id integer not null
);

-- The import watermark of a batch: the registry it read is every import up to this one.
alter table batches add column registry_import_id integer not null default 0;

-- Who did what, when and why: every state change, chained by hashes so that a changed or
-- missing entry is detected (`subsidy verify --audit`).
create table audit_log (
    seq integer primary key,
    at text not null,
    actor text not null,
    command text not null,
    target text not null,
    reason text not null,
    input_fingerprint text not null,
    details text not null,
    prev_hash text not null,
    hash text not null unique
);

-- SQLite has no roles: a trigger refuses edits of the log here too.
create trigger audit_log_no_update before update on audit_log
begin
    select raise(abort, 'audit_log is append-only');
end;
create trigger audit_log_no_delete before delete on audit_log
begin
    select raise(abort, 'audit_log is append-only');
end;
