//! Residence type: how a person belongs to the community (实有人口 categories).

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResidenceType {
    /// 户籍: household registration (hukou) is here.
    Registered,
    /// 常住: lives here long-term without local hukou.
    Permanent,
    /// 流动: migrant population.
    Migrant,
    /// 境外: foreigners and residents from outside the mainland.
    Foreign,
}

impl ResidenceType {
    pub const ALL: [ResidenceType; 4] = [
        Self::Registered,
        Self::Permanent,
        Self::Migrant,
        Self::Foreign,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Permanent => "permanent",
            Self::Migrant => "migrant",
            Self::Foreign => "foreign",
        }
    }

    /// Accepts the English word or the Chinese term, with or without 人口/人员.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let kind = match t.to_ascii_lowercase().as_str() {
            "registered" | "户籍" | "户籍人口" => Self::Registered,
            "permanent" | "常住" | "常住人口" => Self::Permanent,
            "migrant" | "流动" | "流动人口" => Self::Migrant,
            "foreign" | "境外" | "境外人员" | "境外人口" => Self::Foreign,
            _ => return Err(DomainError::ResidenceType(Echo::of(t))),
        };
        Ok(kind)
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Registered => "户籍",
            Self::Permanent => "常住",
            Self::Migrant => "流动",
            Self::Foreign => "境外",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Registered => "Registered",
            Self::Permanent => "Permanent",
            Self::Migrant => "Migrant",
            Self::Foreign => "Foreign",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_words() {
        for t in ResidenceType::ALL {
            assert_eq!(ResidenceType::parse(t.as_str()).unwrap(), t);
            assert_eq!(ResidenceType::parse(t.name_zh()).unwrap(), t);
        }
        assert_eq!(
            ResidenceType::parse("流动人口").unwrap(),
            ResidenceType::Migrant
        );
        assert_eq!(
            ResidenceType::parse("x").unwrap_err().code(),
            "residence_type.invalid"
        );
        assert_eq!(
            serde_json::to_string(&ResidenceType::Foreign).unwrap(),
            "\"foreign\""
        );
    }
}
