-- Corrections and their paper trail: recovery decisions, the registry's versions by import, the
-- registry watermark of each batch, and the append-only audit log.

create table recovery_decisions (
    payment_key text collate "C" primary key references postings(payment_key),
    decision text not null check (decision in ('collected', 'waived')),
    decided_by text not null,
    decided_at text not null,
    reason text not null
);

create table registry_versions (
    import_id bigint not null,
    file text not null,
    id_number text collate "C" not null,
    row_key text collate "C" not null,
    deleted integer not null check (deleted in (0, 1)),
    row_json text not null,
    primary key (file, row_key, import_id)
);
create index registry_versions_by_person on registry_versions(id_number, import_id);

create table person_changes (
    id_number text collate "C" primary key,
    import_id bigint not null
);

alter table batches add column registry_import_id bigint not null default 0;

create table audit_log (
    seq bigint primary key,
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

-- The log is append-only: UPDATE and DELETE are refused, whoever asks.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end;
$$;
create trigger audit_log_no_update_delete before update or delete on audit_log
    for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only();
