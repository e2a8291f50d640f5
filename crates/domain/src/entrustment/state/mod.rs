//! The entrustment's life: requested or proposed, confirmed by the resident, then completed,
//! revoked, expired or cancelled. Pure: every step carries the time it happened.

mod error;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub use error::EntrustmentError;

use super::{Custody, EntrustedAct, EntrustmentInput, Terms, micros};
use crate::error::{DomainError, Echo};

/// How long before the period a key may already be handed over: the resident who leaves early
/// on the first day drops the key off the evening before. Twelve hours covers "the evening
/// before" for a period starting at midnight without letting a key sit with staff for days
/// before anyone needs it.
pub const HANDOVER_LEAD: Duration = Duration::hours(12);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntrustmentState {
    /// From a resident's pre-registration; waiting for staff to take it on.
    Requested,
    /// Staff set the terms; the resident must confirm them (with a one-time code).
    AwaitingConfirmation,
    /// Confirmed: named staff may act within the period.
    Active,
    /// The resident confirmed it is finished, with the key back (or never handed over).
    Completed,
    /// Withdrawn by the resident.
    Revoked,
    /// The period ended without a completion.
    Expired,
    /// Staff could not take it on, or withdrew a proposal, before it was in force.
    Cancelled,
}

impl EntrustmentState {
    pub const ALL: [EntrustmentState; 7] = [
        Self::Requested,
        Self::AwaitingConfirmation,
        Self::Active,
        Self::Completed,
        Self::Revoked,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::AwaitingConfirmation => "awaiting_confirmation",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == t || v.name_zh() == t)
            .ok_or_else(|| EntrustmentInput::State(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Requested => "待受理",
            Self::AwaitingConfirmation => "待居民确认",
            Self::Active => "生效中",
            Self::Completed => "已完成",
            Self::Revoked => "已撤销",
            Self::Expired => "已到期",
            Self::Cancelled => "已取消",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Requested => "Requested",
            Self::AwaitingConfirmation => "Awaiting confirmation",
            Self::Active => "Active",
            Self::Completed => "Completed",
            Self::Revoked => "Revoked",
            Self::Expired => "Expired",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Not yet in force: the terms may still change.
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Requested | Self::AwaitingConfirmation)
    }

    /// Finished for good: completed, revoked, expired or cancelled.
    pub fn is_final(&self) -> bool {
        !self.is_pending() && *self != Self::Active
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntrustmentParty {
    Resident,
    Staff,
    /// The expiry job.
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntrustmentStep {
    /// Staff take on a resident's request and send it for confirmation.
    Take,
    Confirm,
    Complete,
    Revoke,
    Cancel,
    Expire,
}

impl EntrustmentStep {
    pub const ALL: [EntrustmentStep; 6] = [
        Self::Take,
        Self::Confirm,
        Self::Complete,
        Self::Revoke,
        Self::Cancel,
        Self::Expire,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Take => "take",
            Self::Confirm => "confirm",
            Self::Complete => "complete",
            Self::Revoke => "revoke",
            Self::Cancel => "cancel",
            Self::Expire => "expire",
        }
    }

    pub fn parse(s: &str) -> Option<EntrustmentStep> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    /// Who may take the step: the resident consents, revokes and says it is done; staff take on
    /// and cancel; only the system lets an entrustment expire.
    pub fn by(&self) -> EntrustmentParty {
        match self {
            Self::Confirm | Self::Complete | Self::Revoke => EntrustmentParty::Resident,
            Self::Take | Self::Cancel => EntrustmentParty::Staff,
            Self::Expire => EntrustmentParty::System,
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Take => "受理",
            Self::Confirm => "确认委托",
            Self::Complete => "确认完成",
            Self::Revoke => "撤销委托",
            Self::Cancel => "取消",
            Self::Expire => "到期结束",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Take => "take on",
            Self::Confirm => "confirm",
            Self::Complete => "complete",
            Self::Revoke => "revoke",
            Self::Cancel => "cancel",
            Self::Expire => "expire",
        }
    }
}

/// The entrustment aggregate. Fields are public because the store rebuilds it from a row; new
/// values should only come from [`Entrustment::request`], [`Entrustment::propose`],
/// [`Entrustment::amend`] and [`Entrustment::apply`], and [`Entrustment::check`] says whether a
/// loaded row is coherent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entrustment {
    pub terms: Terms,
    pub state: EntrustmentState,
    pub created_at: OffsetDateTime,
    /// Time of the last change; steps may not be earlier.
    pub last_at: OffsetDateTime,
    /// When the resident confirmed: consent starts here.
    pub confirmed_at: Option<OffsetDateTime>,
    /// Set in every final state: when it ended.
    pub ended_at: Option<OffsetDateTime>,
}

impl Entrustment {
    /// A resident's pre-registration (W2), waiting for staff. Named staff may be empty.
    pub fn request(terms: Terms, at: OffsetDateTime) -> Result<Entrustment, EntrustmentError> {
        Self::new(terms, EntrustmentState::Requested, at)
    }

