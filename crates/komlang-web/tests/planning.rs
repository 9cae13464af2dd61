//! Workforce planning over HTTP on every engine: coverage (page, API,
//! exports, chart), norms, plans (form, API, saved scenarios, printable page,
//! exports, comparison), the supply projection, planning data, and who may
//! do what.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::system_principal;
use komlang_store::testing::engines;
use reqwest::Client;
use serde_json::{json, Value};

struct Tokens {
    admin: String,
    viewer: String,
    prov: String,
    other_prov: String,
    dist: String,
    hr: String,
    worker: String,
}

async fn setup(app: &TestApp) -> Tokens {
    let store = &app.db.store;
    let sys = system_principal("test");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let w = |name: &str, workplace: &str, role: &str, cadre: &str| WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some(cadre.into()),
        role: Some(role.into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        ..Default::default()
    };
    store
        .create_worker(&sys, &w("Agent One", "020101", "social_work_agent", "para_professional"), today)
        .await
        .unwrap();
    store
        .create_worker(&sys, &w("Dist Sw", "0201", "district_social_worker", "para_professional"), today)
        .await
        .unwrap();
    let me = store
        .create_worker(&sys, &w("Pro Two", "02", "dosvy_officer", "professional_social_worker"), today)
        .await
        .unwrap();
    let org = store
        .create_org(
            &sys,
            &komlang_core::validate::OrgInput {
                name_en: Some("Care NGO".into()),
                kind: Some("ngo".into()),
                admin_code: Some("02".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    Tokens {
        admin: app.account("admin", UserRole::NationalAdmin, None, None, None).await.1,
        viewer: app.account("viewer", UserRole::NationalViewer, None, None, None).await.1,
        prov: app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await.1,
        other_prov: app.account("prov12", UserRole::ProvincialOfficer, Some("12"), None, None).await.1,
        dist: app.account("dist0201", UserRole::DistrictOfficer, Some("0201"), None, None).await.1,
        hr: app.account("hr-care", UserRole::OrgHrManager, None, Some(org.org.id), None).await.1,
        worker: app.account("self", UserRole::Worker, None, None, Some(me.id)).await.1,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = Client::new().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = Client::new().post(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn codes(v: &Value) -> Vec<String> {
    v["units"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap().to_string()).collect()
}

async fn signed_in(app: &TestApp, username: &str) -> Client {
    let c = browser();
    login(app, &c, username).await;
    c.get(app.url("/lang/en?next=/")).send().await.unwrap();
    c
}

#[tokio::test]
async fn coverage_through_the_api_and_the_page() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let t = setup(&app).await;

        // The shipped 2025 units under the built-in norm.
        let mut required = 0;
        for (level, units) in [("province", 25), ("district", 210), ("commune", 1661)] {
            let (s, v) = get(&app, &t.admin, &format!("/api/v1/planning/coverage?level={level}")).await;
            assert_eq!(s, 200, "{engine:?}: {v}");
            assert_eq!(v["units"].as_array().unwrap().len(), units);
            assert_eq!(v["norm"], "investment-case-2023");
            required += v["totals"]["required"].as_u64().unwrap();
        }
        assert_eq!(required, 2106, "{engine:?}");
        let (_, v) = get(&app, &t.admin, "/api/v1/planning/coverage?level=province&sort=gap&dir=desc").await;
        assert_eq!(v["units"][24]["code"], "02", "{engine:?}: Battambang has its professional, so the smallest gap");
        assert_eq!(v["units"][24]["in_post"], 1);
        assert_eq!(v["units"][24]["government_workers"], 3);
        let (_, v) = get(&app, &t.viewer, "/api/v1/planning/coverage?level=commune&parent=0201").await;
        let c = v["units"].as_array().unwrap().iter().find(|u| u["code"] == "020101").unwrap().clone();
        assert_eq!((c["in_post"].as_u64(), c["gap"].as_u64()), (Some(1), Some(0)), "{engine:?}");

        // Exports.
        let r = Client::new()
            .get(app.url("/api/v1/planning/coverage?level=province&format=csv"))
            .bearer_auth(&t.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let csv = r.text().await.unwrap();
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert!(lines.next().unwrap().starts_with("admin_code,level,name_en,name_km,in_post,required,gap"));
        assert_eq!(lines.count(), 25);
        let r = Client::new()
            .get(app.url("/api/v1/planning/coverage?level=district&format=xlsx"))
            .bearer_auth(&t.admin)
            .send()
            .await
            .unwrap();
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{engine:?}: an XLSX workbook");
        let (headers, rows) = {
            let t = komlang_io::TableReader::from_bytes("c.xlsx", bytes.to_vec()).unwrap();
            let h = t.headers().to_vec();
            (h, t.map(|r| r.unwrap().1).collect::<Vec<_>>())
        };
        assert_eq!(headers[0], "admin_code");
        assert_eq!(rows.len(), 210);

        // Scope: a provincial officer sees their province; other provinces do not exist for them.
        let (_, v) = get(&app, &t.prov, "/api/v1/planning/coverage?level=province").await;
        assert_eq!(codes(&v), vec!["02"]);
        let (_, v) = get(&app, &t.prov, "/api/v1/planning/coverage").await;
        assert_eq!(v["level"], "district", "{engine:?}: the level below the area by default");
        let (s, _) = get(&app, &t.prov, "/api/v1/planning/coverage?level=commune&parent=1201").await;
        assert_eq!(s, 404);
        let (s, v) = get(&app, &t.dist, "/api/v1/planning/coverage?level=province").await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["fields"][0]["code"], "level_above_parent");
        let (s, v) = get(&app, &t.dist, "/api/v1/planning/coverage?level=commune").await;
        assert_eq!(s, 200);
        assert!(!codes(&v).is_empty() && codes(&v).iter().all(|c| c.starts_with("0201")), "{v}");
        let (s, _) = get(&app, &t.admin, "/api/v1/planning/coverage?level=village").await;
        assert_eq!(s, 400);
        let (s, v) = get(&app, &t.admin, "/api/v1/planning/coverage?norm=nope").await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("norm_missing")));
        for tok in [&t.hr, &t.worker] {
            let (s, _) = get(&app, tok, "/api/v1/planning/coverage").await;
            assert_eq!(s, 403, "{engine:?}");
        }

        // The page: table, chart, sorting, drill-down, exports.
        let c = signed_in(&app, "admin").await;
        let page = c.get(app.url("/planning/coverage?level=province&sort=gap&dir=desc")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("<svg") && html.contains("class=\"chart\""), "a server-drawn chart");
        assert!(!html.contains(" style="), "no inline style (CSP)");
        assert_eq!(html.matches("<tr data-code=").count(), 25);
        let last = html.rfind("<tr data-code=").unwrap();
        assert!(html[last..].starts_with("<tr data-code=\"02\""), "sorted by gap, descending");
        assert!(
            html.contains("/planning/coverage?level=district&#38;norm=investment-case-2023&#38;parent=02"),
            "{}",
            &html[html.find("data-code=\"02\"").unwrap()..][..400]
        );
        assert!(html.contains("format=xlsx"));
        let r = c.get(app.url("/planning/coverage?level=province&format=csv")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(r.text().await.unwrap().lines().count() == 26);
        let html =
            c.get(app.url("/planning/coverage?level=commune&parent=0201")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("data-code=\"020101\"") && !html.contains("data-code=\"020201\""));
        let r = c.get(app.url("/planning/coverage?level=province&parent=0201")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        // Navigation shows planning to those who may read it.
        let home = c.get(app.url("/about")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("href=\"/planning\""));
        let hr = signed_in(&app, "hr-care").await;
        assert!(!hr.get(app.url("/about")).send().await.unwrap().text().await.unwrap().contains("href=\"/planning\""));
        for path in ["/planning", "/planning/coverage", "/planning/supply", "/planning/norms", "/planning/data"] {
            assert_eq!(hr.get(app.url(path)).send().await.unwrap().status(), 403, "{engine:?} {path}");
        }
        let prov = signed_in(&app, "prov02").await;
        let r = prov.get(app.url("/planning/coverage?level=commune&parent=1201")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn plans_are_generated_saved_shown_exported_and_compared() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let t = setup(&app).await;
        let req = json!({
            "name": "Battambang by 2027",
            "start_year": 2025,
            "target_year": 2027,
            "yearly_capacity": 20,
            "cap_per_unit": 1,
            "weights": {"gap": 1, "children": 0, "caseload": 0},
            "level_order": ["province", "district", "commune"],
            "blocked": [{"admin_code": "0202", "year": 2025}]
        });
        let (s, a) = post(&app, &t.prov, "/api/v1/planning/plans", &req).await;
        assert_eq!(s, 201, "{engine:?}: {a}");
        assert_eq!(a["scope_code"], "02");
        assert_eq!(a["result"]["total"], 60, "{engine:?}: three years of 20");
        let posts = a["result"]["posts"].as_array().unwrap();
        assert!(posts.iter().all(|p| p["admin_code"].as_str().unwrap().starts_with("02")));
        assert!(posts.iter().all(|p| p["count"] == 1), "cap of one per unit");
        assert!(!posts.iter().any(|p| p["admin_code"] == "0202" && p["year"] == 2025));
        assert!(posts[0]["reason"].as_str().unwrap().contains("priority rank"));
        let a_id = a["id"].as_i64().unwrap();

        let (s, b) = post(
            &app,
            &t.admin,
            "/api/v1/planning/plans",
            &json!({
                "name": "Whole country", "start_year": 2025, "target_year": 2027, "posts": 2079
            }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["result"]["total"], 2079);
        assert_eq!(b["result"]["total_gap"], 2103, "{engine:?}: 2,106 less the three posts filled");
        let b_id = b["id"].as_i64().unwrap();

        // Who sees and who makes plans.
        let (s, v) = get(&app, &t.viewer, &format!("/api/v1/planning/plans/{a_id}")).await;
        assert_eq!((s, v["name"].as_str()), (200, Some("Battambang by 2027")));
        assert_eq!(get(&app, &t.other_prov, &format!("/api/v1/planning/plans/{a_id}")).await.0, 404);
        assert_eq!(get(&app, &t.prov, &format!("/api/v1/planning/plans/{b_id}")).await.0, 404, "a national plan");
        assert_eq!(get(&app, &t.hr, &format!("/api/v1/planning/plans/{a_id}")).await.0, 403);
        let (_, list) = get(&app, &t.prov, "/api/v1/planning/plans").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(post(&app, &t.viewer, "/api/v1/planning/plans", &req).await.0, 403);
        assert_eq!(post(&app, &t.worker, "/api/v1/planning/plans", &req).await.0, 403);
        let mut out = req.clone();
        out["parent"] = json!("12");
        assert_eq!(post(&app, &t.prov, "/api/v1/planning/plans", &out).await.0, 404);
        let mut bad = req.clone();
        bad["target_year"] = json!(2020);
        let (s, v) = post(&app, &t.prov, "/api/v1/planning/plans", &bad).await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("target_before_start")), "{v}");
        assert!(v["fields"][0]["message"].as_str().unwrap().contains("before"), "translated: {v}");
        let r = Client::new()
            .post(app.url("/api/v1/planning/plans"))
            .bearer_auth(&t.prov)
            .header("accept-language", "km")
            .json(&bad)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["fields"][0]["message"], "ឆ្នាំគោលដៅនៅមុនឆ្នាំដំបូង។");

        // Exports of a plan.
        let r = Client::new()
            .get(app.url(&format!("/api/v1/planning/plans/{a_id}?format=csv")))
            .bearer_auth(&t.admin)
            .send()
            .await
            .unwrap();
        let csv = r.text().await.unwrap();
        assert!(csv.trim_start_matches('\u{feff}').starts_with("admin_code,level,name_en,name_km,year,count,rank"));
        assert_eq!(csv.lines().count(), 61);

        // The pages: the form, a saved plan, the printable page, exports, comparison.
        let c = signed_in(&app, "admin").await;
        let form = c.get(app.url("/planning/plans/new")).send().await.unwrap().text().await.unwrap();
        assert!(form.contains("name=\"w_gap\"") && form.contains("name=\"blocked\""));
        assert!(form.contains("2103"), "the whole gap is the default, and shown");
        let csrf = csrf_of(&form);
        let fields = [
            ("csrf", csrf.as_str()),
            ("name", "Communes first"),
            ("norm", "investment-case-2023"),
            ("parent", "02"),
            ("posts", ""),
            ("start_year", "2026"),
            ("target_year", "2028"),
            ("yearly_capacity", "40"),
            ("cap_per_unit", ""),
            ("w_gap", "1"),
            ("w_children", "0"),
            ("w_caseload", "0"),
            ("level_order", "commune_first"),
            ("blocked", "020102 2026-2027\n020103 2026"),
        ];
        let r = c.post(app.url("/planning/plans")).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        assert!(loc.starts_with("/planning/plans/"));
        let html = c.get(app.url(&loc)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Communes first") && html.contains("id=\"plan-posts\"") && html.contains("<svg"));
        assert!(html.contains("priority rank"), "reasons shown");
        assert!(html.contains("020102 2026, 020102 2027, 020103 2026"));
        let print = c.get(app.url(&format!("{loc}/print"))).send().await.unwrap().text().await.unwrap();
        assert!(print.contains("id=\"plan-posts\"") && !print.contains("nav class=\"main\""));
        assert!(print.contains("/static/planning.css"));
        let css = c.get(app.url("/static/planning.css")).send().await.unwrap().text().await.unwrap();
        assert!(css.contains("@media print"));
        let xlsx = c.get(app.url(&format!("{loc}?format=xlsx"))).send().await.unwrap().bytes().await.unwrap();
        assert!(xlsx.starts_with(b"PK"));
        let mut bad = fields.to_vec();
        bad.retain(|(k, _)| *k != "name");
        bad.push(("name", ""));
        bad.retain(|(k, _)| *k != "blocked");
        bad.push(("blocked", "020102 soon"));
        let r = c.post(app.url("/planning/plans")).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"errors\"") && html.contains("020102 soon"), "errors shown, input kept");
        let cmp = c.get(app.url(&format!("/planning/compare?a={a_id}&b={b_id}"))).send().await.unwrap();
        assert_eq!(cmp.status(), 200);
        let cmp = cmp.text().await.unwrap();
        assert!(
            cmp.contains("Battambang by 2027") && cmp.contains("Whole country") && cmp.contains("id=\"compare-units\"")
        );
        assert!(
            cmp.contains("<td class=\"total-a\">60</td>") && cmp.contains("<td class=\"total-b\">2079</td>"),
            "{engine:?}"
        );
        let index = c.get(app.url("/planning")).send().await.unwrap().text().await.unwrap();
        assert_eq!(index.matches("<tr data-id=").count(), 3);
        // Scope on pages too; a viewer reads but does not plan.
        let other = signed_in(&app, "prov12").await;
        assert_eq!(other.get(app.url(&format!("/planning/plans/{a_id}"))).send().await.unwrap().status(), 404);
        assert_eq!(
            other.get(app.url(&format!("/planning/compare?a={a_id}&b={b_id}"))).send().await.unwrap().status(),
            404
        );
        let viewer = signed_in(&app, "viewer").await;
        assert_eq!(viewer.get(app.url(&format!("/planning/plans/{a_id}"))).send().await.unwrap().status(), 200);
        assert_eq!(viewer.get(app.url("/planning/plans/new")).send().await.unwrap().status(), 403);
        let vcsrf = csrf_of(&viewer.get(app.url("/planning")).send().await.unwrap().text().await.unwrap());
        let mut vf = fields.to_vec();
        vf[0] = ("csrf", vcsrf.as_str());
        assert_eq!(viewer.post(app.url("/planning/plans")).form(&vf).send().await.unwrap().status(), 403);
        app.stop().await;
    }
}

