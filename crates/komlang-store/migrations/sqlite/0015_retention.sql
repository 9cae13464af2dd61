-- Retention (SQLite). Keep in step with ../postgres/0015_retention.sql.
--
-- Why workers leave, as data: national administrators add reasons; the shipped ones cannot be
-- removed. A separation (a status change to left, retired, deceased or transferred) can say why.
CREATE TABLE exit_reasons (
    code TEXT PRIMARY KEY,
    name_en TEXT NOT NULL,
    name_km TEXT NOT NULL,
    builtin INTEGER NOT NULL DEFAULT 0
);
INSERT INTO exit_reasons (code, name_en, name_km, builtin) VALUES
    ('resigned', 'Resigned', 'លាលែងពីការងារ', 1),
    ('moved_to_ngo', 'Moved to an NGO', 'ផ្លាស់ទៅអង្គការមិនមែនរដ្ឋាភិបាល', 1),
    ('moved_to_government', 'Moved to government', 'ផ្លាស់ទៅរដ្ឋាភិបាល', 1),
    ('moved_to_private', 'Moved to the private sector', 'ផ្លាស់ទៅវិស័យឯកជន', 1),
    ('end_of_term', 'End of elected term', 'ផុតអាណត្តិជាប់ឆ្នោត', 1),
    ('end_of_contract', 'End of contract', 'ផុតកិច្ចសន្យា', 1),
    ('retirement', 'Retirement', 'ចូលនិវត្តន៍', 1),
    ('death', 'Death', 'មរណភាព', 1),
    ('health', 'Health', 'សុខភាព', 1),
    ('family', 'Family reasons', 'មូលហេតុគ្រួសារ', 1),
    ('dismissed', 'Dismissed', 'ត្រូវបានបញ្ឈប់', 1),
    ('other', 'Other', 'ផ្សេងៗ', 1);
ALTER TABLE status_changes ADD COLUMN reason TEXT REFERENCES exit_reasons(code);
CREATE INDEX status_changes_effective ON status_changes(effective_date);

-- The end of the current elected term of the Commune Committees for Women and Children's
-- members (one row; NULL until set).
CREATE TABLE retention_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ccwc_term_end TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO retention_settings (id, ccwc_term_end, updated_by, updated_at) VALUES (1, NULL, 'komlang', '2026-01-01T00:00:00Z');
