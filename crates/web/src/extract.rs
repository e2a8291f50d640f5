//! Request extractors: the caller's scope (the only source of area filtering for handlers),
//! the language, and JSON/query parsing whose errors never echo submitted values.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use wangge_domain::Scope;
use wangge_services::FieldError;

use wangge_services::identity::Caller;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// zh-CN unless the first language the client prefers is English.
    pub fn from_headers(h: &HeaderMap) -> Lang {
        let first = h
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// The caller's scope, from the sign-in the access guard checked: the only source of area
/// filtering for handlers. A request that reached a handler unauthenticated sees nothing.
pub struct CallerScope(pub Scope);

impl<S: Send + Sync> FromRequestParts<S> for CallerScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(CallerScope(
            parts
                .extensions
                .get::<Caller>()
                .map_or_else(Scope::nothing, |c| c.scope.clone()),
        ))
    }
}

/// The signed-in caller (set by the access guard).
pub struct CurrentCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for CurrentCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(CurrentCaller)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// JSON body: 415 without a JSON content type, 413 over the size limit, 400 for malformed
/// JSON, 422 naming the field for a missing or mistyped field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::bad_request(
                        "body.unreadable",
                        "无法读取请求内容",
                        "The request body could not be read",
                    )
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so a truncated body is reported as such and not as a wrong field.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "json.syntax",
            format!("JSON 格式错误：第 {} 行第 {} 列", e.line(), e.column()),
            format!("Malformed JSON at line {}, column {}", e.line(), e.column()),
        )
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        // serde names a missing field in its message; other data errors may quote the value,
        // which could be personal data, so only the field path is reported.
        if let Some(rest) = msg.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or("");
            let full = if path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            return FieldError::required(&full).into();
        }
        FieldError::new(
            &path,
            "json.type",
            "该字段的类型或取值不正确",
            "This field has the wrong type or value",
        )
        .into()
    })
}

/// Query string parameters; errors name the parameter without echoing values.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|_| {
                ApiError::bad_request(
                    "query.invalid",
                    "查询参数格式错误（数字参数须为整数）",
                    "Malformed query parameters (numeric parameters must be integers)",
                )
            })
    }
}

/// Collects field errors while parsing a request into domain types, so one response lists
/// every problem.
#[derive(Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn parse<T, E>(
        &mut self,
        field: &str,
        r: Result<T, E>,
        to: impl Fn(&str, &E) -> FieldError,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(to(field, &e));
                None
            }
        }
    }

    pub fn domain<T>(
        &mut self,
        field: &str,
        r: Result<T, wangge_domain::DomainError>,
    ) -> Option<T> {
        self.parse(field, r, FieldError::from_domain)
    }

    pub fn optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl Fn(&str) -> Result<T, wangge_domain::DomainError>,
    ) -> Option<T> {
        let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
        self.domain(field, parse(raw))
    }

    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Service(wangge_services::ServiceError::Invalid(
                self.errors,
            )))
        }
    }
}

/// Every value a `Fields` accepted is present once `finish` succeeded.
pub fn checked<T>(v: Option<T>) -> T {
    v.expect("field checked by Fields::finish")
}
