//! One door of a campaign: its status, how it was reached, and its schedule slot.
//!
//! The outcome machine: an **open** item (pending, not home, needs follow-up) takes any outcome;
//! a **finished** one (done, refused, not found) takes none until staff reopen it, so a result
//! someone relied on is never overwritten by a stray tap. Every recording is kept as an attempt,
//! so "not home twice, then done" stays visible.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{CampaignError, CampaignInput};
use crate::error::{DomainError, Echo};
use crate::visit::VisitOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pending,
    Done,
    NotHome,
    Refused,
    NotFound,
    FollowUp,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 6] = [
        Self::Pending,
        Self::Done,
        Self::NotHome,
        Self::Refused,
        Self::NotFound,
        Self::FollowUp,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::NotHome => "not_home",
            Self::Refused => "refused",
            Self::NotFound => "not_found",
            Self::FollowUp => "follow_up",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == t || v.name_zh() == t)
            .ok_or_else(|| CampaignInput::ItemStatus(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Pending => "待入户",
            Self::Done => "已完成",
            Self::NotHome => "不在家",
            Self::Refused => "拒绝",
            Self::NotFound => "查无此户",
            Self::FollowUp => "需跟进",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::NotHome => "not home",
            Self::Refused => "refused",
            Self::NotFound => "not found",
            Self::FollowUp => "needs follow-up",
        }
    }

    /// Still to be worked: the doors-left list and overdue slots count these.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Pending | Self::NotHome | Self::FollowUp)
    }

    /// Records `outcome`: the new status, or why not.
    pub fn record(self, outcome: ItemOutcome) -> Result<ItemStatus, CampaignError> {
        if !self.is_open() {
            return Err(CampaignError::ItemFinished { status: self });
        }
        Ok(outcome.status())
    }

    /// Staff reopen a finished item (a wrong tap, a resident who changed their mind).
    pub fn reopen(self) -> Result<ItemStatus, CampaignError> {
        if self.is_open() {
            return Err(CampaignError::ItemOpen { status: self });
        }
        Ok(Self::Pending)
    }
}

/// What happened at the door: every status but pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemOutcome {
    Done,
    NotHome,
    Refused,
    NotFound,
    FollowUp,
}

impl ItemOutcome {
    pub const ALL: [ItemOutcome; 5] = [
        Self::Done,
        Self::NotHome,
        Self::Refused,
        Self::NotFound,
        Self::FollowUp,
    ];

    pub fn status(&self) -> ItemStatus {
        match self {
            Self::Done => ItemStatus::Done,
            Self::NotHome => ItemStatus::NotHome,
            Self::Refused => ItemStatus::Refused,
            Self::NotFound => ItemStatus::NotFound,
            Self::FollowUp => ItemStatus::FollowUp,
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.status().as_str()
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == t || o.status().name_zh() == t)
            .ok_or_else(|| CampaignInput::ItemOutcome(Echo::of(t)).into())
    }

    /// Whether the form's required fields must be answered: only when the work was done.
    pub fn completes_form(&self) -> bool {
        matches!(self, Self::Done)
    }

    /// The home visit this outcome is on the household's history (record once): none when the
    /// door was not found, since nobody was visited.
    pub fn visit(&self, mode: ContactMode) -> Option<VisitOutcome> {
        match (self, mode) {
            (Self::Done | Self::FollowUp, ContactMode::Contactless) => Some(VisitOutcome::Phone),
            (Self::Done | Self::FollowUp, ContactMode::Door) => Some(VisitOutcome::AtHome),
            (Self::NotHome, _) => Some(VisitOutcome::NotHome),
            (Self::Refused, _) => Some(VisitOutcome::Refused),
            (Self::NotFound, _) => None,
        }
    }
}

/// How the door is worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactMode {
    /// In person at the door.
    Door,
    /// 无接触: left hung on the door, with a phone call (W3: home health monitoring).
    Contactless,
}

impl ContactMode {
    pub const ALL: [ContactMode; 2] = [Self::Door, Self::Contactless];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Door => "door",
            Self::Contactless => "contactless",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == t || m.name_zh() == t)
            .ok_or_else(|| CampaignInput::ContactMode(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Door => "入户",
            Self::Contactless => "无接触",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Door => "at the door",
            Self::Contactless => "contactless",
        }
    }
}

/// When residents must be home (W2: building 14, 11–13 Nov).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    starts_on: Date,
    ends_on: Date,
    note: Option<String>,
}

/// A slot longer than this is a period, not a slot.
pub const MAX_SLOT_DAYS: i64 = 62;
pub const SLOT_NOTE_MAX: usize = 100;

