-- Four eyes as people compare names (issue 7): whoever ran a batch never approves it, however
-- the name is cased or spaced (`alice`, `Alice`, ` alice `). 0002's check compares the names
-- exactly; this one compares them trimmed and lower-cased. A database already holding a batch
-- approved by its runner under another spelling refuses this migration, naming this constraint:
-- that batch broke four eyes and needs a decision (an unexported one: `subsidy withdraw` it and
-- have someone else approve it), then `subsidy init` again.
alter table batches add constraint batches_four_eyes_folded
    check (approved_by is null or lower(btrim(approved_by)) <> lower(btrim(run_by)));
