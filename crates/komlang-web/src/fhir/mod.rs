//! The registry as FHIR R4 (IHE mCSD's Care Services Selective Supplier): `GET /fhir/r4/…`,
//! read-only, with the API's bearer tokens and each account's scope. Find Matching Care
//! Services (ITI-90): searches of Practitioner, PractitionerRole, Organization and Location with
//! paged `searchset` Bundles; Request Care Services Updates (ITI-91): `_history?_since=` per
//! resource type. The CapabilityStatement (`/fhir/r4/metadata`) lists exactly what is served;
//! docs/fhir.md says how records map to resources.

mod codes;
mod resources;
mod search;

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use komlang_core::{Action, Principal};
use komlang_store::fhir::{Change, FhirOrg, FhirUnit, PractitionerQuery, RoleQuery, Updated, WorkerResource};
use komlang_store::StoreError;
use serde_json::{json, Value};

use crate::common::fhir_outcome::{fhir_json, FhirError};
use crate::common::routes::FHIR_BASE;
use crate::common::{today, ApiUser, Gate, Routes};
use crate::AppState;
use codes::sid;
use search::{Param, Search};

pub fn routes(r: Routes) -> Routes {
    let any = Gate::SignedIn;
    let workers = Gate::Action(Action::ReadWorkers);
    let orgs = Gate::Action(Action::ReadOrgs);
    r.get("/fhir/r4/metadata", any, metadata)
        .get("/fhir/r4/CodeSystem", any, code_systems)
        .get("/fhir/r4/CodeSystem/{id}", any, code_system)
        .get("/fhir/r4/Practitioner", workers, practitioners)
        .get("/fhir/r4/Practitioner/_history", workers, practitioner_history)
        .get("/fhir/r4/Practitioner/{id}", workers, practitioner)
        .get("/fhir/r4/PractitionerRole", workers, practitioner_roles)
        .get("/fhir/r4/PractitionerRole/_history", workers, practitioner_role_history)
        .get("/fhir/r4/PractitionerRole/{id}", workers, practitioner_role)
        .get("/fhir/r4/Organization", orgs, organizations)
        .get("/fhir/r4/Organization/_history", orgs, organization_history)
        .get("/fhir/r4/Organization/{id}", orgs, organization)
        .get("/fhir/r4/Location", any, locations)
        .get("/fhir/r4/Location/_history", any, location_history)
        .get("/fhir/r4/Location/{id}", any, location)
}

type FhirResult = Result<Response, FhirError>;

fn store(e: StoreError) -> FhirError {
    match e {
        StoreError::NotFound => FhirError::not_found("no such resource"),
        StoreError::Forbidden => {
            FhirError::for_status(axum::http::StatusCode::FORBIDDEN, "not allowed for this account".into())
        }
        other => FhirError::internal(other),
    }
}

/// The registry's address as the client reached it (`http://host/fhir/r4`): `https` when the
/// server sets secure cookies (it is served over HTTPS) or a trusted proxy says so.
fn base(headers: &HeaderMap, app: &AppState) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)))
        .unwrap_or("localhost");
    let forwarded_https = app.config.proxy_hops > 0
        && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == "https");
    let scheme = if app.config.secure_cookies || forwarded_https { "https" } else { "http" };
    format!("{scheme}://{host}{FHIR_BASE}")
}

