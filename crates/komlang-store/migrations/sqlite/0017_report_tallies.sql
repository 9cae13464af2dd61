-- Counts kept for the reports of costs and supervision (SQLite). Keep in step with
-- ../postgres/0017_report_tallies.sql.
--
-- The workforce's cost needs each worker's rank and the funding of the post they fill; the
-- supervision summary needs whether each worker has a supervisor. Both read every worker of
-- the area at a million workers (seconds), so these facts are kept on the worker (derived, like
-- `certified`: by the triggers on the tables they come from) and the workers are tallied by
-- them, as `worker_tallies` tallies them for the home page (migration 0009): the reports sum the
-- tallies, whose cost is the number of groups, not of workers.

-- The worker's latest rank (by its first day; '' without one). A rank from a day still to come
-- is the latest too: the cost report corrects the few workers who have one.
ALTER TABLE workers ADD COLUMN rank_grade TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN rank_step INTEGER NOT NULL DEFAULT 0;
-- The funding source of the post the worker's current posting fills ('none' without one).
ALTER TABLE workers ADD COLUMN post_funding TEXT NOT NULL DEFAULT 'none';
-- 1 while the worker has a current supervisor.
ALTER TABLE workers ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;

UPDATE workers SET (rank_grade, rank_step) = (SELECT r.grade, r.step FROM worker_ranks r WHERE r.worker_id = workers.id
    ORDER BY r.from_date DESC, r.id DESC LIMIT 1)
WHERE id IN (SELECT worker_id FROM worker_ranks);
UPDATE workers SET post_funding = (SELECT p.funding FROM postings g JOIN posts p ON p.id = g.post_id
    WHERE g.worker_id = workers.id AND g.end_date IS NULL ORDER BY g.id DESC LIMIT 1)
WHERE id IN (SELECT worker_id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL);
UPDATE workers SET supervised = 1 WHERE id IN (SELECT supervisee_id FROM supervision_assignments WHERE end_date IS NULL);

-- A worker's rank follows their ranks.
CREATE TRIGGER workers_rank_insert AFTER INSERT ON worker_ranks
BEGIN
    UPDATE workers SET (rank_grade, rank_step) = (SELECT r.grade, r.step FROM worker_ranks r
        WHERE r.worker_id = workers.id ORDER BY r.from_date DESC, r.id DESC LIMIT 1)
    WHERE id = NEW.worker_id;
END;

CREATE TRIGGER workers_rank_update AFTER UPDATE OF worker_id, grade, step, from_date ON worker_ranks
BEGIN
    UPDATE workers SET
        rank_grade = COALESCE((SELECT r.grade FROM worker_ranks r WHERE r.worker_id = workers.id
            ORDER BY r.from_date DESC, r.id DESC LIMIT 1), ''),
        rank_step = COALESCE((SELECT r.step FROM worker_ranks r WHERE r.worker_id = workers.id
            ORDER BY r.from_date DESC, r.id DESC LIMIT 1), 0)
    WHERE id IN (OLD.worker_id, NEW.worker_id);
END;

CREATE TRIGGER workers_rank_delete AFTER DELETE ON worker_ranks
BEGIN
    UPDATE workers SET
        rank_grade = COALESCE((SELECT r.grade FROM worker_ranks r WHERE r.worker_id = workers.id
            ORDER BY r.from_date DESC, r.id DESC LIMIT 1), ''),
        rank_step = COALESCE((SELECT r.step FROM worker_ranks r WHERE r.worker_id = workers.id
            ORDER BY r.from_date DESC, r.id DESC LIMIT 1), 0)
    WHERE id = OLD.worker_id;
END;

-- A worker's post funding follows their postings, and the funding of the post they fill.
CREATE TRIGGER workers_funding_insert AFTER INSERT ON postings WHEN NEW.post_id IS NOT NULL AND NEW.end_date IS NULL
BEGIN
    UPDATE workers SET post_funding = COALESCE((SELECT p.funding FROM postings g JOIN posts p ON p.id = g.post_id
        WHERE g.worker_id = workers.id AND g.end_date IS NULL ORDER BY g.id DESC LIMIT 1), 'none')
    WHERE id = NEW.worker_id;
END;

