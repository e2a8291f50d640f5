//! The grid worker's doors left: the open doors of a campaign in their scope (assigned to them by
//! default, or all in their area), in walking order, grouped by building, with the contactless
//! ones, slots and residents' requests marked. Made for a phone in a stairwell.

use std::collections::HashSet;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use wangge_domain::{CampaignState, ContactMode};
use wangge_store::StoreError;
use wangge_store::campaigns::{ItemFilter, ItemOrder};
use wangge_store::page::PageRequest;

use super::{mode_name, slot_text, status_name};
use crate::AppState;
use crate::pages::{Page, Shell, page_error, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/campaigns/{id}/doors", get(doors))
}

/// The most doors one list shows (a grid has 300–500 households).
pub const DOORS_MAX: u32 = 500;

pub struct DoorRow {
    pub id: i64,
    /// The address below the building ("2单元601室").
    pub place: String,
    pub person: String,
    pub status: String,
    pub status_code: String,
    pub contactless: bool,
    pub mode: String,
    pub slot: String,
    pub overdue: bool,
    pub request: bool,
}

pub struct BuildingGroup {
    pub address: String,
    pub slots: Vec<String>,
    pub doors: Vec<DoorRow>,
}

#[derive(Template)]
#[template(path = "campaign_doors.html")]
struct DoorsPage {
    shell: Shell,
    id: i64,
    name: String,
    all: bool,
    active: bool,
    count: usize,
    truncated: bool,
    groups: Vec<BuildingGroup>,
}

#[derive(Deserialize)]
struct DoorsQuery {
    all: Option<String>,
}

async fn doors(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(q): Query<DoorsQuery>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let today = s.registry.clock.today();
    let all = q.all.as_deref() == Some("1");
    let built = async {
        let c = store.campaign(&scope, id).await?;
        let filter = ItemFilter {
            open: true,
            assignee_id: (!all).then_some(caller.user_id),
            ..Default::default()
        };
        let req = PageRequest {
            after: None,
            limit: DOORS_MAX,
        };
        let items = store
            .campaign_items(&scope, id, &filter, ItemOrder::Doors, &req)
            .await?
            .items;
        let asked = ItemFilter {
            with_requests: true,
            ..filter
        };
        let with_requests: HashSet<i64> = store
            .campaign_items(&scope, id, &asked, ItemOrder::Doors, &req)
            .await?
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        let buildings = store.campaign_building_summary(&scope, id).await?;
        Ok::<_, StoreError>((c, items, with_requests, buildings))
    };
    let (c, items, with_requests, buildings) = match built.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let count = items.len();
    let mut groups: Vec<(Option<i64>, BuildingGroup)> = Vec::new();
    for i in items {
        if groups.last().is_none_or(|(b, _)| *b != i.building_id) {
            let summary = buildings.iter().find(|b| b.building_id == i.building_id);
            groups.push((
                i.building_id,
                BuildingGroup {
                    address: summary
                        .map(|b| b.address.clone())
                        .filter(|a| !a.is_empty())
                        .unwrap_or_else(|| t.t("campaign.no_building").to_owned()),
                    slots: summary
                        .map(|b| b.slots.iter().map(|(s, _)| slot_text(t, s)).collect())
                        .unwrap_or_default(),
                    doors: Vec::new(),
                },
            ));
        }
        let group = &mut groups.last_mut().expect("just pushed").1;
        let place = i
            .address
            .strip_prefix(group.address.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or(&i.address)
            .to_owned();
        group.doors.push(DoorRow {
            id: i.id,
            place,
            person: i.person_name.clone().unwrap_or_default(),
            status: status_name(t, i.status).to_owned(),
            status_code: i.status.as_str().to_owned(),
            contactless: i.mode == ContactMode::Contactless,
            mode: mode_name(t, i.mode).to_owned(),
            slot: i.slot.as_ref().map(|s| slot_text(t, s)).unwrap_or_default(),
            overdue: i
                .slot
                .as_ref()
                .is_some_and(|s| s.is_overdue(i.status, today)),
            request: with_requests.contains(&i.id),
        });
    }
    render(&DoorsPage {
        id: c.id,
        name: c.name,
        all,
        active: c.state == CampaignState::Active,
        count,
        truncated: count >= DOORS_MAX as usize,
        groups: groups.into_iter().map(|(_, g)| g).collect(),
        shell: page.shell,
    })
}
