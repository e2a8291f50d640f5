//! The user's notifications: unread first, each marked read in place (htmx) or by a plain form
//! post; and the unread count for the page header.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};
use wangge_services::identity::Caller;
use wangge_store::StoreError;
use wangge_store::notifications::Notification;
use wangge_store::page::{Cursor, PageRequest};

use super::{Page, Shell, page_error, render};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(inbox))
        .route("/notifications/{id}/read", post(mark_read))
}

/// Unread in-app notifications of the caller, for a badge in the navigation.
pub async fn unread_count(s: &AppState, caller: &Caller) -> Result<u64, StoreError> {
    s.registry
        .store
        .unread_notifications(&caller.scope, caller.user_id)
        .await
}

/// One notification as the list shows it.
pub struct Item {
    pub id: i64,
    pub event: String,
    pub title: String,
    /// The page the notification is about.
    pub link: String,
    pub when: String,
    pub unread: bool,
}

fn item(t: Texts, n: Notification) -> Item {
    let local = n
        .created_at
        .to_offset(UtcOffset::from_hms(8, 0, 0).expect("valid offset"));
    let mut event = if t.is_zh() {
        n.event.name_zh().to_owned()
    } else {
        n.event.name_en().to_owned()
    };
    if let Some(level) = n.level {
        event = format!("{event} · {}", t.tf1("notification.level", level));
    }
    Item {
        id: n.id,
        event,
        title: n.title,
        link: match (n.work_order_id, n.campaign_id) {
            (Some(w), _) => format!("/work-orders/{w}"),
            (None, Some(c)) => format!("/campaigns/{c}/requests"),
            (None, None) => "/".to_owned(),
        },
        when: format!(
            "{} {:02}:{:02}",
            t.date(&local.date()),
            local.hour(),
            local.minute()
        ),
        unread: n.read_at.is_none(),
    }
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct InboxPage {
    shell: Shell,
    unread: u64,
    items: Vec<Item>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "_notification.html")]
struct ItemFragment {
    shell: Shell,
    n: Item,
}

#[derive(Deserialize)]
struct InboxQuery {
    cursor: Option<String>,
}

async fn inbox(State(s): State<AppState>, page: Page, Query(q): Query<InboxQuery>) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    let request = PageRequest {
        // A cursor that does not decode starts from the top.
        after: q.cursor.as_deref().and_then(|c| Cursor::decode(c).ok()),
        limit: 50,
    };
    let store = &s.registry.store;
    let found = match store.inbox(&caller.scope, caller.user_id, &request).await {
        Ok(f) => f,
        Err(e) => return page_error(page.shell, e),
    };
    let unread = match unread_count(&s, &caller).await {
        Ok(n) => n,
        Err(e) => return page_error(page.shell, e),
    };
    render(&InboxPage {
        unread,
        next: found.next.as_ref().map(Cursor::encode),
        items: found.items.into_iter().map(|n| item(t, n)).collect(),
        shell: page.shell,
    })
}

/// Marks one read: htmx gets the updated item back, a plain form goes back to the list.
async fn mark_read(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let n = match s
        .registry
        .store
        .mark_notification_read(&caller.scope, caller.user_id, id, OffsetDateTime::now_utc())
        .await
    {
        Ok(n) => n,
        Err(e) => return page_error(page.shell, e),
    };
    let audited = Extension(Audited {
        action: Some("notification.read"),
        object_type: Some("notification"),
        object_id: Some(n.id),
        area_path: Some(n.area_path.as_str().to_owned()),
        reason: None,
    });
    if headers.contains_key("hx-request") {
        let fragment = ItemFragment {
            n: item(page.t(), n),
            shell: page.shell,
        };
        return (audited, render(&fragment)).into_response();
    }
    (audited, Redirect::to("/notifications")).into_response()
}
