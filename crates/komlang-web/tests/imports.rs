//! Bulk import and export over HTTP, on every engine: the page flow (upload,
//! column matching, dry-run preview, commit, result, rejected rows), the
//! exports of a filtered list, and the import API.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp, Texts};
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::system_principal;
use komlang_store::testing::engines;
use komlang_web::common::i18n::Locale;
use serde_json::Value;

fn en() -> Texts {
    Texts::new(Locale::En)
}

fn km() -> Texts {
    Texts::new(Locale::Km)
}

/// Text as askama escapes it into HTML.
fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;").replace('\'', "&#39;")
}

fn today() -> chrono::NaiveDate {
    komlang_web::common::today()
}

fn worker(name_km: &str, name_latin: &str, dob: &str, workplace: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some(name_km.into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        date_of_birth: Some(dob.into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        ..Default::default()
    }
}

async fn total(app: &TestApp) -> i64 {
    app.db.store.list_workers(&system_principal("t"), &Default::default()).await.unwrap().total
}

async fn latin_names(app: &TestApp) -> Vec<String> {
    let q = komlang_store::WorkerQuery { per_page: 500, ..Default::default() };
    let mut v: Vec<String> = app
        .db
        .store
        .list_workers(&system_principal("t"), &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|w| w.name_latin)
        .collect();
    v.sort();
    v
}

/// Headers in Khmer, dates as dd/mm/yyyy; row 3 has an impossible date, row 4
/// is the existing worker Sok Chantha written a little differently.
const HEADERS: [&str; 9] = [
    "ឈ្មោះ (អក្សរខ្មែរ)",
    "ឈ្មោះ (អក្សរឡាតាំង)",
    "ភេទ",
    "ថ្ងៃខែឆ្នាំកំណើត",
    "ប្រភេទបុគ្គលិក",
    "តួនាទី",
    "វិស័យ",
    "កន្លែងធ្វើការ (លេខកូដឯកតារដ្ឋបាល)",
    "ស្ថានភាពការងារ",
];
const FIELDS: [&str; 9] =
    ["name_km", "name_latin", "sex", "date_of_birth", "cadre", "role", "sector", "workplace_code", "status"];
const BAD_DATE: &str = "31/02/1990";

fn staff_csv() -> String {
    let tail = "para_social_worker,ccwc_focal_point,government,010201,active";
    let mut s = HEADERS.join(",");
    s.push('\n');
    s.push_str(&format!("ចាន់ សុភា,Chan Sophea,female,03/02/1991,{tail}\n"));
    s.push_str(&format!("ឡុង ដារា,Long Dara,male,{BAD_DATE},{tail}\n"));
    s.push_str(&format!("សុខ ចាន់ថា,Sok Chanta,female,17/05/1990,{tail}\n"));
    s.push_str(&format!("ពៅ ស្រីមុំ,Pov Sreymom,female,12/12/1995,{tail}\n"));
    s
}

/// Uploads a file through the form; returns the response.
async fn upload(app: &TestApp, c: &reqwest::Client, name: &str, bytes: Vec<u8>, kind: &str) -> reqwest::Response {
    let page = c.get(app.url("/imports/new")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str("text/csv").unwrap();
    let form = reqwest::multipart::Form::new().text("csrf", csrf).text("kind", kind.to_string()).part("file", part);
    c.post(app.url("/imports")).multipart(form).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// (headers, rows) of an exported or downloaded file, read back with komlang-io.
fn read_back(name: &str, bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let t = komlang_web::imports::read_table(name, bytes, None).unwrap();
    (t.headers, t.rows.into_iter().map(|(_, cells)| cells).collect())
}

#[tokio::test]
async fn upload_match_preview_and_commit_through_the_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let existing = app
            .db
            .store
            .create_worker(&system_principal("t"), &worker("សុខ ចាន់ថា", "Sok Chantha", "1990-05-17", "010201"), today())
            .await
            .unwrap();
        let c = browser();
        login(&app, &c, "admin").await;
        c.get(app.url("/lang/en")).send().await.unwrap();

        // Not a table: explained on the page, nothing kept.
        let r = upload(&app, &c, "photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "workers").await;
        assert_eq!(r.status(), 422, "{engine:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(&html(&en().t("import.error_not_table"))), "{page}");
        // Not UTF-8 (Latin-1 bytes): explained too.
        let r = upload(&app, &c, "old.csv", b"name_km,name_latin\n\xe9t\xe9,Ete\n".to_vec(), "workers").await;
        assert_eq!(r.status(), 422, "{engine:?}");
        assert!(r.text().await.unwrap().contains(&html(&en().t("import.error_encoding"))));

        // Upload → matching page, with the Khmer headers recognized.
        let r = upload(&app, &c, "staff.csv", staff_csv().into_bytes(), "workers").await;
        assert_eq!(r.status(), 303, "{engine:?}");
        let to = location(&r);
        assert!(to.starts_with("/imports/files/") && to.contains("/mapping"), "{to}");
        let file_id: i64 = to.trim_start_matches("/imports/files/").split('/').next().unwrap().parse().unwrap();
        let page = c.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
        for h in HEADERS {
            assert!(page.contains(&html(h)), "{engine:?}: header {h} on the matching page");
        }
        assert!(page.contains("Chan Sophea"), "sample values are shown");
        assert!(page.contains("<option value=\"name_km\" selected>"), "{engine:?}: Khmer name column recognized");
        assert!(page.contains("<option value=\"date_of_birth\" selected>"), "{engine:?}: date column recognized");
        let csrf = csrf_of(&page);

        // A matching without a required field is explained.
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("kind".into(), "workers".into())];
        for (n, f) in FIELDS.iter().enumerate() {
            form.push((format!("c{n}"), if *f == "sex" { String::new() } else { f.to_string() }));
        }
        form.push(("action".into(), "preview".into()));
        let r = c.post(app.url(&format!("/imports/files/{file_id}/mapping"))).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let back = location(&r);
        assert!(back.contains("/mapping"), "an incomplete matching goes back to the matching page: {back}");
        let page = c.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"mapping-problems\""), "{page}");
        assert!(page.contains(&html(&en().t("error.missing_required_column"))));

        // The complete matching, saved under a name, then on to the preview.
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("kind".into(), "workers".into())];
        for (n, f) in FIELDS.iter().enumerate() {
            form.push((format!("c{n}"), f.to_string()));
        }
        let mut save = form.clone();
        save.push(("action".into(), "save".into()));
        save.push(("name".into(), "Provincial staff list".into()));
        let r = c.post(app.url(&format!("/imports/files/{file_id}/mapping"))).form(&save).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let saved = app.db.store.mapping("Provincial staff list").await.unwrap().expect("mapping saved");
        assert_eq!(saved.headers, HEADERS.iter().map(|h| h.to_string()).collect::<Vec<_>>());
        let page = c.get(app.url(&location(&r))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&html(&en().t("import.mapping_saved"))), "flash after saving");
        assert!(page.contains("Provincial staff list"));

        let mut go = form.clone();
        go.push(("action".into(), "preview".into()));
        let r = c.post(app.url(&format!("/imports/files/{file_id}/mapping"))).form(&go).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let preview_url = location(&r);
        assert!(preview_url.contains("/preview?"), "{preview_url}");
        let r = c.get(app.url(&preview_url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        let page = r.text().await.unwrap();
        // The bad row: row number, column, value and reason.
        let problems = &page[page.find("id=\"problems\"").expect("a problems table")..];
        let problems = &problems[..problems.find("</table>").unwrap()];
        assert!(
            problems.contains(&format!(
                "<tr><td>3</td><td>{}</td><td>{BAD_DATE}</td><td>{}</td></tr>",
                html(HEADERS[3]),
                html(&en().t("error.invalid_date"))
            )),
            "{engine:?}: {problems}"
        );
        assert_eq!(problems.matches("<tr><td>").count(), 1, "only row 3 has a problem: {problems}");
        assert!(page.contains("id=\"count-rejected\">1<"));
        assert!(page.contains("id=\"count-total\">4<"));
        // The duplicate, side by side, explained, with a choice.
        let dup = &page[page.find("id=\"dup-4\"").expect("row 4 is a likely duplicate")..];
        let dup = &dup[..dup.find("</fieldset>").unwrap()];
        assert!(dup.contains("Sok Chanta") && dup.contains("Sok Chantha"), "both records side by side: {dup}");
        assert!(dup.contains(&format!("href=\"/workers/{}\"", existing.id)));
        assert!(dup.contains(&html(&en().t("dup_reason.same_date_of_birth"))), "{dup}");
        for d in ["merge", "keep_both", "skip"] {
            assert!(dup.contains(&format!("name=\"d4\" value=\"{d}\"")), "{dup}");
        }
        assert_eq!(dup.matches(" checked>").count(), 1, "one default decision: {dup}");
        assert!(page.contains("name=\"mode\" value=\"all\" checked"), "all or nothing by default");
        // The same preview in Khmer.
        c.get(app.url("/lang/km")).send().await.unwrap();
        let km_page = c.get(app.url(&preview_url)).send().await.unwrap().text().await.unwrap();
        assert!(km_page.contains(&html(&km().t("error.invalid_date"))), "reasons in Khmer");
        assert!(km_page.contains(&html(&km().t("dup_reason.same_date_of_birth"))));
        c.get(app.url("/lang/en")).send().await.unwrap();
        assert_eq!(total(&app).await, 1, "a preview writes nothing");

        // Checking again with another decision: the counts follow it.
        let mut recheck = form.clone();
        recheck.push(("d4".into(), "keep_both".into()));
        recheck.push(("mode".into(), "partial".into()));
        recheck.push(("action".into(), "recheck".into()));
        let r = c.post(app.url(&format!("/imports/files/{file_id}/commit"))).form(&recheck).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let again = location(&r);
        assert!(again.contains("/preview?") && !again.contains("csrf"), "{again}");
        let page = c.get(app.url(&again)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"count-added\">3<"), "{engine:?}: keeping both adds the row");
        assert!(page.contains("name=\"d4\" value=\"keep_both\" checked"));
        assert!(page.contains("name=\"mode\" value=\"partial\" checked"));
        assert_eq!(total(&app).await, 1, "checking again writes nothing");

        // All or nothing: refused, nothing written.
        let commit_url = format!("/imports/files/{file_id}/commit");
        let mut commit = form.clone();
        commit.push(("d4".into(), "skip".into()));
        commit.push(("mode".into(), "all".into()));
        let r = c.post(app.url(&commit_url)).form(&commit).send().await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"commit-error\""), "{page}");
        assert_eq!(total(&app).await, 1, "{engine:?}: all or nothing wrote nothing");
        assert_eq!(app.db.store.list_imports(&system_principal("t"), 1).await.unwrap().total, 0);

        // Partial: the valid rows are written, the duplicate skipped.
        let mut commit = form.clone();
        commit.push(("d4".into(), "skip".into()));
        commit.push(("mode".into(), "partial".into()));
        let r = c.post(app.url(&commit_url)).form(&commit).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let result_url = location(&r);
        assert!(result_url.starts_with("/imports/"), "{result_url}");
        assert_eq!(latin_names(&app).await, ["Chan Sophea", "Pov Sreymom", "Sok Chantha"], "{engine:?}");
        let page = c.get(app.url(&result_url)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"import-user\">admin<"), "{page}");
        assert!(page.contains("staff.csv"));
        let sha = komlang_web::imports::sha256_hex(staff_csv().as_bytes());
        assert!(page.contains(&sha), "the file's hash is shown");
        for (id, n) in
            [("count-total", 4), ("count-added", 2), ("count-merged", 0), ("count-skipped", 1), ("count-rejected", 1)]
        {
            assert!(page.contains(&format!("id=\"{id}\">{n}<")), "{engine:?}: {id} = {n}: {page}");
        }
        // The rejected rows, exactly, with a reason column.
        let i = page.find("id=\"rejected-download\"").expect("a download link after a partial import");
        let href = page[..i].rsplit("href=\"").next().unwrap().split('"').next().unwrap().replace("&amp;", "&");
        let r = c.get(app.url(&href)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
        let (headers, rows) = read_back("rejected.csv", &bytes);
        let mut want_headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
        want_headers.push("reason".into());
        assert_eq!(headers, want_headers, "{engine:?}");
        assert_eq!(rows.len(), 1, "{engine:?}: exactly the bad row: {rows:?}");
        assert_eq!(rows[0][..3], ["ឡុង ដារា", "Long Dara", "male"]);
        assert_eq!(rows[0][3], BAD_DATE);
        assert!(rows[0][9].contains(&en().t("error.invalid_date")), "{:?}", rows[0]);

        // The history lists the import; the file can be matched again with the saved matching.
        let page = c.get(app.url("/imports")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("href=\"{}\"", result_url.split('?').next().unwrap())), "{page}");
        let page = c
            .get(app.url(&format!("/imports/files/{file_id}/mapping?kind=workers&saved=Provincial%20staff%20list")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<option value=\"sex\" selected>"));
        app.stop().await;
    }
}

