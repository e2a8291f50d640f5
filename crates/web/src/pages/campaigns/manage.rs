//! Running a campaign from its dashboard: launch (freeze the list), close, add newcomers, open or
//! close the residents' link, set slots by building, hand a building's doors to a colleague.
//! Each step is taken only by someone who manages the campaign; for anyone else the campaign is
//! not found. A refused step shows the dashboard again with the reason.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use time::Date;
use time::macros::format_description;
use wangge_domain::campaign::Slot;
use wangge_services::campaigns::SlotChange;
use wangge_services::{FieldError, ServiceError};
use wangge_store::campaigns::{Campaign, ItemSelection};

use super::{dashboard, manages};
use crate::AppState;
use crate::access::Audited;
use crate::pages::{FormErrors, Page, page_error};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/launch", post(launch))
        .route("/campaigns/{id}/close", post(close))
        .route("/campaigns/{id}/newcomers", post(newcomers))
        .route("/campaigns/{id}/link", post(link))
        .route("/campaigns/{id}/slots", post(slots))
        .route("/campaigns/{id}/assign", post(assign))
}

/// The campaign, if the caller manages it; otherwise not found.
pub(super) async fn managed(s: &AppState, page: &Page, id: i64) -> Result<Campaign, ServiceError> {
    let caller = page.caller.as_ref().ok_or(ServiceError::NotFound)?;
    let c = s.registry.store.campaign(&page.scope(), id).await?;
    if manages(s, caller, &c).await {
        Ok(c)
    } else {
        Err(ServiceError::NotFound)
    }
}

fn audited(action: &'static str, c: &Campaign) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("campaign"),
        object_id: Some(c.id),
        area_path: Some(c.area_path.as_str().to_owned()),
        reason: None,
    })
}

