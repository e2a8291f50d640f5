use crate::entrustment::{EntrustedAct, HolderKind, KeyActionKind};

/// Why a key event was refused: a conflict with where the key is, who holds it, or what the
/// resident consented to (HTTP 409). Names kinds only, never names, phones or notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub enum CustodyError {
    /// Dated before the chain's last event.
    TimeOrder,
    /// The key is back with the resident; only corrections may follow.
    Ended,
    /// The event cannot start where the key is.
    Illegal {
        holder: HolderKind,
        action: KeyActionKind,
    },
    /// The key is in another staff member's hands.
    NotHolder,
    /// The actor (or the lend's supervisor) is not among the staff the resident named.
    NotNamed,
    NotPermitted {
        act: EntrustedAct,
    },
    /// Before the resident's confirmation, too early before the period, or after its end (or
    /// the revocation).
    OutsideConsent,
    /// A lend's expected return must be after the lend and no later than the period's end.
    ExpectedReturn,
    WitnessRequired {
        action: KeyActionKind,
    },
    /// A witness who cannot confirm this event (the resident for a lend, say).
    WitnessKind {
        action: KeyActionKind,
    },
    WitnessIsActor,
    /// A correction must name an earlier event that is not itself a correction.
    CorrectionTarget,
}

impl CustodyError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TimeOrder => "custody.time_order",
            Self::Ended => "custody.ended",
            Self::Illegal { .. } => "custody.illegal",
            Self::NotHolder => "custody.not_holder",
            Self::NotNamed => "custody.not_named",
            Self::NotPermitted { .. } => "custody.not_permitted",
            Self::OutsideConsent => "custody.outside_consent",
            Self::ExpectedReturn => "custody.expected_return",
            Self::WitnessRequired { .. } => "custody.witness_required",
            Self::WitnessKind { .. } => "custody.witness_kind",
            Self::WitnessIsActor => "custody.witness_is_actor",
            Self::CorrectionTarget => "custody.correction_target",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::TimeOrder => "时间早于该钥匙上一条记录的时间".to_owned(),
            Self::Ended => "钥匙已归还居民，托管已结束，只能更正记录".to_owned(),
            Self::Illegal { holder, action } => {
                format!("钥匙{}，不能{}", holder.name_zh(), action.name_zh())
            }
            Self::NotHolder => "钥匙在其他工作人员手中，只有持有人可以交接".to_owned(),
            Self::NotNamed => "只有居民指定的受托工作人员可以经手或监督钥匙".to_owned(),
            Self::NotPermitted { act } => format!("委托中不包括「{}」", act.name_zh()),
            Self::OutsideConsent => "不在委托有效期内（尚未确认、过早、已到期或已撤销）".to_owned(),
            Self::ExpectedReturn => "预计归还时间应晚于借出时间，且不晚于委托期限结束".to_owned(),
            Self::WitnessRequired { action } => {
                format!("「{}」需要对方确认或同事见证", action.name_zh())
            }
            Self::WitnessKind { action } => {
                format!("这种见证方式不适用于「{}」", action.name_zh())
            }
            Self::WitnessIsActor => "见证人不能是经手人本人".to_owned(),
            Self::CorrectionTarget => "要更正的记录不存在（或本身是一条更正）".to_owned(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::TimeOrder => "The event is dated before the key's last event".to_owned(),
            Self::Ended => {
                "The key is back with the resident; custody is over and only corrections can \
                 be added"
                    .to_owned()
            }
            Self::Illegal { holder, action } => format!(
                "The key is {}; it cannot {}",
                holder.name_en(),
                action.cannot_en()
            ),
            Self::NotHolder => {
                "Another staff member holds the key; only the holder can hand it on".to_owned()
            }
            Self::NotNamed => {
                "Only staff the resident named can handle or supervise the key".to_owned()
            }
            Self::NotPermitted { act } => format!(
                "The entrustment does not include: {}",
                act.name_en().to_lowercase()
            ),
            Self::OutsideConsent => "Outside the entrustment's consent (not yet confirmed, too \
                                     early, over, or revoked)"
                .to_owned(),
            Self::ExpectedReturn => "The expected return must be after the lend and no later \
                                     than the end of the entrustment's period"
                .to_owned(),
            Self::WitnessRequired { action } => format!(
                "{} needs the other side's confirmation or a colleague as witness",
                action.name_en()
            ),
            Self::WitnessKind { action } => format!(
                "That kind of witness cannot confirm this event ({})",
                action.name_en().to_lowercase()
            ),
            Self::WitnessIsActor => {
                "The witness cannot be the person recording the event".to_owned()
            }
            Self::CorrectionTarget => {
                "The event to correct does not exist (or is itself a correction)".to_owned()
            }
        }
    }
}
