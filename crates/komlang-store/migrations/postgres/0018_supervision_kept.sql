-- Supervision kept on the workers (PostgreSQL). Keep in step with ../sqlite/0018_supervision_kept.sql.
--
-- The supervision summary counts, for each unit, the supervisors (and those over the ratio or
-- not eligible) and the supervisees not supervised lately. At a million workers it grouped half
-- a million assignments by supervisor and looked for a recent session for each supervisee
-- (seconds). These facts are now kept on the worker by the triggers below, in the same
-- transaction as the change, and the summary reads them through the partial indexes at the end:
-- the cost is the number of supervisors and of supervisees due, not of assignments.

-- As a supervisor: current supervisees, whether any of them is supervised by them as a dedicated
-- supervisor, and the cadres of the supervisees (a bit each, in the order of `Cadre::ALL`:
-- professional 1, para-professional 2, para social worker 4, allied 8).
ALTER TABLE workers ADD COLUMN supervisees BIGINT NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN supervisor_dedicated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN supervisee_cadres BIGINT NOT NULL DEFAULT 0;
-- As a supervisee: the first day on which they are due a session (the start of the current
-- assignment, or the day after the last session they attended if later); NULL without a
-- supervisor. A supervisee is overdue once the norm's days have passed since that day.
ALTER TABLE workers ADD COLUMN supervision_due TEXT;

CREATE FUNCTION workers_supervisor_sync(ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE workers w SET supervisees = x.n, supervisor_dedicated = x.dedicated, supervisee_cadres = x.cadres
    FROM (SELECT i.id, COUNT(a.id) AS n, COALESCE(MAX(a.dedicated), 0) AS dedicated,
              COALESCE(SUM(DISTINCT CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 ELSE 0 END), 0) AS cadres
          FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) i
          LEFT JOIN supervision_assignments a ON a.supervisor_id = i.id AND a.end_date IS NULL
          LEFT JOIN workers e ON e.id = a.supervisee_id
          GROUP BY i.id) x
    WHERE w.id = x.id
      AND (w.supervisees, w.supervisor_dedicated, w.supervisee_cadres) IS DISTINCT FROM (x.n, x.dedicated, x.cadres);
$$;

CREATE FUNCTION workers_due_sync(ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE workers w SET supervision_due = x.due
    FROM (SELECT i.id, (SELECT CASE WHEN l.last IS NOT NULL AND (l.last::date + 1)::text > a.start_date
                  THEN (l.last::date + 1)::text ELSE a.start_date END
              FROM supervision_assignments a,
                  (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
                   JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = i.id) l
              WHERE a.supervisee_id = i.id AND a.end_date IS NULL) AS due
          FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) i) x
    WHERE w.id = x.id AND w.supervision_due IS DISTINCT FROM x.due;
$$;

SELECT workers_supervisor_sync(ARRAY(SELECT DISTINCT supervisor_id FROM supervision_assignments WHERE end_date IS NULL));
SELECT workers_due_sync(ARRAY(SELECT DISTINCT supervisee_id FROM supervision_assignments WHERE end_date IS NULL));

CREATE FUNCTION workers_supervision_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_supervisor_sync(ARRAY(SELECT supervisor_id FROM sa_new));
        PERFORM workers_due_sync(ARRAY(SELECT supervisee_id FROM sa_new));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_supervisor_sync(ARRAY(SELECT supervisor_id FROM sa_new UNION SELECT supervisor_id FROM sa_old));
        PERFORM workers_due_sync(ARRAY(SELECT supervisee_id FROM sa_new UNION SELECT supervisee_id FROM sa_old));
    ELSE
        PERFORM workers_supervisor_sync(ARRAY(SELECT supervisor_id FROM sa_old));
        PERFORM workers_due_sync(ARRAY(SELECT supervisee_id FROM sa_old));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_supervision_insert AFTER INSERT ON supervision_assignments
    REFERENCING NEW TABLE AS sa_new FOR EACH STATEMENT EXECUTE FUNCTION workers_supervision_changed();
CREATE TRIGGER workers_supervision_update AFTER UPDATE ON supervision_assignments
    REFERENCING OLD TABLE AS sa_old NEW TABLE AS sa_new FOR EACH STATEMENT EXECUTE FUNCTION workers_supervision_changed();
CREATE TRIGGER workers_supervision_delete AFTER DELETE ON supervision_assignments
    REFERENCING OLD TABLE AS sa_old FOR EACH STATEMENT EXECUTE FUNCTION workers_supervision_changed();

-- A supervisee's cadre changed: their supervisors' cadres of supervisees follow.
-- (Every update of workers fires it, the sync's own among them: it syncs only when a cadre
-- changed, so that it does not fire itself again and again.)
CREATE FUNCTION workers_supervisee_cadre_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[] := ARRAY(SELECT a.supervisor_id FROM cadre_new n
        JOIN cadre_old o ON o.id = n.id AND o.cadre IS DISTINCT FROM n.cadre
        JOIN supervision_assignments a ON a.supervisee_id = n.id AND a.end_date IS NULL);
BEGIN
    IF cardinality(ids) > 0 THEN
        PERFORM workers_supervisor_sync(ids);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_supervisee_cadre AFTER UPDATE ON workers
    REFERENCING OLD TABLE AS cadre_old NEW TABLE AS cadre_new FOR EACH STATEMENT EXECUTE FUNCTION workers_supervisee_cadre_changed();

-- Sessions attended: the attendees' due day follows.
CREATE FUNCTION workers_due_attendance_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_due_sync(ARRAY(SELECT worker_id FROM att_new));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_due_sync(ARRAY(SELECT worker_id FROM att_new UNION SELECT worker_id FROM att_old));
    ELSE
        PERFORM workers_due_sync(ARRAY(SELECT worker_id FROM att_old));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_due_attended AFTER INSERT ON supervision_attendees
    REFERENCING NEW TABLE AS att_new FOR EACH STATEMENT EXECUTE FUNCTION workers_due_attendance_changed();
CREATE TRIGGER workers_due_attendee_moved AFTER UPDATE ON supervision_attendees
    REFERENCING OLD TABLE AS att_old NEW TABLE AS att_new FOR EACH STATEMENT EXECUTE FUNCTION workers_due_attendance_changed();
CREATE TRIGGER workers_due_unattended AFTER DELETE ON supervision_attendees
    REFERENCING OLD TABLE AS att_old FOR EACH STATEMENT EXECUTE FUNCTION workers_due_attendance_changed();

CREATE FUNCTION workers_due_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workers_due_sync(ARRAY(SELECT at.worker_id FROM ses_new n
        JOIN ses_old o ON o.id = n.id AND o.held_on IS DISTINCT FROM n.held_on
        JOIN supervision_attendees at ON at.session_id = n.id));
    RETURN NULL;
END $$;

CREATE TRIGGER workers_due_session_day AFTER UPDATE ON supervision_sessions
    REFERENCING OLD TABLE AS ses_old NEW TABLE AS ses_new FOR EACH STATEMENT EXECUTE FUNCTION workers_due_session_changed();

-- The summary's reads: the supervisors, and the supervisees by the day they are due.
CREATE INDEX workers_supervisors ON workers(workplace_code, cadre, start_date, supervisees, supervisor_dedicated, supervisee_cadres)
    WHERE supervisees > 0;
CREATE INDEX workers_supervision_due ON workers(supervision_due, workplace_code) WHERE supervision_due IS NOT NULL;
