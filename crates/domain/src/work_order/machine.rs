//! The transitions: which action is allowed in which state, and what it does to the clock.

use time::{Duration, OffsetDateTime};

use super::{
    Action, ActionKind, PendingRequest, Sla, Suspension, Transition, WorkOrder, WorkOrderState,
};
use crate::error::TransitionError;

/// How long after closing an order may still be reopened (as rework) instead of reported anew.
pub const REOPEN_WINDOW: Duration = Duration::days(30);

impl WorkOrder {
    /// Applies `action` at `at`, returning the new order and the timeline step, or why not.
    /// `self` is never changed: a refused action leaves the order as it was.
    pub fn apply(
        &self,
        action: &Action,
        at: OffsetDateTime,
    ) -> Result<(WorkOrder, Transition), TransitionError> {
        use WorkOrderState as S;
        if at < self.last_at {
            return Err(TransitionError::TimeOrder);
        }
        let kind = action.kind();
        let illegal = TransitionError::Illegal {
            state: self.state,
            action: kind,
        };
        let running = self.state.is_running();
        let mut next = self.clone();
        next.last_at = at;
        let mut lapse = false;
        match action {
            Action::Accept if self.state == S::Reported => {
                next.state = S::Accepted;
                next.accepted_at = Some(at);
            }
            Action::Dispatch { unit } if self.state == S::Accepted => {
                next.state = S::Dispatched;
                next.unit = Some(unit.clone());
            }
            Action::Start if self.state == S::Dispatched => next.state = S::InProgress,
            Action::Resolve { .. } if self.state == S::InProgress => {
                next.state = S::Resolved;
                next.stopped_at = Some(at);
                lapse = true;
            }
            Action::Close {
                satisfaction,
                follow_up_done,
            } if self.state == S::Resolved => {
                next.state = S::Closed;
                next.closed_at = Some(at);
                next.satisfaction = Some(*satisfaction);
                next.follow_up_done = *follow_up_done;
            }
            Action::Reject { .. } if matches!(self.state, S::Reported | S::Accepted) => {
                next.state = S::Rejected;
                next.stopped_at = Some(at);
                lapse = true;
            }
            Action::Return { .. } if matches!(self.state, S::Dispatched | S::InProgress) => {
                next.state = S::Accepted;
                next.unit = None;
                lapse = true;
            }
            Action::Reassign { unit } if matches!(self.state, S::Dispatched | S::InProgress) => {
                if self.unit.as_deref() == Some(unit.as_str()) {
                    return Err(TransitionError::SameUnit);
                }
                next.state = S::Dispatched;
                next.unit = Some(unit.clone());
                lapse = true;
            }
            Action::Reopen { .. } if matches!(self.state, S::Resolved | S::Closed) => {
                if let Some(closed_at) = self.closed_at
                    && at - closed_at > REOPEN_WINDOW
                {
                    return Err(TransitionError::ReopenWindow {
                        days: REOPEN_WINDOW.whole_days(),
                    });
                }
                let stopped_at = self.stopped_at.unwrap_or(at);
                next.state = S::InProgress;
                next.stopped_total += at - stopped_at;
                next.stopped_at = None;
                next.closed_at = None;
                next.satisfaction = None;
                next.follow_up_done = false;
                next.rework_count += 1;
            }
            Action::RequestSuspension { reason } if running => {
                self.no_pending()?;
                next.pending = Some(PendingRequest::Suspension {
                    reason: reason.clone(),
                    requested_at: at,
                });
            }
            Action::RequestExtension { by, reason } if running => {
                self.no_pending()?;
                if Sla::new(*by).is_err() {
                    return Err(TransitionError::ExtensionLength);
                }
                next.pending = Some(PendingRequest::Extension {
                    by: *by,
                    reason: reason.clone(),
                    requested_at: at,
                });
            }
            Action::ApproveSuspension | Action::DenySuspension if running => {
                let Some(PendingRequest::Suspension { .. }) = self.pending else {
                    return Err(TransitionError::NoPendingRequest { action: kind });
                };
                next.pending = None;
                if kind == ActionKind::ApproveSuspension {
                    next.state = S::Suspended;
                    next.suspension = Some(Suspension {
                        since: at,
                        resume_to: self.state,
                    });
                    next.suspension_count += 1;
                }
            }
            Action::ApproveExtension | Action::DenyExtension if running => {
                let Some(PendingRequest::Extension { by, .. }) = self.pending else {
                    return Err(TransitionError::NoPendingRequest { action: kind });
                };
                next.pending = None;
                if kind == ActionKind::ApproveExtension {
                    next.extended_total += by;
                    next.extension_count += 1;
                }
            }
            Action::Resume => {
                let Some(suspension) = self.suspension else {
                    return Err(illegal);
                };
                next.state = suspension.resume_to;
                next.suspension = None;
                next.suspended_total += at - suspension.since;
            }
            Action::Escalate if running => {
                if self.escalation_level >= super::MAX_ESCALATION_LEVEL {
                    return Err(TransitionError::EscalationMax);
                }
                if !self.escalation_due(at) {
                    return Err(TransitionError::NotOverdue);
                }
                next.escalation_level += 1;
            }
            _ => return Err(illegal),
        }
        let lapsed = if lapse {
            next.pending.take().map(|p| p.kind().as_str())
        } else {
            None
        };
        let transition = Transition {
            from: self.state,
            to: next.state,
            action: kind.as_str(),
            lapsed,
        };
        Ok((next, transition))
    }

