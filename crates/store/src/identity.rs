//! Users with their area assignments, sessions and API tokens. Only hashes of session and API
//! token secrets are stored; password hashes are Argon2id PHC strings made by the services.

use time::OffsetDateTime;
use wangge_domain::{AreaPath, Role, Username};

use crate::db::{DbRow, Value};
use crate::error::decode;
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    /// The user's areas: their scope is these subtrees.
    pub areas: Vec<AreaPath>,
    /// The same areas by code, for people.
    pub area_codes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub area_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

const USER_COLUMNS: &str = "id, username, display_name, role, password_hash, failed_logins, \
     locked_until, disabled_at";

fn user_from_row(r: &dyn DbRow) -> Result<User, StoreError> {
    user_at(r, 0)
}

/// A user from the row's columns starting at `o` (in `USER_COLUMNS` order).
fn user_at(r: &dyn DbRow, o: usize) -> Result<User, StoreError> {
    Ok(User {
        id: r.int(o)?,
        username: decode(Username::parse(&r.text(o + 1)?))?,
        display_name: r.text(o + 2)?,
        role: decode(Role::parse(&r.text(o + 3)?))?,
        password_hash: r.text(o + 4)?,
        failed_logins: r.int(o + 5)?,
        locked_until: r.opt_timestamp(o + 6)?,
        disabled_at: r.opt_timestamp(o + 7)?,
        areas: Vec::new(),
        area_codes: Vec::new(),
    })
}

impl Store {
    async fn with_areas(&self, mut user: User) -> Result<User, StoreError> {
        let areas = self
            .db
            .query(
                "SELECT a.path, a.code FROM user_areas ua JOIN areas a ON a.id = ua.area_id WHERE ua.user_id = ? ORDER BY a.path",
                &params![user.id],
                |r| Ok((decode(AreaPath::parse(&r.text(0)?))?, r.text(1)?)),
            )
            .await?;
        (user.areas, user.area_codes) = areas.into_iter().unzip();
        Ok(user)
    }

