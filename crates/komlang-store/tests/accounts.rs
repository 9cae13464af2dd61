//! Accounts on every engine: a password change ends the account's other sessions, disabled
//! accounts, API tokens (expiry, revocation, listing without the secret), and a lockout that
//! an attacker cannot turn against the owner.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_core::*;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{
    system_principal, AuditQuery, LoginOutcome, LoginRequest, NewToken, NewUser, SessionRecord, StoreError, TokenState,
    MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_USER,
};

const PASSWORD: &str = "correct horse";
const NOW: i64 = 1_800_000_000;

async fn account(db: &TestDb, username: &str, role: UserRole, scope: Option<&str>) -> Principal {
    let u = db
        .store
        .create_user(
            &system_principal("test"),
            &NewUser {
                username: username.into(),
                password: PASSWORD.into(),
                role,
                scope_code: scope.map(String::from),
                org_id: None,
                worker_id: None,
            },
        )
        .await
        .unwrap();
    db.store.principal_for_user(u.id).await.unwrap().unwrap()
}

/// Stores a signed-in session of `user_id` as the web layer does.
async fn session(db: &TestDb, id: &str, user_id: i64) {
    let rec =
        SessionRecord { data: format!("{{\"uid\":{user_id}}}"), expires_at: i64::MAX / 2, user_id: Some(user_id) };
    assert!(db.store.session_create(id, &rec).await.unwrap());
}

async fn live(db: &TestDb, id: &str) -> bool {
    db.store.session_load(id, NOW).await.unwrap().is_some()
}

async fn audit(db: &TestDb, entity: &str, action: &str) -> Vec<komlang_store::AuditEntry> {
    let q = AuditQuery {
        entity: Some(entity.into()),
        action: Some(action.into()),
        page: 1,
        per_page: 100,
        ..Default::default()
    };
    db.store.list_audit(&system_principal("test"), &q).await.unwrap().items
}

fn ok(o: LoginOutcome) -> bool {
    matches!(o, LoginOutcome::Ok(_))
}

