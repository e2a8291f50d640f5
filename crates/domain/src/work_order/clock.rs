//! The SLA clock: how much of the allowance an order has used, its deadline, when it escalates,
//! and the handling metrics read from a finished order.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{WorkOrder, WorkOrderState};
use crate::area::AreaLevel;
use crate::error::DomainError;

/// Escalation stops at the district: grid → community → subdistrict → district.
pub const MAX_ESCALATION_LEVEL: u8 = 3;

/// How long handling may take, counted from acceptance. Categories configure it; the constants
/// are the Beijing hotline practice from STANDARDS.md, for seeding and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Sla(Duration);

impl Sla {
    pub const MIN: Duration = Duration::minutes(1);
    pub const MAX: Duration = Duration::days(366);
    /// Threats to life or property: 2 hours.
    pub const LIFE_OR_PROPERTY: Sla = Sla(Duration::hours(2));
    /// Water, power, gas, heat: 24 hours.
    pub const UTILITIES: Sla = Sla(Duration::hours(24));
    /// General requests: 7 days.
    pub const GENERAL: Sla = Sla(Duration::days(7));
    /// Complex cases: 15 days.
    pub const COMPLEX: Sla = Sla(Duration::days(15));

    /// Whole seconds between [`Sla::MIN`] and [`Sla::MAX`].
    pub fn new(d: Duration) -> Result<Sla, DomainError> {
        if d < Self::MIN || d > Self::MAX || d.subsec_nanoseconds() != 0 {
            return Err(DomainError::SlaDuration);
        }
        Ok(Sla(d))
    }

    pub fn from_hours(hours: u32) -> Result<Sla, DomainError> {
        Self::new(Duration::hours(hours.into()))
    }

    pub fn from_days(days: u32) -> Result<Sla, DomainError> {
        Self::new(Duration::days(days.into()))
    }

    /// The storage form.
    pub fn from_seconds(seconds: i64) -> Result<Sla, DomainError> {
        Self::new(Duration::seconds(seconds))
    }

    pub fn seconds(&self) -> i64 {
        self.0.whole_seconds()
    }

    pub fn duration(&self) -> Duration {
        self.0
    }
}

impl TryFrom<i64> for Sla {
    type Error = DomainError;
    fn try_from(seconds: i64) -> Result<Self, Self::Error> {
        Sla::from_seconds(seconds)
    }
}

impl From<Sla> for i64 {
    fn from(s: Sla) -> Self {
        s.seconds()
    }
}

/// One order's contribution to the handling metrics (STANDARDS.md), as of a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderMetrics {
    pub handled_on_time: bool,
    pub handled_overdue: bool,
    pub rework: u32,
    pub extensions: u32,
    pub suspended: bool,
    pub overdue_and_open: bool,
}

impl WorkOrder {
    /// The order knows nothing after `at` and nothing before its last transition; asking about
    /// an earlier time answers for the last transition.
    fn clamp(&self, at: OffsetDateTime) -> OffsetDateTime {
        at.max(self.last_at)
    }

    /// The allowance: SLA plus approved extensions.
    pub fn allowance(&self) -> Duration {
        self.sla.duration() + self.extended_total
    }

    /// Whether the clock is counting now: accepted, not suspended, not stopped.
    pub fn clock_running(&self) -> bool {
        self.accepted_at.is_some() && self.state.is_running()
    }

    /// Time spent suspended up to `at`, the current suspension included.
    pub fn suspended_time(&self, at: OffsetDateTime) -> Duration {
        let open = self
            .suspension
            .map_or(Duration::ZERO, |s| self.clamp(at) - s.since);
        self.suspended_total + open
    }

    /// Time counted against the SLA so far: wall time since acceptance minus time suspended and
    /// time stopped. Zero before acceptance.
    pub fn active_elapsed(&self, at: OffsetDateTime) -> Duration {
        let Some(start) = self.accepted_at else {
            return Duration::ZERO;
        };
        let end = self
            .stopped_at
            .or(self.suspension.map(|s| s.since))
            .unwrap_or_else(|| self.clamp(at));
        (end - start) - self.suspended_total - self.stopped_total
    }

    /// Allowance left; negative once overdue. The whole SLA before acceptance.
    pub fn remaining(&self, at: OffsetDateTime) -> Duration {
        self.allowance() - self.active_elapsed(at)
    }

    /// `accepted_at + sla + extensions + paused time`, where paused time is suspensions (the
    /// current one up to `at`) and finished stops. While suspended the deadline moves with `at`;
    /// while stopped it stays where it was at the stop. None before acceptance.
    pub fn deadline(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let start = self.accepted_at?;
        Some(start + self.allowance() + self.suspended_time(at) + self.stopped_total)
    }

