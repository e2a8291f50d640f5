//! Identity through the services on every backend: lockout, one answer for unknown users and
//! wrong passwords, session idle and absolute expiry, sign-out, API token expiry, revocation and
//! disabled users, password changes, secrets stored only as hashes, the audit events of signing
//! in and out, and the audit chain detecting edited and deleted rows.
//!
//! Time is moved by rewriting timestamps in the database (`store.db().execute`), never by
//! sleeping.

use std::time::Duration;

use time::OffsetDateTime;
use wangge_domain::{AreaCode, AreaLevel, NewPassword, Role, Scope, Username};
use wangge_services::ServiceError;
use wangge_services::identity::{
    AuthError, Identity, LOCKOUT, MAX_FAILED_LOGINS, SESSION_ABSOLUTE, SESSION_IDLE, SignedIn, Via,
};
use wangge_store::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use wangge_store::page::PageRequest;
use wangge_store::params;
use wangge_store::{Store, StoreError};
use wangge_testkit::{TestStore, backends};

const PASSWORD: &str = "Identity-test-1";
const CITY: &str = "140100";

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn secs(d: Duration) -> time::Duration {
    time::Duration::try_from(d).expect("duration fits")
}

/// A city to assign users to, and the identity service.
async fn setup(t: &TestStore) -> Identity {
    t.store
        .create_area(
            &Scope::everything(),
            &wangge_store::areas::NewArea {
                code: AreaCode::parse(CITY).unwrap(),
                name: "太原市".into(),
                level: AreaLevel::City,
                parent_id: None,
                boundary: None,
            },
        )
        .await
        .expect("city");
    Identity::new(t.store.clone())
}

async fn user(id: &Identity, name: &str, role: Role) -> i64 {
    id.create_user(
        "test",
        &Username::parse(name).unwrap(),
        "测试用户",
        role,
        &[CITY.to_owned()],
        &NewPassword::parse(PASSWORD).unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("create user {name}: {e:?}"))
    .id
}

async fn sign_in(id: &Identity, b: &str, name: &str) -> SignedIn {
    match id.sign_in(name, PASSWORD, Some("192.0.2.7")).await {
        Ok(s) => s,
        Err(e) => panic!("[{b}] {name} should sign in: {e:?}"),
    }
}

fn session_id(s: &SignedIn) -> i64 {
    match s.caller.via {
        Via::Session { id, .. } => id,
        Via::Token { .. } => panic!("a sign-in gives a session"),
    }
}

/// Sets one timestamp column of one row (moving time for that row).
async fn set_time(store: &Store, table: &str, column: &str, id: i64, at: Option<OffsetDateTime>) {
    let n = store
        .db()
        .execute(
            &format!("UPDATE {table} SET {column} = ? WHERE id = ?"),
            &params![at, id],
        )
        .await
        .unwrap_or_else(|e| panic!("UPDATE {table}.{column}: {e}"));
    assert_eq!(n, 1, "UPDATE {table}.{column} WHERE id = {id}");
}

async fn get_time(store: &Store, table: &str, column: &str, id: i64) -> Option<OffsetDateTime> {
    store
        .db()
        .query_opt(
            &format!("SELECT {column} FROM {table} WHERE id = ?"),
            &params![id],
            |r| r.opt_timestamp(0),
        )
        .await
        .unwrap()
        .flatten()
}

async fn latest_token_id(store: &Store, user_id: i64) -> i64 {
    store
        .db()
        .query_opt(
            "SELECT id FROM api_tokens WHERE user_id = ? ORDER BY id DESC",
            &params![user_id],
            |r| r.int(0),
        )
        .await
        .unwrap()
        .expect("a token row")
}

async fn all_audit(store: &Store) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: 500,
    };
    loop {
        let p = store
            .audit_events(&AuditFilter::default(), &page)
            .await
            .unwrap();
        out.extend(p.items);
        match p.next {
            Some(c) => page.after = Some(c),
            None => break,
        }
    }
    out.sort_by_key(|e| e.id);
    out
}