CREATE TRIGGER workers_funding_update AFTER UPDATE OF worker_id, post_id, end_date ON postings
BEGIN
    UPDATE workers SET post_funding = COALESCE((SELECT p.funding FROM postings g JOIN posts p ON p.id = g.post_id
        WHERE g.worker_id = workers.id AND g.end_date IS NULL ORDER BY g.id DESC LIMIT 1), 'none')
    WHERE id IN (OLD.worker_id, NEW.worker_id);
END;

CREATE TRIGGER workers_funding_delete AFTER DELETE ON postings WHEN OLD.post_id IS NOT NULL AND OLD.end_date IS NULL
BEGIN
    UPDATE workers SET post_funding = COALESCE((SELECT p.funding FROM postings g JOIN posts p ON p.id = g.post_id
        WHERE g.worker_id = workers.id AND g.end_date IS NULL ORDER BY g.id DESC LIMIT 1), 'none')
    WHERE id = OLD.worker_id;
END;

CREATE TRIGGER workers_funding_post AFTER UPDATE OF funding ON posts WHEN OLD.funding IS NOT NEW.funding
BEGIN
    UPDATE workers SET post_funding = NEW.funding
    WHERE id IN (SELECT worker_id FROM postings WHERE post_id = NEW.id AND end_date IS NULL);
END;

-- A worker's `supervised` follows their supervisors.
CREATE TRIGGER workers_supervised_insert AFTER INSERT ON supervision_assignments WHEN NEW.end_date IS NULL
BEGIN
    UPDATE workers SET supervised = 1 WHERE id = NEW.supervisee_id AND supervised <> 1;
END;

CREATE TRIGGER workers_supervised_update AFTER UPDATE OF supervisee_id, end_date ON supervision_assignments
BEGIN
    UPDATE workers SET supervised = (EXISTS (SELECT 1 FROM supervision_assignments a WHERE a.supervisee_id = workers.id
        AND a.end_date IS NULL))
    WHERE id IN (OLD.supervisee_id, NEW.supervisee_id);
END;

CREATE TRIGGER workers_supervised_delete AFTER DELETE ON supervision_assignments WHEN OLD.end_date IS NULL
BEGIN
    UPDATE workers SET supervised = (EXISTS (SELECT 1 FROM supervision_assignments a WHERE a.supervisee_id = workers.id
        AND a.end_date IS NULL))
    WHERE id = OLD.supervisee_id;
END;

-- Workers by workplace, sector, cadre, status, post funding, rank and supervised: one row per
-- group, as `worker_tallies`.
CREATE TABLE staff_tallies (
    id INTEGER PRIMARY KEY,
    workplace_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    cadre TEXT NOT NULL,
    status TEXT NOT NULL,
    funding TEXT NOT NULL,
    grade TEXT NOT NULL,
    step INTEGER NOT NULL,
    supervised INTEGER NOT NULL,
    n INTEGER NOT NULL
);
CREATE UNIQUE INDEX staff_tallies_group ON staff_tallies(workplace_code, sector, cadre, status, funding, grade, step, supervised);

INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, COUNT(*) FROM workers
GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised;

CREATE TRIGGER staff_tallies_insert AFTER INSERT ON workers
BEGIN
    INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
    VALUES (NEW.workplace_code, NEW.sector, NEW.cadre, NEW.status, NEW.post_funding, NEW.rank_grade, NEW.rank_step, NEW.supervised, 1)
    ON CONFLICT (workplace_code, sector, cadre, status, funding, grade, step, supervised) DO UPDATE SET n = staff_tallies.n + 1;
END;

CREATE TRIGGER staff_tallies_delete AFTER DELETE ON workers
BEGIN
    INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
    VALUES (OLD.workplace_code, OLD.sector, OLD.cadre, OLD.status, OLD.post_funding, OLD.rank_grade, OLD.rank_step, OLD.supervised, -1)
    ON CONFLICT (workplace_code, sector, cadre, status, funding, grade, step, supervised) DO UPDATE SET n = staff_tallies.n - 1;
END;

CREATE TRIGGER staff_tallies_update
AFTER UPDATE OF workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised ON workers
WHEN OLD.workplace_code IS NOT NEW.workplace_code OR OLD.sector IS NOT NEW.sector OR OLD.cadre IS NOT NEW.cadre
    OR OLD.status IS NOT NEW.status OR OLD.post_funding IS NOT NEW.post_funding OR OLD.rank_grade IS NOT NEW.rank_grade
    OR OLD.rank_step IS NOT NEW.rank_step OR OLD.supervised IS NOT NEW.supervised