    /// Active time has passed the allowance. Strict: at the deadline itself it is not overdue.
    /// For a stopped order: whether it stopped late.
    pub fn is_overdue(&self, at: OffsetDateTime) -> bool {
        self.accepted_at.is_some() && self.remaining(at).is_negative()
    }

    /// Active time after which escalation to `escalation_level + 1` is due: the allowance, then
    /// one more SLA length per level already reached. None at the top level.
    pub fn next_escalation_after(&self) -> Option<Duration> {
        (self.escalation_level < MAX_ESCALATION_LEVEL)
            .then(|| self.allowance() + self.sla.duration() * i32::from(self.escalation_level))
    }

    /// Whether [`super::Action::Escalate`] at `at` would be accepted.
    pub fn escalation_due(&self, at: OffsetDateTime) -> bool {
        self.clock_running()
            && self
                .next_escalation_after()
                .is_some_and(|after| self.active_elapsed(at) > after)
    }

    /// When the next escalation falls due if the clock keeps running (escalate strictly after
    /// it); possibly in the past. None when the clock is not running or the top level is reached.
    /// For the job that schedules escalations.
    pub fn next_escalation_at(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        if !self.clock_running() {
            return None;
        }
        let after = self.next_escalation_after()?;
        Some(self.clamp(at) + (after - self.active_elapsed(at)))
    }

    /// The area level supervising the order after escalation, for an order in a grid.
    pub fn escalated_to(&self) -> Option<AreaLevel> {
        match self.escalation_level {
            0 => None,
            1 => Some(AreaLevel::Community),
            2 => Some(AreaLevel::Subdistrict),
            _ => Some(AreaLevel::District),
        }
    }

    /// Not resolved, closed or rejected (a suspended order is open).
    pub fn is_open(&self) -> bool {
        !self.state.is_stopped()
    }

    fn handled(&self) -> bool {
        matches!(
            self.state,
            WorkOrderState::Resolved | WorkOrderState::Closed
        )
    }

    /// Resolved (or closed) within the allowance.
    pub fn handled_on_time(&self) -> bool {
        self.handled() && !self.is_overdue(self.last_at)
    }

    /// Resolved (or closed) after the deadline.
    pub fn handled_overdue(&self) -> bool {
        self.handled() && self.is_overdue(self.last_at)
    }

    /// Ever suspended with approval (挂账).
    pub fn was_suspended(&self) -> bool {
        self.suspension_count > 0
    }

    pub fn overdue_and_open(&self, at: OffsetDateTime) -> bool {
        self.is_open() && self.is_overdue(at)
    }

    pub fn metrics(&self, at: OffsetDateTime) -> OrderMetrics {
        OrderMetrics {
            handled_on_time: self.handled_on_time(),
            handled_overdue: self.handled_overdue(),
            rework: self.rework_count,
            extensions: self.extension_count,
            suspended: self.was_suspended(),
            overdue_and_open: self.overdue_and_open(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_bounds_and_storage_form() {
        assert_eq!(Sla::from_hours(2).unwrap(), Sla::LIFE_OR_PROPERTY);
        assert_eq!(Sla::from_days(15).unwrap(), Sla::COMPLEX);
        assert_eq!(Sla::UTILITIES.seconds(), 86_400);
        assert_eq!(Sla::from_seconds(604_800).unwrap(), Sla::GENERAL);
        for bad in [
            Duration::ZERO,
            Duration::seconds(59),
            Duration::days(367),
            Duration::milliseconds(90_500),
            Duration::hours(-2),
        ] {
            assert_eq!(Sla::new(bad).unwrap_err().code(), "work_order.sla", "{bad}");
        }
        assert_eq!(Sla::from_days(0).unwrap_err().code(), "work_order.sla");
        assert_eq!(serde_json::to_string(&Sla::UTILITIES).unwrap(), "86400");
        assert_eq!(
            serde_json::from_str::<Sla>("7200").unwrap(),
            Sla::LIFE_OR_PROPERTY
        );
        assert!(serde_json::from_str::<Sla>("0").is_err());
    }

    #[test]
    fn escalation_levels_climb_the_area_tree() {
        let at = time::macros::datetime!(2026-03-02 09:00 +08:00);
        let mut o = WorkOrder::report(super::super::Priority::High, Sla::GENERAL, at);
        let levels: Vec<_> = (0..=3)
            .map(|l| {
                o.escalation_level = l;
                o.escalated_to()
            })
            .collect();
        assert_eq!(
            levels,
            [
                None,
                Some(AreaLevel::Community),
                Some(AreaLevel::Subdistrict),
                Some(AreaLevel::District)
            ]
        );
    }
}
