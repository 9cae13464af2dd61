-- Counts kept for the reports of costs and supervision (PostgreSQL). Keep in step with
-- ../sqlite/0017_report_tallies.sql.
--
-- The workforce's cost needs each worker's rank and the funding of the post they fill; the
-- supervision summary needs whether each worker has a supervisor. Both read every worker of
-- the area at a million workers (seconds), so these facts are kept on the worker (derived, like
-- `certified`: by the triggers on the tables they come from) and the workers are tallied by
-- them, as `worker_tallies` tallies them for the home page (migration 0009): the reports sum the
-- tallies, whose cost is the number of groups, not of workers. As there, the tally rows are
-- deltas appended by statement-level triggers and merged by `Store::compact_worker_tallies`.

-- The worker's latest rank (by its first day; '' without one). A rank from a day still to come
-- is the latest too: the cost report corrects the few workers who have one.
ALTER TABLE workers ADD COLUMN rank_grade TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN rank_step BIGINT NOT NULL DEFAULT 0;
-- The funding source of the post the worker's current posting fills ('none' without one).
ALTER TABLE workers ADD COLUMN post_funding TEXT NOT NULL DEFAULT 'none';
-- 1 while the worker has a current supervisor.
ALTER TABLE workers ADD COLUMN supervised BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION workers_rank_sync(ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE workers w SET rank_grade = x.grade, rank_step = x.step
    FROM (SELECT i.id, COALESCE(r.grade, '') AS grade, COALESCE(r.step, 0) AS step
          FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) i
          LEFT JOIN LATERAL (SELECT r.grade, r.step FROM worker_ranks r WHERE r.worker_id = i.id
                             ORDER BY r.from_date DESC, r.id DESC LIMIT 1) r ON true) x
    WHERE w.id = x.id AND (w.rank_grade <> x.grade OR w.rank_step <> x.step);
$$;

CREATE FUNCTION workers_funding_sync(ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE workers w SET post_funding = x.funding
    FROM (SELECT i.id, COALESCE((SELECT p.funding FROM postings g JOIN posts p ON p.id = g.post_id
              WHERE g.worker_id = i.id AND g.end_date IS NULL ORDER BY g.id DESC LIMIT 1), 'none') AS funding
          FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) i) x
    WHERE w.id = x.id AND w.post_funding <> x.funding;
$$;

CREATE FUNCTION workers_supervised_sync(ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    UPDATE workers w SET supervised = x.s
    FROM (SELECT i.id, CASE WHEN EXISTS (SELECT 1 FROM supervision_assignments a WHERE a.supervisee_id = i.id
              AND a.end_date IS NULL) THEN 1 ELSE 0 END AS s
          FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id)) i) x
    WHERE w.id = x.id AND w.supervised <> x.s;
$$;

SELECT workers_rank_sync(ARRAY(SELECT DISTINCT worker_id FROM worker_ranks));
SELECT workers_funding_sync(ARRAY(SELECT DISTINCT worker_id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL));
SELECT workers_supervised_sync(ARRAY(SELECT DISTINCT supervisee_id FROM supervision_assignments WHERE end_date IS NULL));

-- A worker's rank follows their ranks.
CREATE FUNCTION workers_rank_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_rank_sync(ARRAY(SELECT worker_id FROM rank_new));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_rank_sync(ARRAY(SELECT worker_id FROM rank_new UNION SELECT worker_id FROM rank_old));
    ELSE
        PERFORM workers_rank_sync(ARRAY(SELECT worker_id FROM rank_old));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_rank_insert AFTER INSERT ON worker_ranks
    REFERENCING NEW TABLE AS rank_new FOR EACH STATEMENT EXECUTE FUNCTION workers_rank_changed();
CREATE TRIGGER workers_rank_update AFTER UPDATE ON worker_ranks
    REFERENCING OLD TABLE AS rank_old NEW TABLE AS rank_new FOR EACH STATEMENT EXECUTE FUNCTION workers_rank_changed();
CREATE TRIGGER workers_rank_delete AFTER DELETE ON worker_ranks
    REFERENCING OLD TABLE AS rank_old FOR EACH STATEMENT EXECUTE FUNCTION workers_rank_changed();

