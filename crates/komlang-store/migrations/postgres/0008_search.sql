-- Komlang schema, version 8 (PostgreSQL): worker search through an index. Keep in step with
-- ../sqlite/0008_search.sql.
--
-- `search_key` is a worker's Latin name, Khmer name and phone in search form
-- (komlang_core::worker_search_key: lower case, Latin accents and invisible characters
-- dropped, Khmer digits as ASCII, fields joined by U+0001); `search_km` the Khmer name's.
-- The store computes both on every write of a worker, in Rust; rows written before this
-- version (or by a tool that does not know them) are NULL until the store fills them in
-- when it starts (Store::ensure_search_keys). Both compare byte by byte (COLLATE "C"), as
-- SQLite compares text, so that a range is a prefix and the order is the same on both engines.
ALTER TABLE workers ADD COLUMN search_key TEXT COLLATE "C";
ALTER TABLE workers ADD COLUMN search_km TEXT COLLATE "C";
-- Search results in order, and the prefix ranges of the best matches ("name starts with").
CREATE INDEX workers_search_key ON workers(search_key, id);
CREATE INDEX workers_search_km ON workers(search_km, id);

-- The substring index: trigrams of `search_key` (pg_trgm, a trusted extension: the owner of
-- the database may create it, see docs/operations.md), which answers `LIKE '%...%'`.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX workers_search_trgm ON workers USING gin (search_key gin_trgm_ops);
