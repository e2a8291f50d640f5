//! Places below the grid: compound → building → unit → dwelling, and their standard address.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Echo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    Compound,
    Building,
    Unit,
    Dwelling,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 4] = [Self::Compound, Self::Building, Self::Unit, Self::Dwelling];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Compound => "compound",
            Self::Building => "building",
            Self::Unit => "unit",
            Self::Dwelling => "dwelling",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let kind = match t.to_ascii_lowercase().as_str() {
            "compound" | "小区" | "院落" => Self::Compound,
            "building" | "楼栋" => Self::Building,
            "unit" | "单元" => Self::Unit,
            "dwelling" | "户室" | "房屋" => Self::Dwelling,
            _ => return Err(DomainError::PlaceKind(Echo::of(t))),
        };
        Ok(kind)
    }

    /// The kind directly above; a compound hangs off a grid, not another place.
    pub fn parent_kind(&self) -> Option<PlaceKind> {
        match self {
            Self::Compound => None,
            Self::Building => Some(Self::Compound),
            Self::Unit => Some(Self::Building),
            Self::Dwelling => Some(Self::Unit),
        }
    }

    pub fn child_kind(&self) -> Option<PlaceKind> {
        match self {
            Self::Compound => Some(Self::Building),
            Self::Building => Some(Self::Unit),
            Self::Unit => Some(Self::Dwelling),
            Self::Dwelling => None,
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Compound => "小区",
            Self::Building => "楼栋",
            Self::Unit => "单元",
            Self::Dwelling => "户室",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::Compound => "Compound",
            Self::Building => "Building",
            Self::Unit => "Unit",
            Self::Dwelling => "Dwelling",
        }
    }
}

/// A bare number gets its unit word ("3" → "3号楼"); a label that already says what it is
/// ("A座", "3号楼") is kept as written.
fn label(out: &mut String, value: Option<&str>, suffix: &str) {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return;
    };
    out.push_str(v);
    if v.bytes().all(|b| b.is_ascii_digit()) {
        out.push_str(suffix);
    }
}

/// The Chinese standard address (标准地址): area names from city down, then the place labels.
pub fn standard_address(
    area_names: &[&str],
    compound: &str,
    building: Option<&str>,
    unit: Option<&str>,
    dwelling: Option<&str>,
) -> String {
    let mut out: String = area_names.iter().map(|n| n.trim()).collect();
    out.push_str(compound.trim());
    label(&mut out, building, "号楼");
    label(&mut out, unit, "单元");
    label(&mut out, dwelling, "室");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_form_a_chain() {
        for k in PlaceKind::ALL {
            assert_eq!(PlaceKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(PlaceKind::parse(k.name_zh()).unwrap(), k);
            if let Some(c) = k.child_kind() {
                assert_eq!(c.parent_kind(), Some(k));
            }
        }
        assert_eq!(
            PlaceKind::parse("楼层").unwrap_err().code(),
            "place_kind.invalid"
        );
    }

    #[test]
    fn standard_address_examples() {
        let areas = ["太原市", "万柏林区", "小井峪街道", "西矿街社区"];
        assert_eq!(
            standard_address(&areas, "西矿街小区", Some("3"), Some("2"), Some("601")),
            "太原市万柏林区小井峪街道西矿街社区西矿街小区3号楼2单元601室"
        );
        assert_eq!(
            standard_address(&areas[..2], "某小区", Some("A座"), None, Some("1201")),
            "太原市万柏林区某小区A座1201室"
        );
        assert_eq!(
            standard_address(&[], "平房院", None, Some(""), None),
            "平房院"
        );
    }
}