fn has(events: &[AuditEvent], actor: &str, action: &str, outcome: &str) -> bool {
    events
        .iter()
        .any(|e| e.event.actor == actor && e.event.action == action && e.event.outcome == outcome)
}

// ---- Lockout --------------------------------------------------------------------------------

#[tokio::test]
async fn lockout_after_five_failures_lifts_when_the_lock_runs_out() {
    assert_eq!(MAX_FAILED_LOGINS, 5);
    assert_eq!(LOCKOUT, Duration::from_secs(15 * 60));
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        let uid = user(&id, "locky", Role::GridWorker).await;

        // A success in between resets the count: 4 + 4 failures lock nothing.
        for _ in 0..4 {
            let r = id.sign_in("locky", "Wrong-password-1", None).await;
            assert!(matches!(r, Err(AuthError::InvalidCredentials)), "[{b}]");
        }
        sign_in(&id, b, "locky").await;
        for i in 1..=4 {
            let r = id.sign_in("locky", "Wrong-password-1", None).await;
            assert!(
                matches!(r, Err(AuthError::InvalidCredentials)),
                "[{b}] failure {i} after a success must not lock"
            );
        }
        // The fifth consecutive failure locks for 15 minutes.
        let before = now();
        let until = match id.sign_in("locky", "Wrong-password-1", None).await {
            Err(AuthError::Locked { until }) => until,
            other => panic!("[{b}] 5th failure should lock, got {:?}", other.err()),
        };
        let len = until - before;
        assert!(
            len >= time::Duration::minutes(15) - time::Duration::seconds(5)
                && len <= time::Duration::minutes(15) + time::Duration::seconds(5),
            "[{b}] lock lasts {len}"
        );
        // The 6th attempt, with the right password, is still refused.
        let r = id.sign_in("locky", PASSWORD, None).await;
        assert!(
            matches!(r, Err(AuthError::Locked { .. })),
            "[{b}] right password while locked must stay locked, got {:?}",
            r.err()
        );
        // Time passes: the lock has run out.
        set_time(
            &t.store,
            "users",
            "locked_until",
            uid,
            Some(now() - time::Duration::seconds(1)),
        )
        .await;
        // A wrong password after the lock starts a fresh count rather than locking again.
        let r = id.sign_in("locky", "Wrong-password-1", None).await;
        assert!(
            matches!(r, Err(AuthError::InvalidCredentials)),
            "[{b}] first failure after an expired lock, got {:?}",
            r.err()
        );
        let s = sign_in(&id, b, "locky").await;
        assert!(id.session(&s.token).await.unwrap().is_some(), "[{b}]");
        let u = t.store.user(uid).await.unwrap();
        assert_eq!(u.failed_logins, 0, "[{b}] success clears failures");
        assert!(u.locked_until.is_none(), "[{b}] success clears the lock");
    }
}

#[tokio::test]
async fn unknown_user_wrong_password_and_disabled_user_get_the_same_error() {
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        user(&id, "known", Role::CommunityStaff).await;
        user(&id, "gone", Role::CommunityStaff).await;
        id.disable_user("test", &Username::parse("gone").unwrap())
            .await
            .unwrap();
        for (who, pw) in [
            ("nobody", PASSWORD),
            ("nobody", "Wrong-password-1"),
            ("known", "Wrong-password-1"),
            ("gone", PASSWORD),
            ("Not a valid name!", PASSWORD),
            ("", ""),
        ] {
            let r = id.sign_in(who, pw, None).await;
            assert!(
                matches!(r, Err(AuthError::InvalidCredentials)),
                "[{b}] {who:?}: expected InvalidCredentials, got {:?}",
                r.err()
            );
        }
        // Unknown users never lock (nothing to lock) and keep the same answer.
        for _ in 0..7 {
            let r = id.sign_in("nobody", "Wrong-password-1", None).await;
            assert!(matches!(r, Err(AuthError::InvalidCredentials)), "[{b}]");
        }
        // User names are case-insensitive.
        assert!(id.sign_in("KNOWN", PASSWORD, None).await.is_ok(), "[{b}]");
    }
}

