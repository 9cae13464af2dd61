//! The OpenAPI document at `/api/openapi.json`: every feature's part (its `*ApiDoc`) merged
//! into one, with the bearer-token security scheme, and completed from the route table so
//! that it cannot drift from what the router does:
//!
//! - a route behind a gate takes the bearer token and can answer 401; behind an action's gate,
//!   403 as well (a public route takes no token);
//! - a route with path parameters can answer 404 (no such record in the caller's scope), and
//!   400 when a numeric one is not a number;
//! - query parameters can be refused with 400; a body with 400 (not of the documented shape),
//!   413 (too large) and 422 (invalid fields);
//! - an optional query parameter or body field of codes or dates may also be blank, which the
//!   API reads as none ([`BLANK_PATTERN`]).
//!
//! Every error answer is the JSON of [`ApiErrorBody`] (`common::api_layer` makes sure of it).
//! What a handler documents itself (a 404 without path parameters, a 409, a 422 of a report)
//! is kept as it wrote it.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{json, Value};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema, Type};
use utoipa::{Modify, OpenApi};

use crate::common::{ApiErrorBody, ApiFieldError, Gate, RouteInfo, Routes};
use crate::{
    accounts, audit, caseloads, competency, costs, establishment, imports, licensing, organizations, performance,
    planning, public, recruitment, retention, supervision, training, units, workers,
};

/// The path of the document itself (the one API route it does not describe).
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document's frame: its title, the error bodies every part uses, the security scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "Komlang API", description = "Registry of the social service workforce. Every call is limited to the caller's role and geographic scope: records outside it answer 404. Every error answer is JSON: `{\"error\": KIND, \"message\": TEXT, \"fields\": [...]}`."),
    components(schemas(ApiErrorBody, ApiFieldError)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The whole document: the frame, every feature's part, and the answers every route can give
/// by its gate, parameters and body ([`complete`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [
        accounts::AccountsApiDoc::openapi(),
        workers::WorkersApiDoc::openapi(),
        organizations::OrganizationsApiDoc::openapi(),
        units::UnitsApiDoc::openapi(),
        audit::AuditApiDoc::openapi(),
        imports::ImportsApiDoc::openapi(),
        competency::CompetencyApiDoc::openapi(),
        planning::PlanningApiDoc::openapi(),
        establishment::EstablishmentApiDoc::openapi(),
        supervision::SupervisionApiDoc::openapi(),
        costs::CostsApiDoc::openapi(),
        retention::RetentionApiDoc::openapi(),
        recruitment::RecruitmentApiDoc::openapi(),
        recruitment::RoundsApiDoc::openapi(),
        performance::PerformanceApiDoc::openapi(),
        caseloads::CaseloadsApiDoc::openapi(),
        training::TrainingApiDoc::openapi(),
        licensing::LicensingApiDoc::openapi(),
        public::PublicApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    complete(&mut doc, &crate::route_table());
    admit_blanks(&mut doc);
    doc
}

/// What each error status means, as the document says it.
const ERRORS: &[(u16, &str)] = &[
    (400, "Malformed request: a path or query parameter of the wrong type or an unknown code, or a body that is not JSON of the documented shape"),
    (401, "No bearer token, or not a valid one"),
    (403, "The caller's role does not allow this"),
    (404, "No such record in the caller's scope"),
    (413, "The body is too large (JSON bodies: 2 MiB)"),
    (422, "Invalid input: one entry per bad field in `fields`; nothing was saved"),
    (429, "Too many requests from this client address this minute (see `Retry-After`)"),
];

/// The error statuses a route can answer by its gate, its parameters and its body.
fn derived_errors(route: &RouteInfo, op: &Operation) -> Vec<u16> {
    let mut out = Vec::new();
    if matches!(route.gate, Gate::SignedIn | Gate::Action(_)) {
        out.push(401);
    }
    if route.gate == Gate::Limited {
        out.push(429);
    }
    if matches!(route.gate, Gate::Action(_)) {
        out.push(403);
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let path_params: Vec<_> = params.iter().filter(|p| p.parameter_in == ParameterIn::Path).collect();
    let numeric_path = path_params
        .iter()
        .any(|p| matches!(&p.schema, Some(RefOr::T(Schema::Object(o))) if o.schema_type == Type::Integer.into()));
    let query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let body = op.request_body.is_some();
    if numeric_path || query || body {
        out.push(400);
    }
    if !path_params.is_empty() {
        out.push(404);
    }
    if body {
        out.extend([413, 422]);
    }
    out
}

/// Adds to every API operation the answers its route can give ([`derived_errors`]) and the
/// bearer token when it is gated.
pub fn complete(doc: &mut utoipa::openapi::OpenApi, routes: &[RouteInfo]) {
    for route in routes.iter().filter(|r| r.is_api() && r.path != DOCUMENT_PATH) {
        let Some(item) = doc.paths.paths.get_mut(&route.path) else { continue };
        let op = match route.method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        let Some(op) = op else { continue };
        for status in derived_errors(route, op) {
            let text = ERRORS.iter().find(|(s, _)| *s == status).map_or("Error", |(_, t)| t);
            op.responses.responses.entry(status.to_string()).or_insert_with(|| error_response(text));
        }
        // Every error a handler documents has the error body, unless it names its own, and
        // says what it means.
        for (status, response) in op.responses.responses.iter_mut() {
            let RefOr::T(r) = response else { continue };
            if !status.starts_with('4') {
                continue;
            }
            if r.description.is_empty() {
                let text = ERRORS.iter().find(|(s, _)| s.to_string() == *status).map_or("Refused", |(_, t)| t);
                r.description = text.to_string();
            }
            if r.content.is_empty() {
                *response = error_response(&r.description);
            }
        }
        op.security = match route.gate {
            Gate::Public | Gate::Limited => None,
            Gate::SignedIn | Gate::Action(_) => Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]),
        };
    }
}

