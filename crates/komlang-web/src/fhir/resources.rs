//! Komlang's records as FHIR R4 resources (IHE mCSD): a worker as a `Practitioner`, a posting
//! as a `PractitionerRole`, an organization or an administrative unit's jurisdiction as an
//! `Organization`, an administrative unit as a `Location`. docs/fhir.md maps field by field.

use std::collections::HashMap;

use komlang_store::fhir::{FhirOrg, FhirPosting, FhirUnit, FhirWorker};
use serde_json::{json, Map, Value};

use super::codes::{coding, sid, MCSD_TYPES};

/// The standard extension naming the language of an element.
const LANGUAGE: &str = "http://hl7.org/fhir/StructureDefinition/language";
/// The standard extension giving an element's text in another language.
const TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
/// The id prefix of a jurisdiction's Organization (`jur-0102`).
pub const JURISDICTION: &str = "jur-";

/// Statuses under which a worker is an active practitioner.
pub fn worker_active(status: &str) -> bool {
    matches!(status, "active" | "on_leave")
}

fn meta(last_updated: &str) -> Value {
    if last_updated.is_empty() {
        json!({})
    } else {
        json!({"lastUpdated": last_updated})
    }
}

/// Inserts `key: value` when the value is some non-blank text.
fn put(m: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        m.insert(key.to_string(), json!(v));
    }
}

fn telecom(phone: &Option<String>, email: &Option<String>) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(p) = phone.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        out.push(json!({"system": "phone", "value": p, "use": "work"}));
    }
    if let Some(e) = email.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        out.push(json!({"system": "email", "value": e, "use": "work"}));
    }
    out
}

/// A name with its Khmer translation (`_name` of an Organization or a Location).
fn translated(km: Option<&str>) -> Option<Value> {
    let km = km.map(str::trim).filter(|v| !v.is_empty())?;
    Some(json!({"extension": [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": "km"},
        {"url": "content", "valueString": km},
    ]}]}))
}

/// A period from optional ISO dates (none when neither is there).
fn period(start: Option<&str>, end: Option<&str>) -> Option<Value> {
    let mut p = Map::new();
    if let Some(s) = start.filter(|s| !s.is_empty()) {
        p.insert("start".into(), json!(s));
    }
    if let Some(e) = end.filter(|e| !e.is_empty()) {
        p.insert("end".into(), json!(e));
    }
    (!p.is_empty()).then_some(Value::Object(p))
}

/// A worker as a `Practitioner`: names in Khmer script and in Latin letters (each with its
/// language), sex, birth date, the national ID and the worker's number as identifiers, and
/// certificates, issued licences and highest education as qualifications.
pub fn practitioner(w: &FhirWorker) -> Value {
    let mut identifier = vec![json!({"use": "secondary", "system": sid("worker"), "value": w.id.to_string()})];
    if let Some(n) = w.national_id.as_deref().filter(|n| !n.trim().is_empty()) {
        identifier.insert(0, json!({"use": "official", "system": sid("national-id"), "value": n.trim()}));
    }
    let names = vec![
        json!({"use": "official", "text": w.name_km, "extension": [{"url": LANGUAGE, "valueCode": "km"}]}),
        json!({"use": "usual", "text": w.name_latin, "extension": [{"url": LANGUAGE, "valueCode": "km-Latn"}]}),
    ];
    let mut qualification = Vec::new();
    for c in &w.certificates {
        let mut q = json!({
            "identifier": [{"system": sid("certificate"), "value": c.number}],
            "code": {"coding": [coding("qualification", &c.level)], "text": c.programme_en},
            "issuer": {"display": c.issued_by},
        });
        if let Some(p) = period(Some(&c.issued_on), c.revoked_on.as_deref()) {
            q["period"] = p;
        }
        qualification.push(q);
    }
    for l in &w.licences {
        let mut q = json!({
            "identifier": [{"system": sid("licence"), "value": l.number}],
            "code": {"coding": [coding("qualification", "licence")], "text": format!("Social work licence ({})", l.status)},
            "issuer": {"display": "Ministry of Social Affairs, Veterans and Youth Rehabilitation (MoSVY)"},
        });
        let end = if matches!(l.status.as_str(), "revoked") { None } else { l.expires_on.as_deref() };
        if let Some(p) = period(l.term_start.as_deref(), end) {
            q["period"] = p;
        }
        qualification.push(q);
    }
    if let Some(e) = &w.education_level {
        qualification.push(json!({"code": {"coding": [coding("education-level", e)]}}));
    }
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Practitioner"));
    m.insert("id".into(), json!(w.id.to_string()));
    m.insert("meta".into(), meta(&w.last_updated));
    m.insert("identifier".into(), json!(identifier));
    m.insert("active".into(), json!(worker_active(&w.status)));
    m.insert("name".into(), json!(names));
    let t = telecom(&w.phone, &w.email);
    if !t.is_empty() {
        m.insert("telecom".into(), json!(t));
    }
    if matches!(w.sex.as_str(), "female" | "male") {
        m.insert("gender".into(), json!(w.sex));
    }
    put(&mut m, "birthDate", &w.date_of_birth);
    if !qualification.is_empty() {
        m.insert("qualification".into(), json!(qualification));
    }
    Value::Object(m)
}

