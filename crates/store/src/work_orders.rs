//! Work orders (工单): categories, orders and their timeline. The rules live in the domain
//! ([`WorkOrder::apply`]); this module stores the aggregate as columns, rebuilds it from a row,
//! and applies a transition under a row lock with an optimistic guard, appending the timeline
//! step in the same transaction.

use time::{Duration, OffsetDateTime};
use wangge_domain::{
    Action, AreaPath, PendingRequest, Priority, Satisfaction, Scope, Sla, Suspension, Transition,
    TransitionError, WorkOrder, WorkOrderState,
};

use crate::db::{Backend, DbRow, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub parent_id: Option<i64>,
    pub default_unit: Option<String>,
    pub sla: Sla,
    pub priority: Priority,
}

/// Where a work order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    GridWorker,
    Resident,
    Hotline,
    Alert,
    Visit,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Self::GridWorker,
        Self::Resident,
        Self::Hotline,
        Self::Alert,
        Self::Visit,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::GridWorker => "grid_worker",
            Self::Resident => "resident",
            Self::Hotline => "hotline",
            Self::Alert => "alert",
            Self::Visit => "visit",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

/// A stored work order: what the store keeps around the domain aggregate.
#[derive(Debug, Clone)]
pub struct WorkOrderRecord {
    pub id: i64,
    pub category_id: i64,
    pub source: Source,
    pub title: String,
    pub description: String,
    pub household_id: Option<i64>,
    pub place_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub reported_by_id: Option<i64>,
    pub reported_by: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub order: WorkOrder,
}

#[derive(Debug, Clone)]
pub struct NewWorkOrder {
    pub category_id: i64,
    pub source: Source,
    pub title: String,
    pub description: String,
    pub household_id: Option<i64>,
    pub place_id: Option<i64>,
    /// The grid the order belongs to.
    pub area_id: i64,
    pub priority: Priority,
    pub sla: Sla,
    pub reported_at: OffsetDateTime,
}

/// Who acted: a user, or the system (`id` None) for escalations.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: None,
            name: "system".into(),
        }
    }
}

/// One timeline entry.
#[derive(Debug, Clone)]
pub struct WorkOrderEvent {
    pub id: i64,
    pub work_order_id: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    /// None for the report itself.
    pub from_state: Option<WorkOrderState>,
    pub to_state: WorkOrderState,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub unit: Option<String>,
    pub lapsed: Option<String>,
    /// The assist request an `assist_*` entry is about.
    pub assist_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct WorkOrderFilter {
    pub within: Option<AreaPath>,
    pub state: Option<WorkOrderState>,
    /// Only orders open and overdue at this time.
    pub overdue_at: Option<OffsetDateTime>,
    pub category_id: Option<i64>,
    pub unit: Option<String>,
    /// Only orders reported by this user.
    pub reported_by_id: Option<i64>,
    /// Only orders about this household (an entrustment's page lists them).
    pub household_id: Option<i64>,
    /// Only orders not yet closed or rejected.
    pub open_only: bool,
}

/// The aggregate's columns, in the order [`state_values`] binds them.
pub(crate) const STATE_COLS: [&str; 27] = [
    "state",
    "priority",
    "sla_seconds",
    "unit",
    "reported_at",
    "last_at",
    "accepted_at",
    "stopped_at",
    "suspended_since",
    "resume_to",
    "suspended_total_us",
    "stopped_total_us",
    "extended_total_us",
    "escalation_level",
    "rework_count",
    "extension_count",
    "suspension_count",
    "pending_kind",
    "pending_reason",
    "pending_by_us",
    "pending_requested_at",
    "closed_at",
    "satisfaction",
    "follow_up_done",
    "due_at",
    "overdue_from",
    "escalate_at",
];

/// Columns read back: the record's, then the first 24 state columns.
const META_COLS: &str = "w.id, w.category_id, w.source, w.title, w.description, w.household_id, \
     w.place_id, w.area_id, w.area_path, w.reported_by_id, w.reported_by, w.created_at, \
     w.updated_at";
const META_LEN: usize = 13;

fn columns() -> String {
    let state: Vec<String> = STATE_COLS[..24].iter().map(|c| format!("w.{c}")).collect();
    format!("{META_COLS}, {}", state.join(", "))
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.whole_microseconds()).unwrap_or(i64::MAX)
}

