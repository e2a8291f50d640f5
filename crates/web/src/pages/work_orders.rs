//! Work orders on the pages: the list (my area or reported by me, overdue first), the report
//! form, and the managers' overdue board per area. One order's page is in `work_order.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, UtcOffset};
use wangge_domain::{AreaLevel, Priority, WorkOrderState};
use wangge_services::FieldError;
use wangge_services::registry::ReportWorkOrder;
use wangge_store::areas::AreaFilter;
use wangge_store::page::{Cursor, PageRequest};
use wangge_store::work_orders::{Actor, Source, WorkOrderFilter, WorkOrderRecord};
use wangge_store::{Store, StoreError};

use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work-orders", get(list))
        .route("/work-orders/new", get(new_form).post(report))
        .route("/areas/{id}/overdue", get(board))
}

/// A time as people in the city read it (Beijing time).
pub fn when(t: Texts, at: OffsetDateTime) -> String {
    let local = at.to_offset(UtcOffset::from_hms(8, 0, 0).expect("valid offset"));
    format!(
        "{} {:02}:{:02}",
        t.date(&local.date()),
        local.hour(),
        local.minute()
    )
}

/// A length of time in days, hours and minutes (the largest two parts).
pub fn span(t: Texts, d: Duration) -> String {
    let d = d.abs();
    let (days, hours, minutes) = (d.whole_days(), d.whole_hours() % 24, d.whole_minutes() % 60);
    let parts: Vec<String> = [
        (days, "天", " d"),
        (hours, "小时", " h"),
        (minutes, "分钟", " min"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .take(2)
    .map(|(n, zh, en)| format!("{n}{}", if t.is_zh() { zh } else { en }))
    .collect();
    if parts.is_empty() {
        return if t.is_zh() { "0分钟" } else { "0 min" }.to_owned();
    }
    parts.join(if t.is_zh() { "" } else { " " })
}

pub fn state_name(t: Texts, s: WorkOrderState) -> &'static str {
    if t.is_zh() { s.name_zh() } else { s.name_en() }
}

/// One order in a list.
pub struct OrderRow {
    pub id: i64,
    pub title: String,
    pub state: String,
    pub overdue: bool,
    pub due: String,
}

impl OrderRow {
    pub fn of(t: Texts, w: &WorkOrderRecord, now: OffsetDateTime) -> OrderRow {
        let o = &w.order;
        let overdue = o.overdue_and_open(now);
        let due = match o.deadline(now) {
            _ if overdue => t.tf1("work_order.overdue_by", span(t, o.remaining(now))),
            Some(d) if !o.state.is_stopped() => {
                format!("{} {}", t.t("work_order.deadline"), when(t, d))
            }
            _ => when(t, o.reported_at),
        };
        OrderRow {
            id: w.id,
            title: w.title.clone(),
            state: state_name(t, o.state).to_owned(),
            overdue,
            due,
        }
    }
}

/// Orders matching `filter`, the overdue ones first (on the first page, up to 100 of them).
pub async fn overdue_first(
    store: &Store,
    scope: &wangge_domain::Scope,
    filter: &WorkOrderFilter,
    page: &PageRequest,
    now: OffsetDateTime,
) -> Result<(Vec<WorkOrderRecord>, Option<Cursor>), StoreError> {
    let mut out = Vec::new();
    if page.after.is_none() {
        let late = WorkOrderFilter {
            overdue_at: Some(now),
            ..filter.clone()
        };
        let first = PageRequest {
            after: None,
            limit: 100,
        };
        out = store.work_orders(scope, &late, &first).await?.items;
    }
    let rest = store.work_orders(scope, filter, page).await?;
    let late: Vec<i64> = out.iter().map(|w| w.id).collect();
    out.extend(rest.items.into_iter().filter(|w| !late.contains(&w.id)));
    Ok((out, rest.next))
}

#[derive(Template)]
#[template(path = "work_orders.html")]
struct ListPage {
    shell: Shell,
    mine: bool,
    state: String,
    states: Vec<(String, String)>,
    rows: Vec<OrderRow>,
    next: Option<String>,
    can_write: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    view: Option<String>,
    state: Option<String>,
    cursor: Option<String>,
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> Response {
    let t = page.t();
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let mine = q.view.as_deref() == Some("mine");
    let state = q
        .state
        .as_deref()
        .and_then(|s| WorkOrderState::parse(s).ok());
    let filter = WorkOrderFilter {
        state,
        reported_by_id: mine.then_some(caller.user_id),
        ..Default::default()
    };
    let req = PageRequest {
        after: q.cursor.as_deref().and_then(|c| Cursor::decode(c).ok()),
        limit: 50,
    };
    let now = OffsetDateTime::now_utc();
    let (orders, next) =
        match overdue_first(&s.registry.store, &page.scope(), &filter, &req, now).await {
            Ok(v) => v,
            Err(e) => return page_error(page.shell, e),
        };
    let states = WorkOrderState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), state_name(t, *s).to_owned()))
        .collect();
    render(&ListPage {
        mine,
        state: state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        states,
        rows: orders.iter().map(|w| OrderRow::of(t, w, now)).collect(),
        next: next.map(|c| c.encode()),
        can_write: caller.role.can(wangge_domain::Permission::RegistryWrite),
        shell: page.shell,
    })
}

