//! A running Komlang on a throw-away database, for HTTP-level tests.
#![allow(dead_code)]

pub mod bombs;
pub mod bulk;

use std::net::SocketAddr;

use komlang_core::{FieldError, Principal, UserRole};
use komlang_store::testing::TestDb;
use komlang_store::{system_principal, Engine, NewUser};
use komlang_web::common::i18n::{I18n, Locale};

pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    server: tokio::task::JoinHandle<()>,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Serves a fresh database (Cambodia's provinces, districts and communes loaded).
    pub async fn start(engine: Engine) -> TestApp {
        TestApp::start_with(engine, komlang_web::WebConfig::default()).await
    }

    /// [`TestApp::start`] with the given server options.
    pub async fn start_with(engine: Engine, config: komlang_web::WebConfig) -> TestApp {
        let db = TestDb::with_units(engine).await;
        let app = komlang_web::router(db.store.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        TestApp { db, base: format!("http://{addr}"), server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates an account and returns its principal and an API token.
    pub async fn account(
        &self,
        username: &str,
        role: UserRole,
        scope: Option<&str>,
        org_id: Option<i64>,
        worker_id: Option<i64>,
    ) -> (Principal, String) {
        let u = self
            .db
            .store
            .create_user(
                &system_principal("test"),
                &NewUser {
                    username: username.into(),
                    password: PASSWORD.into(),
                    role,
                    scope_code: scope.map(String::from),
                    org_id,
                    worker_id,
                },
            )
            .await
            .unwrap();
        let p = self.db.store.principal_for_user(u.id).await.unwrap().unwrap();
        let token = self.db.store.create_token(username).await.unwrap();
        (p, token)
    }

    pub async fn stop(self) {
        self.server.abort();
        self.db.cleanup().await;
    }
}

/// The interface texts of one language as its own file, `locales/<lang>.yml`, has them, for
/// checking pages: a key missing from that file panics, where [`I18n::t`] would give the
/// English text or the key itself, which a page showing the same fallback would match.
pub struct Texts(I18n);

impl Texts {
    pub fn new(locale: Locale) -> Texts {
        Texts(I18n::new(locale))
    }

    #[track_caller]
    fn expect(&self, key: &str) {
        assert!(self.0.has(key), "locales/{}.yml has no {key}", self.0.lang());
    }

    #[track_caller]
    pub fn t(&self, key: &str) -> String {
        self.expect(key);
        self.0.t(key)
    }

    #[track_caller]
    pub fn tp(&self, key: &str, params: &[(&str, String)]) -> String {
        self.expect(key);
        self.0.tp(key, params)
    }

    /// The sentence of a field error, which must be translated (not the bare code).
    #[track_caller]
    pub fn field_error(&self, e: &FieldError) -> String {
        let keys = [format!("error.{}", e.code), format!("planning.error.{}", e.code)];
        assert!(keys.iter().any(|k| self.0.has(k)), "locales/{}.yml has none of {keys:?}", self.0.lang());
        self.0.field_error(e)
    }
}

/// An HTTP client that keeps cookies and does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of `name="csrf"` in a page.
pub fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("page has a CSRF field") + "name=\"csrf\" value=\"".len();
    html[i..].split('"').next().unwrap().to_string()
}

/// Logs a browser-like client in through the login form.
pub async fn login(app: &TestApp, client: &reqwest::Client, username: &str) {
    let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let r = client
        .post(app.url("/login"))
        .form(&[("username", username), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login of {username} should redirect");
}