    /// Staff set the terms with the resident; the resident must confirm them.
    pub fn propose(terms: Terms, at: OffsetDateTime) -> Result<Entrustment, EntrustmentError> {
        Self::new(terms, EntrustmentState::AwaitingConfirmation, at)
    }

    fn new(
        terms: Terms,
        state: EntrustmentState,
        at: OffsetDateTime,
    ) -> Result<Entrustment, EntrustmentError> {
        let at = micros(at);
        check_terms(&terms, state, at)?;
        Ok(Entrustment {
            terms,
            state,
            created_at: at,
            last_at: at,
            confirmed_at: None,
            ended_at: None,
        })
    }

    /// Staff change the terms before the resident confirms them. A confirmation code issued for
    /// the old terms must not confirm the new ones: the service binds each code to the hash of
    /// the terms' canonical text.
    pub fn amend(
        &self,
        terms: Terms,
        party: EntrustmentParty,
        at: OffsetDateTime,
    ) -> Result<Entrustment, EntrustmentError> {
        let at = micros(at);
        if at < self.last_at {
            return Err(EntrustmentError::TimeOrder);
        }
        if !self.state.is_pending() {
            return Err(EntrustmentError::NotAmendable { state: self.state });
        }
        if party != EntrustmentParty::Staff {
            return Err(EntrustmentError::NotStaff);
        }
        check_terms(&terms, self.state, at)?;
        Ok(Entrustment {
            terms,
            last_at: at,
            ..self.clone()
        })
    }

    /// Applies `step` by `party` at `at`; `custody` is the key's chain so far (completion needs
    /// the key back). The state is checked first, then the party, then the step's own rule.
    pub fn apply(
        &self,
        step: EntrustmentStep,
        party: EntrustmentParty,
        at: OffsetDateTime,
        custody: &Custody,
    ) -> Result<Entrustment, EntrustmentError> {
        use EntrustmentState as S;
        use EntrustmentStep as T;
        let at = micros(at);
        if at < self.last_at {
            return Err(EntrustmentError::TimeOrder);
        }
        let next_state = match (step, self.state) {
            (T::Take, S::Requested) => S::AwaitingConfirmation,
            (T::Confirm, S::AwaitingConfirmation) => S::Active,
            (T::Complete, S::Active) => S::Completed,
            (T::Revoke, S::Requested | S::AwaitingConfirmation | S::Active) => S::Revoked,
            (T::Cancel, S::Requested | S::AwaitingConfirmation) => S::Cancelled,
            (T::Expire, S::Requested | S::AwaitingConfirmation | S::Active) => S::Expired,
            _ => {
                return Err(EntrustmentError::Illegal {
                    state: self.state,
                    step,
                });
            }
        };
        if party != step.by() {
            return Err(EntrustmentError::WrongParty { step });
        }
        let period = self.terms.period;
        match step {
            T::Take if self.terms.staff.is_empty() => return Err(EntrustmentError::NoStaff),
            T::Confirm if at >= period.ends_at() => return Err(EntrustmentError::PeriodOver),
            T::Expire if at < period.ends_at() => return Err(EntrustmentError::NotOver),
            T::Complete if custody.holder().is_out() => {
                return Err(EntrustmentError::KeyOut {
                    holder: custody.holder().kind(),
                });
            }
            _ => {}
        }
        let mut next = self.clone();
        next.state = next_state;
        next.last_at = at;
        if step == T::Confirm {
            next.confirmed_at = Some(at);
        }
        if next_state.is_final() {
            next.ended_at = Some(at);
        }
        Ok(next)
    }

