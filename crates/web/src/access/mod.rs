//! Who may call what. `RULES` lists every route with the access it needs; the `guard`
//! middleware authenticates the caller (session cookie or bearer token), enforces the rule and
//! CSRF, hands the caller to the handler, and writes the audit trail. A route without a rule is
//! refused, and the authorization matrix test fails until it has one.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wangge_domain::Permission;
use wangge_services::identity::{Caller, Via};
use wangge_store::audit::NewAuditEvent;

use crate::AppState;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No sign-in: health probes, the API description, signing in.
    Public,
    /// Any signed-in user.
    SignedIn,
    Needs(Permission),
}

pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

mod rules;

pub use rules::{PAGE_RULES, RULES, UPLOAD_ROUTES};

pub fn rule_for(method: &Method, path: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .chain(PAGE_RULES)
        .find(|r| r.method == method.as_str() && r.path == path)
}

/// Pages answer refusals in HTML; everything under /api and the probes in problem+json.
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/healthz" || path == "/readyz")
}

/// The `csrf_token` field of a multipart body (forms put it first, so only the fields before
/// it are read).
async fn multipart_csrf(headers: &HeaderMap, body: bytes::Bytes) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = multer::parse_boundary(content_type).ok()?;
    let mut parts =
        multer::Multipart::new(axum::body::Body::from(body).into_data_stream(), boundary);
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some("csrf_token") {
            return field.text().await.ok();
        }
    }
    None
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The `csrf_token` field of a form body.
fn form_csrf(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v)
}

pub const SESSION_COOKIE: &str = "wangge_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a handler read or changed, for the audit row the guard writes.
#[derive(Debug, Clone, Default)]
pub struct Audited {
    pub action: Option<&'static str>,
    pub object_type: Option<&'static str>,
    pub object_id: Option<i64>,
    pub area_path: Option<String>,
    pub reason: Option<String>,
}

pub fn client_addr_of(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn authenticate(
    s: &AppState,
    headers: &HeaderMap,
    client: Option<&str>,
) -> Result<Option<Caller>, ApiError> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        // A bad bearer token is a refusal, not a fall-back to the cookie.
        return match auth.strip_prefix("Bearer ") {
            Some(token) => Ok(s.identity.bearer(token.trim(), client).await?),
            None => Ok(None),
        };
    }
    match cookie(headers, SESSION_COOKIE) {
        Some(token) => Ok(s.identity.session(token).await?),
        None => Ok(None),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return next.run(req).await;
    };
    let method = req.method().clone();
    let Some(rule) = rule_for(&method, &path) else {
        tracing::error!(%method, %path, "route has no access rule; refused");
        return ApiError::forbidden().into_response();
    };
    if rule.access == Access::Public {
        return next.run(req).await;
    }
    let client = client_addr_of(&req).map(|ip| ip.to_string());
    let page = is_page(&path);
    let caller = match authenticate(&s, req.headers(), client.as_deref()).await {
        Ok(Some(c)) => c,
        Ok(None) if page => {
            return crate::pages::to_login(crate::pages::session_token(req.headers()).is_some());
        }
        Ok(None) => return ApiError::unauthenticated().into_response(),
        Err(e) => return e.into_response(),
    };
    if let Access::Needs(p) = rule.access
        && !caller.role.can(p)
    {
        let mut e = caller.event(&format!("{method} {path}"), "denied");
        e.client_addr = client.clone();
        let _ = s.identity.audit(e).await;
        if page {
            let shell = crate::pages::Page::shell_for(req.headers(), Some(&caller), &path);
            return crate::pages::error_page(shell, StatusCode::FORBIDDEN);
        }
        return ApiError::forbidden().into_response();
    }
    let mut req = req;
    if let Via::Session { csrf_token, .. } = &caller.via
        && !is_safe(&method)
    {
        let header_token = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let sent = match header_token {
            Some(t) => Some(t),
            None => {
                // Plain HTML forms send the token in the body: read it, then hand the body on.
                let (parts, body) = req.into_parts();
                let upload = is_multipart(&parts.headers) && UPLOAD_ROUTES.contains(&path.as_str());
                let limit = if upload {
                    s.page_upload_limit()
                } else {
                    crate::BODY_LIMIT
                };
                let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
                    return ApiError::PayloadTooLarge.into_response();
                };
                let token = if upload {
                    multipart_csrf(&parts.headers, bytes.clone()).await
                } else {
                    form_csrf(&bytes)
                };
                req = Request::from_parts(parts, axum::body::Body::from(bytes));
                token
            }
        };
        if sent.as_deref() != Some(csrf_token.as_str()) {
            return ApiError::Denied {
                status: StatusCode::FORBIDDEN,
                code: "auth.csrf",
                zh: "请求缺少有效的 CSRF 令牌，请刷新页面后重试".into(),
                en: "The request lacks a valid CSRF token; reload the page and try again".into(),
            }
            .into_response();
        }
    }
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    req.extensions_mut().insert(caller.clone());
    let resp = next.run(req).await;
    let audited = resp.extensions().get::<Audited>().cloned();
    if !is_safe(&method) || audited.is_some() {
        let a = audited.unwrap_or_default();
        let action = a
            .action
            .map_or_else(|| format!("{method} {path}"), str::to_owned);
        let mut e: NewAuditEvent = caller.event(&action, resp.status().as_str());
        e.object_type = a.object_type.map(str::to_owned);
        e.object_id = a.object_id;
        e.area_path = a.area_path;
        e.reason = a.reason;
        e.request_id = request_id;
        e.client_addr = client;
        if let Err(err) = s.identity.audit(e).await {
            // An action that cannot be audited is not confirmed to the caller.
            tracing::error!(error = %err, "audit write failed");
            return ApiError::from(err).into_response();
        }
    }
    resp
}

/// Sign-in attempts per client address: a simple fixed window, enough to slow guessing; the
/// per-account lockout does the rest.
pub struct LoginLimiter {
    window: Duration,
    max: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        LoginLimiter {
            window,
            max,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether one more attempt from `ip` is allowed now.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return true };
        let mut seen = self.seen.lock().expect("limiter poisoned");
        let now = Instant::now();
        if seen.len() > 10_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}
