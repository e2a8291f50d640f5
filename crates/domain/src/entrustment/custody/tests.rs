use super::*;
use crate::entrustment::fixtures::*;
use crate::entrustment::{EntrustmentParty, EntrustmentStep, HolderKind};
use time::Duration;
use time::macros::datetime;

use KeyActionKind as K;

const DAY1: OffsetDateTime = datetime!(2026-11-11 08:00 +08:00);

fn at(hours: i64) -> OffsetDateTime {
    DAY1 + Duration::hours(hours)
}

fn ev(action: KeyAction, hours: i64, actor: StaffId) -> KeyEvent {
    KeyEvent::new(action, at(hours), actor)
}

fn received(hours: i64) -> KeyEvent {
    ev(KeyAction::ReceivedFromResident, hours, WORKER).with_witness(Witness::Resident)
}

fn lent(hours: i64, back_hours: i64) -> KeyEvent {
    ev(
        KeyAction::LentToContractor(lend(at(back_hours), WORKER)),
        hours,
        WORKER,
    )
    .with_witness(Witness::Contractor)
}

/// Applies the events in order, panicking on the first refusal.
fn chain(e: &Entrustment, events: &[KeyEvent]) -> Custody {
    Custody::replay(e, events).unwrap()
}

fn refusal(e: &Entrustment, before: &[KeyEvent], event: &KeyEvent) -> CustodyError {
    chain(e, before).apply(e, event).unwrap_err()
}

#[test]
fn w1_the_key_goes_round_and_comes_home() {
    let e = active(ALL_ACTS);
    let events = [
        received(-14),
        ev(KeyAction::Stored { slot: slot("A-03") }, -13, WORKER),
        ev(KeyAction::TakenFromCabinet, 0, COLLEAGUE),
        ev(
            KeyAction::LentToContractor(lend(at(10), COLLEAGUE)),
            1,
            COLLEAGUE,
        )
        .with_witness(Witness::Colleague(WORKER)),
        ev(KeyAction::ReturnedToCustody, 9, WORKER).with_witness(Witness::Contractor),
        ev(KeyAction::ReturnedToResident, 9, WORKER).with_witness(Witness::Resident),
        ev(
            KeyAction::Correction {
                of: 2,
                note: note("格位实为 A-04"),
            },
            10,
            MANAGER,
        ),
    ];
    let holders = [
        KeyHolder::Staff(WORKER),
        KeyHolder::Cabinet(slot("A-03")),
        KeyHolder::Staff(COLLEAGUE),
        KeyHolder::Contractor(lend(at(10), COLLEAGUE)),
        KeyHolder::Staff(WORKER),
        KeyHolder::Resident,
        KeyHolder::Resident,
    ];
    let mut c = Custody::new();
    assert_eq!(c.next_seq(), 1);
    for (event, holder) in events.iter().zip(&holders) {
        c = c.apply(&e, event).unwrap();
        assert_eq!(c.holder(), holder, "{:?}", event.action().kind());
    }
    assert!(c.is_ended());
    assert_eq!(c.next_seq(), 8);
    assert_eq!(c.last_at(), Some(at(10)));
    assert_eq!(Custody::replay(&e, &events), Ok(c.clone()));
    let err = c.apply(&e, &received(11)).unwrap_err();
    assert_eq!(err.code(), "custody.ended");
    assert_eq!(c.offered(&e, WORKER, at(11)), [K::Correction]);
}

#[test]
fn events_keep_time_order() {
    let e = active(ALL_ACTS);
    let store = ev(KeyAction::Stored { slot: slot("A-03") }, 1, WORKER);
    let err = refusal(&e, &[received(2)], &store);
    assert_eq!(err.code(), "custody.time_order");
    assert_eq!(err.message_zh(), "时间早于该钥匙上一条记录的时间");
    // The same instant is fine.
    let store = ev(KeyAction::Stored { slot: slot("A-03") }, 2, WORKER);
    assert!(chain(&e, &[received(2)]).apply(&e, &store).is_ok());
}