#[derive(Template)]
#[template(path = "work_order_new.html")]
struct NewPage {
    shell: Shell,
    categories: Vec<(i64, String)>,
    grids: Vec<(i64, String)>,
    priorities: Vec<(String, String)>,
    /// The household or place the order is about, with its address.
    subject: Option<(String, i64, String)>,
    form: ReportForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default, Clone)]
struct ReportForm {
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    household_id: String,
    #[serde(default)]
    place_id: String,
    #[serde(default)]
    area_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
}

fn id_of(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

async fn new_form(State(s): State<AppState>, page: Page, Query(f): Query<ReportForm>) -> Response {
    new_view(&s, page, f, FormErrors::default()).await
}

async fn new_view(s: &AppState, page: Page, form: ReportForm, errors: FormErrors) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let built = async {
        let cats = store.work_order_categories().await?;
        // The tree: each top-level class followed by its subcategories, indented.
        let mut categories = Vec::new();
        for c in cats.iter().filter(|c| c.parent_id.is_none()) {
            for (depth, c) in std::iter::once((0, c)).chain(
                cats.iter()
                    .filter(|k| k.parent_id == Some(c.id))
                    .map(|k| (1, k)),
            ) {
                let name = if t.is_zh() { &c.name_zh } else { &c.name_en };
                categories.push((c.id, format!("{}{name}", "\u{3000}".repeat(depth))));
            }
        }
        let filter = AreaFilter {
            level: Some(AreaLevel::Grid),
            ..Default::default()
        };
        let req = PageRequest {
            after: None,
            limit: 200,
        };
        let grids = store
            .areas(&scope, &filter, &req)
            .await?
            .items
            .into_iter()
            .filter(|a| scope.contains(&a.path))
            .map(|a| (a.id, a.name))
            .collect();
        let subject = if let Some(h) = id_of(&form.household_id) {
            let h = store.household(&scope, h).await?;
            let address = match h.dwelling_id {
                Some(d) => store.place(&scope, d).await?.address,
                None => String::new(),
            };
            Some(("household_id".to_owned(), h.id, address))
        } else if let Some(p) = id_of(&form.place_id) {
            let p = store.place(&scope, p).await?;
            Some(("place_id".to_owned(), p.id, p.address))
        } else {
            None
        };
        Ok::<_, StoreError>((categories, grids, subject))
    };
    match built.await {
        Ok((categories, grids, subject)) => render(&NewPage {
            categories,
            grids,
            priorities: Priority::ALL
                .iter()
                .map(|p| {
                    let name = if t.is_zh() { p.name_zh() } else { p.name_en() };
                    (p.as_str().to_owned(), name.to_owned())
                })
                .collect(),
            subject,
            form,
            errors,
            shell: page.shell,
        }),
        Err(e) => page_error(page.shell, e),
    }
}

