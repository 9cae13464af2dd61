//! Record versions over HTTP (`docs/api.md`, "Editing safely"). Every record a user can edit
//! carries a version that each change raises. The API sends it as the record's `ETag`
//! ([`Tagged`]) and honours `If-Match` on a change ([`IfMatch`]): a stale version is answered
//! 412 with the current `ETag` and changes nothing. A form carries it as the hidden field
//! `record_version` ([`form_version`]); a stale form is shown again with what changed meanwhile
//! (`common::conflict`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::Versioned;
use serde::Serialize;

pub use super::errors::etag;
use super::errors::ApiError;
use crate::AppState;

/// What the form of a stored record carries besides its fields: the record's version as read
/// and its values then (hidden fields), and, when someone else changed it meanwhile, the
/// conflict to show (`common::conflict`).
#[derive(Default)]
pub struct Versioning {
    pub version: Option<i64>,
    /// The record's values when the form was opened (`common::conflict::base_text`).
    pub base: String,
    pub conflict: Option<ConflictView>,
}

/// One field that either side changed.
pub struct ConflictRow {
    pub label: String,
    pub base: String,
    pub theirs: String,
    pub yours: String,
    /// What the form holds now.
    pub now: String,
    /// Both changed it, to different values: the user's entry is on the form.
    pub clash: bool,
}

/// The conflict as the form templates show it (`common/conflict.html`).
pub struct ConflictView {
    /// Where "drop my changes" leads: the record's page.
    pub drop_to: String,
    pub rows: Vec<ConflictRow>,
    /// Who changed the record meanwhile, and when, in the interface language.
    pub changed_by: Vec<String>,
}

/// A versioned record as an API answer: its JSON with its `ETag`.
pub struct Tagged<T>(pub T);

impl<T: Serialize + Versioned> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let tag = etag(self.0.version());
        let mut r = Json(self.0).into_response();
        r.headers_mut().insert(header::ETAG, tag);
        r
    }
}

/// The version a change of a record expects, from `If-Match`: none when the header is absent
/// (unless the server requires it: 428) or `*`. A tag that names no version of Komlang's
/// (`"abc"`) matches none, so the change is refused as stale (412), as HTTP asks; a value that
/// is not one entity tag (no quotes, two tags, nothing) is refused as malformed (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i64>);

impl FromRequestParts<AppState> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let values: Vec<&HeaderValue> = parts.headers.get_all(header::IF_MATCH).iter().collect();
        if values.is_empty() {
            if state.config.require_if_match {
                return Err(ApiError::new(
                    StatusCode::PRECONDITION_REQUIRED,
                    "precondition_required",
                    "send If-Match with the ETag of the record as you read it",
                ));
            }
            return Ok(IfMatch(None));
        }
        let mut tags = Vec::new();
        for v in values {
            let v = v.to_str().map_err(|_| one_version())?;
            tags.extend(v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string));
        }
        match tags.as_slice() {
            [t] => parse_tag(t).map(IfMatch).ok_or_else(one_version),
            _ => Err(one_version()),
        }
    }
}

fn one_version() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "If-Match must hold one ETag: the record's, as you read it")
}

/// The version an `If-Match` tag names (`Some(None)` for `*`); for a tag that is not one of
/// Komlang's, a version no record has (so it never matches); none when the value is not a tag
/// at all (empty, quoted at one end only, other characters than the documented pattern's). A
/// weak tag is taken as the strong one it weakens (clients and proxies add `W/`), and a version
/// without its quotes as the tag (some clients drop them).
fn parse_tag(tag: &str) -> Option<Option<i64>> {
    if tag == "*" {
        return Some(None);
    }
    let t = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = match (t.strip_prefix('"'), t.strip_suffix('"')) {
        (Some(rest), Some(_)) if t.len() >= 2 => &rest[..rest.len() - 1],
        (None, None) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t,
        _ => return None,
    };
    // The characters of the documented pattern (IfMatchHeader).
    if !inner.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return None;
    }
    Some(Some(inner.parse::<i64>().ok().filter(|v| *v > 0).unwrap_or(0)))
}

/// The name of a record form's hidden field that holds the record's version as read.
pub const VERSION_FIELD: &str = "record_version";

/// The version a submitted form was read at (its hidden [`VERSION_FIELD`]); none when the form
/// has none (a form from before versions existed) or an unreadable one.
pub fn form_version(value: Option<&str>) -> Option<i64> {
    value.and_then(|v| v.trim().parse::<i64>().ok())
}

/// The hidden field's value: `Option<i64>` in a typed form, where an empty or unreadable
/// value is none, as `#[serde(default, deserialize_with = "crate::common::versions::hidden_version")]`.
pub fn hidden_version<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let v = <Option<String> as serde::Deserialize>::deserialize(d)?;
    Ok(form_version(v.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_versions() {
        assert_eq!(parse_tag("\"7\""), Some(Some(7)));
        assert_eq!(parse_tag("W/\"7\""), Some(Some(7)));
        assert_eq!(parse_tag("*"), Some(None));
        // Not a version of Komlang's: matches no record.
        assert_eq!(parse_tag("\"abc\""), Some(Some(0)));
        assert_eq!(parse_tag("\"-3\""), Some(Some(0)));
        // Without its quotes: the tag all the same.
        assert_eq!(parse_tag("7"), Some(Some(7)));
        assert_eq!(parse_tag("0"), Some(Some(0)));
        // Not a tag.
        assert_eq!(parse_tag("\"7"), None);
        assert_eq!(parse_tag("7\""), None);
        assert_eq!(parse_tag("\""), None);
        assert_eq!(parse_tag("{}"), None);
        assert_eq!(parse_tag("\"a b\""), None);
        assert_eq!(etag(12), HeaderValue::from_static("\"12\""));
        assert_eq!(form_version(Some(" 4 ")), Some(4));
        assert_eq!(form_version(Some("")), None);
    }
}

/// `If-Match` as the OpenAPI document lists it on every change of a versioned record.
#[derive(utoipa::IntoParams)]
#[into_params(names("If-Match"), parameter_in = Header)]
pub struct IfMatchHeader(
    /// The record's `ETag` as you read it (`"3"`): the change is made only if the record is
    /// still at that version, else 412 and nothing changes. `*` or none: whatever the version
    /// (unless the server requires `If-Match`: then 428). One tag, in double quotes (`W/`, and a
    /// version without its quotes, are taken too); anything else answers 400.
    #[allow(dead_code)]
    #[param(required = false, pattern = r#"^(\*|(W/)?"[0-9A-Za-z._-]*"|[0-9]+)$"#)]
    String,
);

/// The answers to a change of a versioned record that `If-Match` adds, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum VersionedWrite {
    /// `If-Match` is not one entity tag (no quotes, two tags, nothing, not text).
    #[response(status = 400)]
    Unclear(super::errors::ApiErrorBody),
    /// The record was changed since the `If-Match` version; nothing was saved. The answer's
    /// `ETag` is the record's current version.
    #[response(status = 412, headers(("ETag" = String, description = "The record's current version")))]
    Stale(super::errors::ApiErrorBody),
    /// The server requires `If-Match` (`komlang serve --require-if-match`) and none was sent.
    #[response(status = 428)]
    Required(super::errors::ApiErrorBody),
}
