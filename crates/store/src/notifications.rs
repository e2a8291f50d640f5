//! The notifications outbox. Events write one row per recipient × channel in the transaction
//! that makes the event happen (see `enqueue`), each with a unique idempotency key, so a
//! retried event writes nothing twice and a rolled-back one leaves nothing behind. The delivery
//! job claims due rows with a lease (their next attempt moved past the lease) and marks them
//! delivered or schedules a retry. In-app rows are the user's inbox once delivered.

use time::{Duration, OffsetDateTime};
use wangge_domain::{
    AreaPath, Channel, NotificationEvent, Role, Scope, Transition, WorkOrder, role_acting_at,
};

use crate::db::{Backend, DbRow, Tx, Value};
use crate::error::decode;
use crate::jobs::NOTIFICATION_JOB;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::{covering, within};
use crate::work_orders::WorkOrderRecord;
use crate::{Store, StoreError, params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    fn parse(s: &str) -> Result<DeliveryState, StoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Decode(format!("notification state {other}"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: i64,
    pub idempotency_key: String,
    pub event: NotificationEvent,
    pub channel: Channel,
    pub recipient_id: i64,
    pub work_order_id: Option<i64>,
    pub assist_request_id: Option<i64>,
    /// The escalation level reached (escalations).
    pub level: Option<u8>,
    pub campaign_id: Option<i64>,
    pub campaign_request_id: Option<i64>,
    /// The entrustment whose key is overdue (key_overdue).
    pub entrustment_id: Option<i64>,
    /// The work order's or campaign's title.
    pub title: String,
    pub area_path: AreaPath,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
    pub read_at: Option<OffsetDateTime>,
}

const COLS: &str = "id, idempotency_key, event, channel, recipient_id, work_order_id, \
     assist_request_id, level, title, area_path, state, attempts, next_attempt_at, last_error, \
     created_at, delivered_at, read_at, campaign_id, campaign_request_id, entrustment_id";

fn notification_from_row(r: &dyn DbRow) -> Result<Notification, StoreError> {
    let event = r.text(2)?;
    let channel = r.text(3)?;
    Ok(Notification {
        id: r.int(0)?,
        idempotency_key: r.text(1)?,
        event: NotificationEvent::parse(&event)
            .ok_or_else(|| StoreError::Decode(format!("notification event {event}")))?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Decode(format!("notification channel {channel}")))?,
        recipient_id: r.int(4)?,
        work_order_id: r.opt_int(5)?,
        assist_request_id: r.opt_int(6)?,
        level: r
            .opt_int(7)?
            .map(u8::try_from)
            .transpose()
            .map_err(|e| StoreError::Decode(format!("notification level: {e}")))?,
        title: r.text(8)?,
        area_path: decode(AreaPath::parse(&r.text(9)?))?,
        state: DeliveryState::parse(&r.text(10)?)?,
        attempts: decode(u32::try_from(r.int(11)?))?,
        next_attempt_at: r.timestamp(12)?,
        last_error: r.opt_text(13)?,
        created_at: r.timestamp(14)?,
        delivered_at: r.opt_timestamp(15)?,
        read_at: r.opt_timestamp(16)?,
        campaign_id: r.opt_int(17)?,
        campaign_request_id: r.opt_int(18)?,
        entrustment_id: r.opt_int(19)?,
    })
}

/// Who an event goes to, before the actor is left out.
pub enum Recipients {
    /// Active users of this role whose areas cover the order's grid.
    ActingRole(Role),
    /// Active users among these, when their areas cover the order's grid.
    Users(Vec<i64>),
}

/// One event about a work order or a campaign, as the outbox records it.
pub struct OutboxEvent<'a> {
    pub event: NotificationEvent,
    pub work_order_id: Option<i64>,
    pub assist_request_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub campaign_request_id: Option<i64>,
    pub entrustment_id: Option<i64>,
    pub level: Option<u8>,
    pub title: &'a str,
    pub area_path: &'a AreaPath,
    /// What makes this event unique (a timeline step, an assist request): the idempotency key
    /// is this, the recipient and the channel.
    pub occurrence: String,
    /// The user who caused it, who is not told.
    pub actor_id: Option<i64>,
    pub at: OffsetDateTime,
}

