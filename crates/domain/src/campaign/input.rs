//! What is wrong with campaign input: kinds, statuses, slots, forms, answers, target rules and
//! residents' requests. One variant of [`DomainError`], so field errors work as everywhere else.

use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignInput {
    Kind(Echo),
    State(Echo),
    ItemStatus(Echo),
    ItemOutcome(Echo),
    ContactMode(Echo),
    RequestKind(Echo),
    SlotOrder,
    SlotLength { max_days: i64 },
    TextTooLong { max: usize },
    TooMany { max: usize },
    Required,
    FieldKey(Echo),
    FieldKeyDuplicate,
    FieldKind(Echo),
    ChoiceOptions { max: usize },
    FieldUnknown,
    NumberAnswer(Echo),
    ChoiceAnswer(Echo),
    YesNoAnswer(Echo),
    DateAnswer(Echo),
    AgeRange,
    NoArea,
    IncludedAndExcluded,
    PeriodOrder,
}

impl From<CampaignInput> for DomainError {
    fn from(e: CampaignInput) -> Self {
        DomainError::Campaign(e)
    }
}

impl CampaignInput {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Kind(_) => "campaign_kind.invalid",
            Self::State(_) => "campaign_state.invalid",
            Self::ItemStatus(_) => "item_status.invalid",
            Self::ItemOutcome(_) => "item_outcome.invalid",
            Self::ContactMode(_) => "contact_mode.invalid",
            Self::RequestKind(_) => "request_kind.invalid",
            Self::SlotOrder => "slot.order",
            Self::SlotLength { .. } => "slot.length",
            Self::TextTooLong { .. } => "text.too_long",
            Self::TooMany { .. } => "list.too_long",
            Self::Required => "required",
            Self::FieldKey(_) => "form.field_key",
            Self::FieldKeyDuplicate => "form.field_key_duplicate",
            Self::FieldKind(_) => "form.field_kind",
            Self::ChoiceOptions { .. } => "form.choice_options",
            Self::FieldUnknown => "form.field_unknown",
            Self::NumberAnswer(_) => "form.number_answer",
            Self::ChoiceAnswer(_) => "form.choice_answer",
            Self::YesNoAnswer(_) => "form.yes_no_answer",
            Self::DateAnswer(_) => "form.date_answer",
            Self::AgeRange => "rule.age_range",
            Self::NoArea => "rule.no_area",
            Self::IncludedAndExcluded => "rule.included_and_excluded",
            Self::PeriodOrder => "campaign.period_order",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::Kind(e) => format!("未知的行动类型 {e}：应为 摸排、送达上门 或 关爱探访"),
            Self::State(e) => format!("未知的行动状态 {e}"),
            Self::ItemStatus(e) => {
                format!("未知的入户状态 {e}：应为 待入户、已完成、不在家、拒绝、查无此户 或 需跟进")
            }
            Self::ItemOutcome(e) => {
                format!("未知的入户结果 {e}：应为 已完成、不在家、拒绝、查无此户 或 需跟进")
            }
            Self::ContactMode(e) => format!("未知的方式 {e}：应为 入户 或 无接触"),
            Self::RequestKind(e) => format!("未知的登记事项 {e}"),
            Self::SlotOrder => "时段的结束日期不能早于开始日期".to_owned(),
            Self::SlotLength { max_days } => format!("时段最长 {max_days} 天"),
            Self::TextTooLong { max } => format!("最多 {max} 个字"),
            Self::TooMany { max } => format!("最多 {max} 项"),
            Self::Required => "此项必填".to_owned(),
            Self::FieldKey(e) => {
                format!("字段代码 {e} 无效：应为 1–32 个小写字母、数字或下划线，以字母开头")
            }
            Self::FieldKeyDuplicate => "字段代码重复".to_owned(),
            Self::FieldKind(e) => {
                format!("未知的字段类型 {e}：应为 text、number、choice、yes_no、date 或 photo")
            }
            Self::ChoiceOptions { max } => format!("单选字段需要 2 到 {max} 个不同的选项"),
            Self::FieldUnknown => "表单中没有这个字段".to_owned(),
            Self::NumberAnswer(e) => format!("{e} 不是有效的数字"),
            Self::ChoiceAnswer(e) => format!("{e} 不是此项的选项之一"),
            Self::YesNoAnswer(e) => format!("{e} 无效：应为 是 或 否"),
            Self::DateAnswer(e) => format!("{e} 不是有效日期（YYYY-MM-DD）"),
            Self::AgeRange => "年龄范围无效：应在 0–150 岁之间，且下限不大于上限".to_owned(),
            Self::NoArea => "请至少选择一个区域".to_owned(),
            Self::IncludedAndExcluded => "同一户不能既指定包含又指定排除".to_owned(),
            Self::PeriodOrder => "结束日期不能早于开始日期".to_owned(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Kind(e) => {
                format!("unknown campaign kind {e}: expected sweep, delivery or care_check")
            }
            Self::State(e) => format!("unknown campaign state {e}"),
            Self::ItemStatus(e) => format!(
                "unknown item status {e}: expected pending, done, not_home, refused, not_found \
                 or follow_up"
            ),
            Self::ItemOutcome(e) => format!(
                "unknown outcome {e}: expected done, not_home, refused, not_found or follow_up"
            ),
            Self::ContactMode(e) => format!("unknown mode {e}: expected door or contactless"),
            Self::RequestKind(e) => format!("unknown request kind {e}"),
            Self::SlotOrder => "a slot cannot end before it starts".to_owned(),
            Self::SlotLength { max_days } => format!("a slot lasts at most {max_days} days"),
            Self::TextTooLong { max } => format!("At most {max} characters"),
            Self::TooMany { max } => format!("At most {max} entries"),
            Self::Required => "This field is required".to_owned(),
            Self::FieldKey(e) => format!(
                "field key {e} is invalid: 1–32 lower-case letters, digits or underscores, \
                 starting with a letter"
            ),
            Self::FieldKeyDuplicate => "duplicate field key".to_owned(),
            Self::FieldKind(e) => format!(
                "unknown field type {e}: expected text, number, choice, yes_no, date or photo"
            ),
            Self::ChoiceOptions { max } => {
                format!("a choice needs 2 to {max} distinct options")
            }
            Self::FieldUnknown => "the form has no such field".to_owned(),
            Self::NumberAnswer(e) => format!("{e} is not a valid number"),
            Self::ChoiceAnswer(e) => format!("{e} is not one of this field's options"),
            Self::YesNoAnswer(e) => format!("{e} is invalid: expected yes or no"),
            Self::DateAnswer(e) => format!("{e} is not a valid date (YYYY-MM-DD)"),
            Self::AgeRange => {
                "age range is invalid: 0–150 years, the lower bound not above the upper".to_owned()
            }
            Self::NoArea => "choose at least one area".to_owned(),
            Self::IncludedAndExcluded => {
                "a household cannot be both included and excluded".to_owned()
            }
            Self::PeriodOrder => "the end date cannot be before the start date".to_owned(),
        }
    }
}

/// A problem with one field of campaign input (a form definition, answers, a target rule);
/// `field` names it as the API does (`form[2].options`, `answers.f1`, `rule.age_min`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    pub field: String,
    pub error: DomainError,
}

pub(crate) fn problem(field: impl Into<String>, error: CampaignInput) -> InputProblem {
    InputProblem {
        field: field.into(),
        error: error.into(),
    }
}
