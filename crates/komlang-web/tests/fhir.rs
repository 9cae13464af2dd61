//! The FHIR registry (`/fhir/r4/`), on every engine, over HTTP: every resource it produces
//! validates against FHIR R4 (the `fhir.resources` package, .ci/fhir-validate.py); each search
//! parameter finds what a direct query over the database finds; a consumer that pulls
//! `_history?_since=T` after each change ends with what a fresh full search gives; each account
//! reads its scope only; every refusal is an OperationOutcome.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use common::TestApp;
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::UserRole;
use komlang_store::testing::engines;
use komlang_store::{system_principal, Store, WorkerChange};
use serde_json::Value;
use sqlx::Row;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// GETs `path` (under the server) with `token`: the status and the JSON answer.
async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Value, String) {
    let mut rq = reqwest::Client::new().get(if path.starts_with("http") { path.to_string() } else { app.url(path) });
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    let r = rq.send().await.unwrap();
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
    (status, v, ctype)
}

/// Every resource a search finds, following its `next` links; checks `total` against them.
async fn search_all(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(path.to_string());
    let mut total = None;
    let mut pages = 0;
    while let Some(at) = next {
        let (s, b, _) = get(app, Some(token), &at).await;
        assert_eq!(s, 200, "{at}: {b}");
        assert_eq!(b["resourceType"], "Bundle", "{at}");
        total = b["total"].as_u64();
        for e in b["entry"].as_array().into_iter().flatten() {
            if e["search"]["mode"] == "match" {
                out.push(e["resource"].clone());
            }
        }
        next = b["link"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["relation"] == "next")
            .map(|l| l["url"].as_str().unwrap().to_string());
        pages += 1;
        assert!(pages < 10_000, "{path}: the next links do not end");
    }
    assert_eq!(total, Some(out.len() as u64), "{path}: total and the entries of every page");
    out
}

