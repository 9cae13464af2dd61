//! Server memory stays flat when a district officer posts a workbook bomb (a few hundred KB
//! that unzip to 32 MB of long cells) to the import API: measured in this process (the test
//! server runs in it), peak and resident, before and after. One test in its own binary, so
//! that nothing else runs beside the measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::bombs::{memory_kb, reset_peak_memory, unzipped_size, xlsx_bomb};
use common::TestApp;
use komlang_core::UserRole;
use komlang_io::ReadLimits;
use komlang_store::testing::engines;
use komlang_web::WebConfig;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Growth allowed, in kB: the bomb unzips to 32 MB, which the server held several times over
/// (the sheet, its rows, a report echoing every cell, and the answer) before.
const FLAT_KB: u64 = 16 * 1024;

async fn post(c: &reqwest::Client, app: &TestApp, token: &str, body: Vec<u8>) -> (u16, usize) {
    let r = c
        .post(app.url("/api/v1/imports/workers?dry_run=true"))
        .bearer_auth(token)
        .header("content-type", XLSX)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.bytes().await.unwrap().len())
}

#[tokio::test]
async fn a_workbook_bomb_leaves_server_memory_flat() {
    let bomb = xlsx_bomb(3_200, 10, 1_000);
    let unzipped = unzipped_size(&bomb);
    assert!(bomb.len() < 1_000_000 && unzipped > 32_000_000, "{} bytes unzip to {unzipped}", bomb.len());
    for engine in engines() {
        // Refused by the limit on what a workbook unzips to (here 4 MB, to keep the test fast).
        let limits = ReadLimits { max_unzipped_bytes: 4 * 1024 * 1024, ..ReadLimits::UPLOAD };
        let app = TestApp::start_with(engine, WebConfig { upload_limits: limits, ..Default::default() }).await;
        let (_, token) = app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        let c = reqwest::Client::new();
        // A first request, so that what every request sets up once is not counted.
        assert_eq!(post(&c, &app, &token, xlsx_bomb(2, 8, 10)).await.0, 422);

        reset_peak_memory();
        let (peak0, rss0) = memory_kb();
        let (status, size) = post(&c, &app, &token, bomb.clone()).await;
        let (peak1, rss1) = memory_kb();
        eprintln!("{engine:?}: refused bomb: peak +{} kB, resident +{} kB", peak1 - peak0, rss1 as i64 - rss0 as i64);
        assert_eq!(status, 413, "{engine:?}");
        assert!(size < 2_000, "{engine:?}: a short answer ({size} bytes)");
        assert!(peak1 - peak0 < FLAT_KB, "{engine:?}: the peak grew by {} kB", peak1 - peak0);
        assert!(rss1.saturating_sub(rss0) < FLAT_KB, "{engine:?}: memory grew by {} kB", rss1 - rss0);

        // Even with room to unzip it all, the sheet is streamed and the report holds the first
        // rows only, each cell cut: memory stays flat, the answer small.
        let limits = ReadLimits { max_unzipped_bytes: 1024 * 1024 * 1024, ..ReadLimits::UPLOAD };
        let roomy = TestApp::start_with(engine, WebConfig { upload_limits: limits, ..Default::default() }).await;
        let (_, token) = roomy.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        assert_eq!(post(&c, &roomy, &token, xlsx_bomb(2, 8, 10)).await.0, 422);
        reset_peak_memory();
        let (peak0, rss0) = memory_kb();
        let (status, size) = post(&c, &roomy, &token, bomb.clone()).await;
        let (peak1, rss1) = memory_kb();
        eprintln!(
            "{engine:?}: streamed bomb: peak +{} kB, resident +{} kB, answer {size} bytes",
            peak1 - peak0,
            rss1 as i64 - rss0 as i64
        );
        assert_eq!(status, 422, "{engine:?}: every row rejected, nothing written");
        assert!(size < 8 * 1024 * 1024, "{engine:?}: the answer is {size} bytes");
        // The answer (up to 4 MiB of cut cells, as JSON) is part of what this process holds.
        let allowed = FLAT_KB + 2 * (size as u64 / 1024);
        assert!(peak1 - peak0 < allowed, "{engine:?}: the peak grew by {} kB (answer {size} bytes)", peak1 - peak0);
        assert!(rss1.saturating_sub(rss0) < allowed, "{engine:?}: memory grew by {} kB", rss1 - rss0);
        roomy.stop().await;
        app.stop().await;
    }
}
