//! Big downloads over HTTP, on every engine: the streamed worker export (and the other
//! exports) complete whether or not the client asks for gzip, as every browser does; an
//! export that fails after its first page ends in an error the client sees, never in a
//! file that looks complete.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::io::Read;

use common::bulk::add_workers;
use common::TestApp;
use komlang_core::UserRole;
use komlang_store::testing::engines;
use komlang_store::Engine;

/// Workers enough for an export of well over 1 MB.
const MANY: usize = 4_500;

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// The ids of a CSV export's rows, after checking its BOM and header.
fn csv_ids(body: &[u8]) -> Vec<i64> {
    let body = body.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).expect("the CSV starts with a BOM");
    let mut r = csv::ReaderBuilder::new().from_reader(body);
    assert_eq!(r.headers().unwrap().get(0), Some("id"));
    r.records().map(|rec| rec.expect("a whole CSV record")[0].parse::<i64>().expect("an id")).collect()
}

fn rows_of_xlsx(bytes: Vec<u8>) -> Vec<komlang_io::Row> {
    komlang_io::TableReader::from_bytes("w.xlsx", bytes).unwrap().map(Result::unwrap).collect()
}

/// Fetches `url` with and without `Accept-Encoding: gzip` and returns both bodies, decoded;
/// the gzip one must be gzip (the compression is on) and end as a whole gzip stream.
async fn both_ways(req: impl Fn(&str) -> reqwest::RequestBuilder, what: &str) -> (Vec<u8>, Vec<u8>) {
    let plain = req("identity").send().await.unwrap();
    assert_eq!(plain.status(), 200, "{what}");
    assert!(plain.headers().get("content-encoding").is_none(), "{what}: not compressed when not asked");
    let plain = plain.bytes().await.unwrap_or_else(|e| panic!("{what}: the plain download broke off: {e}")).to_vec();

    let gz = req("gzip, deflate, br").send().await.unwrap();
    assert_eq!(gz.status(), 200, "{what}");
    assert_eq!(gz.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"), "{what}");
    let raw = gz.bytes().await.unwrap_or_else(|e| panic!("{what}: the gzip download broke off: {e}"));
    let unzipped = gunzip(&raw).unwrap_or_else(|e| panic!("{what}: the gzip stream is not whole: {e}"));
    (plain, unzipped)
}

#[tokio::test]
async fn big_exports_complete_compressed_or_not() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        app.account("officer", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        let ids = add_workers(&app.db.store, MANY, "010201").await;

        // The API's CSV (streamed page by page).
        let c = reqwest::Client::new();
        let url = app.url("/api/v1/workers/export?format=csv");
        let (plain, unzipped) =
            both_ways(|enc| c.get(&url).bearer_auth(&token).header("accept-encoding", enc), "API CSV").await;
        assert!(plain.len() > 1_000_000, "{engine:?}: the export is over 1 MB ({} bytes)", plain.len());
        assert!(unzipped == plain, "{engine:?}: gzip or not, the same file");
        assert_eq!(csv_ids(&plain), ids, "{engine:?}: every worker, once, in id order");

        // The page's CSV and XLSX, signed in through the login form (the officer's scope: all of them).
        let b = common::browser();
        common::login(&app, &b, "officer").await;
        let url = app.url("/workers/export.csv");
        let (plain, unzipped) = both_ways(|enc| b.get(&url).header("accept-encoding", enc), "page CSV").await;
        assert!(unzipped == plain, "{engine:?}: gzip or not, the same file");
        assert_eq!(csv_ids(&plain), ids, "{engine:?}: the page's CSV holds every worker in scope");
        let url = app.url("/workers/export.xlsx");
        let (plain, unzipped) = both_ways(|enc| b.get(&url).header("accept-encoding", enc), "page XLSX").await;
        // (Each workbook carries the time it was made: compare what they hold.)
        let plain = rows_of_xlsx(plain);
        assert_eq!(plain.len(), MANY, "{engine:?}: the XLSX holds every worker");
        assert!(rows_of_xlsx(unzipped) == plain, "{engine:?}: gzip or not, the same table");

        // The list page of a big list, compressed, is whole too.
        let (plain, unzipped) =
            both_ways(|enc| b.get(app.url("/workers?per_page=100")).header("accept-encoding", enc), "list page").await;
        assert!(unzipped == plain, "{engine:?}");
        assert!(String::from_utf8(plain).unwrap().trim_end().ends_with("</html>"));

        // Every other download (built whole, then compressed) is whole too.
        for path in [
            "/api/v1/competency/export?table=gaps&format=csv",
            "/api/v1/training/events/export?format=csv",
            "/api/v1/planning/coverage?level=commune&format=csv",
            "/api/v1/planning/coverage?level=commune&format=xlsx",
            "/api/v1/licences?format=csv",
            "/api/v1/certificates?format=xlsx",
            "/api/v1/establishment?level=commune&format=csv",
            "/api/v1/supervision/summary?level=commune&format=xlsx",
            "/api/v1/costs/workforce?level=commune&format=csv",
            "/api/v1/retention/turnover?by=province&format=xlsx",
        ] {
            let url = app.url(path);
            let (plain, unzipped) =
                both_ways(|enc| c.get(&url).bearer_auth(&token).header("accept-encoding", enc), path).await;
            assert!(path.contains("xlsx") || unzipped == plain, "{engine:?}: {path}");
        }
        for path in [
            "/competency/export?table=gaps&format=csv",
            "/training/events/export?format=csv",
            "/planning/coverage?level=commune&format=csv",
            "/licences/export?format=xlsx",
            "/certificates/export?format=csv",
            "/establishment/export?format=xlsx&level=commune",
            "/supervision/export?format=csv&level=commune",
            "/costs/export?format=xlsx&level=commune",
            "/retention/export?format=csv&by=province",
        ] {
            let url = app.url(path);
            let (plain, unzipped) = both_ways(|enc| b.get(&url).header("accept-encoding", enc), path).await;
            assert!(path.contains("xlsx") || unzipped == plain, "{engine:?}: {path}");
        }
        app.stop().await;
    }
}

