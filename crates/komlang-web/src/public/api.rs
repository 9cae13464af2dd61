//! The two API routes that need no token: certificate verification and the public register of
//! valid licences ([`PublicApiDoc`]).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use komlang_core::NonBlank;
use komlang_store::{PublicCertificate, PublicLicence};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::common::errors::{bad_request, store};
use crate::common::extract::query;
use crate::common::{today, ApiError, ApiErrorBody, ApiResult, I18n, Locale};
use crate::AppState;

/// The language of a call without a token: `Accept-Language`, else English.
fn anonymous_i18n(headers: &HeaderMap) -> I18n {
    I18n::new(Locale::from_accept_language(headers).unwrap_or(Locale::En))
}

#[utoipa::path(get, path = "/api/v1/public/certificates/{number}", tag = "training",
    params(("number" = String, Path, description = "The number printed on the certificate")),
    responses((status = 200, description = "The certificate and its holder's name (as the /verify page shows it); `valid` false once revoked", body = PublicCertificate),
        (status = 404, description = "No certificate has this number", body = ApiErrorBody)))]
pub(super) async fn public_certificate(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> ApiResult<Json<PublicCertificate>> {
    let i = anonymous_i18n(&headers);
    match app.store.public_certificate(&number).await.map_err(store(&i))? {
        Some(c) => Ok(Json(c)),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no certificate has this number")),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterParams {
    /// At least two characters of the holder's name (Khmer or Latin), or a licence number
    /// (surrounding white space does not count).
    #[param(required = true, min_length = 2, pattern = r"\S[\s\S]*\S")]
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/licences", tag = "licensing", params(RegisterParams),
    responses((status = 200, description = "The public register: valid licences (active, not expired) matching `q`, at most 50, with the holder's name and the expiry only", body = Vec<PublicLicence>),
        (status = 400, description = "`q` missing or shorter than two characters", body = ApiErrorBody)))]
pub(super) async fn public_register(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<RegisterParams>, QueryRejection>,
) -> ApiResult<Json<Vec<PublicLicence>>> {
    let i = anonymous_i18n(&headers);
    let q = query(q)?;
    let text = q.q.non_blank().unwrap_or_default();
    if text.chars().count() < 2 {
        return Err(bad_request("give q= with at least two characters of a name, or a licence number"));
    }
    Ok(Json(app.store.public_register(text, today()).await.map_err(store(&i))?))
}

#[derive(OpenApi)]
#[openapi(paths(public_certificate, public_register), components(schemas(PublicCertificate, PublicLicence)))]
pub struct PublicApiDoc;
