//! Bulk loading for the demo city and large imports: rows with ids chosen by the caller, written
//! in large transactions (SQLite) or with binary COPY (PostgreSQL). Values are sealed and search
//! keys derived here, exactly as the single-row paths do.

use futures_util::pin_mut;
use time::Date;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use wangge_domain::{
    AreaPath, IdNumber, PersonName, PhoneNumber, PlaceKind, Relation, ResidenceType, Sex,
};

use crate::crypto::Field;
use crate::db::{Backend, Value};
use crate::{Store, StoreError, now};

pub struct BulkPlace {
    pub id: i64,
    pub kind: PlaceKind,
    pub parent_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub label: String,
    pub floor: Option<i64>,
    pub address: String,
}

pub struct BulkHousehold {
    pub id: i64,
    pub dwelling_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub started_on: Date,
}

pub struct BulkPerson {
    pub id: i64,
    pub name: PersonName,
    pub sex: Sex,
    pub birth_date: Option<Date>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<PhoneNumber>,
    pub residence_type: Option<ResidenceType>,
    pub household_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
}

pub struct BulkMember {
    pub household_id: i64,
    pub person_id: i64,
    pub relation: Relation,
    pub residence_type: ResidenceType,
    pub started_on: Date,
    pub area_path: AreaPath,
}

pub struct BulkTagAssignment {
    pub tag_id: i64,
    pub person_id: Option<i64>,
    pub household_id: Option<i64>,
    pub area_path: AreaPath,
    pub started_on: Date,
}

#[derive(Default)]
pub struct BulkBatch {
    pub places: Vec<BulkPlace>,
    pub households: Vec<BulkHousehold>,
    pub persons: Vec<BulkPerson>,
    pub members: Vec<BulkMember>,
    pub tags: Vec<BulkTagAssignment>,
}

/// The largest ids in use, so a bulk load can number its rows after them.
#[derive(Debug, Clone, Copy, Default)]
pub struct MaxIds {
    pub place: i64,
    pub household: i64,
    pub person: i64,
}

/// A batch ready to write: rows per table, sealed and keyed.
pub struct PreparedBatch(Vec<Table>);

struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Type)],
    rows: Vec<Vec<Value>>,
}

const PLACES: &[(&str, Type)] = &[
    ("id", Type::INT8),
    ("kind", Type::TEXT),
    ("parent_id", Type::INT8),
    ("area_id", Type::INT8),
    ("area_path", Type::TEXT),
    ("label", Type::TEXT),
    ("floor", Type::INT8),
    ("address", Type::TEXT),
    ("created_at", Type::TIMESTAMPTZ),
    ("updated_at", Type::TIMESTAMPTZ),
];
const HOUSEHOLDS: &[(&str, Type)] = &[
    ("id", Type::INT8),
    ("dwelling_id", Type::INT8),
    ("area_id", Type::INT8),
    ("area_path", Type::TEXT),
    ("started_on", Type::DATE),
    ("created_at", Type::TIMESTAMPTZ),
    ("updated_at", Type::TIMESTAMPTZ),
];
const PERSONS: &[(&str, Type)] = &[
    ("id", Type::INT8),
    ("name", Type::TEXT),
    ("sex", Type::TEXT),
    ("birth_date", Type::DATE),
    ("id_number_cipher", Type::BYTEA),
    ("id_number_hash", Type::BYTEA),
    ("id_number_masked", Type::TEXT),
    ("phone_cipher", Type::BYTEA),
    ("phone_hash", Type::BYTEA),
    ("phone_masked", Type::TEXT),
    ("phone_tail", Type::TEXT),
    ("residence_type", Type::TEXT),
    ("household_id", Type::INT8),
    ("city_id", Type::INT8),
    ("area_id", Type::INT8),
    ("area_path", Type::TEXT),
    ("created_at", Type::TIMESTAMPTZ),
    ("updated_at", Type::TIMESTAMPTZ),
];
const SEARCH_KEYS: &[(&str, Type)] = &[
    ("key", Type::TEXT),
    ("person_id", Type::INT8),
    ("area_path", Type::TEXT),
];
const MEMBERS: &[(&str, Type)] = &[
    ("household_id", Type::INT8),
    ("person_id", Type::INT8),
    ("relation", Type::TEXT),
    ("residence_type", Type::TEXT),
    ("started_on", Type::DATE),
    ("area_path", Type::TEXT),
    ("created_at", Type::TIMESTAMPTZ),
    ("updated_at", Type::TIMESTAMPTZ),
];
const TAG_ASSIGNMENTS: &[(&str, Type)] = &[
    ("tag_id", Type::INT8),
    ("person_id", Type::INT8),
    ("household_id", Type::INT8),
    ("area_path", Type::TEXT),
    ("started_on", Type::DATE),
    ("created_at", Type::TIMESTAMPTZ),
    ("updated_at", Type::TIMESTAMPTZ),
];

