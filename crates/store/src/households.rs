//! Households and their members. Membership is dated: a change of relation, residence type or
//! household ends one row and starts another, so the history stays readable.

use time::{Date, OffsetDateTime};
use wangge_domain::{AreaPath, Relation, ResidenceType, Scope};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::persons::move_person;
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Household {
    pub id: i64,
    pub dwelling_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub dwelling_id: Option<i64>,
    /// The grid, when the household has no dwelling on record; else the dwelling's grid.
    pub area_id: Option<i64>,
    pub started_on: Date,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub household_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub relation: Relation,
    pub residence_type: ResidenceType,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub person_id: i64,
    pub relation: Relation,
    pub residence_type: ResidenceType,
    pub started_on: Date,
}

#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub within: Option<AreaPath>,
    pub dwelling_id: Option<i64>,
    /// A household-subject tag currently assigned.
    pub tag_id: Option<i64>,
    pub include_ended: bool,
}

pub(crate) const COLUMNS: &str = "h.id, h.dwelling_id, h.area_id, h.area_path, h.started_on, h.ended_on, h.created_at, h.updated_at";
const MEMBER_COLUMNS: &str = "m.id, m.household_id, m.person_id, p.name, m.relation, \
     m.residence_type, m.started_on, m.ended_on";

pub(crate) fn household_from_row(r: &dyn DbRow) -> Result<Household, StoreError> {
    Ok(Household {
        id: r.int(0)?,
        dwelling_id: r.opt_int(1)?,
        area_id: r.int(2)?,
        area_path: decode(AreaPath::parse(&r.text(3)?))?,
        started_on: r.date(4)?,
        ended_on: r.opt_date(5)?,
        created_at: r.timestamp(6)?,
        updated_at: r.timestamp(7)?,
    })
}

fn member_from_row(r: &dyn DbRow) -> Result<Member, StoreError> {
    Ok(Member {
        id: r.int(0)?,
        household_id: r.int(1)?,
        person_id: r.int(2)?,
        person_name: r.text(3)?,
        relation: decode(Relation::parse(&r.text(4)?))?,
        residence_type: decode(ResidenceType::parse(&r.text(5)?))?,
        started_on: r.date(6)?,
        ended_on: r.opt_date(7)?,
    })
}

async fn household_in_tx(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Household, StoreError> {
    let mut p = Vec::from(params![id]);
    let inside = within("h.area_path", scope, &mut p);
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM households h WHERE h.id = ? AND {inside}"),
        &p,
        household_from_row,
    )
    .await?
    .ok_or(StoreError::NotFound)
}

