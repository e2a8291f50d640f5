//! Assist requests (协助): ask colleagues for help on a work order, see the requests for you (or
//! yours), and accept, decline, finish or cancel them. A refused step is a 409 naming the
//! request's state or who may take it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{AssistStep, Role};
use wangge_services::FieldError;
use wangge_services::identity::Caller;
use wangge_services::registry::RequestAssist;
use wangge_store::assists::{AssistFilter, AssistRecord, Colleague};
use wangge_store::page::PageRequest;

use super::{PageOf, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, CurrentCaller, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_order_assists, request_assists))
        .routes(routes!(list_colleagues))
        .routes(routes!(list_assists))
        .routes(routes!(act_on_assist))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistOut {
    pub id: i64,
    pub work_order_id: i64,
    pub work_order_title: String,
    pub work_order_state: String,
    /// User name of the person who asked.
    pub requested_by: String,
    pub requested_by_name: String,
    pub assignee_id: i64,
    pub assignee: String,
    pub assignee_name: String,
    /// The role a team request named.
    pub team_role: Option<String>,
    pub message: String,
    /// requested, accepted, declined, done or cancelled.
    pub state: String,
    pub state_name_zh: String,
    pub decline_reason: Option<String>,
    /// What the colleague did.
    pub done_note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// The steps the caller may take now: accept, decline, done, cancel.
    pub actions: Vec<String>,
}

impl AssistOut {
    pub fn of(a: AssistRecord, caller: &Caller) -> Self {
        let actions = a
            .state
            .steps_for(a.party(caller.user_id))
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        AssistOut {
            id: a.id,
            work_order_id: a.work_order_id,
            work_order_title: a.work_order_title,
            work_order_state: a.work_order_state.as_str().to_owned(),
            requested_by: a.requested_by,
            requested_by_name: a.requested_by_name,
            assignee_id: a.assignee_id,
            assignee: a.assignee,
            assignee_name: a.assignee_name,
            team_role: a.team_role.map(|r| r.as_str().to_owned()),
            message: a.message,
            state: a.state.as_str().to_owned(),
            state_name_zh: a.state.name_zh().to_owned(),
            decline_reason: a.decline_reason,
            done_note: a.done_note,
            requested_at: a.requested_at,
            answered_at: a.answered_at,
            finished_at: a.finished_at,
            actions,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ColleagueOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
}

impl From<Colleague> for ColleagueOut {
    fn from(c: Colleague) -> Self {
        ColleagueOut {
            id: c.id,
            username: c.username,
            display_name: c.display_name,
            role: c.role.as_str().to_owned(),
        }
    }
}

fn audited(action: &'static str, object_type: &'static str, id: i64, path: &str) -> Audited {
    Audited {
        action: Some(action),
        object_type: Some(object_type),
        object_id: Some(id),
        area_path: Some(path.to_owned()),
        reason: None,
    }
}

#[utoipa::path(get, path = "/work-orders/{id}/colleagues", tag = "assists",
    responses((status = 200, body = Vec<ColleagueOut>), (status = 404, body = Problem)))]
