//! The key and what happens to it: cabinet slots, holders, witnesses, and the events of the
//! custody chain. The rules that join them are in [`super::custody`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{EntrustmentInput, StaffId, checked_text, micros};
use crate::error::{DomainError, Echo};
use crate::name::PersonName;
use crate::phone::PhoneNumber;

/// A numbered hook in the community's key cabinet (钥匙柜): a block letter and a number, shown
/// as `A-03`. Typed as `a3`, `A03`, `A-3` or `A 03`, all the same slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CabinetSlot(String);

impl CabinetSlot {
    /// Slots per block; a cabinet with more hooks gets another letter.
    pub const MAX_NUMBER: u16 = 999;

    pub fn parse(s: &str) -> Result<CabinetSlot, DomainError> {
        let bad = || DomainError::from(EntrustmentInput::CabinetSlot(Echo::of(s)));
        let t = s.trim();
        let mut chars = t.chars();
        let block = chars
            .next()
            .filter(char::is_ascii_alphabetic)
            .ok_or_else(bad)?
            .to_ascii_uppercase();
        let rest = chars.as_str().trim_start_matches([' ', '-', '－']);
        if rest.is_empty() || rest.len() > 3 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number: u16 = rest.parse().map_err(|_| bad())?;
        if !(1..=Self::MAX_NUMBER).contains(&number) {
            return Err(bad());
        }
        Ok(CabinetSlot(format!("{block}-{number:02}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The BLAKE3 content hash of a photo attached to an event (the attachment row's
/// `content_hash`, 64 hex digits). The chain covers the digest, so a photo swapped on disk no
/// longer matches its event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhotoDigest(String);

impl PhotoDigest {
    pub fn parse(s: &str) -> Result<PhotoDigest, DomainError> {
        let t = s.trim().to_ascii_lowercase();
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(EntrustmentInput::PhotoDigest.into());
        }
        Ok(PhotoDigest(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The contractor's company, as they name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Company(String);

impl Company {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(s: &str) -> Result<Company, DomainError> {
        Ok(Company(checked_text(s, Self::MAX_CHARS)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What happened, in a loss report or a correction. Kept in the chain, so one line and no
/// personal numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyNote(String);

impl KeyNote {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<KeyNote, DomainError> {
        Ok(KeyNote(checked_text(s, Self::MAX_CHARS)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who confirmed a hand-over besides the staff member recording it.
///
/// A hand-over between a staff member and someone outside (the resident, a contractor) is
/// confirmed by that other side — the resident enters the code sent to them, the contractor
/// signs — or witnessed by a colleague who was there. Either settles "I never got it" / "I gave
/// it back". Moves inside staff custody (into and out of the cabinet) need no witness: the actor
/// is signed in and the cabinet is the office's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Witness {
    /// A colleague who was present; never the actor.
    Colleague(StaffId),
    /// The resident confirmed the hand-over themselves.
    Resident,
    /// The contractor confirmed (signed for) the hand-over.
    Contractor,
}

impl Witness {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Colleague(_) => "colleague",
            Self::Resident => "resident",
            Self::Contractor => "contractor",
        }
    }

    /// Rebuilds a stored witness: its kind and, for a colleague, their id.
    pub fn from_parts(kind: &str, colleague: Option<StaffId>) -> Result<Witness, DomainError> {
        match (kind.trim(), colleague) {
            ("colleague", Some(id)) => Ok(Self::Colleague(id)),
            ("resident", None) => Ok(Self::Resident),
            ("contractor", None) => Ok(Self::Contractor),
            (k, _) => Err(EntrustmentInput::Witness(Echo::of(k)).into()),
        }
    }

    pub fn colleague(&self) -> Option<StaffId> {
        match self {
            Self::Colleague(id) => Some(*id),
            _ => None,
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Colleague(_) => "同事见证",
            Self::Resident => "居民确认",
            Self::Contractor => "施工人员确认",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Colleague(_) => "Witnessed by a colleague",
            Self::Resident => "Confirmed by the resident",
            Self::Contractor => "Confirmed by the contractor",
        }
    }
}

/// A key lent to a contractor under a staff member's supervision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lend {
    pub contractor: PersonName,
    pub company: Company,
    /// Sealed by the store like every personal number; the chain holds only its masked form.
    pub phone: PhoneNumber,
    /// After the lend and no later than the period's end (checked when lent).
    pub expected_return: OffsetDateTime,
    /// Answers for the key while it is lent; one of the named staff.
    pub supervisor: StaffId,
}

/// What happened to the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyAction {
    ReceivedFromResident,
    Stored {
        slot: CabinetSlot,
    },
    /// Out of the cabinet into the actor's hands (to open the door, to lend, to give back).
    /// Keys change staff hands only through the cabinet, so each holding has one name on it.
    TakenFromCabinet,
    LentToContractor(Lend),
    /// Back in the actor's hands from a contractor, or found after a loss.
    ReturnedToCustody,
    ReturnedToResident,
    Lost {
        note: KeyNote,
    },
    /// Annotates event `of` (a sequence number); moves nothing.
    Correction {
        of: u32,
        note: KeyNote,
    },
}

impl KeyAction {
    pub fn kind(&self) -> KeyActionKind {
        match self {
            Self::ReceivedFromResident => KeyActionKind::ReceivedFromResident,
            Self::Stored { .. } => KeyActionKind::Stored,
            Self::TakenFromCabinet => KeyActionKind::TakenFromCabinet,
            Self::LentToContractor(_) => KeyActionKind::LentToContractor,
            Self::ReturnedToCustody => KeyActionKind::ReturnedToCustody,
            Self::ReturnedToResident => KeyActionKind::ReturnedToResident,
            Self::Lost { .. } => KeyActionKind::Lost,
            Self::Correction { .. } => KeyActionKind::Correction,
        }
    }
}

/// A [`KeyAction`] without its data: what storage, pages and error messages name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyActionKind {
    ReceivedFromResident,
    Stored,
    TakenFromCabinet,
    LentToContractor,
    ReturnedToCustody,
    ReturnedToResident,
    Lost,
    Correction,
}

impl KeyActionKind {
    pub const ALL: [KeyActionKind; 8] = [
        Self::ReceivedFromResident,
        Self::Stored,
        Self::TakenFromCabinet,
        Self::LentToContractor,
        Self::ReturnedToCustody,
        Self::ReturnedToResident,
        Self::Lost,
        Self::Correction,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReceivedFromResident => "received_from_resident",
            Self::Stored => "stored",
            Self::TakenFromCabinet => "taken_from_cabinet",
            Self::LentToContractor => "lent_to_contractor",
            Self::ReturnedToCustody => "returned_to_custody",
            Self::ReturnedToResident => "returned_to_resident",
            Self::Lost => "lost",
            Self::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| EntrustmentInput::KeyAction(Echo::of(t)).into())
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::ReceivedFromResident => "从居民处接收钥匙",
            Self::Stored => "存入钥匙柜",
            Self::TakenFromCabinet => "从钥匙柜取出",
            Self::LentToContractor => "借给施工人员",
            Self::ReturnedToCustody => "收回钥匙",
            Self::ReturnedToResident => "归还居民",
            Self::Lost => "报告遗失",
            Self::Correction => "更正记录",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::ReceivedFromResident => "Received from the resident",
            Self::Stored => "Stored in the key cabinet",
            Self::TakenFromCabinet => "Taken from the key cabinet",
            Self::LentToContractor => "Lent to a contractor",
            Self::ReturnedToCustody => "Returned to custody",
            Self::ReturnedToResident => "Returned to the resident",
            Self::Lost => "Reported lost",
            Self::Correction => "Correction",
        }
    }

    /// Completes "it cannot …" in English messages.
    pub(crate) fn cannot_en(&self) -> &'static str {
        match self {
            Self::ReceivedFromResident => "be received from the resident",
            Self::Stored => "be stored in the key cabinet",
            Self::TakenFromCabinet => "be taken from the key cabinet",
            Self::LentToContractor => "be lent to a contractor",
            Self::ReturnedToCustody => "be returned to custody",
            Self::ReturnedToResident => "be returned to the resident",
            Self::Lost => "be reported lost",
            Self::Correction => "be corrected",
        }
    }

    /// Whether the actor handles the key itself, and so must be one of the named staff. Losses
    /// and corrections may be recorded by any colleague (a manager taking a report by phone).
    pub fn touches_key(&self) -> bool {
        !matches!(self, Self::Lost | Self::Correction)
    }
}

/// Where the key is. Exactly one of these at any time, by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum KeyHolder {
    /// The resident has not handed it over yet.
    #[default]
    NotYet,
    Staff(StaffId),
    Cabinet(CabinetSlot),
    Contractor(Lend),
    /// Handed back: custody is over.
    Resident,
    Lost,
}

impl KeyHolder {
    pub fn kind(&self) -> HolderKind {
        match self {
            Self::NotYet => HolderKind::NotYet,
            Self::Staff(_) => HolderKind::Staff,
            Self::Cabinet(_) => HolderKind::Cabinet,
            Self::Contractor(_) => HolderKind::Contractor,
            Self::Resident => HolderKind::Resident,
            Self::Lost => HolderKind::Lost,
        }
    }

    /// In staff custody: a staff member's hands or the cabinet. Only from here is a key lent or
    /// given back.
    pub fn in_custody(&self) -> bool {
        matches!(self, Self::Staff(_) | Self::Cabinet(_))
    }

    /// Away from the resident and accounted for: what "held past the end" is about.
    pub fn is_out(&self) -> bool {
        matches!(
            self,
            Self::Staff(_) | Self::Cabinet(_) | Self::Contractor(_)
        )
    }
}

/// A [`KeyHolder`] without its data, for messages and lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    NotYet,
    Staff,
    Cabinet,
    Contractor,
    Resident,
    Lost,
}

impl HolderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotYet => "not_yet",
            Self::Staff => "staff",
            Self::Cabinet => "cabinet",
            Self::Contractor => "contractor",
            Self::Resident => "resident",
            Self::Lost => "lost",
        }
    }

    /// Completes "钥匙…" ("the key is …").
    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::NotYet => "尚未交接",
            Self::Staff => "在工作人员手中",
            Self::Cabinet => "在钥匙柜中",
            Self::Contractor => "在施工人员手中",
            Self::Resident => "已归还居民",
            Self::Lost => "已遗失",
        }
    }

