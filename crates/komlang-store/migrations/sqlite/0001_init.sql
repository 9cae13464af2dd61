-- Komlang schema, version 1 (SQLite). Keep in step with ../postgres/0001_init.sql:
-- the same tables, columns and meanings; only the engine's spelling differs.
-- Dates are ISO-8601 text, timestamps RFC 3339 text, flags 0/1 integers.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE admin_units (
    code TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES admin_units(code),
    name_km TEXT NOT NULL,
    name_en TEXT NOT NULL,
    province_code TEXT,
    district_code TEXT,
    commune_code TEXT
);
CREATE INDEX admin_units_parent ON admin_units(parent_code);
CREATE INDEX admin_units_province ON admin_units(province_code);
CREATE INDEX admin_units_district ON admin_units(district_code);
CREATE INDEX admin_units_commune ON admin_units(commune_code);

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name_km TEXT,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    registration_no TEXT,
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    phone TEXT,
    email TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organizations_admin ON organizations(admin_code);

CREATE TABLE workers (
    id INTEGER PRIMARY KEY,
    name_km TEXT NOT NULL,
    name_latin TEXT NOT NULL,
    sex TEXT NOT NULL,
    date_of_birth TEXT,
    national_id TEXT UNIQUE,
    phone TEXT,
    email TEXT,
    cadre TEXT NOT NULL,
    role TEXT NOT NULL,
    sector TEXT NOT NULL,
    org_id INTEGER REFERENCES organizations(id),
    position_title TEXT,
    workplace_code TEXT NOT NULL REFERENCES admin_units(code),
    status TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    education_level TEXT,
    education_field TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX workers_workplace ON workers(workplace_code);
CREATE INDEX workers_org ON workers(org_id);
CREATE INDEX workers_name_latin ON workers(name_latin);

CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    org_id INTEGER REFERENCES organizations(id),
    role TEXT NOT NULL,
    position_title TEXT,
    workplace_code TEXT NOT NULL REFERENCES admin_units(code),
    start_date TEXT NOT NULL,
    end_date TEXT
);
CREATE INDEX postings_worker ON postings(worker_id);

CREATE TABLE status_changes (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT
);
CREATE INDEX status_changes_worker ON status_changes(worker_id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_code TEXT REFERENCES admin_units(code),
    org_id INTEGER REFERENCES organizations(id),
    worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at INTEGER NOT NULL,
    success INTEGER NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts(username, at);
CREATE INDEX login_attempts_ip ON login_attempts(ip, at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_at ON audit_log(at);
