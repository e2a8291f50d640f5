//! The raw HTTP baselines: a bare axum router (no middleware, no authentication, no scope) in
//! the same process as the product server, whose handlers run the raw SQL of `raw.rs` and
//! answer JSON. On SQLite every tokio worker thread keeps its own read-only rusqlite connection
//! and runs the read in place in the handler (the "axum + one SQLite point read" baseline);
//! writes go through one writer connection (WAL, synchronous=NORMAL, like the store). On
//! PostgreSQL the handlers share a few tokio-postgres connections with prepared statements.
//!
//! Routes: `GET /floor` (a constant small JSON: the bare HTTP floor), `GET /raw/cohort`,
//! `GET|PATCH /raw/persons/{id}`, `GET /raw/grid-households`, `GET /raw/grid-persons`,
//! `POST /raw/visits`, `POST /raw/work-orders/{id}/step`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OpenFlags, params};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use tokio_postgres::{Client, NoTls, Statement};

use crate::raw::Statements;
use crate::raw_sqlite::open_reader;

/// The one-row write of the raw write endpoint: the masked phone number of one person.
const WRITE_SQL: &str = "UPDATE persons SET phone_masked = $1 WHERE id = $2";
/// A phone visit: one row, its area copied from the person.
const VISIT_SQL: &str = "INSERT INTO visits (person_id, visitor, visited_at, outcome, purpose, \
     area_path, created_at) SELECT id, 'raw', $2, 'phone', 'raw', area_path, $2 FROM persons \
     WHERE id = $1";
/// A work-order step on SQLite: the order row, then its timeline row, in one transaction.
const STEP_UPDATE_SQL: &str =
    "UPDATE work_orders SET unit = $1, last_at = $2, updated_at = $2 WHERE id = $3";
const STEP_EVENT_SQL: &str = "INSERT INTO work_order_events (work_order_id, at, actor, action, \
     from_state, to_state, unit, area_path) SELECT id, $2, 'raw', 'reassign', state, state, $1, \
     area_path FROM work_orders WHERE id = $3";
/// The same step on PostgreSQL as one statement (atomic without a transaction round trip).
const STEP_PG_SQL: &str = "WITH o AS (UPDATE work_orders SET unit = $1, last_at = $2, \
     updated_at = $2 WHERE id = $3 RETURNING id, state, area_path) INSERT INTO work_order_events \
     (work_order_id, at, actor, action, from_state, to_state, unit, area_path) SELECT id, $2, \
     'raw', 'reassign', state, state, $1, area_path FROM o";

/// PostgreSQL connections the raw handlers share (the product's pool holds 16).
const PG_CONNECTIONS: usize = 16;

/// A person as the raw endpoints answer: the columns as stored, no decoding into records.
#[derive(Debug, Serialize)]
struct RawPerson {
    id: i64,
    name: String,
    sex: String,
    birth_date: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    residence_type: Option<String>,
    household_id: Option<i64>,
    area_id: i64,
    area_path: String,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize)]
struct RawHousehold {
    id: i64,
    dwelling_id: Option<i64>,
    area_id: i64,
    area_path: String,
    started_on: String,
    ended_on: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize)]
struct Items<T> {
    items: Vec<T>,
}

