//! Synthetic demo city: a deterministic, Taiyuan-like registry for demos and benchmarks.
//!
//! No I/O. [`plan_areas`] gives the area tree (city → districts → sub-districts → communities →
//! grids, with rectangles tiling each level); [`Demo::next_grid`] then streams one grid at a time
//! (places, households, persons, memberships, tags), so memory stays bounded by one grid however
//! large the city. The same `seed`, `residents` and `today` always give the same output: one
//! ChaCha8 stream, integer decisions, no hash-map iteration.
//!
//! Sizing: grids are planned at ≈ 1,040 residents (≈ 400 households) and the requested residents
//! are shared exactly among them, so the person total equals `residents`.

mod areas;
mod districts;
mod family;
mod household;
mod ids;
mod names;
mod places;
mod tags;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::Date;
use wangge_domain::{
    AreaCode, AreaLevel, IdNumber, PersonName, PhoneNumber, PlaceKind, Relation, ResidenceType,
};

pub use areas::RESIDENTS_PER_GRID;

/// Residents of the default demo: one district.
pub const DEFAULT_RESIDENTS: u64 = 50_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    pub residents: u64,
    pub seed: u64,
    /// Ages, dates and "since" values are computed against this day, never the clock.
    pub today: Date,
}

impl DemoConfig {
    /// The default demo (50,000 residents, seed 1) as of `today`.
    pub fn new(today: Date) -> Self {
        Self {
            residents: DEFAULT_RESIDENTS,
            seed: 1,
            today,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoArea {
    pub code: AreaCode,
    pub name: String,
    pub level: AreaLevel,
    pub parent_code: Option<AreaCode>,
    /// Closed counter-clockwise ring of (lon, lat), WGS-84.
    pub polygon: Option<Vec<(f64, f64)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPlace {
    pub key: u64,
    pub parent: Option<u64>,
    pub kind: PlaceKind,
    /// Compound name, building "3", unit "2", dwelling "601".
    pub label: String,
    pub floor: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoHousehold {
    pub key: u64,
    pub dwelling: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    pub key: u64,
    pub name: PersonName,
    pub id_number: IdNumber,
    pub phone: Option<PhoneNumber>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoMember {
    pub household: u64,
    pub person: u64,
    pub relation: Relation,
    pub residence: ResidenceType,
    pub since: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTag {
    pub tag_code: &'static str,
    pub person: Option<u64>,
    pub household: Option<u64>,
    pub since: Date,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GridBatch {
    pub grid_code: AreaCode,
    pub places: Vec<DemoPlace>,
    pub households: Vec<DemoHousehold>,
    pub persons: Vec<DemoPerson>,
    pub members: Vec<DemoMember>,
    pub tags: Vec<DemoTag>,
}

/// The area tree for `cfg`: city first, then depth-first, so parents precede children.
pub fn plan_areas(cfg: &DemoConfig) -> Vec<DemoArea> {
    areas::plan(cfg.residents, cfg.seed)
}

struct GridPlan {
    area: usize,
    /// Index into the district list (and the first block of ID origins).
    district: usize,
    community_stem: String,
    persons: u64,
}

/// The generator: the plan plus the state of the random stream and key counters.
pub struct Demo {
    cfg: DemoConfig,
    areas: Vec<DemoArea>,
    grids: Vec<GridPlan>,
    next: usize,
    rng: ChaCha8Rng,
    keys: places::Keys,
    ids: ids::IdAllocator,
    names: names::NameTables,
    namer: Option<(usize, places::CompoundNamer)>,
    relations: Vec<Relation>,
}

impl Demo {
    pub fn new(cfg: DemoConfig) -> Demo {
        let areas = plan_areas(&cfg);
        let mut grids = Vec::new();
        let (mut district, mut stem) = (0, String::new());
        for (i, a) in areas.iter().enumerate() {
            match a.level {
                AreaLevel::District => {
                    district = districts::DISTRICTS
                        .iter()
                        .position(|d| d.code == a.code.as_str())
                        .expect("planned from the list");
                }
                AreaLevel::Community => {
                    stem = a.name.trim_end_matches("社区").to_owned();
                }
                AreaLevel::Grid => grids.push(GridPlan {
                    area: i,
                    district,
                    community_stem: stem.clone(),
                    persons: 0,
                }),
                _ => {}
            }
        }
        // Share the residents exactly: the first `rem` grids take one more.
        let n = grids.len() as u64;
        for (i, g) in grids.iter_mut().enumerate() {
            g.persons = cfg.residents / n + u64::from((i as u64) < cfg.residents % n);
        }
        // Every code GB/T 4761 defines fits a u8 index; invalid ones are never produced.
        let relations = (0..=99u8)
            .map(|c| Relation::from_code(c).unwrap_or_else(|_| fallback()))
            .collect();
        Demo {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            ids: ids::IdAllocator::new(cfg.today),
            names: names::NameTables::new(),
            keys: places::Keys {
                place: 1,
                household: 1,
                person: 1,
            },
            cfg,
            areas,
            grids,
            next: 0,
            namer: None,
            relations,
        }
    }

    pub fn areas(&self) -> &[DemoArea] {
        &self.areas
    }

    pub fn grid_count(&self) -> usize {
        self.grids.len()
    }

    /// The next grid's contents, in plan order; `None` when all grids are done.
    pub fn next_grid(&mut self) -> Option<GridBatch> {
        let g = self.grids.get(self.next)?;
        self.next += 1;
        let today = self.cfg.today;
        let rng = &mut self.rng;

        let mut drafts = Vec::with_capacity(g.persons as usize / 2);
        let mut left = g.persons as usize;
        while left > 0 {
            let size = household::draw_size(rng).min(left);
            drafts.push(household::draft(size, g.district, today, &self.names, rng));
            left -= size;
        }

        if self.namer.as_ref().map(|n| n.0) != Some(g.district) {
            self.namer = Some((g.district, places::CompoundNamer::new(rng)));
        }
        let namer = &mut self.namer.as_mut().expect("set above").1;
        let (places, dwellings) =
            places::build(drafts.len(), &g.community_stem, namer, &mut self.keys, rng);
        let homes = places::occupied(&dwellings, drafts.len(), rng);

        let n_persons = g.persons as usize;
        let mut batch = GridBatch {
            grid_code: self.areas[g.area].code.clone(),
            places,
            households: Vec::with_capacity(drafts.len()),
            persons: Vec::with_capacity(n_persons),
            members: Vec::with_capacity(n_persons),
            tags: Vec::new(),
        };
        for (draft, dwelling) in drafts.iter().zip(homes) {
            let hkey = self.keys.household;
            self.keys.household += 1;
            batch.households.push(DemoHousehold {
                key: hkey,
                dwelling,
            });
            let first_person = self.keys.person;
            for m in &draft.members {
                let key = self.keys.person;
                self.keys.person += 1;
                let id_number = self.ids.allocate(m.origin, m.birth, m.male);
                // Most adults list a mobile; few young children and some of the very old do.
                let phone_ppm = match m.age {
                    ..12 => 100_000,
                    12..18 => 600_000,
                    18..75 => 970_000,
                    _ => 750_000,
                };
                let phone = (rng.random_range(0..1_000_000u32) < phone_ppm)
                    .then(|| ids::phone_for(key, rng.random()));
                let name = PersonName::parse(&m.name).expect("generated names are valid");
                batch.persons.push(DemoPerson {
                    key,
                    name,
                    id_number,
                    phone,
                });
                batch.members.push(DemoMember {
                    household: hkey,
                    person: key,
                    relation: self.relations[m.relation as usize],
                    residence: m.residence,
                    since: m.since,
                });
            }
            tags::tag_household(draft, hkey, first_person, today, rng, &mut batch.tags);
        }
        Some(batch)
    }
}

fn fallback() -> Relation {
    Relation::from_code(99).expect("99 非亲属 is a GB/T 4761 code")
}

impl Iterator for Demo {
    type Item = GridBatch;
    fn next(&mut self) -> Option<GridBatch> {
        self.next_grid()
    }
}
