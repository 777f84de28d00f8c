-- The engine's settings, the policy versions and the registry (INTERFACE.md "Registry files").
-- Dates are ISO text (YYYY-MM-DD), months YYYY-MM, money integer fen.

create table settings (
    key text primary key,
    value text not null
);

-- Every loaded policy version (POLICY.md as data); the one in force for a month is the latest
-- whose effective_from is on or before it.
create table policy_versions (
    version text primary key,
    effective_from text not null unique,
    body text not null,          -- canonical JSON of fixtures/policy/*.toml
    sha256 text not null,
    source text not null,        -- file it was loaded from
    loaded_at text not null
);

-- One row per `subsidy import DIR`; every registry row remembers the import that last wrote it.
create table imports (
    import_id integer primary key autoincrement,
    dir text not null,
    started_at text not null,
    finished_at text,
    accepted integer not null default 0,
    rejected integer not null default 0
);

-- Rejected rows, kept so an operator can list them again after the terminal is gone.
create table import_rejects (
    import_id integer not null references imports(import_id),
    file text not null,
    line integer not null,
    reason text not null,
    detail text not null
);
create index import_rejects_by_import on import_rejects(import_id);

create table elders (
    id_number text not null,
    district_code text not null,
    name text not null,
    birth_date text not null,
    street_code text not null,
    hukou_in_date text,
    hukou_out_date text,
    death_date text,
    account_type text check (account_type in ('yanglao_zhucan','minzheng','canji','teshu_jiating','shebao','junren')),
    account_no text,
    import_id integer not null,
    primary key (id_number, district_code)
);
create index elders_by_district on elders(district_code, id_number);

create table applications (
    id_number text not null,
    allowance text not null check (allowance in ('longevity','care','hardship')),
    applied_on text not null,
    decision text not null check (decision in ('approved','rejected','pending')),
    decided_on text,
    import_id integer not null,
    primary key (id_number, allowance, applied_on)
);

create table assessments (
    id_number text not null,
    assessed_on text not null,
    result text not null check (result in ('severe','moderate','mild','able')),
    import_id integer not null,
    primary key (id_number, assessed_on)
);

create table disability_certs (
    id_number text not null,
    category text not null check (category in ('visual','hearing','speech','limb','intellectual','mental')),
    grade integer not null check (grade between 1 and 4),
    multiple integer not null check (multiple in (0, 1)),
    issued_on text not null,
    revoked_on text,
    import_id integer not null,
    primary key (id_number, category, issued_on)
);

create table household_status (
    id_number text not null,
    status text not null check (status in ('dibao','low_income','special_family')),
    valid_from text not null,
    valid_to text,
    import_id integer not null,
    primary key (id_number, status, valid_from)
);

create table exclusions (
    id_number text not null,
    kind text not null check (kind in ('disabled_person_subsidy','tekun','work_injury_care','heroic_injury_care','zhiqing_injury_care','institution_subsidy')),
    valid_from text not null,
    valid_to text,
    import_id integer not null,
    primary key (id_number, kind, valid_from)
);

create table suspensions (
    id_number text not null,
    reason text not null check (reason in ('imprisonment','review_failed','missing')),
    valid_from text not null,
    valid_to text,
    import_id integer not null,
    primary key (id_number, reason, valid_from)
);
