//! The tag catalogue (not resident data, so not scoped) and dated tag assignments (scoped like
//! the person or household they label).

use time::{Date, OffsetDateTime};
use wangge_domain::{AreaPath, BUILTIN_TAGS, Scope, Sensitivity, TagCode, TagSubject};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::{visible_tags, within};
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Tag {
    pub id: i64,
    pub code: TagCode,
    pub name_zh: String,
    pub name_en: String,
    pub sensitivity: Sensitivity,
    pub subject: TagSubject,
}

#[derive(Debug, Clone)]
pub struct NewTag {
    pub code: TagCode,
    pub name_zh: String,
    pub name_en: String,
    pub sensitivity: Sensitivity,
    pub subject: TagSubject,
}

#[derive(Debug, Clone, Default)]
pub struct TagPatch {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub sensitivity: Option<Sensitivity>,
}

/// Who a tag is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labelled {
    Person(i64),
    Household(i64),
}

#[derive(Debug, Clone)]
pub struct TagAssignment {
    pub id: i64,
    pub tag_id: i64,
    pub tag_code: TagCode,
    pub on: Labelled,
    pub area_path: AreaPath,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub note: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewTagAssignment {
    pub tag_id: i64,
    pub on: Labelled,
    pub started_on: Date,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TagAssignmentFilter {
    pub on: Option<Labelled>,
    pub tag_id: Option<i64>,
    pub within: Option<AreaPath>,
    pub include_ended: bool,
}

/// Current assignments of one tag under one area path (a grid, for dashboards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub area_path: AreaPath,
    pub tag_id: i64,
    pub count: i64,
}

const TAG_COLUMNS: &str = "id, code, name_zh, name_en, sensitivity, subject";
const ASSIGNMENT_COLUMNS: &str = "a.id, a.tag_id, t.code, a.person_id, a.household_id, \
     a.area_path, a.started_on, a.ended_on, a.note, a.created_at";

fn subject_str(s: TagSubject) -> &'static str {
    match s {
        TagSubject::Person => "person",
        TagSubject::Household => "household",
    }
}

fn tag_from_row(r: &dyn DbRow) -> Result<Tag, StoreError> {
    Ok(Tag {
        id: r.int(0)?,
        code: decode(TagCode::parse(&r.text(1)?))?,
        name_zh: r.text(2)?,
        name_en: r.text(3)?,
        sensitivity: decode(Sensitivity::parse(&r.text(4)?))?,
        subject: match r.text(5)?.as_str() {
            "household" => TagSubject::Household,
            _ => TagSubject::Person,
        },
    })
}

fn assignment_from_row(r: &dyn DbRow) -> Result<TagAssignment, StoreError> {
    let on = match (r.opt_int(3)?, r.opt_int(4)?) {
        (Some(p), _) => Labelled::Person(p),
        (None, Some(h)) => Labelled::Household(h),
        (None, None) => return Err(StoreError::Decode("assignment on nothing".into())),
    };
    Ok(TagAssignment {
        id: r.int(0)?,
        tag_id: r.int(1)?,
        tag_code: decode(TagCode::parse(&r.text(2)?))?,
        on,
        area_path: decode(AreaPath::parse(&r.text(5)?))?,
        started_on: r.date(6)?,
        ended_on: r.opt_date(7)?,
        note: r.opt_text(8)?,
        created_at: r.timestamp(9)?,
    })
}

impl Store {
    /// The catalogue as the caller may see it: classes outside their scope are absent.
    pub async fn tags(&self, scope: &Scope) -> Result<Vec<Tag>, StoreError> {
        let mut p = Vec::new();
        let visible = visible_tags("sensitivity", scope, &mut p);
        let sql = format!("SELECT {TAG_COLUMNS} FROM tags WHERE {visible} ORDER BY id");
        self.db.query(&sql, &p, tag_from_row).await
    }

