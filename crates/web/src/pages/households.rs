//! Household pages: members with their history and changes, household tags, the household's
//! end, and (in `visits`) the visit form and history.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use wangge_domain::{Permission, Relation, ResidenceType, TagSubject};
use wangge_services::registry::CreateHousehold;
use wangge_store::StoreError;
use wangge_store::entrustments::EntrustmentFilter;
use wangge_store::households::{Household, Member};
use wangge_store::page::PageRequest;
use wangge_store::places::Place;
use wangge_store::tags::{Labelled, Tag};

use super::persons::{FORM_RELATIONS, TagForm, TagRow, assign, tag_rows};
use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;
use crate::access::Audited;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/households/new", post(create_household))
        .route("/households/{id}", get(household_page))
        .route("/households/{id}/end", post(end_household))
        .route("/households/{id}/tags", post(tag_household))
        .route(
            "/households/{id}/members/{member_id}/change",
            post(change_member),
        )
        .route("/households/{id}/members/{member_id}/end", post(end_member))
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    shell: Shell,
    crumbs: Vec<(String, String)>,
    household: Household,
    dwelling: Option<Place>,
    current: Vec<Member>,
    past: Vec<Member>,
    tags: Vec<TagRow>,
    choices: Vec<Tag>,
    can_write: bool,
    errors: FormErrors,
    relations: Vec<(String, String)>,
    residences: Vec<(String, String)>,
    visits: Vec<super::visits::VisitRow>,
    outcomes: Options,
    person_tags: Vec<Tag>,
    /// Entrustments on this household, newest first.
    entrustments: Vec<super::entrustments::EntrustmentRow>,
}

pub(super) async fn household_view(
    s: &AppState,
    page: &Page,
    id: i64,
    errors: FormErrors,
) -> Result<Response, StoreError> {
    let scope = page.scope();
    let store = &s.registry.store;
    let household = store.household(&scope, id).await?;
    let dwelling = match household.dwelling_id {
        Some(d) => Some(store.place(&scope, d).await?),
        None => None,
    };
    let crumbs = match &dwelling {
        Some(d) => {
            let mut c = super::places::crumbs(store, &scope, page.t(), d).await?;
            c.push((format!("/places/{}", d.id), d.label.clone()));
            c
        }
        None => Vec::new(),
    };
    let (current, past): (Vec<Member>, Vec<Member>) = store
        .members(&scope, id, true)
        .await?
        .into_iter()
        .partition(|m| m.ended_on.is_none());
    let (tags, choices) = tag_rows(s, page, Labelled::Household(id)).await?;
    let audited = Audited {
        action: Some("household.read"),
        object_type: Some("household"),
        object_id: Some(household.id),
        area_path: Some(household.area_path.as_str().to_owned()),
        reason: None,
    };
    let can_write = page
        .caller
        .as_ref()
        .is_some_and(|c| c.role.can(Permission::RegistryWrite));
    let (relations, residences) = choices_for_members(page);
    let visits = super::visits::history(s, page, id).await?;
    let entrusted = EntrustmentFilter {
        household_id: Some(id),
        ..Default::default()
    };
    let first = PageRequest {
        after: None,
        limit: 20,
    };
    let now = time::OffsetDateTime::now_utc();
    let entrustments = store
        .entrustments(&scope, &entrusted, &first)
        .await?
        .items
        .iter()
        .map(|r| super::entrustments::EntrustmentRow::of(page.t(), r, now))
        .collect();
    let person_tags = s
        .registry
        .store
        .tags(&scope)
        .await?
        .into_iter()
        .filter(|t| t.subject == TagSubject::Person)
        .collect();
    Ok((
        Extension(audited),
        render(&HouseholdPage {
            relations,
            residences,
            visits,
            outcomes: super::visits::outcomes(page.t()),
            person_tags,
            entrustments,
            shell: page.shell.clone(),
            crumbs,
            household,
            dwelling,
            current,
            past,
            tags,
            choices,
            can_write,
            errors,
        }),
    )
        .into_response())
}

/// The relation and residence-type options of the member forms, in the page's language.
/// (value, label) pairs for a select.
pub(super) type Options = Vec<(String, String)>;

pub(super) fn choices_for_members(page: &Page) -> (Options, Options) {
    let t = page.t();
    let relations = FORM_RELATIONS
        .iter()
        .filter_map(|c| Relation::from_code(*c).ok())
        .map(|r| (r.code_str(), t.relation(&r)))
        .collect();
    let residences = ResidenceType::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_owned(),
                t.t(&format!("residence.{}", r.as_str())).to_owned(),
            )
        })
        .collect();
    (relations, residences)
}

#[derive(Deserialize)]
struct MemberChangeForm {
    relation: String,
    residence_type: String,
}

/// A change of relation or residence type: the old row ends today and a new one starts.
async fn change_member(
    State(s): State<AppState>,
    page: Page,
    Path((id, member_id)): Path<(i64, i64)>,
    Form(f): Form<MemberChangeForm>,
) -> Response {
    let relation = Relation::parse(&f.relation).ok();
    let residence = ResidenceType::parse(&f.residence_type).ok();
    match s
        .registry
        .change_member(&page.scope(), id, member_id, relation, residence, None)
        .await
    {
        Ok(_) => Redirect::to(&format!("/households/{id}")).into_response(),
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => household_view(&s, &page, id, errors)
                .await
                .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
            Err(e) => page_error(page.shell, e),
        },
    }
}

/// A member moved out or died: their membership ends today.
async fn end_member(
    State(s): State<AppState>,
    page: Page,
    Path((id, member_id)): Path<(i64, i64)>,
) -> Response {
    match s
        .registry
        .end_member(&page.scope(), id, member_id, None)
        .await
    {
        Ok(_) => Redirect::to(&format!("/households/{id}")).into_response(),
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => household_view(&s, &page, id, errors)
                .await
                .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
            Err(e) => page_error(page.shell, e),
        },
    }
}

async fn household_page(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    household_view(&s, &page, id, FormErrors::default())
        .await
        .unwrap_or_else(|e| page_error(page.shell, e))
}

#[derive(Deserialize)]
struct NewHouseholdForm {
    dwelling_id: i64,
}

async fn create_household(
    State(s): State<AppState>,
    page: Page,
    Form(f): Form<NewHouseholdForm>,
) -> Response {
    let cmd = CreateHousehold {
        dwelling_id: Some(f.dwelling_id),
        area_id: None,
        started_on: None,
    };
    match s.registry.create_household(&page.scope(), cmd).await {
        Ok(h) => Redirect::to(&format!("/households/{}", h.id)).into_response(),
        Err(e) => page_error(page.shell, e),
    }
}

async fn end_household(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    match s.registry.end_household(&page.scope(), id, None).await {
        Ok(_) => Redirect::to(&format!("/households/{id}")).into_response(),
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => household_view(&s, &page, id, errors)
                .await
                .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
            Err(e) => page_error(page.shell, e),
        },
    }
}

async fn tag_household(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<TagForm>,
) -> Response {
    match assign(&s, &page, Labelled::Household(id), f).await {
        Ok(()) => Redirect::to(&format!("/households/{id}")).into_response(),
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => household_view(&s, &page, id, errors)
                .await
                .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
            Err(e) => page_error(page.shell, e),
        },
    }
}
