//! HTTP errors as `application/problem+json` (RFC 9457): a stable `code`, the offending
//! `field`, and a message in the caller's language with both languages alongside.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;

use crate::extract::Lang;

#[derive(Debug)]
pub enum ApiError {
    Service(ServiceError),
    /// Malformed requests: bad JSON, bad query strings, bad cursors.
    BadRequest {
        code: &'static str,
        zh: String,
        en: String,
    },
    PayloadTooLarge,
    UnsupportedMediaType,
    /// Authentication and authorization refusals (401, 403, 429).
    Denied {
        status: StatusCode,
        code: &'static str,
        zh: String,
        en: String,
    },
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError::Service(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Service(e.into())
    }
}

/// A refused work-order transition: 409 with the domain's code, naming the current state.
impl From<wangge_domain::TransitionError> for ApiError {
    fn from(e: wangge_domain::TransitionError) -> Self {
        ApiError::Service(wangge_services::registry::transition_conflict(&e))
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Service(ServiceError::invalid(e))
    }
}

impl ApiError {
    pub fn unauthenticated() -> Self {
        ApiError::Denied {
            status: StatusCode::UNAUTHORIZED,
            code: "auth.required",
            zh: "请先登录".into(),
            en: "Please sign in first".into(),
        }
    }

    pub fn forbidden() -> Self {
        ApiError::Denied {
            status: StatusCode::FORBIDDEN,
            code: "auth.forbidden",
            zh: "您的角色无权进行此操作".into(),
            en: "Your role does not allow this".into(),
        }
    }

    pub fn bad_request(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// What the response says, before the language is chosen.
    fn data(self) -> ProblemData {
        let (status, code, zh, en, errors): (StatusCode, String, String, String, Vec<FieldError>) =
            match self {
                ApiError::Service(ServiceError::Invalid(errors)) => {
                    let (code, zh, en) = match errors.as_slice() {
                        [one] => (
                            one.code.clone(),
                            one.message_zh.clone(),
                            one.message_en.clone(),
                        ),
                        _ => (
                            "validation.failed".to_owned(),
                            format!("有 {} 处输入错误", errors.len()),
                            format!("{} fields are invalid", errors.len()),
                        ),
                    };
                    (StatusCode::UNPROCESSABLE_ENTITY, code, zh, en, errors)
                }
                ApiError::Service(ServiceError::NotFound) => (
                    StatusCode::NOT_FOUND,
                    "not_found".into(),
                    "未找到该记录，或它不在您的管辖范围内".into(),
                    "No such record, or it is outside your area".into(),
                    vec![],
                ),
                ApiError::Service(ServiceError::Conflict {
                    code,
                    message_zh,
                    message_en,
                }) => (
                    StatusCode::CONFLICT,
                    code.into(),
                    message_zh,
                    message_en,
                    vec![],
                ),
                ApiError::Service(ServiceError::Store(StoreError::Unavailable(e))) => {
                    tracing::error!(error = %e, "database unavailable");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable".into(),
                        "服务暂时不可用，请稍后再试".into(),
                        "The service is temporarily unavailable; please try again".into(),
                        vec![],
                    )
                }
                ApiError::Service(ServiceError::Store(e)) => {
                    // Store errors name tables and constraints, never values, so they may be logged.
                    tracing::error!(error = %e, "request failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal".into(),
                        "服务器内部错误".into(),
                        "Internal server error".into(),
                        vec![],
                    )
                }
                ApiError::BadRequest { code, zh, en } => {
                    (StatusCode::BAD_REQUEST, code.into(), zh, en, vec![])
                }
                ApiError::PayloadTooLarge => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body.too_large".into(),
                    "请求内容过大".into(),
                    "Request body is too large".into(),
                    vec![],
                ),
                ApiError::Denied {
                    status,
                    code,
                    zh,
                    en,
                } => (status, code.into(), zh, en, vec![]),
                ApiError::UnsupportedMediaType => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "body.content_type".into(),
                    "请求内容必须是 JSON（Content-Type: application/json）".into(),
                    "Request body must be JSON (Content-Type: application/json)".into(),
                    vec![],
                ),
            };
        ProblemData {
            status,
            code,
            zh,
            en,
            errors,
        }
    }
}

/// A problem not yet rendered: the `localize` middleware renders it in the caller's language.
#[derive(Debug, Clone)]
pub struct ProblemData {
    status: StatusCode,
    code: String,
    zh: String,
    en: String,
    errors: Vec<FieldError>,
}

impl ProblemData {
    pub fn render(&self, lang: Lang) -> Response {
        let pick = |zh: &str, en: &str| match lang {
            Lang::Zh => zh.to_owned(),
            Lang::En => en.to_owned(),
        };
        let body = Problem {
            r#type: format!("urn:wangge:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            code: self.code.clone(),
            detail: pick(&self.zh, &self.en),
            detail_zh: self.zh.clone(),
            detail_en: self.en.clone(),
            field: self.errors.first().map(|e| e.field.clone()),
            errors: self
                .errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    code: e.code.clone(),
                    detail: pick(&e.message_zh, &e.message_en),
                    detail_zh: e.message_zh.clone(),
                    detail_en: e.message_en.clone(),
                })
                .collect(),
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp.extensions_mut().insert(self.clone());
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.data().render(Lang::Zh)
    }
}

/// Re-renders problems in English for callers who asked for it.
pub async fn localize(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = Lang::from_headers(req.headers());
    let resp = next.run(req).await;
    match (lang, resp.extensions().get::<ProblemData>()) {
        (Lang::En, Some(p)) => p.render(Lang::En),
        _ => resp,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:wangge:problem:<code>`
    pub r#type: String,
    pub title: String,
    pub status: u16,
    /// Stable machine code, e.g. `id_number.checksum`.
    pub code: String,
    /// In the caller's language (Accept-Language).
    pub detail: String,
    pub detail_zh: String,
    pub detail_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub detail: String,
    pub detail_zh: String,
    pub detail_en: String,
}

pub type ApiResult<T> = Result<T, ApiError>;
