//! Worker and organization records and their coded vocabularies.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a closed vocabulary stored as a stable text code.
/// Each variant has a code (stored in the database and used in the API) and
/// its label key `<prefix>.<code>` is looked up in the translation files.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $prefix:literal { $($variant:ident => $code:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Prefix of this vocabulary's translation keys.
            pub const LABEL_PREFIX: &'static str = $prefix;

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s.trim() { $($code => Some($name::$variant),)+ _ => None }
            }

            /// Translation key of this value's label, e.g. `cadre.para_social_worker`.
            pub fn label_key(self) -> String {
                format!("{}.{}", $prefix, self.code())
            }

            pub fn codes() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.code()).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// Sex as recorded on the national ID card.
    Sex, "sex" { Female => "female", Male => "male" }
);

vocabulary!(
    /// Cadres of the social service workforce (NISA Strategic Plan 2021-2025, section 1.5 and Table 11).
    Cadre, "cadre" {
        Professional => "professional_social_worker",
        ParaProfessional => "para_professional",
        ParaSocialWorker => "para_social_worker",
        Allied => "allied_worker",
    }
);

vocabulary!(
    /// What the worker does (structure of the SSW for child care and protection, seed 002 Figure 5).
    WorkerRole, "role" {
        MosvyOfficer => "mosvy_officer",
        MosvyChildProtectionOfficer => "mosvy_child_protection_officer",
        NisaLecturer => "nisa_lecturer",
        DosvyCaseManagementOfficer => "dosvy_case_management_officer",
        DosvyChildProtectionOfficer => "dosvy_child_protection_officer",
        DosvyOfficer => "dosvy_officer",
        DistrictSocialWorker => "district_social_worker",
        DistrictOfficer => "district_officer",
        CcwcFocalPoint => "ccwc_focal_point",
        CcwcMember => "ccwc_member",
        SocialWorkAgent => "social_work_agent",
        NgoCaseWorker => "ngo_case_worker",
        NgoSocialWorker => "ngo_social_worker",
        NgoManager => "ngo_manager",
        AlliedPolice => "allied_police",
        AlliedTeacher => "allied_teacher",
        AlliedHealth => "allied_health",
        Other => "other",
    }
);

vocabulary!(
    /// Employment sector.
    Sector, "sector" { Government => "government", Ngo => "ngo", Private => "private", Volunteer => "volunteer" }
);

vocabulary!(
    /// Employment status; every change is kept in the worker's status history.
    EmploymentStatus, "status" {
        Active => "active",
        OnLeave => "on_leave",
        Transferred => "transferred",
        Left => "left",
        Retired => "retired",
        Deceased => "deceased",
    }
);

impl EmploymentStatus {
    /// Statuses under which the worker no longer holds the post.
    pub fn is_separated(self) -> bool {
        matches!(self, Self::Transferred | Self::Left | Self::Retired | Self::Deceased)
    }
}

vocabulary!(
    /// Highest education completed (Cambodia Qualifications Framework levels used by NISA).
    EducationLevel, "education" {
        Primary => "primary",
        LowerSecondary => "lower_secondary",
        UpperSecondary => "upper_secondary",
        VocationalCertificate => "vocational_certificate",
        Tvc1 => "tvc1",
        Tvc2 => "tvc2",
        Tvc3 => "tvc3",
        Associate => "associate",
        Bachelor => "bachelor",
        Master => "master",
        Doctorate => "doctorate",
    }
);

vocabulary!(
    /// Field of the highest education.
    EducationField, "field" { SocialWork => "social_work", Other => "other" }
);

vocabulary!(
    /// Kinds of organization that employ social service workers.
    OrgKind, "org_kind" {
        Ministry => "ministry",
        MinistryDepartment => "ministry_department",
        ProvincialDepartment => "provincial_department",
        DistrictOffice => "district_office",
        TrainingInstitute => "training_institute",
        CommuneCommittee => "commune_committee",
        Ngo => "ngo",
        OtherGovernment => "other_government",
        Private => "private",
    }
);

/// A record that carries a version (`migrations/*/0010_record_versions.sql`): its `ETag`.
pub trait Versioned {
    fn version(&self) -> i64;
}

/// Implements [`Versioned`] for record types with a `version: i64` field.
#[macro_export]
macro_rules! versioned {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::Versioned for $t {
            fn version(&self) -> i64 {
                self.version
            }
        })*
    };
}

versioned!(Worker, Organization);

