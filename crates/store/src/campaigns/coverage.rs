//! Coverage and progress against the frozen denominator: every door counts, including those
//! nobody found. Counted per grid in SQL, added up per area here.

use time::Date;
use wangge_domain::campaign::Slot;
use wangge_domain::{AreaPath, ItemStatus, Scope};

use crate::db::Value;
use crate::error::decode;
use crate::scope_sql::within;
use crate::{Store, StoreError, params};

/// Doors by status, with the contactless ones and the open doors past their slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatusCounts {
    pub total: i64,
    pub pending: i64,
    pub done: i64,
    pub not_home: i64,
    pub refused: i64,
    pub not_found: i64,
    pub follow_up: i64,
    pub contactless: i64,
    pub overdue_slots: i64,
}

impl StatusCounts {
    fn add_status(&mut self, status: ItemStatus, n: i64) {
        self.total += n;
        *match status {
            ItemStatus::Pending => &mut self.pending,
            ItemStatus::Done => &mut self.done,
            ItemStatus::NotHome => &mut self.not_home,
            ItemStatus::Refused => &mut self.refused,
            ItemStatus::NotFound => &mut self.not_found,
            ItemStatus::FollowUp => &mut self.follow_up,
        } += n;
    }

    fn add(&mut self, o: &StatusCounts) {
        self.total += o.total;
        self.pending += o.pending;
        self.done += o.done;
        self.not_home += o.not_home;
        self.refused += o.refused;
        self.not_found += o.not_found;
        self.follow_up += o.follow_up;
        self.contactless += o.contactless;
        self.overdue_slots += o.overdue_slots;
    }

    /// Doors where someone was reached (done or needing follow-up), in per mille of all doors.
    pub fn reached_permille(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            (self.done + self.follow_up) * 1000 / self.total
        }
    }

    /// Doors with a recorded result (anything but pending), in per mille.
    pub fn worked_permille(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            (self.total - self.pending) * 1000 / self.total
        }
    }
}

/// An area coverage is broken down by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageArea {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub path: AreaPath,
}

/// One area's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    pub area_id: i64,
    pub area_code: String,
    pub area_name: String,
    pub area_path: AreaPath,
    pub counts: StatusCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coverage {
    /// Every door the caller sees.
    pub total: StatusCounts,
    /// Per area asked for (child areas, usually), in the order given.
    pub by_area: Vec<CoverageRow>,
}

impl Coverage {
    /// Adds up per-grid counts into the given areas (each a subtree).
    pub fn from_grids(grids: &[(AreaPath, StatusCounts)], areas: &[CoverageArea]) -> Self {
        let mut total = StatusCounts::default();
        for (_, c) in grids {
            total.add(c);
        }
        let by_area = areas
            .iter()
            .map(|a| {
                let mut counts = StatusCounts::default();
                for (_, c) in grids.iter().filter(|(g, _)| g.is_within(&a.path)) {
                    counts.add(c);
                }
                CoverageRow {
                    area_id: a.id,
                    area_code: a.code.clone(),
                    area_name: a.name.clone(),
                    area_path: a.path.clone(),
                    counts,
                }
            })
            .collect();
        Coverage { total, by_area }
    }
}

impl Store {
    /// A campaign's doors inside the scope, counted per grid and status as of `today`.
    pub async fn campaign_counts(
        &self,
        scope: &Scope,
        campaign_id: i64,
        today: Date,
    ) -> Result<Vec<(AreaPath, StatusCounts)>, StoreError> {
        let mut p: Vec<Value> = Vec::from(params![today, campaign_id]);
        let inside = within("ci.area_path", scope, &mut p);
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT ci.area_path, ci.status, COUNT(*), \
                     SUM(CASE WHEN ci.mode = 'contactless' THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN ci.slot_ends_on < ? AND ci.status IN \
                     ('pending', 'not_home', 'follow_up') THEN 1 ELSE 0 END) \
                     FROM campaign_items ci WHERE ci.campaign_id = ? AND {inside} \
                     GROUP BY ci.area_path, ci.status ORDER BY ci.area_path"
                ),
                &p,
                |r| {
                    Ok((
                        decode(AreaPath::parse(&r.text(0)?))?,
                        decode(ItemStatus::parse(&r.text(1)?))?,
                        r.int(2)?,
                        r.int(3)?,
                        r.int(4)?,
                    ))
                },
            )
            .await?;
        let mut out: Vec<(AreaPath, StatusCounts)> = Vec::new();
        for (path, status, n, contactless, overdue) in rows {
            if out.last().is_none_or(|(p, _)| *p != path) {
                out.push((path, StatusCounts::default()));
            }
            let c = &mut out.last_mut().expect("just pushed").1;
            c.add_status(status, n);
            c.contactless += contactless;
            c.overdue_slots += overdue;
        }
        Ok(out)
    }
}

