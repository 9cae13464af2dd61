//! Field placements and internships (seed 002 L1057-1059): students placed at a DoSVY, a
//! district office or an NGO with a supervisor and dates; the pool of graduates and interns a
//! round can draw on.

use chrono::{Datelike, NaiveDate};
use komlang_core::hiring::PlacementKind;
use komlang_core::{Action, EducationLevel, FieldError, Principal, Sex, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::common::scope::{push_area, worker_in_reach};
use crate::common::sql::Sql;
use crate::{now_text, Result, Store, StoreError};

/// A placement to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementInput {
    pub kind: PlacementKind,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    pub national_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// RUPP, NISA, …
    pub institution: String,
    #[serde(default)]
    pub programme: Option<String>,
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub education_level: Option<EducationLevel>,
    /// Where they are placed (a province for a DoSVY, a district for a district office).
    pub host_admin_code: String,
    /// The hosting organization (an NGO).
    #[serde(default)]
    pub host_org_id: Option<i64>,
    /// The worker who supervises them there.
    #[serde(default)]
    pub supervisor_worker_id: Option<i64>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// The year they graduate (or graduated).
    #[serde(default)]
    pub graduated_year: Option<i32>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A placement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Placement {
    pub id: i64,
    pub kind: PlacementKind,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    pub institution: String,
    pub programme: Option<String>,
    pub education_level: Option<EducationLevel>,
    pub host_admin_code: String,
    pub host_org_id: Option<i64>,
    pub supervisor_worker_id: Option<i64>,
    pub start_date: String,
    pub end_date: String,
    pub graduated_year: Option<i32>,
    pub notes: Option<String>,
    /// A worker record with the same national ID exists (they were hired).
    pub hired: bool,
}

/// Reads placements: who runs recruitment or records placements, in their scope.
fn may_read(p: &Principal) -> bool {
    p.may(Action::ReadRecruitment) || p.may(Action::KeepPlacements)
}

const COLS: &str = "pl.id, pl.kind, pl.name_km, pl.name_latin, pl.sex, pl.institution, pl.programme, pl.education_level, \
    pl.host_admin_code, pl.host_org_id, pl.supervisor_worker_id, pl.start_date, pl.end_date, pl.graduated_year, pl.notes, \
    (SELECT COUNT(*) FROM workers w WHERE pl.national_id IS NOT NULL AND w.national_id = pl.national_id) AS hired";

fn in_reach(sql: &mut Sql, p: &Principal) {
    push_area(sql, &p.scope);
    if let (Some(org), komlang_core::UserRole::OrgHrManager) = (p.org_id, p.role) {
        sql.push(" AND pl.host_org_id = ").int(org);
    }
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Placement> {
    let education: Option<String> = r.try_get("education_level")?;
    Ok(Placement {
        id: r.try_get("id")?,
        kind: parse_col(r, "kind", PlacementKind::parse)?,
        name_km: r.try_get("name_km")?,
        name_latin: r.try_get("name_latin")?,
        sex: parse_col(r, "sex", Sex::parse)?,
        institution: r.try_get("institution")?,
        programme: r.try_get("programme")?,
        education_level: education.as_deref().and_then(EducationLevel::parse),
        host_admin_code: r.try_get("host_admin_code")?,
        host_org_id: r.try_get("host_org_id")?,
        supervisor_worker_id: r.try_get("supervisor_worker_id")?,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        graduated_year: r.try_get::<Option<i64>, _>("graduated_year")?.and_then(|y| i32::try_from(y).ok()),
        notes: r.try_get("notes")?,
        hired: r.try_get::<i64, _>("hired")? > 0,
    })
}

/// A placement's row in the caller's reach.
pub(crate) async fn placement_row(
    conn: &mut AnyConnection,
    p: &Principal,
    id: i64,
) -> Result<Option<sqlx::any::AnyRow>> {
    if !may_read(p) {
        return Ok(None);
    }
    let mut sql =
        Sql::new("SELECT pl.* FROM placements pl JOIN admin_units u ON u.code = pl.host_admin_code WHERE pl.id = ");
    sql.int(id);
    in_reach(&mut sql, p);
    Ok(sql.query().fetch_optional(&mut *conn).await?)
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(komlang_core::clean_text).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Store {
    /// Placements in the caller's reach, the latest first: all, or only the pool a round draws
    /// on (`pool`: placements that ended within the last three years or graduates of the last
    /// three years, not yet hired).
    pub async fn placements(&self, p: &Principal, pool: bool, today: NaiveDate) -> Result<Vec<Placement>> {
        if !may_read(p) {
            return Err(StoreError::Forbidden);
        }
        let mut sql = Sql::new(&format!(
            "SELECT {COLS} FROM placements pl JOIN admin_units u ON u.code = pl.host_admin_code WHERE 1 = 1"
        ));
        in_reach(&mut sql, p);
        if pool {
            let since = NaiveDate::from_ymd_opt(today.year() - 3, today.month(), 1).unwrap_or(today);
            sql.push(" AND (pl.end_date >= ").text(since.to_string());
            sql.push(" OR pl.graduated_year >= ").int(i64::from(today.year() - 3)).push(")");
            sql.push(
                " AND NOT EXISTS (SELECT 1 FROM workers w WHERE pl.national_id IS NOT NULL AND w.national_id = pl.national_id)",
            );
        }
        sql.push(" ORDER BY pl.start_date DESC, pl.id DESC LIMIT 2000");
        sql.query().fetch_all(&self.pool).await?.iter().map(from_row).collect()
    }

    /// Records a placement hosted in the caller's scope (an NGO's HR manager: at their
    /// organization). Audited.
    pub async fn create_placement(&self, p: &Principal, input: &PlacementInput) -> Result<Placement> {
        p.require(Action::KeepPlacements, Target::Any)?;
        let mut errs = ValidationErrors::default();
        let (name_km, name_latin) = komlang_core::validate::person_names(
            &mut errs,
            &Some(input.name_km.clone()),
            &Some(input.name_latin.clone()),
        );
        let institution = text(&Some(input.institution.clone()));
        match &institution {
            None => errs.push(FieldError::new("institution", "required")),
            Some(v) if v.chars().count() > 200 => {
                errs.push(FieldError::new("institution", "too_long").with("max", 200));
            }
            _ => {}
        }
        if input.end_date < input.start_date {
            errs.push(FieldError::new("end_date", "before_start"));
        }
        if input.graduated_year.is_some_and(|y| !(1950..=2100).contains(&y)) {
            errs.push(FieldError::new("graduated_year", "invalid_year"));
        }
        if text(&input.national_id).is_some_and(|n| !komlang_core::validate::is_national_id(&n)) {
            errs.push(FieldError::new("national_id", "invalid_national_id"));
        }
        let notes = text(&input.notes);
        if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            errs.push(FieldError::new("notes", "too_long").with("max", 2000));
        }
        match self.admin_unit(input.host_admin_code.trim()).await? {
            Some(u) if p.scope.contains(&u) => {}
            Some(_) => errs.push(FieldError::new("host_admin_code", "out_of_scope")),
            None => errs.push(
                FieldError::new("host_admin_code", "unknown_admin_unit").with("value", input.host_admin_code.trim()),
            ),
        }
        let org = match (p.role, p.org_id) {
            (komlang_core::UserRole::OrgHrManager, Some(own)) => {
                if input.host_org_id.is_some_and(|o| o != own) {
                    errs.push(FieldError::new("host_org_id", "must_be_own_organization"));
                }
                Some(own)
            }
            _ => input.host_org_id,
        };
        if let Some(o) = org {
            if self.get_org(p, o).await?.is_none() {
                errs.push(FieldError::new("host_org_id", "unknown_organization"));
            }
        }
        let mut tx = self.begin_write().await?;
        if let Some(w) = input.supervisor_worker_id {
            if !worker_in_reach(&mut tx, p, w).await? {
                errs.push(FieldError::new("supervisor_worker_id", "unknown_worker").with("value", w));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO placements (kind, name_km, name_latin, sex, date_of_birth, national_id, phone, institution, \
             programme, education_level, host_admin_code, host_org_id, supervisor_worker_id, start_date, end_date, \
             graduated_year, notes, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
        )
        .bind(input.kind.code())
        .bind(&name_km)
        .bind(&name_latin)
        .bind(input.sex.code())
        .bind(input.date_of_birth.map(|d| d.to_string()))
        .bind(text(&input.national_id))
        .bind(text(&input.phone))
        .bind(&institution)
        .bind(text(&input.programme))
        .bind(input.education_level.map(|e| e.code()))
        .bind(input.host_admin_code.trim())
        .bind(org)
        .bind(input.supervisor_worker_id)
        .bind(input.start_date.to_string())
        .bind(input.end_date.to_string())
        .bind(input.graduated_year.map(i64::from))
        .bind(&notes)
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let after = serde_json::json!({
            "kind": input.kind, "name_latin": name_latin, "institution": institution,
            "host_admin_code": input.host_admin_code.trim(), "host_org_id": org,
            "supervisor_worker_id": input.supervisor_worker_id, "start_date": input.start_date, "end_date": input.end_date,
        });
        record_audit(&mut tx, p, "create", "placement", &id.to_string(), None, Some(&after)).await?;
        let mut sql = Sql::new(&format!("SELECT {COLS} FROM placements pl WHERE pl.id = "));
        sql.int(id);
        let row = sql.query().fetch_one(&mut *tx).await?;
        let out = from_row(&row)?;
        tx.commit().await?;
        Ok(out)
    }
}
