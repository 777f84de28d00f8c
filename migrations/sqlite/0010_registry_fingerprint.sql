-- Issue 11, point 6: the registry fingerprint kept incrementally. Each finished import carries the
-- fingerprint of the registry state it leaves: the one before it when it changed nothing, else
-- SHA-256 of the one before, its import id and its files' SHA-256 (a chain, so that it is never
-- computed by reading the registry). A batch records the fingerprint of the import it read.
-- Imports finished before this migration carry '' (the chain starts from there).
alter table imports add column registry_fingerprint text not null default '';
