//! The place tree: compound → building (with the units × floors view) → unit → dwelling, with
//! forms to add and relabel each.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use wangge_domain::{AreaLevel, Permission, PlaceKind, Scope};
use wangge_services::registry::CreatePlace;
use wangge_store::areas::{Area, AreaFilter};
use wangge_store::households::{Household, HouseholdFilter};
use wangge_store::page::PageRequest;
use wangge_store::places::{Place, PlaceFilter};
use wangge_store::{Store, StoreError};

use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/places/{id}", get(place_page))
        .route("/places/new", post(create_place))
        .route("/places/{id}/edit", post(edit_place))
}

/// Links from the city down to the place's parent.
pub async fn crumbs(
    store: &Store,
    scope: &Scope,
    t: crate::i18n::Texts,
    place: &Place,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut out = Vec::new();
    for a in place
        .area_path
        .ancestors()
        .into_iter()
        .chain([place.area_path.clone()])
    {
        let area = store.area(scope, a.last_id()).await?;
        out.push((format!("/areas/{}", area.id), area.name));
    }
    let mut chain = Vec::new();
    let mut up = place.parent_id;
    while let Some(id) = up {
        let p = store.place(scope, id).await?;
        up = p.parent_id;
        chain.push((format!("/places/{}", p.id), shown_label(t, &p)));
    }
    chain.reverse();
    out.extend(chain);
    Ok(out)
}

/// A place's label as people say it: 3号楼, 2单元, 601.
pub fn shown_label(t: crate::i18n::Texts, p: &Place) -> String {
    match p.kind {
        PlaceKind::Building => t.tf1("place.building_n", &p.label),
        PlaceKind::Unit => t.tf1("place.unit_n", &p.label),
        _ => p.label.clone(),
    }
}

pub struct Cell {
    pub id: i64,
    pub label: String,
    pub household_id: Option<i64>,
    pub members: i64,
    pub tags: Vec<(String, String)>,
}

pub struct FloorRow {
    pub floor: i64,
    pub units: Vec<Vec<Cell>>,
}

#[derive(Template)]
#[template(path = "place.html")]
struct PlacePage {
    shell: Shell,
    crumbs: Vec<(String, String)>,
    place: Place,
    kind: String,
    title: String,
    child_kind: Option<(String, String)>,
    /// Children with their label as people say it (3号楼, 2单元, 601).
    children: Vec<(i64, String)>,
    grids: Vec<Area>,
    households: Vec<Household>,
    units: Vec<String>,
    floors: Vec<FloorRow>,
    can_write: bool,
    errors: FormErrors,
}

fn kind_name(page: &Page, k: PlaceKind) -> String {
    page.t().t(&format!("place.{}", k.as_str())).to_owned()
}

