-- Four eyes as people compare names (issue 7): whoever ran a batch never approves it, however
-- the name is cased or spaced (`alice`, `Alice`, ` alice `). 0002's check compares the names
-- exactly; SQLite cannot alter a check, so triggers abort an insert or update that would record
-- the runner as the approver. (SQLite's lower() folds ASCII letters; the command compares names
-- with full Unicode case folding before it writes.)
create trigger batches_four_eyes_folded_insert
before insert on batches
when new.approved_by is not null and lower(trim(new.approved_by)) = lower(trim(new.run_by))
begin
    select raise(abort, 'four eyes: the approver of a batch must not be whoever ran it (names compared trimmed and case-folded)');
end;

create trigger batches_four_eyes_folded_update
before update of approved_by, run_by on batches
when new.approved_by is not null and lower(trim(new.approved_by)) = lower(trim(new.run_by))
begin
    select raise(abort, 'four eyes: the approver of a batch must not be whoever ran it (names compared trimmed and case-folded)');
end;
