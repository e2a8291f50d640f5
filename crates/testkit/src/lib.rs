//! Every storage test runs on SQLite and on PostgreSQL. `backends()` gives a fresh, migrated
//! store on each: a temporary directory for SQLite, a throwaway database for PostgreSQL (dropped
//! when the handle is dropped, even after a failed assertion).
//!
//! PostgreSQL comes from `WANGGE_TEST_PG_URL` (default: the local server, trust auth). When it
//! cannot be reached the PostgreSQL half is skipped and says so on stderr, unless
//! `WANGGE_TEST_REQUIRE_PG=1`, which turns that into a failure (CI on the project machine).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use wangge_services::storage::{StorageConfig, open_store};
use wangge_store::Store;

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// A fixed test key: test data is synthetic.
const TEST_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct TestStore {
    pub name: &'static str,
    pub store: Store,
    pub storage: StorageConfig,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase {
        admin_url: String,
        name: String,
        dir: PathBuf,
    },
}

impl Drop for TestStore {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase {
                admin_url,
                name,
                dir,
            } => {
                let _ = std::fs::remove_dir_all(dir);
                let (url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime: a thread of its own can block on the cleanup.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(client) = admin(&url).await {
                                let _ = client
                                    .batch_execute(&format!(
                                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                    ))
                                    .await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

async fn admin(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

pub async fn sqlite() -> TestStore {
    let dir = std::env::temp_dir().join(unique("wangge_test"));
    let storage = StorageConfig {
        data_dir: dir.clone(),
        database_url: None,
        secret_key: Some(TEST_KEY.into()),
    };
    let store = open_store(&storage).await.expect("open SQLite test store");
    TestStore {
        name: "sqlite",
        store,
        storage,
        cleanup: Cleanup::Dir(dir),
    }
}

/// A fresh PostgreSQL database, or `None` (with a notice) when no server is reachable.
pub async fn postgres() -> Option<TestStore> {
    let admin_url = std::env::var("WANGGE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    let client = match admin(&admin_url).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("WANGGE_TEST_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!("PostgreSQL is required (WANGGE_TEST_REQUIRE_PG=1) but unreachable: {e}");
            }
            eprintln!(
                "NOTICE: PostgreSQL unreachable ({e}); the PostgreSQL half of this test was SKIPPED"
            );
            return None;
        }
    };
    let name = unique("wangge_test");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create throwaway test database");
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("WANGGE_TEST_PG_URL must end with /database"),
    };
    let dir = std::env::temp_dir().join(format!("{name}_dir"));
    let storage = StorageConfig {
        data_dir: dir.clone(),
        database_url: Some(url),
        secret_key: Some(TEST_KEY.into()),
    };
    let store = open_store(&storage)
        .await
        .expect("open PostgreSQL test store");
    Some(TestStore {
        name: "postgres",
        store,
        storage,
        cleanup: Cleanup::PgDatabase {
            admin_url,
            name,
            dir,
        },
    })
}

/// A fresh store on each available backend: SQLite, then PostgreSQL.
pub async fn backends() -> Vec<TestStore> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}