/// A searchset Bundle of a page of `matches` (with `includes`), the total (when counted), and
/// its links: by offset for the lists held in memory, by key (`_after` the page's last id) for
/// the Practitioners and PractitionerRoles, so that a deep page costs no more than the first.
fn searchset(
    base: &str,
    resource: &str,
    s: &Search,
    total: Option<u64>,
    matches: Vec<Value>,
    includes: Vec<Value>,
) -> Value {
    let entry = |r: Value, mode: &str| {
        let kind = r["resourceType"].as_str().unwrap_or_default().to_string();
        let id = r["id"].as_str().unwrap_or_default().to_string();
        json!({"fullUrl": format!("{base}/{kind}/{id}"), "resource": r, "search": {"mode": mode}})
    };
    let shown = matches.len() as u64;
    let by_key = matches!(resource, "Practitioner" | "PractitionerRole");
    let last_id = matches.last().and_then(|r| r["id"].as_str()).and_then(|id| id.parse::<i64>().ok());
    let at = |q: String| format!("{base}/{resource}?{q}");
    let mut links = vec![json!({"relation": "self", "url": at(match s.after {
        Some(a) => s.query_after(a),
        None => s.query_at(s.offset),
    })})];
    if by_key {
        if let (Some(last), true) = (last_id, s.count > 0 && shown == s.count) {
            links.push(json!({"relation": "next", "url": at(s.query_after(last))}));
        }
    } else {
        let more = total.is_some_and(|t| s.offset.saturating_add(shown) < t);
        if s.count > 0 && shown > 0 && more {
            links.push(json!({"relation": "next", "url": at(s.query_at(s.offset + shown))}));
        }
        if s.offset > 0 {
            links.push(json!({"relation": "previous", "url": at(s.query_at(s.offset.saturating_sub(s.count.max(1))))}));
        }
    }
    let mut entries: Vec<Value> = matches.into_iter().map(|r| entry(r, "match")).collect();
    entries.extend(includes.into_iter().map(|r| entry(r, "include")));
    let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "link": links});
    if let Some(t) = total {
        bundle["total"] = json!(t);
    }
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    bundle
}

/// One page of a list held in memory.
fn page<T>(items: Vec<T>, s: &Search) -> Vec<T> {
    let start = usize::try_from(s.offset).unwrap_or(usize::MAX);
    let n = usize::try_from(s.count).unwrap_or(usize::MAX);
    items.into_iter().skip(start).take(n).collect()
}

// ---------------------------------------------------------------------------------------------
// The CapabilityStatement and the code systems
// ---------------------------------------------------------------------------------------------

/// Search parameters per resource type, with their FHIR type and modifiers: what the
/// CapabilityStatement lists and what each search accepts.
/// A search parameter: its name, FHIR type and modifiers.
type ParamSpec = (&'static str, &'static str, &'static [&'static str]);

const PARAMS: &[(&str, &[ParamSpec])] = &[
    (
        "Practitioner",
        &[("identifier", "token", &[]), ("name", "string", &["contains", "exact"]), ("active", "token", &[])],
    ),
    (
        "PractitionerRole",
        &[
            ("active", "token", &[]),
            ("practitioner", "reference", &[]),
            ("organization", "reference", &[]),
            ("location", "reference", &[]),
            ("role", "token", &[]),
            ("_include", "special", &[]),
        ],
    ),
    (
        "Organization",
        &[
            ("identifier", "token", &[]),
            ("name", "string", &["contains", "exact"]),
            ("active", "token", &[]),
            ("partof", "reference", &["below"]),
            ("type", "token", &[]),
        ],
    ),
    (
        "Location",
        &[
            ("identifier", "token", &[]),
            ("name", "string", &["contains", "exact"]),
            ("partof", "reference", &["below"]),
            ("type", "token", &[]),
            ("status", "token", &[]),
            ("organization", "reference", &[]),
        ],
    ),
];

/// A search of `resource` read from the query string against [`PARAMS`].
fn parse_search(resource: &str, query: Option<&str>) -> Result<Search, FhirError> {
    let own = PARAMS.iter().find(|(r, _)| *r == resource).map(|(_, p)| *p).unwrap_or(&[]);
    let names: Vec<&str> = own.iter().map(|(n, _, _)| *n).collect();
    let mods: Vec<(&str, &[&str])> = own.iter().map(|(n, _, m)| (*n, *m)).collect();
    search::parse(resource, query, &names, &mods)
}

/// When what the CapabilityStatement says last changed.
const STATEMENT_DATE: &str = "2026-12-07";

