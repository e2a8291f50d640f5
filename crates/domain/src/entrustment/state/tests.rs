use super::*;
use crate::entrustment::fixtures::*;
use crate::entrustment::{HolderKind, KeyAction, KeyEvent, NamedStaff, Witness};
use proptest::prelude::*;
use time::macros::datetime;

use EntrustmentParty::{Resident, Staff, System};
use EntrustmentStep as T;

/// A custody with the key in the grid worker's hands.
fn key_held(e: &Entrustment) -> Custody {
    let received = KeyEvent::new(KeyAction::ReceivedFromResident, START, WORKER)
        .with_witness(Witness::Resident);
    Custody::new().apply(e, &received).unwrap()
}

#[test]
fn states_and_steps_round_trip() {
    for s in EntrustmentState::ALL {
        assert_eq!(EntrustmentState::parse(s.as_str()).unwrap(), s);
        assert_eq!(EntrustmentState::parse(s.name_zh()).unwrap(), s);
        assert!(!s.name_en().is_empty());
        assert_eq!(
            s.is_final(),
            !s.is_pending() && s != EntrustmentState::Active
        );
    }
    assert_eq!(
        EntrustmentState::parse("paused").unwrap_err().code(),
        "entrustment_state.invalid"
    );
    for s in EntrustmentStep::ALL {
        assert_eq!(EntrustmentStep::parse(s.as_str()), Some(s));
    }
    assert_eq!(EntrustmentStep::parse("extend"), None);
}

#[test]
fn a_staff_proposal_is_confirmed_then_completed() {
    let e = Entrustment::propose(terms(ALL_ACTS), PROPOSED).unwrap();
    assert_eq!(e.state, EntrustmentState::AwaitingConfirmation);
    assert!(!e.in_consent(START));
    let e = e
        .apply(T::Confirm, Resident, CONFIRMED, &Custody::new())
        .unwrap();
    assert_eq!(e.state, EntrustmentState::Active);
    assert_eq!(e.confirmed_at, Some(CONFIRMED));
    let done_at = datetime!(2026-11-13 19:00 +08:00);
    let e = e
        .apply(T::Complete, Resident, done_at, &Custody::new())
        .unwrap();
    assert_eq!(e.state, EntrustmentState::Completed);
    assert_eq!(e.ended_at, Some(done_at));
    assert_eq!(e.effective_end(), done_at);
    assert_eq!(e.check(), Ok(()));
}

#[test]
fn a_residents_request_needs_named_staff_and_a_confirmation() {
    let mut t = terms(ALL_ACTS);
    t.staff = NamedStaff::default();
    let e = Entrustment::request(t.clone(), PROPOSED).unwrap();
    assert_eq!(e.state, EntrustmentState::Requested);
    let no_staff = e
        .apply(T::Take, Staff, PROPOSED, &Custody::new())
        .unwrap_err();
    assert_eq!(no_staff.code(), "entrustment.no_staff");
    assert_eq!(
        Entrustment::propose(t.clone(), PROPOSED).unwrap_err(),
        EntrustmentError::NoStaff
    );
    t.staff = NamedStaff::new([WORKER]).unwrap();
    let e = e.amend(t, Staff, PROPOSED).unwrap();
    let e = e.apply(T::Take, Staff, PROPOSED, &Custody::new()).unwrap();
    assert_eq!(e.state, EntrustmentState::AwaitingConfirmation);
    let e = e
        .apply(T::Confirm, Resident, CONFIRMED, &Custody::new())
        .unwrap();
    assert_eq!(e.state, EntrustmentState::Active);
}

#[test]
fn each_step_belongs_to_one_party() {
    let e = Entrustment::propose(terms(ALL_ACTS), PROPOSED).unwrap();
    let err = e
        .apply(T::Confirm, Staff, CONFIRMED, &Custody::new())
        .unwrap_err();
    assert_eq!(err, EntrustmentError::WrongParty { step: T::Confirm });
    assert_eq!(err.code(), "entrustment.wrong_party");
    assert_eq!(err.message_zh(), "只有居民本人可以确认委托");
    let err = e.apply(T::Cancel, Resident, CONFIRMED, &Custody::new());
    assert_eq!(
        err.unwrap_err().message_en(),
        "Only staff can cancel the entrustment"
    );
    assert_eq!(
        e.apply(T::Expire, Staff, END, &Custody::new())
            .unwrap_err()
            .message_zh(),
        "委托到期由系统自动结束"
    );
}

