-- Komlang schema, version 2 (SQLite): bulk import and export, duplicate detection.
-- Keep in step with ../postgres/0002_import.sql: the same tables, columns and meanings.

-- One row per committed import (a dry run or a rolled-back import leaves none).
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL,
    -- workers | organizations | population
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    -- all_or_nothing | partial
    mode TEXT NOT NULL,
    rows_total INTEGER NOT NULL DEFAULT 0,
    rows_added INTEGER NOT NULL DEFAULT 0,
    rows_merged INTEGER NOT NULL DEFAULT 0,
    rows_duplicate_skipped INTEGER NOT NULL DEFAULT 0,
    rows_rejected INTEGER NOT NULL DEFAULT 0,
    -- The report (counts, rejected rows, duplicates found), JSON.
    report_json TEXT
);
CREATE INDEX imports_user ON imports(user_id);

-- Uploaded files, kept in the database so that every app server sees them.
CREATE TABLE import_files (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL
);

-- Saved column mappings, reused for the next file from the same source.
CREATE TABLE import_mappings (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    headers_json TEXT NOT NULL,
    mapping_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Population figures by admin unit, year, sex (female | male | total) and
-- age group ('total', '0-17', '0-4', '65+', ...).
CREATE TABLE population (
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    year INTEGER NOT NULL,
    sex TEXT NOT NULL,
    age_group TEXT NOT NULL,
    count INTEGER NOT NULL,
    import_id INTEGER REFERENCES imports(id),
    PRIMARY KEY (admin_code, year, sex, age_group)
);

-- Blocking keys for duplicate detection (komlang_core::dedup::dedup_keys):
-- two workers that may be one person share at least one key.
CREATE TABLE worker_dedup_keys (
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    PRIMARY KEY (worker_id, key)
) WITHOUT ROWID;
CREATE INDEX worker_dedup_keys_key ON worker_dedup_keys(key);

-- Which import created a worker, and from which row of its file (an
-- `imports` id; not a foreign key: imports are never deleted, and the check
-- would cost every imported row a lookup).
ALTER TABLE workers ADD COLUMN import_id INTEGER;
ALTER TABLE workers ADD COLUMN import_row INTEGER;
CREATE INDEX workers_import ON workers(import_id, import_row);
