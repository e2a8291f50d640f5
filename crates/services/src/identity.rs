//! Sign-in and who the caller is: Argon2id passwords with lockout, sessions with idle and
//! absolute expiry, expiring API tokens, and the caller's scope (their areas, the tag classes
//! their role sees). Every sign-in event goes to the audit trail.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore;
use time::OffsetDateTime;
use wangge_domain::{NewPassword, Role, Scope, Username};
use wangge_store::audit::NewAuditEvent;
use wangge_store::identity::{NewUser, User};
use wangge_store::{Store, StoreError};

use crate::{FieldError, ServiceError};

pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// Last-seen times are written at most this often: a read request should not cost a write.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
pub const TOKEN_PREFIX: &str = "wg_";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session { id: i64, csrf_token: String },
    Token { id: i64 },
}

/// An authenticated caller. Handlers take their scope from here and nowhere else.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub via: Via,
}

impl Caller {
    fn new(user: &User, via: Via) -> Self {
        Caller {
            user_id: user.id,
            username: user.username.as_str().to_owned(),
            display_name: user.display_name.clone(),
            role: user.role,
            scope: Scope::of(user.areas.iter().cloned()).with_tag_classes(user.role.tag_classes()),
            via,
        }
    }

    /// An audit event by this caller.
    pub fn event(&self, action: &str, outcome: &str) -> NewAuditEvent {
        NewAuditEvent {
            actor_id: Some(self.user_id),
            actor: self.username.clone(),
            role: Some(self.role.as_str().to_owned()),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            ..Default::default()
        }
    }
}

#[derive(Debug)]
pub enum AuthError {
    /// Unknown user, wrong password or disabled account: one answer for all.
    InvalidCredentials,
    Locked {
        until: OffsetDateTime,
    },
    Store(StoreError),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        AuthError::Store(e)
    }
}

pub struct SignedIn {
    pub token: String,
    pub caller: Caller,
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    B64.encode(bytes)
}

fn secret_hash(secret: &str) -> Vec<u8> {
    blake3::hash(secret.as_bytes()).as_bytes().to_vec()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Argon2id with the crate's defaults (OWASP's minimum), off the async threads.
pub async fn hash_password(password: &NewPassword) -> Result<String, ServiceError> {
    let pw = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| ServiceError::Store(StoreError::Backend("password hashing failed".into())))
    })
    .await
    .map_err(|_| ServiceError::Store(StoreError::Backend("password hashing task failed".into())))?
}

async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a password nobody has, so that an unknown user costs the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0yJ1Qf3T3Gz7oQdNnM6fXq3h8r6C3b5W7Wk6fQ0mC2I";

#[derive(Clone)]
pub struct Identity {
    store: Store,
    audit: crate::audit_writer::AuditWriter,
}

impl Identity {
    pub fn new(store: Store) -> Self {
        Identity {
            audit: crate::audit_writer::AuditWriter::new(store.clone()),
            store,
        }
    }

