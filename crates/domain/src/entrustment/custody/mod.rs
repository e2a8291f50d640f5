//! The custody chain folded into where the key is now.
//!
//! The rules, checked in this order for every event:
//! 1. **Time order.** An event earlier than the last one is refused; equal times are fine (the
//!    key back from the contractor and straight to the resident in the same minute).
//! 2. **Nothing after the resident has the key back** except corrections: custody is over.
//! 3. **One holder, moved only from where it is.** Each event starts where the last one left the
//!    key: received only before anything else; stored only from a staff member's hands; taken
//!    only from the cabinet; lent and given back only from custody (staff hands or cabinet);
//!    returned to custody only from a contractor or after a loss (found); reported lost from
//!    anyone but the resident. A key in a staff member's hands moves only by that staff member.
//! 4. **Only named staff touch the key**, and only a named staff member supervises a lend. Losses
//!    and corrections may be recorded by any colleague.
//! 5. **Acting needs consent.** Receiving the key needs `hold_key`, lending it needs
//!    `let_contractors_in`, and both must happen inside [`Entrustment::in_consent`]: after the
//!    resident confirmed, from [`HANDOVER_LEAD`](super::HANDOVER_LEAD) before the period, until
//!    its end (or the revocation). A lend's expected return is no later than the period's end.
//!    Everything that brings the key home is accepted at any later time: refusing a late return
//!    would leave the record saying the key is still out. [`Custody::overdue`] flags it.
//! 6. **Hand-overs between people are confirmed** (see [`Witness`]): receiving from and returning
//!    to the resident by the resident or a colleague, lending to and getting back from a
//!    contractor by the contractor or a colleague; a colleague is never the actor.
//!
//! Corrections annotate an earlier, non-correction event by sequence number and leave the holder
//! as it is: the chain never changes who held the key after the fact.

mod error;

use time::OffsetDateTime;

pub use error::CustodyError;

use super::key::{CabinetSlot, Company, KeyNote};
use super::{
    EntrustedAct, Entrustment, KeyAction, KeyActionKind, KeyEvent, KeyHolder, Lend, StaffId,
    Witness,
};
use crate::name::PersonName;
use crate::phone::PhoneNumber;

/// Where the key is after the events so far. Built only by folding events with
/// [`Custody::apply`] (or [`Custody::replay`]), so holding one means the chain obeyed the rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Custody {
    holder: KeyHolder,
    /// The kind of every accepted event, at its sequence number − 1: corrections must name a
    /// real event.
    kinds: Vec<KeyActionKind>,
    last_at: Option<OffsetDateTime>,
}

impl Custody {
    /// No events yet: the resident still has the key.
    pub fn new() -> Custody {
        Custody::default()
    }

