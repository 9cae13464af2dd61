//! Job descriptions as versioned data: each load of a role's description is a new version (the
//! highest is current); appraisals keep the version they were made against.

use komlang_core::performance::{parse_job_descriptions, JobDescriptionInput, BUNDLED_JOB_DESCRIPTIONS};
use komlang_core::{Action, Principal, Target, WorkerRole};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::common::sql::lock_key;
use crate::{now_text, Result, Store, StoreError};

/// Who loads the shipped descriptions.
const SYSTEM_LOADER: &str = "komlang";

/// One key function of a stored description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobFunction {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub competencies: Vec<String>,
}

/// A version of a role's job description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobDescription {
    pub id: i64,
    pub role: WorkerRole,
    pub version: i64,
    /// The highest version of the role's description.
    pub current: bool,
    pub title_en: String,
    pub title_km: String,
    pub source: Option<String>,
    pub loaded_by: String,
    pub loaded_at: String,
    pub functions: Vec<JobFunction>,
}

pub(crate) async fn functions_of(conn: &mut AnyConnection, jd: i64) -> Result<Vec<JobFunction>> {
    let rows = sqlx::query(
        "SELECT id, code, name_en, name_km, competencies FROM job_functions WHERE job_description_id = $1 ORDER BY position",
    )
    .bind(jd)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let c: String = r.try_get("competencies")?;
            Ok(JobFunction {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name_en: r.try_get("name_en")?,
                name_km: r.try_get("name_km")?,
                competencies: c.split_whitespace().map(String::from).collect(),
            })
        })
        .collect()
}

const JD_COLS: &str = "j.id, j.role, j.version, j.title_en, j.title_km, j.source, j.loaded_by, j.loaded_at, \
    (SELECT MAX(k.version) FROM job_descriptions k WHERE k.role = j.role) AS latest";

async fn jd_from(conn: &mut AnyConnection, r: &sqlx::any::AnyRow) -> Result<JobDescription> {
    let id: i64 = r.try_get("id")?;
    let version: i64 = r.try_get("version")?;
    Ok(JobDescription {
        id,
        role: parse_col(r, "role", WorkerRole::parse)?,
        version,
        current: r.try_get::<Option<i64>, _>("latest")? == Some(version),
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        source: r.try_get("source")?,
        loaded_by: r.try_get("loaded_by")?,
        loaded_at: r.try_get("loaded_at")?,
        functions: functions_of(conn, id).await?,
    })
}

pub(crate) async fn job_description_on(conn: &mut AnyConnection, id: i64) -> Result<Option<JobDescription>> {
    let row = sqlx::query(&format!("SELECT {JD_COLS} FROM job_descriptions j WHERE j.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(Some(jd_from(conn, &r).await?)),
        None => Ok(None),
    }
}

/// The current description of a role.
pub(crate) async fn current_on(conn: &mut AnyConnection, role: WorkerRole) -> Result<Option<JobDescription>> {
    let id: Option<i64> = sqlx::query("SELECT id FROM job_descriptions WHERE role = $1 ORDER BY version DESC LIMIT 1")
        .bind(role.code())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    match id {
        Some(id) => job_description_on(conn, id).await,
        None => Ok(None),
    }
}

/// Stores a new version of one description; its id.
async fn insert(conn: &mut AnyConnection, d: &JobDescriptionInput, by: &str) -> Result<(i64, i64)> {
    lock_key(conn, &format!("job_description:{}", d.role.code())).await?;
    let version: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 FROM job_descriptions WHERE role = $1")
        .bind(d.role.code())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let id: i64 = sqlx::query(
        "INSERT INTO job_descriptions (role, version, title_en, title_km, source, loaded_by, loaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(d.role.code())
    .bind(version)
    .bind(komlang_core::clean_text(&d.title_en))
    .bind(komlang_core::clean_text(&d.title_km))
    .bind(d.source.as_deref().map(komlang_core::clean_text))
    .bind(by)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for (i, f) in d.functions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO job_functions (job_description_id, position, code, name_en, name_km, competencies) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&f.code)
        .bind(komlang_core::clean_text(&f.name_en))
        .bind(komlang_core::clean_text(&f.name_km))
        .bind(f.competencies.join(" "))
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, version))
}

impl Store {
    /// Loads the job descriptions shipped with Komlang when the database has none. Run by
    /// [`Store::migrate`]; safe when several servers start at once (under its lock).
    pub(crate) async fn ensure_job_descriptions(&self) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM job_descriptions").fetch_one(&self.pool).await?.try_get(0)?;
        if n > 0 {
            return Ok(false);
        }
        let all = parse_job_descriptions(BUNDLED_JOB_DESCRIPTIONS).map_err(StoreError::Invalid)?;
        let mut tx = self.begin_write().await?;
        for d in &all {
            insert(&mut tx, d, SYSTEM_LOADER).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Every version of every role's description (the current ones only with `current_only`),
    /// by role and version. Reference data: anyone signed in reads it.
    pub async fn job_descriptions(&self, current_only: bool) -> Result<Vec<JobDescription>> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!("SELECT {JD_COLS} FROM job_descriptions j ORDER BY j.role, j.version DESC"))
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let d = jd_from(&mut conn, r).await?;
            if d.current || !current_only {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub async fn job_description(&self, id: i64) -> Result<Option<JobDescription>> {
        job_description_on(&mut *self.pool.acquire().await?, id).await
    }

    /// Loads descriptions (a new version of each role's), all or none; audited.
    pub async fn load_job_descriptions(
        &self,
        p: &Principal,
        descriptions: &[JobDescriptionInput],
    ) -> Result<Vec<JobDescription>> {
        p.require(Action::KeepFramework, Target::Any)?;
        let mut errs = komlang_core::ValidationErrors::default();
        if descriptions.is_empty() {
            errs.push(komlang_core::FieldError::new("descriptions", "required"));
        }
        for (i, d) in descriptions.iter().enumerate() {
            if let Err(e) = d.validate() {
                for f in e.errors {
                    errs.push(komlang_core::FieldError { field: format!("descriptions[{i}].{}", f.field), ..f });
                }
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::new();
        for d in descriptions {
            let (id, version) = insert(&mut tx, d, &p.username).await?;
            let after = serde_json::json!({
                "role": d.role, "version": version, "title_en": d.title_en,
                "functions": d.functions.iter().map(|f| &f.code).collect::<Vec<_>>(),
            });
            record_audit(&mut tx, p, "create", "job_description", &id.to_string(), None, Some(&after)).await?;
            ids.push(id);
        }
        let mut out = Vec::new();
        for id in ids {
            out.extend(job_description_on(&mut tx, id).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}