impl Store {
    pub async fn household(&self, scope: &Scope, id: i64) -> Result<Household, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("h.area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM households h WHERE h.id = ? AND {inside}"),
                &p,
                household_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn households(
        &self,
        scope: &Scope,
        filter: &HouseholdFilter,
        page: &PageRequest,
    ) -> Result<Page<Household>, StoreError> {
        let mut p = Vec::new();
        let (from, path_col, id_col) = match filter.tag_id {
            Some(tag) => {
                p.push(Value::Int(tag));
                (
                    "tag_assignments t JOIN households h ON h.id = t.household_id \
                     WHERE t.tag_id = ? AND t.ended_on IS NULL",
                    "t.area_path",
                    "t.household_id",
                )
            }
            None => ("households h WHERE 1 = 1", "h.area_path", "h.id"),
        };
        // One range: the scope narrowed to the filter's subtree (two ranges on one column
        // leave the planner to bound the index by the wider one).
        let narrowed = filter.within.as_ref().map(|root| scope.narrow_to(root));
        let mut conds = vec![within(path_col, narrowed.as_ref().unwrap_or(scope), &mut p)];
        if let Some(d) = filter.dwelling_id {
            conds.push("h.dwelling_id = ?".into());
            p.push(Value::Int(d));
        }
        if !filter.include_ended {
            conds.push("h.ended_on IS NULL".into());
        }
        conds.push(page.after_sql(path_col, id_col, &mut p));
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM {from} AND {} ORDER BY {path_col}, {id_col} LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, household_from_row).await?;
        Ok(Page::from_rows(rows, page, |x| Cursor {
            path: x.area_path.as_str().to_owned(),
            id: x.id,
        }))
    }

    pub async fn create_household(
        &self,
        scope: &Scope,
        new: &NewHousehold,
    ) -> Result<Household, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = insert_household(&mut tx, scope, new).await?;
        tx.commit().await?;
        self.household(scope, id).await
    }

    /// Ends a household (moved out, dissolved): its current members' rows end the same day.
    pub async fn end_household(
        &self,
        scope: &Scope,
        id: i64,
        ended_on: Date,
    ) -> Result<Household, StoreError> {
        let mut tx = self.db.begin().await?;
        let h = household_in_tx(&mut tx, scope, id).await?;
        if ended_on < h.started_on {
            return Err(StoreError::Check("household ends before it starts".into()));
        }
        let t = now();
        tx.execute(
            "UPDATE households SET ended_on = ?, updated_at = ? WHERE id = ?",
            &params![ended_on, t, id],
        )
        .await?;
        tx.execute(
            "UPDATE household_members SET ended_on = ?, updated_at = ? WHERE household_id = ? AND ended_on IS NULL",
            &params![ended_on, t, id],
        )
        .await?;
        tx.execute(
            "UPDATE persons SET household_id = NULL, residence_type = NULL, updated_at = ? WHERE household_id = ?",
            &params![t, id],
        )
        .await?;
        tx.commit().await?;
        self.household(scope, id).await
    }

    /// Members, current first, then past rows newest first.
    pub async fn members(
        &self,
        scope: &Scope,
        household_id: i64,
        include_ended: bool,
    ) -> Result<Vec<Member>, StoreError> {
        let mut p = Vec::from(params![household_id]);
        let inside = within("m.area_path", scope, &mut p);
        let current = if include_ended {
            ""
        } else {
            "AND m.ended_on IS NULL"
        };
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM household_members m JOIN persons p ON p.id = m.person_id \
             WHERE m.household_id = ? AND {inside} {current} \
             ORDER BY CASE WHEN m.ended_on IS NULL THEN 0 ELSE 1 END, m.relation, m.started_on DESC, m.id"
        );
        self.db.query(&sql, &p, member_from_row).await
    }

    /// A person joins a household: any current membership elsewhere ends the same day, and the
    /// person's rows move to the household's grid.
    pub async fn add_member(
        &self,
        scope: &Scope,
        household_id: i64,
        new: &NewMember,
    ) -> Result<Member, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = insert_member(&mut tx, scope, household_id, new).await?;
        tx.commit().await?;
        self.member(scope, id).await
    }

    /// Ends one membership row.
    pub async fn end_member(
        &self,
        scope: &Scope,
        household_id: i64,
        member_id: i64,
        ended_on: Date,
    ) -> Result<Member, StoreError> {
        let mut tx = self.db.begin().await?;
        let m = member_in_tx(&mut tx, scope, household_id, member_id).await?;
        if m.ended_on.is_some() {
            return Err(StoreError::Conflict("membership already ended".into()));
        }
        if ended_on < m.started_on {
            return Err(StoreError::Check("membership ends before it starts".into()));
        }
        let t = now();
        tx.execute(
            "UPDATE household_members SET ended_on = ?, updated_at = ? WHERE id = ?",
            &params![ended_on, t, member_id],
        )
        .await?;
        tx.execute(
            "UPDATE persons SET household_id = NULL, residence_type = NULL, updated_at = ? WHERE id = ? AND household_id = ?",
            &params![t, m.person_id, household_id],
        )
        .await?;
        tx.commit().await?;
        self.member(scope, member_id).await
    }

    /// Changes a current member's relation or residence type from a date: the old row ends
    /// and a new one starts, so the change is on record.
    pub async fn change_member(
        &self,
        scope: &Scope,
        household_id: i64,
        member_id: i64,
        relation: Option<Relation>,
        residence_type: Option<ResidenceType>,
        on: Date,
    ) -> Result<Member, StoreError> {
        let mut tx = self.db.begin().await?;
        let m = member_in_tx(&mut tx, scope, household_id, member_id).await?;
        if m.ended_on.is_some() {
            return Err(StoreError::Conflict("membership already ended".into()));
        }
        if on < m.started_on {
            return Err(StoreError::Check(
                "change dated before the membership starts".into(),
            ));
        }
        let new = NewMember {
            person_id: m.person_id,
            relation: relation.unwrap_or(m.relation),
            residence_type: residence_type.unwrap_or(m.residence_type),
            started_on: on,
        };
        let id = insert_member(&mut tx, scope, household_id, &new).await?;
        tx.commit().await?;
        self.member(scope, id).await
    }

    async fn member(&self, scope: &Scope, id: i64) -> Result<Member, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("m.area_path", scope, &mut p);
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM household_members m JOIN persons p ON p.id = m.person_id \
             WHERE m.id = ? AND {inside}"
        );
        self.db
            .query_opt(&sql, &p, member_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

async fn member_in_tx(
    tx: &mut Tx,
    scope: &Scope,
    household_id: i64,
    member_id: i64,
) -> Result<Member, StoreError> {
    let mut p = Vec::from(params![member_id, household_id]);
    let inside = within("m.area_path", scope, &mut p);
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM household_members m JOIN persons p ON p.id = m.person_id \
         WHERE m.id = ? AND m.household_id = ? AND {inside}"
    );
    tx.query_opt(&sql, &p, member_from_row)
        .await?
        .ok_or(StoreError::NotFound)
}