/// A worker as stored, with the current posting and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Worker {
    pub id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<NaiveDate>,
    pub national_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub sector: Sector,
    pub org_id: Option<i64>,
    pub position_title: Option<String>,
    /// Admin unit code of the current workplace.
    pub workplace_code: String,
    pub status: EmploymentStatus,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<NaiveDate>,
    pub education_level: Option<EducationLevel>,
    pub education_field: Option<EducationField>,
    /// True for the synthetic people of the demo data set.
    pub synthetic: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Raised by every change of the record: send it back (`If-Match`, a form's `version`)
    /// to change the record only if nobody else has changed it meanwhile.
    pub version: i64,
}

/// The validated content of a worker record (what create and update write).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerDraft {
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    pub date_of_birth: Option<NaiveDate>,
    pub national_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub sector: Sector,
    pub org_id: Option<i64>,
    pub position_title: Option<String>,
    pub workplace_code: String,
    pub status: EmploymentStatus,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub education_level: Option<EducationLevel>,
    pub education_field: Option<EducationField>,
}

impl Worker {
    pub fn draft(&self) -> WorkerDraft {
        WorkerDraft {
            name_km: self.name_km.clone(),
            name_latin: self.name_latin.clone(),
            sex: self.sex,
            date_of_birth: self.date_of_birth,
            national_id: self.national_id.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            cadre: self.cadre,
            role: self.role,
            sector: self.sector,
            org_id: self.org_id,
            position_title: self.position_title.clone(),
            workplace_code: self.workplace_code.clone(),
            status: self.status,
            start_date: self.start_date,
            end_date: self.end_date,
            education_level: self.education_level,
            education_field: self.education_field,
        }
    }
}

impl WorkerDraft {
    /// True when the change moves the worker to another post (employer, role,
    /// position or workplace): the current posting closes and a new one opens.
    pub fn posting_differs(&self, other: &WorkerDraft) -> bool {
        self.org_id != other.org_id
            || self.role != other.role
            || self.position_title != other.position_title
            || self.workplace_code != other.workplace_code
    }
}

/// One posting: where and as what a worker served, from when until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Posting {
    pub id: i64,
    pub worker_id: i64,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub role: WorkerRole,
    pub position_title: Option<String>,
    pub workplace_code: String,
    pub workplace_name_en: Option<String>,
    pub workplace_name_km: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<NaiveDate>,
}

/// One change of employment status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusChange {
    pub id: i64,
    pub worker_id: i64,
    pub status: EmploymentStatus,
    #[schema(value_type = String, format = Date)]
    pub effective_date: NaiveDate,
    pub note: Option<String>,
    pub recorded_at: String,
    pub recorded_by: Option<String>,
    /// For a separation, why the worker left: an exit reason's code, once given.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An employer or a government office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    pub id: i64,
    pub name_km: Option<String>,
    pub name_en: String,
    pub kind: OrgKind,
    pub registration_no: Option<String>,
    /// Admin unit code where the organization sits.
    pub admin_code: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Raised by every change of the record: send it back (`If-Match`, a form's `version`)
    /// to change the record only if nobody else has changed it meanwhile.
    pub version: i64,
}

/// The validated content of an organization record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgDraft {
    pub name_km: Option<String>,
    pub name_en: String,
    pub kind: OrgKind,
    pub registration_no: Option<String>,
    pub admin_code: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Organization {
    pub fn draft(&self) -> OrgDraft {
        OrgDraft {
            name_km: self.name_km.clone(),
            name_en: self.name_en.clone(),
            kind: self.kind,
            registration_no: self.registration_no.clone(),
            admin_code: self.admin_code.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_for_every_vocabulary() {
        for c in Cadre::ALL {
            assert_eq!(Cadre::parse(c.code()), Some(*c));
        }
        for s in EmploymentStatus::ALL {
            assert_eq!(EmploymentStatus::parse(s.code()), Some(*s));
        }
        for r in WorkerRole::ALL {
            assert_eq!(WorkerRole::parse(r.code()), Some(*r));
        }
        assert_eq!(Cadre::parse("nurse"), None);
        assert_eq!(Cadre::ParaSocialWorker.label_key(), "cadre.para_social_worker");
    }

    #[test]
    fn serde_uses_codes() {
        let v = serde_json::to_value(Sector::Ngo).unwrap();
        assert_eq!(v, serde_json::json!("ngo"));
        let s: EmploymentStatus = serde_json::from_value(serde_json::json!("on_leave")).unwrap();
        assert_eq!(s, EmploymentStatus::OnLeave);
    }
}
