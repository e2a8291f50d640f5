//! Home visits (走访): how a visit went.

use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    /// 在家: met at home.
    AtHome,
    /// 不在家: nobody answered; the household stays due for a visit.
    NotHome,
    /// 拒访: declined.
    Refused,
    /// 电话: reached by phone instead.
    Phone,
}

impl VisitOutcome {
    pub const ALL: [VisitOutcome; 4] = [Self::AtHome, Self::NotHome, Self::Refused, Self::Phone];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AtHome => "at_home",
            Self::NotHome => "not_home",
            Self::Refused => "refused",
            Self::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == t || o.name_zh() == t)
            .ok_or_else(|| DomainError::VisitOutcome(Echo::of(t)))
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::AtHome => "在家",
            Self::NotHome => "不在家",
            Self::Refused => "拒访",
            Self::Phone => "电话",
        }
    }

    /// Whether the visit counts as reaching the household (it is no longer due).
    pub fn reached(&self) -> bool {
        matches!(self, Self::AtHome | Self::Phone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_chinese() {
        for o in VisitOutcome::ALL {
            assert_eq!(VisitOutcome::parse(o.as_str()).unwrap(), o);
            assert_eq!(VisitOutcome::parse(o.name_zh()).unwrap(), o);
        }
        assert_eq!(
            VisitOutcome::parse("maybe").unwrap_err().code(),
            "visit_outcome.invalid"
        );
        assert!(!VisitOutcome::NotHome.reached());
    }
}
