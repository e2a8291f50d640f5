//! PostgreSQL baseline: one plain tokio-postgres connection with its statements prepared once.

use std::hint::black_box;

use time::{Date, OffsetDateTime};
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::raw::{Cohort, Statements};

type PersonRow = (
    i64,
    String,
    String,
    Option<Date>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    String,
    OffsetDateTime,
    OffsetDateTime,
);
type HouseholdRow = (
    i64,
    Option<i64>,
    i64,
    String,
    Date,
    Option<Date>,
    OffsetDateTime,
    OffsetDateTime,
);

fn person(r: &Row) -> Result<PersonRow, tokio_postgres::Error> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
        r.try_get(6)?,
        r.try_get(7)?,
        r.try_get(8)?,
        r.try_get(9)?,
        r.try_get(10)?,
        r.try_get(11)?,
    ))
}

fn household(r: &Row) -> Result<HouseholdRow, tokio_postgres::Error> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
        r.try_get(6)?,
        r.try_get(7)?,
    ))
}

struct Prepared {
    cohort: Statement,
    person_by_id: Statement,
    person_by_hash: Statement,
    grid_households: Statement,
    grid_persons: Statement,
    tag_counts: Statement,
    tag_counts_naive: Statement,
}

pub(crate) struct RawPg {
    client: Client,
    st: Prepared,
}

impl RawPg {
    pub(crate) async fn connect(url: &str) -> anyhow::Result<Self> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        // The connection task ends when the client is dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let sql = Statements::new();
        let st = Prepared {
            cohort: client.prepare(&sql.cohort).await?,
            person_by_id: client.prepare(&sql.person_by_id).await?,
            person_by_hash: client.prepare(&sql.person_by_hash).await?,
            grid_households: client.prepare(&sql.grid_households).await?,
            grid_persons: client.prepare(&sql.grid_persons).await?,
            tag_counts: client.prepare(&sql.tag_counts).await?,
            tag_counts_naive: client.prepare(&sql.tag_counts_naive).await?,
        };
        Ok(RawPg { client, st })
    }

    async fn persons(
        &self,
        st: &Statement,
        p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> anyhow::Result<usize> {
        let rows = self.client.query(st, p).await?;
        let decoded = rows.iter().map(person).collect::<Result<Vec<_>, _>>()?;
        Ok(black_box(decoded).len())
    }

    pub(crate) async fn cohort(&self, c: &Cohort<'_>) -> anyhow::Result<usize> {
        let (lo, hi) = c.within.range();
        self.persons(
            &self.st.cohort,
            &[&c.tag_id, &lo, &hi, &c.born_by, &c.limit],
        )
        .await
    }

    pub(crate) async fn person_by_id(&self, id: i64) -> anyhow::Result<usize> {
        self.persons(&self.st.person_by_id, &[&id]).await
    }

    pub(crate) async fn person_by_hash(&self, city_id: i64, hash: &[u8]) -> anyhow::Result<usize> {
        self.persons(&self.st.person_by_hash, &[&city_id, &hash])
            .await
    }

    pub(crate) async fn worklist(&self, lo: &str, hi: &str) -> anyhow::Result<usize> {
        let rows = self
            .client
            .query(&self.st.grid_households, &[&lo, &hi])
            .await?;
        let hh = rows.iter().map(household).collect::<Result<Vec<_>, _>>()?;
        let persons = self.persons(&self.st.grid_persons, &[&lo, &hi]).await?;
        Ok(black_box(hh).len() + persons)
    }

    pub(crate) async fn tag_counts(
        &self,
        lo: &str,
        hi: &str,
        naive: bool,
    ) -> anyhow::Result<usize> {
        let st = if naive {
            &self.st.tag_counts_naive
        } else {
            &self.st.tag_counts
        };
        let rows = self.client.query(st, &[&lo, &hi]).await?;
        let counts = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    r.try_get::<_, i64>(1)?,
                    r.try_get::<_, i64>(2)?,
                ))
            })
            .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
        Ok(black_box(counts).len())
    }
}
