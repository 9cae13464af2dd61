-- The establishment: approved posts (SQLite). Keep in step with ../postgres/0012_establishment.sql.
--
-- One row per approved post: where it is (an admin unit at any level, optionally an
-- organization), for which cadre and role, who pays for it, the year it was approved and the
-- year it ended (abolished from the start of that year; NULL: still approved). A worker's
-- posting fills a post (`postings.post_id`): the post is filled while that posting is
-- current, and a posting that ends (the worker moves or leaves) leaves the post vacant, so
-- the history of postings is the history of who filled each post.
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    org_id INTEGER REFERENCES organizations(id),
    cadre TEXT NOT NULL,
    role TEXT NOT NULL,
    funding TEXT NOT NULL,
    approved_year INTEGER NOT NULL,
    ended_year INTEGER,
    plan_id INTEGER REFERENCES planning_plans(id) ON DELETE SET NULL,
    note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX posts_admin ON posts(admin_code);
CREATE INDEX posts_org ON posts(org_id);

ALTER TABLE postings ADD COLUMN post_id INTEGER REFERENCES posts(id) ON DELETE SET NULL;
-- A post is filled by one current posting at most.
CREATE UNIQUE INDEX postings_post_current ON postings(post_id) WHERE post_id IS NOT NULL AND end_date IS NULL;
CREATE INDEX postings_post ON postings(post_id) WHERE post_id IS NOT NULL;

-- Totals of the establishment recorded for a year and a unit (the country, a province, ...)
-- from another source: the years before the posts were kept here (seed 002: 3,764
-- government social service posts in 2019, 4,272 in 2020), shown beside the posts' own count.
CREATE TABLE establishment_records (
    admin_code TEXT NOT NULL REFERENCES admin_units(code),
    year INTEGER NOT NULL,
    approved INTEGER NOT NULL,
    filled INTEGER,
    source TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (admin_code, year)
);
