use time::Date;
use wangge_domain::{Relation, ResidenceType, Scope};
use wangge_store::StoreError;
use wangge_store::households::{Household, Member, NewHousehold, NewMember};

use super::Registry;
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone)]
pub struct CreateHousehold {
    pub dwelling_id: Option<i64>,
    pub area_id: Option<i64>,
    pub started_on: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct AddMember {
    pub person_id: i64,
    pub relation: Relation,
    pub residence_type: ResidenceType,
    pub started_on: Option<Date>,
}

fn not_in_future(field: &str, d: Date, today: Date) -> Result<Date> {
    if d > today {
        return Err(ServiceError::invalid(FieldError::new(
            field,
            "date.future",
            "日期不能晚于今天",
            "The date cannot be in the future",
        )));
    }
    Ok(d)
}

fn householder_exists() -> ServiceError {
    ServiceError::conflict(
        "household.householder_exists",
        "该户已有户主；请先变更现户主的关系",
        "The household already has a householder; change theirs first",
    )
}

pub(super) fn ended_conflict() -> ServiceError {
    ServiceError::conflict(
        "household.ended",
        "该户或该成员记录已结束",
        "The household or membership has already ended",
    )
}

impl Registry {
    pub async fn create_household(&self, scope: &Scope, cmd: CreateHousehold) -> Result<Household> {
        let today = self.clock.today();
        let started_on = not_in_future("started_on", cmd.started_on.unwrap_or(today), today)?;
        let field = match (cmd.dwelling_id, cmd.area_id) {
            (Some(_), _) => "dwelling_id",
            (None, Some(_)) => "area_id",
            (None, None) => return Err(ServiceError::invalid(FieldError::required("dwelling_id"))),
        };
        let new = NewHousehold {
            dwelling_id: cmd.dwelling_id,
            area_id: cmd.area_id,
            started_on,
        };
        reference(field, self.store.create_household(scope, &new).await)
    }

    pub async fn end_household(
        &self,
        scope: &Scope,
        id: i64,
        ended_on: Option<Date>,
    ) -> Result<Household> {
        let today = self.clock.today();
        let on = not_in_future("ended_on", ended_on.unwrap_or(today), today)?;
        let h = self.store.household(scope, id).await?;
        if h.ended_on.is_some() {
            return Err(ended_conflict());
        }
        let latest_start = self
            .store
            .members(scope, id, false)
            .await?
            .iter()
            .map(|m| m.started_on)
            .chain([h.started_on])
            .max();
        if latest_start.is_some_and(|d| on < d) {
            return Err(ServiceError::invalid(FieldError::new(
                "ended_on",
                "date.before_start",
                "结束日期早于该户或其现有成员记录的开始日期",
                "The end date is before the household or one of its current memberships starts",
            )));
        }
        Ok(self.store.end_household(scope, id, on).await?)
    }

    pub async fn add_member(
        &self,
        scope: &Scope,
        household_id: i64,
        cmd: AddMember,
    ) -> Result<Member> {
        let today = self.clock.today();
        let started_on = not_in_future("started_on", cmd.started_on.unwrap_or(today), today)?;
        self.store.household(scope, household_id).await?;
        if cmd.relation.is_householder() {
            let current = self.store.members(scope, household_id, false).await?;
            if current
                .iter()
                .any(|m| m.relation.is_householder() && m.person_id != cmd.person_id)
            {
                return Err(householder_exists());
            }
        }
        let new = NewMember {
            person_id: cmd.person_id,
            relation: cmd.relation,
            residence_type: cmd.residence_type,
            started_on,
        };
        match self.store.add_member(scope, household_id, &new).await {
            Err(StoreError::Conflict(_)) => Err(ended_conflict()),
            other => reference("person_id", other),
        }
    }

    pub async fn end_member(
        &self,
        scope: &Scope,
        household_id: i64,
        member_id: i64,
        ended_on: Option<Date>,
    ) -> Result<Member> {
        let today = self.clock.today();
        let on = not_in_future("ended_on", ended_on.unwrap_or(today), today)?;
        match self
            .store
            .end_member(scope, household_id, member_id, on)
            .await
        {
            Err(StoreError::Conflict(_)) => Err(ended_conflict()),
            Err(StoreError::Check(_)) => Err(ServiceError::invalid(FieldError::new(
                "ended_on",
                "date.before_start",
                "结束日期早于开始日期",
                "The end date is before the start date",
            ))),
            other => Ok(other?),
        }
    }

    /// One current householder per household.
    async fn check_no_other_householder(
        &self,
        scope: &Scope,
        household_id: i64,
        member_id: i64,
    ) -> Result<()> {
        let current = self.store.members(scope, household_id, false).await?;
        if current
            .iter()
            .any(|m| m.relation.is_householder() && m.id != member_id)
        {
            return Err(householder_exists());
        }
        Ok(())
    }

    pub async fn change_member(
        &self,
        scope: &Scope,
        household_id: i64,
        member_id: i64,
        relation: Option<Relation>,
        residence_type: Option<ResidenceType>,
        on: Option<Date>,
    ) -> Result<Member> {
        let today = self.clock.today();
        let on = not_in_future("on", on.unwrap_or(today), today)?;
        if relation.is_some_and(|r| r.is_householder()) {
            self.check_no_other_householder(scope, household_id, member_id)
                .await?;
        }
        match self
            .store
            .change_member(scope, household_id, member_id, relation, residence_type, on)
            .await
        {
            Err(StoreError::Conflict(_)) => Err(ended_conflict()),
            Err(StoreError::Check(_)) => Err(ServiceError::invalid(FieldError::new(
                "on",
                "date.before_start",
                "变更日期早于该成员记录的开始日期",
                "The change is dated before the membership starts",
            ))),
            other => Ok(other?),
        }
    }
}
