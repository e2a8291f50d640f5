//! Assist requests (协助) on work orders. The rules live in the domain
//! ([`AssistState::apply`]); this module stores one row per colleague asked, finds the
//! colleagues who may be asked, and appends every step to the order's timeline in the same
//! transaction, with the order's state unchanged.

use time::OffsetDateTime;
use wangge_domain::{
    AreaPath, AssistError, AssistState, AssistStep, Party, Role, Scope, WorkOrderState,
};

use crate::db::{Backend, DbRow, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::{covering, within};
use crate::{Store, StoreError, params};

/// A stored assist request, with the people's names and its order's title and state.
#[derive(Debug, Clone)]
pub struct AssistRecord {
    pub id: i64,
    pub work_order_id: i64,
    pub work_order_title: String,
    pub work_order_state: WorkOrderState,
    pub requested_by_id: i64,
    pub requested_by: String,
    pub requested_by_name: String,
    pub assignee_id: i64,
    pub assignee: String,
    pub assignee_name: String,
    /// The role a team request named.
    pub team_role: Option<Role>,
    pub message: String,
    pub state: AssistState,
    pub decline_reason: Option<String>,
    pub done_note: Option<String>,
    pub requested_at: OffsetDateTime,
    /// When it was accepted or declined.
    pub answered_at: Option<OffsetDateTime>,
    /// When it was declined, done or cancelled.
    pub finished_at: Option<OffsetDateTime>,
    pub area_path: AreaPath,
}

impl AssistRecord {
    /// How `user_id` stands to this request.
    pub fn party(&self, user_id: i64) -> Party {
        if user_id == self.assignee_id {
            Party::Assignee
        } else if user_id == self.requested_by_id {
            Party::Requester
        } else {
            Party::Other
        }
    }
}

/// A user who may be asked for help on an order.
#[derive(Debug, Clone)]
pub struct Colleague {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// Who is asked, one row each.
#[derive(Debug, Clone)]
pub struct NewAssists {
    pub work_order_id: i64,
    pub requested_by_id: i64,
    pub requested_by: String,
    /// User id and, for a team request, the role it named.
    pub assignees: Vec<(i64, Option<Role>)>,
    pub message: String,
    pub at: OffsetDateTime,
}

/// Whose assists a list shows.
#[derive(Debug, Clone, Copy)]
pub enum AssistFilter {
    AssignedTo(i64),
    RequestedBy(i64),
    WorkOrder(i64),
}

/// A step with the text it carries.
#[derive(Debug, Clone)]
pub struct AssistChange {
    pub step: AssistStep,
    pub user_id: i64,
    pub username: String,
    /// Decline: the reason; done: what was done.
    pub text: Option<String>,
    pub at: OffsetDateTime,
}

const COLS: &str = "s.id, s.work_order_id, w.title, w.state, s.requested_by_id, r.username, \
     r.display_name, s.assignee_id, a.username, a.display_name, s.team_role, s.message, s.state, \
     s.decline_reason, s.done_note, s.requested_at, s.answered_at, s.finished_at, s.area_path";

const FROM: &str = "assists s JOIN work_orders w ON w.id = s.work_order_id \
     JOIN users r ON r.id = s.requested_by_id JOIN users a ON a.id = s.assignee_id";

fn record_from_row(r: &dyn DbRow) -> Result<AssistRecord, StoreError> {
    Ok(AssistRecord {
        id: r.int(0)?,
        work_order_id: r.int(1)?,
        work_order_title: r.text(2)?,
        work_order_state: decode(WorkOrderState::parse(&r.text(3)?))?,
        requested_by_id: r.int(4)?,
        requested_by: r.text(5)?,
        requested_by_name: r.text(6)?,
        assignee_id: r.int(7)?,
        assignee: r.text(8)?,
        assignee_name: r.text(9)?,
        team_role: match r.opt_text(10)? {
            Some(role) => Some(decode(Role::parse(&role))?),
            None => None,
        },
        message: r.text(11)?,
        state: decode(AssistState::parse(&r.text(12)?))?,
        decline_reason: r.opt_text(13)?,
        done_note: r.opt_text(14)?,
        requested_at: r.timestamp(15)?,
        answered_at: r.opt_timestamp(16)?,
        finished_at: r.opt_timestamp(17)?,
        area_path: decode(AreaPath::parse(&r.text(18)?))?,
    })
}

impl Store {
    /// Active users with one of `roles` whose assigned areas cover the order's grid; the order
    /// must be within the scope. Nobody else is named: a user outside the order's area is not
    /// the caller's colleague on it.
    pub async fn colleagues(
        &self,
        scope: &Scope,
        work_order_id: i64,
        roles: &[Role],
    ) -> Result<Vec<Colleague>, StoreError> {
        let order = self.work_order(scope, work_order_id).await?;
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let mut p: Vec<Value> = roles.iter().map(|r| r.as_str().into()).collect();
        let role_marks = vec!["?"; roles.len()].join(", ");
        let covers = covering("ar.path", &order.area_path, &mut p);
        self.db
            .query(
                &format!(
                    "SELECT u.id, u.username, u.display_name, u.role FROM users u \
                     WHERE u.disabled_at IS NULL AND u.role IN ({role_marks}) AND EXISTS \
                     (SELECT 1 FROM user_areas ua JOIN areas ar ON ar.id = ua.area_id \
                      WHERE ua.user_id = u.id AND {covers}) \
                     ORDER BY u.role, u.id"
                ),
                &p,
                |r| {
                    Ok(Colleague {
                        id: r.int(0)?,
                        username: r.text(1)?,
                        display_name: r.text(2)?,
                        role: decode(Role::parse(&r.text(3)?))?,
                    })
                },
            )
            .await
    }

    /// One assist request whose order lies within the scope.
    pub async fn assist(&self, scope: &Scope, id: i64) -> Result<AssistRecord, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("s.area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLS} FROM {FROM} WHERE s.id = ? AND {inside}"),
                &p,
                record_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Assist requests within the scope, newest first; `open_only` keeps requested and
    /// accepted ones.
    pub async fn assists(
        &self,
        scope: &Scope,
        filter: AssistFilter,
        open_only: bool,
        page: &PageRequest,
    ) -> Result<Page<AssistRecord>, StoreError> {
        let mut p = Vec::new();
        let mut conds = vec![within("s.area_path", scope, &mut p)];
        let (col, id) = match filter {
            AssistFilter::AssignedTo(u) => ("s.assignee_id", u),
            AssistFilter::RequestedBy(u) => ("s.requested_by_id", u),
            AssistFilter::WorkOrder(w) => ("s.work_order_id", w),
        };
        conds.push(format!("{col} = ?"));
        p.push(Value::Int(id));
        if open_only {
            conds.push("s.state IN ('requested', 'accepted')".into());
        }
        if let Some(c) = &page.after {
            conds.push("s.id < ?".into());
            p.push(Value::Int(c.id));
        }
        p.push(Value::Int(page.fetch()));
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT {COLS} FROM {FROM} WHERE {} ORDER BY s.id DESC LIMIT ?",
                    conds.join(" AND ")
                ),
                &p,
                record_from_row,
            )
            .await?;
        Ok(Page::from_rows(rows, page, |a| Cursor {
            path: String::new(),
            id: a.id,
        }))
    }

    /// The order's state and path, locked against a concurrent transition on PostgreSQL
    /// (SQLite transactions hold the writer lock).
    async fn order_for_assist(
        &self,
        tx: &mut crate::db::Tx,
        scope: &Scope,
        work_order_id: i64,
    ) -> Result<(WorkOrderState, String), StoreError> {
        let mut p = Vec::from(params![work_order_id]);
        let inside = within("area_path", scope, &mut p);
        let lock = match self.db.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        tx.query_opt(
            &format!("SELECT state, area_path FROM work_orders WHERE id = ? AND {inside}{lock}"),
            &p,
            |r| Ok((decode(WorkOrderState::parse(&r.text(0)?))?, r.text(1)?)),
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Creates one request per assignee and a timeline entry for each, in one transaction. The
    /// inner error is the domain's refusal (a stopped order); a colleague already asked and
    /// not yet finished is a `Conflict` on `assists_open`.
    pub async fn create_assists(
        &self,
        scope: &Scope,
        new: &NewAssists,
    ) -> Result<Result<Vec<AssistRecord>, AssistError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (state, area_path) = self
            .order_for_assist(&mut tx, scope, new.work_order_id)
            .await?;
        if let Err(e) = wangge_domain::assist::may_request(state) {
            return Ok(Err(e));
        }
        let mut ids = Vec::with_capacity(new.assignees.len());
        for (assignee, team_role) in &new.assignees {
            let id = tx
                .insert(
                    "INSERT INTO assists (work_order_id, requested_by_id, assignee_id, team_role, \
                     message, state, requested_at, area_path) \
                     VALUES (?, ?, ?, ?, ?, 'requested', ?, ?) RETURNING id",
                    &params![
                        new.work_order_id,
                        new.requested_by_id,
                        *assignee,
                        team_role.map(|r| r.as_str()),
                        new.message.as_str(),
                        new.at,
                        area_path.as_str()
                    ],
                )
                .await?;
            tx.execute(
                "INSERT INTO work_order_events (work_order_id, at, actor_id, actor, action, \
                 from_state, to_state, reason, note, unit, lapsed, area_path, assist_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL, ?, ?)",
                &params![
                    new.work_order_id,
                    new.at,
                    new.requested_by_id,
                    new.requested_by.as_str(),
                    wangge_domain::assist::ASSIST_REQUESTED,
                    state.as_str(),
                    state.as_str(),
                    new.message.as_str(),
                    area_path.as_str(),
                    id
                ],
            )
            .await?;
            // The colleague hears of it through the outbox, committed with the request.
            self.enqueue_assist_requested_in(
                &mut tx,
                scope,
                new.work_order_id,
                id,
                &[*assignee],
                Some(new.requested_by_id),
                new.at,
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.assist(scope, id).await?);
        }
        Ok(Ok(out))
    }

    /// Applies a step under a guard on the current state and appends it to the order's
    /// timeline. The inner error is the domain's refusal, which changes nothing.
    pub async fn apply_assist_step(
        &self,
        scope: &Scope,
        id: i64,
        change: &AssistChange,
    ) -> Result<Result<AssistRecord, AssistError>, StoreError> {
        let current = self.assist(scope, id).await?;
        let next = match current
            .state
            .apply(change.step, current.party(change.user_id))
        {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let mut tx = self.db.begin().await?;
        let (order_state, area_path) = self
            .order_for_assist(&mut tx, scope, current.work_order_id)
            .await?;
        let (answered, finished) = match change.step {
            AssistStep::Accept => (Some(change.at), None),
            AssistStep::Decline => (Some(change.at), Some(change.at)),
            AssistStep::Done | AssistStep::Cancel => (current.answered_at, Some(change.at)),
        };
        let (reason, note) = match change.step {
            AssistStep::Decline => (change.text.clone(), None),
            AssistStep::Done => (None, change.text.clone()),
            AssistStep::Accept | AssistStep::Cancel => (None, None),
        };
        let n = tx
            .execute(
                "UPDATE assists SET state = ?, answered_at = ?, finished_at = ?, \
                 decline_reason = COALESCE(?, decline_reason), done_note = COALESCE(?, done_note) \
                 WHERE id = ? AND state = ?",
                &params![
                    next.as_str(),
                    answered,
                    finished,
                    reason.clone(),
                    note.clone(),
                    id,
                    current.state.as_str()
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("assists.state".into()));
        }
        tx.execute(
            "INSERT INTO work_order_events (work_order_id, at, actor_id, actor, action, \
             from_state, to_state, reason, note, unit, lapsed, area_path, assist_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
            &params![
                current.work_order_id,
                change.at,
                change.user_id,
                change.username.as_str(),
                change.step.timeline_action(),
                order_state.as_str(),
                order_state.as_str(),
                reason,
                note,
                area_path.as_str(),
                id
            ],
        )
        .await?;
        tx.commit().await?;
        self.assist(scope, id).await.map(Ok)
    }
}