BEGIN
    INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
    VALUES (OLD.workplace_code, OLD.sector, OLD.cadre, OLD.status, OLD.post_funding, OLD.rank_grade, OLD.rank_step, OLD.supervised, -1)
    ON CONFLICT (workplace_code, sector, cadre, status, funding, grade, step, supervised) DO UPDATE SET n = staff_tallies.n - 1;
    INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
    VALUES (NEW.workplace_code, NEW.sector, NEW.cadre, NEW.status, NEW.post_funding, NEW.rank_grade, NEW.rank_step, NEW.supervised, 1)
    ON CONFLICT (workplace_code, sector, cadre, status, funding, grade, step, supervised) DO UPDATE SET n = staff_tallies.n + 1;
END;

-- Ranks from a day still to come, found by day (the cost report corrects their workers).
CREATE INDEX worker_ranks_day ON worker_ranks(from_date);

-- The establishment: posts by unit, cadre, funding, year approved and year ended (0: still
-- approved), one row per group...
CREATE TABLE post_tallies (
    id INTEGER PRIMARY KEY,
    admin_code TEXT NOT NULL,
    cadre TEXT NOT NULL,
    funding TEXT NOT NULL,
    approved_year INTEGER NOT NULL,
    ended_year INTEGER NOT NULL,
    n INTEGER NOT NULL
);
CREATE UNIQUE INDEX post_tallies_group ON post_tallies(admin_code, cadre, funding, approved_year, ended_year);

-- ... and the postings that fill them by year: +1 in the year a posting starts, -1 in the year
-- it ends (its end date is the first day it no longer fills the post). A post's postings follow
-- one another, so the posts filled on the last day of a year are the sum of the rows of that
-- year and before; the report corrects today's count for the few postings that start or end
-- between today and the year's end.
CREATE TABLE post_fill_tallies (
    id INTEGER PRIMARY KEY,
    admin_code TEXT NOT NULL,
    cadre TEXT NOT NULL,
    funding TEXT NOT NULL,
    approved_year INTEGER NOT NULL,
    ended_year INTEGER NOT NULL,
    year INTEGER NOT NULL,
    n INTEGER NOT NULL
);
CREATE UNIQUE INDEX post_fill_tallies_group
    ON post_fill_tallies(admin_code, cadre, funding, approved_year, ended_year, year);

INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
SELECT admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0), COUNT(*) FROM posts
GROUP BY admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0);

INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
SELECT admin_code, cadre, funding, approved_year, ended_year, year, SUM(d) FROM (
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0) AS ended_year,
        CAST(substr(g.start_date, 1, 4) AS INTEGER) AS year, 1 AS d
    FROM postings g JOIN posts p ON p.id = g.post_id
    UNION ALL
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(g.end_date, 1, 4) AS INTEGER), -1
    FROM postings g JOIN posts p ON p.id = g.post_id WHERE g.end_date IS NOT NULL
) c
GROUP BY admin_code, cadre, funding, approved_year, ended_year, year HAVING SUM(d) <> 0;

-- Posts tallied as they are approved, changed and (never by Komlang) deleted.
CREATE TRIGGER post_tallies_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
    VALUES (NEW.admin_code, NEW.cadre, NEW.funding, NEW.approved_year, COALESCE(NEW.ended_year, 0), 1)
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year) DO UPDATE SET n = post_tallies.n + excluded.n;
END;

CREATE TRIGGER post_tallies_update AFTER UPDATE OF admin_code, cadre, funding, approved_year, ended_year ON posts
WHEN OLD.admin_code IS NOT NEW.admin_code OR OLD.cadre IS NOT NEW.cadre OR OLD.funding IS NOT NEW.funding
    OR OLD.approved_year IS NOT NEW.approved_year OR OLD.ended_year IS NOT NEW.ended_year
