//! The doors of a campaign: listing them (by id for the API, by building and floor for the
//! doors-left list), recording an outcome with its registry write-back in one transaction,
//! reopening, reassigning and scheduling slots in bulk.

use time::{Date, OffsetDateTime};
use wangge_domain::campaign::Slot;
use wangge_domain::{
    AreaPath, CampaignError, CampaignState, ContactMode, ItemOutcome, ItemStatus, Scope,
};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::within;
use crate::tags::{NewTagAssignment, end_tag_assignment_in, insert_tag_assignment};
use crate::visits::{VisitRow, insert_visit};
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct CampaignItem {
    pub id: i64,
    pub campaign_id: i64,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    /// The person's name, for person items.
    pub person_name: Option<String>,
    pub dwelling_id: Option<i64>,
    pub building_id: Option<i64>,
    pub building_label: Option<String>,
    pub floor: Option<i64>,
    pub address: String,
    pub area_path: AreaPath,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub mode: ContactMode,
    pub status: ItemStatus,
    pub slot: Option<Slot>,
    /// Form answers, JSON.
    pub answers: Option<String>,
    pub note: Option<String>,
    pub attempts: i64,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub added_after_launch: bool,
}

/// Which doors to list.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub status: Option<ItemStatus>,
    /// Only doors still to be worked (pending, not home, needs follow-up).
    pub open: bool,
    pub assignee_id: Option<i64>,
    pub building_id: Option<i64>,
    pub within: Option<AreaPath>,
    /// Open doors whose slot ended before this day.
    pub overdue_on: Option<Date>,
    /// Doors with an open resident's request.
    pub with_requests: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ItemOrder {
    /// By id, with keyset paging.
    #[default]
    Id,
    /// By area, building, floor and dwelling: the walk through a grid. One page, no cursor.
    Doors,
}

/// One recording at a door.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: i64,
    pub outcome: String,
    pub mode: ContactMode,
    pub answers: Option<String>,
    pub note: Option<String>,
    pub visit_id: Option<i64>,
    pub by_name: String,
    pub at: OffsetDateTime,
}

/// Registry updates recorded with an outcome (record once).
#[derive(Debug, Clone, Default)]
pub struct WriteBack {
    pub add_tags: Vec<NewTagAssignment>,
    /// Tag assignments to end (e.g. home health monitoring that is over).
    pub end_tags: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct RecordOutcome {
    pub outcome: ItemOutcome,
    /// The mode used at the door; the item's own when `None`.
    pub mode: Option<ContactMode>,
    /// Checked form answers as JSON; `None` keeps earlier answers.
    pub answers: Option<String>,
    pub note: Option<String>,
    pub at: OffsetDateTime,
    pub by_id: Option<i64>,
    pub by_name: String,
    /// The visit's purpose (the campaign's name) and notes (a summary of the answers).
    pub visit_purpose: String,
    pub visit_notes: Option<String>,
    pub write_back: WriteBack,
}

/// How many doors a bulk change touched, of how many named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemsChanged {
    pub changed: u64,
}

const COLUMNS: &str = "ci.id, ci.campaign_id, ci.household_id, ci.person_id, p.name, \
     ci.dwelling_id, ci.building_id, b.label, ci.floor, ci.address, ci.area_path, ci.assignee_id, \
     u.display_name, ci.mode, ci.status, ci.slot_starts_on, ci.slot_ends_on, ci.slot_note, \
     ci.answers, ci.note, ci.attempts, ci.last_attempt_at, ci.added_after_launch";

const FROM: &str = "campaign_items ci LEFT JOIN persons p ON p.id = ci.person_id \
     LEFT JOIN places b ON b.id = ci.building_id LEFT JOIN users u ON u.id = ci.assignee_id";

fn item_from_row(r: &dyn DbRow) -> Result<CampaignItem, StoreError> {
    let slot = match (r.opt_date(15)?, r.opt_date(16)?) {
        (Some(s), Some(e)) => Some(decode(Slot::new(s, e, r.opt_text(17)?.as_deref()))?),
        _ => None,
    };
    Ok(CampaignItem {
        id: r.int(0)?,
        campaign_id: r.int(1)?,
        household_id: r.opt_int(2)?,
        person_id: r.opt_int(3)?,
        person_name: r.opt_text(4)?,
        dwelling_id: r.opt_int(5)?,
        building_id: r.opt_int(6)?,
        building_label: r.opt_text(7)?,
        floor: r.opt_int(8)?,
        address: r.text(9)?,
        area_path: decode(AreaPath::parse(&r.text(10)?))?,
        assignee_id: r.opt_int(11)?,
        assignee_name: r.opt_text(12)?,
        mode: decode(ContactMode::parse(&r.text(13)?))?,
        status: decode(ItemStatus::parse(&r.text(14)?))?,
        slot,
        answers: r.opt_text(18)?,
        note: r.opt_text(19)?,
        attempts: r.int(20)?,
        last_attempt_at: r.opt_timestamp(21)?,
        added_after_launch: r.int(22)? != 0,
    })
}

