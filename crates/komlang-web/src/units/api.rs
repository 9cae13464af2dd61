//! Administrative units in the API.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use komlang_core::*;
use komlang_store::{AdminUnitQuery, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::common::extract::{parse_opt, query};
use crate::common::{ApiError, ApiErrorBody, ApiResult, ApiUser, Paged};
use crate::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitParams {
    /// Code of the parent unit (e.g. `12` lists Phnom Penh's khans).
    pub parent: Option<String>,
    #[param(value_type = Option<AdminLevel>)]
    pub level: Option<String>,
    /// Text in the Khmer or English name, or an exact code.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/admin-units", tag = "admin units", params(UnitParams),
    responses((status = 200, body = Paged<AdminUnit>), (status = 400, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn list_units(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    q: Result<Query<UnitParams>, QueryRejection>,
) -> ApiResult<Json<Paged<AdminUnit>>> {
    let q = query(q)?;
    let mut errs = ValidationErrors::default();
    let level = parse_opt("level", &q.level, AdminLevel::parse, &mut errs);
    if !errs.is_empty() {
        return Err(ApiError::validation(&i, errs).with_status(StatusCode::BAD_REQUEST));
    }
    let uq = AdminUnitQuery {
        parent: q.parent,
        level,
        q: q.q,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(100),
    };
    Ok(Json(app.store.admin_units(&uq).await.map_err(|e| ApiError::from_store(&i, e))?.into()))
}

#[utoipa::path(get, path = "/api/v1/admin-units/{code}", tag = "admin units", params(("code" = String, Path)),
    responses((status = 200, body = AdminUnit), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn get_unit(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Json<AdminUnit>> {
    match app.store.admin_unit(&code).await.map_err(|e| ApiError::from_store(&i, e))? {
        Some(u) => Ok(Json(u)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[derive(OpenApi)]
#[openapi(paths(list_units, get_unit), components(schemas(AdminUnit, AdminLevel)))]
pub struct UnitsApiDoc;
