-- Caseloads from the child-protection case systems (SQLite). Keep in step with
-- ../postgres/0023_caseloads.sql. No child's personal data: of each case its id in the source
-- system, status, owner, agency, location and days only.

-- One import of a source's case list, as of a day: an import of the same source and day
-- replaces it; the others are kept (the latest is the source's current caseload).
CREATE TABLE caseload_snapshots (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('primero', 'oscar')),
    as_of TEXT NOT NULL,
    import_id INTEGER REFERENCES imports(id),
    cases INTEGER NOT NULL,
    open_cases INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (source, as_of)
);

-- A case of a snapshot, one row per owner (a case without owner: one row, owner NULL).
CREATE TABLE caseload_cases (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES caseload_snapshots(id) ON DELETE CASCADE,
    case_ref TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    owner TEXT,
    owner_key TEXT,
    agency TEXT,
    location TEXT,
    admin_code TEXT REFERENCES admin_units(code),
    opened_on TEXT,
    closed_on TEXT
);
CREATE INDEX caseload_cases_owner ON caseload_cases(snapshot_id, owner_key);

-- Who an owner of a source is among the workers: set once, kept for the next imports.
CREATE TABLE case_owner_links (
    source TEXT NOT NULL CHECK (source IN ('primero', 'oscar')),
    owner_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    linked_by TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (source, owner_key)
);
CREATE INDEX case_owner_links_worker ON case_owner_links(worker_id);

-- Open cases a worker carries before the lists flag them, per cadre and role ('' : any).
CREATE TABLE caseload_thresholds (
    cadre TEXT NOT NULL,
    role TEXT NOT NULL,
    max_open INTEGER NOT NULL CHECK (max_open > 0),
    PRIMARY KEY (cadre, role)
);
