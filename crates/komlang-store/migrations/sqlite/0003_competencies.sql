-- Komlang schema, version 3 (SQLite): the national competency framework and competency
-- assessments. Keep in step with ../postgres/0003_competencies.sql: the same tables,
-- columns and meanings; only the engine's spelling differs.

-- Versions of the competency framework, each kept whole as JSON (komlang_core::competency::
-- Framework). Exactly one is current; assessments keep pointing to the version they used.
CREATE TABLE competency_frameworks (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_km TEXT NOT NULL,
    framework_json TEXT NOT NULL,
    competency_count INTEGER NOT NULL,
    indicator_count INTEGER NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    is_current INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX competency_frameworks_one_current ON competency_frameworks(is_current) WHERE is_current = 1;

-- The level (1-4) a cadre or a role requires in a competency of one framework version.
-- applies_kind: cadre | role; applies_code: the cadre or role code.
CREATE TABLE competency_requirements (
    framework_version TEXT NOT NULL REFERENCES competency_frameworks(version),
    applies_kind TEXT NOT NULL,
    applies_code TEXT NOT NULL,
    competency_code TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
    PRIMARY KEY (framework_version, applies_kind, applies_code, competency_code)
);

-- A worker's supervisor: an account, which then sees and records the worker's assessments.
CREATE TABLE worker_supervisors (
    worker_id INTEGER PRIMARY KEY REFERENCES workers(id) ON DELETE CASCADE,
    supervisor_user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
);
CREATE INDEX worker_supervisors_user ON worker_supervisors(supervisor_user_id);

-- Assessments: kind self | supervisor | training, on a day, against one framework version.
CREATE TABLE competency_assessments (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    framework_version TEXT NOT NULL REFERENCES competency_frameworks(version),
    kind TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    assessor TEXT NOT NULL,
    notes TEXT,
    recorded_by_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    recorded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX competency_assessments_worker ON competency_assessments(worker_id, assessed_on);
CREATE INDEX competency_assessments_version ON competency_assessments(framework_version, kind);

-- One rating (1-4) of one indicator in an assessment, with its evidence. competency_code is
-- the indicator's competency in the assessment's framework version (kept for the aggregates,
-- which take each worker's latest score competency by competency).
CREATE TABLE competency_ratings (
    assessment_id INTEGER NOT NULL REFERENCES competency_assessments(id) ON DELETE CASCADE,
    indicator_code TEXT NOT NULL,
    competency_code TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
    evidence TEXT,
    PRIMARY KEY (assessment_id, indicator_code)
);
CREATE INDEX competency_ratings_competency ON competency_ratings(assessment_id, competency_code);
