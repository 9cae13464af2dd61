-- Worker tallies (SQLite). Keep in step with ../postgres/0009_worker_tallies.sql.
--
-- How many workers there are per workplace unit and per (cadre, sector, role, status,
-- certified): what the home page's counts and planning's coverage sum instead of counting every worker on
-- every request. Kept by the database itself, in the same transaction as the change (the
-- triggers below), so that every writer is covered (the registry, imports, restores, raw SQL)
-- and a reader never sees a total that disagrees with the records. A group's count is the
-- SUM of its rows' `n`: on SQLite one row per group, updated in place (SQLite has one writer
-- at a time, so there is no contention to avoid); on PostgreSQL rows are appended as deltas
-- and merged now and then (`Store::compact_worker_tallies`). Derived from `workers`: not in
-- backups, rebuilt as a restore inserts the workers.

-- Whether a worker holds a valid (unrevoked) certificate, kept by the triggers on
-- `certificates` below: derived, like the tallies, but stored on the worker so that the
-- triggers on `workers` tally it with the rest.
ALTER TABLE workers ADD COLUMN certified INTEGER NOT NULL DEFAULT 0;
UPDATE workers SET certified = 1 WHERE id IN (SELECT worker_id FROM certificates WHERE revoked_on IS NULL);

CREATE TABLE worker_tallies (
    id INTEGER PRIMARY KEY,
    workplace_code TEXT NOT NULL,
    cadre TEXT NOT NULL,
    sector TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    certified INTEGER NOT NULL,
    n INTEGER NOT NULL
);
CREATE UNIQUE INDEX worker_tallies_group ON worker_tallies(workplace_code, cadre, sector, role, status, certified);

INSERT INTO worker_tallies (workplace_code, cadre, sector, role, status, certified, n)
SELECT workplace_code, cadre, sector, role, status, certified, COUNT(*) FROM workers
GROUP BY workplace_code, cadre, sector, role, status, certified;

CREATE TRIGGER worker_tallies_insert AFTER INSERT ON workers
BEGIN
    INSERT INTO worker_tallies (workplace_code, cadre, sector, role, status, certified, n)
    VALUES (NEW.workplace_code, NEW.cadre, NEW.sector, NEW.role, NEW.status, NEW.certified, 1)
    ON CONFLICT (workplace_code, cadre, sector, role, status, certified) DO UPDATE SET n = worker_tallies.n + 1;
END;

CREATE TRIGGER worker_tallies_delete AFTER DELETE ON workers
BEGIN
    INSERT INTO worker_tallies (workplace_code, cadre, sector, role, status, certified, n)
    VALUES (OLD.workplace_code, OLD.cadre, OLD.sector, OLD.role, OLD.status, OLD.certified, -1)
    ON CONFLICT (workplace_code, cadre, sector, role, status, certified) DO UPDATE SET n = worker_tallies.n - 1;
END;

CREATE TRIGGER worker_tallies_update AFTER UPDATE OF workplace_code, cadre, sector, role, status, certified ON workers
WHEN OLD.workplace_code IS NOT NEW.workplace_code OR OLD.cadre IS NOT NEW.cadre OR OLD.sector IS NOT NEW.sector
    OR OLD.role IS NOT NEW.role OR OLD.status IS NOT NEW.status OR OLD.certified IS NOT NEW.certified
BEGIN
    INSERT INTO worker_tallies (workplace_code, cadre, sector, role, status, certified, n)
    VALUES (OLD.workplace_code, OLD.cadre, OLD.sector, OLD.role, OLD.status, OLD.certified, -1)
    ON CONFLICT (workplace_code, cadre, sector, role, status, certified) DO UPDATE SET n = worker_tallies.n - 1;
    INSERT INTO worker_tallies (workplace_code, cadre, sector, role, status, certified, n)
    VALUES (NEW.workplace_code, NEW.cadre, NEW.sector, NEW.role, NEW.status, NEW.certified, 1)
    ON CONFLICT (workplace_code, cadre, sector, role, status, certified) DO UPDATE SET n = worker_tallies.n + 1;
END;

-- A worker's `certified` follows their certificates.
CREATE TRIGGER workers_certified_insert AFTER INSERT ON certificates WHEN NEW.revoked_on IS NULL
BEGIN
    UPDATE workers SET certified = 1 WHERE id = NEW.worker_id AND certified <> 1;
END;

CREATE TRIGGER workers_certified_update AFTER UPDATE OF worker_id, revoked_on ON certificates
BEGIN
    UPDATE workers SET certified = (EXISTS (SELECT 1 FROM certificates c WHERE c.worker_id = workers.id
        AND c.revoked_on IS NULL))
    WHERE id IN (OLD.worker_id, NEW.worker_id) AND certified <> (EXISTS (SELECT 1 FROM certificates c
        WHERE c.worker_id = workers.id AND c.revoked_on IS NULL));
END;

CREATE TRIGGER workers_certified_delete AFTER DELETE ON certificates WHEN OLD.revoked_on IS NULL
BEGIN
    UPDATE workers SET certified = (EXISTS (SELECT 1 FROM certificates c WHERE c.worker_id = workers.id
        AND c.revoked_on IS NULL))
    WHERE id = OLD.worker_id;
END;
