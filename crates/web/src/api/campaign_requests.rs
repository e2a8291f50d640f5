//! Residents' pre-registrations for campaigns, on the staff side: list them, mark one handled
//! (linking it to its door when it matched none), and show the phone the resident left to the
//! staff member named to call back.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::Permission;
use wangge_store::campaigns::CampaignRequest;

use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, CurrentCaller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests))
        .routes(routes!(handle_request))
        .routes(routes!(request_contact))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    pub id: i64,
    pub campaign_id: i64,
    /// The door it matched (or was linked to); absent when it matched none.
    pub item_id: Option<i64>,
    pub item_address: Option<String>,
    /// The code the resident was given.
    pub reference: String,
    /// act_for_me, reschedule or other.
    pub kind: String,
    pub kind_name_zh: String,
    pub message: Option<String>,
    pub contact_name: String,
    pub contact_phone_masked: String,
    /// The phone left is one a current member of the matched household is registered with.
    pub phone_matches: bool,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub dwelling: String,
    pub handler_id: Option<i64>,
    pub handler_name: Option<String>,
    pub open: bool,
    pub handled_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub handled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<CampaignRequest> for RequestOut {
    fn from(r: CampaignRequest) -> Self {
        RequestOut {
            id: r.id,
            campaign_id: r.campaign_id,
            item_id: r.item_id,
            item_address: r.item_address,
            reference: r.reference,
            kind: r.kind.as_str().to_owned(),
            kind_name_zh: r.kind.name_zh().to_owned(),
            message: r.message,
            contact_name: r.contact_name,
            contact_phone_masked: r.contact_phone_masked,
            phone_matches: r.phone_matches,
            building: r.building_label,
            unit: r.unit_label,
            dwelling: r.dwelling_label,
            handler_id: r.handler_id,
            handler_name: r.handler_name,
            open: r.open,
            handled_by: r.handled_by,
            handled_at: r.handled_at,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestListParams {
    /// Only open requests.
    pub open: Option<bool>,
}

/// Residents' pre-registrations in your area, open first.
#[utoipa::path(get, path = "/campaigns/{id}/requests", tag = "campaigns", params(RequestListParams),
    responses((status = 200, body = Vec<RequestOut>), (status = 404, body = Problem)))]
async fn list_requests(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<RequestListParams>,
) -> ApiResult<Json<Vec<RequestOut>>> {
    s.registry.store.campaign(&scope, id).await?;
    let found = s
        .registry
        .store
        .campaign_requests(&scope, id, q.open.unwrap_or(false))
        .await?;
    Ok(Json(found.into_iter().map(RequestOut::from).collect()))
}

fn request_audit(action: &'static str, r: &CampaignRequest) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("campaign_request"),
        object_id: Some(r.id),
        area_path: Some(r.area_path.as_str().to_owned()),
        reason: None,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HandleIn {
    /// The door it is about, when it matched none.
    pub item_id: Option<i64>,
}

#[utoipa::path(post, path = "/campaign-requests/{id}/handle", tag = "campaigns", request_body = HandleIn,
    responses((status = 200, body = RequestOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn handle_request(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HandleIn>,
) -> ApiResult<(Extension<Audited>, Json<RequestOut>)> {
    let r = s
        .registry
        .handle_campaign_request(&scope, &caller.username, id, body.item_id)
        .await?;
    Ok((request_audit("campaign_request.handle", &r), Json(r.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    /// The phone the resident left, to call them back.
    pub phone: String,
}

/// The resident's phone, for the staff member named to handle the request (or a role allowed
/// to reveal personal numbers); audited.
#[utoipa::path(post, path = "/campaign-requests/{id}/contact", tag = "campaigns",
    responses((status = 200, body = ContactOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn request_contact(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<ContactOut>)> {
    let r = s.registry.store.campaign_request(&scope, id).await?;
    if r.handler_id != Some(caller.user_id) && !caller.role.can(Permission::RevealPersonal) {
        return Err(ApiError::Denied {
            status: StatusCode::FORBIDDEN,
            code: "campaign_request.not_handler",
            zh: "只有指定的经办人员或有权查看完整号码的角色才能查看联系电话".into(),
            en: "Only the named handler, or a role allowed full numbers, may see the phone".into(),
        });
    }
    let phone = s.registry.store.campaign_request_phone(&scope, id).await?;
    Ok((
        request_audit("campaign_request.contact", &r),
        Json(ContactOut { phone }),
    ))
}
