-- Record versions (PostgreSQL). Keep in step with ../sqlite/0010_record_versions.sql.
--
-- Every record a user can edit carries a version: 1 when written, one more with each change.
-- A write takes the record's lock by raising it (`common::sql::lock_version`), so every change
-- through the registry, the pages, the API and imports moves it; a form or an API client sends
-- back the version it read (a hidden field, `If-Match`) and a write against an older version
-- is refused instead of overwriting what someone else saved meanwhile.
ALTER TABLE organizations ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE workers ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE competency_assessments ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE training_institutions ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE training_programmes ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE training_courses ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE training_events ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE training_participants ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE licences ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
