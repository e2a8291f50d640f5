use time::{Date, Duration, OffsetDateTime};
use wangge_domain::{Scope, TagCode, TagSubject, VisitOutcome};
use wangge_store::StoreError;
use wangge_store::tags::{Labelled, NewTagAssignment};
use wangge_store::visits::{NewVisit, Visit, Visited};

use super::Registry;
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

/// What the visitor saw, in a few words each.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Observations {
    pub health: Option<String>,
    pub living: Option<String>,
    pub needs: Option<String>,
}

/// A tag to add during a visit: on the visited person or household, or on a named member.
#[derive(Debug, Clone)]
pub struct VisitTag {
    pub tag: TagCode,
    pub person_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RecordVisit {
    pub visited: Visited,
    pub visited_at: Option<OffsetDateTime>,
    pub outcome: VisitOutcome,
    pub purpose: Option<String>,
    pub notes: Option<String>,
    pub observations: Option<Observations>,
    pub add_tags: Vec<VisitTag>,
    pub end_tags: Vec<i64>,
}

/// Clocks on phones drift; a visit a few minutes "in the future" is still today's visit.
const CLOCK_SKEW: Duration = Duration::minutes(10);

fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
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

impl Registry {
    /// Tags seen at a door, checked against the visited subject: person tags need a person (the
    /// visited one or a named member), household tags the household.
    pub(crate) async fn visit_tags(
        &self,
        scope: &Scope,
        visited: Visited,
        tags: &[VisitTag],
        on: Date,
    ) -> Result<Vec<NewTagAssignment>> {
        let mut add_tags = Vec::new();
        for (i, t) in tags.iter().enumerate() {
            let field = format!("add_tags[{i}].tag");
            let tag = reference(&field, self.store.tag_by_code(scope, &t.tag).await)?;
            let on_subject = match (t.person_id, visited) {
                (Some(p), _) => Labelled::Person(p),
                (None, Visited::Person(p)) => Labelled::Person(p),
                (None, Visited::Household(h)) => Labelled::Household(h),
            };
            let fits = matches!(
                (tag.subject, on_subject),
                (TagSubject::Person, Labelled::Person(_))
                    | (TagSubject::Household, Labelled::Household(_))
            );
            if !fits {
                return Err(ServiceError::invalid(FieldError::new(
                    &field,
                    "tag.subject_mismatch",
                    format!(
                        "标签“{}”不能用于此对象（居民标签请指定 person_id）",
                        tag.name_zh
                    ),
                    format!(
                        "Tag “{}” does not fit here (name a person_id for person tags)",
                        tag.name_en
                    ),
                )));
            }
            add_tags.push(NewTagAssignment {
                tag_id: tag.id,
                on: on_subject,
                started_on: on,
                note: None,
            });
        }
        Ok(add_tags)
    }

    pub async fn record_visit(
        &self,
        scope: &Scope,
        visitor: (Option<i64>, &str),
        cmd: RecordVisit,
    ) -> Result<Visit> {
        let now = OffsetDateTime::now_utc();
        let visited_at = cmd.visited_at.unwrap_or(now);
        if visited_at > now + CLOCK_SKEW {
            return Err(ServiceError::invalid(FieldError::new(
                "visited_at",
                "date.future",
                "走访时间不能晚于现在",
                "The visit cannot be in the future",
            )));
        }
        let purpose = text("purpose", cmd.purpose, 100)?;
        let notes = text("notes", cmd.notes, 2000)?;
        let observations = match cmd.observations {
            Some(o) => {
                let o = Observations {
                    health: text("observations.health", o.health, 500)?,
                    living: text("observations.living", o.living, 500)?,
                    needs: text("observations.needs", o.needs, 500)?,
                };
                let empty = o.health.is_none() && o.living.is_none() && o.needs.is_none();
                (!empty).then(|| serde_json::to_string(&o).expect("observations serialize"))
            }
            None => None,
        };
        let add_tags = self
            .visit_tags(scope, cmd.visited, &cmd.add_tags, visited_at.date())
            .await?;
        let new = NewVisit {
            visited: cmd.visited,
            visitor_id: visitor.0,
            visitor: visitor.1.to_owned(),
            visited_at,
            outcome: cmd.outcome,
            purpose,
            notes,
            observations,
            add_tags,
            end_tags: cmd.end_tags,
        };
        let field = match cmd.visited {
            Visited::Household(_) => "household_id",
            Visited::Person(_) => "person_id",
        };
        match self.store.record_visit(scope, &new).await {
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "tag_assignment.duplicate",
                "要添加的标签目前已在此对象上，或要结束的标签已结束",
                "A tag to add is already current, or a tag to end has already ended",
            )),
            other => reference(field, other),
        }
    }
}
