-- Changes sent from the field (PostgreSQL). Keep in step with ../sqlite/0011_field_changes.sql.
--
-- A phone that worked without a connection sends its queued changes when the connection
-- returns, each with an id it made (`change_id`). A change whose answer was lost on the way
-- is sent again; the answer kept here is given again instead of making the change twice
-- (`Store::field_change_answer`). Kept for 90 days; not carried by backups.
CREATE TABLE field_changes (
    user_id BIGINT NOT NULL,
    change_id TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (user_id, change_id)
);
CREATE INDEX field_changes_at ON field_changes(at);
