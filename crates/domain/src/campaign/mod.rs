//! Campaigns (专项行动 / 摸排): door-to-door work over a target list drawn from the registry
//! (DESIGN.md W2, W3, W4).
//!
//! Why the rules are what they are:
//! - **The registry is the denominator.** A campaign's target list is evaluated from its
//!   [`TargetRule`] and frozen at launch, so coverage counts the doors nobody found as well as
//!   those that were knocked on. Households that enter the rule later are added only on demand,
//!   never silently.
//! - **A draft can change, a launched campaign cannot change its rule**: the list was frozen for
//!   a reason. Closing ends the work; items stay for the record.
//! - **One item per target** (a household or a person, by kind), with its own outcome, slot,
//!   assignee and form answers. See [`item`] for the outcome machine and [`form`] for answers.

pub mod form;
pub mod input;
pub mod item;
pub mod request;
pub mod rule;

use serde::{Deserialize, Serialize};

pub use form::{Answer, Answers, CampaignForm, FieldKind, FormField};
pub use input::{CampaignInput, InputProblem};
pub use item::{ContactMode, ItemOutcome, ItemStatus, Slot};
pub use request::RequestKind;
pub use rule::{RuleDraft, TargetRule};

use crate::error::{DomainError, Echo};
use crate::tag::TagSubject;

/// What a campaign does at each door; decides whether its items are households or persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    /// 摸排: check every household for one need (W2: who will be away during their slot).
    Sweep,
    /// 送达上门: bring something to each person on a list (W3: a book to each elderly party member).
    Delivery,
    /// 关爱探访: check on each vulnerable person (W4: after a weather warning).
    CareCheck,
}

impl CampaignKind {
    pub const ALL: [CampaignKind; 3] = [Self::Sweep, Self::Delivery, Self::CareCheck];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sweep => "sweep",
            Self::Delivery => "delivery",
            Self::CareCheck => "care_check",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == t || k.name_zh() == t)
            .ok_or_else(|| CampaignInput::Kind(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Sweep => "摸排",
            Self::Delivery => "送达上门",
            Self::CareCheck => "关爱探访",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Sweep => "Sweep",
            Self::Delivery => "Delivery",
            Self::CareCheck => "Care check",
        }
    }

    /// One item per household (a sweep) or per person (a delivery or a care check).
    pub fn subject(&self) -> TagSubject {
        match self {
            Self::Sweep => TagSubject::Household,
            Self::Delivery | Self::CareCheck => TagSubject::Person,
        }
    }
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Being planned: rule, form and period can change; no items yet.
    Draft,
    /// Launched: the target list is frozen and doors are being worked.
    Active,
    /// Finished: nothing more is recorded.
    Closed,
}

impl CampaignState {
    pub const ALL: [CampaignState; 3] = [Self::Draft, Self::Active, Self::Closed];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| CampaignInput::State(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Active => "进行中",
            Self::Closed => "已结束",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Active => "Active",
            Self::Closed => "Closed",
        }
    }

    /// Launching freezes the target list; only a draft can be launched.
    pub fn launch(self) -> Result<CampaignState, CampaignError> {
        match self {
            Self::Draft => Ok(Self::Active),
            _ => Err(CampaignError::NotDraft { state: self }),
        }
    }

    pub fn close(self) -> Result<CampaignState, CampaignError> {
        match self {
            Self::Active | Self::Draft => Ok(Self::Closed),
            Self::Closed => Err(CampaignError::NotActive { state: self }),
        }
    }

    /// Rule, form and kind may change only before launch.
    pub fn may_edit_plan(self) -> Result<(), CampaignError> {
        match self {
            Self::Draft => Ok(()),
            _ => Err(CampaignError::NotDraft { state: self }),
        }
    }

    /// Doors are recorded, reassigned and added only while the campaign runs.
    pub fn may_work(self) -> Result<(), CampaignError> {
        match self {
            Self::Active => Ok(()),
            _ => Err(CampaignError::NotActive { state: self }),
        }
    }
}

/// Why a campaign step was refused: a conflict with the campaign's or the item's state (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub enum CampaignError {
    NotDraft {
        state: CampaignState,
    },
    NotActive {
        state: CampaignState,
    },
    /// An outcome recorded on an item that is already finished (done, refused, not found).
    ItemFinished {
        status: ItemStatus,
    },
    /// Reopening an item that is still open.
    ItemOpen {
        status: ItemStatus,
    },
}

impl CampaignError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotDraft { .. } => "campaign.not_draft",
            Self::NotActive { .. } => "campaign.not_active",
            Self::ItemFinished { .. } => "campaign_item.finished",
            Self::ItemOpen { .. } => "campaign_item.open",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::NotDraft { state } => format!(
                "专项行动当前为「{}」，目标名单已冻结，只有草稿可以修改或启动",
                state.name_zh()
            ),
            Self::NotActive { state } => {
                format!("专项行动当前为「{}」，不能登记或调整入户", state.name_zh())
            }
            Self::ItemFinished { status } => format!(
                "该户已登记为「{}」，如需重新登记请先重新打开",
                status.name_zh()
            ),
            Self::ItemOpen { status } => {
                format!("该户当前为「{}」，无需重新打开", status.name_zh())
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotDraft { state } => format!(
                "The campaign is {}: its target list is frozen; only a draft can change or launch",
                state.name_en()
            ),
            Self::NotActive { state } => format!(
                "The campaign is {}: doors cannot be recorded or changed",
                state.name_en()
            ),
            Self::ItemFinished { status } => format!(
                "This door is already recorded as {}; reopen it to record again",
                status.name_en()
            ),
            Self::ItemOpen { status } => {
                format!("This door is still {}; nothing to reopen", status.name_en())
            }
        }
    }
}

/// The tag whose holders get contactless delivery (W3: residents under home health monitoring).
pub const CONTACTLESS_TAG: &str = "home_health_monitoring";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_choose_their_subject() {
        for k in CampaignKind::ALL {
            assert_eq!(CampaignKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(CampaignKind::parse(k.name_zh()).unwrap(), k);
        }
        assert_eq!(CampaignKind::Sweep.subject(), TagSubject::Household);
        assert_eq!(CampaignKind::Delivery.subject(), TagSubject::Person);
        assert_eq!(
            CampaignKind::parse("party").unwrap_err().code(),
            "campaign_kind.invalid"
        );
    }

    #[test]
    fn only_a_draft_launches_and_only_an_active_campaign_is_worked() {
        use CampaignState::*;
        assert_eq!(Draft.launch().unwrap(), Active);
        assert_eq!(Active.launch().unwrap_err().code(), "campaign.not_draft");
        assert!(Draft.may_edit_plan().is_ok());
        assert!(Active.may_edit_plan().is_err());
        assert!(Active.may_work().is_ok());
        assert!(Draft.may_work().is_err());
        assert!(Closed.may_work().is_err());
        assert_eq!(Active.close().unwrap(), Closed);
        assert!(Closed.close().is_err());
    }
}