#[test]
fn illegal_steps_name_the_state() {
    let e = active(ALL_ACTS);
    let err = e
        .apply(T::Confirm, Resident, START, &Custody::new())
        .unwrap_err();
    assert_eq!(err.code(), "entrustment.illegal_transition");
    assert_eq!(err.message_zh(), "委托当前状态为「生效中」，不能确认委托");
    assert_eq!(
        err.message_en(),
        "The entrustment is active; it cannot confirm"
    );
    // The state decides before the party: nobody cancels an entrustment in force.
    assert_eq!(
        e.apply(T::Cancel, Resident, START, &Custody::new()),
        Err(EntrustmentError::Illegal {
            state: EntrustmentState::Active,
            step: T::Cancel
        })
    );
}

#[test]
fn steps_never_go_back_in_time() {
    let e = active(ALL_ACTS);
    let err = e
        .apply(T::Revoke, Resident, PROPOSED, &Custody::new())
        .unwrap_err();
    assert_eq!(err.code(), "entrustment.time_order");
    let pending = Entrustment::propose(terms(ALL_ACTS), CONFIRMED).unwrap();
    assert_eq!(
        pending.amend(terms(ALL_ACTS), Staff, PROPOSED),
        Err(EntrustmentError::TimeOrder)
    );
}

#[test]
fn the_period_bounds_creation_confirmation_and_expiry() {
    assert_eq!(
        Entrustment::propose(terms(ALL_ACTS), END)
            .unwrap_err()
            .code(),
        "entrustment.period_over"
    );
    let e = Entrustment::propose(terms(ALL_ACTS), PROPOSED).unwrap();
    assert_eq!(
        e.apply(T::Confirm, Resident, END, &Custody::new()),
        Err(EntrustmentError::PeriodOver)
    );
    let e = active(ALL_ACTS);
    let early = e.apply(T::Expire, System, END - Duration::SECOND, &Custody::new());
    assert_eq!(early.unwrap_err().code(), "entrustment.not_over");
    // Expiry does not care where the key is: the overdue rule takes it from there.
    let late = datetime!(2026-11-14 00:01 +08:00);
    let expired = e.apply(T::Expire, System, late, &key_held(&e)).unwrap();
    assert_eq!(expired.state, EntrustmentState::Expired);
    assert_eq!(expired.effective_end(), END);
    assert_eq!(expired.check(), Ok(()));
}

#[test]
fn completion_needs_the_key_back() {
    let e = active(ALL_ACTS);
    let err = e
        .apply(T::Complete, Resident, START, &key_held(&e))
        .unwrap_err();
    assert_eq!(
        err,
        EntrustmentError::KeyOut {
            holder: HolderKind::Staff
        }
    );
    assert_eq!(err.code(), "entrustment.key_out");
    assert_eq!(
        err.message_zh(),
        "钥匙在工作人员手中，归还居民后才能确认完成"
    );
}

#[test]
fn confirmed_terms_cannot_change() {
    let e = active(ALL_ACTS);
    let err = e.amend(terms(ALL_ACTS), Staff, START).unwrap_err();
    assert_eq!(err.code(), "entrustment.not_amendable");
    let pending = Entrustment::propose(terms(ALL_ACTS), PROPOSED).unwrap();
    assert_eq!(
        pending
            .amend(terms(ALL_ACTS), Resident, PROPOSED)
            .unwrap_err()
            .code(),
        "entrustment.not_staff"
    );
}

