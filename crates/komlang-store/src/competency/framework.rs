//! The competency framework as versioned reference data, and the levels each cadre and role
//! requires in a version.

use std::collections::BTreeMap;

use komlang_core::competency::{
    bundled, check_framework, default_requirements, Framework, Rating, RequiredLevel, RequirementFor,
};
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::principal::system_principal;
use crate::common::sql::{engine_of, lock_key, Sql};
use crate::{now_text, Result, Store, StoreError};

/// Name recorded as the loader of the framework shipped with Komlang.
pub const FRAMEWORK_SYSTEM_LOADER: &str = "komlang";

/// A version of the competency framework as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FrameworkVersion {
    pub version: String,
    pub title_en: String,
    pub title_km: String,
    pub competencies: i64,
    pub indicators: i64,
    /// RFC 3339, UTC.
    pub loaded_at: String,
    pub loaded_by: String,
    /// The version new assessments use.
    pub current: bool,
}

fn applies_parts(a: RequirementFor) -> (&'static str, &'static str) {
    match a {
        RequirementFor::Cadre(c) => ("cadre", c.code()),
        RequirementFor::Role(r) => ("role", r.code()),
    }
}

/// `cadre:para_social_worker` / `role:ccwc_focal_point`.
pub fn requirement_target_code(a: RequirementFor) -> String {
    let (k, c) = applies_parts(a);
    format!("{k}:{c}")
}

/// The target of a `cadre:…` / `role:…` code.
pub fn parse_requirement_target(s: &str) -> Option<RequirementFor> {
    let (kind, code) = s.trim().split_once(':')?;
    match kind {
        "cadre" => Cadre::parse(code).map(RequirementFor::Cadre),
        "role" => WorkerRole::parse(code).map(RequirementFor::Role),
        _ => None,
    }
}

fn unique_to_conflict(e: sqlx::Error, message: String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(message);
        }
    }
    StoreError::from(e)
}

