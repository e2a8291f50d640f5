//! Administrative areas: levels, GB/T 2260-style codes and materialized id paths.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AreaCodeProblem, DomainError, Echo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaLevel {
    City,
    District,
    Subdistrict,
    Community,
    Grid,
}

impl AreaLevel {
    pub const ALL: [AreaLevel; 5] = [
        Self::City,
        Self::District,
        Self::Subdistrict,
        Self::Community,
        Self::Grid,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::City => "city",
            Self::District => "district",
            Self::Subdistrict => "subdistrict",
            Self::Community => "community",
            Self::Grid => "grid",
        }
    }

    /// Accepts the English name or the Chinese level words (县 is a district-level unit,
    /// 乡/镇 sub-district level, 村 community level).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let level = match t.to_ascii_lowercase().as_str() {
            "city" | "市" => Self::City,
            "district" | "区" | "县" => Self::District,
            "subdistrict" | "街道" | "乡" | "镇" => Self::Subdistrict,
            "community" | "社区" | "村" => Self::Community,
            "grid" | "网格" => Self::Grid,
            _ => return Err(DomainError::AreaLevel(Echo::of(t))),
        };
        Ok(level)
    }

    /// Number of digits of an area code at this level.
    pub fn code_len(&self) -> usize {
        match self {
            Self::City | Self::District => 6,
            Self::Subdistrict => 9,
            Self::Community => 12,
            Self::Grid => 15,
        }
    }

    pub fn child(&self) -> Option<AreaLevel> {
        match self {
            Self::City => Some(Self::District),
            Self::District => Some(Self::Subdistrict),
            Self::Subdistrict => Some(Self::Community),
            Self::Community => Some(Self::Grid),
            Self::Grid => None,
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::City => "市",
            Self::District => "区（县）",
            Self::Subdistrict => "街道（乡镇）",
            Self::Community => "社区（村）",
            Self::Grid => "网格",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::City => "City",
            Self::District => "District",
            Self::Subdistrict => "Subdistrict",
            Self::Community => "Community",
            Self::Grid => "Grid",
        }
    }
}

