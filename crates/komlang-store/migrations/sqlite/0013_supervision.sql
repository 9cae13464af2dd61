-- Supervision (SQLite). Keep in step with ../postgres/0013_supervision.sql.
--
-- Seed 004 makes supervision one of the four pillars of a quality-assured workforce. A worker
-- supervises workers, inside or across organizations; each assignment keeps when it began and
-- ended (a supervisee has one current supervisor). `dedicated`: the supervisor supervises as
-- their main work (the ratio norm of dedicated supervisors applies).
CREATE TABLE supervision_assignments (
    id INTEGER PRIMARY KEY,
    supervisor_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    supervisee_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    dedicated INTEGER NOT NULL DEFAULT 0,
    start_date TEXT NOT NULL,
    end_date TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX supervision_current ON supervision_assignments(supervisee_id) WHERE end_date IS NULL;
CREATE INDEX supervision_supervisor ON supervision_assignments(supervisor_id);

-- A supervision session: who supervised whom on a day, how (model: individual, group, peer) and
-- which functions it covered (space-separated: administrative, educational, supportive,
-- mediation). The notes are private to the supervisor, the supervisees and those who manage them.
CREATE TABLE supervision_sessions (
    id INTEGER PRIMARY KEY,
    supervisor_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    held_on TEXT NOT NULL,
    model TEXT NOT NULL,
    functions TEXT NOT NULL,
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX supervision_sessions_supervisor ON supervision_sessions(supervisor_id, held_on);
CREATE TABLE supervision_attendees (
    session_id INTEGER NOT NULL REFERENCES supervision_sessions(id) ON DELETE CASCADE,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, worker_id)
);
CREATE INDEX supervision_attendees_worker ON supervision_attendees(worker_id);

-- The norms of supervision, kept as data (one row, changed by national administrators).
-- Defaults from the framework seed 004 cites: one supervisor to ten supervisees for dedicated
-- supervisors, one to six otherwise; five years of experience to supervise, three to supervise
-- community-level and auxiliary workers (the cadres listed); the cadres that may supervise; a
-- supervisee not supervised in `overdue_days` days is listed.
CREATE TABLE supervision_norms (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    dedicated_ratio INTEGER NOT NULL,
    other_ratio INTEGER NOT NULL,
    years_required INTEGER NOT NULL,
    years_required_community INTEGER NOT NULL,
    community_cadres TEXT NOT NULL,
    qualified_cadres TEXT NOT NULL,
    overdue_days INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO supervision_norms VALUES (
    1, 10, 6, 5, 3, 'para_social_worker allied_worker', 'professional_social_worker para_professional', 90,
    'komlang', '2026-01-01T00:00:00Z'
);