#[test]
fn consent_runs_from_confirmation_and_lead_to_the_end_or_revocation() {
    let e = active(&[EntrustedAct::HoldKey]);
    assert!(!e.in_consent(START - HANDOVER_LEAD - Duration::SECOND));
    assert!(e.in_consent(START - HANDOVER_LEAD));
    assert!(e.in_consent(END - Duration::SECOND));
    assert!(!e.in_consent(END));
    assert!(e.permits(EntrustedAct::HoldKey, START));
    assert!(!e.permits(EntrustedAct::TakePhotos, START));
    // A confirmation within the lead moves the start to the confirmation.
    let late_confirm = datetime!(2026-11-10 20:00 +08:00);
    let e2 = Entrustment::propose(terms(ALL_ACTS), PROPOSED)
        .unwrap()
        .apply(T::Confirm, Resident, late_confirm, &Custody::new())
        .unwrap();
    assert!(!e2.in_consent(late_confirm - Duration::SECOND));
    assert!(e2.in_consent(late_confirm));
    let revoked_at = datetime!(2026-11-12 09:00 +08:00);
    let revoked = e
        .apply(T::Revoke, Resident, revoked_at, &key_held(&e))
        .unwrap();
    assert_eq!(revoked.effective_end(), revoked_at);
    assert!(revoked.in_consent(revoked_at - Duration::SECOND));
    assert!(!revoked.in_consent(revoked_at));
}

#[test]
fn pages_offer_what_each_party_may_do() {
    let pending = Entrustment::propose(terms(ALL_ACTS), PROPOSED).unwrap();
    let none = Custody::new();
    assert_eq!(
        pending.steps_for(Resident, CONFIRMED, &none),
        [T::Confirm, T::Revoke]
    );
    assert_eq!(pending.steps_for(Staff, CONFIRMED, &none), [T::Cancel]);
    assert_eq!(pending.steps_for(System, END, &none), [T::Expire]);
    let e = active(ALL_ACTS);
    assert_eq!(e.steps_for(Resident, START, &key_held(&e)), [T::Revoke]);
    assert_eq!(
        e.steps_for(Resident, START, &none),
        [T::Complete, T::Revoke]
    );
    assert!(e.steps_for(Staff, START, &none).is_empty());
}

#[test]
fn incoherent_rows_are_named() {
    let e = active(ALL_ACTS);
    assert_eq!(e.check(), Ok(()));
    let mut bad = e.clone();
    bad.confirmed_at = None;
    assert_eq!(bad.check(), Err("confirmed_at set once active"));
    let mut bad = e.clone();
    bad.ended_at = Some(END);
    assert_eq!(bad.check(), Err("ended_at set exactly in a final state"));
    let mut bad = e.clone();
    bad.terms.staff = NamedStaff::default();
    assert_eq!(bad.check(), Err("named staff once taken on"));
    let mut bad = e;
    bad.last_at = PROPOSED - Duration::DAY;
    assert!(bad.check().is_err());
}

fn step() -> impl Strategy<Value = EntrustmentStep> {
    prop::sample::select(EntrustmentStep::ALL.to_vec())
}

fn party() -> impl Strategy<Value = EntrustmentParty> {
    prop::sample::select(vec![Resident, Staff, System])
}

proptest! {
    /// Any sequence of attempts, from a request or a proposal, with or without the key out:
    /// a final state never changes, every change is made by the step's party, the row stays
    /// coherent, consent never starts before the confirmation, and refusals name the state.
    #[test]
    fn final_states_stay_final(
        from_request in any::<bool>(),
        steps in prop::collection::vec((step(), party(), 0i64..(30 * 60), any::<bool>()), 0..16),
    ) {
        let t = terms(ALL_ACTS);
        let mut e = if from_request {
            Entrustment::request(t, PROPOSED).unwrap()
        } else {
            Entrustment::propose(t, PROPOSED).unwrap()
        };
        let mut at = PROPOSED;
        for (step, party, minutes, key_out) in steps {
            at += Duration::minutes(5 * minutes);
            let custody = if key_out && e.in_consent(START) { key_held(&e) } else { Custody::new() };
            match e.apply(step, party, at, &custody) {
                Ok(next) => {
                    prop_assert!(!e.state.is_final(), "{:?} changed to {:?}", e.state, next.state);
                    prop_assert_eq!(step.by(), party);
                    prop_assert_ne!(next.state, e.state);
                    prop_assert_eq!(&next.terms, &e.terms);
                    e = next;
                }
                Err(EntrustmentError::Illegal { state, .. }) => prop_assert_eq!(state, e.state),
                Err(_) => prop_assert!(!e.state.is_final()),
            }
            prop_assert_eq!(e.check(), Ok(()));
            if let Some(c) = e.confirmed_at {
                prop_assert!(!e.in_consent(c - Duration::SECOND));
            } else {
                prop_assert!(!e.in_consent(START));
            }
        }
    }
}
