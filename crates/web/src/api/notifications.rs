//! The signed-in user's notifications (in-app channel): the inbox, unread first, and marking
//! one read. Only one's own, and only about work inside one's current scope.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_store::notifications::Notification;

use super::page_request;
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, CurrentCaller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: i64,
    /// work_order_assigned, work_order_escalated, work_order_resolved, assist_requested,
    /// campaign_request or key_overdue.
    pub event: String,
    pub event_name_zh: String,
    pub event_name_en: String,
    pub work_order_id: Option<i64>,
    pub assist_request_id: Option<i64>,
    /// The escalation level reached (escalations).
    pub level: Option<u8>,
    /// The campaign and the resident's request (campaign_request).
    pub campaign_id: Option<i64>,
    pub campaign_request_id: Option<i64>,
    /// The entrustment whose key is overdue (key_overdue; the work order is the one raised).
    pub entrustment_id: Option<i64>,
    /// The work order's or the campaign's title.
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        NotificationOut {
            id: n.id,
            event: n.event.as_str().to_owned(),
            event_name_zh: n.event.name_zh().to_owned(),
            event_name_en: n.event.name_en().to_owned(),
            work_order_id: n.work_order_id,
            assist_request_id: n.assist_request_id,
            level: n.level,
            campaign_id: n.campaign_id,
            campaign_request_id: n.campaign_request_id,
            entrustment_id: n.entrustment_id,
            title: n.title,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// Unread first, then newest first.
    pub items: Vec<NotificationOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Unread notifications in all.
    pub unread: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxParams {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/notifications", tag = "notifications", params(InboxParams),
    responses((status = 200, body = Inbox), (status = 400, body = Problem)))]
async fn list_notifications(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    ApiQuery(q): ApiQuery<InboxParams>,
) -> ApiResult<Json<Inbox>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let store = &s.registry.store;
    let found = store.inbox(&caller.scope, caller.user_id, &page).await?;
    let unread = store
        .unread_notifications(&caller.scope, caller.user_id)
        .await?;
    Ok(Json(Inbox {
        next_cursor: found.next.as_ref().map(wangge_store::page::Cursor::encode),
        items: found.items.into_iter().map(NotificationOut::from).collect(),
        unread,
    }))
}

#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications",
    responses((status = 200, body = NotificationOut), (status = 404, body = Problem)))]
async fn mark_read(
    State(s): State<AppState>,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<NotificationOut>)> {
    let n = s
        .registry
        .store
        .mark_notification_read(&caller.scope, caller.user_id, id, OffsetDateTime::now_utc())
        .await?;
    let audit = Extension(Audited {
        action: Some("notification.read"),
        object_type: Some("notification"),
        object_id: Some(n.id),
        area_path: Some(n.area_path.as_str().to_owned()),
        reason: None,
    });
    Ok((audit, Json(n.into())))
}
