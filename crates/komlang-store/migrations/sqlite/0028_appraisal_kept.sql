-- The end of each worker's last completed appraisal, kept on the worker (SQLite). Keep in step
-- with ../postgres/0028_appraisal_kept.sql.
--
-- Who is due an appraisal counts every active worker by the day their next appraisal is counted
-- from: the end of their last completed appraisal, else their start date. At a million workers
-- that grouped every completed appraisal by worker and read every worker's row (5 s for the
-- provinces). The end is now kept on the worker by the triggers below, in the same transaction
-- as the change, and the figures and lists read the covering index at the end.
ALTER TABLE workers ADD COLUMN appraisal_last TEXT;

UPDATE workers SET appraisal_last = (SELECT MAX(a.period_end) FROM appraisals a
        WHERE a.worker_id = workers.id AND a.status = 'completed')
    WHERE id IN (SELECT worker_id FROM appraisals WHERE status = 'completed');

CREATE TRIGGER workers_appraisal_insert AFTER INSERT ON appraisals WHEN NEW.status = 'completed'
BEGIN
    UPDATE workers SET appraisal_last = (SELECT MAX(a.period_end) FROM appraisals a
            WHERE a.worker_id = workers.id AND a.status = 'completed')
        WHERE id = NEW.worker_id;
END;

CREATE TRIGGER workers_appraisal_update AFTER UPDATE OF worker_id, status, period_end ON appraisals
WHEN OLD.status = 'completed' OR NEW.status = 'completed'
BEGIN
    UPDATE workers SET appraisal_last = (SELECT MAX(a.period_end) FROM appraisals a
            WHERE a.worker_id = workers.id AND a.status = 'completed')
        WHERE id IN (OLD.worker_id, NEW.worker_id);
END;

CREATE TRIGGER workers_appraisal_delete AFTER DELETE ON appraisals WHEN OLD.status = 'completed'
BEGIN
    UPDATE workers SET appraisal_last = (SELECT MAX(a.period_end) FROM appraisals a
            WHERE a.worker_id = workers.id AND a.status = 'completed')
        WHERE id = OLD.worker_id;
END;

-- The figures' and lists' read: a unit's active workers with the two days, from the index alone.
CREATE INDEX workers_appraisal ON workers(workplace_code, status, appraisal_last, start_date);
