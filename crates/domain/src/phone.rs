//! Chinese phone numbers: mobiles and landlines with area code.
//!
//! Privacy: Debug shows the masked form; there is no Display or Serialize.

use std::fmt;

use crate::error::{DomainError, PhoneProblem};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

fn is_mobile_digits(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        // "86 " needs its space to be read as a country code: a bare "86…" could be anything.
        let t = t
            .strip_prefix("+86")
            .or_else(|| t.strip_prefix("0086"))
            .or_else(|| t.strip_prefix("86 "))
            .unwrap_or(t);
        let mut digits: String = t
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.is_empty() {
            return Err(DomainError::Phone(PhoneProblem::Empty));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::Phone(PhoneProblem::NotDigits));
        }
        // Spreadsheets often drop the space: 86 + a valid mobile is unambiguous, since neither
        // mobiles nor landlines start with 8.
        if digits.len() == 13 && digits.starts_with("86") && is_mobile_digits(&digits[2..]) {
            digits.drain(..2);
        }
        let n = digits.len();
        match digits.as_bytes()[0] {
            b'1' if is_mobile_digits(&digits) => Ok(Self(digits)),
            b'1' => Err(DomainError::Phone(PhoneProblem::BadMobile { digits: n })),
            // 0 + 2–3 digit area code (never starting 0) + 7–8 digit number.
            b'0' if (10..=12).contains(&n) && digits.as_bytes()[1] != b'0' => Ok(Self(digits)),
            b'0' => Err(DomainError::Phone(PhoneProblem::BadLandline { digits: n })),
            _ => Err(DomainError::Phone(PhoneProblem::BadStart)),
        }
    }

    /// Digits only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }

    /// The last four digits, the usual way residents confirm a number aloud.
    pub fn tail4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    pub fn masked(&self) -> String {
        let head = if self.is_mobile() { 3 } else { 4 };
        format!("{}****{}", &self.0[..head], self.tail4())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mobiles() {
        for s in [
            "13912345678",
            "139 1234 5678",
            "139-1234-5678",
            "+86 139 1234 5678",
            "+8613912345678",
            "0086 13912345678",
            "86 13912345678",
            "8613912345678",
        ] {
            let p = PhoneNumber::parse(s).unwrap();
            assert_eq!(p.as_str(), "13912345678", "{s}");
            assert!(p.is_mobile());
        }
        let p = PhoneNumber::parse("13912345678").unwrap();
        assert_eq!(p.masked(), "139****5678");
        assert_eq!(p.tail4(), "5678");
        assert_eq!(format!("{p:?}"), "PhoneNumber(\"139****5678\")");
    }

    #[test]
    fn landlines() {
        let p = PhoneNumber::parse("0351-1234567").unwrap();
        assert_eq!(p.as_str(), "03511234567");
        assert!(!p.is_mobile());
        assert_eq!(p.masked(), "0351****4567");
        assert!(PhoneNumber::parse("010-12345678").is_ok());
        assert!(PhoneNumber::parse("+86 10 1234 5678").is_err());
    }

    #[test]
    fn rejections() {
        let code_of = |s: &str| PhoneNumber::parse(s).unwrap_err();
        assert_eq!(code_of("").code(), "phone.invalid");
        assert_eq!(
            code_of("12912345678"),
            DomainError::Phone(PhoneProblem::BadMobile { digits: 11 })
        );
        assert_eq!(
            code_of("1391234567"),
            DomainError::Phone(PhoneProblem::BadMobile { digits: 10 })
        );
        assert_eq!(
            code_of("035112345"),
            DomainError::Phone(PhoneProblem::BadLandline { digits: 9 })
        );
        assert_eq!(
            code_of("0012345678"),
            DomainError::Phone(PhoneProblem::BadLandline { digits: 10 })
        );
        assert_eq!(
            code_of("5551234567"),
            DomainError::Phone(PhoneProblem::BadStart)
        );
        assert_eq!(
            code_of("139x2345678"),
            DomainError::Phone(PhoneProblem::NotDigits)
        );
    }

    proptest! {
        #[test]
        fn any_valid_mobile_roundtrips(rest in "1[3-9][0-9]{9}") {
            let p = PhoneNumber::parse(&format!("+86 {}-{}", &rest[..3], &rest[3..])).unwrap();
            prop_assert_eq!(p.as_str(), rest.as_str());
            let dbg = format!("{p:?}");
            prop_assert!(!dbg.contains(&rest));
        }

        #[test]
        fn errors_never_echo_input(s in "[0-9 +-]{0,20}") {
            if let Err(e) = PhoneNumber::parse(&s) {
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                if digits.len() >= 5 {
                    let shown = format!("{e:?}{e}{}", e.message_zh());
                    prop_assert!(!shown.contains(&digits));
                }
            }
        }
    }
}