// ---- Sessions -------------------------------------------------------------------------------

#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely_and_slide_while_used() {
    assert_eq!(SESSION_IDLE, Duration::from_secs(30 * 60));
    assert_eq!(SESSION_ABSOLUTE, Duration::from_secs(12 * 60 * 60));
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        user(&id, "walker", Role::GridWorker).await;

        // A new session ends 12 hours after it starts, whatever happens.
        let s = sign_in(&id, b, "walker").await;
        let sid = session_id(&s);
        let created = get_time(&t.store, "sessions", "created_at", sid)
            .await
            .unwrap();
        let expires = get_time(&t.store, "sessions", "expires_at", sid)
            .await
            .unwrap();
        let abs = expires - created;
        assert!(
            (abs - secs(SESSION_ABSOLUTE)).abs() < time::Duration::seconds(5),
            "[{b}] absolute lifetime {abs}"
        );
        let c = id.session(&s.token).await.unwrap().expect("live session");
        assert_eq!(c.username, "walker", "[{b}]");
        assert_eq!(c.role, Role::GridWorker, "[{b}]");
        assert!(id.session("not-a-token").await.unwrap().is_none(), "[{b}]");

        // Idle 29 minutes: still live, and use slides the idle window.
        set_time(
            &t.store,
            "sessions",
            "last_seen_at",
            sid,
            Some(now() - time::Duration::minutes(29)),
        )
        .await;
        assert!(
            id.session(&s.token).await.unwrap().is_some(),
            "[{b}] 29 min"
        );
        let seen = get_time(&t.store, "sessions", "last_seen_at", sid)
            .await
            .unwrap();
        assert!(
            now() - seen < time::Duration::minutes(1),
            "[{b}] use should move last_seen_at forward, it is {seen}"
        );

        // Idle 31 minutes: gone, and stays gone.
        set_time(
            &t.store,
            "sessions",
            "last_seen_at",
            sid,
            Some(now() - time::Duration::minutes(31)),
        )
        .await;
        assert!(id.session(&s.token).await.unwrap().is_none(), "[{b}] idle");
        set_time(&t.store, "sessions", "last_seen_at", sid, Some(now())).await;
        assert!(
            id.session(&s.token).await.unwrap().is_none(),
            "[{b}] an idle-expired session must be revoked, not merely skipped"
        );

        // Absolute expiry, even while in use.
        let s = sign_in(&id, b, "walker").await;
        let sid = session_id(&s);
        assert!(id.session(&s.token).await.unwrap().is_some(), "[{b}]");
        set_time(
            &t.store,
            "sessions",
            "expires_at",
            sid,
            Some(now() - time::Duration::seconds(1)),
        )
        .await;
        assert!(
            id.session(&s.token).await.unwrap().is_none(),
            "[{b}] absolute"
        );
    }
}

#[tokio::test]
async fn sign_out_revokes_the_session_only() {
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        user(&id, "leaver", Role::GridWorker).await;
        let one = sign_in(&id, b, "leaver").await;
        let two = sign_in(&id, b, "leaver").await;
        id.sign_out(&one.caller).await.unwrap();
        assert!(id.session(&one.token).await.unwrap().is_none(), "[{b}]");
        assert!(
            id.session(&two.token).await.unwrap().is_some(),
            "[{b}] other sessions live on"
        );
    }
}

