//! Staff actions on an entrustment's page: cancel one not yet confirmed, make (or replace) the
//! resident's link and show it once with a QR code, give a one-time code to read out on the
//! phone, show the resident's phone to whoever will call them (audited), and add photos of the
//! work (only while the resident allows photos).
//!
//! Answers that carry a secret (the link, the code, the phone) are rendered in place rather than
//! redirected to, so the secret is never in a URL, and are marked `no-store`.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use wangge_domain::entrustment::EntrustmentStep;
use wangge_services::{FieldError, ServiceError};
use wangge_store::attachments::AttachmentParent;

use super::detail::{Extra, LinkView, audited, refused, respond};
use super::may_contact;
use crate::AppState;
use crate::access::Audited;
use crate::pages::attachments::{PageForm, unavailable};
use crate::pages::campaigns::{qr_svg, site_base};
use crate::pages::{FormErrors, Page, error_page, page_error};

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Withdraws an entrustment the resident has not confirmed yet (or declines a request).
pub(super) async fn cancel(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    match s
        .registry
        .entrustment_staff_step(&page.scope(), id, EntrustmentStep::Cancel)
        .await
    {
        Ok(r) => {
            let to = format!("/entrustments/{id}");
            (audited("entrustment.step", &r), Redirect::to(&to)).into_response()
        }
        Err(e) => refused(&s, page, id, e, Extra::default()).await,
    }
}

#[derive(Deserialize)]
pub(super) struct LinkForm {
    #[serde(default)]
    replace: String,
}

/// Makes the resident's link and shows it once, with its QR code. Replacing a link ends the old
/// one and any view open on it, so it needs a tick.
pub(super) async fn link(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Response {
    let scope = page.scope();
    let rec = match s.registry.store.entrustment(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    if rec.has_link && f.replace != "yes" {
        let e = ServiceError::invalid(FieldError::new(
            "replace",
            "entrustment.replace_link",
            "居民已有查看链接。生成新链接后，旧链接立即失效，请勾选确认后再生成",
            "The resident already has a link. A new one ends the old one at once: tick to confirm",
        ));
        return refused(&s, page, id, e, Extra::default()).await;
    }
    match s.registry.resident_link(&scope, id).await {
        Ok(link) => {
            let url = format!("{}/r/{link}", site_base(&headers));
            let x = Extra {
                link: Some(LinkView {
                    qr: qr_svg(&url).unwrap_or_default(),
                    url,
                }),
                ..Default::default()
            };
            let audit = audited("entrustment.resident_link", &rec);
            (
                audit,
                no_store(respond(&s, page, id, x, StatusCode::OK).await),
            )
                .into_response()
        }
        Err(e) => refused(&s, page, id, e, Extra::default()).await,
    }
}

/// Issues a one-time code and shows it to the staff member, who gives it to the resident through
/// the entrustment's contact channel (read out on the phone, or sent).
pub(super) async fn code(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let scope = page.scope();
    let rec = match s.registry.store.entrustment(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    match s.registry.resident_code(&scope, id).await {
        Ok(code) => {
            let x = Extra {
                code: Some(code),
                ..Default::default()
            };
            let audit = audited("entrustment.resident_code", &rec);
            (
                audit,
                no_store(respond(&s, page, id, x, StatusCode::OK).await),
            )
                .into_response()
        }
        Err(e) => refused(&s, page, id, e, Extra::default()).await,
    }
}

/// Shows the resident's phone in full to a named staff member or a role allowed full numbers;
/// the read is in the audit trail and on the resident's own page.
pub(super) async fn contact(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let scope = page.scope();
    let store = &s.registry.store;
    let rec = match store.entrustment(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    if !may_contact(&caller, &rec) {
        return error_page(page.shell, StatusCode::FORBIDDEN);
    }
    let phone = match store.entrustment_phone(&scope, id).await {
        Ok(p) => p,
        Err(e) => return page_error(page.shell, e),
    };
    let x = Extra {
        phone: Some(phone),
        ..Default::default()
    };
    let audit = audited("entrustment.contact", &rec);
    (
        audit,
        no_store(respond(&s, page, id, x, StatusCode::OK).await),
    )
        .into_response()
}

/// Adds photos (of the finished work, W1) while the resident allows photos and the entrustment
/// is in force.
pub(super) async fn photos(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let scope = page.scope();
    let rec = match s.registry.store.entrustment(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    let stored = async {
        s.registry.may_photograph(&scope, id).await?;
        let form = PageForm::read(&s, req).await?;
        let attachments = s.attachments.as_ref().ok_or_else(unavailable)?;
        if form.photos.is_empty() {
            return Err(ServiceError::invalid(FieldError::required("file")));
        }
        let mut prepared = Vec::new();
        for photo in form.photos {
            prepared.push(attachments.prepare(photo).await?);
        }
        let who = (Some(caller.user_id), caller.username.as_str());
        for p in prepared {
            attachments
                .attach(&scope, who, AttachmentParent::Entrustment(id), p)
                .await?;
        }
        Ok(())
    };
    match stored.await {
        Ok(()) => {
            let audit = Audited {
                action: Some("attachment.upload"),
                object_type: Some("entrustment"),
                object_id: Some(rec.id),
                area_path: Some(rec.area_path.as_str().to_owned()),
                reason: None,
            };
            let to = format!("/entrustments/{id}#photos");
            (Extension(audit), Redirect::to(&to)).into_response()
        }
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => {
            let t = page.t();
            let status = match &e {
                ServiceError::Conflict { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            match FormErrors::from_service(e, t) {
                Ok(errors) => {
                    let message = errors
                        .fields
                        .first()
                        .map(|(_, m)| m.clone())
                        .or(errors.general);
                    let x = Extra {
                        photo_error: message,
                        ..Default::default()
                    };
                    respond(&s, page, id, x, status).await
                }
                Err(e) => page_error(page.shell, e),
            }
        }
    }
}
