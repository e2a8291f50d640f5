//! Campaigns (专项行动 / 摸排) on the pages: the list, planning with a live target preview
//! (`plan`), the dashboard and its planning steps (`dashboard`, `manage`, `export`), the grid
//! worker's doors left (`doors`) and one door (`door`), residents' pre-registrations as staff
//! see them (`requests`) and as residents make them without an account (`public`).

mod dashboard;
mod door;
mod doors;
mod export;
mod manage;
mod plan;
mod plan_form;
mod public;
mod requests;

pub(crate) use dashboard::qr_svg;
pub(crate) use public::same_site;
pub(crate) use requests::refused as requests_refused;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use wangge_domain::campaign::{RequestKind, Slot};
use wangge_domain::{CampaignKind, CampaignState, ContactMode, ItemStatus, Permission};
use wangge_services::identity::Caller;
use wangge_store::StoreError;
use wangge_store::campaigns::{Campaign, CampaignFilter, ItemFilter, ItemOrder};
use wangge_store::page::{Cursor, PageRequest};

use super::{Page, Shell, page_error, render};
use crate::AppState;
use crate::i18n::Texts;

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list))
        .merge(plan::router())
        .merge(dashboard::router())
        .merge(manage::router())
        .merge(export::router())
        .merge(doors::router())
        .merge(door::router(upload_limit))
        .merge(requests::router())
        .merge(public::router())
}

pub fn kind_name(t: Texts, k: CampaignKind) -> &'static str {
    if t.is_zh() { k.name_zh() } else { k.name_en() }
}

pub fn state_name(t: Texts, s: CampaignState) -> &'static str {
    if t.is_zh() { s.name_zh() } else { s.name_en() }
}

pub fn status_name(t: Texts, s: ItemStatus) -> &'static str {
    if t.is_zh() { s.name_zh() } else { s.name_en() }
}

pub fn mode_name(t: Texts, m: ContactMode) -> &'static str {
    if t.is_zh() { m.name_zh() } else { m.name_en() }
}

pub fn request_kind_name(t: Texts, k: RequestKind) -> &'static str {
    if t.is_zh() { k.name_zh() } else { k.name_en() }
}

/// "2026年11月20日 – 2026年11月30日".
pub fn period(t: Texts, c: &Campaign) -> String {
    format!("{} – {}", t.date(&c.starts_on), t.date(&c.ends_on))
}

/// A slot as residents read it: its days and its note.
pub fn slot_text(t: Texts, s: &Slot) -> String {
    let days = if s.starts_on() == s.ends_on() {
        t.date(&s.starts_on())
    } else {
        format!("{} – {}", t.date(&s.starts_on()), t.date(&s.ends_on()))
    };
    match s.note() {
        Some(n) => format!("{days} · {n}"),
        None => days,
    }
}

/// Whether the caller may plan and run `c`: the permission, and the whole campaign inside their
/// scope.
pub async fn manages(s: &AppState, caller: &Caller, c: &Campaign) -> bool {
    caller.role.can(Permission::CampaignsManage)
        && s.registry
            .store
            .manages_campaign(&caller.scope, c.id)
            .await
            .unwrap_or(false)
}

/// This site's address as the browser reached it (for links handed to residents).
pub fn site_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// One campaign in a list.
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub state: String,
    pub state_code: String,
    pub period: String,
    pub area: String,
    pub targets: i64,
}

impl CampaignRow {
    async fn of(s: &AppState, page: &Page, c: Campaign) -> CampaignRow {
        let t = page.t();
        let area = s
            .registry
            .store
            .area(&page.scope(), c.area_id)
            .await
            .map(|a| a.name)
            .unwrap_or_default();
        CampaignRow {
            id: c.id,
            kind: kind_name(t, c.kind).to_owned(),
            state: state_name(t, c.state).to_owned(),
            state_code: c.state.as_str().to_owned(),
            period: period(t, &c),
            targets: c.target_count,
            name: c.name,
            area,
        }
    }
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    shell: Shell,
    state: String,
    states: Vec<(String, String)>,
    rows: Vec<CampaignRow>,
    next: Option<String>,
    can_plan: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    cursor: Option<String>,
}

/// The campaigns the caller sees, newest first, by state.
async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    let state = q
        .state
        .as_deref()
        .and_then(|s| CampaignState::parse(s).ok());
    let filter = CampaignFilter {
        state,
        within: None,
    };
    let req = PageRequest {
        after: q.cursor.as_deref().and_then(|c| Cursor::decode(c).ok()),
        limit: 50,
    };
    let found = match s
        .registry
        .store
        .campaigns(&page.scope(), &filter, &req)
        .await
    {
        Ok(f) => f,
        Err(e) => return page_error(page.shell, e),
    };
    let mut rows = Vec::new();
    for c in found.items {
        rows.push(CampaignRow::of(&s, &page, c).await);
    }
    render(&ListPage {
        state: state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        states: CampaignState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), state_name(t, *s).to_owned()))
            .collect(),
        rows,
        next: found.next.map(|c| c.encode()),
        can_plan: caller.role.can(Permission::CampaignsManage),
        shell: page.shell,
    })
}

/// An active campaign on the today page: the doors left for the caller and the residents'
/// requests waiting for them.
pub struct TodayCampaign {
    pub id: i64,
    pub name: String,
    pub left: usize,
    pub requests: usize,
}

/// The active campaigns the caller sees (the newest ten) with their doors and requests.
pub async fn today(s: &AppState, caller: &Caller) -> Result<Vec<TodayCampaign>, StoreError> {
    let store = &s.registry.store;
    let scope = &caller.scope;
    let filter = CampaignFilter {
        state: Some(CampaignState::Active),
        within: None,
    };
    let first = PageRequest {
        after: None,
        limit: 10,
    };
    let mut out = Vec::new();
    for c in store.campaigns(scope, &filter, &first).await?.items {
        let mine = ItemFilter {
            open: true,
            assignee_id: Some(caller.user_id),
            ..Default::default()
        };
        let req = PageRequest {
            after: None,
            limit: doors::DOORS_MAX,
        };
        let left = store
            .campaign_items(scope, c.id, &mine, ItemOrder::Doors, &req)
            .await?
            .items
            .len();
        let requests = store
            .campaign_requests(scope, c.id, true)
            .await?
            .iter()
            .filter(|r| r.handler_id == Some(caller.user_id))
            .count();
        out.push(TodayCampaign {
            id: c.id,
            name: c.name,
            left,
            requests,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::site_base;

    #[test]
    fn the_site_base_comes_from_a_plain_host_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("wg.example.cn:8700"));
        assert_eq!(site_base(&h), "http://wg.example.cn:8700");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(site_base(&h), "https://wg.example.cn:8700");
        h.insert(header::HOST, HeaderValue::from_static("evil/<script>"));
        assert_eq!(site_base(&h), "https://localhost");
    }
}
