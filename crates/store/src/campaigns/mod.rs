//! Campaigns: the plan (`campaigns`), its frozen target list (`campaign_items`, see `items`),
//! the outcomes recorded at each door (`campaign_attempts`), coverage (`coverage`) and
//! residents' pre-registrations (`requests`). Target rules become SQL in `targets`.
//!
//! Who sees a campaign: callers whose scope holds its area, or lies inside it (a grid worker sees
//! the community's campaign and, through the items' own paths, only their grid's doors); never a
//! caller who may not see one of the tag classes its rule is built on.

mod coverage;
mod items;
mod requests;
mod targets;

pub use coverage::{BuildingSummary, Coverage, CoverageArea, CoverageRow, StatusCounts};
pub use items::{
    Attempt, CampaignItem, ExportItem, ItemFilter, ItemOrder, ItemSelection, ItemsChanged,
    RecordOutcome, WriteBack,
};
pub use requests::{CampaignRequest, NewRequest, RequestLimits, RequestReceipt, RequestRefusal};
pub use targets::{Preview, ResolvedRule};

use time::{Date, OffsetDateTime};
use wangge_domain::{
    AreaPath, CampaignForm, CampaignKind, CampaignState, Scope, SensitivitySet, TargetRule,
};

use crate::db::{Backend, DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::{covering, visible_class_mask, within, within_or_above};
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub purpose: Option<String>,
    pub state: CampaignState,
    pub area_id: i64,
    pub area_path: AreaPath,
    pub starts_on: Date,
    pub ends_on: Date,
    pub owner_id: Option<i64>,
    pub owner: String,
    pub rule: TargetRule,
    pub form: CampaignForm,
    pub tag_classes: SensitivitySet,
    /// The staff member named for residents' pre-registrations.
    pub desk_user_id: Option<i64>,
    /// The public pre-registration link's token, while it is open.
    pub public_token: Option<String>,
    /// The frozen denominator: targets at launch plus those added on demand.
    pub target_count: i64,
    pub launched_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub kind: CampaignKind,
    pub purpose: Option<String>,
    pub area_id: i64,
    pub starts_on: Date,
    pub ends_on: Date,
    pub owner_id: Option<i64>,
    pub owner: String,
    pub rule: TargetRule,
    pub form: CampaignForm,
    pub tag_classes: SensitivitySet,
    pub desk_user_id: Option<i64>,
}

/// Changes to a campaign; `None` leaves a field alone. Rule, form and kind change only while it
/// is a draft.
#[derive(Debug, Clone, Default)]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub purpose: Option<Option<String>>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub desk_user_id: Option<Option<i64>>,
    pub plan: Option<Plan>,
}

/// The parts frozen at launch.
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: CampaignKind,
    pub rule: TargetRule,
    pub form: CampaignForm,
    pub tag_classes: SensitivitySet,
}

#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    pub state: Option<CampaignState>,
    /// Campaigns whose area is inside this one or holds it.
    pub within: Option<AreaPath>,
}

const COLUMNS: &str = "c.id, c.name, c.kind, c.purpose, c.state, c.area_id, c.area_path, \
     c.starts_on, c.ends_on, c.owner_id, c.owner, c.rule, c.form, c.tag_classes, c.desk_user_id, \
     c.public_token, c.target_count, c.launched_at, c.closed_at, c.created_at";

