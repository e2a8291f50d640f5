//! Work orders (工单): the state machine and its SLA clock. Pure: no I/O, no clock of its own —
//! every action carries the time it happened.
//!
//! Why the rules are what they are:
//! - **The clock starts at acceptance**, not at report: the SLA measures handling, and an order
//!   nobody has accepted yet is a triage problem with its own (shorter) limits.
//! - **Only approved suspensions and extensions touch the clock.** A request is a claim; if asking
//!   paused the clock, a handling unit could stop it alone — which is exactly how tickets bounce
//!   between departments "with the clock not running" in the systems we replace.
//! - **Resolved, Closed and Rejected stop the clock.** Waiting for the follow-up call is not the
//!   handler's time; a reopen continues from the stop point and counts as rework, so poor fixes
//!   show in the metrics instead of in a fresh, on-time order. A closed order may be reopened
//!   only within [`REOPEN_WINDOW`]; after that the problem is a new order.
//! - **Escalation points are absolute in active time.** Level `n + 1` is due once the active time
//!   exceeds `allowance + n × sla` (the deadline, then one more SLA length per level). The answer
//!   depends only on the order and the time, so a job that restarts, or two jobs that look at the
//!   same snapshot, reach the same decision (the store's conditional update keeps one of them),
//!   and a job that was down catches up to the level the lateness deserves. Paused time does not
//!   bring escalation nearer. Levels go grid → community → subdistrict → district, at most 3.
//! - **One pending request at a time**, and it lapses when the clock stops or the order changes
//!   hands (resolve, reject, return, reassign): it was about handling that is no longer going on.
//! - **Time never goes backwards**: an action earlier than the last transition is refused, so
//!   every interval the clock adds up is non-negative.
//! - [`WorkOrder`] has public fields because the store rebuilds it from a row; new values should
//!   only come from [`WorkOrder::report`] and [`WorkOrder::apply`], and [`WorkOrder::check`] says
//!   whether a loaded row is coherent.

mod clock;
mod machine;
mod offer;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::{DomainError, Echo};

pub use clock::{MAX_ESCALATION_LEVEL, OrderMetrics, Sla};
pub use machine::REOPEN_WINDOW;

/// Where a work order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderState {
    Reported,
    Accepted,
    Dispatched,
    InProgress,
    /// Handled, awaiting the follow-up call (办结待回访).
    Resolved,
    Closed,
    /// Not accepted for handling (不予受理); terminal.
    Rejected,
    /// Paused with approval; [`WorkOrder::suspension`] remembers the state to resume to.
    Suspended,
}

impl WorkOrderState {
    pub const ALL: [WorkOrderState; 8] = [
        Self::Reported,
        Self::Accepted,
        Self::Dispatched,
        Self::InProgress,
        Self::Resolved,
        Self::Closed,
        Self::Rejected,
        Self::Suspended,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Accepted => "accepted",
            Self::Dispatched => "dispatched",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
        }
    }

    /// Accepts the code name, the Chinese status name, or the bare step word (受理, 派遣 …).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let state = match t.to_ascii_lowercase().as_str() {
            "reported" | "已上报" | "上报" => Self::Reported,
            "accepted" | "已受理" | "受理" => Self::Accepted,
            "dispatched" | "已派遣" | "派遣" => Self::Dispatched,
            "in_progress" | "in-progress" | "处置中" | "处置" => Self::InProgress,
            "resolved" | "办结待回访" | "已办结" | "办结" => Self::Resolved,
            "closed" | "已关闭" | "关闭" => Self::Closed,
            "rejected" | "不予受理" => Self::Rejected,
            "suspended" | "已挂起" | "挂起" => Self::Suspended,
            _ => return Err(DomainError::WorkOrderState(Echo::of(t))),
        };
        Ok(state)
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Reported => "已上报",
            Self::Accepted => "已受理",
            Self::Dispatched => "已派遣",
            Self::InProgress => "处置中",
            Self::Resolved => "办结待回访",
            Self::Closed => "已关闭",
            Self::Rejected => "不予受理",
            Self::Suspended => "已挂起",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Reported => "Reported",
            Self::Accepted => "Accepted",
            Self::Dispatched => "Dispatched",
            Self::InProgress => "In progress",
            Self::Resolved => "Resolved (awaiting follow-up)",
            Self::Closed => "Closed",
            Self::Rejected => "Rejected",
            Self::Suspended => "Suspended",
        }
    }

    /// Accepted, dispatched or in progress: the SLA clock runs, requests can be made, and a
    /// suspension can start (and later resume) here.
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Accepted | Self::Dispatched | Self::InProgress)
    }

    /// Resolved, closed or rejected: the clock is stopped.
    pub fn is_stopped(&self) -> bool {
        matches!(self, Self::Resolved | Self::Closed | Self::Rejected)
    }
}

