//! Why someone needs to see full personal numbers: the text goes into the audit trail, so it
//! must say something (2–200 characters) and must not itself carry an ID or phone number.

use crate::error::DomainError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

/// Seven digits in a row (spaces and hyphens between them ignored) could be a phone number or
/// part of an ID number.
const MAX_DIGIT_RUN: usize = 6;

fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            run += 1;
            best = best.max(run);
        } else if !matches!(c, ' ' | '-' | '\u{3000}') {
            run = 0;
        }
    }
    best
}

/// Whether free text could carry an ID or phone number; such text is refused wherever it would
/// be kept in a trail (audit reasons, key-custody notes).
pub(crate) fn may_hold_personal_number(s: &str) -> bool {
    longest_digit_run(s) > MAX_DIGIT_RUN
}

impl Reason {
    pub fn parse(s: &str) -> Result<Reason, DomainError> {
        let t = s.trim();
        let n = t.chars().count();
        if !(2..=200).contains(&n) || t.chars().any(char::is_control) {
            return Err(DomainError::ReasonLength);
        }
        if may_hold_personal_number(t) {
            return Err(DomainError::ReasonNumber);
        }
        Ok(Reason(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn needs_words_and_refuses_numbers() {
        assert!(Reason::parse("核实低保申请材料").is_ok());
        assert!(Reason::parse("2026年11月回访").is_ok());
        assert_eq!(Reason::parse(" ").unwrap_err().code(), "reason.length");
        assert_eq!(
            Reason::parse(&"长".repeat(201)).unwrap_err().code(),
            "reason.length"
        );
        for bad in [
            "核对身份证 140109195603010117",
            "回拨电话13912340011",
            "139 1234 0011",
            "１３９１２３４００１１",
        ] {
            assert_eq!(
                Reason::parse(bad).unwrap_err().code(),
                "reason.personal_number",
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_eleven_digit_number_inside_is_refused(prefix in "[\\p{Han}a-z ]{1,10}", n in 10_000_000_000u64..99_999_999_999u64) {
            let text = format!("{prefix}{n}");
            prop_assert!(Reason::parse(&text).is_err());
        }
    }
}