async fn metadata(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let base = base(&headers, &app);
    let common = |name: &str, kind: &str, doc: &str| json!({"name": name, "type": kind, "documentation": doc});
    let resources: Vec<Value> = PARAMS
        .iter()
        .map(|(resource, params)| {
            let mut search_params = vec![
                common("_id", "token", "The resource's id."),
                common("_lastUpdated", "date", "When it last changed: eq (default), gt, ge, lt, le."),
            ];
            for (name, kind, mods) in params.iter().filter(|(n, _, _)| *n != "_include") {
                let doc = if mods.is_empty() {
                    String::new()
                } else {
                    format!("Modifiers: {}.", mods.iter().map(|m| format!(":{m}")).collect::<Vec<_>>().join(", "))
                };
                let mut p = json!({"name": name, "type": kind});
                if !doc.is_empty() {
                    p["documentation"] = json!(doc);
                }
                search_params.push(p);
            }
            let mut r = json!({
                "type": resource,
                "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "history-type"}],
                "versioning": "no-version",
                "readHistory": false,
                "updateCreate": false,
                "searchParam": search_params,
            });
            if *resource == "PractitionerRole" {
                r["searchInclude"] = json!(["PractitionerRole:practitioner"]);
            }
            r
        })
        .collect();
    let mut resources = resources;
    resources.push(json!({
        "type": "CodeSystem",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [common("_id", "token", "The code system's id."), {"name": "url", "type": "uri"}],
    }));
    let statement = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "Komlang",
        "kind": "instance",
        "software": {"name": "Komlang", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "Komlang: the registry of the social service workforce", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "instantiates": [
            "https://profiles.ihe.net/ITI/mCSD/CapabilityStatement/IHE.mCSD.CareServicesSelectiveSupplier"
        ],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. Every request carries a bearer token (Authorization: Bearer …) of a Komlang account; each account reads the resources of its scope only.",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "Basic"}], "text": "Bearer tokens of Komlang accounts (komlang token create; the account page)"}],
                "description": "Bearer tokens; the account's role and geographic scope decide which resources it reads."
            },
            "resource": resources,
        }],
    });
    fhir_json(&statement)
}

