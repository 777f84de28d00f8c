-- The engine's settings, the policy versions and the registry (INTERFACE.md "Registry files").
-- Dates are `date`, months YYYY-MM text, money integer fen (bigint).

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
    loaded_at timestamptz not null
);

-- One row per `subsidy import DIR`; every registry row remembers the import that last wrote it.
create table imports (
    import_id bigserial primary key,
    dir text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    accepted bigint not null default 0,
    rejected bigint not null default 0
);

-- Rejected rows, kept so an operator can list them again after the terminal is gone.
create table import_rejects (
    import_id bigint not null references imports(import_id),
    file text not null,
    line bigint not null,
    reason text not null,
    detail text not null
);
create index import_rejects_by_import on import_rejects(import_id);

create table elders (
    id_number text collate "C" not null,
    district_code text not null,
    name text not null,
    birth_date date not null,
    street_code text not null,
    hukou_in_date date,
    hukou_out_date date,
    death_date date,
    account_type text check (account_type in ('yanglao_zhucan','minzheng','canji','teshu_jiating','shebao','junren')),
    account_no text,
    import_id bigint not null,
    primary key (id_number, district_code)
);
create index elders_by_district on elders(district_code, id_number);

create table applications (
    id_number text collate "C" not null,
    allowance text not null check (allowance in ('longevity','care','hardship')),
    applied_on date not null,
    decision text not null check (decision in ('approved','rejected','pending')),
    decided_on date,
    import_id bigint not null,
    primary key (id_number, allowance, applied_on)
);

create table assessments (
    id_number text collate "C" not null,
    assessed_on date not null,
    result text not null check (result in ('severe','moderate','mild','able')),
    import_id bigint not null,
    primary key (id_number, assessed_on)
);

create table disability_certs (
    id_number text collate "C" not null,
    category text not null check (category in ('visual','hearing','speech','limb','intellectual','mental')),
    grade integer not null check (grade between 1 and 4),
    multiple boolean not null,
    issued_on date not null,
    revoked_on date,
    import_id bigint not null,
    primary key (id_number, category, issued_on)
);

create table household_status (
    id_number text collate "C" not null,
    status text not null check (status in ('dibao','low_income','special_family')),
    valid_from date not null,
    valid_to date,
    import_id bigint not null,
    primary key (id_number, status, valid_from)
);

create table exclusions (
    id_number text collate "C" not null,
    kind text not null check (kind in ('disabled_person_subsidy','tekun','work_injury_care','heroic_injury_care','zhiqing_injury_care','institution_subsidy')),
    valid_from date not null,
    valid_to date,
    import_id bigint not null,
    primary key (id_number, kind, valid_from)
);

create table suspensions (
    id_number text collate "C" not null,
    reason text not null check (reason in ('imprisonment','review_failed','missing')),
    valid_from date not null,
    valid_to date,
    import_id bigint not null,
    primary key (id_number, reason, valid_from)
);
