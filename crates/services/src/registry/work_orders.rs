use time::{Duration, OffsetDateTime};
use wangge_domain::{Action, AreaLevel, Priority, Scope, Transition, TransitionError};
use wangge_store::StoreError;
use wangge_store::work_orders::{Actor, NewWorkOrder, Source, WorkOrderRecord};

use super::Registry;
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone)]
pub struct ReportWorkOrder {
    pub category_id: i64,
    pub source: Source,
    pub title: String,
    pub description: String,
    pub household_id: Option<i64>,
    pub place_id: Option<i64>,
    /// The grid, when neither a household nor a place says where.
    pub area_id: Option<i64>,
    /// The category's priority when absent.
    pub priority: Option<Priority>,
}

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;
/// Reasons, notes and unit names on actions.
pub const ACTION_TEXT_MAX: usize = 500;

pub(super) fn required(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(FieldError::new(
            field,
            "text.empty",
            "不能为空",
            "Must not be empty",
        )));
    }
    if v.chars().count() > max {
        return Err(ServiceError::invalid(FieldError::new(
            field,
            "text.too_long",
            format!("最多 {max} 个字"),
            format!("At most {max} characters"),
        )));
    }
    Ok(v.to_owned())
}

/// A domain refusal as a 409 that names the current state.
pub fn transition_conflict(e: &TransitionError) -> ServiceError {
    ServiceError::Conflict {
        code: e.code(),
        message_zh: e.message_zh(),
        message_en: e.message_en(),
    }
}

/// Trims and checks the free text an action carries.
fn checked(action: Action) -> Result<Action> {
    let t = |field: &str, v: String| required(field, &v, ACTION_TEXT_MAX);
    Ok(match action {
        Action::Dispatch { unit } => Action::Dispatch {
            unit: t("unit", unit)?,
        },
        Action::Reassign { unit } => Action::Reassign {
            unit: t("unit", unit)?,
        },
        Action::Resolve { note } => Action::Resolve {
            note: t("note", note)?,
        },
        Action::Reject { reason } => Action::Reject {
            reason: t("reason", reason)?,
        },
        Action::Return { reason } => Action::Return {
            reason: t("reason", reason)?,
        },
        Action::Reopen { reason } => Action::Reopen {
            reason: t("reason", reason)?,
        },
        Action::RequestSuspension { reason } => Action::RequestSuspension {
            reason: t("reason", reason)?,
        },
        Action::RequestExtension { by, reason } => Action::RequestExtension {
            by,
            reason: t("reason", reason)?,
        },
        other => other,
    })
}

impl Registry {
    /// Reports a work order in the grid of its household or place (or the named grid).
    pub async fn report_work_order(
        &self,
        scope: &Scope,
        actor: &Actor,
        cmd: ReportWorkOrder,
        at: OffsetDateTime,
    ) -> Result<WorkOrderRecord> {
        let title = required("title", &cmd.title, TITLE_MAX)?;
        let description = required("description", &cmd.description, DESCRIPTION_MAX)?;
        let category = reference(
            "category_id",
            self.store.work_order_category(cmd.category_id).await,
        )?;
        let mut area_id = None;
        if let Some(h) = cmd.household_id {
            area_id =
                Some(reference("household_id", self.store.household(scope, h).await)?.area_id);
        }
        if let Some(p) = cmd.place_id {
            let place = reference("place_id", self.store.place(scope, p).await)?;
            if area_id.is_some_and(|a| a != place.area_id) {
                return Err(ServiceError::invalid(FieldError::new(
                    "place_id",
                    "work_order.place_mismatch",
                    "地点与住户不在同一网格",
                    "The place is not in the household's grid",
                )));
            }
            area_id = Some(place.area_id);
        }
        let area_id = match (area_id, cmd.area_id) {
            (Some(a), _) => a,
            (None, Some(a)) => a,
            (None, None) => {
                return Err(ServiceError::invalid(FieldError::new(
                    "area_id",
                    "work_order.area_required",
                    "请指定住户、地点或网格",
                    "Name a household, a place or a grid",
                )));
            }
        };
        let area = reference("area_id", self.store.area(scope, area_id).await)?;
        if area.level != AreaLevel::Grid || !scope.contains(&area.path) {
            return Err(ServiceError::invalid(FieldError::new(
                "area_id",
                "work_order.not_a_grid",
                "工单须属于您范围内的网格",
                "A work order belongs to a grid within your scope",
            )));
        }
        let new = NewWorkOrder {
            category_id: category.id,
            source: cmd.source,
            title,
            description,
            household_id: cmd.household_id,
            place_id: cmd.place_id,
            area_id,
            priority: cmd.priority.unwrap_or(category.priority),
            sla: category.sla,
            reported_at: at,
        };
        reference(
            "area_id",
            self.store.report_work_order(scope, &new, actor).await,
        )
    }

    /// Applies an action; a refusal is a 409 naming the current state.
    pub async fn work_order_action(
        &self,
        scope: &Scope,
        id: i64,
        actor: &Actor,
        action: Action,
        at: OffsetDateTime,
    ) -> Result<(WorkOrderRecord, Transition)> {
        let action = checked(action)?;
        match self
            .store
            .apply_work_order_action(scope, id, &action, actor, at)
            .await
        {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(transition_conflict(&e)),
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "work_order.concurrent_update",
                "工单刚被他人修改，请刷新后重试",
                "The work order was just changed by someone else; reload and try again",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// One escalation pass at `now`: every order whose next escalation is due goes up one
    /// level, once. Safe to run concurrently: the row lock and the domain rule (the next level is
    /// due only later) make a second pass over the same order a no-op. Returns how many orders
    /// this pass escalated.
    pub async fn escalate_due(&self, now: OffsetDateTime) -> Result<usize> {
        let everything = Scope::everything();
        let due = self
            .store
            .work_orders_escalation_due(&everything, now, 1000)
            .await?;
        let mut escalated = 0;
        for id in due {
            match self
                .store
                .apply_work_order_action(&everything, id, &Action::Escalate, &Actor::system(), now)
                .await
            {
                Ok(Ok(_)) => escalated += 1,
                // Escalated (or changed) by another runner meanwhile: nothing to do.
                Ok(Err(_)) | Err(StoreError::NotFound | StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(escalated)
    }
}

/// Extension lengths come in whole hours from forms and the API.
pub fn extension_hours(hours: u32) -> Duration {
    Duration::hours(i64::from(hours))
}