impl Slot {
    pub fn new(starts_on: Date, ends_on: Date, note: Option<&str>) -> Result<Slot, DomainError> {
        if ends_on < starts_on {
            return Err(CampaignInput::SlotOrder.into());
        }
        if (ends_on - starts_on).whole_days() >= MAX_SLOT_DAYS {
            return Err(CampaignInput::SlotLength {
                max_days: MAX_SLOT_DAYS,
            }
            .into());
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > SLOT_NOTE_MAX) {
            return Err(CampaignInput::TextTooLong { max: SLOT_NOTE_MAX }.into());
        }
        Ok(Slot {
            starts_on,
            ends_on,
            note: note.map(str::to_owned),
        })
    }

    pub fn starts_on(&self) -> Date {
        self.starts_on
    }

    pub fn ends_on(&self) -> Date {
        self.ends_on
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Past its last day with the door still open.
    pub fn is_overdue(&self, status: ItemStatus, today: Date) -> bool {
        status.is_open() && self.ends_on < today
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn status() -> impl Strategy<Value = ItemStatus> {
        proptest::sample::select(ItemStatus::ALL.to_vec())
    }

    fn outcome() -> impl Strategy<Value = ItemOutcome> {
        proptest::sample::select(ItemOutcome::ALL.to_vec())
    }

    #[derive(Debug, Clone)]
    enum Step {
        Record(ItemOutcome),
        Reopen,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![outcome().prop_map(Step::Record), Just(Step::Reopen)]
    }

    proptest! {
        /// From any status, recording is possible exactly when the item is open, and lands on
        /// the outcome's status; reopening is possible exactly when it is finished.
        #[test]
        fn record_and_reopen_agree_with_openness(s in status(), o in outcome()) {
            match s.record(o) {
                Ok(next) => { prop_assert!(s.is_open()); prop_assert_eq!(next, o.status()); }
                Err(e) => { prop_assert!(!s.is_open()); prop_assert_eq!(e.code(), "campaign_item.finished"); }
            }
            match s.reopen() {
                Ok(next) => { prop_assert!(!s.is_open()); prop_assert_eq!(next, ItemStatus::Pending); }
                Err(e) => { prop_assert!(s.is_open()); prop_assert_eq!(e.code(), "campaign_item.open"); }
            }
        }

        /// Over any sequence of steps a finished result changes only through a reopen, and the
        /// status is never pending right after a recorded outcome.
        #[test]
        fn finished_results_change_only_through_reopen(steps in proptest::collection::vec(step(), 0..40)) {
            let mut s = ItemStatus::Pending;
            for st in steps {
                let before = s;
                match st {
                    Step::Record(o) => {
                        if let Ok(next) = s.record(o) { s = next; }
                        if !before.is_open() { prop_assert_eq!(s, before); }
                        else { prop_assert_ne!(s, ItemStatus::Pending); }
                    }
                    Step::Reopen => {
                        if let Ok(next) = s.reopen() { s = next; }
                        if before.is_open() { prop_assert_eq!(s, before); }
                    }
                }
            }
        }
    }

    #[test]
    fn outcomes_become_visits_except_not_found() {
        assert_eq!(
            ItemOutcome::Done.visit(ContactMode::Contactless),
            Some(VisitOutcome::Phone)
        );
        assert_eq!(
            ItemOutcome::Done.visit(ContactMode::Door),
            Some(VisitOutcome::AtHome)
        );
        assert_eq!(ItemOutcome::NotFound.visit(ContactMode::Door), None);
        assert_eq!(ItemOutcome::parse("不在家").unwrap(), ItemOutcome::NotHome);
        assert!(ItemOutcome::parse("pending").is_err());
    }

    #[test]
    fn slots_are_ordered_short_and_overdue_only_when_open() {
        let s = Slot::new(
            date!(2026 - 11 - 11),
            date!(2026 - 11 - 13),
            Some(" 需有人在家 "),
        )
        .unwrap();
        assert_eq!(s.note(), Some("需有人在家"));
        assert!(s.is_overdue(ItemStatus::NotHome, date!(2026 - 11 - 14)));
        assert!(!s.is_overdue(ItemStatus::Done, date!(2026 - 11 - 14)));
        assert!(!s.is_overdue(ItemStatus::Pending, date!(2026 - 11 - 13)));
        assert_eq!(
            Slot::new(date!(2026 - 11 - 13), date!(2026 - 11 - 11), None)
                .unwrap_err()
                .code(),
            "slot.order"
        );
        assert!(Slot::new(date!(2026 - 01 - 01), date!(2026 - 06 - 01), None).is_err());
    }
}
