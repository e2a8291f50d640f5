//! Areas: the administrative tree. A user sees the areas inside their scope and the ancestors
//! above it (for navigation); they change only areas inside it.

use time::OffsetDateTime;
use wangge_domain::{AreaCode, AreaLevel, AreaPath, Scope};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::places::area_names;
use crate::scope_sql::{within, within_or_above};
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Area {
    pub id: i64,
    pub code: AreaCode,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<i64>,
    pub path: AreaPath,
    /// GeoJSON Polygon geometry, WGS-84.
    pub boundary: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewArea {
    pub code: AreaCode,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<i64>,
    pub boundary: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AreaPatch {
    pub name: Option<String>,
    /// `Some(None)` removes the boundary.
    pub boundary: Option<Option<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct AreaFilter {
    pub parent_id: Option<i64>,
    pub level: Option<AreaLevel>,
    pub within: Option<AreaPath>,
}

const COLUMNS: &str = "id, code, name, level, parent_id, path, boundary, created_at, updated_at";

fn area_from_row(r: &dyn DbRow) -> Result<Area, StoreError> {
    Ok(Area {
        id: r.int(0)?,
        code: decode(AreaCode::parse(&r.text(1)?))?,
        name: r.text(2)?,
        level: decode(AreaLevel::parse(&r.text(3)?))?,
        parent_id: r.opt_int(4)?,
        path: decode(AreaPath::parse(&r.text(5)?))?,
        boundary: r.opt_text(6)?,
        created_at: r.timestamp(7)?,
        updated_at: r.timestamp(8)?,
    })
}

impl Store {
    pub async fn area(&self, scope: &Scope, id: i64) -> Result<Area, StoreError> {
        let mut p = Vec::from(params![id]);
        let seen = within_or_above("path", scope, &mut p);
        let sql = format!("SELECT {COLUMNS} FROM areas WHERE id = ? AND {seen}");
        self.db
            .query_opt(&sql, &p, area_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn area_by_code(&self, scope: &Scope, code: &AreaCode) -> Result<Area, StoreError> {
        let mut p = Vec::from(params![code.as_str()]);
        let seen = within_or_above("path", scope, &mut p);
        let sql = format!("SELECT {COLUMNS} FROM areas WHERE code = ? AND {seen}");
        self.db
            .query_opt(&sql, &p, area_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Areas the caller may write under: inside the scope, not merely above it.
    pub async fn area_for_write(&self, scope: &Scope, id: i64) -> Result<Area, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("path", scope, &mut p);
        let sql = format!("SELECT {COLUMNS} FROM areas WHERE id = ? AND {inside}");
        self.db
            .query_opt(&sql, &p, area_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The top of the tree (cities): what "the whole installation" means as a scope.
    pub async fn root_paths(&self) -> Result<Vec<AreaPath>, StoreError> {
        self.db
            .query(
                "SELECT path FROM areas WHERE parent_id IS NULL ORDER BY path",
                &[],
                |r| decode(AreaPath::parse(&r.text(0)?)),
            )
            .await
    }

    pub async fn areas(
        &self,
        scope: &Scope,
        filter: &AreaFilter,
        page: &PageRequest,
    ) -> Result<Page<Area>, StoreError> {
        let mut p = Vec::new();
        let mut conds = vec![within_or_above("path", scope, &mut p)];
        if let Some(parent) = filter.parent_id {
            conds.push("parent_id = ?".into());
            p.push(Value::Int(parent));
        }
        if let Some(level) = filter.level {
            conds.push("level = ?".into());
            p.push(level.as_str().into());
        }
        if let Some(root) = &filter.within {
            conds.push(within("path", &Scope::of([root.clone()]), &mut p));
        }
        conds.push(page.after_sql("path", "id", &mut p));
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM areas WHERE {} ORDER BY path, id LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, area_from_row).await?;
        Ok(Page::from_rows(rows, page, |a| Cursor {
            path: a.path.as_str().to_owned(),
            id: a.id,
        }))
    }

    /// Creates one area under a parent inside the scope (or a root area when the scope covers
    /// the whole installation).
    pub async fn create_area(&self, scope: &Scope, new: &NewArea) -> Result<Area, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = insert_area(&mut tx, scope, new).await?;
        tx.commit().await?;
        self.area(scope, id).await
    }

    /// Creates several areas, parents before children, all or nothing. `parent_code` may name an
    /// existing area or one created earlier in the same batch.
    pub async fn create_area_tree(
        &self,
        scope: &Scope,
        areas: &[(NewArea, Option<AreaCode>)],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut ids = Vec::with_capacity(areas.len());
        for (new, parent_code) in areas {
            let mut new = new.clone();
            if let Some(code) = parent_code {
                let parent = tx
                    .query_opt(
                        "SELECT id FROM areas WHERE code = ?",
                        &params![code.as_str()],
                        |r| r.int(0),
                    )
                    .await?
                    .ok_or(StoreError::NotFound)?;
                new.parent_id = Some(parent);
            }
            ids.push(insert_area(&mut tx, scope, &new).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn update_area(
        &self,
        scope: &Scope,
        id: i64,
        patch: &AreaPatch,
    ) -> Result<Area, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut p = Vec::from(params![id]);
        let inside = within("path", scope, &mut p);
        let found = tx
            .query_opt(
                &format!("SELECT id FROM areas WHERE id = ? AND {inside}"),
                &p,
                |r| r.int(0),
            )
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        if let Some(name) = &patch.name {
            rename(&mut tx, id, name).await?;
        }
        if let Some(boundary) = &patch.boundary {
            tx.execute(
                "UPDATE areas SET boundary = ?, updated_at = ? WHERE id = ?",
                &params![boundary.clone(), now(), id],
            )
            .await?;
        }
        tx.commit().await?;
        self.area(scope, id).await
    }
}

async fn insert_area(tx: &mut Tx, scope: &Scope, new: &NewArea) -> Result<i64, StoreError> {
    let parent_path = match new.parent_id {
        Some(parent) => {
            let mut p = Vec::from(params![parent]);
            let inside = within("path", scope, &mut p);
            let sql = format!("SELECT path FROM areas WHERE id = ? AND {inside}");
            let path = tx
                .query_opt(&sql, &p, |r| r.text(0))
                .await?
                .ok_or(StoreError::NotFound)?;
            Some(decode(AreaPath::parse(&path))?)
        }
        None if scope.is_everything() => None,
        None => return Err(StoreError::NotFound),
    };
    let t = now();
    // The path needs the new id; a unique placeholder holds its place for one statement.
    let id = tx
        .insert(
            "INSERT INTO areas (code, name, level, parent_id, path, boundary, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &params![
                new.code.as_str(),
                &new.name,
                new.level.as_str(),
                new.parent_id,
                format!("pending:{}", new.code.as_str()),
                new.boundary.clone(),
                t,
                t
            ],
        )
        .await?;
    let path = match parent_path {
        Some(pp) => pp.child(id),
        None => AreaPath::root(id),
    };
    tx.execute(
        "UPDATE areas SET path = ? WHERE id = ?",
        &params![path.as_str(), id],
    )
    .await?;
    Ok(id)
}

/// Renames an area and rewrites the standard addresses below it, which begin with the names of
/// the areas above their grid.
async fn rename(tx: &mut Tx, id: i64, name: &str) -> Result<(), StoreError> {
    let path = tx
        .query_opt("SELECT path FROM areas WHERE id = ?", &params![id], |r| {
            r.text(0)
        })
        .await?
        .ok_or(StoreError::NotFound)?;
    let subtree = Scope::of([decode(AreaPath::parse(&path))?]);
    let mut p = Vec::new();
    let inside = within("area_path", &subtree, &mut p);
    let paths = tx
        .query(
            &format!("SELECT DISTINCT area_path FROM places WHERE {inside}"),
            &p,
            |r| decode(AreaPath::parse(&r.text(0)?)),
        )
        .await?;
    let mut before = Vec::with_capacity(paths.len());
    for path in &paths {
        before.push(area_names(tx, path).await?.concat());
    }
    tx.execute(
        "UPDATE areas SET name = ?, updated_at = ? WHERE id = ?",
        &params![name, now(), id],
    )
    .await?;
    for (path, old) in paths.iter().zip(before) {
        let new = area_names(tx, path).await?.concat();
        let n = old.chars().count() as i64;
        tx.execute(
            "UPDATE places SET address = ? || substr(address, ?) WHERE area_path = ? AND substr(address, 1, ?) = ?",
            &params![new, n + 1, path.as_str(), n, old],
        )
        .await?;
    }
    Ok(())
}
