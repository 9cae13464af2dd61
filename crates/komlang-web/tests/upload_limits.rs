//! What an upload may expand to and what an import's report may hold, over HTTP on every
//! engine: a workbook that unzips past the limit, a table of too many rows, cells or
//! characters is refused at once with the limit named (API and upload page, Khmer and
//! English); a file of many rejected rows gives a report of the first ones, cut, with the
//! count of the others ("N more not shown") on the page, in the API and in the files.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::bombs::{declare_size, rejected_rows_csv, unzipped_size, xlsx_bomb};
use common::{csrf_of, login, TestApp, Texts};
use komlang_core::UserRole;
use komlang_io::ReadLimits;
use komlang_store::testing::engines;
use komlang_store::ReportLimits;
use komlang_web::common::i18n::Locale;
use komlang_web::WebConfig;
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn small_limits() -> WebConfig {
    WebConfig {
        upload_limits: ReadLimits {
            max_rows: 50,
            max_cells_per_row: 20,
            max_cell_chars: 300,
            max_unzipped_bytes: 4 * 1024 * 1024,
            max_zip_entries: 100,
        },
        report_limits: ReportLimits { rows: 5, chars: 20, bytes: 1024 * 1024 },
        ..Default::default()
    }
}

async fn post_file(
    c: &reqwest::Client,
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
    lang: &str,
) -> (u16, Value, usize) {
    let r = c
        .post(app.url(&format!("/api/v1/imports/workers?{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .header("accept-language", lang)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), bytes.len())
}

#[tokio::test]
async fn files_past_a_limit_are_refused_with_the_limit_named() {
    for engine in engines() {
        let app = TestApp::start_with(engine, small_limits()).await;
        let (_, token) = app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        let c = reqwest::Client::new();
        let en = Texts::new(Locale::En);
        let km = Texts::new(Locale::Km);

        // A workbook that unzips to 8 MB (the file is some 100 KB): refused before it is read.
        let bomb = xlsx_bomb(800, 10, 1000);
        assert!(bomb.len() < 400_000 && unzipped_size(&bomb) > 8_000_000, "{} bytes", bomb.len());
        let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", XLSX, bomb.clone(), "en").await;
        assert_eq!((s, v["error"].as_str()), (413, Some("unzips_too_large")), "{engine:?}: {v}");
        assert_eq!(v["message"], en.tp("import.error_limit_unzipped", &[("max", "4".into()), ("row", "0".into())]));
        let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", XLSX, bomb, "km").await;
        assert_eq!(s, 413);
        assert_eq!(v["message"], km.tp("import.error_limit_unzipped", &[("max", "4".into()), ("row", "0".into())]));

        // Too many rows, cells in a row, characters in a cell: CSV and XLSX alike.
        let rows = |n: usize| {
            let mut s = String::from("name_km,name_latin,sex,cadre,role,sector,workplace_code,status\r\n");
            for _ in 0..n {
                s.push_str("សុខ,Sok,F,para_social_worker,ccwc_focal_point,government,010201,active\r\n");
            }
            s
        };
        let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", "text/csv", rows(51).into_bytes(), "en").await;
        assert_eq!((s, v["error"].as_str()), (413, Some("too_many_rows")), "{engine:?}: {v}");
        assert!(v["message"].as_str().unwrap().contains("50"), "{v}");
        let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", "text/csv", rows(50).into_bytes(), "en").await;
        assert_eq!(s, 200, "{engine:?}: fifty rows are fine: {v}");
        let wide = format!("{}{}\r\n", rows(2), "x,".repeat(25));
        let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", "text/csv", wide.into_bytes(), "en").await;
        assert_eq!((s, v["error"].as_str()), (413, Some("too_many_cells")), "{engine:?}: {v}");
        assert_eq!(v["message"], en.tp("import.error_limit_cells", &[("max", "20".into()), ("row", "4".into())]));
        let long = xlsx_bomb(3, 8, 301);
        let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", XLSX, long, "km").await;
        assert_eq!((s, v["error"].as_str()), (413, Some("cell_too_long")), "{engine:?}: {v}");
        assert_eq!(v["message"], km.tp("import.error_limit_chars", &[("max", "300".into()), ("row", "2".into())]));

        // The upload page refuses the bomb at once, in the page's language; nothing is kept.
        let b = common::browser();
        app.account("officer", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        login(&app, &b, "officer").await;
        let csrf = csrf_of(&b.get(app.url("/imports/new")).send().await.unwrap().text().await.unwrap());
        let part = reqwest::multipart::Part::bytes(xlsx_bomb(800, 10, 1000)).file_name("staff.xlsx").mime_str(XLSX);
        let form =
            reqwest::multipart::Form::new().text("csrf", csrf).text("kind", "workers").part("file", part.unwrap());
        let r = b.post(app.url("/imports")).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}");
        let page = r.text().await.unwrap();
        // (Pages are in Khmer unless the browser or the account asks for English.)
        let text = km.tp("import.error_limit_unzipped", &[("max", "4".into()), ("row", "0".into())]);
        assert!(page.contains(&askama_escape(&text)), "{engine:?}: the page says why: {page}");
        let p = komlang_store::system_principal("t");
        assert_eq!(app.db.store.list_imports(&p, 1).await.unwrap().total, 0);
        app.stop().await;
    }
}

/// What HTML escaping does to the texts above (quotes).
fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&#34;").replace('\'', "&#39;").replace('<', "&lt;").replace('>', "&gt;")
}

#[tokio::test]
async fn the_default_limit_refuses_a_workbook_that_says_it_is_huge() {
    let app = TestApp::start(komlang_store::Engine::Sqlite).await;
    let (_, token) = app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
    let mut book = xlsx_bomb(2, 8, 10);
    declare_size(&mut book, "xl/worksheets/sheet1.xml", 300 * 1024 * 1024);
    let c = reqwest::Client::new();
    let (s, v, _) = post_file(&c, &app, &token, "dry_run=true", XLSX, book, "en").await;
    assert_eq!((s, v["error"].as_str()), (413, Some("unzips_too_large")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("128 MB"), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn reports_hold_the_first_rejected_rows_and_count_the_rest() {
    for engine in engines() {
        // The default report: 1,000 rows in full, texts cut at 500 characters, 4 MiB at most.
        let app = TestApp::start(engine).await;
        let (_, token) = app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        let c = reqwest::Client::new();
        let (s, v, size) =
            post_file(&c, &app, &token, "dry_run=true", "text/csv", rejected_rows_csv(1_500, 0, 0), "en").await;
        assert_eq!(s, 422, "{engine:?}");
        assert_eq!(v["rejected_count"], 1_500);
        assert_eq!(v["rejected"].as_array().unwrap().len(), 1_000);
        assert_eq!(v["rejected_not_shown"], 500);
        assert_eq!(v["rejected"][0]["row"], 2, "the first rows");
        assert_eq!(v["rejected"][999]["row"], 1_001);
        assert_eq!(v["not_shown"], "500 more rejected rows not shown.");
        assert!(size < 1_000_000, "{engine:?}: {size} bytes");

        // 600 rows of twenty 1,800-character cells (a 21 MB file): the cells cut, the answer small.
        let file = rejected_rows_csv(600, 20, 1_800);
        assert!(file.len() > 20_000_000);
        let (s, v, size) = post_file(&c, &app, &token, "dry_run=true", "text/csv", file, "en").await;
        assert_eq!(s, 422, "{engine:?}");
        assert_eq!(v["rejected_count"], 600);
        let shown = v["rejected"].as_array().unwrap();
        let cell = shown[0]["cells"][8].as_str().unwrap();
        assert_eq!(cell.chars().count(), 501, "{engine:?}: cut at 500 characters");
        assert!(cell.ends_with('…'));
        assert!(shown.len() < 500 && shown.len() > 300, "{engine:?}: within 4 MiB: {}", shown.len());
        assert_eq!(v["rejected_not_shown"].as_u64().unwrap() as usize, 600 - shown.len());
        assert!(size < 6 * 1024 * 1024, "{engine:?}: the answer is {size} bytes for a 21 MB file");

        // A planning data file of many bad rows: the first 1,000 problems and a count.
        let (_, _) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let a = common::browser();
        login(&app, &a, "admin").await;
        let csrf = csrf_of(&a.get(app.url("/planning/data")).send().await.unwrap().text().await.unwrap());
        let mut data = String::from("admin_code,open_cases,as_of\n");
        for _ in 0..1_200 {
            data.push_str("0201,many,2025-03-31\n");
        }
        let part = reqwest::multipart::Part::bytes(data.into_bytes()).file_name("cases.csv").mime_str("text/csv");
        let form = reqwest::multipart::Form::new().text("csrf", csrf).text("kind", "caseloads");
        let r = a.post(app.url("/planning/data")).multipart(form.part("file", part.unwrap())).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        let errors = page.split("id=\"errors\">").nth(1).unwrap().split("</div>").next().unwrap();
        assert_eq!(errors.matches("<p>").count(), 1_001, "{engine:?}: a thousand problems listed, then the count");
        let more = Texts::new(Locale::Km).tp("planning.error.more_errors", &[("count", "200".into())]);
        assert!(errors.contains(&askama_escape(&more)), "{engine:?}: {}", &errors[errors.len() - 500..]);
        app.stop().await;
    }
}

#[tokio::test]
async fn pages_and_files_say_how_many_rows_are_not_shown() {
    for engine in engines() {
        let app = TestApp::start_with(engine, small_limits()).await;
        app.account("officer", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        let b = common::browser();
        login(&app, &b, "officer").await;
        let mut file = String::from_utf8(rejected_rows_csv(12, 0, 0)).unwrap();
        file.push_str("ពៅ,Pov,F,para_social_worker,ccwc_focal_point,government,010201,active\r\n");
        let csrf = csrf_of(&b.get(app.url("/imports/new")).send().await.unwrap().text().await.unwrap());
        let part = reqwest::multipart::Part::bytes(file.into_bytes()).file_name("staff.csv").mime_str("text/csv");
        let form = reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("kind", "workers");
        let r = b.post(app.url("/imports")).multipart(form.part("file", part.unwrap())).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let mapping = r.headers()["location"].to_str().unwrap().to_string();
        let file_id = mapping.split('/').nth(3).unwrap().to_string();
        let page = b.get(app.url(&mapping)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"mapping\""), "{engine:?}");
        // The check: five rows listed, seven more counted.
        let cols: Vec<(String, String)> =
            ["name_km", "name_latin", "sex", "cadre", "role", "sector", "workplace_code", "status"]
                .iter()
                .enumerate()
                .map(|(n, f)| (format!("c{n}"), f.to_string()))
                .collect();
        let q = serde_urlencoded::to_string(
            std::iter::once(("kind".to_string(), "workers".to_string()))
                .chain(cols.iter().cloned())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let page = b.get(app.url(&format!("/imports/files/{file_id}/preview?{q}"))).send().await.unwrap();
        let page = page.text().await.unwrap();
        let km = Texts::new(Locale::Km);
        let more = km.tp("import.more_problems", &[("count", "7".into())]);
        assert!(page.contains(&askama_escape(&more)), "{engine:?}: {page}");
        // The valid row only, the rest given back: the file holds the five, the page says so.
        let csrf = csrf_of(&page);
        let mut form: Vec<(String, String)> = cols.clone();
        form.extend([("csrf".into(), csrf), ("kind".into(), "workers".into()), ("mode".into(), "partial".into())]);
        let r = b.post(app.url(&format!("/imports/files/{file_id}/commit"))).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let result = r.headers()["location"].to_str().unwrap().to_string();
        let page = b.get(app.url(&result)).send().await.unwrap().text().await.unwrap();
        let partial = km.tp("import.rejected_file_partial", &[("shown", "5".into()), ("count", "7".into())]);
        assert!(page.contains(&askama_escape(&partial)), "{engine:?}: {page}");
        assert!(page.contains("id=\"count-rejected\">12<"), "{engine:?}: the count is exact");
        let import_id = result.trim_start_matches("/imports/").split('?').next().unwrap();
        let csv = b.get(app.url(&format!("/imports/{import_id}/rejected.csv"))).send().await.unwrap();
        let rows = komlang_io::TableReader::from_bytes("r.csv", csv.bytes().await.unwrap().to_vec()).unwrap().count();
        assert_eq!(rows, 5, "{engine:?}");

        app.stop().await;
    }
}
