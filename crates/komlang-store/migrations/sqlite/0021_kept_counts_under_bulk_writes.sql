-- The counts kept for the reports under bulk writes (SQLite). Keep in step with
-- ../postgres/0021_kept_counts_under_bulk_writes.sql.
--
-- A new status change, the common case (every worker imported has one), moves the worker's
-- latest change forward when it is later than the one kept, without looking at the history; a
-- change of the same day is looked up (the latest is the last recorded). (PostgreSQL also
-- needed its lookups kept on the indexes during bulk writes: SQLite's planner uses them.)
DROP TRIGGER workers_status_latest_insert;
CREATE TRIGGER workers_status_latest_insert AFTER INSERT ON status_changes
BEGIN
    UPDATE workers SET (status_latest, status_latest_on) = (SELECT s.status, s.effective_date FROM status_changes s
        WHERE s.worker_id = workers.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1)
    WHERE id = NEW.worker_id AND status_latest_on = NEW.effective_date;
    UPDATE workers SET status_latest = NEW.status, status_latest_on = NEW.effective_date
    WHERE id = NEW.worker_id AND (status_latest_on IS NULL OR status_latest_on < NEW.effective_date);
END;