/// One building's doors as its planner sees them: how many, how many still open, their slots
/// and who has them (several when doors differ), each with its number of doors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildingSummary {
    /// `None` for doors without a building (households not in a dwelling).
    pub building_id: Option<i64>,
    pub address: String,
    pub doors: i64,
    pub open: i64,
    pub slots: Vec<(Slot, i64)>,
    /// Assignee display names (`None`: nobody) and their doors.
    pub assignees: Vec<(Option<String>, i64)>,
}

impl Store {
    /// A campaign's doors inside the scope, per building, in address order.
    pub async fn campaign_building_summary(
        &self,
        scope: &Scope,
        campaign_id: i64,
    ) -> Result<Vec<BuildingSummary>, StoreError> {
        let mut p: Vec<Value> = Vec::from(params![campaign_id]);
        let inside = within("ci.area_path", scope, &mut p);
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT ci.building_id, COALESCE(b.address, ''), ci.slot_starts_on, \
                     ci.slot_ends_on, ci.slot_note, u.display_name, COUNT(*), \
                     SUM(CASE WHEN ci.status IN ('pending', 'not_home', 'follow_up') \
                     THEN 1 ELSE 0 END) \
                     FROM campaign_items ci LEFT JOIN places b ON b.id = ci.building_id \
                     LEFT JOIN users u ON u.id = ci.assignee_id \
                     WHERE ci.campaign_id = ? AND {inside} \
                     GROUP BY ci.building_id, b.address, ci.slot_starts_on, ci.slot_ends_on, \
                     ci.slot_note, u.display_name \
                     ORDER BY ci.building_id IS NULL, LENGTH(COALESCE(b.address, '')), \
                     COALESCE(b.address, ''), ci.building_id"
                ),
                &p,
                |r| {
                    let slot = match (r.opt_date(2)?, r.opt_date(3)?) {
                        (Some(s), Some(e)) => {
                            Some(decode(Slot::new(s, e, r.opt_text(4)?.as_deref()))?)
                        }
                        _ => None,
                    };
                    Ok((
                        r.opt_int(0)?,
                        r.text(1)?,
                        slot,
                        r.opt_text(5)?,
                        r.int(6)?,
                        r.opt_int(7)?.unwrap_or(0),
                    ))
                },
            )
            .await?;
        let mut out: Vec<BuildingSummary> = Vec::new();
        for (building_id, address, slot, assignee, n, open) in rows {
            if out.last().is_none_or(|b| b.building_id != building_id) {
                out.push(BuildingSummary {
                    building_id,
                    address,
                    doors: 0,
                    open: 0,
                    slots: Vec::new(),
                    assignees: Vec::new(),
                });
            }
            let b = out.last_mut().expect("just pushed");
            b.doors += n;
            b.open += open;
            if let Some(slot) = slot {
                match b.slots.iter_mut().find(|(s, _)| *s == slot) {
                    Some(e) => e.1 += n,
                    None => b.slots.push((slot, n)),
                }
            }
            match b.assignees.iter_mut().find(|(a, _)| *a == assignee) {
                Some(e) => e.1 += n,
                None => b.assignees.push((assignee, n)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> AreaPath {
        AreaPath::parse(s).unwrap()
    }

    #[test]
    fn grids_add_up_into_their_areas() {
        let mut a = StatusCounts::default();
        a.add_status(ItemStatus::Done, 3);
        a.add_status(ItemStatus::NotHome, 1);
        let mut b = StatusCounts::default();
        b.add_status(ItemStatus::Pending, 4);
        b.contactless = 1;
        let grids = vec![(path("/1/2/3/"), a), (path("/1/2/4/"), b)];
        let area = |id: i64, name: &str| CoverageArea {
            id,
            code: format!("14010900100100{id}"),
            name: name.into(),
            path: path(&format!("/1/2/{id}/")),
        };
        let c = Coverage::from_grids(&grids, &[area(3, "一网格"), area(4, "二网格")]);
        assert_eq!(c.total.total, 8);
        assert_eq!(c.total.reached_permille(), 375);
        assert_eq!(c.total.worked_permille(), 500);
        assert_eq!(c.by_area[0].counts.done, 3);
        assert_eq!(c.by_area[1].counts.pending, 4);
        assert_eq!(c.by_area[1].counts.contactless, 1);
    }
}
