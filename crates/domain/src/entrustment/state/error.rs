use super::{EntrustmentParty, EntrustmentState, EntrustmentStep};
use crate::entrustment::HolderKind;

/// Why an entrustment step was refused: a conflict with its state, its parties or its period
/// (HTTP 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub enum EntrustmentError {
    Illegal {
        state: EntrustmentState,
        step: EntrustmentStep,
    },
    WrongParty {
        step: EntrustmentStep,
    },
    NotStaff,
    NotAmendable {
        state: EntrustmentState,
    },
    TimeOrder,
    /// Sent for confirmation (or taken on) with nobody named to act.
    NoStaff,
    /// Created, amended or confirmed when the period is already over.
    PeriodOver,
    /// Expiry before the period's end.
    NotOver,
    /// Completion while the key is still out.
    KeyOut {
        holder: HolderKind,
    },
}

impl EntrustmentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Illegal { .. } => "entrustment.illegal_transition",
            Self::WrongParty { .. } => "entrustment.wrong_party",
            Self::NotStaff => "entrustment.not_staff",
            Self::NotAmendable { .. } => "entrustment.not_amendable",
            Self::TimeOrder => "entrustment.time_order",
            Self::NoStaff => "entrustment.no_staff",
            Self::PeriodOver => "entrustment.period_over",
            Self::NotOver => "entrustment.not_over",
            Self::KeyOut { .. } => "entrustment.key_out",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::Illegal { state, step } => format!(
                "委托当前状态为「{}」，不能{}",
                state.name_zh(),
                step.name_zh()
            ),
            Self::WrongParty { step } => match step.by() {
                EntrustmentParty::Resident => format!("只有居民本人可以{}", step.name_zh()),
                EntrustmentParty::Staff => format!("只有工作人员可以{}", step.name_zh()),
                EntrustmentParty::System => "委托到期由系统自动结束".to_owned(),
            },
            Self::NotStaff => "只有工作人员可以修改委托内容".to_owned(),
            Self::NotAmendable { state } => format!(
                "委托当前状态为「{}」，居民确认后不能再修改；如需变更请重新委托",
                state.name_zh()
            ),
            Self::TimeOrder => "操作时间早于委托上一步的时间".to_owned(),
            Self::NoStaff => "请先指定至少一名受托工作人员".to_owned(),
            Self::PeriodOver => "委托期限已过".to_owned(),
            Self::NotOver => "委托期限尚未结束".to_owned(),
            Self::KeyOut { holder } => {
                format!("钥匙{}，归还居民后才能确认完成", holder.name_zh())
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Illegal { state, step } => format!(
                "The entrustment is {}; it cannot {}",
                state.name_en().to_lowercase(),
                step.name_en()
            ),
            Self::WrongParty { step } => match step.by() {
                EntrustmentParty::Resident => {
                    format!("Only the resident can {} the entrustment", step.name_en())
                }
                EntrustmentParty::Staff => {
                    format!("Only staff can {} the entrustment", step.name_en())
                }
                EntrustmentParty::System => {
                    "An entrustment expires by itself at the end of its period".to_owned()
                }
            },
            Self::NotStaff => "Only staff can change the terms of an entrustment".to_owned(),
            Self::NotAmendable { state } => format!(
                "The entrustment is {}: confirmed terms cannot change; entrust again instead",
                state.name_en().to_lowercase()
            ),
            Self::TimeOrder => "The step is dated before the entrustment's last change".to_owned(),
            Self::NoStaff => "Name at least one staff member first".to_owned(),
            Self::PeriodOver => "The entrustment's period is over".to_owned(),
            Self::NotOver => "The entrustment's period is not over yet".to_owned(),
            Self::KeyOut { holder } => format!(
                "The key is {}; it must be back with the resident before completion",
                holder.name_en()
            ),
        }
    }
}