    fn no_pending(&self) -> Result<(), TransitionError> {
        match &self.pending {
            Some(p) => Err(TransitionError::RequestPending { pending: p.kind() }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Priority, Satisfaction};
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn h(n: i64) -> Duration {
        Duration::hours(n)
    }

    fn t(hours: i64) -> OffsetDateTime {
        T0 + h(hours)
    }

    fn dispatch(unit: &str) -> Action {
        Action::Dispatch { unit: unit.into() }
    }

    fn reason(kind: &str) -> String {
        format!("{kind} reason")
    }

    /// Applies each step, panicking on refusal; returns the order.
    fn run(sla: Sla, steps: &[(i64, Action)]) -> WorkOrder {
        let mut o = WorkOrder::report(Priority::Normal, sla, T0);
        for (hours, action) in steps {
            o = o
                .apply(action, t(*hours))
                .unwrap_or_else(|e| panic!("{action:?} at +{hours}h: {e}"))
                .0;
            assert_eq!(o.check(), Ok(()), "{action:?}");
        }
        o
    }

    /// A 24 h order accepted at +0, dispatched at +1, started at +2.
    fn in_progress() -> WorkOrder {
        run(
            Sla::UTILITIES,
            &[
                (0, Action::Accept),
                (1, dispatch("供水所")),
                (2, Action::Start),
            ],
        )
    }

    fn resolve() -> Action {
        Action::Resolve {
            note: "已修复".into(),
        }
    }

    fn close() -> Action {
        Action::Close {
            satisfaction: Satisfaction::Satisfied,
            follow_up_done: true,
        }
    }

    fn code(o: &WorkOrder, action: &Action, hours: i64) -> &'static str {
        o.apply(action, t(hours)).unwrap_err().code()
    }

    #[test]
    fn happy_path_report_to_close() {
        let o = WorkOrder::report(Priority::Urgent, Sla::UTILITIES, T0);
        let mut steps = Vec::new();
        let mut o2 = o.clone();
        for (hours, action) in [
            (1, Action::Accept),
            (2, dispatch("供水所")),
            (3, Action::Start),
            (10, resolve()),
            (30, close()),
        ] {
            let (n, tr) = o2.apply(&action, t(hours)).unwrap();
            assert_eq!(tr.from, o2.state);
            assert_eq!(tr.to, n.state);
            assert_eq!(tr.lapsed, None);
            steps.push((tr.action, n.state.as_str()));
            o2 = n;
        }
        assert_eq!(
            steps,
            [
                ("accept", "accepted"),
                ("dispatch", "dispatched"),
                ("start", "in_progress"),
                ("resolve", "resolved"),
                ("close", "closed"),
            ]
        );
        assert_eq!(o2.accepted_at, Some(t(1)));
        assert_eq!(o2.unit.as_deref(), Some("供水所"));
        assert_eq!(o2.stopped_at, Some(t(10)));
        assert_eq!(o2.closed_at, Some(t(30)));
        assert_eq!(o2.satisfaction, Some(Satisfaction::Satisfied));
        assert!(o2.follow_up_done);
        // Stopped at resolve: the 20 h waiting for the follow-up call do not count.
        assert_eq!(o2.active_elapsed(t(100)), h(9));
        assert_eq!(o2.remaining(t(100)), h(15));
        assert_eq!(o2.deadline(t(100)), Some(t(25)));
        assert!(o2.handled_on_time() && !o2.handled_overdue());
        assert_eq!(o.state, WorkOrderState::Reported, "apply does not mutate");
    }

    #[test]
    fn clock_starts_at_accept_not_report() {
        let o = WorkOrder::report(Priority::Normal, Sla::UTILITIES, T0);
        assert_eq!(o.active_elapsed(t(50)), Duration::ZERO);
        assert_eq!(o.remaining(t(50)), h(24));
        assert_eq!(o.deadline(t(50)), None);
        assert!(!o.is_overdue(t(50)));
        let o = o.apply(&Action::Accept, t(5)).unwrap().0;
        assert_eq!(o.deadline(t(5)), Some(t(29)));
        assert_eq!(o.active_elapsed(t(29)), h(24));
        assert!(!o.is_overdue(t(29)), "at the deadline is not overdue");
        assert!(o.is_overdue(t(29) + Duration::SECOND));
        assert!(o.overdue_and_open(t(30)));
        assert_eq!(o.remaining(t(30)), h(-1));
    }

    #[test]
    fn each_forward_step_only_from_its_state() {
        let reported = WorkOrder::report(Priority::Low, Sla::GENERAL, T0);
        assert_eq!(
            code(&reported, &dispatch("x"), 1),
            "work_order.illegal_transition"
        );
        assert_eq!(
            code(&reported, &Action::Start, 1),
            "work_order.illegal_transition"
        );
        assert_eq!(
            code(&reported, &resolve(), 1),
            "work_order.illegal_transition"
        );
        assert_eq!(
            code(&reported, &close(), 1),
            "work_order.illegal_transition"
        );
        let accepted = reported.apply(&Action::Accept, t(1)).unwrap().0;
        assert_eq!(
            code(&accepted, &Action::Accept, 2),
            "work_order.illegal_transition"
        );
        assert_eq!(
            code(&accepted, &Action::Start, 2),
            "work_order.illegal_transition"
        );
        let p = in_progress();
        assert_eq!(code(&p, &Action::Start, 3), "work_order.illegal_transition");
        assert_eq!(code(&p, &close(), 3), "work_order.illegal_transition");
        let resolved = p.apply(&resolve(), t(3)).unwrap().0;
        assert_eq!(
            code(&resolved, &resolve(), 4),
            "work_order.illegal_transition"
        );
    }

    #[test]
    fn illegal_transition_names_the_state_in_both_languages() {
        let o = run(Sla::GENERAL, &[(0, Action::Accept), (1, dispatch("城管"))]);
        let e = o.apply(&Action::Accept, t(2)).unwrap_err();
        assert_eq!(
            e,
            TransitionError::Illegal {
                state: WorkOrderState::Dispatched,
                action: ActionKind::Accept
            }
        );
        assert_eq!(e.code(), "work_order.illegal_transition");
        assert_eq!(e.message_zh(), "工单当前状态为「已派遣」，不能执行「受理」");
        assert_eq!(
            e.message_en(),
            "The work order is dispatched; it cannot be accepted"
        );
        let d = crate::DomainError::from(e);
        assert_eq!(d.code(), "work_order.illegal_transition");
        assert_eq!(
            d.to_string(),
            "The work order is dispatched; it cannot be accepted"
        );
    }

    #[test]
    fn time_may_not_go_backwards() {
        let o = in_progress();
        let e = o.apply(&resolve(), t(1)).unwrap_err();
        assert_eq!(e, TransitionError::TimeOrder);
        assert_eq!(e.code(), "work_order.time_order");
        // The same instant as the last step is fine.
        assert!(o.apply(&resolve(), t(2)).is_ok());
    }

    #[test]
    fn reject_only_before_dispatch_and_is_terminal() {
        let reported = WorkOrder::report(Priority::Normal, Sla::GENERAL, T0);
        let reject = Action::Reject {
            reason: reason("reject"),
        };
        let (r, tr) = reported.apply(&reject, t(1)).unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (WorkOrderState::Reported, WorkOrderState::Rejected)
        );
        assert_eq!(r.check(), Ok(()));
        assert_eq!(r.active_elapsed(t(9)), Duration::ZERO);
        let accepted = reported.apply(&Action::Accept, t(1)).unwrap().0;
        let r2 = accepted.apply(&reject, t(3)).unwrap().0;
        assert_eq!(r2.stopped_at, Some(t(3)));
        assert_eq!(r2.active_elapsed(t(50)), h(2));
        assert!(!r2.handled_on_time() && !r2.handled_overdue());
        assert_eq!(
            code(&in_progress(), &reject, 3),
            "work_order.illegal_transition"
        );
        for a in [
            Action::Accept,
            Action::Reopen {
                reason: reason("reopen"),
            },
            Action::Escalate,
            Action::Resume,
        ] {
            assert_eq!(code(&r2, &a, 500), "work_order.illegal_transition", "{a:?}");
        }
    }

