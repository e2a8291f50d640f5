//! Residents' pre-registrations (W2 "I will be away during my slot, please act for me"), made on
//! a campaign's public page without an account. The store matches the dwelling the resident
//! named to a door of the campaign, names the staff member who will handle it, tells them through
//! the outbox, and enforces the abuse limits in the same transaction that writes the request.
//! Nothing about whether the dwelling matched goes back to the resident.

use time::{Duration, OffsetDateTime};
use wangge_domain::campaign::RequestKind;
use wangge_domain::{AreaPath, NotificationEvent, PhoneNumber, Scope};

use crate::crypto::Field;
use crate::db::{DbRow, Value};
use crate::error::decode;
use crate::notifications::{OutboxEvent, Recipients, enqueue};
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

/// Limits on anonymous requests; a request over one is refused and writes nothing.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// From one client address per hour (any campaign).
    pub per_client_per_hour: i64,
    /// For one campaign per day, from everyone: a flood stops here.
    pub per_campaign_per_day: i64,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            per_client_per_hour: 5,
            per_campaign_per_day: 500,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub campaign_id: i64,
    pub reference: String,
    pub kind: RequestKind,
    pub message: Option<String>,
    pub contact_name: String,
    pub contact_phone: PhoneNumber,
    pub building_id: Option<i64>,
    pub unit_label: Option<String>,
    pub dwelling_label: String,
    /// The client's address, kept only as a keyed hash.
    pub client: String,
}

/// What the store did with a request (for staff and tests; the resident sees only the reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReceipt {
    pub request_id: i64,
    pub reference: String,
    pub item_id: Option<i64>,
    pub handler_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CampaignRequest {
    pub id: i64,
    pub campaign_id: i64,
    pub item_id: Option<i64>,
    pub item_address: Option<String>,
    pub reference: String,
    pub kind: RequestKind,
    pub message: Option<String>,
    pub contact_name: String,
    pub contact_phone_masked: String,
    /// The phone left is one a current member of the matched household is registered with.
    pub phone_matches: bool,
    pub building_label: Option<String>,
    pub unit_label: Option<String>,
    pub dwelling_label: String,
    pub handler_id: Option<i64>,
    pub handler_name: Option<String>,
    pub open: bool,
    pub handled_by: Option<String>,
    pub handled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub area_path: AreaPath,
}

const COLUMNS: &str = "r.id, r.campaign_id, r.item_id, ci.address, r.reference, r.kind, r.message, \
     r.contact_name, r.contact_phone_masked, r.phone_matches, b.label, r.unit_label, \
     r.dwelling_label, r.handler_id, u.display_name, r.state, r.handled_by, r.handled_at, \
     r.created_at, r.area_path";

const FROM: &str = "campaign_requests r LEFT JOIN campaign_items ci ON ci.id = r.item_id \
     LEFT JOIN places b ON b.id = r.building_id LEFT JOIN users u ON u.id = r.handler_id";

fn request_from_row(r: &dyn DbRow) -> Result<CampaignRequest, StoreError> {
    Ok(CampaignRequest {
        id: r.int(0)?,
        campaign_id: r.int(1)?,
        item_id: r.opt_int(2)?,
        item_address: r.opt_text(3)?,
        reference: r.text(4)?,
        kind: decode(RequestKind::parse(&r.text(5)?))?,
        message: r.opt_text(6)?,
        contact_name: r.text(7)?,
        contact_phone_masked: r.text(8)?,
        phone_matches: r.int(9)? != 0,
        building_label: r.opt_text(10)?,
        unit_label: r.opt_text(11)?,
        dwelling_label: r.text(12)?,
        handler_id: r.opt_int(13)?,
        handler_name: r.opt_text(14)?,
        open: r.text(15)? == "open",
        handled_by: r.opt_text(16)?,
        handled_at: r.opt_timestamp(17)?,
        created_at: r.timestamp(18)?,
        area_path: decode(AreaPath::parse(&r.text(19)?))?,
    })
}