    /// Folds stored events in sequence order; the error names the first refused event's
    /// sequence number (a chain that no longer obeys the rules has been tampered with).
    pub fn replay<'a>(
        terms: &Entrustment,
        events: impl IntoIterator<Item = &'a KeyEvent>,
    ) -> Result<Custody, (u32, CustodyError)> {
        events.into_iter().try_fold(Custody::new(), |c, e| {
            c.apply(terms, e).map_err(|err| (c.next_seq(), err))
        })
    }

    pub fn holder(&self) -> &KeyHolder {
        &self.holder
    }

    /// The sequence number the next event gets; the first is 1.
    pub fn next_seq(&self) -> u32 {
        u32::try_from(self.kinds.len() + 1).expect("a key has far fewer than 2³² events")
    }

    pub fn last_at(&self) -> Option<OffsetDateTime> {
        self.last_at
    }

    /// The key is back with the resident: only corrections may follow.
    pub fn is_ended(&self) -> bool {
        self.holder == KeyHolder::Resident
    }

    /// Applies `event` under the entrustment `terms`, returning the new custody or why not.
    /// `self` is never changed: a refused event leaves the chain as it was.
    pub fn apply(&self, terms: &Entrustment, event: &KeyEvent) -> Result<Custody, CustodyError> {
        use KeyAction as A;
        use KeyHolder as H;
        let (at, actor, kind) = (event.at(), event.actor(), event.action().kind());
        if self.last_at.is_some_and(|last| at < last) {
            return Err(CustodyError::TimeOrder);
        }
        if self.is_ended() && kind != KeyActionKind::Correction {
            return Err(CustodyError::Ended);
        }
        let holder = match (event.action(), &self.holder) {
            (A::ReceivedFromResident, H::NotYet) => H::Staff(actor),
            (A::Stored { slot }, H::Staff(_)) => H::Cabinet(slot.clone()),
            (A::TakenFromCabinet, H::Cabinet(_)) => H::Staff(actor),
            (A::LentToContractor(lend), H::Staff(_) | H::Cabinet(_)) => H::Contractor(lend.clone()),
            (A::ReturnedToCustody, H::Contractor(_) | H::Lost) => H::Staff(actor),
            (A::ReturnedToResident, H::Staff(_) | H::Cabinet(_)) => H::Resident,
            (A::Lost { .. }, H::Staff(_) | H::Cabinet(_) | H::Contractor(_)) => H::Lost,
            (A::Correction { of, .. }, _) => {
                self.check_target(*of)?;
                self.holder.clone()
            }
            _ => {
                return Err(CustodyError::Illegal {
                    holder: self.holder.kind(),
                    action: kind,
                });
            }
        };
        if let H::Staff(current) = self.holder
            && kind.touches_key()
            && current != actor
        {
            return Err(CustodyError::NotHolder);
        }
        let named = &terms.terms.staff;
        if kind.touches_key() && !named.contains(actor) {
            return Err(CustodyError::NotNamed);
        }
        match event.action() {
            A::ReceivedFromResident => acting(terms, EntrustedAct::HoldKey, at)?,
            A::LentToContractor(lend) => {
                acting(terms, EntrustedAct::LetContractorsIn, at)?;
                if !named.contains(lend.supervisor) {
                    return Err(CustodyError::NotNamed);
                }
                // The period's end, not the effective end: a revocation after the lend makes the
                // key overdue (see `overdue`), it does not make the recorded lend invalid.
                if lend.expected_return <= at || lend.expected_return > terms.terms.period.ends_at()
                {
                    return Err(CustodyError::ExpectedReturn);
                }
            }
            _ => {}
        }
        check_witness(event, self.counterparty(kind))?;
        let mut kinds = self.kinds.clone();
        kinds.push(kind);
        Ok(Custody {
            holder,
            kinds,
            last_at: Some(at),
        })
    }

    /// The side of a hand-over who can confirm it themselves, if the event is one.
    fn counterparty(&self, kind: KeyActionKind) -> Option<Witness> {
        match kind {
            KeyActionKind::ReceivedFromResident | KeyActionKind::ReturnedToResident => {
                Some(Witness::Resident)
            }
            KeyActionKind::LentToContractor => Some(Witness::Contractor),
            KeyActionKind::ReturnedToCustody if matches!(self.holder, KeyHolder::Contractor(_)) => {
                Some(Witness::Contractor)
            }
            _ => None,
        }
    }

    fn check_target(&self, of: u32) -> Result<(), CustodyError> {
        let target = usize::try_from(of)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.kinds.get(i));
        match target {
            Some(k) if *k != KeyActionKind::Correction => Ok(()),
            _ => Err(CustodyError::CorrectionTarget),
        }
    }

    /// The events `actor` could record at `at`, in [`KeyActionKind::ALL`] order: what a page
    /// offers. Asked of [`Custody::apply`] itself with sample data (and the confirmation each
    /// hand-over needs), so the rules live in one place.
    pub fn offered(
        &self,
        terms: &Entrustment,
        actor: StaffId,
        at: OffsetDateTime,
    ) -> Vec<KeyActionKind> {
        let at = self.last_at.map_or(at, |last| at.max(last));
        KeyActionKind::ALL
            .into_iter()
            .filter(|k| {
                let event = KeyEvent::new(self.sample(*k, terms, actor), at, actor);
                let event = match self.counterparty(*k) {
                    Some(w) => event.with_witness(w),
                    None => event,
                };
                self.apply(terms, &event).is_ok()
            })
            .collect()
    }

    fn sample(&self, kind: KeyActionKind, terms: &Entrustment, actor: StaffId) -> KeyAction {
        const SAMPLE: &str = "sample";
        let note = || KeyNote::parse(SAMPLE).expect("a valid note");
        match kind {
            KeyActionKind::ReceivedFromResident => KeyAction::ReceivedFromResident,
            KeyActionKind::Stored => KeyAction::Stored {
                slot: CabinetSlot::parse("A-01").expect("a valid slot"),
            },
            KeyActionKind::TakenFromCabinet => KeyAction::TakenFromCabinet,
            KeyActionKind::LentToContractor => KeyAction::LentToContractor(Lend {
                contractor: PersonName::parse(SAMPLE).expect("a valid name"),
                company: Company::parse(SAMPLE).expect("a valid company"),
                phone: PhoneNumber::parse("13800000000").expect("a valid phone"),
                expected_return: terms.terms.period.ends_at(),
                supervisor: actor,
            }),
            KeyActionKind::ReturnedToCustody => KeyAction::ReturnedToCustody,
            KeyActionKind::ReturnedToResident => KeyAction::ReturnedToResident,
            KeyActionKind::Lost => KeyAction::Lost { note: note() },
            KeyActionKind::Correction => KeyAction::Correction {
                // The latest event a correction may name (0, refused, when there is none).
                of: (1..self.next_seq())
                    .rev()
                    .find(|s| self.check_target(*s).is_ok())
                    .unwrap_or(0),
                note: note(),
            },
        }
    }

    /// Whether the key is overdue at `now`, why, since when, and who must act: held (by staff,
    /// in the cabinet, or by a contractor) past the entrustment's effective end, or lent past the
    /// expected return. When both apply, the earlier one is reported; at the same instant, the
    /// contractor's lateness, the more specific.
    pub fn overdue(&self, terms: &Entrustment, now: OffsetDateTime) -> Option<Overdue> {
        let end = terms.effective_end();
        let past_end =
            (self.holder.is_out() && now > end).then_some((OverdueKind::HeldPastEnd, end));
        let past_return = match &self.holder {
            KeyHolder::Contractor(lend) if now > lend.expected_return => {
                Some((OverdueKind::LentPastReturn, lend.expected_return))
            }
            _ => None,
        };
        let (kind, since) = match (past_return, past_end) {
            (Some(r), Some(e)) if e.1 < r.1 => e,
            (Some(r), _) => r,
            (None, e) => e?,
        };
        let responsible = match &self.holder {
            KeyHolder::Staff(id) => vec![*id],
            KeyHolder::Contractor(lend) => vec![lend.supervisor],
            _ => terms.terms.staff.ids().to_vec(),
        };
        Some(Overdue {
            kind,
            since,
            responsible,
        })
    }

    pub fn is_overdue(&self, terms: &Entrustment, now: OffsetDateTime) -> bool {
        self.overdue(terms, now).is_some()
    }
}

