//! Assist requests (协助): a worker asks a colleague for help on a work order (DESIGN.md W1).
//!
//! Why the rules are what they are:
//! - **One request per person.** A team request is expanded to its members when it is made, so
//!   each colleague answers for themselves and nobody's "accepted" speaks for the others.
//! - **Only the person asked answers** (accept, decline, done) and **only the requester
//!   cancels**; a manager who wants someone else to help asks them anew.
//! - **Done is final, and so are declined and cancelled.** What was done stays on the order's
//!   timeline; asking again is a new request.
//! - **No requests on a stopped order** (resolved, closed, rejected): help is for work still
//!   going on. Answering an existing request stays possible, so work already done can be logged.
//! - An assist never changes the order's state or its SLA clock: it is help, not a transition.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Echo};
use crate::work_order::WorkOrderState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistState {
    Requested,
    Accepted,
    Declined,
    Done,
    Cancelled,
}

impl AssistState {
    pub const ALL: [AssistState; 5] = [
        Self::Requested,
        Self::Accepted,
        Self::Declined,
        Self::Done,
        Self::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == t || v.name_zh() == t)
            .ok_or_else(|| DomainError::AssistState(Echo::of(t)))
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Requested => "待接受",
            Self::Accepted => "已接受",
            Self::Declined => "已婉拒",
            Self::Done => "已完成",
            Self::Cancelled => "已撤回",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Requested => "Requested",
            Self::Accepted => "Accepted",
            Self::Declined => "Declined",
            Self::Done => "Done",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Still waiting for the colleague: requested or accepted.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }

    /// Applies `step` by `party`; the new state, or why not. The state is checked first, so a
    /// step that is impossible for anyone names the current state.
    pub fn apply(self, step: AssistStep, party: Party) -> Result<AssistState, AssistError> {
        use AssistState as S;
        let next = match (step, self) {
            (AssistStep::Accept, S::Requested) => S::Accepted,
            (AssistStep::Decline, S::Requested) => S::Declined,
            (AssistStep::Done, S::Accepted) => S::Done,
            (AssistStep::Cancel, S::Requested | S::Accepted) => S::Cancelled,
            _ => return Err(AssistError::Illegal { state: self, step }),
        };
        match (step.by(), party) {
            (Party::Assignee, Party::Assignee) | (Party::Requester, Party::Requester) => Ok(next),
            (Party::Assignee, _) => Err(AssistError::NotAssignee),
            _ => Err(AssistError::NotRequester),
        }
    }

    /// The steps `party` may take now, in display order: what a page offers.
    pub fn steps_for(self, party: Party) -> Vec<AssistStep> {
        AssistStep::ALL
            .into_iter()
            .filter(|s| self.apply(*s, party).is_ok())
            .collect()
    }
}

/// Who is acting on an assist request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The colleague who was asked.
    Assignee,
    /// The worker who asked.
    Requester,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssistStep {
    Accept,
    Decline,
    Done,
    Cancel,
}

impl AssistStep {
    pub const ALL: [AssistStep; 4] = [Self::Accept, Self::Decline, Self::Done, Self::Cancel];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Done => "done",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<AssistStep> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    /// Who may take the step.
    pub fn by(&self) -> Party {
        match self {
            Self::Cancel => Party::Requester,
            _ => Party::Assignee,
        }
    }

    /// The work-order timeline action this step appends.
    pub fn timeline_action(&self) -> &'static str {
        match self {
            Self::Accept => "assist_accepted",
            Self::Decline => "assist_declined",
            Self::Done => "assist_done",
            Self::Cancel => "assist_cancelled",
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Accept => "接受",
            Self::Decline => "婉拒",
            Self::Done => "完成",
            Self::Cancel => "撤回",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Done => "mark done",
            Self::Cancel => "cancel",
        }
    }
}

/// The timeline action of a new request.
pub const ASSIST_REQUESTED: &str = "assist_requested";

/// Whether an order in `state` may get new assist requests.
pub fn may_request(state: WorkOrderState) -> Result<(), AssistError> {
    if state.is_stopped() {
        return Err(AssistError::OrderStopped { state });
    }
    Ok(())
}

/// Why an assist step was refused: a conflict with the request's state or its parties (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub enum AssistError {
    Illegal {
        state: AssistState,
        step: AssistStep,
    },
    NotAssignee,
    NotRequester,
    OrderStopped {
        state: WorkOrderState,
    },
}

