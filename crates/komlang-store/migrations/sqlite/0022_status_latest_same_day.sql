-- A new status change of the day already kept (SQLite). Keep in step with
-- ../postgres/0022_status_latest_same_day.sql.
--
-- An import writes each new worker with their latest status change already on their row (the
-- one it records with them), so the change it then records falls on the day kept. When its
-- status is the one kept, nothing can change (the latest of that day is this change or one
-- recorded after it, whose status is the one kept): the history is not looked up and the row
-- is not written again. A change of that day with another status is looked up as before.
DROP TRIGGER workers_status_latest_insert;
CREATE TRIGGER workers_status_latest_insert AFTER INSERT ON status_changes
BEGIN
    UPDATE workers SET (status_latest, status_latest_on) = (SELECT s.status, s.effective_date FROM status_changes s
        WHERE s.worker_id = workers.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1)
    WHERE id = NEW.worker_id AND status_latest_on = NEW.effective_date AND status_latest IS NOT NEW.status;
    UPDATE workers SET status_latest = NEW.status, status_latest_on = NEW.effective_date
    WHERE id = NEW.worker_id AND (status_latest_on IS NULL OR status_latest_on < NEW.effective_date);
END;