/// An act for the resident: permitted by the terms and inside the consent window.
fn acting(terms: &Entrustment, act: EntrustedAct, at: OffsetDateTime) -> Result<(), CustodyError> {
    if !terms.terms.permissions.contains(act) {
        return Err(CustodyError::NotPermitted { act });
    }
    if !terms.in_consent(at) {
        return Err(CustodyError::OutsideConsent);
    }
    Ok(())
}

fn check_witness(event: &KeyEvent, counterparty: Option<Witness>) -> Result<(), CustodyError> {
    let action = event.action().kind();
    match (event.witness(), counterparty) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(CustodyError::WitnessRequired { action }),
        (Some(Witness::Colleague(id)), _) if id == event.actor() => {
            Err(CustodyError::WitnessIsActor)
        }
        (Some(Witness::Colleague(_)), _) => Ok(()),
        (Some(w), Some(c)) if w == c => Ok(()),
        (Some(_), _) => Err(CustodyError::WitnessKind { action }),
    }
}

/// Why a key is overdue: the work order's reason and the notification's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverdueKind {
    /// Still out after the entrustment's end (or its revocation).
    HeldPastEnd,
    /// The contractor has not brought it back by the expected time.
    LentPastReturn,
}

impl OverdueKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::HeldPastEnd => "held_past_end",
            Self::LentPastReturn => "lent_past_return",
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::HeldPastEnd => "委托已结束，钥匙尚未归还居民",
            Self::LentPastReturn => "施工人员逾期未归还钥匙",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::HeldPastEnd => "Key still held after the entrustment ended",
            Self::LentPastReturn => "Contractor has not returned the key on time",
        }
    }
}

/// A key that should be somewhere else by now: what the overdue job turns into a work order and
/// notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub kind: OverdueKind,
    /// The instant it became overdue; with the entrustment and the kind, a stable idempotency key.
    pub since: OffsetDateTime,
    /// Whom to notify: the staff member holding it, the lend's supervisor, or — for a key in the
    /// cabinet — every named staff member.
    pub responsible: Vec<StaffId>,
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
