//! End-to-end test in a real headless Chromium driven over WebDriver: log in,
//! switch the interface language, enter a worker through the form (first with
//! mistakes, then correctly), and find the worker again by Khmer name; then
//! import a CSV file through the import pages (upload, column matching,
//! preview, commit); and, without signing in, verify a certificate on its
//! public page.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`); `.ci/run` installs them. Without them the test
//! fails rather than being skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{TestApp, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use komlang_core::{Cadre, EmploymentStatus, Sector, Sex, UserRole, WorkerRole};
use komlang_store::testing::engines;
use serde_json::json;
use sqlx::Row;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long to wait for chromedriver to answer, and for a page to show what is expected.
const DRIVER_STARTUP: Duration = Duration::from_secs(20);
const PAGE_WAIT: Duration = Duration::from_secs(15);

const NAME_KM: &str = "សុខ សុភាព";
const NAME_KM_PART: &str = "សុភាព";
const NAME_LATIN: &str = "Sok Sopheap";
const DOB: (&str, &str, &str) = ("1990", "05", "17");

static PROFILE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A chromedriver child process, stopped (with the browser it started) when
/// dropped, also when the test panics.
struct Driver {
    child: Child,
    port: u16,
    dir: PathBuf,
    /// The open WebDriver session, closed on drop if the test did not close it.
    session: Option<String>,
}

