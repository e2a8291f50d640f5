//! Entrustments and key custody (委托 / 钥匙托管) for staff: record an entrustment (or take one on
//! from a campaign pre-registration), record each key hand-over in the hash-linked chain, photos,
//! the resident's link and one-time code, the key cabinet, and receipt checks.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::Permission;
use wangge_domain::entrustment::{EntrustmentState, EntrustmentStep, ReceiptCode};
use wangge_services::FieldError;
use wangge_services::entrustments::{CODE_TTL, EntrustCommand, RecordKeyEvent};
use wangge_store::attachments::AttachmentParent;
use wangge_store::entrustments::{EntrustmentFilter, EntrustmentRecord};

use super::attachments::{AttachmentOut, attachments_of, not_multipart, receive, single, uploaded};
use super::{PageOf, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, CurrentCaller, Fields};

mod out;

pub use out::{EntrustmentDetail, EntrustmentOut, KeyEventOut, StaffOut};

pub fn router(upload_body_limit: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload_photo, list_photos))
        .layer(DefaultBodyLimit::max(upload_body_limit));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(list_entrustments, create_entrustment))
        .routes(routes!(get_entrustment))
        .routes(routes!(entrustment_step))
        .routes(routes!(record_key_event))
        .routes(routes!(resident_link))
        .routes(routes!(resident_code))
        .routes(routes!(entrustment_contact))
        .routes(routes!(key_cabinet))
        .routes(routes!(check_receipt))
        .routes(routes!(entrust_from_request))
}

fn audited(action: &'static str, r: &EntrustmentRecord) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("entrustment"),
        object_id: Some(r.id),
        area_path: Some(r.area_path.as_str().to_owned()),
        reason: None,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EntrustmentListParams {
    pub state: Option<String>,
    /// Only entrustments whose key is held by staff, in the cabinet or with a contractor.
    pub key_held: Option<bool>,
    pub household_id: Option<i64>,
    /// Only those naming me.
    pub mine: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/entrustments", tag = "entrustments", params(EntrustmentListParams),
    responses((status = 200, body = PageOf<EntrustmentOut>), (status = 422, body = Problem)))]
