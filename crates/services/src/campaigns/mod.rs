//! Campaign use cases: plan (with a live preview of the targets), launch (freeze the list), add
//! newcomers on demand, close; record outcomes at the doors (`outcome`); residents'
//! pre-registrations (`requests`); the item list for export (`export`).
//!
//! Every rule is resolved inside the caller's scope: area codes must lie within the scope and
//! within the campaign's own area, tags must be ones the caller sees (a hidden tag is an unknown
//! tag), ages become birth-date bounds as of today.

mod export;
mod outcome;
mod requests;

pub use export::{ExportRow, ExportSheet};
pub use outcome::{RecordItem, SlotChange};
pub use requests::{PublicRequest, REFERENCE_LEN, new_public_token};

use time::Date;
use wangge_domain::campaign::form::FieldDraft;
use wangge_domain::campaign::{CONTACTLESS_TAG, InputProblem, RuleDraft};
use wangge_domain::{
    AreaCode, AreaPath, CampaignError, CampaignForm, CampaignKind, Scope, SensitivitySet, TagCode,
    TagSubject, TargetRule,
};
use wangge_store::StoreError;
use wangge_store::areas::{Area, AreaFilter};
use wangge_store::campaigns::{
    Campaign, CampaignPatch, Coverage, CoverageArea, NewCampaign, Plan, Preview, ResolvedRule,
};
use wangge_store::page::PageRequest;

use crate::error::reference;
use crate::{FieldError, Registry, Result, ServiceError};

pub const NAME_MAX: usize = 60;
pub const PURPOSE_MAX: usize = 500;
/// A campaign longer than a year is a programme, not a campaign.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// What a campaign is to be: everything a draft holds.
#[derive(Debug, Clone)]
pub struct PlanCampaign {
    pub name: String,
    pub kind: CampaignKind,
    pub purpose: Option<String>,
    /// The campaign's own area; the rule's areas default to it and must lie within it.
    pub area: AreaCode,
    pub starts_on: Date,
    pub ends_on: Date,
    pub rule: RuleDraft,
    pub form: Vec<FieldDraft>,
    /// The staff member who handles residents' pre-registrations.
    pub desk_user_id: Option<i64>,
}

/// A preview: the campaign's area and kind, and the rule to try.
#[derive(Debug, Clone)]
pub struct PreviewTargets {
    pub area: AreaCode,
    pub kind: CampaignKind,
    pub rule: RuleDraft,
}

pub fn campaign_conflict(e: &CampaignError) -> ServiceError {
    ServiceError::Conflict {
        code: e.code(),
        message_zh: e.message_zh(),
        message_en: e.message_en(),
    }
}

pub(crate) fn problems(list: Vec<InputProblem>) -> ServiceError {
    ServiceError::Invalid(
        list.iter()
            .map(|p| FieldError::from_domain(&p.field, &p.error))
            .collect(),
    )
}

pub(crate) fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(ServiceError::invalid(FieldError::new(
            field,
            "text.too_long",
            format!("最多 {max} 个字"),
            format!("At most {max} characters"),
        )));
    }
    Ok(v)
}

fn period(starts_on: Date, ends_on: Date) -> Result<()> {
    if ends_on < starts_on {
        return Err(ServiceError::invalid(FieldError::new(
            "ends_on",
            "campaign.period_order",
            "结束日期不能早于开始日期",
            "The end date cannot be before the start date",
        )));
    }
    if (ends_on - starts_on).whole_days() > MAX_PERIOD_DAYS {
        return Err(ServiceError::invalid(FieldError::new(
            "ends_on",
            "campaign.period_length",
            format!("行动周期最长 {MAX_PERIOD_DAYS} 天"),
            format!("A campaign lasts at most {MAX_PERIOD_DAYS} days"),
        )));
    }
    Ok(())
}

impl Registry {
    /// The campaign's area, inside the scope (not merely above it).
    async fn campaign_area(&self, scope: &Scope, code: &AreaCode) -> Result<(i64, AreaPath)> {
        let area = reference("area", self.store.area_by_code(scope, code).await)?;
        if !scope.contains(&area.path) {
            return Err(ServiceError::invalid(FieldError::unknown_reference("area")));
        }
        Ok((area.id, area.path))
    }