#[test]
fn a_key_moves_only_from_where_it_is() {
    let e = active(ALL_ACTS);
    let err = refusal(&e, &[], &lent(0, 5));
    assert_eq!(
        err,
        CustodyError::Illegal {
            holder: HolderKind::NotYet,
            action: K::LentToContractor
        }
    );
    assert_eq!(err.code(), "custody.illegal");
    assert_eq!(err.message_zh(), "钥匙尚未交接，不能借给施工人员");
    assert_eq!(
        err.message_en(),
        "The key is not handed over yet; it cannot be lent to a contractor"
    );
    let err = refusal(&e, &[received(0), lent(1, 5)], &lent(2, 5));
    assert_eq!(
        err.message_en(),
        "The key is with a contractor; it cannot be lent to a contractor"
    );
    assert_eq!(
        refusal(&e, &[received(0)], &received(1)).code(),
        "custody.illegal"
    );
    let stored = ev(KeyAction::Stored { slot: slot("A-03") }, 1, WORKER);
    let restore = ev(KeyAction::Stored { slot: slot("A-04") }, 2, WORKER);
    assert_eq!(
        refusal(&e, &[received(0), stored], &restore).code(),
        "custody.illegal"
    );
}

#[test]
fn staff_hands_move_only_by_their_owner() {
    let e = active(ALL_ACTS);
    let store = ev(KeyAction::Stored { slot: slot("A-03") }, 1, COLLEAGUE);
    let err = refusal(&e, &[received(0)], &store);
    assert_eq!(err.code(), "custody.not_holder");
    assert!(err.message_zh().contains("持有人"));
}

#[test]
fn only_named_staff_touch_or_supervise_the_key() {
    let e = active(ALL_ACTS);
    let by_manager =
        ev(KeyAction::ReceivedFromResident, 0, MANAGER).with_witness(Witness::Resident);
    assert_eq!(refusal(&e, &[], &by_manager).code(), "custody.not_named");
    let supervised = ev(KeyAction::LentToContractor(lend(at(5), MANAGER)), 1, WORKER)
        .with_witness(Witness::Contractor);
    assert_eq!(
        refusal(&e, &[received(0)], &supervised),
        CustodyError::NotNamed
    );
    // Anyone may report a loss or correct the record.
    let lost = ev(
        KeyAction::Lost {
            note: note("钥匙串断了"),
        },
        1,
        MANAGER,
    );
    let c = chain(&e, &[received(0), lost]);
    assert_eq!(c.holder(), &KeyHolder::Lost);
}

#[test]
fn the_entrustment_must_permit_the_act() {
    let photos_only = active(&[EntrustedAct::TakePhotos]);
    let err = refusal(&photos_only, &[], &received(0));
    assert_eq!(
        err,
        CustodyError::NotPermitted {
            act: EntrustedAct::HoldKey
        }
    );
    assert_eq!(err.message_zh(), "委托中不包括「保管钥匙」");
    let key_only = active(&[EntrustedAct::HoldKey]);
    let err = refusal(&key_only, &[received(0)], &lent(1, 5));
    assert_eq!(err.code(), "custody.not_permitted");
    assert_eq!(
        err.message_en(),
        "The entrustment does not include: let contractors in"
    );
}

#[test]
fn acting_stays_inside_consent_but_a_late_key_comes_home() {
    let e = active(ALL_ACTS);
    // DAY1 is 08:00 on the first day: 20 hours before is before the 12-hour lead.
    assert_eq!(
        refusal(&e, &[], &received(-21)).code(),
        "custody.outside_consent"
    );
    assert!(Custody::new().apply(&e, &received(-20)).is_ok());
    assert_eq!(
        refusal(&e, &[], &received(64)),
        CustodyError::OutsideConsent
    );
    let pending = Entrustment::propose(terms(ALL_ACTS), PROPOSED).unwrap();
    assert_eq!(
        refusal(&pending, &[], &received(0)),
        CustodyError::OutsideConsent
    );
    // Revoked while the contractor has the key: no new lend, but it comes back, late.
    let revoked_at = at(3);
    let before = [received(0), lent(1, 8)];
    let revoked = e
        .apply(
            EntrustmentStep::Revoke,
            EntrustmentParty::Resident,
            revoked_at,
            &chain(&e, &before),
        )
        .unwrap();
    let c = chain(&revoked, &before);
    let overdue = c.overdue(&revoked, at(4)).unwrap();
    assert_eq!(overdue.kind, OverdueKind::HeldPastEnd);
    assert_eq!(overdue.since, revoked_at);
    assert_eq!(overdue.responsible, [WORKER]);
    let back = ev(KeyAction::ReturnedToCustody, 100, COLLEAGUE).with_witness(Witness::Contractor);
    let c = c.apply(&revoked, &back).unwrap();
    let relend = ev(
        KeyAction::LentToContractor(lend(at(102), COLLEAGUE)),
        101,
        COLLEAGUE,
    )
    .with_witness(Witness::Contractor);
    assert_eq!(
        refusal(&revoked, &[received(0), lent(1, 8), back.clone()], &relend),
        CustodyError::OutsideConsent
    );
    let home = ev(KeyAction::ReturnedToResident, 101, COLLEAGUE).with_witness(Witness::Resident);
    assert!(c.apply(&revoked, &home).unwrap().is_ended());
}

