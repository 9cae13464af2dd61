//! Why a request failed, as a page ([`PageError`]) or as an API answer ([`ApiError`]), and
//! the one mapping of the store's errors to either: 404 for a record outside the caller's
//! scope, 403 for an act their role does not allow, 422 with every bad field for invalid
//! input, 409 for a conflict, 412 for a change of a record someone else changed meanwhile.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use komlang_core::ValidationErrors;
use komlang_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use super::i18n::{I18n, Locale};
use super::layout::error_page;

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    Login(String),
    NotFound(Locale),
    Forbidden(Locale),
    /// More requests from this client address than a public page allows in a minute.
    TooManyRequests(Locale),
    /// Someone else changed the record since the page was opened; nothing was done.
    Stale(Locale),
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login(next) => {
                let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Redirect::to(&format!("/login?{q}")).into_response()
            }
            PageError::NotFound(l) => error_page(StatusCode::NOT_FOUND, l, "common.not_found"),
            PageError::Forbidden(l) => error_page(StatusCode::FORBIDDEN, l, "common.forbidden"),
            PageError::TooManyRequests(l) => error_page(StatusCode::TOO_MANY_REQUESTS, l, "common.too_many_requests"),
            PageError::Stale(l) => error_page(StatusCode::CONFLICT, l, "stale.action"),
            PageError::Internal(e) => {
                tracing::error!("internal error: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
            }
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl From<tower_sessions::session::Error> for PageError {
    fn from(e: tower_sessions::session::Error) -> Self {
        PageError::Internal(e.to_string())
    }
}

/// The problems of invalid input (to show again on the form), or the error page.
pub fn store_errors(e: StoreError) -> Result<ValidationErrors, PageError> {
    match e {
        StoreError::Invalid(v) => Ok(v),
        other => Err(other.into()),
    }
}

/// Error body of every failed API call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Machine-readable kind: `bad_request` (400), `unauthorized` (401), `forbidden` (403),
    /// `not_found` (404), `method_not_allowed` (405), `conflict` (409), `precondition_failed`
    /// (412: the record changed since it was read), `payload_too_large` (413),
    /// `unsupported_media_type` (415), `validation` (422), `precondition_required` (428: send
    /// `If-Match`), `too_many_requests` (429),
    /// `internal` (500); a few operations name their own (`bad_file`).
    pub error: String,
    pub message: String,
    /// One entry per bad field (validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ApiFieldError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiFieldError {
    pub field: String,
    pub code: String,
    /// The problem in the caller's language (Accept-Language: km or en).
    pub message: String,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ApiErrorBody,
    /// For a stale change (412): the record's current version, sent as its `ETag`.
    etag: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ApiErrorBody { error: error.into(), message: message.into(), fields: Vec::new() },
            etag: None,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// The error for a status, with its kind ([`error_kind`]) and `message` (the status's own
    /// words when empty; never the text of a server error, which is logged instead).
    pub fn for_status(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        if status.is_server_error() {
            tracing::error!("internal error ({status}): {message}");
            return ApiError::new(status, "internal", "internal error");
        }
        let message =
            if message.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { message };
        ApiError::new(status, error_kind(status), message)
    }

    /// 401: no valid bearer token.
    pub fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
    }

    /// The same error with another status (e.g. 400 for bad filters).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn validation(i: &I18n, errs: ValidationErrors) -> Self {
        let fields = errs
            .errors
            .iter()
            .map(|e| ApiFieldError {
                field: e.field.clone(),
                code: e.code.clone(),
                message: i.field_error(e),
                params: e.params.clone(),
            })
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ApiErrorBody {
                error: "validation".into(),
                message: "invalid input; nothing was saved".into(),
                fields,
            },
            etag: None,
        }
    }

    pub fn from_store(i: &I18n, e: StoreError) -> Self {
        match e {
            StoreError::Invalid(v) => ApiError::validation(i, v),
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such record in your scope"),
            StoreError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", "your role does not allow this"),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Stale { current } => ApiError {
                etag: Some(current),
                ..ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    format!(
                        "the record was changed by someone else since you read it (it is now at version {current}, \
                         ETag \"{current}\"); nothing was saved: read it again and apply your change to it"
                    ),
                )
            },
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if let Some(v) = self.etag {
            r.headers_mut().insert(axum::http::header::ETAG, etag(v));
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The `ETag` of a record at `version` (`common::versions`): a strong tag, since `If-Match`
/// compares strongly.
pub fn etag(version: i64) -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("\"0\""))
}

/// The `error` kind of an API answer with this status.
pub fn error_kind(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PRECONDITION_FAILED => "precondition_failed",
        StatusCode::PRECONDITION_REQUIRED => "precondition_required",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// Maps a store error to the API's answer, in the caller's language.
pub fn store(i: &I18n) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| ApiError::from_store(i, e)
}

pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

pub fn not_found(i: &I18n) -> ApiError {
    ApiError::from_store(i, StoreError::NotFound)
}

/// 403 in the API: the caller's role does not allow this.
pub fn forbidden(i: &I18n) -> ApiError {
    ApiError::from_store(i, StoreError::Forbidden)
}

/// 429 in the API: too many requests from this client address this minute.
pub fn too_many_requests() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "too many requests from your address: try again in a minute",
    )
}

/// The answer under `/api` to a path no route serves.
pub async fn no_such_endpoint() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