    /// Resolves a checked rule inside the scope and the campaign's area. Also returns the tag
    /// classes it is built on (the campaign is invisible to whoever may not see them).
    pub async fn resolve_rule(
        &self,
        scope: &Scope,
        campaign_area: &AreaPath,
        kind: CampaignKind,
        rule: &TargetRule,
    ) -> Result<(ResolvedRule, SensitivitySet)> {
        let mut errors = Vec::new();
        let mut areas = Vec::new();
        for (i, code) in rule.areas().iter().enumerate() {
            let field = format!("rule.areas[{i}]");
            match self.store.area_by_code(scope, code).await {
                Ok(a) if scope.contains(&a.path) && a.path.is_within(campaign_area) => {
                    areas.push(a.path);
                }
                Ok(_) => errors.push(FieldError::new(
                    &field,
                    "rule.area_outside",
                    "该区域不在本次行动的区域内（或不在您的管辖范围内）",
                    "This area is outside the campaign's area (or outside yours)",
                )),
                Err(StoreError::NotFound) => errors.push(FieldError::unknown_reference(&field)),
                Err(e) => return Err(e.into()),
            }
        }
        let mut classes = SensitivitySet::none();
        let (mut person_tags, mut household_tags) = (Vec::new(), Vec::new());
        for (i, code) in rule.tags().iter().enumerate() {
            match self.store.tag_by_code(scope, code).await {
                Ok(t) => {
                    classes = classes.union(SensitivitySet::of(&[t.sensitivity]));
                    match t.subject {
                        TagSubject::Person => person_tags.push(t.id),
                        TagSubject::Household => household_tags.push(t.id),
                    }
                }
                Err(StoreError::NotFound) => {
                    errors.push(FieldError::unknown_reference(&format!("rule.tags[{i}]")));
                }
                Err(e) => return Err(e.into()),
            }
        }
        for (i, id) in rule.places().iter().enumerate() {
            match self.store.place(scope, *id).await {
                Ok(p)
                    if p.area_path.is_within(campaign_area)
                        || campaign_area.is_within(&p.area_path) => {}
                Ok(_) | Err(StoreError::NotFound) => {
                    errors.push(FieldError::unknown_reference(&format!("rule.places[{i}]")));
                }
                Err(e) => return Err(e.into()),
            }
        }
        for (field, list) in [
            ("rule.include_households", rule.include_households()),
            ("rule.exclude_households", rule.exclude_households()),
        ] {
            for (i, id) in list.iter().enumerate() {
                match self.store.household(scope, *id).await {
                    Ok(h) if h.area_path.is_within(campaign_area) => {}
                    Ok(_) | Err(StoreError::NotFound) => {
                        errors.push(FieldError::unknown_reference(&format!("{field}[{i}]")));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let contactless_tag = match TagCode::parse(CONTACTLESS_TAG) {
            Ok(code) => match self.store.tag_by_code(scope, &code).await {
                Ok(t) => Some(t.id),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let resolved = ResolvedRule {
            subject: kind.subject(),
            areas,
            person_tags,
            household_tags,
            born_by: rule.age_min().map(|a| self.clock.born_by_age(a)),
            born_after: rule.age_max().map(|a| self.clock.born_by_age(a + 1)),
            residence: rule.residence().to_vec(),
            places: rule.places().to_vec(),
            include_households: rule.include_households().to_vec(),
            exclude_households: rule.exclude_households().to_vec(),
            contactless_tag,
        };
        Ok((resolved, classes))
    }

    /// The rule with its areas defaulting to the campaign's own, checked.
    fn checked_rule(area: &AreaCode, mut draft: RuleDraft) -> Result<TargetRule> {
        if draft.areas.is_empty() {
            draft.areas.push(area.clone());
        }
        TargetRule::parse(draft).map_err(problems)
    }

    /// How many targets a rule selects now (nothing is saved).
    pub async fn preview_campaign(&self, scope: &Scope, q: PreviewTargets) -> Result<Preview> {
        let (_, area_path) = self.campaign_area(scope, &q.area).await?;
        let rule = Self::checked_rule(&q.area, q.rule)?;
        let (resolved, _) = self.resolve_rule(scope, &area_path, q.kind, &rule).await?;
        Ok(self.store.preview_targets(scope, &resolved).await?)
    }

    async fn checked_desk(
        &self,
        desk_user_id: Option<i64>,
        area_path: &AreaPath,
    ) -> Result<Option<i64>> {
        let Some(id) = desk_user_id else {
            return Ok(None);
        };
        if self.store.user_covers(id, area_path).await? {
            Ok(Some(id))
        } else {
            Err(ServiceError::invalid(FieldError::new(
                "desk_user_id",
                "campaign.desk_user",
                "指定的工作人员不存在、已停用，或其管辖范围不含本次行动的区域",
                "That staff member does not exist, is disabled, or does not cover the campaign's area",
            )))
        }
    }

    /// Creates a draft.
    pub async fn create_campaign(
        &self,
        scope: &Scope,
        owner: (Option<i64>, &str),
        cmd: PlanCampaign,
    ) -> Result<Campaign> {
        let name = text("name", Some(cmd.name), NAME_MAX)?
            .ok_or_else(|| ServiceError::invalid(FieldError::required("name")))?;
        let purpose = text("purpose", cmd.purpose, PURPOSE_MAX)?;
        period(cmd.starts_on, cmd.ends_on)?;
        let (area_id, area_path) = self.campaign_area(scope, &cmd.area).await?;
        let rule = Self::checked_rule(&cmd.area, cmd.rule)?;
        let form = CampaignForm::parse(cmd.form).map_err(problems)?;
        let (_, tag_classes) = self
            .resolve_rule(scope, &area_path, cmd.kind, &rule)
            .await?;
        let desk_user_id = self.checked_desk(cmd.desk_user_id, &area_path).await?;
        let new = NewCampaign {
            name,
            kind: cmd.kind,
            purpose,
            area_id,
            starts_on: cmd.starts_on,
            ends_on: cmd.ends_on,
            owner_id: owner.0,
            owner: owner.1.to_owned(),
            rule,
            form,
            tag_classes,
            desk_user_id,
        };
        Ok(self.store.create_campaign(scope, &new).await?)
    }

    /// Replaces a draft's plan and details (a launched campaign keeps its plan: 409).
    pub async fn update_campaign(
        &self,
        scope: &Scope,
        id: i64,
        cmd: PlanCampaign,
    ) -> Result<Campaign> {
        let current = self.store.campaign(scope, id).await?;
        if !self.store.manages_campaign(scope, id).await? {
            return Err(ServiceError::NotFound);
        }
        current
            .state
            .may_edit_plan()
            .map_err(|e| campaign_conflict(&e))?;
        let name = text("name", Some(cmd.name), NAME_MAX)?
            .ok_or_else(|| ServiceError::invalid(FieldError::required("name")))?;
        let purpose = text("purpose", cmd.purpose, PURPOSE_MAX)?;
        period(cmd.starts_on, cmd.ends_on)?;
        if cmd.area != self.store.area(scope, current.area_id).await?.code {
            return Err(ServiceError::invalid(FieldError::new(
                "area",
                "campaign.area_fixed",
                "行动的区域创建后不能更改，请新建一个行动",
                "A campaign's area cannot change; create a new campaign",
            )));
        }
        let rule = Self::checked_rule(&cmd.area, cmd.rule)?;
        let form = CampaignForm::parse(cmd.form).map_err(problems)?;
        let (_, tag_classes) = self
            .resolve_rule(scope, &current.area_path, cmd.kind, &rule)
            .await?;
        let desk_user_id = self
            .checked_desk(cmd.desk_user_id, &current.area_path)
            .await?;
        let patch = CampaignPatch {
            name: Some(name),
            purpose: Some(purpose),
            starts_on: Some(cmd.starts_on),
            ends_on: Some(cmd.ends_on),
            desk_user_id: Some(desk_user_id),
            plan: Some(Plan {
                kind: cmd.kind,
                rule,
                form,
                tag_classes,
            }),
        };
        self.store
            .update_campaign(scope, id, &patch)
            .await?
            .map_err(|e| campaign_conflict(&e))
    }

    /// The campaign's rule resolved as of today, for a campaign the caller manages.
    async fn managed_rule(&self, scope: &Scope, id: i64) -> Result<(Campaign, ResolvedRule)> {
        let c = self.store.campaign(scope, id).await?;
        if !self.store.manages_campaign(scope, id).await? {
            return Err(ServiceError::NotFound);
        }
        let (resolved, _) = self
            .resolve_rule(scope, &c.area_path, c.kind, &c.rule)
            .await
            .map_err(|e| match e {
                // The rule was valid when saved; a part since gone (a deleted place, a tag now
                // hidden) is a conflict with the campaign, not bad input now.
                ServiceError::Invalid(_) => ServiceError::conflict(
                    "campaign.rule_stale",
                    "行动的目标规则引用了已不存在或不可见的区域、标签或地点，请修改草稿",
                    "The target rule names an area, tag or place that is gone or hidden; edit the draft",
                ),
                other => other,
            })?;
        Ok((c, resolved))
    }

    /// Launches a draft: the targets are frozen as its doors. Returns the campaign now.
    pub async fn launch_campaign(&self, scope: &Scope, id: i64) -> Result<Campaign> {
        let (_, resolved) = self.managed_rule(scope, id).await?;
        self.store
            .launch_campaign(scope, id, &resolved)
            .await?
            .map_err(|e| campaign_conflict(&e))?;
        Ok(self.store.campaign(scope, id).await?)
    }

    /// Targets that entered the rule since launch, not yet listed.
    pub async fn preview_newcomers(&self, scope: &Scope, id: i64) -> Result<Preview> {
        let (c, resolved) = self.managed_rule(scope, id).await?;
        c.state.may_work().map_err(|e| campaign_conflict(&e))?;
        Ok(self.store.preview_newcomers(scope, id, &resolved).await?)
    }

    /// Adds the newcomers as doors; the denominator grows by as many. Returns how many.
    pub async fn add_newcomers(&self, scope: &Scope, id: i64) -> Result<i64> {
        let (_, resolved) = self.managed_rule(scope, id).await?;
        self.store
            .add_newcomers(scope, id, &resolved)
            .await?
            .map_err(|e| campaign_conflict(&e))
    }

    pub async fn close_campaign(&self, scope: &Scope, id: i64) -> Result<Campaign> {
        self.store
            .close_campaign(scope, id)
            .await?
            .map_err(|e| campaign_conflict(&e))
    }

    /// Opens the residents' pre-registration link or closes it. Opening an open link keeps it
    /// (the QR code is already on the stairwell notices); reopening a closed one makes a new one.
    pub async fn set_campaign_link(&self, scope: &Scope, id: i64, open: bool) -> Result<Campaign> {
        let c = self.store.campaign(scope, id).await?;
        if open {
            c.state.may_work().map_err(|e| campaign_conflict(&e))?;
            if c.public_token.is_some() && self.store.manages_campaign(scope, id).await? {
                return Ok(c);
            }
        }
        let token = open.then(new_public_token);
        Ok(self
            .store
            .set_campaign_public_token(scope, id, token.as_deref())
            .await?)
    }
}

impl Registry {
    /// Coverage of the doors the caller sees, broken down by the children of `root` (or, without
    /// one, by the caller's own areas).
    pub async fn campaign_coverage(
        &self,
        scope: &Scope,
        c: &Campaign,
        root: Option<&AreaPath>,
    ) -> Result<Coverage> {
        let grids = self
            .store
            .campaign_counts(scope, c.id, self.clock.today())
            .await?;
        let areas: Vec<Area> = match root {
            Some(path) => {
                let filter = AreaFilter {
                    parent_id: Some(path.last_id()),
                    ..Default::default()
                };
                let page = PageRequest {
                    after: None,
                    limit: wangge_store::page::MAX_LIMIT,
                };
                self.store.areas(scope, &filter, &page).await?.items
            }
            None => {
                let mut own = Vec::new();
                for r in scope.roots() {
                    own.push(self.store.area(scope, r.last_id()).await?);
                }
                own
            }
        };
        let areas: Vec<CoverageArea> = areas
            .into_iter()
            .filter(|a| scope.contains(&a.path))
            .map(|a| CoverageArea {
                id: a.id,
                code: a.code.as_str().to_owned(),
                name: a.name,
                path: a.path,
            })
            .collect();
        Ok(Coverage::from_grids(&grids, &areas))
    }
}
