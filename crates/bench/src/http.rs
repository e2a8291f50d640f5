//! The HTTP bench (P2, P4, P5, P7 through the API): the real product server (`wangge_web::app`
//! with connect info, as `wangge serve` runs it) and a bare axum router running the raw SQL
//! ([`crate::http_raw`]) listen on loopback ports in this process; the load generator
//! ([`crate::http_client`]) drives each from N keep-alive connections for a fixed time.
//! Product requests are authenticated (a district manager's bearer token, or a session cookie),
//! so the guard's token lookup, the scope filter and the audit writes are all in the figures.

use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::macros::format_description;
use wangge_domain::{NewPassword, Role, Scope, Username};
use wangge_services::identity::Identity;
use wangge_services::storage::StorageConfig;
use wangge_services::{Clock, Registry};
use wangge_store::Store;

use crate::http_client::{Load, LoadStats, MakeOp, Req, once, probe};
use crate::http_raw::RawServer;
use crate::measure::{Budget, measure};
use crate::raw::{Cohort, Raw};
use crate::report::{BuildReport, duration, rate};
use crate::targets::{COHORT_AGE_MIN, Targets};

/// The API's largest page: the cohort and the worklist are read as one page each.
const PAGE: u32 = 500;
const BENCH_PASSWORD: &str = "Bench-http-2026!";

#[derive(Debug, Clone)]
pub struct HttpBenchConfig {
    /// Residents of the demo city built when the store is empty.
    pub residents: u64,
    pub seed: u64,
    pub storage: StorageConfig,
    /// Concurrent keep-alive connections of the loaded runs (latency lines also run on one).
    pub connections: usize,
    /// Timed window of each run, after a warm-up of a fifth of it (0.2–2 s).
    pub duration: Duration,
    /// Target ids to measure (`P2`, `P4`, `P5`, `P7`); empty measures them all. The floor is
    /// always measured: the other lines are read against it.
    pub only: Vec<String>,
}

impl HttpBenchConfig {
    fn wants(&self, target: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o.eq_ignore_ascii_case(target))
    }
}

/// Whether a target holds, and what it was measured against.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub holds: bool,
}

/// One line: the product through the API beside its raw endpoint, same connections, same run.
#[derive(Debug, Clone)]
pub struct HttpRow {
    /// "P2", "P4", "P5", "P7", or "floor".
    pub id: &'static str,
    pub workload: String,
    pub connections: usize,
    /// Rows in one operation's answers (from a probe before the run).
    pub product_rows: usize,
    pub raw_rows: usize,
    pub product: LoadStats,
    pub raw: LoadStats,
    /// Audit rows the product wrote per operation during the run (warm-up included).
    pub audit_rows_per_op: f64,
    pub verdict: Option<Verdict>,
}

impl HttpRow {
    /// Product throughput over raw throughput.
    pub fn throughput_ratio(&self) -> f64 {
        self.product.ops_per_sec / self.raw.ops_per_sec.max(f64::MIN_POSITIVE)
    }

