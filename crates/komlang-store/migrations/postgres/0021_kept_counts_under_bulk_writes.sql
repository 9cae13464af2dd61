-- The counts kept for the reports under bulk writes (PostgreSQL). Keep in step with
-- ../sqlite/0021_kept_counts_under_bulk_writes.sql.
--
-- The triggers of migrations 0009 and 0017-0019 look up, for each worker a statement touched,
-- their ranks, postings, certificates, assignments, sessions or status changes. In the middle of
-- a bulk write (an import, a restore) the planner's statistics still describe the tables as they
-- were, nearly empty, and it read a whole table for each worker: an import of 100,000 workers
-- took 57 s instead of 7, and the same writes set-based did not end. The lookups now always go
-- through the worker's index, and a new status change, the common case, moves a worker's latest
-- change forward without looking at the history.
ALTER FUNCTION workers_certified_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION workers_rank_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION workers_funding_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION workers_supervised_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION workers_supervisor_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION workers_due_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION workers_status_latest_sync(BIGINT[]) SET enable_seqscan = off;
ALTER FUNCTION post_fill_tallies_changed() SET enable_seqscan = off;
ALTER FUNCTION post_tallies_changed() SET enable_seqscan = off;
ALTER FUNCTION workers_funding_post_changed() SET enable_seqscan = off;
ALTER FUNCTION workers_supervisee_cadre_changed() SET enable_seqscan = off;
ALTER FUNCTION workers_due_session_changed() SET enable_seqscan = off;

-- New status changes: a worker's latest change is the newest of the statement's when it is later
-- than the one kept (a change of the same day is looked up: the latest is the last recorded).
CREATE OR REPLACE FUNCTION workers_status_latest_changed() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_status_latest_sync(ARRAY(SELECT n.worker_id FROM sc_new n JOIN workers w ON w.id = n.worker_id
            WHERE w.status_latest_on = n.effective_date));
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
