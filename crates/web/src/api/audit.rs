//! The audit trail for the auditor: filters, newest first, keyset pages.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_store::audit::{AuditEvent, AuditFilter};

use super::{PageOf, page_request};
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub role: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub reason: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(a: AuditEvent) -> Self {
        AuditEventOut {
            id: a.id,
            at: a.at,
            actor_id: a.event.actor_id,
            actor: a.event.actor,
            role: a.event.role,
            action: a.event.action,
            object_type: a.event.object_type,
            object_id: a.event.object_id,
            reason: a.event.reason,
            outcome: a.event.outcome,
            request_id: a.event.request_id,
            client_addr: a.event.client_addr,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditParams {
    pub actor_id: Option<i64>,
    /// e.g. `auth.login`, `person.reveal`.
    pub action: Option<String>,
    /// e.g. `person`.
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    /// RFC 3339.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    pub since: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    pub until: Option<OffsetDateTime>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = PageOf<AuditEventOut>), (status = 403, body = Problem)))]
async fn list_audit(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Json<PageOf<AuditEventOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let filter = AuditFilter {
        actor_id: q.actor_id,
        action: q.action,
        object_type: q.object_type,
        object_id: q.object_id,
        since: q.since,
        until: q.until,
    };
    let found = s.registry.store.audit_events(&filter, &page).await?;
    Ok(Json(PageOf::from_page(found, AuditEventOut::from)))
}