#[tokio::test]
async fn exports_hold_exactly_the_filtered_list() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, token) = app.account("officer02", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let (_, admin_token) = {
            let u = app.db.store.user_by_name("admin").await.unwrap().unwrap();
            (u.id, app.db.store.create_token("admin").await.unwrap())
        };
        let sys = system_principal("t");
        for (km, latin, place) in [
            ("សុខ ស្រីល័ក្ខ", "Sok Sreyleak", "010201"),
            ("ហេង វិចិត្រ", "Heng Vichet", "0102"),
            ("ម៉ៅ សុផល", "Mao Sophal", "020101"),
            ("គឹម ចន្ទា", "Kim Chanda", "020102"),
        ] {
            app.db.store.create_worker(&sys, &worker(km, latin, "1985-01-01", place), today()).await.unwrap();
        }
        let c = browser();
        login(&app, &c, "admin").await;
        // The list page links to the exports of the same filters.
        let page = c.get(app.url("/workers?province=01&q=")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("href=\"/workers/export.csv?province=01\""), "{page}");
        assert!(page.contains("href=\"/workers/export.xlsx?province=01\""));

        let r = c.get(app.url("/workers/export.csv?province=01")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.starts_with("attachment") && cd.contains(".csv"), "{cd}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "CSV with BOM for spreadsheet programs");
        let (headers, rows) = read_back("w.csv", &bytes);
        for h in ["id", "name_km", "name_latin", "date_of_birth", "workplace_code"] {
            assert!(headers.iter().any(|x| x == h), "{h} in {headers:?}");
        }
        let km_col = headers.iter().position(|h| h == "name_km").unwrap();
        let mut names: Vec<&str> = rows.iter().map(|r| r[km_col].as_str()).collect();
        names.sort();
        assert_eq!(names, ["សុខ ស្រីល័ក្ខ", "ហេង វិចិត្រ"], "{engine:?}: Khmer intact, only province 01");

        let r = c.get(app.url("/workers/export.xlsx?province=02&q=Kim")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], komlang_web::common::export::XLSX_TYPE);
        let bytes = r.bytes().await.unwrap();
        let (headers, rows) = read_back("w.xlsx", &bytes);
        let km_col = headers.iter().position(|h| h == "name_km").unwrap();
        assert_eq!(rows.len(), 1, "{engine:?}: {rows:?}");
        assert_eq!(rows[0][km_col], "គឹម ចន្ទា");

        // The API: same filters, and the caller's scope.
        let api = reqwest::Client::new();
        let r = api
            .get(app.url("/api/v1/workers/export?format=xlsx&province=01"))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (headers, rows) = read_back("w.xlsx", &r.bytes().await.unwrap());
        let latin = headers.iter().position(|h| h == "name_latin").unwrap();
        let mut got: Vec<&str> = rows.iter().map(|r| r[latin].as_str()).collect();
        got.sort();
        assert_eq!(got, ["Heng Vichet", "Sok Sreyleak"], "{engine:?}");
        let r = api.get(app.url("/api/v1/workers/export?format=csv")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let (headers, rows) = read_back("w.csv", &r.bytes().await.unwrap());
        let latin = headers.iter().position(|h| h == "name_latin").unwrap();
        let mut got: Vec<&str> = rows.iter().map(|r| r[latin].as_str()).collect();
        got.sort();
        assert_eq!(got, ["Kim Chanda", "Mao Sophal"], "{engine:?}: an officer exports only their province");
        let r = api.get(app.url("/api/v1/workers/export?format=pdf")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 400);
        app.stop().await;
    }
}

