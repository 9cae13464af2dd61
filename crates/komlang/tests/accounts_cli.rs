//! `komlang user` and `komlang token` for disabling accounts, signing them out and managing
//! API tokens, on every engine.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::{engines, TestDb};
use komlang_store::SessionRecord;

mod common;
use common::*;

#[tokio::test]
async fn accounts_and_tokens_from_the_command_line() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let url = db.url.clone();
        let store = &db.store;
        ok(&komlang(
            &url,
            &["user", "add", "--username", "root", "--password", "root password", "--role", "national-admin"],
        ));
        ok(&komlang(
            &url,
            &[
                "user",
                "add",
                "--username",
                "bob",
                "--password",
                "bob password",
                "--role",
                "provincial-officer",
                "--scope",
                "02",
            ],
        ));
        let bob = store.user_by_name("bob").await.unwrap().unwrap();
        let signed_in =
            SessionRecord { data: format!("{{\"uid\":{}}}", bob.id), expires_at: i64::MAX / 2, user_id: Some(bob.id) };

        // Tokens: a label and an expiry; listed by prefix, never in full.
        let token = ok(&komlang(
            &url,
            &["token", "create", "--username", "bob", "--label", "nightly sync", "--expires-in", "90d"],
        ));
        let token = token.trim().to_string();
        assert!(token.starts_with("kml_"), "{token}");
        let next_year = (chrono::Utc::now() + chrono::Duration::days(365)).format("%Y-%m-%d").to_string();
        let other = ok(&komlang(&url, &["token", "create", "--username", "bob", "--expires", &next_year]));
        let other = other.trim().to_string();
        let list = ok(&komlang(&url, &["token", "list", "--username", "bob"]));
        assert!(list.starts_with("ID"), "{list}");
        assert!(list.contains(&token[..12]) && list.contains("nightly sync") && list.contains("active"), "{list}");
        assert!(list.contains(&format!("{next_year}T00:00:00Z")), "{list}");
        assert!(!list.contains(&token) && !list.contains(&other), "{engine:?}: a secret is listed: {list}");
        bad_input(&komlang(&url, &["token", "create", "--username", "bob", "--expires-in", "soon"]), "invalid_expiry");
        bad_input(
            &komlang(&url, &["token", "create", "--username", "bob", "--expires", "2001-01-01"]),
            "expiry_in_past",
        );

        // Revoking one by its id, then all.
        let id = store.tokens_of(&komlang_store::system_principal("t"), bob.id).await.unwrap()[0].id;
        ok(&komlang(&url, &["token", "revoke", "--username", "bob", "--id", &id.to_string()]));
        assert!(store.principal_for_token(&other).await.unwrap().is_none(), "{engine:?}: revoked token works");
        assert!(store.principal_for_token(&token).await.unwrap().is_some());
        bad_input(&komlang(&url, &["token", "revoke", "--username", "root", "--id", &id.to_string()]), "unknown_token");
        let out = ok(&komlang(&url, &["token", "revoke", "--username", "bob", "--all"]));
        assert!(out.contains("1 token"), "{out}");
        assert!(store.principal_for_token(&token).await.unwrap().is_none(), "{engine:?}");
        let list = ok(&komlang(&url, &["token", "list", "--username", "bob"]));
        assert_eq!(list.lines().filter(|l| l.ends_with("revoked")).count(), 2, "{list}");

        // Signing out everywhere, and a password set from the command line, end sessions.
        assert!(store.session_create("bob-1", &signed_in).await.unwrap());
        let out = ok(&komlang(&url, &["user", "end-sessions", "--username", "bob"]));
        assert!(out.contains("1 session"), "{out}");
        assert!(store.session_load("bob-1", 0).await.unwrap().is_none(), "{engine:?}");
        assert!(store.session_create("bob-2", &signed_in).await.unwrap());
        ok(&komlang(&url, &["user", "set-password", "--username", "bob", "--password", "new bob password"]));
        assert!(store.session_load("bob-2", 0).await.unwrap().is_none(), "{engine:?}: session survived set-password");

        // Disabling: sessions end, tokens are refused, sign-in fails; enabling restores.
        let fresh = store.create_token("bob").await.unwrap();
        assert!(store.session_create("bob-3", &signed_in).await.unwrap());
        ok(&komlang(&url, &["user", "disable", "--username", "bob"]));
        assert!(store.session_load("bob-3", 0).await.unwrap().is_none(), "{engine:?}");
        assert!(store.principal_for_token(&fresh).await.unwrap().is_none(), "{engine:?}");
        let now = chrono::Utc::now().timestamp();
        assert_eq!(
            store.login("bob", "new bob password", "10.0.0.1", now).await.unwrap(),
            komlang_store::LoginOutcome::Invalid
        );
        let list = ok(&komlang(&url, &["user", "list"]));
        let line = list.lines().find(|l| l.starts_with("bob ")).unwrap();
        assert!(line.contains("disabled"), "{list}");
        ok(&komlang(&url, &["user", "enable", "--username", "bob"]));
        assert!(store.principal_for_token(&fresh).await.unwrap().is_some(), "{engine:?}");
        assert!(matches!(
            store.login("bob", "new bob password", "10.0.0.1", now).await.unwrap(),
            komlang_store::LoginOutcome::Ok(_)
        ));

        // The last active national administrator stays; unknown names are input errors.
        bad_input(&komlang(&url, &["user", "disable", "--username", "root"]), "last_national_admin");
        bad_input(&komlang(&url, &["user", "disable", "--username", "nobody"]), "unknown_user");
        bad_input(&komlang(&url, &["token", "list", "--username", "nobody"]), "unknown_user");
        db.cleanup().await;
    }
}
