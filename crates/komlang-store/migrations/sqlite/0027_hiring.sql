-- Recruitment rounds, candidates, field placements and internships (SQLite). Keep in step with
-- ../postgres/0027_hiring.sql. komlang_core::hiring, docs/hiring.md.
--
-- Field placements and internships: students placed at a DoSVY, a district office or an NGO
-- with a supervisor and dates; with the institution and the year they graduate, the pool of
-- graduates and interns a recruitment round draws on.
CREATE TABLE placements (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name_km TEXT NOT NULL,
    name_latin TEXT NOT NULL,
    sex TEXT NOT NULL,
    date_of_birth TEXT,
    national_id TEXT,
    phone TEXT,
    institution TEXT NOT NULL,
    programme TEXT,
    education_level TEXT,
    host_admin_code TEXT NOT NULL REFERENCES admin_units(code),
    host_org_id INTEGER REFERENCES organizations(id),
    supervisor_worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    graduated_year INTEGER,
    notes TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX placements_host ON placements(host_admin_code);

-- A round opens vacant posts for recruitment: nationally by exam (no area) or by a province.
-- Its ranking rule: total = exam × exam_weight + interview × interview_weight.
CREATE TABLE recruitment_rounds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    admin_code TEXT REFERENCES admin_units(code),
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    status TEXT NOT NULL,
    exam_weight REAL NOT NULL,
    interview_weight REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The posts a round opens, each with what it requires (JSON of komlang_core::hiring::Requirements).
CREATE TABLE round_posts (
    round_id INTEGER NOT NULL REFERENCES recruitment_rounds(id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts(id),
    requirements TEXT NOT NULL,
    PRIMARY KEY (round_id, post_id)
);

-- A candidate: a worker of the registry, or a new person (a graduate, an intern, another
-- applicant) with what the requirements need to know. Scores 0-100. An appointment names the
-- post filled and the worker record that fills it.
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES recruitment_rounds(id) ON DELETE CASCADE,
    worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
    placement_id INTEGER REFERENCES placements(id) ON DELETE SET NULL,
    source TEXT NOT NULL,
    name_km TEXT NOT NULL,
    name_latin TEXT NOT NULL,
    sex TEXT NOT NULL,
    date_of_birth TEXT,
    national_id TEXT,
    phone TEXT,
    cadre TEXT,
    education_level TEXT,
    experience_since TEXT,
    institution TEXT,
    graduated_year INTEGER,
    status TEXT NOT NULL,
    exam_score REAL,
    interview_score REAL,
    interview_notes TEXT,
    applied_on TEXT NOT NULL,
    appointed_post_id INTEGER REFERENCES posts(id),
    appointed_worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX candidates_round ON candidates(round_id);
CREATE UNIQUE INDEX candidates_round_worker ON candidates(round_id, worker_id) WHERE worker_id IS NOT NULL;
CREATE UNIQUE INDEX candidates_round_nid ON candidates(round_id, national_id) WHERE national_id IS NOT NULL;
CREATE INDEX candidates_worker ON candidates(worker_id) WHERE worker_id IS NOT NULL;
CREATE INDEX candidates_nid ON candidates(national_id) WHERE national_id IS NOT NULL;
