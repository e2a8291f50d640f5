//! One household: size, members from a template (`family`), birth dates, names that follow the
//! family line, residence type and the origin of each member's ID number.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Date;
use wangge_domain::ResidenceType;

use crate::family;
use crate::ids::{ABROAD_START, ORIGINS, PROVINCES_START, SHANXI_START, XINJIANG};
use crate::names::NameTables;

/// How a member is related, beyond the code: who their parent is decides their surname.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kin {
    Householder,
    Spouse,
    Child,
    /// Child's spouse; `usize` is the child's index in the household.
    ChildInLaw(usize),
    /// Grandchild; `usize` is the index of the parent (a child of the householder).
    Grandchild(usize),
    ParentOfHead {
        father: bool,
    },
    Sibling,
    Other,
}

#[derive(Debug)]
pub(crate) struct MemberDraft {
    pub kin: Kin,
    pub relation: u8,
    pub male: bool,
    pub age: i32,
    pub birth: Date,
    pub residence: ResidenceType,
    pub since: Date,
    /// Index into `ids::ORIGINS`.
    pub origin: usize,
    pub name: String,
}

/// Shapes the tag rules care about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Shape {
    Other,
    /// Two spouses, both 60+.
    ElderlyCouple,
    /// Grandparents with grandchildren, no parent generation.
    SkippedGeneration,
}

pub(crate) struct HouseholdDraft {
    pub members: Vec<MemberDraft>,
    pub shape: Shape,
    pub since: Date,
}

/// Household sizes per 1,000: 1: 25%, 2: 30%, 3: 22%, 4: 12%, 5: 7%, 6: 3%, 7: 1%.
const SIZE_CUM: [u32; 7] = [250, 550, 770, 890, 960, 990, 1000];

pub(crate) fn draw_size(rng: &mut ChaCha8Rng) -> usize {
    let u = rng.random_range(0..1000u32);
    SIZE_CUM.iter().position(|&c| u < c).expect("u < 1000") + 1
}

/// Household residence and origin of the ID number.
fn residence_and_origin(district: usize, rng: &mut ChaCha8Rng) -> (ResidenceType, usize) {
    let u = rng.random_range(0..1000u32);
    let other_taiyuan = |rng: &mut ChaCha8Rng| rng.random_range(0..SHANXI_START);
    let shanxi = |rng: &mut ChaCha8Rng| rng.random_range(SHANXI_START..PROVINCES_START);
    let province = |rng: &mut ChaCha8Rng| {
        // Xinjiang is rare; the other provinces share the rest.
        if rng.random_range(0..100u32) < 4 {
            XINJIANG
        } else {
            rng.random_range(PROVINCES_START..XINJIANG)
        }
    };
    if u < 650 {
        let o = if rng.random_range(0..100u32) < 88 {
            district
        } else {
            other_taiyuan(rng)
        };
        (ResidenceType::Registered, o)
    } else if u < 770 {
        let v = rng.random_range(0..10u32);
        let o = if v < 5 {
            other_taiyuan(rng)
        } else if v < 9 {
            shanxi(rng)
        } else {
            province(rng)
        };
        (ResidenceType::Permanent, o)
    } else if u < 990 {
        let o = if rng.random_range(0..10u32) < 6 {
            shanxi(rng)
        } else {
            province(rng)
        };
        (ResidenceType::Migrant, o)
    } else {
        (
            ResidenceType::Foreign,
            rng.random_range(ABROAD_START..ORIGINS.len()),
        )
    }
}

pub(crate) fn days_before(today: Date, days: i32) -> Date {
    Date::from_julian_day(today.to_julian_day() - days).expect("within the calendar")
}