fn ids(resources: &[Value]) -> BTreeSet<String> {
    resources.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn id_set<T: ToString>(v: impl IntoIterator<Item = T>) -> BTreeSet<String> {
    v.into_iter().map(|x| x.to_string()).collect()
}

/// The python of the validator's environment (.ci/fhir-venv makes it; .ci/run sets the variable).
fn validator() -> PathBuf {
    if let Ok(p) = std::env::var("KOMLANG_FHIR_PYTHON") {
        return PathBuf::from(p);
    }
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/fhir/venv/bin/python");
    assert!(
        local.exists(),
        "the FHIR validator is not installed: run .ci/fhir-venv (or .ci/run), or set KOMLANG_FHIR_PYTHON"
    );
    local
}

/// Validates the documents with `.ci/fhir-validate.py`; panics with its findings.
fn validate(docs: &[(String, Value)]) {
    let dir = tempfile_dir();
    let mut files = Vec::new();
    for (i, (what, doc)) in docs.iter().enumerate() {
        let name = format!("{i:03}-{}.json", what.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
        files.push(path);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/fhir-validate.py");
    let out = std::process::Command::new(validator()).arg(script).args(&files).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "FHIR validation failed:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("komlang-fhir-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 % 1_000_000_007
}

async fn column_ids(store: &Store, sql: &str) -> BTreeSet<String> {
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.unwrap();
    rows.iter().map(|r| r.try_get::<i64, _>(0).unwrap().to_string()).collect()
}

async fn column_texts(store: &Store, sql: &str) -> BTreeSet<String> {
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.unwrap();
    rows.iter().map(|r| r.try_get::<String, _>(0).unwrap()).collect()
}

#[tokio::test]
async fn resources_validate_and_searches_match_direct_queries() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = app.db.store.clone();
        store.load_demo(today()).await.unwrap();
        let (_, admin) = app.account("fhir-admin", UserRole::NationalAdmin, None, None, None).await;

        // ---- What is produced validates (with certificates and licences among the workers).
        let certified = column_ids(&store, "SELECT worker_id FROM certificates ORDER BY worker_id LIMIT 5").await;
        let licensed =
            column_ids(&store, "SELECT worker_id FROM licences WHERE number IS NOT NULL ORDER BY id LIMIT 5").await;
        assert!(!certified.is_empty() && !licensed.is_empty(), "{engine:?}: the demo has certificates and licences");
        let with_quals: Vec<String> = certified.iter().chain(&licensed).cloned().collect();
        let mut docs = Vec::new();
        for path in [
            "/fhir/r4/metadata".to_string(),
            "/fhir/r4/CodeSystem".into(),
            "/fhir/r4/CodeSystem/cadre".into(),
            format!("/fhir/r4/Practitioner?_id={}", with_quals.join(",")),
            "/fhir/r4/Practitioner?_count=200".into(),
            "/fhir/r4/PractitionerRole?_count=200&_include=PractitionerRole:practitioner".into(),
            "/fhir/r4/Organization?_count=500".into(),
            "/fhir/r4/Organization?_count=500&_offset=500".into(),
            "/fhir/r4/Location?_count=500".into(),
            "/fhir/r4/Practitioner/_history?_count=100".into(),
            "/fhir/r4/PractitionerRole/_history?_count=100".into(),
            "/fhir/r4/Organization/_history?_count=100".into(),
            "/fhir/r4/Location/_history?_count=100".into(),
            "/fhir/r4/Location/0102".into(),
        ] {
            let (s, v, ctype) = get(&app, Some(&admin), &path).await;
            assert_eq!(s, 200, "{engine:?} {path}: {v}");
            assert!(ctype.starts_with("application/fhir+json"), "{path}: {ctype}");
            docs.push((path, v));
        }
        // Refusals are OperationOutcomes.
        for (path, token, want) in [
            ("/fhir/r4/Practitioner", None, 401),
            ("/fhir/r4/Practitioner?nam=x", Some(admin.as_str()), 400),
            ("/fhir/r4/Practitioner?_lastUpdated=ne2026", Some(admin.as_str()), 400),
            ("/fhir/r4/Practitioner/999999999", Some(admin.as_str()), 404),
            ("/fhir/r4/Patient", Some(admin.as_str()), 404),
            ("/fhir/r4/PractitionerRole?practitioner=Organization/1", Some(admin.as_str()), 400),
            ("/fhir/r4/Practitioner?_after=3&_offset=2", Some(admin.as_str()), 400),
            ("/fhir/r4/Practitioner?_total=some", Some(admin.as_str()), 400),
        ] {
            let (s, v, ctype) = get(&app, token, path).await;
            assert_eq!(s, want, "{engine:?} {path}: {v}");
            assert_eq!(v["resourceType"], "OperationOutcome", "{path}");
            assert!(ctype.starts_with("application/fhir+json"), "{path}: {ctype}");
            docs.push((path.to_string(), v));
        }
        validate(&docs);

        // ---- The Practitioners with qualifications show each certificate and issued licence.
        let (_, b, _) = get(&app, Some(&admin), &format!("/fhir/r4/Practitioner?_id={}", with_quals.join(","))).await;
        for e in b["entry"].as_array().unwrap() {
            let r = &e["resource"];
            let id: i64 = r["id"].as_str().unwrap().parse().unwrap();
            let certs: i64 = sqlx::query("SELECT COUNT(*) FROM certificates WHERE worker_id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get(0);
            let lics: i64 = sqlx::query("SELECT COUNT(*) FROM licences WHERE worker_id = $1 AND number IS NOT NULL")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get(0);
            let quals = r["qualification"].as_array().map(Vec::len).unwrap_or(0) as i64;
            let shown = |sys: &str| {
                r["qualification"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|q| q["identifier"][0]["system"].as_str().is_some_and(|s| s.ends_with(sys)))
                    .count() as i64
            };
            assert_eq!((shown("/certificate"), shown("/licence")), (certs, lics), "Practitioner/{id}: {r}");
            assert!(quals >= certs + lics);
            // Names with their languages.
            let langs: Vec<&str> = r["name"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["extension"][0]["valueCode"].as_str().unwrap())
                .collect();
            assert_eq!(langs, ["km", "km-Latn"]);
        }

        // ---- Pages by key: without a total when asked, the next link after the page's last id.
        let (_, b, _) = get(&app, Some(&admin), "/fhir/r4/Practitioner?_count=3&_total=none").await;
        assert!(b.get("total").is_none(), "{engine:?}: {b}");
        let next = b["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"].clone();
        let last = b["entry"][2]["resource"]["id"].as_str().unwrap().to_string();
        assert!(next.as_str().unwrap().contains(&format!("_after={last}")), "{next}");
        assert!(next.as_str().unwrap().contains("_total=none"), "{next}");
        let (_, b2, _) = get(&app, Some(&admin), next.as_str().unwrap()).await;
        let first_next: i64 = b2["entry"][0]["resource"]["id"].as_str().unwrap().parse().unwrap();
        assert!(first_next > last.parse::<i64>().unwrap());

        // ---- Each search parameter, against a direct query.
        let workers = sqlx::query("SELECT id, name_latin, name_km, national_id, status FROM workers")
            .fetch_all(store.pool())
            .await
            .unwrap();
        let by = |f: &dyn Fn(&str, &str) -> bool| -> BTreeSet<String> {
            workers
                .iter()
                .filter(|r| f(&r.get::<String, _>("name_latin"), &r.get::<String, _>("name_km")))
                .map(|r| r.get::<i64, _>("id").to_string())
                .collect()
        };
        let starts = |n: &str, t: &str| {
            let n = n.to_lowercase();
            n.starts_with(t) || n.contains(&format!(" {t}"))
        };
        let p = |q: &str| format!("/fhir/r4/Practitioner?_count=500&{q}");
        assert_eq!(ids(&search_all(&app, &admin, &p("name=so")).await), by(&|l, k| starts(l, "so") || starts(k, "so")));
        assert_eq!(
            ids(&search_all(&app, &admin, &p("name:contains=PHEA")).await),
            by(&|l, k| l.to_lowercase().contains("phea") || k.contains("phea"))
        );
        let some_name: String = workers[3].get("name_latin");
        assert_eq!(
            ids(&search_all(&app, &admin, &p(&format!("name:exact={}", some_name.replace(' ', "%20")))).await),
            by(&|l, k| l == some_name || k == some_name)
        );
        let nid_row = workers.iter().find(|r| r.get::<Option<String>, _>("national_id").is_some()).unwrap();
        let nid: String = nid_row.get::<Option<String>, _>("national_id").unwrap();
        assert_eq!(
            ids(&search_all(&app, &admin, &p(&format!("identifier=https://komlang.org/fhir/sid/national-id|{nid}")))
                .await),
            id_set([nid_row.get::<i64, _>("id")])
        );
        assert_eq!(ids(&search_all(&app, &admin, &p(&format!("identifier={nid}"))).await).len(), 1);
        let active = workers
            .iter()
            .filter(|r| matches!(r.get::<String, _>("status").as_str(), "active" | "on_leave"))
            .map(|r| r.get::<i64, _>("id").to_string())
            .collect::<BTreeSet<_>>();
        let inactive_n = workers.len() - active.len();
        assert_eq!(ids(&search_all(&app, &admin, &p("active=true")).await), active);
        assert_eq!(search_all(&app, &admin, &p("active=false")).await.len(), inactive_n);
        assert_eq!(ids(&search_all(&app, &admin, &p("_id=1,2,3")).await), id_set(["1", "2", "3"]));
        // _lastUpdated: against each worker's latest change in the feed.
        let latest = sqlx::query(
            "SELECT resource_id, MAX(changed_at) AS at FROM fhir_changes WHERE resource_type = 'Practitioner' \
             GROUP BY resource_id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let mid: String = {
            let mut times: Vec<String> = latest.iter().map(|r| r.get::<String, _>("at")).collect();
            times.sort();
            times[times.len() / 2].clone()
        };
        let after = latest
            .iter()
            .filter(|r| r.get::<String, _>("at") >= mid)
            .map(|r| r.get::<String, _>("resource_id"))
            .collect::<BTreeSet<_>>();
        let live = id_set(workers.iter().map(|r| r.get::<i64, _>("id")));
        let after: BTreeSet<String> = after.intersection(&live).cloned().collect();
        assert_eq!(ids(&search_all(&app, &admin, &p(&format!("_lastUpdated=ge{mid}"))).await), after);
        let before: BTreeSet<String> = live.difference(&after).cloned().collect();
        assert_eq!(ids(&search_all(&app, &admin, &p(&format!("_lastUpdated=lt{mid}"))).await), before);

        // PractitionerRole.
        let r = |q: &str| format!("/fhir/r4/PractitionerRole?_count=500&{q}");
        let posting_ids = |sql: String| {
            let store = store.clone();
            async move { column_ids(&store, &sql).await }
        };
        let some: (i64, i64, Option<i64>, String, String) = {
            let row = sqlx::query(
                "SELECT id, worker_id, org_id, workplace_code, role FROM postings WHERE org_id IS NOT NULL ORDER BY id LIMIT 1",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))
        };
        let (_, worker, org, place, role) = some.clone();
        let org = org.unwrap();
        assert_eq!(
            ids(&search_all(&app, &admin, &r(&format!("practitioner=Practitioner/{worker}"))).await),
            posting_ids(format!("SELECT id FROM postings WHERE worker_id = {worker}")).await
        );
        assert_eq!(
            ids(&search_all(&app, &admin, &r(&format!("organization=Organization/{org}"))).await),
            posting_ids(format!("SELECT id FROM postings WHERE org_id = {org}")).await
        );
        assert_eq!(
            ids(&search_all(&app, &admin, &r(&format!("location={place}"))).await),
            posting_ids(format!("SELECT id FROM postings WHERE workplace_code = '{place}'")).await
        );
        assert_eq!(
            ids(&search_all(&app, &admin, &r(&format!("role=https://komlang.org/fhir/CodeSystem/worker-role|{role}")))
                .await),
            posting_ids(format!("SELECT id FROM postings WHERE role = '{role}'")).await
        );
        let t = today().format("%Y-%m-%d").to_string();
        assert_eq!(
            ids(&search_all(&app, &admin, &r(&format!("active=true&location={place}"))).await),
            posting_ids(format!(
                "SELECT id FROM postings WHERE workplace_code = '{place}' AND start_date <= '{t}' \
                 AND (end_date IS NULL OR end_date >= '{t}')"
            ))
            .await
        );
        // _include brings each practitioner once, as an include.
        let (_, b, _) =
            get(&app, Some(&admin), &r(&format!("location={place}&_include=PractitionerRole:practitioner"))).await;
        let included: BTreeSet<String> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["search"]["mode"] == "include")
            .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            included,
            posting_ids(format!("SELECT DISTINCT worker_id FROM postings WHERE workplace_code = '{place}'")).await
        );

        // Location: partof and partof:below, name, identifier, type.
        let l = |q: &str| format!("/fhir/r4/Location?_count=500&{q}");
        assert_eq!(
            ids(&search_all(&app, &admin, &l("partof=Location/02")).await),
            column_texts(&store, "SELECT code FROM admin_units WHERE parent_code = '02'").await
        );
        assert_eq!(
            ids(&search_all(&app, &admin, &l("partof:below=0201")).await),
            column_texts(&store, "SELECT code FROM admin_units WHERE district_code = '0201' AND code <> '0201'").await
        );
        assert_eq!(
            ids(&search_all(&app, &admin, &l("type=https://komlang.org/fhir/CodeSystem/admin-level|province")).await),
            column_texts(&store, "SELECT code FROM admin_units WHERE level = 'province'").await
        );
        assert_eq!(ids(&search_all(&app, &admin, &l("identifier=0102")).await), id_set(["0102"]));
        assert_eq!(
            ids(&search_all(&app, &admin, &l("name:exact=Battambang")).await),
            column_texts(&store, "SELECT code FROM admin_units WHERE name_en = 'Battambang'").await
        );
        // Organization: the organizations and the jurisdictions.
        let o = |q: &str| format!("/fhir/r4/Organization?_count=500&{q}");
        assert_eq!(
            ids(&search_all(&app, &admin, &o("type=https://komlang.org/fhir/CodeSystem/org-kind|ngo")).await),
            posting_ids("SELECT id FROM organizations WHERE kind = 'ngo'".into()).await
        );
        let jur: BTreeSet<String> = column_texts(&store, "SELECT code FROM admin_units WHERE parent_code = '02'")
            .await
            .into_iter()
            .map(|c| format!("jur-{c}"))
            .collect();
        assert_eq!(ids(&search_all(&app, &admin, &o("partof=Organization/jur-02")).await), jur);
        let (org_id, org_name, org_reg): (i64, String, Option<String>) = {
            let r = sqlx::query(
                "SELECT id, name_en, registration_no FROM organizations WHERE kind = 'ngo' ORDER BY id LIMIT 1",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            (r.get(0), r.get(1), r.get(2))
        };
        let word = org_name.split_whitespace().next().unwrap().to_lowercase();
        let by_word: BTreeSet<String> = {
            let orgs =
                sqlx::query("SELECT id, name_en, name_km FROM organizations").fetch_all(store.pool()).await.unwrap();
            let units = sqlx::query("SELECT code, name_en, name_km FROM admin_units WHERE level <> 'village'")
                .fetch_all(store.pool())
                .await
                .unwrap();
            let starts = |t: &str| {
                let t = t.to_lowercase();
                t.starts_with(&word) || t.contains(&format!(" {word}"))
            };
            let mut ids: BTreeSet<String> = orgs
                .iter()
                .filter(|r| starts(&r.get::<String, _>(1)) || r.get::<Option<String>, _>(2).is_some_and(|k| starts(&k)))
                .map(|r| r.get::<i64, _>(0).to_string())
                .collect();
            ids.extend(
                units
                    .iter()
                    .filter(|r| starts(&r.get::<String, _>(1)) || starts(&r.get::<String, _>(2)))
                    .map(|r| format!("jur-{}", r.get::<String, _>(0))),
            );
            ids
        };
        assert_eq!(ids(&search_all(&app, &admin, &o(&format!("name={word}"))).await), by_word, "{engine:?}");
        assert_eq!(ids(&search_all(&app, &admin, &o(&format!("_id={org_id}"))).await), id_set([org_id]));
        if let Some(reg) = org_reg {
            assert_eq!(
                ids(&search_all(
                    &app,
                    &admin,
                    &o(&format!("identifier=https://komlang.org/fhir/sid/org-registration|{reg}"))
                )
                .await),
                id_set([org_id])
            );
        }
        assert_eq!(ids(&search_all(&app, &admin, &o("identifier=0102")).await), id_set(["jur-0102"]));
        assert!(search_all(&app, &admin, &o("active=false")).await.is_empty());
        assert_eq!(ids(&search_all(&app, &admin, &l("organization=Organization/jur-0102")).await), id_set(["0102"]));
        // _lastUpdated on the lists held in memory: nothing was changed after now.
        let later = (chrono::Utc::now() + chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        assert!(search_all(&app, &admin, &o(&format!("_lastUpdated=gt{later}"))).await.is_empty());
        assert_eq!(
            search_all(&app, &admin, &l(&format!("_lastUpdated=lt{later}&partof=02"))).await.len(),
            ids(&search_all(&app, &admin, &l("partof=02")).await).len()
        );
        let all_orgs = search_all(&app, &admin, &o("")).await;
        let n_orgs: i64 =
            sqlx::query("SELECT COUNT(*) FROM organizations").fetch_one(store.pool()).await.unwrap().get(0);
        let n_jur: i64 = sqlx::query("SELECT COUNT(*) FROM admin_units WHERE level <> 'village'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(all_orgs.len() as i64, n_orgs + n_jur);

        // ---- Scope: a provincial officer reads the workers of the province only.
        let (_, prov) = app.account("fhir-prov", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        assert_eq!(
            ids(&search_all(&app, &prov, "/fhir/r4/Practitioner?_count=500").await),
            column_ids(
                &store,
                "SELECT w.id FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE u.province_code = '02'"
            )
            .await
        );
        let outside = column_ids(
            &store,
            "SELECT w.id FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE u.province_code <> '02' ORDER BY w.id LIMIT 1",
        )
        .await;
        let outside = outside.first().unwrap();
        let (s, v, _) = get(&app, Some(&prov), &format!("/fhir/r4/Practitioner/{outside}")).await;
        assert_eq!((s, v["resourceType"].as_str()), (404, Some("OperationOutcome")));
        let (s, b, _) = get(&app, Some(&prov), &format!("/fhir/r4/PractitionerRole?practitioner={outside}")).await;
        assert_eq!((s, b["total"].as_u64()), (200, Some(0)));
        app.stop().await;
    }
}

/// What a consumer holds: each resource by type and id.
type Mirror = BTreeMap<(String, String), Value>;

/// Applies a history Bundle to the mirror.
fn apply(mirror: &mut Mirror, resource: &str, bundle: &Value) {
    assert_eq!(bundle["type"], "history", "{bundle}");
    for e in bundle["entry"].as_array().into_iter().flatten() {
        let url = e["request"]["url"].as_str().unwrap();
        let id = url.rsplit('/').next().unwrap().to_string();
        match e["request"]["method"].as_str().unwrap() {
            "PUT" => {
                mirror.insert((resource.to_string(), id), e["resource"].clone());
            }
            "DELETE" => {
                mirror.remove(&(resource.to_string(), id));
            }
            other => panic!("history entry with method {other}"),
        }
    }
}

const SYNCED: [&str; 3] = ["Practitioner", "PractitionerRole", "Organization"];

async fn pull(app: &TestApp, token: &str, mirror: &mut Mirror, since: Option<&str>) {
    for resource in SYNCED {
        // Small pages after a change (their links are followed), big ones for the first pull.
        let mut next = Some(match since {
            Some(t) => format!("/fhir/r4/{resource}/_history?_count=3&_since={}", t.replace('+', "%2B")),
            None => format!("/fhir/r4/{resource}/_history?_count=500"),
        });
        while let Some(at) = next {
            let (s, b, _) = get(app, Some(token), &at).await;
            assert_eq!(s, 200, "{at}: {b}");
            apply(mirror, resource, &b);
            next = b["link"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["relation"] == "next")
                .map(|l| l["url"].as_str().unwrap().to_string());
        }
    }
}

async fn fresh(app: &TestApp, token: &str) -> Mirror {
    let mut m = Mirror::new();
    for resource in SYNCED {
        for r in search_all(app, token, &format!("/fhir/r4/{resource}?_count=500")).await {
            m.insert((resource.to_string(), r["id"].as_str().unwrap().to_string()), r);
        }
    }
    m
}

fn worker(name: &str, place: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(place.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-15".into()),
        ..Default::default()
    }
}

fn org(name: &str, kind: &str, seat: &str) -> OrgInput {
    OrgInput {
        name_en: Some(name.into()),
        kind: Some(kind.into()),
        admin_code: Some(seat.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn history_since_keeps_a_consumer_equal_to_a_fresh_search() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = app.db.store.clone();
        let admin_p = system_principal("test");
        let (_, admin) = app.account("sync-admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, prov) = app.account("sync-prov", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let ngo = store.create_org(&admin_p, &org("Friends", "ngo", "12")).await.unwrap();
        let a = store.create_worker(&admin_p, &worker("Chan Dara", "0201"), today()).await.unwrap();
        let b = store.create_worker(&admin_p, &worker("Keo Sokha", "0102"), today()).await.unwrap();

        let mut mirrors = vec![(admin.clone(), Mirror::new()), (prov.clone(), Mirror::new())];
        for (token, m) in &mut mirrors {
            pull(&app, token, m, None).await;
            assert_eq!(*m, fresh(&app, token).await, "{engine:?}: the first full pull");
        }
        // Each step changes something; after each, every consumer pulls what changed since
        // its last pull (a second earlier, to stand on the safe side of the clock) and must
        // hold what a fresh search shows.
        let steps: Vec<&str> = vec![
            "add",
            "rename",
            "move out",
            "move back",
            "join ngo",
            "move with ngo",
            "org rename",
            "delete",
            "new org",
        ];
        let mut last = chrono::Utc::now() - chrono::Duration::seconds(1);
        for step in steps {
            match step {
                "add" => {
                    store.create_worker(&admin_p, &worker("Mao Vanna", "0203"), today()).await.unwrap();
                }
                "rename" => {
                    let patch = WorkerInput { name_latin: Some("Chan Dara Renamed".into()), ..Default::default() };
                    store.update_worker(&admin_p, a.id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
                }
                "move out" | "move back" => {
                    let to = if step == "move out" { "0102" } else { "0201" };
                    let patch = WorkerInput { workplace_code: Some(to.into()), ..Default::default() };
                    store.update_worker(&admin_p, a.id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
                }
                "join ngo" | "move with ngo" => {
                    let patch = if step == "join ngo" {
                        WorkerInput { org_id: Some(ngo.org.id), sector: Some("ngo".into()), ..Default::default() }
                    } else {
                        WorkerInput { workplace_code: Some("0102".into()), ..Default::default() }
                    };
                    store.update_worker(&admin_p, a.id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
                }
                "org rename" => {
                    let patch = OrgInput { name_en: Some("Friends International".into()), ..Default::default() };
                    store.update_org(&admin_p, ngo.org.id, &patch, None).await.unwrap();
                }
                "delete" => {
                    store.delete_worker(&admin_p, b.id, None).await.unwrap();
                }
                "new org" => {
                    store.create_org(&admin_p, &org("Battambang DoSVY", "provincial_department", "02")).await.unwrap();
                }
                _ => unreachable!(),
            }
            let since = last.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            last = chrono::Utc::now() - chrono::Duration::seconds(1);
            for (token, m) in &mut mirrors {
                pull(&app, token, m, Some(&since)).await;
                let want = fresh(&app, token).await;
                assert_eq!(*m, want, "{engine:?}: after '{step}' (token {token:.8}…)");
            }
        }
        // Paging a history while a listed resource changes again skips nothing: the changed
        // one comes again at the end, and every resource is seen.
        let (_, first, _) = get(&app, Some(&admin), "/fhir/r4/Practitioner/_history?_count=1").await;
        let first_id: i64 = first["entry"][0]["resource"]["id"].as_str().unwrap().parse().unwrap();
        let patch = WorkerInput { phone: Some("012 345 678".into()), ..Default::default() };
        store.update_worker(&admin_p, first_id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
        let mut seen = BTreeSet::from([first_id.to_string()]);
        let mut next =
            first["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").map(|l| l["url"].clone());
        while let Some(url) = next {
            let (s, b, _) = get(&app, Some(&admin), url.as_str().unwrap()).await;
            assert_eq!(s, 200, "{b}");
            for e in b["entry"].as_array().into_iter().flatten() {
                seen.insert(e["request"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string());
            }
            next = b["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").map(|l| l["url"].clone());
        }
        let all = ids(&search_all(&app, &admin, "/fhir/r4/Practitioner?_count=500").await);
        assert!(
            all.is_subset(&seen),
            "{engine:?}: paged history missed {:?}",
            all.difference(&seen).collect::<Vec<_>>()
        );
        for (token, m) in &mut mirrors {
            pull(&app, token, m, Some(&last.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))).await;
        }

        // Compacting the feed changes nothing a consumer reads: a full history equals the mirrors.
        let rows = |s: Store| async move {
            sqlx::query("SELECT COUNT(*) FROM fhir_changes").fetch_one(s.pool()).await.unwrap().get::<i64, _>(0)
        };
        let before = rows(store.clone()).await;
        let forgot = store.compact_fhir_changes(1_000_000).await.unwrap();
        assert!(forgot > 0, "{engine:?}: the renames and moves left rows to forget");
        assert_eq!(rows(store.clone()).await, before - forgot as i64);
        assert_eq!(store.compact_fhir_changes(1_000_000).await.unwrap(), 0, "{engine:?}: once is enough");
        for (token, m) in &mirrors {
            let mut again = Mirror::new();
            pull(&app, token, &mut again, None).await;
            assert_eq!(&again, m, "{engine:?}: a full pull after compaction");
        }
        // The provincial officer saw the worker leave (and come back, and leave).
        let prov_ids: BTreeSet<String> =
            mirrors[1].1.keys().filter(|(t, _)| t == "Practitioner").map(|(_, id)| id.clone()).collect();
        assert!(!prov_ids.contains(&a.id.to_string()), "{engine:?}: {prov_ids:?}");
        app.stop().await;
    }
}
