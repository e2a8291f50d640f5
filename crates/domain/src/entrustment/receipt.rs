//! What the store hashes, and the short code a resident checks.
//!
//! **Canonical text.** One `key=value` line per field, in a fixed order, after a versioned first
//! line; times in UTC with microseconds (what both databases keep). Every free text in it comes
//! from a checked type that refuses control characters, so a value can never forge a line, and
//! the text is unambiguous without escaping. The store hashes it with BLAKE3 after the previous
//! event's hash, like the audit trail's `chain_hash`; the chain of one entrustment starts from
//! the hash of its [`Terms::canonical`], so the terms the resident confirmed are covered too.
//!
//! **Personal data.** The canonical text holds ids, kinds, times, the cabinet slot, the
//! contractor's name and company (who held the key is the point of the chain) and notes (which
//! refuse personal numbers) — and the contractor's phone only in its masked form
//! (`139****5678`). The full number is sealed by the store like every personal number. Hashing
//! the full number would not hide it: with the rest of the event known, the four masked digits
//! are ten thousand guesses. The resident's identity is not in the text at all; the entrustment
//! and dwelling ids point to it.
//!
//! **Receipt codes.** A receipt (SMS, WeChat, the public page) shows the first 40 bits of the
//! event's chain hash as 8 characters of Crockford's base-32 alphabet, grouped `7KQ2-M9XD`. The
//! resident types it back to see the event as the record has it: any later change to that event
//! or to anything before it changes the hash, and the code no longer matches. Reading is
//! forgiving as Crockford intended (lower case, O for 0, I and L for 1, spaces and hyphens).
//! Forty bits make a guessed code one in a trillion; the public page must still rate-limit.

use std::fmt::{self, Write};

use time::{OffsetDateTime, UtcOffset};

use super::{EntrustmentInput, KeyAction, KeyEvent, Terms, Witness};
use crate::error::DomainError;

