//! One work order's page: the SLA figures, the timeline, forms for exactly the actions the
//! machine allows now (and the caller's role permits), and the assist section — ask colleagues,
//! and accept, decline or finish what you were asked.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use time::OffsetDateTime;
use wangge_domain::assist::may_request;
use wangge_domain::{ActionKind, AssistStep, Permission, Role, Satisfaction};
use wangge_services::identity::Caller;
use wangge_services::registry::{RequestAssist, helper_roles};
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;
use wangge_store::assists::{AssistFilter, AssistRecord};
use wangge_store::attachments::AttachmentParent;
use wangge_store::page::{MAX_LIMIT, PageRequest};
use wangge_store::work_orders::{Actor, WorkOrderRecord};

use super::attachments::PhotoPanel;
use super::work_orders::{span, state_name, when};
use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;
use crate::access::Audited;
use crate::api::work_orders::{ActionIn, parse_action};
use crate::extract::Fields;
use crate::i18n::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work-orders/{id}", get(detail))
        .route("/work-orders/{id}/actions", post(act))
        .route("/work-orders/{id}/assists", post(ask))
        .route("/assists/{id}/actions", post(assist_step))
}

pub struct Event {
    pub when: String,
    pub actor: String,
    pub action: String,
    /// "已受理 → 已派遣" when the state changed.
    pub change: String,
    pub detail: Vec<String>,
}

pub struct AssistRow {
    pub id: i64,
    pub order_id: i64,
    pub order_title: String,
    pub to: String,
    pub from: String,
    pub state: String,
    pub message: String,
    pub outcome: Option<String>,
    /// (step code, button label) the caller may take.
    pub steps: Vec<(String, String)>,
}