impl Store {
    pub async fn max_ids(&self) -> Result<MaxIds, StoreError> {
        let sql = "SELECT (SELECT MAX(id) FROM places), (SELECT MAX(id) FROM households), \
                   (SELECT MAX(id) FROM persons)";
        let ids = self
            .db
            .query_opt(sql, &[], |r| {
                Ok(MaxIds {
                    place: r.opt_int(0)?.unwrap_or(0),
                    household: r.opt_int(1)?.unwrap_or(0),
                    person: r.opt_int(2)?.unwrap_or(0),
                })
            })
            .await?;
        Ok(ids.unwrap_or_default())
    }

    /// Writes one batch in one transaction. Bad rows fail the whole batch.
    pub async fn bulk_load(&self, batch: BulkBatch) -> Result<(), StoreError> {
        self.load_prepared(self.prepare_bulk(batch)).await
    }

    /// The CPU half of a bulk load (sealing, hashing, search keys), which a caller may run on
    /// another thread while the previous batch is being written.
    pub fn prepare_bulk(&self, batch: BulkBatch) -> PreparedBatch {
        PreparedBatch(self.tables(batch))
    }

    /// The database half of a bulk load.
    pub async fn load_prepared(&self, prepared: PreparedBatch) -> Result<(), StoreError> {
        let tables = prepared.0;
        match self.db.backend() {
            Backend::Sqlite => {
                self.db
                    .with_sqlite_writer(move |conn| {
                        let tx = conn.transaction()?;
                        for t in &tables {
                            let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
                            let marks = vec!["?"; cols.len()].join(", ");
                            let sql = format!(
                                "INSERT INTO {} ({}) VALUES ({marks})",
                                t.name,
                                cols.join(", ")
                            );
                            let mut stmt = tx.prepare_cached(&sql)?;
                            for row in &t.rows {
                                stmt.execute(rusqlite::params_from_iter(row.iter()))?;
                            }
                        }
                        tx.commit()?;
                        Ok(())
                    })
                    .await
            }
            Backend::Postgres => {
                let mut client = self.db.pg_client().await?;
                let tx = client.transaction().await?;
                for t in &tables {
                    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
                    let types: Vec<Type> = t.columns.iter().map(|c| c.1.clone()).collect();
                    let sql = format!("COPY {} ({}) FROM STDIN BINARY", t.name, cols.join(", "));
                    let sink = tx.copy_in(&sql).await?;
                    let writer = BinaryCopyInWriter::new(sink, &types);
                    pin_mut!(writer);
                    for row in &t.rows {
                        let refs: Vec<&(dyn ToSql + Sync)> =
                            row.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                        writer.as_mut().write(&refs).await?;
                    }
                    writer.finish().await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// After bulk loading: identity counters past the loaded ids, fresh planner statistics.
    pub async fn finish_bulk_load(&self) -> Result<(), StoreError> {
        match self.db.backend() {
            Backend::Postgres => {
                let client = self.db.pg_client().await?;
                for table in ["places", "households", "persons"] {
                    client
                        .batch_execute(&format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                             GREATEST((SELECT MAX(id) FROM {table}), 1))"
                        ))
                        .await?;
                }
                // COPY leaves the visibility map empty; without it the planner avoids index-only scans.
                client.batch_execute("VACUUM (ANALYZE)").await?;
            }
            Backend::Sqlite => {
                self.db
                    .with_sqlite_writer(|conn| Ok(conn.execute_batch("ANALYZE")?))
                    .await?;
            }
        }
        Ok(())
    }

    fn tables(&self, b: BulkBatch) -> Vec<Table> {
        let t = Value::Timestamp(now());
        let places = b
            .places
            .into_iter()
            .map(|p| {
                vec![
                    p.id.into(),
                    p.kind.as_str().into(),
                    p.parent_id.into(),
                    p.area_id.into(),
                    p.area_path.as_str().into(),
                    p.label.into(),
                    p.floor.into(),
                    p.address.into(),
                    t.clone(),
                    t.clone(),
                ]
            })
            .collect();
        let households = b
            .households
            .into_iter()
            .map(|h| {
                vec![
                    h.id.into(),
                    h.dwelling_id.into(),
                    h.area_id.into(),
                    h.area_path.as_str().into(),
                    h.started_on.into(),
                    t.clone(),
                    t.clone(),
                ]
            })
            .collect();
        let mut keys = Vec::new();
        let persons = b
            .persons
            .into_iter()
            .map(|p| {
                for key in p.name.search_keys() {
                    keys.push(vec![key.into(), p.id.into(), p.area_path.as_str().into()]);
                }
                let idn = p.id_number.as_ref();
                let phone = p.phone.as_ref();
                vec![
                    p.id.into(),
                    p.name.as_str().into(),
                    p.sex.as_str().into(),
                    p.birth_date.into(),
                    idn.map(|i| self.crypto.seal(Field::IdNumber, i.as_str()))
                        .into(),
                    idn.map(|i| self.crypto.lookup_hash(Field::IdNumber, i.as_str()))
                        .into(),
                    idn.map(IdNumber::masked).into(),
                    phone
                        .map(|x| self.crypto.seal(Field::Phone, x.as_str()))
                        .into(),
                    phone
                        .map(|x| self.crypto.lookup_hash(Field::Phone, x.as_str()))
                        .into(),
                    phone.map(PhoneNumber::masked).into(),
                    phone.map(|x| x.tail4().to_owned()).into(),
                    p.residence_type.map(|r| r.as_str()).into(),
                    p.household_id.into(),
                    p.area_path.ids()[0].into(),
                    p.area_id.into(),
                    p.area_path.as_str().into(),
                    t.clone(),
                    t.clone(),
                ]
            })
            .collect();
        let members = b
            .members
            .into_iter()
            .map(|m| {
                vec![
                    m.household_id.into(),
                    m.person_id.into(),
                    m.relation.code_str().into(),
                    m.residence_type.as_str().into(),
                    m.started_on.into(),
                    m.area_path.as_str().into(),
                    t.clone(),
                    t.clone(),
                ]
            })
            .collect();
        let tags = b
            .tags
            .into_iter()
            .map(|a| {
                vec![
                    a.tag_id.into(),
                    a.person_id.into(),
                    a.household_id.into(),
                    a.area_path.as_str().into(),
                    a.started_on.into(),
                    t.clone(),
                    t.clone(),
                ]
            })
            .collect();
        vec![
            Table {
                name: "places",
                columns: PLACES,
                rows: places,
            },
            Table {
                name: "households",
                columns: HOUSEHOLDS,
                rows: households,
            },
            Table {
                name: "persons",
                columns: PERSONS,
                rows: persons,
            },
            Table {
                name: "person_search_keys",
                columns: SEARCH_KEYS,
                rows: keys,
            },
            Table {
                name: "household_members",
                columns: MEMBERS,
                rows: members,
            },
            Table {
                name: "tag_assignments",
                columns: TAG_ASSIGNMENTS,
                rows: tags,
            },
        ]
    }
}