/// The outbox rows of a work-order step, if it raises an event: called inside the transition's
/// transaction.
pub(crate) async fn enqueue_for_transition(
    tx: &mut Tx,
    channels: &[Channel],
    order: &WorkOrder,
    record: &WorkOrderRecord,
    step: &Transition,
    stamp: OffsetDateTime,
    actor_id: Option<i64>,
) -> Result<u64, StoreError> {
    let Some(kind) = wangge_domain::ActionKind::ALL
        .into_iter()
        .find(|k| k.as_str() == step.action)
    else {
        return Ok(0);
    };
    let Some(event) = NotificationEvent::for_action(kind) else {
        return Ok(0);
    };
    let recipients = match event {
        NotificationEvent::WorkOrderResolved => {
            Recipients::Users(record.reported_by_id.into_iter().collect())
        }
        _ => match role_acting_at(order.handling_level()) {
            Some(role) => Recipients::ActingRole(role),
            None => return Ok(0),
        },
    };
    let ev = OutboxEvent {
        event,
        work_order_id: Some(record.id),
        assist_request_id: None,
        campaign_id: None,
        campaign_request_id: None,
        entrustment_id: None,
        level: (event == NotificationEvent::WorkOrderEscalated).then_some(order.escalation_level),
        title: &record.title,
        area_path: &record.area_path,
        occurrence: format!(
            "work_order:{}:step:{}",
            record.id,
            stamp.unix_timestamp_nanos() / 1000
        ),
        actor_id,
        at: order.last_at,
    };
    enqueue(tx, channels, &ev, &recipients).await
}

/// Writes the rows for `ev` (existing keys are left alone) and pulls the delivery job forward
/// to `ev.at` if it was scheduled later. Returns how many rows were added.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    channels: &[Channel],
    ev: &OutboxEvent<'_>,
    recipients: &Recipients,
) -> Result<u64, StoreError> {
    let mut p = Vec::new();
    let covers = covering("a.path", ev.area_path, &mut p);
    let who = match recipients {
        Recipients::ActingRole(role) => {
            p.push(role.as_str().into());
            "u.role = ?".to_owned()
        }
        Recipients::Users(ids) if ids.is_empty() => return Ok(0),
        Recipients::Users(ids) => {
            p.extend(ids.iter().map(|id| Value::Int(*id)));
            format!("u.id IN ({})", vec!["?"; ids.len()].join(", "))
        }
    };
    let mut users = tx
        .query(
            &format!(
                "SELECT DISTINCT u.id FROM users u JOIN user_areas ua ON ua.user_id = u.id \
                 JOIN areas a ON a.id = ua.area_id \
                 WHERE u.disabled_at IS NULL AND {covers} AND {who}"
            ),
            &p,
            |r| r.int(0),
        )
        .await?;
    users.retain(|u| Some(*u) != ev.actor_id);
    users.sort_unstable();
    let mut added = 0;
    for user in users {
        for channel in channels {
            let key = format!(
                "{}:{}:user:{user}:{}",
                ev.event.as_str(),
                ev.occurrence,
                channel.as_str()
            );
            added += tx
                .execute(
                    "INSERT INTO notifications (idempotency_key, event, channel, recipient_id, \
                     work_order_id, assist_request_id, level, campaign_id, campaign_request_id, \
                     entrustment_id, title, area_path, state, attempts, next_attempt_at, \
                     created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) \
                     ON CONFLICT (idempotency_key) DO NOTHING",
                    &params![
                        key,
                        ev.event.as_str(),
                        channel.as_str(),
                        user,
                        ev.work_order_id,
                        ev.assist_request_id,
                        ev.level.map(i64::from),
                        ev.campaign_id,
                        ev.campaign_request_id,
                        ev.entrustment_id,
                        ev.title,
                        ev.area_path.as_str(),
                        ev.at,
                        ev.at
                    ],
                )
                .await?;
        }
    }
    if added > 0 {
        // Only touches the job row when it would run later: most events find it already due.
        tx.execute(
            "UPDATE jobs SET run_at = ? WHERE key = ? AND state = 'pending' AND run_at > ?",
            &params![ev.at, NOTIFICATION_JOB, ev.at],
        )
        .await?;
    }
    Ok(added)
}