/// An area code: 6 digits (GB/T 2260 city or district) plus 3 per lower level.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::AreaCode(AreaCodeProblem::NotDigits));
        }
        match t.len() {
            6 | 9 | 12 | 15 => Ok(Self(t.to_owned())),
            n => Err(DomainError::AreaCode(AreaCodeProblem::Length(n))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's shape suggests; GB/T 2260 cities end in "00".
    pub fn implied_level(&self) -> Option<AreaLevel> {
        match self.0.len() {
            6 if self.0.ends_with("00") => Some(AreaLevel::City),
            6 => Some(AreaLevel::District),
            9 => Some(AreaLevel::Subdistrict),
            12 => Some(AreaLevel::Community),
            15 => Some(AreaLevel::Grid),
            _ => None,
        }
    }

    /// Whether `self` can be the code of a direct child of `parent` (at `parent_level`).
    pub fn is_valid_child_of(&self, parent: &AreaCode, parent_level: AreaLevel) -> bool {
        let Some(child_level) = parent_level.child() else {
            return false;
        };
        if parent.0.len() != parent_level.code_len() || self.0.len() != child_level.code_len() {
            return false;
        }
        if parent_level == AreaLevel::City {
            // Districts share the city's province+city digits and differ in the last two.
            self.0[..4] == parent.0[..4] && self.0 != parent.0
        } else {
            self.0.starts_with(&parent.0)
        }
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> Self {
        c.0
    }
}

/// Materialized path of area ids, root first, e.g. "/1/5/9/". Ids are written without leading
/// zeros so that string prefix means subtree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaPath(String);

impl AreaPath {
    /// # Panics
    /// If `id` is negative: area ids are database keys and never negative.
    pub fn root(id: i64) -> Self {
        assert!(id >= 0, "area id must not be negative");
        Self(format!("/{id}/"))
    }

    /// # Panics
    /// If `id` is negative, as for [`AreaPath::root`].
    pub fn child(&self, id: i64) -> Self {
        assert!(id >= 0, "area id must not be negative");
        Self(format!("{}{id}/", self.0))
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let inner = s
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix('/'))
            .ok_or(DomainError::AreaPath)?;
        // Canonical segments only: "/01/" and "/1/" must not both exist.
        let canonical = |seg: &str| {
            !seg.is_empty()
                && seg.bytes().all(|b| b.is_ascii_digit())
                && seg.parse::<i64>().is_ok_and(|n| n.to_string() == seg)
        };
        if inner.split('/').all(canonical) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::AreaPath)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.0[1..self.0.len() - 1].split('/')
    }

    pub fn ids(&self) -> Vec<i64> {
        // Segments were checked to be canonical i64 values in `parse`/`root`/`child`.
        self.segments().filter_map(|s| s.parse().ok()).collect()
    }

    pub fn last_id(&self) -> i64 {
        self.segments()
            .last()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }

    pub fn depth(&self) -> usize {
        self.segments().count()
    }

    /// Whether `self` is `ancestor` or lies in its subtree.
    pub fn is_within(&self, ancestor: &AreaPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// Strict ancestors, root first.
    pub fn ancestors(&self) -> Vec<AreaPath> {
        self.0
            .match_indices('/')
            .skip(1)
            .map(|(i, _)| &self.0[..=i])
            .filter(|p| p.len() < self.0.len())
            .map(|p| Self(p.to_owned()))
            .collect()
    }

    /// Half-open range [lo, hi) of path strings within this subtree, for an indexed
    /// `path >= lo AND path < hi` query. hi swaps the trailing '/' for '0', the next byte.
    pub fn range(&self) -> (String, String) {
        let mut hi = self.0.clone();
        hi.pop();
        hi.push('0');
        (self.0.clone(), hi)
    }
}

impl fmt::Display for AreaPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AreaPath {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AreaPath> for String {
    fn from(p: AreaPath) -> Self {
        p.0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Random paths over a small id alphabet so that prefixes collide often.
    pub(crate) fn arb_path() -> impl Strategy<Value = AreaPath> {
        prop::collection::vec(prop_oneof![0i64..3, 9i64..12, 100i64..102], 1..5).prop_map(|ids| {
            let mut p = AreaPath::root(ids[0]);
            for id in &ids[1..] {
                p = p.child(*id);
            }
            p
        })
    }

    #[test]
    fn level_parse_and_shape() {
        assert_eq!(AreaLevel::parse("街道").unwrap(), AreaLevel::Subdistrict);
        assert_eq!(AreaLevel::parse(" Grid ").unwrap(), AreaLevel::Grid);
        assert_eq!(AreaLevel::parse("县").unwrap(), AreaLevel::District);
        assert_eq!(
            AreaLevel::parse("省").unwrap_err().code(),
            "area_level.invalid"
        );
        for l in AreaLevel::ALL {
            assert_eq!(AreaLevel::parse(l.as_str()).unwrap(), l);
        }
        assert_eq!(AreaLevel::Grid.child(), None);
        assert_eq!(AreaLevel::City.child(), Some(AreaLevel::District));
        assert_eq!(serde_plain(AreaLevel::Subdistrict), "\"subdistrict\"");
    }

    fn serde_plain<T: Serialize>(v: T) -> String {
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn area_code_levels_and_children() {
        let city = AreaCode::parse("140100").unwrap();
        let district = AreaCode::parse(" 140109 ").unwrap();
        let sub = AreaCode::parse("140109001").unwrap();
        assert_eq!(city.implied_level(), Some(AreaLevel::City));
        assert_eq!(district.implied_level(), Some(AreaLevel::District));
        assert_eq!(sub.implied_level(), Some(AreaLevel::Subdistrict));
        assert!(district.is_valid_child_of(&city, AreaLevel::City));
        assert!(
            !AreaCode::parse("140209")
                .unwrap()
                .is_valid_child_of(&city, AreaLevel::City)
        );
        assert!(sub.is_valid_child_of(&district, AreaLevel::District));
        assert!(!sub.is_valid_child_of(&city, AreaLevel::City));
        assert_eq!(
            AreaCode::parse("1401").unwrap_err().code(),
            "area_code.invalid"
        );
        assert!(AreaCode::parse("14010a").is_err());
        let json = serde_plain(&district);
        assert_eq!(json, "\"140109\"");
        assert_eq!(serde_json::from_str::<AreaCode>(&json).unwrap(), district);
        assert!(serde_json::from_str::<AreaCode>("\"12\"").is_err());
    }

    #[test]
    fn path_basics() {
        let p = AreaPath::root(1).child(5).child(9);
        assert_eq!(p.as_str(), "/1/5/9/");
        assert_eq!(p.ids(), vec![1, 5, 9]);
        assert_eq!(p.last_id(), 9);
        assert_eq!(p.depth(), 3);
        let anc: Vec<String> = p.ancestors().into_iter().map(String::from).collect();
        assert_eq!(anc, vec!["/1/", "/1/5/"]);
        assert!(p.is_within(&AreaPath::parse("/1/5/").unwrap()));
        assert!(
            !AreaPath::parse("/1/50/")
                .unwrap()
                .is_within(&AreaPath::parse("/1/5/").unwrap())
        );
        assert_eq!(p.range(), ("/1/5/9/".to_owned(), "/1/5/90".to_owned()));
        for bad in [
            "",
            "/",
            "1/",
            "/1",
            "//",
            "/1//",
            "/01/",
            "/a/",
            "/-1/",
            "/99999999999999999999/",
        ] {
            assert!(AreaPath::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn range_agrees_with_is_within(a in arb_path(), b in arb_path()) {
            let (lo, hi) = b.range();
            let in_range = a.as_str() >= lo.as_str() && a.as_str() < hi.as_str();
            prop_assert_eq!(in_range, a.is_within(&b));
        }

        #[test]
        fn path_parse_roundtrip(p in arb_path()) {
            prop_assert_eq!(AreaPath::parse(p.as_str()).unwrap(), p.clone());
            prop_assert_eq!(p.ancestors().len() + 1, p.depth());
        }

        #[test]
        fn area_code_parse_never_panics(s in "\\PC{0,20}") {
            if let Ok(c) = AreaCode::parse(&s) {
                prop_assert!(c.implied_level().is_some());
            }
        }
    }
}