    /// Product p50 over raw p50.
    pub fn p50_ratio(&self) -> f64 {
        self.product.p50.as_secs_f64() / self.raw.p50.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

#[derive(Debug, Clone)]
pub struct HttpBenchReport {
    pub backend: &'static str,
    pub store: String,
    pub persons: u64,
    pub build: Option<BuildReport>,
    pub targets: String,
    pub baseline: String,
    /// Logical CPUs of this machine, and tokio worker threads serving both sides and the client.
    pub cpus: usize,
    pub workers: usize,
    pub connections: usize,
    pub seconds: f64,
    /// Sequential in-process raw query times the P2/P7 latency targets are built from.
    pub raw_cohort_query: Duration,
    pub raw_worklist_query: Duration,
    pub rows: Vec<HttpRow>,
}

/// The bench user: a district manager over the measured district, with a bearer token and a
/// signed-in session.
struct Auth {
    bearer: String,
    cookie: String,
}

async fn bench_user(store: &Store, district_code: &str) -> anyhow::Result<(String, String)> {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let name = format!("httpbench-{stamp}-{}", std::process::id() % 100_000);
    let username = Username::parse(&name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = NewPassword::parse(BENCH_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    let identity = Identity::new(store.clone());
    identity
        .create_user(
            "bench",
            &username,
            "HTTP bench",
            Role::DistrictManager,
            &[district_code.to_owned()],
            &password,
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the bench user: {e:?}"))?;
    let (secret, _) = identity
        .create_token(
            "bench",
            &username,
            "http bench",
            Duration::from_secs(6 * 3600),
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the bench token: {e:?}"))?;
    Ok((name, secret))
}

async fn sign_in(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({"username": username, "password": BENCH_PASSWORD}).to_string();
    let resp = once(addr, &Req::new("POST", "/api/v1/session", &[], Some(&body))).await?;
    if resp.status != 200 {
        bail!(
            "sign-in answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
    }
    let cookie = resp
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("sign-in set no cookie")?;
    Ok(cookie.to_owned())
}

/// Rows in an answer: the length of `items`, or 1 for a single object.
fn rows_in(body: &[u8]) -> anyhow::Result<usize> {
    let v: serde_json::Value = serde_json::from_slice(body).context("answer is not JSON")?;
    Ok(match v.get("items").and_then(|i| i.as_array()) {
        Some(items) => items.len(),
        None => usize::from(v.is_object()),
    })
}

async fn audit_head(store: &Store) -> anyhow::Result<i64> {
    let v = store
        .db()
        .query("SELECT COALESCE(MAX(id), 0) FROM audit_events", &[], |r| {
            r.int(0)
        })
        .await?;
    Ok(v.first().copied().unwrap_or(0))
}

pub(crate) fn op(f: impl Fn(&mut ChaCha8Rng) -> Vec<Req> + Send + Sync + 'static) -> MakeOp {
    Arc::new(move |_, rng| f(rng))
}

pub(crate) struct Side {
    pub addr: SocketAddr,
    pub op: MakeOp,
}

pub(crate) struct Runner<'a> {
    store: &'a Store,
    pub product_addr: SocketAddr,
    pub raw_addr: SocketAddr,
    warmup: Duration,
    duration: Duration,
    seed: u64,
}

impl Runner<'_> {
    async fn load(&self, side: &Side, connections: usize) -> anyhow::Result<LoadStats> {
        Load {
            addr: side.addr,
            connections,
            warmup: self.warmup,
            duration: self.duration,
            seed: self.seed,
        }
        .run(side.op.clone())
        .await
    }

    async fn probe(&self, side: &Side) -> anyhow::Result<usize> {
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(self.seed);
        let reqs = (side.op)(0, &mut rng);
        let mut rows = 0;
        probe(side.addr, &reqs, |r| {
            rows += rows_in(&r.body)?;
            Ok(())
        })
        .await
        .context("probe")?;
        Ok(rows)
    }

    /// Probes both sides, then runs the raw side and the product side (counting the audit
    /// rows the product writes meanwhile).
    pub(crate) async fn pair(
        &self,
        id: &'static str,
        workload: String,
        connections: usize,
        product: &Side,
        raw: &Side,
        out: &mut dyn Write,
    ) -> anyhow::Result<HttpRow> {
        writeln!(out, "  {workload}, {connections} connection(s) ...")?;
        let product_rows = self.probe(product).await?;
        let raw_rows = self.probe(raw).await?;
        let raw_stats = self.load(raw, connections).await?;
        let before = audit_head(self.store).await?;
        let product_stats = self.load(product, connections).await?;
        let written = audit_head(self.store).await? - before;
        let ops = product_stats.ops_including_warmup.max(1);
        Ok(HttpRow {
            id,
            workload,
            connections,
            product_rows,
            raw_rows,
            audit_rows_per_op: written as f64 / ops as f64,
            product: product_stats,
            raw: raw_stats,
            verdict: None,
        })
    }
}

pub(crate) fn within(ms: f64) -> Duration {
    Duration::from_secs_f64(ms / 1e3)
}

/// p50 within `factor` × `base`, p99 within `p99_max`.
fn latency_verdict(
    row: &HttpRow,
    factor: f64,
    base: Duration,
    base_text: String,
    p99_max: Duration,
) -> Verdict {
    let limit = base.mul_f64(factor);
    let p99_ok = row.product.p99 <= p99_max;
    let p50_ok = row.product.p50 <= limit;
    Verdict {
        target: format!(
            "p50 ≤ {factor}× ({base_text}) = {}{}",
            duration(limit),
            if p99_max < Duration::MAX {
                format!("; p99 ≤ {}", duration(p99_max))
            } else {
                String::new()
            }
        ),
        measured: format!(
            "p50 {}, p99 {}",
            duration(row.product.p50),
            duration(row.product.p99)
        ),
        holds: p50_ok && p99_ok,
    }
}

/// Throughput at least `share` of raw, p99 within `p99_max`.
pub(crate) fn throughput_verdict(row: &HttpRow, share: f64, p99_max: Duration) -> Verdict {
    let x = row.throughput_ratio();
    Verdict {
        target: format!(
            "≥ {:.0} % of raw ops/s; p99 ≤ {}",
            share * 100.0,
            duration(p99_max)
        ),
        measured: format!(
            "{:.0} % of raw, p99 {}",
            x * 100.0,
            duration(row.product.p99)
        ),
        holds: x >= share && row.product.p99 <= p99_max,
    }
}

/// Opens the store (building the demo city when it holds no persons), starts the product
/// server and the raw server on loopback ports, creates the bench user, token and session, and
/// measures every workload. Progress and the report (a table, then markdown) go to `out`.
pub async fn run_http_bench(
    cfg: &HttpBenchConfig,
    out: &mut dyn Write,
) -> anyhow::Result<HttpBenchReport> {
    if cfg.connections == 0 {
        bail!("--connections must be at least 1");
    }
    writeln!(out, "HTTP bench on {}", cfg.storage.describe())?;
    let (store, _, build) =
        crate::open_or_build(&cfg.storage, cfg.residents, cfg.seed, out).await?;
    let registry = Registry::new(store.clone(), Clock::System);
    let born_by = registry.clock.born_by_age(COHORT_AGE_MIN);
    let t = Targets::pick(&store, born_by, cfg.seed).await?;
    writeln!(out, "{}", t.describe())?;
    let everything = Scope::everything();
    let district_code = store.area(&everything, t.district.last_id()).await?.code;
    let grid_code = store.area(&everything, t.grid.last_id()).await?.code;

    // Raw query times, in process, one after another: the "raw query" of the P2/P7 targets.
    let raw_db = Raw::open(&store, cfg.storage.database_url.as_deref()).await?;
    let born_by_text = born_by.format(format_description!("[year]-[month]-[day]"))?;
    let cohort = Cohort {
        tag_id: t.tag_id,
        within: &t.community,
        born_by,
        born_by_text: born_by_text.clone(),
        limit: i64::from(PAGE),
    };
    let budget = Budget::new(2000);
    let raw_cohort_query = measure(&budget, async |_| raw_db.cohort(&cohort).await)
        .await?
        .p50;
    let raw_worklist_query = measure(&budget, async |_| raw_db.worklist(&t.grid).await)
        .await?
        .p50;
    drop(raw_db);

    // The servers.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let product_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let product_addr = product_listener.local_addr()?;
    let app = wangge_web::app(registry.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut rx = stop_rx.clone();
    let product_server = tokio::spawn(async move {
        axum::serve(product_listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await
    });
    let raw = match store.db().backend() {
        wangge_store::db::Backend::Sqlite => RawServer::sqlite(
            store
                .db()
                .sqlite_path()
                .context("SQLite store without a file")?,
        )?,
        wangge_store::db::Backend::Postgres => {
            RawServer::postgres(
                cfg.storage
                    .database_url
                    .as_deref()
                    .context("PostgreSQL store without a URL")?,
            )
            .await?
        }
    };
    let raw_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let raw_addr = raw_listener.local_addr()?;
    let raw_app = raw.router();
    let mut rx = stop_rx.clone();
    let raw_server = tokio::spawn(async move {
        axum::serve(raw_listener, raw_app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await
    });

    let result = measure_all(
        cfg,
        &store,
        &t,
        Ctx {
            product_addr,
            raw_addr,
            district_code: district_code.as_str().to_owned(),
            grid_code: grid_code.as_str().to_owned(),
            born_by_text,
            raw_cohort_query,
            raw_worklist_query,
        },
        out,
    )
    .await;
    let _ = stop_tx.send(true);
    let _ = product_server.await;
    let _ = raw_server.await;
    let rows = result?;

    let report = HttpBenchReport {
        backend: store.db().backend().as_str(),
        store: cfg.storage.describe(),
        persons: t.total_persons,
        build,
        targets: t.describe(),
        baseline: raw.describe().to_owned(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        workers: tokio::runtime::Handle::current().metrics().num_workers(),
        connections: cfg.connections,
        seconds: cfg.duration.as_secs_f64(),
        raw_cohort_query,
        raw_worklist_query,
        rows,
    };
    writeln!(out)?;
    write!(out, "{}", report.table())?;
    writeln!(out)?;
    write!(out, "{}", report.markdown())?;
    Ok(report)
}

struct Ctx {
    product_addr: SocketAddr,
    raw_addr: SocketAddr,
    district_code: String,
    grid_code: String,
    born_by_text: String,
    raw_cohort_query: Duration,
    raw_worklist_query: Duration,
}

async fn measure_all(
    cfg: &HttpBenchConfig,
    store: &Store,
    t: &Targets,
    c: Ctx,
    out: &mut dyn Write,
) -> anyhow::Result<Vec<HttpRow>> {
    let (username, secret) = bench_user(store, &c.district_code).await?;
    let auth = Auth {
        bearer: format!("Authorization: Bearer {secret}"),
        cookie: format!("Cookie: {}", sign_in(c.product_addr, &username).await?),
    };
    writeln!(
        out,
        "bench user {username}: district manager of {}, bearer token and session cookie",
        c.district_code
    )?;
    let warmup = cfg
        .duration
        .mul_f64(0.2)
        .clamp(Duration::from_millis(200), Duration::from_secs(2));
    let r = Runner {
        store,
        product_addr: c.product_addr,
        raw_addr: c.raw_addr,
        warmup,
        duration: cfg.duration,
        seed: cfg.seed,
    };
    let n = cfg.connections;
    let product = |o: MakeOp| Side {
        addr: r.product_addr,
        op: o,
    };
    let raw = |o: MakeOp| Side {
        addr: r.raw_addr,
        op: o,
    };
    let bearer = auth.bearer.clone();
    let ids = Arc::new(t.person_ids.clone());
    let mut rows = Vec::new();

    writeln!(out, "measuring the HTTP floor ...")?;
    let healthz = product(op(|_| vec![Req::get("/healthz", &[])]));
    let floor = raw(op(|_| vec![Req::get("/floor", &[])]));
    let floor_name = "floor: GET /healthz through the product's middleware vs bare axum /floor";
    let floor1 = r
        .pair("floor", floor_name.into(), 1, &healthz, &floor, out)
        .await?;
    let floor_p50 = floor1.raw.p50;
    rows.push(floor1);
    rows.push(
        r.pair("floor", floor_name.into(), n, &healthz, &floor, out)
            .await?,
    );

    if cfg.wants("P2") {
        writeln!(out, "measuring P2 cohort ...")?;
        let q = format!(
            "/api/v1/persons?tag={}&age_min={COHORT_AGE_MIN}&area={}&limit={PAGE}",
            t.tag_code.as_str(),
            t.community_code.as_str()
        );
        let h = [bearer.clone()];
        let p2 = product(op(move |_| vec![Req::get(&q, &h)]));
        let (lo, hi) = t.community.range();
        let q = format!(
            "/raw/cohort?tag_id={}&lo={lo}&hi={hi}&born_by={}&limit={PAGE}",
            t.tag_id, c.born_by_text
        );
        let p2_raw = raw(op(move |_| vec![Req::get(&q, &[])]));
        let p2_name = format!(
            "P2 cohort: {} + age>={COHORT_AGE_MIN} in a community ({} residents), first page",
            t.tag_code.as_str(),
            t.community_persons
        );
        for conns in [1, n] {
            let mut row = r
                .pair("P2", p2_name.clone(), conns, &p2, &p2_raw, out)
                .await?;
            row.verdict = Some(if conns == 1 {
                latency_verdict(
                    &row,
                    2.0,
                    c.raw_cohort_query + floor_p50,
                    format!(
                        "raw query {} + floor {}",
                        duration(c.raw_cohort_query),
                        duration(floor_p50)
                    ),
                    within(5.0),
                )
            } else {
                latency_verdict(
                    &row,
                    2.0,
                    row.raw.p50,
                    format!("raw endpoint p50 {}", duration(row.raw.p50)),
                    within(5.0),
                )
            });
            rows.push(row);
        }
    }

    if cfg.wants("P4") {
        writeln!(out, "measuring P4 point lookups ...")?;
        let pick = |ids: &Arc<Vec<i64>>, rng: &mut ChaCha8Rng| ids[rng.random_range(0..ids.len())];
        let (i, h) = (ids.clone(), [bearer.clone()]);
        let p4_bearer = product(op(move |rng| {
            vec![Req::get(&format!("/api/v1/persons/{}", pick(&i, rng)), &h)]
        }));
        let (i, h) = (ids.clone(), [auth.cookie.clone()]);
        let p4_cookie = product(op(move |rng| {
            vec![Req::get(&format!("/api/v1/persons/{}", pick(&i, rng)), &h)]
        }));
        let i = ids.clone();
        let p4_raw = raw(op(move |rng| {
            vec![Req::get(&format!("/raw/persons/{}", pick(&i, rng)), &[])]
        }));
        let sample = t.person_ids.len();
        for (name, side) in [
            (
                format!(
                    "P4 GET /persons/{{id}}, bearer token ({sample} random ids in the district)"
                ),
                &p4_bearer,
            ),
            (
                format!("P4 GET /persons/{{id}}, session cookie ({sample} random ids)"),
                &p4_cookie,
            ),
        ] {
            let mut row = r.pair("P4", name, n, side, &p4_raw, out).await?;
            row.verdict = Some(throughput_verdict(&row, 0.5, within(5.0)));
            rows.push(row);
        }
    }

    if cfg.wants("P7") {
        writeln!(out, "measuring P7 grid worklist ...")?;
        let h = [bearer.clone()];
        let gc = c.grid_code.clone();
        let p7 = product(op(move |_| {
            vec![
                Req::get_all_pages(&format!("/api/v1/households?area={gc}&limit={PAGE}"), &h),
                Req::get_all_pages(&format!("/api/v1/persons?area={gc}&limit={PAGE}"), &h),
            ]
        }));
        let (lo, hi) = t.grid.range();
        let p7_raw = raw(op(move |_| {
            vec![
                Req::get(&format!("/raw/grid-households?lo={lo}&hi={hi}"), &[]),
                Req::get(&format!("/raw/grid-persons?lo={lo}&hi={hi}"), &[]),
            ]
        }));
        let p7_name = format!(
            "P7 worklist: every households + persons page of a grid ({} residents)",
            t.grid_persons
        );
        for conns in [1, n] {
            let mut row = r
                .pair("P7", p7_name.clone(), conns, &p7, &p7_raw, out)
                .await?;
            row.verdict = Some(if conns == 1 {
                latency_verdict(
                    &row,
                    3.0,
                    c.raw_worklist_query + floor_p50 * 2,
                    format!(
                        "raw queries {} + 2 × floor {}",
                        duration(c.raw_worklist_query),
                        duration(floor_p50)
                    ),
                    Duration::MAX,
                )
            } else {
                latency_verdict(
                    &row,
                    3.0,
                    row.raw.p50,
                    format!("raw endpoints p50 {}", duration(row.raw.p50)),
                    Duration::MAX,
                )
            });
            rows.push(row);
        }
    }

    if cfg.wants("P5") {
        let w =
            crate::http_writes::Writes::prepare(&Registry::new(store.clone(), Clock::System), t, n)
                .await?;
        rows.extend(w.measure(&r, &bearer, n, out).await?);
    }
    Ok(rows)
}

const HEADER: [&str; 12] = [
    "workload",
    "conns",
    "rows",
    "product ops/s",
    "product p50",
    "product p99",
    "raw ops/s",
    "raw p50",
    "raw p99",
    "ops/s product/raw",
    "p50 product/raw",
    "audit rows/op",
];

const VERDICT_HEADER: [&str; 5] = ["line", "conns", "target", "measured", "holds"];

fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            if i == 0 {
                let _ = write!(s, "{c}{pad}");
            } else {
                let _ = write!(s, "  {pad}{c}");
            }
        }
        s.push('\n');
        s
    };
    let mut s = line(&header.map(str::to_owned));
    let total: usize = widths.iter().sum::<usize>() + 2 * (N - 1);
    s.push_str(&"-".repeat(total));
    s.push('\n');
    for row in rows {
        s.push_str(&line(row));
    }
    s
}

fn markdown<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut s = format!(
        "| {} |\n|---|{}\n",
        header.join(" | "),
        "---:|".repeat(N - 1)
    );
    for row in rows {
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}

impl HttpBenchReport {
    fn cells(&self) -> Vec<[String; 12]> {
        self.rows
            .iter()
            .map(|r| {
                let rows = if r.product_rows == r.raw_rows {
                    r.product_rows.to_string()
                } else {
                    format!("{}/{}", r.product_rows, r.raw_rows)
                };
                [
                    r.workload.clone(),
                    r.connections.to_string(),
                    rows,
                    rate(r.product.ops_per_sec),
                    duration(r.product.p50),
                    duration(r.product.p99),
                    rate(r.raw.ops_per_sec),
                    duration(r.raw.p50),
                    duration(r.raw.p99),
                    format!("{:.2}", r.throughput_ratio()),
                    format!("{:.2}×", r.p50_ratio()),
                    format!("{:.2}", r.audit_rows_per_op),
                ]
            })
            .collect()
    }

    fn verdict_cells(&self) -> Vec<[String; 5]> {
        self.rows
            .iter()
            .filter_map(|r| {
                r.verdict.as_ref().map(|v| {
                    let what = r.workload.split(':').next().unwrap_or(r.id);
                    let what = what.split(',').next().unwrap_or(what);
                    let via = if r.workload.contains("cookie") {
                        " (cookie)"
                    } else if r.id == "P4" {
                        " (bearer)"
                    } else {
                        ""
                    };
                    [
                        format!("{what}{via}"),
                        r.connections.to_string(),
                        v.target.clone(),
                        v.measured.clone(),
                        if v.holds { "yes" } else { "NO" }.to_owned(),
                    ]
                })
            })
            .collect()
    }

    fn heading(&self) -> String {
        let mut s = format!(
            "HTTP bench: {} ({}), {} persons\n{}\n{}\n\
             product = wangge_web::app (every middleware; bearer-token or cookie auth, scope, \
             audit) served by axum on loopback; client = {} keep-alive connection(s) per run, \
             {:.0} s timed after a warm-up; client and both servers share one process and its \
             {} tokio worker threads on {} logical CPUs\n\
             raw query alone (in process, sequential p50): cohort {}, worklist {}\n",
            self.backend,
            self.store,
            self.persons,
            self.targets,
            self.baseline,
            self.connections,
            self.seconds,
            self.workers,
            self.cpus,
            duration(self.raw_cohort_query),
            duration(self.raw_worklist_query),
        );
        if let Some(b) = &self.build {
            let _ = writeln!(
                s,
                "demo city built: {} persons, {} households in {:.1} s ({:.0} persons/s)",
                b.persons,
                b.households,
                b.elapsed.as_secs_f64(),
                b.persons_per_sec
            );
        }
        s
    }

    fn notes(&self) -> String {
        let mut s = String::from(
            "ops/s counts operations; an operation is one request except the worklist (the \
             product reads every page of both lists with the cursor, the raw side makes 2 \
             requests); p50/p99 are per operation; audit rows/op are the audit_events rows the \
             product wrote per operation.\n",
        );
        for r in &self.rows {
            if r.product.requests_per_op != r.raw.requests_per_op {
                let _ = writeln!(
                    s,
                    "note: {} ({} conns): the product took {} requests per operation, raw {}",
                    r.workload, r.connections, r.product.requests_per_op, r.raw.requests_per_op
                );
            }
            if r.id != "floor" && r.product_rows != r.raw_rows && r.id != "P5" {
                let _ = writeln!(
                    s,
                    "note: {}: the product answered {} rows, raw {}",
                    r.workload, r.product_rows, r.raw_rows
                );
            }
        }
        s
    }

    pub fn table(&self) -> String {
        let mut s = self.heading();
        s.push_str(&aligned(HEADER, &self.cells()));
        s.push('\n');
        s.push_str(&aligned(VERDICT_HEADER, &self.verdict_cells()));
        s.push_str(&self.notes());
        s
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        for l in self.heading().lines() {
            let _ = writeln!(s, "{l}  ");
        }
        s.push('\n');
        s.push_str(&markdown(HEADER, &self.cells()));
        s.push('\n');
        s.push_str(&markdown(VERDICT_HEADER, &self.verdict_cells()));
        s.push('\n');
        s.push_str(&self.notes());
        s
    }
}
