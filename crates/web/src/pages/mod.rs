//! Server-rendered pages: templates compiled into the binary, one stylesheet and htmx (vendored,
//! embedded). zh-CN by default, English by choice (cookie) or `Accept-Language`.

pub mod assets;
pub mod attachments;
mod auth;
mod campaigns;
mod entrustments;
mod home;
mod households;
mod metrics;
pub mod notifications;
mod persons;
mod places;
mod search;
mod visits;
mod work_order;
mod work_orders;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use wangge_domain::{Permission, Scope};
use wangge_services::identity::{Caller, Via};
use wangge_services::{FieldError, ServiceError};

use crate::AppState;
use crate::access::SESSION_COOKIE;
use crate::extract::Lang;
use crate::i18n::Texts;

pub const LANG_COOKIE: &str = "wangge_lang";

/// `upload_limit`: the body limit of page forms that carry photos.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(auth::router())
        .merge(home::router())
        .merge(places::router())
        .merge(households::router())
        .merge(persons::router())
        .merge(search::router())
        .merge(notifications::router())
        .merge(metrics::router())
        .merge(work_orders::router())
        .merge(work_order::router())
        .merge(visits::router(upload_limit))
        .merge(attachments::router(upload_limit))
        .merge(campaigns::router(upload_limit))
        .merge(entrustments::router(upload_limit))
}

/// The language of a page: the user's choice (cookie), else the browser's first preference.
pub fn page_lang(headers: &HeaderMap) -> Lang {
    let chosen = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LANG_COOKIE)
        .map(|(_, v)| v.to_owned());
    match chosen.as_deref() {
        Some("en") => Lang::En,
        Some("zh-CN") => Lang::Zh,
        _ => Lang::from_headers(headers),
    }
}

/// What every page's frame needs: texts, the signed-in user, the CSRF token for forms.
#[derive(Debug, Clone)]
pub struct Shell {
    pub t: Texts,
    pub user: Option<(String, String)>,
    pub csrf: String,
    pub path: String,
    pub q: String,
    pub css: &'static str,
    pub js: &'static str,
    /// The signed-in user may read the registry: the navigation offers campaigns.
    pub nav_campaigns: bool,
}

impl Shell {
    pub fn switch_lang(&self) -> &'static str {
        if self.t.is_zh() { "en" } else { "zh-CN" }
    }
}

/// The page context: the shell plus the caller (if signed in) and their scope.
pub struct Page {
    pub shell: Shell,
    pub caller: Option<Caller>,
}

impl Page {
    pub fn scope(&self) -> Scope {
        self.caller
            .as_ref()
            .map_or_else(Scope::nothing, |c| c.scope.clone())
    }

    pub fn t(&self) -> Texts {
        self.shell.t
    }
}

impl Page {
    /// The frame for a page seen by `caller` (or nobody) at `path`.
    pub fn shell_for(headers: &HeaderMap, caller: Option<&Caller>, path: &str) -> Shell {
        let t = Texts::new(page_lang(headers));
        let csrf = match caller.map(|c| &c.via) {
            Some(Via::Session { csrf_token, .. }) => csrf_token.clone(),
            _ => String::new(),
        };
        let user = caller.map(|c| {
            let role = if t.is_zh() {
                c.role.name_zh()
            } else {
                c.role.name_en()
            };
            (c.display_name.clone(), role.to_owned())
        });
        Shell {
            t,
            user,
            csrf,
            path: path.to_owned(),
            q: String::new(),
            css: assets::css_url(),
            js: assets::htmx_url(),
            nav_campaigns: caller.is_some_and(|c| c.role.can(Permission::RegistryRead)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = parts.extensions.get::<Caller>().cloned();
        Ok(Page {
            shell: Page::shell_for(&parts.headers, caller.as_ref(), parts.uri.path()),
            caller,
        })
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    title: String,
    message: String,
}

/// An HTML error page in the caller's language.
pub fn error_page(shell: Shell, status: StatusCode) -> Response {
    let t = shell.t;
    let message = match status {
        StatusCode::FORBIDDEN => t.t("error.forbidden"),
        _ => t.t("error.not_found"),
    }
    .to_owned();
    let page = ErrorPage {
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        message,
        shell,
    };
    (status, render(&page)).into_response()
}

fn message_page(shell: Shell, status: StatusCode, message: String) -> Response {
    let page = ErrorPage {
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        message,
        shell,
    };
    (status, render(&page)).into_response()
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Where an unauthenticated page request goes.
pub fn to_login(expired: bool) -> Response {
    let mut resp = Redirect::to(if expired {
        "/login?expired=1"
    } else {
        "/login"
    })
    .into_response();
    if expired {
        resp.headers_mut().insert(
            header::SET_COOKIE,
            header::HeaderValue::from_static(
                "wangge_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            ),
        );
    }
    resp
}

/// Field errors of a failed form, by field name, in the page's language.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    pub fields: Vec<(String, String)>,
    pub general: Option<String>,
}

impl FormErrors {
    pub fn from_service(e: ServiceError, t: Texts) -> Result<FormErrors, ServiceError> {
        let msg = |f: &FieldError| {
            if t.is_zh() {
                f.message_zh.clone()
            } else {
                f.message_en.clone()
            }
        };
        match e {
            ServiceError::Invalid(list) => Ok(FormErrors {
                fields: list.iter().map(|f| (f.field.clone(), msg(f))).collect(),
                general: Some(t.t("form.fix").to_owned()),
            }),
            ServiceError::Conflict {
                message_zh,
                message_en,
                ..
            } => Ok(FormErrors {
                fields: Vec::new(),
                general: Some(if t.is_zh() { message_zh } else { message_en }),
            }),
            other => Err(other),
        }
    }

    pub fn push(&mut self, field: &str, e: &FieldError, t: Texts) {
        let m = if t.is_zh() {
            e.message_zh.clone()
        } else {
            e.message_en.clone()
        };
        self.fields.push((field.to_owned(), m));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_none()
    }
}

/// A path on this site to return to; anything else (other hosts, `//`, backslashes, control
/// characters that browsers drop) becomes the start page.
pub fn local_path(back: Option<String>) -> String {
    back.filter(|p| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p
                .chars()
                .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    })
    .unwrap_or_else(|| "/".to_owned())
}

/// A store or service failure on a page: 404 page for missing/out-of-scope, the rule's own
/// message for a refused change, 500 otherwise.
pub fn page_error(shell: Shell, e: impl Into<ServiceError>) -> Response {
    match e.into() {
        ServiceError::NotFound => error_page(shell, StatusCode::NOT_FOUND),
        ServiceError::Conflict {
            message_zh,
            message_en,
            ..
        } => {
            let message = if shell.t.is_zh() {
                message_zh
            } else {
                message_en
            };
            message_page(shell, StatusCode::CONFLICT, message)
        }
        ServiceError::Invalid(errors) => {
            let t = shell.t;
            let message = errors
                .iter()
                .map(|f| {
                    if t.is_zh() {
                        f.message_zh.clone()
                    } else {
                        f.message_en.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            message_page(shell, StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        other => {
            tracing::error!(error = %other, "page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
    }
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}