/// How urgent the problem is; ordered most urgent first. The SLA comes from the category, not
/// from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Urgent, Self::High, Self::Normal, Self::Low];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let p = match t.to_ascii_lowercase().as_str() {
            "urgent" | "紧急" => Self::Urgent,
            "high" | "高" => Self::High,
            "normal" | "一般" | "普通" => Self::Normal,
            "low" | "低" => Self::Low,
            _ => return Err(DomainError::Priority(Echo::of(t))),
        };
        Ok(p)
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Urgent => "紧急",
            Self::High => "高",
            Self::Normal => "一般",
            Self::Low => "低",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Urgent => "Urgent",
            Self::High => "High",
            Self::Normal => "Normal",
            Self::Low => "Low",
        }
    }
}

/// The resident's rating at the follow-up call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [
        Self::Satisfied,
        Self::BasicallySatisfied,
        Self::Dissatisfied,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Satisfied => "satisfied",
            Self::BasicallySatisfied => "basically_satisfied",
            Self::Dissatisfied => "dissatisfied",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let v = match t.to_ascii_lowercase().as_str() {
            "satisfied" | "满意" => Self::Satisfied,
            "basically_satisfied" | "基本满意" => Self::BasicallySatisfied,
            "dissatisfied" | "不满意" => Self::Dissatisfied,
            _ => return Err(DomainError::Satisfaction(Echo::of(t))),
        };
        Ok(v)
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Satisfied => "满意",
            Self::BasicallySatisfied => "基本满意",
            Self::Dissatisfied => "不满意",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Satisfied => "Satisfied",
            Self::BasicallySatisfied => "Basically satisfied",
            Self::Dissatisfied => "Dissatisfied",
        }
    }
}

/// Something a person (or, for [`Action::Escalate`], the system) does to a work order. Reasons,
/// notes and unit names are free text here; the store layer checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Accept,
    Dispatch {
        unit: String,
    },
    Start,
    Resolve {
        note: String,
    },
    Close {
        satisfaction: Satisfaction,
        follow_up_done: bool,
    },
    Reject {
        reason: String,
    },
    Return {
        reason: String,
    },
    Reassign {
        unit: String,
    },
    Reopen {
        reason: String,
    },
    RequestSuspension {
        reason: String,
    },
    ApproveSuspension,
    DenySuspension,
    Resume,
    RequestExtension {
        by: Duration,
        reason: String,
    },
    ApproveExtension,
    DenyExtension,
    Escalate,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Accept => ActionKind::Accept,
            Self::Dispatch { .. } => ActionKind::Dispatch,
            Self::Start => ActionKind::Start,
            Self::Resolve { .. } => ActionKind::Resolve,
            Self::Close { .. } => ActionKind::Close,
            Self::Reject { .. } => ActionKind::Reject,
            Self::Return { .. } => ActionKind::Return,
            Self::Reassign { .. } => ActionKind::Reassign,
            Self::Reopen { .. } => ActionKind::Reopen,
            Self::RequestSuspension { .. } => ActionKind::RequestSuspension,
            Self::ApproveSuspension => ActionKind::ApproveSuspension,
            Self::DenySuspension => ActionKind::DenySuspension,
            Self::Resume => ActionKind::Resume,
            Self::RequestExtension { .. } => ActionKind::RequestExtension,
            Self::ApproveExtension => ActionKind::ApproveExtension,
            Self::DenyExtension => ActionKind::DenyExtension,
            Self::Escalate => ActionKind::Escalate,
        }
    }
}