/// UTC, microseconds, `Z`: `2026-11-10T10:05:00.000000Z`. Written by hand so that it cannot
/// fail and never changes with a formatting library.
fn utc_micros(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Appends `key=value\n`.
fn line(out: &mut String, key: &str, value: impl fmt::Display) {
    writeln!(out, "{key}={value}").expect("writing to a String cannot fail");
}

impl KeyEvent {
    /// The text the store hashes for event `seq` of entrustment `entrustment_id`.
    pub fn canonical(&self, entrustment_id: i64, seq: u32) -> String {
        let mut out = String::from("wangge.key_event.v1\n");
        line(&mut out, "entrustment", entrustment_id);
        line(&mut out, "seq", seq);
        line(&mut out, "at", utc_micros(self.at()));
        line(&mut out, "action", self.action().kind().as_str());
        line(&mut out, "actor", self.actor().0);
        let witness = match self.witness() {
            None => "none".to_owned(),
            Some(Witness::Colleague(id)) => format!("colleague:{}", id.0),
            Some(w) => w.as_str().to_owned(),
        };
        line(&mut out, "witness", witness);
        line(
            &mut out,
            "photo",
            self.photo().map_or("none", |p| p.as_str()),
        );
        match self.action() {
            KeyAction::Stored { slot } => line(&mut out, "slot", slot.as_str()),
            KeyAction::LentToContractor(lend) => {
                line(&mut out, "contractor", lend.contractor.as_str());
                line(&mut out, "company", lend.company.as_str());
                line(&mut out, "phone", lend.phone.masked());
                line(
                    &mut out,
                    "expected_return",
                    utc_micros(lend.expected_return),
                );
                line(&mut out, "supervisor", lend.supervisor.0);
            }
            KeyAction::Lost { note } => line(&mut out, "note", note.as_str()),
            KeyAction::Correction { of, note } => {
                line(&mut out, "of", of);
                line(&mut out, "note", note.as_str());
            }
            KeyAction::ReceivedFromResident
            | KeyAction::TakenFromCabinet
            | KeyAction::ReturnedToCustody
            | KeyAction::ReturnedToResident => {}
        }
        out
    }
}

impl Terms {
    /// The text whose hash starts the custody chain of entrustment `entrustment_id` for the
    /// dwelling `dwelling_id`: what the resident confirmed.
    pub fn canonical(&self, entrustment_id: i64, dwelling_id: i64) -> String {
        let mut out = String::from("wangge.entrustment.v1\n");
        line(&mut out, "entrustment", entrustment_id);
        line(&mut out, "dwelling", dwelling_id);
        line(&mut out, "purpose", self.purpose.as_str());
        line(&mut out, "starts", utc_micros(self.period.starts_at()));
        line(&mut out, "ends", utc_micros(self.period.ends_at()));
        line(&mut out, "permissions", self.permissions.as_list());
        line(&mut out, "channel", self.channel.as_str());
        let staff: Vec<String> = self.staff.ids().iter().map(|s| s.0.to_string()).collect();
        line(&mut out, "staff", staff.join(","));
        out
    }
}

/// A receipt's verification code: 8 characters from [`ReceiptCode::ALPHABET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptCode([u8; 8]);

impl ReceiptCode {
    /// Crockford's base 32: digits and upper-case letters without I, L, O and U.
    pub const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// The first 40 bits of a chain hash, five bits per character, most significant first.
    pub fn from_hash(hash: &[u8; 32]) -> ReceiptCode {
        let bits = hash[..5]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let mut code = [0u8; 8];
        for (i, c) in code.iter_mut().enumerate() {
            let index = (bits >> (35 - 5 * i)) & 31;
            *c = Self::ALPHABET[index as usize];
        }
        ReceiptCode(code)
    }

    /// Reads a code as a resident types it.
    pub fn parse(s: &str) -> Result<ReceiptCode, DomainError> {
        let mut code = [0u8; 8];
        let mut n = 0;
        for c in s.chars() {
            if c.is_whitespace() || matches!(c, '-' | '－' | '—') {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            let known = u8::try_from(c).ok().filter(|b| Self::ALPHABET.contains(b));
            match (known, code.get_mut(n)) {
                (Some(b), Some(slot)) => *slot = b,
                _ => return Err(EntrustmentInput::ReceiptCode.into()),
            }
            n += 1;
        }
        if n != code.len() {
            return Err(EntrustmentInput::ReceiptCode.into());
        }
        Ok(ReceiptCode(code))
    }

    /// The 8 characters without the hyphen: the form to store and compare.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("the alphabet is ASCII")
    }
}

/// Grouped for reading aloud: `7KQ2-M9XD`.
impl fmt::Display for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        write!(f, "{}-{}", &s[..4], &s[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entrustment::{
        CabinetSlot, Company, ContactChannel, EntrustedAct, EntrustmentPeriod, KeyNote, Lend,
        NamedStaff, Permissions, PhotoDigest, Purpose, StaffId,
    };
    use crate::name::PersonName;
    use crate::phone::PhoneNumber;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn a_lend_reads_in_a_fixed_order_with_the_phone_masked() {
        let lend = Lend {
            contractor: PersonName::parse("张师傅").unwrap(),
            company: Company::parse("晋阳门窗公司").unwrap(),
            phone: PhoneNumber::parse("13912345678").unwrap(),
            expected_return: datetime!(2026-11-11 18:00 +08:00),
            supervisor: StaffId(17),
        };
        let e = KeyEvent::new(
            KeyAction::LentToContractor(lend),
            datetime!(2026-11-11 08:30:00.25 +08:00),
            StaffId(17),
        )
        .with_witness(Witness::Colleague(StaffId(23)));
        assert_eq!(
            e.canonical(42, 3),
            "wangge.key_event.v1\nentrustment=42\nseq=3\nat=2026-11-11T00:30:00.250000Z\n\
             action=lent_to_contractor\nactor=17\nwitness=colleague:23\nphoto=none\n\
             contractor=张师傅\ncompany=晋阳门窗公司\nphone=139****5678\n\
             expected_return=2026-11-11T10:00:00.000000Z\nsupervisor=17\n"
        );
        assert!(!e.canonical(42, 3).contains("13912345678"));
    }

    #[test]
    fn every_action_has_its_own_lines() {
        let at = datetime!(2026-11-10 20:00 +08:00);
        let photo = PhotoDigest::parse(&"0f".repeat(32)).unwrap();
        let stored = KeyEvent::new(
            KeyAction::Stored {
                slot: CabinetSlot::parse("a3").unwrap(),
            },
            at,
            StaffId(5),
        )
        .with_photo(photo.clone());
        assert!(stored.canonical(1, 2).ends_with(&format!(
            "witness=none\nphoto={}\nslot=A-03\n",
            photo.as_str()
        )));
        let correction = KeyEvent::new(
            KeyAction::Correction {
                of: 2,
                note: KeyNote::parse("格位应为 A-04").unwrap(),
            },
            at,
            StaffId(5),
        )
        .with_witness(Witness::Resident);
        assert!(
            correction
                .canonical(1, 3)
                .ends_with("witness=resident\nphoto=none\nof=2\nnote=格位应为 A-04\n")
        );
        // The entrustment and the position are part of the text: an event cannot be moved.
        assert_ne!(stored.canonical(1, 2), stored.canonical(2, 2));
        assert_ne!(stored.canonical(1, 2), stored.canonical(1, 3));
    }

    #[test]
    fn terms_start_the_chain() {
        let terms = Terms {
            purpose: Purpose::parse("更换节能窗").unwrap(),
            period: EntrustmentPeriod::new(
                datetime!(2026-11-11 00:00 +08:00),
                datetime!(2026-11-14 00:00 +08:00),
            )
            .unwrap(),
            permissions: Permissions::new([EntrustedAct::HoldKey, EntrustedAct::TakePhotos])
                .unwrap(),
            channel: ContactChannel::WeChat,
            staff: NamedStaff::new([StaffId(23), StaffId(17)]).unwrap(),
        };
        assert_eq!(
            terms.canonical(42, 1001),
            "wangge.entrustment.v1\nentrustment=42\ndwelling=1001\npurpose=更换节能窗\n\
             starts=2026-11-10T16:00:00.000000Z\nends=2026-11-13T16:00:00.000000Z\n\
             permissions=hold_key,take_photos\nchannel=wechat\nstaff=17,23\n"
        );
    }

    #[test]
    fn codes_read_forgivingly() {
        let code = ReceiptCode::from_hash(&[0; 32]);
        assert_eq!(code.as_str(), "00000000");
        let code = ReceiptCode::from_hash(&[0xff; 32]);
        assert_eq!(code.to_string(), "ZZZZ-ZZZZ");
        // 0x08 0x42 0x10 0x84 0x21 = 00001 00001 00001 00001 00001 00001 00001 00001.
        let mut hash = [0u8; 32];
        hash[..5].copy_from_slice(&[0x08, 0x42, 0x10, 0x84, 0x21]);
        assert_eq!(ReceiptCode::from_hash(&hash).as_str(), "11111111");
        assert_eq!(
            ReceiptCode::parse(" il1L-oO00 ").unwrap().as_str(),
            "11110000"
        );
        for bad in [
            "",
            "1234567",
            "123456789",
            "UUUU-UUUU",
            "1234-567*",
            "一二三四五六七八",
        ] {
            assert_eq!(
                ReceiptCode::parse(bad).unwrap_err().code(),
                "receipt_code.invalid",
                "{bad}"
            );
        }
    }

    proptest! {
        /// A code is the hash's first 40 bits and nothing else, and reads back as shown.
        #[test]
        fn codes_round_trip_and_follow_the_first_40_bits(
            hash in prop::array::uniform32(any::<u8>()),
            other in prop::array::uniform32(any::<u8>()),
        ) {
            let code = ReceiptCode::from_hash(&hash);
            prop_assert!(code.as_str().bytes().all(|b| ReceiptCode::ALPHABET.contains(&b)));
            prop_assert_eq!(ReceiptCode::parse(&code.to_string()).unwrap(), code);
            prop_assert_eq!(ReceiptCode::parse(&code.as_str().to_lowercase()).unwrap(), code);
            prop_assert_eq!(ReceiptCode::from_hash(&other) == code, hash[..5] == other[..5]);
        }
    }
}
