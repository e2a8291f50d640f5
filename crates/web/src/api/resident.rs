//! The resident's own page data for an entrustment, without an account (the link is the key,
//! a one-time code from staff opens a half-hour view held in a cookie): the entrustment, every
//! key event with its receipt code, the photos, who in the community accessed the household's
//! records and why; and the resident's own steps — confirm, revoke, say the key is back.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::FromRequest};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::Scope;
use wangge_domain::entrustment::EntrustmentStep;
use wangge_services::attachments::Variant;
use wangge_services::entrustments::OpenView;
use wangge_services::{FieldError, Registry, ServiceError};
use wangge_store::attachments::AttachmentParent;

use super::attachments::{attachments_of, serve_file};
use super::entrustments::{EntrustmentOut, KeyEventOut};
use crate::AppState;
use crate::access::client_addr_of;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;

pub const RESIDENT_COOKIE: &str = "wangge_resident";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_view))
        .routes(routes!(get_view))
        .routes(routes!(resident_step))
        .routes(routes!(resident_photo))
}

/// The view session's secret from the resident's cookie.
pub fn resident_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == RESIDENT_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The cookie holding a view session: this site only, never sent cross-site, gone in 30 minutes.
pub fn session_cookie(session: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{RESIDENT_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=1800{secure}"
    ))
    .expect("a cookie of URL-safe characters")
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeIn {
    /// The six digits staff gave.
    pub code: String,
}

fn code_refused(code: &'static str, zh: String, en: String) -> ApiError {
    ApiError::Denied {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        zh,
        en,
    }
}

/// Opens the resident's view with the code staff gave; sets the view cookie.
#[utoipa::path(post, path = "/resident/entrustments/{link}/session", tag = "public",
    request_body = CodeIn,
    responses((status = 204, description = "The view is open (cookie set)"),
        (status = 404, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn open_view(
    State(s): State<AppState>,
    Path(link): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    if !s.login_limiter.allow(client_addr_of(&req)) {
        return Err(super::public::limited());
    }
    let secure = req
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v == "https");
    let ApiJson(b) = ApiJson::<CodeIn>::from_request(req, &s).await?;
    match s.registry.open_resident_view(&link, &b.code).await? {
        OpenView::Opened { session } => {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&session, secure));
            Ok(resp)
        }
        OpenView::Wrong { tries_left } => Err(code_refused(
            "resident_code.wrong",
            format!("验证码不正确，还可以再试 {tries_left} 次"),
            format!("Wrong code; {tries_left} more tries"),
        )),
        OpenView::NoCode => Err(code_refused(
            "resident_code.none",
            "验证码已失效，请联系工作人员重新获取".into(),
            "The code is no longer valid; ask staff for a new one".into(),
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessOut {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The staff member.
    pub who: String,
    pub role_zh: String,
    pub role_en: String,
    /// What they did, in plain words.
    pub what_zh: String,
    pub what_en: String,
    /// The reason they gave, when one was needed.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentViewOut {
    pub entrustment: EntrustmentOut,
    /// Every key event, oldest first, with its receipt code.
    pub key_events: Vec<KeyEventOut>,
    /// Photos (attachment ids; fetch them under `photos/{id}`).
    pub photos: Vec<i64>,
    /// Who in the community read or changed the household's records, newest first.
    pub accesses: Vec<AccessOut>,
    /// What the resident may do now: confirm, revoke, complete.
    pub steps: Vec<String>,
}

fn session_of(headers: &HeaderMap) -> Result<String, ApiError> {
    resident_session(headers).ok_or_else(|| ApiError::Denied {
        status: StatusCode::UNAUTHORIZED,
        code: "resident.code_required",
        zh: "请先输入工作人员提供的验证码".into(),
        en: "Enter the code staff gave you first".into(),
    })
}

pub async fn view_out(
    s: &AppState,
    link: &str,
    session: &str,
) -> Result<ResidentViewOut, ServiceError> {
    let view = s.registry.resident_view(link, session).await?;
    let accesses = Registry::access_rows(&view)
        .into_iter()
        .map(|a| AccessOut {
            at: a.at,
            who: a.who,
            role_zh: a.role_zh,
            role_en: a.role_en,
            what_zh: a.what_zh.to_owned(),
            what_en: a.what_en.to_owned(),
            reason: a.reason,
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let events: Vec<_> = view.events.iter().map(|e| e.event.clone()).collect();
    let custody =
        wangge_domain::entrustment::Custody::replay(&view.entrustment.entrustment, events.iter())
            .unwrap_or_default();
    let steps = view
        .entrustment
        .entrustment
        .steps_for(
            wangge_domain::entrustment::EntrustmentParty::Resident,
            now,
            &custody,
        )
        .into_iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    Ok(ResidentViewOut {
        photos: view.photos.clone(),
        key_events: view.events.into_iter().map(KeyEventOut::from).collect(),
        entrustment: view.entrustment.into(),
        accesses,
        steps,
    })
}

#[utoipa::path(get, path = "/resident/entrustments/{link}", tag = "public",
    responses((status = 200, body = ResidentViewOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_view(
    State(s): State<AppState>,
    Path(link): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<ResidentViewOut>> {
    let session = session_of(&headers)?;
    Ok(Json(view_out(&s, &link, &session).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResidentStepIn {
    /// confirm (the entrustment as shown), revoke (at any time), complete (the key is back).
    pub step: String,
}

#[utoipa::path(post, path = "/resident/entrustments/{link}/steps", tag = "public",
    request_body = ResidentStepIn,
    responses((status = 200, body = EntrustmentOut), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn resident_step(
    State(s): State<AppState>,
    Path(link): Path<String>,
    req: Request,
) -> ApiResult<Json<EntrustmentOut>> {
    let session = session_of(req.headers())?;
    let ApiJson(b) = ApiJson::<ResidentStepIn>::from_request(req, &s).await?;
    let step = EntrustmentStep::parse(&b.step)
        .filter(|st| st.by() == wangge_domain::entrustment::EntrustmentParty::Resident)
        .ok_or_else(|| {
            ApiError::from(FieldError::new(
                "step",
                "entrustment_step.invalid",
                "应为 confirm、revoke 或 complete",
                "Expected confirm, revoke or complete",
            ))
        })?;
    let r = s.registry.resident_step(&link, &session, step).await?;
    Ok(Json(r.into()))
}

#[utoipa::path(get, path = "/resident/entrustments/{link}/photos/{id}", tag = "public",
    responses((status = 200, description = "The photo"), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn resident_photo(
    State(s): State<AppState>,
    Path((link, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let session = session_of(&headers)?;
    let view = s.registry.resident_view(&link, &session).await?;
    if !view.photos.contains(&id) {
        return Err(ServiceError::NotFound.into());
    }
    let (a, bytes) = attachments_of(&s)?
        .read(&Scope::everything(), id, Variant::Original)
        .await?;
    if a.parent != AttachmentParent::Entrustment(view.entrustment.id) {
        return Err(ServiceError::NotFound.into());
    }
    Ok(serve_file(&a, Variant::Original, bytes))
}
