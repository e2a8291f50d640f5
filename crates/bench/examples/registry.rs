//! `cargo run --release -p wangge-bench --example registry -- --residents N
//! [--data-dir DIR | --database-url URL] [--seed S] [--iterations I]`
//! until `wangge bench registry` exists.

use std::path::PathBuf;

use anyhow::{Context, bail};
use wangge_bench::{RegistryBenchConfig, run_registry_bench};
use wangge_services::storage::StorageConfig;

fn parse() -> anyhow::Result<RegistryBenchConfig> {
    let mut cfg = RegistryBenchConfig {
        residents: 50_000,
        seed: 1,
        storage: StorageConfig {
            data_dir: PathBuf::from("bench-data"),
            database_url: None,
            secret_key: None,
        },
        iterations: RegistryBenchConfig::DEFAULT_ITERATIONS,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--residents" => cfg.residents = value()?.parse()?,
            "--seed" => cfg.seed = value()?.parse()?,
            "--iterations" => cfg.iterations = value()?.parse()?,
            "--data-dir" => cfg.storage.data_dir = PathBuf::from(value()?),
            "--database-url" => cfg.storage.database_url = Some(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(cfg)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cfg = parse()?;
    let mut out = std::io::stdout().lock();
    run_registry_bench(&cfg, &mut out).await?;
    Ok(())
}
