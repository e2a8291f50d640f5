//! Property tests: random event sequences (most of them nonsense: wrong holder, wrong person,
//! wrong witness, out of order, out of consent) folded under random entrustments, each accepted
//! event checked against the custody rules restated independently here.

use super::*;
use crate::entrustment::fixtures::*;
use crate::entrustment::{EntrustmentParty, EntrustmentStep, PhotoDigest};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::HashSet;
use time::Duration;

use KeyActionKind as K;

/// Events start 16 hours before the period: some of them before the hand-over lead.
fn first_at() -> OffsetDateTime {
    START - Duration::hours(16)
}

#[derive(Debug, Clone)]
enum Pick {
    Received,
    Stored(&'static str),
    Taken,
    /// Expected return this many hours after the lend (sometimes before it, or past the end).
    Lent(i64),
    BackToCustody,
    BackToResident,
    Lost,
    Correction(u32),
}

#[derive(Debug, Clone)]
enum WitnessPick {
    /// The witness the event calls for, or none: keeps many sequences going.
    Fitting,
    Given(Witness),
    Without,
}

#[derive(Debug, Clone)]
struct Step {
    gap_minutes: i64,
    pick: Pick,
    actor: StaffId,
    witness: WitnessPick,
    photo: bool,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => Just(Pick::Received),
        3 => prop::sample::select(vec!["A-01", "B-12"]).prop_map(Pick::Stored),
        3 => Just(Pick::Taken),
        3 => (-2i64..90).prop_map(Pick::Lent),
        3 => Just(Pick::BackToCustody),
        2 => Just(Pick::BackToResident),
        1 => Just(Pick::Lost),
        1 => (0u32..10).prop_map(Pick::Correction),
    ]
}

fn witness() -> impl Strategy<Value = WitnessPick> {
    let any_witness = prop::sample::select(vec![
        Witness::Resident,
        Witness::Contractor,
        Witness::Colleague(WORKER),
        Witness::Colleague(COLLEAGUE),
        Witness::Colleague(MANAGER),
    ]);
    prop_oneof![
        6 => Just(WitnessPick::Fitting),
        2 => any_witness.prop_map(WitnessPick::Given),
        1 => Just(WitnessPick::Without),
    ]
}

/// Minutes to wait before the step: often none, sometimes a day, now and then backwards.
fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(0i64),
        4 => 0i64..240,
        2 => 0i64..(24 * 60),
        1 => -180i64..0,
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let actor = prop::sample::select(vec![WORKER, WORKER, COLLEAGUE, MANAGER]);
    (gap(), pick(), actor, witness(), any::<bool>()).prop_map(
        |(gap_minutes, pick, actor, witness, photo)| Step {
            gap_minutes,
            pick,
            actor,
            witness,
            photo,
        },
    )
}

/// What the resident allowed, and whether (and how many hours after the first event) they
/// revoked it.
fn scenario() -> impl Strategy<Value = (Vec<EntrustedAct>, Option<i64>, Vec<Step>)> {
    let acts = prop::sample::select(vec![
        EntrustedAct::ALL.to_vec(),
        vec![EntrustedAct::HoldKey, EntrustedAct::LetContractorsIn],
        vec![EntrustedAct::HoldKey],
        vec![EntrustedAct::LetContractorsIn, EntrustedAct::TakePhotos],
    ]);
    let revoked = prop::option::weighted(0.25, 0i64..80);
    (acts, revoked, prop::collection::vec(step(), 1..60))
}

fn entrustment(acts: &[EntrustedAct], revoked_after: Option<i64>) -> Entrustment {
    let e = active(acts);
    match revoked_after {
        None => e,
        Some(h) => e
            .apply(
                EntrustmentStep::Revoke,
                EntrustmentParty::Resident,
                first_at() + Duration::hours(h),
                &Custody::new(),
            )
            .unwrap(),
    }
}

