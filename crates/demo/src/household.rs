//! Household composition: size, relations (GB/T 4761), coherent ages, names, residence.
//!
//! A household is drawn as a template (single, couple, nuclear, three-generation, skipped-
//! generation …) chosen by size, so relations and ages fit together: spouses within a few years,
//! children 22–35 years younger than their parents, parents of the householder older still.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Date;
use wangge_domain::ResidenceType;

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
    ParentOfHead { father: bool },
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

struct Builder<'r> {
    rng: &'r mut ChaCha8Rng,
    m: Vec<(Kin, u8, bool, i32)>,
}

impl Builder<'_> {
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        self.rng.random_range(lo..=hi.max(lo))
    }
    fn chance(&mut self, per_mille: u32) -> bool {
        self.rng.random_range(0..1000u32) < per_mille
    }
    fn add(&mut self, kin: Kin, rel: u8, male: bool, age: i32) -> usize {
        self.m.push((kin, rel, male, age.clamp(0, 100)));
        self.m.len() - 1
    }
    /// The householder, aged `lo..=hi`, male with the given odds (per mille).
    fn head(&mut self, lo: i32, hi: i32, male_per_mille: u32) -> (bool, i32) {
        let age = self.range(lo, hi);
        self.head_aged(age, male_per_mille)
    }
    fn head_aged(&mut self, age: i32, male_per_mille: u32) -> (bool, i32) {
        let male = self.chance(male_per_mille);
        self.add(Kin::Householder, 2, male, age);
        (male, age)
    }
    fn spouse(&mut self, head: (bool, i32)) {
        // Husbands are usually a little older than their wives.
        let d = self.range(-1, 4);
        let age = if head.0 { head.1 - d } else { head.1 + d };
        self.add(Kin::Spouse, 10, !head.0, age.max(20));
    }
    /// `n` children of a parent aged `parent_age`, eldest first; relation codes by birth order.
    fn children(&mut self, parent_age: i32, n: usize) -> Vec<usize> {
        let gap = self.range(22, 35.min(parent_age));
        let mut age = parent_age - gap;
        let males: Vec<bool> = (0..n).map(|_| self.chance(515)).collect();
        let (mut sm, mut sf) = (0u8, 0u8);
        let mut out = Vec::with_capacity(n);
        for male in males {
            let rel = if male {
                sm += 1;
                if n == 1 { 21 } else { (21 + sm).min(29) }
            } else {
                sf += 1;
                if n == 1 { 31 } else { (31 + sf).min(39) }
            };
            out.push(self.add(Kin::Child, rel, male, age.max(0)));
            age -= self.range(1, 7);
        }
        out
    }
    fn grandchildren(&mut self, via: usize, n: usize) {
        let (_, _, parent_male, parent_age) = self.m[via];
        let mut age = parent_age - self.range(22, 33.min(parent_age.max(22)));
        for _ in 0..n {
            let male = self.chance(515);
            let rel = match (parent_male, male) {
                (true, true) => 41,
                (true, false) => 42,
                (false, true) => 43,
                (false, false) => 44,
            };
            self.add(Kin::Grandchild(via), rel, male, age.max(0));
            age -= self.range(1, 6);
        }
    }
    fn parents_of_head(&mut self, head_age: i32, both: bool) {
        let father_age = head_age + self.range(24, 32);
        let mother_age = father_age - self.range(0, 4);
        if both || self.chance(400) {
            self.add(Kin::ParentOfHead { father: true }, 51, true, father_age);
        }
        if both || self.m.last().map(|x| x.0) != Some(Kin::ParentOfHead { father: true }) {
            self.add(Kin::ParentOfHead { father: false }, 52, false, mother_age);
        }
    }
}

/// Age skewed towards the low end of `lo..=hi` (min of two uniforms): the very old are fewer.
fn skew_low(rng: &mut ChaCha8Rng, lo: i32, hi: i32) -> i32 {
    lo + rng.random_range(0..=hi - lo).min(rng.random_range(0..=hi - lo))
}