/// White space alone: what the API reads as no value in an optional parameter or field
/// (`komlang_core::NonBlank`); the characters are those of Rust's `char::is_whitespace`.
pub const BLANK_PATTERN: &str =
    "^[\t-\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]*$";

/// `s` with `$ref` resolved in `schemas`.
fn resolved<'a>(s: &'a Value, schemas: &'a Value) -> &'a Value {
    match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &schemas[name],
        None => s,
    }
}

/// Whether a schema is text with a constraint (codes, a format, a pattern): a blank value,
/// which the API reads as none, would not match it.
fn constrained_text(s: &Value, schemas: &Value) -> bool {
    let s = resolved(s, schemas);
    let text = s["type"] == "string" || s["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "string"));
    (text && ["enum", "format", "pattern"].iter().any(|k| s.get(k).is_some()))
        || ["oneOf", "anyOf"]
            .iter()
            .any(|k| s[k].as_array().is_some_and(|b| b.iter().any(|x| constrained_text(x, schemas))))
}

fn admits_null(s: &Value) -> bool {
    let null = |s: &Value| s["type"] == "null" || s["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"));
    null(s) || ["oneOf", "anyOf"].iter().any(|k| s[k].as_array().is_some_and(|b| b.iter().any(null)))
}

/// `s`, or a blank text.
fn or_blank(mut s: Value) -> Value {
    let blank = json!({"type": "string", "pattern": BLANK_PATTERN, "description": "Blank: none"});
    let description = s.as_object_mut().and_then(|o| o.remove("description"));
    let mut out = match s.as_object_mut().and_then(|o| o.remove("oneOf").or_else(|| o.remove("anyOf"))) {
        Some(Value::Array(mut branches)) if s.as_object().is_some_and(|o| o.is_empty()) => {
            branches.push(blank);
            json!({ "anyOf": branches })
        }
        Some(branches) => {
            s["oneOf"] = branches;
            json!({ "anyOf": [s, blank] })
        }
        None => json!({ "anyOf": [s, blank] }),
    };
    if let Some(d) = description {
        out["description"] = d;
    }
    out
}

/// Lets every optional query parameter and every optional field of a request body that takes
/// constrained text (codes, dates) be blank, as the API reads a blank value as none.
fn admit_blanks(doc: &mut utoipa::openapi::OpenApi) {
    let Some(components) = doc.components.as_mut() else { return };
    let schemas = serde_json::to_value(&components.schemas).unwrap_or_default();
    let mut bodies = std::collections::BTreeSet::new();
    for item in doc.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            for param in op.parameters.iter_mut().flatten() {
                let optional = param.required != utoipa::openapi::Required::True;
                let Some(schema) = param.schema.as_ref() else { continue };
                let v = serde_json::to_value(schema).unwrap_or_default();
                if param.parameter_in == ParameterIn::Query && optional && constrained_text(&v, &schemas) {
                    param.schema = serde_json::from_value(or_blank(v)).ok().or(param.schema.take());
                }
            }
            let body = op.request_body.as_ref().map(|b| serde_json::to_value(b).unwrap_or_default());
            for content in body.iter().filter_map(|b| b["content"].as_object()).flat_map(|c| c.values()) {
                let s = &content["schema"];
                for r in [&s["$ref"], &s["items"]["$ref"]] {
                    if let Some(name) = r.as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
                        bodies.insert(name.to_string());
                    }
                }
            }
        }
    }
    for name in bodies {
        let Some(schema) = components.schemas.get_mut(&name) else { continue };
        let mut v = serde_json::to_value(&*schema).unwrap_or_default();
        let required: Vec<Value> = v["required"].as_array().cloned().unwrap_or_default();
        let Some(props) = v["properties"].as_object_mut() else { continue };
        for (field, prop) in props.iter_mut() {
            if !required.contains(&json!(field)) && admits_null(prop) && constrained_text(prop, &schemas) {
                *prop = or_blank(prop.take());
            }
        }
        if let Ok(updated) = serde_json::from_value(v) {
            *schema = updated;
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiErrorBody"))).build(),
            )
            .build(),
    )
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    Json(DOCUMENT.get_or_init(document).clone())
}

pub fn routes(r: Routes) -> Routes {
    r.get(DOCUMENT_PATH, Gate::Public, openapi)
}
