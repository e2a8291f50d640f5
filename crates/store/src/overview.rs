//! Figures and lists for the workplace pages: counts under an area, the buildings of a grid, and
//! the building view (every dwelling with its household size and tags).

use wangge_domain::{AreaPath, Scope};

use crate::db::Value;
use crate::scope_sql::{visible_tags, within};
use crate::{Store, StoreError, params};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaCounts {
    pub households: i64,
    pub persons: i64,
}

#[derive(Debug, Clone)]
pub struct BuildingRow {
    pub id: i64,
    pub label: String,
    pub compound: String,
    pub area_id: i64,
}

/// One dwelling in the building view.
#[derive(Debug, Clone)]
pub struct DwellingCell {
    pub id: i64,
    pub unit: String,
    pub label: String,
    pub floor: Option<i64>,
    pub household_id: Option<i64>,
    pub members: i64,
    /// Tag codes on the household or its current members (visible classes only).
    pub tags: Vec<String>,
}

impl Store {
    /// Work orders inside `root` (as far as the scope reaches) that are open and past their
    /// deadline at `at`: the overdue board's figure.
    pub async fn overdue_orders_count(
        &self,
        scope: &Scope,
        root: &AreaPath,
        at: time::OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut p = Vec::new();
        let inside = within("area_path", &scope.narrow_to(root), &mut p);
        p.push(at.into());
        Ok(self
            .db
            .query_opt(
                &format!(
                    "SELECT COUNT(*) FROM work_orders WHERE {inside} \
                     AND overdue_from IS NOT NULL AND overdue_from < ?"
                ),
                &p,
                |r| r.int(0),
            )
            .await?
            .unwrap_or(0))
    }

    /// Current households and persons inside `root`, as far as the scope reaches.
    pub async fn area_counts(
        &self,
        scope: &Scope,
        root: &AreaPath,
    ) -> Result<AreaCounts, StoreError> {
        let narrowed = scope.narrow_to(root);
        let mut p = Vec::new();
        let inside = within("area_path", &narrowed, &mut p);
        let households = self
            .db
            .query_opt(
                &format!("SELECT COUNT(*) FROM households WHERE ended_on IS NULL AND {inside}"),
                &p,
                |r| r.int(0),
            )
            .await?
            .unwrap_or(0);
        let persons = self
            .db
            .query_opt(
                &format!("SELECT COUNT(*) FROM persons WHERE {inside}"),
                &p,
                |r| r.int(0),
            )
            .await?
            .unwrap_or(0);
        Ok(AreaCounts {
            households,
            persons,
        })
    }

    /// The buildings inside `root`, with their compound's name, in address order.
    pub async fn buildings_in(
        &self,
        scope: &Scope,
        root: &AreaPath,
    ) -> Result<Vec<BuildingRow>, StoreError> {
        let mut p = Vec::new();
        let inside = within("b.area_path", &scope.narrow_to(root), &mut p);
        let sql = format!(
            "SELECT b.id, b.label, c.label, b.area_id FROM places b JOIN places c ON c.id = b.parent_id \
             WHERE b.kind = 'building' AND {inside} ORDER BY c.label, b.id LIMIT 500"
        );
        self.db
            .query(&sql, &p, |r| {
                Ok(BuildingRow {
                    id: r.int(0)?,
                    label: r.text(1)?,
                    compound: r.text(2)?,
                    area_id: r.int(3)?,
                })
            })
            .await
    }

    /// Every dwelling of a building with its current household's size and tags.
    pub async fn building_view(
        &self,
        scope: &Scope,
        building_id: i64,
    ) -> Result<Vec<DwellingCell>, StoreError> {
        let mut p = Vec::from(params![building_id]);
        let inside = within("d.area_path", scope, &mut p);
        let sql = format!(
            "SELECT d.id, u.label, d.label, d.floor, h.id, \
               (SELECT COUNT(*) FROM household_members m WHERE m.household_id = h.id AND m.ended_on IS NULL) \
             FROM places u JOIN places d ON d.parent_id = u.id \
             LEFT JOIN households h ON h.dwelling_id = d.id AND h.ended_on IS NULL \
             WHERE u.parent_id = ? AND u.kind = 'unit' AND {inside} \
             ORDER BY u.label, d.floor, d.label"
        );
        let mut cells = self
            .db
            .query(&sql, &p, |r| {
                Ok(DwellingCell {
                    id: r.int(0)?,
                    unit: r.text(1)?,
                    label: r.text(2)?,
                    floor: r.opt_int(3)?,
                    household_id: r.opt_int(4)?,
                    members: r.int(5)?,
                    tags: Vec::new(),
                })
            })
            .await?;
        let households: Vec<i64> = cells.iter().filter_map(|c| c.household_id).collect();
        if households.is_empty() {
            return Ok(cells);
        }
        let marks = vec!["?"; households.len()].join(", ");
        let ids = || households.iter().map(|h| Value::Int(*h));
        let mut p: Vec<Value> = ids().collect();
        let visible_on_household = visible_tags("t.sensitivity", scope, &mut p);
        p.extend(ids());
        let visible_on_members = visible_tags("t.sensitivity", scope, &mut p);
        let sql = format!(
            "SELECT a.household_id, t.code FROM tag_assignments a JOIN tags t ON t.id = a.tag_id \
               WHERE a.ended_on IS NULL AND a.household_id IN ({marks}) AND {visible_on_household} \
             UNION ALL \
             SELECT m.household_id, t.code FROM household_members m \
               JOIN tag_assignments a ON a.person_id = m.person_id AND a.ended_on IS NULL \
               JOIN tags t ON t.id = a.tag_id \
               WHERE m.ended_on IS NULL AND m.household_id IN ({marks}) AND {visible_on_members}"
        );
        let tags = self
            .db
            .query(&sql, &p, |r| Ok((r.int(0)?, r.text(1)?)))
            .await?;
        for cell in &mut cells {
            if let Some(h) = cell.household_id {
                let mut codes: Vec<String> = tags
                    .iter()
                    .filter(|(id, _)| *id == h)
                    .map(|(_, c)| c.clone())
                    .collect();
                codes.sort();
                codes.dedup();
                cell.tags = codes;
            }
        }
        Ok(cells)
    }

    /// Places whose standard address contains `fragment`, inside the scope (dwellings first).
    pub async fn search_places(
        &self,
        scope: &Scope,
        fragment: &str,
        limit: i64,
    ) -> Result<Vec<crate::places::Place>, StoreError> {
        let escaped = fragment
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut p = Vec::from(params![format!("%{escaped}%")]);
        let inside = within("area_path", scope, &mut p);
        p.push(Value::Int(limit));
        let sql = format!(
            "SELECT {} FROM places WHERE address LIKE ? ESCAPE '\\' AND {inside} \
             ORDER BY CASE kind WHEN 'dwelling' THEN 0 WHEN 'unit' THEN 1 WHEN 'building' THEN 2 ELSE 3 END, id LIMIT ?",
            crate::places::COLUMNS
        );
        self.db.query(&sql, &p, crate::places::place_from_row).await
    }
}