async fn load(
    s: &AppState,
    page: &Page,
    id: i64,
    errors: FormErrors,
) -> Result<Response, StoreError> {
    let scope = page.scope();
    let store = &s.registry.store;
    let place = store.place(&scope, id).await?;
    let crumbs = crumbs(store, &scope, page.t(), &place).await?;
    let all = PageRequest {
        after: None,
        limit: 500,
    };
    let children = if place.kind == PlaceKind::Dwelling {
        Vec::new()
    } else {
        let f = PlaceFilter {
            parent_id: Some(place.id),
            ..Default::default()
        };
        store.places(&scope, &f, &all).await?.items
    };
    let mut grids = Vec::new();
    if place.kind == PlaceKind::Compound {
        let area = store.area(&scope, place.area_id).await?;
        if area.level != AreaLevel::Grid {
            let f = AreaFilter {
                level: Some(AreaLevel::Grid),
                within: Some(area.path.clone()),
                ..Default::default()
            };
            grids = store.areas(&scope, &f, &all).await?.items;
        }
    }
    let households = if place.kind == PlaceKind::Dwelling {
        let f = HouseholdFilter {
            dwelling_id: Some(place.id),
            include_ended: true,
            ..Default::default()
        };
        store.households(&scope, &f, &all).await?.items
    } else {
        Vec::new()
    };
    let (units, floors) = if place.kind == PlaceKind::Building {
        building_grid(s, page, &scope, place.id).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let t = page.t();
    let children = children
        .into_iter()
        .map(|c| (c.id, shown_label(t, &c)))
        .collect();
    let child_kind = place.kind.child_kind().map(|k| {
        (
            k.as_str().to_owned(),
            t.t(&format!("place.add_{}", k.as_str())).to_owned(),
        )
    });
    Ok(render(&PlacePage {
        kind: kind_name(page, place.kind),
        title: shown_label(t, &place),
        can_write: page
            .caller
            .as_ref()
            .is_some_and(|c| c.role.can(Permission::RegistryWrite))
            && scope.contains(&place.area_path),
        shell: page.shell.clone(),
        crumbs,
        place,
        child_kind,
        children,
        grids,
        households,
        units,
        floors,
        errors,
    }))
}

async fn building_grid(
    s: &AppState,
    page: &Page,
    scope: &Scope,
    building: i64,
) -> Result<(Vec<String>, Vec<FloorRow>), StoreError> {
    let cells = s.registry.store.building_view(scope, building).await?;
    let tags = s.registry.store.tags(scope).await?;
    let t = page.t();
    let mut units: Vec<String> = cells.iter().map(|c| c.unit.clone()).collect();
    units.dedup();
    let mut floors: Vec<i64> = cells.iter().map(|c| c.floor.unwrap_or(0)).collect();
    floors.sort_unstable_by(|a, b| b.cmp(a));
    floors.dedup();
    let rows = floors
        .into_iter()
        .map(|floor| FloorRow {
            floor,
            units: units
                .iter()
                .map(|u| {
                    cells
                        .iter()
                        .filter(|c| &c.unit == u && c.floor.unwrap_or(0) == floor)
                        .map(|c| Cell {
                            id: c.id,
                            label: c.label.clone(),
                            household_id: c.household_id,
                            members: c.members,
                            tags: c
                                .tags
                                .iter()
                                .filter_map(|code| tags.iter().find(|tg| tg.code.as_str() == code))
                                .map(|tg| {
                                    let name = if t.is_zh() {
                                        tg.name_zh.clone()
                                    } else {
                                        tg.name_en.clone()
                                    };
                                    (name, tg.sensitivity.as_str().to_owned())
                                })
                                .collect(),
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    Ok((units, rows))
}

async fn place_page(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    match load(&s, &page, id, FormErrors::default()).await {
        Ok(r) => r,
        Err(e) => page_error(page.shell, e),
    }
}

#[derive(Deserialize)]
struct NewPlaceForm {
    kind: String,
    parent_id: Option<i64>,
    area_id: Option<String>,
    label: String,
    floor: Option<String>,
}

async fn create_place(
    State(s): State<AppState>,
    page: Page,
    Form(f): Form<NewPlaceForm>,
) -> Response {
    let scope = page.scope();
    let Ok(kind) = PlaceKind::parse(&f.kind) else {
        return page_error(page.shell, StoreError::NotFound);
    };
    let cmd = CreatePlace {
        kind,
        parent_id: f.parent_id,
        area_id: f.area_id.as_deref().and_then(|a| a.trim().parse().ok()),
        label: f.label,
        floor: f.floor.as_deref().and_then(|x| x.trim().parse().ok()),
    };
    match s.registry.create_place(&scope, cmd).await {
        Ok(p) => Redirect::to(&format!("/places/{}", p.id)).into_response(),
        Err(e) => match super::FormErrors::from_service(e, page.t()) {
            Ok(errors) => match f.parent_id {
                Some(parent) => load(&s, &page, parent, errors)
                    .await
                    .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
                None => super::error_page(page.shell, axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            },
            Err(e) => page_error(page.shell, e),
        },
    }
}

#[derive(Deserialize)]
struct EditPlaceForm {
    label: String,
}

async fn edit_place(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<EditPlaceForm>,
) -> Response {
    match s
        .registry
        .update_place(&page.scope(), id, Some(f.label), None)
        .await
    {
        Ok(_) => Redirect::to(&format!("/places/{id}")).into_response(),
        Err(e) => match super::FormErrors::from_service(e, page.t()) {
            Ok(errors) => load(&s, &page, id, errors)
                .await
                .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
            Err(e) => page_error(page.shell, e),
        },
    }
}
