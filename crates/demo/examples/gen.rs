//! Generate a demo city and print its shape and the generation speed.
//!
//! `cargo run --release -p wangge-demo --example gen -- [residents] [seed] [--check-unique]`
//!
//! `--check-unique` also keeps every ID number and phone and reports duplicates (uses memory).

use std::collections::BTreeMap;
use std::time::Instant;

use time::macros::date;
use wangge_demo::{Demo, DemoConfig};
use wangge_domain::{AreaLevel, Sex};

fn main() {
    let mut args = std::env::args().skip(1);
    let residents = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let check = args.next().as_deref() == Some("--check-unique");
    let (mut all_ids, mut all_phones) = (std::collections::HashSet::new(), Vec::new());
    let (mut dup_ids, mut phones) = (0usize, 0usize);
    let today = date!(2025 - 06 - 01);
    let started = Instant::now();
    let mut demo = Demo::new(DemoConfig {
        residents,
        seed,
        today,
    });
    let planned = started.elapsed();
    let (mut persons, mut households, mut places, mut grids) = (0usize, 0usize, 0usize, 0usize);
    let mut ages = [0usize; 11];
    let (mut over60, mut over65, mut male) = (0usize, 0usize, 0usize);
    let mut sizes = [0usize; 8];
    let mut tags: BTreeMap<&str, usize> = BTreeMap::new();
    let mut residence: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut min_h, mut max_h) = (usize::MAX, 0);
    let mut sample = Vec::new();
    let gen_started = Instant::now();
    while let Some(b) = demo.next_grid() {
        grids += 1;
        persons += b.persons.len();
        households += b.households.len();
        places += b.places.len();
        min_h = min_h.min(b.households.len());
        max_h = max_h.max(b.households.len());
        for p in &b.persons {
            let age = (today - p.id_number.birth_date()).whole_days() / 365;
            ages[(age / 10).min(10) as usize] += 1;
            over60 += usize::from(age >= 60);
            over65 += usize::from(age >= 65);
            male += usize::from(p.id_number.sex() == Sex::Male);
            if let Some(ph) = &p.phone {
                phones += 1;
                if check {
                    all_phones.push(ph.as_str().to_owned());
                }
            }
            if check && !all_ids.insert(p.id_number.as_str().to_owned()) {
                dup_ids += 1;
            }
        }
        let mut count = BTreeMap::new();
        for m in &b.members {
            *count.entry(m.household).or_insert(0usize) += 1;
            *residence.entry(m.residence.name_zh()).or_default() += 1;
        }
        for c in count.values() {
            sizes[(*c).min(7)] += 1;
        }
        for t in &b.tags {
            *tags.entry(t.tag_code).or_default() += 1;
        }
        if grids == 1 {
            for (p, m) in b.persons.iter().zip(&b.members).take(12) {
                sample.push(format!(
                    "{} {} {} {} {}",
                    m.household,
                    m.relation.name_zh(),
                    p.name.as_str(),
                    p.id_number.as_str(),
                    p.phone.as_ref().map(|x| x.as_str()).unwrap_or("-")
                ));
            }
        }
    }
    let secs = gen_started.elapsed().as_secs_f64();
    let pct = |n: usize| 100.0 * n as f64 / persons.max(1) as f64;
    println!(
        "plan: {:?}, {} areas, {} grids",
        planned,
        demo.areas().len(),
        demo.grid_count()
    );
    for lvl in [
        AreaLevel::District,
        AreaLevel::Subdistrict,
        AreaLevel::Community,
    ] {
        let n = demo.areas().iter().filter(|a| a.level == lvl).count();
        println!("  {lvl:?}: {n}");
    }
    println!(
        "generated {persons} persons, {households} households, {places} places in {grids} grids \
         in {secs:.3} s: {:.0} persons/s",
        persons as f64 / secs
    );
    println!(
        "households per grid: {min_h}..={max_h}; persons/household {:.2}",
        persons as f64 / households as f64
    );
    println!(
        "age by decade (%): {:?}",
        ages.map(|a| (pct(a) * 10.0).round() / 10.0)
    );
    println!(
        "60+: {:.1}%  65+: {:.1}%  male: {:.1}%",
        pct(over60),
        pct(over65),
        pct(male)
    );
    let hs = |n: usize| (1000.0 * n as f64 / households as f64).round() / 10.0;
    println!(
        "household sizes 1..7+ (%): {:?}",
        sizes[1..].iter().map(|&n| hs(n)).collect::<Vec<_>>()
    );
    println!("residence: {residence:?}");
    for (t, n) in &tags {
        println!("  {t:28} {n:8} ({:.3}% of persons)", pct(*n));
    }
    println!("with a phone: {:.1}%", pct(phones));
    if check {
        all_phones.sort_unstable();
        let before = all_phones.len();
        all_phones.dedup();
        println!(
            "duplicate IDs: {dup_ids}; duplicate phones: {}",
            before - all_phones.len()
        );
    }
    for s in sample {
        println!("  {s}");
    }
}