#[tokio::test]
async fn password_change_checks_the_old_one_applies_the_policy_and_ends_sessions() {
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        user(&id, "changer", Role::GridWorker).await;
        let s = sign_in(&id, b, "changer").await;
        let other = sign_in(&id, b, "changer").await;
        match id
            .change_password(&s.caller, "Wrong-password-1", "New-password-22")
            .await
        {
            Err(ServiceError::Invalid(e)) => {
                assert_eq!(e[0].field, "old_password", "[{b}]");
                assert_eq!(e[0].code, "password.wrong", "[{b}]");
            }
            other => panic!("[{b}] wrong old password: {other:?}"),
        }
        for weak in ["short1A!", "alllowercaseletters"] {
            match id.change_password(&s.caller, PASSWORD, weak).await {
                Err(ServiceError::Invalid(e)) => assert_eq!(e[0].field, "new_password", "[{b}]"),
                other => panic!("[{b}] weak new password accepted: {other:?}"),
            }
        }
        id.change_password(&s.caller, PASSWORD, "New-password-22")
            .await
            .unwrap();
        assert!(id.session(&other.token).await.unwrap().is_none(), "[{b}]");
        assert!(
            matches!(
                id.sign_in("changer", PASSWORD, None).await,
                Err(AuthError::InvalidCredentials)
            ),
            "[{b}] old password still works"
        );
        assert!(
            id.sign_in("changer", "New-password-22", None).await.is_ok(),
            "[{b}]"
        );
    }
}

// ---- API tokens -----------------------------------------------------------------------------

#[tokio::test]
async fn tokens_expire_can_be_revoked_and_die_with_their_user() {
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        let uid = user(&id, "robot", Role::DistrictManager).await;
        let name = Username::parse("robot").unwrap();
        let hour = Duration::from_secs(3600);

        let (tok, expires) = id.create_token("test", &name, "ci", hour).await.unwrap();
        assert!(tok.starts_with("wg_"), "[{b}]");
        assert!(
            (expires - now() - time::Duration::hours(1)).abs() < time::Duration::seconds(5),
            "[{b}]"
        );
        let c = id.bearer(&tok, None).await.unwrap().expect("live token");
        assert_eq!(c.user_id, uid, "[{b}]");
        assert!(matches!(c.via, Via::Token { .. }), "[{b}]");
        // The token is scoped like its user, tag classes included.
        assert!(c.scope.contains(&t.store.root_paths().await.unwrap()[0]));
        assert_eq!(c.scope.tag_classes(), Role::DistrictManager.tag_classes());
        assert!(id.bearer(&tok[3..], None).await.unwrap().is_none(), "[{b}]");
        assert!(
            id.bearer(&format!("{tok}x"), None).await.unwrap().is_none(),
            "[{b}]"
        );

        // Expired.
        let tid = latest_token_id(&t.store, uid).await;
        set_time(
            &t.store,
            "api_tokens",
            "expires_at",
            tid,
            Some(now() - time::Duration::seconds(1)),
        )
        .await;
        assert!(
            id.bearer(&tok, None).await.unwrap().is_none(),
            "[{b}] expired"
        );

        // Revoked.
        let (tok2, _) = id.create_token("test", &name, "ci2", hour).await.unwrap();
        let tid2 = latest_token_id(&t.store, uid).await;
        assert!(id.bearer(&tok2, None).await.unwrap().is_some(), "[{b}]");
        t.store.revoke_api_token(tid2).await.unwrap();
        assert!(
            id.bearer(&tok2, None).await.unwrap().is_none(),
            "[{b}] revoked"
        );
        assert!(
            matches!(
                t.store.revoke_api_token(tid2).await,
                Err(StoreError::NotFound)
            ),
            "[{b}] revoking twice"
        );

        // A disabled user's tokens and sessions end, and no new token is issued.
        let (tok3, _) = id.create_token("test", &name, "ci3", hour).await.unwrap();
        let s = sign_in(&id, b, "robot").await;
        assert!(id.bearer(&tok3, None).await.unwrap().is_some(), "[{b}]");
        id.disable_user("test", &name).await.unwrap();
        assert!(
            id.bearer(&tok3, None).await.unwrap().is_none(),
            "[{b}] disabled"
        );
        assert!(
            id.session(&s.token).await.unwrap().is_none(),
            "[{b}] disabled"
        );
        assert!(
            matches!(
                id.create_token("test", &name, "ci4", hour).await,
                Err(ServiceError::Conflict { .. })
            ),
            "[{b}] token for a disabled user"
        );
    }
}