    /// The steps `party` may take at `at`, in [`EntrustmentStep::ALL`] order: what a page offers.
    pub fn steps_for(
        &self,
        party: EntrustmentParty,
        at: OffsetDateTime,
        custody: &Custody,
    ) -> Vec<EntrustmentStep> {
        EntrustmentStep::ALL
            .into_iter()
            .filter(|s| self.apply(*s, party, at, custody).is_ok())
            .collect()
    }

    /// When consent ends: the period's end, or earlier if the entrustment ended earlier
    /// (revoked, completed, cancelled).
    pub fn effective_end(&self) -> OffsetDateTime {
        let end = self.terms.period.ends_at();
        self.ended_at.map_or(end, |e| e.min(end))
    }

    /// Whether staff may act for the resident at `at`: confirmed by then, not before the period
    /// (less [`HANDOVER_LEAD`]), and before [`Entrustment::effective_end`]. Judged by the time of
    /// the act, not of its recording, so an event noted offline before a revocation still
    /// stands, and one after it does not.
    pub fn in_consent(&self, at: OffsetDateTime) -> bool {
        let Some(confirmed_at) = self.confirmed_at else {
            return false;
        };
        let start = confirmed_at.max(self.terms.period.starts_at() - HANDOVER_LEAD);
        start <= at && at < self.effective_end()
    }

    /// Whether staff may do `act` at `at` (e.g. take photos inside the home).
    pub fn permits(&self, act: EntrustedAct, at: OffsetDateTime) -> bool {
        self.terms.permissions.contains(act) && self.in_consent(at)
    }

    /// Whether the fields agree with each other as the steps keep them; the error names the
    /// first disagreement. For rows read back from storage, and for tests.
    pub fn check(&self) -> Result<(), &'static str> {
        use EntrustmentState as S;
        let confirmed = matches!(self.state, S::Active | S::Completed);
        if confirmed && self.confirmed_at.is_none() {
            return Err("confirmed_at set once active");
        }
        if matches!(
            self.state,
            S::Requested | S::AwaitingConfirmation | S::Cancelled
        ) && self.confirmed_at.is_some()
        {
            return Err("confirmed_at only once confirmed");
        }
        if self.state.is_final() != self.ended_at.is_some() {
            return Err("ended_at set exactly in a final state");
        }
        if (self.confirmed_at.is_some() || self.state == S::AwaitingConfirmation)
            && self.terms.staff.is_empty()
        {
            return Err("named staff once taken on");
        }
        if self.state == S::Expired && self.ended_at < Some(self.terms.period.ends_at()) {
            return Err("expired only after the period");
        }
        let mut prev = self.created_at;
        for t in [self.confirmed_at, self.ended_at, Some(self.last_at)]
            .into_iter()
            .flatten()
        {
            if t < prev {
                return Err("created ≤ confirmed ≤ ended ≤ last change");
            }
            prev = t;
        }
        Ok(())
    }
}

fn check_terms(
    terms: &Terms,
    state: EntrustmentState,
    at: OffsetDateTime,
) -> Result<(), EntrustmentError> {
    if at >= terms.period.ends_at() {
        return Err(EntrustmentError::PeriodOver);
    }
    if state == EntrustmentState::AwaitingConfirmation && terms.staff.is_empty() {
        return Err(EntrustmentError::NoStaff);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
