-- Supervision kept on the workers (SQLite). Keep in step with ../postgres/0018_supervision_kept.sql.
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
ALTER TABLE workers ADD COLUMN supervisees INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN supervisor_dedicated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN supervisee_cadres INTEGER NOT NULL DEFAULT 0;
-- As a supervisee: the first day on which they are due a session (the start of the current
-- assignment, or the day after the last session they attended if later); NULL without a
-- supervisor. A supervisee is overdue once the norm's days have passed since that day.
ALTER TABLE workers ADD COLUMN supervision_due TEXT;

    UPDATE workers SET
        supervisees = (SELECT COUNT(*) FROM supervision_assignments a WHERE a.supervisor_id = workers.id AND a.end_date IS NULL),
        supervisor_dedicated = COALESCE((SELECT MAX(a.dedicated) FROM supervision_assignments a
            WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0),
        supervisee_cadres = COALESCE((SELECT SUM(DISTINCT CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 ELSE 0 END) FROM supervision_assignments a
            JOIN workers e ON e.id = a.supervisee_id WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0)
    WHERE id IN (SELECT supervisor_id FROM supervision_assignments WHERE end_date IS NULL);

    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id IN (SELECT supervisee_id FROM supervision_assignments WHERE end_date IS NULL);

CREATE TRIGGER workers_supervision_insert AFTER INSERT ON supervision_assignments
BEGIN
    UPDATE workers SET
        supervisees = (SELECT COUNT(*) FROM supervision_assignments a WHERE a.supervisor_id = workers.id AND a.end_date IS NULL),
        supervisor_dedicated = COALESCE((SELECT MAX(a.dedicated) FROM supervision_assignments a
            WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0),
        supervisee_cadres = COALESCE((SELECT SUM(DISTINCT CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 ELSE 0 END) FROM supervision_assignments a
            JOIN workers e ON e.id = a.supervisee_id WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0)
    WHERE id = NEW.supervisor_id;
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id = NEW.supervisee_id;
END;

CREATE TRIGGER workers_supervision_update
AFTER UPDATE OF supervisor_id, supervisee_id, dedicated, start_date, end_date ON supervision_assignments
BEGIN
    UPDATE workers SET
        supervisees = (SELECT COUNT(*) FROM supervision_assignments a WHERE a.supervisor_id = workers.id AND a.end_date IS NULL),
        supervisor_dedicated = COALESCE((SELECT MAX(a.dedicated) FROM supervision_assignments a
            WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0),
        supervisee_cadres = COALESCE((SELECT SUM(DISTINCT CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 ELSE 0 END) FROM supervision_assignments a
            JOIN workers e ON e.id = a.supervisee_id WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0)
    WHERE id IN (OLD.supervisor_id, NEW.supervisor_id);
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id IN (OLD.supervisee_id, NEW.supervisee_id);
END;

CREATE TRIGGER workers_supervision_delete AFTER DELETE ON supervision_assignments
BEGIN
    UPDATE workers SET
        supervisees = (SELECT COUNT(*) FROM supervision_assignments a WHERE a.supervisor_id = workers.id AND a.end_date IS NULL),
        supervisor_dedicated = COALESCE((SELECT MAX(a.dedicated) FROM supervision_assignments a
            WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0),
        supervisee_cadres = COALESCE((SELECT SUM(DISTINCT CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 ELSE 0 END) FROM supervision_assignments a
            JOIN workers e ON e.id = a.supervisee_id WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0)
    WHERE id = OLD.supervisor_id;
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id = OLD.supervisee_id;
END;

-- A supervisee's cadre changed: their supervisors' cadres of supervisees follow.
CREATE TRIGGER workers_supervisee_cadre AFTER UPDATE OF cadre ON workers WHEN OLD.cadre IS NOT NEW.cadre
BEGIN
    UPDATE workers SET
        supervisees = (SELECT COUNT(*) FROM supervision_assignments a WHERE a.supervisor_id = workers.id AND a.end_date IS NULL),
        supervisor_dedicated = COALESCE((SELECT MAX(a.dedicated) FROM supervision_assignments a
            WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0),
        supervisee_cadres = COALESCE((SELECT SUM(DISTINCT CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 ELSE 0 END) FROM supervision_assignments a
            JOIN workers e ON e.id = a.supervisee_id WHERE a.supervisor_id = workers.id AND a.end_date IS NULL), 0)
    WHERE id IN (SELECT supervisor_id FROM supervision_assignments WHERE supervisee_id = NEW.id AND end_date IS NULL);
END;

-- Sessions attended: the attendees' due day follows.
CREATE TRIGGER workers_due_attended AFTER INSERT ON supervision_attendees
BEGIN
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id = NEW.worker_id;
END;

CREATE TRIGGER workers_due_unattended AFTER DELETE ON supervision_attendees
BEGIN
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id = OLD.worker_id;
END;

CREATE TRIGGER workers_due_attendee_moved AFTER UPDATE OF session_id, worker_id ON supervision_attendees
BEGIN
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id IN (OLD.worker_id, NEW.worker_id);
END;

CREATE TRIGGER workers_due_session_day AFTER UPDATE OF held_on ON supervision_sessions WHEN OLD.held_on IS NOT NEW.held_on
BEGIN
    UPDATE workers SET supervision_due = (SELECT CASE WHEN l.last IS NOT NULL AND date(l.last, '+1 day') > a.start_date
            THEN date(l.last, '+1 day') ELSE a.start_date END
        FROM supervision_assignments a, (SELECT MAX(ss.held_on) AS last FROM supervision_attendees at
            JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = workers.id) l
        WHERE a.supervisee_id = workers.id AND a.end_date IS NULL)
    WHERE id IN (SELECT worker_id FROM supervision_attendees WHERE session_id = NEW.id);
END;

-- The summary's reads: the supervisors, and the supervisees by the day they are due.
CREATE INDEX workers_supervisors ON workers(workplace_code, cadre, start_date, supervisees, supervisor_dedicated, supervisee_cadres)
    WHERE supervisees > 0;
CREATE INDEX workers_supervision_due ON workers(supervision_due, workplace_code) WHERE supervision_due IS NOT NULL;