/// Whether a posting is active on `today`.
pub fn posting_active(p: &FhirPosting, today: &str) -> bool {
    p.start_date.as_str() <= today && p.end_date.as_deref().is_none_or(|e| e >= today)
}

/// A posting as a `PractitionerRole`: its worker, organization, workplace, role (with the
/// worker's cadre and sector), period and whether it is active on `today`.
pub fn practitioner_role(p: &FhirPosting, today: &str) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("PractitionerRole"));
    m.insert("id".into(), json!(p.id.to_string()));
    m.insert("meta".into(), meta(&p.last_updated));
    m.insert("identifier".into(), json!([{"system": sid("posting"), "value": p.id.to_string()}]));
    m.insert("active".into(), json!(posting_active(p, today)));
    if let Some(period) = period(Some(&p.start_date), p.end_date.as_deref()) {
        m.insert("period".into(), period);
    }
    m.insert("practitioner".into(), json!({"reference": format!("Practitioner/{}", p.worker_id)}));
    if let Some(org) = p.org_id {
        m.insert("organization".into(), json!({"reference": format!("Organization/{org}")}));
    }
    let mut role = json!({"coding": [coding("worker-role", &p.role)]});
    if let Some(t) = p.position_title.as_deref().filter(|t| !t.trim().is_empty()) {
        role["text"] = json!(t.trim());
    }
    m.insert(
        "code".into(),
        json!([role, {"coding": [coding("cadre", &p.cadre)]}, {"coding": [coding("sector", &p.sector)]}]),
    );
    m.insert("location".into(), json!([{"reference": format!("Location/{}", p.workplace_code)}]));
    Value::Object(m)
}

/// Which organization each organization is part of: a ministry's department, a provincial
/// department (DoSVY), a government training institute's parent is the ministry; a district
/// office's, its province's DoSVY (else the ministry); a commune committee's, its district's
/// office (else its province's DoSVY). NGOs and the private sector stand alone. The first of
/// a kind (by id) is the parent when several could be.
pub fn org_parents(orgs: &[FhirOrg], units: &HashMap<String, FhirUnit>) -> HashMap<i64, i64> {
    // The first organization of `kind` (seated in the unit `within` at `level`, when given).
    let first = |kind: &str, within: Option<(&str, &str)>| {
        orgs.iter()
            .filter(|o| o.kind == kind)
            .find(|o| within.is_none_or(|(code, level)| unit_at(units, &o.admin_code, level).as_deref() == Some(code)))
            .map(|o| o.id)
    };
    let province = |code: &str| unit_at(units, code, "province");
    let district = |code: &str| unit_at(units, code, "district");
    let ministry = first("ministry", None);
    let mut out = HashMap::new();
    for o in orgs {
        let parent = match o.kind.as_str() {
            "ministry_department" | "provincial_department" => ministry,
            "district_office" => province(&o.admin_code)
                .and_then(|p| first("provincial_department", Some((&p, "province"))))
                .or(ministry),
            "commune_committee" => {
                district(&o.admin_code).and_then(|d| first("district_office", Some((&d, "district")))).or_else(|| {
                    province(&o.admin_code).and_then(|p| first("provincial_department", Some((&p, "province"))))
                })
            }
            _ => None,
        };
        if let Some(parent) = parent.filter(|p| *p != o.id) {
            out.insert(o.id, parent);
        }
    }
    out
}

/// The code of the unit at `level` that `code` lies in (itself when at that level).
fn unit_at(units: &HashMap<String, FhirUnit>, code: &str, level: &str) -> Option<String> {
    let mut at = units.get(code);
    for _ in 0..8 {
        let u = at?;
        if u.level == level {
            return Some(u.code.clone());
        }
        at = u.parent_code.as_deref().and_then(|p| units.get(p));
    }
    None
}

