//! The OpenAPI document (`/api/openapi.json`) describes the API as it answers: every route's
//! possible refusals by its gate, parameters and body; codes as the API speaks them; refusals
//! as JSON of the documented error body; responses that validate against their schemas.
//! (`.ci/schemathesis` fuzzes the running API against the same document.)
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use komlang_core::competency::AssessmentKind;
use komlang_core::import::ImportField;
use komlang_core::training::{
    CertificateLevel, InstitutionKind, LicenceAction, LicenceStatus, RecognitionKind, TrainingResult,
};
use komlang_core::*;
use komlang_store::testing::engines;
use komlang_web::{Gate, RouteInfo};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn doc() -> Value {
    serde_json::to_value(komlang_web::openapi::document()).unwrap()
}

fn api_routes() -> Vec<RouteInfo> {
    komlang_web::route_table()
        .into_iter()
        .filter(|r| r.is_api() && r.path != komlang_web::openapi::DOCUMENT_PATH)
        .collect()
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method.to_lowercase()]
}

/// `s` with its `$ref` resolved.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => s,
    }
}

fn params<'a>(op: &'a Value, location: &str) -> Vec<&'a Value> {
    op["parameters"].as_array().map(|ps| ps.iter().filter(|p| p["in"] == location).collect()).unwrap_or_default()
}

