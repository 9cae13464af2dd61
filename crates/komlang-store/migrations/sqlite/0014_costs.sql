-- Costs (SQLite). Keep in step with ../postgres/0014_costs.sql.
--
-- Currencies, and how many units of each make one US dollar in a year (the rate of a year
-- without one is the latest before it).
CREATE TABLE currencies (
    code TEXT PRIMARY KEY,
    name_en TEXT NOT NULL,
    name_km TEXT NOT NULL
);
INSERT INTO currencies (code, name_en, name_km) VALUES ('USD', 'US dollar', 'ដុល្លារអាមេរិក');
INSERT INTO currencies (code, name_en, name_km) VALUES ('KHR', 'Cambodian riel', 'រៀល');
CREATE TABLE exchange_rates (
    currency TEXT NOT NULL REFERENCES currencies(code),
    year INTEGER NOT NULL,
    per_usd REAL NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (currency, year)
);

-- Salary scales: the monthly base salary of a grade (rank) and step, from a day.
CREATE TABLE salary_scales (
    grade TEXT NOT NULL,
    step INTEGER NOT NULL,
    effective_from TEXT NOT NULL,
    monthly REAL NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (grade, step, effective_from)
);

-- Allowances (transport, remote post, ...): a monthly amount from a day, for every post or
-- only for posts in the units listed (space-separated admin codes; empty: every post).
CREATE TABLE allowances (
    code TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_km TEXT NOT NULL,
    monthly REAL NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    units TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (code, effective_from)
);

-- A worker's rank history: their grade and step from a day.
CREATE TABLE worker_ranks (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    grade TEXT NOT NULL,
    step INTEGER NOT NULL,
    from_date TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX worker_ranks_worker ON worker_ranks(worker_id, from_date);

-- How a post of a cadre is costed when nobody's rank says otherwise (a new post, a worker
-- without a rank): its grade and step, and the certificate a new worker of the cadre is trained
-- to (none: no training costed).
CREATE TABLE cadre_costing (
    cadre TEXT PRIMARY KEY,
    grade TEXT NOT NULL,
    step INTEGER NOT NULL,
    certificate_level TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- What training to a certificate level costs, per person.
CREATE TABLE training_costs (
    level TEXT PRIMARY KEY,
    cost REAL NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
