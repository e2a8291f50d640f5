//! A campaign's doors as an Excel register: masked phones for staff who plan campaigns, full
//! phones for roles that may reveal personal numbers, with a reason (both audited).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use wangge_domain::Reason;
use wangge_services::FieldError;
use wangge_services::campaigns::ExportSheet;

use super::dashboard;
use crate::AppState;
use crate::access::Audited;
use crate::pages::{FormErrors, Page, page_error};

pub fn router() -> Router<AppState> {
    Router::new().route("/campaigns/{id}/export", get(masked).post(revealed))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The workbook as a download, named by the campaign's id (the name is in the sheet).
fn workbook(sheet: ExportSheet, id: i64, audited: Audited) -> Response {
    let rows: Vec<Vec<String>> = sheet.rows.into_iter().map(|r| r.0).collect();
    match wangge_sheets::xlsx(&sheet.name, &sheet.headers, &rows) {
        Ok(bytes) => {
            let mut resp = (Extension(audited), bytes).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"campaign-{id}.xlsx\""))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "campaign workbook failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn masked(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let scope = page.scope();
    let c = match s.registry.store.campaign(&scope, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    match s.registry.campaign_sheet(&scope, id, false).await {
        Ok(sheet) => workbook(
            sheet,
            id,
            Audited {
                action: Some("campaign.export"),
                object_type: Some("campaign"),
                object_id: Some(id),
                area_path: Some(c.area_path.as_str().to_owned()),
                reason: None,
            },
        ),
        Err(e) => page_error(page.shell, e),
    }
}

#[derive(Deserialize)]
struct RevealForm {
    #[serde(default)]
    reason: String,
}

async fn revealed(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RevealForm>,
) -> Response {
    let scope = page.scope();
    let c = match s.registry.store.campaign(&scope, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let reason = match Reason::parse(&f.reason) {
        Ok(r) => r,
        Err(e) => {
            let mut errors = FormErrors::default();
            errors.push("reason", &FieldError::from_domain("reason", &e), page.t());
            return dashboard::view(
                &s,
                page,
                &headers,
                id,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match s.registry.campaign_sheet(&scope, id, true).await {
        Ok(sheet) => workbook(
            sheet,
            id,
            Audited {
                action: Some("campaign.export_revealed"),
                object_type: Some("campaign"),
                object_id: Some(id),
                area_path: Some(c.area_path.as_str().to_owned()),
                reason: Some(reason.as_str().to_owned()),
            },
        ),
        Err(e) => page_error(page.shell, e),
    }
}
