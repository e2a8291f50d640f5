//! The one error type of the domain layer.
//!
//! Privacy: no variant ever holds a whole ID or phone number. Rejected free text is echoed only
//! through [`Echo`], which refuses anything that could be such a number.

use std::fmt;

use crate::work_order::{ActionKind, MAX_ESCALATION_LEVEL, WorkOrderState};

/// A short, safe copy of rejected input, shown to the user so they can see what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo(Option<String>);

impl Echo {
    /// Inputs longer than this, or with this many digits, are not echoed: they might be an ID
    /// or phone number typed into the wrong column.
    const MAX_CHARS: usize = 16;
    const MAX_DIGITS: usize = 4;

    pub(crate) fn of(input: &str) -> Self {
        let input = input.trim();
        let digits = input.chars().filter(char::is_ascii_digit).count();
        let safe = input.chars().count() <= Self::MAX_CHARS
            && digits <= Self::MAX_DIGITS
            && !input.chars().any(char::is_control);
        Self(safe.then(|| input.to_owned()))
    }
}

impl fmt::Display for Echo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(s) => write!(f, "“{s}”"),
            None => f.write_str("(hidden)"),
        }
    }
}

/// What is wrong with a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    Empty,
    NotDigits,
    /// Starts with 1 but is not an 11-digit mobile with a second digit 3–9.
    BadMobile {
        digits: usize,
    },
    /// Starts with 0 but is not a 10–12 digit landline.
    BadLandline {
        digits: usize,
    },
    /// Starts with neither 1 (mobile) nor 0 (landline area code).
    BadStart,
}

/// What is wrong with an area code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaCodeProblem {
    NotDigits,
    Length(usize),
}

/// What is wrong with a person's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameCharProblem {
    Control,
    Digit,
}

/// Why a work order refused an action: a conflict with its current state (HTTP 409). Names
/// states and actions only, never the order's free text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub enum TransitionError {
    Illegal {
        state: WorkOrderState,
        action: ActionKind,
    },
    /// The action is dated before the order's last transition.
    TimeOrder,
    /// Escalation before the deadline (or before the next level's window).
    NotOverdue,
    EscalationMax,
    /// A request while another one awaits a decision.
    RequestPending {
        pending: ActionKind,
    },
    /// An approval or denial with no matching request pending.
    NoPendingRequest {
        action: ActionKind,
    },
    ReopenWindow {
        days: i64,
    },
    SameUnit,
    ExtensionLength,
}

