//! Entrustment and key custody (委托 / 钥匙托管), DESIGN.md W1 and W2: a resident's consent for
//! named staff to act for them while they are away, and the chain of every hand-over of their
//! door key.
//!
//! Why the rules are what they are:
//! - **Consent first, and exactly what was consented to.** An entrustment is in force only after
//!   the resident confirmed its [`Terms`] (purpose, period, what staff may do, named staff,
//!   contact channel); terms change only before that, so the confirmation covers what is then
//!   done. A resident's pre-registration starts as *requested* and needs the same confirmation
//!   once staff have named themselves: a public form proves nobody's identity.
//! - **The resident can always say no.** Revocation is theirs at any time before completion, and
//!   it ends the consent at once: after it, keys are only brought home, never lent.
//! - **The period bounds what staff do, not what they undo.** Taking a key and lending it must
//!   happen inside the consent window; storing it, taking it back and returning it are accepted
//!   after the window too, because a late key must still be returnable — refusing would leave a
//!   record that says the key is still out. Such events are late, and [`Custody::overdue`] says
//!   so (see [`custody`] for the tolerance before the start).
//! - **The chain is only appended to.** Nothing is edited or deleted; a mistake is annotated by a
//!   correction that names the event by sequence number and never moves the key retroactively.
//! - **Hand-overs between people are confirmed by the other side or witnessed** (see
//!   [`Witness`]): who held the key, when, must be beyond dispute.
//! - **The domain stays free of hashing.** It defines the canonical text of events and terms and
//!   how a receipt code is read from a hash; the store computes the BLAKE3 chain like the audit
//!   trail's (see [`receipt`]).

pub mod custody;
#[cfg(test)]
mod fixtures;
mod input;
pub mod key;
pub mod receipt;
mod state;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

pub use custody::{Custody, CustodyError, Overdue, OverdueKind};
pub use input::EntrustmentInput;
pub use key::{
    CabinetSlot, Company, HolderKind, KeyAction, KeyActionKind, KeyEvent, KeyHolder, KeyNote, Lend,
    PhotoDigest, Witness,
};
pub use receipt::ReceiptCode;
pub use state::{
    Entrustment, EntrustmentError, EntrustmentParty, EntrustmentState, EntrustmentStep,
    HANDOVER_LEAD,
};

use crate::error::{DomainError, Echo};
use crate::reason::may_hold_personal_number;

/// `t` cut to whole microseconds. Both databases keep microseconds, and every time these rules
/// compare passes through here first, so a row read back decides exactly as the value that was
/// accepted (a revocation at .0000007 s must not turn an event at .0000003 s invalid on reload).
fn micros(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .expect("truncated nanoseconds stay in range")
}

/// A staff member's user id. A newtype so that it is never mixed up with event sequence numbers
/// or other ids in the custody rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffId(pub i64);

/// Trimmed, non-empty, at most `max` characters, one line, no personal numbers: what every free
/// text of an entrustment or a key event must be.
fn checked_text(s: &str, max: usize) -> Result<String, EntrustmentInput> {
    let t = s.trim();
    if t.is_empty() {
        return Err(EntrustmentInput::Required);
    }
    if t.chars().any(char::is_control) {
        return Err(EntrustmentInput::TextControl);
    }
    if t.chars().count() > max {
        return Err(EntrustmentInput::TextTooLong { max });
    }
    if may_hold_personal_number(t) {
        return Err(EntrustmentInput::TextNumber);
    }
    Ok(t.to_owned())
}

/// What the entrustment is for (W1: "更换节能窗" — window replacement).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Purpose(String);

