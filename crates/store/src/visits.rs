//! Home visits. Recording one can update the registry in the same transaction (add or end tags),
//! so nothing seen at the door is typed twice.

use time::OffsetDateTime;
use wangge_domain::{AreaPath, Scope, VisitOutcome};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::households::Household;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::within;
use crate::tags::{NewTagAssignment, end_tag_assignment_in, insert_tag_assignment};
use crate::{Store, StoreError, now, params};

/// Who was visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visited {
    Household(i64),
    Person(i64),
}

#[derive(Debug, Clone)]
pub struct Visit {
    pub id: i64,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub visitor_id: Option<i64>,
    pub visitor: String,
    pub visited_at: OffsetDateTime,
    pub outcome: VisitOutcome,
    pub purpose: Option<String>,
    pub notes: Option<String>,
    /// Structured observations as JSON: `{"health": …, "living": …, "needs": …}`.
    pub observations: Option<String>,
    pub area_path: AreaPath,
    /// The campaign door this visit recorded, when it was one.
    pub campaign_item_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewVisit {
    pub visited: Visited,
    pub visitor_id: Option<i64>,
    pub visitor: String,
    pub visited_at: OffsetDateTime,
    pub outcome: VisitOutcome,
    pub purpose: Option<String>,
    pub notes: Option<String>,
    pub observations: Option<String>,
    /// Tags to add as part of the visit.
    pub add_tags: Vec<NewTagAssignment>,
    /// Tag assignments to end as part of the visit.
    pub end_tags: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct VisitFilter {
    pub visited: Option<Visited>,
    pub within: Option<AreaPath>,
}

const COLUMNS: &str = "v.id, v.household_id, v.person_id, v.visitor_id, v.visitor, v.visited_at, \
     v.outcome, v.purpose, v.notes, v.observations, v.area_path, v.campaign_item_id";

fn visit_from_row(r: &dyn DbRow) -> Result<Visit, StoreError> {
    Ok(Visit {
        id: r.int(0)?,
        household_id: r.opt_int(1)?,
        person_id: r.opt_int(2)?,
        visitor_id: r.opt_int(3)?,
        visitor: r.text(4)?,
        visited_at: r.timestamp(5)?,
        outcome: decode(VisitOutcome::parse(&r.text(6)?))?,
        purpose: r.opt_text(7)?,
        notes: r.opt_text(8)?,
        observations: r.opt_text(9)?,
        area_path: decode(AreaPath::parse(&r.text(10)?))?,
        campaign_item_id: r.opt_int(11)?,
    })
}

/// The visit row of an already scoped subject, and the household's "last reached" mark.
pub(crate) struct VisitRow<'a> {
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub area_path: &'a str,
    pub visitor_id: Option<i64>,
    pub visitor: &'a str,
    pub visited_at: OffsetDateTime,
    pub outcome: VisitOutcome,
    pub purpose: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub observations: Option<&'a str>,
    pub campaign_item_id: Option<i64>,
}

pub(crate) async fn insert_visit(tx: &mut Tx, v: &VisitRow<'_>) -> Result<i64, StoreError> {
    let id = tx
        .insert(
            "INSERT INTO visits (household_id, person_id, visitor_id, visitor, visited_at, outcome, \
             purpose, notes, observations, area_path, campaign_item_id, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &params![
                v.household_id,
                v.person_id,
                v.visitor_id,
                v.visitor,
                v.visited_at,
                v.outcome.as_str(),
                v.purpose,
                v.notes,
                v.observations,
                v.area_path,
                v.campaign_item_id,
                now()
            ],
        )
        .await?;
    if let (Some(h), true) = (v.household_id, v.outcome.reached()) {
        tx.execute(
            "UPDATE households SET last_visited_at = ? WHERE id = ? \
             AND (last_visited_at IS NULL OR last_visited_at < ?)",
            &params![v.visited_at, h, v.visited_at],
        )
        .await?;
    }
    Ok(id)
}

