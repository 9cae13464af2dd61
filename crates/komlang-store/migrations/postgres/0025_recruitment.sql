-- Recruitment need (postgres). Keep in step with ../sqlite/0025_recruitment.sql.
--
-- What sizes a year's recruitment besides the vacant posts (komlang_core::recruitment,
-- docs/recruitment.md): the retirement age (one row), and per cadre the yearly rates, per 1,000
-- post holders, of those who lose their working ability and of those who die in service. No
-- rate until set: the seeds give none.
CREATE TABLE recruitment_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    retirement_age BIGINT NOT NULL CHECK (retirement_age BETWEEN 40 AND 80),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO recruitment_settings (id, retirement_age, updated_by, updated_at)
VALUES (1, 60, 'komlang', '2026-12-07T00:00:00Z');

CREATE TABLE exit_rates (
    cadre TEXT PRIMARY KEY,
    incapacity_per_1000 DOUBLE PRECISION NOT NULL,
    death_per_1000 DOUBLE PRECISION NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