#[tokio::test]
async fn norms_data_and_supply() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let t = setup(&app).await;
        let norm = json!({
            "name": "per-10k",
            "title_en": "1 per 10,000 population",
            "rules": [{"kind": "ratio", "level": "province", "workers": 1, "per": 10000}]
        });
        assert_eq!(post(&app, &t.viewer, "/api/v1/planning/norms", &norm).await.0, 403);
        assert_eq!(post(&app, &t.prov, "/api/v1/planning/norms", &norm).await.0, 403);
        let (s, v) = post(&app, &t.admin, "/api/v1/planning/norms", &norm).await;
        assert_eq!(s, 201, "{engine:?}: {v}");
        assert_eq!(v["norm"]["rules"][0]["kind"], "ratio");
        let (s, v) = post(&app, &t.admin, "/api/v1/planning/norms", &norm).await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("norm_name_taken")));
        let (s, v) = get(&app, &t.dist, "/api/v1/planning/norms").await;
        assert_eq!((s, v.as_array().map(|a| a.len())), (200, Some(2)));
        assert_eq!(get(&app, &t.hr, "/api/v1/planning/norms").await.0, 403);

        // Data: indicators, caseloads, vacancies.
        let ind = json!([{"admin_code": "01", "name": "poverty_index", "year": 2024, "value": 0.35},
                         {"admin_code": "12", "name": "poverty_index", "year": 2024, "value": 0.1}]);
        assert_eq!(post(&app, &t.prov, "/api/v1/planning/indicators", &ind).await.0, 403);
        let (s, v) = post(&app, &t.admin, "/api/v1/planning/indicators", &ind).await;
        assert_eq!((s, v["saved"].as_u64()), (200, Some(2)), "{v}");
        let (s, v) = post(
            &app,
            &t.admin,
            "/api/v1/planning/caseloads",
            &json!([
                {"admin_code": "02", "open_cases": 120, "as_of": "2025-06-30"}
            ]),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = post(
            &app,
            &t.admin,
            "/api/v1/planning/vacancies",
            &json!([
                {"admin_code": "99", "vacancies": 3, "as_of": "2025-06-30"}
            ]),
        )
        .await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("unknown_admin_unit")), "{v}");
        assert!(v["fields"][0]["message"].as_str().unwrap().starts_with("Row 1"), "{v}");
        let (s, _) = post(&app, &t.admin, "/api/v1/planning/vacancies", &json!([{"admin_code": "02"}])).await;
        assert_eq!(s, 400);
        // The per-10k norm needs population: imported figures count, indicators and caseloads are shown.
        let headers: Vec<String> = ["admin_code", "year", "sex", "age_group", "count"].map(String::from).to_vec();
        let rows = vec![Ok((2u64, ["02", "2024", "total", "total", "1,000,000"].map(String::from).to_vec()))];
        let opts = komlang_store::ImportOptions {
            dry_run: false,
            partial: false,
            file_name: "population.csv".into(),
            file_sha256: "0".repeat(64),
            ..Default::default()
        };
        let report =
            app.db.store.import_population(&system_principal("test"), &headers, rows.into_iter(), &opts).await.unwrap();
        assert!(report.committed, "{report:?}");
        let (_, v) = get(&app, &t.admin, "/api/v1/planning/coverage?level=province&norm=per-10k&year=2025").await;
        let btb = v["units"].as_array().unwrap().iter().find(|u| u["code"] == "02").unwrap().clone();
        assert_eq!((btb["required"].as_u64(), btb["in_post"].as_u64()), (Some(100), Some(3)), "{engine:?}: {btb}");
        assert_eq!(btb["per_10k_population"].as_f64(), Some(0.03));
        assert_eq!(btb["open_cases"].as_u64(), Some(120));
        // A plan may weigh the indicator.
        let (s, p) = post(&app, &t.admin, "/api/v1/planning/plans", &json!({
            "name": "poorest first", "start_year": 2025, "target_year": 2025, "posts": 1, "level_order": ["province"],
            "weights": {"gap": 0, "children": 0, "caseload": 0, "indicators": {"poverty_index": 1}}
        }))
        .await;
        assert_eq!(s, 201, "{p}");
        assert_eq!(p["result"]["posts"][0]["admin_code"], "01", "{engine:?}: the highest poverty index");
        assert!(p["result"]["posts"][0]["reason"].as_str().unwrap().contains("poverty_index 0.35"));

        // Pages: norms form, data upload.
        let c = signed_in(&app, "admin").await;
        let page = c.get(app.url("/planning/norms")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-name=\"investment-case-2023\"") && page.contains("id=\"norm-form\""));
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url("/planning/norms"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", "per-100k-children"),
                ("title_en", ""),
                ("title_km", ""),
                ("workers", "30"),
                ("per", "100000"),
                ("base", "children"),
                ("level", "district"),
                ("counts", "government"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let page = c.get(app.url("/planning/norms")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-name=\"per-100k-children\"") && page.contains("30 per 100000 children"));
        let r = c
            .post(app.url("/planning/norms"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", "Bad Name"),
                ("workers", "1"),
                ("per", "10000"),
                ("level", "province"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let csv = "admin_code,open_cases,as_of\n0201,12,2025-03-31\n0202,7,2025-03-31\n";
        let upload = |csrf: String, body: &'static str| {
            let part = reqwest::multipart::Part::bytes(body.as_bytes().to_vec())
                .file_name("cases.csv")
                .mime_str("text/csv")
                .unwrap();
            reqwest::multipart::Form::new().text("csrf", csrf).text("kind", "caseloads").part("file", part)
        };
        let data = c.get(app.url("/planning/data")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&data);
        let r = c.post(app.url("/planning/data")).multipart(upload(csrf.clone(), csv)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("2 rows saved"), "{engine:?}");
        let r = c
            .post(app.url("/planning/data"))
            .multipart(upload(csrf.clone(), "admin_code,open_cases,as_of\n0201,many,2025-03-31\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Row 2"));
        let prov = signed_in(&app, "prov02").await;
        let data = prov.get(app.url("/planning/data")).send().await.unwrap().text().await.unwrap();
        assert!(!data.contains("id=\"data-form\""), "officers read, administrators enter");
        let pcsrf = csrf_of(&data);
        assert_eq!(
            prov.post(app.url("/planning/data")).multipart(upload(pcsrf, csv)).send().await.unwrap().status(),
            403
        );

        // Supply: the defaults never meet the investment case in 20 years; a bigger pipeline does.
        let (s, v) = get(&app, &t.viewer, "/api/v1/planning/supply?norm=investment-case-2023&start_year=2025").await;
        assert_eq!(s, 200, "{v}");
        let n = &v["norms"][0];
        assert_eq!(
            (n["required"].as_u64(), n["filled"].as_u64(), n["gap"].as_u64()),
            (Some(2106), Some(3), Some(2103))
        );
        assert_eq!(n["year_met"], Value::Null);
        assert_eq!(v["graduates_per_year"], 45);
        let (_, v) = get(
            &app,
            &t.viewer,
            "/api/v1/planning/supply?norm=investment-case-2023&start_year=2025&graduates=1000&uptake=100&attrition=0",
        )
        .await;
        assert_eq!(v["norms"][0]["year_met"], 2028, "{engine:?}: 3 + 3 × 1,000 ≥ 2,106 in 2028");
        let (_, v) = get(&app, &t.prov, "/api/v1/planning/supply").await;
        assert_eq!(v["norms"].as_array().unwrap().len(), 3, "every norm");
        assert_eq!(
            v["norms"][0]["required"].as_u64(),
            Some(1 + 2 * 14 + 103),
            "{engine:?}: Battambang's own structure"
        );
        let (s, _) = get(&app, &t.prov, "/api/v1/planning/supply?attrition=200").await;
        assert_eq!(s, 422);
        let html =
            c.get(app.url("/planning/supply?graduates=1000&uptake=100")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"supply-norms\"") && html.contains("<svg"));

        // The OpenAPI document describes the planning API.
        let (_, doc) = get(&app, &t.admin, "/api/openapi.json").await;
        for path in [
            "/api/v1/planning/coverage",
            "/api/v1/planning/norms",
            "/api/v1/planning/plans",
            "/api/v1/planning/plans/{id}",
            "/api/v1/planning/supply",
            "/api/v1/planning/indicators",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} in the OpenAPI document");
        }
        assert!(doc["components"]["schemas"]["PlanRequest"].is_object());
        app.stop().await;
    }
}
