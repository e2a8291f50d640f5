//! Residents' pre-registration for a campaign (W2: "I will be away during my slot, please act
//! for me"): what they ask for.

use serde::{Deserialize, Serialize};

use super::CampaignInput;
use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 提前委托: away during the slot; staff should act for them (the entrustment to come).
    ActForMe,
    /// 改约: would like another time.
    Reschedule,
    /// 其他: a question or a note for the staff.
    Other,
}

/// A resident's message: short, and never more than this.
pub const REQUEST_MESSAGE_MAX: usize = 300;

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [Self::ActForMe, Self::Reschedule, Self::Other];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ActForMe => "act_for_me",
            Self::Reschedule => "reschedule",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| CampaignInput::RequestKind(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::ActForMe => "届时不在家，请代为办理",
            Self::Reschedule => "希望改约时间",
            Self::Other => "其他事项",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::ActForMe => "Away during my slot: please act for me",
            Self::Reschedule => "Please find another time",
            Self::Other => "Something else",
        }
    }
}
