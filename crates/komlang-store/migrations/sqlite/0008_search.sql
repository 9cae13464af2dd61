-- Komlang schema, version 8 (SQLite): worker search through an index. Keep in step with
-- ../postgres/0008_search.sql.
--
-- `search_key` is a worker's Latin name, Khmer name and phone in search form
-- (komlang_core::worker_search_key: lower case, Latin accents and invisible characters
-- dropped, Khmer digits as ASCII, fields joined by U+0001); `search_km` the Khmer name's.
-- The store computes both on every write of a worker, in Rust; rows written before this
-- version (or by a tool that does not know them) are NULL until the store fills them in
-- when it starts (Store::ensure_search_keys).
ALTER TABLE workers ADD COLUMN search_key TEXT;
ALTER TABLE workers ADD COLUMN search_km TEXT;
-- Search results in order, and the prefix ranges of the best matches ("name starts with").
CREATE INDEX workers_search_key ON workers(search_key);
CREATE INDEX workers_search_km ON workers(search_km);

-- The substring index: FTS5 trigrams of `search_key`, an external-content table over
-- `workers` kept exact by the triggers below (in the writer's transaction, imports too).
-- Case-sensitive because the keys are already lower case. Not carried by a backup: it is
-- rebuilt from the workers restored (docs/backup.md).
CREATE VIRTUAL TABLE workers_search USING fts5(
    search_key, content = 'workers', content_rowid = 'id', tokenize = 'trigram case_sensitive 1'
);
-- The workers already there (their keys are NULL until the store fills them in, through
-- the update trigger, which then removes exactly what this indexed).
INSERT INTO workers_search (workers_search) VALUES ('rebuild');
CREATE TRIGGER workers_search_insert AFTER INSERT ON workers BEGIN
    INSERT INTO workers_search (rowid, search_key) VALUES (new.id, new.search_key);
END;
CREATE TRIGGER workers_search_delete AFTER DELETE ON workers BEGIN
    INSERT INTO workers_search (workers_search, rowid, search_key) VALUES ('delete', old.id, old.search_key);
END;
CREATE TRIGGER workers_search_update AFTER UPDATE OF search_key ON workers BEGIN
    INSERT INTO workers_search (workers_search, rowid, search_key) VALUES ('delete', old.id, old.search_key);
    INSERT INTO workers_search (rowid, search_key) VALUES (new.id, new.search_key);
END;