fn campaign_from_row(r: &dyn DbRow) -> Result<Campaign, StoreError> {
    Ok(Campaign {
        id: r.int(0)?,
        name: r.text(1)?,
        kind: decode(CampaignKind::parse(&r.text(2)?))?,
        purpose: r.opt_text(3)?,
        state: decode(CampaignState::parse(&r.text(4)?))?,
        area_id: r.int(5)?,
        area_path: decode(AreaPath::parse(&r.text(6)?))?,
        starts_on: r.date(7)?,
        ends_on: r.date(8)?,
        owner_id: r.opt_int(9)?,
        owner: r.text(10)?,
        rule: decode(serde_json::from_str(&r.text(11)?))?,
        form: decode(serde_json::from_str(&r.text(12)?))?,
        tag_classes: SensitivitySet::from_bits(u8::try_from(r.int(13)?).unwrap_or(u8::MAX)),
        desk_user_id: r.opt_int(14)?,
        public_token: r.opt_text(15)?,
        target_count: r.int(16)?,
        launched_at: r.opt_timestamp(17)?,
        closed_at: r.opt_timestamp(18)?,
        created_at: r.timestamp(19)?,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serializes")
}

/// Whether the caller sees the campaign at all: its area holds or lies within the scope, and its
/// rule uses only tag classes the caller sees.
fn visible(scope: &Scope, p: &mut Vec<Value>) -> String {
    let area = within_or_above("c.area_path", scope, p);
    let classes = visible_class_mask("c.tag_classes", scope, p);
    format!("{area} AND {classes}")
}

/// The whole campaign lies within the scope: who may plan and run it.
fn managed(scope: &Scope, p: &mut Vec<Value>) -> String {
    let area = within("c.area_path", scope, p);
    let classes = visible_class_mask("c.tag_classes", scope, p);
    format!("{area} AND {classes}")
}

impl Store {
    pub(crate) fn for_update(&self) -> &'static str {
        match self.db.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Creates a draft in an area within the scope.
    pub async fn create_campaign(
        &self,
        scope: &Scope,
        new: &NewCampaign,
    ) -> Result<Campaign, StoreError> {
        let area = self.area_for_write(scope, new.area_id).await?;
        let t = now();
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO campaigns (name, kind, purpose, state, area_id, area_path, starts_on, \
                 ends_on, owner_id, owner, rule, form, tag_classes, desk_user_id, created_at, \
                 updated_at) VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 RETURNING id",
                &params![
                    new.name.as_str(),
                    new.kind.as_str(),
                    new.purpose.clone(),
                    area.id,
                    area.path.as_str(),
                    new.starts_on,
                    new.ends_on,
                    new.owner_id,
                    new.owner.as_str(),
                    json(&new.rule),
                    json(&new.form),
                    i64::from(new.tag_classes.bits()),
                    new.desk_user_id,
                    t,
                    t
                ],
            )
            .await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// A campaign the caller sees (see the module comment).
    pub async fn campaign(&self, scope: &Scope, id: i64) -> Result<Campaign, StoreError> {
        let mut p = Vec::from(params![id]);
        let seen = visible(scope, &mut p);
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM campaigns c WHERE c.id = ? AND {seen}"),
                &p,
                campaign_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// A campaign wholly within the scope, for planning and running it; locked on PostgreSQL
    /// for the rest of the transaction.
    pub(crate) async fn managed_campaign_in(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        id: i64,
    ) -> Result<Campaign, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = managed(scope, &mut p);
        let lock = self.for_update();
        tx.query_opt(
            &format!("SELECT {COLUMNS} FROM campaigns c WHERE c.id = ? AND {inside}{lock}"),
            &p,
            campaign_from_row,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Whether the caller may plan and run this campaign (it lies wholly within their scope).
    pub async fn manages_campaign(&self, scope: &Scope, id: i64) -> Result<bool, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = managed(scope, &mut p);
        Ok(self
            .db
            .query_opt(
                &format!("SELECT 1 FROM campaigns c WHERE c.id = ? AND {inside}"),
                &p,
                |r| r.int(0),
            )
            .await?
            .is_some())
    }

    /// Campaigns the caller sees, newest first.
    pub async fn campaigns(
        &self,
        scope: &Scope,
        filter: &CampaignFilter,
        page: &PageRequest,
    ) -> Result<Page<Campaign>, StoreError> {
        let mut p = Vec::new();
        let mut conds = vec![visible(scope, &mut p)];
        if let Some(root) = &filter.within {
            let (lo, hi) = root.range();
            let mut above: Vec<Value> = root
                .ancestors()
                .into_iter()
                .map(|a| Value::Text(a.as_str().to_owned()))
                .collect();
            above.push(Value::Text(root.as_str().to_owned()));
            let marks = vec!["?"; above.len()].join(", ");
            conds.push(format!(
                "((c.area_path >= ? AND c.area_path < ?) OR c.area_path IN ({marks}))"
            ));
            p.push(Value::Text(lo));
            p.push(Value::Text(hi));
            p.extend(above);
        }
        if let Some(state) = filter.state {
            conds.push("c.state = ?".into());
            p.push(state.as_str().into());
        }
        if let Some(c) = &page.after {
            conds.push("c.id < ?".into());
            p.push(Value::Int(c.id));
        }
        p.push(Value::Int(page.fetch()));
        let sql = format!(
            "SELECT {COLUMNS} FROM campaigns c WHERE {} ORDER BY c.id DESC LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, campaign_from_row).await?;
        Ok(Page::from_rows(rows, page, |c| Cursor {
            path: String::new(),
            id: c.id,
        }))
    }

    /// Applies a patch; the plan (kind, rule, form) only to a draft.
    pub async fn update_campaign(
        &self,
        scope: &Scope,
        id: i64,
        patch: &CampaignPatch,
    ) -> Result<Result<Campaign, wangge_domain::CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let c = self.managed_campaign_in(&mut tx, scope, id).await?;
        if patch.plan.is_some()
            && let Err(e) = c.state.may_edit_plan()
        {
            return Ok(Err(e));
        }
        let mut sets: Vec<String> = Vec::new();
        let mut p: Vec<Value> = Vec::new();
        let mut set = |col: &str, v: Value| {
            sets.push(format!("{col} = ?"));
            p.push(v);
        };
        if let Some(n) = &patch.name {
            set("name", n.as_str().into());
        }
        if let Some(purpose) = &patch.purpose {
            set("purpose", purpose.clone().into());
        }
        if let Some(d) = patch.starts_on {
            set("starts_on", d.into());
        }
        if let Some(d) = patch.ends_on {
            set("ends_on", d.into());
        }
        if let Some(desk) = patch.desk_user_id {
            set("desk_user_id", desk.into());
        }
        if let Some(plan) = &patch.plan {
            set("kind", plan.kind.as_str().into());
            set("rule", json(&plan.rule).into());
            set("form", json(&plan.form).into());
            set(
                "tag_classes",
                Value::Int(i64::from(plan.tag_classes.bits())),
            );
        }
        set("updated_at", now().into());
        p.push(Value::Int(id));
        tx.execute(
            &format!("UPDATE campaigns SET {} WHERE id = ?", sets.join(", ")),
            &p,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(self.campaign(scope, id).await?))
    }

    /// Closes a campaign: nothing more is recorded; items stay.
    pub async fn close_campaign(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Result<Campaign, wangge_domain::CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let c = self.managed_campaign_in(&mut tx, scope, id).await?;
        let next = match c.state.close() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let t = now();
        tx.execute(
            "UPDATE campaigns SET state = ?, closed_at = ?, public_token = NULL, updated_at = ? \
             WHERE id = ?",
            &params![next.as_str(), t, t, id],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(self.campaign(scope, id).await?))
    }

    /// Opens (with a new token) or closes the public pre-registration link.
    pub async fn set_campaign_public_token(
        &self,
        scope: &Scope,
        id: i64,
        token: Option<&str>,
    ) -> Result<Campaign, StoreError> {
        let mut tx = self.db.begin().await?;
        self.managed_campaign_in(&mut tx, scope, id).await?;
        tx.execute(
            "UPDATE campaigns SET public_token = ?, updated_at = ? WHERE id = ?",
            &params![token, now(), id],
        )
        .await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// The buildings a campaign's doors are in, by standard address: what its public page offers
    /// to pick from (places, not people).
    pub async fn campaign_buildings(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.db
            .query(
                "SELECT b.id, b.address FROM places b WHERE b.id IN \
                 (SELECT ci.building_id FROM campaign_items ci WHERE ci.campaign_id = ?) \
                 ORDER BY LENGTH(b.address), b.address",
                &params![campaign_id],
                |r| Ok((r.int(0)?, r.text(1)?)),
            )
            .await
    }

    /// Whether an active staff user works in the area at `path`: one of their areas holds it or
    /// lies inside it. Who may be named for a campaign's residents' requests.
    pub async fn user_covers(&self, user_id: i64, path: &AreaPath) -> Result<bool, StoreError> {
        let mut p = Vec::from(params![user_id]);
        let above = covering("a.path", path, &mut p);
        let below = within("a.path", &Scope::of([path.clone()]), &mut p);
        Ok(self
            .db
            .query_opt(
                &format!(
                    "SELECT 1 FROM users u JOIN user_areas ua ON ua.user_id = u.id \
                     JOIN areas a ON a.id = ua.area_id WHERE u.id = ? AND u.disabled_at IS NULL \
                     AND u.role IN ('grid_worker', 'community_staff', 'subdistrict_manager', \
                     'district_manager') AND ({above} OR {below})"
                ),
                &p,
                |r| r.int(0),
            )
            .await?
            .is_some())
    }

    /// Active staff users who work in the area at `path` (one of their areas holds it or lies
    /// inside it), by role and name: whom a campaign's planner may name for its residents'
    /// requests or hand doors to. The same rule as [`Store::user_covers`].
    pub async fn campaign_staff(
        &self,
        path: &AreaPath,
    ) -> Result<Vec<crate::assists::Colleague>, StoreError> {
        let mut p = Vec::new();
        let above = covering("a.path", path, &mut p);
        let below = within("a.path", &Scope::of([path.clone()]), &mut p);
        self.db
            .query(
                &format!(
                    "SELECT u.id, u.username, u.display_name, u.role FROM users u \
                     WHERE u.disabled_at IS NULL AND u.role IN ('grid_worker', 'community_staff', \
                     'subdistrict_manager', 'district_manager') AND EXISTS (SELECT 1 FROM \
                     user_areas ua JOIN areas a ON a.id = ua.area_id WHERE ua.user_id = u.id \
                     AND ({above} OR {below})) ORDER BY u.role, u.display_name, u.id"
                ),
                &p,
                |r| {
                    Ok(crate::assists::Colleague {
                        id: r.int(0)?,
                        username: r.text(1)?,
                        display_name: r.text(2)?,
                        role: decode(wangge_domain::Role::parse(&r.text(3)?))?,
                    })
                },
            )
            .await
    }

    /// The campaign behind a public link, if the link is open (no scope: the link is the key).
    pub async fn campaign_by_public_token(&self, token: &str) -> Result<Campaign, StoreError> {
        self.db
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM campaigns c WHERE c.public_token = ? \
                     AND c.state = 'active'"
                ),
                &params![token],
                campaign_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }
}
