-- Komlang schema, version 5 (SQLite): training, credits, certification and licensing.
-- Keep in step with ../postgres/0005_training.sql: the same tables, columns and meanings;
-- only the engine's spelling differs. Hours are kept in whole minutes by type (teaching,
-- lab = laboratory/workshop, field = field work/internship); credits are never stored but
-- computed from them by the credit rule (komlang_core::training).

CREATE TABLE training_institutions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_km TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Programmes leading to a certificate level, with the credits the certificate requires.
CREATE TABLE training_programmes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_km TEXT NOT NULL,
    level TEXT NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES training_institutions(id),
    credits_required INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- Modules (programme_id set) and courses on their own (programme_id null: continuing
-- education), with their planned hours and the framework competencies they cover
-- (space-separated competency codes).
CREATE TABLE training_courses (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_km TEXT NOT NULL,
    programme_id INTEGER REFERENCES training_programmes(id),
    teaching_minutes INTEGER NOT NULL CHECK (teaching_minutes >= 0),
    lab_minutes INTEGER NOT NULL CHECK (lab_minutes >= 0),
    field_minutes INTEGER NOT NULL CHECK (field_minutes >= 0),
    competencies TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX training_courses_programme ON training_courses(programme_id);

-- A run of a course: dates, place (an admin unit: its scope decides who runs the event),
-- venue, trainers and the hours a full attendance earns.
CREATE TABLE training_events (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES training_courses(id),
    institution_id INTEGER REFERENCES training_institutions(id),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    place_code TEXT NOT NULL REFERENCES admin_units(code),
    venue TEXT,
    trainers TEXT,
    teaching_minutes INTEGER NOT NULL CHECK (teaching_minutes >= 0),
    lab_minutes INTEGER NOT NULL CHECK (lab_minutes >= 0),
    field_minutes INTEGER NOT NULL CHECK (field_minutes >= 0),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX training_events_dates ON training_events(starts_on);
CREATE INDEX training_events_place ON training_events(place_code);

-- Participants: workers of the registry, their attendance, hours by type and result.
CREATE TABLE training_participants (
    event_id INTEGER NOT NULL REFERENCES training_events(id) ON DELETE CASCADE,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    days_attended INTEGER,
    teaching_minutes INTEGER NOT NULL CHECK (teaching_minutes >= 0),
    lab_minutes INTEGER NOT NULL CHECK (lab_minutes >= 0),
    field_minutes INTEGER NOT NULL CHECK (field_minutes >= 0),
    result TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, worker_id)
);
CREATE INDEX training_participants_worker ON training_participants(worker_id);

-- Recognition of prior learning (rpl) and of current competency (rcc) toward a programme.
CREATE TABLE training_recognitions (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    programme_id INTEGER NOT NULL REFERENCES training_programmes(id),
    teaching_minutes INTEGER NOT NULL CHECK (teaching_minutes >= 0),
    lab_minutes INTEGER NOT NULL CHECK (lab_minutes >= 0),
    field_minutes INTEGER NOT NULL CHECK (field_minutes >= 0),
    evidence TEXT NOT NULL,
    assessor TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX training_recognitions_worker ON training_recognitions(worker_id);

-- Certificates: a random number (komlang_core::training::make_number), one valid certificate
-- per worker and programme.
CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    programme_id INTEGER NOT NULL REFERENCES training_programmes(id),
    level TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    revoked_on TEXT,
    revoke_reason TEXT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX certificates_one_valid ON certificates(worker_id, programme_id) WHERE revoked_on IS NULL;

-- Training targets: by the end of `year`, `target` people of the group hold the level.
-- roles: space-separated worker role codes whose workers count toward the group.
CREATE TABLE training_targets (
    id INTEGER PRIMARY KEY,
    group_code TEXT NOT NULL,
    group_en TEXT NOT NULL,
    level TEXT NOT NULL,
    year INTEGER NOT NULL,
    target INTEGER NOT NULL CHECK (target >= 0),
    roles TEXT NOT NULL,
    UNIQUE (group_code, level, year)
);

-- Licences: an application until decided; then a number, a term (term_start .. expires_on)
-- renewed on continuing-education hours; suspension, lapse and revocation with reasons.
-- At most one open (applied, active or suspended) licence per worker.
CREATE TABLE licences (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    number TEXT UNIQUE,
    status TEXT NOT NULL,
    applied_on TEXT NOT NULL,
    application_note TEXT,
    decided_on TEXT,
    decided_by TEXT,
    reason TEXT,
    issued_on TEXT,
    term_start TEXT,
    expires_on TEXT,
    renewals INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX licences_one_open ON licences(worker_id) WHERE status IN ('applied', 'active', 'suspended');
CREATE INDEX licences_expiry ON licences(status, expires_on);

-- Every step of a licence's life: apply, approve, reject, renew, suspend, reinstate, lapse, revoke.
CREATE TABLE licence_actions (
    id INTEGER PRIMARY KEY,
    licence_id INTEGER NOT NULL REFERENCES licences(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    on_date TEXT NOT NULL,
    by_user TEXT NOT NULL,
    reason TEXT,
    ce_minutes INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX licence_actions_licence ON licence_actions(licence_id);
