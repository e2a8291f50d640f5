use std::collections::{BTreeMap, BTreeSet};

use time::Date;
use time::macros::date;
use wangge_demo::{Demo, DemoArea, DemoConfig, GridBatch, plan_areas};
use wangge_domain::{AreaLevel, BUILTIN_TAGS, IdNumber, PlaceKind, Sex};

const TODAY: Date = date!(2025 - 06 - 01);

fn cfg(residents: u64, seed: u64) -> DemoConfig {
    DemoConfig {
        residents,
        seed,
        today: TODAY,
    }
}

fn all(residents: u64, seed: u64) -> (Vec<DemoArea>, Vec<GridBatch>) {
    let mut demo = Demo::new(cfg(residents, seed));
    let areas = demo.areas().to_vec();
    let mut batches = Vec::new();
    while let Some(b) = demo.next_grid() {
        batches.push(b);
    }
    assert_eq!(batches.len(), demo.grid_count());
    (areas, batches)
}

#[test]
fn same_seed_same_city_other_seed_other_city() {
    let (a1, b1) = all(20_000, 42);
    let (a2, b2) = all(20_000, 42);
    assert_eq!(a1, a2);
    assert_eq!(b1, b2);
    let (_, b3) = all(20_000, 43);
    assert_ne!(b1[0].persons, b3[0].persons);
    assert_eq!(plan_areas(&cfg(20_000, 42)), a1);
}

#[test]
fn twenty_thousand_residents_make_a_coherent_city() {
    let (areas, batches) = all(20_000, 7);
    let persons: usize = batches.iter().map(|b| b.persons.len()).sum();
    assert!((18_000..=22_000).contains(&persons), "{persons}");

    let mut ids = BTreeSet::new();
    for b in &batches {
        assert!(
            (300..=500).contains(&b.households.len()),
            "{} households",
            b.households.len()
        );
        for p in &b.persons {
            // Valid: the number parses back to itself (checksum, date).
            assert_eq!(IdNumber::parse(p.id_number.as_str()).unwrap(), p.id_number);
            assert!(p.id_number.birth_date() <= TODAY);
            assert!(ids.insert(p.id_number.as_str().to_owned()), "duplicate ID");
        }
        check_relations_and_sexes(b);
    }

    // Areas: one district (万柏林区) under 太原市; grids named after their community.
    assert_eq!(areas[0].code.as_str(), "140100");
    assert_eq!(areas[0].name, "太原市");
    let districts: Vec<_> = areas
        .iter()
        .filter(|a| a.level == AreaLevel::District)
        .collect();
    assert_eq!(districts.len(), 1);
    assert_eq!(
        (districts[0].code.as_str(), districts[0].name.as_str()),
        ("140109", "万柏林区")
    );
    for a in &areas {
        let len = match a.level {
            AreaLevel::City | AreaLevel::District => 6,
            AreaLevel::Subdistrict => 9,
            AreaLevel::Community => 12,
            AreaLevel::Grid => 15,
        };
        assert_eq!(a.code.as_str().len(), len, "{}", a.name);
        let suffix = match a.level {
            AreaLevel::Subdistrict => "街道",
            AreaLevel::Community => "社区",
            AreaLevel::Grid => "网格",
            _ => "",
        };
        assert!(a.name.ends_with(suffix), "{}", a.name);
    }
}

/// Sex follows the relation code, and ages fit the relation.
fn check_relations_and_sexes(b: &GridBatch) {
    let by_key: BTreeMap<u64, _> = b.persons.iter().map(|p| (p.key, p)).collect();
    let mut heads = BTreeMap::new();
    for m in &b.members {
        if m.relation.code() == 2 {
            heads.insert(m.household, by_key[&m.person]);
        }
    }
    assert_eq!(
        heads.len(),
        b.households.len(),
        "one householder per household"
    );
    for m in &b.members {
        let p = by_key[&m.person];
        let head = heads[&m.household];
        let sex = p.id_number.sex();
        let want = match m.relation.code() {
            21..=28 | 41 | 43 | 51 | 71 | 73 => Some(Sex::Male),
            31..=38 | 42 | 44 | 52 | 75 | 77 => Some(Sex::Female),
            10 => Some(if head.id_number.sex() == Sex::Male {
                Sex::Female
            } else {
                Sex::Male
            }),
            _ => None,
        };
        if let Some(w) = want {
            assert_eq!(sex, w, "relation {}", m.relation.code());
        }
        let years = |a: Date, b: Date| (a - b).whole_days() / 365;
        let older_by = years(p.id_number.birth_date(), head.id_number.birth_date());
        match m.relation.code() {
            10 => assert!(older_by.abs() <= 6, "spouse {older_by}"),
            21..=27 | 29..=37 | 39 => assert!(older_by >= 18, "child {older_by}"),
            41..=44 => assert!(older_by >= 36, "grandchild {older_by}"),
            51 | 52 => assert!(older_by <= -18, "parent {older_by}"),
            _ => {}
        }
        assert!(m.since <= TODAY && m.since >= p.id_number.birth_date());
    }
}

