-- The end of each worker's last completed appraisal, kept on the worker (PostgreSQL). Keep in
-- step with ../sqlite/0028_appraisal_kept.sql.
--
-- Who is due an appraisal counts every active worker by the day their next appraisal is counted
-- from: the end of their last completed appraisal, else their start date. At a million workers
-- that grouped every completed appraisal by worker and read every worker's row (5 s for the
-- provinces). The end is now kept on the worker by the triggers below, in the same transaction
-- as the change, and the figures and lists read the covering index at the end.
ALTER TABLE workers ADD COLUMN appraisal_last TEXT;

CREATE FUNCTION workers_appraisal_sync(ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE workers w SET appraisal_last = x.last
    FROM (SELECT i.id, (SELECT MAX(a.period_end) FROM appraisals a
              WHERE a.worker_id = i.id AND a.status = 'completed') AS last
          FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) i) x
    WHERE w.id = x.id AND w.appraisal_last IS DISTINCT FROM x.last;
$$;

SELECT workers_appraisal_sync(ARRAY(SELECT DISTINCT worker_id FROM appraisals WHERE status = 'completed'));

CREATE FUNCTION workers_appraisal_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_appraisal_sync(ARRAY(SELECT worker_id FROM ap_new WHERE status = 'completed'));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_appraisal_sync(ARRAY(SELECT worker_id FROM ap_new WHERE status = 'completed'
            UNION SELECT worker_id FROM ap_old WHERE status = 'completed'));
    ELSE
        PERFORM workers_appraisal_sync(ARRAY(SELECT worker_id FROM ap_old WHERE status = 'completed'));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_appraisal_insert AFTER INSERT ON appraisals
    REFERENCING NEW TABLE AS ap_new FOR EACH STATEMENT EXECUTE FUNCTION workers_appraisal_changed();
CREATE TRIGGER workers_appraisal_update AFTER UPDATE ON appraisals
    REFERENCING OLD TABLE AS ap_old NEW TABLE AS ap_new FOR EACH STATEMENT EXECUTE FUNCTION workers_appraisal_changed();
CREATE TRIGGER workers_appraisal_delete AFTER DELETE ON appraisals
    REFERENCING OLD TABLE AS ap_old FOR EACH STATEMENT EXECUTE FUNCTION workers_appraisal_changed();

-- The figures' and lists' read: a unit's active workers with the two days, from the index alone.
CREATE INDEX workers_appraisal ON workers(workplace_code, status, appraisal_last, start_date);
