//! Notifications: which events tell whom, through which channels. Pure rules; the store writes
//! the outbox rows in the same transaction as the event, and the job runner delivers them.
//!
//! Who is told (the store turns these rules into SQL over active users and their areas; the
//! person who caused the event is never told about it):
//! - **assigned** (dispatch, reassign): the users whose role acts at the level now handling the
//!   order ([`WorkOrder::handling_level`]: the grid, or the level it was escalated to) and whose
//!   areas cover the order's grid — the people who will follow the handling unit up.
//! - **escalated**: the users whose role acts at the level the order was escalated to, over the
//!   order's grid: the supervisors now answerable for it.
//! - **resolved**: the staff member who reported the order (residents have no accounts; telling
//!   them is for the SMS/WeChat adapters to come).
//! - **assist requested**: the colleagues named in the request, when the order is in their scope.
//! - **campaign request**: the staff member named for a resident's pre-registration (the
//!   campaign's desk, else the door's assignee), when the door is in their scope.
//! - **key overdue**: the staff answerable for an entrusted key kept too long (its holder, the
//!   lend's supervisor, or the named staff when it is in the cabinet).

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::area::AreaLevel;
use crate::work_order::{ActionKind, WorkOrder};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    WorkOrderAssigned,
    WorkOrderEscalated,
    WorkOrderResolved,
    AssistRequested,
    /// A resident pre-registered on a campaign's public page (W2); told to the staff member
    /// named for it.
    CampaignRequest,
    /// An entrusted key is held past the entrustment's end or lent past its expected return;
    /// told to the staff answerable for it, about the work order raised.
    KeyOverdue,
}

impl NotificationEvent {
    pub const ALL: [NotificationEvent; 6] = [
        Self::WorkOrderAssigned,
        Self::WorkOrderEscalated,
        Self::WorkOrderResolved,
        Self::AssistRequested,
        Self::CampaignRequest,
        Self::KeyOverdue,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::WorkOrderAssigned => "work_order_assigned",
            Self::WorkOrderEscalated => "work_order_escalated",
            Self::WorkOrderResolved => "work_order_resolved",
            Self::AssistRequested => "assist_requested",
            Self::CampaignRequest => "campaign_request",
            Self::KeyOverdue => "key_overdue",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationEvent> {
        Self::ALL.into_iter().find(|e| e.as_str() == s.trim())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::WorkOrderAssigned => "工单已派遣",
            Self::WorkOrderEscalated => "工单已升级督办",
            Self::WorkOrderResolved => "工单已办结",
            Self::AssistRequested => "请求协助",
            Self::CampaignRequest => "居民预登记",
            Self::KeyOverdue => "托管钥匙超期",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::WorkOrderAssigned => "Work order assigned",
            Self::WorkOrderEscalated => "Work order escalated",
            Self::WorkOrderResolved => "Work order resolved",
            Self::AssistRequested => "Assist requested",
            Self::CampaignRequest => "Resident pre-registration",
            Self::KeyOverdue => "Entrusted key overdue",
        }
    }

    /// The event a work-order step raises, if any.
    pub fn for_action(action: ActionKind) -> Option<NotificationEvent> {
        match action {
            ActionKind::Dispatch | ActionKind::Reassign => Some(Self::WorkOrderAssigned),
            ActionKind::Escalate => Some(Self::WorkOrderEscalated),
            ActionKind::Resolve => Some(Self::WorkOrderResolved),
            _ => None,
        }
    }
}

/// How a notification reaches its recipient. SMS and WeChat template messages will be further
/// channels behind the same delivery interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Readable in the app once delivered.
    InApp,
    /// A log line with the event and ids only, for development.
    Log,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Self::InApp, Self::Log];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InApp => "in_app",
            Self::Log => "log",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|c| c.as_str() == t)
    }
}

/// The role that acts for an area level: grid workers for grids, community staff for
/// communities, managers for subdistricts and districts. Cities have no acting role here.
pub fn role_acting_at(level: AreaLevel) -> Option<Role> {
    match level {
        AreaLevel::Grid => Some(Role::GridWorker),
        AreaLevel::Community => Some(Role::CommunityStaff),
        AreaLevel::Subdistrict => Some(Role::SubdistrictManager),
        AreaLevel::District => Some(Role::DistrictManager),
        AreaLevel::City => None,
    }
}

impl WorkOrder {
    /// The level answerable for the order now: its grid, or where escalation took it.
    pub fn handling_level(&self) -> AreaLevel {
        self.escalated_to().unwrap_or(AreaLevel::Grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work_order::{Priority, Sla};

    #[test]
    fn events_and_channels_round_trip() {
        for e in NotificationEvent::ALL {
            assert_eq!(NotificationEvent::parse(e.as_str()), Some(e));
            assert!(!e.name_zh().is_empty() && !e.name_en().is_empty());
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("In-App"), Some(Channel::InApp));
        assert_eq!(Channel::parse("sms"), None);
    }

    #[test]
    fn steps_raise_their_events() {
        assert_eq!(
            NotificationEvent::for_action(ActionKind::Reassign),
            Some(NotificationEvent::WorkOrderAssigned)
        );
        assert_eq!(
            NotificationEvent::for_action(ActionKind::Escalate),
            Some(NotificationEvent::WorkOrderEscalated)
        );
        assert_eq!(
            NotificationEvent::for_action(ActionKind::Resolve),
            Some(NotificationEvent::WorkOrderResolved)
        );
        assert_eq!(NotificationEvent::for_action(ActionKind::Accept), None);
    }

    #[test]
    fn the_handling_level_follows_escalation() {
        let at = time::macros::datetime!(2026-03-02 09:00 +08:00);
        let mut o = WorkOrder::report(Priority::Normal, Sla::GENERAL, at);
        assert_eq!(o.handling_level(), AreaLevel::Grid);
        assert_eq!(role_acting_at(o.handling_level()), Some(Role::GridWorker));
        o.escalation_level = 2;
        assert_eq!(
            role_acting_at(o.handling_level()),
            Some(Role::SubdistrictManager)
        );
        assert_eq!(role_acting_at(AreaLevel::City), None);
    }
}
