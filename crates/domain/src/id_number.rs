//! Citizen ID numbers (GB 11643-1999), including legacy 15-digit numbers.
//!
//! Privacy: the type never prints the number; Debug shows the masked form and there is no
//! Display or Serialize, so writing the full number takes an explicit `as_str()`.

use std::fmt;

use time::{Date, Month};

use crate::error::{AreaCodeProblem, DomainError};
use crate::sex::Sex;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";
const MIN_BIRTH_YEAR: i32 = 1880;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    number: String,
    birth: Date,
}

/// Check character for 17 ASCII digits.
fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

/// Typed or pasted variants of digits and X, folded to ASCII.
fn normalize_char(c: char) -> char {
    match c {
        '０'..='９' => {
            char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
        }
        'x' | 'Ｘ' | 'ｘ' => 'X',
        _ => c,
    }
}

/// A real calendar date from ASCII digits YYYY, MM, DD.
fn real_date(yyyy: &str, mm: &str, dd: &str) -> Option<Date> {
    let year: i32 = yyyy.parse().ok()?;
    let month = Month::try_from(mm.parse::<u8>().ok()?).ok()?;
    let day: u8 = dd.parse().ok()?;
    Date::from_calendar_date(year, month, day)
        .ok()
        .filter(|_| year >= MIN_BIRTH_YEAR)
}

