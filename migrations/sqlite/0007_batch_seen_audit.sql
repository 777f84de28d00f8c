-- The audit position a batch's computation saw: the last audit entry visible when it was computed
-- (entries commit in sequence order, so every earlier one was visible too). A correction reads the
-- persons touched by anything after it, which includes batches of other districts that committed
-- while this one was being computed (issue 7: reading only changed persons must give what reading
-- everyone gives). Null for batches computed before this migration: their own entry is used.
alter table batches add column seen_audit_seq bigint;
