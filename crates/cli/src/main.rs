//! `wangge`: one binary for serving, migrating, the demo city, imports and benchmarks.

mod users;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use wangge_domain::{Channel, Scope};
use wangge_services::attachments::{AttachmentSettings, Attachments};
use wangge_services::jobs::{JobRunner, runner_name};
use wangge_services::storage::{StorageConfig, open_store};
use wangge_services::{Clock, Now, Registry, ServiceError};

#[derive(Parser)]
#[command(name = "wangge", version, about = "全科网格 community grid governance")]
struct Cli {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct StorageArgs {
    /// Directory for the embedded SQLite store and the key file.
    #[arg(
        long,
        global = true,
        env = "WANGGE_DATA_DIR",
        default_value = "./wangge-data"
    )]
    data_dir: PathBuf,
    /// Use PostgreSQL instead of the embedded store, e.g. postgres://user@host/db.
    #[arg(long, global = true, env = "WANGGE_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API.
    Serve {
        #[arg(long, env = "WANGGE_LISTEN", default_value = "127.0.0.1:8700")]
        listen: String,
        /// Build the demo city first when the store holds no areas.
        #[arg(long)]
        demo_if_empty: bool,
        /// Notification channels besides in-app, comma-separated: `log` (development: logs the
        /// event kind and ids).
        #[arg(long, env = "WANGGE_NOTIFY_CHANNELS", value_delimiter = ',')]
        notify_channels: Vec<String>,
        /// Where photo attachments are stored (default: `attachments` in the data directory).
        #[arg(long, env = "WANGGE_ATTACHMENTS_DIR")]
        attachments_dir: Option<PathBuf>,
        /// The largest photo accepted, in MiB.
        #[arg(long, env = "WANGGE_ATTACHMENT_MAX_MB", default_value_t = 10,
              value_parser = clap::value_parser!(u16).range(1..=100))]
        attachment_max_mb: u16,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Build a synthetic city into an empty store.
    Demo(DemoArgs),
    /// Import data.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Users: add, list, disable.
    User {
        #[command(subcommand)]
        what: users::UserCommand,
    },
    /// API tokens for integrations.
    Token {
        #[command(subcommand)]
        what: users::TokenCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        what: users::AuditCommand,
    },
    /// Benchmarks: the product's figures beside raw-engine baselines from the same run.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Args, Clone)]
struct DemoArgs {
    /// How many residents (up to 5,000,000).
    #[arg(long, default_value_t = wangge_demo::DEFAULT_RESIDENTS)]
    residents: u64,
    /// The same seed gives the same city.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A GeoJSON FeatureCollection of area polygons (properties code, name, level, parent_code).
    Areas { file: PathBuf },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Registry queries (cohort, point lookup, worklist, per-grid tag counts) against raw SQL.
    Registry {
        /// Build a demo city of this size first when the store is empty.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Timed repetitions per workload.
        #[arg(long, default_value_t = 2000)]
        iterations: u32,
    },
    /// Campaign target preview and launch over the most populous district against the bare
    /// queries (issue #6).
    Campaign {
        /// Build a demo city of this size first when the store is empty.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Timed launches per kind; previews run ten times as many.
        #[arg(long, default_value_t = 3)]
        iterations: u32,
    },
    /// The API under load (cohort, point lookups, worklist, writes) against bare axum
    /// endpoints running the raw SQL, both served in this process on loopback.
    Http {
        /// Build a demo city of this size first when the store is empty.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Concurrent keep-alive connections of the loaded runs.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Timed seconds per run (after a warm-up of a fifth of it).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Measure only these targets (P2, P4, P5, P7; repeat or comma-separate); the floor is
        /// always measured.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
}

impl StorageArgs {
    fn config(&self) -> StorageConfig {
        StorageConfig {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            secret_key: std::env::var("WANGGE_SECRET_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty()),
        }
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WANGGE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    let cfg = cli.storage.config();
    match cli.command {
        Command::Serve {
            listen,
            demo_if_empty,
            notify_channels,
            attachments_dir,
            attachment_max_mb,
        } => {
            let mut photos = AttachmentSettings::in_data_dir(&cfg.data_dir);
            if let Some(dir) = attachments_dir {
                photos.dir = dir;
            }
            photos.limits.max_bytes = usize::from(attachment_max_mb) * 1024 * 1024;
            serve(&cfg, &listen, demo_if_empty, &notify_channels, photos).await
        }
        Command::Migrate => {
            let store = open_store(&cfg).await.context("opening the store")?;
            let version = wangge_store::migrate::current_version(store.db()).await?;
            println!("{}: schema at migration {version}", cfg.describe());
            Ok(())
        }
        Command::Demo(args) => demo(&cfg, &args).await,
        Command::Import {
            what: ImportCommand::Areas { file },
        } => import_areas(&cfg, &file).await,
        Command::User { what } => {
            users::user(open_store(&cfg).await.context("opening the store")?, what).await
        }
        Command::Token { what } => {
            users::token(open_store(&cfg).await.context("opening the store")?, what).await
        }
        Command::Audit { what } => {
            users::audit(open_store(&cfg).await.context("opening the store")?, what).await
        }
        Command::Bench {
            what:
                BenchCommand::Registry {
                    residents,
                    seed,
                    iterations,
                },
        } => {
            let bench = wangge_bench::RegistryBenchConfig {
                residents,
                seed,
                storage: cfg,
                iterations,
            };
            wangge_bench::run_registry_bench(&bench, &mut std::io::stdout()).await?;
            Ok(())
        }
        Command::Bench {
            what:
                BenchCommand::Campaign {
                    residents,
                    seed,
                    iterations,
                },
        } => {
            let bench = wangge_bench::CampaignBenchConfig {
                residents,
                seed,
                storage: cfg,
                iterations,
            };
            wangge_bench::run_campaign_bench(&bench, &mut std::io::stdout()).await?;
            Ok(())
        }
        Command::Bench {
            what:
                BenchCommand::Http {
                    residents,
                    seed,
                    connections,
                    seconds,
                    only,
                },
        } => {
            if !(seconds > 0.0 && seconds <= 3600.0) {
                bail!("--seconds must be more than 0 and at most 3600");
            }
            let bench = wangge_bench::HttpBenchConfig {
                residents,
                seed,
                storage: cfg,
                connections,
                duration: std::time::Duration::from_secs_f64(seconds),
                only,
            };
            wangge_bench::run_http_bench(&bench, &mut std::io::stdout()).await?;
            Ok(())
        }
    }
}

async fn serve(
    cfg: &StorageConfig,
    listen: &str,
    demo_if_empty: bool,
    channels: &[String],
    photos: AttachmentSettings,
) -> Result<()> {
    let channels = &notify_channels(channels)?;
    let store = open_store(cfg).await.context("opening the store")?;
    if demo_if_empty && store.root_paths().await?.is_empty() {
        eprintln!("The store is empty: building the demo city first.");
        build_demo(
            &store,
            cfg,
            &DemoArgs {
                residents: wangge_demo::DEFAULT_RESIDENTS,
                seed: 1,
            },
        )
        .await?;
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, store = %cfg.describe(), "wangge serving");
    eprintln!("Wangge is running: http://{addr}/  (API: http://{addr}/api/v1/openapi.json)");
    let attachments = Attachments::new(store.clone(), photos.clone())
        .with_context(|| format!("cannot use {} for attachments", photos.dir.display()))?;
    let registry = Registry::new(store.with_notification_channels(channels), Clock::System);
    // Background work (escalation, notification delivery) from the jobs table: several servers
    // on one PostgreSQL share it, each job claimed by one of them at a time.
    let runner = JobRunner::standard(&registry, Now::system(), runner_name());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let jobs = tokio::spawn(runner.run(async move {
        let _ = stopped.await;
    }));
    wangge_web::serve(listener, registry, attachments).await?;
    let _ = stop.send(());
    let _ = jobs.await;
    Ok(())
}

/// `--notify-channels` as channels; in-app is always on.
fn notify_channels(names: &[String]) -> Result<Vec<Channel>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            Channel::parse(n)
                .with_context(|| format!("unknown notification channel {n:?} (known: in_app, log)"))
        })
        .collect()
}

