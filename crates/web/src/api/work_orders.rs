//! Work orders (工单): categories, report, list, one order with its timeline, and actions on
//! the state machine. A refused action is a 409 naming the current state.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{Action, ActionKind, AreaCode, Priority, Satisfaction, WorkOrderState};
use wangge_services::FieldError;
use wangge_services::registry::{ReportWorkOrder, extension_hours};
use wangge_store::work_orders::{
    Actor, Category, Source, WorkOrderEvent, WorkOrderFilter, WorkOrderRecord,
};

use super::{PageOf, area_filter, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, CurrentCaller, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories))
        .routes(routes!(list_work_orders, report_work_order))
        .routes(routes!(get_work_order))
        .routes(routes!(act_on_work_order))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub parent_id: Option<i64>,
    pub default_unit: Option<String>,
    pub sla_seconds: i64,
    /// urgent, high, normal or low.
    pub priority: String,
}

impl From<Category> for CategoryOut {
    fn from(c: Category) -> Self {
        CategoryOut {
            id: c.id,
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            parent_id: c.parent_id,
            default_unit: c.default_unit,
            sla_seconds: c.sla.seconds(),
            priority: c.priority.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkOrderOut {
    pub id: i64,
    pub category_id: i64,
    /// grid_worker, resident, hotline, alert or visit.
    pub source: String,
    pub title: String,
    pub description: String,
    pub household_id: Option<i64>,
    pub place_id: Option<i64>,
    /// The grid.
    pub area_id: i64,
    /// reported, accepted, dispatched, in_progress, resolved, closed, rejected or suspended.
    pub state: String,
    pub state_name_zh: String,
    pub priority: String,
    pub sla_seconds: i64,
    /// The handling unit.
    pub unit: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub reported_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    /// Accepted time plus SLA, approved extensions and paused time; absent before acceptance.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    /// Open and past the deadline now.
    pub overdue: bool,
    pub escalation_level: u8,
    /// The area level supervising after escalation: community, subdistrict or district.
    pub escalated_to: Option<String>,
    /// A request awaiting a decision: request_suspension or request_extension.
    pub pending: Option<String>,
    pub satisfaction: Option<String>,
    pub follow_up_done: bool,
    pub rework_count: u32,
    pub extension_count: u32,
    pub suspension_count: u32,
    pub reported_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<WorkOrderRecord> for WorkOrderOut {
    fn from(w: WorkOrderRecord) -> Self {
        let now = OffsetDateTime::now_utc();
        let o = &w.order;
        WorkOrderOut {
            id: w.id,
            category_id: w.category_id,
            source: w.source.as_str().to_owned(),
            title: w.title.clone(),
            description: w.description.clone(),
            household_id: w.household_id,
            place_id: w.place_id,
            area_id: w.area_id,
            state: o.state.as_str().to_owned(),
            state_name_zh: o.state.name_zh().to_owned(),
            priority: o.priority.as_str().to_owned(),
            sla_seconds: o.sla.seconds(),
            unit: o.unit.clone(),
            reported_at: o.reported_at,
            accepted_at: o.accepted_at,
            deadline: o.deadline(now),
            overdue: o.overdue_and_open(now),
            escalation_level: o.escalation_level,
            escalated_to: o.escalated_to().map(|l| l.as_str().to_owned()),
            pending: o.pending.as_ref().map(|p| p.kind().as_str().to_owned()),
            satisfaction: o.satisfaction.map(|s| s.as_str().to_owned()),
            follow_up_done: o.follow_up_done,
            rework_count: o.rework_count,
            extension_count: o.extension_count,
            suspension_count: o.suspension_count,
            reported_by: w.reported_by.clone(),
            updated_at: w.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    /// report, accept, dispatch, …, escalate.
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub unit: Option<String>,
    /// A pending request this step made lapse.
    pub lapsed: Option<String>,
    /// The assist request an `assist_*` step is about (see `/work-orders/{id}/assists`).
    pub assist_id: Option<i64>,
}

impl From<WorkOrderEvent> for EventOut {
    fn from(e: WorkOrderEvent) -> Self {
        EventOut {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            from_state: e.from_state.map(|s| s.as_str().to_owned()),
            to_state: e.to_state.as_str().to_owned(),
            reason: e.reason,
            note: e.note,
            unit: e.unit,
            lapsed: e.lapsed,
            assist_id: e.assist_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkOrderDetail {
    #[serde(flatten)]
    pub order: WorkOrderOut,
    /// Oldest first.
    pub timeline: Vec<EventOut>,
}

#[utoipa::path(get, path = "/work-order-categories", tag = "work_orders",
    responses((status = 200, body = Vec<CategoryOut>)))]
async fn list_categories(State(s): State<AppState>) -> ApiResult<Json<Vec<CategoryOut>>> {
    let cats = s.registry.store.work_order_categories().await?;
    Ok(Json(cats.into_iter().map(CategoryOut::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WorkOrderListParams {
    /// Area code.
    pub area: Option<String>,
    pub state: Option<String>,
    /// Only open orders past their deadline.
    pub overdue: Option<bool>,
    pub category_id: Option<i64>,
    /// Handling unit.
    pub unit: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/work-orders", tag = "work_orders", params(WorkOrderListParams),
    responses((status = 200, body = PageOf<WorkOrderOut>), (status = 422, body = Problem)))]
async fn list_work_orders(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<WorkOrderListParams>,
) -> ApiResult<Json<PageOf<WorkOrderOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    let state = f.optional("state", q.state.as_deref(), WorkOrderState::parse);
    f.finish()?;
    let filter = WorkOrderFilter {
        within: area_filter(&s, &scope, "area", area).await?,
        state,
        overdue_at: q.overdue.unwrap_or(false).then(OffsetDateTime::now_utc),
        category_id: q.category_id,
        unit: q.unit.filter(|u| !u.trim().is_empty()),
        ..Default::default()
    };
    let found = s.registry.store.work_orders(&scope, &filter, &page).await?;
    Ok(Json(PageOf::from_page(found, WorkOrderOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkOrderIn {
    pub category_id: i64,
    /// grid_worker (default), resident, hotline, alert or visit.
    pub source: Option<String>,
    pub title: String,
    pub description: String,
    pub household_id: Option<i64>,
    pub place_id: Option<i64>,
    /// The grid, when neither household_id nor place_id says where.
    pub area_id: Option<i64>,
    /// The category's priority when absent.
    pub priority: Option<String>,
}

fn actor_of(caller: &wangge_services::identity::Caller) -> Actor {
    Actor {
        id: Some(caller.user_id),
        name: caller.username.clone(),
    }
}

fn audited(action: &'static str, w: &WorkOrderRecord) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("work_order"),
        object_id: Some(w.id),
        area_path: Some(w.area_path.as_str().to_owned()),
        reason: None,
    })
}

#[utoipa::path(post, path = "/work-orders", tag = "work_orders", request_body = WorkOrderIn,
    responses((status = 201, body = WorkOrderOut), (status = 422, body = Problem)))]
async fn report_work_order(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    ApiJson(body): ApiJson<WorkOrderIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<WorkOrderOut>)> {
    let mut f = Fields::default();
    let priority = f.optional("priority", body.priority.as_deref(), Priority::parse);
    let source = match body.source.as_deref() {
        None => Some(Source::GridWorker),
        Some(raw) => {
            let parsed = Source::parse(raw);
            if parsed.is_none() {
                f.push(FieldError::new(
                    "source",
                    "work_order.source",
                    "来源须为 grid_worker、resident、hotline、alert 或 visit",
                    "source must be grid_worker, resident, hotline, alert or visit",
                ));
            }
            parsed
        }
    };
    f.finish()?;
    let cmd = ReportWorkOrder {
        category_id: body.category_id,
        source: checked(source),
        title: body.title,
        description: body.description,
        household_id: body.household_id,
        place_id: body.place_id,
        area_id: body.area_id,
        priority,
    };
    let w = s
        .registry
        .report_work_order(&scope, &actor_of(&caller), cmd, OffsetDateTime::now_utc())
        .await?;
    let audit = audited("work_order.report", &w);
    Ok((StatusCode::CREATED, audit, Json(w.into())))
}

#[utoipa::path(get, path = "/work-orders/{id}", tag = "work_orders",
    responses((status = 200, body = WorkOrderDetail), (status = 404, body = Problem)))]
async fn get_work_order(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<WorkOrderDetail>> {
    let w = s.registry.store.work_order(&scope, id).await?;
    let timeline = s.registry.store.work_order_timeline(&scope, id).await?;
    Ok(Json(WorkOrderDetail {
        order: w.into(),
        timeline: timeline.into_iter().map(EventOut::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActionIn {
    /// accept, dispatch, start, resolve, close, reject, return, reassign, reopen,
    /// request_suspension, approve_suspension, deny_suspension, resume, request_extension,
    /// approve_extension or deny_extension. (Escalation is the system's.)
    pub action: String,
    /// Handling unit: dispatch, reassign.
    pub unit: Option<String>,
    /// Why: reject, return, reopen, request_suspension, request_extension.
    pub reason: Option<String>,
    /// What was done: resolve.
    pub note: Option<String>,
    /// satisfied, basically_satisfied or dissatisfied: close.
    pub satisfaction: Option<String>,
    /// Whether the follow-up call was made: close (default true).
    pub follow_up_done: Option<bool>,
    /// Hours asked for: request_extension.
    pub extend_hours: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionOut {
    pub from_state: String,
    pub to_state: String,
    pub action: String,
    pub work_order: WorkOrderOut,
}

fn text(f: &mut Fields, field: &str, v: &Option<String>) -> Option<String> {
    if v.is_none() {
        f.push(FieldError::new(
            field,
            "field.required",
            "此操作需要填写",
            "Required for this action",
        ));
    }
    v.clone()
}

/// The action the body names, with the fields it needs; field errors are collected in `f`.
pub(crate) fn parse_action(f: &mut Fields, body: &ActionIn) -> Option<Action> {
    let Some(kind) = ActionKind::ALL
        .into_iter()
        .filter(|k| *k != ActionKind::Escalate)
        .find(|k| k.as_str() == body.action.trim())
    else {
        f.push(FieldError::new(
            "action",
            "work_order.action",
            format!("未知的工单操作“{}”", body.action.trim()),
            format!("Unknown work-order action “{}”", body.action.trim()),
        ));
        return None;
    };
    let action = match kind {
        ActionKind::Accept => Action::Accept,
        ActionKind::Dispatch => Action::Dispatch {
            unit: text(f, "unit", &body.unit)?,
        },
        ActionKind::Start => Action::Start,
        ActionKind::Resolve => Action::Resolve {
            note: text(f, "note", &body.note)?,
        },
        ActionKind::Close => {
            let raw = text(f, "satisfaction", &body.satisfaction)?;
            Action::Close {
                satisfaction: f.domain("satisfaction", Satisfaction::parse(&raw))?,
                follow_up_done: body.follow_up_done.unwrap_or(true),
            }
        }
        ActionKind::Reject => Action::Reject {
            reason: text(f, "reason", &body.reason)?,
        },
        ActionKind::Return => Action::Return {
            reason: text(f, "reason", &body.reason)?,
        },
        ActionKind::Reassign => Action::Reassign {
            unit: text(f, "unit", &body.unit)?,
        },
        ActionKind::Reopen => Action::Reopen {
            reason: text(f, "reason", &body.reason)?,
        },
        ActionKind::RequestSuspension => Action::RequestSuspension {
            reason: text(f, "reason", &body.reason)?,
        },
        ActionKind::ApproveSuspension => Action::ApproveSuspension,
        ActionKind::DenySuspension => Action::DenySuspension,
        ActionKind::Resume => Action::Resume,
        ActionKind::RequestExtension => {
            let reason = text(f, "reason", &body.reason);
            let Some(hours) = body.extend_hours.filter(|h| (1..=24 * 366).contains(h)) else {
                f.push(FieldError::new(
                    "extend_hours",
                    "work_order.extend_hours",
                    "延期小时数须在 1 到 8784 之间",
                    "extend_hours must be between 1 and 8784",
                ));
                return None;
            };
            Action::RequestExtension {
                by: extension_hours(hours),
                reason: reason?,
            }
        }
        ActionKind::ApproveExtension => Action::ApproveExtension,
        ActionKind::DenyExtension => Action::DenyExtension,
        ActionKind::Escalate => return None,
    };
    Some(action)
}

#[utoipa::path(post, path = "/work-orders/{id}/actions", tag = "work_orders",
    request_body = ActionIn,
    responses((status = 200, body = ActionOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act_on_work_order(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ActionIn>,
) -> ApiResult<(Extension<Audited>, Json<ActionOut>)> {
    let mut f = Fields::default();
    let action = parse_action(&mut f, &body);
    f.finish()?;
    let (w, step) = s
        .registry
        .work_order_action(
            &scope,
            id,
            &actor_of(&caller),
            checked(action),
            OffsetDateTime::now_utc(),
        )
        .await?;
    let audit = audited("work_order.action", &w);
    Ok((
        audit,
        Json(ActionOut {
            from_state: step.from.as_str().to_owned(),
            to_state: step.to.as_str().to_owned(),
            action: step.action.to_owned(),
            work_order: w.into(),
        }),
    ))
}