impl IdNumber {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let number: String = s.trim().chars().map(normalize_char).collect();
        let len = number.chars().count();
        if len != 18 && len != 15 {
            return Err(DomainError::IdNumberLength { found: len });
        }
        // Only the 18th character may be X; everything else must be an ASCII digit.
        let bad = number
            .chars()
            .enumerate()
            .find(|&(i, c)| !(c.is_ascii_digit() || (len == 18 && i == 17 && c == 'X')));
        if let Some((i, _)) = bad {
            return Err(DomainError::IdNumberCharset { position: i + 1 });
        }
        if len == 18 {
            let expected = check_char(&number.as_bytes()[..17]);
            let found = char::from(number.as_bytes()[17]);
            if expected != found {
                return Err(DomainError::IdNumberChecksum { expected, found });
            }
            let birth = real_date(&number[6..10], &number[10..12], &number[12..14])
                .ok_or(DomainError::IdNumberBirthDate)?;
            Ok(Self { number, birth })
        } else {
            // Legacy numbers carry YYMMDD, always in the 1900s.
            let yyyy = format!("19{}", &number[6..8]);
            let birth = real_date(&yyyy, &number[8..10], &number[10..12])
                .ok_or(DomainError::IdNumberBirthDate)?;
            Ok(Self { number, birth })
        }
    }

    /// Builds a valid 18-character number; used by the demo data generator.
    pub fn from_parts(area6: &str, birth: Date, seq: u16) -> Result<IdNumber, DomainError> {
        if !area6.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::AreaCode(AreaCodeProblem::NotDigits));
        }
        if area6.len() != 6 {
            return Err(DomainError::AreaCode(AreaCodeProblem::Length(area6.len())));
        }
        if !(MIN_BIRTH_YEAR..=9999).contains(&birth.year()) {
            return Err(DomainError::Date);
        }
        if seq > 999 {
            return Err(DomainError::IdNumberSequence { found: seq });
        }
        let mut number = format!(
            "{area6}{:04}{:02}{:02}{seq:03}",
            birth.year(),
            u8::from(birth.month()),
            birth.day()
        );
        number.push(check_char(number.as_bytes()));
        Ok(Self { number, birth })
    }

    /// The normalized number (ASCII digits, upper-case X).
    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn is_legacy(&self) -> bool {
        self.number.len() == 15
    }

    pub fn birth_date(&self) -> Date {
        self.birth
    }

    /// The domain has no clock; callers pass today's date to reject future births.
    pub fn birth_date_not_after(&self, today: Date) -> bool {
        self.birth <= today
    }

    /// Odd sequence digit means male.
    pub fn sex(&self) -> Sex {
        let idx = if self.is_legacy() { 14 } else { 16 };
        if (self.number.as_bytes()[idx] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The issuing area's GB/T 2260 code (at the time of issue).
    pub fn area_code6(&self) -> &str {
        &self.number[..6]
    }

    pub fn masked(&self) -> String {
        let stars = if self.is_legacy() {
            "*****"
        } else {
            "********"
        };
        let n = &self.number;
        format!("{}{stars}{}", &n[..6], &n[n.len() - 4..])
    }

    /// The 18-character form of a legacy number; `None` if already 18.
    pub fn upgraded(&self) -> Option<IdNumber> {
        if !self.is_legacy() {
            return None;
        }
        let n = &self.number;
        let mut number = format!("{}19{}", &n[..6], &n[6..]);
        number.push(check_char(number.as_bytes()));
        Some(Self {
            number,
            birth: self.birth,
        })
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    // Built, not copied: a fictitious number with a correct check character.
    fn sample() -> IdNumber {
        IdNumber::from_parts("140109", date!(1985 - 07 - 14), 123).unwrap()
    }

    #[test]
    fn parses_and_describes() {
        let id = sample();
        let again = IdNumber::parse(&format!("  {}  ", id.as_str())).unwrap();
        assert_eq!(again, id);
        assert_eq!(id.birth_date(), date!(1985 - 07 - 14));
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.area_code6(), "140109");
        assert!(!id.is_legacy());
        assert!(id.upgraded().is_none());
        assert!(id.birth_date_not_after(date!(2024 - 01 - 01)));
        assert!(!id.birth_date_not_after(date!(1985 - 07 - 13)));
        let masked = id.masked();
        assert_eq!(masked.len(), 18);
        assert!(masked.starts_with("140109********"));
        assert_eq!(&masked[14..], &id.as_str()[14..]);
    }

    #[test]
    fn debug_and_errors_never_show_the_number() {
        let id = sample();
        let dbg = format!("{id:?}");
        assert!(!dbg.contains(id.as_str()));
        assert!(dbg.contains(&id.masked()));
        let mut wrong = id.as_str()[..17].to_owned();
        let bad_check = if id.as_str().ends_with('0') { '1' } else { '0' };
        wrong.push(bad_check);
        let err = IdNumber::parse(&wrong).unwrap_err();
        assert_eq!(err.code(), "id_number.checksum");
        for text in [format!("{err:?}"), err.to_string(), err.message_zh()] {
            assert!(!text.contains(&wrong[..17]));
        }
    }

    #[test]
    fn rejections_are_specific() {
        let code = |s: &str| IdNumber::parse(s).unwrap_err().code();
        assert_eq!(code("1401091985071412"), "id_number.length");
        assert_eq!(code("14010919850714123A"), "id_number.charset");
        assert_eq!(code("1401091985X714123X"), "id_number.charset");
        let e = IdNumber::parse("14010919850714123").unwrap_err();
        assert_eq!(
            e.message_zh(),
            "身份证号应为 18 位（或旧版 15 位），实为 17 位"
        );
        // 1985-02-30 with a correct check character.
        let mut feb30 = "14010919850230123".to_owned();
        feb30.push(check_char(feb30.as_bytes()));
        assert_eq!(code(&feb30), "id_number.birth_date");
        let mut old = "14010918790101123".to_owned();
        old.push(check_char(old.as_bytes()));
        assert_eq!(code(&old), "id_number.birth_date");
        assert_eq!(code("140109850230123"), "id_number.birth_date");
    }

    #[test]
    fn legacy_numbers() {
        let id = IdNumber::parse("140109850714124").unwrap();
        assert!(id.is_legacy());
        assert_eq!(id.birth_date(), date!(1985 - 07 - 14));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "140109*****4124");
        let up = id.upgraded().unwrap();
        assert_eq!(&up.as_str()[..17], "14010919850714124");
        assert_eq!(IdNumber::parse(up.as_str()).unwrap(), up);
    }

    #[test]
    fn from_parts_rejects_bad_input() {
        let d = date!(1990 - 01 - 01);
        assert_eq!(
            IdNumber::from_parts("14010", d, 1).unwrap_err().code(),
            "area_code.invalid"
        );
        assert_eq!(
            IdNumber::from_parts("140109", d, 1000).unwrap_err().code(),
            "id_number.sequence"
        );
        let early = date!(1800 - 01 - 01);
        assert_eq!(
            IdNumber::from_parts("140109", early, 1).unwrap_err().code(),
            "date.invalid"
        );
    }

    #[test]
    fn lower_and_full_width_x_normalize() {
        let d = date!(1990 - 03 - 05);
        let id = (0..=999)
            .map(|seq| IdNumber::from_parts("140105", d, seq).unwrap())
            .find(|id| id.as_str().ends_with('X'))
            .unwrap();
        let body = &id.as_str()[..17];
        for x in ['x', 'Ｘ', 'ｘ'] {
            assert_eq!(IdNumber::parse(&format!("{body}{x}")).unwrap(), id);
        }
    }

    fn arb_id() -> impl Strategy<Value = IdNumber> {
        ("[0-9]{6}", 1880i32..2100, 1u8..=12, 1u8..=28, 0u16..=999).prop_map(|(a, y, m, d, s)| {
            let birth = Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap();
            IdNumber::from_parts(&a, birth, s).unwrap()
        })
    }

    proptest! {
        #[test]
        fn from_parts_parses_back(id in arb_id()) {
            prop_assert_eq!(IdNumber::parse(id.as_str()).unwrap(), id);
        }

        #[test]
        fn any_single_digit_change_fails(id in arb_id(), pos in 0usize..18, delta in 1u8..10) {
            let mut bytes = id.as_str().as_bytes().to_vec();
            if bytes[pos] == b'X' {
                bytes[pos] = b'0' + delta % 10;
            } else {
                bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            }
            let changed = String::from_utf8(bytes).unwrap();
            let code = IdNumber::parse(&changed).unwrap_err().code();
            prop_assert!(code == "id_number.checksum" || code == "id_number.birth_date");
        }

        #[test]
        fn x_variants_normalize(id in arb_id()) {
            if let Some(body) = id.as_str().strip_suffix('X') {
                for x in ['x', 'Ｘ', 'ｘ'] {
                    prop_assert_eq!(IdNumber::parse(&format!("{body}{x}")).unwrap(), id.clone());
                }
            }
            let wide: String = id.as_str().chars().map(|c| match c {
                '0'..='9' => char::from_u32(u32::from(c) - u32::from('0') + u32::from('０')).unwrap(),
                _ => c,
            }).collect();
            prop_assert_eq!(IdNumber::parse(&wide).unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = IdNumber::parse(&s);
        }
    }
}
