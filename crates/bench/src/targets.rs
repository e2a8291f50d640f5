//! Picking what to measure, deterministically from the data: the most populous district, its
//! community and grid of median population, a fixed tag, and persons sampled with a fixed seed.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::Date;
use wangge_domain::{AreaCode, AreaPath, Scope, TagCode};
use wangge_store::Store;
use wangge_store::crypto::Field;

/// The tag of the cohort workload (P2).
pub const COHORT_TAG: &str = "elderly_party_member";
/// The cohort's minimum age.
pub const COHORT_AGE_MIN: u16 = 70;
/// Persons sampled for the point lookups; the timed loop cycles through them.
const LOOKUP_SAMPLE: usize = 1000;

#[derive(Debug, Clone)]
pub struct Targets {
    pub total_persons: u64,
    pub city_id: i64,
    pub district: AreaPath,
    pub district_persons: u64,
    pub community: AreaPath,
    pub community_code: AreaCode,
    pub community_persons: u64,
    pub grid: AreaPath,
    pub grid_persons: u64,
    pub tag_code: TagCode,
    pub tag_id: i64,
    /// Born on or before this day: at least `COHORT_AGE_MIN` years old.
    pub born_by: Date,
    /// Persons in the district, sampled with the seed.
    pub person_ids: Vec<i64>,
    /// The same persons' full ID numbers and their lookup hashes.
    pub id_numbers: Vec<(String, Vec<u8>)>,
}

fn prefix(path: &AreaPath, depth: usize) -> AreaPath {
    let ids = path.ids();
    let mut p = AreaPath::root(ids[0]);
    for id in &ids[1..depth] {
        p = p.child(*id);
    }
    p
}

/// Sums grid populations up to the ancestors at `depth` (2 = district, 4 = community).
fn roll_up<'a>(
    grids: impl Iterator<Item = (&'a AreaPath, &'a u64)>,
    depth: usize,
) -> BTreeMap<AreaPath, u64> {
    let mut out = BTreeMap::new();
    for (g, n) in grids {
        *out.entry(prefix(g, depth)).or_insert(0) += n;
    }
    out
}

/// The entry of median population, ties broken by path (the map is path-ordered).
fn median(m: &BTreeMap<AreaPath, u64>) -> Option<(AreaPath, u64)> {
    let mut v: Vec<(&AreaPath, &u64)> = m.iter().collect();
    v.sort_by_key(|(p, n)| (**n, (*p).clone()));
    v.get(v.len() / 2).map(|(p, n)| ((*p).clone(), **n))
}

impl Targets {
    pub async fn pick(store: &Store, born_by: Date, seed: u64) -> anyhow::Result<Targets> {
        let rows = store
            .db()
            .query(
                "SELECT area_path, COUNT(*) FROM persons GROUP BY area_path",
                &[],
                |r| Ok((r.text(0)?, r.int(1)?)),
            )
            .await?;
        let mut grids: BTreeMap<AreaPath, u64> = BTreeMap::new();
        for (path, n) in rows {
            let path = AreaPath::parse(&path).with_context(|| format!("area path {path}"))?;
            if path.depth() != 5 {
                bail!("persons are expected in grids (depth 5), found {path}");
            }
            grids.insert(path, n as u64);
        }
        if grids.is_empty() {
            bail!("the store holds no persons");
        }
        let total_persons = grids.values().sum();
        let districts = roll_up(grids.iter(), 2);
        let (district, district_persons) = districts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(p, n)| (p.clone(), *n))
            .context("no district")?;
        let in_district = || grids.iter().filter(|(g, _)| g.is_within(&district));
        let (community, community_persons) =
            median(&roll_up(in_district(), 4)).context("no community")?;
        let (grid, grid_persons) =
            median(&in_district().map(|(g, n)| (g.clone(), *n)).collect()).context("no grid")?;
        let everything = Scope::everything();
        let community_code = store.area(&everything, community.last_id()).await?.code;
        let tag_code = TagCode::parse(COHORT_TAG).map_err(|e| anyhow::anyhow!("{e}"))?;
        let tag_id = store
            .tag_by_code(&wangge_domain::Scope::everything(), &tag_code)
            .await
            .context("cohort tag")?
            .id;

        let (lo, hi) = district.range();
        let ids = store
            .db()
            .query(
                "SELECT id FROM persons WHERE area_path >= ? AND area_path < ? ORDER BY id",
                &[lo.into(), hi.into()],
                |r| r.int(0),
            )
            .await?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let person_ids: Vec<i64> = (0..LOOKUP_SAMPLE.min(ids.len()))
            .map(|_| ids[rng.random_range(0..ids.len())])
            .collect();
        let mut id_numbers = Vec::with_capacity(person_ids.len());
        for id in &person_ids {
            if let Some(idn) = store.person_secrets(&everything, *id).await?.id_number {
                let hash = store.crypto().lookup_hash(Field::IdNumber, idn.as_str());
                id_numbers.push((idn.as_str().to_owned(), hash));
            }
        }
        if id_numbers.is_empty() {
            bail!("no sampled person has an ID number");
        }
        Ok(Targets {
            total_persons,
            city_id: district.ids()[0],
            district,
            district_persons,
            community,
            community_code,
            community_persons,
            grid,
            grid_persons,
            tag_code,
            tag_id,
            born_by,
            person_ids,
            id_numbers,
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "targets: {} persons in the store; district {} ({} persons); community {} {} ({} persons); \
             grid {} ({} persons); tag {} (id {}), age >= {} (born on or before {}); \
             {} sampled persons for point lookups",
            self.total_persons,
            self.district,
            self.district_persons,
            self.community_code.as_str(),
            self.community,
            self.community_persons,
            self.grid,
            self.grid_persons,
            self.tag_code.as_str(),
            self.tag_id,
            COHORT_AGE_MIN,
            self.born_by,
            self.person_ids.len(),
        )
    }
}