/// Writes a framework version (and its required levels); makes it current when asked.
async fn insert_framework(
    conn: &mut AnyConnection,
    fw: &Framework,
    loaded_by: &str,
    make_current: bool,
    requirements: &[RequiredLevel],
) -> Result<()> {
    let json = serde_json::to_string(fw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if make_current {
        sqlx::query("UPDATE competency_frameworks SET is_current = 0 WHERE is_current = 1").execute(&mut *conn).await?;
    }
    sqlx::query(
        "INSERT INTO competency_frameworks (version, title_en, title_km, framework_json, competency_count, \
         indicator_count, loaded_at, loaded_by, is_current) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&fw.version)
    .bind(&fw.title_en)
    .bind(&fw.title_km)
    .bind(json)
    .bind(fw.competency_count() as i64)
    .bind(fw.indicator_count() as i64)
    .bind(now_text())
    .bind(loaded_by)
    .bind(i64::from(make_current))
    .execute(&mut *conn)
    .await
    .map_err(|e| unique_to_conflict(e, format!("framework version {} is already loaded", fw.version)))?;
    write_requirements(conn, &fw.version, requirements).await
}

async fn write_requirements(conn: &mut AnyConnection, version: &str, reqs: &[RequiredLevel]) -> Result<()> {
    let engine = engine_of(conn);
    for chunk in reqs.chunks(200) {
        let mut sql = Sql::for_engine(
            "INSERT INTO competency_requirements (framework_version, applies_kind, applies_code, competency_code, \
             level) VALUES ",
            engine,
        );
        for (n, r) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            let (kind, code) = applies_parts(r.applies_to);
            sql.push("(")
                .text(version)
                .push(", ")
                .text(kind)
                .push(", ")
                .text(code)
                .push(", ")
                .text(r.competency_code.clone())
                .push(", ")
                .int(i64::from(r.level.value()))
                .push(")");
        }
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

fn version_from_row(r: &AnyRow) -> Result<FrameworkVersion> {
    Ok(FrameworkVersion {
        version: r.try_get("version")?,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        competencies: r.try_get("competency_count")?,
        indicators: r.try_get("indicator_count")?,
        loaded_at: r.try_get("loaded_at")?,
        loaded_by: r.try_get("loaded_by")?,
        current: r.try_get::<i64, _>("is_current")? != 0,
    })
}

#[derive(Serialize)]
struct AuditedFramework<'a> {
    version: &'a str,
    title_en: &'a str,
    title_km: &'a str,
    competencies: usize,
    indicators: usize,
    required_levels: usize,
}

impl Store {
    // ------------------------------------------------------------------------------------------
    // The framework
    // ------------------------------------------------------------------------------------------

    /// Loads the framework shipped with Komlang, with the default required levels, when the
    /// database has no framework yet. True when it was loaded. Safe to call from several servers.
    pub async fn ensure_competency_framework(&self) -> Result<bool> {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) FROM competency_frameworks").fetch_one(&self.pool).await?.try_get(0)?;
        if n > 0 {
            return Ok(false);
        }
        let fw = bundled();
        let reqs = default_requirements(&fw);
        let mut tx = self.begin_write().await?;
        match insert_framework(&mut tx, &fw, FRAMEWORK_SYSTEM_LOADER, true, &reqs).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        let after = AuditedFramework {
            version: &fw.version,
            title_en: &fw.title_en,
            title_km: &fw.title_km,
            competencies: fw.competency_count(),
            indicators: fw.indicator_count(),
            required_levels: reqs.len(),
        };
        let p = system_principal(FRAMEWORK_SYSTEM_LOADER);
        record_audit(&mut tx, &p, "import", "competency_framework", &fw.version, None, Some(&after)).await?;
        match tx.commit().await {
            Ok(()) => Ok(true),
            Err(e) => match unique_to_conflict(e, String::new()) {
                StoreError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Loads a revised framework version (national administrators) and makes it current.
    /// The required levels of the previous current version carry over for the competency codes
    /// the new version keeps. Assessments keep pointing to the version they were made against.
    pub async fn load_competency_framework(&self, p: &Principal, fw: &Framework) -> Result<FrameworkVersion> {
        p.require(Action::KeepFramework, Target::Any)?;
        let problems = check_framework(fw);
        if !problems.is_empty() {
            let text = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
            return Err(StoreError::Conflict(format!("the framework is not valid: {text}")));
        }
        self.ensure_competency_framework().await?;
        let previous = self.current_framework_version().await?;
        let mut reqs = match &previous {
            Some(v) => self.competency_requirements(&v.version).await?,
            None => default_requirements(fw),
        };
        reqs.retain(|r| fw.competency(&r.competency_code).is_some());
        let mut tx = self.begin_write().await?;
        insert_framework(&mut tx, fw, &p.username, true, &reqs).await?;
        let after = AuditedFramework {
            version: &fw.version,
            title_en: &fw.title_en,
            title_km: &fw.title_km,
            competencies: fw.competency_count(),
            indicators: fw.indicator_count(),
            required_levels: reqs.len(),
        };
        record_audit(&mut tx, p, "import", "competency_framework", &fw.version, None, Some(&after)).await?;
        tx.commit().await?;
        self.framework_versions().await?.into_iter().find(|v| v.version == fw.version).ok_or(StoreError::NotFound)
    }

    /// Every framework version, the current one first, then the newest loaded.
    pub async fn framework_versions(&self) -> Result<Vec<FrameworkVersion>> {
        self.ensure_competency_framework().await?;
        let rows = sqlx::query(
            "SELECT version, title_en, title_km, competency_count, indicator_count, loaded_at, loaded_by, is_current \
             FROM competency_frameworks ORDER BY is_current DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    async fn current_framework_version(&self) -> Result<Option<FrameworkVersion>> {
        let row = sqlx::query(
            "SELECT version, title_en, title_km, competency_count, indicator_count, loaded_at, loaded_by, is_current \
             FROM competency_frameworks WHERE is_current = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// The current framework (the bundled one is loaded first when there is none).
    pub async fn current_framework(&self) -> Result<Framework> {
        let read = || async {
            let row = sqlx::query("SELECT framework_json FROM competency_frameworks WHERE is_current = 1")
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(StoreError::from)
        };
        let json = match read().await? {
            Some(j) => j,
            None => {
                self.ensure_competency_framework().await?;
                read().await?.ok_or_else(|| StoreError::Corrupt("no current competency framework".into()))?
            }
        };
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored competency framework: {e}")))
    }

    /// One framework version; `None` when there is no such version.
    pub async fn framework(&self, version: &str) -> Result<Option<Framework>> {
        self.ensure_competency_framework().await?;
        framework_on(&mut *self.pool.acquire().await?, version).await
    }

    /// The named version, or the current one.
    pub async fn framework_or_current(&self, version: Option<&str>) -> Result<Option<Framework>> {
        match version.non_blank() {
            Some(v) => self.framework(v).await,
            None => self.current_framework().await.map(Some),
        }
    }

    // ------------------------------------------------------------------------------------------
    // Required levels
    // ------------------------------------------------------------------------------------------

    /// Every required level set for a framework version.
    pub async fn competency_requirements(&self, version: &str) -> Result<Vec<RequiredLevel>> {
        requirements_on(&mut *self.pool.acquire().await?, version).await
    }

    /// Replaces the levels one cadre or role requires in a framework version (national
    /// administrators): `levels` maps competency codes to a level; competencies left out
    /// require nothing. Audited with the levels before and after.
    pub async fn set_competency_requirements(
        &self,
        p: &Principal,
        version: &str,
        applies_to: RequirementFor,
        levels: &BTreeMap<String, Rating>,
    ) -> Result<()> {
        p.require(Action::KeepFramework, Target::Any)?;
        let fw = self.framework(version).await?.ok_or(StoreError::NotFound)?;
        let mut errs = ValidationErrors::default();
        for code in levels.keys() {
            if fw.competency(code).is_none() {
                errs.push(FieldError::new(&format!("level.{code}"), "unknown_competency").with("version", &fw.version));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let (kind, code) = applies_parts(applies_to);
        let id = format!("{version}/{kind}:{code}");
        // Locked, then read: the audit's "before" is what a concurrent change stored.
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, &format!("competency_requirement:{id}")).await?;
        let before: BTreeMap<String, u8> = requirements_on(&mut tx, version)
            .await?
            .into_iter()
            .filter(|r| r.applies_to == applies_to)
            .map(|r| (r.competency_code, r.level.value()))
            .collect();
        let after: BTreeMap<String, u8> = levels.iter().map(|(k, v)| (k.clone(), v.value())).collect();
        if before == after {
            tx.rollback().await?;
            return Ok(());
        }
        sqlx::query(
            "DELETE FROM competency_requirements WHERE framework_version = $1 AND applies_kind = $2 \
             AND applies_code = $3",
        )
        .bind(version)
        .bind(kind)
        .bind(code)
        .execute(&mut *tx)
        .await?;
        let reqs: Vec<RequiredLevel> =
            levels.iter().map(|(c, l)| RequiredLevel { applies_to, competency_code: c.clone(), level: *l }).collect();
        write_requirements(&mut tx, version, &reqs).await?;
        record_audit(&mut tx, p, "update", "competency_requirement", &id, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A stored framework version, read on a connection (inside a transaction, without taking a
/// second connection from the pool).
pub(crate) async fn framework_on(conn: &mut sqlx::AnyConnection, version: &str) -> Result<Option<Framework>> {
    let row = sqlx::query("SELECT framework_json FROM competency_frameworks WHERE version = $1")
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => {
            let json: String = r.try_get(0)?;
            serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("stored competency framework {version}: {e}")))
        }
    }
}

/// The levels every cadre and role requires in a framework version, read on a connection.
async fn requirements_on(conn: &mut sqlx::AnyConnection, version: &str) -> Result<Vec<RequiredLevel>> {
    let rows = sqlx::query(
        "SELECT applies_kind, applies_code, competency_code, level FROM competency_requirements \
         WHERE framework_version = $1 ORDER BY applies_kind, applies_code, competency_code",
    )
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("applies_kind")?;
            let code: String = r.try_get("applies_code")?;
            let applies_to = parse_requirement_target(&format!("{kind}:{code}"))
                .ok_or_else(|| StoreError::Corrupt(format!("requirement for {kind}:{code}")))?;
            let level: i64 = r.try_get("level")?;
            Ok(RequiredLevel {
                applies_to,
                competency_code: r.try_get("competency_code")?,
                level: Rating::from_value(level).ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
            })
        })
        .collect()
}
