-- The FHIR registry's change feed (SQLite). Keep in step with ../postgres/0024_fhir_changes.sql.
--
-- One row each time a resource of the FHIR registry (`/fhir/r4/`, docs/fhir.md) changes: a
-- Practitioner (a worker, with their certificates and licences), a PractitionerRole (a
-- posting), an Organization, a Location (an administrative unit). Written by the database
-- itself (the triggers below), in the same transaction as the change, so that every writer is
-- covered (the registry, imports, restores, raw SQL). A resource's `meta.lastUpdated` is the
-- latest of its rows; `_history?_since=T` lists the resources with a row after T.
--
-- Each row says where the resource was (`unit_code`, `org_id`, `worker_id`: what decides who
-- sees it), before the change and after it when the change moved it, so that a reader whose
-- scope the resource left learns of it (as a deletion), and nobody else does.
-- Times: UTC, milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`, compared as text.
CREATE TABLE fhir_changes (
    id INTEGER PRIMARY KEY,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    unit_code TEXT,
    org_id INTEGER,
    worker_id INTEGER,
    changed_at TEXT NOT NULL
);
CREATE INDEX fhir_changes_at ON fhir_changes(resource_type, changed_at);
CREATE INDEX fhir_changes_resource ON fhir_changes(resource_type, resource_id, changed_at);

-- What exists now, as last changed when it was last written (admin units: now).
INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
SELECT 'Location', code, code, NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM admin_units;
INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
SELECT 'Organization', CAST(id AS TEXT), admin_code, id, NULL, substr(updated_at, 1, 19) || '.000Z' FROM organizations;
INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
SELECT 'Practitioner', CAST(id AS TEXT), workplace_code, org_id, id, substr(updated_at, 1, 19) || '.000Z' FROM workers;
INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
SELECT 'PractitionerRole', CAST(p.id AS TEXT), w.workplace_code, w.org_id, w.id, substr(w.updated_at, 1, 19) || '.000Z'
FROM postings p JOIN workers w ON w.id = p.worker_id;

-- Workers: a change of what the Practitioner shows, or of where the worker is.
CREATE TRIGGER fhir_workers_insert AFTER INSERT ON workers
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Practitioner', CAST(NEW.id AS TEXT), NEW.workplace_code, NEW.org_id, NEW.id,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER fhir_workers_update AFTER UPDATE OF name_km, name_latin, sex, date_of_birth, national_id, phone,
    email, cadre, role, sector, org_id, workplace_code, status, start_date, end_date, education_level ON workers
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Practitioner', CAST(NEW.id AS TEXT), NEW.workplace_code, NEW.org_id, NEW.id,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(OLD.id AS TEXT), OLD.workplace_code, OLD.org_id, OLD.id,
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE OLD.workplace_code IS NOT NEW.workplace_code OR OLD.org_id IS NOT NEW.org_id;
END;
CREATE TRIGGER fhir_workers_delete AFTER DELETE ON workers
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Practitioner', CAST(OLD.id AS TEXT), OLD.workplace_code, OLD.org_id, OLD.id,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- A worker's certificates and licences are their Practitioner's qualifications.
CREATE TRIGGER fhir_certificates_insert AFTER INSERT ON certificates
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(w.id AS TEXT), w.workplace_code, w.org_id, w.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id = NEW.worker_id;
END;
CREATE TRIGGER fhir_certificates_update AFTER UPDATE ON certificates
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(w.id AS TEXT), w.workplace_code, w.org_id, w.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id IN (OLD.worker_id, NEW.worker_id);
END;
CREATE TRIGGER fhir_certificates_delete AFTER DELETE ON certificates
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(w.id AS TEXT), w.workplace_code, w.org_id, w.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id = OLD.worker_id;
END;
CREATE TRIGGER fhir_licences_insert AFTER INSERT ON licences
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(w.id AS TEXT), w.workplace_code, w.org_id, w.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id = NEW.worker_id;
END;
CREATE TRIGGER fhir_licences_update AFTER UPDATE ON licences
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(w.id AS TEXT), w.workplace_code, w.org_id, w.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id IN (OLD.worker_id, NEW.worker_id);
END;
CREATE TRIGGER fhir_licences_delete AFTER DELETE ON licences
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Practitioner', CAST(w.id AS TEXT), w.workplace_code, w.org_id, w.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id = OLD.worker_id;
END;

-- Postings are PractitionerRoles, seen where their worker is seen.
CREATE TRIGGER fhir_postings_insert AFTER INSERT ON postings
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'PractitionerRole', CAST(NEW.id AS TEXT), w.workplace_code, w.org_id, w.id,
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id = NEW.worker_id;
END;
CREATE TRIGGER fhir_postings_update AFTER UPDATE OF worker_id, org_id, role, position_title, workplace_code, start_date,
    end_date ON postings
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'PractitionerRole', CAST(NEW.id AS TEXT), w.workplace_code, w.org_id, w.id,
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM workers w WHERE w.id IN (OLD.worker_id, NEW.worker_id);
END;
CREATE TRIGGER fhir_postings_delete AFTER DELETE ON postings
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('PractitionerRole', CAST(OLD.id AS TEXT),
            COALESCE((SELECT w.workplace_code FROM workers w WHERE w.id = OLD.worker_id), OLD.workplace_code),
            (SELECT w.org_id FROM workers w WHERE w.id = OLD.worker_id), OLD.worker_id,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- Organizations, seen where they are seated.
CREATE TRIGGER fhir_organizations_insert AFTER INSERT ON organizations
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Organization', CAST(NEW.id AS TEXT), NEW.admin_code, NEW.id, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER fhir_organizations_update AFTER UPDATE ON organizations
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Organization', CAST(NEW.id AS TEXT), NEW.admin_code, NEW.id, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    SELECT 'Organization', CAST(OLD.id AS TEXT), OLD.admin_code, OLD.id, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE OLD.admin_code IS NOT NEW.admin_code;
END;
CREATE TRIGGER fhir_organizations_delete AFTER DELETE ON organizations
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Organization', CAST(OLD.id AS TEXT), OLD.admin_code, OLD.id, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- Administrative units: Locations (and the jurisdictions' Organizations).
CREATE TRIGGER fhir_admin_units_insert AFTER INSERT ON admin_units
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Location', NEW.code, NEW.code, NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER fhir_admin_units_update AFTER UPDATE ON admin_units
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Location', NEW.code, NEW.code, NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER fhir_admin_units_delete AFTER DELETE ON admin_units
BEGIN
    INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at)
    VALUES ('Location', OLD.code, OLD.code, NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