pub fn assist_rows(t: Texts, list: &[AssistRecord], caller: &Caller) -> Vec<AssistRow> {
    list.iter()
        .map(|a| AssistRow {
            id: a.id,
            order_id: a.work_order_id,
            order_title: a.work_order_title.clone(),
            to: t.tf1("assist.to", &a.assignee_name),
            from: t.tf1("assist.from", &a.requested_by_name),
            state: if t.is_zh() {
                a.state.name_zh()
            } else {
                a.state.name_en()
            }
            .to_owned(),
            message: a.message.clone(),
            outcome: a.done_note.clone().or_else(|| a.decline_reason.clone()),
            steps: a
                .state
                .steps_for(a.party(caller.user_id))
                .into_iter()
                .map(|s| {
                    (
                        s.as_str().to_owned(),
                        t.t(&format!("assist.{}", s.as_str())).to_owned(),
                    )
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "work_order.html")]
struct DetailPage {
    shell: Shell,
    w: WorkOrderRecord,
    state: String,
    category: String,
    default_unit: String,
    area: String,
    priority: String,
    facts: Vec<(String, String)>,
    overdue: bool,
    timeline: Vec<Event>,
    /// (action code, label) of each form to show.
    actions: Vec<(String, String)>,
    can_write: bool,
    satisfactions: Vec<(String, String)>,
    assists: Vec<AssistRow>,
    can_ask: bool,
    colleagues: Vec<(i64, String)>,
    teams: Vec<(String, String)>,
    photo_panel: PhotoPanel,
    errors: FormErrors,
}

fn action_name(t: Texts, code: &str) -> String {
    match ActionKind::ALL.into_iter().find(|k| k.as_str() == code) {
        Some(k) if t.is_zh() => k.name_zh().to_owned(),
        Some(k) => k.name_en().to_owned(),
        None => t.t(&format!("timeline.{code}")).to_owned(),
    }
}

fn role_name(t: Texts, r: Role) -> &'static str {
    if t.is_zh() { r.name_zh() } else { r.name_en() }
}

async fn detail(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    view(&s, page, id, FormErrors::default(), StatusCode::OK).await
}

async fn view(
    s: &AppState,
    page: Page,
    id: i64,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let now = OffsetDateTime::now_utc();
    let built = async {
        let w = store.work_order(&scope, id).await?;
        let category = store.work_order_category(w.category_id).await?;
        let area = store.area(&scope, w.area_id).await?;
        let events = store.work_order_timeline(&scope, id).await?;
        let req = PageRequest {
            after: None,
            limit: MAX_LIMIT,
        };
        let assists = store
            .assists(&scope, AssistFilter::WorkOrder(id), false, &req)
            .await?
            .items;
        Ok::<_, StoreError>((w, category, area, events, assists))
    };
    let (w, category, area, events, assists) = match built.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let mut parents = vec![AttachmentParent::WorkOrder(id)];
    parents.extend(
        events
            .iter()
            .map(|e| AttachmentParent::WorkOrderEvent(e.id)),
    );
    let can_write = caller.role.can(Permission::RegistryWrite);
    let upload =
        (can_write && s.attachments.is_some()).then(|| format!("/work-orders/{id}/attachments"));
    let photo_panel = match PhotoPanel::load(s, &scope, &parents, upload).await {
        Ok(p) => p,
        Err(e) => return page_error(page.shell, e),
    };
    let colleagues = match s.registry.colleagues(&scope, id, caller.user_id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let o = &w.order;
    let mut facts = vec![(t.t("work_order.sla").to_owned(), span(t, o.sla.duration()))];
    match o.deadline(now) {
        None => facts.push((
            t.t("work_order.deadline").to_owned(),
            t.t("work_order.not_started").to_owned(),
        )),
        Some(d) => {
            facts.push((t.t("work_order.deadline").to_owned(), when(t, d)));
            let left = o.remaining(now);
            let left = if o.is_overdue(now) {
                t.tf1("work_order.overdue_by", span(t, left))
            } else {
                span(t, left)
            };
            facts.push((t.t("work_order.remaining").to_owned(), left));
        }
    }
    let paused = o.suspended_time(now);
    if o.suspension.is_some() {
        facts.push((
            t.t("work_order.paused").to_owned(),
            format!("{} · {}", span(t, paused), t.t("work_order.suspended_now")),
        ));
    } else if paused.is_positive() {
        facts.push((t.t("work_order.paused").to_owned(), span(t, paused)));
    }
    let escalation = match o.escalated_to() {
        None => t.t("work_order.escalation_none").to_owned(),
        Some(level) => format!(
            "{} · {}",
            t.tf1("work_order.escalation_level", o.escalation_level),
            super::home::level_name(t, level)
        ),
    };
    facts.push((t.t("work_order.escalation").to_owned(), escalation));
    if let Some(p) = &o.pending {
        facts.push((
            t.t("work_order.pending").to_owned(),
            action_name(t, p.kind().as_str()),
        ));
    }
    if let Some(u) = &o.unit {
        facts.push((t.t("work_order.unit").to_owned(), u.clone()));
    }
    facts.push((
        t.t("work_order.reported_by").to_owned(),
        format!("{} · {}", w.reported_by, when(t, o.reported_at)),
    ));

    let timeline = events
        .into_iter()
        .map(|e| {
            let mut detail: Vec<String> =
                [e.unit, e.reason, e.note].into_iter().flatten().collect();
            if let Some(a) = e.assist_id.and_then(|a| assists.iter().find(|x| x.id == a))
                && e.action == wangge_domain::assist::ASSIST_REQUESTED
            {
                detail.insert(0, t.tf1("assist.to", &a.assignee_name));
            }
            let change = match e.from_state {
                Some(from) if from != e.to_state => {
                    format!("{} → {}", state_name(t, from), state_name(t, e.to_state))
                }
                _ => String::new(),
            };
            Event {
                when: when(t, e.at),
                actor: e.actor,
                action: action_name(t, &e.action),
                change,
                detail,
            }
        })
        .collect();
    let actions = if can_write {
        o.offered_actions(now)
            .into_iter()
            .map(|k| (k.as_str().to_owned(), action_name(t, k.as_str())))
            .collect()
    } else {
        Vec::new()
    };
    let teams = helper_roles()
        .into_iter()
        .filter(|r| colleagues.iter().any(|c| c.role == *r))
        .map(|r| (r.as_str().to_owned(), role_name(t, r).to_owned()))
        .collect();
    let page_out = DetailPage {
        state: state_name(t, o.state).to_owned(),
        category: if t.is_zh() {
            category.name_zh
        } else {
            category.name_en
        },
        default_unit: category.default_unit.unwrap_or_default(),
        area: area.name,
        priority: if t.is_zh() {
            o.priority.name_zh()
        } else {
            o.priority.name_en()
        }
        .to_owned(),
        overdue: o.overdue_and_open(now),
        facts,
        timeline,
        actions,
        can_write,
        satisfactions: Satisfaction::ALL
            .iter()
            .map(|v| {
                (
                    v.as_str().to_owned(),
                    if t.is_zh() { v.name_zh() } else { v.name_en() }.to_owned(),
                )
            })
            .collect(),
        assists: assist_rows(t, &assists, &caller),
        can_ask: can_write && may_request(o.state).is_ok(),
        colleagues: colleagues
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    format!("{} · {}", c.display_name, role_name(t, c.role)),
                )
            })
            .collect(),
        teams,
        photo_panel,
        errors,
        w,
        shell: page.shell,
    };
    (status, render(&page_out)).into_response()
}