#[tokio::test]
async fn secrets_are_stored_only_as_hashes() {
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        let uid = user(&id, "hashed", Role::GridWorker).await;
        let s = sign_in(&id, b, "hashed").await;
        let (tok, _) = id
            .create_token(
                "test",
                &Username::parse("hashed").unwrap(),
                "x",
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        let hash: String = t
            .store
            .db()
            .query_opt(
                "SELECT password_hash FROM users WHERE id = ?",
                &params![uid],
                |r| r.text(0),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "[{b}] {hash}");
        assert!(!hash.contains(PASSWORD), "[{b}]");
        let session_hashes: Vec<Vec<u8>> = t
            .store
            .db()
            .query("SELECT token_hash FROM sessions", &[], |r| r.blob(0))
            .await
            .unwrap();
        let token_hashes: Vec<Vec<u8>> = t
            .store
            .db()
            .query("SELECT token_hash FROM api_tokens", &[], |r| r.blob(0))
            .await
            .unwrap();
        assert_eq!(session_hashes.len(), 1, "[{b}]");
        assert_eq!(token_hashes.len(), 1, "[{b}]");
        for h in session_hashes.iter().chain(&token_hashes) {
            assert_ne!(h.as_slice(), s.token.as_bytes(), "[{b}]");
            assert_ne!(h.as_slice(), tok.as_bytes(), "[{b}]");
            let text = String::from_utf8_lossy(h);
            assert!(!text.contains(&s.token) && !text.contains(&tok), "[{b}]");
        }
    }
}

// ---- The audit trail ------------------------------------------------------------------------

