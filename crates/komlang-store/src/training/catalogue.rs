//! The catalogue: institutions, certificate programmes, and modules and courses; with the
//! defaults (and the Table 11 targets) written once.

use std::collections::HashMap;

use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::minutes;
use crate::common::audit::record_audit;
use crate::common::meta::meta_insert_new;
use crate::common::rows::parse_col;
use crate::common::sql::{lock_existing, Sql};
use crate::{now_text, Result, Store, StoreError};

/// Meta key recording that the default catalogue and Table 11 targets were written.
const DEFAULTS_KEY: &str = "training_defaults_version";

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Institution {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub kind: InstitutionKind,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to change the
    /// record only if nobody else has changed it meanwhile.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Programme {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub level: CertificateLevel,
    pub institution_id: i64,
    pub institution_code: String,
    pub credits_required: u32,
    /// Modules in the programme.
    pub modules: i64,
    /// Credits the modules plan, by the credit rule.
    pub planned_credits: f64,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to change the
    /// record only if nobody else has changed it meanwhile.
    pub version: i64,
}

/// A module of a programme, or a course on its own (`programme_id` none).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Course {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub programme_id: Option<i64>,
    pub programme_code: Option<String>,
    pub hours: Hours,
    pub credits: f64,
    /// Framework competency codes the module covers.
    pub competencies: Vec<String>,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to change the
    /// record only if nobody else has changed it meanwhile.
    pub version: i64,
}

fn duplicate_code(code: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new("code", "duplicate_code").with("value", code)))
}