async fn list_colleagues(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<ColleagueOut>>> {
    let found = s.registry.colleagues(&scope, id, caller.user_id).await?;
    Ok(Json(found.into_iter().map(ColleagueOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssistRequestIn {
    /// Colleagues to ask (see `/work-orders/{id}/colleagues`).
    #[serde(default)]
    pub assignee_ids: Vec<i64>,
    /// Ask every colleague with this role (grid_worker, community_staff, …), one request each.
    pub team_role: Option<String>,
    pub message: String,
}

#[utoipa::path(post, path = "/work-orders/{id}/assists", tag = "assists",
    request_body = AssistRequestIn,
    responses((status = 201, body = Vec<AssistOut>), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request_assists(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssistRequestIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<Vec<AssistOut>>)> {
    let mut f = Fields::default();
    let team_role = f.optional("team_role", body.team_role.as_deref(), Role::parse);
    f.finish()?;
    let cmd = RequestAssist {
        assignee_ids: body.assignee_ids,
        team_role,
        message: body.message,
    };
    let created = s
        .registry
        .request_assists(
            &scope,
            (caller.user_id, &caller.username),
            id,
            cmd,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let path = created
        .first()
        .map(|a| a.area_path.as_str().to_owned())
        .unwrap_or_default();
    let audit = audited("assist.request", "work_order", id, &path);
    let out = created.into_iter().map(|a| AssistOut::of(a, &caller));
    Ok((StatusCode::CREATED, Extension(audit), Json(out.collect())))
}

#[utoipa::path(get, path = "/work-orders/{id}/assists", tag = "assists",
    responses((status = 200, body = Vec<AssistOut>), (status = 404, body = Problem)))]
async fn list_order_assists(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<AssistOut>>> {
    // The order first, so that an unseen order is a 404 and not an empty list.
    s.registry.store.work_order(&scope, id).await?;
    let page = PageRequest {
        after: None,
        limit: wangge_store::page::MAX_LIMIT,
    };
    let found = s
        .registry
        .store
        .assists(&scope, AssistFilter::WorkOrder(id), false, &page)
        .await?;
    Ok(Json(
        found
            .items
            .into_iter()
            .map(|a| AssistOut::of(a, &caller))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AssistListParams {
    /// `me` (the default): requests asking you for help.
    #[serde(rename = "for")]
    #[param(rename = "for")]
    pub for_whom: Option<String>,
    /// `me`: the requests you made instead.
    pub requested_by: Option<String>,
    /// Only requested and accepted ones.
    pub open: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

fn me_only(f: &mut Fields, field: &str, v: Option<&str>) -> bool {
    match v.map(str::trim) {
        None => false,
        Some("me") => true,
        Some(_) => {
            f.push(FieldError::new(
                field,
                "assist.only_me",
                "只能查看自己的协助请求，请填写 me",
                "Only your own assist requests can be listed; use me",
            ));
            false
        }
    }
}

#[utoipa::path(get, path = "/assists", tag = "assists", params(AssistListParams),
    responses((status = 200, body = PageOf<AssistOut>), (status = 422, body = Problem)))]
async fn list_assists(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    ApiQuery(q): ApiQuery<AssistListParams>,
) -> ApiResult<Json<PageOf<AssistOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    me_only(&mut f, "for", q.for_whom.as_deref());
    let mine = me_only(&mut f, "requested_by", q.requested_by.as_deref());
    f.finish()?;
    let filter = if mine {
        AssistFilter::RequestedBy(caller.user_id)
    } else {
        AssistFilter::AssignedTo(caller.user_id)
    };
    let found = s
        .registry
        .store
        .assists(&scope, filter, q.open.unwrap_or(false), &page)
        .await?;
    Ok(Json(PageOf::from_page(found, |a| {
        AssistOut::of(a, &caller)
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssistActionIn {
    /// accept, decline, done or cancel.
    pub action: String,
    /// Why not: decline.
    pub reason: Option<String>,
    /// What was done: done.
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/assists/{id}/actions", tag = "assists",
    request_body = AssistActionIn,
    responses((status = 200, body = AssistOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act_on_assist(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssistActionIn>,
) -> ApiResult<(Extension<Audited>, Json<AssistOut>)> {
    let mut f = Fields::default();
    let step = AssistStep::parse(&body.action);
    if step.is_none() {
        f.push(FieldError::new(
            "action",
            "assist.action",
            "协助操作须为 accept、decline、done 或 cancel",
            "action must be accept, decline, done or cancel",
        ));
    }
    f.finish()?;
    let step = checked(step);
    let text = match step {
        AssistStep::Decline => body.reason.as_deref(),
        _ => body.note.as_deref(),
    };
    let a = s
        .registry
        .assist_step(
            &scope,
            (caller.user_id, &caller.username),
            id,
            step,
            text,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let audit = audited("assist.action", "assist", a.id, a.area_path.as_str());
    Ok((Extension(audit), Json(AssistOut::of(a, &caller))))
}