/// Build one household of `size` persons living in `district` (an index into `ORIGINS`).
pub(crate) fn draft(
    size: usize,
    district: usize,
    today: Date,
    names: &NameTables,
    rng: &mut ChaCha8Rng,
) -> HouseholdDraft {
    let (spec, shape) = family::compose(size, rng);
    let (residence, origin) = residence_and_origin(district, rng);
    let head_age = spec[0].3;
    // When the household settled here: registered families long ago, migrants recently.
    let max_years = match residence {
        ResidenceType::Registered => (head_age - 18).clamp(0, 40),
        ResidenceType::Permanent => (head_age - 18).clamp(0, 20),
        ResidenceType::Migrant => (head_age - 16).clamp(0, 8),
        ResidenceType::Foreign => 5,
    };
    let since = days_before(today, rng.random_range(0..=max_years * 365 + 364));
    let uyghur = origin == XINJIANG;
    let mut members: Vec<MemberDraft> = Vec::with_capacity(size);
    // Per member: surname index and (for Uyghur names) own given name and father's given name.
    let mut surnames: Vec<u8> = Vec::with_capacity(size);
    let mut givens: Vec<(&'static str, &'static str)> = Vec::with_capacity(size);
    for &(kin, relation, male, age) in &spec {
        let back = age * 365 + age / 4 + rng.random_range(0..365);
        let birth = days_before(today, back);
        let couple = |want_male: bool| {
            members.iter().position(|m| {
                m.male == want_male && matches!(m.kin, Kin::Householder | Kin::Spouse)
            })
        };
        // Surnames follow the father's line (one in ten children takes the mother's); spouses
        // and in-laws keep their own. `parent` is whose given name a Uyghur name carries.
        let (surname, parent) = match kin {
            Kin::Householder | Kin::Spouse | Kin::ChildInLaw(_) | Kin::Other => {
                (names.draw_surname(rng), None)
            }
            Kin::Child => {
                let father = couple(true);
                let from = if rng.random_range(0..10u32) == 0 {
                    couple(false)
                } else {
                    father
                };
                (surnames[from.unwrap_or(0)], father)
            }
            Kin::Grandchild(via) if via < members.len() => {
                let father = if members[via].male {
                    Some(via)
                } else {
                    members.iter().position(|m| m.kin == Kin::ChildInLaw(via))
                };
                match father {
                    Some(f) => (surnames[f], Some(f)),
                    None => (names.draw_surname(rng), None),
                }
            }
            // Skipped generation: the absent parent is usually the householder's son.
            Kin::Grandchild(_) => (surnames[couple(true).unwrap_or(0)], None),
            Kin::ParentOfHead { father: true } | Kin::Sibling => (surnames[0], None),
            Kin::ParentOfHead { father: false } => (names.draw_surname(rng), None),
        };
        let mut name = String::with_capacity(24);
        let mut given = ("", "");
        if uyghur {
            // Given name · father's given name; the householder's father is the one named
            // after the dot in the householder's own name.
            let own = match kin {
                Kin::ParentOfHead { father: true } if !givens.is_empty() => givens[0].1,
                _ => NameTables::uyghur_given(male, rng),
            };
            let fathers = match parent {
                Some(p) => givens[p].0,
                None => NameTables::uyghur_given(true, rng),
            };
            given = (own, fathers);
            name.push_str(own);
            name.push('\u{00B7}');
            name.push_str(fathers);
        } else {
            name.push_str(NameTables::surname(surname));
            NameTables::push_given(&mut name, birth.year(), male, rng);
        }
        // A few members differ from the household: a spouse or parent registered elsewhere.
        let (res, org) = match kin {
            Kin::Spouse | Kin::ParentOfHead { .. } | Kin::ChildInLaw(_) | Kin::Other
                if residence == ResidenceType::Registered && rng.random_range(0..10u32) == 0 =>
            {
                residence_and_origin(district, rng)
            }
            _ => (residence, origin),
        };
        let member_since = if birth > since { birth } else { since };
        surnames.push(surname);
        givens.push(given);
        members.push(MemberDraft {
            kin,
            relation,
            male,
            age,
            birth,
            residence: res,
            since: member_since,
            origin: org,
            name,
        });
    }
    HouseholdDraft {
        members,
        shape,
        since,
    }
}
