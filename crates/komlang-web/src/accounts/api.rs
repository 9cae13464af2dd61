//! The caller's own account in the API (`/api/v1/me`).

use axum::Json;
use komlang_core::*;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::common::ApiUser;

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub role: UserRole,
    /// Admin unit code of the scope; absent for the whole country.
    pub scope: Option<String>,
    pub org_id: Option<i64>,
    pub worker_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me)), security(("bearer" = [])))]
pub(super) async fn me(ApiUser(p, _): ApiUser) -> Json<Me> {
    Json(Me {
        username: p.username,
        role: p.role,
        scope: match p.scope {
            Scope::Nation => None,
            Scope::Unit { code, .. } => Some(code),
        },
        org_id: p.org_id,
        worker_id: p.worker_id,
    })
}

#[derive(OpenApi)]
#[openapi(paths(me), components(schemas(Me, UserRole)))]
pub struct AccountsApiDoc;
