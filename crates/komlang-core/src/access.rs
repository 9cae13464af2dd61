//! Who may see and change what. A principal carries a role, a geographic
//! scope and optionally an organization; the store turns [`WorkerScope`] into
//! SQL so that records outside it are never shown, counted or changed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::admin::{AdminLevel, AdminUnit};
use crate::model::vocabulary;

vocabulary!(
    /// Account roles.
    UserRole, "user_role" {
        NationalAdmin => "national-admin",
        NationalViewer => "national-viewer",
        ProvincialOfficer => "provincial-officer",
        DistrictOfficer => "district-officer",
        OrgHrManager => "org-hr-manager",
        Worker => "worker",
    }
);

impl UserRole {
    /// The admin level a role's scope must be at (None: the whole country).
    pub fn required_scope_level(self) -> Option<AdminLevel> {
        match self {
            UserRole::ProvincialOfficer => Some(AdminLevel::Province),
            UserRole::DistrictOfficer => Some(AdminLevel::District),
            _ => None,
        }
    }
}

/// The geographic reach of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    Nation,
    Unit { code: String, level: AdminLevel },
}

impl Scope {
    pub fn of(unit: Option<&AdminUnit>) -> Scope {
        match unit {
            None => Scope::Nation,
            Some(u) if u.level == AdminLevel::Country => Scope::Nation,
            Some(u) => Scope::Unit { code: u.code.clone(), level: u.level },
        }
    }

    pub fn contains(&self, unit: &AdminUnit) -> bool {
        match self {
            Scope::Nation => true,
            Scope::Unit { code, level } => match level {
                AdminLevel::Country => true,
                AdminLevel::Province => unit.province_code.as_deref() == Some(code),
                AdminLevel::District => unit.district_code.as_deref() == Some(code),
                AdminLevel::Commune => unit.commune_code.as_deref() == Some(code),
                AdminLevel::Village => &unit.code == code,
            },
        }
    }
}

/// Every action a user can take in Komlang. The one table of who may take which
/// action is [`RULES`]; [`Principal::require`] and [`Principal::may`] answer from it, and
/// the store, the pages, the API and the CLI ask only them. Which records an action
/// reaches (the account's geographic and organizational scope) is decided in SQL by the
/// store through [`WorkerScope`] and [`OrgScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // Workers
    ReadWorkers,
    CreateWorker,
    EditWorker,
    EditOwnContact,
    DeleteWorker,
    SetSupervisor,
    ReadSupervision,
    RecordSupervision,
    // Organizations
    ReadOrgs,
    EditOrg,
    DeleteOrg,
    // Imports
    ImportWorkers,
    ImportOrgs,
    ImportPopulation,
    ReadAllImports,
    // Competencies
    SelfAssess,
    AssessWorker,
    DeleteAnyAssessment,
    KeepFramework,
    // Performance
    ReadAppraisals,
    Appraise,
    SelfAppraise,
    // Planning
    ReadPlanning,
    MakePlans,
    KeepNorms,
    // Hiring
    ReadRecruitment,
    RunRecruitment,
    KeepPlacements,
    // The establishment
    KeepEstablishment,
    FillPosts,
    KeepCosts,
    // Caseloads from the case systems
    ReadCaseloads,
    ImportCaseloads,
    LinkCaseOwners,
    // Training and licensing
    ReadTrainingEvents,
    RunTraining,
    KeepTrainingCatalogue,
    IssueCertificate,
    ApplyLicence,
    DecideLicence,
    // Accounts and audit
    ReadAudit,
    ManageAccounts,
    ChangePassword,
}

/// How far a role holds an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grant {
    /// Not at all.
    No,
    /// On every record in the account's scope (the store filters by scope).
    Scope,
    /// Only on the account's own worker record or its own account.
    Own,
    /// Only on the workers the account supervises (set on the worker's record).
    Supervisees,
}

