//! "My grid today" and the area pages: counts, groups needing attention, the areas below, and
//! for a grid its buildings.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use wangge_domain::{AreaLevel, Permission, Scope};
use wangge_store::areas::{Area, AreaFilter};
use wangge_store::overview::{AreaCounts, BuildingRow};
use wangge_store::page::PageRequest;
use wangge_store::places::{Place, PlaceFilter};
use wangge_store::{Store, StoreError};

use super::work_order::{AssistRow, assist_rows};
use super::work_orders::{OrderRow, overdue_first};
use super::{Page, Shell, page_error, render};
use crate::AppState;
use crate::i18n::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/areas/{id}", get(area_page))
}

pub struct TagCount {
    pub name: String,
    pub class: String,
    pub count: i64,
}

pub struct ChildRow {
    pub id: i64,
    pub name: String,
    pub counts: AreaCounts,
}

pub struct AreaCard {
    pub area: Area,
    /// Inside the caller's scope (not only shown for navigation): its overdue board is theirs.
    pub in_scope: bool,
    pub level: String,
    pub counts: AreaCounts,
    pub tags: Vec<TagCount>,
    pub children: Vec<ChildRow>,
    pub buildings: Vec<BuildingRow>,
}

pub fn level_name(t: Texts, level: AreaLevel) -> String {
    t.t(&format!("area.level_{}", level.as_str())).to_owned()
}

async fn card(store: &Store, scope: &Scope, t: Texts, area: Area) -> Result<AreaCard, StoreError> {
    let counts = store.area_counts(scope, &area.path).await?;
    let tags = store.tags(scope).await?;
    let mut per_tag: Vec<(i64, i64)> = Vec::new();
    for c in store.tag_counts_per_grid(scope, &area.path).await? {
        match per_tag.iter_mut().find(|(id, _)| *id == c.tag_id) {
            Some(e) => e.1 += c.count,
            None => per_tag.push((c.tag_id, c.count)),
        }
    }
    let mut tag_counts: Vec<TagCount> = per_tag
        .into_iter()
        .filter_map(|(id, count)| {
            tags.iter().find(|t| t.id == id).map(|tag| TagCount {
                name: if t.is_zh() {
                    tag.name_zh.clone()
                } else {
                    tag.name_en.clone()
                },
                class: tag.sensitivity.as_str().to_owned(),
                count,
            })
        })
        .collect();
    tag_counts.sort_by_key(|c| std::cmp::Reverse(c.count));
    let mut children = Vec::new();
    if area.level != AreaLevel::Grid {
        let filter = AreaFilter {
            parent_id: Some(area.id),
            ..Default::default()
        };
        let page = PageRequest {
            after: None,
            limit: 200,
        };
        for child in store.areas(scope, &filter, &page).await?.items {
            let counts = store.area_counts(scope, &child.path).await?;
            children.push(ChildRow {
                id: child.id,
                name: child.name,
                counts,
            });
        }
    }
    let buildings = if area.level == AreaLevel::Grid {
        store.buildings_in(scope, &area.path).await?
    } else {
        Vec::new()
    };
    Ok(AreaCard {
        in_scope: scope.contains(&area.path),
        level: level_name(t, area.level),
        area,
        counts,
        tags: tag_counts,
        children,
        buildings,
    })
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    today: String,
    can_read: bool,
    cards: Vec<AreaCard>,
    /// Open orders in the caller's areas, overdue first.
    rows: Vec<OrderRow>,
    /// Open requests asking the caller for help.
    assists: Vec<AssistRow>,
    /// Active campaigns: doors left for the caller, residents' requests for them.
    campaigns: Vec<super::campaigns::TodayCampaign>,
    /// Keys held on entrustments naming the caller, overdue first.
    keys: Vec<super::entrustments::TodayKey>,
}

async fn home(State(s): State<AppState>, page: Page) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let can_read = page
        .caller
        .as_ref()
        .is_some_and(|c| c.role.can(Permission::RegistryRead));
    let mut cards = Vec::new();
    let mut rows = Vec::new();
    let mut assists = Vec::new();
    let mut campaigns = Vec::new();
    let mut keys = Vec::new();
    if let Some(caller) = page.caller.as_ref().filter(|_| can_read) {
        let now = time::OffsetDateTime::now_utc();
        let open = wangge_store::work_orders::WorkOrderFilter {
            open_only: true,
            ..Default::default()
        };
        let first = PageRequest {
            after: None,
            limit: 10,
        };
        let mine = wangge_store::assists::AssistFilter::AssignedTo(caller.user_id);
        let found = async {
            let (orders, _) = overdue_first(store, &scope, &open, &first, now).await?;
            let asked = store.assists(&scope, mine, true, &first).await?.items;
            let active = super::campaigns::today(&s, caller).await?;
            let held = super::entrustments::today(&s, caller, t).await?;
            Ok::<_, StoreError>((orders, asked, active, held))
        };
        match found.await {
            Ok((orders, asked, active, held)) => {
                rows = orders.iter().map(|w| OrderRow::of(t, w, now)).collect();
                assists = assist_rows(t, &asked, caller);
                campaigns = active;
                keys = held;
            }
            Err(e) => return page_error(page.shell, e),
        }
    }
    if can_read {
        for root in scope.roots() {
            let built = async {
                let area = store.area(&scope, root.last_id()).await?;
                card(store, &scope, t, area).await
            };
            match built.await {
                Ok(c) => cards.push(c),
                Err(e) => return page_error(page.shell, e),
            }
        }
    }
    render(&HomePage {
        today: t.tf("home.today", &[&t.date(&s.registry.clock.today())]),
        shell: page.shell,
        can_read,
        cards,
        rows,
        assists,
        campaigns,
        keys,
    })
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaPage {
    shell: Shell,
    crumbs: Vec<(i64, String)>,
    card: AreaCard,
    compounds: Vec<Place>,
    can_write: bool,
}

async fn area_page(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let built = async {
        let area = store.area(&scope, id).await?;
        let mut crumbs = Vec::new();
        for ancestor in area.path.ancestors() {
            let a = store.area(&scope, ancestor.last_id()).await?;
            crumbs.push((a.id, a.name));
        }
        let filter = PlaceFilter {
            kind: Some(wangge_domain::PlaceKind::Compound),
            within: Some(area.path.clone()),
            ..Default::default()
        };
        let page_req = PageRequest {
            after: None,
            limit: 200,
        };
        let compounds = store.places(&scope, &filter, &page_req).await?.items;
        let card = card(store, &scope, t, area).await?;
        Ok::<_, StoreError>((crumbs, card, compounds))
    };
    match built.await {
        Ok((crumbs, card, compounds)) => render(&AreaPage {
            can_write: page
                .caller
                .as_ref()
                .is_some_and(|c| c.role.can(Permission::RegistryWrite))
                && scope.contains(&card.area.path),
            shell: page.shell,
            crumbs,
            card,
            compounds,
        }),
        Err(e) => page_error(page.shell, e),
    }
}