    pub async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        let t = now();
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO users (username, display_name, role, password_hash, password_changed_at, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &params![
                    new.username.as_str(),
                    &new.display_name,
                    new.role.as_str(),
                    &new.password_hash,
                    t,
                    t,
                    t
                ],
            )
            .await?;
        for area in &new.area_ids {
            tx.execute(
                "INSERT INTO user_areas (user_id, area_id) VALUES (?, ?)",
                &params![id, *area],
            )
            .await?;
        }
        tx.commit().await?;
        self.user(id).await
    }

    pub async fn user(&self, id: i64) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let user = self
            .db
            .query_opt(&sql, &params![id], user_from_row)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.with_areas(user).await
    }

    pub async fn user_by_username(&self, username: &Username) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        let user = self
            .db
            .query_opt(&sql, &params![username.as_str()], user_from_row)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.with_areas(user).await
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let mut out = Vec::new();
        for u in self.db.query(&sql, &[], user_from_row).await? {
            out.push(self.with_areas(u).await?);
        }
        Ok(out)
    }

    /// Counts a failed login; `lock_until` locks the account when the limit is reached.
    pub async fn record_login_failure(
        &self,
        user_id: i64,
        lock_until: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE users SET failed_logins = failed_logins + 1, locked_until = COALESCE(?, locked_until), updated_at = ? WHERE id = ?",
                &params![lock_until, now(), user_id],
            )
            .await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, user_id: i64) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?",
                &params![now(), user_id],
            )
            .await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), StoreError> {
        let t = now();
        self.db
            .execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?",
                &params![hash, t, t, user_id],
            )
            .await?;
        Ok(())
    }

    /// Disables a user and ends every session and token they hold.
    pub async fn disable_user(&self, user_id: i64) -> Result<(), StoreError> {
        let t = now();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                "UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ? AND disabled_at IS NULL",
                &params![t, t, user_id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            &params![t, user_id],
        )
        .await?;
        tx.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            &params![t, user_id],
        )
        .await?;
        tx.commit().await
    }

    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &[u8],
        csrf_token: &str,
        client_addr: Option<&str>,
        expires_at: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let t = now();
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, client_addr, created_at, last_seen_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &params![token_hash.to_vec(), user_id, csrf_token, client_addr, t, t, expires_at],
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A live (not revoked) session by the hash of its token, with its user and areas, in one
    /// query: this runs on every signed-in request.
    pub async fn session_by_token_hash(&self, hash: &[u8]) -> Result<(Session, User), StoreError> {
        let sql = format!(
            "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, {}, a.path, a.code \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN user_areas ua ON ua.user_id = u.id LEFT JOIN areas a ON a.id = ua.area_id \
             WHERE s.token_hash = ? AND s.revoked_at IS NULL ORDER BY a.path",
            prefixed_user_columns()
        );
        let rows = self
            .db
            .query(&sql, &params![hash.to_vec()], |r| {
                let session = Session {
                    id: r.int(0)?,
                    user_id: r.int(1)?,
                    csrf_token: r.text(2)?,
                    created_at: r.timestamp(3)?,
                    last_seen_at: r.timestamp(4)?,
                    expires_at: r.timestamp(5)?,
                };
                Ok((session, user_at(r, 6)?, area_at(r, 14)?))
            })
            .await?;
        let (session, user) = with_areas_from_rows(rows)?;
        Ok((session, user))
    }

    pub async fn touch_session(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE sessions SET last_seen_at = ? WHERE id = ?",
                &params![at, id],
            )
            .await?;
        Ok(())
    }

    pub async fn revoke_session(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                &params![now(), id],
            )
            .await?;
        Ok(())
    }

    /// Ends all sessions of a user (password change, security officer's action).
    pub async fn revoke_user_sessions(&self, user_id: i64) -> Result<u64, StoreError> {
        self.db
            .execute(
                "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                &params![now(), user_id],
            )
            .await
    }

    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                &params![token_hash.to_vec(), user_id, name, now(), expires_at],
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A live (not revoked) API token by the hash of its secret, with its user and areas, in
    /// one query.
    pub async fn api_token_by_hash(&self, hash: &[u8]) -> Result<(ApiToken, User), StoreError> {
        let sql = format!(
            "SELECT t.id, t.user_id, t.name, t.expires_at, t.last_used_at, {}, a.path, a.code \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             LEFT JOIN user_areas ua ON ua.user_id = u.id LEFT JOIN areas a ON a.id = ua.area_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL ORDER BY a.path",
            prefixed_user_columns()
        );
        let rows = self
            .db
            .query(&sql, &params![hash.to_vec()], |r| {
                let token = ApiToken {
                    id: r.int(0)?,
                    user_id: r.int(1)?,
                    name: r.text(2)?,
                    expires_at: r.timestamp(3)?,
                    last_used_at: r.opt_timestamp(4)?,
                };
                Ok((token, user_at(r, 5)?, area_at(r, 13)?))
            })
            .await?;
        with_areas_from_rows(rows)
    }

    pub async fn touch_api_token(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                &params![at, id],
            )
            .await?;
        Ok(())
    }

    pub async fn revoke_api_token(&self, id: i64) -> Result<(), StoreError> {
        let n = self
            .db
            .execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                &params![now(), id],
            )
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The ids of areas with these codes (for assigning scopes); unknown codes are absent.
    pub async fn area_ids_by_code(
        &self,
        codes: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; codes.len()].join(", ");
        let p: Vec<Value> = codes.iter().map(Value::from).collect();
        self.db
            .query(
                &format!("SELECT code, id FROM areas WHERE code IN ({marks})"),
                &p,
                |r| Ok((r.text(0)?, r.int(1)?)),
            )
            .await
    }
}

fn prefixed_user_columns() -> String {
    USER_COLUMNS
        .split(',')
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn area_at(r: &dyn DbRow, o: usize) -> Result<Option<(AreaPath, String)>, StoreError> {
    match (r.opt_text(o)?, r.opt_text(o + 1)?) {
        (Some(path), Some(code)) => Ok(Some((decode(AreaPath::parse(&path))?, code))),
        _ => Ok(None),
    }
}

/// One joined row: the head, the user, and one of the user's areas (path and code), if any.
type UserAreaRow<T> = (T, User, Option<(AreaPath, String)>);

/// One row per area of the user (or one with no area): the head and the user with all areas.
fn with_areas_from_rows<T>(rows: Vec<UserAreaRow<T>>) -> Result<(T, User), StoreError> {
    let mut rows = rows.into_iter();
    let (head, mut user, first) = rows.next().ok_or(StoreError::NotFound)?;
    for (path, code) in first.into_iter().chain(rows.filter_map(|(_, _, a)| a)) {
        user.areas.push(path);
        user.area_codes.push(code);
    }
    Ok((head, user))
}
