-- Komlang schema, version 4 (SQLite): workforce planning. Keep in step with
-- ../postgres/0004_planning.sql: the same tables, columns and meanings.

-- Staffing norms (komlang_core::planning::Norm), kept as data: one rule per level
-- as JSON, e.g. {"kind": "per_unit", "level": "commune", "posts": 1, "counts": {...}}
-- or {"kind": "ratio", "level": "district", "workers": 1, "per": 100000, "children": true}.
-- builtin = 1: shipped with Komlang (the investment case), not changed by users.
CREATE TABLE planning_norms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_km TEXT NOT NULL,
    rules_json TEXT NOT NULL,
    builtin INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- MoSVY's investment case (2023): one government social worker in each commune, two in
-- each district, one government professional social worker in each province.
INSERT INTO planning_norms (name, title_en, title_km, rules_json, builtin, created_by, created_at) VALUES (
    'investment-case-2023',
    'MoSVY investment case: 1 social worker per commune, 2 per district, 1 professional per province',
    'ករណីវិនិយោគរបស់ក្រសួង៖ អ្នកសង្គមកិច្ច ១ នាក់ក្នុងមួយឃុំ ២ នាក់ក្នុងមួយស្រុក អ្នកសង្គមកិច្ចវិជ្ជាជីវៈ ១ នាក់ក្នុងមួយខេត្ត',
    '[{"kind":"per_unit","level":"commune","posts":1,"counts":{"sectors":["government"],"cadres":[],"roles":["social_work_agent"]}},{"kind":"per_unit","level":"district","posts":2,"counts":{"sectors":["government"],"cadres":[],"roles":["district_social_worker"]}},{"kind":"per_unit","level":"province","posts":1,"counts":{"sectors":["government"],"cadres":["professional_social_worker"],"roles":[]}}]',
    1,
    'komlang',
    '2023-01-01T00:00:00Z'
);

-- Indicators per admin unit and year (e.g. a poverty or vulnerability index), by name.
CREATE TABLE planning_indicators (
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    name TEXT NOT NULL,
    year INTEGER NOT NULL,
    value REAL NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (admin_code, name, year)
);

-- Open cases per admin unit on a day (ISO date), from the case management systems.
CREATE TABLE planning_caseloads (
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    as_of TEXT NOT NULL,
    open_cases INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (admin_code, as_of)
);

-- Approved posts not filled per admin unit on a day (ISO date).
CREATE TABLE planning_vacancies (
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    as_of TEXT NOT NULL,
    vacancies INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (admin_code, as_of)
);

-- Saved deployment plans (named scenarios): what was asked (PlanRequest, JSON) and
-- what came out (PlanOutcome, JSON). scope_code: the unit planned for (NULL: the country).
CREATE TABLE planning_plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    norm_name TEXT NOT NULL,
    scope_code TEXT REFERENCES admin_units(code),
    start_year INTEGER NOT NULL,
    target_year INTEGER NOT NULL,
    params_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    total_posts INTEGER NOT NULL,
    created_by_user_id INTEGER,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX planning_plans_scope ON planning_plans(scope_code);
