//! A campaign's doors as an Excel workbook: masked by default, or with full phone numbers for
//! roles allowed to reveal them, with a stated reason that the audit trail keeps.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::Reason;
use wangge_services::FieldError;
use wangge_services::campaigns::ExportSheet;

use super::campaigns::audited;
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, CallerScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_masked, export_revealed))
}

fn xlsx_response(sheet: ExportSheet, id: i64) -> Result<Response, ApiError> {
    let rows: Vec<Vec<String>> = sheet.rows.into_iter().map(|r| r.0).collect();
    let bytes = wangge_sheets::xlsx(&sheet.name, &sheet.headers, &rows).map_err(|e| {
        tracing::error!(error = %e, "export failed");
        ApiError::from(wangge_store::StoreError::Backend("xlsx export".into()))
    })?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"campaign-{id}.xlsx\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The doors with their results and form answers as an Excel sheet, phones masked.
#[utoipa::path(get, path = "/campaigns/{id}/export", tag = "campaigns",
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = Problem)))]
async fn export_masked(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Response)> {
    let sheet = s.registry.campaign_sheet(&scope, id, false).await?;
    let c = s.registry.store.campaign(&scope, id).await?;
    Ok((audited("campaign.export", &c), xlsx_response(sheet, id)?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevealExportIn {
    /// Why the full phone numbers are needed (2–200 characters, no numbers); audited.
    pub reason: String,
}

/// The same export with full phone numbers, for roles allowed to reveal them, with a reason.
#[utoipa::path(post, path = "/campaigns/{id}/export", tag = "campaigns", request_body = RevealExportIn,
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn export_revealed(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RevealExportIn>,
) -> ApiResult<(Extension<Audited>, Response)> {
    let reason = Reason::parse(&body.reason).map_err(|e| FieldError::from_domain("reason", &e))?;
    let sheet = s.registry.campaign_sheet(&scope, id, true).await?;
    let c = s.registry.store.campaign(&scope, id).await?;
    let mut a = audited("campaign.export_revealed", &c);
    a.0.reason = Some(reason.as_str().to_owned());
    Ok((a, xlsx_response(sheet, id)?))
}
