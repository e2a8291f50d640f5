//! Residents' pre-registrations as staff see them: open ones first, the door each matched (or a
//! choice of doors for one that matched none), whether the phone left is a household member's,
//! masked phones; marking one handled, and showing the phone to the person who will call back
//! (its handler or whoever runs the campaign; audited).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use wangge_domain::Permission;
use wangge_domain::campaign::RequestKind;
use wangge_services::identity::Caller;
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;
use wangge_store::campaigns::{CampaignRequest, ItemFilter, ItemOrder};
use wangge_store::page::PageRequest;

use super::doors::DOORS_MAX;
use super::{manages, request_kind_name};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;
use crate::pages::entrustments::EntrustOffer;
use crate::pages::work_orders::when;
use crate::pages::{FormErrors, Page, Shell, local_path, page_error, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/requests", get(list))
        .route("/campaign-requests/{id}/handle", post(handle))
        .route("/campaign-requests/{id}/contact", post(contact))
}

/// One request as the partial `_campaign_request.html` shows it.
pub struct RequestRow {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    pub when: String,
    pub name: String,
    pub phone_masked: String,
    /// The phone in full, for the one who asked to call back.
    pub phone: Option<String>,
    pub phone_matches: bool,
    pub place: String,
    pub message: String,
    pub item_id: Option<i64>,
    pub item_address: String,
    pub handler: String,
    pub handler_id: Option<i64>,
    pub open: bool,
    pub handled: String,
    pub can_contact: bool,
    pub can_handle: bool,
    pub door_options: Vec<(i64, String)>,
    /// Where the handle form returns to.
    pub back: String,
    /// "Please act for me": the resident asks for an entrustment.
    pub act_for_me: bool,
    /// The form that takes it on as an entrustment (an open act-for-me request matched to a
    /// door, for someone who may record one).
    pub entrust: Option<EntrustOffer>,
}

/// A place label with its word ("3" → "3号楼"); a label that says what it is stays as written.
fn labelled(t: Texts, key: &str, label: &str) -> String {
    if label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        t.tf1(key, label)
    } else {
        label.to_owned()
    }
}

