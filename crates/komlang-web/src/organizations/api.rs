//! Organizations in the API.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use komlang_core::validate::OrgInput;
use komlang_core::*;
use komlang_store::{OrgQuery, OrgRow, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::common::extract::{body, object_body, parse_opt, query};
use crate::common::schema::patch_of;
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{ApiError, ApiErrorBody, ApiResult, ApiUser, Paged};
use crate::common::{IfMatch, Tagged};
use crate::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgParams {
    /// Text in the name, or a registration number.
    pub q: Option<String>,
    #[param(value_type = Option<OrgKind>)]
    pub kind: Option<String>,
    pub province: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrgParams),
    responses((status = 200, body = Paged<OrgRow>), (status = 400, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn list_orgs(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<OrgParams>, QueryRejection>,
) -> ApiResult<Json<Paged<OrgRow>>> {
    let q = query(q)?;
    let mut errs = ValidationErrors::default();
    let kind = parse_opt("kind", &q.kind, OrgKind::parse, &mut errs);
    if !errs.is_empty() {
        return Err(ApiError::validation(&i, errs).with_status(StatusCode::BAD_REQUEST));
    }
    let oq =
        OrgQuery { q: q.q, kind, province: q.province, page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(50) };
    Ok(Json(app.store.list_orgs(&p, &oq).await.map_err(|e| ApiError::from_store(&i, e))?.into()))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)),
    responses((status = 200, body = OrgRow, headers(("ETag" = String, description = "The record's version: send it as If-Match to change it"))), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn get_org(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<OrgRow>> {
    match app.store.get_org(&p, id).await.map_err(|e| ApiError::from_store(&i, e))? {
        Some(o) => Ok(Tagged(o)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrgInput,
    responses((status = 201, body = OrgRow), (status = 400, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_org(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<OrgInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<OrgRow>)> {
    let input = body(b)?;
    let o = app.store.create_org(&p, &input).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok((StatusCode::CREATED, Tagged(o)))
}

/// The body of `PATCH /api/v1/organizations/{id}`: the fields of [`OrgInput`] to change.
pub struct OrgPatch;

impl utoipa::PartialSchema for OrgPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        patch_of(
            <OrgInput as utoipa::PartialSchema>::schema(),
            "Fields to change: absent (or null) fields are kept, an empty string clears an optional field.",
            Vec::new(),
        )
    }
}

impl utoipa::ToSchema for OrgPatch {}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path), IfMatchHeader), request_body = OrgPatch,
    responses(VersionedWrite, (status = 200, body = OrgRow), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_org(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> ApiResult<Tagged<OrgRow>> {
    let input: OrgInput = object_body(b)?;
    Ok(Tagged(app.store.update_org(&p, id, &input, expected).await.map_err(|e| ApiError::from_store(&i, e))?))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path), IfMatchHeader),
    responses(VersionedWrite, (status = 204), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn delete_org(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    app.store.delete_org(&p, id, expected).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(OpenApi)]
#[openapi(
    paths(list_orgs, get_org, create_org, update_org, delete_org),
    components(schemas(Organization, OrgRow, OrgInput, OrgPatch, OrgKind))
)]
pub struct OrganizationsApiDoc;