/// An [`Action`] without its data: what the timeline and error messages name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Accept,
    Dispatch,
    Start,
    Resolve,
    Close,
    Reject,
    Return,
    Reassign,
    Reopen,
    RequestSuspension,
    ApproveSuspension,
    DenySuspension,
    Resume,
    RequestExtension,
    ApproveExtension,
    DenyExtension,
    Escalate,
}

impl ActionKind {
    pub const ALL: [ActionKind; 17] = [
        Self::Accept,
        Self::Dispatch,
        Self::Start,
        Self::Resolve,
        Self::Close,
        Self::Reject,
        Self::Return,
        Self::Reassign,
        Self::Reopen,
        Self::RequestSuspension,
        Self::ApproveSuspension,
        Self::DenySuspension,
        Self::Resume,
        Self::RequestExtension,
        Self::ApproveExtension,
        Self::DenyExtension,
        Self::Escalate,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Dispatch => "dispatch",
            Self::Start => "start",
            Self::Resolve => "resolve",
            Self::Close => "close",
            Self::Reject => "reject",
            Self::Return => "return",
            Self::Reassign => "reassign",
            Self::Reopen => "reopen",
            Self::RequestSuspension => "request_suspension",
            Self::ApproveSuspension => "approve_suspension",
            Self::DenySuspension => "deny_suspension",
            Self::Resume => "resume",
            Self::RequestExtension => "request_extension",
            Self::ApproveExtension => "approve_extension",
            Self::DenyExtension => "deny_extension",
            Self::Escalate => "escalate",
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Accept => "受理",
            Self::Dispatch => "派遣",
            Self::Start => "开始处置",
            Self::Resolve => "办结",
            Self::Close => "回访关闭",
            Self::Reject => "不予受理",
            Self::Return => "退回",
            Self::Reassign => "改派",
            Self::Reopen => "重办",
            Self::RequestSuspension => "申请挂起",
            Self::ApproveSuspension => "批准挂起",
            Self::DenySuspension => "驳回挂起申请",
            Self::Resume => "恢复办理",
            Self::RequestExtension => "申请延期",
            Self::ApproveExtension => "批准延期",
            Self::DenyExtension => "驳回延期申请",
            Self::Escalate => "升级督办",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Accept => "Accept",
            Self::Dispatch => "Dispatch",
            Self::Start => "Start handling",
            Self::Resolve => "Resolve",
            Self::Close => "Close after follow-up",
            Self::Reject => "Reject",
            Self::Return => "Return",
            Self::Reassign => "Reassign",
            Self::Reopen => "Reopen",
            Self::RequestSuspension => "Request suspension",
            Self::ApproveSuspension => "Approve suspension",
            Self::DenySuspension => "Deny suspension",
            Self::Resume => "Resume",
            Self::RequestExtension => "Request extension",
            Self::ApproveExtension => "Approve extension",
            Self::DenyExtension => "Deny extension",
            Self::Escalate => "Escalate",
        }
    }

    /// Completes "it cannot …" in English messages.
    pub(crate) fn cannot_en(&self) -> &'static str {
        match self {
            Self::Accept => "be accepted",
            Self::Dispatch => "be dispatched",
            Self::Start => "be started",
            Self::Resolve => "be resolved",
            Self::Close => "be closed",
            Self::Reject => "be rejected",
            Self::Return => "be returned",
            Self::Reassign => "be reassigned",
            Self::Reopen => "be reopened",
            Self::RequestSuspension => "have a suspension requested",
            Self::ApproveSuspension => "have a suspension approved",
            Self::DenySuspension => "have a suspension denied",
            Self::Resume => "be resumed",
            Self::RequestExtension => "have an extension requested",
            Self::ApproveExtension => "have an extension approved",
            Self::DenyExtension => "have an extension denied",
            Self::Escalate => "be escalated",
        }
    }
}

/// One step for the timeline. `from == to` for steps that do not change the state (requests,
/// decisions on extensions, escalation, reassigning an order already dispatched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: WorkOrderState,
    pub to: WorkOrderState,
    /// [`ActionKind::as_str`] of the action.
    pub action: &'static str,
    /// A pending request this step made lapse (`"request_suspension"` or `"request_extension"`).
    pub lapsed: Option<&'static str>,
}