impl Driver {
    fn start() -> Driver {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing (Debian package {package}). The browser test needs a real headless Chromium: \
                 install it with `sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver` \
                 (.ci/run does this)."
            );
        }
        let dir =
            std::env::temp_dir().join(format!("komlang-browser-{}-{:08x}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).expect("create temporary directory for the browser");
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not start {CHROMEDRIVER}: {e} (install chromium-driver; .ci/run does this)")
            });
        Driver { child, port, dir, session: None }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until chromedriver answers `/status` with `"ready": true`.
    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited before answering ({status}); its log:\n{}", self.log_tail());
            }
            if let Ok(body) = http_request(self.port, "GET", "/status", Duration::from_secs(2)) {
                if body.contains("\"ready\":true") || body.contains("\"ready\": true") {
                    return;
                }
            }
            if started.elapsed() > DRIVER_STARTUP {
                panic!(
                    "chromedriver did not answer on port {} within {DRIVER_STARTUP:?}; its log:\n{}",
                    self.port,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// A new browser session with a fresh profile (so no cookies carry over).
    async fn session(&mut self) -> Client {
        self.session_with_prefs(json!({})).await
    }

    /// A new session that saves downloads into `dir` without asking.
    async fn downloading_session(&mut self, dir: &Path) -> Client {
        self.session_with_prefs(json!({
            "download.default_directory": dir.display().to_string(),
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
            "safebrowsing.enabled": false,
        }))
        .await
    }

    async fn session_with_prefs(&mut self, prefs: serde_json::Value) -> Client {
        let profile = self.dir.join(format!("profile-{}", PROFILE_COUNTER.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&profile).expect("create browser profile directory");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,1024",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": prefs,
            }
        });
        let serde_json::Value::Object(caps) = caps else { unreachable!() };
        let client = ClientBuilder::native().capabilities(caps).connect(&self.url()).await.unwrap_or_else(|e| {
            panic!("could not open a Chromium session through chromedriver: {e}\n{}", self.log_tail())
        });
        self.session = client.session_id().await.ok().flatten();
        client
    }

    /// Ends the session the normal way.
    async fn close(&mut self, client: Client) {
        client.close().await.expect("close the browser session");
        self.session = None;
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            // Quits the browser; killing chromedriver alone may leave it running.
            let _ = http_request(self.port, "DELETE", &format!("/session/{id}"), Duration::from_secs(15));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for _ in 0..10 {
            if std::fs::remove_dir_all(&self.dir).is_ok() || !self.dir.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// A minimal blocking HTTP/1.1 request to chromedriver (usable from `Drop`).
fn http_request(port: u16, method: &str, path: &str, timeout: Duration) -> std::io::Result<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    // chromedriver may keep the connection open: read the head, then Content-Length bytes.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(len) = len {
                if buf.len() >= end + 4 + len {
                    return Ok(String::from_utf8_lossy(&buf[..end + 4 + len]).into_owned());
                }
            }
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(String::from_utf8_lossy(&buf).into_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Polls `check` until it holds, or fails the test saying what was awaited.
async fn wait_until<F, Fut>(c: &Client, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return;
        }
        if started.elapsed() > PAGE_WAIT {
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let source = c.source().await.unwrap_or_default();
            panic!("timed out waiting for {what}; at {url}:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn path_and_query(c: &Client) -> String {
    let u = c.current_url().await.expect("current URL");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

async fn html_lang(c: &Client) -> String {
    match c.find(Locator::Css("html")).await {
        Ok(e) => e.attr("lang").await.ok().flatten().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} on the page: {e}")).text().await.unwrap()
}

async fn exists(c: &Client, css: &str) -> bool {
    !c.find_all(Locator::Css(css)).await.map(|v| v.is_empty()).unwrap_or(true)
}

/// The value of a field while the page may be changing under the caller (a form just submitted):
/// empty while the field is missing or its element went stale.
async fn value_while_loading(c: &Client, id: &str) -> String {
    match c.find(Locator::Id(id)).await {
        Ok(e) => e.prop("value").await.ok().flatten().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn value_of(c: &Client, id: &str) -> String {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    e.prop("value").await.unwrap().unwrap_or_default()
}

/// The first number in a text, in Western or Khmer digits.
fn number_in(s: &str) -> Option<u64> {
    let digit = |c: char| c.to_digit(10).or_else(|| ('០'..='៩').contains(&c).then(|| c as u32 - '០' as u32));
    let digits: String = s
        .chars()
        .skip_while(|c| digit(*c).is_none())
        .map_while(|c| digit(c).and_then(|d| char::from_digit(d, 10)))
        .collect();
    digits.parse().ok()
}

fn is_khmer(s: &str) -> bool {
    s.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c))
}

/// Clears a text box and types into it like a person would.
async fn type_into(c: &Client, id: &str, text: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    e.clear().await.unwrap();
    if !text.is_empty() {
        e.send_keys(text).await.unwrap();
    }
    assert_eq!(value_of(c, id).await, text, "typing into #{id}");
}

async fn choose(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    e.select_by_value(value).await.unwrap_or_else(|e| panic!("#{id} has no option {value}: {e}"));
    assert_eq!(value_of(c, id).await, value, "choosing in #{id}");
}

/// Types a date into an `<input type="date">` through the keyboard. Chromium
/// shows such a field in the display locale's order (month/day/year in
/// en-US), so each usual order is tried until the field's value is the date.
async fn type_date(c: &Client, id: &str, (y, m, d): (&str, &str, &str)) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    let kind = e.attr("type").await.unwrap().unwrap_or_default();
    let want = format!("{y}-{m}-{d}");
    if kind != "date" {
        type_into(c, id, &want).await;
        return;
    }
    for keys in [format!("{m}{d}{y}"), format!("{d}{m}{y}"), format!("{y}{m}{d}"), want.clone()] {
        e.clear().await.unwrap();
        e.send_keys(&keys).await.unwrap();
        if value_of(c, id).await == want {
            return;
        }
    }
    panic!("could not type {want} into the date field #{id} (value is {:?})", value_of(c, id).await);
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} on the page: {e}")).click().await.unwrap();
}

async fn worker_total(app: &TestApp) -> i64 {
    app.db.store.list_workers(&komlang_store::system_principal("t"), &Default::default()).await.unwrap().total
}

/// Follows the header's link to another language and waits for the page in it.
async fn switch_language(c: &Client, code: &str) {
    let before = path_and_query(c).await;
    let link = c
        .find(Locator::Css(&format!(".lang a[href^='/lang/{code}']")))
        .await
        .unwrap_or_else(|e| panic!("the header has no link to /lang/{code}: {e}"));
    link.click().await.unwrap();
    wait_until(c, &format!("html[lang={code}]"), || async { html_lang(c).await == code }).await;
    assert_eq!(path_and_query(c).await, before, "switching language should come back to the same page");
    assert!(
        !exists(c, &format!(".lang a[href^='/lang/{code}']")).await,
        "the current language should not be a link in the switcher"
    );
}

async fn run(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.account("officer", UserRole::ProvincialOfficer, Some("01"), None, None).await;
    let c = driver.session().await;

    // Log in through the form.
    c.goto(&app.url("/login")).await.unwrap();
    assert!(exists(&c, "form[action='/login']").await, "{engine:?}: the login page shows its form");
    type_into(&c, "username", "officer").await;
    type_into(&c, "password", PASSWORD).await;
    click(&c, "form[action='/login'] button[type=submit]").await;
    wait_until(&c, "the signed-in home page", || async { exists(&c, "form.logout").await }).await;
    assert_eq!(path_and_query(&c).await, "/", "{engine:?}: login lands on the home page");

    // Headless Chromium asks for English; the header switches to Khmer and back.
    let lang = html_lang(&c).await;
    let h1_before = text_of(&c, "h1").await;
    let (first, second) = if lang == "km" { ("en", "km") } else { ("km", "en") };
    switch_language(&c, first).await;
    let h1_after = text_of(&c, "h1").await;
    assert_ne!(h1_after, h1_before, "{engine:?}: the h1 should change language");
    assert_eq!(is_khmer(&h1_after), first == "km", "{engine:?}: h1 {h1_after:?} should be in {first}");
    switch_language(&c, second).await;
    assert_eq!(text_of(&c, "h1").await, h1_before, "{engine:?}: switching back restores the h1");
    // The rest runs in Khmer.
    if second != "km" {
        switch_language(&c, "km").await;
    }

    // A first attempt with mistakes: no Latin name, a date of birth in the future.
    c.goto(&app.url("/workers/new")).await.unwrap();
    wait_until(&c, "the new-worker form", || async { exists(&c, "#f-name_km").await }).await;
    type_into(&c, "f-name_km", NAME_KM).await;
    type_into(&c, "f-name_latin", "").await;
    choose(&c, "f-sex", Sex::Female.code()).await;
    type_date(&c, "f-date_of_birth", ("2099", "01", "01")).await;
    choose(&c, "f-cadre", Cadre::ParaSocialWorker.code()).await;
    choose(&c, "f-role", WorkerRole::CcwcFocalPoint.code()).await;
    choose(&c, "f-sector", Sector::Government.code()).await;
    assert_eq!(value_of(&c, "f-status").await, "active", "{engine:?}: status starts as active");
    choose(&c, "f-status", EmploymentStatus::Active.code()).await;
    assert_eq!(value_of(&c, "f-workplace_code").await, "01", "{engine:?}: workplace starts at the officer's province");
    type_into(&c, "f-workplace_code", "010201").await;
    click(&c, "form.record button[type=submit]").await;
    wait_until(&c, "the form with errors", || async { exists(&c, "#form-errors").await }).await;

    assert_eq!(c.current_url().await.unwrap().path(), "/workers");
    let errors = c.find_all(Locator::Css(".field-error")).await.unwrap();
    let mut error_ids = Vec::new();
    for e in &errors {
        error_ids.push(e.attr("id").await.unwrap().unwrap_or_default());
        assert!(!e.text().await.unwrap().trim().is_empty(), "{engine:?}: field errors have text");
    }
    error_ids.sort();
    assert_eq!(error_ids, ["e-date_of_birth", "e-name_latin"], "{engine:?}: exactly the two bad fields are marked");
    for id in ["f-name_latin", "f-date_of_birth"] {
        let e = c.find(Locator::Id(id)).await.unwrap();
        assert_eq!(
            e.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true"),
            "{engine:?}: #{id} is marked invalid"
        );
        let described = e.attr("aria-describedby").await.unwrap().unwrap_or_default();
        assert_eq!(described, id.replacen("f-", "e-", 1), "{engine:?}: #{id} points at its error");
    }
    assert!(is_khmer(&text_of(&c, "#form-errors").await), "{engine:?}: the error summary is in Khmer");
    assert_eq!(worker_total(&app).await, 0, "{engine:?}: a rejected form must not create a worker");
    // What was typed is kept.
    assert_eq!(value_of(&c, "f-name_km").await, NAME_KM);
    assert_eq!(value_of(&c, "f-sex").await, "female");
    assert_eq!(value_of(&c, "f-cadre").await, "para_social_worker");
    assert_eq!(value_of(&c, "f-role").await, "ccwc_focal_point");
    assert_eq!(value_of(&c, "f-sector").await, "government");
    assert_eq!(value_of(&c, "f-status").await, "active");
    assert_eq!(value_of(&c, "f-workplace_code").await, "010201");
    assert_eq!(value_of(&c, "f-date_of_birth").await, "2099-01-01");

    // Corrected and sent again.
    type_into(&c, "f-name_latin", NAME_LATIN).await;
    type_date(&c, "f-date_of_birth", DOB).await;
    click(&c, "form.record button[type=submit]").await;
    wait_until(&c, "the new worker's profile", || async {
        c.current_url().await.map(|u| u.path().starts_with("/workers/")).unwrap_or(false)
            && exists(&c, "#postings").await
    })
    .await;
    let h1 = text_of(&c, "h1").await;
    assert!(h1.contains(NAME_KM), "{engine:?}: profile h1 {h1:?} shows the Khmer name");
    assert_eq!(text_of(&c, "h1 .muted").await, NAME_LATIN);
    assert!(exists(&c, ".flash").await, "{engine:?}: a 'saved' notice is shown");
    let page = c.source().await.unwrap();
    assert!(page.contains("1990-05-17"), "{engine:?}: the profile shows the date of birth");
    assert!(page.contains("010201"), "{engine:?}: the profile shows the workplace code");

    assert_eq!(worker_total(&app).await, 1, "{engine:?}: exactly one worker after the corrected form");
    let id: i64 =
        c.current_url().await.unwrap().path().trim_start_matches("/workers/").parse().expect("worker id in URL");
    let w = app.db.store.get_worker(&komlang_store::system_principal("t"), id).await.unwrap().expect("stored worker");
    assert_eq!(w.name_km, NAME_KM);
    assert_eq!(w.name_latin, NAME_LATIN);
    assert_eq!(w.sex, Sex::Female);
    assert_eq!(w.date_of_birth.map(|d| d.to_string()).as_deref(), Some("1990-05-17"));
    assert_eq!(w.cadre, Cadre::ParaSocialWorker);
    assert_eq!(w.role, WorkerRole::CcwcFocalPoint);
    assert_eq!(w.sector, Sector::Government);
    assert_eq!(w.status, EmploymentStatus::Active);
    assert_eq!(w.workplace_code, "010201");

    // Found again by part of the Khmer name.
    c.goto(&app.url("/workers")).await.unwrap();
    let q = c.find(Locator::Css("form.filters input[name=q]")).await.expect("search box");
    q.send_keys(NAME_KM_PART).await.unwrap();
    assert_eq!(q.prop("value").await.unwrap().as_deref(), Some(NAME_KM_PART));
    click(&c, "form.filters button[type=submit]").await;
    wait_until(&c, "the search results", || async {
        c.current_url().await.map(|u| u.query().unwrap_or("").contains("q=")).unwrap_or(false)
            && exists(&c, "#workers").await
    })
    .await;
    let links = c.find_all(Locator::Css("#workers tbody a")).await.unwrap();
    let mut names = Vec::new();
    for l in &links {
        names.push(l.text().await.unwrap());
    }
    assert_eq!(names, [NAME_KM], "{engine:?}: the search finds the worker");
    assert_eq!(links[0].attr("href").await.unwrap().as_deref(), Some(format!("/workers/{id}").as_str()));
    let count = text_of(&c, "#result-count").await;
    assert_eq!(number_in(&count), Some(1), "{engine:?}: #result-count {count:?} says 1");

    // English again, on the same search.
    let km_h1 = text_of(&c, "h1").await;
    switch_language(&c, "en").await;
    let en_h1 = text_of(&c, "h1").await;
    assert_ne!(en_h1, km_h1, "{engine:?}: the h1 changes language");
    assert!(!is_khmer(&en_h1) && is_khmer(&km_h1), "{engine:?}: h1 {km_h1:?} -> {en_h1:?}");
    assert_eq!(value_of_css(&c, "form.filters input[name=q]").await, NAME_KM_PART, "{engine:?}: the search is kept");
    let count = text_of(&c, "#result-count").await;
    assert_eq!(number_in(&count), Some(1), "{engine:?}: #result-count {count:?} still says 1");

    driver.close(c).await;
    app.stop().await;
}

async fn value_of_css(c: &Client, css: &str) -> String {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
    e.prop("value").await.unwrap().unwrap_or_default()
}

/// A small worker file: Khmer headers, a day-first date, Khmer digits.
const IMPORT_CSV: &str =
    "ឈ្មោះ (អក្សរខ្មែរ),ឈ្មោះ (អក្សរឡាតាំង),ភេទ,ថ្ងៃខែឆ្នាំកំណើត,ប្រភេទបុគ្គលិក,តួនាទី,វិស័យ,កន្លែងធ្វើការ (លេខកូដឯកតារដ្ឋបាល),ស្ថានភាពការងារ\n\
ចាន់ សុភា,Chan Sophea,female,03/02/1991,para_social_worker,ccwc_focal_point,government,010201,active\n\
ពៅ ស្រីមុំ,Pov Sreymom,female,១២/១២/១៩៩៥,para_social_worker,ccwc_focal_point,government,010202,active\n";

/// Uploads a CSV file through the import page, matches its columns, checks
/// the preview and commits, all by clicking in the real pages.
async fn run_import(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.account("officer", UserRole::ProvincialOfficer, Some("01"), None, None).await;
    let file = driver.dir.join(format!("staff-{engine:?}.csv"));
    std::fs::write(&file, IMPORT_CSV).expect("write the file to upload");
    let c = driver.session().await;
    sign_in(&c, &app, "officer").await;
    if html_lang(&c).await != "km" {
        switch_language(&c, "km").await;
    }

    // The header leads to the imports; the upload form takes the file.
    click(&c, "nav.main a[href='/imports']").await;
    wait_until(&c, "the list of imports", || async { exists(&c, "a[href='/imports/new']").await }).await;
    click(&c, "a.button[href='/imports/new']").await;
    wait_until(&c, "the upload form", || async { exists(&c, "#f-file").await }).await;
    assert_eq!(value_of(&c, "f-kind").await, "workers", "{engine:?}: workers by default");
    let input = c.find(Locator::Id("f-file")).await.unwrap();
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    click(&c, "#upload button[type=submit]").await;

    // The matching page recognizes the Khmer headers.
    wait_until(&c, "the column matching", || async { exists(&c, "#mapping").await }).await;
    assert_eq!(value_of(&c, "c0").await, "name_km", "{engine:?}");
    assert_eq!(value_of(&c, "c3").await, "date_of_birth", "{engine:?}");
    assert_eq!(value_of(&c, "c7").await, "workplace_code", "{engine:?}");
    assert!(is_khmer(&text_of(&c, "h1").await), "{engine:?}: the page is in Khmer");
    click(&c, "#check").await;

    // The preview: two rows, no problem, nothing written yet.
    wait_until(&c, "the preview", || async { exists(&c, "#counts").await }).await;
    assert_eq!(number_in(&text_of(&c, "#count-total").await), Some(2), "{engine:?}");
    assert_eq!(number_in(&text_of(&c, "#count-added").await), Some(2), "{engine:?}");
    assert!(exists(&c, "#no-problems").await, "{engine:?}: no problems");
    assert_eq!(worker_total(&app).await, 0, "{engine:?}: the preview writes nothing");
    let all = c.find(Locator::Id("mode-all")).await.unwrap();
    assert_eq!(all.prop("checked").await.unwrap().as_deref(), Some("true"), "all or nothing by default");
    click(&c, "#commit-button").await;

    // The result: the audited import.
    wait_until(&c, "the import result", || async { exists(&c, "#import-event").await }).await;
    assert_eq!(text_of(&c, "#import-user").await, "officer");
    assert_eq!(text_of(&c, "#import-file").await, format!("staff-{engine:?}.csv"));
    assert_eq!(number_in(&text_of(&c, "#count-added").await), Some(2), "{engine:?}");
    assert!(exists(&c, ".flash").await, "{engine:?}: a 'done' notice is shown");
    assert_eq!(worker_total(&app).await, 2, "{engine:?}: both rows imported");
    let q = komlang_store::WorkerQuery { q: Some("Sreymom".into()), ..Default::default() };
    let found = app.db.store.list_workers(&komlang_store::system_principal("t"), &q).await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].name_km, "ពៅ ស្រីមុំ", "{engine:?}: Khmer intact");
    let w = app.db.store.get_worker(&komlang_store::system_principal("t"), found.items[0].id).await.unwrap().unwrap();
    assert_eq!(w.date_of_birth.map(|d| d.to_string()).as_deref(), Some("1995-12-12"), "Khmer digits, day first");

    driver.close(c).await;
    app.stop().await;
}