-- A worker's post funding follows their postings, and the funding of the post they fill.
CREATE FUNCTION workers_funding_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_funding_sync(ARRAY(SELECT worker_id FROM posting_new WHERE post_id IS NOT NULL AND end_date IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_funding_sync(ARRAY(SELECT worker_id FROM posting_new WHERE post_id IS NOT NULL
            UNION SELECT worker_id FROM posting_old WHERE post_id IS NOT NULL));
    ELSE
        PERFORM workers_funding_sync(ARRAY(SELECT worker_id FROM posting_old WHERE post_id IS NOT NULL AND end_date IS NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_funding_insert AFTER INSERT ON postings
    REFERENCING NEW TABLE AS posting_new FOR EACH STATEMENT EXECUTE FUNCTION workers_funding_changed();
CREATE TRIGGER workers_funding_update AFTER UPDATE ON postings
    REFERENCING OLD TABLE AS posting_old NEW TABLE AS posting_new FOR EACH STATEMENT EXECUTE FUNCTION workers_funding_changed();
CREATE TRIGGER workers_funding_delete AFTER DELETE ON postings
    REFERENCING OLD TABLE AS posting_old FOR EACH STATEMENT EXECUTE FUNCTION workers_funding_changed();

CREATE FUNCTION workers_funding_post_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workers_funding_sync(ARRAY(SELECT g.worker_id FROM post_new n
        JOIN post_old o ON o.id = n.id AND o.funding IS DISTINCT FROM n.funding
        JOIN postings g ON g.post_id = n.id AND g.end_date IS NULL));
    RETURN NULL;
END $$;

CREATE TRIGGER workers_funding_post AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS post_old NEW TABLE AS post_new FOR EACH STATEMENT EXECUTE FUNCTION workers_funding_post_changed();

-- A worker's `supervised` follows their supervisors.
CREATE FUNCTION workers_supervised_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workers_supervised_sync(ARRAY(SELECT supervisee_id FROM assignment_new WHERE end_date IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workers_supervised_sync(ARRAY(SELECT supervisee_id FROM assignment_new
            UNION SELECT supervisee_id FROM assignment_old));
    ELSE
        PERFORM workers_supervised_sync(ARRAY(SELECT supervisee_id FROM assignment_old WHERE end_date IS NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_supervised_insert AFTER INSERT ON supervision_assignments
    REFERENCING NEW TABLE AS assignment_new FOR EACH STATEMENT EXECUTE FUNCTION workers_supervised_changed();
CREATE TRIGGER workers_supervised_update AFTER UPDATE ON supervision_assignments
    REFERENCING OLD TABLE AS assignment_old NEW TABLE AS assignment_new FOR EACH STATEMENT EXECUTE FUNCTION workers_supervised_changed();
CREATE TRIGGER workers_supervised_delete AFTER DELETE ON supervision_assignments
    REFERENCING OLD TABLE AS assignment_old FOR EACH STATEMENT EXECUTE FUNCTION workers_supervised_changed();

-- Workers by workplace, sector, cadre, status, post funding, rank and supervised: delta rows,
-- as `worker_tallies`.
CREATE TABLE staff_tallies (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    workplace_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    cadre TEXT NOT NULL,
    status TEXT NOT NULL,
    funding TEXT NOT NULL,
    grade TEXT NOT NULL,
    step BIGINT NOT NULL,
    supervised BIGINT NOT NULL,
    n BIGINT NOT NULL
);

INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, COUNT(*) FROM workers
GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised;

CREATE FUNCTION staff_tallies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
        SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, COUNT(*) FROM staff_new
        GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
        SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, -COUNT(*) FROM staff_old
        GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised;
    ELSE
        INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n)
        SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, SUM(d) FROM (
            SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, 1 AS d FROM staff_new
            UNION ALL
            SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, -1 AS d FROM staff_old
        ) c
        GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised
        HAVING SUM(d) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION staff_tallies_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM staff_tallies;
    RETURN NULL;
END $$;

CREATE TRIGGER staff_tallies_insert AFTER INSERT ON workers
    REFERENCING NEW TABLE AS staff_new FOR EACH STATEMENT EXECUTE FUNCTION staff_tallies_changed();
CREATE TRIGGER staff_tallies_delete AFTER DELETE ON workers
    REFERENCING OLD TABLE AS staff_old FOR EACH STATEMENT EXECUTE FUNCTION staff_tallies_changed();
CREATE TRIGGER staff_tallies_update AFTER UPDATE ON workers
    REFERENCING OLD TABLE AS staff_old NEW TABLE AS staff_new FOR EACH STATEMENT EXECUTE FUNCTION staff_tallies_changed();
CREATE TRIGGER staff_tallies_truncate AFTER TRUNCATE ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION staff_tallies_truncated();

-- Ranks from a day still to come, found by day (the cost report corrects their workers).
CREATE INDEX worker_ranks_day ON worker_ranks(from_date);

-- The establishment: posts by unit, cadre, funding, year approved and year ended (0: still
-- approved), as delta rows...
CREATE TABLE post_tallies (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    admin_code TEXT NOT NULL,
    cadre TEXT NOT NULL,
    funding TEXT NOT NULL,
    approved_year BIGINT NOT NULL,
    ended_year BIGINT NOT NULL,
    n BIGINT NOT NULL
);

-- ... and the postings that fill them by year: +1 in the year a posting starts, -1 in the year
-- it ends (its end date is the first day it no longer fills the post). A post's postings follow
-- one another, so the posts filled on the last day of a year are the sum of the rows of that
-- year and before; the report corrects today's count for the few postings that start or end
-- between today and the year's end.
CREATE TABLE post_fill_tallies (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    admin_code TEXT NOT NULL,
    cadre TEXT NOT NULL,
    funding TEXT NOT NULL,
    approved_year BIGINT NOT NULL,
    ended_year BIGINT NOT NULL,
    year BIGINT NOT NULL,
    n BIGINT NOT NULL
);

INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
SELECT admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0), COUNT(*) FROM posts
GROUP BY admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0);

INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
SELECT admin_code, cadre, funding, approved_year, ended_year, year, SUM(d) FROM (
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0) AS ended_year,
                substr(g.start_date, 1, 4)::BIGINT AS year, 1 AS d
            FROM postings g JOIN posts p ON p.id = g.post_id
            UNION ALL
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
                substr(g.end_date, 1, 4)::BIGINT, -1
            FROM postings g JOIN posts p ON p.id = g.post_id WHERE g.end_date IS NOT NULL
) c
GROUP BY admin_code, cadre, funding, approved_year, ended_year, year HAVING SUM(d) <> 0;

-- Posts tallied as they are approved and changed.
CREATE FUNCTION post_tallies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
        SELECT admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0), COUNT(*) FROM post_new
        GROUP BY admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0);
    ELSE
        INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
        SELECT admin_code, cadre, funding, approved_year, ended_year, SUM(d) FROM (
            SELECT admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0) AS ended_year, 1 AS d FROM post_new
            UNION ALL
            SELECT admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0), -1 FROM post_old
        ) c
        GROUP BY admin_code, cadre, funding, approved_year, ended_year HAVING SUM(d) <> 0;
        -- The postings of a post whose unit, cadre, funding or years changed move with it.
        INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
        SELECT admin_code, cadre, funding, approved_year, ended_year, year, SUM(d) FROM (
            SELECT n.admin_code, n.cadre, n.funding, n.approved_year, COALESCE(n.ended_year, 0) AS ended_year,
                f.year, f.d
            FROM post_new n JOIN post_old o ON o.id = n.id,
            LATERAL (SELECT substr(g.start_date, 1, 4)::BIGINT AS year, 1 AS d FROM postings g WHERE g.post_id = n.id
                     UNION ALL
                     SELECT substr(g.end_date, 1, 4)::BIGINT, -1 FROM postings g
                     WHERE g.post_id = n.id AND g.end_date IS NOT NULL) f
            WHERE (o.admin_code, o.cadre, o.funding, o.approved_year, o.ended_year)
                IS DISTINCT FROM (n.admin_code, n.cadre, n.funding, n.approved_year, n.ended_year)
            UNION ALL
            SELECT o.admin_code, o.cadre, o.funding, o.approved_year, COALESCE(o.ended_year, 0), f.year, -f.d
            FROM post_new n JOIN post_old o ON o.id = n.id,
            LATERAL (SELECT substr(g.start_date, 1, 4)::BIGINT AS year, 1 AS d FROM postings g WHERE g.post_id = n.id
                     UNION ALL
                     SELECT substr(g.end_date, 1, 4)::BIGINT, -1 FROM postings g
                     WHERE g.post_id = n.id AND g.end_date IS NOT NULL) f
            WHERE (o.admin_code, o.cadre, o.funding, o.approved_year, o.ended_year)
                IS DISTINCT FROM (n.admin_code, n.cadre, n.funding, n.approved_year, n.ended_year)
        ) c
        GROUP BY admin_code, cadre, funding, approved_year, ended_year, year HAVING SUM(d) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER post_tallies_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS post_new FOR EACH STATEMENT EXECUTE FUNCTION post_tallies_changed();