BEGIN
    INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
    VALUES (OLD.admin_code, OLD.cadre, OLD.funding, OLD.approved_year, COALESCE(OLD.ended_year, 0), -1)
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year) DO UPDATE SET n = post_tallies.n + excluded.n;
    INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
    VALUES (NEW.admin_code, NEW.cadre, NEW.funding, NEW.approved_year, COALESCE(NEW.ended_year, 0), 1)
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year) DO UPDATE SET n = post_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT OLD.admin_code, OLD.cadre, OLD.funding, OLD.approved_year, COALESCE(OLD.ended_year, 0), year, SUM(d) * -1
    FROM (SELECT CAST(substr(g.start_date, 1, 4) AS INTEGER) AS year, 1 AS d FROM postings g WHERE g.post_id = OLD.id
          UNION ALL
          SELECT CAST(substr(g.end_date, 1, 4) AS INTEGER), -1 FROM postings g WHERE g.post_id = OLD.id AND g.end_date IS NOT NULL) c
    WHERE true GROUP BY year HAVING SUM(d) <> 0
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT NEW.admin_code, NEW.cadre, NEW.funding, NEW.approved_year, COALESCE(NEW.ended_year, 0), year, SUM(d) * 1
    FROM (SELECT CAST(substr(g.start_date, 1, 4) AS INTEGER) AS year, 1 AS d FROM postings g WHERE g.post_id = NEW.id
          UNION ALL
          SELECT CAST(substr(g.end_date, 1, 4) AS INTEGER), -1 FROM postings g WHERE g.post_id = NEW.id AND g.end_date IS NOT NULL) c
    WHERE true GROUP BY year HAVING SUM(d) <> 0
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
END;

-- Before the delete, while the postings still point at the post (the foreign key then clears
-- them, and the postings' trigger no longer finds the post).
CREATE TRIGGER post_tallies_delete BEFORE DELETE ON posts
BEGIN
    INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
    VALUES (OLD.admin_code, OLD.cadre, OLD.funding, OLD.approved_year, COALESCE(OLD.ended_year, 0), -1)
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year) DO UPDATE SET n = post_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT OLD.admin_code, OLD.cadre, OLD.funding, OLD.approved_year, COALESCE(OLD.ended_year, 0), year, SUM(d) * -1
    FROM (SELECT CAST(substr(g.start_date, 1, 4) AS INTEGER) AS year, 1 AS d FROM postings g WHERE g.post_id = OLD.id
          UNION ALL
          SELECT CAST(substr(g.end_date, 1, 4) AS INTEGER), -1 FROM postings g WHERE g.post_id = OLD.id AND g.end_date IS NOT NULL) c
    WHERE true GROUP BY year HAVING SUM(d) <> 0
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
END;

-- Postings tallied as they fill posts, end, and change.
CREATE TRIGGER post_fill_tallies_insert AFTER INSERT ON postings WHEN NEW.post_id IS NOT NULL
BEGIN
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(NEW.start_date, 1, 4) AS INTEGER), 1
    FROM posts p WHERE p.id = NEW.post_id
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(NEW.end_date, 1, 4) AS INTEGER), -1
    FROM posts p WHERE p.id = NEW.post_id AND NEW.end_date IS NOT NULL
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
END;

CREATE TRIGGER post_fill_tallies_update AFTER UPDATE OF post_id, start_date, end_date ON postings
WHEN OLD.post_id IS NOT NEW.post_id OR OLD.start_date IS NOT NEW.start_date OR OLD.end_date IS NOT NEW.end_date
BEGIN
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(OLD.start_date, 1, 4) AS INTEGER), -1
    FROM posts p WHERE p.id = OLD.post_id
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(OLD.end_date, 1, 4) AS INTEGER), 1
    FROM posts p WHERE p.id = OLD.post_id AND OLD.end_date IS NOT NULL
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(NEW.start_date, 1, 4) AS INTEGER), 1
    FROM posts p WHERE p.id = NEW.post_id
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(NEW.end_date, 1, 4) AS INTEGER), -1
    FROM posts p WHERE p.id = NEW.post_id AND NEW.end_date IS NOT NULL
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
END;

CREATE TRIGGER post_fill_tallies_delete AFTER DELETE ON postings WHEN OLD.post_id IS NOT NULL
BEGIN
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(OLD.start_date, 1, 4) AS INTEGER), -1
    FROM posts p WHERE p.id = OLD.post_id
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
        CAST(substr(OLD.end_date, 1, 4) AS INTEGER), 1
    FROM posts p WHERE p.id = OLD.post_id AND OLD.end_date IS NOT NULL
    ON CONFLICT (admin_code, cadre, funding, approved_year, ended_year, year) DO UPDATE SET n = post_fill_tallies.n + excluded.n;
END;

-- Postings found by the day they start or end (the report's correction for today).
CREATE INDEX postings_post_start ON postings(start_date) WHERE post_id IS NOT NULL;
CREATE INDEX postings_post_end ON postings(end_date) WHERE post_id IS NOT NULL;
