//! SQLite baseline: a plain rusqlite connection on the store's file, read-only, with the same
//! page-cache size as the store's readers and cached prepared statements.
//!
//! The bundled SQLite is built with STAT4, and after ANALYZE the planner looks bound values up
//! in `sqlite_stat4`; such a statement is then re-prepared on every execution, because every
//! new binding may change its plan. The query-planner stability guarantee (QPSG) turns that
//! off, so the cached statement really stays prepared: the baseline is the engine's floor.

use std::hint::black_box;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Row, params};

use crate::raw::{Cohort, Statements};

type PersonRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    String,
    String,
    String,
);
type HouseholdRow = (
    i64,
    Option<i64>,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
);

fn person(r: &Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

fn household(r: &Row<'_>) -> rusqlite::Result<HouseholdRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

/// A read-only connection set up like the store's readers: the same page cache, QPSG on, a
/// statement cache.
pub(crate) fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

pub(crate) struct RawSqlite {
    conn: Connection,
    sql: Statements,
}

impl RawSqlite {
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = open_reader(path)?;
        let sql = Statements::new().map(|s| s.replace('$', "?"));
        for s in sql.all() {
            conn.prepare_cached(s)?;
        }
        Ok(RawSqlite { conn, sql })
    }

    fn persons(&self, sql: &str, p: impl rusqlite::Params) -> anyhow::Result<usize> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, person)?.collect::<Result<Vec<_>, _>>()?;
        Ok(black_box(rows).len())
    }

    pub(crate) fn cohort(&self, c: &Cohort<'_>) -> anyhow::Result<usize> {
        let (lo, hi) = c.within.range();
        self.persons(
            &self.sql.cohort,
            params![c.tag_id, lo, hi, c.born_by_text, c.limit],
        )
    }

    pub(crate) fn person_by_id(&self, id: i64) -> anyhow::Result<usize> {
        self.persons(&self.sql.person_by_id, params![id])
    }

    pub(crate) fn person_by_hash(&self, city_id: i64, hash: &[u8]) -> anyhow::Result<usize> {
        self.persons(&self.sql.person_by_hash, params![city_id, hash])
    }

    pub(crate) fn worklist(&self, lo: &str, hi: &str) -> anyhow::Result<usize> {
        let mut stmt = self.conn.prepare_cached(&self.sql.grid_households)?;
        let hh = stmt
            .query_map(params![lo, hi], household)?
            .collect::<Result<Vec<_>, _>>()?;
        let persons = self.persons(&self.sql.grid_persons, params![lo, hi])?;
        Ok(black_box(hh).len() + persons)
    }

    pub(crate) fn tag_counts(&self, lo: &str, hi: &str, naive: bool) -> anyhow::Result<usize> {
        let sql = if naive {
            &self.sql.tag_counts_naive
        } else {
            &self.sql.tag_counts
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(params![lo, hi], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(black_box(rows).len())
    }
}