#[tokio::test]
async fn import_through_the_api() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, viewer) = app.account("viewer", UserRole::NationalViewer, None, None, None).await;
        let (_, officer) = app.account("officer01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        app.db
            .store
            .create_worker(&system_principal("t"), &worker("សុខ ចាន់ថា", "Sok Chantha", "1990-05-17", "010201"), today())
            .await
            .unwrap();
        let api = reqwest::Client::new();
        let post = |token: &str, query: &str, body: Vec<u8>| {
            api.post(app.url(&format!("/api/v1/imports/workers?{query}")))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .header("accept-language", "en")
                .body(body)
                .send()
        };
        let csv = staff_csv().into_bytes();

        // Dry run: the report, nothing written.
        let r = post(&admin, "dry_run=true", csv.clone()).await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}: a row would be rejected");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["committed"], false);
        assert_eq!(v["dry_run"], true);
        assert_eq!(v["rows_total"], 4, "{v}");
        assert_eq!(v["rejected"][0]["row"], 3, "{v}");
        assert_eq!(v["rejected"][0]["errors"][0]["column"], HEADERS[3]);
        assert_eq!(v["rejected"][0]["errors"][0]["value"], BAD_DATE);
        assert_eq!(v["rejected"][0]["errors"][0]["code"], "invalid_date");
        assert_eq!(v["rejected"][0]["errors"][0]["message"], en().t("error.invalid_date"));
        assert_eq!(v["duplicates"][0]["row"], 4, "{v}");
        assert!(v["duplicates"][0]["explanation"].as_str().unwrap().contains("same date of birth"), "{v}");
        assert_eq!(total(&app).await, 1);

        // A file without the bad row, as a dry run: fine.
        let good: String = staff_csv().lines().filter(|l| !l.contains(BAD_DATE)).map(|l| format!("{l}\n")).collect();
        let r = post(&admin, "dry_run=true", good.clone().into_bytes()).await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        assert_eq!(total(&app).await, 1);

        // All or nothing with a bad row: 422, nothing written.
        let r = post(&officer, "dry_run=false", csv.clone()).await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(total(&app).await, 1);
        // Partial, as multipart: the valid rows are written.
        let part = reqwest::multipart::Part::bytes(csv.clone()).file_name("staff.csv").mime_str("text/csv").unwrap();
        let r = api
            .post(app.url("/api/v1/imports/workers?partial=true"))
            .bearer_auth(&officer)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["committed"], true, "{v}");
        assert_eq!(v["added"], 2, "{v}");
        assert_eq!(v["rejected_count"], 1);
        let id = v["import_id"].as_i64().expect("an import id");
        assert_eq!(total(&app).await, 3);

        let list: Value =
            api.get(app.url("/api/v1/imports")).bearer_auth(&officer).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["total"], 1, "{list}");
        assert_eq!(list["items"][0]["file_name"], "staff.csv");
        assert_eq!(list["items"][0]["file_sha256"], komlang_web::imports::sha256_hex(&csv));
        let one: Value = api
            .get(app.url(&format!("/api/v1/imports/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(one["username"], "officer01");
        assert_eq!(one["mode"], "partial");
        assert_eq!(one["report"]["rejected"][0]["row"], 3, "{one}");

        // Not a table; not allowed.
        let r = post(&admin, "dry_run=true", b"\x89PNG\r\n\x1a\n".to_vec()).await.unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "bad_file", "{v}");
        let r = post(&viewer, "dry_run=true", good.into_bytes()).await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(api.get(app.url("/api/v1/imports")).bearer_auth(&viewer).send().await.unwrap().status(), 403);

        // The OpenAPI document describes the new endpoints.
        let doc: Value = api.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        for p in ["/api/v1/imports/workers", "/api/v1/imports", "/api/v1/imports/{id}", "/api/v1/workers/export"] {
            assert!(doc["paths"][p].is_object(), "{p} in the OpenAPI document");
        }
        app.stop().await;
    }
}