/// Compose the members of one household of `size` persons (relation, sex, age only).
fn compose(size: usize, rng: &mut ChaCha8Rng) -> (Vec<(Kin, u8, bool, i32)>, Shape) {
    let mut b = Builder { rng, m: Vec::with_capacity(size) };
    let mut shape = Shape::Other;
    let t = b.range(0, 999) as u32;
    match size {
        1 => {
            // Widowed elderly (mostly women), young singles and migrants, middle-aged singles.
            if t < 380 {
                let age = skew_low(b.rng, 65, 98);
                b.head_aged(age, 330);
            } else if t < 560 {
                b.head(45, 64, 500);
            } else {
                b.head(20, 44, 560);
            }
        }
        2 => {
            if t < 400 {
                let h = { let age = skew_low(b.rng, 60, 92); b.head_aged(age, 900) };
                b.spouse(h);
                shape = Shape::ElderlyCouple;
            } else if t < 580 {
                let h = b.head(45, 59, 850);
                b.spouse(h);
            } else if t < 800 {
                let h = b.head(23, 38, 700);
                b.spouse(h);
            } else if t < 920 {
                let h = b.head(38, 62, 300);
                b.children(h.1, 1);
            } else if t < 970 {
                let h = b.head(30, 58, 600);
                b.parents_of_head(h.1, false);
            } else {
                let h = b.head(20, 40, 550);
                if b.chance(500) {
                    let male = b.chance(500);
                    let older = b.chance(500);
                    let rel = match (male, older) {
                        (true, true) => 71,
                        (true, false) => 73,
                        (false, true) => 75,
                        (false, false) => 77,
                    };
                    let age = if older { h.1 + b.range(1, 6) } else { h.1 - b.range(1, 6) };
                    b.add(Kin::Sibling, rel, male, age.max(16));
                } else {
                    let (age, male) = (b.range(20, 40), b.chance(500));
                    b.add(Kin::Other, 99, male, age);
                }
            }
        }
        3 => {
            if t < 780 {
                let h = b.head(27, 66, 800);
                b.spouse(h);
                b.children(h.1, 1);
            } else if t < 880 {
                let h = b.head(30, 56, 800);
                b.spouse(h);
                b.parents_of_head(h.1, false);
            } else if t < 950 {
                // Grandparents raising a grandchild while the parents work elsewhere.
                let h = b.head(52, 74, 800);
                b.spouse(h);
                let kid_age = b.range(1, 15);
                let male = b.chance(515);
                b.add(Kin::Grandchild(usize::MAX), if male { 41 } else { 42 }, male, kid_age);
                shape = Shape::SkippedGeneration;
            } else {
                let h = b.head(33, 55, 250);
                b.children(h.1, 2);
            }
        }
        _ => {
            if size == 4 && t < 520 {
                let h = b.head(30, 55, 800);
                b.spouse(h);
                b.children(h.1, 2);
            } else if size == 4 && t < 820 {
                let h = b.head(30, 52, 800);
                b.spouse(h);
                b.children(h.1, 1);
                b.parents_of_head(h.1, false);
            } else if t < 600 {
                // Three generations: householder couple, children, householder's parents.
                let h = b.head(32, 50, 850);
                b.spouse(h);
                b.parents_of_head(h.1, true);
                let n = size.saturating_sub(b.m.len()).max(1);
                b.children(h.1, n);
            } else {
                // Elderly householders with a married child and grandchildren.
                let h = b.head(52, 76, 850);
                b.spouse(h);
                let kids = b.children(h.1, 1);
                let (_, _, male, age) = b.m[kids[0]];
                let inlaw_age = age + b.range(-2, 3);
                b.add(Kin::ChildInLaw(kids[0]), if male { 38 } else { 28 }, !male, inlaw_age);
                let n = size.saturating_sub(b.m.len());
                b.grandchildren(kids[0], n);
            }
        }
    }
    // Any seats left (rare): a sibling or a live-in helper.
    while b.m.len() < size {
        let (age, sibling) = (b.range(18, 60), b.chance(600));
        if sibling {
            let male = b.chance(500);
            b.add(Kin::Sibling, 79, male, age);
        } else {
            // Live-in helpers (保姆) are mostly women.
            let male = b.chance(300);
            b.add(Kin::Other, 99, male, age);
        }
    }
    b.m.truncate(size);
    (b.m, shape)
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
        let o = if rng.random_range(0..100u32) < 88 { district } else { other_taiyuan(rng) };
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
        let o = if rng.random_range(0..10u32) < 6 { shanxi(rng) } else { province(rng) };
        (ResidenceType::Migrant, o)
    } else {
        (ResidenceType::Foreign, rng.random_range(ABROAD_START..ORIGINS.len()))
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
    let (spec, shape) = compose(size, rng);
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
            members
                .iter()
                .position(|m| m.male == want_male && matches!(m.kin, Kin::Householder | Kin::Spouse))
        };
        // Surnames follow the father's line (one in ten children takes the mother's); spouses
        // and in-laws keep their own. `parent` is whose given name a Uyghur name carries.
        let (surname, parent) = match kin {
            Kin::Householder | Kin::Spouse | Kin::ChildInLaw(_) | Kin::Other => {
                (names.draw_surname(rng), None)
            }
            Kin::Child => {
                let father = couple(true);
                let from = if rng.random_range(0..10u32) == 0 { couple(false) } else { father };
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
    HouseholdDraft { members, shape, since }
}
