//! Tag prevalence rules. Rates are in parts per million so draws stay in integer arithmetic
//! (the same decisions on every platform).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Date;

use crate::DemoTag;
use crate::household::{HouseholdDraft, Kin, MemberDraft, Shape, days_before};

fn hit(rng: &mut ChaCha8Rng, ppm: u32) -> bool {
    rng.random_range(0..1_000_000u32) < ppm
}

/// A date between `years_back` years ago and today, not before `not_before`.
fn recent(rng: &mut ChaCha8Rng, today: Date, years_back: i32, not_before: Date) -> Date {
    let d = days_before(today, rng.random_range(0..=years_back.max(0) * 365));
    d.max(not_before).min(today)
}

/// The day someone reached `age` (approximately; leap days do not matter here).
fn at_age(m: &MemberDraft, age: i32) -> Date {
    Date::from_julian_day(m.birth.to_julian_day() + age * 365 + age / 4).expect("in calendar")
}

fn person(tag_code: &'static str, key: u64, since: Date) -> DemoTag {
    DemoTag {
        tag_code,
        person: Some(key),
        household: None,
        since,
    }
}

/// Push the tags of one household. `first_person` is the key of its first member (members get
/// consecutive keys in order).
pub(crate) fn tag_household(
    h: &HouseholdDraft,
    household_key: u64,
    first_person: u64,
    today: Date,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<DemoTag>,
) {
    // 低保: about 2% of households, more often the elderly alone.
    let lone_elder = h.members.len() == 1 && h.members[0].age >= 65;
    if hit(rng, if lone_elder { 45_000 } else { 18_000 }) {
        let since = recent(rng, today, 8, h.since);
        out.push(DemoTag {
            tag_code: "subsistence_allowance",
            person: None,
            household: Some(household_key),
            since,
        });
    }
    // Empty-nest couples: about half of the elderly-couple households are registered as such.
    let empty_nest = h.shape == Shape::ElderlyCouple && h.members.iter().all(|m| m.age >= 60);
    let empty_nest = empty_nest && hit(rng, 500_000);
    for (i, m) in h.members.iter().enumerate() {
        let key = first_person + i as u64;
        let age = m.age;
        let adult = age >= 18;
        if age >= 70 && hit(rng, 120_000) {
            out.push(person(
                "elderly_party_member",
                key,
                recent(rng, today, 10, at_age(m, 70)),
            ));
        }
        if lone_elder && hit(rng, 600_000) {
            out.push(person(
                "elderly_living_alone",
                key,
                recent(rng, today, 8, at_age(m, 65)),
            ));
        }
        if empty_nest {
            out.push(person(
                "empty_nest_elderly",
                key,
                recent(rng, today, 10, at_age(m, 60)),
            ));
        }
        // About 6% overall, concentrated among the old.
        let disabled_ppm = match age {
            ..18 => 15_000,
            18..60 => 42_000,
            60..75 => 120_000,
            _ => 220_000,
        };
        if hit(rng, disabled_ppm) {
            out.push(person(
                "disabled",
                key,
                recent(rng, today, age.min(30), m.birth),
            ));
        }
        if hit(rng, if age >= 60 { 35_000 } else { 4_000 }) {
            // Monitoring is a current episode, started within the last half year.
            let d = days_before(today, rng.random_range(0..180));
            out.push(person("home_health_monitoring", key, d.max(m.birth)));
        }
        if hit(rng, 3_000) {
            out.push(person(
                "returned_overseas_chinese",
                key,
                recent(rng, today, 20, m.birth),
            ));
        }
        if age >= 30 && hit(rng, 600) {
            let since = recent(rng, today, 15, at_age(m, 30));
            out.push(person("non_party_representative", key, since));
        }
        if (25..=55).contains(&age) && hit(rng, 3_000) {
            out.push(person(
                "new_social_strata",
                key,
                recent(rng, today, 10, at_age(m, 25)),
            ));
        }
        if (25..=70).contains(&age) && hit(rng, 2_500) {
            let since = recent(rng, today, 15, at_age(m, 25));
            out.push(person("private_economy_figure", key, since));
        }
        if m.male && age >= 40 && hit(rng, 15_000) {
            // Registered at discharge, after a few years of service from about 18.
            let since = at_age(m, 18 + rng.random_range(2..=8)).min(today);
            out.push(person("veteran", key, since));
        }
        let skipped = h.shape == Shape::SkippedGeneration && matches!(m.kin, Kin::Grandchild(_));
        if age < 16 && skipped && hit(rng, 100_000) {
            out.push(person(
                "left_behind_child",
                key,
                recent(rng, today, 3, m.birth),
            ));
        }
        if adult && age <= 70 && hit(rng, 250) {
            out.push(person(
                "community_correction",
                key,
                recent(rng, today, 2, at_age(m, 18)),
            ));
        }
        if (22..=75).contains(&age) && hit(rng, 400) {
            out.push(person(
                "released_prisoner",
                key,
                recent(rng, today, 5, at_age(m, 22)),
            ));
        }
        if age >= 16 && hit(rng, 4_800) {
            let since = recent(rng, today, 15, at_age(m, 16));
            out.push(person("severe_mental_disorder", key, since));
        }
    }
}