impl Purpose {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(s: &str) -> Result<Purpose, DomainError> {
        Ok(Purpose(checked_text(s, Self::MAX_CHARS)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One thing the resident allows named staff to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntrustedAct {
    /// 保管钥匙: take and keep the door key.
    HoldKey,
    /// 为施工人员开门: let contractors in, and lend them the key under supervision.
    LetContractorsIn,
    /// 拍照: take photos inside the home (of the finished work, W1).
    TakePhotos,
}

impl EntrustedAct {
    pub const ALL: [EntrustedAct; 3] = [Self::HoldKey, Self::LetContractorsIn, Self::TakePhotos];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::HoldKey => "hold_key",
            Self::LetContractorsIn => "let_contractors_in",
            Self::TakePhotos => "take_photos",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == t || a.name_zh() == t)
            .ok_or_else(|| EntrustmentInput::Act(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::HoldKey => "保管钥匙",
            Self::LetContractorsIn => "为施工人员开门",
            Self::TakePhotos => "拍照",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::HoldKey => "Hold the key",
            Self::LetContractorsIn => "Let contractors in",
            Self::TakePhotos => "Take photos",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::HoldKey => 1,
            Self::LetContractorsIn => 2,
            Self::TakePhotos => 4,
        }
    }
}

/// What the resident allows: a non-empty set of [`EntrustedAct`]s. Letting contractors in does
/// not imply holding the key (a relative may open the door while staff supervise); lending the
/// key needs both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permissions(u8);

impl Permissions {
    pub fn new(acts: impl IntoIterator<Item = EntrustedAct>) -> Result<Permissions, DomainError> {
        let bits = acts.into_iter().fold(0, |b, a| b | a.bit());
        if bits == 0 {
            return Err(EntrustmentInput::NoAct.into());
        }
        Ok(Permissions(bits))
    }

    /// Reads the stored or submitted list: act names (or their Chinese names) separated by
    /// commas, 、 or spaces.
    pub fn parse(s: &str) -> Result<Permissions, DomainError> {
        let acts = s
            .split([',', '，', '、', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(EntrustedAct::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(acts)
    }

    pub fn contains(&self, act: EntrustedAct) -> bool {
        self.0 & act.bit() != 0
    }

    /// The acts in [`EntrustedAct::ALL`] order.
    pub fn acts(&self) -> impl Iterator<Item = EntrustedAct> + '_ {
        EntrustedAct::ALL.into_iter().filter(|a| self.contains(*a))
    }

    /// The storage form, which [`Permissions::parse`] reads back: `hold_key,take_photos`.
    pub fn as_list(&self) -> String {
        self.acts()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// How staff reach the resident while they are away (receipts, photos, the confirmation code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    PhoneCall,
    Sms,
    WeChat,
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 3] = [Self::PhoneCall, Self::Sms, Self::WeChat];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::PhoneCall => "phone_call",
            Self::Sms => "sms",
            Self::WeChat => "wechat",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == t || c.name_zh() == t)
            .ok_or_else(|| EntrustmentInput::Channel(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::PhoneCall => "电话",
            Self::Sms => "短信",
            Self::WeChat => "微信",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::PhoneCall => "Phone call",
            Self::Sms => "SMS",
            Self::WeChat => "WeChat",
        }
    }
}

/// When staff may act: a half-open interval `[starts_at, ends_at)`, at most [`MAX_PERIOD`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntrustmentPeriod {
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
}

/// A quarter of a year: long enough for any renovation or business trip, short enough that a
/// forgotten entrustment does not leave a key with staff indefinitely. Longer absences are
/// entrusted again, with a fresh confirmation.
pub const MAX_PERIOD: Duration = Duration::days(92);

impl EntrustmentPeriod {
    pub fn new(
        starts_at: OffsetDateTime,
        ends_at: OffsetDateTime,
    ) -> Result<EntrustmentPeriod, DomainError> {
        let (starts_at, ends_at) = (micros(starts_at), micros(ends_at));
        if ends_at <= starts_at {
            return Err(EntrustmentInput::PeriodOrder.into());
        }
        if ends_at - starts_at > MAX_PERIOD {
            return Err(EntrustmentInput::PeriodLength {
                max_days: MAX_PERIOD.whole_days(),
            }
            .into());
        }
        Ok(EntrustmentPeriod { starts_at, ends_at })
    }

    /// Whole days as a resident picks them on a form: from the start of `first` to the end of
    /// `last` in local time `offset` (Beijing time, +08:00, in practice).
    pub fn from_days(
        first: Date,
        last: Date,
        offset: UtcOffset,
    ) -> Result<EntrustmentPeriod, DomainError> {
        let end_day = last.next_day().ok_or(DomainError::Date)?;
        Self::new(
            first.with_time(Time::MIDNIGHT).assume_offset(offset),
            end_day.with_time(Time::MIDNIGHT).assume_offset(offset),
        )
    }

    pub fn starts_at(&self) -> OffsetDateTime {
        self.starts_at
    }

    /// The first instant after the period.
    pub fn ends_at(&self) -> OffsetDateTime {
        self.ends_at
    }
}

/// The staff members the resident names: only they touch the key. Sorted, without duplicates,
/// at most [`NamedStaff::MAX`]. Empty only on a resident's request nobody has taken on yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NamedStaff(Vec<StaffId>);

impl NamedStaff {
    /// A grid worker and the colleagues who cover for them; more hands than this is no longer
    /// a named person the resident can hold to account.
    pub const MAX: usize = 5;

    pub fn new(ids: impl IntoIterator<Item = StaffId>) -> Result<NamedStaff, DomainError> {
        let mut ids: Vec<StaffId> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > Self::MAX {
            return Err(EntrustmentInput::TooManyStaff { max: Self::MAX }.into());
        }
        Ok(NamedStaff(ids))
    }

    pub fn contains(&self, id: StaffId) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    pub fn ids(&self) -> &[StaffId] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the resident consents to. The dwelling and the resident are the store's rows; nothing
/// here is personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Terms {
    pub purpose: Purpose,
    pub period: EntrustmentPeriod,
    pub permissions: Permissions,
    pub channel: ContactChannel,
    pub staff: NamedStaff,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset};

    #[test]
    fn purposes_are_short_single_lines_without_numbers() {
        assert_eq!(
            Purpose::parse(" 更换节能窗 ").unwrap().as_str(),
            "更换节能窗"
        );
        let code = |s: &str| Purpose::parse(s).unwrap_err().code();
        assert_eq!(code("  "), "required");
        assert_eq!(code(&"窗".repeat(61)), "text.too_long");
        assert_eq!(code("换窗\n顺便修门"), "text.control_char");
        assert_eq!(code("换窗，联系13912345678"), "text.personal_number");
        assert!(Purpose::parse("3号楼2单元换窗").is_ok());
    }

    #[test]
    fn permissions_are_a_non_empty_set() {
        use EntrustedAct::*;
        let p = Permissions::new([TakePhotos, HoldKey, HoldKey]).unwrap();
        assert!(p.contains(HoldKey) && p.contains(TakePhotos) && !p.contains(LetContractorsIn));
        assert_eq!(p.as_list(), "hold_key,take_photos");
        assert_eq!(Permissions::parse(&p.as_list()).unwrap(), p);
        assert_eq!(
            Permissions::parse("保管钥匙、为施工人员开门")
                .unwrap()
                .as_list(),
            "hold_key,let_contractors_in"
        );
        assert_eq!(
            Permissions::parse(" ").unwrap_err().code(),
            "entrustment.no_permission"
        );
        assert_eq!(
            Permissions::parse("hold_key,cook").unwrap_err().code(),
            "entrustment.permission_invalid"
        );
        for a in EntrustedAct::ALL {
            assert_eq!(EntrustedAct::parse(a.name_zh()).unwrap(), a);
            assert!(!a.name_en().is_empty());
        }
    }

    #[test]
    fn channels_round_trip() {
        for c in ContactChannel::ALL {
            assert_eq!(ContactChannel::parse(c.as_str()).unwrap(), c);
            assert_eq!(ContactChannel::parse(c.name_zh()).unwrap(), c);
            assert!(!c.name_en().is_empty());
        }
        let e = ContactChannel::parse("pigeon").unwrap_err();
        assert_eq!(e.code(), "contact_channel.invalid");
        assert!(e.message_zh().contains("“pigeon”"));
    }

    #[test]
    fn periods_are_ordered_and_at_most_a_quarter() {
        let start = datetime!(2026-11-10 00:00 +08:00);
        assert!(EntrustmentPeriod::new(start, start + Duration::days(92)).is_ok());
        let code = |end| EntrustmentPeriod::new(start, end).unwrap_err().code();
        assert_eq!(code(start), "entrustment.period_order");
        assert_eq!(
            code(start + Duration::days(93)),
            "entrustment.period_length"
        );
        let days =
            EntrustmentPeriod::from_days(date!(2026 - 11 - 11), date!(2026 - 11 - 13), offset!(+8))
                .unwrap();
        assert_eq!(days.starts_at(), datetime!(2026-11-11 00:00 +08:00));
        assert_eq!(days.ends_at(), datetime!(2026-11-14 00:00 +08:00));
        // One day is a valid period: it ends at the next midnight.
        assert!(
            EntrustmentPeriod::from_days(date!(2026 - 11 - 11), date!(2026 - 11 - 11), offset!(+8))
                .is_ok()
        );
    }

    #[test]
    fn named_staff_are_a_small_set() {
        let s = NamedStaff::new([StaffId(9), StaffId(3), StaffId(9)]).unwrap();
        assert_eq!(s.ids(), [StaffId(3), StaffId(9)]);
        assert!(s.contains(StaffId(9)) && !s.contains(StaffId(4)));
        assert!(NamedStaff::new([]).unwrap().is_empty());
        assert_eq!(
            NamedStaff::new((1..=6).map(StaffId)).unwrap_err().code(),
            "entrustment.too_many_staff"
        );
    }
}
