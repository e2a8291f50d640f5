//! Working the doors: record an outcome (form answers checked against the campaign's form, the
//! visit and registry updates written with it), reopen, reassign and schedule in bulk.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use wangge_domain::campaign::Slot;
use wangge_domain::campaign::form::StoredAnswer;
use wangge_domain::{ContactMode, ItemOutcome, Scope};
use wangge_store::StoreError;
use wangge_store::campaigns::{
    CampaignItem, ItemSelection, ItemsChanged, RecordOutcome, WriteBack,
};
use wangge_store::visits::Visited;

use super::{campaign_conflict, problems, text};
use crate::registry::VisitTag;
use crate::{FieldError, Registry, Result, ServiceError};

pub const NOTE_MAX: usize = 500;

/// What happened at one door.
#[derive(Debug, Clone)]
pub struct RecordItem {
    pub outcome: ItemOutcome,
    /// How the door was worked, when not as planned (e.g. contactless after a call).
    pub mode: Option<ContactMode>,
    /// Form answers as typed: field key → text.
    pub answers: BTreeMap<String, String>,
    /// Photos taken at the door (they attach to the visit the outcome records).
    pub photos: u32,
    pub note: Option<String>,
    /// Registry write-back: tags seen at the door, assignments that no longer hold.
    pub add_tags: Vec<VisitTag>,
    pub end_tags: Vec<i64>,
}

/// A bulk slot change.
#[derive(Debug, Clone)]
pub enum SlotChange {
    Set(Slot),
    Clear,
}

impl Registry {
    /// Records an outcome at a door. Returns the door as it is now and the visit recorded on the
    /// household's history (none when the door was not found).
    pub async fn record_item(
        &self,
        scope: &Scope,
        by: (Option<i64>, &str),
        item_id: i64,
        cmd: RecordItem,
    ) -> Result<(CampaignItem, Option<i64>)> {
        let item = self.store.campaign_item(scope, item_id).await?;
        let campaign = self.store.campaign(scope, item.campaign_id).await?;
        let answers = campaign
            .form
            .answer(&cmd.answers, cmd.photos, cmd.outcome.completes_form())
            .map_err(problems)?;
        let note = text("note", cmd.note, NOTE_MAX)?;
        let answers_json = (!answers.is_empty())
            .then(|| serde_json::to_string(&answers).expect("answers serialize"));
        let summary: Vec<String> = match &answers_json {
            Some(j) => {
                let stored: BTreeMap<String, StoredAnswer> =
                    serde_json::from_str(j).expect("answers read back");
                campaign
                    .form
                    .display(&stored, true)
                    .into_iter()
                    .map(|(label, value)| format!("{label}：{value}"))
                    .collect()
            }
            None => Vec::new(),
        };
        let visit_notes = summary
            .into_iter()
            .chain(note.clone())
            .collect::<Vec<_>>()
            .join("；");
        let visited = match (item.person_id, item.household_id) {
            (Some(p), _) => Visited::Person(p),
            (None, Some(h)) => Visited::Household(h),
            (None, None) => return Err(ServiceError::NotFound),
        };
        let add_tags = self
            .visit_tags(scope, visited, &cmd.add_tags, self.clock.today())
            .await?;
        let rec = RecordOutcome {
            outcome: cmd.outcome,
            mode: cmd.mode,
            answers: answers_json,
            note,
            at: OffsetDateTime::now_utc(),
            by_id: by.0,
            by_name: by.1.to_owned(),
            visit_purpose: campaign.name.clone(),
            visit_notes: (!visit_notes.is_empty()).then_some(visit_notes),
            write_back: WriteBack {
                add_tags,
                end_tags: cmd.end_tags,
            },
        };
        match self.store.record_item_outcome(scope, item_id, &rec).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(campaign_conflict(&e)),
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "tag_assignment.duplicate",
                "要添加的标签目前已在此对象上，或要结束的标签已结束",
                "A tag to add is already current, or a tag to end has already ended",
            )),
            Err(StoreError::NotFound) => Err(ServiceError::invalid(FieldError::unknown_reference(
                "end_tags",
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn reopen_item(
        &self,
        scope: &Scope,
        by: (Option<i64>, &str),
        item_id: i64,
    ) -> Result<CampaignItem> {
        self.store
            .reopen_item(scope, item_id, by)
            .await?
            .map_err(|e| campaign_conflict(&e))
    }

    /// Gives doors to a colleague; only doors inside the colleague's areas change.
    pub async fn assign_items(
        &self,
        scope: &Scope,
        campaign_id: i64,
        sel: &ItemSelection,
        assignee_id: i64,
    ) -> Result<ItemsChanged> {
        self.store.campaign(scope, campaign_id).await?;
        self.store
            .assign_items(scope, campaign_id, sel, assignee_id)
            .await?
            .map_err(|e| campaign_conflict(&e))
    }

    pub async fn set_item_slots(
        &self,
        scope: &Scope,
        campaign_id: i64,
        sel: &ItemSelection,
        change: &SlotChange,
    ) -> Result<ItemsChanged> {
        self.store.campaign(scope, campaign_id).await?;
        let slot = match change {
            SlotChange::Set(s) => Some(s),
            SlotChange::Clear => None,
        };
        self.store
            .set_item_slots(scope, campaign_id, sel, slot)
            .await?
            .map_err(|e| campaign_conflict(&e))
    }
}
