use time::Date;
use wangge_domain::{
    AreaCode, IdNumber, PersonName, PhoneNumber, ResidenceType, Scope, Sex, TagCode,
    normalize_query,
};
use wangge_store::StoreError;
use wangge_store::page::{Page, PageRequest};
use wangge_store::persons::{Joining, NewPerson, Person, PersonFilter, PersonPatch, PersonQuery};

use super::Registry;
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone)]
pub struct CreatePerson {
    pub name: PersonName,
    pub id_number: Option<IdNumber>,
    pub phone: Option<PhoneNumber>,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
    pub area_id: Option<i64>,
    pub joining: Option<Joining>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonListQuery {
    pub area: Option<AreaCode>,
    pub tag: Option<TagCode>,
    pub age_min: Option<u16>,
    pub age_max: Option<u16>,
    pub residence_type: Option<ResidenceType>,
    pub household_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    Name,
    PhoneTail,
    Phone,
    IdNumber,
}

impl SearchKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SearchKind::Name => "name",
            SearchKind::PhoneTail => "phone_tail",
            SearchKind::Phone => "phone",
            SearchKind::IdNumber => "id_number",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SearchResult {
    pub kind: SearchKind,
    pub persons: Vec<Person>,
}

fn duplicate_id() -> ServiceError {
    ServiceError::conflict(
        "person.duplicate_id_number",
        "本市已登记过该身份证号的居民",
        "A person with this ID number is already registered in this city",
    )
}

/// Sex and birth date follow from an ID number; a conflicting explicit value is an error.
fn identity_facts(
    id: Option<&IdNumber>,
    sex: Option<Sex>,
    birth: Option<Date>,
    today: Date,
) -> Result<(Sex, Option<Date>)> {
    let Some(id) = id else {
        return Ok((sex.unwrap_or(Sex::Unknown), birth));
    };
    if !id.birth_date_not_after(today) {
        return Err(ServiceError::invalid(FieldError::new(
            "id_number",
            "id_number.birth_date",
            "身份证号中的出生日期晚于今天",
            "The birth date in the ID number is in the future",
        )));
    }
    if let Some(s) = sex
        && s != id.sex()
    {
        return Err(ServiceError::invalid(FieldError::new(
            "sex",
            "sex.mismatch",
            "性别与身份证号不符",
            "Sex does not match the ID number",
        )));
    }
    if let Some(b) = birth
        && b != id.birth_date()
    {
        return Err(ServiceError::invalid(FieldError::new(
            "birth_date",
            "birth_date.mismatch",
            "出生日期与身份证号不符",
            "Birth date does not match the ID number",
        )));
    }
    Ok((id.sex(), Some(id.birth_date())))
}

impl Registry {
    pub async fn create_person(&self, scope: &Scope, cmd: CreatePerson) -> Result<Person> {
        let today = self.clock.today();
        let (sex, birth_date) =
            identity_facts(cmd.id_number.as_ref(), cmd.sex, cmd.birth_date, today)?;
        if cmd.joining.is_none() && cmd.area_id.is_none() {
            return Err(ServiceError::invalid(FieldError::required("area_id")));
        }
        let new = NewPerson {
            name: cmd.name,
            id_number: cmd.id_number,
            phone: cmd.phone,
            sex,
            birth_date,
            area_id: cmd.area_id,
            joining: cmd.joining.clone(),
        };
        let field = if cmd.joining.is_some() {
            "household_id"
        } else {
            "area_id"
        };
        if let Some(j) = &cmd.joining {
            let household = reference(field, self.store.household(scope, j.household_id).await)?;
            if household.ended_on.is_some() {
                return Err(super::households::ended_conflict());
            }
        }
        match self.store.create_person(scope, &new).await {
            Err(StoreError::Conflict(c)) if c.contains("id_number") => Err(duplicate_id()),
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "household.member_conflict",
                "该居民已是此户的现有成员",
                "The person is already a current member of this household",
            )),
            other => reference(field, other),
        }
    }

    pub async fn update_person(
        &self,
        scope: &Scope,
        id: i64,
        patch: PersonPatch,
    ) -> Result<Person> {
        let today = self.clock.today();
        match &patch.id_number {
            Some(Some(idn)) => {
                identity_facts(Some(idn), patch.sex, patch.birth_date.flatten(), today)?;
            }
            Some(None) => {}
            // Sex and birth date of someone with an ID number on record follow from it.
            None => {
                let current = self.store.person(scope, id).await?;
                if current.id_number_masked.is_some() {
                    if patch.sex.is_some_and(|s| s != current.sex) {
                        return Err(ServiceError::invalid(FieldError::new(
                            "sex",
                            "sex.mismatch",
                            "性别与身份证号不符",
                            "Sex does not match the ID number",
                        )));
                    }
                    if patch.birth_date.is_some_and(|b| b != current.birth_date) {
                        return Err(ServiceError::invalid(FieldError::new(
                            "birth_date",
                            "birth_date.mismatch",
                            "出生日期与身份证号不符",
                            "Birth date does not match the ID number",
                        )));
                    }
                }
            }
        }
        match self.store.update_person(scope, id, &patch).await {
            Err(StoreError::Conflict(_)) => Err(duplicate_id()),
            other => Ok(other?),
        }
    }

    pub async fn list_persons(
        &self,
        scope: &Scope,
        q: &PersonListQuery,
        page: &PageRequest,
    ) -> Result<Page<Person>> {
        let within = match &q.area {
            Some(code) => Some(reference("area", self.store.area_by_code(scope, code).await)?.path),
            None => None,
        };
        let tag_id = match &q.tag {
            Some(code) => Some(reference("tag", self.store.tag_by_code(scope, code).await)?.id),
            None => None,
        };
        if let (Some(lo), Some(hi)) = (q.age_min, q.age_max)
            && lo > hi
        {
            return Err(ServiceError::invalid(FieldError::new(
                "age_max",
                "age.range",
                "最大年龄不能小于最小年龄",
                "age_max must not be below age_min",
            )));
        }
        let filter = PersonFilter {
            within,
            tag_id,
            born_on_or_before: q.age_min.map(|a| self.clock.born_by_age(a)),
            born_after: q.age_max.map(|a| self.clock.born_by_age(a + 1)),
            residence_type: q.residence_type,
            household_id: q.household_id,
        };
        Ok(self.store.persons(scope, &filter, page).await?)
    }

    /// One box for every kind of search: a full ID number, a full phone, the last four digits
    /// of a phone, or a name in Chinese, pinyin or initials.
    pub async fn search_persons(&self, scope: &Scope, q: &str, limit: u32) -> Result<SearchResult> {
        let raw = q.trim();
        let digits = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>();
        let looks_numeric = !digits.is_empty()
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, 'x' | 'X' | 'ｘ' | 'Ｘ' | '+'));
        let (kind, query) = if looks_numeric
            && digits.len() == 4
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            (SearchKind::PhoneTail, PersonQuery::PhoneTail(digits))
        } else if looks_numeric && (digits.chars().count() == 15 || digits.chars().count() == 18) {
            let id = IdNumber::parse(&digits)
                .map_err(|e| ServiceError::invalid(FieldError::from_domain("q", &e)))?;
            (SearchKind::IdNumber, PersonQuery::IdNumber(id))
        } else if looks_numeric {
            let phone = PhoneNumber::parse(&digits)
                .map_err(|e| ServiceError::invalid(FieldError::from_domain("q", &e)))?;
            (SearchKind::Phone, PersonQuery::Phone(phone))
        } else {
            let norm = normalize_query(raw);
            if norm.is_empty() {
                return Err(ServiceError::invalid(FieldError::required("q")));
            }
            (SearchKind::Name, PersonQuery::Name(norm))
        };
        let persons = self.store.search_persons(scope, &query, limit).await?;
        Ok(SearchResult { kind, persons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn id_numbers_decide_sex_and_birth() {
        let id = IdNumber::from_parts("140109", date!(1950 - 03 - 01), 123).unwrap();
        let today = date!(2026 - 11 - 25);
        assert_eq!(
            identity_facts(Some(&id), None, None, today).unwrap(),
            (Sex::Male, Some(date!(1950 - 03 - 01)))
        );
        assert!(identity_facts(Some(&id), Some(Sex::Female), None, today).is_err());
        assert!(identity_facts(Some(&id), None, Some(date!(1950 - 03 - 02)), today).is_err());
        let future = IdNumber::from_parts("140109", date!(2030 - 01 - 01), 2).unwrap();
        assert!(identity_facts(Some(&future), None, None, today).is_err());
    }
}