/// Whether a row of `table` other than `except` has this code.
async fn code_taken(conn: &mut AnyConnection, table: &str, code: &str, except: Option<i64>) -> Result<bool> {
    let row = sqlx::query(&format!("SELECT 1 FROM {table} WHERE code = $1 AND id <> $2"))
        .bind(code)
        .bind(except.unwrap_or(0))
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

async fn exists(conn: &mut AnyConnection, table: &str, id: i64) -> Result<bool> {
    let row = sqlx::query(&format!("SELECT 1 FROM {table} WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    Ok(row.is_some())
}

const INSTITUTION_COLS: &str = "id, code, name_en, name_km, kind, version";

fn institution_from_row(r: &AnyRow) -> Result<Institution> {
    Ok(Institution {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name_en: r.try_get("name_en")?,
        name_km: r.try_get("name_km")?,
        kind: parse_col(r, "kind", InstitutionKind::parse)?,
        version: r.try_get("version")?,
    })
}

const PROGRAMME_SELECT: &str = "SELECT p.id, p.code, p.title_en, p.title_km, p.level, p.institution_id, \
     i.code AS institution_code, p.credits_required, p.version, \
     (SELECT COUNT(*) FROM training_courses c WHERE c.programme_id = p.id) AS modules, \
     (SELECT CAST(COALESCE(SUM(c.teaching_minutes), 0) AS BIGINT) FROM training_courses c WHERE c.programme_id = p.id) AS teaching_minutes, \
     (SELECT CAST(COALESCE(SUM(c.lab_minutes), 0) AS BIGINT) FROM training_courses c WHERE c.programme_id = p.id) AS lab_minutes, \
     (SELECT CAST(COALESCE(SUM(c.field_minutes), 0) AS BIGINT) FROM training_courses c WHERE c.programme_id = p.id) AS field_minutes \
     FROM training_programmes p JOIN training_institutions i ON i.id = p.institution_id";

fn programme_from_row(r: &AnyRow) -> Result<Programme> {
    let credits: i64 = r.try_get("credits_required")?;
    Ok(Programme {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        level: parse_col(r, "level", CertificateLevel::parse)?,
        institution_id: r.try_get("institution_id")?,
        institution_code: r.try_get("institution_code")?,
        credits_required: credits.max(0) as u32,
        modules: r.try_get("modules")?,
        planned_credits: minutes(r, "")?.credits(),
        version: r.try_get("version")?,
    })
}

const COURSE_SELECT: &str = "SELECT c.id, c.code, c.title_en, c.title_km, c.programme_id, p.code AS programme_code, \
     c.teaching_minutes, c.lab_minutes, c.field_minutes, c.competencies, c.version \
     FROM training_courses c LEFT JOIN training_programmes p ON p.id = c.programme_id";

fn course_from_row(r: &AnyRow) -> Result<Course> {
    let m = minutes(r, "")?;
    let comps: String = r.try_get("competencies")?;
    Ok(Course {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        programme_id: r.try_get("programme_id")?,
        programme_code: r.try_get("programme_code")?,
        hours: m.hours(),
        credits: m.credits(),
        competencies: comps.split_whitespace().map(str::to_string).collect(),
        version: r.try_get("version")?,
    })
}

impl Store {
    // -----------------------------------------------------------------------------------------
    // Reference data
    // -----------------------------------------------------------------------------------------

    /// Writes the default institutions, certificate programmes and the Table 11 targets once
    /// (called by [`Store::migrate`]); later changes by users are kept.
    pub(crate) async fn ensure_training_defaults(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let claimed = meta_insert_new(&mut tx, DEFAULTS_KEY, "1").await?;
        if !claimed {
            // Ended now, not when dropped: the insert that found the key took SQLite's write
            // lock, and a rollback left for later would hold it after this returns (another
            // server's next write would fail as "database is locked").
            tx.rollback().await?;
            return Ok(());
        }
        let now = now_text();
        let mut inst_ids = HashMap::new();
        for i in default_institutions() {
            let row = sqlx::query(
                "INSERT INTO training_institutions (code, name_en, name_km, kind, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
            )
            .bind(i.code)
            .bind(i.name_en)
            .bind(i.name_km)
            .bind(i.kind.code())
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?;
            inst_ids.insert(i.code, row.try_get::<i64, _>(0)?);
        }
        for p in default_programmes() {
            let inst = *inst_ids.get(p.institution).ok_or_else(|| StoreError::Corrupt(p.institution.into()))?;
            sqlx::query(
                "INSERT INTO training_programmes (code, title_en, title_km, level, institution_id, credits_required, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(p.code)
            .bind(p.title_en)
            .bind(p.title_km)
            .bind(p.level.code())
            .bind(inst)
            .bind(p.level.default_credits() as i64)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for t in table11_targets() {
            let roles: Vec<&str> = t.roles.iter().map(|r| r.code()).collect();
            sqlx::query(
                "INSERT INTO training_targets (group_code, group_en, level, year, target, roles) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(t.group_code)
            .bind(t.group_en)
            .bind(t.level.code())
            .bind(t.year as i64)
            .bind(t.target as i64)
            .bind(roles.join(" "))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Catalogue
    // -----------------------------------------------------------------------------------------

    pub async fn institutions(&self) -> Result<Vec<Institution>> {
        let rows = sqlx::query(&format!("SELECT {INSTITUTION_COLS} FROM training_institutions ORDER BY code"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(institution_from_row).collect()
    }

    pub async fn institution(&self, id: i64) -> Result<Option<Institution>> {
        institution_on(&mut *self.pool.acquire().await?, id).await
    }

    pub async fn create_institution(&self, p: &Principal, input: &InstitutionInput) -> Result<Institution> {
        self.save_institution(p, None, input, None).await
    }

    pub async fn update_institution(
        &self,
        p: &Principal,
        id: i64,
        input: &InstitutionInput,
        expected: Option<i64>,
    ) -> Result<Institution> {
        self.save_institution(p, Some(id), input, expected).await
    }

    async fn save_institution(
        &self,
        p: &Principal,
        id: Option<i64>,
        input: &InstitutionInput,
        expected: Option<i64>,
    ) -> Result<Institution> {
        p.require(Action::KeepTrainingCatalogue, Target::Any)?;
        // The record is locked, then read: the audit's "before" is what a concurrent change stored.
        let mut tx = self.begin_write().await?;
        let before = match id {
            Some(id) => {
                let x = {
                    lock_existing(&mut tx, "training_institutions", id, expected).await?;
                    institution_on(&mut tx, id).await?.ok_or(StoreError::NotFound)?
                };
                Some(InstitutionDraft { code: x.code, name_en: x.name_en, name_km: x.name_km, kind: x.kind })
            }
            None => None,
        };
        let d = validate_institution(input)?;
        if code_taken(&mut tx, "training_institutions", &d.code, id).await? {
            return Err(duplicate_code(&d.code));
        }
        let id = match id {
            None => {
                let row = sqlx::query(
                    "INSERT INTO training_institutions (code, name_en, name_km, kind, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&d.code)
                .bind(&d.name_en)
                .bind(&d.name_km)
                .bind(d.kind.code())
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await?;
                row.try_get(0)?
            }
            Some(id) => {
                sqlx::query(
                    "UPDATE training_institutions SET code = $1, name_en = $2, name_km = $3, kind = $4 WHERE id = $5",
                )
                .bind(&d.code)
                .bind(&d.name_en)
                .bind(&d.name_km)
                .bind(d.kind.code())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_institution", &id.to_string(), before.as_ref(), Some(&d)).await?;
        tx.commit().await?;
        self.institution(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn programmes(&self) -> Result<Vec<Programme>> {
        let rows = sqlx::query(&format!("{PROGRAMME_SELECT} ORDER BY p.id")).fetch_all(&self.pool).await?;
        rows.iter().map(programme_from_row).collect()
    }

    pub async fn programme(&self, id: i64) -> Result<Option<Programme>> {
        programme_on(&mut *self.pool.acquire().await?, id).await
    }

    pub async fn create_programme(&self, p: &Principal, input: &ProgrammeInput) -> Result<Programme> {
        self.save_programme(p, None, input, None).await
    }

    /// Changes a programme; a change of its required credits changes who is eligible (computed).
    pub async fn update_programme(
        &self,
        p: &Principal,
        id: i64,
        input: &ProgrammeInput,
        expected: Option<i64>,
    ) -> Result<Programme> {
        self.save_programme(p, Some(id), input, expected).await
    }

    async fn save_programme(
        &self,
        p: &Principal,
        id: Option<i64>,
        input: &ProgrammeInput,
        expected: Option<i64>,
    ) -> Result<Programme> {
        p.require(Action::KeepTrainingCatalogue, Target::Any)?;
        let mut tx = self.begin_write().await?;
        let before = match id {
            Some(id) => {
                let x = {
                    lock_existing(&mut tx, "training_programmes", id, expected).await?;
                    programme_on(&mut tx, id).await?.ok_or(StoreError::NotFound)?
                };
                Some(ProgrammeDraft {
                    code: x.code,
                    title_en: x.title_en,
                    title_km: x.title_km,
                    level: x.level,
                    institution_id: x.institution_id,
                    credits_required: x.credits_required,
                })
            }
            None => None,
        };
        let d = validate_programme(input)?;
        let mut errs = ValidationErrors::default();
        if code_taken(&mut tx, "training_programmes", &d.code, id).await? {
            errs.push(FieldError::new("code", "duplicate_code").with("value", &d.code));
        }
        if !exists(&mut tx, "training_institutions", d.institution_id).await? {
            errs.push(FieldError::new("institution_id", "unknown_institution").with("value", d.institution_id));
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let id = match id {
            None => {
                let row = sqlx::query(
                    "INSERT INTO training_programmes (code, title_en, title_km, level, institution_id, credits_required, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&d.code)
                .bind(&d.title_en)
                .bind(&d.title_km)
                .bind(d.level.code())
                .bind(d.institution_id)
                .bind(d.credits_required as i64)
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await?;
                row.try_get(0)?
            }
            Some(id) => {
                sqlx::query(
                    "UPDATE training_programmes SET code = $1, title_en = $2, title_km = $3, level = $4, \
                     institution_id = $5, credits_required = $6 WHERE id = $7",
                )
                .bind(&d.code)
                .bind(&d.title_en)
                .bind(&d.title_km)
                .bind(d.level.code())
                .bind(d.institution_id)
                .bind(d.credits_required as i64)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_programme", &id.to_string(), before.as_ref(), Some(&d)).await?;
        tx.commit().await?;
        self.programme(id).await?.ok_or(StoreError::NotFound)
    }

    /// Modules and courses: of one programme (`Some(Some(id))`), on their own (`Some(None)`), or all.
    pub async fn courses(&self, programme: Option<Option<i64>>) -> Result<Vec<Course>> {
        let mut sql = Sql::for_engine(&format!("{COURSE_SELECT} WHERE 1 = 1"), self.engine);
        match programme {
            Some(Some(id)) => {
                sql.push(" AND c.programme_id = ").int(id);
            }
            Some(None) => {
                sql.push(" AND c.programme_id IS NULL");
            }
            None => {}
        }
        sql.push(" ORDER BY c.programme_id, c.code");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(course_from_row).collect()
    }

    pub async fn course(&self, id: i64) -> Result<Option<Course>> {
        course_on(&mut *self.pool.acquire().await?, id).await
    }

    /// Adds a module to a programme, or a course on its own. Competency codes must be of the
    /// current framework.
    pub async fn create_course(&self, p: &Principal, input: &CourseInput) -> Result<Course> {
        self.save_course(p, None, input, None).await
    }

    /// Changes a module or course. Events already held keep the hours they were given, and
    /// participants the hours recorded for them.
    pub async fn update_course(
        &self,
        p: &Principal,
        id: i64,
        input: &CourseInput,
        expected: Option<i64>,
    ) -> Result<Course> {
        self.save_course(p, Some(id), input, expected).await
    }

    async fn save_course(
        &self,
        p: &Principal,
        id: Option<i64>,
        input: &CourseInput,
        expected: Option<i64>,
    ) -> Result<Course> {
        p.require(Action::KeepTrainingCatalogue, Target::Any)?;
        let fw = self.current_framework().await?;
        let mut tx = self.begin_write().await?;
        let before = match id {
            Some(id) => {
                let x = {
                    lock_existing(&mut tx, "training_courses", id, expected).await?;
                    course_on(&mut tx, id).await?.ok_or(StoreError::NotFound)?
                };
                Some(CourseDraft {
                    code: x.code,
                    title_en: x.title_en,
                    title_km: x.title_km,
                    programme_id: x.programme_id,
                    minutes: x.hours.to_minutes("", &mut ValidationErrors::default()),
                    competencies: x.competencies,
                })
            }
            None => None,
        };
        let known: std::collections::HashSet<String> =
            fw.areas.iter().flat_map(|a| a.competencies.iter().map(|c| c.code.clone())).collect();
        let d = validate_course(input, |c| known.contains(c))?;
        let mut errs = ValidationErrors::default();
        if code_taken(&mut tx, "training_courses", &d.code, id).await? {
            errs.push(FieldError::new("code", "duplicate_code").with("value", &d.code));
        }
        if let Some(pid) = d.programme_id {
            if !exists(&mut tx, "training_programmes", pid).await? {
                errs.push(FieldError::new("programme_id", "unknown_programme").with("value", pid));
            }
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let id = match id {
            None => insert_course(&mut tx, &d).await?,
            Some(id) => {
                sqlx::query(
                    "UPDATE training_courses SET code = $1, title_en = $2, title_km = $3, programme_id = $4, \
                     teaching_minutes = $5, lab_minutes = $6, field_minutes = $7, competencies = $8 WHERE id = $9",
                )
                .bind(&d.code)
                .bind(&d.title_en)
                .bind(&d.title_km)
                .bind(d.programme_id)
                .bind(d.minutes.teaching)
                .bind(d.minutes.lab)
                .bind(d.minutes.field)
                .bind(d.competencies.join(" "))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_course", &id.to_string(), before.as_ref(), Some(&d)).await?;
        tx.commit().await?;
        self.course(id).await?.ok_or(StoreError::NotFound)
    }
}

async fn institution_on(conn: &mut AnyConnection, id: i64) -> Result<Option<Institution>> {
    let row = sqlx::query(&format!("SELECT {INSTITUTION_COLS} FROM training_institutions WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(institution_from_row).transpose()
}

async fn programme_on(conn: &mut AnyConnection, id: i64) -> Result<Option<Programme>> {
    let row = sqlx::query(&format!("{PROGRAMME_SELECT} WHERE p.id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(programme_from_row).transpose()
}

async fn course_on(conn: &mut AnyConnection, id: i64) -> Result<Option<Course>> {
    let row = sqlx::query(&format!("{COURSE_SELECT} WHERE c.id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(course_from_row).transpose()
}

pub(crate) async fn insert_course(conn: &mut AnyConnection, d: &CourseDraft) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO training_courses (code, title_en, title_km, programme_id, teaching_minutes, lab_minutes, \
         field_minutes, competencies, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&d.code)
    .bind(&d.title_en)
    .bind(&d.title_km)
    .bind(d.programme_id)
    .bind(d.minutes.teaching)
    .bind(d.minutes.lab)
    .bind(d.minutes.field)
    .bind(d.competencies.join(" "))
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

komlang_core::versioned!(Institution, Programme, Course);
