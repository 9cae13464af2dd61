//! `komlang serve` stopped as an operator stops it: SIGTERM while a request is in flight.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, Engine};
use serde_json::{json, Value};

fn komlang(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_komlang"));
    c.args(["--db", db])
        .env_remove("KOMLANG_DATABASE_URL")
        .env_remove("KOMLANG_LISTEN")
        .env_remove("KOMLANG_METRICS_TOKEN")
        .env_remove("KOMLANG_SHUTDOWN_GRACE")
        .env("RUST_LOG", "info");
    c
}

#[track_caller]
fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An answer read to its end (every request says `Connection: close`).
struct Answer {
    status: u16,
    content_length: Option<usize>,
    body: String,
}

fn read_answer(mut s: TcpStream) -> Answer {
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer head: {raw:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().unwrap())
    });
    Answer { status, content_length, body: body.to_string() }
}

fn request_head(method: &str, path: &str, token: &str, body_len: usize) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n"
    )
}

fn call(port: u16, method: &str, path: &str, token: &str, body: &str) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request_head(method, path, token, body.len()).as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    read_answer(s)
}

/// Waits until the server answers `/readyz` with 200.
fn wait_until_ready(port: u16, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            panic!("the server exited before it was ready: {status}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && call(port, "GET", "/readyz", "-", "").status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "the server did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `komlang serve` process on `db` (with an account and its API token), ready.
struct Server {
    process: Child,
    port: u16,
    token: String,
    log: std::path::PathBuf,
}

impl Server {
    fn start(db: &str, grace: &str) -> Server {
        ok(komlang(db)
            .args(["user", "add", "--username", "admin", "--password", "correct horse"])
            .args(["--role", "national-admin"]));
        let token = ok(komlang(db).args(["token", "create", "--username", "admin"])).trim().to_string();
        let port = free_port();
        let log = std::env::temp_dir().join(format!("komlang-serve-{}-{port}.log", std::process::id()));
        let mut process = komlang(db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--shutdown-grace", grace])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        wait_until_ready(port, &mut process);
        Server { process, port, token, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn sigterm(&self) {
        let kill = Command::new("kill").args(["-TERM", &self.process.id().to_string()]).status().unwrap();
        assert!(kill.success());
    }

    fn running(&mut self) -> bool {
        self.process.try_wait().unwrap().is_none()
    }

    /// The exit status, within `limit`.
    fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.process.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {limit:?}\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn create_worker(&self) -> i64 {
        let new = json!({
            "name_km": "សុខ ដារ៉ា", "name_latin": "Sok Dara", "sex": "female", "cadre": "para_social_worker",
            "role": "ccwc_focal_point", "sector": "government", "workplace_code": "020101", "status": "active"
        });
        let created = call(self.port, "POST", "/api/v1/workers", &self.token, &new.to_string());
        assert_eq!(created.status, 201, "{}", created.body);
        serde_json::from_str::<Value>(&created.body).unwrap()["id"].as_i64().unwrap()
    }

    /// Sends the head and the first half of `body`; the server has the head and waits for the
    /// rest, which is returned.
    fn start_slow_request(&self, method: &str, path: &str, body: &str) -> (TcpStream, String) {
        let (first, rest) = body.split_at(body.len() / 2);
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(request_head(method, path, &self.token, body.len()).as_bytes()).unwrap();
        s.write_all(first.as_bytes()).unwrap();
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        (s, rest.to_string())
    }
}

/// The change the tests send slowly.
fn patch() -> String {
    json!({"phone": "012 345 678", "email": "dara@example.org"}).to_string()
}

/// Serves `db`, starts a request whose body is still being sent, sends SIGTERM, and checks that
/// new connections are refused while the request runs on, that it completes (200, its whole
/// answer, its change stored), and that the process exits 0. Returns the worker's id.
fn stop_during_a_request(db: &str) -> i64 {
    let mut server = Server::start(db, "30s");
    let port = server.port;
    let id = server.create_worker();
    let (mut in_flight, rest) = server.start_slow_request("PATCH", &format!("/api/v1/workers/{id}"), &patch());

    server.sigterm();
    // The port closes at once: new connections are refused while the request runs on.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => break,
            Err(e) => panic!("connecting during shutdown: {e}"),
            Ok(_) => {
                assert!(Instant::now() < deadline, "still accepting connections 10 s after SIGTERM\n{}", server.log());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.running(), "the server exited with a request in flight\n{}", server.log());

    in_flight.write_all(rest.as_bytes()).unwrap();
    let answer = read_answer(in_flight);
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, server.log());
    assert_eq!(answer.content_length, Some(answer.body.len()), "the answer was cut: {:?}", answer.body);
    let worker: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!((worker["id"].as_i64(), worker["phone"].as_str()), (Some(id), Some("012 345 678")), "{worker}");

    let status = server.exit_within(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(server.log().contains("SIGTERM"), "{}", server.log());
    std::fs::remove_file(&server.log).unwrap();
    id
}

/// A request that outlasts `--shutdown-grace` is cut off: the server exits 0 soon after the
/// grace period, without an answer to it, and its change is not stored.
fn grace_runs_out(db: &str) -> i64 {
    let mut server = Server::start(db, "1s");
    let id = server.create_worker();
    let (in_flight, _rest) = server.start_slow_request("PATCH", &format!("/api/v1/workers/{id}"), &patch());
    let asked = Instant::now();
    server.sigterm();
    let status = server.exit_within(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(asked.elapsed() >= Duration::from_secs(1), "exited before the grace period: {:?}", asked.elapsed());
    assert!(server.log().contains("cut off"), "{}", server.log());
    let mut in_flight = in_flight;
    in_flight.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = in_flight.read_to_end(&mut got);
    assert!(got.is_empty(), "an answer to a request that never arrived whole: {}", String::from_utf8_lossy(&got));
    std::fs::remove_file(&server.log).unwrap();
    id
}

#[tokio::test]
async fn sigterm_finishes_the_requests_in_flight_then_closes_the_database() {
    for engine in engines() {
        // This process keeps the database open too, as a backup or a command might: on SQLite
        // the server's connections are then not the last to close, and only its checkpoint
        // empties the write-ahead log.
        let db = TestDb::empty(engine).await;
        let url = db.url.clone();
        let id = tokio::task::spawn_blocking(move || stop_during_a_request(&url)).await.unwrap();
        if engine == Engine::Sqlite {
            let file = db.url.trim_start_matches("sqlite://").to_string();
            let wal = std::fs::metadata(format!("{file}-wal")).map(|m| m.len()).unwrap_or(0);
            assert_eq!(wal, 0, "the write-ahead log was left with {wal} bytes: the file alone is not the database");
        }
        // The change of the request that was in flight is stored.
        let w = db.store.get_worker(&system_principal("test"), id).await.unwrap().unwrap();
        assert_eq!((w.phone.as_deref(), w.email.as_deref()), (Some("012 345 678"), Some("dara@example.org")));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_request_that_outlasts_the_grace_period_is_cut_off() {
    let engine = engines()[0];
    let db = TestDb::empty(engine).await;
    let url = db.url.clone();
    let id = tokio::task::spawn_blocking(move || grace_runs_out(&url)).await.unwrap();
    let w = db.store.get_worker(&system_principal("test"), id).await.unwrap().unwrap();
    assert_eq!(w.phone, None);
    db.cleanup().await;
}

#[test]
fn metrics_need_a_long_enough_token() {
    let db = "sqlite://never-created.db";
    for (args, needle) in [
        (&["--metrics"][..], "--metrics-token"),
        (&["--metrics", "--metrics-token", "short"][..], "metrics_token: too_short"),
        (&["--shutdown-grace", "soon"][..], "--shutdown-grace"),
    ] {
        let o = komlang(db).args(["serve", "--listen", "127.0.0.1:1"]).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(!std::path::Path::new("never-created.db").exists());
}