    pub async fn tag(&self, scope: &Scope, id: i64) -> Result<Tag, StoreError> {
        let mut p = Vec::from(params![id]);
        let visible = visible_tags("sensitivity", scope, &mut p);
        let sql = format!("SELECT {TAG_COLUMNS} FROM tags WHERE id = ? AND {visible}");
        self.db
            .query_opt(&sql, &p, tag_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn tag_by_code(&self, scope: &Scope, code: &TagCode) -> Result<Tag, StoreError> {
        let mut p = Vec::from(params![code.as_str()]);
        let visible = visible_tags("sensitivity", scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {TAG_COLUMNS} FROM tags WHERE code = ? AND {visible}"),
                &p,
                tag_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_tag(&self, new: &NewTag) -> Result<Tag, StoreError> {
        let t = now();
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO tags (code, name_zh, name_en, sensitivity, subject, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &params![
                    new.code.as_str(),
                    &new.name_zh,
                    &new.name_en,
                    new.sensitivity.as_str(),
                    subject_str(new.subject),
                    t,
                    t
                ],
            )
            .await?;
        tx.commit().await?;
        self.tag(&Scope::everything(), id).await
    }

    pub async fn update_tag(&self, id: i64, patch: &TagPatch) -> Result<Tag, StoreError> {
        let tag = self.tag(&Scope::everything(), id).await?;
        self.db
            .execute(
                "UPDATE tags SET name_zh = ?, name_en = ?, sensitivity = ?, updated_at = ? WHERE id = ?",
                &params![
                    patch.name_zh.clone().unwrap_or(tag.name_zh),
                    patch.name_en.clone().unwrap_or(tag.name_en),
                    patch.sensitivity.unwrap_or(tag.sensitivity).as_str(),
                    now(),
                    id
                ],
            )
            .await?;
        self.tag(&Scope::everything(), id).await
    }

    /// Adds the built-in catalogue; existing codes are left as they are.
    pub async fn seed_builtin_tags(&self) -> Result<(), StoreError> {
        let t = now();
        let mut tx = self.db.begin().await?;
        for b in BUILTIN_TAGS {
            tx.execute(
                "INSERT INTO tags (code, name_zh, name_en, sensitivity, subject, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                &params![b.code, b.name_zh, b.name_en, b.sensitivity.as_str(), subject_str(b.subject), t, t],
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn tag_assignment(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<TagAssignment, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("a.area_path", scope, &mut p);
        let visible = visible_tags("t.sensitivity", scope, &mut p);
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM tag_assignments a JOIN tags t ON t.id = a.tag_id \
             WHERE a.id = ? AND {inside} AND {visible}"
        );
        self.db
            .query_opt(&sql, &p, assignment_from_row)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn tag_assignments(
        &self,
        scope: &Scope,
        filter: &TagAssignmentFilter,
        page: &PageRequest,
    ) -> Result<Page<TagAssignment>, StoreError> {
        let mut p = Vec::new();
        let narrowed = filter.within.as_ref().map(|root| scope.narrow_to(root));
        let mut conds = vec![
            within("a.area_path", narrowed.as_ref().unwrap_or(scope), &mut p),
            visible_tags("t.sensitivity", scope, &mut p),
        ];
        match filter.on {
            Some(Labelled::Person(id)) => {
                conds.push("a.person_id = ?".into());
                p.push(Value::Int(id));
            }
            Some(Labelled::Household(id)) => {
                conds.push("a.household_id = ?".into());
                p.push(Value::Int(id));
            }
            None => {}
        }
        if let Some(tag) = filter.tag_id {
            conds.push("a.tag_id = ?".into());
            p.push(Value::Int(tag));
        }
        if !filter.include_ended {
            conds.push("a.ended_on IS NULL".into());
        }
        conds.push(page.after_sql("a.area_path", "a.id", &mut p));
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM tag_assignments a JOIN tags t ON t.id = a.tag_id \
             WHERE {} ORDER BY a.area_path, a.id LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, assignment_from_row).await?;
        Ok(Page::from_rows(rows, page, |x| Cursor {
            path: x.area_path.as_str().to_owned(),
            id: x.id,
        }))
    }

    pub async fn create_tag_assignment(
        &self,
        scope: &Scope,
        new: &NewTagAssignment,
    ) -> Result<TagAssignment, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = insert_tag_assignment(&mut tx, scope, new).await?;
        tx.commit().await?;
        self.tag_assignment(scope, id).await
    }

    pub async fn end_tag_assignment(
        &self,
        scope: &Scope,
        id: i64,
        ended_on: Date,
    ) -> Result<TagAssignment, StoreError> {
        let mut tx = self.db.begin().await?;
        end_tag_assignment_in(&mut tx, scope, id, ended_on).await?;
        tx.commit().await?;
        self.tag_assignment(scope, id).await
    }

    /// Current tag counts per grid under `root`, from the covering index (dashboards, P3).
    pub async fn tag_counts_per_grid(
        &self,
        scope: &Scope,
        root: &AreaPath,
    ) -> Result<Vec<TagCount>, StoreError> {
        let mut p = Vec::new();
        let inside = within("area_path", &scope.narrow_to(root), &mut p);
        let visible = if scope.tag_classes().is_all() {
            "1 = 1".to_owned()
        } else {
            let classes = visible_tags("sensitivity", scope, &mut p);
            format!("tag_id IN (SELECT id FROM tags WHERE {classes})")
        };
        let sql = format!(
            "SELECT area_path, tag_id, COUNT(*) FROM tag_assignments \
             WHERE ended_on IS NULL AND {inside} AND {visible} \
             GROUP BY area_path, tag_id ORDER BY area_path, tag_id"
        );
        self.db
            .query(&sql, &p, |r| {
                Ok(TagCount {
                    area_path: decode(AreaPath::parse(&r.text(0)?))?,
                    tag_id: r.int(1)?,
                    count: r.int(2)?,
                })
            })
            .await
    }
}

/// Adds a tag inside a transaction (also used when a visit updates the registry).
pub(crate) async fn insert_tag_assignment(
    tx: &mut Tx,
    scope: &Scope,
    new: &NewTagAssignment,
) -> Result<i64, StoreError> {
    let (table, subject_id) = match new.on {
        Labelled::Person(id) => ("persons", id),
        Labelled::Household(id) => ("households", id),
    };
    let mut p = Vec::from(params![subject_id]);
    let inside = within("area_path", scope, &mut p);
    let path = tx
        .query_opt(
            &format!("SELECT area_path FROM {table} WHERE id = ? AND {inside}"),
            &p,
            |r| r.text(0),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let (person, household) = match new.on {
        Labelled::Person(id) => (Some(id), None),
        Labelled::Household(id) => (None, Some(id)),
    };
    let t = now();
    tx.insert(
        "INSERT INTO tag_assignments (tag_id, person_id, household_id, area_path, started_on, \
         note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        &params![
            new.tag_id,
            person,
            household,
            path,
            new.started_on,
            new.note.clone(),
            t,
            t
        ],
    )
    .await
}

/// Ends a current tag inside a transaction; the tag must be visible to the scope.
pub(crate) async fn end_tag_assignment_in(
    tx: &mut Tx,
    scope: &Scope,
    id: i64,
    ended_on: Date,
) -> Result<(), StoreError> {
    let mut p = Vec::from(params![id]);
    let inside = within("a.area_path", scope, &mut p);
    let visible = visible_tags("t.sensitivity", scope, &mut p);
    let sql = format!(
        "SELECT a.started_on, a.ended_on FROM tag_assignments a JOIN tags t ON t.id = a.tag_id \
         WHERE a.id = ? AND {inside} AND {visible}"
    );
    let (started, ended) = tx
        .query_opt(&sql, &p, |r| Ok((r.date(0)?, r.opt_date(1)?)))
        .await?
        .ok_or(StoreError::NotFound)?;
    if ended.is_some() {
        return Err(StoreError::Conflict("tag assignment already ended".into()));
    }
    if ended_on < started {
        return Err(StoreError::Check("tag ends before it starts".into()));
    }
    tx.execute(
        "UPDATE tag_assignments SET ended_on = ?, updated_at = ? WHERE id = ?",
        &params![ended_on, now(), id],
    )
    .await?;
    Ok(())
}
