//! Opening the store from the operator's settings: SQLite in a data directory (the embedded
//! default) or PostgreSQL by URL; the field-encryption key from the environment or a key file.

use std::path::PathBuf;

use wangge_store::crypto::{FieldCrypto, load_or_create_key_file, parse_key};
use wangge_store::db::Db;
use wangge_store::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// 32 bytes as hex or base64; when absent, `<data_dir>/secret.key` (created if missing).
    pub secret_key: Option<String>,
}

impl StorageConfig {
    pub fn describe(&self) -> String {
        match &self.database_url {
            Some(url) => format!("PostgreSQL {}", redact_url(url)),
            None => format!("SQLite {}", self.data_dir.join("wangge.db").display()),
        }
    }
}

/// The URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

pub async fn open_store(cfg: &StorageConfig) -> Result<Store, StoreError> {
    std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
        StoreError::Config(format!(
            "cannot create data directory {}: {e}",
            cfg.data_dir.display()
        ))
    })?;
    let key = match &cfg.secret_key {
        Some(k) => parse_key(k)?,
        None => load_or_create_key_file(&cfg.data_dir.join("secret.key"))?,
    };
    let db = match &cfg.database_url {
        Some(url) => Db::connect_postgres(url)?,
        None => Db::open_sqlite(&cfg.data_dir.join("wangge.db"))?,
    };
    let store = Store::open(db, FieldCrypto::new(&key)).await?;
    store.seed_builtin_tags().await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://wangge:s3cret@db.local:5432/city"),
            "postgres://wangge@db.local:5432/city"
        );
        assert_eq!(
            redact_url("postgres://127.0.0.1/test"),
            "postgres://127.0.0.1/test"
        );
    }
}
