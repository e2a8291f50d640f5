//! Persons. ID and phone numbers are sealed at rest; rows keep only their masked forms for
//! display, a keyed hash for exact lookup and (for phones) the last four digits, which the masked
//! form shows anyway.

use time::{Date, OffsetDateTime};
use wangge_domain::{AreaPath, IdNumber, PersonName, PhoneNumber, ResidenceType, Scope, Sex};

use crate::crypto::Field;
use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::households::{NewMember, insert_member};
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub sex: Sex,
    pub birth_date: Option<Date>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub residence_type: Option<ResidenceType>,
    pub household_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: PersonName,
    pub id_number: Option<IdNumber>,
    pub phone: Option<PhoneNumber>,
    pub sex: Sex,
    pub birth_date: Option<Date>,
    /// The grid the person lives in; taken from the household when joining one.
    pub area_id: Option<i64>,
    /// A household the person joins in the same transaction.
    pub joining: Option<Joining>,
}

#[derive(Debug, Clone)]
pub struct Joining {
    pub household_id: i64,
    pub relation: wangge_domain::Relation,
    pub residence_type: ResidenceType,
    pub started_on: Date,
}

#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    pub name: Option<PersonName>,
    pub id_number: Option<Option<IdNumber>>,
    pub phone: Option<Option<PhoneNumber>>,
    pub sex: Option<Sex>,
    pub birth_date: Option<Option<Date>>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub within: Option<AreaPath>,
    pub tag_id: Option<i64>,
    /// Age at least N: born on or before this date.
    pub born_on_or_before: Option<Date>,
    /// Age at most N: born after this date.
    pub born_after: Option<Date>,
    pub residence_type: Option<ResidenceType>,
    pub household_id: Option<i64>,
}

/// What a search looks for. Name queries are normalized (see `PersonName::normalize_query`).
#[derive(Debug, Clone)]
pub enum PersonQuery {
    Name(String),
    PhoneTail(String),
    Phone(PhoneNumber),
    IdNumber(IdNumber),
}

/// Unmasked ID and phone numbers, for the few roles and reasons that allow it.
#[derive(Debug, Clone)]
pub struct PersonSecrets {
    pub id_number: Option<IdNumber>,
    pub phone: Option<PhoneNumber>,
}

pub(crate) const COLUMNS: &str = "p.id, p.name, p.sex, p.birth_date, p.id_number_masked, \
     p.phone_masked, p.residence_type, p.household_id, p.area_id, p.area_path, p.created_at, \
     p.updated_at";

pub(crate) fn person_from_row(r: &dyn DbRow) -> Result<Person, StoreError> {
    Ok(Person {
        id: r.int(0)?,
        name: r.text(1)?,
        sex: decode(Sex::parse(&r.text(2)?))?,
        birth_date: r.opt_date(3)?,
        id_number_masked: r.opt_text(4)?,
        phone_masked: r.opt_text(5)?,
        residence_type: r
            .opt_text(6)?
            .map(|s| decode(ResidenceType::parse(&s)))
            .transpose()?,
        household_id: r.opt_int(7)?,
        area_id: r.int(8)?,
        area_path: decode(AreaPath::parse(&r.text(9)?))?,
        created_at: r.timestamp(10)?,
        updated_at: r.timestamp(11)?,
    })
}

impl Store {
    pub async fn person(&self, scope: &Scope, id: i64) -> Result<Person, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("p.area_path", scope, &mut p);
        let sql = format!("SELECT {COLUMNS} FROM persons p WHERE p.id = ? AND {inside}");
        self.db
            .query_opt(&sql, &p, person_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn person_secrets(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<PersonSecrets, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("area_path", scope, &mut p);
        let sql =
            format!("SELECT id_number_cipher, phone_cipher FROM persons WHERE id = ? AND {inside}");
        let (id_c, phone_c) = self
            .db
            .query_opt(&sql, &p, |r| Ok((r.opt_blob(0)?, r.opt_blob(1)?)))
            .await?
            .ok_or(StoreError::NotFound)?;
        let open_id = id_c
            .map(|c| self.crypto.open(Field::IdNumber, &c))
            .transpose()?
            .map(|s| decode(IdNumber::parse(&s)))
            .transpose()?;
        let open_phone = phone_c
            .map(|c| self.crypto.open(Field::Phone, &c))
            .transpose()?
            .map(|s| decode(PhoneNumber::parse(&s)))
            .transpose()?;
        Ok(PersonSecrets {
            id_number: open_id,
            phone: open_phone,
        })
    }

    pub async fn persons(
        &self,
        scope: &Scope,
        filter: &PersonFilter,
        page: &PageRequest,
    ) -> Result<Page<Person>, StoreError> {
        let mut p = Vec::new();
        // With a tag, the walk starts from the tag's covering index, in (area_path, person) order.
        let (from, path_col, id_col) = match filter.tag_id {
            Some(tag) => {
                p.push(Value::Int(tag));
                (
                    "tag_assignments t JOIN persons p ON p.id = t.person_id \
                     WHERE t.tag_id = ? AND t.ended_on IS NULL",
                    "t.area_path",
                    "t.person_id",
                )
            }
            None => ("persons p WHERE 1 = 1", "p.area_path", "p.id"),
        };
        // One range: the scope narrowed to the filter's subtree (two ranges on one column
        // leave the planner to bound the index by the wider one).
        let narrowed = filter.within.as_ref().map(|root| scope.narrow_to(root));
        let mut conds = vec![within(path_col, narrowed.as_ref().unwrap_or(scope), &mut p)];
        if let Some(d) = filter.born_on_or_before {
            conds.push("p.birth_date <= ?".into());
            p.push(d.into());
        }
        if let Some(d) = filter.born_after {
            conds.push("p.birth_date > ?".into());
            p.push(d.into());
        }
        if let Some(rt) = filter.residence_type {
            conds.push("p.residence_type = ?".into());
            p.push(rt.as_str().into());
        }
        if let Some(h) = filter.household_id {
            conds.push("p.household_id = ?".into());
            p.push(Value::Int(h));
        }
        conds.push(page.after_sql(path_col, id_col, &mut p));
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM {from} AND {} ORDER BY {path_col}, {id_col} LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, person_from_row).await?;
        Ok(Page::from_rows(rows, page, |x| Cursor {
            path: x.area_path.as_str().to_owned(),
            id: x.id,
        }))
    }