async fn demo(cfg: &StorageConfig, args: &DemoArgs) -> Result<()> {
    if args.residents == 0 || args.residents > 5_000_000 {
        bail!("--residents must be between 1 and 5000000");
    }
    let store = open_store(cfg).await.context("opening the store")?;
    build_demo(&store, cfg, args).await
}

async fn build_demo(
    store: &wangge_store::Store,
    cfg: &StorageConfig,
    args: &DemoArgs,
) -> Result<()> {
    let started = Instant::now();
    let config = wangge_demo::DemoConfig {
        residents: args.residents,
        seed: args.seed,
        today: Clock::System.today(),
    };
    let result = wangge_services::demo::load_demo(store, config, |p| {
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r  grids {}/{}  households {}  residents {}  ({:.0} residents/s)   ",
            p.grids_done,
            p.grids_total,
            p.households,
            p.persons,
            p.persons as f64 / started.elapsed().as_secs_f64().max(0.001)
        );
        let _ = err.flush();
    })
    .await;
    eprintln!();
    match result {
        Ok(p) => {
            eprintln!(
                "Demo city built: {} residents in {} households over {} grids in {:.1} s.",
                p.persons,
                p.households,
                p.grids_total,
                started.elapsed().as_secs_f64()
            );
            let users = wangge_services::demo::create_demo_users(store).await?;
            let mut text = String::from(
                "# Wangge demo accounts (generated; change or disable them for real use)\n",
            );
            for u in &users {
                text.push_str(&format!(
                    "{:<16} {:<20} {:<16} {}\n",
                    u.username,
                    u.role.as_str(),
                    u.area,
                    u.password
                ));
            }
            let path = cfg.data_dir.join("demo-credentials.txt");
            write_private(&path, &text)?;
            eprintln!(
                "\nDemo accounts (also saved to {}):\n{text}",
                path.display()
            );
            Ok(())
        }
        Err(ServiceError::Conflict { message_en, .. }) => bail!("{message_en}"),
        Err(e) => Err(e.into()),
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

async fn import_areas(cfg: &StorageConfig, file: &PathBuf) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open_store(cfg).await.context("opening the store")?;
    match wangge_services::areas_import::import_areas(&store, &Scope::everything(), &text).await {
        Ok(report) => {
            println!("Imported {} areas from {}.", report.created, file.display());
            Ok(())
        }
        Err(ServiceError::Invalid(problems)) => {
            eprintln!("Nothing was imported; {} problem(s) found:", problems.len());
            for p in &problems {
                eprintln!(
                    "  {}: {} / {} [{}]",
                    p.field, p.message_zh, p.message_en, p.code
                );
            }
            bail!("import refused")
        }
        Err(e) => Err(e.into()),
    }
}