/// Why a request was refused before anything was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestRefusal {
    /// Too many from this client lately.
    ClientLimit,
    /// Too many for this campaign today.
    CampaignLimit,
}

impl Store {
    /// Records a resident's request on an active campaign with an open link, matching the
    /// dwelling to a door and naming its handler (the campaign's desk, else the door's assignee).
    pub async fn submit_campaign_request(
        &self,
        new: &NewRequest,
        limits: RequestLimits,
    ) -> Result<Result<RequestReceipt, RequestRefusal>, StoreError> {
        let t = now();
        let client_hash = self.crypto.lookup_hash(Field::ClientAddress, &new.client);
        let mut tx = self.db.begin().await?;
        let lock = self.for_update();
        let (name, area_path, desk) = tx
            .query_opt(
                &format!(
                    "SELECT name, area_path, desk_user_id FROM campaigns \
                     WHERE id = ? AND state = 'active' AND public_token IS NOT NULL{lock}"
                ),
                &params![new.campaign_id],
                |r| Ok((r.text(0)?, r.text(1)?, r.opt_int(2)?)),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let recent = tx
            .query_opt(
                "SELECT COUNT(*) FROM campaign_requests WHERE client_hash = ? AND created_at > ?",
                &params![client_hash.clone(), t - Duration::hours(1)],
                |r| r.int(0),
            )
            .await?
            .unwrap_or(0);
        if recent >= limits.per_client_per_hour {
            return Ok(Err(RequestRefusal::ClientLimit));
        }
        let today = tx
            .query_opt(
                "SELECT COUNT(*) FROM campaign_requests WHERE campaign_id = ? AND created_at > ?",
                &params![new.campaign_id, t - Duration::days(1)],
                |r| r.int(0),
            )
            .await?
            .unwrap_or(0);
        if today >= limits.per_campaign_per_day {
            return Ok(Err(RequestRefusal::CampaignLimit));
        }
        let phone_hash = self
            .crypto
            .lookup_hash(Field::Phone, new.contact_phone.as_str());
        let mut p: Vec<Value> = Vec::from(params![phone_hash, new.campaign_id]);
        let mut conds = vec!["ci.campaign_id = ?".to_owned(), "d.label = ?".to_owned()];
        p.push(new.dwelling_label.as_str().into());
        if let Some(b) = new.building_id {
            conds.push("ci.building_id = ?".into());
            p.push(Value::Int(b));
        }
        if let Some(u) = &new.unit_label {
            conds.push("un.label = ?".into());
            p.push(u.as_str().into());
        }
        let matched = tx
            .query_opt(
                &format!(
                    "SELECT ci.id, ci.assignee_id, ci.area_path, EXISTS (SELECT 1 FROM persons m \
                     WHERE m.household_id = ci.household_id AND m.phone_hash = ?) \
                     FROM campaign_items ci JOIN places d ON d.id = ci.dwelling_id \
                     LEFT JOIN places un ON un.id = d.parent_id WHERE {} ORDER BY ci.id",
                    conds.join(" AND ")
                ),
                &p,
                |r| {
                    Ok((
                        r.int(0)?,
                        r.opt_int(1)?,
                        r.text(2)?,
                        r.opt_int(3)?.unwrap_or(0) != 0,
                    ))
                },
            )
            .await?;
        let (item_id, handler_id, path, phone_matches) = match matched {
            Some((item, assignee, path, phone)) => (Some(item), desk.or(assignee), path, phone),
            None => (None, desk, area_path, false),
        };
        let sealed = self
            .crypto
            .seal(Field::RequestPhone, new.contact_phone.as_str());
        let request_id = tx
            .insert(
                "INSERT INTO campaign_requests (campaign_id, item_id, reference, kind, message, \
                 contact_name, contact_phone_cipher, contact_phone_masked, phone_matches, \
                 building_id, unit_label, dwelling_label, handler_id, state, client_hash, \
                 area_path, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id",
                &params![
                    new.campaign_id,
                    item_id,
                    new.reference.as_str(),
                    new.kind.as_str(),
                    new.message.clone(),
                    new.contact_name.as_str(),
                    sealed,
                    new.contact_phone.masked(),
                    i64::from(phone_matches),
                    new.building_id,
                    new.unit_label.clone(),
                    new.dwelling_label.as_str(),
                    handler_id,
                    client_hash,
                    path.as_str(),
                    t
                ],
            )
            .await?;
        if let Some(handler) = handler_id {
            let area = decode(AreaPath::parse(&path))?;
            let ev = OutboxEvent {
                event: NotificationEvent::CampaignRequest,
                work_order_id: None,
                assist_request_id: None,
                level: None,
                campaign_id: Some(new.campaign_id),
                campaign_request_id: Some(request_id),
                entrustment_id: None,
                title: &name,
                area_path: &area,
                occurrence: format!("campaign_request:{request_id}"),
                actor_id: None,
                at: t,
            };
            enqueue(
                &mut tx,
                &self.channels,
                &ev,
                &Recipients::Users(vec![handler]),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(RequestReceipt {
            request_id,
            reference: new.reference.clone(),
            item_id,
            handler_id,
        }))
    }

    /// A campaign's requests inside the scope, open first, newest first.
    pub async fn campaign_requests(
        &self,
        scope: &Scope,
        campaign_id: i64,
        open_only: bool,
    ) -> Result<Vec<CampaignRequest>, StoreError> {
        let mut p = Vec::from(params![campaign_id]);
        let inside = within("r.area_path", scope, &mut p);
        let open = if open_only {
            " AND r.state = 'open'"
        } else {
            ""
        };
        self.db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM {FROM} WHERE r.campaign_id = ? AND {inside}{open} \
                     ORDER BY r.state DESC, r.id DESC LIMIT 500"
                ),
                &p,
                request_from_row,
            )
            .await
    }

