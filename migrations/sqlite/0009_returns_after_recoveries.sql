-- Issue 9: a transfer returned or failed after a correction recovered or offset its month. The
-- money came back, so (1) the month's recovery items not collected from the person are cancelled
-- by the return (`cancelled_by` names the transfer; a cancelled item no longer counts, L1), and
-- (2) what an offset took from a later payment for a month whose own payment never arrived is
-- owed back: the month's net paid may then be below zero by at most the lines of its failed or
-- returned transfers (`returned_fen`), and the next batch pays the difference. The engine's own
-- postings never go below zero (L4): only the platform's answers use this room.
-- SQLite cannot change a check constraint in place: `balances` is built again.

alter table postings add column cancelled_by text;

create table balances_rebuilt (
    id_number text not null,
    allowance text not null,
    service_month text not null,
    net_fen integer not null,
    ceiling_fen integer not null,
    returned_fen integer not null default 0,
    primary key (id_number, allowance, service_month),
    constraint l4_net_paid_within_bounds
        check (returned_fen >= 0 and net_fen + returned_fen >= 0 and net_fen <= ceiling_fen)
);
insert into balances_rebuilt (id_number, allowance, service_month, net_fen, ceiling_fen)
    select id_number, allowance, service_month, net_fen, ceiling_fen from balances;
drop table balances;
alter table balances_rebuilt rename to balances;

-- The lines of one transfer (a result recorded for it), found without reading every posting.
create index postings_by_transfer on postings(transfer_id) where transfer_id is not null;
