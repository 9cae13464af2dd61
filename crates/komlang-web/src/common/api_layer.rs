//! The boundary of the JSON API: one layer around every route under `/api` (and its 404
//! fallback) that makes what the OpenAPI document promises hold for every answer, whichever
//! extractor or handler produced it.
//!
//! - **Every refusal is JSON** with the documented error body ([`ApiErrorBody`](super::ApiErrorBody)):
//!   axum's own rejections (an id that is not a number, an unreadable query string, a method
//!   the path does not serve) answer plain text; this layer turns any error answer that is not
//!   JSON into `{"error": KIND, "message": TEXT}` with the same status and headers (`Allow`
//!   stays on a 405).
//! - **JSON bodies are bounded**: a body sent as JSON over [`API_JSON_LIMIT`] answers 413
//!   (`payload_too_large`) before any handler reads it.
//! - **Integers may be spelled `2.0`**: the document is OpenAPI 3.1 (JSON Schema 2020-12), in
//!   which `2.0` is an integer; serde would refuse it for an integer field, so whole numbers
//!   written with a fraction are read as the integers they are; in the path too
//!   ([`whole_ids`], before the routes are matched: `/api/v1/workers/336.0` is worker 336).

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use super::errors::ApiError;

/// The largest JSON body the API reads (axum's default body limit).
pub const API_JSON_LIMIT: usize = 2 * 1024 * 1024;

/// How much of a non-JSON error answer is kept as the message.
const MESSAGE_LIMIT: usize = 8 * 1024;

/// The layer (`axum::middleware::from_fn(api_boundary)`).
pub async fn api_boundary(req: Request, next: Next) -> Response {
    let req = match bounded_json(req).await {
        Ok(req) => req,
        Err(refused) => return refused.into_response(),
    };
    json_errors(next.run(req).await).await
}

/// Whether headers announce JSON (`application/json`, `application/problem+json`, …).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

/// A request whose body is JSON: read within [`API_JSON_LIMIT`] (413 beyond), with whole
/// numbers spelled as floats turned into integers. Other requests pass untouched; a body that
/// is not valid JSON also passes untouched, for the handler's extractor to refuse with its
/// own message.
async fn bounded_json(req: Request) -> Result<Request, ApiError> {
    if !is_json(req.headers()) {
        return Ok(req);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match Limited::new(body, API_JSON_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Err(ApiError::for_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the JSON body is over {} bytes", API_JSON_LIMIT),
            ))
        }
        Err(e) => {
            return Err(ApiError::for_status(StatusCode::BAD_REQUEST, format!("the body could not be read: {e}")))
        }
    };
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut v) => match integers_of_whole_floats(&mut v).then(|| serde_json::to_vec(&v)) {
            // Written out, `1e18` is longer: a body that would no longer fit is left as it came.
            Some(Ok(b)) if b.len() <= API_JSON_LIMIT => Bytes::from(b),
            _ => bytes,
        },
        Err(_) => bytes,
    };
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Rewrites every whole number written with a fraction (`2.0`, `1e3`) in `v` as an integer;
/// whether any was.
pub fn integers_of_whole_floats(v: &mut Value) -> bool {
    match v {
        Value::Number(n) => {
            let Some(f) = n.as_f64().filter(|_| n.is_f64()) else { return false };
            if f.fract() != 0.0 || !f.is_finite() {
                return false;
            }
            // 2^64 and -2^63 bound what u64 and i64 hold (the casts are exact inside).
            let whole = if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                serde_json::Number::from(f as u64)
            } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                serde_json::Number::from(f as i64)
            } else {
                return false;
            };
            *n = whole;
            true
        }
        Value::Array(items) => every(items.iter_mut()),
        Value::Object(fields) => every(fields.values_mut()),
        _ => false,
    }
}

/// [`integers_of_whole_floats`] on each value (every one, not up to the first that changes).
fn every<'a>(values: impl Iterator<Item = &'a mut Value>) -> bool {
    let mut any = false;
    for v in values {
        any |= integers_of_whole_floats(v);
    }
    any
}

/// An error answer that is not JSON, made JSON with the same status and headers.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(resp.headers()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = match Limited::new(body, MESSAGE_LIMIT).collect().await {
        Ok(c) => String::from_utf8_lossy(&c.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    let error = ApiError::for_status(status, text);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    let fresh = error.into_response();
    let (fresh_parts, fresh_body) = fresh.into_parts();
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, fresh_body)
}

/// A path under `/api/` whose segments are whole numbers written with a zero fraction
/// (`336.0`), with each such segment written as the integer it is; other requests unchanged.
pub fn whole_ids(mut req: Request) -> Request {
    let path = req.uri().path();
    let whole = |seg: &str| {
        seg.split_once('.').is_some_and(|(int, frac)| {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && !frac.is_empty()
                && frac.bytes().all(|b| b == b'0')
        })
    };
    if !path.starts_with("/api/") || !path.split('/').any(whole) {
        return req;
    }
    let new_path: Vec<&str> =
        path.split('/').map(|seg| if whole(seg) { seg.split('.').next().unwrap_or(seg) } else { seg }).collect();
    let mut text = new_path.join("/");
    if let Some(q) = req.uri().query() {
        text.push('?');
        text.push_str(q);
    }
    if let Ok(pq) = text.parse::<axum::http::uri::PathAndQuery>() {
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::integers_of_whole_floats;
    use serde_json::json;

    #[test]
    fn whole_floats_become_integers_and_nothing_else_changes() {
        let mut v = serde_json::from_str(
            r#"{"a": 2.0, "b": [1e3, -4.0, 0.5], "c": {"d": 18446744073709551616.0, "e": "2.0", "f": 7}}"#,
        )
        .unwrap_or_default();
        assert!(integers_of_whole_floats(&mut v));
        assert_eq!(v, json!({"a": 2, "b": [1000, -4, 0.5], "c": {"d": 18446744073709551616.0, "e": "2.0", "f": 7}}));
        let mut plain = json!({"a": 1, "b": "x", "c": 0.25});
        assert!(!integers_of_whole_floats(&mut plain));
    }

    #[test]
    fn whole_ids_in_api_paths_become_integers() {
        let path = |p: &str| {
            let req = super::whole_ids(axum::http::Request::builder().uri(p).body(axum::body::Body::empty()).unwrap());
            req.uri().to_string()
        };
        assert_eq!(path("/api/v1/workers/336.0/caseload?x=1.0"), "/api/v1/workers/336/caseload?x=1.0");
        assert_eq!(path("/api/v1/workers/336.00"), "/api/v1/workers/336");
        assert_eq!(path("/api/v1/workers/336.5"), "/api/v1/workers/336.5");
        assert_eq!(path("/api/v1/workers/.0"), "/api/v1/workers/.0");
        assert_eq!(path("/workers/336.0"), "/workers/336.0");
        assert_eq!(path("/api/v1/admin-units/0102"), "/api/v1/admin-units/0102");
    }
}
