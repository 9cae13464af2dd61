-- The supervisees due a session, by workplace (PostgreSQL). Keep in step with ../sqlite/0020_supervision_due_by_workplace.sql.
--
-- The supervision summary counts the overdue supervisees by workplace: with the index of the day
-- they are due led by that day, SQLite chose to read every worker in workplace order rather than
-- sort the supervisees due (seconds at a million). Led by the workplace, the index is read in
-- the order of the count, for the supervisees only.
DROP INDEX workers_supervision_due;
CREATE INDEX workers_supervision_due ON workers(workplace_code, supervision_due) WHERE supervision_due IS NOT NULL;