impl AssistError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Illegal { .. } => "assist.illegal_transition",
            Self::NotAssignee => "assist.not_assignee",
            Self::NotRequester => "assist.not_requester",
            Self::OrderStopped { .. } => "assist.order_stopped",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::Illegal { state, step } => format!(
                "协助请求当前状态为「{}」，不能{}",
                state.name_zh(),
                step.name_zh()
            ),
            Self::NotAssignee => "只有被请求协助的人可以接受、婉拒或完成此协助".to_owned(),
            Self::NotRequester => "只有发起协助请求的人可以撤回".to_owned(),
            Self::OrderStopped { state } => {
                format!("工单当前状态为「{}」，不能再请求协助", state.name_zh())
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Illegal { state, step } => format!(
                "The assist request is {}; it cannot {}",
                state.name_en().to_lowercase(),
                step.name_en()
            ),
            Self::NotAssignee => {
                "Only the person asked can accept, decline or finish this assist request".to_owned()
            }
            Self::NotRequester => "Only the person who asked can cancel the request".to_owned(),
            Self::OrderStopped { state } => format!(
                "The work order is {}; no more help can be requested",
                state.name_en().to_lowercase()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn states_round_trip() {
        for s in AssistState::ALL {
            assert_eq!(AssistState::parse(s.as_str()).unwrap(), s);
            assert_eq!(AssistState::parse(s.name_zh()).unwrap(), s);
        }
        assert_eq!(
            AssistState::parse("maybe").unwrap_err().code(),
            "assist_state.invalid"
        );
        for s in AssistStep::ALL {
            assert_eq!(AssistStep::parse(s.as_str()), Some(s));
        }
        assert_eq!(AssistStep::parse("escalate"), None);
    }

    #[test]
    fn the_assignee_accepts_then_finishes() {
        let s = AssistState::Requested
            .apply(AssistStep::Accept, Party::Assignee)
            .unwrap();
        assert_eq!(s, AssistState::Accepted);
        let s = s.apply(AssistStep::Done, Party::Assignee).unwrap();
        assert_eq!(s, AssistState::Done);
        assert!(!s.is_open());
        assert_eq!(
            AssistState::Requested.apply(AssistStep::Decline, Party::Assignee),
            Ok(AssistState::Declined)
        );
    }

    #[test]
    fn only_the_right_party_acts() {
        assert_eq!(
            AssistState::Requested.apply(AssistStep::Accept, Party::Requester),
            Err(AssistError::NotAssignee)
        );
        assert_eq!(
            AssistState::Accepted.apply(AssistStep::Done, Party::Other),
            Err(AssistError::NotAssignee)
        );
        assert_eq!(
            AssistState::Accepted.apply(AssistStep::Cancel, Party::Assignee),
            Err(AssistError::NotRequester)
        );
        assert_eq!(
            AssistState::Accepted.apply(AssistStep::Cancel, Party::Requester),
            Ok(AssistState::Cancelled)
        );
    }

    #[test]
    fn illegal_steps_name_the_state() {
        let e = AssistState::Requested
            .apply(AssistStep::Done, Party::Assignee)
            .unwrap_err();
        assert_eq!(e.code(), "assist.illegal_transition");
        assert_eq!(e.message_zh(), "协助请求当前状态为「待接受」，不能完成");
        assert_eq!(
            e.message_en(),
            "The assist request is requested; it cannot mark done"
        );
        // The state decides before the party: nobody can cancel a finished request.
        let e = AssistState::Done
            .apply(AssistStep::Cancel, Party::Other)
            .unwrap_err();
        assert_eq!(
            e,
            AssistError::Illegal {
                state: AssistState::Done,
                step: AssistStep::Cancel
            }
        );
    }

    #[test]
    fn steps_offered_follow_the_rules() {
        use AssistStep::*;
        assert_eq!(
            AssistState::Requested.steps_for(Party::Assignee),
            [Accept, Decline]
        );
        assert_eq!(AssistState::Requested.steps_for(Party::Requester), [Cancel]);
        assert_eq!(AssistState::Accepted.steps_for(Party::Assignee), [Done]);
        assert!(AssistState::Accepted.steps_for(Party::Other).is_empty());
        assert!(AssistState::Done.steps_for(Party::Requester).is_empty());
    }

    #[test]
    fn stopped_orders_take_no_new_requests() {
        for s in WorkOrderState::ALL {
            assert_eq!(may_request(s).is_ok(), !s.is_stopped(), "{s:?}");
        }
        let e = may_request(WorkOrderState::Closed).unwrap_err();
        assert_eq!(e.code(), "assist.order_stopped");
        assert!(e.message_zh().contains("已关闭"));
    }

    fn step() -> impl Strategy<Value = AssistStep> {
        prop::sample::select(AssistStep::ALL.to_vec())
    }

    fn party() -> impl Strategy<Value = Party> {
        prop::sample::select(vec![Party::Assignee, Party::Requester, Party::Other])
    }

    proptest! {
        /// Any sequence of attempts: a finished request never changes again, every change is
        /// made by the party the step belongs to, and refusals leave the state as it was.
        #[test]
        fn finished_requests_stay_finished(steps in prop::collection::vec((step(), party()), 0..12)) {
            let mut s = AssistState::Requested;
            for (step, party) in steps {
                match s.apply(step, party) {
                    Ok(next) => {
                        prop_assert!(s.is_open(), "{s:?} changed to {next:?}");
                        prop_assert_eq!(step.by(), party);
                        prop_assert_ne!(next, s);
                        s = next;
                    }
                    Err(AssistError::Illegal { state, .. }) => prop_assert_eq!(state, s),
                    Err(_) => prop_assert!(s.is_open()),
                }
            }
        }
    }
}