pub(crate) async fn insert_household(
    tx: &mut Tx,
    scope: &Scope,
    new: &NewHousehold,
) -> Result<i64, StoreError> {
    let (area_id, area_path) = match new.dwelling_id {
        Some(d) => {
            let mut p = Vec::from(params![d]);
            let inside = within("area_path", scope, &mut p);
            let sql = format!(
                "SELECT area_id, area_path FROM places WHERE id = ? AND kind = 'dwelling' AND {inside}"
            );
            tx.query_opt(&sql, &p, |r| Ok((r.int(0)?, r.text(1)?)))
                .await?
                .ok_or(StoreError::NotFound)?
        }
        None => {
            let area = new.area_id.ok_or(StoreError::NotFound)?;
            let mut p = Vec::from(params![area]);
            let inside = within("path", scope, &mut p);
            let sql =
                format!("SELECT id, path FROM areas WHERE id = ? AND level = 'grid' AND {inside}");
            tx.query_opt(&sql, &p, |r| Ok((r.int(0)?, r.text(1)?)))
                .await?
                .ok_or(StoreError::NotFound)?
        }
    };
    let t = now();
    tx.insert(
        "INSERT INTO households (dwelling_id, area_id, area_path, started_on, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        &params![new.dwelling_id, area_id, area_path, new.started_on, t, t],
    )
    .await
}

pub(crate) async fn insert_member(
    tx: &mut Tx,
    scope: &Scope,
    household_id: i64,
    new: &NewMember,
) -> Result<i64, StoreError> {
    let h = household_in_tx(tx, scope, household_id).await?;
    if h.ended_on.is_some() {
        return Err(StoreError::Conflict("household has ended".into()));
    }
    let mut p = Vec::from(params![new.person_id]);
    let inside = within("area_path", scope, &mut p);
    let person_area = tx
        .query_opt(
            &format!("SELECT area_id FROM persons WHERE id = ? AND {inside}"),
            &p,
            |r| r.int(0),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let t = now();
    tx.execute(
        "UPDATE household_members SET ended_on = ?, updated_at = ? WHERE person_id = ? AND ended_on IS NULL",
        &params![new.started_on, t, new.person_id],
    )
    .await?;
    let id = tx
        .insert(
            "INSERT INTO household_members (household_id, person_id, relation, residence_type, \
             started_on, area_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &params![
                household_id,
                new.person_id,
                new.relation.code_str(),
                new.residence_type.as_str(),
                new.started_on,
                h.area_path.as_str(),
                t,
                t
            ],
        )
        .await?;
    tx.execute(
        "UPDATE persons SET household_id = ?, residence_type = ?, updated_at = ? WHERE id = ?",
        &params![household_id, new.residence_type.as_str(), t, new.person_id],
    )
    .await?;
    if person_area != h.area_id {
        move_person(tx, new.person_id, h.area_id, &h.area_path).await?;
    }
    Ok(id)
}