fn sqlite_person(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawPerson> {
    Ok(RawPerson {
        id: r.get(0)?,
        name: r.get(1)?,
        sex: r.get(2)?,
        birth_date: r.get(3)?,
        id_number: r.get(4)?,
        phone: r.get(5)?,
        residence_type: r.get(6)?,
        household_id: r.get(7)?,
        area_id: r.get(8)?,
        area_path: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

fn sqlite_household(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawHousehold> {
    Ok(RawHousehold {
        id: r.get(0)?,
        dwelling_id: r.get(1)?,
        area_id: r.get(2)?,
        area_path: r.get(3)?,
        started_on: r.get(4)?,
        ended_on: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn pg_person(r: &tokio_postgres::Row) -> Result<RawPerson, tokio_postgres::Error> {
    Ok(RawPerson {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        sex: r.try_get(2)?,
        birth_date: r.try_get::<_, Option<Date>>(3)?.map(|d| d.to_string()),
        id_number: r.try_get(4)?,
        phone: r.try_get(5)?,
        residence_type: r.try_get(6)?,
        household_id: r.try_get(7)?,
        area_id: r.try_get(8)?,
        area_path: r.try_get(9)?,
        created_at: ts(r.try_get(10)?),
        updated_at: ts(r.try_get(11)?),
    })
}

fn pg_household(r: &tokio_postgres::Row) -> Result<RawHousehold, tokio_postgres::Error> {
    Ok(RawHousehold {
        id: r.try_get(0)?,
        dwelling_id: r.try_get(1)?,
        area_id: r.try_get(2)?,
        area_path: r.try_get(3)?,
        started_on: r.try_get::<_, Date>(4)?.to_string(),
        ended_on: r.try_get::<_, Option<Date>>(5)?.map(|d| d.to_string()),
        created_at: ts(r.try_get(6)?),
        updated_at: ts(r.try_get(7)?),
    })
}

/// Any failure is a 500 with its message, which fails the load run that sees it.
struct RawError(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for RawError {
    fn from(e: E) -> Self {
        RawError(e.into())
    }
}

impl IntoResponse for RawError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("{:#}", self.0)).into_response()
    }
}

type RawResult<T> = Result<T, RawError>;

thread_local! {
    /// This worker thread's read connection, and the file it is on.
    static READER: RefCell<Option<(PathBuf, Connection)>> = const { RefCell::new(None) };
}

struct SqliteSide {
    path: PathBuf,
    sql: Statements,
    write_sql: String,
    writer: std::sync::Mutex<Connection>,
}

impl SqliteSide {
    fn open(path: &Path) -> anyhow::Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let writer = Connection::open_with_flags(path, flags)?;
        writer.busy_timeout(std::time::Duration::from_secs(10))?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        let write_sql = WRITE_SQL.replace('$', "?");
        writer.prepare_cached(&write_sql)?;
        Ok(SqliteSide {
            path: path.to_owned(),
            sql: Statements::new().map(|s| s.replace('$', "?")),
            write_sql,
            writer: std::sync::Mutex::new(writer),
        })
    }

    /// Runs `f` on this thread's read connection, opening it on first use.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        READER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|(p, _)| p != &self.path) {
                *slot = Some((self.path.clone(), open_reader(&self.path)?));
            }
            let (_, conn) = slot.as_ref().expect("the reader was just opened");
            f(conn)
        })
    }

    fn persons(&self, sql: &str, p: impl rusqlite::Params) -> anyhow::Result<Vec<RawPerson>> {
        self.read(|c| {
            let mut st = c.prepare_cached(sql)?;
            let rows = st.query_map(p, sqlite_person)?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    fn households(&self, lo: &str, hi: &str) -> anyhow::Result<Vec<RawHousehold>> {
        self.read(|c| {
            let mut st = c.prepare_cached(&self.sql.grid_households)?;
            let rows = st
                .query_map(params![lo, hi], sqlite_household)?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    fn writer(&self) -> anyhow::Result<std::sync::MutexGuard<'_, Connection>> {
        self.writer
            .lock()
            .map_err(|_| anyhow::anyhow!("raw writer poisoned"))
    }

    fn write(&self, id: i64, phone_masked: &str) -> anyhow::Result<usize> {
        let conn = self.writer()?;
        let mut st = conn.prepare_cached(&self.write_sql)?;
        Ok(st.execute(params![phone_masked, id])?)
    }

    fn visit(&self, person_id: i64, at: &str) -> anyhow::Result<usize> {
        let conn = self.writer()?;
        let mut st = conn.prepare_cached(&VISIT_SQL.replace('$', "?"))?;
        Ok(st.execute(params![person_id, at])?)
    }

    fn step(&self, id: i64, unit: &str, at: &str) -> anyhow::Result<usize> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx
            .prepare_cached(&STEP_UPDATE_SQL.replace('$', "?"))?
            .execute(params![unit, at, id])?;
        tx.prepare_cached(&STEP_EVENT_SQL.replace('$', "?"))?
            .execute(params![unit, at, id])?;
        tx.commit()?;
        Ok(n)
    }
}

struct PgConn {
    client: Client,
    cohort: Statement,
    person_by_id: Statement,
    grid_households: Statement,
    grid_persons: Statement,
    write: Statement,
    visit: Statement,
    step: Statement,
}

struct PgSide {
    conns: Vec<PgConn>,
    next: AtomicUsize,
}

impl PgSide {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        let sql = Statements::new();
        let mut conns = Vec::with_capacity(PG_CONNECTIONS);
        for _ in 0..PG_CONNECTIONS {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            // The connection task ends when the client is dropped.
            tokio::spawn(async move {
                let _ = connection.await;
            });
            conns.push(PgConn {
                cohort: client.prepare(&sql.cohort).await?,
                person_by_id: client.prepare(&sql.person_by_id).await?,
                grid_households: client.prepare(&sql.grid_households).await?,
                grid_persons: client.prepare(&sql.grid_persons).await?,
                write: client.prepare(WRITE_SQL).await?,
                visit: client.prepare(VISIT_SQL).await?,
                step: client.prepare(STEP_PG_SQL).await?,
                client,
            });
        }
        Ok(PgSide {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// The next connection, round robin (tokio-postgres pipelines concurrent queries).
    fn conn(&self) -> &PgConn {
        &self.conns[self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len()]
    }

    async fn persons(
        &self,
        st: impl Fn(&PgConn) -> &Statement,
        p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> anyhow::Result<Vec<RawPerson>> {
        let c = self.conn();
        let rows = c.client.query(st(c), p).await?;
        Ok(rows.iter().map(pg_person).collect::<Result<_, _>>()?)
    }
}

enum Side {
    Sqlite(Box<SqliteSide>),
    Pg(PgSide),
}

#[derive(Clone)]
pub(crate) struct RawServer {
    side: Arc<Side>,
}

impl RawServer {
    pub(crate) fn sqlite(path: &Path) -> anyhow::Result<Self> {
        Ok(RawServer {
            side: Arc::new(Side::Sqlite(Box::new(SqliteSide::open(path)?))),
        })
    }

    pub(crate) async fn postgres(url: &str) -> anyhow::Result<Self> {
        Ok(RawServer {
            side: Arc::new(Side::Pg(PgSide::connect(url).await?)),
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match &*self.side {
            Side::Sqlite(_) => {
                "raw = bare axum router, no middleware or auth; a read-only rusqlite connection \
                 per tokio worker thread, read in place in the handler, cached statements, QPSG; \
                 writes on one WAL/synchronous=NORMAL connection"
            }
            Side::Pg(_) => {
                "raw = bare axum router, no middleware or auth; 16 tokio-postgres connections \
                 used round robin, statements prepared once"
            }
        }
    }

    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route("/floor", get(floor))
            .route("/raw/cohort", get(cohort))
            .route("/raw/persons/{id}", get(person).patch(write))
            .route("/raw/grid-households", get(grid_households))
            .route("/raw/grid-persons", get(grid_persons))
            .route("/raw/visits", post(visit))
            .route("/raw/work-orders/{id}/step", post(step))
            .with_state(self.clone())
    }
}

#[derive(Serialize)]
struct Floor {
    status: &'static str,
}

async fn floor() -> Json<Floor> {
    Json(Floor { status: "ok" })
}

#[derive(Deserialize)]
struct CohortQ {
    tag_id: i64,
    lo: String,
    hi: String,
    /// YYYY-MM-DD.
    born_by: String,
    limit: i64,
}

async fn cohort(
    State(s): State<RawServer>,
    Query(q): Query<CohortQ>,
) -> RawResult<Json<Items<RawPerson>>> {
    let items = match &*s.side {
        Side::Sqlite(db) => db.persons(
            &db.sql.cohort,
            params![q.tag_id, q.lo, q.hi, q.born_by, q.limit],
        )?,
        Side::Pg(db) => {
            let born_by = Date::parse(&q.born_by, format_description!("[year]-[month]-[day]"))?;
            db.persons(
                |c| &c.cohort,
                &[&q.tag_id, &q.lo, &q.hi, &born_by, &q.limit],
            )
            .await?
        }
    };
    Ok(Json(Items { items }))
}

async fn person(State(s): State<RawServer>, UrlPath(id): UrlPath<i64>) -> RawResult<Response> {
    let found = match &*s.side {
        Side::Sqlite(db) => db.persons(&db.sql.person_by_id, params![id])?,
        Side::Pg(db) => db.persons(|c| &c.person_by_id, &[&id]).await?,
    };
    Ok(match found.into_iter().next() {
        Some(p) => Json(p).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    })
}

#[derive(Deserialize)]
struct RangeQ {
    lo: String,
    hi: String,
}

async fn grid_households(
    State(s): State<RawServer>,
    Query(q): Query<RangeQ>,
) -> RawResult<Json<Items<RawHousehold>>> {
    let items = match &*s.side {
        Side::Sqlite(db) => db.households(&q.lo, &q.hi)?,
        Side::Pg(db) => {
            let c = db.conn();
            let rows = c.client.query(&c.grid_households, &[&q.lo, &q.hi]).await?;
            rows.iter().map(pg_household).collect::<Result<_, _>>()?
        }
    };
    Ok(Json(Items { items }))
}

async fn grid_persons(
    State(s): State<RawServer>,
    Query(q): Query<RangeQ>,
) -> RawResult<Json<Items<RawPerson>>> {
    let items = match &*s.side {
        Side::Sqlite(db) => db.persons(&db.sql.grid_persons, params![q.lo, q.hi])?,
        Side::Pg(db) => db.persons(|c| &c.grid_persons, &[&q.lo, &q.hi]).await?,
    };
    Ok(Json(Items { items }))
}

#[derive(Deserialize)]
struct WriteIn {
    phone_masked: String,
}

#[derive(Serialize)]
struct WriteOut {
    updated: u64,
}

async fn write(
    State(s): State<RawServer>,
    UrlPath(id): UrlPath<i64>,
    Json(body): Json<WriteIn>,
) -> RawResult<Response> {
    let n = match &*s.side {
        Side::Sqlite(db) => db.write(id, &body.phone_masked)? as u64,
        Side::Pg(db) => {
            let c = db.conn();
            c.client
                .execute(&c.write, &[&body.phone_masked, &id])
                .await?
        }
    };
    Ok(written(n))
}

fn written(n: u64) -> Response {
    match n {
        0 => StatusCode::NOT_FOUND.into_response(),
        updated => Json(WriteOut { updated }).into_response(),
    }
}

#[derive(Deserialize)]
struct VisitIn {
    person_id: i64,
}

async fn visit(State(s): State<RawServer>, Json(body): Json<VisitIn>) -> RawResult<Response> {
    let at = OffsetDateTime::now_utc();
    let n = match &*s.side {
        Side::Sqlite(db) => db.visit(body.person_id, &ts(at))? as u64,
        Side::Pg(db) => {
            let c = db.conn();
            c.client.execute(&c.visit, &[&body.person_id, &at]).await?
        }
    };
    Ok(written(n))
}

#[derive(Deserialize)]
struct StepIn {
    unit: String,
}

async fn step(
    State(s): State<RawServer>,
    UrlPath(id): UrlPath<i64>,
    Json(body): Json<StepIn>,
) -> RawResult<Response> {
    let at = OffsetDateTime::now_utc();
    let n = match &*s.side {
        Side::Sqlite(db) => db.step(id, &body.unit, &ts(at))? as u64,
        Side::Pg(db) => {
            let c = db.conn();
            c.client.execute(&c.step, &[&body.unit, &at, &id]).await?
        }
    };
    Ok(written(n))
}