/// Timestamps are stored to the microsecond; actions are truncated to that before the domain
/// sees them, so the aggregate read back equals the one written.
fn to_micro(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

/// When an open order counts as overdue (strictly after): the deadline while the clock runs; for
/// a suspended order the deadline frozen at the suspension, only if it had already passed.
fn overdue_from(o: &WorkOrder) -> Option<OffsetDateTime> {
    if o.clock_running() {
        return o.deadline(o.last_at);
    }
    let sus = o.suspension?;
    let start = o.accepted_at?;
    let frozen = start + o.allowance() + o.suspended_total + o.stopped_total;
    (sus.since > frozen).then_some(frozen)
}

fn state_values(o: &WorkOrder) -> Vec<Value> {
    let (pending_kind, pending_reason, pending_by, pending_at) = match &o.pending {
        None => (None, None, None, None),
        Some(PendingRequest::Suspension {
            reason,
            requested_at,
        }) => (
            Some("suspension"),
            Some(reason.clone()),
            None,
            Some(*requested_at),
        ),
        Some(PendingRequest::Extension {
            by,
            reason,
            requested_at,
        }) => (
            Some("extension"),
            Some(reason.clone()),
            Some(micros(*by)),
            Some(*requested_at),
        ),
    };
    vec![
        o.state.as_str().into(),
        o.priority.as_str().into(),
        Value::Int(o.sla.seconds()),
        o.unit.clone().into(),
        o.reported_at.into(),
        o.last_at.into(),
        o.accepted_at.into(),
        o.stopped_at.into(),
        o.suspension.map(|s| s.since).into(),
        o.suspension.map(|s| s.resume_to.as_str()).into(),
        Value::Int(micros(o.suspended_total)),
        Value::Int(micros(o.stopped_total)),
        Value::Int(micros(o.extended_total)),
        Value::Int(i64::from(o.escalation_level)),
        Value::Int(i64::from(o.rework_count)),
        Value::Int(i64::from(o.extension_count)),
        Value::Int(i64::from(o.suspension_count)),
        pending_kind.into(),
        pending_reason.into(),
        pending_by.into(),
        pending_at.into(),
        o.closed_at.into(),
        o.satisfaction.map(|s| s.as_str()).into(),
        Value::Int(i64::from(o.follow_up_done)),
        o.deadline(o.last_at).into(),
        overdue_from(o).into(),
        o.next_escalation_at(o.last_at).into(),
    ]
}

fn count(r: &dyn DbRow, i: usize) -> Result<u32, StoreError> {
    decode(u32::try_from(r.int(i)?))
}

pub(crate) fn order_from_row(r: &dyn DbRow, base: usize) -> Result<WorkOrder, StoreError> {
    let c = |i: usize| base + i;
    let state = decode(WorkOrderState::parse(&r.text(c(0))?))?;
    let suspension = match (r.opt_timestamp(c(8))?, r.opt_text(c(9))?) {
        (Some(since), Some(to)) => Some(Suspension {
            since,
            resume_to: decode(WorkOrderState::parse(&to))?,
        }),
        _ => None,
    };
    let pending = match r.opt_text(c(17))?.as_deref() {
        Some("suspension") => Some(PendingRequest::Suspension {
            reason: r.opt_text(c(18))?.unwrap_or_default(),
            requested_at: r.timestamp(c(20))?,
        }),
        Some("extension") => Some(PendingRequest::Extension {
            by: Duration::microseconds(r.int(c(19))?),
            reason: r.opt_text(c(18))?.unwrap_or_default(),
            requested_at: r.timestamp(c(20))?,
        }),
        Some(other) => return Err(StoreError::Decode(format!("pending_kind {other}"))),
        None => None,
    };
    let order = WorkOrder {
        state,
        priority: decode(Priority::parse(&r.text(c(1))?))?,
        sla: decode(Sla::from_seconds(r.int(c(2))?))?,
        unit: r.opt_text(c(3))?,
        reported_at: r.timestamp(c(4))?,
        last_at: r.timestamp(c(5))?,
        accepted_at: r.opt_timestamp(c(6))?,
        stopped_at: r.opt_timestamp(c(7))?,
        suspension,
        suspended_total: Duration::microseconds(r.int(c(10))?),
        stopped_total: Duration::microseconds(r.int(c(11))?),
        extended_total: Duration::microseconds(r.int(c(12))?),
        escalation_level: decode(u8::try_from(r.int(c(13))?))?,
        rework_count: count(r, c(14))?,
        extension_count: count(r, c(15))?,
        suspension_count: count(r, c(16))?,
        pending,
        closed_at: r.opt_timestamp(c(21))?,
        satisfaction: match r.opt_text(c(22))? {
            Some(s) => Some(decode(Satisfaction::parse(&s))?),
            None => None,
        },
        follow_up_done: r.int(c(23))? != 0,
    };
    decode(order.check())?;
    Ok(order)
}

fn record_from_row(r: &dyn DbRow) -> Result<WorkOrderRecord, StoreError> {
    let source = r.text(2)?;
    Ok(WorkOrderRecord {
        id: r.int(0)?,
        category_id: r.int(1)?,
        source: Source::parse(&source)
            .ok_or_else(|| StoreError::Decode(format!("source {source}")))?,
        title: r.text(3)?,
        description: r.text(4)?,
        household_id: r.opt_int(5)?,
        place_id: r.opt_int(6)?,
        area_id: r.int(7)?,
        area_path: decode(AreaPath::parse(&r.text(8)?))?,
        reported_by_id: r.opt_int(9)?,
        reported_by: r.text(10)?,
        created_at: r.timestamp(11)?,
        updated_at: r.timestamp(12)?,
        order: order_from_row(r, META_LEN)?,
    })
}

const CATEGORY_COLS: &str =
    "id, code, name_zh, name_en, parent_id, default_unit, sla_seconds, priority";

fn category_from_row(r: &dyn DbRow) -> Result<Category, StoreError> {
    Ok(Category {
        id: r.int(0)?,
        code: r.text(1)?,
        name_zh: r.text(2)?,
        name_en: r.text(3)?,
        parent_id: r.opt_int(4)?,
        default_unit: r.opt_text(5)?,
        sla: decode(Sla::from_seconds(r.int(6)?))?,
        priority: decode(Priority::parse(&r.text(7)?))?,
    })
}

const EVENT_COLS: &str = "id, work_order_id, at, actor_id, actor, action, from_state, to_state, \
     reason, note, unit, lapsed, assist_id";

fn event_from_row(r: &dyn DbRow) -> Result<WorkOrderEvent, StoreError> {
    Ok(WorkOrderEvent {
        id: r.int(0)?,
        work_order_id: r.int(1)?,
        at: r.timestamp(2)?,
        actor_id: r.opt_int(3)?,
        actor: r.text(4)?,
        action: r.text(5)?,
        from_state: match r.opt_text(6)? {
            Some(s) => Some(decode(WorkOrderState::parse(&s))?),
            None => None,
        },
        to_state: decode(WorkOrderState::parse(&r.text(7)?))?,
        reason: r.opt_text(8)?,
        note: r.opt_text(9)?,
        unit: r.opt_text(10)?,
        lapsed: r.opt_text(11)?,
        assist_id: r.opt_int(12)?,
    })
}

/// Reason, note and unit of an action, for the timeline.
fn action_texts(a: &Action) -> (Option<String>, Option<String>, Option<String>) {
    match a {
        Action::Dispatch { unit } | Action::Reassign { unit } => (None, None, Some(unit.clone())),
        Action::Resolve { note } => (None, Some(note.clone()), None),
        Action::Reject { reason }
        | Action::Return { reason }
        | Action::Reopen { reason }
        | Action::RequestSuspension { reason } => (Some(reason.clone()), None, None),
        Action::RequestExtension { by, reason } => (
            Some(reason.clone()),
            Some(if by.whole_seconds() % 3600 == 0 {
                format!("+{} h", by.whole_hours())
            } else {
                format!("+{} min", by.whole_minutes())
            }),
            None,
        ),
        Action::Close {
            satisfaction,
            follow_up_done,
        } => (
            None,
            Some(format!(
                "{}{}",
                satisfaction.as_str(),
                if *follow_up_done {
                    ""
                } else {
                    "; no follow-up call"
                }
            )),
            None,
        ),
        _ => (None, None, None),
    }
}

impl Store {
    pub async fn work_order_categories(&self) -> Result<Vec<Category>, StoreError> {
        self.db
            .query(
                &format!("SELECT {CATEGORY_COLS} FROM work_order_categories ORDER BY id"),
                &[],
                category_from_row,
            )
            .await
    }

    pub async fn work_order_category(&self, id: i64) -> Result<Category, StoreError> {
        self.db
            .query_opt(
                &format!("SELECT {CATEGORY_COLS} FROM work_order_categories WHERE id = ?"),
                &params![id],
                category_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Reports a new order in the grid `new.area_id` (which must be within the scope) and writes
    /// the first timeline entry.
    pub async fn report_work_order(
        &self,
        scope: &Scope,
        new: &NewWorkOrder,
        actor: &Actor,
    ) -> Result<WorkOrderRecord, StoreError> {
        let order = WorkOrder::report(new.priority, new.sla, to_micro(new.reported_at));
        let mut tx = self.db.begin().await?;
        let mut p = Vec::from(params![new.area_id]);
        let inside = within("path", scope, &mut p);
        let area_path = tx
            .query_opt(
                &format!("SELECT path FROM areas WHERE id = ? AND {inside}"),
                &p,
                |r| r.text(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let stamp = to_micro(now());
        let mut values: Vec<Value> = params![
            new.category_id,
            new.source.as_str(),
            new.title.as_str(),
            new.description.as_str(),
            new.household_id,
            new.place_id,
            new.area_id,
            area_path.as_str(),
            actor.id,
            actor.name.as_str(),
            stamp,
            stamp
        ]
        .into();
        values.extend(state_values(&order));
        let marks = vec!["?"; values.len()].join(", ");
        let id = tx
            .insert(
                &format!(
                    "INSERT INTO work_orders (category_id, source, title, description, household_id, \
                     place_id, area_id, area_path, reported_by_id, reported_by, created_at, \
                     updated_at, {}) VALUES ({marks}) RETURNING id",
                    STATE_COLS.join(", ")
                ),
                &values,
            )
            .await?;
        tx.execute(
            "INSERT INTO work_order_events (work_order_id, at, actor_id, actor, action, from_state, \
             to_state, reason, note, unit, lapsed, area_path) \
             VALUES (?, ?, ?, ?, 'report', NULL, ?, NULL, NULL, NULL, NULL, ?)",
            &params![
                id,
                order.reported_at,
                actor.id,
                actor.name.as_str(),
                order.state.as_str(),
                area_path.as_str()
            ],
        )
        .await?;
        tx.commit().await?;
        self.work_order(scope, id).await
    }

    /// One order within the scope.
    pub async fn work_order(&self, scope: &Scope, id: i64) -> Result<WorkOrderRecord, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("w.area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!(
                    "SELECT {} FROM work_orders w WHERE w.id = ? AND {inside}",
                    columns()
                ),
                &p,
                record_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Orders newest first.
    pub async fn work_orders(
        &self,
        scope: &Scope,
        filter: &WorkOrderFilter,
        page: &PageRequest,
    ) -> Result<Page<WorkOrderRecord>, StoreError> {
        let narrowed = filter.within.as_ref().map(|root| scope.narrow_to(root));
        let mut p = Vec::new();
        let mut conds = vec![within(
            "w.area_path",
            narrowed.as_ref().unwrap_or(scope),
            &mut p,
        )];
        if let Some(s) = filter.state {
            conds.push("w.state = ?".into());
            p.push(s.as_str().into());
        }
        if let Some(at) = filter.overdue_at {
            conds.push("w.overdue_from IS NOT NULL AND w.overdue_from < ?".into());
            p.push(at.into());
        }
        if let Some(c) = filter.category_id {
            conds.push("w.category_id = ?".into());
            p.push(Value::Int(c));
        }
        if let Some(u) = &filter.unit {
            conds.push("w.unit = ?".into());
            p.push(u.as_str().into());
        }
        if let Some(u) = filter.reported_by_id {
            conds.push("w.reported_by_id = ?".into());
            p.push(Value::Int(u));
        }
        if let Some(h) = filter.household_id {
            conds.push("w.household_id = ?".into());
            p.push(Value::Int(h));
        }
        if filter.open_only {
            conds.push("w.state NOT IN ('closed', 'rejected')".into());
        }
        if let Some(c) = &page.after {
            conds.push("w.id < ?".into());
            p.push(Value::Int(c.id));
        }
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {} FROM work_orders w WHERE {} ORDER BY w.id DESC LIMIT ?",
            columns(),
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, record_from_row).await?;
        Ok(Page::from_rows(rows, page, |w| Cursor {
            path: String::new(),
            id: w.id,
        }))
    }

    /// The timeline, oldest first.
    pub async fn work_order_timeline(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Vec<WorkOrderEvent>, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("area_path", scope, &mut p);
        self.db
            .query(
                &format!(
                    "SELECT {EVENT_COLS} FROM work_order_events WHERE work_order_id = ? AND {inside} \
                     ORDER BY id"
                ),
                &p,
                event_from_row,
            )
            .await
    }

    /// Ids of open orders whose next escalation falls due before `at`, oldest due first.
    pub async fn work_orders_escalation_due(
        &self,
        scope: &Scope,
        at: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        let mut p = Vec::new();
        let inside = within("area_path", scope, &mut p);
        p.push(at.into());
        p.push(Value::Int(i64::from(limit.clamp(1, 10_000))));
        self.db
            .query(
                &format!(
                    "SELECT id FROM work_orders WHERE {inside} AND escalate_at IS NOT NULL \
                     AND escalate_at < ? ORDER BY escalate_at, id LIMIT ?"
                ),
                &p,
                |r| r.int(0),
            )
            .await
    }

    /// Applies `action` at `at` in one transaction: the row is locked (`FOR UPDATE` on
    /// PostgreSQL; SQLite transactions hold the writer lock), the domain decides, the new fields
    /// are written under an optimistic guard on `updated_at`, and the timeline step appended.
    /// The inner error is the domain's refusal, which leaves everything as it was.
    pub async fn apply_work_order_action(
        &self,
        scope: &Scope,
        id: i64,
        action: &Action,
        actor: &Actor,
        at: OffsetDateTime,
    ) -> Result<Result<(WorkOrderRecord, Transition), TransitionError>, StoreError> {
        let at = to_micro(at);
        let mut tx = self.db.begin().await?;
        let mut p = Vec::from(params![id]);
        let inside = within("w.area_path", scope, &mut p);
        let lock = match self.db.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let current = tx
            .query_opt(
                &format!(
                    "SELECT {} FROM work_orders w WHERE w.id = ? AND {inside}{lock}",
                    columns()
                ),
                &p,
                record_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let (next, step) = match current.order.apply(action, at) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        // Strictly later than the previous stamp, so the guard tells every write apart.
        let stamp = to_micro(now()).max(current.updated_at + Duration::microseconds(1));
        let sets: Vec<String> = STATE_COLS.iter().map(|c| format!("{c} = ?")).collect();
        let mut values = state_values(&next);
        values.push(stamp.into());
        values.push(Value::Int(id));
        values.push(current.updated_at.into());
        let n = tx
            .execute(
                &format!(
                    "UPDATE work_orders SET {}, updated_at = ? WHERE id = ? AND updated_at = ?",
                    sets.join(", ")
                ),
                &values,
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("work_orders.updated_at".into()));
        }
        let (reason, note, unit) = action_texts(action);
        tx.execute(
            "INSERT INTO work_order_events (work_order_id, at, actor_id, actor, action, from_state, \
             to_state, reason, note, unit, lapsed, area_path) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &params![
                id,
                at,
                actor.id,
                actor.name.as_str(),
                step.action,
                step.from.as_str(),
                step.to.as_str(),
                reason,
                note,
                unit,
                step.lapsed,
                current.area_path.as_str()
            ],
        )
        .await?;
        // The step's notifications, in the same transaction: both happen or neither. The
        // guard stamp is unique per write of an order, so it names this step.
        crate::notifications::enqueue_for_transition(
            &mut tx,
            &self.channels,
            &next,
            &current,
            &step,
            stamp,
            actor.id,
        )
        .await?;
        tx.commit().await?;
        let mut record = current;
        record.order = next;
        record.updated_at = stamp;
        Ok(Ok((record, step)))
    }
}