    /// Completes "The key is …".
    pub fn name_en(&self) -> &'static str {
        match self {
            Self::NotYet => "not handed over yet",
            Self::Staff => "with a staff member",
            Self::Cabinet => "in the key cabinet",
            Self::Contractor => "with a contractor",
            Self::Resident => "back with the resident",
            Self::Lost => "lost",
        }
    }
}

/// One link of the custody chain: what happened, when, who did it, who confirmed it, and an
/// optional photo. Times (the event's and a lend's expected return) are kept to the microsecond,
/// as both databases store them, so an event read back folds exactly as it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    action: KeyAction,
    at: OffsetDateTime,
    actor: StaffId,
    witness: Option<Witness>,
    photo: Option<PhotoDigest>,
}

impl KeyEvent {
    pub fn new(mut action: KeyAction, at: OffsetDateTime, actor: StaffId) -> KeyEvent {
        if let KeyAction::LentToContractor(lend) = &mut action {
            lend.expected_return = micros(lend.expected_return);
        }
        KeyEvent {
            action,
            at: micros(at),
            actor,
            witness: None,
            photo: None,
        }
    }

    pub fn with_witness(mut self, witness: Witness) -> KeyEvent {
        self.witness = Some(witness);
        self
    }

    pub fn with_photo(mut self, photo: PhotoDigest) -> KeyEvent {
        self.photo = Some(photo);
        self
    }