/// What an action is done to, as far as the rules need to know. Whether a record lies
/// in the caller's scope is the store's question (it answers 404 outside it); the rules
/// only tell the caller's own record and supervisees apart from the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// No particular record: a list, a new record, reference data.
    Any,
    /// One worker's record; `supervised` when the caller is the worker's supervisor.
    Worker { id: i64, supervised: bool },
    /// One account (by user id).
    Account(i64),
}

impl Target {
    /// A worker's record the caller does not supervise (or whose supervision does not matter).
    pub fn worker(id: i64) -> Target {
        Target::Worker { id, supervised: false }
    }
}

/// Refused: the account's role does not hold `action` on that target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not allowed: {}", .action.code())]
pub struct Denied {
    pub action: Action,
}

/// One row of the rules: an action, what it means, and each role's grant in the order
/// of [`UserRole::ALL`] (national-admin, national-viewer, provincial-officer,
/// district-officer, org-hr-manager, worker).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub action: Action,
    pub meaning: &'static str,
    pub grants: [Grant; 6],
}

const fn rule(action: Action, meaning: &'static str, grants: [Grant; 6]) -> Rule {
    Rule { action, meaning, grants }
}

use Grant::{No as N, Own as O, Scope as S, Supervisees as V};

/// Who may do what: the one place. Columns: national-admin, national-viewer,
/// provincial-officer, district-officer, org-hr-manager, worker.
/// `docs/access.md` carries this table; a test keeps the two equal.
pub const RULES: &[Rule] = &[
    rule(
        Action::ReadWorkers,
        "read worker records, their postings, transcripts, certificates and licences",
        [S, S, S, S, S, O],
    ),
    rule(Action::CreateWorker, "add a worker", [S, N, S, S, S, N]),
    rule(Action::EditWorker, "change another's record (every field, posting and status)", [S, N, S, S, S, N]),
    rule(Action::EditOwnContact, "change one's own phone, email and education", [N, N, N, N, N, O]),
    rule(Action::DeleteWorker, "delete a worker record entered by mistake", [S, N, N, N, N, N]),
    rule(
        Action::SetSupervisor,
        "set or remove a worker's supervisor (an account, or a worker who supervises)",
        [S, N, S, S, S, N],
    ),
    rule(
        Action::ReadSupervision,
        "read who supervises whom, supervision sessions, the supervision lists and figures",
        [S, S, S, S, S, O],
    ),
    rule(Action::RecordSupervision, "record a supervision session (a worker: one they held)", [S, N, S, S, S, O]),
    rule(Action::ReadOrgs, "read organizations", [S, S, S, S, O, O]),
    rule(Action::EditOrg, "add or change an organization", [S, N, S, S, N, N]),
    rule(Action::DeleteOrg, "delete an organization entered by mistake", [S, N, N, N, N, N]),
    rule(Action::ImportWorkers, "import workers from CSV or XLSX", [S, N, S, S, S, N]),
    rule(Action::ImportOrgs, "import organizations from CSV or XLSX", [S, N, S, S, N, N]),
    rule(Action::ImportPopulation, "import population figures", [S, N, N, N, N, N]),
    rule(Action::ReadAllImports, "see every account's imports (others see their own)", [S, N, N, N, N, N]),
    rule(Action::SelfAssess, "record one's own competency self-assessment", [N, N, N, N, N, O]),
    rule(Action::AssessWorker, "record a supervisor's or end-of-training assessment", [S, V, S, S, S, V]),
    rule(Action::DeleteAnyAssessment, "delete any assessment entered by mistake", [S, N, N, N, N, N]),
    rule(
        Action::KeepFramework,
        "load a competency framework or job description version, set required levels",
        [S, N, N, N, N, N],
    ),
    rule(
        Action::ReadAppraisals,
        "read appraisals and the lists of who is due or overdue (a worker: their own, and as a supervisor their supervisees')",
        [S, S, S, S, S, O],
    ),
    rule(
        Action::Appraise,
        "start, fill in and complete a worker's appraisal and its agreed actions (a worker: as the supervisor)",
        [S, N, S, S, S, V],
    ),
    rule(Action::SelfAppraise, "write one's own self-appraisal in an open appraisal", [N, N, N, N, N, O]),
    rule(Action::ReadPlanning, "read coverage, norms, plans, supply and the establishment", [S, S, S, S, N, N]),
    rule(Action::MakePlans, "make and save deployment plans", [S, N, S, S, N, N]),
    rule(
        Action::KeepNorms,
        "keep norms (staffing, supervision, appraisal cycle), indicators, caseloads and vacancies, caseload thresholds",
        [S, N, N, N, N, N],
    ),
    rule(
        Action::ReadRecruitment,
        "read recruitment rounds of one's area (national: national accounts; a province's: also its officers), their candidates and ranking, and field placements",
        [S, S, S, S, N, N],
    ),
    rule(
        Action::RunRecruitment,
        "open and close recruitment rounds, enter candidates, record exam and interview scores, appoint (national rounds: national administrators)",
        [S, N, S, N, N, N],
    ),
    rule(Action::KeepPlacements, "record field placements and internships hosted in scope", [S, N, S, S, S, N]),
    rule(
        Action::KeepEstablishment,
        "approve and end posts, approve a plan's posts, record past years' totals",
        [S, N, N, N, N, N],
    ),
    rule(Action::FillPosts, "fill a post with a worker posted there, or leave it vacant", [S, N, S, S, N, N]),
    rule(
        Action::KeepCosts,
        "keep salary scales, allowances, currencies and rates, and how each cadre's posts are costed",
        [S, N, N, N, N, N],
    ),
    rule(
        Action::ReadCaseloads,
        "read caseloads by unit and the workers above their caseload threshold",
        [S, S, S, S, N, N],
    ),
    rule(Action::ImportCaseloads, "import case lists from Primero or OSCaR", [S, N, N, N, N, N]),
    rule(
        Action::LinkCaseOwners,
        "link a case system's user to a worker (a worker in scope), or unlink them",
        [S, N, S, S, N, N],
    ),
    rule(Action::ReadTrainingEvents, "read training events", [S, S, S, S, S, N]),
    rule(Action::RunTraining, "run training events: participants, attendance, results, RPL/RCC", [S, N, S, S, N, N]),
    rule(
        Action::KeepTrainingCatalogue,
        "keep institutions, programmes, modules, targets and licensing rules",
        [S, N, N, N, N, N],
    ),
    rule(Action::IssueCertificate, "issue and revoke certificates", [S, N, N, N, N, N]),
    rule(Action::ApplyLicence, "apply for a worker's licence", [S, N, S, S, S, O]),
    rule(Action::DecideLicence, "decide, renew, suspend, reinstate, lapse and revoke licences", [S, N, N, N, N, N]),
    rule(Action::ReadAudit, "read the audit log", [S, N, N, N, N, N]),
    rule(Action::ManageAccounts, "create accounts, set their role, scope and password", [S, N, N, N, N, N]),
    rule(Action::ChangePassword, "change an account's password", [S, O, O, O, O, O]),
];