/// Someone else saves the worker while the officer has its form open in Chromium: the officer's
/// save is refused and shows the conflict, field by field, with the other change and the
/// officer's on the form; "save my changes on top" then keeps both.
async fn run_conflict(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.account("officer", UserRole::ProvincialOfficer, Some("01"), None, None).await;
    let input = komlang_core::validate::WorkerInput {
        name_km: Some(NAME_KM.into()),
        name_latin: Some(NAME_LATIN.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some("010201".into()),
        status: Some("active".into()),
        ..Default::default()
    };
    let today = komlang_web::common::today();
    let other = komlang_store::system_principal("district-officer");
    let w = app.db.store.create_worker(&other, &input, today).await.unwrap();
    let c = driver.session().await;
    sign_in(&c, &app, "officer").await;

    c.goto(&app.url(&format!("/workers/{}/edit", w.id))).await.unwrap();
    wait_until(&c, "the edit form", || async { exists(&c, "#f-email").await }).await;
    // Meanwhile, another person saves a new phone number.
    let phone = komlang_core::validate::WorkerInput { phone: Some("012 987 654".into()), ..Default::default() };
    let change = komlang_store::WorkerChange::default();
    app.db.store.update_worker(&other, w.id, &phone, &change, today, None).await.unwrap();
    type_into(&c, "f-email", "officer@example.org").await;
    click(&c, "form.record button[type=submit]").await;
    wait_until(&c, "the conflict", || async { exists(&c, "#conflict").await }).await;
    let stored = app.db.store.get_worker(&other, w.id).await.unwrap().unwrap();
    assert_eq!(stored.email, None, "{engine:?}: nothing was saved");
    let table = text_of(&c, "table.conflict-fields").await;
    assert!(table.contains("012 987 654") && table.contains("officer@example.org"), "{engine:?}: {table}");
    assert!(text_of(&c, "#conflict").await.contains("district-officer"), "{engine:?}: who changed it");
    assert_eq!(value_of(&c, "f-phone").await, "012 987 654", "{engine:?}: their change is on the form");
    assert_eq!(value_of(&c, "f-email").await, "officer@example.org", "{engine:?}: the officer's too");
    click(&c, "form.record button[type=submit]").await;
    wait_until(&c, "the profile", || async { exists(&c, "#postings").await }).await;
    let stored = app.db.store.get_worker(&other, w.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.phone.as_deref(), stored.email.as_deref()),
        (Some("012 987 654"), Some("officer@example.org")),
        "{engine:?}: both changes kept"
    );
    driver.close(c).await;
    app.stop().await;
}