/// An approved suspension in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suspension {
    /// When it was approved: the clock paused from here.
    pub since: OffsetDateTime,
    /// A running state ([`WorkOrderState::is_running`]).
    pub resume_to: WorkOrderState,
}

/// A request waiting for a decision. It neither pauses nor moves the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingRequest {
    Suspension {
        reason: String,
        requested_at: OffsetDateTime,
    },
    Extension {
        by: Duration,
        reason: String,
        requested_at: OffsetDateTime,
    },
}

impl PendingRequest {
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Suspension { .. } => ActionKind::RequestSuspension,
            Self::Extension { .. } => ActionKind::RequestExtension,
        }
    }
}

/// The work order aggregate: state plus everything the clock and the metrics need. Category,
/// place, source and description live in the store; they do not affect the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOrder {
    pub state: WorkOrderState,
    pub priority: Priority,
    pub sla: Sla,
    /// The handling unit, set by dispatch, cleared by return.
    pub unit: Option<String>,
    pub reported_at: OffsetDateTime,
    /// Time of the last transition (or the report); actions may not be earlier.
    pub last_at: OffsetDateTime,
    /// The clock's start.
    pub accepted_at: Option<OffsetDateTime>,
    /// Set while Resolved, Closed or Rejected: when the clock stopped.
    pub stopped_at: Option<OffsetDateTime>,
    /// Set exactly while Suspended.
    pub suspension: Option<Suspension>,
    /// Finished suspensions, summed.
    pub suspended_total: Duration,
    /// Finished stops (resolved → reopened), summed.
    pub stopped_total: Duration,
    /// Approved extensions, summed.
    pub extended_total: Duration,
    /// 0 = not escalated; see [`WorkOrder::escalated_to`].
    pub escalation_level: u8,
    pub rework_count: u32,
    /// Approved extensions.
    pub extension_count: u32,
    /// Approved suspensions.
    pub suspension_count: u32,
    pub pending: Option<PendingRequest>,
    /// Set while Closed.
    pub closed_at: Option<OffsetDateTime>,
    /// Set while Closed.
    pub satisfaction: Option<Satisfaction>,
    /// Whether the follow-up call was made at the last close (false while not Closed).
    pub follow_up_done: bool,
}

impl WorkOrder {
    /// A newly reported order; its clock has not started.
    pub fn report(priority: Priority, sla: Sla, at: OffsetDateTime) -> WorkOrder {
        WorkOrder {
            state: WorkOrderState::Reported,
            priority,
            sla,
            unit: None,
            reported_at: at,
            last_at: at,
            accepted_at: None,
            stopped_at: None,
            suspension: None,
            suspended_total: Duration::ZERO,
            stopped_total: Duration::ZERO,
            extended_total: Duration::ZERO,
            escalation_level: 0,
            rework_count: 0,
            extension_count: 0,
            suspension_count: 0,
            pending: None,
            closed_at: None,
            satisfaction: None,
            follow_up_done: false,
        }
    }

    /// The state work goes on in: the resume target while suspended, else the state.
    pub fn working_state(&self) -> WorkOrderState {
        self.suspension.map_or(self.state, |s| s.resume_to)
    }

