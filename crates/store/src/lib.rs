//! Storage on SQLite and PostgreSQL: embedded migrations and the scoped data-access layer.
//!
//! Every read and write of registry facts takes the caller's [`Scope`](wangge_domain::Scope) and
//! filters in SQL (see `scope_sql`); an empty scope sees nothing. ID and phone numbers are sealed
//! with [`crypto::FieldCrypto`] before they reach the database.

pub mod crypto;
pub mod db;
pub mod entrustments;
mod error;
pub mod migrate;
mod scope_sql;

pub mod areas;
pub mod assists;
pub mod attachments;
pub mod audit;
pub mod bulk;
pub mod campaigns;
pub mod households;
pub mod identity;
pub mod jobs;
pub mod notifications;
pub mod overview;
pub mod page;
pub mod persons;
pub mod places;
pub mod tags;
pub mod visits;
pub mod work_order_metrics;
pub mod work_orders;

pub use error::StoreError;

use std::sync::Arc;

use time::OffsetDateTime;
use wangge_domain::Channel;

use crate::crypto::FieldCrypto;
use crate::db::Db;

/// The scoped data-access layer over one database.
#[derive(Clone)]
pub struct Store {
    db: Db,
    crypto: FieldCrypto,
    /// The channels events are sent through (in-app unless configured otherwise).
    channels: Arc<[Channel]>,
}

impl Store {
    /// Applies migrations and binds the key: a store whose rows were sealed with another key
    /// refuses to open rather than fail on every read.
    pub async fn open(db: Db, crypto: FieldCrypto) -> Result<Store, StoreError> {
        migrate::migrate(&db).await?;
        let store = Store {
            db,
            crypto,
            channels: Arc::new([Channel::InApp]),
        };
        store.bind_key().await?;
        Ok(store)
    }

    async fn bind_key(&self) -> Result<(), StoreError> {
        let mine = self.crypto.fingerprint();
        let stored = self
            .db
            .query_opt(
                "SELECT value FROM meta WHERE key = 'key_fingerprint'",
                &[],
                |r| r.text(0),
            )
            .await?;
        match stored {
            Some(s) if s == mine => Ok(()),
            Some(s) => Err(StoreError::KeyMismatch(format!(
                "store expects key {s}, the configured key is {mine}"
            ))),
            None => {
                self.db
                    .execute(
                        "INSERT INTO meta (key, value) VALUES ('key_fingerprint', ?)",
                        &params![mine],
                    )
                    .await?;
                Ok(())
            }
        }
    }

    /// The channels events create outbox rows for; in-app is always one of them.
    pub fn with_notification_channels(mut self, channels: &[Channel]) -> Store {
        let mut all = vec![Channel::InApp];
        all.extend(channels.iter().copied().filter(|c| *c != Channel::InApp));
        all.sort_unstable();
        all.dedup();
        self.channels = all.into();
        self
    }

    pub fn notification_channels(&self) -> &[Channel] {
        &self.channels
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn crypto(&self) -> &FieldCrypto {
        &self.crypto
    }

    /// A cheap round trip for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .query("SELECT 1", &[], |r| r.int(0))
            .await
            .map(|_| ())
    }
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
