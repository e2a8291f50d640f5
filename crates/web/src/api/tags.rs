use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{AreaCode, Scope, Sensitivity, TagCode, TagSubject};
use wangge_services::FieldError;
use wangge_services::registry::AssignTag;
use wangge_store::page::PageRequest;
use wangge_store::tags::{Labelled, NewTag, Tag, TagAssignment, TagAssignmentFilter, TagPatch};

use super::{PageOf, page_request};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(get_tag, update_tag))
        .routes(routes!(list_assignments, create_assignment))
        .routes(routes!(get_assignment, end_assignment))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagOut {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// care, control, united_front or health: decides who may see it.
    #[schema(value_type = String, example = "care")]
    pub sensitivity: Sensitivity,
    /// person or household.
    pub subject: String,
}

fn subject_str(s: TagSubject) -> &'static str {
    match s {
        TagSubject::Person => "person",
        TagSubject::Household => "household",
    }
}

impl From<Tag> for TagOut {
    fn from(t: Tag) -> Self {
        TagOut {
            id: t.id,
            code: t.code.as_str().to_owned(),
            name_zh: t.name_zh,
            name_en: t.name_en,
            sensitivity: t.sensitivity,
            subject: subject_str(t.subject).to_owned(),
        }
    }
}

#[utoipa::path(get, path = "/tags", tag = "tags", responses((status = 200, body = Vec<TagOut>)))]
async fn list_tags(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
) -> ApiResult<Json<Vec<TagOut>>> {
    Ok(Json(
        s.registry
            .store
            .tags(&scope)
            .await?
            .into_iter()
            .map(TagOut::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagIn {
    /// Lower-case ASCII, e.g. `dialysis_patient`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub sensitivity: String,
    /// person (default) or household.
    pub subject: Option<String>,
}

#[utoipa::path(post, path = "/tags", tag = "tags", request_body = TagIn,
    responses((status = 201, body = TagOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_tag(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<TagIn>,
) -> ApiResult<(StatusCode, Json<TagOut>)> {
    let mut f = Fields::default();
    let code = f.domain("code", TagCode::parse(&body.code));
    let sensitivity = f.domain("sensitivity", Sensitivity::parse(&body.sensitivity));
    let subject = match body.subject.as_deref().map(str::trim) {
        None | Some("") | Some("person") => Some(TagSubject::Person),
        Some("household") => Some(TagSubject::Household),
        Some(_) => {
            f.push(FieldError::new(
                "subject",
                "tag.subject",
                "对象须为 person（居民）或 household（户）",
                "subject must be person or household",
            ));
            None
        }
    };
    f.finish()?;
    let tag = s
        .registry
        .create_tag(NewTag {
            code: checked(code),
            name_zh: body.name_zh,
            name_en: body.name_en,
            sensitivity: checked(sensitivity),
            subject: checked(subject),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(tag.into())))
}

#[utoipa::path(get, path = "/tags/{id}", tag = "tags", responses((status = 200, body = TagOut), (status = 404, body = Problem)))]
async fn get_tag(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<TagOut>> {
    Ok(Json(s.registry.store.tag(&scope, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagPatchIn {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub sensitivity: Option<String>,
}

#[utoipa::path(patch, path = "/tags/{id}", tag = "tags", request_body = TagPatchIn,
    responses((status = 200, body = TagOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_tag(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TagPatchIn>,
) -> ApiResult<Json<TagOut>> {
    let mut f = Fields::default();
    let sensitivity = f.optional(
        "sensitivity",
        body.sensitivity.as_deref(),
        Sensitivity::parse,
    );
    f.finish()?;
    let patch = TagPatch {
        name_zh: body.name_zh,
        name_en: body.name_en,
        sensitivity,
    };
    Ok(Json(s.registry.update_tag(id, patch).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagAssignmentOut {
    pub id: i64,
    pub tag_id: i64,
    pub tag: String,
    pub person_id: Option<i64>,
    pub household_id: Option<i64>,
    #[schema(value_type = String, format = Date)]
    pub started_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
    pub note: Option<String>,
}

impl From<TagAssignment> for TagAssignmentOut {
    fn from(a: TagAssignment) -> Self {
        let (person_id, household_id) = match a.on {
            Labelled::Person(p) => (Some(p), None),
            Labelled::Household(h) => (None, Some(h)),
        };
        TagAssignmentOut {
            id: a.id,
            tag_id: a.tag_id,
            tag: a.tag_code.as_str().to_owned(),
            person_id,
            household_id,
            started_on: a.started_on,
            ended_on: a.ended_on,
            note: a.note,
        }
    }
}

/// Current tags of one person or household (at most a handful).
pub(crate) async fn current_tags(
    s: &AppState,
    scope: &Scope,
    on: Labelled,
) -> Result<Vec<TagAssignmentOut>, ApiError> {
    let filter = TagAssignmentFilter {
        on: Some(on),
        ..Default::default()
    };
    let page = PageRequest {
        after: None,
        limit: wangge_store::page::MAX_LIMIT,
    };
    let found = s
        .registry
        .store
        .tag_assignments(scope, &filter, &page)
        .await?;
    Ok(found
        .items
        .into_iter()
        .map(TagAssignmentOut::from)
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AssignmentListParams {
    pub person_id: Option<i64>,
    pub household_id: Option<i64>,
    /// Tag code.
    pub tag: Option<String>,
    /// Area code.
    pub area: Option<String>,
    /// Include ended assignments (history).
    pub include_ended: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/tag-assignments", tag = "tags", params(AssignmentListParams),
    responses((status = 200, body = PageOf<TagAssignmentOut>), (status = 422, body = Problem)))]
async fn list_assignments(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<AssignmentListParams>,
) -> ApiResult<Json<PageOf<TagAssignmentOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let tag = f.optional("tag", q.tag.as_deref(), TagCode::parse);
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    f.finish()?;
    let tag_id = super::tag_filter(&s, &scope, "tag", tag).await?;
    let within = super::area_filter(&s, &scope, "area", area).await?;
    let on = match (q.person_id, q.household_id) {
        (Some(p), _) => Some(Labelled::Person(p)),
        (None, Some(h)) => Some(Labelled::Household(h)),
        _ => None,
    };
    let filter = TagAssignmentFilter {
        on,
        tag_id,
        within,
        include_ended: q.include_ended.unwrap_or(false),
    };
    let found = s
        .registry
        .store
        .tag_assignments(&scope, &filter, &page)
        .await?;
    Ok(Json(PageOf::from_page(found, TagAssignmentOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagAssignmentIn {
    /// Tag code.
    pub tag: String,
    pub person_id: Option<i64>,
    pub household_id: Option<i64>,
    /// Defaults to today.
    #[schema(value_type = Option<String>, format = Date)]
    pub started_on: Option<Date>,
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/tag-assignments", tag = "tags", request_body = TagAssignmentIn,
    responses((status = 201, body = TagAssignmentOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_assignment(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<TagAssignmentIn>,
) -> ApiResult<(StatusCode, Json<TagAssignmentOut>)> {
    let mut f = Fields::default();
    let tag = f.domain("tag", TagCode::parse(&body.tag));
    let on = match (body.person_id, body.household_id) {
        (Some(p), None) => Some(Labelled::Person(p)),
        (None, Some(h)) => Some(Labelled::Household(h)),
        _ => {
            f.push(FieldError::new(
                "person_id",
                "tag_assignment.subject",
                "须且只能指定 person_id 或 household_id 之一",
                "Give exactly one of person_id and household_id",
            ));
            None
        }
    };
    f.finish()?;
    let cmd = AssignTag {
        tag: checked(tag),
        on: checked(on),
        started_on: body.started_on,
        note: body.note,
    };
    let a = s.registry.assign_tag(&scope, cmd).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

#[utoipa::path(get, path = "/tag-assignments/{id}", tag = "tags",
    responses((status = 200, body = TagAssignmentOut), (status = 404, body = Problem)))]
async fn get_assignment(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<TagAssignmentOut>> {
    Ok(Json(
        s.registry.store.tag_assignment(&scope, id).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagAssignmentPatchIn {
    /// Ends the assignment on this date (default today); history is kept.
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
}

#[utoipa::path(patch, path = "/tag-assignments/{id}", tag = "tags", request_body = TagAssignmentPatchIn,
    responses((status = 200, body = TagAssignmentOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn end_assignment(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TagAssignmentPatchIn>,
) -> ApiResult<Json<TagAssignmentOut>> {
    Ok(Json(
        s.registry
            .end_tag_assignment(&scope, id, body.ended_on)
            .await?
            .into(),
    ))
}