/// The unread-first order of an inbox: 0 unread, 1 read.
const RANK: &str = "(CASE WHEN read_at IS NULL THEN 0 ELSE 1 END)";

impl Store {
    /// Outbox rows telling `recipients` that an entrustment's key is overdue, about the work
    /// order raised for it. Idempotent per entrustment and order.
    pub async fn enqueue_key_overdue(
        &self,
        entrustment_id: i64,
        work_order_id: i64,
        recipients: &[i64],
        title: &str,
        area_path: &AreaPath,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let ev = OutboxEvent {
            event: NotificationEvent::KeyOverdue,
            work_order_id: Some(work_order_id),
            assist_request_id: None,
            level: None,
            campaign_id: None,
            campaign_request_id: None,
            entrustment_id: Some(entrustment_id),
            title,
            area_path,
            occurrence: format!("key_overdue:{entrustment_id}:{work_order_id}"),
            actor_id: None,
            at,
        };
        let mut tx = self.db.begin().await?;
        let n = enqueue(
            &mut tx,
            &self.channels,
            &ev,
            &Recipients::Users(recipients.to_vec()),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Outbox rows for an assist request on a work order in `scope`: one per named colleague
    /// (who can see the order) × channel. Idempotent per request.
    pub async fn enqueue_assist_requested(
        &self,
        scope: &Scope,
        work_order_id: i64,
        assist_request_id: i64,
        recipients: &[i64],
        actor_id: Option<i64>,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        let n = self
            .enqueue_assist_requested_in(
                &mut tx,
                scope,
                work_order_id,
                assist_request_id,
                recipients,
                actor_id,
                at,
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// As [`Store::enqueue_assist_requested`], inside the caller's transaction (the one that
    /// records the assist request).
    #[allow(clippy::too_many_arguments)]
    pub async fn enqueue_assist_requested_in(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        work_order_id: i64,
        assist_request_id: i64,
        recipients: &[i64],
        actor_id: Option<i64>,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut p = Vec::from(params![work_order_id]);
        let inside = within("area_path", scope, &mut p);
        let (title, path) = tx
            .query_opt(
                &format!("SELECT title, area_path FROM work_orders WHERE id = ? AND {inside}"),
                &p,
                |r| Ok((r.text(0)?, decode(AreaPath::parse(&r.text(1)?))?)),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let ev = OutboxEvent {
            event: NotificationEvent::AssistRequested,
            work_order_id: Some(work_order_id),
            assist_request_id: Some(assist_request_id),
            campaign_id: None,
            campaign_request_id: None,
            entrustment_id: None,
            level: None,
            title: &title,
            area_path: &path,
            occurrence: format!("assist_request:{assist_request_id}"),
            actor_id,
            at,
        };
        enqueue(
            tx,
            &self.channels,
            &ev,
            &Recipients::Users(recipients.to_vec()),
        )
        .await
    }

    /// Claims up to `limit` pending rows due at `now`: each gets an attempt counted and its
    /// next attempt moved to `now + lease`, so no other runner takes it meanwhile.
    pub async fn claim_notifications(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let lock = match self.db.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.db.begin().await?;
        let ids = tx
            .query(
                &format!(
                    "SELECT id FROM notifications WHERE state = 'pending' AND next_attempt_at <= ? \
                     ORDER BY next_attempt_at, id LIMIT ?{lock}"
                ),
                &params![now, i64::from(limit.clamp(1, 1000))],
                |r| r.int(0),
            )
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let mut p: Vec<Value> = params![now + lease].into();
        p.extend(ids.into_iter().map(Value::Int));
        let mut rows = tx
            .query(
                &format!(
                    "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ? \
                     WHERE id IN ({marks}) RETURNING {COLS}"
                ),
                &p,
                notification_from_row,
            )
            .await?;
        tx.commit().await?;
        rows.sort_by_key(|n| n.id);
        Ok(rows)
    }

    /// Delivered: false if it already was (a second delivery changes nothing).
    pub async fn mark_notification_delivered(
        &self,
        id: i64,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = self
            .db
            .execute(
                "UPDATE notifications SET state = 'delivered', delivered_at = ?, last_error = NULL \
                 WHERE id = ? AND state = 'pending'",
                &params![at, id],
            )
            .await?;
        Ok(n == 1)
    }

    /// A failed attempt: retried at `retry_at`, or failed for good without one.
    pub async fn mark_notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        match retry_at {
            Some(at) => {
                self.db
                    .execute(
                        "UPDATE notifications SET next_attempt_at = ?, last_error = ? \
                         WHERE id = ? AND state = 'pending'",
                        &params![at, error, id],
                    )
                    .await?
            }
            None => {
                self.db
                    .execute(
                        "UPDATE notifications SET state = 'failed', last_error = ? \
                         WHERE id = ? AND state = 'pending'",
                        &params![error, id],
                    )
                    .await?
            }
        };
        Ok(())
    }

    /// When the next pending row falls due.
    pub async fn next_notification_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        self.db
            .query_opt(
                "SELECT next_attempt_at FROM notifications WHERE state = 'pending' \
                 ORDER BY next_attempt_at LIMIT 1",
                &[],
                |r| r.timestamp(0),
            )
            .await
    }

    /// Every outbox row of a work order, oldest first (operations and tests).
    pub async fn notifications_for_order(
        &self,
        scope: &Scope,
        work_order_id: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut p = Vec::from(params![work_order_id]);
        let inside = within("area_path", scope, &mut p);
        self.db
            .query(
                &format!(
                    "SELECT {COLS} FROM notifications WHERE work_order_id = ? AND {inside} \
                     ORDER BY id"
                ),
                &p,
                notification_from_row,
            )
            .await
    }

    /// A user's in-app inbox within their scope: delivered rows, unread first, newest first.
    pub async fn inbox(
        &self,
        scope: &Scope,
        user_id: i64,
        page: &PageRequest,
    ) -> Result<Page<Notification>, StoreError> {
        let mut p = Vec::from(params![user_id]);
        let inside = within("area_path", scope, &mut p);
        let mut after = String::new();
        if let Some(c) = &page.after {
            let rank: i64 = if c.path == "1" { 1 } else { 0 };
            after = format!(" AND ({RANK} > ? OR ({RANK} = ? AND id < ?))");
            p.extend([Value::Int(rank), Value::Int(rank), Value::Int(c.id)]);
        }
        p.push(Value::Int(page.fetch()));
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT {COLS} FROM notifications WHERE recipient_id = ? \
                     AND channel = 'in_app' AND state = 'delivered' AND {inside}{after} \
                     ORDER BY {RANK}, id DESC LIMIT ?"
                ),
                &p,
                notification_from_row,
            )
            .await?;
        Ok(Page::from_rows(rows, page, |n| Cursor {
            path: if n.read_at.is_some() { "1" } else { "0" }.to_owned(),
            id: n.id,
        }))
    }

    /// Unread in-app notifications of a user within their scope.
    pub async fn unread_notifications(
        &self,
        scope: &Scope,
        user_id: i64,
    ) -> Result<u64, StoreError> {
        let mut p = Vec::from(params![user_id]);
        let inside = within("area_path", scope, &mut p);
        let n = self
            .db
            .query_opt(
                &format!(
                    "SELECT COUNT(*) FROM notifications WHERE recipient_id = ? \
                     AND channel = 'in_app' AND state = 'delivered' AND read_at IS NULL \
                     AND {inside}"
                ),
                &p,
                |r| r.int(0),
            )
            .await?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Marks one of the user's delivered in-app notifications read (once; reading again keeps
    /// the first time). Someone else's, or one outside the scope, is not found.
    pub async fn mark_notification_read(
        &self,
        scope: &Scope,
        user_id: i64,
        id: i64,
        at: OffsetDateTime,
    ) -> Result<Notification, StoreError> {
        let mut p = Vec::from(params![at, id, user_id]);
        let inside = within("area_path", scope, &mut p);
        self.db
            .execute(
                &format!(
                    "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? \
                     AND recipient_id = ? AND channel = 'in_app' AND state = 'delivered' \
                     AND {inside}"
                ),
                &p,
            )
            .await?;
        let mut p = Vec::from(params![id, user_id]);
        let inside = within("area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!(
                    "SELECT {COLS} FROM notifications WHERE id = ? AND recipient_id = ? \
                     AND channel = 'in_app' AND state = 'delivered' AND {inside}"
                ),
                &p,
                notification_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }
}
