//! One database handle over SQLite or PostgreSQL. Queries are written once, with `?`
//! placeholders and portable SQL; the few differences live in the migrations.

mod postgres;
mod sqlite;
mod value;

use std::path::Path;
use std::sync::Arc;

pub use value::{DbRow, Value};

use crate::StoreError;
use postgres::{PgDb, PgTx};
use sqlite::{SqliteDb, SqliteTx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

enum Inner {
    Sqlite(SqliteDb),
    Pg(PgDb),
}

impl Db {
    pub fn open_sqlite(path: &Path) -> Result<Db, StoreError> {
        Ok(Db {
            inner: Arc::new(Inner::Sqlite(SqliteDb::open(path)?)),
        })
    }

    pub fn connect_postgres(url: &str) -> Result<Db, StoreError> {
        Ok(Db {
            inner: Arc::new(Inner::Pg(PgDb::connect(url, 16)?)),
        })
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Pg(_) => Backend::Postgres,
        }
    }

    /// The SQLite file, when that is the backend.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &*self.inner {
            Inner::Sqlite(s) => Some(s.path()),
            Inner::Pg(_) => None,
        }
    }

    pub async fn query<T>(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(&dyn DbRow) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        match &*self.inner {
            Inner::Sqlite(s) => s.query(sql, params, &mut f),
            Inner::Pg(p) => postgres::query(&p.client().await?, sql, params, &mut f).await,
        }
    }

    pub async fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnMut(&dyn DbRow) -> Result<T, StoreError> + Send,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.query(sql, params, f).await?.into_iter().next())
    }

    /// One statement in its own transaction.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Tx {
            inner: match &*self.inner {
                Inner::Sqlite(s) => TxInner::Sqlite(SqliteTx::begin(s.write().await)?),
                Inner::Pg(p) => TxInner::Pg(Box::new(PgTx::begin(p.client().await?).await?)),
            },
        })
    }

    /// Runs `f` on the SQLite writer connection on a blocking thread (bulk loads).
    pub(crate) async fn with_sqlite_writer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || match &*db.inner {
            Inner::Sqlite(s) => f(&mut s.write_blocking()),
            Inner::Pg(_) => Err(StoreError::Backend("not a SQLite store".into())),
        })
        .await
        .map_err(|e| StoreError::Backend(format!("bulk task: {e}")))?
    }

    /// A dedicated PostgreSQL connection (bulk COPY).
    pub(crate) async fn pg_client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        match &*self.inner {
            Inner::Pg(p) => p.client().await,
            Inner::Sqlite(_) => Err(StoreError::Backend("not a PostgreSQL store".into())),
        }
    }

    /// Runs a script of several statements (migrations), in one transaction.
    pub(crate) async fn execute_script(&self, tx: &mut Tx, script: &str) -> Result<(), StoreError> {
        let _ = self;
        match &mut tx.inner {
            TxInner::Sqlite(t) => Ok(t.conn().execute_batch(script)?),
            TxInner::Pg(t) => Ok(t.client().batch_execute(script).await?),
        }
    }
}

pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    Sqlite(SqliteTx),
    Pg(Box<PgTx>),
}

impl Tx {
    pub async fn query<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(&dyn DbRow) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        match &mut self.inner {
            TxInner::Sqlite(t) => sqlite::query(t.conn(), sql, params, &mut f),
            TxInner::Pg(t) => postgres::query(t.client(), sql, params, &mut f).await,
        }
    }

    pub async fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        f: impl FnMut(&dyn DbRow) -> Result<T, StoreError> + Send,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.query(sql, params, f).await?.into_iter().next())
    }

    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match &mut self.inner {
            TxInner::Sqlite(t) => sqlite::execute(t.conn(), sql, params),
            TxInner::Pg(t) => postgres::execute(t.client(), sql, params).await,
        }
    }

    /// `INSERT … RETURNING id` and the new id.
    pub async fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, StoreError> {
        self.query_opt(sql, params, |r| r.int(0))
            .await?
            .ok_or_else(|| StoreError::Backend("INSERT returned no id".into()))
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit(),
            TxInner::Pg(t) => t.commit().await,
        }
    }
}