fn event(step: &Step, at: OffsetDateTime, before: &Custody) -> KeyEvent {
    let action = match step.pick {
        Pick::Received => KeyAction::ReceivedFromResident,
        Pick::Stored(s) => KeyAction::Stored { slot: slot(s) },
        Pick::Taken => KeyAction::TakenFromCabinet,
        Pick::Lent(hours) => {
            KeyAction::LentToContractor(lend(at + Duration::hours(hours), step.actor))
        }
        Pick::BackToCustody => KeyAction::ReturnedToCustody,
        Pick::BackToResident => KeyAction::ReturnedToResident,
        Pick::Lost => KeyAction::Lost {
            note: note("遗失")
        },
        Pick::Correction(of) => KeyAction::Correction {
            of,
            note: note("更正"),
        },
    };
    let fitting = before.counterparty(action.kind());
    let mut e = KeyEvent::new(action, at, step.actor);
    match &step.witness {
        WitnessPick::Fitting => {
            if let Some(w) = fitting {
                e = e.with_witness(w);
            }
        }
        WitnessPick::Given(w) => e = e.with_witness(*w),
        WitnessPick::Without => {}
    }
    if step.photo {
        e = e.with_photo(PhotoDigest::parse(&"ab".repeat(32)).unwrap());
    }
    e
}

/// Where an event may start, restated from the issue: one holder, moved from where it is; lent
/// and given back only from custody.
fn may_start_from(kind: K, holder: &KeyHolder) -> bool {
    use KeyHolder as H;
    match kind {
        K::ReceivedFromResident => *holder == H::NotYet,
        K::Stored => matches!(holder, H::Staff(_)),
        K::TakenFromCabinet => matches!(holder, H::Cabinet(_)),
        K::LentToContractor | K::ReturnedToResident => holder.in_custody(),
        K::ReturnedToCustody => matches!(holder, H::Contractor(_) | H::Lost),
        K::Lost => holder.is_out(),
        K::Correction => true,
    }
}

/// Where an accepted event leaves the key.
fn lands_at(event: &KeyEvent, before: &KeyHolder) -> KeyHolder {
    match event.action() {
        KeyAction::ReceivedFromResident
        | KeyAction::TakenFromCabinet
        | KeyAction::ReturnedToCustody => KeyHolder::Staff(event.actor()),
        KeyAction::Stored { slot } => KeyHolder::Cabinet(slot.clone()),
        KeyAction::LentToContractor(l) => KeyHolder::Contractor(l.clone()),
        KeyAction::ReturnedToResident => KeyHolder::Resident,
        KeyAction::Lost { .. } => KeyHolder::Lost,
        KeyAction::Correction { .. } => before.clone(),
    }
}

