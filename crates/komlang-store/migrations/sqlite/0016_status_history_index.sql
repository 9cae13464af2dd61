-- A worker's status on a day (SQLite). Keep in step with ../postgres/0016_status_history_index.sql.
--
-- Retention counts who was in post on a day: for each worker, the latest status change from
-- that day or before. With the worker's changes indexed by day (and the status beside them),
-- that is one step into the index a worker, without reading the table; with the worker alone,
-- PostgreSQL chose to walk every change by day for each worker (minutes at a million). The
-- index replaces the one on the worker alone, which it covers.
CREATE INDEX status_changes_worker_day ON status_changes(worker_id, effective_date, id, status);
DROP INDEX status_changes_worker;