/// What the client gets of a download whose server side fails after the first page: the
/// body must end in an error (hyper drops the connection without the last chunk), never
/// in a file that parses as complete.
async fn broken_download(c: &reqwest::Client, url: &str, token: &str, encoding: &str) -> Result<Vec<u8>, String> {
    let r = c.get(url).bearer_auth(token).header("accept-encoding", encoding).send().await.unwrap();
    assert_eq!(r.status(), 200, "the first page was fine, so the download started");
    assert!(r.headers().get("content-length").is_none(), "a streamed download has no length: it is chunked");
    r.bytes().await.map(|b| b.to_vec()).map_err(|e| format!("{e:?}"))
}

/// The failure is real data damage: on SQLite a worker's name is made a BLOB, which the
/// export cannot read as text (PostgreSQL's typed columns cannot hold such a value; the
/// path from a store error to the body is the same on both engines).
#[tokio::test]
async fn an_export_that_fails_midway_is_not_a_complete_file() {
    let app = TestApp::start(Engine::Sqlite).await;
    let (_, token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
    let ids = add_workers(&app.db.store, 2_500, "010201").await;
    // Page 1 holds workers 1..1000; the damaged row is on page 2.
    sqlx::query("UPDATE workers SET name_km = X'FF00FF' WHERE id = $1")
        .bind(ids[1_500])
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let url = app.url("/api/v1/workers/export?format=csv");
    for encoding in ["identity", "gzip"] {
        let got = broken_download(&c, &url, &token, encoding).await;
        assert!(got.is_err(), "{encoding}: the client must see the download fail, got {} bytes", got.unwrap().len());
    }
    // The same export without the damage completes.
    sqlx::query("UPDATE workers SET name_km = 'ជួសជុល' WHERE id = $1")
        .bind(ids[1_500])
        .execute(app.db.store.pool())
        .await
        .unwrap();
    for encoding in ["identity", "gzip"] {
        let body = broken_download(&c, &url, &token, encoding).await.expect("whole now");
        let body = if encoding == "gzip" { gunzip(&body).unwrap() } else { body };
        assert_eq!(csv_ids(&body), ids);
    }
    app.stop().await;
}