    pub async fn search_persons(
        &self,
        scope: &Scope,
        query: &PersonQuery,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError> {
        let limit = i64::from(limit.clamp(1, crate::page::MAX_LIMIT));
        let mut p = Vec::new();
        let sql = match query {
            PersonQuery::Name(q) => {
                p.push(Value::Text(q.clone()));
                p.push(Value::Text(format!("{q}\u{10FFFF}")));
                let inside = within("k.area_path", scope, &mut p);
                p.push(Value::Int(limit));
                format!(
                    "SELECT {COLUMNS} FROM persons p WHERE p.id IN (\
                       SELECT DISTINCT k.person_id FROM person_search_keys k \
                       WHERE k.key >= ? AND k.key < ? AND {inside}) \
                     ORDER BY p.area_path, p.id LIMIT ?"
                )
            }
            PersonQuery::PhoneTail(tail) => {
                p.push(Value::Text(tail.clone()));
                let inside = within("p.area_path", scope, &mut p);
                p.push(Value::Int(limit));
                format!(
                    "SELECT {COLUMNS} FROM persons p WHERE p.phone_tail = ? AND {inside} \
                     ORDER BY p.area_path, p.id LIMIT ?"
                )
            }
            PersonQuery::Phone(phone) => {
                p.push(self.crypto.lookup_hash(Field::Phone, phone.as_str()).into());
                let inside = within("p.area_path", scope, &mut p);
                p.push(Value::Int(limit));
                format!(
                    "SELECT {COLUMNS} FROM persons p WHERE p.phone_hash = ? AND {inside} \
                     ORDER BY p.area_path, p.id LIMIT ?"
                )
            }
            PersonQuery::IdNumber(id) => {
                p.push(self.crypto.lookup_hash(Field::IdNumber, id.as_str()).into());
                let inside = within("p.area_path", scope, &mut p);
                p.push(Value::Int(limit));
                format!(
                    "SELECT {COLUMNS} FROM persons p WHERE p.id_number_hash = ? AND {inside} \
                     ORDER BY p.area_path, p.id LIMIT ?"
                )
            }
        };
        self.db.query(&sql, &p, person_from_row).await
    }

    pub async fn create_person(
        &self,
        scope: &Scope,
        new: &NewPerson,
    ) -> Result<Person, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = insert_person(&mut tx, self, scope, new).await?;
        tx.commit().await?;
        self.person(scope, id).await
    }