CREATE TRIGGER post_tallies_update AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS post_old NEW TABLE AS post_new FOR EACH STATEMENT EXECUTE FUNCTION post_tallies_changed();

-- A post deleted (never by Komlang): before the delete, while its postings still point at it
-- (the foreign key then clears them, and the postings' trigger no longer finds the post).
CREATE FUNCTION post_tallies_deleting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO post_tallies (admin_code, cadre, funding, approved_year, ended_year, n)
    VALUES (OLD.admin_code, OLD.cadre, OLD.funding, OLD.approved_year, COALESCE(OLD.ended_year, 0), -1);
    INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
    SELECT OLD.admin_code, OLD.cadre, OLD.funding, OLD.approved_year, COALESCE(OLD.ended_year, 0), year, -SUM(d) FROM (
        SELECT substr(g.start_date, 1, 4)::BIGINT AS year, 1 AS d FROM postings g WHERE g.post_id = OLD.id
        UNION ALL
        SELECT substr(g.end_date, 1, 4)::BIGINT, -1 FROM postings g WHERE g.post_id = OLD.id AND g.end_date IS NOT NULL
    ) c
    GROUP BY year HAVING SUM(d) <> 0;
    RETURN OLD;
END $$;

CREATE TRIGGER post_tallies_delete BEFORE DELETE ON posts FOR EACH ROW EXECUTE FUNCTION post_tallies_deleting();

-- Postings tallied as they fill posts, end, and change.
CREATE FUNCTION post_fill_tallies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
        SELECT admin_code, cadre, funding, approved_year, ended_year, year, SUM(d) FROM (
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0) AS ended_year,
                substr(g.start_date, 1, 4)::BIGINT AS year, 1 AS d
            FROM posting_new g JOIN posts p ON p.id = g.post_id
            UNION ALL
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
                substr(g.end_date, 1, 4)::BIGINT, -1
            FROM posting_new g JOIN posts p ON p.id = g.post_id WHERE g.end_date IS NOT NULL
        ) c
        GROUP BY admin_code, cadre, funding, approved_year, ended_year, year HAVING SUM(d) <> 0;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
        SELECT admin_code, cadre, funding, approved_year, ended_year, year, SUM(d) FROM (
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0) AS ended_year,
                substr(g.start_date, 1, 4)::BIGINT AS year, 1 AS d
            FROM posting_new g JOIN posts p ON p.id = g.post_id
            UNION ALL
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
                substr(g.end_date, 1, 4)::BIGINT, -1
            FROM posting_new g JOIN posts p ON p.id = g.post_id WHERE g.end_date IS NOT NULL
            UNION ALL
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0) AS ended_year,
                substr(g.start_date, 1, 4)::BIGINT AS year, -1 AS d
            FROM posting_old g JOIN posts p ON p.id = g.post_id
            UNION ALL
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
                substr(g.end_date, 1, 4)::BIGINT, 1
            FROM posting_old g JOIN posts p ON p.id = g.post_id WHERE g.end_date IS NOT NULL
        ) c
        GROUP BY admin_code, cadre, funding, approved_year, ended_year, year HAVING SUM(d) <> 0;
    ELSE
        INSERT INTO post_fill_tallies (admin_code, cadre, funding, approved_year, ended_year, year, n)
        SELECT admin_code, cadre, funding, approved_year, ended_year, year, SUM(d) FROM (
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0) AS ended_year,
                substr(g.start_date, 1, 4)::BIGINT AS year, -1 AS d
            FROM posting_old g JOIN posts p ON p.id = g.post_id
            UNION ALL
            SELECT p.admin_code, p.cadre, p.funding, p.approved_year, COALESCE(p.ended_year, 0),
                substr(g.end_date, 1, 4)::BIGINT, 1
            FROM posting_old g JOIN posts p ON p.id = g.post_id WHERE g.end_date IS NOT NULL
        ) c
        GROUP BY admin_code, cadre, funding, approved_year, ended_year, year HAVING SUM(d) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER post_fill_tallies_insert AFTER INSERT ON postings
    REFERENCING NEW TABLE AS posting_new FOR EACH STATEMENT EXECUTE FUNCTION post_fill_tallies_changed();
CREATE TRIGGER post_fill_tallies_update AFTER UPDATE ON postings
    REFERENCING OLD TABLE AS posting_old NEW TABLE AS posting_new FOR EACH STATEMENT EXECUTE FUNCTION post_fill_tallies_changed();
CREATE TRIGGER post_fill_tallies_delete AFTER DELETE ON postings
    REFERENCING OLD TABLE AS posting_old FOR EACH STATEMENT EXECUTE FUNCTION post_fill_tallies_changed();

-- Postings found by the day they start or end (the report's correction for today).
CREATE INDEX postings_post_start ON postings(start_date) WHERE post_id IS NOT NULL;
CREATE INDEX postings_post_end ON postings(end_date) WHERE post_id IS NOT NULL;
