//! Signing in and out through the API: a session cookie (HttpOnly, SameSite=Lax, Secure behind
//! TLS) plus a CSRF token that every state-changing request with that cookie must echo in the
//! `X-CSRF-Token` header. Integrations use bearer tokens instead (`wangge token create`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_services::identity::{AuthError, Caller, Via};

use crate::AppState;
use crate::access::{SESSION_COOKIE, client_addr_of};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, CurrentCaller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, who_am_i, sign_out))
        .routes(routes!(change_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignInIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_zh: String,
    /// Send back as `X-CSRF-Token` on state-changing requests that use the session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

impl SessionOut {
    fn of(c: &Caller) -> Self {
        SessionOut {
            user_id: c.user_id,
            username: c.username.clone(),
            display_name: c.display_name.clone(),
            role: c.role.as_str().to_owned(),
            role_zh: c.role.name_zh().to_owned(),
            csrf_token: match &c.via {
                Via::Session { csrf_token, .. } => Some(csrf_token.clone()),
                Via::Token { .. } => None,
            },
        }
    }
}

/// Behind a TLS-terminating proxy the cookie is marked Secure.
pub fn session_cookie(headers: &HeaderMap, token: &str) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).expect("cookie value is ASCII")
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("wangge_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

pub fn auth_error(e: AuthError) -> ApiError {
    match e {
        AuthError::InvalidCredentials => ApiError::Denied {
            status: StatusCode::UNAUTHORIZED,
            code: "auth.invalid_credentials",
            zh: "用户名或密码不正确".into(),
            en: "User name or password is not correct".into(),
        },
        AuthError::Locked { until } => {
            let minutes = ((until - time::OffsetDateTime::now_utc()).whole_minutes() + 1).max(1);
            ApiError::Denied {
                status: StatusCode::FORBIDDEN,
                code: "auth.locked",
                zh: format!("连续输错密码次数过多，账号已锁定，请 {minutes} 分钟后再试"),
                en: format!(
                    "Too many failed attempts: the account is locked; try again in {minutes} minutes"
                ),
            }
        }
        AuthError::Store(e) => e.into(),
    }
}

pub fn rate_limited() -> ApiError {
    ApiError::Denied {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "auth.rate_limited",
        zh: "登录尝试过于频繁，请稍后再试".into(),
        en: "Too many sign-in attempts; please wait a moment".into(),
    }
}

#[utoipa::path(post, path = "/session", tag = "session", request_body = SignInIn,
    responses((status = 200, body = SessionOut), (status = 401, body = Problem), (status = 403, body = Problem), (status = 429, body = Problem)))]
async fn sign_in(State(s): State<AppState>, req: axum::extract::Request) -> ApiResult<Response> {
    let client = client_addr_of(&req);
    if !s.login_limiter.allow(client) {
        return Err(rate_limited());
    }
    let headers = req.headers().clone();
    let ApiJson(body) =
        <ApiJson<SignInIn> as axum::extract::FromRequest<AppState>>::from_request(req, &s).await?;
    let signed = s
        .identity
        .sign_in(
            &body.username,
            &body.password,
            client.map(|c| c.to_string()).as_deref(),
        )
        .await
        .map_err(auth_error)?;
    let mut resp = Json(SessionOut::of(&signed.caller)).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&headers, &signed.token));
    Ok(resp)
}

#[utoipa::path(get, path = "/session", tag = "session", responses((status = 200, body = SessionOut), (status = 401, body = Problem)))]
async fn who_am_i(CurrentCaller(c): CurrentCaller) -> Json<SessionOut> {
    Json(SessionOut::of(&c))
}

#[utoipa::path(delete, path = "/session", tag = "session", responses((status = 204), (status = 401, body = Problem)))]
async fn sign_out(
    State(s): State<AppState>,
    CurrentCaller(c): CurrentCaller,
) -> ApiResult<Response> {
    s.identity.sign_out(&c).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordIn {
    pub old_password: String,
    /// At least 10 characters mixing three of: upper-case, lower-case, digits, symbols.
    pub new_password: String,
}

#[utoipa::path(post, path = "/session/password", tag = "session", request_body = PasswordIn,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn change_password(
    State(s): State<AppState>,
    CurrentCaller(c): CurrentCaller,
    ApiJson(body): ApiJson<PasswordIn>,
) -> ApiResult<Response> {
    s.identity
        .change_password(&c, &body.old_password, &body.new_password)
        .await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}
