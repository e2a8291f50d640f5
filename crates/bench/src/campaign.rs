//! The campaign bench (issue #6): target preview and launch over the most populous district
//! (about 500 k residents in a 1 M city), each beside the raw engine doing the bare query on the
//! same data in the same run.
//!
//! Product = `Registry::preview_campaign` and `Registry::launch_campaign` with a district-wide
//! scope: rule resolution, the scoped target SQL (places, contactless check, the grid's worker)
//! and, for launch, one `INSERT … SELECT` of the frozen list in one transaction. Raw = the same
//! database handle running hand-written SQL: a `COUNT(*)` of the targets, and an
//! `INSERT … SELECT` of their bare ids into the same table.

use std::io::Write;
use std::time::Instant;

use wangge_domain::campaign::RuleDraft;
use wangge_domain::{CampaignKind, Scope, TagCode};
use wangge_services::campaigns::{PlanCampaign, PreviewTargets};
use wangge_services::storage::StorageConfig;
use wangge_services::{Clock, Registry};
use wangge_store::db::Value;
use wangge_store::params;

use crate::measure::{Stats, summarize};
use crate::report::{BenchReport, BenchRow};
use crate::targets::{COHORT_AGE_MIN, COHORT_TAG, Targets};

#[derive(Debug, Clone)]
pub struct CampaignBenchConfig {
    /// Residents of the demo city built when the store is empty.
    pub residents: u64,
    pub seed: u64,
    pub storage: StorageConfig,
    /// Timed launches per kind (each freezes a new list); previews run ten times as often.
    pub iterations: u32,
}

/// Times `op` `n` times after one untimed warm-up.
async fn timed<F>(n: u32, mut op: F) -> anyhow::Result<Stats>
where
    F: AsyncFnMut() -> anyhow::Result<usize>,
{
    op().await?;
    let mut times = Vec::new();
    let mut rows = 0u64;
    for _ in 0..n.max(1) {
        let t = Instant::now();
        rows += op().await? as u64;
        times.push(t.elapsed());
    }
    Ok(summarize(times, rows))
}

struct Sides {
    product: Stats,
    raw: Stats,
}

/// The campaigns this run created, removed at the end so the store stays as it was.
#[derive(Default)]
struct Created(Vec<i64>);

impl Created {
    async fn remove(&self, registry: &Registry) -> anyhow::Result<()> {
        let db = registry.store.db();
        for id in &self.0 {
            db.execute(
                "DELETE FROM campaign_items WHERE campaign_id = ?",
                &params![*id],
            )
            .await?;
            db.execute("DELETE FROM campaigns WHERE id = ?", &params![*id])
                .await?;
        }
        Ok(())
    }
}

pub async fn run_campaign_bench(
    cfg: &CampaignBenchConfig,
    out: &mut dyn Write,
) -> anyhow::Result<BenchReport> {
    writeln!(out, "campaign bench on {}", cfg.storage.describe())?;
    let (store, today, build) =
        crate::open_or_build(&cfg.storage, cfg.residents, cfg.seed, out).await?;
    let registry = Registry::new(store.clone(), Clock::Fixed(today));
    let born_by = registry.clock.born_by_age(COHORT_AGE_MIN);
    let targets = Targets::pick(&store, born_by, cfg.seed).await?;
    let all = Scope::everything();
    let district = store.area(&all, targets.district.last_id()).await?;
    let scope = Scope::of([district.path.clone()]);
    writeln!(
        out,
        "district {} {} ({} persons)",
        district.code.as_str(),
        district.name,
        targets.district_persons
    )?;
    let (lo, hi) = district.path.range();
    let delivery = RuleDraft {
        tags: vec![TagCode::parse(COHORT_TAG)?],
        age_min: Some(COHORT_AGE_MIN),
        ..Default::default()
    };
    let kinds = [
        (
            "delivery: tag × age ≥ 70",
            CampaignKind::Delivery,
            delivery,
            "SELECT COUNT(*) FROM tag_assignments t JOIN persons p ON p.id = t.person_id \
             WHERE t.tag_id = ? AND t.ended_on IS NULL AND t.area_path >= ? AND t.area_path < ? \
             AND p.birth_date <= ? AND p.household_id IS NOT NULL",
            "SELECT p.household_id AS household_id, p.id AS person_id, p.area_path AS area_path \
             FROM tag_assignments t \
             JOIN persons p ON p.id = t.person_id WHERE t.tag_id = ? AND t.ended_on IS NULL \
             AND t.area_path >= ? AND t.area_path < ? AND p.birth_date <= ? \
             AND p.household_id IS NOT NULL",
            vec![
                Value::Int(targets.tag_id),
                lo.clone().into(),
                hi.clone().into(),
                born_by.into(),
            ],
        ),
        (
            "sweep: every household",
            CampaignKind::Sweep,
            RuleDraft::default(),
            "SELECT COUNT(*) FROM households h WHERE h.area_path >= ? AND h.area_path < ? \
             AND h.ended_on IS NULL",
            "SELECT h.id AS household_id, CAST(NULL AS BIGINT) AS person_id, \
             h.area_path AS area_path FROM households h \
             WHERE h.area_path >= ? AND h.area_path < ? AND h.ended_on IS NULL",
            vec![lo.clone().into(), hi.clone().into()],
        ),
    ];
    let created = Created::default();
    let result = measure_kinds(&registry, &scope, &district.code, &kinds, cfg, created, out).await;
    let (rows, created) = result?;
    created.remove(&registry).await?;
    let report = BenchReport {
        title: "campaign bench",
        product: "Registry::preview_campaign / launch_campaign, district scope",
        backend: store.db().backend().as_str(),
        store: cfg.storage.describe(),
        persons: targets.total_persons,
        build,
        targets: format!(
            "district {} {} ({} persons); delivery = tag {} (id {}), age ≥ {}; sweep = every \
             current household; launches {} per kind (a new campaign each), previews {}",
            district.code.as_str(),
            district.name,
            targets.district_persons,
            COHORT_TAG,
            targets.tag_id,
            COHORT_AGE_MIN,
            cfg.iterations.max(1),
            cfg.iterations.max(1) * 10
        ),
        baseline: "raw = the same database handle, hand-written SQL: COUNT(*) of the targets; \
                   INSERT … SELECT of their bare ids into campaign_items"
            .to_owned(),
        rows,
    };
    writeln!(out)?;
    write!(out, "{}", report.table())?;
    writeln!(out)?;
    write!(out, "{}", report.markdown())?;
    Ok(report)
}