    pub async fn update_person(
        &self,
        scope: &Scope,
        id: i64,
        patch: &PersonPatch,
    ) -> Result<Person, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut p = Vec::from(params![id]);
        let inside = within("area_path", scope, &mut p);
        let path = tx
            .query_opt(
                &format!("SELECT area_path FROM persons WHERE id = ? AND {inside}"),
                &p,
                |r| r.text(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let t = now();
        if let Some(name) = &patch.name {
            tx.execute(
                "UPDATE persons SET name = ?, updated_at = ? WHERE id = ?",
                &params![name.as_str(), t, id],
            )
            .await?;
            tx.execute(
                "DELETE FROM person_search_keys WHERE person_id = ?",
                &params![id],
            )
            .await?;
            insert_search_keys(&mut tx, id, name, &path).await?;
        }
        if let Some(idn) = &patch.id_number {
            let (cipher, hash, masked) = self.seal_id(idn.as_ref());
            tx.execute(
                "UPDATE persons SET id_number_cipher = ?, id_number_hash = ?, id_number_masked = ?, updated_at = ? WHERE id = ?",
                &params![cipher, hash, masked, t, id],
            )
            .await?;
            if let Some(idn) = idn {
                tx.execute(
                    "UPDATE persons SET sex = ?, birth_date = ? WHERE id = ?",
                    &params![idn.sex().as_str(), idn.birth_date(), id],
                )
                .await?;
            }
        }
        if let Some(phone) = &patch.phone {
            let (cipher, hash, masked, tail) = self.seal_phone(phone.as_ref());
            tx.execute(
                "UPDATE persons SET phone_cipher = ?, phone_hash = ?, phone_masked = ?, phone_tail = ?, updated_at = ? WHERE id = ?",
                &params![cipher, hash, masked, tail, t, id],
            )
            .await?;
        }
        if let Some(sex) = patch.sex {
            tx.execute(
                "UPDATE persons SET sex = ?, updated_at = ? WHERE id = ?",
                &params![sex.as_str(), t, id],
            )
            .await?;
        }
        if let Some(birth) = patch.birth_date {
            tx.execute(
                "UPDATE persons SET birth_date = ?, updated_at = ? WHERE id = ?",
                &params![birth, t, id],
            )
            .await?;
        }
        tx.commit().await?;
        self.person(scope, id).await
    }

    fn seal_id(&self, id: Option<&IdNumber>) -> (Option<Vec<u8>>, Option<Vec<u8>>, Option<String>) {
        match id {
            None => (None, None, None),
            Some(id) => (
                Some(self.crypto.seal(Field::IdNumber, id.as_str())),
                Some(self.crypto.lookup_hash(Field::IdNumber, id.as_str())),
                Some(id.masked()),
            ),
        }
    }

    #[allow(clippy::type_complexity)]
    fn seal_phone(
        &self,
        phone: Option<&PhoneNumber>,
    ) -> (
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<String>,
        Option<String>,
    ) {
        match phone {
            None => (None, None, None, None),
            Some(ph) => (
                Some(self.crypto.seal(Field::Phone, ph.as_str())),
                Some(self.crypto.lookup_hash(Field::Phone, ph.as_str())),
                Some(ph.masked()),
                Some(ph.tail4().to_owned()),
            ),
        }
    }
}

pub(crate) async fn insert_person(
    tx: &mut Tx,
    store: &Store,
    scope: &Scope,
    new: &NewPerson,
) -> Result<i64, StoreError> {
    let area_id = match &new.joining {
        Some(j) => {
            let mut p = Vec::from(params![j.household_id]);
            let inside = within("area_path", scope, &mut p);
            tx.query_opt(
                &format!("SELECT area_id FROM households WHERE id = ? AND {inside}"),
                &p,
                |r| r.int(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?
        }
        None => new.area_id.ok_or(StoreError::NotFound)?,
    };
    let mut p = Vec::from(params![area_id]);
    let inside = within("path", scope, &mut p);
    let path = tx
        .query_opt(
            &format!("SELECT path FROM areas WHERE id = ? AND level = 'grid' AND {inside}"),
            &p,
            |r| r.text(0),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let area_path = decode(AreaPath::parse(&path))?;
    let city_id = area_path.ids()[0];
    let (id_c, id_h, id_m) = store.seal_id(new.id_number.as_ref());
    let (ph_c, ph_h, ph_m, ph_t) = store.seal_phone(new.phone.as_ref());
    let t = now();
    let id = tx
        .insert(
            "INSERT INTO persons (name, sex, birth_date, id_number_cipher, id_number_hash, \
             id_number_masked, phone_cipher, phone_hash, phone_masked, phone_tail, city_id, \
             area_id, area_path, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &params![
                new.name.as_str(),
                new.sex.as_str(),
                new.birth_date,
                id_c,
                id_h,
                id_m,
                ph_c,
                ph_h,
                ph_m,
                ph_t,
                city_id,
                area_id,
                area_path.as_str(),
                t,
                t
            ],
        )
        .await?;
    insert_search_keys(tx, id, &new.name, area_path.as_str()).await?;
    if let Some(j) = &new.joining {
        let member = NewMember {
            person_id: id,
            relation: j.relation,
            residence_type: j.residence_type,
            started_on: j.started_on,
        };
        insert_member(tx, scope, j.household_id, &member).await?;
    }
    Ok(id)
}

async fn insert_search_keys(
    tx: &mut Tx,
    person_id: i64,
    name: &PersonName,
    area_path: &str,
) -> Result<(), StoreError> {
    for key in name.search_keys() {
        tx.execute(
            "INSERT INTO person_search_keys (key, person_id, area_path) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
            &params![key, person_id, area_path],
        )
        .await?;
    }
    Ok(())
}

/// Moves a person's scoped rows to another grid (when they join a household elsewhere).
pub(crate) async fn move_person(
    tx: &mut Tx,
    person_id: i64,
    area_id: i64,
    area_path: &AreaPath,
) -> Result<(), StoreError> {
    let path = area_path.as_str();
    tx.execute(
        "UPDATE persons SET area_id = ?, area_path = ?, updated_at = ? WHERE id = ?",
        &params![area_id, path, now(), person_id],
    )
    .await?;
    tx.execute(
        "UPDATE person_search_keys SET area_path = ? WHERE person_id = ?",
        &params![path, person_id],
    )
    .await?;
    tx.execute(
        "UPDATE tag_assignments SET area_path = ? WHERE person_id = ?",
        &params![path, person_id],
    )
    .await?;
    Ok(())
}
