//! What is wrong with entrustment and key-custody input: texts, permissions, channels, periods,
//! named staff, cabinet slots, photos, witnesses, stored codes and receipt codes. One variant of
//! [`DomainError`], so field errors work as everywhere else.

use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrustmentInput {
    State(Echo),
    Act(Echo),
    /// An entrustment that allows nothing is not an entrustment.
    NoAct,
    Channel(Echo),
    PeriodOrder,
    PeriodLength {
        max_days: i64,
    },
    TooManyStaff {
        max: usize,
    },
    Required,
    TextTooLong {
        max: usize,
    },
    /// Line breaks and other control characters: they would make the canonical text of an event
    /// ambiguous, and nobody needs them in a purpose or a note.
    TextControl,
    /// Seven digits or more in a row: possibly an ID or phone number, which the trail must not
    /// keep in clear.
    TextNumber,
    CabinetSlot(Echo),
    PhotoDigest,
    Witness(Echo),
    KeyAction(Echo),
    ReceiptCode,
}

impl From<EntrustmentInput> for DomainError {
    fn from(e: EntrustmentInput) -> Self {
        DomainError::Entrustment(e)
    }
}

impl EntrustmentInput {
    pub fn code(&self) -> &'static str {
        match self {
            Self::State(_) => "entrustment_state.invalid",
            Self::Act(_) => "entrustment.permission_invalid",
            Self::NoAct => "entrustment.no_permission",
            Self::Channel(_) => "contact_channel.invalid",
            Self::PeriodOrder => "entrustment.period_order",
            Self::PeriodLength { .. } => "entrustment.period_length",
            Self::TooManyStaff { .. } => "entrustment.too_many_staff",
            Self::Required => "required",
            Self::TextTooLong { .. } => "text.too_long",
            Self::TextControl => "text.control_char",
            Self::TextNumber => "text.personal_number",
            Self::CabinetSlot(_) => "cabinet_slot.invalid",
            Self::PhotoDigest => "photo_digest.invalid",
            Self::Witness(_) => "witness.invalid",
            Self::KeyAction(_) => "key_action.invalid",
            Self::ReceiptCode => "receipt_code.invalid",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::State(e) => format!("未知的委托状态 {e}"),
            Self::Act(e) => {
                format!("未知的委托事项 {e}：应为 保管钥匙、为施工人员开门 或 拍照")
            }
            Self::NoAct => "请至少选择一项委托事项".to_owned(),
            Self::Channel(e) => format!("未知的联系方式 {e}：应为 电话、短信 或 微信"),
            Self::PeriodOrder => "委托结束时间应晚于开始时间".to_owned(),
            Self::PeriodLength { max_days } => {
                format!("委托期限最长 {max_days} 天，更长时间请到期后重新委托")
            }
            Self::TooManyStaff { max } => format!("受托工作人员最多 {max} 名"),
            Self::Required => "此项必填".to_owned(),
            Self::TextTooLong { max } => format!("最多 {max} 个字"),
            Self::TextControl => "不能包含换行或控制字符".to_owned(),
            Self::TextNumber => "不要填写身份证号、手机号等号码（会记入托管记录）".to_owned(),
            Self::CabinetSlot(e) => {
                format!("钥匙柜格位 {e} 无效：应为一个字母加编号，如 A-03")
            }
            Self::PhotoDigest => "照片摘要无效".to_owned(),
            Self::Witness(e) => {
                format!("未知的见证方式 {e}：应为 同事见证、居民确认 或 施工人员确认")
            }
            Self::KeyAction(e) => format!("未知的钥匙交接事项 {e}"),
            Self::ReceiptCode => {
                "核验码应为 8 位字母或数字（可带短横线），请对照回执重新输入".to_owned()
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::State(e) => format!("unknown entrustment state {e}"),
            Self::Act(e) => format!(
                "unknown entrusted act {e}: expected hold_key, let_contractors_in or take_photos"
            ),
            Self::NoAct => "choose at least one thing staff may do".to_owned(),
            Self::Channel(e) => {
                format!("unknown contact channel {e}: expected phone_call, sms or wechat")
            }
            Self::PeriodOrder => "the entrustment must end after it starts".to_owned(),
            Self::PeriodLength { max_days } => {
                format!("an entrustment lasts at most {max_days} days; entrust again when it ends")
            }
            Self::TooManyStaff { max } => format!("at most {max} staff members can be named"),
            Self::Required => "This field is required".to_owned(),
            Self::TextTooLong { max } => format!("At most {max} characters"),
            Self::TextControl => "line breaks and control characters are not allowed".to_owned(),
            Self::TextNumber => "do not put ID or phone numbers here (it goes into the key \
                                 custody record)"
                .to_owned(),
            Self::CabinetSlot(e) => format!(
                "key cabinet slot {e} is invalid: expected a letter and a number, like A-03"
            ),
            Self::PhotoDigest => "the photo digest is invalid".to_owned(),
            Self::Witness(e) => {
                format!("unknown witness {e}: expected colleague, resident or contractor")
            }
            Self::KeyAction(e) => format!("unknown key event {e}"),
            Self::ReceiptCode => "a verification code has 8 letters or digits (hyphens \
                                  allowed); check it against the receipt"
                .to_owned(),
        }
    }
}