async fn code_systems(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> FhirResult {
    let s = search::parse("CodeSystem", q.as_deref(), &["url"], &[])?;
    let ids = s.get("_id").map(search::values);
    let urls = s.get("url").map(search::values);
    if s.get("_lastUpdated").is_some() {
        return Err(FhirError::invalid("_lastUpdated is not supported on CodeSystem"));
    }
    let found: Vec<Value> = codes::all()
        .iter()
        .filter(|c| ids.as_ref().is_none_or(|ids| ids.iter().any(|i| i == c.id)))
        .filter(|c| urls.as_ref().is_none_or(|u| u.contains(&codes::system(c.id))))
        .map(codes::resource)
        .collect();
    let total = found.len() as u64;
    Ok(fhir_json(&searchset(&base(&headers, &app), "CodeSystem", &s, Some(total), page(found, &s), Vec::new())))
}

async fn code_system(Path(id): Path<String>) -> FhirResult {
    let c = codes::find(&id).ok_or_else(|| FhirError::not_found(format!("no CodeSystem '{id}'")))?;
    Ok(fhir_json(&codes::resource(&c)))
}

// ---------------------------------------------------------------------------------------------
// Practitioner and PractitionerRole (the store searches, in the caller's scope)
// ---------------------------------------------------------------------------------------------

fn practitioner_query(s: &Search) -> Result<PractitionerQuery, FhirError> {
    let mut q = PractitionerQuery {
        updated: s.updated()?,
        after: s.after,
        offset: s.offset,
        count: s.count,
        count_total: s.total,
        ..Default::default()
    };
    if let Some(p) = s.get("_id") {
        q.ids = Some(search::numeric(&search::values(p)));
    }
    if let Some(p) = s.get("identifier") {
        let mut ids = Vec::new();
        let mut nids = Vec::new();
        for (system, value) in search::tokens(p) {
            match system.as_deref() {
                Some(sys) if sys == sid("worker") => ids.extend(search::numeric(&[value])),
                Some(sys) if sys == sid("national-id") => nids.push(value),
                Some(_) => {}
                None => nids.push(value),
            }
        }
        // Several systems: a worker matches by either; only numbers: by number.
        match (ids.is_empty(), nids.is_empty()) {
            (false, true) => q.ids = Some(intersect(q.ids.take(), ids)),
            (true, _) => q.national_ids = Some(nids),
            (false, false) => {
                return Err(FhirError::invalid(
                    "identifier: give worker numbers or national IDs, not both in one search",
                ))
            }
        }
    }
    if let Some(p) = s.get("name") {
        q.name = Some(search::name(p));
    }
    if let Some(p) = s.get("active") {
        q.active = Some(search::boolean(p)?);
    }
    Ok(q)
}

fn intersect(a: Option<Vec<i64>>, b: Vec<i64>) -> Vec<i64> {
    match a {
        None => b,
        Some(a) => a.into_iter().filter(|x| b.contains(x)).collect(),
    }
}

async fn practitioners(
    State(app): State<AppState>,
    ApiUser(p, _): ApiUser,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> FhirResult {
    let s = parse_search("Practitioner", q.as_deref())?;
    let query = practitioner_query(&s)?;
    let (total, workers) = app.store.fhir_practitioners(&p, &query).await.map_err(store)?;
    let found = workers.iter().map(resources::practitioner).collect();
    Ok(fhir_json(&searchset(&base(&headers, &app), "Practitioner", &s, total, found, Vec::new())))
}

async fn practitioner(State(app): State<AppState>, ApiUser(p, _): ApiUser, Path(id): Path<String>) -> FhirResult {
    let n = id.parse::<i64>().map_err(|_| FhirError::not_found(format!("no Practitioner '{id}'")))?;
    let q = PractitionerQuery { ids: Some(vec![n]), count: 1, ..Default::default() };
    let (_, workers) = app.store.fhir_practitioners(&p, &q).await.map_err(store)?;
    let w = workers.first().ok_or_else(|| FhirError::not_found(format!("no Practitioner '{id}'")))?;
    Ok(fhir_json(&resources::practitioner(w)))
}

fn today_text() -> String {
    today().format("%Y-%m-%d").to_string()
}

fn role_query(s: &Search) -> Result<RoleQuery, FhirError> {
    let mut q = RoleQuery {
        updated: s.updated()?,
        after: s.after,
        offset: s.offset,
        count: s.count,
        count_total: s.total,
        today: today_text(),
        ..Default::default()
    };
    if let Some(p) = s.get("_id") {
        q.ids = Some(search::numeric(&search::values(p)));
    }
    if let Some(p) = s.get("practitioner") {
        q.practitioners = Some(search::numeric(&search::references(p, "Practitioner")?));
    }
    if let Some(p) = s.get("organization") {
        q.organizations = Some(search::numeric(&search::references(p, "Organization")?));
    }
    if let Some(p) = s.get("location") {
        q.locations = Some(search::references(p, "Location")?);
    }
    if let Some(p) = s.get("role") {
        q.roles = Some(search::codes_in(p, &codes::system("worker-role")));
    }
    if let Some(p) = s.get("active") {
        q.active = Some(search::boolean(p)?);
    }
    if let Some(p) = s.get("_include") {
        if search::values(p) != ["PractitionerRole:practitioner"] {
            return Err(FhirError::invalid(format!(
                "_include '{}' is not supported (PractitionerRole:practitioner is)",
                p.value
            )));
        }
    }
    Ok(q)
}

async fn practitioner_roles(
    State(app): State<AppState>,
    ApiUser(p, _): ApiUser,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> FhirResult {
    let s = parse_search("PractitionerRole", q.as_deref())?;
    let query = role_query(&s)?;
    let (total, postings) = app.store.fhir_practitioner_roles(&p, &query).await.map_err(store)?;
    let mut includes = Vec::new();
    if s.get("_include").is_some() && !postings.is_empty() {
        let mut ids: Vec<i64> = postings.iter().map(|r| r.worker_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let count = ids.len() as u64;
        let q = PractitionerQuery { ids: Some(ids), count, ..Default::default() };
        let (_, workers) = app.store.fhir_practitioners(&p, &q).await.map_err(store)?;
        includes = workers.iter().map(resources::practitioner).collect();
    }
    let found = postings.iter().map(|r| resources::practitioner_role(r, &query.today)).collect();
    Ok(fhir_json(&searchset(&base(&headers, &app), "PractitionerRole", &s, total, found, includes)))
}

async fn practitioner_role(State(app): State<AppState>, ApiUser(p, _): ApiUser, Path(id): Path<String>) -> FhirResult {
    let n = id.parse::<i64>().map_err(|_| FhirError::not_found(format!("no PractitionerRole '{id}'")))?;
    let q = RoleQuery { ids: Some(vec![n]), count: 1, today: today_text(), ..Default::default() };
    let (_, postings) = app.store.fhir_practitioner_roles(&p, &q).await.map_err(store)?;
    let r = postings.first().ok_or_else(|| FhirError::not_found(format!("no PractitionerRole '{id}'")))?;
    Ok(fhir_json(&resources::practitioner_role(r, &q.today)))
}

// ---------------------------------------------------------------------------------------------
// Organization and Location (few: read whole, searched in memory)
// ---------------------------------------------------------------------------------------------

/// The administrative units by code.
async fn units(app: &AppState) -> Result<(Vec<FhirUnit>, HashMap<String, FhirUnit>), FhirError> {
    let list = app.store.fhir_units().await.map_err(store)?;
    let by_code = list.iter().map(|u| (u.code.clone(), u.clone())).collect();
    Ok((list, by_code))
}

/// Every Organization the caller reads (its organizations, then the jurisdictions), with the
/// name, ids and parent each is searched by.
struct OrgEntry {
    resource: Value,
    id: String,
    names: Vec<String>,
    identifiers: Vec<(String, String)>,
    parent: Option<String>,
    types: Vec<(String, String)>,
    last_updated: String,
}

async fn org_entries(
    app: &AppState,
    p: &Principal,
    units: &[FhirUnit],
    by_code: &HashMap<String, FhirUnit>,
) -> Result<Vec<OrgEntry>, FhirError> {
    let orgs: Vec<FhirOrg> = app.store.fhir_organizations(p).await.map_err(store)?;
    // Parents are decided among every organization the caller reads.
    let parents = resources::org_parents(&orgs, by_code);
    let mut out = Vec::new();
    for o in &orgs {
        let parent = parents.get(&o.id).copied();
        let mut identifiers = vec![(sid("organization"), o.id.to_string())];
        if let Some(r) = &o.registration_no {
            identifiers.push((sid("org-registration"), r.clone()));
        }
        out.push(OrgEntry {
            resource: resources::organization(o, parent),
            id: o.id.to_string(),
            names: [Some(o.name_en.clone()), o.name_km.clone()].into_iter().flatten().collect(),
            identifiers,
            parent: parent.map(|p| p.to_string()),
            types: vec![(codes::system("org-kind"), o.kind.clone())],
            last_updated: o.last_updated.clone(),
        });
    }
    for u in units.iter().filter(|u| resources::has_jurisdiction(u)) {
        out.push(OrgEntry {
            resource: resources::jurisdiction(u),
            id: format!("{}{}", resources::JURISDICTION, u.code),
            names: vec![u.name_en.clone(), u.name_km.clone()],
            identifiers: vec![(sid("admin-unit"), u.code.clone())],
            parent: u.parent_code.as_ref().map(|c| format!("{}{c}", resources::JURISDICTION)),
            types: vec![
                (codes::MCSD_TYPES.to_string(), "jurisdiction".to_string()),
                (codes::system("admin-level"), u.level.clone()),
            ],
            last_updated: u.last_updated.clone(),
        });
    }
    Ok(out)
}

/// What an Organization or a Location is searched by (in memory).
struct Fields<'a> {
    id: &'a str,
    names: &'a [String],
    identifiers: &'a [(String, String)],
    parent: Option<&'a str>,
    types: &'a [(String, String)],
    last_updated: &'a str,
}

/// Whether `f` matches the search: `_id`, `_lastUpdated`, `identifier`, `name`, `type`, and
/// `partof` (references to `resource`; with `:below`, at any depth, reading parents from
/// `parent_of`).
fn matches_fields(
    s: &Search,
    resource: &str,
    f: &Fields<'_>,
    updated: &[Updated],
    parent_of: &dyn Fn(&str) -> Option<String>,
) -> Result<bool, FhirError> {
    let token_hit = |p: &Param, have: &[(String, String)]| {
        search::tokens(p)
            .iter()
            .any(|(sys, v)| have.iter().any(|(hs, hv)| hv == v && sys.as_deref().is_none_or(|s| s == hs)))
    };
    if let Some(p) = s.get("_id") {
        if !search::values(p).iter().any(|v| v == f.id) {
            return Ok(false);
        }
    }
    if !updated.iter().all(|u| u.holds(f.last_updated)) {
        return Ok(false);
    }
    if let Some(p) = s.get("identifier") {
        if !token_hit(p, f.identifiers) {
            return Ok(false);
        }
    }
    if let Some(p) = s.get("type") {
        if !token_hit(p, f.types) {
            return Ok(false);
        }
    }
    if let Some(p) = s.get("name") {
        let (how, text) = search::name(p);
        if !f.names.iter().any(|n| search::name_matches(how, &text, n)) {
            return Ok(false);
        }
    }
    if let Some(p) = s.get("partof") {
        let wanted = search::references(p, resource)?;
        let below = p.modifier.as_deref() == Some("below");
        let mut at = f.parent.map(str::to_string);
        let mut depth = 0;
        loop {
            let Some(cur) = at else { return Ok(false) };
            if wanted.contains(&cur) {
                break;
            }
            depth += 1;
            if !below || depth > 16 {
                return Ok(false);
            }
            at = parent_of(&cur);
        }
    }
    Ok(true)
}

async fn organizations(
    State(app): State<AppState>,
    ApiUser(p, _): ApiUser,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> FhirResult {
    let s = parse_search("Organization", q.as_deref())?;
    let updated = s.updated()?;
    let active = s.get("active").map(search::boolean).transpose()?;
    let (units_list, by_code) = units(&app).await?;
    let entries = org_entries(&app, &p, &units_list, &by_code).await?;
    let parents: HashMap<String, Option<String>> = entries.iter().map(|e| (e.id.clone(), e.parent.clone())).collect();
    let parent_of = |id: &str| parents.get(id).cloned().flatten();
    let mut found = Vec::new();
    for e in entries {
        let f = Fields {
            id: &e.id,
            names: &e.names,
            identifiers: &e.identifiers,
            parent: e.parent.as_deref(),
            types: &e.types,
            last_updated: &e.last_updated,
        };
        if active == Some(false) {
            continue;
        }
        if matches_fields(&s, "Organization", &f, &updated, &parent_of)? {
            found.push(e.resource);
        }
    }
    let total = found.len() as u64;
    Ok(fhir_json(&searchset(&base(&headers, &app), "Organization", &s, Some(total), page(found, &s), Vec::new())))
}

async fn organization(State(app): State<AppState>, ApiUser(p, _): ApiUser, Path(id): Path<String>) -> FhirResult {
    let (units_list, by_code) = units(&app).await?;
    let entries = org_entries(&app, &p, &units_list, &by_code).await?;
    let e = entries
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| FhirError::not_found(format!("no Organization '{id}'")))?;
    Ok(fhir_json(&e.resource))
}

async fn locations(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> FhirResult {
    let s = parse_search("Location", q.as_deref())?;
    let updated = s.updated()?;
    if let Some(p) = s.get("status") {
        // Every unit is active.
        if !search::codes_in(p, "http://hl7.org/fhir/location-status").iter().any(|c| c == "active") {
            return Ok(fhir_json(&searchset(&base(&headers, &app), "Location", &s, Some(0), Vec::new(), Vec::new())));
        }
    }
    let managing = s.get("organization").map(|p| search::references(p, "Organization")).transpose()?;
    let (list, by_code) = units(&app).await?;
    let parent_of = |code: &str| by_code.get(code).and_then(|u| u.parent_code.clone());
    let mut found = Vec::new();
    for u in &list {
        let identifiers = vec![(sid("admin-unit"), u.code.clone())];
        let names = vec![u.name_en.clone(), u.name_km.clone()];
        let types = vec![
            (codes::MCSD_TYPES.to_string(), "jurisdiction".to_string()),
            (codes::system("admin-level"), u.level.clone()),
        ];
        let f = Fields {
            id: &u.code,
            names: &names,
            identifiers: &identifiers,
            parent: u.parent_code.as_deref(),
            types: &types,
            last_updated: &u.last_updated,
        };
        if let Some(m) = &managing {
            let own = format!("{}{}", resources::JURISDICTION, u.code);
            if !resources::has_jurisdiction(u) || !m.contains(&own) {
                continue;
            }
        }
        if matches_fields(&s, "Location", &f, &updated, &parent_of)? {
            found.push(resources::location(u));
        }
    }
    let total = found.len() as u64;
    Ok(fhir_json(&searchset(&base(&headers, &app), "Location", &s, Some(total), page(found, &s), Vec::new())))
}

async fn location(State(app): State<AppState>, Path(id): Path<String>) -> FhirResult {
    let (_, by_code) = units(&app).await?;
    let u = by_code.get(&id).ok_or_else(|| FhirError::not_found(format!("no Location '{id}'")))?;
    Ok(fhir_json(&resources::location(u)))
}

// ---------------------------------------------------------------------------------------------
// _history?_since= (ITI-91)
// ---------------------------------------------------------------------------------------------

/// A history search: `_since`, `_count`, and `_cursor` (where the last page ended: its last
/// change, `TIME~ID`, as the `next` link gives it).
struct HistorySearch {
    since: Option<String>,
    cursor: Option<Change>,
    count: u64,
}

fn parse_history(resource: &str, query: Option<&str>) -> Result<HistorySearch, FhirError> {
    let s = search::parse(&format!("{resource}/_history"), query, &["_since", "_cursor"], &[])?;
    if let Some(p) = s.params.iter().find(|p| p.name != "_since" && p.name != "_cursor") {
        return Err(FhirError::invalid(format!("'{}' is not supported on _history (_since, _count are)", p.name)));
    }
    if s.offset != 0 {
        return Err(FhirError::invalid("_offset is not supported on _history: follow the next links"));
    }
    let since = s.get("_since").map(|p: &Param| search::since(&p.value)).transpose()?;
    let cursor = match s.get("_cursor") {
        None => None,
        Some(p) => {
            let bad = || FhirError::invalid(format!("_cursor '{}' is not one a next link gave", p.value));
            let (at, id) = p.value.split_once('~').ok_or_else(bad)?;
            let ok_id =
                !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b));
            if !ok_id {
                return Err(bad());
            }
            Some(Change { at: search::since(at).map_err(|_| bad())?, id: id.to_string() })
        }
    };
    Ok(HistorySearch { since, cursor, count: s.count })
}

/// A history Bundle: per change, the resource as it is now (`PUT`), or, when the caller no
/// longer reads it (deleted, or moved out of the caller's scope), a `DELETE`. Its `next` link
/// continues after the page's last change.
fn history(
    base: &str,
    resource: &str,
    h: &HistorySearch,
    total: u64,
    changes: &[Change],
    now: &HashMap<String, Value>,
) -> Value {
    let entries: Vec<Value> = changes
        .iter()
        .map(|c| {
            let url = format!("{resource}/{}", c.id);
            match now.get(&c.id) {
                Some(r) => json!({
                    "fullUrl": format!("{base}/{url}"),
                    "resource": r,
                    "request": {"method": "PUT", "url": url},
                    "response": {"status": "200 OK", "lastModified": c.at},
                }),
                None => json!({
                    "fullUrl": format!("{base}/{url}"),
                    "request": {"method": "DELETE", "url": url},
                    "response": {"status": "204 No Content", "lastModified": c.at},
                }),
            }
        })
        .collect();
    let link = |cursor: Option<&Change>| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &h.since {
            pairs.push(("_since", t.clone()));
        }
        pairs.push(("_count", h.count.to_string()));
        if let Some(c) = cursor {
            pairs.push(("_cursor", format!("{}~{}", c.at, c.id)));
        }
        format!("{base}/{resource}/_history?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let mut links = vec![json!({"relation": "self", "url": link(h.cursor.as_ref())})];
    if h.count > 0 && changes.len() as u64 == h.count {
        links.push(json!({"relation": "next", "url": link(changes.last())}));
    }
    let mut bundle = json!({"resourceType": "Bundle", "type": "history", "total": total, "link": links});
    if !entries.is_empty() {
        bundle["entry"] = json!(entries);
    }
    bundle
}

/// The page of changes (held in memory, oldest first) after the cursor.
fn history_page(changes: Vec<Change>, h: &HistorySearch) -> Vec<Change> {
    let n = usize::try_from(h.count).unwrap_or(usize::MAX);
    changes.into_iter().filter(|c| h.cursor.as_ref().is_none_or(|k| (&c.at, &c.id) > (&k.at, &k.id))).take(n).collect()
}

async fn practitioner_history(
    State(app): State<AppState>,
    ApiUser(p, _): ApiUser,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> FhirResult {
    let h = parse_history("Practitioner", q.as_deref())?;
    let (total, changes) = app
        .store
        .fhir_worker_changes(&p, WorkerResource::Practitioner, h.since.as_deref(), h.cursor.as_ref(), h.count)
        .await
        .map_err(store)?;
    let ids: Vec<i64> = changes.iter().filter_map(|c| c.id.parse().ok()).collect();
    let count = ids.len() as u64;
    let (_, workers) = app
        .store
        .fhir_practitioners(&p, &PractitionerQuery { ids: Some(ids), count, ..Default::default() })
        .await
        .map_err(store)?;
    let now = workers.iter().map(|w| (w.id.to_string(), resources::practitioner(w))).collect();
    Ok(fhir_json(&history(&base(&headers, &app), "Practitioner", &h, total, &changes, &now)))
}

async fn practitioner_role_history(
    State(app): State<AppState>,
    ApiUser(p, _): ApiUser,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> FhirResult {
    let h = parse_history("PractitionerRole", q.as_deref())?;
    let (total, changes) = app
        .store
        .fhir_worker_changes(&p, WorkerResource::PractitionerRole, h.since.as_deref(), h.cursor.as_ref(), h.count)
        .await
        .map_err(store)?;
    let ids: Vec<i64> = changes.iter().filter_map(|c| c.id.parse().ok()).collect();
    let count = ids.len() as u64;
    let today = today_text();
    let q = RoleQuery { ids: Some(ids), count, today: today.clone(), ..Default::default() };
    let (_, postings) = app.store.fhir_practitioner_roles(&p, &q).await.map_err(store)?;
    let now = postings.iter().map(|r| (r.id.to_string(), resources::practitioner_role(r, &today))).collect();
    Ok(fhir_json(&history(&base(&headers, &app), "PractitionerRole", &h, total, &changes, &now)))
}

async fn organization_history(
    State(app): State<AppState>,
    ApiUser(p, _): ApiUser,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> FhirResult {
    let h = parse_history("Organization", q.as_deref())?;
    let since = h.since.clone();
    let (units_list, by_code) = units(&app).await?;
    let entries = org_entries(&app, &p, &units_list, &by_code).await?;
    let mut changes = app.store.fhir_org_changes(&p, since.as_deref()).await.map_err(store)?;
    // An organization's parent is derived from the others (resources::org_parents): when one
    // that may be a parent changed, or is gone, every organization is listed again.
    let kinds: HashMap<String, String> =
        entries.iter().filter_map(|e| e.types.first().map(|(_, k)| (e.id.clone(), k.clone()))).collect();
    let parent_kinds = ["ministry", "provincial_department", "district_office"];
    let reparent = changes
        .iter()
        .filter(|c| kinds.get(&c.id).is_none_or(|k| parent_kinds.contains(&k.as_str())))
        .map(|c| c.at.clone())
        .max();
    let mut seen: HashSet<String> = changes.iter().map(|c| c.id.clone()).collect();
    if let Some(at) = reparent {
        for e in entries.iter().filter(|e| !e.id.starts_with(resources::JURISDICTION)) {
            if seen.insert(e.id.clone()) {
                changes.push(Change { id: e.id.clone(), at: at.clone() });
            }
        }
    }
    // Jurisdictions change with their units (a village has none: its changes are not theirs).
    for c in app.store.fhir_unit_changes(since.as_deref()).await.map_err(store)? {
        if by_code.get(&c.id).is_some_and(|u| !resources::has_jurisdiction(u)) {
            continue;
        }
        let id = format!("{}{}", resources::JURISDICTION, c.id);
        if seen.insert(id.clone()) {
            changes.push(Change { id, at: c.at });
        }
    }
    let now: HashMap<String, Value> = entries.into_iter().map(|e| (e.id, e.resource)).collect();
    changes.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
    let total = changes.len() as u64;
    let shown = history_page(changes, &h);
    Ok(fhir_json(&history(&base(&headers, &app), "Organization", &h, total, &shown, &now)))
}

async fn location_history(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> FhirResult {
    let h = parse_history("Location", q.as_deref())?;
    let changes = app.store.fhir_unit_changes(h.since.as_deref()).await.map_err(store)?;
    let (list, _) = units(&app).await?;
    let now: HashMap<String, Value> = list.iter().map(|u| (u.code.clone(), resources::location(u))).collect();
    let total = changes.len() as u64;
    let shown = history_page(changes, &h);
    Ok(fhir_json(&history(&base(&headers, &app), "Location", &h, total, &shown, &now)))
}
