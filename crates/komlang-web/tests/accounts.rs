//! Accounts over HTTP, on every engine: anonymous pages store no session; a password change
//! ends the account's other sessions; national administrators disable and enable accounts,
//! set passwords, sign accounts out and manage their API tokens (pages and API); an attacker
//! cannot lock the owner out.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp, Texts, PASSWORD};
use komlang_core::UserRole;
use komlang_store::testing::engines;
use komlang_web::common::i18n::Locale;
use reqwest::Client;
use serde_json::{json, Value};

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Whether the client is signed in (a page behind the login answers 200, not a redirect).
async fn signed_in(app: &TestApp, c: &Client) -> bool {
    let r = c.get(app.url("/admin-units")).send().await.unwrap();
    r.status() == 200
}

/// The CSRF token of a signed-in client's session.
async fn csrf(app: &TestApp, c: &Client) -> String {
    csrf_of(&c.get(app.url("/about")).send().await.unwrap().text().await.unwrap())
}

async fn post(app: &TestApp, c: &Client, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    let csrf = csrf(app, c).await;
    let mut f = form(pairs);
    f.push(("csrf".into(), csrf));
    c.post(app.url(path)).form(&f).send().await.unwrap()
}

/// Signs a client in with a password other than the test accounts' one.
async fn login_with(app: &TestApp, c: &Client, username: &str, password: &str) {
    let token = csrf_of(&c.get(app.url("/login")).send().await.unwrap().text().await.unwrap());
    let r = c
        .post(app.url("/login"))
        .form(&form(&[("username", username), ("password", password), ("csrf", &token), ("next", "/")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login of {username}");
}

async fn api_status(app: &TestApp, token: &str) -> u16 {
    Client::new().get(app.url("/api/v1/me")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn anonymous_pages_store_no_session_and_login_stays_csrf_protected() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let store = &app.db.store;
        let before = store.session_count().await.unwrap();
        // Fresh visitors (no cookies at all) and one visitor coming back.
        let same = browser();
        for i in 0..40 {
            for path in ["/verify", "/login", "/register", "/about", "/verify/C-0000-0000-0000-0"] {
                let c = if i % 2 == 0 { Client::new() } else { same.clone() };
                let r = c.get(app.url(path)).send().await.unwrap();
                assert!(r.status().is_success() || r.status() == 404, "{engine:?} GET {path}: {}", r.status());
                assert!(
                    r.headers()
                        .get_all("set-cookie")
                        .iter()
                        .all(|v| !v.to_str().unwrap().starts_with("komlang_session=")),
                    "{engine:?} GET {path} set a session cookie"
                );
            }
        }
        assert_eq!(store.session_count().await.unwrap(), before, "{engine:?}: anonymous requests stored sessions");

        // The login form's token is the visitor's CSRF cookie: without it, with another
        // visitor's, or with none, the login is refused (401) and nothing is stored.
        let c = browser();
        let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let token = csrf_of(&page);
        let again = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        assert_eq!(csrf_of(&again), token, "{engine:?}: the visitor's token changes between pages");
        let other = csrf_of(&Client::new().get(app.url("/login")).send().await.unwrap().text().await.unwrap());
        assert_ne!(other, token);
        for bad in ["", other.as_str(), "0"] {
            let r = c
                .post(app.url("/login"))
                .form(&form(&[("username", "admin"), ("password", PASSWORD), ("csrf", bad)]))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{engine:?}: login with CSRF {bad:?}");
        }
        // A forged cross-site login carries the form field but not the visitor's cookie.
        let r = Client::new()
            .post(app.url("/login"))
            .form(&form(&[("username", "admin"), ("password", PASSWORD), ("csrf", &token)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{engine:?}: login without the CSRF cookie");
        assert_eq!(store.session_count().await.unwrap(), before, "{engine:?}");

        // The real login: one session, linked to its account.
        let r = c
            .post(app.url("/login"))
            .form(&form(&[("username", "admin"), ("password", PASSWORD), ("csrf", &token), ("next", "/")]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        assert!(signed_in(&app, &c).await);
        assert_eq!(store.session_count().await.unwrap(), before + 1, "{engine:?}");
        let admin = store.user_by_name("admin").await.unwrap().unwrap();
        assert_eq!(store.sessions_of(admin.id, 0).await.unwrap(), 1, "{engine:?}: the session names no account");
        // Signed in, forms carry the session's token, not the cookie's.
        assert_ne!(csrf(&app, &c).await, token);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_password_change_signs_the_other_sessions_out() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        app.account("officer", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let (laptop, phone) = (browser(), browser());
        login(&app, &laptop, "officer").await;
        login(&app, &phone, "officer").await;
        let en = Texts::new(Locale::Km);

        // The form asks for the current password, and the new one twice.
        let r = post(
            &app,
            &laptop,
            "/account/password",
            &[("current", "wrong"), ("password", "new password 1"), ("confirm", "new password 1")],
        )
        .await;
        assert_eq!(r.status(), 422, "{engine:?}");
        assert!(r.text().await.unwrap().contains(&en.t("account.wrong_current")));
        let r = post(
            &app,
            &laptop,
            "/account/password",
            &[("current", PASSWORD), ("password", "new password 1"), ("confirm", "other")],
        )
        .await;
        assert_eq!(r.status(), 422, "{engine:?}");
        let r = post(
            &app,
            &laptop,
            "/account/password",
            &[("current", PASSWORD), ("password", "short"), ("confirm", "short")],
        )
        .await;
        assert_eq!(r.status(), 422, "{engine:?}");
        assert!(signed_in(&app, &phone).await, "{engine:?}: a refused change signed out");
        // Without the session's CSRF token: refused.
        let r = laptop
            .post(app.url("/account/password"))
            .form(&form(&[("current", PASSWORD), ("password", "new password 1"), ("confirm", "new password 1")]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{engine:?}");

        let r = post(
            &app,
            &laptop,
            "/account/password",
            &[("current", PASSWORD), ("password", "new password 1"), ("confirm", "new password 1")],
        )
        .await;
        assert_eq!(r.status(), 303, "{engine:?}");
        let home = laptop.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains(&en.t("account.password_changed")), "{engine:?}");
        assert!(signed_in(&app, &laptop).await, "{engine:?}: the session changing the password was signed out");
        assert!(!signed_in(&app, &phone).await, "{engine:?}: another session survived the password change");

        // An administrator setting the password signs every session of the account out.
        login_with(&app, &phone, "officer", "new password 1").await;
        let admin = browser();
        login(&app, &admin, "admin").await;
        let officer = app.db.store.user_by_name("officer").await.unwrap().unwrap();
        let path = format!("/accounts/{}/password", officer.id);
        let r = post(&app, &admin, &path, &[("password", "new password 2"), ("confirm", "new password 2")]).await;
        assert_eq!(r.status(), 303, "{engine:?}");
        assert!(!signed_in(&app, &laptop).await && !signed_in(&app, &phone).await, "{engine:?}");
        assert!(signed_in(&app, &admin).await, "{engine:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn administrators_disable_accounts_and_manage_tokens_in_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (admin_p, _) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (officer_p, officer_token) =
            app.account("officer", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let store = &app.db.store;
        let en = Texts::new(Locale::Km);
        let (admin, officer) = (browser(), browser());
        login(&app, &admin, "admin").await;
        login(&app, &officer, "officer").await;
        let page = format!("/accounts/{}", officer_p.user_id);

        // The list: role, scope, status, last sign-in.
        let list = admin.get(app.url("/accounts")).send().await.unwrap().text().await.unwrap();
        assert!(
            list.contains("data-username=\"officer\"") && list.contains(&en.t("user_role.provincial-officer")),
            "{engine:?}"
        );
        assert!(list.contains(&en.t("accounts.active")), "{engine:?}");
        assert_eq!(officer.get(app.url("/accounts")).send().await.unwrap().status(), 403);

        // Disabling: the officer's session ends at once, the token is refused, sign-in fails.
        let r = post(&app, &admin, &format!("{page}/disable"), &[]).await;
        assert_eq!(r.status(), 303, "{engine:?}");
        assert!(!signed_in(&app, &officer).await, "{engine:?}: a disabled account is still signed in");
        assert_eq!(api_status(&app, &officer_token).await, 401, "{engine:?}: a disabled account's token works");
        let c = browser();
        let token = csrf_of(&c.get(app.url("/login")).send().await.unwrap().text().await.unwrap());
        let r = c
            .post(app.url("/login"))
            .form(&form(&[("username", "officer"), ("password", PASSWORD), ("csrf", &token)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{engine:?}: a disabled account signed in");
        let html = admin.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("data-active=\"false\"") && html.contains(&en.t("accounts.disabled_done")), "{engine:?}");
        let r = post(&app, &admin, &format!("{page}/enable"), &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(api_status(&app, &officer_token).await, 200, "{engine:?}");

        // Nobody disables themself (and the last national administrator is refused too).
        let r = post(&app, &admin, &format!("/accounts/{}/disable", admin_p.user_id), &[]).await;
        assert_eq!(r.status(), 422, "{engine:?}");
        assert!(r
            .text()
            .await
            .unwrap()
            .contains(&en.field_error(&komlang_core::FieldError::new("active", "cannot_disable_self"))));
        assert!(signed_in(&app, &admin).await);

        // Tokens: issued with a label and an expiry, shown once, listed by prefix.
        let r = post(&app, &admin, &format!("{page}/tokens"), &[("label", "nightly sync"), ("expires", "30d")]).await;
        assert_eq!(r.status(), 200, "{engine:?}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = r.text().await.unwrap();
        let i = html.find("id=\"token-secret\">").unwrap() + "id=\"token-secret\">".len();
        let secret = html[i..].split('<').next().unwrap().to_string();
        assert!(secret.starts_with("kml_"), "{secret}");
        assert_eq!(api_status(&app, &secret).await, 200, "{engine:?}: the issued token does not work");
        let html = admin.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains(&secret), "{engine:?}: the secret is shown again");
        assert!(html.contains(&secret[..12]) && html.contains("nightly sync"), "{engine:?}");
        let r = post(&app, &admin, &format!("{page}/tokens"), &[("expires", "yesterday")]).await;
        assert_eq!(r.status(), 422, "{engine:?}");

        // Revoking one token, then all: 401 at once.
        let issued = store.tokens_of(&admin_p, officer_p.user_id).await.unwrap();
        let newest = issued[0].id;
        let r = post(&app, &admin, &format!("{page}/tokens/{newest}/revoke"), &[]).await;
        assert_eq!(r.status(), 303, "{engine:?}");
        assert_eq!(api_status(&app, &secret).await, 401, "{engine:?}: a revoked token works");
        assert_eq!(api_status(&app, &officer_token).await, 200);
        let r = post(&app, &admin, &format!("/accounts/{}/tokens/{newest}/revoke", admin_p.user_id), &[]).await;
        assert_eq!(r.status(), 404, "{engine:?}: a token revoked through another account");
        let r = post(&app, &admin, &format!("{page}/tokens/revoke"), &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(api_status(&app, &officer_token).await, 401, "{engine:?}");

        // An expired token answers 401.
        let t = store.create_token("officer").await.unwrap();
        assert_eq!(api_status(&app, &t).await, 200);
        sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE user_id = $1")
            .bind(officer_p.user_id)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(api_status(&app, &t).await, 401, "{engine:?}: an expired token works");

        // Signing the account out everywhere.
        login(&app, &officer, "officer").await;
        let r = post(&app, &admin, &format!("{page}/sessions/end"), &[]).await;
        assert_eq!(r.status(), 303);
        assert!(!signed_in(&app, &officer).await, "{engine:?}");

        // Every change is in the audit log.
        let audit = admin.get(app.url("/audit?entity=api_token")).send().await.unwrap().text().await.unwrap();
        assert!(audit.contains(&en.t("action.revoke")) && audit.contains(&en.t("entity.api_token")), "{engine:?}");
        let audit = admin.get(app.url("/audit?entity=user")).send().await.unwrap().text().await.unwrap();
        assert!(audit.contains(&en.t("action.end_sessions")) && audit.contains("sessions_ended"), "{engine:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn administrators_manage_accounts_in_the_api() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (admin, admin_token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (officer, officer_token) =
            app.account("officer", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let api = Client::new();
        let call = |method: reqwest::Method, path: String, token: &str, body: Option<Value>| {
            let mut rb = api.request(method, app.url(&path)).bearer_auth(token);
            if let Some(b) = body {
                rb = rb.json(&b);
            }
            async move {
                let r = rb.send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        use reqwest::Method;
        let (s, v) = call(Method::GET, "/api/v1/accounts".into(), &admin_token, None).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(call(Method::GET, "/api/v1/accounts".into(), &officer_token, None).await.0, 403);

        let id = officer.user_id;
        let (s, v) = call(
            Method::POST,
            format!("/api/v1/accounts/{id}/tokens"),
            &admin_token,
            Some(json!({"label": "etl", "expires": "12w"})),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        let secret = v["token"].as_str().unwrap().to_string();
        assert_eq!(v["label"], "etl");
        assert_eq!(api_status(&app, &secret).await, 200);
        let (s, v) = call(Method::GET, format!("/api/v1/accounts/{id}/tokens"), &admin_token, None).await;
        assert_eq!(s, 200);
        assert!(!v.to_string().contains(&secret), "{engine:?}: {v}");
        let tid = v[0]["id"].as_i64().unwrap();
        let (s, v) = call(Method::DELETE, format!("/api/v1/accounts/{id}/tokens/{tid}"), &admin_token, None).await;
        assert_eq!((s, v["state"].as_str()), (200, Some("revoked")), "{v}");
        assert_eq!(api_status(&app, &secret).await, 401, "{engine:?}");
        let (s, v) = call(
            Method::POST,
            format!("/api/v1/accounts/{id}/tokens"),
            &admin_token,
            Some(json!({"expires": "2001-01-01"})),
        )
        .await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["fields"][0]["code"], "expiry_in_past");

        let (s, v) = call(Method::POST, format!("/api/v1/accounts/{id}/disable"), &admin_token, None).await;
        assert_eq!((s, v["active"].as_bool()), (200, Some(false)), "{v}");
        assert_eq!(api_status(&app, &officer_token).await, 401, "{engine:?}");
        let (s, _) = call(Method::POST, format!("/api/v1/accounts/{id}/enable"), &admin_token, None).await;
        assert_eq!(s, 200);
        assert_eq!(api_status(&app, &officer_token).await, 200);
        let (s, v) =
            call(Method::POST, format!("/api/v1/accounts/{}/disable", admin.user_id), &admin_token, None).await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["fields"][0]["code"], "cannot_disable_self");

        let c = browser();
        login(&app, &c, "officer").await;
        let (s, v) = call(Method::DELETE, format!("/api/v1/accounts/{id}/sessions"), &admin_token, None).await;
        assert_eq!((s, v["ended"].as_u64()), (200, Some(1)), "{v}");
        assert!(!signed_in(&app, &c).await);
        let (s, v) = call(Method::DELETE, format!("/api/v1/accounts/{id}/tokens"), &admin_token, None).await;
        assert_eq!((s, v["revoked"].as_u64()), (200, Some(1)), "{v}");
        assert_eq!(api_status(&app, &officer_token).await, 401, "{engine:?}");
        assert_eq!(call(Method::GET, "/api/v1/accounts/999999".into(), &admin_token, None).await.0, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_attacker_cannot_lock_the_owner_out_of_a_known_browser() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let en = Texts::new(Locale::Km);
        // The owner has signed in from this browser before (it got a device cookie), then left.
        let owner = browser();
        login(&app, &owner, "admin").await;
        let r = post(&app, &owner, "/logout", &[]).await;
        assert_eq!(r.status(), 303);

        // From the same address (everything here comes from 127.0.0.1), an attacker guesses.
        let attacker = browser();
        let try_login = |c: &Client, password: &'static str| {
            let c = c.clone();
            let url = app.url("/login");
            async move {
                let token = csrf_of(&c.get(&url).send().await.unwrap().text().await.unwrap());
                let r = c
                    .post(&url)
                    .form(&form(&[("username", "admin"), ("password", password), ("csrf", &token), ("next", "/")]))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        for _ in 0..5 {
            let (s, body) = try_login(&attacker, "guess").await;
            assert_eq!(s, 401);
            assert!(body.contains(&en.t("login.invalid")), "{engine:?}");
        }
        // Brute force from that address is refused, even with the right password …
        let (s, body) = try_login(&attacker, PASSWORD).await;
        assert_eq!(s, 401, "{engine:?}: brute force from one address not refused");
        assert!(body.contains(&en.tp("login.locked", &[("minutes", "15".into())])), "{engine:?}: {body}");
        // … while the owner's known browser signs in.
        let (s, _) = try_login(&owner, PASSWORD).await;
        assert_eq!(s, 303, "{engine:?}: the owner was locked out by an attacker");
        assert!(signed_in(&app, &owner).await);
        app.stop().await;
    }
}