    #[test]
    fn return_hands_back_and_clears_the_unit() {
        let p = in_progress();
        let (o, tr) = p
            .apply(
                &Action::Return {
                    reason: reason("return"),
                },
                t(3),
            )
            .unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (WorkOrderState::InProgress, WorkOrderState::Accepted)
        );
        assert_eq!(o.unit, None);
        assert_eq!(o.active_elapsed(t(5)), h(5), "the clock keeps running");
        let o = o.apply(&dispatch("燃气公司"), t(4)).unwrap().0;
        assert_eq!(o.unit.as_deref(), Some("燃气公司"));
        let ret = Action::Return {
            reason: reason("return"),
        };
        let accepted = run(Sla::GENERAL, &[(0, Action::Accept)]);
        assert_eq!(code(&accepted, &ret, 1), "work_order.illegal_transition");
    }

    #[test]
    fn reassign_changes_the_unit_and_goes_back_to_dispatched() {
        let p = in_progress();
        let (o, tr) = p
            .apply(
                &Action::Reassign {
                    unit: "排水所".into(),
                },
                t(3),
            )
            .unwrap();
        assert_eq!(tr.to, WorkOrderState::Dispatched);
        assert_eq!(o.unit.as_deref(), Some("排水所"));
        let same = Action::Reassign {
            unit: "排水所".into(),
        };
        let e = o.apply(&same, t(4)).unwrap_err();
        assert_eq!(e.code(), "work_order.same_unit");
        let accepted = run(Sla::GENERAL, &[(0, Action::Accept)]);
        assert_eq!(code(&accepted, &same, 1), "work_order.illegal_transition");
    }

    #[test]
    fn reopen_from_resolved_counts_rework_and_skips_the_stop() {
        let o = in_progress().apply(&resolve(), t(10)).unwrap().0;
        let reopen = Action::Reopen {
            reason: reason("reopen"),
        };
        let (o, tr) = o.apply(&reopen, t(15)).unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (WorkOrderState::Resolved, WorkOrderState::InProgress)
        );
        assert_eq!(o.rework_count, 1);
        assert_eq!(o.stopped_total, h(5));
        assert_eq!(
            o.active_elapsed(t(20)),
            h(15),
            "10 before, 5 after; not the 5 stopped"
        );
        assert_eq!(o.deadline(t(20)), Some(t(29)));
        let o = o.apply(&resolve(), t(30)).unwrap().0;
        assert!(o.handled_overdue(), "resolved after 25 active hours of 24");
        assert_eq!(o.metrics(t(40)).rework, 1);
    }

    #[test]
    fn reopen_from_closed_only_within_the_window() {
        let closed = in_progress()
            .apply(&resolve(), t(10))
            .unwrap()
            .0
            .apply(&close(), t(20))
            .unwrap()
            .0;
        let reopen = Action::Reopen {
            reason: reason("reopen"),
        };
        let at_edge = T0 + h(20) + REOPEN_WINDOW;
        let o = closed.apply(&reopen, at_edge).unwrap().0;
        assert_eq!(o.state, WorkOrderState::InProgress);
        assert_eq!(o.satisfaction, None);
        assert_eq!(o.closed_at, None);
        assert_eq!(o.check(), Ok(()));
        let e = closed
            .apply(&reopen, at_edge + Duration::SECOND)
            .unwrap_err();
        assert_eq!(e, TransitionError::ReopenWindow { days: 30 });
        assert_eq!(e.code(), "work_order.reopen_window");
        assert!(e.message_zh().contains("30 天"));
    }

    #[test]
    fn suspension_request_does_not_pause_until_approved() {
        let p = in_progress();
        let req = Action::RequestSuspension {
            reason: reason("suspend"),
        };
        let (o, tr) = p.apply(&req, t(4)).unwrap();
        assert_eq!(tr.from, tr.to);
        assert_eq!(o.deadline(t(10)), Some(t(24)), "pending: no change");
        assert_eq!(o.active_elapsed(t(10)), h(10));
        let (o, tr) = o.apply(&Action::ApproveSuspension, t(10)).unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (WorkOrderState::InProgress, WorkOrderState::Suspended)
        );
        assert_eq!(o.suspension.unwrap().resume_to, WorkOrderState::InProgress);
        assert_eq!(o.pending, None);
        // Paused: nothing counts, the deadline moves with the wall clock.
        assert_eq!(o.active_elapsed(t(100)), h(10));
        assert_eq!(o.deadline(t(100)), Some(t(114)));
        assert!(!o.is_overdue(t(1000)));
        let (o, tr) = o.apply(&Action::Resume, t(100)).unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (WorkOrderState::Suspended, WorkOrderState::InProgress)
        );
        assert_eq!(o.suspended_total, h(90));
        assert_eq!(o.active_elapsed(t(101)), h(11));
        assert_eq!(o.deadline(t(101)), Some(t(114)));
        assert!(o.was_suspended());
    }

    #[test]
    fn suspended_order_only_resumes() {
        let o = run(
            Sla::GENERAL,
            &[
                (0, Action::Accept),
                (
                    1,
                    Action::RequestSuspension {
                        reason: reason("suspend"),
                    },
                ),
                (2, Action::ApproveSuspension),
            ],
        );
        assert_eq!(o.suspension.unwrap().resume_to, WorkOrderState::Accepted);
        for a in [
            dispatch("x"),
            Action::Escalate,
            Action::RequestSuspension {
                reason: reason("suspend"),
            },
            Action::ApproveSuspension,
            Action::Reject {
                reason: reason("reject"),
            },
        ] {
            let e = o.apply(&a, t(1000)).unwrap_err();
            assert_eq!(e.code(), "work_order.illegal_transition", "{a:?}");
        }
        assert!(!o.escalation_due(t(10_000)));
        let o = o.apply(&Action::Resume, t(5)).unwrap().0;
        assert_eq!(o.state, WorkOrderState::Accepted);
        assert_eq!(
            code(&o, &Action::Resume, 6),
            "work_order.illegal_transition"
        );
    }

    #[test]
    fn denied_suspension_leaves_the_clock_alone() {
        let o = in_progress()
            .apply(
                &Action::RequestSuspension {
                    reason: reason("suspend"),
                },
                t(3),
            )
            .unwrap()
            .0;
        let (o, tr) = o.apply(&Action::DenySuspension, t(5)).unwrap();
        assert_eq!(tr.action, "deny_suspension");
        assert_eq!(o.pending, None);
        assert_eq!(o.state, WorkOrderState::InProgress);
        assert_eq!(o.deadline(t(5)), Some(t(24)));
        assert!(!o.was_suspended());
    }

    #[test]
    fn extension_moves_the_deadline_only_when_approved() {
        let req = Action::RequestExtension {
            by: h(48),
            reason: reason("extend"),
        };
        let o = in_progress().apply(&req, t(3)).unwrap().0;
        assert_eq!(o.deadline(t(3)), Some(t(24)));
        let (a, tr) = o.apply(&Action::ApproveExtension, t(4)).unwrap();
        assert_eq!(tr.from, tr.to);
        assert_eq!(a.deadline(t(4)), Some(t(72)));
        assert_eq!(a.extension_count, 1);
        assert_eq!(a.allowance(), h(72));
        let d = o.apply(&Action::DenyExtension, t(4)).unwrap().0;
        assert_eq!(d.deadline(t(4)), Some(t(24)));
        assert_eq!(d.extension_count, 0);
        assert_eq!(d.pending, None);
    }

    #[test]
    fn extension_length_is_checked() {
        let p = in_progress();
        for by in [Duration::ZERO, h(-1), Duration::days(400)] {
            let a = Action::RequestExtension {
                by,
                reason: reason("extend"),
            };
            assert_eq!(code(&p, &a, 3), "work_order.extension_length", "{by}");
        }
    }

    #[test]
    fn one_pending_request_at_a_time() {
        let o = in_progress()
            .apply(
                &Action::RequestExtension {
                    by: h(24),
                    reason: reason("extend"),
                },
                t(3),
            )
            .unwrap()
            .0;
        let e = o
            .apply(
                &Action::RequestSuspension {
                    reason: reason("suspend"),
                },
                t(4),
            )
            .unwrap_err();
        assert_eq!(
            e,
            TransitionError::RequestPending {
                pending: ActionKind::RequestExtension
            }
        );
        assert_eq!(e.code(), "work_order.request_pending");
        assert!(e.message_zh().contains("申请延期"));
        // A decision must match the request that is pending.
        let e = o.apply(&Action::ApproveSuspension, t(4)).unwrap_err();
        assert_eq!(e.code(), "work_order.no_pending_request");
        let e = in_progress()
            .apply(&Action::ApproveExtension, t(4))
            .unwrap_err();
        assert_eq!(e.code(), "work_order.no_pending_request");
        assert_eq!(
            code(&in_progress(), &Action::DenySuspension, 4),
            "work_order.no_pending_request"
        );
    }

    #[test]
    fn a_pending_request_lapses_when_handling_ends_or_changes_hands() {
        let req = Action::RequestSuspension {
            reason: reason("suspend"),
        };
        let o = in_progress().apply(&req, t(3)).unwrap().0;
        for a in [
            resolve(),
            Action::Return {
                reason: reason("return"),
            },
            Action::Reassign {
                unit: "另一单位".into(),
            },
        ] {
            let (n, tr) = o.apply(&a, t(4)).unwrap();
            assert_eq!(tr.lapsed, Some("request_suspension"), "{a:?}");
            assert_eq!(n.pending, None);
            assert_eq!(n.check(), Ok(()));
        }
        // Progress within the same hands keeps it.
        let o = run(
            Sla::GENERAL,
            &[(0, Action::Accept), (1, dispatch("x")), (2, req.clone())],
        );
        let (n, tr) = o.apply(&Action::Start, t(3)).unwrap();
        assert_eq!(tr.lapsed, None);
        assert!(n.pending.is_some());
        let accepted = run(Sla::GENERAL, &[(0, Action::Accept), (1, req)]);
        let (n, tr) = accepted
            .apply(
                &Action::Reject {
                    reason: reason("reject"),
                },
                t(2),
            )
            .unwrap();
        assert_eq!(tr.lapsed, Some("request_suspension"));
        assert_eq!(n.check(), Ok(()));
    }

    #[test]
    fn no_requests_outside_a_running_clock() {
        let reported = WorkOrder::report(Priority::Normal, Sla::GENERAL, T0);
        let resolved = in_progress().apply(&resolve(), t(3)).unwrap().0;
        for o in [&reported, &resolved] {
            for a in [
                Action::RequestSuspension {
                    reason: reason("suspend"),
                },
                Action::RequestExtension {
                    by: h(1),
                    reason: reason("extend"),
                },
                Action::ApproveExtension,
                Action::DenySuspension,
            ] {
                assert_eq!(code(o, &a, 5), "work_order.illegal_transition", "{a:?}");
            }
        }
    }

    #[test]
    fn escalation_only_when_overdue_one_window_per_level() {
        // 24 h SLA accepted at 0: levels due after 24, 48, 72 active hours.
        let o = in_progress();
        let e = o.apply(&Action::Escalate, t(24)).unwrap_err();
        assert_eq!(e, TransitionError::NotOverdue);
        assert_eq!(e.code(), "work_order.not_overdue");
        assert_eq!(o.next_escalation_at(t(5)), Some(t(24)));
        let (o, tr) = o.apply(&Action::Escalate, t(25)).unwrap();
        assert_eq!((tr.from, tr.to, tr.action), (o.state, o.state, "escalate"));
        assert_eq!(o.escalation_level, 1);
        assert_eq!(o.escalated_to(), Some(crate::AreaLevel::Community));
        // A second runner with the same clock gets a refusal, not a second escalation.
        assert_eq!(code(&o, &Action::Escalate, 25), "work_order.not_overdue");
        assert_eq!(code(&o, &Action::Escalate, 48), "work_order.not_overdue");
        assert_eq!(o.next_escalation_at(t(30)), Some(t(48)));
        let o = o.apply(&Action::Escalate, t(49)).unwrap().0;
        // Catching up after downtime: level 3 is due by 73 h at the latest.
        let o = o.apply(&Action::Escalate, t(80)).unwrap().0;
        assert_eq!(o.escalation_level, 3);
        assert_eq!(o.next_escalation_at(t(80)), None);
        let e = o.apply(&Action::Escalate, t(500)).unwrap_err();
        assert_eq!(e, TransitionError::EscalationMax);
        assert_eq!(e.code(), "work_order.escalation_max");
        // Escalation does not give more time.
        assert_eq!(o.deadline(t(80)), Some(t(24)));
    }

    #[test]
    fn suspension_pushes_escalation_back() {
        let o = run(
            Sla::LIFE_OR_PROPERTY,
            &[
                (0, Action::Accept),
                (
                    0,
                    Action::RequestSuspension {
                        reason: reason("suspend"),
                    },
                ),
                (1, Action::ApproveSuspension),
                (11, Action::Resume),
            ],
        );
        assert!(!o.escalation_due(t(12)));
        assert_eq!(code(&o, &Action::Escalate, 12), "work_order.not_overdue");
        assert!(o.escalation_due(t(12) + Duration::SECOND));
    }

    #[test]
    fn closed_resolved_and_reported_orders_never_escalate() {
        let resolved = in_progress().apply(&resolve(), t(3)).unwrap().0;
        let closed = resolved.apply(&close(), t(4)).unwrap().0;
        let late_resolved = in_progress().apply(&resolve(), t(100)).unwrap().0;
        let reported = WorkOrder::report(Priority::Urgent, Sla::LIFE_OR_PROPERTY, T0);
        for o in [&resolved, &closed, &late_resolved, &reported] {
            assert_eq!(
                code(o, &Action::Escalate, 1000),
                "work_order.illegal_transition"
            );
            assert!(!o.escalation_due(t(1000)));
        }
        assert!(late_resolved.handled_overdue());
        assert!(!late_resolved.overdue_and_open(t(1000)));
    }

    #[test]
    fn metrics_from_orders() {
        let on_time = in_progress()
            .apply(&resolve(), t(20))
            .unwrap()
            .0
            .apply(
                &Action::Close {
                    satisfaction: Satisfaction::Dissatisfied,
                    follow_up_done: false,
                },
                t(40),
            )
            .unwrap()
            .0;
        assert_eq!(
            on_time.metrics(t(40)),
            super::super::OrderMetrics {
                handled_on_time: true,
                ..Default::default()
            }
        );
        assert!(!on_time.follow_up_done);
        let open_late = in_progress();
        let m = open_late.metrics(t(30));
        assert!(m.overdue_and_open && !m.handled_on_time && !m.handled_overdue);
        assert!(!open_late.metrics(t(20)).overdue_and_open);
    }

    /// Property tests: random action sequences with non-decreasing times, illegal ones skipped,
    /// checked against an independent model of the clock.
    mod props {
        use super::*;
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;

        fn action() -> impl Strategy<Value = Action> {
            let unit = prop::sample::select(vec!["甲", "乙", "丙"]).prop_map(String::from);
            let satisfaction = prop::sample::select(Satisfaction::ALL.to_vec());
            prop_oneof![
                3 => Just(Action::Accept),
                3 => unit.clone().prop_map(|unit| Action::Dispatch { unit }),
                3 => Just(Action::Start),
                3 => Just(Action::Resolve { note: "n".into() }),
                2 => (satisfaction, any::<bool>()).prop_map(|(satisfaction, follow_up_done)| {
                    Action::Close { satisfaction, follow_up_done }
                }),
                1 => Just(Action::Reject { reason: "r".into() }),
                1 => Just(Action::Return { reason: "r".into() }),
                1 => unit.prop_map(|unit| Action::Reassign { unit }),
                2 => Just(Action::Reopen { reason: "r".into() }),
                2 => Just(Action::RequestSuspension { reason: "r".into() }),
                2 => Just(Action::ApproveSuspension),
                1 => Just(Action::DenySuspension),
                2 => Just(Action::Resume),
                2 => (-2i64..80).prop_map(|hours| Action::RequestExtension {
                    by: Duration::hours(hours),
                    reason: "r".into(),
                }),
                2 => Just(Action::ApproveExtension),
                1 => Just(Action::DenyExtension),
                4 => Just(Action::Escalate),
            ]
        }

        /// Minutes to wait before the step: often none, sometimes days.
        fn gap() -> impl Strategy<Value = i64> {
            prop_oneof![Just(0i64), 0i64..180, 0i64..(5 * 24 * 60)]
        }

        fn sla() -> impl Strategy<Value = Sla> {
            prop::sample::select(vec![Sla::LIFE_OR_PROPERTY, Sla::UTILITIES, Sla::GENERAL])
        }

        fn scenario() -> impl Strategy<Value = (Sla, Vec<(i64, Action)>, i64)> {
            (
                sla(),
                prop::collection::vec((gap(), action()), 1..80),
                gap(),
            )
        }

        /// What the clock should say, rebuilt from the timeline alone.
        #[derive(Default)]
        struct Model {
            accepted_at: Option<OffsetDateTime>,
            suspended: Duration,
            suspended_since: Option<OffsetDateTime>,
            stopped: Duration,
            stopped_since: Option<OffsetDateTime>,
            extensions: Duration,
            requested_by: Option<Duration>,
            reopens: u32,
        }

        impl Model {
            fn record(&mut self, action: &Action, tr: &Transition, at: OffsetDateTime) {
                if tr.lapsed.is_some() {
                    self.requested_by = None;
                }
                match action {
                    Action::Accept => self.accepted_at = Some(at),
                    Action::ApproveSuspension => self.suspended_since = Some(at),
                    Action::Resume => {
                        self.suspended += at - self.suspended_since.take().unwrap();
                    }
                    Action::Resolve { .. } | Action::Reject { .. } => {
                        self.stopped_since = Some(at);
                    }
                    Action::Reopen { .. } => {
                        self.stopped += at - self.stopped_since.take().unwrap();
                        self.reopens += 1;
                    }
                    Action::RequestExtension { by, .. } => self.requested_by = Some(*by),
                    Action::ApproveExtension => {
                        self.extensions += self.requested_by.take().unwrap();
                    }
                    Action::DenyExtension => self.requested_by = None,
                    _ => {}
                }
            }

            fn open_suspension(&self, at: OffsetDateTime) -> Duration {
                self.suspended_since.map_or(Duration::ZERO, |s| at - s)
            }

            fn active_elapsed(&self, at: OffsetDateTime) -> Duration {
                let Some(start) = self.accepted_at else {
                    return Duration::ZERO;
                };
                let open_stop = self.stopped_since.map_or(Duration::ZERO, |s| at - s);
                (at - start) - self.suspended - self.open_suspension(at) - self.stopped - open_stop
            }

            fn deadline(&self, sla: Sla, at: OffsetDateTime) -> Option<OffsetDateTime> {
                let start = self.accepted_at?;
                Some(
                    start
                        + sla.duration()
                        + self.extensions
                        + self.suspended
                        + self.open_suspension(at)
                        + self.stopped,
                )
            }
        }

        /// Runs one scenario, checking every invariant; returns the kinds that succeeded.
        fn check_scenario(
            sla: Sla,
            steps: &[(i64, Action)],
            probe_gap: i64,
        ) -> Result<Vec<&'static str>, TestCaseError> {
            let mut o = WorkOrder::report(Priority::Normal, sla, T0);
            let mut model = Model::default();
            let mut at = T0;
            let mut done = Vec::new();
            let mut last_elapsed = Duration::ZERO;
            for (gap, action) in steps {
                at += Duration::minutes(*gap);
                let before = o.clone();
                let was_overdue = o.is_overdue(at);
                let deadline_before = o.deadline(at);
                match o.apply(action, at) {
                    Err(e) => {
                        prop_assert_eq!(&o, &before, "a refused action changes nothing");
                        prop_assert!(!e.code().is_empty());
                        if matches!(o.state, WorkOrderState::Closed | WorkOrderState::Rejected)
                            && *action == Action::Escalate
                        {
                            prop_assert_eq!(e.code(), "work_order.illegal_transition");
                        }
                    }
                    Ok((next, tr)) => {
                        prop_assert_eq!(tr.from, before.state);
                        prop_assert_eq!(tr.to, next.state);
                        prop_assert_eq!(tr.action, action.kind().as_str());
                        prop_assert!(
                            !matches!(
                                before.state,
                                WorkOrderState::Closed | WorkOrderState::Rejected
                            ) || *action != Action::Escalate,
                            "a closed or rejected order never escalates"
                        );
                        if next.escalation_level != before.escalation_level {
                            prop_assert_eq!(action, &Action::Escalate);
                            prop_assert_eq!(next.escalation_level, before.escalation_level + 1);
                            prop_assert!(was_overdue, "escalated while not overdue");
                        }
                        model.record(action, &tr, at);
                        // At the instant of a step the deadline moves only by an approved
                        // extension or by the stop a reopen gives back.
                        let moved = match (deadline_before, next.deadline(at)) {
                            (Some(b), Some(a)) => a - b,
                            _ => Duration::ZERO,
                        };
                        let expected_move = match action {
                            Action::ApproveExtension => next.extended_total - before.extended_total,
                            Action::Reopen { .. } => next.stopped_total - before.stopped_total,
                            _ => Duration::ZERO,
                        };
                        prop_assert_eq!(moved, expected_move, "{:?}", action);
                        done.push(tr.action);
                        o = next;
                    }
                }
                prop_assert_eq!(o.check(), Ok(()));
                prop_assert!(WorkOrderState::ALL.contains(&o.state));
                prop_assert!(o.escalation_level <= 3);
                prop_assert!(
                    o.active_elapsed(at) >= last_elapsed,
                    "active time never runs back"
                );
                last_elapsed = o.active_elapsed(at);
                // The clock agrees with the model now and at a later probe.
                for probe in [at, at + Duration::minutes(probe_gap)] {
                    prop_assert_eq!(o.active_elapsed(probe), model.active_elapsed(probe));
                    prop_assert_eq!(o.deadline(probe), model.deadline(sla, probe));
                    prop_assert_eq!(o.remaining(probe), o.allowance() - o.active_elapsed(probe));
                    prop_assert_eq!(o.allowance(), sla.duration() + model.extensions);
                    prop_assert_eq!(
                        o.is_overdue(probe),
                        o.accepted_at.is_some() && o.remaining(probe).is_negative()
                    );
                    if o.clock_running() {
                        prop_assert_eq!(o.deadline(probe), Some(probe + o.remaining(probe)));
                    }
                    if matches!(
                        o.state,
                        WorkOrderState::Closed
                            | WorkOrderState::Rejected
                            | WorkOrderState::Suspended
                            | WorkOrderState::Resolved
                    ) {
                        prop_assert!(o.apply(&Action::Escalate, probe).is_err());
                        prop_assert!(!o.escalation_due(probe));
                    }
                }
                prop_assert_eq!(o.rework_count, model.reopens);
            }
            Ok(done)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn any_sequence_keeps_the_clock_consistent((sla, steps, probe) in scenario()) {
                check_scenario(sla, &steps, probe)?;
            }

            #[test]
            fn escalation_is_idempotent_at_one_instant((sla, steps, _) in scenario()) {
                // Two runners deciding on the same snapshot at the same time: if both would
                // escalate, the second application (on the first's result) must be a new level
                // that is itself due, never a repeat of the same level.
                let mut o = WorkOrder::report(Priority::Normal, sla, T0);
                let mut at = T0;
                for (gap, action) in &steps {
                    at += Duration::minutes(*gap);
                    if let Ok((n, _)) = o.apply(action, at) { o = n; }
                    if let Ok((n, _)) = o.apply(&Action::Escalate, at) {
                        prop_assert_eq!(n.escalation_level, o.escalation_level + 1);
                        let threshold = o.allowance()
                            + o.sla.duration() * i32::from(o.escalation_level);
                        prop_assert!(o.active_elapsed(at) > threshold);
                    }
                }
            }
        }

        /// The generator reaches every action and deep states, so the properties are not vacuous.
        #[test]
        fn generated_sequences_cover_every_action() {
            let mut runner = TestRunner::deterministic();
            let mut seen = std::collections::BTreeSet::new();
            let mut max_level = 0;
            for _ in 0..400 {
                let (sla, steps, probe) = scenario().new_tree(&mut runner).unwrap().current();
                seen.extend(check_scenario(sla, &steps, probe).unwrap());
                let mut o = WorkOrder::report(Priority::Normal, sla, T0);
                let mut at = T0;
                for (gap, action) in &steps {
                    at += Duration::minutes(*gap);
                    if let Ok((n, _)) = o.apply(action, at) {
                        o = n;
                    }
                }
                max_level = max_level.max(o.escalation_level);
            }
            let missing: Vec<_> = ActionKind::ALL
                .iter()
                .map(ActionKind::as_str)
                .filter(|k| !seen.contains(k))
                .collect();
            assert!(missing.is_empty(), "never succeeded: {missing:?}");
            assert!(max_level >= 2, "escalation levels reached: {max_level}");
        }
    }
}