/// Folds one scenario checking every rule; returns the kinds accepted and the codes refused.
fn check_scenario(
    acts: &[EntrustedAct],
    revoked_after: Option<i64>,
    steps: &[Step],
) -> Result<(Vec<K>, Vec<&'static str>), TestCaseError> {
    let e = entrustment(acts, revoked_after);
    let mut c = Custody::new();
    let mut at = first_at();
    let mut accepted = Vec::new();
    let mut states = vec![c.clone()];
    let (mut kinds, mut codes) = (Vec::new(), Vec::new());
    for step in steps {
        at += Duration::minutes(step.gap_minutes);
        let ev = event(step, at, &c);
        let kind = ev.action().kind();
        let before_time = c.last_at().is_some_and(|last| ev.at() < last);
        match c.apply(&e, &ev) {
            Err(err) => {
                codes.push(err.code());
                if before_time {
                    prop_assert_eq!(err, CustodyError::TimeOrder);
                } else if c.is_ended() && kind != K::Correction {
                    prop_assert_eq!(err, CustodyError::Ended);
                } else if !may_start_from(kind, c.holder()) {
                    prop_assert!(matches!(err, CustodyError::Illegal { .. }), "{:?}", err);
                }
            }
            Ok(next) => {
                prop_assert!(!before_time, "accepted out of time order");
                prop_assert!(
                    !c.is_ended() || kind == K::Correction,
                    "accepted after return"
                );
                prop_assert!(
                    may_start_from(kind, c.holder()),
                    "{:?} from {:?}",
                    kind,
                    c.holder()
                );
                if kind == K::LentToContractor {
                    prop_assert!(c.holder().in_custody(), "lent from outside custody");
                }
                prop_assert_eq!(next.holder(), &lands_at(&ev, c.holder()));
                if let KeyHolder::Staff(s) = c.holder()
                    && kind.touches_key()
                {
                    prop_assert_eq!(*s, ev.actor(), "moved from another's hands");
                }
                if kind.touches_key() {
                    prop_assert!(e.terms.staff.contains(ev.actor()));
                }
                if matches!(kind, K::ReceivedFromResident | K::LentToContractor) {
                    prop_assert!(e.in_consent(ev.at()), "acted outside consent");
                }
                if kind == K::LentToContractor {
                    prop_assert!(e.terms.permissions.contains(EntrustedAct::LetContractorsIn));
                }
                if c.counterparty(kind).is_some() {
                    prop_assert!(ev.witness().is_some(), "unconfirmed hand-over");
                }
                if let Some(Witness::Colleague(w)) = ev.witness() {
                    prop_assert_ne!(w, ev.actor());
                }
                prop_assert_eq!(next.next_seq(), c.next_seq() + 1);
                prop_assert_eq!(next.last_at(), Some(ev.at()));
                kinds.push(kind);
                accepted.push(ev);
                c = next;
                states.push(c.clone());
            }
        }
        // A key that is not out is never overdue; one that is, is overdue after the end.
        let later = e.effective_end() + Duration::DAY;
        prop_assert_eq!(c.is_overdue(&e, later), c.holder().is_out());
    }
    // Determinism: folding the accepted events again gives every intermediate state.
    for (n, state) in states.iter().enumerate() {
        prop_assert_eq!(&Custody::replay(&e, &accepted[..n]).unwrap(), state);
    }
    Ok((kinds, codes))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_sequence_keeps_one_holder_and_the_rules((acts, revoked, steps) in scenario()) {
        check_scenario(&acts, revoked, &steps)?;
    }

    /// Refused events in between change nothing: the accepted ones alone fold to the same state.
    #[test]
    fn refused_events_leave_no_trace((acts, revoked, steps) in scenario()) {
        let e = entrustment(&acts, revoked);
        let mut c = Custody::new();
        let mut accepted = Vec::new();
        let mut at = first_at();
        for step in &steps {
            at += Duration::minutes(step.gap_minutes);
            let ev = event(step, at, &c);
            if let Ok(next) = c.apply(&e, &ev) {
                c = next;
                accepted.push(ev);
            }
        }
        let again = accepted.iter().try_fold(Custody::new(), |c, ev| c.apply(&e, ev));
        prop_assert_eq!(again, Ok(c));
    }
}

/// The generator reaches every event and the main refusals, so the properties are not vacuous.
#[test]
fn generated_sequences_cover_every_event_and_refusal() {
    let mut runner = TestRunner::deterministic();
    let (mut kinds, mut codes) = (HashSet::new(), HashSet::new());
    for _ in 0..400 {
        let (acts, revoked, steps) = scenario().new_tree(&mut runner).unwrap().current();
        let (k, c) = check_scenario(&acts, revoked, &steps).unwrap();
        kinds.extend(k);
        codes.extend(c);
    }
    let missing: Vec<_> = K::ALL.iter().filter(|k| !kinds.contains(k)).collect();
    assert!(missing.is_empty(), "never accepted: {missing:?}");
    for code in [
        "custody.time_order",
        "custody.ended",
        "custody.illegal",
        "custody.not_holder",
        "custody.not_named",
        "custody.not_permitted",
        "custody.outside_consent",
        "custody.expected_return",
        "custody.witness_required",
        "custody.witness_kind",
        "custody.witness_is_actor",
        "custody.correction_target",
    ] {
        assert!(codes.contains(code), "never refused with {code}");
    }
}
