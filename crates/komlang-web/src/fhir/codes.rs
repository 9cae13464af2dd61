//! The code systems the registry's resources use, served as FHIR `CodeSystem`s with their
//! English displays and Khmer designations (from the interface's translations).

use komlang_core::training::CertificateLevel;
use komlang_core::{AdminLevel, Cadre, EducationLevel, OrgKind, Sector, WorkerRole};
use serde_json::{json, Value};

use crate::common::i18n::{I18n, Locale};

/// Where Komlang's own code systems and identifier systems are named. Names, not addresses:
/// the systems themselves are served at `/fhir/r4/CodeSystem/{id}`.
pub const CANONICAL: &str = "https://komlang.org/fhir";

/// mCSD's types of organizations and locations (`jurisdiction`, `facility`).
pub const MCSD_TYPES: &str = "https://profiles.ihe.net/ITI/mCSD/CodeSystem/IHE.mCSD.Organization.Location.Types";

/// An identifier system of Komlang's (`national-id`, `worker`, `posting`, …).
pub fn sid(name: &str) -> String {
    format!("{CANONICAL}/sid/{name}")
}

/// The canonical URL of one of the code systems below.
pub fn system(id: &str) -> String {
    format!("{CANONICAL}/CodeSystem/{id}")
}

/// A code system: its id, title, and its codes with their translation keys.
pub struct Codes {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub concepts: Vec<(&'static str, String)>,
}

fn vocab<T: Copy>(all: &[T], code: fn(T) -> &'static str, key: fn(T) -> String) -> Vec<(&'static str, String)> {
    all.iter().map(|v| (code(*v), key(*v))).collect()
}

/// Every code system the registry serves.
pub fn all() -> Vec<Codes> {
    let mut qualification = vocab(CertificateLevel::ALL, CertificateLevel::code, CertificateLevel::label_key);
    qualification.push(("licence", "entity.licence".to_string()));
    vec![
        Codes {
            id: "cadre",
            title: "Cadres of the social service workforce",
            description: "NISA Strategic Plan for Training the Social Service Workforce 2021-2025.",
            concepts: vocab(Cadre::ALL, Cadre::code, Cadre::label_key),
        },
        Codes {
            id: "worker-role",
            title: "Roles of social service workers",
            description:
                "What a worker does in a posting (the structure of the workforce for child care and protection).",
            concepts: vocab(WorkerRole::ALL, WorkerRole::code, WorkerRole::label_key),
        },
        Codes {
            id: "sector",
            title: "Employment sectors",
            description: "Who employs the worker.",
            concepts: vocab(Sector::ALL, Sector::code, Sector::label_key),
        },
        Codes {
            id: "org-kind",
            title: "Kinds of organizations",
            description: "Kinds of organization that employ social service workers.",
            concepts: vocab(OrgKind::ALL, OrgKind::code, OrgKind::label_key),
        },
        Codes {
            id: "admin-level",
            title: "Levels of administrative units",
            description: "Country, capital/province, district/municipality/khan, commune/sangkat, village.",
            concepts: vocab(AdminLevel::ALL, AdminLevel::code, AdminLevel::label_key),
        },
        Codes {
            id: "education-level",
            title: "Levels of education",
            description: "Highest education completed (Cambodia Qualifications Framework levels used by NISA).",
            concepts: vocab(EducationLevel::ALL, EducationLevel::code, EducationLevel::label_key),
        },
        Codes {
            id: "qualification",
            title: "Qualifications",
            description: "Certificate levels of the training programmes, and the social work licence.",
            concepts: qualification,
        },
    ]
}

/// The code system `id`, if served.
pub fn find(id: &str) -> Option<Codes> {
    all().into_iter().find(|c| c.id == id)
}

/// A code's English display in system `id` (the code itself when unknown).
pub fn display(id: &str, code: &str) -> String {
    let en = I18n::new(Locale::En);
    find(id)
        .and_then(|c| c.concepts.into_iter().find(|(k, _)| *k == code))
        .map(|(_, key)| en.t(&key))
        .unwrap_or_else(|| code.to_string())
}

/// A coding in system `id`, with its English display.
pub fn coding(id: &str, code: &str) -> Value {
    json!({"system": system(id), "code": code, "display": display(id, code)})
}

/// The `CodeSystem` resource.
pub fn resource(c: &Codes) -> Value {
    let en = I18n::new(Locale::En);
    let km = I18n::new(Locale::Km);
    let concepts: Vec<Value> = c
        .concepts
        .iter()
        .map(|(code, key)| {
            let mut concept = json!({"code": code, "display": en.t(key)});
            if km.has(key) {
                concept["designation"] = json!([{"language": "km", "value": km.t(key)}]);
            }
            concept
        })
        .collect();
    json!({
        "resourceType": "CodeSystem",
        "id": c.id,
        "url": system(c.id),
        "name": c.id.replace('-', "_"),
        "title": c.title,
        "status": "active",
        "experimental": false,
        "publisher": "Komlang",
        "description": c.description,
        "language": "en",
        "caseSensitive": true,
        "content": "complete",
        "count": concepts.len(),
        "concept": concepts,
    })
}
