-- The status history's latest change, kept on the worker (SQLite). Keep in step with
-- ../postgres/0019_status_latest.sql.
--
-- Turnover counts the workers in post on a day: each worker's latest status change from that day
-- or before. At a million workers that is a step into the history for every worker (seconds).
-- With the latest change of each worker kept on their row (its status and day) and the workers
-- tallied by it, the workers in post on a day are those tallied in post, less those whose latest
-- change came after that day, plus those of them who were in post that day: the cost is the
-- changes made since the day, not the registry.

-- The status and day of the worker's latest status change (by day, then as recorded); NULL
-- without one.
ALTER TABLE workers ADD COLUMN status_latest TEXT;
ALTER TABLE workers ADD COLUMN status_latest_on TEXT;

    UPDATE workers SET (status_latest, status_latest_on) = (SELECT s.status, s.effective_date FROM status_changes s
        WHERE s.worker_id = workers.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1)
    WHERE id IN (SELECT worker_id FROM status_changes);

CREATE TRIGGER workers_status_latest_insert AFTER INSERT ON status_changes
BEGIN
    UPDATE workers SET (status_latest, status_latest_on) = (SELECT s.status, s.effective_date FROM status_changes s
        WHERE s.worker_id = workers.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1)
    WHERE id = NEW.worker_id;
END;

CREATE TRIGGER workers_status_latest_update AFTER UPDATE OF worker_id, status, effective_date ON status_changes
BEGIN
    UPDATE workers SET (status_latest, status_latest_on) = (SELECT s.status, s.effective_date FROM status_changes s
        WHERE s.worker_id = workers.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1)
    WHERE id IN (OLD.worker_id, NEW.worker_id);
END;

CREATE TRIGGER workers_status_latest_delete AFTER DELETE ON status_changes
BEGIN
    UPDATE workers SET (status_latest, status_latest_on) = (SELECT s.status, s.effective_date FROM status_changes s
        WHERE s.worker_id = workers.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1)
    WHERE id = OLD.worker_id;
END;

-- Workers by workplace, sector, cadre and latest status ('' without one), one row per group.
CREATE TABLE history_tallies (
    id INTEGER PRIMARY KEY,
    workplace_code TEXT NOT NULL,
    sector TEXT NOT NULL,
    cadre TEXT NOT NULL,
    status_latest TEXT NOT NULL,
    n INTEGER NOT NULL
);
CREATE UNIQUE INDEX history_tallies_group ON history_tallies(workplace_code, sector, cadre, status_latest);

INSERT INTO history_tallies (workplace_code, sector, cadre, status_latest, n)
SELECT workplace_code, sector, cadre, COALESCE(status_latest, ''), COUNT(*) FROM workers
GROUP BY workplace_code, sector, cadre, COALESCE(status_latest, '');

CREATE TRIGGER history_tallies_insert AFTER INSERT ON workers
BEGIN
    INSERT INTO history_tallies (workplace_code, sector, cadre, status_latest, n)
    VALUES (NEW.workplace_code, NEW.sector, NEW.cadre, COALESCE(NEW.status_latest, ''), 1)
    ON CONFLICT (workplace_code, sector, cadre, status_latest) DO UPDATE SET n = history_tallies.n + 1;
END;

CREATE TRIGGER history_tallies_delete AFTER DELETE ON workers
BEGIN
    INSERT INTO history_tallies (workplace_code, sector, cadre, status_latest, n)
    VALUES (OLD.workplace_code, OLD.sector, OLD.cadre, COALESCE(OLD.status_latest, ''), -1)
    ON CONFLICT (workplace_code, sector, cadre, status_latest) DO UPDATE SET n = history_tallies.n - 1;
END;

CREATE TRIGGER history_tallies_update AFTER UPDATE OF workplace_code, sector, cadre, status_latest ON workers
WHEN OLD.workplace_code IS NOT NEW.workplace_code OR OLD.sector IS NOT NEW.sector OR OLD.cadre IS NOT NEW.cadre
    OR OLD.status_latest IS NOT NEW.status_latest
BEGIN
    INSERT INTO history_tallies (workplace_code, sector, cadre, status_latest, n)
    VALUES (OLD.workplace_code, OLD.sector, OLD.cadre, COALESCE(OLD.status_latest, ''), -1)
    ON CONFLICT (workplace_code, sector, cadre, status_latest) DO UPDATE SET n = history_tallies.n - 1;
    INSERT INTO history_tallies (workplace_code, sector, cadre, status_latest, n)
    VALUES (NEW.workplace_code, NEW.sector, NEW.cadre, COALESCE(NEW.status_latest, ''), 1)
    ON CONFLICT (workplace_code, sector, cadre, status_latest) DO UPDATE SET n = history_tallies.n + 1;
END;

-- The workers whose latest change came after a day.
CREATE INDEX workers_status_latest_on ON workers(status_latest_on) WHERE status_latest_on IS NOT NULL;