type Kind<'a> = (
    &'a str,
    CampaignKind,
    RuleDraft,
    &'a str,
    &'a str,
    Vec<Value>,
);

async fn measure_kinds(
    registry: &Registry,
    scope: &Scope,
    area: &wangge_domain::AreaCode,
    kinds: &[Kind<'_>],
    cfg: &CampaignBenchConfig,
    mut created: Created,
    out: &mut dyn Write,
) -> anyhow::Result<(Vec<BenchRow>, Created)> {
    let n = cfg.iterations.max(1);
    let db = registry.store.db();
    let mut rows = Vec::new();
    for (label, kind, rule, count_sql, select_sql, params) in kinds {
        writeln!(out, "measuring {label} …")?;
        let preview = Sides {
            product: timed(n * 10, async || {
                let p = registry
                    .preview_campaign(
                        scope,
                        PreviewTargets {
                            area: area.clone(),
                            kind: *kind,
                            rule: rule.clone(),
                        },
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("preview: {e:?}"))?;
                Ok(usize::try_from(p.targets)?)
            })
            .await?,
            raw: timed(n * 10, async || {
                let c = db
                    .query_opt(count_sql, params, |r| r.int(0))
                    .await?
                    .unwrap_or(0);
                Ok(usize::try_from(c)?)
            })
            .await?,
        };
        let mut product_times = Vec::new();
        let mut raw_times = Vec::new();
        let (mut product_rows, mut raw_rows) = (0u64, 0u64);
        for i in 0..=n {
            let draft = |name: &str| PlanCampaign {
                name: name.to_owned(),
                kind: *kind,
                purpose: None,
                area: area.clone(),
                starts_on: registry.clock.today(),
                ends_on: registry.clock.today(),
                rule: rule.clone(),
                form: Vec::new(),
                desk_user_id: None,
            };
            let c = registry
                .create_campaign(scope, (None, "bench"), draft("bench product"))
                .await
                .map_err(|e| anyhow::anyhow!("create: {e:?}"))?;
            created.0.push(c.id);
            let t = Instant::now();
            let launched = registry
                .launch_campaign(scope, c.id)
                .await
                .map_err(|e| anyhow::anyhow!("launch: {e:?}"))?;
            let product = t.elapsed();
            let r = registry
                .create_campaign(scope, (None, "bench"), draft("bench raw"))
                .await
                .map_err(|e| anyhow::anyhow!("create: {e:?}"))?;
            created.0.push(r.id);
            let stamp = time::OffsetDateTime::now_utc();
            let mut p: Vec<Value> = vec![Value::Int(r.id), stamp.into(), stamp.into()];
            p.extend(params.iter().cloned());
            let t = Instant::now();
            let mut tx = db.begin().await?;
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO campaign_items (campaign_id, household_id, person_id, \
                         area_path, created_at, updated_at) SELECT ?, t.household_id, \
                         t.person_id, t.area_path, ?, ? FROM ({select_sql}) t"
                    ),
                    &p,
                )
                .await?;
            tx.commit().await?;
            let raw = t.elapsed();
            // The first round warms up both sides.
            if i > 0 {
                product_times.push(product);
                raw_times.push(raw);
                product_rows += u64::try_from(launched.target_count)?;
                raw_rows += inserted;
            }
        }
        rows.push(BenchRow {
            id: "#6",
            workload: format!("campaign preview, {label}"),
            product: Some(preview.product),
            raw: preview.raw,
        });
        rows.push(BenchRow {
            id: "#6",
            workload: format!("campaign launch, {label}"),
            product: Some(summarize(product_times, product_rows)),
            raw: summarize(raw_times, raw_rows),
        });
    }
    Ok((rows, created))
}