impl Action {
    /// Every action (each has one row in [`RULES`], in this order).
    pub const ALL: &'static [Action] = &[
        Action::ReadWorkers,
        Action::CreateWorker,
        Action::EditWorker,
        Action::EditOwnContact,
        Action::DeleteWorker,
        Action::SetSupervisor,
        Action::ReadSupervision,
        Action::RecordSupervision,
        Action::ReadOrgs,
        Action::EditOrg,
        Action::DeleteOrg,
        Action::ImportWorkers,
        Action::ImportOrgs,
        Action::ImportPopulation,
        Action::ReadAllImports,
        Action::SelfAssess,
        Action::AssessWorker,
        Action::DeleteAnyAssessment,
        Action::KeepFramework,
        Action::ReadAppraisals,
        Action::Appraise,
        Action::SelfAppraise,
        Action::ReadPlanning,
        Action::MakePlans,
        Action::KeepNorms,
        Action::ReadRecruitment,
        Action::RunRecruitment,
        Action::KeepPlacements,
        Action::KeepEstablishment,
        Action::FillPosts,
        Action::KeepCosts,
        Action::ReadCaseloads,
        Action::ImportCaseloads,
        Action::LinkCaseOwners,
        Action::ReadTrainingEvents,
        Action::RunTraining,
        Action::KeepTrainingCatalogue,
        Action::IssueCertificate,
        Action::ApplyLicence,
        Action::DecideLicence,
        Action::ReadAudit,
        Action::ManageAccounts,
        Action::ChangePassword,
    ];

    /// The action's name as written in docs, errors and the API (`edit_worker`).
    pub fn code(self) -> &'static str {
        match self {
            Action::ReadWorkers => "read_workers",
            Action::CreateWorker => "create_worker",
            Action::EditWorker => "edit_worker",
            Action::EditOwnContact => "edit_own_contact",
            Action::DeleteWorker => "delete_worker",
            Action::SetSupervisor => "set_supervisor",
            Action::ReadSupervision => "read_supervision",
            Action::RecordSupervision => "record_supervision",
            Action::ReadOrgs => "read_orgs",
            Action::EditOrg => "edit_org",
            Action::DeleteOrg => "delete_org",
            Action::ImportWorkers => "import_workers",
            Action::ImportOrgs => "import_orgs",
            Action::ImportPopulation => "import_population",
            Action::ReadAllImports => "read_all_imports",
            Action::SelfAssess => "self_assess",
            Action::AssessWorker => "assess_worker",
            Action::DeleteAnyAssessment => "delete_any_assessment",
            Action::KeepFramework => "keep_framework",
            Action::ReadAppraisals => "read_appraisals",
            Action::Appraise => "appraise",
            Action::SelfAppraise => "self_appraise",
            Action::ReadPlanning => "read_planning",
            Action::MakePlans => "make_plans",
            Action::KeepNorms => "keep_norms",
            Action::ReadRecruitment => "read_recruitment",
            Action::RunRecruitment => "run_recruitment",
            Action::KeepPlacements => "keep_placements",
            Action::KeepEstablishment => "keep_establishment",
            Action::FillPosts => "fill_posts",
            Action::KeepCosts => "keep_costs",
            Action::ReadCaseloads => "read_caseloads",
            Action::ImportCaseloads => "import_caseloads",
            Action::LinkCaseOwners => "link_case_owners",
            Action::ReadTrainingEvents => "read_training_events",
            Action::RunTraining => "run_training",
            Action::KeepTrainingCatalogue => "keep_training_catalogue",
            Action::IssueCertificate => "issue_certificate",
            Action::ApplyLicence => "apply_licence",
            Action::DecideLicence => "decide_licence",
            Action::ReadAudit => "read_audit",
            Action::ManageAccounts => "manage_accounts",
            Action::ChangePassword => "change_password",
        }
    }

    fn rule(self) -> &'static Rule {
        // RULES has one row per action (tested); the fallback row grants nothing.
        const NOTHING: Rule = rule(Action::ManageAccounts, "", [N, N, N, N, N, N]);
        RULES.iter().find(|r| r.action == self).unwrap_or(&NOTHING)
    }
}