async fn report(State(s): State<AppState>, page: Page, Form(f): Form<ReportForm>) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    let mut errors = FormErrors::default();
    let category_id = id_of(&f.category_id);
    if category_id.is_none() {
        errors.push("category_id", &FieldError::required("category_id"), t);
    }
    let priority = match f.priority.trim() {
        "" => None,
        p => Priority::parse(p)
            .map_err(|e| errors.push("priority", &FieldError::from_domain("priority", &e), t))
            .ok(),
    };
    let Some(category_id) = category_id.filter(|_| errors.fields.is_empty()) else {
        errors.general = Some(t.t("form.fix").to_owned());
        return new_view(&s, page, f, errors).await;
    };
    let cmd = ReportWorkOrder {
        category_id,
        source: Source::GridWorker,
        title: f.title.clone(),
        description: f.description.clone(),
        household_id: id_of(&f.household_id),
        place_id: id_of(&f.place_id),
        area_id: id_of(&f.area_id),
        priority,
    };
    let actor = Actor {
        id: Some(caller.user_id),
        name: caller.username.clone(),
    };
    let now = OffsetDateTime::now_utc();
    match s
        .registry
        .report_work_order(&page.scope(), &actor, cmd, now)
        .await
    {
        Ok(w) => {
            let audited = Audited {
                action: Some("work_order.report"),
                object_type: Some("work_order"),
                object_id: Some(w.id),
                area_path: Some(w.area_path.as_str().to_owned()),
                reason: None,
            };
            let to = format!("/work-orders/{}", w.id);
            (Extension(audited), Redirect::to(&to)).into_response()
        }
        Err(e) => match FormErrors::from_service(e, t) {
            Ok(errors) => new_view(&s, page, f, errors).await,
            Err(e) => page_error(page.shell, e),
        },
    }
}

pub struct BoardRow {
    pub id: i64,
    pub name: String,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "overdue.html")]
struct BoardPage {
    shell: Shell,
    title: String,
    area_id: i64,
    total: i64,
    children: Vec<BoardRow>,
    rows: Vec<OrderRow>,
}

/// The overdue board: open orders past their deadline under an area, counted per child area
/// and listed, most urgent first as the store lists them.
async fn board(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let now = OffsetDateTime::now_utc();
    let built = async {
        let area = store.area(&scope, id).await?;
        // Areas above the scope are shown for navigation only; their board is not the caller's.
        if !scope.contains(&area.path) {
            return Err(StoreError::NotFound);
        }
        let total = store.overdue_orders_count(&scope, &area.path, now).await?;
        let mut children = Vec::new();
        if area.level != AreaLevel::Grid {
            let filter = AreaFilter {
                parent_id: Some(area.id),
                ..Default::default()
            };
            let req = PageRequest {
                after: None,
                limit: 200,
            };
            for child in store.areas(&scope, &filter, &req).await?.items {
                let count = store.overdue_orders_count(&scope, &child.path, now).await?;
                children.push(BoardRow {
                    id: child.id,
                    name: child.name,
                    count,
                });
            }
        }
        let filter = WorkOrderFilter {
            within: Some(area.path.clone()),
            overdue_at: Some(now),
            ..Default::default()
        };
        let req = PageRequest {
            after: None,
            limit: 200,
        };
        let orders = store.work_orders(&scope, &filter, &req).await?.items;
        Ok((area, total, children, orders))
    };
    match built.await {
        Ok((area, total, children, orders)) => render(&BoardPage {
            title: t.tf1("work_order.board_title", &area.name),
            area_id: area.id,
            total,
            children,
            rows: orders.iter().map(|w| OrderRow::of(t, w, now)).collect(),
            shell: page.shell,
        }),
        Err(e) => page_error(page.shell, e),
    }
}