async fn list_entrustments(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    ApiQuery(q): ApiQuery<EntrustmentListParams>,
) -> ApiResult<Json<PageOf<EntrustmentOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let state = f.optional("state", q.state.as_deref(), EntrustmentState::parse);
    f.finish()?;
    let filter = EntrustmentFilter {
        state,
        key_held: q.key_held.unwrap_or(false),
        household_id: q.household_id,
        staff_id: q.mine.unwrap_or(false).then_some(caller.user_id),
    };
    let found = s
        .registry
        .store
        .entrustments(&caller.scope, &filter, &page)
        .await?;
    Ok(Json(PageOf::from_page(found, EntrustmentOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EntrustmentIn {
    pub household_id: i64,
    pub resident_name: String,
    /// Where staff reach the resident; stored encrypted.
    pub phone: String,
    /// What it is for (e.g. 更换节能窗).
    pub purpose: String,
    /// First and last day of the period (Beijing), at most 92 days.
    #[schema(value_type = String, format = Date)]
    pub first_day: Date,
    #[schema(value_type = String, format = Date)]
    pub last_day: Date,
    /// What staff may do: hold_key, let_contractors_in, take_photos.
    pub acts: Vec<String>,
    /// phone_call, sms or wechat.
    pub channel: String,
    /// The staff the resident names (you, by default); at most five.
    #[serde(default)]
    pub staff_ids: Vec<i64>,
}

fn command(b: EntrustmentIn) -> EntrustCommand {
    EntrustCommand {
        household_id: b.household_id,
        resident_name: b.resident_name,
        phone: b.phone,
        purpose: b.purpose,
        first_day: Some(b.first_day),
        last_day: Some(b.last_day),
        acts: b.acts,
        channel: b.channel,
        staff_ids: b.staff_ids,
    }
}

/// Records an entrustment; it takes effect once the resident confirms it on their page.
#[utoipa::path(post, path = "/entrustments", tag = "entrustments", request_body = EntrustmentIn,
    responses((status = 201, body = EntrustmentOut), (status = 422, body = Problem)))]
async fn create_entrustment(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    ApiJson(body): ApiJson<EntrustmentIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<EntrustmentOut>)> {
    let by = (caller.user_id, caller.username.as_str());
    let r = s
        .registry
        .create_entrustment(&caller.scope, by, command(body))
        .await?;
    Ok((
        StatusCode::CREATED,
        audited("entrustment.create", &r),
        Json(r.into()),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FromRequestIn {
    pub purpose: String,
    #[schema(value_type = String, format = Date)]
    pub first_day: Date,
    #[schema(value_type = String, format = Date)]
    pub last_day: Date,
    pub acts: Vec<String>,
    pub channel: String,
    #[serde(default)]
    pub staff_ids: Vec<i64>,
}

/// Takes on a resident's campaign pre-registration ("please act for me") as an entrustment; it
/// goes to the resident for confirmation and the request is marked handled.
#[utoipa::path(post, path = "/campaign-requests/{id}/entrust", tag = "entrustments",
    request_body = FromRequestIn,
    responses((status = 201, body = EntrustmentOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn entrust_from_request(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<FromRequestIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<EntrustmentOut>)> {
    let cmd = EntrustCommand {
        purpose: b.purpose,
        first_day: Some(b.first_day),
        last_day: Some(b.last_day),
        acts: b.acts,
        channel: b.channel,
        staff_ids: b.staff_ids,
        ..Default::default()
    };
    let by = (caller.user_id, caller.username.as_str());
    let r = s
        .registry
        .entrust_from_request(&caller.scope, by, id, cmd)
        .await?;
    Ok((
        StatusCode::CREATED,
        audited("entrustment.create", &r),
        Json(r.into()),
    ))
}

#[utoipa::path(get, path = "/entrustments/{id}", tag = "entrustments",
    responses((status = 200, body = EntrustmentDetail), (status = 404, body = Problem)))]
async fn get_entrustment(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<EntrustmentDetail>)> {
    let r = s.registry.store.entrustment(&scope, id).await?;
    let events = s.registry.store.key_events(&scope, id).await?;
    Ok((
        audited("entrustment.read", &r),
        Json(EntrustmentDetail {
            entrustment: r.into(),
            key_events: events.into_iter().map(KeyEventOut::from).collect(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StepIn {
    /// cancel: decline a resident's request or withdraw an entrustment not yet confirmed.
    /// (Confirming, revoking and completing are the resident's, on their page.)
    pub step: String,
}

#[utoipa::path(post, path = "/entrustments/{id}/steps", tag = "entrustments", request_body = StepIn,
    responses((status = 200, body = EntrustmentOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn entrustment_step(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StepIn>,
) -> ApiResult<(Extension<Audited>, Json<EntrustmentOut>)> {
    let step = EntrustmentStep::parse(&b.step).ok_or_else(|| {
        ApiError::from(FieldError::new(
            "step",
            "entrustment_step.invalid",
            "未知的操作：应为 cancel",
            "Unknown step: expected cancel",
        ))
    })?;
    let r = s.registry.entrustment_staff_step(&scope, id, step).await?;
    Ok((audited("entrustment.step", &r), Json(r.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct KeyEventIn {
    /// received_from_resident, stored, taken_from_cabinet, lent_to_contractor,
    /// returned_to_custody, returned_to_resident, lost or correction.
    pub kind: String,
    /// Defaults to now; never in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
    /// colleague (with witness_id), resident or contractor: who confirms a hand-over.
    pub witness: Option<String>,
    pub witness_id: Option<i64>,
    /// The key cabinet slot (stored), e.g. A-03.
    pub slot: Option<String>,
    pub contractor_name: Option<String>,
    pub company: Option<String>,
    pub contractor_phone: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expected_return: Option<OffsetDateTime>,
    /// Who answers for a lent key (you, by default).
    pub supervisor_id: Option<i64>,
    /// Lost or correction: what happened.
    pub note: Option<String>,
    /// Correction: the event (seq) it annotates.
    pub corrects: Option<u32>,
    /// A photo already attached to the entrustment.
    pub attachment_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyEventRecorded {
    pub entrustment: EntrustmentOut,
    pub event: KeyEventOut,
}

/// Records a key hand-over. The custody rules decide (409 naming the rule otherwise).
#[utoipa::path(post, path = "/entrustments/{id}/key-events", tag = "entrustments",
    request_body = KeyEventIn,
    responses((status = 201, body = KeyEventRecorded), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_key_event(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<KeyEventIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<KeyEventRecorded>)> {
    let cmd = RecordKeyEvent {
        kind: b.kind,
        at: b.at,
        witness: b.witness,
        witness_id: b.witness_id,
        slot: b.slot,
        contractor_name: b.contractor_name,
        company: b.company,
        contractor_phone: b.contractor_phone,
        expected_return: b.expected_return,
        supervisor_id: b.supervisor_id,
        note: b.note,
        corrects: b.corrects,
        attachment_id: b.attachment_id,
    };
    let by = (caller.user_id, caller.username.as_str());
    let (r, e) = s
        .registry
        .record_key_event(&caller.scope, by, id, cmd)
        .await?;
    Ok((
        StatusCode::CREATED,
        audited("entrustment.key_event", &r),
        Json(KeyEventRecorded {
            entrustment: r.into(),
            event: e.into(),
        }),
    ))
}

#[utoipa::path(post, path = "/entrustments/{id}/attachments", tag = "entrustments",
    request_body(content = super::attachments::UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentOut), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn upload_photo(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<AttachmentOut>)> {
    let attachments = attachments_of(&s)?;
    let upload = single(receive(mp.map_err(not_multipart)?, 1).await?)?;
    let who = (Some(caller.user_id), caller.username.as_str());
    let a = attachments
        .upload(
            &caller.scope,
            who,
            AttachmentParent::Entrustment(id),
            upload,
        )
        .await?;
    Ok(uploaded(a))
}

#[utoipa::path(get, path = "/entrustments/{id}/attachments", tag = "entrustments",
    responses((status = 200, body = Vec<AttachmentOut>), (status = 404, body = Problem)))]
async fn list_photos(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    s.registry.store.entrustment(&scope, id).await?;
    let found = s
        .registry
        .store
        .attachments_of(&scope, &[AttachmentParent::Entrustment(id)])
        .await?;
    Ok(Json(found.into_iter().map(AttachmentOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// The resident's page; shown only now. Any earlier link stops working.
    pub url: String,
}

#[utoipa::path(post, path = "/entrustments/{id}/resident-link", tag = "entrustments",
    responses((status = 200, body = LinkOut), (status = 404, body = Problem)))]
async fn resident_link(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<LinkOut>)> {
    let link = s.registry.resident_link(&scope, id).await?;
    let r = s.registry.store.entrustment(&scope, id).await?;
    Ok((
        audited("entrustment.resident_link", &r),
        Json(LinkOut {
            url: format!("/r/{link}"),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeOut {
    /// Six digits for the resident, given through the entrustment's contact channel.
    pub code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[utoipa::path(post, path = "/entrustments/{id}/resident-code", tag = "entrustments",
    responses((status = 200, body = CodeOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn resident_code(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<CodeOut>)> {
    let code = s.registry.resident_code(&scope, id).await?;
    let r = s.registry.store.entrustment(&scope, id).await?;
    Ok((
        audited("entrustment.resident_code", &r),
        Json(CodeOut {
            code,
            expires_at: OffsetDateTime::now_utc() + CODE_TTL,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub phone: String,
}

/// The resident's phone, for the named staff (or a role allowed full numbers); audited.
#[utoipa::path(post, path = "/entrustments/{id}/contact", tag = "entrustments",
    responses((status = 200, body = ContactOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn entrustment_contact(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<ContactOut>)> {
    let r = s.registry.store.entrustment(&caller.scope, id).await?;
    let named = r.staff.iter().any(|(u, _)| *u == caller.user_id);
    if !named && !caller.role.can(Permission::RevealPersonal) {
        return Err(ApiError::Denied {
            status: StatusCode::FORBIDDEN,
            code: "entrustment.not_named",
            zh: "只有被委托的工作人员或有权查看完整号码的角色才能查看居民电话".into(),
            en: "Only the named staff, or a role allowed full numbers, may see the phone".into(),
        });
    }
    let phone = s
        .registry
        .store
        .entrustment_phone(&caller.scope, id)
        .await?;
    Ok((
        audited("entrustment.contact", &r),
        Json(ContactOut { phone }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CabinetOut {
    /// Keys held now (with staff, in the cabinet, with a contractor), in your area.
    pub items: Vec<EntrustmentOut>,
}

/// The key cabinet: every entrusted key held now in your area, overdue ones flagged.
#[utoipa::path(get, path = "/key-cabinet", tag = "entrustments",
    responses((status = 200, body = CabinetOut)))]
async fn key_cabinet(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
) -> ApiResult<Json<CabinetOut>> {
    let filter = EntrustmentFilter {
        key_held: true,
        ..Default::default()
    };
    let page = wangge_store::page::PageRequest {
        after: None,
        limit: wangge_store::page::MAX_LIMIT,
    };
    let found = s
        .registry
        .store
        .entrustments(&scope, &filter, &page)
        .await?;
    Ok(Json(CabinetOut {
        items: found.items.into_iter().map(EntrustmentOut::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptOut {
    pub entrustment_id: i64,
    pub address: String,
    pub event: KeyEventOut,
}

/// The hand-over a receipt's code names, in your area (404 for a code that names none).
#[utoipa::path(get, path = "/key-receipts/{code}", tag = "entrustments",
    responses((status = 200, body = ReceiptOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn check_receipt(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(code): Path<String>,
) -> ApiResult<Json<ReceiptOut>> {
    let code = ReceiptCode::parse(&code).map_err(|e| FieldError::from_domain("code", &e))?;
    let (r, e) = s.registry.store.key_event_by_receipt(&scope, &code).await?;
    Ok(Json(ReceiptOut {
        entrustment_id: r.id,
        address: r.address,
        event: e.into(),
    }))
}
