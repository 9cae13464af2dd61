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

/// The fields of the form `selector` in a page, as a browser would send them: every named
/// input (ticked boxes only), the selected choice of every select (else its first), and every
/// text area.
pub fn form_fields(html: &str, selector: &str) -> Vec<(String, String)> {
    let doc = scraper::Html::parse_document(html);
    let form_sel = scraper::Selector::parse(selector).unwrap();
    let form = doc.select(&form_sel).next().unwrap_or_else(|| panic!("no form {selector} in the page"));
    let fields = scraper::Selector::parse("input[name], select[name], textarea[name]").unwrap();
    let option = scraper::Selector::parse("option").unwrap();
    let mut out = Vec::new();
    for f in form.select(&fields) {
        let el = f.value();
        let name = el.attr("name").unwrap_or_default().to_string();
        match el.name() {
            "input" => {
                let kind = el.attr("type").unwrap_or("text");
                if matches!(kind, "checkbox" | "radio") && el.attr("checked").is_none() {
                    continue;
                }
                if matches!(kind, "submit" | "button") {
                    continue;
                }
                out.push((name, el.attr("value").unwrap_or_default().to_string()));
            }
            "select" => {
                let opts: Vec<_> = f.select(&option).collect();
                let chosen = opts.iter().find(|o| o.value().attr("selected").is_some()).or(opts.first());
                if let Some(o) = chosen {
                    out.push((name, o.value().attr("value").unwrap_or_default().to_string()));
                }
            }
            _ => out.push((name, f.text().collect())),
        }
    }
    out
}

/// Sets a field of a form read by [`form_fields`].
pub fn set_field(fields: &mut [(String, String)], name: &str, value: &str) {
    let f = fields.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no field {name}"));
    f.1 = value.to_string();
}

/// A field's value in a form read by [`form_fields`].
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no field {name}"))
}