#[test]
fn keys_are_unique_increasing_and_parents_come_first() {
    let (_, batches) = all(20_000, 3);
    let (mut place, mut household, mut person) = (0u64, 0u64, 0u64);
    let codes: BTreeSet<&str> = BUILTIN_TAGS.iter().map(|t| t.code).collect();
    for b in &batches {
        let mut kinds = BTreeMap::new();
        for p in &b.places {
            assert_eq!(p.key, place + 1, "place keys start at 1 and have no gaps");
            place = p.key;
            let want_parent = p.kind.parent_kind();
            match (p.parent, want_parent) {
                (None, None) => {}
                (Some(parent), Some(k)) => assert_eq!(kinds.get(&parent), Some(&k)),
                other => panic!("bad parent {other:?}"),
            }
            assert_eq!(p.floor.is_some(), p.kind == PlaceKind::Dwelling);
            kinds.insert(p.key, p.kind);
        }
        let dwellings = kinds
            .values()
            .filter(|k| **k == PlaceKind::Dwelling)
            .count();
        let vacant = 1.0 - b.households.len() as f64 / dwellings as f64;
        assert!((0.045..0.085).contains(&vacant), "vacancy {vacant}");
        let mut used = BTreeSet::new();
        for h in &b.households {
            assert_eq!(h.key, household + 1);
            household = h.key;
            assert_eq!(kinds.get(&h.dwelling), Some(&PlaceKind::Dwelling));
            assert!(used.insert(h.dwelling), "one household per dwelling");
        }
        for p in &b.persons {
            assert_eq!(p.key, person + 1);
            person = p.key;
        }
        let hh: BTreeSet<u64> = b.households.iter().map(|h| h.key).collect();
        let pp: BTreeSet<u64> = b.persons.iter().map(|p| p.key).collect();
        assert_eq!(b.members.len(), b.persons.len());
        assert!(
            b.members
                .iter()
                .all(|m| hh.contains(&m.household) && pp.contains(&m.person))
        );
        for t in &b.tags {
            assert!(codes.contains(t.tag_code), "{}", t.tag_code);
            assert!(t.since <= TODAY);
            match (t.person, t.household) {
                (Some(p), None) => assert!(pp.contains(&p)),
                (None, Some(h)) => {
                    assert!(hh.contains(&h));
                    assert_eq!(t.tag_code, "subsistence_allowance");
                }
                other => panic!("tag subject {other:?}"),
            }
        }
    }
}

type Rect = (f64, f64, f64, f64);

fn rect(a: &DemoArea) -> Rect {
    let ring = a.polygon.as_ref().expect("every area has a polygon");
    assert_eq!(ring.first(), ring.last(), "closed ring");
    // Counter-clockwise: positive shoelace area.
    let twice: f64 = ring
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum();
    assert!(twice > 0.0, "counter-clockwise");
    let lons = ring.iter().map(|p| p.0);
    let lats = ring.iter().map(|p| p.1);
    (
        lons.clone().fold(f64::MAX, f64::min),
        lats.clone().fold(f64::MAX, f64::min),
        lons.fold(f64::MIN, f64::max),
        lats.fold(f64::MIN, f64::max),
    )
}