impl Store {
    pub async fn visit(&self, scope: &Scope, id: i64) -> Result<Visit, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("v.area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM visits v WHERE v.id = ? AND {inside}"),
                &p,
                visit_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Visits newest first.
    pub async fn visits(
        &self,
        scope: &Scope,
        filter: &VisitFilter,
        page: &PageRequest,
    ) -> Result<Page<Visit>, StoreError> {
        let narrowed = filter.within.as_ref().map(|root| scope.narrow_to(root));
        let mut p = Vec::new();
        let mut conds = vec![within(
            "v.area_path",
            narrowed.as_ref().unwrap_or(scope),
            &mut p,
        )];
        match filter.visited {
            Some(Visited::Household(h)) => {
                conds.push("v.household_id = ?".into());
                p.push(Value::Int(h));
            }
            Some(Visited::Person(id)) => {
                conds.push("v.person_id = ?".into());
                p.push(Value::Int(id));
            }
            None => {}
        }
        if let Some(c) = &page.after {
            conds.push("v.id < ?".into());
            p.push(Value::Int(c.id));
        }
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM visits v WHERE {} ORDER BY v.id DESC LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, visit_from_row).await?;
        Ok(Page::from_rows(rows, page, |v| Cursor {
            path: String::new(),
            id: v.id,
        }))
    }

    /// Records a visit and its registry updates in one transaction.
    pub async fn record_visit(&self, scope: &Scope, new: &NewVisit) -> Result<Visit, StoreError> {
        let mut tx = self.db.begin().await?;
        let (household_id, person_id, area_path) = match new.visited {
            Visited::Household(h) => {
                let mut p = Vec::from(params![h]);
                let inside = within("area_path", scope, &mut p);
                let path = tx
                    .query_opt(
                        &format!("SELECT area_path FROM households WHERE id = ? AND {inside}"),
                        &p,
                        |r| r.text(0),
                    )
                    .await?
                    .ok_or(StoreError::NotFound)?;
                (Some(h), None, path)
            }
            Visited::Person(id) => {
                let mut p = Vec::from(params![id]);
                let inside = within("area_path", scope, &mut p);
                let (path, household) = tx
                    .query_opt(
                        &format!(
                            "SELECT area_path, household_id FROM persons WHERE id = ? AND {inside}"
                        ),
                        &p,
                        |r| Ok((r.text(0)?, r.opt_int(1)?)),
                    )
                    .await?
                    .ok_or(StoreError::NotFound)?;
                (household, Some(id), path)
            }
        };
        let id = insert_visit(
            &mut tx,
            &VisitRow {
                household_id,
                person_id,
                area_path: &area_path,
                visitor_id: new.visitor_id,
                visitor: &new.visitor,
                visited_at: new.visited_at,
                outcome: new.outcome,
                purpose: new.purpose.as_deref(),
                notes: new.notes.as_deref(),
                observations: new.observations.as_deref(),
                campaign_item_id: None,
            },
        )
        .await?;
        for tag in &new.add_tags {
            insert_tag_assignment(&mut tx, scope, tag).await?;
        }
        for assignment in &new.end_tags {
            end_tag_assignment_in(&mut tx, scope, *assignment, new.visited_at.date()).await?;
        }
        tx.commit().await?;
        self.visit(scope, id).await
    }

    /// Current households not reached by a visit since `since` (or never), oldest first.
    pub async fn households_due(
        &self,
        scope: &Scope,
        root: Option<&AreaPath>,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(Household, Option<OffsetDateTime>)>, StoreError> {
        let narrowed = root.map(|r| scope.narrow_to(r));
        let mut p = Vec::new();
        let inside = within("h.area_path", narrowed.as_ref().unwrap_or(scope), &mut p);
        p.push(since.into());
        p.push(Value::Int(i64::from(
            limit.clamp(1, crate::page::MAX_LIMIT),
        )));
        let sql = format!(
            "SELECT {}, h.last_visited_at FROM households h WHERE h.ended_on IS NULL AND {inside} \
             AND (h.last_visited_at IS NULL OR h.last_visited_at < ?) \
             ORDER BY h.last_visited_at IS NOT NULL, h.last_visited_at, h.id LIMIT ?",
            crate::households::COLUMNS
        );
        self.db
            .query(&sql, &p, |r| {
                Ok((
                    crate::households::household_from_row(r)?,
                    r.opt_timestamp(8)?,
                ))
            })
            .await
    }
}
