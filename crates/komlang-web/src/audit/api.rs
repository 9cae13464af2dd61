//! The audit log in the API.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use komlang_store::{AuditEntry, AuditQuery};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::common::extract::{date_param, query};
use crate::common::{ApiError, ApiErrorBody, ApiResult, ApiUser, Paged};
use crate::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// `worker`, `organization`, `user`, `demo`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub username: Option<String>,
    /// `create`, `update`, `delete`, `import`.
    pub action: Option<String>,
    /// First day (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Paged<AuditEntry>), (status = 403, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn list_audit(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<AuditParams>, QueryRejection>,
) -> ApiResult<Json<Paged<AuditEntry>>> {
    let q = query(q)?;
    let aq = AuditQuery {
        entity: q.entity,
        entity_id: q.entity_id,
        username: q.username,
        action: q.action,
        from: date_param("from", &q.from)?,
        to: date_param("to", &q.to)?,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    };
    Ok(Json(app.store.list_audit(&p, &aq).await.map_err(|e| ApiError::from_store(&i, e))?.into()))
}

#[derive(OpenApi)]
#[openapi(paths(list_audit), components(schemas(AuditEntry)))]
pub struct AuditApiDoc;
