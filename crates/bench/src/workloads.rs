//! The workloads: each runs the product path (Registry / Store: scope filter, row decoding into
//! records, paging) and its raw baseline on the same data, one after the other on this thread.

use std::hint::black_box;
use std::io::Write;

use time::macros::format_description;
use wangge_domain::Scope;
use wangge_services::Registry;
use wangge_services::registry::PersonListQuery;
use wangge_store::households::HouseholdFilter;
use wangge_store::page::PageRequest;
use wangge_store::persons::PersonFilter;

use crate::measure::{Budget, Stats, measure};
use crate::raw::{Cohort, Raw};
use crate::report::BenchRow;
use crate::targets::{COHORT_AGE_MIN, Targets};

/// First page of the cohort (the API's maximum page).
const COHORT_PAGE: u32 = 500;
/// Page size while walking a grid's worklist.
const WORKLIST_PAGE: u32 = 500;
/// Result limit of the search box.
const SEARCH_LIMIT: u32 = 20;

pub(crate) struct Bench<'a> {
    pub registry: &'a Registry,
    pub raw: &'a Raw,
    pub targets: &'a Targets,
    pub budget: Budget,
    /// The caller's scope: a district-wide user, so every scope check is on.
    pub scope: Scope,
}

fn row(id: &'static str, workload: String, product: Stats, raw: Stats) -> BenchRow {
    BenchRow {
        id,
        workload,
        product: Some(product),
        raw,
    }
}

impl Bench<'_> {
    pub(crate) async fn run_all(&self, out: &mut dyn Write) -> anyhow::Result<Vec<BenchRow>> {
        let mut rows = Vec::new();
        writeln!(out, "measuring P2 cohort ...")?;
        rows.push(self.cohort().await?);
        writeln!(out, "measuring P4 point lookups ...")?;
        rows.push(self.person_by_id().await?);
        rows.push(self.person_by_id_number().await?);
        writeln!(out, "measuring P7 grid worklist ...")?;
        rows.push(self.worklist().await?);
        writeln!(out, "measuring P3 tag counts ...")?;
        rows.extend(self.tag_counts().await?);
        Ok(rows)
    }

    async fn cohort(&self) -> anyhow::Result<BenchRow> {
        let t = self.targets;
        let q = PersonListQuery {
            area: Some(t.community_code.clone()),
            tag: Some(t.tag_code.clone()),
            age_min: Some(COHORT_AGE_MIN),
            ..PersonListQuery::default()
        };
        let page = PageRequest {
            after: None,
            limit: COHORT_PAGE,
        };
        let product = measure(&self.budget, async |_| {
            let p = self.registry.list_persons(&self.scope, &q, &page).await?;
            Ok(black_box(p).items.len())
        })
        .await?;
        let c = Cohort {
            tag_id: t.tag_id,
            within: &t.community,
            born_by: t.born_by,
            born_by_text: t
                .born_by
                .format(format_description!("[year]-[month]-[day]"))?,
            limit: i64::from(COHORT_PAGE),
        };
        let raw = measure(&self.budget, async |_| self.raw.cohort(&c).await).await?;
        let name = format!(
            "P2 cohort: {} + age>={} in community ({} residents), first page",
            t.tag_code.as_str(),
            COHORT_AGE_MIN,
            t.community_persons
        );
        Ok(row("P2", name, product, raw))
    }

    async fn person_by_id(&self) -> anyhow::Result<BenchRow> {
        let ids = &self.targets.person_ids;
        let store = &self.registry.store;
        let product = measure(&self.budget, async |i| {
            let p = store.person(&self.scope, ids[i % ids.len()]).await?;
            black_box(p);
            Ok(1)
        })
        .await?;
        let raw = measure(&self.budget, async |i| {
            self.raw.person_by_id(ids[i % ids.len()]).await
        })
        .await?;
        Ok(row(
            "P4",
            "P4 person by id (random, district scope)".into(),
            product,
            raw,
        ))
    }

    async fn person_by_id_number(&self) -> anyhow::Result<BenchRow> {
        let ids = &self.targets.id_numbers;
        let product = measure(&self.budget, async |i| {
            let r = self
                .registry
                .search_persons(&self.scope, &ids[i % ids.len()].0, SEARCH_LIMIT)
                .await?;
            Ok(black_box(r).persons.len())
        })
        .await?;
        let city = self.targets.city_id;
        let raw = measure(&self.budget, async |i| {
            self.raw.person_by_hash(city, &ids[i % ids.len()].1).await
        })
        .await?;
        Ok(row(
            "P4",
            "P4 person by ID number (search box vs hash)".into(),
            product,
            raw,
        ))
    }

    async fn worklist(&self) -> anyhow::Result<BenchRow> {
        let grid = &self.targets.grid;
        let store = &self.registry.store;
        let hf = HouseholdFilter {
            within: Some(grid.clone()),
            ..HouseholdFilter::default()
        };
        let pf = PersonFilter {
            within: Some(grid.clone()),
            ..PersonFilter::default()
        };
        let product = measure(&self.budget, async |_| {
            let mut n = 0;
            let mut page = PageRequest {
                after: None,
                limit: WORKLIST_PAGE,
            };
            loop {
                let p = store.households(&self.scope, &hf, &page).await?;
                n += black_box(p.items).len();
                match p.next {
                    Some(c) => page.after = Some(c),
                    None => break,
                }
            }
            page.after = None;
            loop {
                let p = store.persons(&self.scope, &pf, &page).await?;
                n += black_box(p.items).len();
                match p.next {
                    Some(c) => page.after = Some(c),
                    None => break,
                }
            }
            Ok(n)
        })
        .await?;
        let raw = measure(&self.budget, async |_| self.raw.worklist(grid).await).await?;
        let name = format!(
            "P7 grid worklist: households + persons of a grid ({} residents)",
            self.targets.grid_persons
        );
        Ok(row("P7", name, product, raw))
    }

    async fn tag_counts(&self) -> anyhow::Result<Vec<BenchRow>> {
        let d = &self.targets.district;
        let store = &self.registry.store;
        let product = measure(&self.budget, async |_| {
            Ok(black_box(store.tag_counts_per_grid(&self.scope, d).await?).len())
        })
        .await?;
        let raw = measure(&self.budget, async |_| self.raw.tag_counts(d, false).await).await?;
        let naive = measure(&self.budget, async |_| self.raw.tag_counts(d, true).await).await?;
        let name = format!(
            "P3 tag counts per grid, district ({} residents)",
            self.targets.district_persons
        );
        Ok(vec![
            row("P3", name, product, raw),
            BenchRow {
                id: "P3",
                workload: "P3 reference: the same counts as a naive join (raw)".into(),
                product: None,
                raw: naive,
            },
        ])
    }
}
