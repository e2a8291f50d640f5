//! SQLite through rusqlite: reads run in place on pooled connections (a point read takes
//! microseconds, so handing it to another thread would cost more than the read), writes go
//! through the one writer connection that SQLite allows anyway.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::value::{DbRow, Value, date_to_text, text_to_date, text_to_ts, ts_to_text};
use crate::StoreError;

pub(crate) struct SqliteDb {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Arc<AsyncMutex<Connection>>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

/// How often the checkpoint thread copies the write-ahead log back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Readers kept for reuse; more are opened on demand under load and closed when returned.
const IDLE_READERS: usize = 8;

fn open(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(128);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Every commit makes each reader drop its page cache; readers keep a small one and read
    // clean pages through the memory map instead, so that drop is cheap.
    conn.pragma_update(None, "cache_size", if read_only { -4096 } else { -65536 })?;
    conn.pragma_update(None, "mmap_size", 4i64 << 30)?;
    // Plans must not depend on bound values: with STAT4 they would, and every execution of a
    // cached statement would be re-prepared.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if !read_only {
        // WAL lets readers proceed during writes; NORMAL sync is durable against process
        // crashes and only risks the last commits on power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints (which wait for the disk) run on their own thread, never inside a
        // request's commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    }
    Ok(conn)
}

/// Checkpoints the log now and then on its own connection until `stop` is dropped. PASSIVE
/// never blocks writers or readers; it copies what it can and tries again next time.
fn checkpoint_thread(path: &Path) -> Result<std::sync::mpsc::Sender<()>, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("wangge-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying later");
                }
            }
        })
        .map_err(|e| StoreError::Backend(format!("checkpoint thread: {e}")))?;
    Ok(stop)
}

impl SqliteDb {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = open(path, false)?;
        Ok(SqliteDb {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer: Arc::new(AsyncMutex::new(writer)),
            _checkpoints: checkpoint_thread(path)?,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let pooled = self.readers.lock().expect("reader pool poisoned").pop();
        let conn = match pooled {
            Some(c) => c,
            None => open(&self.path, true)?,
        };
        Ok(Reader {
            db: self,
            conn: Some(conn),
        })
    }

    pub(crate) fn query<T>(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&dyn DbRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let reader = self.reader()?;
        query(reader.conn(), sql, params, f)
    }

    pub(crate) async fn write(&self) -> OwnedMutexGuard<Connection> {
        self.writer.clone().lock_owned().await
    }

    /// Blocking access to the writer for bulk work run off the async threads.
    pub(crate) fn write_blocking(&self) -> OwnedMutexGuard<Connection> {
        self.writer.clone().blocking_lock_owned()
    }
}

struct Reader<'a> {
    db: &'a SqliteDb,
    conn: Option<Connection>,
}

impl Reader<'_> {
    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("reader present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut pool = self.db.readers.lock().expect("reader pool poisoned");
            if pool.len() < IDLE_READERS {
                pool.push(conn);
            }
        }
    }
}

pub(crate) fn query<T>(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    f: &mut dyn FnMut(&dyn DbRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(&SqliteRow(row))?);
    }
    Ok(out)
}

pub(crate) fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
}

/// A write transaction on the writer connection; rolled back unless committed.
pub(crate) struct SqliteTx {
    conn: OwnedMutexGuard<Connection>,
    done: bool,
}

impl SqliteTx {
    pub(crate) fn begin(conn: OwnedMutexGuard<Connection>) -> Result<Self, StoreError> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(SqliteTx { conn, done: false })
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.done && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

struct SqliteRow<'a>(&'a rusqlite::Row<'a>);

impl SqliteRow<'_> {
    fn get(&self, i: usize) -> Result<ValueRef<'_>, StoreError> {
        Ok(self.0.get_ref(i)?)
    }
}

fn mismatch(i: usize, want: &str) -> StoreError {
    StoreError::Decode(format!("column {i}: expected {want}"))
}

impl DbRow for SqliteRow<'_> {
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.get(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            _ => Err(mismatch(i, "integer")),
        }
    }
    fn opt_float(&self, i: usize) -> Result<Option<f64>, StoreError> {
        match self.get(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            _ => Err(mismatch(i, "real")),
        }
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.get(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => Ok(Some(
                std::str::from_utf8(t)
                    .map_err(|_| mismatch(i, "UTF-8 text"))?
                    .to_owned(),
            )),
            _ => Err(mismatch(i, "text")),
        }
    }
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        match self.get(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Ok(Some(b.to_vec())),
            _ => Err(mismatch(i, "blob")),
        }
    }
    fn opt_date(&self, i: usize) -> Result<Option<time::Date>, StoreError> {
        self.opt_text(i)?.map(|s| text_to_date(&s)).transpose()
    }
    fn opt_timestamp(&self, i: usize) -> Result<Option<time::OffsetDateTime>, StoreError> {
        self.opt_text(i)?.map(|s| text_to_ts(&s)).transpose()
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Float(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Date(d) => ToSqlOutput::Owned(rusqlite::types::Value::Text(date_to_text(*d))),
            Value::Timestamp(t) => ToSqlOutput::Owned(rusqlite::types::Value::Text(ts_to_text(*t))),
        })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        if let rusqlite::Error::SqliteFailure(code, msg) = &e {
            let detail = msg.clone().unwrap_or_default();
            match code.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StoreError::Conflict(detail);
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::ForeignKey(detail),
                ffi::SQLITE_CONSTRAINT_CHECK | ffi::SQLITE_CONSTRAINT_NOTNULL => {
                    return StoreError::Check(detail);
                }
                _ => {}
            }
        }
        StoreError::Backend(e.to_string())
    }
}