/// Doors a bulk change applies to.
#[derive(Debug, Clone)]
pub enum ItemSelection {
    Ids(Vec<i64>),
    Building(i64),
}

fn selection(sel: &ItemSelection, p: &mut Vec<Value>) -> String {
    match sel {
        ItemSelection::Ids(ids) if ids.is_empty() => "1 = 0".to_owned(),
        ItemSelection::Ids(ids) => {
            p.extend(ids.iter().map(|i| Value::Int(*i)));
            format!("id IN ({})", vec!["?"; ids.len()].join(", "))
        }
        ItemSelection::Building(b) => {
            p.push(Value::Int(*b));
            "building_id = ?".to_owned()
        }
    }
}

impl Store {
    /// One door of a campaign the caller sees, inside their scope.
    pub async fn campaign_item(&self, scope: &Scope, id: i64) -> Result<CampaignItem, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("ci.area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM {FROM} WHERE ci.id = ? AND {inside}"),
                &p,
                item_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Doors of a campaign inside the scope. The campaign itself is checked by the caller.
    pub async fn campaign_items(
        &self,
        scope: &Scope,
        campaign_id: i64,
        filter: &ItemFilter,
        order: ItemOrder,
        page: &PageRequest,
    ) -> Result<Page<CampaignItem>, StoreError> {
        let narrowed = filter.within.as_ref().map(|r| scope.narrow_to(r));
        let mut p = Vec::from(params![campaign_id]);
        let mut conds = vec![
            "ci.campaign_id = ?".to_owned(),
            within("ci.area_path", narrowed.as_ref().unwrap_or(scope), &mut p),
        ];
        if let Some(s) = filter.status {
            conds.push("ci.status = ?".into());
            p.push(s.as_str().into());
        }
        if filter.open || filter.overdue_on.is_some() {
            conds.push("ci.status IN ('pending', 'not_home', 'follow_up')".into());
        }
        if let Some(a) = filter.assignee_id {
            conds.push("ci.assignee_id = ?".into());
            p.push(Value::Int(a));
        }
        if let Some(b) = filter.building_id {
            conds.push("ci.building_id = ?".into());
            p.push(Value::Int(b));
        }
        if let Some(d) = filter.overdue_on {
            conds.push("ci.slot_ends_on < ?".into());
            p.push(d.into());
        }
        if filter.with_requests {
            conds.push(
                "EXISTS (SELECT 1 FROM campaign_requests cr WHERE cr.item_id = ci.id \
                 AND cr.state = 'open')"
                    .into(),
            );
        }
        let order_by = match order {
            ItemOrder::Id => {
                if let Some(c) = &page.after {
                    conds.push("ci.id > ?".into());
                    p.push(Value::Int(c.id));
                }
                "ci.id"
            }
            ItemOrder::Doors => {
                "ci.area_path, b.label IS NULL, LENGTH(b.label), b.label, ci.building_id, \
                 ci.floor, ci.dwelling_id, ci.id"
            }
        };
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE {} ORDER BY {order_by} LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, item_from_row).await?;
        let page = Page::from_rows(rows, page, |i| Cursor {
            path: String::new(),
            id: i.id,
        });
        Ok(match order {
            ItemOrder::Id => page,
            // Ordered by place, an id cursor would skip doors: the doors list is one page.
            ItemOrder::Doors => Page {
                items: page.items,
                next: None,
            },
        })
    }

    /// Every recording at one door, oldest first.
    pub async fn item_attempts(
        &self,
        scope: &Scope,
        item_id: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        let mut p = Vec::from(params![item_id]);
        let inside = within("ci.area_path", scope, &mut p);
        self.db
            .query(
                &format!(
                    "SELECT a.id, a.outcome, a.mode, a.answers, a.note, a.visit_id, a.by_name, a.at \
                     FROM campaign_attempts a JOIN campaign_items ci ON ci.id = a.item_id \
                     WHERE a.item_id = ? AND {inside} ORDER BY a.id"
                ),
                &p,
                |r| {
                    Ok(Attempt {
                        id: r.int(0)?,
                        outcome: r.text(1)?,
                        mode: decode(ContactMode::parse(&r.text(2)?))?,
                        answers: r.opt_text(3)?,
                        note: r.opt_text(4)?,
                        visit_id: r.opt_int(5)?,
                        by_name: r.text(6)?,
                        at: r.timestamp(7)?,
                    })
                },
            )
            .await
    }

    /// The door and its campaign's state, locked for the transaction on PostgreSQL.
    async fn item_for_update(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        item_id: i64,
    ) -> Result<(CampaignItem, CampaignState), StoreError> {
        let mut p = Vec::from(params![item_id]);
        let inside = within("ci.area_path", scope, &mut p);
        let lock = match self.for_update() {
            "" => "",
            _ => " FOR UPDATE OF ci",
        };
        tx.query_opt(
            &format!(
                "SELECT {COLUMNS}, c.state FROM {FROM} JOIN campaigns c ON c.id = ci.campaign_id \
                 WHERE ci.id = ? AND {inside}{lock}"
            ),
            &p,
            |r| {
                Ok((
                    item_from_row(r)?,
                    decode(CampaignState::parse(&r.text(23)?))?,
                ))
            },
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Records what happened at a door, and in the same transaction the visit on the household's
    /// history (unless the door was not found) and the registry updates that came with it.
    /// Returns the door as it is now and the visit, if one was recorded.
    pub async fn record_item_outcome(
        &self,
        scope: &Scope,
        item_id: i64,
        rec: &RecordOutcome,
    ) -> Result<Result<(CampaignItem, Option<i64>), CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (item, state) = self.item_for_update(&mut tx, scope, item_id).await?;
        if let Err(e) = state.may_work() {
            return Ok(Err(e));
        }
        let status = match item.status.record(rec.outcome) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let mode = rec.mode.unwrap_or(item.mode);
        let visit_id = match rec.outcome.visit(mode) {
            Some(outcome) => Some(
                insert_visit(
                    &mut tx,
                    &VisitRow {
                        household_id: item.household_id,
                        person_id: item.person_id,
                        area_path: item.area_path.as_str(),
                        visitor_id: rec.by_id,
                        visitor: &rec.by_name,
                        visited_at: rec.at,
                        outcome,
                        purpose: Some(&rec.visit_purpose),
                        notes: rec.visit_notes.as_deref(),
                        observations: None,
                        campaign_item_id: Some(item.id),
                    },
                )
                .await?,
            ),
            None => None,
        };
        for tag in &rec.write_back.add_tags {
            insert_tag_assignment(&mut tx, scope, tag).await?;
        }
        for assignment in &rec.write_back.end_tags {
            end_tag_assignment_in(&mut tx, scope, *assignment, rec.at.date()).await?;
        }
        tx.execute(
            "INSERT INTO campaign_attempts (item_id, outcome, mode, answers, note, visit_id, by_id, \
             by_name, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &params![
                item.id,
                rec.outcome.as_str(),
                mode.as_str(),
                rec.answers.clone(),
                rec.note.clone(),
                visit_id,
                rec.by_id,
                rec.by_name.as_str(),
                rec.at
            ],
        )
        .await?;
        let answers = rec.answers.clone().or(item.answers);
        tx.execute(
            "UPDATE campaign_items SET status = ?, mode = ?, answers = ?, note = ?, \
             attempts = attempts + 1, last_attempt_at = ?, updated_at = ? WHERE id = ?",
            &params![
                status.as_str(),
                mode.as_str(),
                answers,
                rec.note.clone(),
                rec.at,
                now(),
                item.id
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok((self.campaign_item(scope, item_id).await?, visit_id)))
    }

    /// Reopens a finished door (a wrong tap, a resident who changed their mind); kept as an
    /// attempt so the history shows it.
    pub async fn reopen_item(
        &self,
        scope: &Scope,
        item_id: i64,
        by: (Option<i64>, &str),
    ) -> Result<Result<CampaignItem, CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (item, state) = self.item_for_update(&mut tx, scope, item_id).await?;
        if let Err(e) = state.may_work() {
            return Ok(Err(e));
        }
        let status = match item.status.reopen() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let t = now();
        tx.execute(
            "INSERT INTO campaign_attempts (item_id, outcome, mode, by_id, by_name, at) \
             VALUES (?, 'reopened', ?, ?, ?, ?)",
            &params![item.id, item.mode.as_str(), by.0, by.1, t],
        )
        .await?;
        tx.execute(
            "UPDATE campaign_items SET status = ?, updated_at = ? WHERE id = ?",
            &params![status.as_str(), t, item.id],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(self.campaign_item(scope, item_id).await?))
    }

    /// Gives the selected doors to `assignee_id`; only doors inside both the caller's scope and
    /// the assignee's areas change.
    pub async fn assign_items(
        &self,
        scope: &Scope,
        campaign_id: i64,
        sel: &ItemSelection,
        assignee_id: i64,
    ) -> Result<Result<ItemsChanged, CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let c = self
            .managed_campaign_in(&mut tx, scope, campaign_id)
            .await?;
        if let Err(e) = c.state.may_work() {
            return Ok(Err(e));
        }
        let mut p = Vec::from(params![assignee_id, now(), campaign_id]);
        let which = selection(sel, &mut p);
        let inside = within("area_path", scope, &mut p);
        p.push(Value::Int(assignee_id));
        let changed = tx
            .execute(
                &format!(
                    "UPDATE campaign_items SET assignee_id = ?, updated_at = ? \
                     WHERE campaign_id = ? AND {which} AND {inside} AND EXISTS \
                     (SELECT 1 FROM users au JOIN user_areas ua ON ua.user_id = au.id \
                      JOIN areas a ON a.id = ua.area_id WHERE au.id = ? AND au.disabled_at IS NULL \
                      AND SUBSTR(campaign_items.area_path, 1, LENGTH(a.path)) = a.path)"
                ),
                &p,
            )
            .await?;
        tx.commit().await?;
        Ok(Ok(ItemsChanged { changed }))
    }

    /// Sets (or clears) the schedule slot of the selected doors.
    pub async fn set_item_slots(
        &self,
        scope: &Scope,
        campaign_id: i64,
        sel: &ItemSelection,
        slot: Option<&Slot>,
    ) -> Result<Result<ItemsChanged, CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let c = self
            .managed_campaign_in(&mut tx, scope, campaign_id)
            .await?;
        if let Err(e) = c.state.may_work() {
            return Ok(Err(e));
        }
        let mut p = Vec::from(params![
            slot.map(Slot::starts_on),
            slot.map(Slot::ends_on),
            slot.and_then(Slot::note),
            now(),
            campaign_id
        ]);
        let which = selection(sel, &mut p);
        let inside = within("area_path", scope, &mut p);
        let changed = tx
            .execute(
                &format!(
                    "UPDATE campaign_items SET slot_starts_on = ?, slot_ends_on = ?, slot_note = ?, \
                     updated_at = ? WHERE campaign_id = ? AND {which} AND {inside}"
                ),
                &p,
            )
            .await?;
        tx.commit().await?;
        Ok(Ok(ItemsChanged { changed }))
    }
}