#[tokio::test]
async fn signing_in_and_out_and_token_use_are_audited() {
    for t in backends().await {
        let b = t.name;
        let id = setup(&t).await;
        user(&id, "audited", Role::GridWorker).await;
        user(&id, "victim", Role::GridWorker).await;

        let s = id
            .sign_in("audited", PASSWORD, Some("198.51.100.4"))
            .await
            .unwrap();
        let _ = id.sign_in("audited", "Wrong-password-1", None).await;
        let _ = id.sign_in("nobody", "Wrong-password-1", None).await;
        for _ in 0..5 {
            let _ = id.sign_in("victim", "Wrong-password-1", None).await;
        }
        let _ = id.sign_in("victim", PASSWORD, None).await;
        id.sign_out(&s.caller).await.unwrap();
        let (tok, _) = id
            .create_token(
                "test",
                &Username::parse("audited").unwrap(),
                "x",
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        id.bearer(&tok, Some("203.0.113.9")).await.unwrap().unwrap();

        let ev = all_audit(&t.store).await;
        let listing: Vec<String> = ev
            .iter()
            .map(|e| format!("{} {} {}", e.event.actor, e.event.action, e.event.outcome))
            .collect();
        for (actor, action, outcome) in [
            ("audited", "auth.login", "ok"),
            ("audited", "auth.login", "failed"),
            ("unknown", "auth.login", "failed"),
            ("victim", "auth.login", "failed"),
            ("victim", "auth.lockout", "locked"),
            ("victim", "auth.login", "locked"),
            ("audited", "auth.logout", "ok"),
            ("audited", "auth.token_use", "ok"),
        ] {
            assert!(
                has(&ev, actor, action, outcome),
                "[{b}] no audit event {actor} {action} {outcome} in {listing:#?}"
            );
        }
        let login = ev
            .iter()
            .find(|e| e.event.action == "auth.login" && e.event.outcome == "ok")
            .unwrap();
        assert_eq!(
            login.event.client_addr.as_deref(),
            Some("198.51.100.4"),
            "[{b}] client address of a sign-in"
        );
        assert_eq!(login.event.role.as_deref(), Some("grid_worker"), "[{b}]");
        let use_ = ev
            .iter()
            .find(|e| e.event.action == "auth.token_use")
            .unwrap();
        assert_eq!(
            use_.event.object_type.as_deref(),
            Some("api_token"),
            "[{b}]"
        );
        assert_eq!(
            use_.event.client_addr.as_deref(),
            Some("203.0.113.9"),
            "[{b}]"
        );
        // Passwords typed into the wrong box never reach the trail.
        for e in &ev {
            let row = format!("{:?}", e.event);
            assert!(
                !row.contains(PASSWORD) && !row.contains("Wrong-password-1"),
                "[{b}] {row}"
            );
        }
        let check = t.store.verify_audit().await.unwrap();
        assert_eq!(check.first_broken, None, "[{b}]");
        assert_eq!(check.checked, ev.len() as u64, "[{b}]");
    }
}

#[tokio::test]
async fn audit_chain_names_an_edited_or_deleted_row() {
    for t in backends().await {
        let b = t.name;
        let store = &t.store;
        let empty = store.verify_audit().await.unwrap();
        assert_eq!(empty.first_broken, None, "[{b}] empty trail");
        for i in 1..=6 {
            store
                .append_audit(&NewAuditEvent {
                    actor: format!("user{i}"),
                    role: Some("grid_worker".into()),
                    action: "person.reveal".into(),
                    object_type: Some("person".into()),
                    object_id: Some(i),
                    reason: Some("入户核查".into()),
                    outcome: "200".into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let ok = store.verify_audit().await.unwrap();
        assert_eq!(ok.first_broken, None, "[{b}]");
        assert_eq!(ok.checked, 6, "[{b}]");

        // One edited field in row 3.
        store
            .db()
            .execute(
                "UPDATE audit_events SET actor = 'mallory' WHERE id = 3",
                &[],
            )
            .await
            .unwrap();
        let broken = store.verify_audit().await.unwrap();
        assert!(
            matches!(broken.first_broken, Some((3, _))),
            "[{b}] edited row 3: {broken:?}"
        );
        // Put it back: the chain is whole again.
        store
            .db()
            .execute("UPDATE audit_events SET actor = 'user3' WHERE id = 3", &[])
            .await
            .unwrap();
        assert_eq!(
            store.verify_audit().await.unwrap().first_broken,
            None,
            "[{b}]"
        );

        // An edited reason, the field that carries the most meaning.
        store
            .db()
            .execute(
                "UPDATE audit_events SET reason = '例行检查' WHERE id = 4",
                &[],
            )
            .await
            .unwrap();
        assert!(
            matches!(
                store.verify_audit().await.unwrap().first_broken,
                Some((4, _))
            ),
            "[{b}] edited reason"
        );
        store
            .db()
            .execute(
                "UPDATE audit_events SET reason = '入户核查' WHERE id = 4",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            store.verify_audit().await.unwrap().first_broken,
            None,
            "[{b}]"
        );

        // The last row removed.
        store
            .db()
            .execute("DELETE FROM audit_events WHERE id = 6", &[])
            .await
            .unwrap();
        let tail = store.verify_audit().await.unwrap();
        assert!(
            matches!(tail.first_broken, Some((6, _))),
            "[{b}] deleted last row: {tail:?}"
        );

        // A middle row removed: the row after the gap is named.
        store
            .db()
            .execute("DELETE FROM audit_events WHERE id = 2", &[])
            .await
            .unwrap();
        let gap = store.verify_audit().await.unwrap();
        assert!(
            matches!(gap.first_broken, Some((3, _))),
            "[{b}] deleted middle row: {gap:?}"
        );
    }
}
