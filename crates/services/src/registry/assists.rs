use time::OffsetDateTime;
use wangge_domain::{AssistError, AssistStep, Permission, Role, Scope};
use wangge_store::StoreError;
use wangge_store::assists::{AssistChange, AssistFilter, AssistRecord, Colleague, NewAssists};
use wangge_store::page::PageRequest;

use super::Registry;
use super::work_orders::required;
use crate::{FieldError, Result, ServiceError};

/// Who asks for help: a team of one role, named colleagues, or both.
#[derive(Debug, Clone, Default)]
pub struct RequestAssist {
    pub assignee_ids: Vec<i64>,
    /// Everyone with this role whose scope covers the order's area (expanded now).
    pub team_role: Option<Role>,
    pub message: String,
}

pub const ASSIST_TEXT_MAX: usize = 500;

/// Roles that may be asked for help: those who do registry work. Admins, security officers and
/// auditors see no resident data, so they cannot help on an order.
pub fn helper_roles() -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| r.can(Permission::RegistryWrite))
        .collect()
}

/// A refused assist step as a 409 naming the current state (or who may act).
pub fn assist_conflict(e: &AssistError) -> ServiceError {
    ServiceError::Conflict {
        code: e.code(),
        message_zh: e.message_zh(),
        message_en: e.message_en(),
    }
}

fn already_asked() -> ServiceError {
    ServiceError::conflict(
        "assist.already_requested",
        "已向这些同事请求过协助，正在等待他们处理",
        "These colleagues have already been asked and have not finished yet",
    )
}

impl Registry {
    /// Who the caller may ask for help on an order within their scope: active users of a
    /// helping role whose areas cover the order's grid, except the caller.
    pub async fn colleagues(
        &self,
        scope: &Scope,
        work_order_id: i64,
        me: i64,
    ) -> Result<Vec<Colleague>> {
        let all = self
            .store
            .colleagues(scope, work_order_id, &helper_roles())
            .await?;
        Ok(all.into_iter().filter(|c| c.id != me).collect())
    }

    /// Asks colleagues for help: one request per person (a team is expanded to its members
    /// now), each on the order's timeline. Colleagues already asked and not finished are not
    /// asked twice. Returns the requests created — the place to notify the people asked.
    pub async fn request_assists(
        &self,
        scope: &Scope,
        by: (i64, &str),
        work_order_id: i64,
        cmd: RequestAssist,
        at: OffsetDateTime,
    ) -> Result<Vec<AssistRecord>> {
        let message = required("message", &cmd.message, ASSIST_TEXT_MAX)?;
        if cmd.assignee_ids.is_empty() && cmd.team_role.is_none() {
            return Err(ServiceError::invalid(FieldError::new(
                "assignee_ids",
                "assist.nobody",
                "请选择要请求协助的同事或团队",
                "Choose the colleagues or the team to ask",
            )));
        }
        if let Some(role) = cmd.team_role
            && !helper_roles().contains(&role)
        {
            return Err(ServiceError::invalid(FieldError::new(
                "team_role",
                "assist.team_role",
                "该角色不处理工单，不能请求其协助",
                "That role does not work on orders and cannot be asked",
            )));
        }
        let colleagues = self.colleagues(scope, work_order_id, by.0).await?;
        let mut asked: Vec<(i64, Option<Role>)> = Vec::new();
        for id in &cmd.assignee_ids {
            if *id == by.0 {
                return Err(ServiceError::invalid(FieldError::new(
                    "assignee_ids",
                    "assist.self",
                    "不能请求自己协助",
                    "You cannot ask yourself for help",
                )));
            }
            if !colleagues.iter().any(|c| c.id == *id) {
                return Err(ServiceError::invalid(FieldError::unknown_reference(
                    "assignee_ids",
                )));
            }
            if !asked.iter().any(|(a, _)| a == id) {
                asked.push((*id, None));
            }
        }
        if let Some(role) = cmd.team_role {
            let team: Vec<i64> = colleagues
                .iter()
                .filter(|c| c.role == role)
                .map(|c| c.id)
                .collect();
            if team.is_empty() {
                return Err(ServiceError::invalid(FieldError::new(
                    "team_role",
                    "assist.team_empty",
                    "该工单所在区域没有这一角色的其他同事",
                    "Nobody else with that role covers the order's area",
                )));
            }
            for id in team {
                if !asked.iter().any(|(a, _)| *a == id) {
                    asked.push((id, Some(role)));
                }
            }
        }
        let open = self
            .store
            .assists(
                scope,
                AssistFilter::WorkOrder(work_order_id),
                true,
                &PageRequest {
                    after: None,
                    limit: wangge_store::page::MAX_LIMIT,
                },
            )
            .await?
            .items;
        asked.retain(|(id, _)| !open.iter().any(|a| a.assignee_id == *id));
        if asked.is_empty() {
            return Err(already_asked());
        }
        let new = NewAssists {
            work_order_id,
            requested_by_id: by.0,
            requested_by: by.1.to_owned(),
            assignees: asked,
            message,
            at,
        };
        match self.store.create_assists(scope, &new).await {
            Ok(Ok(created)) => Ok(created),
            Ok(Err(e)) => Err(assist_conflict(&e)),
            // The same colleague asked by a concurrent request.
            Err(StoreError::Conflict(_)) => Err(already_asked()),
            Err(e) => Err(e.into()),
        }
    }

    /// Accept, decline (with a reason), done (with what was done) or cancel; 409 when the
    /// request's state or the caller's part in it does not allow the step.
    pub async fn assist_step(
        &self,
        scope: &Scope,
        by: (i64, &str),
        assist_id: i64,
        step: AssistStep,
        text: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<AssistRecord> {
        let text = match step {
            AssistStep::Decline => Some(required(
                "reason",
                text.unwrap_or_default(),
                ASSIST_TEXT_MAX,
            )?),
            AssistStep::Done => Some(required("note", text.unwrap_or_default(), ASSIST_TEXT_MAX)?),
            AssistStep::Accept | AssistStep::Cancel => None,
        };
        let change = AssistChange {
            step,
            user_id: by.0,
            username: by.1.to_owned(),
            text,
            at,
        };
        match self
            .store
            .apply_assist_step(scope, assist_id, &change)
            .await
        {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(e)) => Err(assist_conflict(&e)),
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "assist.concurrent_update",
                "协助请求刚被他人修改，请刷新后重试",
                "The assist request was just changed by someone else; reload and try again",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
