//! The area plan: city → districts → sub-districts → communities → grids, with rectangles.
//!
//! Sizes follow the grid guidance (300–500 households per grid, ≈ 1,040 residents), so the grid
//! count is derived from the requested residents and everything above is sized from it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use wangge_domain::{AreaCode, AreaLevel};

use crate::DemoArea;
use crate::districts::{DISTRICTS, District};
use crate::names::PLACE_STEMS;

/// Residents one grid is planned for: 400 households × ≈ 2.6 persons.
pub const RESIDENTS_PER_GRID: u64 = 1_040;
/// One more district is opened per this many residents, so 5 M uses all nine.
const RESIDENTS_PER_DISTRICT: u64 = 560_000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl Rect {
    /// Closed, counter-clockwise ring of (lon, lat).
    pub fn ring(&self) -> Vec<(f64, f64)> {
        vec![
            (self.west, self.south),
            (self.east, self.south),
            (self.east, self.north),
            (self.west, self.north),
            (self.west, self.south),
        ]
    }

    /// Split into `n` cells: near-square rows, numbered west→east within a row and rows
    /// north→south. Shared edges are the same f64 values and the outer edges are copied from
    /// `self`, so the cells tile the rectangle exactly.
    fn tile(&self, n: usize) -> Vec<Rect> {
        let cols = (n as f64).sqrt().ceil() as usize;
        let rows = n.div_ceil(cols.max(1)).max(1);
        let mut out = Vec::with_capacity(n);
        let h = self.north - self.south;
        let w = self.east - self.west;
        let edge = |from: f64, span: f64, i: usize, k: usize, last: f64| {
            if i == k {
                last
            } else {
                from + span * i as f64 / k as f64
            }
        };
        for r in 0..rows {
            let k = n / rows + usize::from(r < n % rows);
            let north = edge(self.north, -h, r, rows, self.south);
            let south = edge(self.north, -h, r + 1, rows, self.south);
            for c in 0..k {
                let west = edge(self.west, w, c, k, self.east);
                let east = edge(self.west, w, c + 1, k, self.east);
                out.push(Rect {
                    west,
                    south,
                    east,
                    north,
                });
            }
        }
        out
    }
}

/// Grids the plan will contain for `residents`.
pub(crate) fn grid_total(residents: u64) -> usize {
    (residents.saturating_add(RESIDENTS_PER_GRID / 2) / RESIDENTS_PER_GRID).max(1) as usize
}

/// Split `total` into `parts` near-equal sizes (earlier parts take the remainder).
pub(crate) fn split(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// Nudge an even split so neighbours differ a little, staying within `lo..=hi`.
fn jitter(sizes: &mut [usize], lo: usize, hi: usize, rng: &mut ChaCha8Rng) {
    for i in 1..sizes.len() {
        if rng.random_bool(0.5) && sizes[i - 1] > lo && sizes[i] < hi {
            sizes[i - 1] -= 1;
            sizes[i] += 1;
        }
    }
}

fn code(s: String) -> AreaCode {
    AreaCode::parse(&s).expect("digits of a valid length")
}

/// Communities' names inside one district are unique: stems are drawn without replacement in
/// a seed-dependent order, and get 东/西/南/北 variants only when a large district runs out.
struct StemDeck {
    order: Vec<u16>,
    next: usize,
}

impl StemDeck {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let mut order: Vec<u16> = (0..PLACE_STEMS.len() as u16).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        Self { order, next: 0 }
    }

    fn draw(&mut self) -> String {
        const VARIANTS: [&str; 9] = ["", "东", "西", "南", "北", "一", "二", "三", "四"];
        let i = self.next;
        self.next += 1;
        let n = self.order.len();
        let stem = PLACE_STEMS[self.order[i % n] as usize];
        let round = i / n;
        let mut s = String::from(stem);
        if round < VARIANTS.len() {
            s.push_str(VARIANTS[round]);
        } else {
            s.push_str(&(round + 1).to_string());
        }
        s
    }
}