/// Chromium's network emulation (chromedriver's `network_conditions`): cut or back.
#[derive(Debug)]
struct Network {
    offline: bool,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Network {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/chromium/network_conditions", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let conditions = json!({"network_conditions": {"offline": self.offline, "latency": 0,
            "download_throughput": 1_048_576, "upload_throughput": 1_048_576}});
        (axum::http::Method::POST, Some(conditions.to_string()))
    }
}

/// Signs `username` in through the login form and waits for the signed-in home page.
async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    type_into(c, "username", username).await;
    type_into(c, "password", PASSWORD).await;
    click(c, "form[action='/login'] button[type=submit]").await;
    wait_until(c, "the signed-in home page", || async { exists(c, "form.logout").await }).await;
}

async fn count_of(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.map(|v| v.len()).unwrap_or(0)
}

/// A district officer opens the field app, loses the connection, adds a worker and changes
/// another's phone; meanwhile someone else changes that worker's phone. When the connection
/// returns, the new worker is saved and the officer is shown the conflict instead of
/// overwriting the other change; "apply mine on top" then saves the officer's phone.
async fn run_offline(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
    let today = komlang_web::common::today();
    let other = komlang_store::system_principal("another-officer");
    let worker = |name: &str| komlang_core::validate::WorkerInput {
        name_km: Some(NAME_KM.into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some("010201".into()),
        status: Some("active".into()),
        ..Default::default()
    };
    let a = app.db.store.create_worker(&other, &worker("Chan Dara"), today).await.unwrap();
    app.db.store.create_worker(&other, &worker("Keo Sophal"), today).await.unwrap();
    let c = driver.session().await;
    sign_in(&c, &app, "district").await;
    // Every page links the manifest; the service worker is served from the root.
    assert!(exists(&c, "link[rel=manifest][href='/manifest.webmanifest']").await, "{engine:?}");
    c.goto(&app.url("/field")).await.unwrap();
    wait_until(&c, "the workers on the device", || async { count_of(&c, "#field-workers li").await == 2 }).await;
    // Usable on a phone 360 px wide: nothing wider than the screen.
    c.set_window_size(360, 740).await.unwrap();
    for path in ["/field", "/workers", "/"] {
        if path != "/field" {
            c.goto(&app.url(path)).await.unwrap();
        }
        let widths =
            c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
        let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        assert!(inner <= 360 && scroll <= inner, "{engine:?} {path}: {scroll} px wide in a {inner} px window");
    }
    c.goto(&app.url("/field")).await.unwrap();
    wait_until(&c, "the workers on the device", || async { count_of(&c, "#field-workers li").await == 2 }).await;

    c.issue_cmd(Network { offline: true }).await.unwrap();
    wait_until(&c, "the offline status", || async {
        c.find(Locator::Id("field-status")).await.unwrap().attr("data-state").await.unwrap().as_deref()
            == Some("offline")
    })
    .await;
    // A new worker.
    click(&c, "#field-add-worker summary").await;
    let add = c.find(Locator::Id("field-add")).await.unwrap();
    for (name, value) in [("name_km", "សុខ ស្រីនី"), ("name_latin", "Sok Sreyny"), ("workplace_code", "010201")]
    {
        add.find(Locator::Css(&format!("[name={name}]"))).await.unwrap().send_keys(value).await.unwrap();
    }
    for (name, value) in [("sex", "female"), ("cadre", "para_social_worker"), ("role", "ccwc_member")] {
        add.find(Locator::Css(&format!("select[name={name}]"))).await.unwrap().select_by_value(value).await.unwrap();
    }
    click(&c, "#field-add button[type=submit]").await;
    // A changed phone number.
    click(&c, &format!("#field-workers li[data-worker='{}'] .edit-worker", a.id)).await;
    let phone = c.find(Locator::Css(&format!("form.field-edit[data-worker='{}'] [name=phone]", a.id))).await.unwrap();
    phone.send_keys("011 222 333").await.unwrap();
    click(&c, &format!("form.field-edit[data-worker='{}'] button[type=submit]", a.id)).await;
    wait_until(&c, "two changes waiting", || async { count_of(&c, "li.change[data-state=waiting]").await == 2 }).await;
    assert!(text_of(&c, "#field-status").await.contains('2'), "{engine:?}: the waiting changes are counted");
    assert_eq!(worker_total(&app).await, 2, "{engine:?}: nothing reached the server");

    // Meanwhile someone else changes the same worker's phone.
    let theirs = komlang_core::validate::WorkerInput { phone: Some("099 888 777".into()), ..Default::default() };
    let change = komlang_store::WorkerChange::default();
    app.db.store.update_worker(&other, a.id, &theirs, &change, today, None).await.unwrap();

    c.issue_cmd(Network { offline: false }).await.unwrap();
    wait_until(&c, "the changes sent", || async {
        count_of(&c, "li.change[data-state=saved]").await == 1
            && count_of(&c, "li.change[data-state=conflict]").await == 1
    })
    .await;
    assert_eq!(worker_total(&app).await, 3, "{engine:?}: the new worker was saved");
    let stored = app.db.store.get_worker(&other, a.id).await.unwrap().unwrap();
    assert_eq!(stored.phone.as_deref(), Some("099 888 777"), "{engine:?}: not overwritten unseen");
    let table = text_of(&c, "li.change[data-state=conflict] table").await;
    assert!(table.contains("099 888 777") && table.contains("011 222 333"), "{engine:?}: {table}");
    click(&c, "li.change[data-state=conflict] .apply-mine").await;
    wait_until(&c, "the officer's change saved", || async { count_of(&c, "li.change[data-state=saved]").await == 2 })
        .await;
    let stored = app.db.store.get_worker(&other, a.id).await.unwrap().unwrap();
    assert_eq!(stored.phone.as_deref(), Some("011 222 333"), "{engine:?}: applied on top once chosen");
    driver.close(c).await;

    // A worker fills a self-assessment without a connection; it is saved when it returns.
    let (dara, _) = app.account("dara", UserRole::Worker, None, None, Some(a.id)).await;
    let c = driver.session().await;
    sign_in(&c, &app, "dara").await;
    c.goto(&app.url("/field")).await.unwrap();
    wait_until(&c, "the self-assessment form", || async { exists(&c, "#field-self-assessment").await }).await;
    c.issue_cmd(Network { offline: true }).await.unwrap();
    click(&c, "#field-self-assessment summary").await;
    let first = c.find(Locator::Css("#field-self select[name^='r.']")).await.unwrap();
    let code = first.attr("name").await.unwrap().unwrap_or_default();
    first.select_by_value("3").await.unwrap();
    click(&c, "#field-self button[type=submit]").await;
    wait_until(&c, "the assessment waiting", || async { count_of(&c, "li.change[data-state=waiting]").await == 1 })
        .await;
    c.issue_cmd(Network { offline: false }).await.unwrap();
    wait_until(&c, "the assessment saved", || async { count_of(&c, "li.change[data-state=saved]").await == 1 }).await;
    let list = app.db.store.list_assessments(&dara, a.id).await.unwrap();
    assert_eq!(list.len(), 1, "{engine:?}");
    assert_eq!(list[0].kind.code(), "self");
    assert_eq!(format!("r.{}", list[0].ratings[0].indicator_code), code);
    assert_eq!(list[0].ratings[0].rating.value(), 3);
    driver.close(c).await;
    app.stop().await;
}

/// Starts chromedriver and runs `scenario` on every engine under test, one after the other.
async fn in_chromium(what: &str, mut scenario: impl AsyncFnMut(komlang_store::Engine, &mut Driver)) {
    let mut driver = Driver::start();
    driver.wait_ready().await;
    for engine in engines() {
        eprintln!("browser {what} test on {engine:?}");
        scenario(engine, &mut driver).await;
    }
}

#[tokio::test]
async fn working_offline_in_a_real_browser() {
    in_chromium("offline", run_offline).await;
}

#[tokio::test]
async fn editing_a_worker_someone_else_changed_in_a_real_browser() {
    in_chromium("conflict", run_conflict).await;
}

#[tokio::test]
async fn worker_entry_and_search_in_a_real_browser() {
    in_chromium("entry, search and import", async |engine, driver: &mut Driver| {
        run(engine, driver).await;
        run_import(engine, driver).await;
    })
    .await;
}

/// Downloads the worker list as CSV (well over 1 MB, streamed page by page and compressed on
/// the way, as Chromium asks for gzip) by clicking its link, and checks the saved file is
/// whole: every worker in the officer's scope, once, and no one else.
async fn run_download(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.account("officer", UserRole::ProvincialOfficer, Some("01"), None, None).await;
    common::bulk::add_workers(&app.db.store, 400, "020101").await;
    let ids = common::bulk::add_workers(&app.db.store, 4_500, "010201").await;
    let in_scope: Vec<i64> = ids[400..].to_vec();
    let dir = driver.dir.join(format!("downloads-{engine:?}"));
    std::fs::create_dir_all(&dir).unwrap();
    let c = driver.downloading_session(&dir).await;
    sign_in(&c, &app, "officer").await;
    c.goto(&app.url("/workers")).await.unwrap();
    wait_until(&c, "the worker list", || async { exists(&c, "#export").await }).await;
    click(&c, "#export a[href^='/workers/export.csv']").await;

    // Chromium writes `*.crdownload` and renames it when the download is complete.
    let started = Instant::now();
    let file = loop {
        let names: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        let done: Vec<&PathBuf> = names.iter().filter(|p| p.extension().is_some_and(|e| e == "csv")).collect();
        if let [file] = done.as_slice() {
            break (*file).clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{engine:?}: no complete download; the directory has {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("komlang-workers-"), "{engine:?}: {name}");
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.len() > 1_000_000, "{engine:?}: {} bytes", bytes.len());
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).expect("BOM");
    let mut r = csv::ReaderBuilder::new().from_reader(body);
    let got: Vec<i64> = r.records().map(|rec| rec.expect("a whole record")[0].parse().expect("an id")).collect();
    assert_eq!(got.len(), in_scope.len(), "{engine:?}: every worker in scope, no more");
    assert!(got == in_scope, "{engine:?}: the workers in scope, in id order");

    driver.close(c).await;
    app.stop().await;
}

#[tokio::test]
async fn big_csv_download_in_a_real_browser() {
    in_chromium("download", run_download).await;
}

/// Issues a certificate in the store, then, without signing in, opens its public verification
/// page in the browser, and checks a made-up number through the page's form.
async fn run_verify(engine: komlang_store::Engine, driver: &mut Driver) {
    use komlang_core::training::{make_number, Hours, NumberKind, RecognitionInput};
    let app = TestApp::start(engine).await;
    let store = &app.db.store;
    let sys = komlang_store::system_principal("t");
    let today = komlang_web::common::today();
    let input = komlang_core::validate::WorkerInput {
        name_km: Some(NAME_KM.into()),
        name_latin: Some(NAME_LATIN.into()),
        sex: Some("female".into()),
        phone: Some("012345678".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some("010201".into()),
        status: Some("active".into()),
        ..Default::default()
    };
    let w = store.create_worker(&sys, &input, today).await.unwrap();
    let vc = store.programmes().await.unwrap().into_iter().find(|p| p.code == "VC-PSW").unwrap().id;
    let rpl = RecognitionInput {
        kind: "rpl".into(),
        programme_id: vc,
        hours: Hours { teaching: 450.0, ..Default::default() },
        evidence: "Portfolio".into(),
        assessor: "NISA".into(),
        assessed_on: today.to_string(),
    };
    store.add_recognition(&sys, w.id, &rpl, today).await.unwrap();
    let number = store.issue_certificate(&sys, w.id, vc, today).await.unwrap().number;

    let c = driver.session().await;
    c.goto(&app.url(&format!("/lang/en?next=/verify/{number}"))).await.unwrap();
    wait_until(&c, "the verification page", || async { exists(&c, "#verify-status").await }).await;
    assert_eq!(path_and_query(&c).await, format!("/verify/{number}"), "{engine:?}");
    assert!(!exists(&c, "form.logout").await, "{engine:?}: nobody is signed in");
    let status = c.find(Locator::Css("#verify-status")).await.unwrap();
    assert_eq!(status.attr("data-status").await.unwrap().as_deref(), Some("valid"), "{engine:?}");
    let text = status.text().await.unwrap();
    assert!(text.to_lowercase().contains("valid"), "{engine:?}: {text:?}");
    assert_eq!(text_of(&c, "#cert-number").await, number);
    let holder = text_of(&c, "#cert-holder").await;
    assert!(holder.contains(NAME_KM) && holder.contains(NAME_LATIN), "{engine:?}: {holder:?}");
    assert!(!c.source().await.unwrap().contains("012345678"), "{engine:?}: the phone is not shown");

    // A made-up number typed into the form: no such certificate.
    let made_up = make_number(NumberKind::Certificate, 0x0abc_def0_1234_5678);
    assert_ne!(made_up, number);
    let field = c.find(Locator::Css("#verify-form input[name=number]")).await.unwrap();
    field.send_keys(&made_up).await.unwrap();
    click(&c, "#verify-form button[type=submit]").await;
    wait_until(&c, "the answer for the made-up number", || async {
        c.current_url().await.map(|u| u.path() == format!("/verify/{made_up}")).unwrap_or(false)
            && exists(&c, "#verify-status").await
    })
    .await;
    let status = c.find(Locator::Css("#verify-status")).await.unwrap();
    assert_eq!(status.attr("data-status").await.unwrap().as_deref(), Some("not_found"), "{engine:?}");
    assert!(!exists(&c, "#certificate").await, "{engine:?}: nothing is shown for an unknown number");
    assert!(status.text().await.unwrap().contains("no certificate"), "{engine:?}");

    driver.close(c).await;
    app.stop().await;
}

#[tokio::test]
async fn public_certificate_verification_in_a_real_browser() {
    in_chromium("verification", run_verify).await;
}

/// Waits for the one complete file in `dir` whose name starts with `prefix` and ends in `ext`
/// (Chromium writes `*.crdownload` and renames it when done), and returns its bytes.
async fn downloaded(engine: komlang_store::Engine, dir: &Path, prefix: &str, ext: &str) -> Vec<u8> {
    let started = Instant::now();
    loop {
        let names: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        let done: Vec<&PathBuf> = names
            .iter()
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with(prefix) && p.extension().is_some_and(|e| e == ext)
            })
            .collect();
        if let [file] = done.as_slice() {
            return std::fs::read(file).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{engine:?}: no complete {prefix}*.{ext}; the directory has {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The reports of the establishment, supervision, costs, retention and caseloads on the demo data set, in
/// English and in Khmer, each downloaded as CSV and XLSX by clicking its links (Chromium asks
/// for gzip): the files hold the rows the page shows.
async fn run_reports(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.db.store.load_demo(komlang_web::common::today()).await.unwrap();
    app.account("planner", UserRole::NationalAdmin, None, None, None).await;
    let dir = driver.dir.join(format!("reports-{engine:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let c = driver.downloading_session(&dir).await;
    sign_in(&c, &app, "planner").await;
    // (page, its table of units or groups, the download's name)
    let reports = [
        ("/establishment?level=province", "#establishment tbody tr", "komlang-establishment-"),
        ("/supervision?level=province", "#supervision tbody tr", "komlang-supervision-"),
        ("/costs?level=province", "#cost-by-unit tbody tr", "komlang-workforce-cost-"),
        ("/retention?by=province", "#turnover tbody tr", "komlang-turnover-"),
        ("/caseloads?level=province", "#caseload-units tbody tr", "komlang-caseloads-"),
        ("/recruitment?level=province", "#need tbody tr", "komlang-recruitment-need-"),
        ("/appraisals?level=province", "#appraisal-units tbody tr", "komlang-appraisals-"),
    ];
    for (path, rows_css, prefix) in reports {
        c.goto(&app.url(path)).await.unwrap();
        wait_until(&c, path, || async { exists(&c, rows_css).await }).await;
        if html_lang(&c).await != "en" {
            switch_language(&c, "en").await;
        }
        let rows = count_of(&c, rows_css).await;
        assert!(rows > 1, "{engine:?} {path}: {rows} rows");
        let english = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
        switch_language(&c, "km").await;
        let khmer = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
        assert!(is_khmer(&khmer) && !is_khmer(&english), "{engine:?} {path}: {english:?} / {khmer:?}");
        assert_eq!(count_of(&c, rows_css).await, rows, "{engine:?} {path}: the same rows in Khmer");

        click(&c, ".export a[href*='format=csv']").await;
        let csv_bytes = downloaded(engine, &dir, prefix, "csv").await;
        let body = csv_bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).expect("the CSV starts with a BOM");
        let mut r = csv::ReaderBuilder::new().from_reader(body);
        let records: Vec<csv::StringRecord> = r.records().map(|rec| rec.expect("a whole CSV record")).collect();
        click(&c, ".export a[href*='format=xlsx']").await;
        let xlsx = downloaded(engine, &dir, prefix, "xlsx").await;
        let sheet: Vec<komlang_io::Row> =
            komlang_io::TableReader::from_bytes("r.xlsx", xlsx).unwrap().map(Result::unwrap).collect();
        assert_eq!(sheet.len(), records.len(), "{engine:?} {path}: the XLSX holds the CSV's rows");
        // The turnover's, the recruitment need's and the appraisals' files add the total's row to
        // the groups'.
        let expected = if matches!(prefix, "komlang-turnover-" | "komlang-recruitment-need-" | "komlang-appraisals-") {
            rows + 1
        } else {
            rows
        };
        assert_eq!(records.len(), expected, "{engine:?} {path}: the file holds the page's rows");
    }
    // A recruitment round's ranking, downloaded by clicking its link: the file holds the
    // candidates the page lists, in the same order.
    let admin = komlang_store::system_principal("browser-test");
    let round = app.db.store.recruitment_rounds(&admin).await.unwrap()[0].id;
    let path = format!("/recruitment/rounds/{round}");
    c.goto(&app.url(&path)).await.unwrap();
    wait_until(&c, &path, || async { exists(&c, "#candidates tbody tr").await }).await;
    let listed = count_of(&c, "#candidates tbody tr").await;
    click(&c, ".export a[href*='format=csv']").await;
    let csv_bytes = downloaded(engine, &dir, "komlang-recruitment-round-", "csv").await;
    let body = csv_bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).expect("the CSV starts with a BOM");
    let ids: Vec<String> = csv::ReaderBuilder::new()
        .from_reader(body)
        .records()
        .map(|rec| rec.expect("a whole CSV record")[2].to_string())
        .collect();
    let mut shown = Vec::new();
    for row in c.find_all(Locator::Css("#candidates tbody tr")).await.unwrap() {
        shown.push(row.attr("data-candidate").await.unwrap().unwrap_or_default());
    }
    assert!(listed > 1, "{engine:?}: the demo round lists its candidates");
    assert_eq!(ids, shown, "{engine:?}: the ranking's file holds the page's candidates in order");
    // The recruitment settings: a lower retirement age, saved through the page's form, counts
    // more holders as retiring.
    switch_language(&c, "en").await;
    c.goto(&app.url("/recruitment?level=province&year=2027")).await.unwrap();
    wait_until(&c, "the recruitment page", || async { exists(&c, "#settings-form").await }).await;
    let retiring = |text: String| number_in(&text).unwrap_or(0);
    let before = retiring(text_of(&c, "#need-total td:nth-of-type(3)").await);
    let age = c.find(Locator::Id("s-age")).await.unwrap();
    age.clear().await.unwrap();
    age.send_keys("45").await.unwrap();
    click(&c, "#settings-form button[type=submit]").await;
    wait_until(&c, "the saved settings", || async {
        exists(&c, ".flash").await && value_while_loading(&c, "s-age").await == "45"
    })
    .await;
    c.goto(&app.url("/recruitment?level=province&year=2027")).await.unwrap();
    wait_until(&c, "the recruitment page again", || async { exists(&c, "#need-total").await }).await;
    let after = retiring(text_of(&c, "#need-total td:nth-of-type(3)").await);
    assert!(after > before, "{engine:?}: retiring at 45: {after}, at 60: {before}");
    driver.close(c).await;
    app.stop().await;
}

#[tokio::test]
async fn reports_in_both_languages_and_their_downloads_in_a_real_browser() {
    in_chromium("reports", run_reports).await;
}

/// Caseloads on the demo data set: a national administrator imports a Primero case list through
/// the page (its child's-name column is neither shown nor kept), reads the units in English and
/// Khmer and drills down to districts, links a user of the case system to a worker, and finds
/// the worker's open cases on the worker's page.
async fn run_caseloads(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    app.db.store.load_demo(komlang_web::common::today()).await.unwrap();
    app.account("planner", UserRole::NationalAdmin, None, None, None).await;
    let pool = app.db.store.pool();
    let (owner, worker): (String, i64) = {
        let r = sqlx::query(
            "SELECT owner, worker_id FROM case_owner_links WHERE source = 'primero' ORDER BY worker_id LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        (r.try_get(0).unwrap(), r.try_get(1).unwrap())
    };
    let file = driver.dir.join(format!("cases-{engine:?}.csv"));
    let csv = format!(
        "case_id_display,name,status,owned_by,location_current\nB-1,Hidden Childname,open,{owner},010201\n\
         B-2,Hidden Childname,open,{owner},010201\nB-3,Hidden Childname,closed,{owner},010201\nB-4,Hidden Childname,open,newuser,010201\n"
    );
    std::fs::write(&file, csv).unwrap();
    let c = driver.session().await;
    sign_in(&c, &app, "planner").await;
    if html_lang(&c).await != "en" {
        switch_language(&c, "en").await;
    }
    click(&c, "nav.main a[href='/caseloads']").await;
    wait_until(&c, "the caseloads page", || async { exists(&c, "#caseload-import").await }).await;
    let before = count_of(&c, "#caseload-snapshots tbody tr").await;
    assert!(before >= 1, "{engine:?}: the demo's case lists");
    choose(&c, "ci-source", "primero").await;
    let input = c.find(Locator::Id("ci-file")).await.unwrap();
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    click(&c, "#caseload-import button[type=submit]").await;
    wait_until(&c, "the import's outcome", || async { exists(&c, "#caseload-outcome").await }).await;
    let outcome = text_of(&c, "#caseload-outcome").await;
    assert!(outcome.contains("imported"), "{engine:?}: {outcome}");
    let page = c.source().await.unwrap();
    assert!(!page.contains("Hidden Childname"), "{engine:?}: a column not mapped is shown");
    // Today's Primero list replaced the demo's of the same day.
    assert_eq!(count_of(&c, "#caseload-snapshots tbody tr").await, before, "{engine:?}");
    let kept: i64 = sqlx::query("SELECT COUNT(*) FROM caseload_cases WHERE case_ref LIKE 'B-%'")
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(kept, 4, "{engine:?}");

    // The provinces, in English then Khmer; a province's districts.
    let rows = count_of(&c, "#caseload-units tbody tr").await;
    assert!(rows >= 1, "{engine:?}: provinces with cases");
    let english = text_of(&c, "h1").await;
    switch_language(&c, "km").await;
    assert!(is_khmer(&text_of(&c, "h1").await) && !is_khmer(&english), "{engine:?}");
    assert_eq!(count_of(&c, "#caseload-units tbody tr").await, rows, "{engine:?}: the same units in Khmer");
    // On a machine without a Khmer font (as this one), the page brings its own: Noto Sans Khmer.
    let local_khmer = Command::new("fc-list")
        .arg(":lang=km")
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false);
    let loaded = c
        .execute(
            "return document.fonts.ready.then(() => Array.from(document.fonts).filter(f => \
             f.family.replace(/\"/g, '') === 'Noto Sans Khmer Web' && f.status === 'loaded').length);",
            vec![],
        )
        .await
        .unwrap();
    if !local_khmer {
        assert!(loaded.as_u64().unwrap_or(0) >= 1, "{engine:?}: the Khmer web font was not loaded: {loaded}");
    }
    click(&c, "#caseload-units tbody tr a").await;
    wait_until(&c, "a province's districts", || async { path_and_query(&c).await.contains("level=district") }).await;
    assert!(count_of(&c, "#caseload-units tbody tr").await >= 1, "{engine:?}: districts");

    // The new user, linked to the worker on the owners' page.
    c.goto(&app.url("/caseloads/owners?unlinked=1")).await.unwrap();
    wait_until(&c, "the users not linked", || async { exists(&c, "#case-owners").await }).await;
    let row = c.find(Locator::XPath("//table[@id='case-owners']//tr[td[2]='newuser']")).await.unwrap();
    let field = row.find(Locator::Css("input[name=worker_id]")).await.unwrap();
    field.send_keys(&worker.to_string()).await.unwrap();
    row.find(Locator::Css("form[action='/caseloads/owners'] button")).await.unwrap().click().await.unwrap();
    wait_until(&c, "the link saved", || async { exists(&c, ".flash").await }).await;

    // The worker's page: three open cases of the two users now linked to them.
    c.goto(&app.url(&format!("/workers/{worker}"))).await.unwrap();
    wait_until(&c, "the worker's open cases", || async { exists(&c, "#worker-caseload").await }).await;
    let text = text_of(&c, "#worker-caseload").await;
    assert!(text.contains("Primero"), "{engine:?}: {text}");
    assert_eq!(text_of(&c, "#worker-caseload strong").await, "3", "{engine:?}: {text}");

    driver.close(c).await;
    app.stop().await;
}

#[tokio::test]
async fn caseloads_imported_linked_and_read_in_a_real_browser() {
    in_chromium("caseloads", run_caseloads).await;
}

/// An appraisal on the demo data set, through the pages: a focal point writes their
/// self-appraisal (their own page is where "Appraisals" leads them), then the provincial officer
/// sees it, rates every key function, completes the appraisal (first without an overall result:
/// refused, naming it, entries kept) and agrees a reward; the page reads in Khmer too.
async fn run_appraisal(engine: komlang_store::Engine, driver: &mut Driver) {
    use sqlx::Row;
    let app = TestApp::start(engine).await;
    app.db.store.load_demo(komlang_web::common::today()).await.unwrap();
    let row = sqlx::query(
        "SELECT a.id, a.worker_id FROM appraisals a WHERE a.status = 'open' \
         AND a.worker_id NOT IN (SELECT worker_id FROM users WHERE worker_id IS NOT NULL) ORDER BY a.id LIMIT 1",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    let (id, worker): (i64, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    app.account("focal", UserRole::Worker, None, None, Some(worker)).await;
    app.account("btb-officer", UserRole::ProvincialOfficer, Some("02"), None, None).await;
    let codes: Vec<String> = app
        .db
        .store
        .appraisal(&komlang_store::system_principal("t"), id)
        .await
        .unwrap()
        .ratings
        .iter()
        .map(|r| r.function.code.clone())
        .collect();

    let c = driver.session().await;
    sign_in(&c, &app, "focal").await;
    if html_lang(&c).await != "en" {
        switch_language(&c, "en").await;
    }
    c.goto(&app.url("/appraisals")).await.unwrap();
    wait_until(&c, "the worker's own appraisals", || async { exists(&c, "#appraisals").await }).await;
    assert_eq!(path_and_query(&c).await, format!("/appraisals/workers/{worker}"), "{engine:?}");
    click(&c, &format!("#appraisals a[href='/appraisals/{id}']")).await;
    wait_until(&c, "the self-appraisal form", || async { exists(&c, "#self-form").await }).await;
    assert!(!exists(&c, "#appraisal-form").await, "{engine:?}: the worker does not rate themself as supervisor");
    for code in &codes {
        click(&c, &format!("#self-rating-{code} option[value='3']")).await;
    }
    type_into(&c, "s-comment", "I ask for training on assessments.").await;
    click(&c, "#self-form button[type=submit]").await;
    wait_until(&c, "the saved self-appraisal", || async {
        exists(&c, ".flash").await && exists(&c, "#self-comment").await
    })
    .await;
    assert!(text_of(&c, "#self-comment").await.contains("training on assessments"), "{engine:?}");
    driver.close(c).await;

    let c = driver.session().await;
    sign_in(&c, &app, "btb-officer").await;
    if html_lang(&c).await != "en" {
        switch_language(&c, "en").await;
    }
    c.goto(&app.url(&format!("/appraisals/{id}"))).await.unwrap();
    wait_until(&c, "the supervisor's form", || async { exists(&c, "#appraisal-form").await }).await;
    assert!(
        text_of(&c, "#ratings tbody tr").await.contains("Meets expectations"),
        "{engine:?}: the worker's own rating shows"
    );
    for (n, code) in codes.iter().enumerate() {
        let v = if n == 0 { "2" } else { "3" };
        click(&c, &format!("#rating-{code} option[value='{v}']")).await;
    }
    click(&c, "#f-complete").await;
    click(&c, "#appraisal-form button[type=submit]").await;
    wait_until(&c, "the refusal", || async { exists(&c, "#appraisal-errors").await }).await;
    assert!(text_of(&c, "#appraisal-errors").await.to_lowercase().contains("required"), "{engine:?}");
    assert_eq!(value_of(&c, &format!("rating-{}", codes[0])).await, "2", "{engine:?}: the entries are kept");
    click(&c, "#f-overall option[value='meets']").await;
    click(&c, "#f-complete").await;
    click(&c, "#appraisal-form button[type=submit]").await;
    wait_until(&c, "the completed appraisal", || async {
        exists(&c, ".flash").await && exists(&c, "#appraisal-status").await
    })
    .await;
    assert!(text_of(&c, "#appraisal-status").await.contains("Completed"), "{engine:?}");
    assert!(!exists(&c, "#appraisal-form").await, "{engine:?}: a completed appraisal is read-only");
    assert!(exists(&c, "#training-suggestions li").await, "{engine:?}: the function rated 2 suggests training");
    click(&c, "#x-kind option[value='reward']").await;
    type_into(&c, "x-description", "Certificate of appreciation").await;
    click(&c, "#action-form button[type=submit]").await;
    wait_until(&c, "the agreed action", || async { exists(&c, "#action-list tbody tr").await }).await;
    assert!(text_of(&c, "#action-list").await.contains("Certificate of appreciation"), "{engine:?}");
    switch_language(&c, "km").await;
    wait_until(&c, "the Khmer page", || async { html_lang(&c).await == "km" }).await;
    assert!(is_khmer(&text_of(&c, "#appraisal-status").await), "{engine:?}");
    driver.close(c).await;
    app.stop().await;
}

#[tokio::test]
async fn an_appraisal_in_a_real_browser() {
    in_chromium("appraisal", run_appraisal).await;
}

/// The demo's recruitment round through the pages: the provincial officer raises a candidate's
/// exam score in the candidate's row (who then ranks first) and appoints them to a post they
/// are eligible for; the row then reads "Appointed", also in Khmer.
async fn run_round(engine: komlang_store::Engine, driver: &mut Driver) {
    let app = TestApp::start(engine).await;
    let today = komlang_web::common::today();
    app.db.store.load_demo(today).await.unwrap();
    let (p, _) = app.account("btb-hr", UserRole::ProvincialOfficer, Some("02"), None, None).await;
    let rounds = app.db.store.recruitment_rounds(&p).await.unwrap();
    let round = app.db.store.recruitment_round(&p, rounds[0].id, today).await.unwrap();
    let vacant: Vec<i64> = round.posts.iter().filter(|x| x.vacant).map(|x| x.post_id).collect();
    let c = round
        .candidates
        .iter()
        .find(|c| c.rank.is_some() && round.eligible_posts(c).any(|p| vacant.contains(&p)))
        .expect("a ranked candidate eligible for a vacant post")
        .clone();
    let c_ = driver.session().await;
    let c0 = &c_;
    sign_in(c0, &app, "btb-hr").await;
    if html_lang(c0).await != "en" {
        switch_language(c0, "en").await;
    }
    c0.goto(&app.url("/recruitment")).await.unwrap();
    wait_until(c0, "the recruitment page", || async { exists(c0, "#hiring-links").await }).await;
    click(c0, "#hiring-links a[href='/recruitment/rounds']").await;
    wait_until(c0, "the rounds", || async { exists(c0, "#rounds").await }).await;
    click(c0, &format!("#rounds a[href='/recruitment/rounds/{}']", round.id)).await;
    wait_until(c0, "the round", || async { exists(c0, "#candidates").await }).await;
    let row = format!("#candidates tr[data-candidate='{}']", c.id);
    let exam = c0.find(Locator::Css(&format!("{row} input[name=exam_score]"))).await.unwrap();
    exam.clear().await.unwrap();
    exam.send_keys("99").await.unwrap();
    let interview = c0.find(Locator::Css(&format!("{row} input[name=interview_score]"))).await.unwrap();
    interview.clear().await.unwrap();
    interview.send_keys("99").await.unwrap();
    click(c0, &format!("{row} .scores-form button")).await;
    wait_until(c0, "the saved scores", || async { exists(c0, ".flash").await && exists(c0, "#candidates").await })
        .await;
    let first = c0.find(Locator::Css("#candidates tbody tr")).await.unwrap().attr("data-candidate").await.unwrap();
    assert_eq!(first, Some(c.id.to_string()), "{engine:?}: the candidate ranks first");
    click(c0, &format!("{row} .appoint-form button")).await;
    wait_until(c0, "the appointment", || async {
        exists(c0, ".flash").await && text_of(c0, &format!("{row} .candidate-status")).await.contains("Appointed")
    })
    .await;
    switch_language(c0, "km").await;
    wait_until(c0, "the Khmer page", || async { html_lang(c0).await == "km" }).await;
    assert!(is_khmer(&text_of(c0, &format!("{row} .candidate-status")).await), "{engine:?}");
    driver.close(c_).await;
    let held = app.db.store.recruitment_round(&p, round.id, today).await.unwrap();
    let appointed = held.candidates.iter().find(|x| x.id == c.id).unwrap();
    assert_eq!(appointed.status, komlang_core::hiring::CandidateStatus::Appointed, "{engine:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_recruitment_round_in_a_real_browser() {
    in_chromium("round", run_round).await;
}
