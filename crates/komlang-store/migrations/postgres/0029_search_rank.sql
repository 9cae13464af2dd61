-- Komlang schema, version 29 (PostgreSQL): nothing to change. Keep in step with
-- ../sqlite/0029_search_rank.sql, which keys SQLite's trigram index (FTS5) by a rank in name
-- order; `pg_trgm`'s GIN index has no order to give, and PostgreSQL's searches are unchanged.
SELECT 1;