impl TransitionError {
    /// Stable machine code, safe to store and to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Illegal { .. } => "work_order.illegal_transition",
            Self::TimeOrder => "work_order.time_order",
            Self::NotOverdue => "work_order.not_overdue",
            Self::EscalationMax => "work_order.escalation_max",
            Self::RequestPending { .. } => "work_order.request_pending",
            Self::NoPendingRequest { .. } => "work_order.no_pending_request",
            Self::ReopenWindow { .. } => "work_order.reopen_window",
            Self::SameUnit => "work_order.same_unit",
            Self::ExtensionLength => "work_order.extension_length",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::Illegal { state, action } => format!(
                "工单当前状态为「{}」，不能执行「{}」",
                state.name_zh(),
                action.name_zh()
            ),
            Self::TimeOrder => "操作时间早于工单上一步的时间".to_owned(),
            Self::NotOverdue => "工单尚未超过时限（或尚未到下一级升级时限），不能升级".to_owned(),
            Self::EscalationMax => {
                format!("工单已升级到最高的第 {MAX_ESCALATION_LEVEL} 级，不能再升级")
            }
            Self::RequestPending { pending } => {
                format!("工单已有待审批的「{}」，请先批准或驳回", pending.name_zh())
            }
            Self::NoPendingRequest { action } => {
                format!("工单没有相应的待审批申请，不能执行「{}」", action.name_zh())
            }
            Self::ReopenWindow { days } => {
                format!("工单关闭已超过 {days} 天，不能重办，请新建工单")
            }
            Self::SameUnit => "工单已在该处置单位，请改派给其他单位".to_owned(),
            Self::ExtensionLength => "延期时长应在 1 分钟到 366 天之间（整秒）".to_owned(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Illegal { state, action } => format!(
                "The work order is {}; it cannot {}",
                state.name_en().to_lowercase(),
                action.cannot_en()
            ),
            Self::TimeOrder => "The action is dated before the work order's last step".to_owned(),
            Self::NotOverdue => "The work order is not past its deadline (or its next \
                                 escalation point); it cannot be escalated yet"
                .to_owned(),
            Self::EscalationMax => format!(
                "The work order is at the highest escalation level ({MAX_ESCALATION_LEVEL}); \
                 it cannot be escalated further"
            ),
            Self::RequestPending { pending } => format!(
                "The work order already has a pending request ({}); approve or deny it first",
                pending.name_en().to_lowercase()
            ),
            Self::NoPendingRequest { action } => format!(
                "The work order has no matching pending request; it cannot {}",
                action.cannot_en()
            ),
            Self::ReopenWindow { days } => format!(
                "The work order was closed more than {days} days ago; it cannot be reopened \
                 (report a new one)"
            ),
            Self::SameUnit => {
                "The work order is already with that unit; reassign it to another".to_owned()
            }
            Self::ExtensionLength => {
                "An extension must be between 1 minute and 366 days, in whole seconds".to_owned()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub enum DomainError {
    IdNumberLength {
        found: usize,
    },
    /// `position` is 1-based.
    IdNumberCharset {
        position: usize,
    },
    IdNumberBirthDate,
    IdNumberChecksum {
        expected: char,
        found: char,
    },
    IdNumberSequence {
        found: u16,
    },
    Phone(PhoneProblem),
    AreaCode(AreaCodeProblem),
    AreaLevel(Echo),
    AreaPath,
    Relation(Echo),
    ResidenceType(Echo),
    Sensitivity(Echo),
    PlaceKind(Echo),
    TagCode,
    NameEmpty,
    NameTooLong {
        found: usize,
        max: usize,
    },
    NameInvalidChar(NameCharProblem),
    Sex(Echo),
    /// A date outside what the rule accepts (e.g. a birth year before 1880).
    Date,
    Role(Echo),
    Username,
    PasswordTooShort {
        min: usize,
    },
    PasswordClasses {
        found: usize,
    },
    ReasonLength,
    ReasonNumber,
    VisitOutcome(Echo),
    AssistState(Echo),
    WorkOrderState(Echo),
    Priority(Echo),
    Satisfaction(Echo),
    /// An SLA outside 1 minute – 366 days (or with a fraction of a second).
    SlaDuration,
    WorkOrder(TransitionError),
    Campaign(crate::campaign::CampaignInput),
    Entrustment(crate::entrustment::EntrustmentInput),
}

impl From<TransitionError> for DomainError {
    fn from(e: TransitionError) -> Self {
        Self::WorkOrder(e)
    }
}

impl DomainError {
    /// Stable machine code, safe to store and to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IdNumberLength { .. } => "id_number.length",
            Self::IdNumberCharset { .. } => "id_number.charset",
            Self::IdNumberBirthDate => "id_number.birth_date",
            Self::IdNumberChecksum { .. } => "id_number.checksum",
            Self::IdNumberSequence { .. } => "id_number.sequence",
            Self::Phone(_) => "phone.invalid",
            Self::AreaCode(_) => "area_code.invalid",
            Self::AreaLevel(_) => "area_level.invalid",
            Self::AreaPath => "area_path.invalid",
            Self::Relation(_) => "relation.invalid",
            Self::ResidenceType(_) => "residence_type.invalid",
            Self::Sensitivity(_) => "sensitivity.invalid",
            Self::PlaceKind(_) => "place_kind.invalid",
            Self::TagCode => "tag_code.invalid",
            Self::NameEmpty => "name.empty",
            Self::NameTooLong { .. } => "name.too_long",
            Self::NameInvalidChar(_) => "name.invalid_char",
            Self::Sex(_) => "sex.invalid",
            Self::Date => "date.invalid",
            Self::Role(_) => "role.invalid",
            Self::Username => "username.invalid",
            Self::PasswordTooShort { .. } => "password.too_short",
            Self::PasswordClasses { .. } => "password.too_simple",
            Self::ReasonLength => "reason.length",
            Self::ReasonNumber => "reason.personal_number",
            Self::VisitOutcome(_) => "visit_outcome.invalid",
            Self::AssistState(_) => "assist_state.invalid",
            Self::WorkOrderState(_) => "work_order_state.invalid",
            Self::Priority(_) => "priority.invalid",
            Self::Satisfaction(_) => "satisfaction.invalid",
            Self::SlaDuration => "work_order.sla",
            Self::WorkOrder(e) => e.code(),
            Self::Campaign(e) => e.code(),
            Self::Entrustment(e) => e.code(),
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::IdNumberLength { found } => {
                format!("身份证号应为 18 位（或旧版 15 位），实为 {found} 位")
            }
            Self::IdNumberCharset { position } => format!(
                "身份证号第 {position} 位字符无效：前 17 位须为数字，第 18 位为数字或 X（旧版 15 位全为数字）"
            ),
            Self::IdNumberBirthDate => {
                "身份证号中的出生日期不是有效日期（或早于 1880 年）".to_owned()
            }
            Self::IdNumberChecksum { expected, found } => {
                format!("身份证号校验位错误：应为 {expected}，实为 {found}")
            }
            Self::IdNumberSequence { found } => {
                format!("身份证顺序码应在 0–999 之间，实为 {found}")
            }
            Self::Phone(p) => match p {
                PhoneProblem::Empty => "电话号码为空".to_owned(),
                PhoneProblem::NotDigits => "电话号码含有数字以外的字符".to_owned(),
                PhoneProblem::BadMobile { digits } => {
                    format!("手机号应为 11 位、以 13–19 开头，实为 {digits} 位或第二位无效")
                }
                PhoneProblem::BadLandline { digits } => {
                    format!("固定电话应为区号加号码共 10–12 位，实为 {digits} 位")
                }
                PhoneProblem::BadStart => "电话号码应以 1（手机）或 0（固话区号）开头".to_owned(),
            },
            Self::AreaCode(p) => match p {
                AreaCodeProblem::NotDigits => "区划代码只能包含数字".to_owned(),
                AreaCodeProblem::Length(n) => {
                    format!("区划代码应为 6、9、12 或 15 位数字，实为 {n} 位")
                }
            },
            Self::AreaLevel(e) => {
                format!("未知的区域层级 {e}：应为 市、区/县、街道/乡镇、社区/村 或 网格")
            }
            Self::AreaPath => "区域路径格式无效，应形如 /1/5/9/".to_owned(),
            Self::Relation(e) => format!("未知的与户主关系 {e}（GB/T 4761 代码或称谓）"),
            Self::ResidenceType(e) => {
                format!("未知的人口类型 {e}：应为 户籍、常住、流动 或 境外")
            }
            Self::Sensitivity(e) => {
                format!("未知的标签类别 {e}：应为 关爱、管控、统战 或 健康")
            }
            Self::PlaceKind(e) => {
                format!("未知的地点类型 {e}：应为 小区、楼栋、单元 或 户室")
            }
            Self::TagCode => "标签代码应为 2–40 个小写字母、数字或下划线，且以字母开头".to_owned(),
            Self::NameEmpty => "姓名不能为空".to_owned(),
            Self::NameTooLong { found, max } => {
                format!("姓名过长：最多 {max} 个字，实为 {found} 个字")
            }
            Self::NameInvalidChar(NameCharProblem::Control) => "姓名含有控制字符".to_owned(),
            Self::NameInvalidChar(NameCharProblem::Digit) => "姓名不能包含数字".to_owned(),
            Self::Sex(e) => format!("未知的性别 {e}：应为 男、女 或代码 0/1/2/9"),
            Self::Date => "日期无效或超出允许范围".to_owned(),
            Self::Role(e) => format!("未知的角色 {e}"),
            Self::Username => {
                "用户名应为 3–32 个小写字母、数字、点、下划线或连字符，且以字母开头".to_owned()
            }
            Self::PasswordTooShort { min } => format!("密码至少需要 {min} 个字符"),
            Self::PasswordClasses { found } => {
                format!("密码须包含大写字母、小写字母、数字、符号中的至少三类，实为 {found} 类")
            }
            Self::ReasonLength => "请说明查看理由（2–200 字）".to_owned(),
            Self::ReasonNumber => "理由中不要写身份证号、手机号等号码（会记入审计日志）".to_owned(),
            Self::VisitOutcome(e) => format!("未知的走访结果 {e}：应为 在家、不在家、拒访 或 电话"),
            Self::AssistState(e) => {
                format!("未知的协助状态 {e}：应为 待接受、已接受、已婉拒、已完成 或 已撤回")
            }
            Self::WorkOrderState(e) => format!(
                "未知的工单状态 {e}：应为 已上报、已受理、已派遣、处置中、办结待回访、已关闭、不予受理 或 已挂起"
            ),
            Self::Priority(e) => format!("未知的优先级 {e}：应为 紧急、高、一般 或 低"),
            Self::Satisfaction(e) => {
                format!("未知的满意度 {e}：应为 满意、基本满意 或 不满意")
            }
            Self::SlaDuration => "办理时限应在 1 分钟到 366 天之间（整秒）".to_owned(),
            Self::WorkOrder(e) => e.message_zh(),
            Self::Campaign(e) => e.message_zh(),
            Self::Entrustment(e) => e.message_zh(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::IdNumberLength { found } => format!(
                "ID number must have 18 characters (or 15 for the old format), found {found}"
            ),
            Self::IdNumberCharset { position } => format!(
                "ID number character {position} is invalid: the first 17 must be digits and the \
                 18th a digit or X (old 15-character numbers are all digits)"
            ),
            Self::IdNumberBirthDate => {
                "ID number birth date is not a real date (or is before 1880)".to_owned()
            }
            Self::IdNumberChecksum { expected, found } => {
                format!("ID number check character is wrong: expected {expected}, found {found}")
            }
            Self::IdNumberSequence { found } => {
                format!("ID number sequence must be 0–999, found {found}")
            }
            Self::Phone(p) => match p {
                PhoneProblem::Empty => "phone number is empty".to_owned(),
                PhoneProblem::NotDigits => {
                    "phone number contains characters other than digits".to_owned()
                }
                PhoneProblem::BadMobile { digits } => format!(
                    "mobile number must have 11 digits starting 13–19, found {digits} digits \
                     or an invalid second digit"
                ),
                PhoneProblem::BadLandline { digits } => format!(
                    "landline number must have 10–12 digits including the area code, found {digits}"
                ),
                PhoneProblem::BadStart => {
                    "phone number must start with 1 (mobile) or 0 (landline area code)".to_owned()
                }
            },
            Self::AreaCode(p) => match p {
                AreaCodeProblem::NotDigits => "area code must contain digits only".to_owned(),
                AreaCodeProblem::Length(n) => {
                    format!("area code must have 6, 9, 12 or 15 digits, found {n}")
                }
            },
            Self::AreaLevel(e) => format!(
                "unknown area level {e}: expected city, district, subdistrict, community or grid"
            ),
            Self::AreaPath => "area path is malformed; expected a form like /1/5/9/".to_owned(),
            Self::Relation(e) => {
                format!("unknown relation to householder {e} (GB/T 4761 code or term)")
            }
            Self::ResidenceType(e) => format!(
                "unknown residence type {e}: expected registered, permanent, migrant or foreign"
            ),
            Self::Sensitivity(e) => format!(
                "unknown tag sensitivity {e}: expected care, control, united_front or health"
            ),
            Self::PlaceKind(e) => {
                format!("unknown place kind {e}: expected compound, building, unit or dwelling")
            }
            Self::TagCode => "tag code must be 2–40 lower-case letters, digits or underscores, \
                              starting with a letter"
                .to_owned(),
            Self::NameEmpty => "name is empty".to_owned(),
            Self::NameTooLong { found, max } => {
                format!("name is too long: at most {max} characters, found {found}")
            }
            Self::NameInvalidChar(NameCharProblem::Control) => {
                "name contains a control character".to_owned()
            }
            Self::NameInvalidChar(NameCharProblem::Digit) => "name contains a digit".to_owned(),
            Self::Sex(e) => {
                format!("unknown sex {e}: expected male, female or code 0/1/2/9")
            }
            Self::Date => "date is invalid or out of the accepted range".to_owned(),
            Self::Role(e) => format!("unknown role {e}"),
            Self::Username => "user name must be 3–32 lower-case letters, digits, dots, \
                               underscores or hyphens, starting with a letter"
                .to_owned(),
            Self::PasswordTooShort { min } => {
                format!("password must have at least {min} characters")
            }
            Self::PasswordClasses { found } => format!(
                "password must mix at least three of upper-case, lower-case, digits and \
                 symbols; found {found}"
            ),
            Self::ReasonLength => "say why you need this (2–200 characters)".to_owned(),
            Self::ReasonNumber => {
                "do not put ID or phone numbers in the reason (it goes into the audit trail)"
                    .to_owned()
            }
            Self::VisitOutcome(e) => {
                format!("unknown visit outcome {e}: expected at_home, not_home, refused or phone")
            }
            Self::AssistState(e) => format!(
                "unknown assist state {e}: expected requested, accepted, declined, done or cancelled"
            ),
            Self::WorkOrderState(e) => format!(
                "unknown work order state {e}: expected reported, accepted, dispatched, \
                 in_progress, resolved, closed, rejected or suspended"
            ),
            Self::Priority(e) => {
                format!("unknown priority {e}: expected urgent, high, normal or low")
            }
            Self::Satisfaction(e) => format!(
                "unknown satisfaction {e}: expected satisfied, basically_satisfied or dissatisfied"
            ),
            Self::SlaDuration => {
                "SLA must be between 1 minute and 366 days, in whole seconds".to_owned()
            }
            Self::WorkOrder(e) => e.message_en(),
            Self::Campaign(e) => e.message_en(),
            Self::Entrustment(e) => e.message_en(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_hides_number_like_input() {
        assert_eq!(Echo::of(" 配偶 ").to_string(), "“配偶”");
        assert_eq!(Echo::of("13912345678").to_string(), "(hidden)");
        assert_eq!(
            Echo::of("a very long piece of free text").to_string(),
            "(hidden)"
        );
    }

    #[test]
    fn display_is_english_message() {
        let e = DomainError::IdNumberChecksum {
            expected: '8',
            found: '1',
        };
        assert_eq!(
            e.to_string(),
            "ID number check character is wrong: expected 8, found 1"
        );
        assert_eq!(e.message_zh(), "身份证号校验位错误：应为 8，实为 1");
        assert_eq!(e.code(), "id_number.checksum");
        let e = DomainError::IdNumberLength { found: 17 };
        assert_eq!(
            e.message_zh(),
            "身份证号应为 18 位（或旧版 15 位），实为 17 位"
        );
    }
}