    pub fn action(&self) -> &KeyAction {
        &self.action
    }

    pub fn at(&self) -> OffsetDateTime {
        self.at
    }

    pub fn actor(&self) -> StaffId {
        self.actor
    }

    pub fn witness(&self) -> Option<Witness> {
        self.witness
    }

    pub fn photo(&self) -> Option<&PhotoDigest> {
        self.photo.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn cabinet_slots_read_the_usual_ways() {
        for s in ["A-03", "a3", "A03", " a - 3 ", "A－03", "A 3"] {
            assert_eq!(CabinetSlot::parse(s).unwrap().as_str(), "A-03", "{s}");
        }
        assert_eq!(CabinetSlot::parse("c120").unwrap().as_str(), "C-120");
        for bad in ["", "3", "AB-3", "A-0", "A-1000", "A-", "甲-3", "A-3b"] {
            assert_eq!(
                CabinetSlot::parse(bad).unwrap_err().code(),
                "cabinet_slot.invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn photo_digests_are_blake3_hex() {
        let hex = "AB".repeat(32);
        assert_eq!(PhotoDigest::parse(&hex).unwrap().as_str(), "ab".repeat(32));
        assert_eq!(
            PhotoDigest::parse("abc").unwrap_err().code(),
            "photo_digest.invalid"
        );
        assert!(PhotoDigest::parse(&"g".repeat(64)).is_err());
    }

    #[test]
    fn witnesses_and_kinds_round_trip() {
        for w in [
            Witness::Colleague(StaffId(4)),
            Witness::Resident,
            Witness::Contractor,
        ] {
            assert_eq!(Witness::from_parts(w.as_str(), w.colleague()).unwrap(), w);
            assert!(!w.name_zh().is_empty() && !w.name_en().is_empty());
        }
        assert_eq!(
            Witness::from_parts("colleague", None).unwrap_err().code(),
            "witness.invalid"
        );
        assert!(Witness::from_parts("resident", Some(StaffId(1))).is_err());
        for k in KeyActionKind::ALL {
            assert_eq!(KeyActionKind::parse(k.as_str()).unwrap(), k);
            assert!(!k.name_zh().is_empty() && !k.name_en().is_empty());
        }
        assert_eq!(
            KeyActionKind::parse("burned").unwrap_err().code(),
            "key_action.invalid"
        );
    }

    #[test]
    fn notes_and_companies_are_checked_text() {
        assert_eq!(
            KeyNote::parse(" 在小区门口丢失 ").unwrap().as_str(),
            "在小区门口丢失"
        );
        assert_eq!(
            KeyNote::parse("回电 139 1234 5678").unwrap_err().code(),
            "text.personal_number"
        );
        assert_eq!(Company::parse("").unwrap_err().code(), "required");
    }

    #[test]
    fn event_times_keep_microseconds() {
        let at = datetime!(2026-11-10 18:05:00.123456789 +08:00);
        let e = KeyEvent::new(KeyAction::ReceivedFromResident, at, StaffId(1));
        assert_eq!(e.at(), datetime!(2026-11-10 18:05:00.123456 +08:00));
        let lend = Lend {
            contractor: PersonName::parse("张师傅").unwrap(),
            company: Company::parse("晋阳门窗公司").unwrap(),
            phone: PhoneNumber::parse("13912345678").unwrap(),
            expected_return: at,
            supervisor: StaffId(1),
        };
        let e = KeyEvent::new(KeyAction::LentToContractor(lend), at, StaffId(1));
        let KeyAction::LentToContractor(lend) = e.action() else {
            unreachable!()
        };
        assert_eq!(lend.expected_return, e.at());
    }

    proptest! {
        #[test]
        fn any_slot_round_trips(block in "[A-Za-z]", n in 1u16..=999) {
            let s = CabinetSlot::parse(&format!("{block}{n}")).unwrap();
            prop_assert_eq!(CabinetSlot::parse(s.as_str()).unwrap(), s.clone());
            prop_assert!(s.as_str().starts_with(&block.to_ascii_uppercase()));
        }
    }
}
