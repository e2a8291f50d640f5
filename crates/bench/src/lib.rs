//! Benchmarks (DESIGN §6, PERFORMANCE_TARGETS): every product figure is printed beside the
//! raw-engine baseline doing the same work on the same data in the same run. Timings are
//! reported, never asserted.
//!
//! [`run_registry_bench`] measures the registry's read paths (P2 cohort, P4 point lookups,
//! P7 grid worklist, P3 per-grid tag counts) on SQLite or PostgreSQL, building the demo city
//! first when the store is empty. [`run_http_bench`] measures the same work through the HTTP
//! API (P2, P4, P5, P7) against bare axum endpoints running the raw SQL.

mod campaign;
mod http;
mod http_client;
mod http_raw;
mod http_writes;
mod measure;
mod raw;
mod raw_pg;
mod raw_sqlite;
mod report;
mod targets;
mod workloads;

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use wangge_demo::DemoConfig;
use wangge_domain::Scope;
use wangge_services::demo::load_demo;
use wangge_services::storage::{StorageConfig, open_store};
use wangge_services::{Clock, Registry};
use wangge_store::Store;

pub use campaign::{CampaignBenchConfig, run_campaign_bench};
pub use http::{HttpBenchConfig, HttpBenchReport, HttpRow, Verdict, run_http_bench};
pub use http_client::LoadStats;
pub use measure::Stats;
pub use report::{BenchReport, BenchRow, BuildReport};
pub use targets::{COHORT_AGE_MIN, COHORT_TAG};

#[derive(Debug, Clone)]
pub struct RegistryBenchConfig {
    /// Residents of the demo city built when the store is empty.
    pub residents: u64,
    /// Seed of the demo city and of the sampled lookups.
    pub seed: u64,
    pub storage: StorageConfig,
    /// Timed operations per line (after warm-up); a line also stops after about 5 s once it
    /// has 20 samples.
    pub iterations: u32,
}

impl RegistryBenchConfig {
    pub const DEFAULT_ITERATIONS: u32 = 2000;
}

pub(crate) async fn build_demo(
    store: &Store,
    residents: u64,
    seed: u64,
    today: time::Date,
    out: &mut dyn Write,
) -> anyhow::Result<BuildReport> {
    writeln!(
        out,
        "the store is empty: building a demo city of {residents} residents (seed {seed})"
    )?;
    let demo = DemoConfig {
        residents,
        seed,
        today,
    };
    let start = Instant::now();
    let done = load_demo(store, demo, |p| {
        let secs = start.elapsed().as_secs_f64();
        let _ = writeln!(
            out,
            "  {:>9} persons  {:>9} households  grids {}/{}  {:6.1} s  {:>8.0} persons/s",
            p.persons,
            p.households,
            p.grids_done,
            p.grids_total,
            secs,
            p.persons as f64 / secs.max(1e-9)
        );
    })
    .await
    .context("building the demo city")?;
    let elapsed = start.elapsed();
    Ok(BuildReport {
        persons: done.persons,
        households: done.households,
        elapsed,
        persons_per_sec: done.persons as f64 / elapsed.as_secs_f64().max(1e-9),
    })
}

/// Opens the store, building the demo city into it when it holds no persons; returns the store,
/// today (Beijing) and the build, if there was one.
pub(crate) async fn open_or_build(
    storage: &StorageConfig,
    residents: u64,
    seed: u64,
    out: &mut dyn Write,
) -> anyhow::Result<(Store, time::Date, Option<BuildReport>)> {
    let store = open_store(storage).await.context("opening the store")?;
    let today = Clock::System.today();
    let build = if store.max_ids().await?.person == 0 {
        let b = build_demo(&store, residents, seed, today, out).await?;
        writeln!(
            out,
            "demo city built: {} persons, {} households in {:.1} s ({:.0} persons/s)",
            b.persons,
            b.households,
            b.elapsed.as_secs_f64(),
            b.persons_per_sec
        )?;
        Some(b)
    } else {
        writeln!(
            out,
            "the store already holds persons: measuring them as they are"
        )?;
        None
    };
    Ok((store, today, build))
}

/// Opens the store (building the demo city into it when it holds no persons), then measures
/// each workload through the product and through the raw driver, one after the other on the
/// calling task. Progress and the report (a table, then markdown) go to `out`.
pub async fn run_registry_bench(
    cfg: &RegistryBenchConfig,
    out: &mut dyn Write,
) -> anyhow::Result<BenchReport> {
    writeln!(out, "registry bench on {}", cfg.storage.describe())?;
    let (store, today, build) = open_or_build(&cfg.storage, cfg.residents, cfg.seed, out).await?;
    let registry = Registry::new(store.clone(), Clock::Fixed(today));
    let born_by = registry.clock.born_by_age(COHORT_AGE_MIN);
    let targets = targets::Targets::pick(&store, born_by, cfg.seed).await?;
    writeln!(out, "{}", targets.describe())?;
    let raw = raw::Raw::open(&store, cfg.storage.database_url.as_deref()).await?;
    let bench = workloads::Bench {
        registry: &registry,
        raw: &raw,
        targets: &targets,
        budget: measure::Budget::new(cfg.iterations),
        scope: Scope::of([targets.district.clone()]),
    };
    let rows = bench.run_all(out).await?;
    let report = BenchReport {
        title: "registry bench",
        product: "Registry/Store with a district-wide scope",
        backend: store.db().backend().as_str(),
        store: cfg.storage.describe(),
        persons: targets.total_persons,
        build,
        targets: targets.describe(),
        baseline: raw.describe().to_owned(),
        rows,
    };
    writeln!(out)?;
    write!(out, "{}", report.table())?;
    writeln!(out)?;
    write!(out, "{}", report.markdown())?;
    Ok(report)
}
