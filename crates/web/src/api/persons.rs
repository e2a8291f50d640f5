use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{
    AreaCode, IdNumber, PersonName, PhoneNumber, Reason, Relation, ResidenceType, Sex, TagCode,
};
use wangge_services::registry::{CreatePerson, PersonListQuery};
use wangge_services::{Clock, FieldError};
use wangge_store::page::MAX_LIMIT;
use wangge_store::persons::{Joining, Person, PersonPatch};

use super::{PageOf, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_persons, create_person))
        .routes(routes!(get_person, update_person))
        .routes(routes!(search_persons))
        .routes(routes!(reveal_person))
}

fn audited(action: Option<&'static str>, p: &Person, reason: Option<String>) -> Extension<Audited> {
    Extension(Audited {
        action,
        object_type: Some("person"),
        object_id: Some(p.id),
        area_path: Some(p.area_path.as_str().to_owned()),
        reason,
    })
}

/// A resident as the API shows them: ID and phone numbers masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub id: i64,
    pub name: String,
    #[schema(value_type = String, example = "female")]
    pub sex: Sex,
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Date>,
    pub age: Option<i32>,
    /// Masked, e.g. `140109********1234`.
    pub id_number: Option<String>,
    /// Masked, e.g. `139****5678`.
    pub phone: Option<String>,
    #[schema(value_type = Option<String>, example = "registered")]
    pub residence_type: Option<ResidenceType>,
    pub household_id: Option<i64>,
    /// The grid the person lives in.
    pub area_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn age_on(birth: Date, today: Date) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