/// A refused form: the page again with the messages beside the fields (or on top).
async fn refused(s: &AppState, page: Page, id: i64, e: ServiceError) -> Response {
    let t = page.t();
    let status = match &e {
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match FormErrors::from_service(e, t) {
        Ok(errors) => view(s, page, id, errors, status).await,
        Err(e) => page_error(page.shell, e),
    }
}

fn audited(
    action: &'static str,
    object_type: &'static str,
    id: i64,
    path: &str,
) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some(object_type),
        object_id: Some(id),
        area_path: Some(path.to_owned()),
        reason: None,
    })
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    action: String,
    unit: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    satisfaction: Option<String>,
    follow_up_done: Option<String>,
    extend_hours: Option<String>,
}

async fn act(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    // The same parsing as the API, so the page accepts exactly what the API does.
    let body = ActionIn {
        action: f.action,
        unit: f.unit,
        reason: f.reason,
        note: f.note,
        satisfaction: f.satisfaction,
        follow_up_done: f.follow_up_done.map(|v| v != "false"),
        extend_hours: match f.extend_hours.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(h) => Some(h.parse().unwrap_or(0)),
        },
    };
    let mut fields = Fields::default();
    let action = parse_action(&mut fields, &body);
    let action = match (fields.finish(), action) {
        (Ok(()), Some(a)) => a,
        (Err(crate::error::ApiError::Service(e)), _) => return refused(&s, page, id, e).await,
        _ => {
            return refused(
                &s,
                page,
                id,
                ServiceError::invalid(FieldError::required("action")),
            )
            .await;
        }
    };
    let actor = Actor {
        id: Some(caller.user_id),
        name: caller.username.clone(),
    };
    let done = s
        .registry
        .work_order_action(&page.scope(), id, &actor, action, OffsetDateTime::now_utc())
        .await;
    match done {
        Ok((w, _)) => {
            let audit = audited(
                "work_order.action",
                "work_order",
                w.id,
                w.area_path.as_str(),
            );
            (audit, Redirect::to(&format!("/work-orders/{id}"))).into_response()
        }
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => refused(&s, page, id, e).await,
    }
}

async fn ask(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    // Checkboxes repeat `assignee_ids`, which a plain form struct cannot hold.
    let value = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut errors = FormErrors::default();
    let assignee_ids = pairs
        .iter()
        .filter(|(n, _)| n == "assignee_ids")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let team_role = match value("team_role").as_deref() {
        None | Some("") => None,
        Some(r) => Role::parse(r)
            .map_err(|e| errors.push("team_role", &FieldError::from_domain("team_role", &e), t))
            .ok(),
    };
    if !errors.is_empty() {
        errors.general = Some(t.t("form.fix").to_owned());
        return view(&s, page, id, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let cmd = RequestAssist {
        assignee_ids,
        team_role,
        message: value("message").unwrap_or_default(),
    };
    let by = (caller.user_id, caller.username.as_str());
    match s
        .registry
        .request_assists(&page.scope(), by, id, cmd, OffsetDateTime::now_utc())
        .await
    {
        Ok(created) => {
            let path = created
                .first()
                .map(|a| a.area_path.as_str().to_owned())
                .unwrap_or_default();
            let audit = audited("assist.request", "work_order", id, &path);
            (audit, Redirect::to(&format!("/work-orders/{id}"))).into_response()
        }
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => refused(&s, page, id, e).await,
    }
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    action: String,
    reason: Option<String>,
    note: Option<String>,
}

async fn assist_step(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let scope = page.scope();
    // The request first: an unseen one is a 404 page, a seen one answers on its order's page.
    let found = match s.registry.store.assist(&scope, id).await {
        Ok(a) => a,
        Err(e) => return page_error(page.shell, e),
    };
    let Some(step) = AssistStep::parse(&f.action) else {
        let e = FieldError::new(
            "action",
            "assist.action",
            "未知的协助操作",
            "Unknown assist action",
        );
        return refused(&s, page, found.work_order_id, ServiceError::invalid(e)).await;
    };
    let text = match step {
        AssistStep::Decline => f.reason.as_deref(),
        _ => f.note.as_deref(),
    };
    let by = (caller.user_id, caller.username.as_str());
    match s
        .registry
        .assist_step(&scope, by, id, step, text, OffsetDateTime::now_utc())
        .await
    {
        Ok(a) => {
            let audit = audited("assist.action", "assist", a.id, a.area_path.as_str());
            (
                audit,
                Redirect::to(&format!("/work-orders/{}", a.work_order_id)),
            )
                .into_response()
        }
        Err(e) => refused(&s, page, found.work_order_id, e).await,
    }
}
