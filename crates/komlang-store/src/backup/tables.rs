//! Every table of the schema, in one list: what a backup carries, in an order that satisfies
//! the foreign keys on restore. `tests/backup.rs` compares it with the live schema of both
//! engines (a migration that adds a table fails the suite until the table is listed here), and
//! a backup refuses a database holding a table it does not know.

/// One table of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    pub name: &'static str,
    /// False for what a restore need not bring back: stored sessions (everyone signs in
    /// again), the public pages' rate-limit counters, the worker tallies (which the
    /// database's triggers rebuild as the workers are restored) and the answers kept for
    /// changes sent from the field.
    pub carried: bool,
    /// Rows a new database holds before anyone has used it, written by Komlang itself when it
    /// migrates or starts (reference data, the built-in planning norm, the default training
    /// catalogue), which a restore replaces with the backup's: `Some("1 = 1")` for every row,
    /// or an SQL condition; `None` when a new database has none.
    pub preset: Option<&'static str>,
    /// Columns that refer to the table itself (an admin unit's parent): restored once all of
    /// the table's rows are in, whatever their order in the file.
    pub self_refs: &'static [&'static str],
}

const fn records(name: &'static str) -> TableSpec {
    TableSpec { name, carried: true, preset: None, self_refs: &[] }
}

const fn reference(name: &'static str) -> TableSpec {
    TableSpec { name, carried: true, preset: Some("1 = 1"), self_refs: &[] }
}

const fn not_carried(name: &'static str) -> TableSpec {
    TableSpec { name, carried: false, preset: None, self_refs: &[] }
}

/// The tables, each after every table it refers to (`self_refs` aside).
pub const TABLES: &[TableSpec] = &[
    reference("meta"),
    TableSpec { self_refs: &["parent_code"], ..reference("admin_units") },
    records("organizations"),
    records("workers"),
    // A posting may fill a post, which may come from a saved plan.
    records("planning_plans"),
    records("posts"),
    records("establishment_records"),
    reference("currencies"),
    records("exchange_rates"),
    records("salary_scales"),
    records("allowances"),
    records("worker_ranks"),
    records("cadre_costing"),
    records("training_costs"),
    records("postings"),
    reference("exit_reasons"),
    records("status_changes"),
    reference("retention_settings"),
    reference("recruitment_settings"),
    records("exit_rates"),
    records("users"),
    records("api_tokens"),
    not_carried("sessions"),
    records("login_attempts"),
    records("known_devices"),
    // The one entry a new database holds: the competency framework Komlang loads by itself.
    TableSpec {
        preset: Some(
            "user_id IS NULL AND username = 'komlang' AND action = 'import' AND entity = 'competency_framework'",
        ),
        ..records("audit_log")
    },
    records("imports"),
    records("import_files"),
    records("import_mappings"),
    records("population"),
    records("worker_dedup_keys"),
    reference("competency_frameworks"),
    reference("competency_requirements"),
    records("worker_supervisors"),
    records("supervision_assignments"),
    records("supervision_sessions"),
    records("supervision_attendees"),
    reference("supervision_norms"),
    records("competency_assessments"),
    records("competency_ratings"),
    reference("planning_norms"),
    records("planning_indicators"),
    records("planning_caseloads"),
    records("planning_vacancies"),
    reference("training_institutions"),
    reference("training_programmes"),
    records("training_courses"),
    records("training_events"),
    records("training_participants"),
    records("training_recognitions"),
    records("certificates"),
    reference("training_targets"),
    records("licences"),
    records("licence_actions"),
    reference("job_descriptions"),
    reference("job_functions"),
    reference("appraisal_settings"),
    records("appraisals"),
    records("appraisal_ratings"),
    records("appraisal_actions"),
    records("placements"),
    records("recruitment_rounds"),
    records("round_posts"),
    records("candidates"),
    records("caseload_snapshots"),
    records("caseload_cases"),
    records("case_owner_links"),
    records("caseload_thresholds"),
    not_carried("rate_limits"),
    // Derived from `workers` by the database's triggers: rebuilt as the workers go in.
    not_carried("worker_tallies"),
    // Derived from `workers`, `posts` and `postings` (migration 0017), likewise.
    not_carried("staff_tallies"),
    not_carried("post_tallies"),
    not_carried("post_fill_tallies"),
    // Derived from `workers` and `status_changes` (migration 0019), likewise.
    not_carried("history_tallies"),
    // The FHIR registry's change feed (migration 0024), written by triggers: a restore's
    // inserts write it again (every restored resource reads as changed at the restore).
    not_carried("fhir_changes"),
    // The answers given to changes sent from the field, kept a while so that one sent twice is
    // made once: a restored database starts without them.
    not_carried("field_changes"),
];

/// The table of this name.
pub fn table_spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// Position of a table in [`TABLES`] (restore order).
pub(crate) fn table_index(name: &str) -> Option<usize> {
    TABLES.iter().position(|t| t.name == name)
}

/// True for a name that may be pasted into SQL as an identifier: lower-case ASCII letters,
/// digits and `_`, not starting with a digit. Table and column names come from the schema
/// (checked against [`TABLES`] and the live columns), never from a file unchecked.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for t in TABLES {
            assert!(is_identifier(t.name), "{}", t.name);
            assert!(seen.insert(t.name), "{} listed twice", t.name);
            assert!(t.self_refs.iter().all(|c| is_identifier(c)), "{}", t.name);
        }
        assert!(!is_identifier("workers; DROP TABLE users"));
        assert!(!is_identifier("Workers"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier(""));
    }
}