impl PersonOut {
    pub fn new(p: Person, clock: &Clock) -> Self {
        let today = clock.today();
        PersonOut {
            id: p.id,
            name: p.name,
            sex: p.sex,
            age: p.birth_date.map(|b| age_on(b, today)),
            birth_date: p.birth_date,
            id_number: p.id_number_masked,
            phone: p.phone_masked,
            residence_type: p.residence_type,
            household_id: p.household_id,
            area_id: p.area_id,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PersonListParams {
    /// Area code: only persons inside this area.
    pub area: Option<String>,
    /// Tag code, e.g. `elderly_party_member`: only persons with this tag now.
    pub tag: Option<String>,
    pub age_min: Option<u16>,
    pub age_max: Option<u16>,
    /// registered, permanent, migrant or foreign.
    pub residence_type: Option<String>,
    pub household_id: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/persons", tag = "persons", params(PersonListParams),
    responses((status = 200, body = PageOf<PersonOut>), (status = 422, body = Problem)))]
async fn list_persons(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<PersonListParams>,
) -> ApiResult<Json<PageOf<PersonOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let query = PersonListQuery {
        area: f.optional("area", q.area.as_deref(), AreaCode::parse),
        tag: f.optional("tag", q.tag.as_deref(), TagCode::parse),
        age_min: q.age_min,
        age_max: q.age_max,
        residence_type: f.optional(
            "residence_type",
            q.residence_type.as_deref(),
            ResidenceType::parse,
        ),
        household_id: q.household_id,
    };
    f.finish()?;
    let persons = s.registry.list_persons(&scope, &query, &page).await?;
    let clock = s.registry.clock;
    Ok(Json(PageOf::from_page(persons, |p| {
        PersonOut::new(p, &clock)
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonIn {
    pub name: String,
    /// GB 11643, 18 characters (15-digit legacy accepted); sex and birth date follow from it.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub sex: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Date>,
    /// The grid, when the person joins no household now.
    pub area_id: Option<i64>,
    /// A household to join in the same step.
    pub household_id: Option<i64>,
    /// GB/T 4761 code or word (户主, 配偶, 子 …); required with `household_id`.
    pub relation: Option<String>,
    /// Required with `household_id`.
    pub residence_type: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub started_on: Option<Date>,
}

#[utoipa::path(post, path = "/persons", tag = "persons", request_body = PersonIn,
    responses((status = 201, body = PersonOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_person(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<PersonIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<PersonOut>)> {
    let mut f = Fields::default();
    let name = f.domain("name", PersonName::parse(&body.name));
    let id_number = f.optional("id_number", body.id_number.as_deref(), IdNumber::parse);
    let phone = f.optional("phone", body.phone.as_deref(), PhoneNumber::parse);
    let sex = f.optional("sex", body.sex.as_deref(), Sex::parse);
    let joining = match body.household_id {
        Some(household_id) => {
            let relation = f.optional("relation", body.relation.as_deref(), Relation::parse);
            let residence = f.optional(
                "residence_type",
                body.residence_type.as_deref(),
                ResidenceType::parse,
            );
            if body.relation.is_none() {
                f.push(FieldError::required("relation"));
            }
            if body.residence_type.is_none() {
                f.push(FieldError::required("residence_type"));
            }
            relation
                .zip(residence)
                .map(|(relation, residence_type)| Joining {
                    household_id,
                    relation,
                    residence_type,
                    started_on: body.started_on.unwrap_or_else(|| s.registry.clock.today()),
                })
        }
        None => None,
    };
    f.finish()?;
    let cmd = CreatePerson {
        name: checked(name),
        id_number,
        phone,
        sex,
        birth_date: body.birth_date,
        area_id: body.area_id,
        joining,
    };
    let person = s.registry.create_person(&scope, cmd).await?;
    Ok((
        StatusCode::CREATED,
        audited(None, &person, None),
        Json(PersonOut::new(person, &s.registry.clock)),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDetailOut {
    #[serde(flatten)]
    pub person: PersonOut,
    /// Current tags with their start dates.
    pub tags: Vec<super::tags::TagAssignmentOut>,
}

#[utoipa::path(get, path = "/persons/{id}", tag = "persons",
    responses((status = 200, body = PersonDetailOut), (status = 404, body = Problem)))]
async fn get_person(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<PersonDetailOut>)> {
    let person = s.registry.store.person(&scope, id).await?;
    let tags =
        super::tags::current_tags(&s, &scope, wangge_store::tags::Labelled::Person(id)).await?;
    Ok((
        audited(Some("person.read"), &person, None),
        Json(PersonDetailOut {
            person: PersonOut::new(person, &s.registry.clock),
            tags,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonPatchIn {
    pub name: Option<String>,
    /// A new ID number, or null to remove it.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub sex: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Option<Date>>,
}

#[utoipa::path(patch, path = "/persons/{id}", tag = "persons", request_body = PersonPatchIn,
    responses((status = 200, body = PersonOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_person(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PersonPatchIn>,
) -> ApiResult<(Extension<Audited>, Json<PersonOut>)> {
    let mut f = Fields::default();
    let name = f.optional("name", body.name.as_deref(), PersonName::parse);
    let id_number = body
        .id_number
        .map(|v| v.and_then(|raw| f.optional("id_number", Some(&raw), IdNumber::parse)));
    let phone = body
        .phone
        .map(|v| v.and_then(|raw| f.optional("phone", Some(&raw), PhoneNumber::parse)));
    let sex = f.optional("sex", body.sex.as_deref(), Sex::parse);
    f.finish()?;
    let patch = PersonPatch {
        name,
        id_number,
        phone,
        sex,
        birth_date: body.birth_date,
    };
    let person = s.registry.update_person(&scope, id, patch).await?;
    Ok((
        audited(None, &person, None),
        Json(PersonOut::new(person, &s.registry.clock)),
    ))
}

/// Search is a POST so that ID and phone numbers never appear in URLs or access logs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SearchIn {
    /// A name in Chinese, full pinyin or initials (`wxm`); the last 4 digits of a phone; a full
    /// phone number; or a full ID number.
    pub q: String,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    /// How the query was understood: name, phone_tail, phone or id_number.
    pub matched_by: String,
    pub items: Vec<PersonOut>,
}

#[utoipa::path(post, path = "/persons/search", tag = "persons", request_body = SearchIn,
    responses((status = 200, body = SearchOut), (status = 422, body = Problem)))]
async fn search_persons(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<SearchIn>,
) -> ApiResult<Json<SearchOut>> {
    let limit = body.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
    let found = s.registry.search_persons(&scope, &body.q, limit).await?;
    let clock = s.registry.clock;
    Ok(Json(SearchOut {
        matched_by: found.kind.as_str().to_owned(),
        items: found
            .persons
            .into_iter()
            .map(|p| PersonOut::new(p, &clock))
            .collect(),
    }))
}

/// Why the unmasked numbers are needed; kept in the audit trail with the read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevealIn {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealOut {
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// Unmasked ID and phone numbers, for roles allowed it, with a stated reason; audited.
#[utoipa::path(post, path = "/persons/{id}/reveal", tag = "persons", request_body = RevealIn,
    responses((status = 200, body = RevealOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn reveal_person(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RevealIn>,
) -> ApiResult<(Extension<Audited>, Json<RevealOut>)> {
    let reason = Reason::parse(&body.reason).map_err(|e| FieldError::from_domain("reason", &e))?;
    let person = s.registry.store.person(&scope, id).await?;
    let secrets = s.registry.store.person_secrets(&scope, id).await?;
    Ok((
        audited(
            Some("person.reveal"),
            &person,
            Some(reason.as_str().to_owned()),
        ),
        Json(RevealOut {
            id_number: secrets.id_number.map(|i| i.as_str().to_owned()),
            phone: secrets.phone.map(|p| p.as_str().to_owned()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::age_on;
    use time::macros::date;

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(age_on(date!(1956 - 11 - 25), date!(2026 - 11 - 25)), 70);
        assert_eq!(age_on(date!(1956 - 11 - 26), date!(2026 - 11 - 25)), 69);
    }
}