    pub async fn campaign_request(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<CampaignRequest, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("r.area_path", scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = ? AND {inside}"),
                &p,
                request_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The phone the resident left, for the staff member calling them back.
    pub async fn campaign_request_phone(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<String, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("area_path", scope, &mut p);
        let sealed = self
            .db
            .query_opt(
                &format!(
                    "SELECT contact_phone_cipher FROM campaign_requests WHERE id = ? AND {inside}"
                ),
                &p,
                |r| r.blob(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        self.crypto.open(Field::RequestPhone, &sealed)
    }

    /// Marks a request handled, linking it to a door of its campaign when it matched none.
    pub async fn handle_campaign_request(
        &self,
        scope: &Scope,
        id: i64,
        by: &str,
        item_id: Option<i64>,
    ) -> Result<CampaignRequest, StoreError> {
        let req = self.campaign_request(scope, id).await?;
        let mut tx = self.db.begin().await?;
        let mut path = req.area_path.as_str().to_owned();
        let mut item = req.item_id;
        if let Some(i) = item_id {
            let mut p = Vec::from(params![i, req.campaign_id]);
            let inside = within("area_path", scope, &mut p);
            path = tx
                .query_opt(
                    &format!(
                        "SELECT area_path FROM campaign_items WHERE id = ? AND campaign_id = ? \
                         AND {inside}"
                    ),
                    &p,
                    |r| r.text(0),
                )
                .await?
                .ok_or(StoreError::NotFound)?;
            item = Some(i);
        }
        tx.execute(
            "UPDATE campaign_requests SET state = 'handled', handled_by = ?, handled_at = ?, \
             item_id = ?, area_path = ? WHERE id = ?",
            &params![by, now(), item, path, id],
        )
        .await?;
        tx.commit().await?;
        self.campaign_request(scope, id).await
    }
}