/// A refused step: the dashboard with the messages (fields renamed by `rename`).
async fn refused(
    s: &AppState,
    page: Page,
    headers: &HeaderMap,
    id: i64,
    e: ServiceError,
    rename: &[(&str, &str)],
) -> Response {
    let status = match &e {
        ServiceError::NotFound => return page_error(page.shell, e),
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match FormErrors::from_service(e, page.t()) {
        Ok(mut errors) => {
            for (field, _) in &mut errors.fields {
                if let Some((_, to)) = rename.iter().find(|(from, _)| from == field) {
                    *field = (*to).to_owned();
                }
            }
            dashboard::view(s, page, headers, id, None, errors, status).await
        }
        Err(e) => page_error(page.shell, e),
    }
}

fn back(c: &Campaign, query: &str) -> Redirect {
    Redirect::to(&format!("/campaigns/{}{query}", c.id))
}

async fn launch(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let c = match managed(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    match s.registry.launch_campaign(&page.scope(), id).await {
        Ok(c) => (audited("campaign.launch", &c), back(&c, "")).into_response(),
        Err(e) => refused(&s, page, &headers, c.id, e, &[]).await,
    }
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    confirm: String,
}

async fn close(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Response {
    let c = match managed(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    if f.confirm != "yes" {
        let e = ServiceError::invalid(FieldError::new(
            "confirm",
            "campaign.close_confirm",
            "结束后不能再登记，请勾选确认",
            "Nothing can be recorded after closing: tick to confirm",
        ));
        return refused(&s, page, &headers, id, e, &[]).await;
    }
    match s.registry.close_campaign(&page.scope(), id).await {
        Ok(c) => (audited("campaign.close", &c), back(&c, "")).into_response(),
        Err(e) => refused(&s, page, &headers, c.id, e, &[]).await,
    }
}

async fn newcomers(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let c = match managed(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    match s.registry.add_newcomers(&page.scope(), id).await {
        Ok(n) => (
            audited("campaign.newcomers", &c),
            back(&c, &format!("?added={n}")),
        )
            .into_response(),
        Err(e) => refused(&s, page, &headers, id, e, &[]).await,
    }
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    open: String,
}

async fn link(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Response {
    if let Err(e) = managed(&s, &page, id).await {
        return page_error(page.shell, e);
    }
    let open = match f.open.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            let e = ServiceError::invalid(FieldError::required("open"));
            return refused(&s, page, &headers, id, e, &[]).await;
        }
    };
    match s.registry.set_campaign_link(&page.scope(), id, open).await {
        Ok(c) => {
            let action = if open {
                "campaign.link_open"
            } else {
                "campaign.link_close"
            };
            (audited(action, &c), back(&c, "")).into_response()
        }
        Err(e) => refused(&s, page, &headers, id, e, &[]).await,
    }
}

fn date(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    Date::parse(v.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            errors.push(FieldError::new(
                field,
                "date.invalid",
                "日期无效，应为 YYYY-MM-DD",
                "Not a valid date (YYYY-MM-DD)",
            ));
        })
        .ok()
}

fn building(v: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    v.trim()
        .parse()
        .map_err(|_| errors.push(FieldError::required("building")))
        .ok()
}

#[derive(Deserialize)]
struct SlotForm {
    #[serde(default)]
    building: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    action: String,
}

async fn slots(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<SlotForm>,
) -> Response {
    let c = match managed(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let mut errors = Vec::new();
    let b = building(&f.building, &mut errors);
    let change = if f.action == "clear" {
        Some(SlotChange::Clear)
    } else {
        let starts = date("starts_on", &f.starts_on, &mut errors);
        let ends = date("ends_on", &f.ends_on, &mut errors);
        match (starts, ends) {
            (Some(a), Some(b)) => match Slot::new(a, b, Some(&f.note)) {
                Ok(slot) => Some(SlotChange::Set(slot)),
                Err(e) => {
                    let field = if e.code() == "text.too_long" {
                        "note"
                    } else {
                        "ends_on"
                    };
                    errors.push(FieldError::from_domain(field, &e));
                    None
                }
            },
            _ => None,
        }
    };
    let (Some(b), Some(change), true) = (b, change, errors.is_empty()) else {
        return refused(&s, page, &headers, id, ServiceError::Invalid(errors), &[]).await;
    };
    match s
        .registry
        .set_item_slots(&page.scope(), id, &ItemSelection::Building(b), &change)
        .await
    {
        Ok(n) => (
            audited("campaign.slots", &c),
            back(&c, &format!("?slots={}", n.changed)),
        )
            .into_response(),
        Err(e) => refused(&s, page, &headers, id, e, &[]).await,
    }
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    building: String,
    #[serde(default)]
    assignee: String,
}

async fn assign(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Response {
    let c = match managed(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let rename = [("building", "assign_building")];
    let mut errors = Vec::new();
    let b = building(&f.building, &mut errors);
    let assignee: Option<i64> = f
        .assignee
        .trim()
        .parse()
        .map_err(|_| errors.push(FieldError::required("assignee")))
        .ok();
    let (Some(b), Some(assignee)) = (b, assignee) else {
        return refused(
            &s,
            page,
            &headers,
            id,
            ServiceError::Invalid(errors),
            &rename,
        )
        .await;
    };
    // Only a colleague who works in the campaign's area may be given its doors.
    match s.registry.store.user_covers(assignee, &c.area_path).await {
        Ok(true) => {}
        Ok(false) => {
            let e = ServiceError::invalid(FieldError::unknown_reference("assignee"));
            return refused(&s, page, &headers, id, e, &rename).await;
        }
        Err(e) => return page_error(page.shell, e),
    }
    match s
        .registry
        .assign_items(&page.scope(), id, &ItemSelection::Building(b), assignee)
        .await
    {
        Ok(n) => (
            audited("campaign.assign", &c),
            back(&c, &format!("?assigned={}", n.changed)),
        )
            .into_response(),
        Err(e) => refused(&s, page, &headers, id, e, &rename).await,
    }
}
