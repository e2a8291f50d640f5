//! Tags (重点人群 labels) on people and households, and their sensitivity classes.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Echo};
use Sensitivity::{Care, Control, Health, UnitedFront};

/// The class of a tag; each class is visible only to roles cleared for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Care,
    Control,
    UnitedFront,
    Health,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 4] = [Self::Care, Self::Control, Self::UnitedFront, Self::Health];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Care => "care",
            Self::Control => "control",
            Self::UnitedFront => "united_front",
            Self::Health => "health",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let v = match t.to_ascii_lowercase().as_str() {
            "care" | "关爱" => Self::Care,
            "control" | "管控" => Self::Control,
            "united_front" | "united-front" | "统战" => Self::UnitedFront,
            "health" | "健康" => Self::Health,
            _ => return Err(DomainError::Sensitivity(Echo::of(t))),
        };
        Ok(v)
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Care => "关爱",
            Self::Control => "管控",
            Self::UnitedFront => "统战",
            Self::Health => "健康",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Care => "Care",
            Self::Control => "Control",
            Self::UnitedFront => "United front",
            Self::Health => "Health",
        }
    }
}

/// What a tag is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagSubject {
    Person,
    Household,
}

/// A tag every installation starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinTag {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub sensitivity: Sensitivity,
    pub subject: TagSubject,
}

const fn person(
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    sensitivity: Sensitivity,
) -> BuiltinTag {
    BuiltinTag {
        code,
        name_zh,
        name_en,
        sensitivity,
        subject: TagSubject::Person,
    }
}

pub const BUILTIN_TAGS: &[BuiltinTag] = &[
    person(
        "elderly_party_member",
        "老党员",
        "Elderly party member",
        Care,
    ),
    person(
        "elderly_living_alone",
        "独居老人",
        "Elderly living alone",
        Care,
    ),
    person("empty_nest_elderly", "空巢老人", "Empty-nest elderly", Care),
    person("disabled", "残疾人", "Person with disability", Health),
    person(
        "home_health_monitoring",
        "居家健康监测",
        "Home health monitoring",
        Health,
    ),
    person(
        "returned_overseas_chinese",
        "归侨侨眷",
        "Returned overseas Chinese and relatives",
        UnitedFront,
    ),
    person(
        "non_party_representative",
        "党外代表人士",
        "Non-party representative",
        UnitedFront,
    ),
    person(
        "new_social_strata",
        "新的社会阶层人士",
        "New social strata",
        UnitedFront,
    ),
    person(
        "private_economy_figure",
        "民营经济人士",
        "Private-economy figure",
        UnitedFront,
    ),
    BuiltinTag {
        code: "subsistence_allowance",
        name_zh: "低保户",
        name_en: "Subsistence allowance household",
        sensitivity: Care,
        subject: TagSubject::Household,
    },
    person("veteran", "退役军人", "Veteran", Care),
    person("left_behind_child", "留守儿童", "Left-behind child", Care),
    person(
        "community_correction",
        "社区矫正人员",
        "Under community correction",
        Control,
    ),
    person(
        "released_prisoner",
        "刑满释放人员",
        "Released prisoner",
        Control,
    ),
    person(
        "severe_mental_disorder",
        "严重精神障碍患者",
        "Severe mental disorder",
        Health,
    ),
];

/// A tag's machine code: a lower-case identifier, stable across renames of the display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TagCode(String);

impl TagCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let b = s.as_bytes();
        let ok = (2..=40).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b[1..]
                .iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::TagCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TagCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TagCode> for String {
    fn from(c: TagCode) -> Self {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sensitivity_words() {
        for s in Sensitivity::ALL {
            assert_eq!(Sensitivity::parse(s.as_str()).unwrap(), s);
            assert_eq!(Sensitivity::parse(s.name_zh()).unwrap(), s);
        }
        assert_eq!(Sensitivity::parse("united-front").unwrap(), UnitedFront);
        assert_eq!(
            Sensitivity::parse("secret").unwrap_err().code(),
            "sensitivity.invalid"
        );
        assert_eq!(
            serde_json::to_string(&UnitedFront).unwrap(),
            "\"united_front\""
        );
    }

    #[test]
    fn builtin_tags_are_well_formed_and_unique() {
        for (i, t) in BUILTIN_TAGS.iter().enumerate() {
            assert_eq!(TagCode::parse(t.code).unwrap().as_str(), t.code);
            assert!(BUILTIN_TAGS[i + 1..].iter().all(|o| o.code != t.code));
        }
        let low = BUILTIN_TAGS
            .iter()
            .find(|t| t.code == "subsistence_allowance")
            .unwrap();
        assert_eq!(low.subject, TagSubject::Household);
    }

    #[test]
    fn tag_code_rejections() {
        for bad in ["", "a", "1abc", "Abc", "ab-c", "ab c", &"a".repeat(41)] {
            assert_eq!(
                TagCode::parse(bad).unwrap_err().code(),
                "tag_code.invalid",
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn tag_code_matches_pattern(s in "\\PC{0,45}") {
            let by_hand = {
                let mut cs = s.chars();
                cs.next().is_some_and(|c| c.is_ascii_lowercase())
                    && (2..=40).contains(&s.chars().count())
                    && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            };
            prop_assert_eq!(TagCode::parse(&s).is_ok(), by_hand);
        }

        #[test]
        fn valid_codes_parse(s in "[a-z][a-z0-9_]{1,39}") {
            let code = TagCode::parse(&s).unwrap();
            prop_assert_eq!(code.as_str(), s.as_str());
        }
    }
}
