//! A campaign's target rule, evaluated against the registry: area subtrees × tags × age range ×
//! residence type × explicit places, plus households named to include or exclude. The store
//! turns it into SQL; this type only guarantees it makes sense.
//!
//! Semantics (the same for preview, launch and later additions):
//! - **areas**: subtrees the targets live in (at least one).
//! - **tags**: any of them, current on the target. For a household campaign a household matches
//!   a person tag when one of its current members holds it; for a person campaign a person
//!   matches a household tag when their household holds it.
//! - **age range** and **residence types** apply to persons (for households: some member).
//! - **places**: compounds, buildings, units or dwellings; when given, only targets living in
//!   them.
//! - **include_households** are added whatever the other criteria say (for a person campaign:
//!   their current members); **exclude_households** are removed last.

use serde::{Deserialize, Serialize};

use super::input::{CampaignInput as I, InputProblem, problem};
use crate::area::AreaCode;
use crate::residence::ResidenceType;
use crate::tag::TagCode;

pub const MAX_AREAS: usize = 50;
pub const MAX_TAGS: usize = 20;
pub const MAX_PLACES: usize = 500;
pub const MAX_HOUSEHOLDS: usize = 2000;
pub const MAX_AGE: u16 = 150;

/// A rule as given, before its parts are checked together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDraft {
    pub areas: Vec<AreaCode>,
    #[serde(default)]
    pub tags: Vec<TagCode>,
    #[serde(default)]
    pub age_min: Option<u16>,
    #[serde(default)]
    pub age_max: Option<u16>,
    #[serde(default)]
    pub residence: Vec<ResidenceType>,
    #[serde(default)]
    pub places: Vec<i64>,
    #[serde(default)]
    pub include_households: Vec<i64>,
    #[serde(default)]
    pub exclude_households: Vec<i64>,
}

/// A checked rule: at least one area, bounded lists without duplicates, a sensible age range,
/// nothing both included and excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleDraft", into = "RuleDraft")]
pub struct TargetRule(RuleDraft);

fn dedup<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v.dedup();
    v
}

impl TargetRule {
    pub fn parse(d: RuleDraft) -> Result<TargetRule, Vec<InputProblem>> {
        let mut problems = Vec::new();
        let d = RuleDraft {
            areas: dedup(d.areas),
            tags: dedup(d.tags),
            residence: dedup(d.residence),
            places: dedup(d.places),
            include_households: dedup(d.include_households),
            exclude_households: dedup(d.exclude_households),
            ..d
        };
        if d.areas.is_empty() {
            problems.push(problem("rule.areas", I::NoArea));
        }
        for (field, len, max) in [
            ("rule.areas", d.areas.len(), MAX_AREAS),
            ("rule.tags", d.tags.len(), MAX_TAGS),
            ("rule.places", d.places.len(), MAX_PLACES),
            (
                "rule.include_households",
                d.include_households.len(),
                MAX_HOUSEHOLDS,
            ),
            (
                "rule.exclude_households",
                d.exclude_households.len(),
                MAX_HOUSEHOLDS,
            ),
        ] {
            if len > max {
                problems.push(problem(field, I::TooMany { max }));
            }
        }
        let bad_age = |a: Option<u16>| a.is_some_and(|a| a > MAX_AGE);
        if bad_age(d.age_min)
            || bad_age(d.age_max)
            || matches!((d.age_min, d.age_max), (Some(lo), Some(hi)) if lo > hi)
        {
            problems.push(problem("rule.age_min", I::AgeRange));
        }
        if d.include_households
            .iter()
            .any(|h| d.exclude_households.binary_search(h).is_ok())
        {
            problems.push(problem("rule.exclude_households", I::IncludedAndExcluded));
        }
        if problems.is_empty() {
            Ok(TargetRule(d))
        } else {
            Err(problems)
        }
    }

    pub fn areas(&self) -> &[AreaCode] {
        &self.0.areas
    }

    pub fn tags(&self) -> &[TagCode] {
        &self.0.tags
    }

    pub fn age_min(&self) -> Option<u16> {
        self.0.age_min
    }

    pub fn age_max(&self) -> Option<u16> {
        self.0.age_max
    }

    pub fn residence(&self) -> &[ResidenceType] {
        &self.0.residence
    }

    pub fn places(&self) -> &[i64] {
        &self.0.places
    }

    pub fn include_households(&self) -> &[i64] {
        &self.0.include_households
    }

    pub fn exclude_households(&self) -> &[i64] {
        &self.0.exclude_households
    }

    /// Whether the rule narrows persons (not only places and named households).
    pub fn has_person_criteria(&self) -> bool {
        self.0.age_min.is_some() || self.0.age_max.is_some() || !self.0.residence.is_empty()
    }
}

impl TryFrom<RuleDraft> for TargetRule {
    type Error = String;

    fn try_from(d: RuleDraft) -> Result<Self, Self::Error> {
        TargetRule::parse(d).map_err(|p| {
            p.iter()
                .map(|p| format!("{}: {}", p.field, p.error.code()))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

impl From<TargetRule> for RuleDraft {
    fn from(r: TargetRule) -> Self {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn a_rule_needs_an_area_and_sensible_parts() {
        let e = TargetRule::parse(RuleDraft {
            age_min: Some(80),
            age_max: Some(70),
            include_households: vec![3, 4],
            exclude_households: vec![4],
            ..Default::default()
        })
        .unwrap_err();
        let codes: Vec<(&str, &str)> = e
            .iter()
            .map(|p| (p.field.as_str(), p.error.code()))
            .collect();
        assert_eq!(
            codes,
            [
                ("rule.areas", "rule.no_area"),
                ("rule.age_min", "rule.age_range"),
                ("rule.exclude_households", "rule.included_and_excluded"),
            ]
        );
    }

    #[test]
    fn lists_are_deduplicated_and_the_rule_round_trips_as_json() {
        let r = TargetRule::parse(RuleDraft {
            areas: vec![code("140109001001"), code("140109001001")],
            tags: vec![TagCode::parse("elderly_party_member").unwrap()],
            age_min: Some(70),
            places: vec![9, 3, 9],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.areas().len(), 1);
        assert_eq!(r.places(), &[3, 9]);
        assert!(r.has_person_criteria());
        let json = serde_json::to_string(&r).unwrap();
        let back: TargetRule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert!(serde_json::from_str::<TargetRule>(r#"{"areas":[]}"#).is_err());
    }
}
