use time::Date;
use wangge_domain::{Scope, TagCode, TagSubject};
use wangge_store::StoreError;
use wangge_store::tags::{Labelled, NewTag, NewTagAssignment, Tag, TagAssignment, TagPatch};

use super::Registry;
use super::areas::check_name;
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone)]
pub struct AssignTag {
    pub tag: TagCode,
    pub on: Labelled,
    pub started_on: Option<Date>,
    pub note: Option<String>,
}

impl Registry {
    pub async fn create_tag(&self, new: NewTag) -> Result<Tag> {
        let new = NewTag {
            name_zh: check_name("name_zh", &new.name_zh)?,
            name_en: check_name("name_en", &new.name_en)?,
            ..new
        };
        match self.store.create_tag(&new).await {
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "tag.duplicate_code",
                "已有相同代码的标签",
                "A tag with this code already exists",
            )),
            other => Ok(other?),
        }
    }

    pub async fn update_tag(&self, id: i64, patch: TagPatch) -> Result<Tag> {
        let patch = TagPatch {
            name_zh: patch
                .name_zh
                .map(|n| check_name("name_zh", &n))
                .transpose()?,
            name_en: patch
                .name_en
                .map(|n| check_name("name_en", &n))
                .transpose()?,
            sensitivity: patch.sensitivity,
        };
        Ok(self.store.update_tag(id, &patch).await?)
    }

    pub async fn assign_tag(&self, scope: &Scope, cmd: AssignTag) -> Result<TagAssignment> {
        let today = self.clock.today();
        let tag = reference("tag", self.store.tag_by_code(scope, &cmd.tag).await)?;
        let fits = matches!(
            (tag.subject, cmd.on),
            (TagSubject::Person, Labelled::Person(_))
                | (TagSubject::Household, Labelled::Household(_))
        );
        if !fits {
            return Err(ServiceError::invalid(FieldError::new(
                "tag",
                "tag.subject_mismatch",
                format!(
                    "标签“{}”只能用于{}",
                    tag.name_zh,
                    if tag.subject == TagSubject::Person {
                        "居民"
                    } else {
                        "户"
                    }
                ),
                format!(
                    "Tag “{}” applies to {} only",
                    tag.name_en,
                    if tag.subject == TagSubject::Person {
                        "persons"
                    } else {
                        "households"
                    }
                ),
            )));
        }
        let started_on = cmd.started_on.unwrap_or(today);
        if started_on > today {
            return Err(ServiceError::invalid(FieldError::new(
                "started_on",
                "date.future",
                "日期不能晚于今天",
                "The date cannot be in the future",
            )));
        }
        let note = cmd
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(ServiceError::invalid(FieldError::new(
                "note",
                "note.too_long",
                "备注不能超过 500 个字",
                "Note must be at most 500 characters",
            )));
        }
        let new = NewTagAssignment {
            tag_id: tag.id,
            on: cmd.on,
            started_on,
            note,
        };
        let field = match cmd.on {
            Labelled::Person(_) => "person_id",
            Labelled::Household(_) => "household_id",
        };
        match self.store.create_tag_assignment(scope, &new).await {
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "tag_assignment.duplicate",
                "该标签目前已在此对象上",
                "This tag is already current on this record",
            )),
            other => reference(field, other),
        }
    }

    pub async fn end_tag_assignment(
        &self,
        scope: &Scope,
        id: i64,
        ended_on: Option<Date>,
    ) -> Result<TagAssignment> {
        let today = self.clock.today();
        let on = ended_on.unwrap_or(today);
        if on > today {
            return Err(ServiceError::invalid(FieldError::new(
                "ended_on",
                "date.future",
                "日期不能晚于今天",
                "The date cannot be in the future",
            )));
        }
        match self.store.end_tag_assignment(scope, id, on).await {
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "tag_assignment.ended",
                "该标签已结束",
                "This tag assignment has already ended",
            )),
            Err(StoreError::Check(_)) => Err(ServiceError::invalid(FieldError::new(
                "ended_on",
                "date.before_start",
                "结束日期早于开始日期",
                "The end date is before the start date",
            ))),
            other => Ok(other?),
        }
    }
}