impl UserRole {
    /// This role's grant of `action`, from [`RULES`].
    pub fn grant(self, action: Action) -> Grant {
        let i = UserRole::ALL.iter().position(|r| *r == self).unwrap_or(0);
        action.rule().grants[i]
    }
}

impl Grant {
    /// How the docs write a grant.
    pub fn label(self) -> &'static str {
        match self {
            Grant::No => "—",
            Grant::Scope => "in scope",
            Grant::Own => "own",
            Grant::Supervisees => "supervisees",
        }
    }
}

/// The rules as the Markdown table that `docs/access.md` carries.
pub fn rules_markdown() -> String {
    let mut out = String::from("| action | meaning |");
    for r in UserRole::ALL {
        out.push_str(&format!(" `{}` |", r.code()));
    }
    out.push_str("\n|---|---|");
    for _ in UserRole::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for r in RULES {
        out.push_str(&format!("| `{}` | {} |", r.action.code(), r.meaning));
        for g in r.grants {
            out.push_str(&format!(" {} |", g.label()));
        }
        out.push('\n');
    }
    out
}

/// The signed-in account, as every request sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: UserRole,
    pub scope: Scope,
    pub org_id: Option<i64>,
    /// For the `worker` role: the worker record this account belongs to.
    pub worker_id: Option<i64>,
}