pub(crate) fn plan(residents: u64, seed: u64) -> Vec<DemoArea> {
    // Its own stream, so the plan does not depend on how much of the city was generated.
    let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed ^ 0x5eed_a2ea_0000_0001);
    let district_count =
        (residents.div_ceil(RESIDENTS_PER_DISTRICT) as usize).clamp(1, DISTRICTS.len());
    let grids_per_district = split(grid_total(residents), district_count);
    let districts = &DISTRICTS[..district_count];

    let mut out = Vec::new();
    let city_rect = districts.iter().fold(districts[0].rect, |a, d| Rect {
        west: a.west.min(d.rect.west),
        south: a.south.min(d.rect.south),
        east: a.east.max(d.rect.east),
        north: a.north.max(d.rect.north),
    });
    let city = code("140100".into());
    out.push(DemoArea {
        code: city.clone(),
        name: "太原市".into(),
        level: AreaLevel::City,
        parent_code: None,
        polygon: Some(city_rect.ring()),
    });
    for (d, &grids) in districts.iter().zip(&grids_per_district) {
        plan_district(d, grids.max(1), &city, &mut rng, &mut out);
    }
    out
}

fn plan_district(
    d: &District,
    grids: usize,
    city: &AreaCode,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<DemoArea>,
) {
    let dcode = code(d.code.into());
    out.push(DemoArea {
        code: dcode.clone(),
        name: d.name.into(),
        level: AreaLevel::District,
        parent_code: Some(city.clone()),
        polygon: Some(d.rect.ring()),
    });
    // About 7 grids per community (5–10), about 8 communities per sub-district (5–12).
    let communities = ((grids + 3) / 7).max(1);
    let mut grid_split = split(grids, communities);
    jitter(&mut grid_split, 5, 10, rng);
    let subs = ((communities + 4) / 8).max(1);
    let mut comm_split = split(communities, subs);
    jitter(&mut comm_split, 5, 12, rng);

    let mut deck = StemDeck::new(rng);
    let mut extra_sub_names = StemDeck::new(rng);
    let mut grid_sizes = grid_split.into_iter();
    for (si, (&ncomm, srect)) in comm_split.iter().zip(d.rect.tile(subs)).enumerate() {
        let scode = code(format!("{}{:03}", d.code, si + 1));
        let sname = match d.subdistricts.get(si) {
            Some(n) => (*n).to_owned(),
            None => loop {
                // Beyond the real list: a plausible new name not clashing with a real one.
                let n = format!("{}街道", extra_sub_names.draw());
                if !d.subdistricts.contains(&n.as_str()) {
                    break n;
                }
            },
        };
        out.push(DemoArea {
            code: scode.clone(),
            name: sname,
            level: AreaLevel::Subdistrict,
            parent_code: Some(dcode.clone()),
            polygon: Some(srect.ring()),
        });
        for (ci, crect) in srect.tile(ncomm).into_iter().enumerate() {
            let ccode = code(format!("{}{:03}", scode.as_str(), ci + 1));
            let stem = deck.draw();
            out.push(DemoArea {
                code: ccode.clone(),
                name: format!("{stem}社区"),
                level: AreaLevel::Community,
                parent_code: Some(scode.clone()),
                polygon: Some(crect.ring()),
            });
            let ngrid = grid_sizes.next().unwrap_or(1);
            for (gi, grect) in crect.tile(ngrid).into_iter().enumerate() {
                out.push(DemoArea {
                    code: code(format!("{}{:03}", ccode.as_str(), gi + 1)),
                    name: format!("{stem}社区第{}网格", gi + 1),
                    level: AreaLevel::Grid,
                    parent_code: Some(ccode.clone()),
                    polygon: Some(grect.ring()),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_exactly() {
        let r = Rect {
            west: 0.0,
            south: 0.0,
            east: 3.0,
            north: 2.0,
        };
        for n in 1..30 {
            let t = r.tile(n);
            assert_eq!(t.len(), n);
            let area: f64 = t
                .iter()
                .map(|c| (c.east - c.west) * (c.north - c.south))
                .sum();
            assert!((area - 6.0).abs() < 1e-9);
            assert!(
                t.iter()
                    .all(|c| c.west >= 0.0 && c.east <= 3.0 && c.south >= 0.0)
            );
        }
    }

    #[test]
    fn sizes_stay_in_guidance() {
        for residents in [50_000u64, 900_000, 5_000_000] {
            let areas = plan(residents, 7);
            let kids = |level: AreaLevel, p: &AreaCode| {
                areas
                    .iter()
                    .filter(|a| a.level == level && a.parent_code.as_ref() == Some(p))
                    .count()
            };
            for a in &areas {
                match a.level {
                    AreaLevel::Community => {
                        assert!(
                            (5..=10).contains(&kids(AreaLevel::Grid, &a.code)),
                            "{}",
                            a.name
                        )
                    }
                    AreaLevel::Subdistrict => {
                        let n = kids(AreaLevel::Community, &a.code);
                        assert!((5..=12).contains(&n), "{} {n}", a.name)
                    }
                    _ => {}
                }
            }
        }
    }
}
