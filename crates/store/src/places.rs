//! Places: compound → building → unit → dwelling, each with its standard address. Compounds may
//! sit at any area level and are visible from below (navigation); buildings, units and dwellings
//! belong to a grid.

use time::OffsetDateTime;
use wangge_domain::{AreaPath, PlaceKind, Scope, standard_address};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::{within, within_or_above};
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Place {
    pub id: i64,
    pub kind: PlaceKind,
    pub parent_id: Option<i64>,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub label: String,
    pub floor: Option<i64>,
    pub address: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewPlace {
    pub kind: PlaceKind,
    pub parent_id: Option<i64>,
    /// Required for a compound; for the others it defaults to the parent's area.
    pub area_id: Option<i64>,
    pub label: String,
    pub floor: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct PlacePatch {
    pub label: Option<String>,
    pub floor: Option<Option<i64>>,
}

#[derive(Debug, Clone, Default)]
pub struct PlaceFilter {
    pub parent_id: Option<i64>,
    pub kind: Option<PlaceKind>,
    pub within: Option<AreaPath>,
}

pub(crate) const COLUMNS: &str =
    "id, kind, parent_id, area_id, area_path, label, floor, address, created_at, updated_at";

pub(crate) fn place_from_row(r: &dyn DbRow) -> Result<Place, StoreError> {
    Ok(Place {
        id: r.int(0)?,
        kind: decode(PlaceKind::parse(&r.text(1)?))?,
        parent_id: r.opt_int(2)?,
        area_id: r.int(3)?,
        area_path: decode(AreaPath::parse(&r.text(4)?))?,
        label: r.text(5)?,
        floor: r.opt_int(6)?,
        address: r.text(7)?,
        created_at: r.timestamp(8)?,
        updated_at: r.timestamp(9)?,
    })
}

/// Compounds are seen from below; the rest only inside the scope.
fn visible(scope: &Scope, p: &mut Vec<Value>) -> String {
    let inside = within("area_path", scope, p);
    let above = within_or_above("area_path", scope, p);
    format!("({inside} OR (kind = 'compound' AND {above}))")
}

impl Store {
    pub async fn place(&self, scope: &Scope, id: i64) -> Result<Place, StoreError> {
        let mut p = Vec::from(params![id]);
        let seen = visible(scope, &mut p);
        let sql = format!("SELECT {COLUMNS} FROM places WHERE id = ? AND {seen}");
        self.db
            .query_opt(&sql, &p, place_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn places(
        &self,
        scope: &Scope,
        filter: &PlaceFilter,
        page: &PageRequest,
    ) -> Result<Page<Place>, StoreError> {
        let mut p = Vec::new();
        let mut conds = vec![visible(scope, &mut p)];
        if let Some(parent) = filter.parent_id {
            conds.push("parent_id = ?".into());
            p.push(Value::Int(parent));
        }
        if let Some(kind) = filter.kind {
            conds.push("kind = ?".into());
            p.push(kind.as_str().into());
        }
        if let Some(root) = &filter.within {
            conds.push(within("area_path", &Scope::of([root.clone()]), &mut p));
        }
        conds.push(page.after_sql("area_path", "id", &mut p));
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM places WHERE {} ORDER BY area_path, id LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, place_from_row).await?;
        Ok(Page::from_rows(rows, page, |x| Cursor {
            path: x.area_path.as_str().to_owned(),
            id: x.id,
        }))
    }

    pub async fn create_place(&self, scope: &Scope, new: &NewPlace) -> Result<Place, StoreError> {
        let mut tx = self.db.begin().await?;
        let parent = match new.parent_id {
            Some(id) => Some(place_in_tx(&mut tx, scope, id).await?),
            None => None,
        };
        let area_id = new
            .area_id
            .or(parent.as_ref().map(|p| p.area_id))
            .ok_or(StoreError::NotFound)?;
        let mut p = Vec::from(params![area_id]);
        let inside = within("path", scope, &mut p);
        let area_path = tx
            .query_opt(
                &format!("SELECT path FROM areas WHERE id = ? AND {inside}"),
                &p,
                |r| r.text(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let area_path = decode(AreaPath::parse(&area_path))?;
        if let Some(parent) = &parent
            && !area_path.is_within(&parent.area_path)
        {
            return Err(StoreError::Check("place outside its parent's area".into()));
        }
        let address =
            address_for(&mut tx, &area_path, parent.as_ref(), new.kind, &new.label).await?;
        let t = now();
        let id = tx
            .insert(
                "INSERT INTO places (kind, parent_id, area_id, area_path, label, floor, address, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &params![
                    new.kind.as_str(),
                    new.parent_id,
                    area_id,
                    area_path.as_str(),
                    &new.label,
                    new.floor,
                    address,
                    t,
                    t
                ],
            )
            .await?;
        tx.commit().await?;
        self.place(scope, id).await
    }

    /// Relabelling a place rewrites the standard address of everything below it.
    pub async fn update_place(
        &self,
        scope: &Scope,
        id: i64,
        patch: &PlacePatch,
    ) -> Result<Place, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut p = Vec::from(params![id]);
        let inside = within("area_path", scope, &mut p);
        let place = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM places WHERE id = ? AND {inside}"),
                &p,
                place_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(floor) = patch.floor {
            tx.execute(
                "UPDATE places SET floor = ?, updated_at = ? WHERE id = ?",
                &params![floor, now(), id],
            )
            .await?;
        }
        if let Some(label) = &patch.label {
            tx.execute(
                "UPDATE places SET label = ?, updated_at = ? WHERE id = ?",
                &params![label, now(), id],
            )
            .await?;
            let mut level = vec![place.id];
            while !level.is_empty() {
                let mut next = Vec::new();
                for pid in level {
                    readdress(&mut tx, pid).await?;
                    next.extend(
                        tx.query(
                            "SELECT id FROM places WHERE parent_id = ?",
                            &params![pid],
                            |r| r.int(0),
                        )
                        .await?,
                    );
                }
                level = next;
            }
        }
        tx.commit().await?;
        self.place(scope, id).await
    }
}

async fn place_in_tx(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Place, StoreError> {
    let mut p = Vec::from(params![id]);
    let seen = visible(scope, &mut p);
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM places WHERE id = ? AND {seen}"),
        &p,
        place_from_row,
    )
    .await?
    .ok_or(StoreError::NotFound)
}

/// The names of the areas from the city down to (and including) the community of `path`.
pub(crate) async fn area_names(tx: &mut Tx, path: &AreaPath) -> Result<Vec<String>, StoreError> {
    let ids = path.ids();
    let marks = vec!["?"; ids.len()].join(", ");
    let p: Vec<Value> = ids.iter().map(|i| Value::Int(*i)).collect();
    let sql =
        format!("SELECT name FROM areas WHERE id IN ({marks}) AND level <> 'grid' ORDER BY path");
    tx.query(&sql, &p, |r| r.text(0)).await
}

async fn address_for(
    tx: &mut Tx,
    area_path: &AreaPath,
    parent: Option<&Place>,
    kind: PlaceKind,
    label: &str,
) -> Result<String, StoreError> {
    // Labels from the compound down, ending with this place's own.
    let mut chain: Vec<(PlaceKind, String)> = vec![(kind, label.to_owned())];
    let mut up = parent.map(|p| p.id);
    while let Some(pid) = up {
        let (k, l, next) = tx
            .query_opt(
                "SELECT kind, label, parent_id FROM places WHERE id = ?",
                &params![pid],
                |r| {
                    Ok((
                        decode(PlaceKind::parse(&r.text(0)?))?,
                        r.text(1)?,
                        r.opt_int(2)?,
                    ))
                },
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        chain.push((k, l));
        up = next;
    }
    let names = area_names(tx, area_path).await?;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let find = |k: PlaceKind| {
        chain
            .iter()
            .find(|(ck, _)| *ck == k)
            .map(|(_, l)| l.as_str())
    };
    Ok(standard_address(
        &name_refs,
        find(PlaceKind::Compound).unwrap_or(""),
        find(PlaceKind::Building),
        find(PlaceKind::Unit),
        find(PlaceKind::Dwelling),
    ))
}

async fn readdress(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    let place = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM places WHERE id = ?"),
            &params![id],
            place_from_row,
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let parent = match place.parent_id {
        Some(pid) => {
            tx.query_opt(
                &format!("SELECT {COLUMNS} FROM places WHERE id = ?"),
                &params![pid],
                place_from_row,
            )
            .await?
        }
        None => None,
    };
    let address = address_for(
        tx,
        &place.area_path,
        parent.as_ref(),
        place.kind,
        &place.label,
    )
    .await?;
    tx.execute(
        "UPDATE places SET address = ? WHERE id = ?",
        &params![address, id],
    )
    .await?;
    Ok(())
}
