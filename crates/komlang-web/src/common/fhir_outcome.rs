//! The FHIR registry's boundary (`/fhir/r4/`, docs/fhir.md): its answers are FHIR JSON
//! (`application/fhir+json`), and every refusal, whoever makes it (the gate's 401 and 403, a
//! missing route's 404, a wrong method's 405, a handler's error), is an `OperationOutcome`.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};

/// The media type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json; fhirVersion=4.0";

/// A refusal of the FHIR registry: its status, its FHIR issue type and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirError {
    pub status: StatusCode,
    /// The issue type (`http://hl7.org/fhir/issue-type`).
    pub code: &'static str,
    pub diagnostics: String,
}

impl FhirError {
    /// A search or read the server cannot carry out as asked (400, `invalid`).
    pub fn invalid(diagnostics: impl Into<String>) -> Self {
        FhirError { status: StatusCode::BAD_REQUEST, code: "invalid", diagnostics: diagnostics.into() }
    }

    /// What the caller asked for is not there, or not theirs to see (404, `not-found`).
    pub fn not_found(diagnostics: impl Into<String>) -> Self {
        FhirError { status: StatusCode::NOT_FOUND, code: "not-found", diagnostics: diagnostics.into() }
    }

    /// An error of the server (500, `exception`): logged, not shown.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("FHIR: {e}");
        FhirError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "exception",
            diagnostics: "internal error (logged on the server)".into(),
        }
    }

    /// The issue type of an HTTP status.
    pub fn for_status(status: StatusCode, diagnostics: String) -> Self {
        let code = match status.as_u16() {
            401 => "login",
            403 => "forbidden",
            404 | 410 => "not-found",
            405 | 406 | 415 | 501 => "not-supported",
            408 => "timeout",
            409 | 412 | 428 => "conflict",
            413 => "too-long",
            429 => "throttled",
            400..=499 => "invalid",
            _ => "exception",
        };
        FhirError { status, code, diagnostics }
    }

    /// The `OperationOutcome`.
    pub fn outcome(&self) -> Value {
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": self.code, "diagnostics": self.diagnostics}],
        })
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let body = self.outcome();
        (self.status, fhir_json(&body)).into_response()
    }
}

/// A FHIR JSON answer.
pub fn fhir_json(v: &Value) -> Response {
    let mut r = serde_json::to_vec(v).unwrap_or_default().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    r
}

/// A path the registry does not serve.
pub async fn no_such_resource() -> FhirError {
    FhirError::not_found("no such resource type or operation (see /fhir/r4/metadata)")
}

/// The registry's layer: an error answer that is not already FHIR JSON becomes an
/// `OperationOutcome` with the same status and headers (`WWW-Authenticate`, `Retry-After`),
/// its text, if any, as the diagnostics.
pub async fn fhir_boundary(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_fhir = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/fhir+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_fhir {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = match Limited::new(body, 4096).collect().await {
        Ok(c) => String::from_utf8_lossy(&c.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    // A JSON refusal (the API's) says what it means in `message`.
    let text = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or(text);
    let text = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let fresh = FhirError::for_status(status, text).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    let (fresh_parts, fresh_body) = fresh.into_parts();
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, fresh_body)
}