/// Every `$ref` under `v`.
fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.insert(r.clone());
            }
            o.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_route_documents_what_its_gate_parameters_and_body_can_answer() {
    let doc = doc();
    let mut problems = Vec::new();
    for r in api_routes() {
        let at = format!("{} {}", r.method, r.path);
        let op = operation(&doc, r.method, &r.path);
        if !op.is_object() {
            problems.push(format!("{at}: no operation"));
            continue;
        }
        let responses = &op["responses"];
        let mut expect = Vec::new();
        match r.gate {
            Gate::Public | Gate::Limited => {
                if !op["security"].is_null() {
                    problems.push(format!("{at}: public, yet asks for a token"));
                }
                if r.gate == Gate::Limited {
                    expect.push("429");
                }
            }
            Gate::SignedIn | Gate::Action(_) => {
                expect.push("401");
                if op["security"] != json!([{"bearer": []}]) {
                    problems.push(format!("{at}: gated, yet does not ask for the bearer token"));
                }
            }
        }
        if matches!(r.gate, Gate::Action(_)) {
            expect.push("403");
        }
        let path = params(op, "path");
        let names: BTreeSet<&str> = path.iter().filter_map(|p| p["name"].as_str()).collect();
        let in_path: BTreeSet<&str> =
            r.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        if names != in_path {
            problems.push(format!("{at}: path parameters {names:?}, the path has {in_path:?}"));
        }
        if !path.is_empty() {
            expect.push("404");
        }
        if path.iter().any(|p| p["schema"]["type"] == "integer") || !params(op, "query").is_empty() {
            expect.push("400");
        }
        if op["requestBody"].is_object() {
            expect.extend(["400", "413", "422"]);
        }
        for status in expect {
            if !responses[status].is_object() {
                problems.push(format!("{at}: {status} undocumented"));
            }
        }
        for (status, response) in responses.as_object().unwrap() {
            if !status.starts_with('4') && !status.starts_with('5') {
                continue;
            }
            let schema = &response["content"]["application/json"]["schema"];
            let error_body = json!({"$ref": "#/components/schemas/ApiErrorBody"});
            let branches = resolve(&doc, schema)["oneOf"].as_array().cloned().unwrap_or_default();
            if *schema != error_body && !branches.contains(&error_body) {
                problems.push(format!("{at}: {status} is not the JSON error body: {response}"));
            }
            if response["description"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{at}: {status} says nothing"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_reference_resolves() {
    let doc = doc();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    let missing: Vec<_> = all
        .iter()
        .filter(|r| {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            !doc["components"]["schemas"][name].is_object()
        })
        .collect();
    assert!(missing.is_empty(), "references to no schema: {missing:?}");
}

/// What the API speaks of a vocabulary, as serde writes and reads it.
struct Vocabulary {
    name: &'static str,
    codes: Vec<String>,
    reads: fn(&str) -> bool,
}

fn vocabulary<T: Serialize + DeserializeOwned>(name: &'static str, all: &[T]) -> Vocabulary {
    Vocabulary {
        name,
        codes: all.iter().map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_string()).collect(),
        reads: |code| serde_json::from_value::<T>(json!(code)).is_ok(),
    }
}

/// Every enumeration among the document's schemas lists exactly the codes the API writes,
/// and each reads back (they used to list the Rust names: `Active` for `active`).
#[test]
fn every_enum_lists_the_codes_the_api_speaks() {
    let known = [
        vocabulary("ActionKind", komlang_core::performance::ActionKind::ALL),
        vocabulary("AdminLevel", AdminLevel::ALL),
        vocabulary("AppraisalForm", komlang_core::performance::AppraisalForm::ALL),
        vocabulary("AppraisalStatus", komlang_core::performance::AppraisalStatus::ALL),
        vocabulary("CandidateSource", komlang_core::hiring::CandidateSource::ALL),
        vocabulary("CandidateStatus", komlang_core::hiring::CandidateStatus::ALL),
        vocabulary("DueState", &komlang_core::performance::DueState::ALL),
        vocabulary("PlacementKind", komlang_core::hiring::PlacementKind::ALL),
        vocabulary("RoundKind", komlang_core::hiring::RoundKind::ALL),
        vocabulary("RoundStatus", komlang_core::hiring::RoundStatus::ALL),
        vocabulary("OverallResult", komlang_core::performance::OverallResult::ALL),
        vocabulary("PerformanceList", &komlang_store::performance::PerformanceList::ALL),
        vocabulary("AssessmentKind", AssessmentKind::ALL),
        vocabulary("Cadre", Cadre::ALL),
        vocabulary("CertificateLevel", CertificateLevel::ALL),
        vocabulary("EducationField", EducationField::ALL),
        vocabulary("EducationLevel", EducationLevel::ALL),
        vocabulary("EmploymentStatus", EmploymentStatus::ALL),
        vocabulary("FundingSource", komlang_core::establishment::FundingSource::ALL),
        vocabulary("Grouping", &komlang_store::retention::Grouping::ALL),
        vocabulary("ImportField", ImportField::ALL),
        vocabulary("InstitutionKind", InstitutionKind::ALL),
        vocabulary("LicenceAction", LicenceAction::ALL),
        vocabulary("ListKind", &komlang_store::supervision::ListKind::ALL),
        vocabulary("LicenceStatus", LicenceStatus::ALL),
        vocabulary("OrgKind", OrgKind::ALL),
        vocabulary("PostState", &komlang_store::establishment::PostState::ALL),
        vocabulary("RecognitionKind", RecognitionKind::ALL),
        vocabulary("Sector", Sector::ALL),
        vocabulary("Sex", Sex::ALL),
        vocabulary("SupervisionFunction", komlang_core::supervision::SupervisionFunction::ALL),
        vocabulary("SupervisionModel", komlang_core::supervision::SupervisionModel::ALL),
        vocabulary("TokenState", &komlang_store::TokenState::ALL),
        vocabulary("TrainingResult", TrainingResult::ALL),
        vocabulary("UserRole", UserRole::ALL),
        vocabulary("WorkerRole", WorkerRole::ALL),
    ];
    let doc = doc();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let Some(listed) = schema["enum"].as_array() else { continue };
        let listed: Vec<String> = listed.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
        seen.insert(name.as_str());
        let Some(v) = known.iter().find(|v| v.name == name) else {
            problems.push(format!("{name}: an enumeration this test does not know; add its type to `known`"));
            continue;
        };
        if listed != v.codes {
            problems.push(format!("{name} lists {listed:?}; the API speaks {:?}", v.codes));
        }
        for code in listed.iter().filter(|c| !(v.reads)(c)) {
            problems.push(format!("{name}: `{code}` does not read back"));
        }
    }
    for v in &known {
        if !seen.contains(v.name) {
            problems.push(format!("{}: not in the document", v.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The document's blank is exactly what the API reads as none: white space alone, as Rust's
/// `char::is_whitespace` (and so `NonBlank`) has it, character by character.
#[test]
fn the_documented_blank_is_what_the_api_reads_as_none() {
    let schema = json!({"type": "string", "pattern": komlang_web::openapi::BLANK_PATTERN});
    let blank = jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).unwrap();
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        let s = format!("{c}{c}");
        assert_eq!(blank.is_valid(&json!(s)), s.non_blank().is_none(), "U+{:04X}", c as u32);
    }
    assert!(blank.is_valid(&json!("")) && !blank.is_valid(&json!(" a ")));
}

/// The codes a query parameter's schema lists (through `$ref`, `anyOf`, `oneOf`).
fn listed_codes(doc: &Value, s: &Value) -> Vec<String> {
    let s = resolve(doc, s);
    let mut out: Vec<String> =
        s["enum"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
    for k in ["anyOf", "oneOf"] {
        for branch in s[k].as_array().into_iter().flatten() {
            out.extend(listed_codes(doc, branch));
        }
    }
    out
}

/// A path with its parameters filled by `value`.
fn filled(path: &str, value: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { value.to_string() } else { s.to_string() })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(app: &TestApp, token: Option<&str>, method: Method, url: &str, body: Option<Value>) -> reqwest::Response {
    let c = reqwest::Client::new();
    let mut r = c.request(method, app.url(url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

/// Each code a query parameter lists is one the API accepts, and so is a blank value (the API
/// reads it as none): neither answers 400.
#[tokio::test]
async fn every_listed_code_and_a_blank_are_accepted() {
    let doc = doc();
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let mut tried = 0;
        for r in api_routes().into_iter().filter(|r| r.method == "GET") {
            let op = operation(&doc, "GET", &r.path);
            let query = params(op, "query");
            // Required parameters take their first code.
            let required: Vec<(String, String)> = query
                .iter()
                .filter(|p| p["required"] == true)
                .map(|p| {
                    let codes = listed_codes(&doc, &p["schema"]);
                    let value = codes.first().cloned().unwrap_or_else(|| "ab".into());
                    (p["name"].as_str().unwrap().to_string(), value)
                })
                .collect();
            for p in query.iter().filter(|p| p["required"] != true) {
                let name = p["name"].as_str().unwrap();
                let codes = listed_codes(&doc, &p["schema"]);
                if codes.is_empty() {
                    continue;
                }
                for value in codes.iter().map(String::as_str).chain([" "]) {
                    let mut q = required.clone();
                    q.push((name.to_string(), value.to_string()));
                    let url = format!("{}?{}", filled(&r.path, "1"), serde_urlencoded::to_string(&q).unwrap());
                    let resp = call(&app, Some(&admin), Method::GET, &url, None).await;
                    let status = resp.status();
                    assert_ne!(status, StatusCode::BAD_REQUEST, "{engine:?} GET {url}: {}", resp.text().await.unwrap());
                    assert!(
                        op["responses"][status.as_str()].is_object(),
                        "{engine:?} GET {url}: {status} undocumented"
                    );
                    tried += 1;
                }
            }
        }
        assert!(tried > 100, "only {tried} codes tried");
        app.stop().await;
    }
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// A refusal as the document promises it: JSON of the error body, with a documented status.
async fn assert_json_refusal(doc: &Value, at: &str, op: Option<&Value>, r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "{at}");
    assert!(content_type(&r).starts_with("application/json"), "{at}: {}", content_type(&r));
    if let Some(op) = op {
        assert!(op["responses"][status.to_string()].is_object(), "{at}: {status} is not documented");
    }
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].is_string() && body["message"].is_string(), "{at}: {body}");
    let _ = doc;
    body
}

/// Refusals from axum's own extractors and router are JSON under /api, with the status the
/// document gives: an id that is not a number (400, was `text/plain`), no token (401), a body
/// over 2 MiB (413, was 400), a method the path does not serve (405, with `Allow`).
#[tokio::test]
async fn every_refusal_is_json_and_documented() {
    let doc = doc();
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        for r in api_routes() {
            let op = operation(&doc, r.method, &r.path);
            let method = Method::from_bytes(r.method.as_bytes()).unwrap();
            let body = op["requestBody"].is_object().then(|| json!({}));
            if !matches!(r.gate, Gate::Public | Gate::Limited) {
                let at = format!("{engine:?} {} {} without a token", r.method, r.path);
                let resp = call(&app, None, method.clone(), &filled(&r.path, "1"), body.clone()).await;
                assert_json_refusal(&doc, &at, Some(op), resp, 401).await;
            }
            if params(op, "path").iter().any(|p| p["schema"]["type"] == "integer") {
                let at = format!("{engine:?} {} {} with abc", r.method, r.path);
                let resp = call(&app, Some(&admin), method, &filled(&r.path, "abc"), body).await;
                let v = assert_json_refusal(&doc, &at, Some(op), resp, 400).await;
                assert_eq!(v["error"], "bad_request", "{at}: {v}");
            }
        }

        let create = operation(&doc, "POST", "/api/v1/workers");
        let c = reqwest::Client::new();
        let post = |body: Vec<u8>, content_type: &'static str| {
            c.post(app.url("/api/v1/workers"))
                .bearer_auth(&admin)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        let at = "a body over 2 MiB";
        let big = format!("{{\"name_km\": \"{}\"}}", "x".repeat(3 * 1024 * 1024)).into_bytes();
        let v = assert_json_refusal(&doc, at, Some(create), post(big, "application/json").await.unwrap(), 413).await;
        assert_eq!(v["error"], "payload_too_large", "{v}");
        let at = "malformed JSON";
        let v = assert_json_refusal(
            &doc,
            at,
            Some(create),
            post(b"{\"a\":".to_vec(), "application/json").await.unwrap(),
            400,
        )
        .await;
        assert_eq!(v["error"], "bad_request", "{v}");
        let at = "JSON without its content type";
        assert_json_refusal(&doc, at, Some(create), post(b"{}".to_vec(), "text/plain").await.unwrap(), 400).await;

        let resp = call(&app, Some(&admin), Method::PUT, "/api/v1/workers", Some(json!({}))).await;
        let allow = resp.headers().get("allow").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(allow.contains("GET") && allow.contains("POST"), "405 keeps Allow: {allow}");
        let v = assert_json_refusal(&doc, "PUT /api/v1/workers", None, resp, 405).await;
        assert_eq!(v["error"], "method_not_allowed", "{v}");

        let resp = call(&app, Some(&admin), Method::GET, "/api/v1/no-such-thing", None).await;
        assert_json_refusal(&doc, "an unknown path", None, resp, 404).await;
        app.stop().await;
    }
}

/// In OpenAPI 3.1, `3.0` is an integer: the API reads it as one.
#[tokio::test]
async fn integers_written_as_whole_floats_are_read() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let body = json!({"term_years": 3.0, "renewal_ce_hours": 2.4e1});
        let r = call(&app, Some(&admin), Method::PUT, "/api/v1/licensing/rules", Some(body)).await;
        assert_eq!(r.status(), 200, "{engine:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!((v["term_years"].clone(), v["renewal_ce_hours"].clone()), (json!(3), json!(24)), "{v}");
        let half = json!({"term_years": 2.5, "renewal_ce_hours": 24});
        let r = call(&app, Some(&admin), Method::PUT, "/api/v1/licensing/rules", Some(half)).await;
        assert_eq!(r.status(), 400, "{engine:?}: 2.5 is no integer");
        app.stop().await;
    }
}

/// Asking for a programme's modules and for courses on their own at once is a rule no schema
/// of query parameters states: 422 (it was 400, which says the request is malformed).
#[tokio::test]
async fn a_programme_and_standalone_together_is_422() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let r = call(&app, Some(&admin), Method::GET, "/api/v1/training/courses?programme_id=1&standalone=true", None)
            .await;
        assert_eq!(r.status(), 422, "{engine:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["fields"][0]["code"], "programme_or_standalone", "{v}");
        app.stop().await;
    }
}

/// A validator of one response schema of the document.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    jsonschema::options().with_draft(jsonschema::Draft::Draft202012).should_validate_formats(true).build(&root).unwrap()
}

/// What the API answers to every GET on a demo database has a documented status and, when it
/// is JSON, validates against the documented schema.
#[tokio::test]
async fn what_the_api_returns_validates() {
    let doc = doc();
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.db.store.load_demo(komlang_web::common::today()).await.unwrap();
        let (_, admin) = app.account("openapi-admin", UserRole::NationalAdmin, None, None, None).await;
        let get = |url: String| {
            let (app, admin) = (&app, admin.clone());
            async move {
                let v: Value = call(app, Some(&admin), Method::GET, &url, None).await.json().await.unwrap();
                v
            }
        };
        let worker = get("/api/v1/workers?per_page=1".into()).await["items"][0]["id"].as_i64().unwrap();
        let trained = get("/api/v1/certificates?per_page=1".into()).await["items"][0]["certificate"].clone();
        let holder = trained["worker_id"].as_i64().unwrap_or(worker);
        let certificate = trained["number"].as_str().unwrap_or("C-0000-0000-0000-0").to_string();
        let event = get("/api/v1/training/events?per_page=1".into()).await["items"][0]["id"].as_i64().unwrap_or(1);
        let licence = get("/api/v1/licences?per_page=1".into()).await["items"][0]["id"].as_i64().unwrap_or(1);
        let assessments = get(format!("/api/v1/workers/{holder}/assessments")).await;
        let assessment = assessments[0]["id"].as_i64().unwrap_or(1);
        let org = get("/api/v1/organizations?per_page=1".into()).await["items"][0]["id"].as_i64().unwrap();
        let value_of = |path: &str, name: &str| -> String {
            match (path, name) {
                (p, "id") if p.starts_with("/api/v1/workers/") => holder.to_string(),
                (p, "id") if p.starts_with("/api/v1/organizations/") => org.to_string(),
                (p, "id") if p.starts_with("/api/v1/training/events/") => event.to_string(),
                (p, "id") if p.starts_with("/api/v1/licences/") => licence.to_string(),
                (p, "id") if p.starts_with("/api/v1/assessments/") => assessment.to_string(),
                (_, "number") => certificate.clone(),
                (_, "code") => "02".into(),
                (_, "version") => "mosvy-2019".into(),
                _ => "1".into(),
            }
        };
        let mut validated = 0;
        for r in api_routes().into_iter().filter(|r| r.method == "GET") {
            let op = operation(&doc, "GET", &r.path);
            let mut url: String = r
                .path
                .split('/')
                .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => value_of(&r.path, name),
                    None => s.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let required: Vec<(String, String)> = params(op, "query")
                .iter()
                .filter(|p| p["required"] == true)
                .map(|p| {
                    let codes = listed_codes(&doc, &p["schema"]);
                    (p["name"].as_str().unwrap().to_string(), codes.first().cloned().unwrap_or_else(|| "ka".into()))
                })
                .collect();
            if !required.is_empty() {
                url = format!("{url}?{}", serde_urlencoded::to_string(&required).unwrap());
            }
            let resp = call(&app, Some(&admin), Method::GET, &url, None).await;
            let status = resp.status();
            let documented = &op["responses"][status.as_str()];
            assert!(documented.is_object(), "{engine:?} GET {url}: {status} undocumented");
            if !content_type(&resp).starts_with("application/json") {
                continue;
            }
            let schema = &documented["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{engine:?} GET {url}: {status} answers JSON the document does not describe");
            let body: Value = resp.json().await.unwrap();
            let errors: Vec<String> = validator(&doc, schema)
                .iter_errors(&body)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .take(5)
                .collect();
            assert!(errors.is_empty(), "{engine:?} GET {url} ({status}) does not validate:\n{}", errors.join("\n"));
            validated += 1;
        }
        assert!(validated > 30, "only {validated} answers validated");
        app.stop().await;
    }
}