    pub async fn audit(&self, event: NewAuditEvent) -> Result<(), StoreError> {
        self.audit.write(event).await
    }

    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<&str>,
    ) -> Result<SignedIn, AuthError> {
        let anonymous = |outcome: &str| NewAuditEvent {
            actor: "unknown".into(),
            action: "auth.login".into(),
            outcome: outcome.into(),
            client_addr: client.map(str::to_owned),
            ..Default::default()
        };
        let user = match Username::parse(username) {
            Ok(name) => match self.store.user_by_username(&name).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let Some(user) = user else {
            verify_password(DUMMY_HASH.into(), password.into()).await;
            self.audit(anonymous("failed")).await?;
            return Err(AuthError::InvalidCredentials);
        };
        let event = |action: &str, outcome: &str| NewAuditEvent {
            actor_id: Some(user.id),
            actor: user.username.as_str().to_owned(),
            role: Some(user.role.as_str().to_owned()),
            action: action.into(),
            outcome: outcome.into(),
            client_addr: client.map(str::to_owned),
            ..Default::default()
        };
        if let Some(until) = user.locked_until.filter(|u| *u > now()) {
            self.audit(event("auth.login", "locked")).await?;
            return Err(AuthError::Locked { until });
        }
        let ok = verify_password(user.password_hash.clone(), password.into()).await;
        if !ok || user.disabled_at.is_some() {
            // A lock that has run out starts a fresh count.
            let failures = if user.locked_until.is_some() {
                1
            } else {
                user.failed_logins + 1
            };
            if user.locked_until.is_some() {
                self.store.clear_login_failures(user.id).await?;
            }
            let lock = (failures >= MAX_FAILED_LOGINS).then(|| now() + LOCKOUT);
            self.store.record_login_failure(user.id, lock).await?;
            self.audit(event("auth.login", "failed")).await?;
            if let Some(until) = lock {
                self.audit(event("auth.lockout", "locked")).await?;
                return Err(AuthError::Locked { until });
            }
            return Err(AuthError::InvalidCredentials);
        }
        self.store.clear_login_failures(user.id).await?;
        let token = random_secret();
        let csrf = random_secret();
        let id = self
            .store
            .create_session(
                user.id,
                &secret_hash(&token),
                &csrf,
                client,
                now() + SESSION_ABSOLUTE,
            )
            .await?;
        self.audit(event("auth.login", "ok")).await?;
        Ok(SignedIn {
            token,
            caller: Caller::new(
                &user,
                Via::Session {
                    id,
                    csrf_token: csrf,
                },
            ),
        })
    }

    /// The caller behind a session cookie, if the session is live; sliding idle expiry.
    pub async fn session(&self, token: &str) -> Result<Option<Caller>, StoreError> {
        let (session, user) = match self.store.session_by_token_hash(&secret_hash(token)).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let t = now();
        if user.disabled_at.is_some()
            || t >= session.expires_at
            || t >= session.last_seen_at + SESSION_IDLE
        {
            self.store.revoke_session(session.id).await?;
            return Ok(None);
        }
        if t - session.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(session.id, t).await?;
        }
        Ok(Some(Caller::new(
            &user,
            Via::Session {
                id: session.id,
                csrf_token: session.csrf_token,
            },
        )))
    }

    /// The caller behind a bearer token, if it is live. Use is audited (at most once a minute
    /// per token, with its last-used time).
    pub async fn bearer(
        &self,
        token: &str,
        client: Option<&str>,
    ) -> Result<Option<Caller>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let (api, user) = match self.store.api_token_by_hash(&secret_hash(token)).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let t = now();
        if user.disabled_at.is_some() || t >= api.expires_at {
            return Ok(None);
        }
        let caller = Caller::new(&user, Via::Token { id: api.id });
        if api.last_used_at.is_none_or(|last| t - last >= TOUCH_EVERY) {
            self.store.touch_api_token(api.id, t).await?;
            let mut e = caller.event("auth.token_use", "ok");
            e.object_type = Some("api_token".into());
            e.object_id = Some(api.id);
            e.client_addr = client.map(str::to_owned);
            self.audit(e).await?;
        }
        Ok(Some(caller))
    }

    pub async fn sign_out(&self, caller: &Caller) -> Result<(), StoreError> {
        if let Via::Session { id, .. } = caller.via {
            self.store.revoke_session(id).await?;
        }
        self.audit(caller.event("auth.logout", "ok")).await
    }

    /// Changes the caller's own password; every other session of theirs ends.
    pub async fn change_password(
        &self,
        caller: &Caller,
        old: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let user = self.store.user(caller.user_id).await?;
        if !verify_password(user.password_hash.clone(), old.into()).await {
            return Err(ServiceError::invalid(FieldError::new(
                "old_password",
                "password.wrong",
                "原密码不正确",
                "The current password is not correct",
            )));
        }
        let new = NewPassword::parse(new)
            .map_err(|e| ServiceError::invalid(FieldError::from_domain("new_password", &e)))?;
        let hash = hash_password(&new).await?;
        self.store.set_password_hash(user.id, &hash).await?;
        self.store.revoke_user_sessions(user.id).await?;
        self.audit(caller.event("user.password_change", "ok"))
            .await?;
        Ok(())
    }

    /// Creates a user (operators' CLI, admins). Areas are given by code.
    pub async fn create_user(
        &self,
        actor: &str,
        username: &Username,
        display_name: &str,
        role: Role,
        area_codes: &[String],
        password: &NewPassword,
    ) -> Result<User, ServiceError> {
        let found = self.store.area_ids_by_code(area_codes).await?;
        let mut area_ids = Vec::new();
        for code in area_codes {
            match found.iter().find(|(c, _)| c == code) {
                Some((_, id)) => area_ids.push(*id),
                None => return Err(ServiceError::invalid(FieldError::unknown_reference("area"))),
            }
        }
        let new = NewUser {
            username: username.clone(),
            display_name: display_name.trim().to_owned(),
            role,
            password_hash: hash_password(password).await?,
            area_ids,
        };
        let user = match self.store.create_user(&new).await {
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::conflict(
                    "user.duplicate",
                    "用户名已存在",
                    "This user name is taken",
                ));
            }
            other => other?,
        };
        self.audit(NewAuditEvent {
            actor: actor.into(),
            action: "user.create".into(),
            object_type: Some("user".into()),
            object_id: Some(user.id),
            outcome: "ok".into(),
            ..Default::default()
        })
        .await?;
        Ok(user)
    }

    pub async fn disable_user(&self, actor: &str, username: &Username) -> Result<(), ServiceError> {
        let user = self.store.user_by_username(username).await?;
        self.store.disable_user(user.id).await?;
        self.audit(NewAuditEvent {
            actor: actor.into(),
            action: "user.disable".into(),
            object_type: Some("user".into()),
            object_id: Some(user.id),
            outcome: "ok".into(),
            ..Default::default()
        })
        .await?;
        Ok(())
    }

    /// Lifts a lockout before it runs out (the security officer's call).
    pub async fn unlock_user(&self, actor: &str, username: &Username) -> Result<(), ServiceError> {
        let user = self.store.user_by_username(username).await?;
        self.store.clear_login_failures(user.id).await?;
        self.audit(NewAuditEvent {
            actor: actor.into(),
            action: "user.unlock".into(),
            object_type: Some("user".into()),
            object_id: Some(user.id),
            outcome: "ok".into(),
            ..Default::default()
        })
        .await?;
        Ok(())
    }

    /// Issues an API token and returns its secret, which is shown once and stored only hashed.
    pub async fn create_token(
        &self,
        actor: &str,
        username: &Username,
        name: &str,
        valid_for: Duration,
    ) -> Result<(String, OffsetDateTime), ServiceError> {
        let user = self.store.user_by_username(username).await?;
        if user.disabled_at.is_some() {
            return Err(ServiceError::conflict(
                "user.disabled",
                "该用户已停用",
                "This user is disabled",
            ));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let expires = now() + valid_for;
        let id = self
            .store
            .create_api_token(user.id, name, &secret_hash(&secret), expires)
            .await?;
        self.audit(NewAuditEvent {
            actor: actor.into(),
            action: "token.create".into(),
            object_type: Some("api_token".into()),
            object_id: Some(id),
            outcome: "ok".into(),
            ..Default::default()
        })
        .await?;
        Ok((secret, expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_hashes_verify_and_the_dummy_parses() {
        let pw = NewPassword::parse("Grid-worker-2026").unwrap();
        let hash = hash_password(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(hash.clone(), "Grid-worker-2026".into()).await);
        assert!(!verify_password(hash, "grid-worker-2026".into()).await);
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
