//! Photo attachments: the rows that point at files on disk. An attachment is visible exactly
//! where its parent (visit, work order, or the work order of a timeline entry) is: every read
//! checks the parent row against the scope, not only the copied area path.

use time::OffsetDateTime;
use wangge_domain::{AreaPath, Scope};

use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

/// What an attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentParent {
    Visit(i64),
    WorkOrder(i64),
    /// A timeline entry of a work order.
    WorkOrderEvent(i64),
    /// An entrustment: photos of the work done in the resident's absence and of key hand-overs.
    Entrustment(i64),
}

impl AttachmentParent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Visit(_) => "visit",
            Self::WorkOrder(_) => "work_order",
            Self::WorkOrderEvent(_) => "work_order_event",
            Self::Entrustment(_) => "entrustment",
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            Self::Visit(id)
            | Self::WorkOrder(id)
            | Self::WorkOrderEvent(id)
            | Self::Entrustment(id) => *id,
        }
    }

    fn from_row(kind: &str, id: i64) -> Result<Self, StoreError> {
        match kind {
            "visit" => Ok(Self::Visit(id)),
            "work_order" => Ok(Self::WorkOrder(id)),
            "work_order_event" => Ok(Self::WorkOrderEvent(id)),
            "entrustment" => Ok(Self::Entrustment(id)),
            other => Err(StoreError::Decode(format!(
                "attachments.parent_kind: {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: i64,
    pub parent: AttachmentParent,
    pub area_path: AreaPath,
    pub content_type: String,
    pub byte_size: i64,
    /// BLAKE3 of the stored bytes, hex.
    pub content_hash: String,
    pub stored_name: String,
    pub thumbnail_name: String,
    pub width: u32,
    pub height: u32,
    pub kept_location: bool,
    pub uploaded_by_id: Option<i64>,
    pub uploaded_by: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub parent: AttachmentParent,
    pub content_type: String,
    pub byte_size: i64,
    pub content_hash: String,
    pub stored_name: String,
    pub thumbnail_name: String,
    pub width: u32,
    pub height: u32,
    pub kept_location: bool,
    pub uploaded_by_id: Option<i64>,
    pub uploaded_by: String,
}

const COLUMNS: &str = "a.id, a.parent_kind, a.parent_id, a.area_path, a.content_type, \
     a.byte_size, a.content_hash, a.stored_name, a.thumbnail_name, a.width, a.height, \
     a.kept_location, a.uploaded_by_id, a.uploaded_by, a.created_at";

fn attachment_from_row(r: &dyn DbRow) -> Result<Attachment, StoreError> {
    let dim = |i: usize| -> Result<u32, StoreError> { decode(u32::try_from(r.int(i)?)) };
    Ok(Attachment {
        id: r.int(0)?,
        parent: AttachmentParent::from_row(&r.text(1)?, r.int(2)?)?,
        area_path: decode(AreaPath::parse(&r.text(3)?))?,
        content_type: r.text(4)?,
        byte_size: r.int(5)?,
        content_hash: r.text(6)?,
        stored_name: r.text(7)?,
        thumbnail_name: r.text(8)?,
        width: dim(9)?,
        height: dim(10)?,
        kept_location: r.int(11)? != 0,
        uploaded_by_id: r.opt_int(12)?,
        uploaded_by: r.text(13)?,
        created_at: r.timestamp(14)?,
    })
}

/// The parent's own row is in scope: the condition every attachment read carries.
fn parent_in_scope(scope: &Scope, p: &mut Vec<Value>) -> String {
    let visit = within("v.area_path", scope, p);
    let order = within("w.area_path", scope, p);
    let event = within("w.area_path", scope, p);
    let entrustment = within("en.area_path", scope, p);
    format!(
        "((a.parent_kind = 'visit' AND EXISTS (SELECT 1 FROM visits v \
           WHERE v.id = a.parent_id AND {visit})) \
         OR (a.parent_kind = 'work_order' AND EXISTS (SELECT 1 FROM work_orders w \
           WHERE w.id = a.parent_id AND {order})) \
         OR (a.parent_kind = 'work_order_event' AND EXISTS (SELECT 1 FROM work_order_events e \
           JOIN work_orders w ON w.id = e.work_order_id WHERE e.id = a.parent_id AND {event})) \
         OR (a.parent_kind = 'entrustment' AND EXISTS (SELECT 1 FROM entrustments en \
           WHERE en.id = a.parent_id AND {entrustment})))"
    )
}

/// The parent's area path, if it exists inside the scope.
async fn parent_area(
    tx: &mut Tx,
    scope: &Scope,
    parent: AttachmentParent,
) -> Result<String, StoreError> {
    let mut p = Vec::from(params![parent.id()]);
    let sql = match parent {
        AttachmentParent::Visit(_) => {
            let inside = within("area_path", scope, &mut p);
            format!("SELECT area_path FROM visits WHERE id = ? AND {inside}")
        }
        AttachmentParent::WorkOrder(_) => {
            let inside = within("area_path", scope, &mut p);
            format!("SELECT area_path FROM work_orders WHERE id = ? AND {inside}")
        }
        AttachmentParent::WorkOrderEvent(_) => {
            let inside = within("w.area_path", scope, &mut p);
            format!(
                "SELECT w.area_path FROM work_order_events e \
                 JOIN work_orders w ON w.id = e.work_order_id WHERE e.id = ? AND {inside}"
            )
        }
        AttachmentParent::Entrustment(_) => {
            let inside = within("area_path", scope, &mut p);
            format!("SELECT area_path FROM entrustments WHERE id = ? AND {inside}")
        }
    };
    tx.query_opt(&sql, &p, |r| r.text(0))
        .await?
        .ok_or(StoreError::NotFound)
}

impl Store {
    /// Whether the parent exists inside the scope (NotFound otherwise, as for a missing one).
    pub async fn attachment_parent_area(
        &self,
        scope: &Scope,
        parent: AttachmentParent,
    ) -> Result<AreaPath, StoreError> {
        let mut tx = self.db.begin().await?;
        let path = parent_area(&mut tx, scope, parent).await?;
        tx.commit().await?;
        decode(AreaPath::parse(&path))
    }

    /// Records an attachment whose files are already written; the parent is checked against
    /// the scope in the same transaction.
    pub async fn insert_attachment(
        &self,
        scope: &Scope,
        new: &NewAttachment,
    ) -> Result<Attachment, StoreError> {
        let mut tx = self.db.begin().await?;
        let area_path = parent_area(&mut tx, scope, new.parent).await?;
        let id = tx
            .insert(
                "INSERT INTO attachments (parent_kind, parent_id, area_path, content_type, \
                 byte_size, content_hash, stored_name, thumbnail_name, width, height, \
                 kept_location, uploaded_by_id, uploaded_by, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &params![
                    new.parent.kind(),
                    new.parent.id(),
                    area_path,
                    new.content_type.as_str(),
                    new.byte_size,
                    new.content_hash.as_str(),
                    new.stored_name.as_str(),
                    new.thumbnail_name.as_str(),
                    i64::from(new.width),
                    i64::from(new.height),
                    i64::from(new.kept_location),
                    new.uploaded_by_id,
                    new.uploaded_by.as_str(),
                    now()
                ],
            )
            .await?;
        tx.commit().await?;
        self.attachment(scope, id).await
    }

    pub async fn attachment(&self, scope: &Scope, id: i64) -> Result<Attachment, StoreError> {
        let mut p = Vec::from(params![id]);
        let visible = parent_in_scope(scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM attachments a WHERE a.id = ? AND {visible}"),
                &p,
                attachment_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The attachments of several parents (a work order and its timeline entries, a page of
    /// visits), oldest first; parents outside the scope contribute nothing.
    pub async fn attachments_of(
        &self,
        scope: &Scope,
        parents: &[AttachmentParent],
    ) -> Result<Vec<Attachment>, StoreError> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = Vec::new();
        let mut wanted = Vec::new();
        for parent in parents {
            wanted.push("(a.parent_kind = ? AND a.parent_id = ?)");
            p.push(parent.kind().into());
            p.push(Value::Int(parent.id()));
        }
        let visible = parent_in_scope(scope, &mut p);
        let sql = format!(
            "SELECT {COLUMNS} FROM attachments a WHERE ({}) AND {visible} ORDER BY a.id",
            wanted.join(" OR ")
        );
        self.db.query(&sql, &p, attachment_from_row).await
    }
}
