-- Issue 11, point 6: the registry fingerprint kept incrementally. Each finished import carries the
-- fingerprint of the registry state it leaves: the one before it when it changed nothing, else
-- SHA-256 of the one before, its import id and its files' SHA-256 (a chain, so that it is never
-- computed by reading the registry). A batch records the fingerprint of the import it read.
alter table imports add column registry_fingerprint text not null default '';
-- Imports finished before this migration left a registry nobody fingerprinted: each is named by
-- its id (distinct, never empty), and the chain goes on from the last of them.
update imports set registry_fingerprint = 'import ' || import_id || ', before fingerprints were kept'
where finished_at is not null;
