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

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadWorkers,
    WriteWorkers,
    DeleteWorkers,
    ReadOrgs,
    WriteOrgs,
    ViewAudit,
    ManageUsers,
    /// Keep institutions, programmes, modules and courses, training targets and licensing rules.
    ManageTrainingCatalogue,
    /// Run training events in the geographic scope: participants, attendance, results, RPL/RCC.
    RunTraining,
    /// Issue and revoke certificates; decide licence applications, suspend, lapse, revoke.
    Certify,
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
    pub fn can(&self, p: Permission) -> bool {
        use Permission::*;
        use UserRole::*;
        matches!(
            (self.role, p),
            (NationalAdmin, _)
                | (NationalViewer, ReadWorkers | ReadOrgs)
                | (
                    ProvincialOfficer | DistrictOfficer,
                    ReadWorkers | WriteWorkers | ReadOrgs | WriteOrgs | RunTraining
                )
                | (OrgHrManager | Worker, ReadWorkers | WriteWorkers | ReadOrgs)
        )
    }

    /// Sees training events (within its geographic scope): every role that reads worker records
    /// except `worker`, whose own trainings are in their transcript.
    pub fn sees_training_events(&self) -> bool {
        self.can(Permission::ReadWorkers) && self.role != UserRole::Worker
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

    /// True when the principal may only change the fields a worker may change
    /// on their own profile.
    pub fn self_service_only(&self) -> bool {
        self.role == UserRole::Worker
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
    fn only_admins_see_audit_and_manage_users() {
        for r in UserRole::ALL {
            assert_eq!(p(*r).can(Permission::ViewAudit), *r == UserRole::NationalAdmin);
            assert_eq!(p(*r).can(Permission::ManageUsers), *r == UserRole::NationalAdmin);
        }
        assert!(!p(UserRole::NationalViewer).can(Permission::WriteWorkers));
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
