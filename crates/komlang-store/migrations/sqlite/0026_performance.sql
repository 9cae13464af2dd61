-- Performance management (SQLite). Keep in step with ../postgres/0026_performance.sql.
--
-- Job descriptions as versioned data (komlang_core::performance, docs/performance.md): a role's
-- description has versions; the highest is current; an appraisal keeps the version it was made
-- against. Each version's key functions, in order, with the competencies they call on
-- (space-separated framework codes).
CREATE TABLE job_descriptions (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL,
    version INTEGER NOT NULL,
    title_en TEXT NOT NULL,
    title_km TEXT NOT NULL,
    source TEXT,
    loaded_by TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    UNIQUE (role, version)
);
CREATE TABLE job_functions (
    id INTEGER PRIMARY KEY,
    job_description_id INTEGER NOT NULL REFERENCES job_descriptions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_km TEXT NOT NULL,
    competencies TEXT NOT NULL DEFAULT '',
    UNIQUE (job_description_id, code)
);

-- When appraisals fall due (one row, kept by national administrators).
CREATE TABLE appraisal_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cycle_months INTEGER NOT NULL CHECK (cycle_months BETWEEN 1 AND 36),
    due_within_days INTEGER NOT NULL CHECK (due_within_days BETWEEN 0 AND 180),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO appraisal_settings VALUES (1, 12, 60, 'komlang', '2026-12-07T00:00:00Z');

-- An appraisal: one per worker and cycle, against a job description version, by a supervisor
-- (the account that started it; `appraiser_worker_id` when that account is a worker's), with the
-- worker's self-appraisal. `version` is raised by every change (optimistic concurrency).
CREATE TABLE appraisals (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    cycle TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    job_description_id INTEGER NOT NULL REFERENCES job_descriptions(id),
    form TEXT NOT NULL,
    status TEXT NOT NULL,
    overall TEXT,
    supervisor_comment TEXT,
    self_comment TEXT,
    self_submitted_at TEXT,
    appraiser TEXT NOT NULL,
    appraiser_worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
    completed_on TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (worker_id, cycle)
);
CREATE INDEX appraisals_completed ON appraisals(worker_id, period_end) WHERE status = 'completed';

-- Each key function rated (1-4) by the supervisor and by the worker, with comments.
CREATE TABLE appraisal_ratings (
    appraisal_id INTEGER NOT NULL REFERENCES appraisals(id) ON DELETE CASCADE,
    function_id INTEGER NOT NULL REFERENCES job_functions(id),
    rating INTEGER CHECK (rating BETWEEN 1 AND 4),
    comment TEXT,
    self_rating INTEGER CHECK (self_rating BETWEEN 1 AND 4),
    self_comment TEXT,
    PRIMARY KEY (appraisal_id, function_id)
);

-- Actions agreed: training (a competency, optionally a module of the catalogue), a reward or
-- recognition, a corrective action with its follow-up date; done when followed up.
CREATE TABLE appraisal_actions (
    id INTEGER PRIMARY KEY,
    appraisal_id INTEGER NOT NULL REFERENCES appraisals(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    competency_code TEXT,
    course_id INTEGER REFERENCES training_courses(id) ON DELETE SET NULL,
    follow_up_on TEXT,
    done_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX appraisal_actions_appraisal ON appraisal_actions(appraisal_id);
CREATE INDEX appraisal_actions_open ON appraisal_actions(kind, follow_up_on) WHERE done_on IS NULL;
