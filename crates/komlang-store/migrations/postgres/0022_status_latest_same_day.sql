-- A new status change of the day already kept (PostgreSQL). Keep in step with
-- ../sqlite/0022_status_latest_same_day.sql.
--
-- An import writes each new worker with their latest status change already on their row (the
-- one it records with them), so the changes it then records fall on the day kept. When their
-- status is the one kept, nothing can change (the latest of that day is one of them or a change
-- recorded after them, whose status is the one kept): the history is not looked up. Changes of
-- that day with another status are looked up as before.
CREATE OR REPLACE FUNCTION workers_status_latest_changed() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_status_latest_sync(ARRAY(SELECT n.worker_id FROM sc_new n JOIN workers w ON w.id = n.worker_id
            WHERE w.status_latest_on = n.effective_date AND w.status_latest IS DISTINCT FROM n.status));
        UPDATE workers w SET status_latest = n.status, status_latest_on = n.effective_date
        FROM (SELECT DISTINCT ON (worker_id) worker_id, status, effective_date FROM sc_new
              ORDER BY worker_id, effective_date DESC, id DESC) n
        WHERE w.id = n.worker_id AND (w.status_latest_on IS NULL OR w.status_latest_on < n.effective_date);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_status_latest_sync(ARRAY(SELECT worker_id FROM sc_new UNION SELECT worker_id FROM sc_old));
    ELSE
        PERFORM workers_status_latest_sync(ARRAY(SELECT worker_id FROM sc_old));
    END IF;
    RETURN NULL;
END $$;