#[test]
fn a_lend_has_a_return_time_inside_consent() {
    let e = active(ALL_ACTS);
    assert_eq!(
        refusal(&e, &[received(0)], &lent(1, 1)).code(),
        "custody.expected_return"
    );
    // The period ends at midnight after the third day: 64 hours after DAY1.
    assert_eq!(
        refusal(&e, &[received(0)], &lent(1, 65)),
        CustodyError::ExpectedReturn
    );
    assert!(chain(&e, &[received(0)]).apply(&e, &lent(1, 64)).is_ok());
}

#[test]
fn hand_overs_between_people_are_confirmed() {
    let e = active(ALL_ACTS);
    let bare = ev(KeyAction::ReceivedFromResident, 0, WORKER);
    let err = refusal(&e, &[], &bare);
    assert_eq!(
        err,
        CustodyError::WitnessRequired {
            action: K::ReceivedFromResident
        }
    );
    assert_eq!(
        err.message_zh(),
        "「从居民处接收钥匙」需要对方确认或同事见证"
    );
    let by_colleague = bare.clone().with_witness(Witness::Colleague(MANAGER));
    assert!(Custody::new().apply(&e, &by_colleague).is_ok());
    let by_self = bare.clone().with_witness(Witness::Colleague(WORKER));
    assert_eq!(
        refusal(&e, &[], &by_self).code(),
        "custody.witness_is_actor"
    );
    let wrong = bare.with_witness(Witness::Contractor);
    assert_eq!(refusal(&e, &[], &wrong).code(), "custody.witness_kind");
    let lend_by_resident = ev(KeyAction::LentToContractor(lend(at(5), WORKER)), 1, WORKER)
        .with_witness(Witness::Resident);
    assert_eq!(
        refusal(&e, &[received(0)], &lend_by_resident),
        CustodyError::WitnessKind {
            action: K::LentToContractor
        }
    );
    let back_unconfirmed = ev(KeyAction::ReturnedToCustody, 2, WORKER);
    assert_eq!(
        refusal(&e, &[received(0), lent(1, 5)], &back_unconfirmed).code(),
        "custody.witness_required"
    );
    // Moves inside custody need nobody, and take only a colleague if anyone.
    let store = ev(KeyAction::Stored { slot: slot("B-1") }, 1, WORKER);
    assert!(chain(&e, &[received(0)]).apply(&e, &store).is_ok());
    let odd = store.with_witness(Witness::Resident);
    assert_eq!(
        refusal(&e, &[received(0)], &odd).code(),
        "custody.witness_kind"
    );
}

#[test]
fn corrections_annotate_without_moving_the_key() {
    let e = active(ALL_ACTS);
    let fix = |of| {
        ev(
            KeyAction::Correction {
                of,
                note: note("见证人记错"),
            },
            1,
            MANAGER,
        )
    };
    assert_eq!(
        refusal(&e, &[], &fix(1)).code(),
        "custody.correction_target"
    );
    assert_eq!(
        refusal(&e, &[received(0)], &fix(0)),
        CustodyError::CorrectionTarget
    );
    assert_eq!(
        refusal(&e, &[received(0)], &fix(2)),
        CustodyError::CorrectionTarget
    );
    let c = chain(&e, &[received(0), fix(1)]);
    assert_eq!(c.holder(), &KeyHolder::Staff(WORKER));
    assert_eq!(c.apply(&e, &fix(2)), Err(CustodyError::CorrectionTarget));
}

#[test]
fn a_lost_key_can_be_found() {
    let e = active(ALL_ACTS);
    let lost = ev(
        KeyAction::Lost {
            note: note("施工人员遗失"),
        },
        2,
        WORKER,
    );
    let c = chain(&e, &[received(0), lent(1, 5), lost]);
    assert_eq!(c.holder(), &KeyHolder::Lost);
    assert!(
        !c.is_overdue(&e, at(100)),
        "a lost key is a loss, not an overdue"
    );
    assert_eq!(
        c.offered(&e, WORKER, at(3)),
        [K::ReturnedToCustody, K::Correction]
    );
    // Found and handed in: no contractor to confirm it, so no witness is needed.
    let found = ev(KeyAction::ReturnedToCustody, 3, WORKER);
    assert_eq!(
        c.apply(&e, &found).unwrap().holder(),
        &KeyHolder::Staff(WORKER)
    );
}

