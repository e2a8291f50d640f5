//! Household templates: who lives together and how old they are.
//!
//! A template (single, couple, nuclear, three-generation, skipped-generation …) is chosen by
//! household size, so relations and ages fit together: spouses within a few years, children
//! 22–35 years younger than their parents, parents of the householder older still. The shares
//! were tuned so the whole city has ≈ 20% aged 60+ and ≈ 14% aged 65+ (see `examples/gen.rs`).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::household::{Kin, Shape};

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
    lo + rng
        .random_range(0..=hi - lo)
        .min(rng.random_range(0..=hi - lo))
}

/// Compose the members of one household of `size` persons (relation, sex, age only).
pub(crate) fn compose(size: usize, rng: &mut ChaCha8Rng) -> (Vec<(Kin, u8, bool, i32)>, Shape) {
    let mut b = Builder {
        rng,
        m: Vec::with_capacity(size),
    };
    let mut shape = Shape::Other;
    let t = b.range(0, 999) as u32;
    match size {
        1 => {
            // Widowed elderly (mostly women), young singles and migrants, middle-aged singles.
            if t < 220 {
                let age = skew_low(b.rng, 65, 98);
                b.head_aged(age, 330);
            } else if t < 400 {
                b.head(45, 64, 500);
            } else {
                b.head(19, 40, 560);
            }
        }
        2 => {
            if t < 240 {
                let h = {
                    let age = skew_low(b.rng, 60, 92);
                    b.head_aged(age, 900)
                };
                b.spouse(h);
                shape = Shape::ElderlyCouple;
            } else if t < 420 {
                let h = b.head(45, 59, 850);
                b.spouse(h);
            } else if t < 770 {
                let h = b.head(22, 35, 700);
                b.spouse(h);
            } else if t < 910 {
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
                    let age = if older {
                        h.1 + b.range(1, 6)
                    } else {
                        h.1 - b.range(1, 6)
                    };
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
                b.add(
                    Kin::Grandchild(usize::MAX),
                    if male { 41 } else { 42 },
                    male,
                    kid_age,
                );
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
                let h = b.head(50, 68, 850);
                b.spouse(h);
                let kids = b.children(h.1, 1);
                let (_, _, male, age) = b.m[kids[0]];
                let inlaw_age = age + b.range(-2, 3);
                b.add(
                    Kin::ChildInLaw(kids[0]),
                    if male { 38 } else { 28 },
                    !male,
                    inlaw_age,
                );
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