/// One door as the export lists it.
#[derive(Debug, Clone)]
pub struct ExportItem {
    pub item: CampaignItem,
    pub grid_name: String,
    /// The person's phone: masked, or in full when the export was revealed.
    pub phone: Option<String>,
}

impl Store {
    /// Every door of a campaign inside the scope, in walking order, for an export. Phones are
    /// opened only with `reveal` (the caller checks the permission and audits the reason).
    pub async fn campaign_export(
        &self,
        scope: &Scope,
        campaign_id: i64,
        reveal: bool,
    ) -> Result<Vec<ExportItem>, StoreError> {
        let mut p = Vec::from(params![campaign_id]);
        let inside = within("ci.area_path", scope, &mut p);
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT {COLUMNS}, g.name, p.phone_masked, p.phone_cipher FROM {FROM} \
                     LEFT JOIN areas g ON g.path = ci.area_path \
                     WHERE ci.campaign_id = ? AND {inside} ORDER BY ci.area_path, \
                     b.label IS NULL, LENGTH(b.label), b.label, ci.building_id, ci.floor, \
                     ci.dwelling_id, ci.id"
                ),
                &p,
                |r| {
                    Ok((
                        item_from_row(r)?,
                        r.opt_text(23)?.unwrap_or_default(),
                        r.opt_text(24)?,
                        r.opt_blob(25)?,
                    ))
                },
            )
            .await?;
        rows.into_iter()
            .map(|(item, grid_name, masked, sealed)| {
                let phone = match (reveal, sealed) {
                    (true, Some(s)) => Some(self.crypto.open(crate::crypto::Field::Phone, &s)?),
                    _ => masked,
                };
                Ok(ExportItem {
                    item,
                    grid_name,
                    phone,
                })
            })
            .collect()
    }
}