pub fn request_rows(t: Texts, list: Vec<CampaignRequest>) -> Vec<RequestRow> {
    list.into_iter()
        .map(|r| {
            let place = [
                r.building_label
                    .map(|b| labelled(t, "campaign.building_label", &b)),
                r.unit_label.map(|u| labelled(t, "campaign.unit_label", &u)),
                Some(labelled(t, "campaign.dwelling_label", &r.dwelling_label)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let handled = match (&r.handled_by, r.handled_at) {
                (Some(by), Some(at)) => t.tf("campaign.handled_by", &[by, &when(t, at)]),
                _ => String::new(),
            };
            RequestRow {
                id: r.id,
                reference: r.reference,
                kind: request_kind_name(t, r.kind).to_owned(),
                when: when(t, r.created_at),
                name: r.contact_name,
                phone_masked: r.contact_phone_masked,
                phone: None,
                phone_matches: r.phone_matches,
                place,
                message: r.message.unwrap_or_default(),
                item_id: r.item_id,
                item_address: r.item_address.unwrap_or_default(),
                handler: r.handler_name.unwrap_or_default(),
                handler_id: r.handler_id,
                open: r.open,
                handled,
                can_contact: false,
                can_handle: false,
                door_options: Vec::new(),
                back: String::new(),
                act_for_me: r.kind == RequestKind::ActForMe,
                entrust: None,
            }
        })
        .collect()
}

/// Who may see the phone a resident left: the request's handler, or whoever runs the campaign.
pub fn may_contact(caller: &Caller, r: &RequestRow, manager: bool) -> bool {
    caller.role.can(Permission::RegistryWrite) && (r.handler_id == Some(caller.user_id) || manager)
}

#[derive(Template)]
#[template(path = "campaign_requests.html")]
struct RequestsPage {
    shell: Shell,
    id: i64,
    name: String,
    open: usize,
    rows: Vec<RequestRow>,
    errors: FormErrors,
}

/// The requests page; `revealed` is a request whose phone is shown in full.
async fn view(
    s: &AppState,
    page: Page,
    campaign_id: i64,
    revealed: Option<(i64, String)>,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let built = async {
        let c = store.campaign(&scope, campaign_id).await?;
        let list = store.campaign_requests(&scope, campaign_id, false).await?;
        let unmatched = list.iter().any(|r| r.open && r.item_id.is_none());
        let doors = if unmatched && caller.role.can(Permission::RegistryWrite) {
            let req = PageRequest {
                after: None,
                limit: DOORS_MAX,
            };
            store
                .campaign_items(
                    &scope,
                    campaign_id,
                    &ItemFilter::default(),
                    ItemOrder::Doors,
                    &req,
                )
                .await?
                .items
                .into_iter()
                .map(|i| {
                    let who = i.person_name.map(|p| format!(" · {p}")).unwrap_or_default();
                    (i.id, format!("{}{who}", i.address))
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok::<_, StoreError>((c, list, doors))
    };
    let (c, list, doors) = match built.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let manager = manages(s, &caller, &c).await;
    let back = format!("/campaigns/{campaign_id}/requests");
    let mut rows = request_rows(t, list);
    for r in &mut rows {
        r.can_contact = may_contact(&caller, r, manager);
        r.can_handle = caller.role.can(Permission::RegistryWrite);
        r.back.clone_from(&back);
        if r.item_id.is_none() && r.open {
            r.door_options.clone_from(&doors);
        }
        if r.open && r.act_for_me && r.item_id.is_some() && r.can_handle {
            r.entrust = Some(EntrustOffer::new(t, s.registry.clock.today()));
        }
        if let Some((id, phone)) = &revealed
            && *id == r.id
        {
            r.phone = Some(phone.clone());
        }
    }
    let out = RequestsPage {
        id: c.id,
        name: c.name,
        open: rows.iter().filter(|r| r.open).count(),
        rows,
        errors,
        shell: page.shell,
    };
    (status, render(&out)).into_response()
}

async fn list(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    view(&s, page, id, None, FormErrors::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct HandleForm {
    #[serde(default)]
    item_id: String,
    back: Option<String>,
}

async fn handle(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<HandleForm>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let scope = page.scope();
    let found = match s.registry.store.campaign_request(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    let item = match f.item_id.trim() {
        "" => None,
        i => match i.parse() {
            Ok(i) => Some(i),
            Err(_) => {
                let e = ServiceError::invalid(FieldError::unknown_reference("item_id"));
                return refused(&s, page, found.campaign_id, e).await;
            }
        },
    };
    match s
        .registry
        .handle_campaign_request(&scope, &caller.username, id, item)
        .await
    {
        Ok(r) => {
            let audited = Audited {
                action: Some("campaign_request.handle"),
                object_type: Some("campaign_request"),
                object_id: Some(r.id),
                area_path: Some(r.area_path.as_str().to_owned()),
                reason: None,
            };
            let fallback = format!("/campaigns/{}/requests", r.campaign_id);
            let to = match f.back {
                Some(b) if !b.trim().is_empty() => local_path(Some(b)),
                _ => fallback,
            };
            (Extension(audited), Redirect::to(&to)).into_response()
        }
        Err(e) => refused(&s, page, found.campaign_id, e).await,
    }
}

/// The requests page again with why a form on it was refused (a 404 stays a 404).
pub(crate) async fn refused(
    s: &AppState,
    page: Page,
    campaign_id: i64,
    e: ServiceError,
) -> Response {
    let status = match &e {
        ServiceError::NotFound => return page_error(page.shell, e),
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match FormErrors::from_service(e, page.t()) {
        Ok(mut errors) => {
            // One form per request: its message goes on top.
            let fields: Vec<String> = errors.fields.drain(..).map(|(_, m)| m).collect();
            if !fields.is_empty() {
                errors.general = Some(fields.join(" "));
            }
            view(s, page, campaign_id, None, errors, status).await
        }
        Err(e) => page_error(page.shell, e),
    }
}

/// Shows the phone a resident left to whoever will call them back.
async fn contact(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let scope = page.scope();
    let store = &s.registry.store;
    let found = async {
        let r = store.campaign_request(&scope, id).await?;
        let c = store.campaign(&scope, r.campaign_id).await?;
        Ok::<_, StoreError>((r, c))
    };
    let (r, c) = match found.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let manager = manages(&s, &caller, &c).await;
    if r.handler_id != Some(caller.user_id) && !manager {
        return crate::pages::error_page(page.shell, StatusCode::FORBIDDEN);
    }
    let phone = match store.campaign_request_phone(&scope, id).await {
        Ok(p) => p,
        Err(e) => return page_error(page.shell, e),
    };
    let audited = Audited {
        action: Some("campaign_request.contact"),
        object_type: Some("campaign_request"),
        object_id: Some(r.id),
        area_path: Some(r.area_path.as_str().to_owned()),
        reason: None,
    };
    let resp = view(
        &s,
        page,
        r.campaign_id,
        Some((r.id, phone)),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await;
    (Extension(audited), resp).into_response()
}