#[test]
fn polygons_nest_and_do_not_overlap() {
    let areas = plan_areas(&cfg(300_000, 11));
    let by_code: BTreeMap<&str, &DemoArea> = areas.iter().map(|a| (a.code.as_str(), a)).collect();
    let mut seen = BTreeSet::new();
    for a in &areas {
        if let Some(p) = &a.parent_code {
            assert!(seen.contains(p.as_str()), "parent before child");
            let (pr, r) = (rect(by_code[p.as_str()]), rect(a));
            assert!(
                r.0 >= pr.0 && r.1 >= pr.1 && r.2 <= pr.2 && r.3 <= pr.3,
                "{} inside",
                a.name
            );
        }
        seen.insert(a.code.as_str());
    }
    // Same-level areas never overlap (interiors), and children tile their parent exactly.
    for level in [
        AreaLevel::Subdistrict,
        AreaLevel::Community,
        AreaLevel::Grid,
    ] {
        let rs: Vec<Rect> = areas
            .iter()
            .filter(|a| a.level == level)
            .map(rect)
            .collect();
        for (i, a) in rs.iter().enumerate() {
            for b in &rs[i + 1..] {
                let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
                assert!(apart, "{level:?} overlap {a:?} {b:?}");
            }
        }
    }
    for parent in &areas {
        let kids: Vec<Rect> = areas
            .iter()
            .filter(|a| a.parent_code.as_ref() == Some(&parent.code))
            .map(rect)
            .collect();
        if kids.is_empty() || parent.level == AreaLevel::City {
            continue;
        }
        let p = rect(parent);
        let sum: f64 = kids.iter().map(|r| (r.2 - r.0) * (r.3 - r.1)).sum();
        assert!(
            (sum - (p.2 - p.0) * (p.3 - p.1)).abs() < 1e-12,
            "{} tiled",
            parent.name
        );
    }
}

#[test]
fn district_count_grows_with_residents() {
    let districts = |n| {
        plan_areas(&cfg(n, 1))
            .into_iter()
            .filter(|a| a.level == AreaLevel::District)
            .map(|a| a.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(districts(50_000), ["万柏林区"]);
    let all = districts(5_000_000);
    assert_eq!(all.len(), 9);
    assert_eq!(all[1], "小店区");
    assert_eq!(all[8], "古交市");
}

#[test]
fn two_hundred_thousand_residents_stream() {
    let mut demo = Demo::new(cfg(200_000, 2025));
    let (mut persons, mut uyghur, mut compound_surname) = (0usize, 0usize, 0usize);
    let mut tags: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    let mut compounds = BTreeSet::new();
    while let Some(b) = demo.next_grid() {
        persons += b.persons.len();
        for p in b.places.iter().filter(|p| p.kind == PlaceKind::Compound) {
            // 200,000 residents is one district: compound names are unique inside it.
            assert!(compounds.insert(p.label.clone()), "{}", p.label);
        }
        for p in &b.persons {
            let name = p.name.as_str();
            uyghur += usize::from(name.contains('\u{00B7}'));
            compound_surname += usize::from(
                ["欧阳", "令狐", "司马", "上官"]
                    .iter()
                    .any(|s| name.starts_with(s)),
            );
            ids.insert(p.id_number.as_str().to_owned());
        }
        for t in &b.tags {
            *tags.entry(t.tag_code).or_default() += 1;
        }
    }
    assert_eq!(persons, 200_000);
    assert_eq!(ids.len(), persons, "IDs unique city-wide");
    assert!(uyghur > 0 && uyghur < persons / 100, "{uyghur}");
    assert!(
        compound_surname > 0 && compound_surname < persons / 200,
        "{compound_surname}"
    );
    let share = |code: &str| *tags.get(code).unwrap_or(&0) as f64 / persons as f64;
    assert!(
        (0.04..0.08).contains(&share("disabled")),
        "{}",
        share("disabled")
    );
    assert!((0.001..0.006).contains(&share("severe_mental_disorder")));
    assert!(
        BUILTIN_TAGS.iter().all(|t| tags.contains_key(t.code)),
        "every tag appears: {tags:?}"
    );
}

#[test]
fn tiny_cities_still_work() {
    for residents in [0u64, 1, 7, 500, 1_600] {
        let (areas, batches) = all(residents, 5);
        assert!(areas.iter().any(|a| a.level == AreaLevel::Grid));
        let persons: usize = batches.iter().map(|b| b.persons.len()).sum();
        assert_eq!(persons as u64, residents);
    }
}
