//! The brief record of a worker that assessments, training and licences show.

use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::rows::parse_col;
use crate::{Result, Store, StoreError};

/// What an assessment page shows of the assessed worker (also to a supervisor whose scope does
/// not include the worker's record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkerBrief {
    pub id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub sector: Sector,
    pub workplace_code: String,
}

pub(crate) const BRIEF_COLS: &str = "w.id, w.name_km, w.name_latin, w.sex, w.cadre, w.role, w.sector, w.workplace_code";

pub(crate) fn brief_from_row(r: &AnyRow) -> Result<WorkerBrief> {
    Ok(WorkerBrief {
        id: r.try_get("id")?,
        name_km: r.try_get("name_km")?,
        name_latin: r.try_get("name_latin")?,
        sex: parse_col(r, "sex", Sex::parse)?,
        cadre: parse_col(r, "cadre", Cadre::parse)?,
        role: parse_col(r, "role", WorkerRole::parse)?,
        sector: parse_col(r, "sector", Sector::parse)?,
        workplace_code: r.try_get("workplace_code")?,
    })
}

impl Store {
    pub(crate) async fn brief(&self, p: &Principal, worker_id: i64) -> Result<WorkerBrief> {
        let w = self.get_worker(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        Ok(WorkerBrief {
            id: w.id,
            name_km: w.name_km,
            name_latin: w.name_latin,
            sex: w.sex,
            cadre: w.cadre,
            role: w.role,
            sector: w.sector,
            workplace_code: w.workplace_code,
        })
    }
}
