//! The doors of a campaign: list (by id, or in walking order), one door with its attempts and
//! residents' requests, record an outcome (JSON, or multipart with photos that attach to the
//! visit the outcome records), reopen, bulk reassignment and slots.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::campaign::Slot;
use wangge_domain::{ContactMode, ItemOutcome, ItemStatus, TagCode};
use wangge_services::FieldError;
use wangge_services::attachments::Upload;
use wangge_services::campaigns::{RecordItem, SlotChange};
use wangge_services::registry::VisitTag;
use wangge_store::attachments::AttachmentParent;
use wangge_store::campaigns::{Attempt, CampaignItem, ItemFilter, ItemOrder, ItemSelection};

use super::campaign_requests::RequestOut;
use super::{PageOf, area_filter, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, CurrentCaller, Fields, checked, parse_json};

pub fn router(upload_body_limit: usize) -> OpenApiRouter<AppState> {
    let outcome = OpenApiRouter::new()
        .routes(routes!(record_outcome))
        .layer(axum::extract::DefaultBodyLimit::max(upload_body_limit));
    OpenApiRouter::new()
        .merge(outcome)
        .routes(routes!(list_items))
        .routes(routes!(assign_items))
        .routes(routes!(set_slots))
        .routes(routes!(get_item))
        .routes(routes!(reopen_item))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotOut {
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    #[schema(value_type = String, format = Date)]
    pub ends_on: Date,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub id: i64,
    pub campaign_id: i64,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub dwelling_id: Option<i64>,
    pub building_id: Option<i64>,
    pub building_label: Option<String>,
    pub floor: Option<i64>,
    pub address: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    /// door or contactless.
    pub mode: String,
    /// pending, done, not_home, refused, not_found or follow_up.
    pub status: String,
    pub status_name_zh: String,
    pub slot: Option<SlotOut>,
    /// Form answers by field key.
    #[schema(value_type = Option<Object>)]
    pub answers: Option<serde_json::Value>,
    pub note: Option<String>,
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    /// Added on demand after launch (a newcomer).
    pub added_after_launch: bool,
}

impl From<CampaignItem> for ItemOut {
    fn from(i: CampaignItem) -> Self {
        ItemOut {
            id: i.id,
            campaign_id: i.campaign_id,
            household_id: i.household_id,
            person_id: i.person_id,
            person_name: i.person_name,
            dwelling_id: i.dwelling_id,
            building_id: i.building_id,
            building_label: i.building_label,
            floor: i.floor,
            address: i.address,
            assignee_id: i.assignee_id,
            assignee_name: i.assignee_name,
            mode: i.mode.as_str().to_owned(),
            status: i.status.as_str().to_owned(),
            status_name_zh: i.status.name_zh().to_owned(),
            slot: i.slot.map(|s| SlotOut {
                starts_on: s.starts_on(),
                ends_on: s.ends_on(),
                note: s.note().map(str::to_owned),
            }),
            answers: i.answers.and_then(|a| serde_json::from_str(&a).ok()),
            note: i.note,
            attempts: i.attempts,
            last_attempt_at: i.last_attempt_at,
            added_after_launch: i.added_after_launch,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    pub id: i64,
    /// An outcome, or `reopened`.
    pub outcome: String,
    pub mode: String,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<serde_json::Value>,
    pub note: Option<String>,
    /// The visit it recorded on the household's history.
    pub visit_id: Option<i64>,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl From<Attempt> for AttemptOut {
    fn from(a: Attempt) -> Self {
        AttemptOut {
            id: a.id,
            outcome: a.outcome,
            mode: a.mode.as_str().to_owned(),
            answers: a.answers.and_then(|x| serde_json::from_str(&x).ok()),
            note: a.note,
            visit_id: a.visit_id,
            by: a.by_name,
            at: a.at,
        }
    }
}

fn audited(action: &'static str, i: &CampaignItem) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("campaign_item"),
        object_id: Some(i.id),
        area_path: Some(i.area_path.as_str().to_owned()),
        reason: None,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ItemListParams {
    /// pending, done, not_home, refused, not_found or follow_up.
    pub status: Option<String>,
    /// Only doors still to be worked.
    pub open: Option<bool>,
    /// Only doors assigned to me.
    pub mine: Option<bool>,
    pub building_id: Option<i64>,
    /// Area code.
    pub area: Option<String>,
    /// Only open doors whose slot has ended.
    pub overdue: Option<bool>,
    /// Only doors with an open resident's request.
    pub requests: Option<bool>,
    /// `id` (default, pages with a cursor) or `doors` (walking order: area, building, floor;
    /// one page of at most `limit`).
    pub order: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Doors of a campaign inside your area. The revisit queue is `status=not_home`.
#[utoipa::path(get, path = "/campaigns/{id}/items", tag = "campaigns", params(ItemListParams),
    responses((status = 200, body = PageOf<ItemOut>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_items(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<ItemListParams>,
) -> ApiResult<Json<PageOf<ItemOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let status = f.optional("status", q.status.as_deref(), ItemStatus::parse);
    let area = f.optional("area", q.area.as_deref(), wangge_domain::AreaCode::parse);
    let order = match q.order.as_deref() {
        None | Some("id") => ItemOrder::Id,
        Some("doors") => ItemOrder::Doors,
        Some(_) => {
            f.push(FieldError::new(
                "order",
                "order.invalid",
                "排序须为 id 或 doors",
                "order must be id or doors",
            ));
            ItemOrder::Id
        }
    };
    f.finish()?;
    s.registry.store.campaign(&scope, id).await?;
    let filter = ItemFilter {
        status,
        open: q.open.unwrap_or(false),
        assignee_id: q.mine.unwrap_or(false).then_some(caller.user_id),
        building_id: q.building_id,
        within: area_filter(&s, &scope, "area", area).await?,
        overdue_on: q.overdue.unwrap_or(false).then(|| s.registry.clock.today()),
        with_requests: q.requests.unwrap_or(false),
    };
    let found = s
        .registry
        .store
        .campaign_items(&scope, id, &filter, order, &page)
        .await?;
    Ok(Json(PageOf::from_page(found, ItemOut::from)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: ItemOut,
    /// Every recording at this door, oldest first.
    pub attempts: Vec<AttemptOut>,
    /// Residents' pre-registrations for this door.
    pub requests: Vec<RequestOut>,
}

#[utoipa::path(get, path = "/campaign-items/{id}", tag = "campaigns",
    responses((status = 200, body = ItemDetail), (status = 404, body = Problem)))]
async fn get_item(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<ItemDetail>)> {
    let store = &s.registry.store;
    let item = store.campaign_item(&scope, id).await?;
    store.campaign(&scope, item.campaign_id).await?;
    let attempts = store.item_attempts(&scope, id).await?;
    let requests = store
        .campaign_requests(&scope, item.campaign_id, false)
        .await?
        .into_iter()
        .filter(|r| r.item_id == Some(id))
        .map(RequestOut::from)
        .collect();
    Ok((
        audited("campaign_item.read", &item),
        Json(ItemDetail {
            attempts: attempts.into_iter().map(AttemptOut::from).collect(),
            requests,
            item: item.into(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagIn {
    pub tag: String,
    /// For a person tag on a household door: the member.
    pub person_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OutcomeIn {
    /// done, not_home, refused, not_found or follow_up.
    pub outcome: String,
    /// door or contactless, when not as planned.
    pub mode: Option<String>,
    /// Form answers by field key, as text (numbers, yes/no and dates too). Photo fields are
    /// answered by the photos of a multipart request.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    pub note: Option<String>,
    /// Registry write-back: tags seen at the door.
    #[serde(default)]
    pub add_tags: Vec<TagIn>,
    /// Registry write-back: tag assignments that no longer hold (e.g. home health monitoring).
    #[serde(default)]
    pub end_tags: Vec<i64>,
}

/// The multipart form of an outcome with photos (described for the API document).
#[derive(ToSchema)]
#[allow(dead_code)] // only describes the form in the API document
pub struct OutcomeForm {
    /// The outcome as JSON (`OutcomeIn`).
    data: String,
    /// Up to four photos (JPEG, PNG or WebP).
    #[schema(value_type = Vec<String>, format = Binary)]
    photos: Vec<Vec<u8>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeOut {
    #[serde(flatten)]
    pub item: ItemOut,
    /// The visit recorded on the household's history (none when the door was not found).
    pub visit_id: Option<i64>,
    /// Photos attached to that visit.
    pub attachment_ids: Vec<i64>,
}

fn record_cmd(body: OutcomeIn, photos: u32) -> Result<RecordItem, ApiError> {
    let mut f = Fields::default();
    let outcome = f.domain("outcome", ItemOutcome::parse(&body.outcome));
    let mode = f.optional("mode", body.mode.as_deref(), ContactMode::parse);
    let add_tags: Vec<Option<VisitTag>> = body
        .add_tags
        .iter()
        .enumerate()
        .map(|(i, t)| {
            f.domain(&format!("add_tags[{i}].tag"), TagCode::parse(&t.tag))
                .map(|tag| VisitTag {
                    tag,
                    person_id: t.person_id,
                })
        })
        .collect();
    f.finish()?;
    Ok(RecordItem {
        outcome: checked(outcome),
        mode,
        answers: body.answers,
        photos,
        note: body.note,
        add_tags: add_tags.into_iter().map(checked).collect(),
        end_tags: body.end_tags,
    })
}

/// Records an outcome at a door, with its visit and registry write-back in one step; photos
/// (multipart) are checked first and attach to the visit.
pub(crate) async fn record_with_photos(
    s: &AppState,
    caller: &wangge_services::identity::Caller,
    id: i64,
    mut cmd: RecordItem,
    photos: Vec<Upload>,
) -> Result<(CampaignItem, Option<i64>, Vec<i64>), wangge_services::ServiceError> {
    let mut prepared = Vec::new();
    if !photos.is_empty() {
        let Some(attachments) = s.attachments.as_ref() else {
            return Err(crate::pages::attachments::unavailable());
        };
        for p in photos {
            prepared.push(attachments.prepare(p).await?);
        }
    }
    cmd.photos = u32::try_from(prepared.len()).unwrap_or(u32::MAX);
    let who = (Some(caller.user_id), caller.username.as_str());
    let (item, visit) = s.registry.record_item(&caller.scope, who, id, cmd).await?;
    let mut ids = Vec::new();
    if let (Some(v), Some(attachments)) = (visit, s.attachments.as_ref()) {
        for p in prepared {
            let a = attachments
                .attach(&caller.scope, who, AttachmentParent::Visit(v), p)
                .await?;
            ids.push(a.id);
        }
    }
    Ok((item, visit, ids))
}

#[utoipa::path(post, path = "/campaign-items/{id}/outcome", tag = "campaigns",
    request_body(content((OutcomeIn = "application/json"), (OutcomeForm = "multipart/form-data"))),
    responses((status = 200, body = OutcomeOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn record_outcome(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    req: Request,
) -> ApiResult<(Extension<Audited>, Json<OutcomeOut>)> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
    let (body, photos) = if multipart {
        let mp = Multipart::from_request(req, &s)
            .await
            .map_err(super::attachments::not_multipart)?;
        let got = super::attachments::receive(mp, crate::PHOTOS_PER_FORM).await?;
        let data = got
            .fields
            .iter()
            .find(|(k, _)| k == "data")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| ApiError::from(FieldError::required("data")))?;
        (parse_json::<OutcomeIn>(data.as_bytes())?, got.files)
    } else {
        let ApiJson(body) = ApiJson::<OutcomeIn>::from_request(req, &s).await?;
        (body, Vec::new())
    };
    let cmd = record_cmd(body, 0)?;
    let (item, visit_id, attachment_ids) = record_with_photos(&s, &caller, id, cmd, photos).await?;
    Ok((
        audited("campaign_item.record", &item),
        Json(OutcomeOut {
            item: item.into(),
            visit_id,
            attachment_ids,
        }),
    ))
}

/// Reopens a finished door so it can be recorded again (kept in its history).
#[utoipa::path(post, path = "/campaign-items/{id}/reopen", tag = "campaigns",
    responses((status = 200, body = ItemOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn reopen_item(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<ItemOut>)> {
    let item = s.registry.store.campaign_item(&scope, id).await?;
    if !s
        .registry
        .store
        .manages_campaign(&scope, item.campaign_id)
        .await?
    {
        return Err(wangge_services::ServiceError::NotFound.into());
    }
    let item = s
        .registry
        .reopen_item(&scope, (Some(caller.user_id), &caller.username), id)
        .await?;
    Ok((audited("campaign_item.reopen", &item), Json(item.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SelectionIn {
    /// These doors …
    #[serde(default)]
    pub item_ids: Vec<i64>,
    /// … or every door of this building.
    pub building_id: Option<i64>,
}

fn selection(sel: &SelectionIn) -> Result<ItemSelection, ApiError> {
    match (sel.building_id, sel.item_ids.is_empty()) {
        (Some(b), true) => Ok(ItemSelection::Building(b)),
        (None, false) if sel.item_ids.len() <= 2000 => Ok(ItemSelection::Ids(sel.item_ids.clone())),
        _ => Err(FieldError::new(
            "item_ids",
            "campaign.selection",
            "请指定 item_ids（最多 2000 个）或 building_id 之一",
            "Give item_ids (at most 2000) or building_id, not both",
        )
        .into()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignIn {
    #[serde(flatten)]
    pub selection: SelectionIn,
    /// The colleague who works these doors now.
    pub assignee_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedOut {
    /// Doors changed (doors outside the colleague's areas are left alone).
    pub changed: u64,
}

fn campaign_audit(action: &'static str, id: i64) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("campaign"),
        object_id: Some(id),
        area_path: None,
        reason: None,
    })
}

/// Gives doors to a colleague, by list or by building.
#[utoipa::path(post, path = "/campaigns/{id}/items/assign", tag = "campaigns", request_body = AssignIn,
    responses((status = 200, body = ChangedOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn assign_items(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssignIn>,
) -> ApiResult<(Extension<Audited>, Json<ChangedOut>)> {
    let sel = selection(&body.selection)?;
    let n = s
        .registry
        .assign_items(&scope, id, &sel, body.assignee_id)
        .await?;
    Ok((
        campaign_audit("campaign.assign", id),
        Json(ChangedOut { changed: n.changed }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SlotsIn {
    #[serde(flatten)]
    pub selection: SelectionIn,
    /// The first day residents must be home; with `ends_on`. Both absent clears the slot.
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<Date>,
    pub note: Option<String>,
}

/// Schedules (or clears) the slot of doors, by list or by building (W2: building 14, 11–13 Nov).
#[utoipa::path(post, path = "/campaigns/{id}/items/slots", tag = "campaigns", request_body = SlotsIn,
    responses((status = 200, body = ChangedOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_slots(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SlotsIn>,
) -> ApiResult<(Extension<Audited>, Json<ChangedOut>)> {
    let sel = selection(&body.selection)?;
    let change = match (body.starts_on, body.ends_on) {
        (None, None) => SlotChange::Clear,
        (Some(a), Some(b)) => SlotChange::Set(
            Slot::new(a, b, body.note.as_deref())
                .map_err(|e| FieldError::from_domain("ends_on", &e))?,
        ),
        _ => {
            return Err(FieldError::required(if body.starts_on.is_none() {
                "starts_on"
            } else {
                "ends_on"
            })
            .into());
        }
    };
    let n = s.registry.set_item_slots(&scope, id, &sel, &change).await?;
    Ok((
        campaign_audit("campaign.slots", id),
        Json(ChangedOut { changed: n.changed }),
    ))
}
