//! Places of one grid: compounds → buildings → units → dwellings, sized to the households.

use std::collections::BTreeSet;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use wangge_domain::PlaceKind;

use crate::DemoPlace;
use crate::names::{COMPOUND_SUFFIXES, PLACE_STEMS};

/// Compound names unique within one district. Names walk the stem × suffix space in a
/// seed-dependent affine order (a permutation, so no retries pile up); a set catches the few
/// duplicates the repeated suffixes produce. Memory: the names of one district's compounds.
pub(crate) struct CompoundNamer {
    i: u64,
    mul: u64,
    add: u64,
    used: BTreeSet<String>,
}

impl CompoundNamer {
    pub(crate) fn new(rng: &mut ChaCha8Rng) -> Self {
        let space = (PLACE_STEMS.len() * COMPOUND_SUFFIXES.len()) as u64;
        let gcd = |mut a: u64, mut b: u64| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        let mut mul = rng.random_range(space / 3..space);
        while gcd(mul, space) != 1 {
            mul += 1;
        }
        Self {
            i: 0,
            mul,
            add: rng.random_range(0..space),
            used: BTreeSet::new(),
        }
    }

    /// The next unused name; `prefer` (e.g. "西矿街小区", named after the community) first.
    pub(crate) fn next(&mut self, prefer: Option<String>) -> String {
        if let Some(p) = prefer
            && self.used.insert(p.clone())
        {
            return p;
        }
        let space = (PLACE_STEMS.len() * COMPOUND_SUFFIXES.len()) as u64;
        const PHASES: [&str; 5] = ["二期", "三期", "四期", "五期", "六期"];
        loop {
            let round = self.i / space;
            let j = (self.mul * (self.i % space) + self.add) % space;
            self.i += 1;
            let stem = PLACE_STEMS[(j / COMPOUND_SUFFIXES.len() as u64) as usize];
            let suffix = COMPOUND_SUFFIXES[(j % COMPOUND_SUFFIXES.len() as u64) as usize];
            let mut name = format!("{stem}{suffix}");
            match round {
                0 => {}
                r if (r as usize) <= PHASES.len() => name.push_str(PHASES[r as usize - 1]),
                r => name.push_str(&format!("{}区", r + 1)),
            }
            if self.used.insert(name.clone()) {
                return name;
            }
        }
    }
}

/// Building style of a compound: floors and units per building.
fn style(rng: &mut ChaCha8Rng) -> (i32, (u32, u32)) {
    match rng.random_range(0..100u32) {
        // Walk-up six-storey blocks of the 1980s–2000s dominate older districts.
        0..65 => (6, (2, 4)),
        // Mid-rise with a lift.
        65..82 => (rng.random_range(7..=11), (2, 3)),
        // Newer towers.
        _ => (18, (1, 2)),
    }
}

pub(crate) struct Keys {
    pub place: u64,
    pub household: u64,
    pub person: u64,
}

/// Build the places of a grid for `households` households, leaving 5–8% of dwellings vacant.
/// Returns the places (parents before children) and the keys of dwellings in order.
pub(crate) fn build(
    households: usize,
    community_stem: &str,
    namer: &mut CompoundNamer,
    keys: &mut Keys,
    rng: &mut ChaCha8Rng,
) -> (Vec<DemoPlace>, Vec<u64>) {
    let vacancy_ppm = rng.random_range(50_000..=80_000u64);
    let need = (households as u64 * 1_000_000).div_ceil(1_000_000 - vacancy_ppm) as usize;
    let compounds = match rng.random_range(0..100u32) {
        0..30 => 1,
        30..65 => 2,
        65..90 => 3,
        _ => 4,
    };
    let mut places = Vec::with_capacity(need + need / 4);
    let mut dwellings = Vec::with_capacity(need + 64);
    let key = |keys: &mut Keys| {
        let k = keys.place;
        keys.place += 1;
        k
    };
    for c in 0..compounds {
        // Share what is still needed among the compounds left; the last takes the rest.
        let target = dwellings.len() + (need.saturating_sub(dwellings.len())) / (compounds - c);
        let prefer = (c == 0 && rng.random_bool(0.5)).then(|| format!("{community_stem}小区"));
        let compound = key(keys);
        places.push(DemoPlace {
            key: compound,
            parent: None,
            kind: PlaceKind::Compound,
            label: namer.next(prefer),
            floor: None,
        });
        let (floors, (umin, umax)) = style(rng);
        let last = c + 1 == compounds;
        let mut number = 0;
        while dwellings.len() < target {
            number += 1;
            let left = target - dwellings.len();
            let per_unit = floors as usize * 2;
            let mut units = rng.random_range(umin..=umax) as usize;
            let mut storeys = floors;
            if last {
                // The grid's last building takes only whole units that are still needed, and
                // the very last one is a low block sized to the remainder: vacancy stays at
                // the drawn 5–8% instead of growing by a tower's unit.
                units = units.min(left / per_unit);
                if units == 0 {
                    units = 1;
                    storeys = left.div_ceil(2) as i32;
                }
            }
            let building = key(keys);
            places.push(DemoPlace {
                key: building,
                parent: Some(compound),
                kind: PlaceKind::Building,
                label: number.to_string(),
                floor: None,
            });
            for u in 1..=units {
                if dwellings.len() >= target {
                    break;
                }
                let unit = key(keys);
                places.push(DemoPlace {
                    key: unit,
                    parent: Some(building),
                    kind: PlaceKind::Unit,
                    label: u.to_string(),
                    floor: None,
                });
                for floor in 1..=storeys {
                    for n in 1..=2 {
                        let d = key(keys);
                        places.push(DemoPlace {
                            key: d,
                            parent: Some(unit),
                            kind: PlaceKind::Dwelling,
                            label: (floor * 100 + n).to_string(),
                            floor: Some(floor),
                        });
                        dwellings.push(d);
                    }
                }
            }
        }
    }
    (places, dwellings)
}

/// Which dwellings are occupied: exactly `households` of them, spread at random (selection
/// sampling keeps the order, so household keys increase with dwelling keys).
pub(crate) fn occupied(dwellings: &[u64], households: usize, rng: &mut ChaCha8Rng) -> Vec<u64> {
    let mut left = households;
    let mut out = Vec::with_capacity(households);
    for (i, &d) in dwellings.iter().enumerate() {
        let remaining = dwellings.len() - i;
        if left > 0 && rng.random_range(0..remaining) < left {
            out.push(d);
            left -= 1;
        }
    }
    out
}