#[test]
fn overdue_keys_name_who_must_act() {
    let e = active(ALL_ACTS);
    let held = chain(&e, &[received(0)]);
    assert_eq!(held.overdue(&e, END), None);
    let o = held.overdue(&e, END + Duration::SECOND).unwrap();
    assert_eq!((o.kind, o.since), (OverdueKind::HeldPastEnd, END));
    assert_eq!(o.responsible, [WORKER]);
    let stored = ev(KeyAction::Stored { slot: slot("A-03") }, 1, WORKER);
    let in_cabinet = chain(&e, &[received(0), stored]);
    let o = in_cabinet.overdue(&e, END + Duration::HOUR).unwrap();
    assert_eq!(o.responsible, [WORKER, COLLEAGUE]);
    let with_contractor = chain(&e, &[received(0), lent(1, 5)]);
    assert!(!with_contractor.is_overdue(&e, at(5)));
    let o = with_contractor.overdue(&e, at(6)).unwrap();
    assert_eq!((o.kind, o.since), (OverdueKind::LentPastReturn, at(5)));
    assert_eq!(o.responsible, [WORKER]);
    // Past both: the earlier lateness is the one that counts.
    let o = with_contractor.overdue(&e, END + Duration::DAY).unwrap();
    assert_eq!(o.kind, OverdueKind::LentPastReturn);
    let home = ev(KeyAction::ReturnedToResident, 1, WORKER).with_witness(Witness::Resident);
    assert!(!chain(&e, &[received(0), home]).is_overdue(&e, END + Duration::DAY));
    for k in [OverdueKind::HeldPastEnd, OverdueKind::LentPastReturn] {
        assert!(!k.as_str().is_empty() && !k.name_zh().is_empty() && !k.name_en().is_empty());
    }
}

#[test]
fn pages_offer_what_the_rules_allow() {
    let e = active(ALL_ACTS);
    let none = Custody::new();
    assert_eq!(none.offered(&e, WORKER, DAY1), [K::ReceivedFromResident]);
    assert!(none.offered(&e, MANAGER, DAY1).is_empty());
    let held = chain(&e, &[received(0)]);
    assert_eq!(
        held.offered(&e, WORKER, at(1)),
        [
            K::Stored,
            K::LentToContractor,
            K::ReturnedToResident,
            K::Lost,
            K::Correction
        ]
    );
    assert_eq!(held.offered(&e, COLLEAGUE, at(1)), [K::Lost, K::Correction]);
    // After the end nothing new goes out, but the key can still come home.
    assert_eq!(
        held.offered(&e, WORKER, END + Duration::DAY),
        [K::Stored, K::ReturnedToResident, K::Lost, K::Correction]
    );
    let key_only = active(&[EntrustedAct::HoldKey]);
    assert!(
        !chain(&key_only, &[received(0)])
            .offered(&key_only, WORKER, at(1))
            .contains(&K::LentToContractor)
    );
}

#[test]
fn replay_names_the_first_broken_event() {
    let e = active(ALL_ACTS);
    let events = [received(0), lent(1, 5), lent(2, 5)];
    assert_eq!(
        Custody::replay(&e, &events),
        Err((
            3,
            CustodyError::Illegal {
                holder: HolderKind::Contractor,
                action: K::LentToContractor
            }
        ))
    );
}

#[test]
fn every_refusal_has_a_code_and_both_messages() {
    let all = [
        CustodyError::TimeOrder,
        CustodyError::Ended,
        CustodyError::Illegal {
            holder: HolderKind::Resident,
            action: K::Stored,
        },
        CustodyError::NotHolder,
        CustodyError::NotNamed,
        CustodyError::NotPermitted {
            act: EntrustedAct::LetContractorsIn,
        },
        CustodyError::OutsideConsent,
        CustodyError::ExpectedReturn,
        CustodyError::WitnessRequired { action: K::Lost },
        CustodyError::WitnessKind { action: K::Lost },
        CustodyError::WitnessIsActor,
        CustodyError::CorrectionTarget,
    ];
    let mut codes: Vec<_> = all.iter().map(CustodyError::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    for e in all {
        assert!(e.code().starts_with("custody."));
        assert!(!e.message_zh().is_empty());
        assert_eq!(e.to_string(), e.message_en());
    }
}