    /// Whether the fields agree with each other as [`WorkOrder::apply`] keeps them; the error
    /// names the first disagreement. For rows read back from storage, and for tests.
    pub fn check(&self) -> Result<(), &'static str> {
        use WorkOrderState as S;
        let s = self.state;
        if (s == S::Suspended) != self.suspension.is_some() {
            return Err("suspension set exactly while suspended");
        }
        if let Some(sus) = self.suspension {
            if !sus.resume_to.is_running() {
                return Err("suspension resumes to a running state");
            }
            if sus.since > self.last_at || Some(sus.since) < self.accepted_at {
                return Err("suspension starts between acceptance and the last transition");
            }
        }
        if s.is_stopped() != self.stopped_at.is_some() {
            return Err("stopped_at set exactly while resolved, closed or rejected");
        }
        let needs_acceptance = !matches!(s, S::Reported | S::Rejected);
        if (s == S::Reported && self.accepted_at.is_some())
            || (needs_acceptance && self.accepted_at.is_none())
        {
            return Err("accepted_at set exactly once accepted");
        }
        if (s == S::Closed) != (self.closed_at.is_some() && self.satisfaction.is_some())
            || (s != S::Closed && (self.closed_at.is_some() || self.satisfaction.is_some()))
            || (s != S::Closed && self.follow_up_done)
        {
            return Err("closed_at and satisfaction set exactly while closed");
        }
        let with_unit = matches!(
            self.working_state(),
            S::Dispatched | S::InProgress | S::Resolved | S::Closed
        );
        if with_unit != self.unit.is_some() {
            return Err("unit set exactly from dispatch until return");
        }
        if self.pending.is_some() && !s.is_running() {
            return Err("a pending request only while the clock runs");
        }
        if self.escalation_level > MAX_ESCALATION_LEVEL {
            return Err("escalation level at most 3");
        }
        if self.suspended_total.is_negative()
            || self.stopped_total.is_negative()
            || self.extended_total.is_negative()
        {
            return Err("durations are non-negative");
        }
        let times = [
            Some(self.reported_at),
            self.accepted_at,
            self.stopped_at,
            self.closed_at,
            Some(self.last_at),
        ];
        let mut prev = self.reported_at;
        for t in times.into_iter().flatten() {
            if t < prev {
                return Err("report ≤ acceptance ≤ stop ≤ close ≤ last transition");
            }
            prev = t;
        }
        if (self.suspension.is_some() || self.suspended_total.is_positive())
            && self.suspension_count == 0
        {
            return Err("suspended time needs an approved suspension");
        }
        if self.extended_total.is_positive() != (self.extension_count > 0) {
            return Err("extended time needs an approved extension");
        }
        if self.stopped_total.is_positive() && self.rework_count == 0 {
            return Err("stopped time is only added back by a reopen");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_name() {
        for s in WorkOrderState::ALL {
            assert_eq!(WorkOrderState::parse(s.as_str()).unwrap(), s);
            assert_eq!(WorkOrderState::parse(s.name_zh()).unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(
            WorkOrderState::parse(" 派遣 ").unwrap(),
            WorkOrderState::Dispatched
        );
        let e = WorkOrderState::parse("pending").unwrap_err();
        assert_eq!(e.code(), "work_order_state.invalid");
        assert!(e.message_zh().contains("“pending”"));
    }

    #[test]
    fn priority_and_satisfaction_round_trip() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()).unwrap(), p);
            assert_eq!(Priority::parse(p.name_zh()).unwrap(), p);
        }
        assert!(Priority::Urgent < Priority::Low);
        assert_eq!(Priority::parse("x").unwrap_err().code(), "priority.invalid");
        for v in Satisfaction::ALL {
            assert_eq!(Satisfaction::parse(v.as_str()).unwrap(), v);
            assert_eq!(Satisfaction::parse(v.name_zh()).unwrap(), v);
        }
        assert_eq!(
            Satisfaction::parse("很好").unwrap_err().code(),
            "satisfaction.invalid"
        );
    }

    #[test]
    fn action_kinds_are_distinct_and_named() {
        let mut names: Vec<_> = ActionKind::ALL.iter().map(ActionKind::as_str).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ActionKind::ALL.len());
        for k in ActionKind::ALL {
            assert!(!k.name_zh().is_empty() && !k.name_en().is_empty());
        }
        assert_eq!(
            Action::Dispatch {
                unit: "城管".into()
            }
            .kind()
            .as_str(),
            "dispatch"
        );
    }

    #[test]
    fn new_order_is_coherent() {
        let at = time::macros::datetime!(2026-03-02 09:00 +08:00);
        let o = WorkOrder::report(Priority::Normal, Sla::GENERAL, at);
        assert_eq!(o.state, WorkOrderState::Reported);
        assert_eq!(o.check(), Ok(()));
        let mut bad = o.clone();
        bad.state = WorkOrderState::Suspended;
        assert!(bad.check().is_err());
    }
}
