//! The raw baselines: hand-written SQL on a plain driver connection with prepared statements,
//! no scope filter, no decoding into records. One SQL text serves both engines: `$n`
//! placeholders here, turned into SQLite's `?n` when the SQLite baseline opens.

use wangge_domain::AreaPath;
use wangge_store::Store;
use wangge_store::db::Backend;

use crate::raw_pg::RawPg;
use crate::raw_sqlite::RawSqlite;

pub(crate) const PERSON_COLUMNS: &str = "p.id, p.name, p.sex, p.birth_date, p.id_number_masked, \
     p.phone_masked, p.residence_type, p.household_id, p.area_id, p.area_path, p.created_at, \
     p.updated_at";
pub(crate) const HOUSEHOLD_COLUMNS: &str = "h.id, h.dwelling_id, h.area_id, h.area_path, h.started_on, h.ended_on, h.created_at, h.updated_at";

/// The statements, by name. Persons' and households' queries select the columns above.
pub(crate) struct Statements {
    /// P2: tag ($1) inside [$2, $3), born on or before $4, first $5 rows in (path, id) order.
    pub cohort: String,
    /// P4: by primary key.
    pub person_by_id: String,
    /// P4: by (city, ID number hash), the unique index.
    pub person_by_hash: String,
    /// P7: current households and persons of a grid, [$1, $2).
    pub grid_households: String,
    pub grid_persons: String,
    /// P3: current tag counts per grid under [$1, $2), covering index.
    pub tag_counts: String,
    /// P3 reference: the same counts (persons' tags) by joining persons.
    pub tag_counts_naive: String,
}

impl Statements {
    pub(crate) fn new() -> Self {
        let p = PERSON_COLUMNS;
        let h = HOUSEHOLD_COLUMNS;
        Statements {
            cohort: format!(
                "SELECT {p} FROM tag_assignments t JOIN persons p ON p.id = t.person_id \
                 WHERE t.tag_id = $1 AND t.ended_on IS NULL AND t.area_path >= $2 AND t.area_path < $3 \
                 AND p.birth_date <= $4 ORDER BY t.area_path, t.person_id LIMIT $5"
            ),
            person_by_id: format!("SELECT {p} FROM persons p WHERE p.id = $1"),
            person_by_hash: format!(
                "SELECT {p} FROM persons p WHERE p.city_id = $1 AND p.id_number_hash = $2"
            ),
            grid_households: format!(
                "SELECT {h} FROM households h WHERE h.area_path >= $1 AND h.area_path < $2 \
                 AND h.ended_on IS NULL ORDER BY h.area_path, h.id"
            ),
            grid_persons: format!(
                "SELECT {p} FROM persons p WHERE p.area_path >= $1 AND p.area_path < $2 \
                 ORDER BY p.area_path, p.id"
            ),
            tag_counts: "SELECT area_path, tag_id, COUNT(*) FROM tag_assignments \
                 WHERE ended_on IS NULL AND area_path >= $1 AND area_path < $2 \
                 GROUP BY area_path, tag_id ORDER BY area_path, tag_id"
                .to_owned(),
            tag_counts_naive: "SELECT p.area_path, t.tag_id, COUNT(*) FROM tag_assignments t \
                 JOIN persons p ON p.id = t.person_id \
                 WHERE t.ended_on IS NULL AND p.area_path >= $1 AND p.area_path < $2 \
                 GROUP BY p.area_path, t.tag_id ORDER BY p.area_path, t.tag_id"
                .to_owned(),
        }
    }

    /// Every statement, for preparing them all up front.
    pub(crate) fn all(&self) -> [&str; 7] {
        [
            &self.cohort,
            &self.person_by_id,
            &self.person_by_hash,
            &self.grid_households,
            &self.grid_persons,
            &self.tag_counts,
            &self.tag_counts_naive,
        ]
    }

    pub(crate) fn map(&self, f: impl Fn(&str) -> String) -> Statements {
        Statements {
            cohort: f(&self.cohort),
            person_by_id: f(&self.person_by_id),
            person_by_hash: f(&self.person_by_hash),
            grid_households: f(&self.grid_households),
            grid_persons: f(&self.grid_persons),
            tag_counts: f(&self.tag_counts),
            tag_counts_naive: f(&self.tag_counts_naive),
        }
    }
}

/// Parameters of the cohort query.
pub(crate) struct Cohort<'a> {
    pub tag_id: i64,
    pub within: &'a AreaPath,
    pub born_by: time::Date,
    /// The same day as SQLite stores dates ('YYYY-MM-DD').
    pub born_by_text: String,
    pub limit: i64,
}

pub(crate) enum Raw {
    Sqlite(RawSqlite),
    Pg(RawPg),
}

impl Raw {
    /// A separate connection to the store's database: the same file, or the same URL.
    pub(crate) async fn open(store: &Store, database_url: Option<&str>) -> anyhow::Result<Raw> {
        match store.db().backend() {
            Backend::Sqlite => {
                let path = store
                    .db()
                    .sqlite_path()
                    .ok_or_else(|| anyhow::anyhow!("SQLite store without a file"))?;
                Ok(Raw::Sqlite(RawSqlite::open(path)?))
            }
            Backend::Postgres => {
                let url = database_url
                    .ok_or_else(|| anyhow::anyhow!("PostgreSQL store without a URL"))?;
                Ok(Raw::Pg(RawPg::connect(url).await?))
            }
        }
    }

    /// What the raw lines were measured with, for the report.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Raw::Sqlite(_) => {
                "raw = a separate rusqlite connection on the same file, cached prepared \
                 statements, QPSG on (no per-execution re-prepare)"
            }
            Raw::Pg(_) => "raw = one tokio-postgres connection, statements prepared once",
        }
    }

    pub(crate) async fn cohort(&self, c: &Cohort<'_>) -> anyhow::Result<usize> {
        match self {
            Raw::Sqlite(s) => s.cohort(c),
            Raw::Pg(p) => p.cohort(c).await,
        }
    }

    pub(crate) async fn person_by_id(&self, id: i64) -> anyhow::Result<usize> {
        match self {
            Raw::Sqlite(s) => s.person_by_id(id),
            Raw::Pg(p) => p.person_by_id(id).await,
        }
    }

    pub(crate) async fn person_by_hash(&self, city_id: i64, hash: &[u8]) -> anyhow::Result<usize> {
        match self {
            Raw::Sqlite(s) => s.person_by_hash(city_id, hash),
            Raw::Pg(p) => p.person_by_hash(city_id, hash).await,
        }
    }

    /// Current households plus persons of one grid.
    pub(crate) async fn worklist(&self, grid: &AreaPath) -> anyhow::Result<usize> {
        let (lo, hi) = grid.range();
        match self {
            Raw::Sqlite(s) => s.worklist(&lo, &hi),
            Raw::Pg(p) => p.worklist(&lo, &hi).await,
        }
    }

    pub(crate) async fn tag_counts(&self, root: &AreaPath, naive: bool) -> anyhow::Result<usize> {
        let (lo, hi) = root.range();
        match self {
            Raw::Sqlite(s) => s.tag_counts(&lo, &hi, naive),
            Raw::Pg(p) => p.tag_counts(&lo, &hi, naive).await,
        }
    }
}
