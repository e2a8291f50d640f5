//! Which actions a person could take on an order now, asked of the machine itself: each action
//! kind is tried with sample data and kept when [`WorkOrder::apply`] accepts it. Pages offer
//! exactly these, so the rules live in one place.

use time::{Duration, OffsetDateTime};

use super::{Action, ActionKind, Satisfaction, WorkOrder};

impl WorkOrder {
    /// The actions a person may take at `at`, in [`ActionKind::ALL`] order. Escalation is the
    /// system's and never offered.
    pub fn offered_actions(&self, at: OffsetDateTime) -> Vec<ActionKind> {
        ActionKind::ALL
            .into_iter()
            .filter(|k| *k != ActionKind::Escalate)
            .filter(|k| self.apply(&self.sample(*k), at.max(self.last_at)).is_ok())
            .collect()
    }

    /// An action of `kind` with data the rules accept; only the state decides then.
    fn sample(&self, kind: ActionKind) -> Action {
        let text = String::from("-");
        // A unit other than the current one, so that reassigning is judged on the state.
        let other_unit = format!("{}-", self.unit.as_deref().unwrap_or_default());
        match kind {
            ActionKind::Accept => Action::Accept,
            ActionKind::Dispatch => Action::Dispatch { unit: text },
            ActionKind::Start => Action::Start,
            ActionKind::Resolve => Action::Resolve { note: text },
            ActionKind::Close => Action::Close {
                satisfaction: Satisfaction::Satisfied,
                follow_up_done: true,
            },
            ActionKind::Reject => Action::Reject { reason: text },
            ActionKind::Return => Action::Return { reason: text },
            ActionKind::Reassign => Action::Reassign { unit: other_unit },
            ActionKind::Reopen => Action::Reopen { reason: text },
            ActionKind::RequestSuspension => Action::RequestSuspension { reason: text },
            ActionKind::ApproveSuspension => Action::ApproveSuspension,
            ActionKind::DenySuspension => Action::DenySuspension,
            ActionKind::Resume => Action::Resume,
            ActionKind::RequestExtension => Action::RequestExtension {
                by: Duration::hours(1),
                reason: text,
            },
            ActionKind::ApproveExtension => Action::ApproveExtension,
            ActionKind::DenyExtension => Action::DenyExtension,
            ActionKind::Escalate => Action::Escalate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Priority, Sla};
    use super::*;
    use ActionKind::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn step(o: &WorkOrder, a: Action, hours: i64) -> WorkOrder {
        o.apply(&a, T0 + Duration::hours(hours)).unwrap().0
    }

    #[test]
    fn offers_follow_the_state() {
        let o = WorkOrder::report(Priority::Normal, Sla::UTILITIES, T0);
        assert_eq!(o.offered_actions(T0), [Accept, Reject]);
        let o = step(&o, Action::Accept, 1);
        assert_eq!(
            o.offered_actions(T0),
            [Dispatch, Reject, RequestSuspension, RequestExtension],
            "an earlier time is read as the last step's"
        );
        let o = step(
            &o,
            Action::Dispatch {
                unit: "供水所".into(),
            },
            2,
        );
        assert_eq!(
            o.offered_actions(T0 + Duration::hours(2)),
            [Start, Return, Reassign, RequestSuspension, RequestExtension]
        );
        let o = step(
            &o,
            Action::RequestSuspension {
                reason: "等待配件".into(),
            },
            3,
        );
        let offered = o.offered_actions(T0 + Duration::hours(3));
        assert!(offered.contains(&ApproveSuspension) && offered.contains(&DenySuspension));
        assert!(
            !offered.contains(&RequestExtension),
            "one request at a time"
        );
        let o = step(&o, Action::ApproveSuspension, 4);
        assert_eq!(o.offered_actions(T0 + Duration::hours(5)), [Resume]);
    }

    #[test]
    fn an_overdue_order_does_not_offer_escalation() {
        let o = WorkOrder::report(Priority::Normal, Sla::LIFE_OR_PROPERTY, T0);
        let o = step(&o, Action::Accept, 0);
        assert!(o.is_overdue(T0 + Duration::hours(10)));
        assert!(
            !o.offered_actions(T0 + Duration::hours(10))
                .contains(&Escalate)
        );
    }

    #[test]
    fn every_offer_is_applicable() {
        let o = WorkOrder::report(Priority::Normal, Sla::GENERAL, T0);
        let o = step(&o, Action::Accept, 1);
        let o = step(
            &o,
            Action::Dispatch {
                unit: "城管".into(),
            },
            2,
        );
        let at = T0 + Duration::hours(3);
        for k in o.offered_actions(at) {
            assert!(o.apply(&o.sample(k), at).is_ok(), "{k:?}");
        }
    }
}