/// The upload routes carry their own body limit (the largest file), above the router's
/// default of 2 MB: a file of 2.5 MB (two rows and 640 long columns the import ignores, each
/// within the 2,000 characters a cell may hold) is read, through the form and through the API.
#[tokio::test]
async fn uploads_above_the_default_body_limit_are_read() {
    let tail = "para_social_worker,ccwc_focal_point,government,010201,active";
    let ignored: Vec<String> = (0..640).map(|i| format!("ignored {i}")).collect();
    let long = vec!["x".repeat(2_000); 640].join(",");
    let file = format!(
        "{},{}\nចាន់ សុភា,Chan Sophea,female,03/02/1991,{tail},{long}\nកែវ ដារ៉ា,Keo Dara,male,04/05/1988,{tail},{long}\n",
        HEADERS.join(","),
        ignored.join(",")
    );
    assert!(file.len() > 2_500_000);
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/imports/workers?dry_run=true"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(file.clone().into_bytes())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{engine:?}: {}", r.text().await.unwrap());
        let c = browser();
        login(&app, &c, "admin").await;
        let r = upload(&app, &c, "big.csv", file.clone().into_bytes(), "workers").await;
        assert_eq!(r.status(), 303, "{engine:?}");
        assert!(location(&r).starts_with("/imports/files/"), "{engine:?}: {}", location(&r));
        app.stop().await;
    }
}