/// The set of worker records a principal reaches, for the store to filter by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerScope {
    /// Everything in the geographic scope, optionally only one organization's staff.
    Area {
        scope: Scope,
        org_id: Option<i64>,
    },
    /// Exactly one worker (the `worker` role).
    Own(i64),
    Nothing,
}

impl Principal {
    /// May take `action` on `target`, or why not. Scope (which records are reached) is the
    /// store's, in SQL; this answers whether the role holds the action on such a record.
    pub fn require(&self, action: Action, target: Target) -> Result<(), Denied> {
        let allowed = match self.role.grant(action) {
            Grant::No => false,
            Grant::Scope => true,
            Grant::Own => match target {
                Target::Any => true,
                Target::Worker { id, .. } => self.worker_id == Some(id),
                Target::Account(id) => self.user_id == id,
            },
            Grant::Supervisees => match target {
                Target::Any => true,
                Target::Worker { supervised, .. } => supervised,
                Target::Account(_) => false,
            },
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied { action })
        }
    }

    /// Holds `action` on some record at all (for menus, buttons and early refusals).
    pub fn may(&self, action: Action) -> bool {
        self.role.grant(action) != Grant::No
    }

    /// Holds `action` on every record in scope (not only its own or its supervisees').
    pub fn may_in_scope(&self, action: Action) -> bool {
        self.role.grant(action) == Grant::Scope
    }

    /// May take `action` on `target` (see [`Principal::require`]).
    pub fn allows(&self, action: Action, target: Target) -> bool {
        self.require(action, target).is_ok()
    }

    pub fn worker_scope(&self) -> WorkerScope {
        match self.role {
            UserRole::Worker => match self.worker_id {
                Some(id) => WorkerScope::Own(id),
                None => WorkerScope::Nothing,
            },
            UserRole::OrgHrManager => match self.org_id {
                Some(org) => WorkerScope::Area { scope: self.scope.clone(), org_id: Some(org) },
                None => WorkerScope::Nothing,
            },
            _ => WorkerScope::Area { scope: self.scope.clone(), org_id: None },
        }
    }

    /// Organizations a principal may see: those in its geographic scope; an
    /// organization-scoped account sees only its own organization; a worker
    /// sees their employer.
    pub fn org_scope(&self) -> OrgScope {
        match self.role {
            UserRole::OrgHrManager | UserRole::Worker => match self.org_id {
                Some(id) => OrgScope::One(id),
                None => OrgScope::Nothing,
            },
            _ => OrgScope::Area(self.scope.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    Area(Scope),
    One(i64),
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: UserRole) -> Principal {
        Principal { user_id: 1, username: "u".into(), role, scope: Scope::Nation, org_id: None, worker_id: None }
    }

    #[test]
    fn every_action_has_exactly_one_rule_in_order() {
        let ruled: Vec<Action> = RULES.iter().map(|r| r.action).collect();
        assert_eq!(ruled, Action::ALL.to_vec());
        let codes: std::collections::BTreeSet<&str> = Action::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(codes.len(), Action::ALL.len(), "action codes are unique");
        // The grant columns follow this role order.
        assert_eq!(
            UserRole::codes(),
            ["national-admin", "national-viewer", "provincial-officer", "district-officer", "org-hr-manager", "worker"]
        );
    }

    #[test]
    fn only_admins_read_audit_and_manage_accounts() {
        for r in UserRole::ALL {
            assert_eq!(p(*r).may(Action::ReadAudit), *r == UserRole::NationalAdmin);
            assert_eq!(p(*r).may(Action::ManageAccounts), *r == UserRole::NationalAdmin);
            assert_eq!(p(*r).may(Action::DeleteWorker), *r == UserRole::NationalAdmin);
        }
        let viewer = p(UserRole::NationalViewer);
        for a in [Action::CreateWorker, Action::EditWorker, Action::EditOrg, Action::ImportWorkers, Action::MakePlans] {
            assert_eq!(viewer.require(a, Target::Any), Err(Denied { action: a }), "{a:?}");
        }
    }

    #[test]
    fn a_worker_changes_only_their_own_contact_details() {
        let mut w = p(UserRole::Worker);
        w.worker_id = Some(7);
        assert!(w.require(Action::EditOwnContact, Target::worker(7)).is_ok());
        assert!(w.require(Action::EditOwnContact, Target::worker(8)).is_err());
        assert!(w.require(Action::EditWorker, Target::worker(7)).is_err());
        assert!(w.require(Action::ApplyLicence, Target::worker(7)).is_ok());
        assert!(w.require(Action::ApplyLicence, Target::worker(8)).is_err());
        assert!(w.require(Action::SelfAssess, Target::worker(7)).is_ok());
        assert!(w.require(Action::ChangePassword, Target::Account(1)).is_ok());
        assert!(w.require(Action::ChangePassword, Target::Account(2)).is_err());
        // An officer changes any record in scope, but never "their own contact" as a worker.
        let officer = p(UserRole::DistrictOfficer);
        assert!(officer.require(Action::EditWorker, Target::worker(8)).is_ok());
        assert!(officer.require(Action::EditOwnContact, Target::worker(8)).is_err());
    }

    #[test]
    fn supervisors_assess_only_their_supervisees() {
        let viewer = p(UserRole::NationalViewer);
        assert!(viewer.require(Action::AssessWorker, Target::Worker { id: 3, supervised: true }).is_ok());
        assert!(viewer.require(Action::AssessWorker, Target::Worker { id: 3, supervised: false }).is_err());
        let hr = p(UserRole::OrgHrManager);
        assert!(hr.require(Action::AssessWorker, Target::Worker { id: 3, supervised: false }).is_ok());
        assert!(!viewer.may_in_scope(Action::AssessWorker));
        assert!(viewer.may(Action::AssessWorker));
    }

    #[test]
    fn imports_follow_what_one_may_create() {
        // Organizations: whoever adds organizations one by one (rows checked against scope).
        for r in UserRole::ALL {
            assert_eq!(p(*r).may(Action::ImportOrgs), p(*r).may(Action::EditOrg), "{r:?}");
            assert_eq!(p(*r).may(Action::ImportWorkers), p(*r).may(Action::CreateWorker), "{r:?}");
            assert_eq!(p(*r).may(Action::ImportPopulation), *r == UserRole::NationalAdmin, "{r:?}");
        }
    }

    #[test]
    fn org_manager_without_org_reaches_nothing() {
        assert_eq!(p(UserRole::OrgHrManager).worker_scope(), WorkerScope::Nothing);
        assert_eq!(p(UserRole::Worker).worker_scope(), WorkerScope::Nothing);
        let mut w = p(UserRole::Worker);
        w.worker_id = Some(7);
        assert_eq!(w.worker_scope(), WorkerScope::Own(7));
    }
}