/// An organization as an `Organization` (its name in English, with the Khmer as a translation
/// and an alias).
pub fn organization(o: &FhirOrg, part_of: Option<i64>) -> Value {
    let mut identifier = vec![json!({"system": sid("organization"), "value": o.id.to_string()})];
    if let Some(r) = o.registration_no.as_deref().filter(|r| !r.trim().is_empty()) {
        identifier.push(json!({"system": sid("org-registration"), "value": r.trim()}));
    }
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Organization"));
    m.insert("id".into(), json!(o.id.to_string()));
    m.insert("meta".into(), meta(&o.last_updated));
    m.insert("identifier".into(), json!(identifier));
    m.insert("active".into(), json!(true));
    m.insert("type".into(), json!([{"coding": [coding("org-kind", &o.kind)]}]));
    m.insert("name".into(), json!(o.name_en));
    if let Some(t) = translated(o.name_km.as_deref()) {
        m.insert("_name".into(), t);
        m.insert("alias".into(), json!([o.name_km.as_deref().unwrap_or_default().trim()]));
    }
    let t = telecom(&o.phone, &o.email);
    if !t.is_empty() {
        m.insert("telecom".into(), json!(t));
    }
    m.insert(
        "address".into(),
        json!([{"use": "work", "district": o.admin_code, "country": "KH", "text": format!("Administrative unit {}", o.admin_code)}]),
    );
    if let Some(p) = part_of {
        m.insert("partOf".into(), json!({"reference": format!("Organization/{p}")}));
    }
    Value::Object(m)
}

/// Whether an administrative unit has a jurisdiction's Organization (every level but the village).
pub fn has_jurisdiction(u: &FhirUnit) -> bool {
    u.level != "village"
}

/// An administrative unit's jurisdiction as an `Organization` (mCSD's Jurisdiction), part of
/// the jurisdiction above it.
pub fn jurisdiction(u: &FhirUnit) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Organization"));
    m.insert("id".into(), json!(format!("{JURISDICTION}{}", u.code)));
    m.insert("meta".into(), meta(&u.last_updated));
    m.insert("identifier".into(), json!([{"system": sid("admin-unit"), "value": u.code}]));
    m.insert("active".into(), json!(true));
    m.insert(
        "type".into(),
        json!([{"coding": [{"system": MCSD_TYPES, "code": "jurisdiction", "display": "Jurisdiction"}]},
               {"coding": [coding("admin-level", &u.level)]}]),
    );
    m.insert("name".into(), json!(u.name_en));
    if let Some(t) = translated(Some(&u.name_km)) {
        m.insert("_name".into(), t);
        m.insert("alias".into(), json!([u.name_km.trim()]));
    }
    if let Some(p) = &u.parent_code {
        m.insert("partOf".into(), json!({"reference": format!("Organization/{JURISDICTION}{p}")}));
    }
    Value::Object(m)
}

/// An administrative unit as a `Location` (mCSD's Jurisdiction location: a workplace is one),
/// within the unit above it and managed by its jurisdiction's Organization.
pub fn location(u: &FhirUnit) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Location"));
    m.insert("id".into(), json!(u.code));
    m.insert("meta".into(), meta(&u.last_updated));
    m.insert("identifier".into(), json!([{"system": sid("admin-unit"), "value": u.code}]));
    m.insert("status".into(), json!("active"));
    m.insert("name".into(), json!(u.name_en));
    if let Some(t) = translated(Some(&u.name_km)) {
        m.insert("_name".into(), t);
        m.insert("alias".into(), json!([u.name_km.trim()]));
    }
    m.insert("mode".into(), json!("instance"));
    m.insert(
        "type".into(),
        json!([{"coding": [{"system": MCSD_TYPES, "code": "jurisdiction", "display": "Jurisdiction"}]},
               {"coding": [coding("admin-level", &u.level)]}]),
    );
    m.insert(
        "physicalType".into(),
        json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                           "code": "jdn", "display": "Jurisdiction"}]}),
    );
    if has_jurisdiction(u) {
        m.insert("managingOrganization".into(), json!({"reference": format!("Organization/{JURISDICTION}{}", u.code)}));
    }
    if let Some(p) = &u.parent_code {
        m.insert("partOf".into(), json!({"reference": format!("Location/{p}")}));
    }
    Value::Object(m)
}
