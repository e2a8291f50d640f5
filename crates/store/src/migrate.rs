//! Embedded migrations, one folder per backend with the same version numbers. Applied in order,
//! each in its own transaction, recorded in `schema_migrations` with a checksum so that an edited
//! migration is noticed instead of silently skipped.

use crate::db::{Backend, Db};
use crate::{StoreError, params};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:expr, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_registry"),
    migration!(2, "0002_identity"),
    migration!(3, "0003_id_number_lookup"),
    migration!(4, "0004_visits"),
    migration!(5, "0005_work_orders"),
    migration!(6, "0006_assists"),
    migration!(7, "0007_jobs_notifications"),
    migration!(8, "0008_attachments"),
    migration!(9, "0009_campaigns"),
    migration!(10, "0010_entrustments"),
];

fn checksum(sql: &str) -> String {
    blake3::hash(sql.as_bytes()).to_hex()[..16].to_owned()
}

/// Applies pending migrations; returns the versions applied now.
pub async fn migrate(db: &Db) -> Result<Vec<i64>, StoreError> {
    let create = match db.backend() {
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, \
             name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        }
        Backend::Postgres => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
             name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        }
    };
    let mut tx = db.begin().await?;
    db.execute_script(&mut tx, create).await?;
    tx.commit().await?;

    let applied = db
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )
        .await?;
    let mut done = Vec::new();
    for m in MIGRATIONS {
        let sql = match db.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        if let Some((_, sum)) = applied.iter().find(|(v, _)| *v == m.version) {
            if *sum != checksum(sql) {
                return Err(StoreError::Config(format!(
                    "migration {} ({}) was changed after it was applied",
                    m.version, m.name
                )));
            }
            continue;
        }
        let mut tx = db.begin().await?;
        db.execute_script(&mut tx, sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
            &params![m.version, m.name, checksum(sql), time::OffsetDateTime::now_utc()],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "migration applied");
        done.push(m.version);
    }
    if let Some(last) = applied.last()
        && last.0 > MIGRATIONS.last().map_or(0, |m| m.version)
    {
        return Err(StoreError::Config(format!(
            "the store is at migration {} but this binary only knows up to {}; upgrade wangge",
            last.0,
            MIGRATIONS.last().map_or(0, |m| m.version)
        )));
    }
    Ok(done)
}

/// The highest applied version, or 0 for a new store.
pub async fn current_version(db: &Db) -> Result<i64, StoreError> {
    Ok(db
        .query_opt("SELECT MAX(version) FROM schema_migrations", &[], |r| {
            r.opt_int(0)
        })
        .await
        .ok()
        .flatten()
        .flatten()
        .unwrap_or(0))
}