fn locked(o: LoginOutcome) -> bool {
    matches!(o, LoginOutcome::Locked(_))
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = account(&db, "admin", UserRole::NationalAdmin, None).await;
        let officer = account(&db, "officer", UserRole::ProvincialOfficer, Some("02")).await;
        session(&db, "officer-laptop", officer.user_id).await;
        session(&db, "officer-phone", officer.user_id).await;
        session(&db, "admin-desk", admin.user_id).await;

        // Changing one's own password keeps the session it is changed from, and only that.
        let ended =
            db.store.change_password(&officer, "officer", "new password 1", Some("officer-laptop")).await.unwrap();
        assert_eq!(ended, 1, "{engine:?}");
        assert!(live(&db, "officer-laptop").await, "{engine:?}: the session changing the password ended");
        assert!(!live(&db, "officer-phone").await, "{engine:?}: another session survived a password change");
        assert!(live(&db, "admin-desk").await, "{engine:?}: someone else's session ended");

        // An administrator resetting someone's password ends all of their sessions, whatever
        // session the administrator names.
        session(&db, "officer-phone", officer.user_id).await;
        let ended =
            db.store.change_password(&admin, "officer", "new password 2", Some("officer-laptop")).await.unwrap();
        assert_eq!(ended, 2, "{engine:?}");
        assert!(!live(&db, "officer-laptop").await && !live(&db, "officer-phone").await, "{engine:?}");
        assert!(live(&db, "admin-desk").await, "{engine:?}");
        // The command line's set_password does the same.
        session(&db, "officer-laptop", officer.user_id).await;
        db.store.set_password(&system_principal("cli"), "officer", "new password 3").await.unwrap();
        assert!(!live(&db, "officer-laptop").await, "{engine:?}");
        assert!(ok(db.store.login("officer", "new password 3", "10.0.0.1", NOW).await.unwrap()));

        let entries = audit(&db, "user", "update").await;
        assert_eq!(entries.len(), 3, "{engine:?}: {entries:?}");
        assert!(entries.iter().all(|e| e.after.as_ref().unwrap()["password"] == "changed"));
        assert!(!serde_json::to_string(&entries).unwrap().contains("new password"), "{engine:?}");

        // A session deleted meanwhile is not brought back by a request that saves it.
        let rec = SessionRecord { data: "{}".into(), expires_at: i64::MAX / 2, user_id: Some(officer.user_id) };
        db.store.session_save("officer-laptop", &rec).await.unwrap();
        assert!(!live(&db, "officer-laptop").await, "{engine:?}: saving an ended session re-created it");

        // Ending sessions: the administrator's own current one stays, anyone else's all go.
        session(&db, "officer-laptop", officer.user_id).await;
        session(&db, "admin-laptop", admin.user_id).await;
        assert_eq!(db.store.end_sessions(&admin, officer.user_id, Some("officer-laptop")).await.unwrap(), 1);
        assert_eq!(db.store.end_sessions(&admin, admin.user_id, Some("admin-desk")).await.unwrap(), 1);
        assert!(live(&db, "admin-desk").await && !live(&db, "admin-laptop").await, "{engine:?}");
        assert!(matches!(db.store.end_sessions(&officer, admin.user_id, None).await, Err(StoreError::Forbidden)));
        assert_eq!(audit(&db, "user", "end_sessions").await.len(), 2, "{engine:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_loses_sessions_and_tokens() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = account(&db, "admin", UserRole::NationalAdmin, None).await;
        let officer = account(&db, "officer", UserRole::ProvincialOfficer, Some("02")).await;
        let token = db.store.create_token("officer").await.unwrap();
        session(&db, "officer-laptop", officer.user_id).await;
        assert!(db.store.principal_for_token(&token).await.unwrap().is_some());

        let row = db.store.set_active(&admin, officer.user_id, false).await.unwrap();
        assert!(!row.active);
        assert!(!live(&db, "officer-laptop").await, "{engine:?}: a disabled account's session survived");
        assert!(db.store.principal_for_token(&token).await.unwrap().is_none(), "{engine:?}: token still works");
        assert!(db.store.principal_for_user(officer.user_id).await.unwrap().is_none());
        assert_eq!(db.store.login("officer", PASSWORD, "10.0.0.1", NOW).await.unwrap(), LoginOutcome::Invalid);
        let listed = db.store.accounts(&admin, NOW).await.unwrap();
        assert!(!listed.iter().find(|a| a.username == "officer").unwrap().active);

        // Enabled again: its password and its (unrevoked) tokens work again.
        db.store.set_active(&admin, officer.user_id, true).await.unwrap();
        assert!(ok(db.store.login("officer", PASSWORD, "10.0.0.1", NOW).await.unwrap()), "{engine:?}");
        assert!(db.store.principal_for_token(&token).await.unwrap().is_some());
        let entries = audit(&db, "user", "update").await;
        assert_eq!(entries.len(), 2, "{engine:?}: {entries:?}");
        assert_eq!(entries.iter().filter(|e| e.after.as_ref().unwrap()["active"] == false).count(), 1);

        // Nobody disables themself, nor the last active national administrator.
        let refused = |r: Result<komlang_store::UserRow, StoreError>, code: &str| match r {
            Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("active").unwrap().code, code, "{engine:?}"),
            other => panic!("{engine:?}: {other:?}"),
        };
        refused(db.store.set_active(&admin, admin.user_id, false).await, "cannot_disable_self");
        refused(db.store.set_active(&system_principal("cli"), admin.user_id, false).await, "last_national_admin");
        let second = account(&db, "admin2", UserRole::NationalAdmin, None).await;
        db.store.set_active(&second, admin.user_id, false).await.unwrap();
        refused(db.store.set_active(&system_principal("cli"), second.user_id, false).await, "last_national_admin");
        assert!(matches!(db.store.set_active(&officer, second.user_id, false).await, Err(StoreError::Forbidden)));
        assert!(matches!(db.store.set_active(&second, 999_999, false).await, Err(StoreError::NotFound)));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn tokens_are_listed_without_their_secret_and_stop_when_expired_or_revoked() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = account(&db, "admin", UserRole::NationalAdmin, None).await;
        let officer = account(&db, "officer", UserRole::ProvincialOfficer, Some("02")).await;
        let in_90_days = chrono::Utc::now() + chrono::Duration::days(90);
        let a = db
            .store
            .issue_token(
                &admin,
                officer.user_id,
                &NewToken { label: Some("sync".into()), expires_at: Some(in_90_days) },
            )
            .await
            .unwrap();
        let b = db.store.issue_token(&admin, officer.user_id, &NewToken::default()).await.unwrap();
        assert!(a.token.starts_with(a.info.prefix.as_deref().unwrap()), "{engine:?}");
        assert_eq!(a.info.prefix.as_deref().unwrap().len(), 12);
        assert_eq!(a.info.label.as_deref(), Some("sync"));
        assert!(a.info.expires_at.as_deref().unwrap().starts_with(&in_90_days.format("%Y-%m-%d").to_string()));
        assert_eq!(b.info.expires_at, None);

        let p = db.store.principal_for_token(&a.token).await.unwrap().expect("a new token works");
        assert_eq!(p.user_id, officer.user_id);
        let listed = db.store.tokens_of(&admin, officer.user_id).await.unwrap();
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![b.info.id, a.info.id], "{engine:?}");
        assert!(listed[1].last_used_at.is_some(), "{engine:?}: last use not noted");
        let json = serde_json::to_string(&listed).unwrap();
        assert!(!json.contains(&a.token) && !json.contains(&b.token), "{engine:?}: a secret is listed");

        // Expired (backdated in the database): refused, and listed as expired.
        sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE id = $1")
            .bind(a.info.id)
            .execute(db.store.pool())
            .await
            .unwrap();
        assert!(db.store.principal_for_token(&a.token).await.unwrap().is_none(), "{engine:?}: expired token works");
        let listed = db.store.tokens_of(&admin, officer.user_id).await.unwrap();
        assert_eq!(listed[1].state, TokenState::Expired);
        assert_eq!(
            db.store.accounts(&admin, NOW).await.unwrap().iter().find(|r| r.username == "officer").unwrap().tokens,
            1
        );

        // Revoked: refused; revoking again changes nothing; another account's token is not found.
        let r = db.store.revoke_token(&admin, officer.user_id, b.info.id).await.unwrap();
        assert_eq!(r.state, TokenState::Revoked);
        assert!(db.store.principal_for_token(&b.token).await.unwrap().is_none(), "{engine:?}: revoked token works");
        db.store.revoke_token(&admin, officer.user_id, b.info.id).await.unwrap();
        assert!(matches!(db.store.revoke_token(&admin, admin.user_id, b.info.id).await, Err(StoreError::NotFound)));
        assert_eq!(audit(&db, "api_token", "revoke").await.len(), 1, "{engine:?}");

        // Revoking all.
        let c = db.store.issue_token(&admin, officer.user_id, &NewToken::default()).await.unwrap();
        let d = db.store.issue_token(&admin, officer.user_id, &NewToken::default()).await.unwrap();
        assert_eq!(db.store.revoke_all_tokens(&admin, officer.user_id).await.unwrap(), 3, "{engine:?}");
        for t in [&c.token, &d.token] {
            assert!(db.store.principal_for_token(t).await.unwrap().is_none());
        }
        assert_eq!(audit(&db, "api_token", "revoke").await.len(), 4, "{engine:?}");
        assert_eq!(audit(&db, "api_token", "create").await.len(), 4, "{engine:?}");

        // Refused: a past expiry, a long label, someone who does not manage accounts.
        let past = NewToken { label: None, expires_at: Some(chrono::Utc::now() - chrono::Duration::days(1)) };
        assert!(matches!(db.store.issue_token(&admin, officer.user_id, &past).await, Err(StoreError::Invalid(_))));
        let long = NewToken { label: Some("x".repeat(101)), expires_at: None };
        assert!(matches!(db.store.issue_token(&admin, officer.user_id, &long).await, Err(StoreError::Invalid(_))));
        assert!(matches!(
            db.store.issue_token(&officer, officer.user_id, &NewToken::default()).await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(db.store.tokens_of(&officer, officer.user_id).await, Err(StoreError::Forbidden)));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_attacker_locks_only_their_own_address_out() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = account(&db, "admin", UserRole::NationalAdmin, None).await;
        let attempt = |password: &str, ip: &str, device: Option<&str>, now: i64| {
            let (store, password, ip, device) =
                (db.store.clone(), password.to_string(), ip.to_string(), device.map(String::from));
            async move {
                let r =
                    LoginRequest { username: "admin", password: &password, ip: &ip, device: device.as_deref(), now };
                store.login_from(&r).await.unwrap()
            }
        };
        // The owner signs in once from their browser, which becomes a known device.
        assert!(ok(attempt(PASSWORD, "10.0.0.1", None, NOW).await));
        let device = db.store.remember_device(admin.user_id, None, NOW).await.unwrap();
        let device = device.as_str();
        // The browser keeps its cookie when it signs in again; a value Komlang never issued
        // (planted by someone else) is replaced, not adopted.
        assert_eq!(db.store.remember_device(admin.user_id, Some(device), NOW).await.unwrap(), device);
        let planted = "cd".repeat(32);
        assert_ne!(db.store.remember_device(admin.user_id, Some(&planted), NOW).await.unwrap(), planted);

        // An attacker at 203.0.113.9 guesses: after 5 failures that address is locked out of
        // the account, even with the right password (brute force from one address is refused).
        for _ in 0..MAX_FAILURES_PER_USER {
            assert_eq!(attempt("guess", "203.0.113.9", None, NOW + 1).await, LoginOutcome::Invalid);
        }
        assert!(locked(attempt(PASSWORD, "203.0.113.9", None, NOW + 2).await), "{engine:?}");
        // The owner, from another address, still signs in …
        assert!(ok(attempt(PASSWORD, "10.0.0.1", None, NOW + 3).await), "{engine:?}: owner locked out");
        // … and so does their known browser, even from the attacker's address (a shared NAT).
        assert!(ok(attempt(PASSWORD, "203.0.113.9", Some(device), NOW + 4).await), "{engine:?}");
        // A device cookie of another account, or a made-up one, does not exempt.
        assert!(locked(attempt(PASSWORD, "203.0.113.9", Some(&"ab".repeat(32)), NOW + 5).await), "{engine:?}");

        // Guessing from many addresses locks the account for every client without a device
        // cookie of it, not for the owner's known browser.
        for i in 0..MAX_FAILURES_PER_ACCOUNT {
            attempt("guess", &format!("198.51.100.{i}"), None, NOW + 10).await;
        }
        assert!(locked(attempt(PASSWORD, "10.0.0.2", None, NOW + 11).await), "{engine:?}: distributed guessing");
        assert!(ok(attempt(PASSWORD, "10.0.0.2", Some(device), NOW + 12).await), "{engine:?}: known device refused");

        // Guessing from a known device is limited too (a stolen device cookie).
        for _ in 0..5 {
            assert_eq!(attempt("guess", "10.0.0.3", Some(device), NOW + 20).await, LoginOutcome::Invalid);
        }
        assert!(locked(attempt(PASSWORD, "10.0.0.3", Some(device), NOW + 21).await), "{engine:?}");

        // Everything unlocks after the window; the last sign-in is noted.
        assert!(ok(attempt(PASSWORD, "203.0.113.9", None, NOW + 16 * 60 + 30).await), "{engine:?}");
        let me = db.store.user_by_name("admin").await.unwrap().unwrap();
        assert!(me.last_login_at.is_some());
        db.cleanup().await;
    }
}
