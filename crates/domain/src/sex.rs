//! Sex, coded per GB/T 2261.1.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Unknown,
    Male,
    Female,
    Unspecified,
}

impl Sex {
    pub fn code(&self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Male => 1,
            Self::Female => 2,
            Self::Unspecified => 9,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Unknown),
            1 => Some(Self::Male),
            2 => Some(Self::Female),
            9 => Some(Self::Unspecified),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Male => "male",
            Self::Female => "female",
            Self::Unspecified => "unspecified",
        }
    }

    /// Accepts the English word, the GB/T 2261.1 code, or 男/女 as registers write them.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let sex = match t.to_ascii_lowercase().as_str() {
            "unknown" | "0" | "未知" | "未知的性别" => Self::Unknown,
            "male" | "1" | "男" | "男性" => Self::Male,
            "female" | "2" | "女" | "女性" => Self::Female,
            "unspecified" | "9" | "未说明" | "未说明的性别" => Self::Unspecified,
            _ => return Err(DomainError::Sex(Echo::of(t))),
        };
        Ok(sex)
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Unknown => "未知",
            Self::Male => "男",
            Self::Female => "女",
            Self::Unspecified => "未说明",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::Male => "Male",
            Self::Female => "Female",
            Self::Unspecified => "Unspecified",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_words_roundtrip() {
        for sex in [Sex::Unknown, Sex::Male, Sex::Female, Sex::Unspecified] {
            assert_eq!(Sex::from_code(sex.code()), Some(sex));
            assert_eq!(Sex::parse(sex.as_str()).unwrap(), sex);
            assert_eq!(Sex::parse(&sex.code().to_string()).unwrap(), sex);
            assert_eq!(Sex::parse(sex.name_zh()).unwrap(), sex);
        }
        assert_eq!(Sex::parse(" 女 ").unwrap(), Sex::Female);
        assert_eq!(Sex::from_code(3), None);
        assert_eq!(Sex::parse("x").unwrap_err().code(), "sex.invalid");
        assert_eq!(serde_json::to_string(&Sex::Male).unwrap(), "\"male\"");
    }
}
