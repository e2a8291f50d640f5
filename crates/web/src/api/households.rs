use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{AreaCode, Relation, ResidenceType, TagCode};
use wangge_services::registry::{AddMember, CreateHousehold};
use wangge_store::households::{Household, HouseholdFilter, Member};
use wangge_store::tags::Labelled;

use super::tags::{TagAssignmentOut, current_tags};
use super::{PageOf, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_households, create_household))
        .routes(routes!(get_household, update_household))
        .routes(routes!(list_members, add_member))
        .routes(routes!(update_member))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdOut {
    pub id: i64,
    pub dwelling_id: Option<i64>,
    /// The grid.
    pub area_id: i64,
    #[schema(value_type = String, format = Date)]
    pub started_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
}

impl From<Household> for HouseholdOut {
    fn from(h: Household) -> Self {
        HouseholdOut {
            id: h.id,
            dwelling_id: h.dwelling_id,
            area_id: h.area_id,
            started_on: h.started_on,
            ended_on: h.ended_on,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    /// GB/T 4761 code.
    pub relation: String,
    pub relation_zh: String,
    #[schema(value_type = String, example = "registered")]
    pub residence_type: ResidenceType,
    #[schema(value_type = String, format = Date)]
    pub started_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
}

impl From<Member> for MemberOut {
    fn from(m: Member) -> Self {
        MemberOut {
            id: m.id,
            person_id: m.person_id,
            name: m.person_name,
            relation: m.relation.code_str(),
            relation_zh: m.relation.name_zh().to_owned(),
            residence_type: m.residence_type,
            started_on: m.started_on,
            ended_on: m.ended_on,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HouseholdListParams {
    /// Area code.
    pub area: Option<String>,
    pub dwelling_id: Option<i64>,
    /// A household tag code, e.g. `subsistence_allowance`.
    pub tag: Option<String>,
    pub include_ended: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/households", tag = "households", params(HouseholdListParams),
    responses((status = 200, body = PageOf<HouseholdOut>), (status = 422, body = Problem)))]
async fn list_households(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<HouseholdListParams>,
) -> ApiResult<Json<PageOf<HouseholdOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    let tag = f.optional("tag", q.tag.as_deref(), TagCode::parse);
    f.finish()?;
    let within = super::area_filter(&s, &scope, "area", area).await?;
    let tag_id = super::tag_filter(&s, &scope, "tag", tag).await?;
    let filter = HouseholdFilter {
        within,
        dwelling_id: q.dwelling_id,
        tag_id,
        include_ended: q.include_ended.unwrap_or(false),
    };
    let found = s.registry.store.households(&scope, &filter, &page).await?;
    Ok(Json(PageOf::from_page(found, HouseholdOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HouseholdIn {
    pub dwelling_id: Option<i64>,
    /// The grid, for a household with no dwelling on record.
    pub area_id: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub started_on: Option<Date>,
}

#[utoipa::path(post, path = "/households", tag = "households", request_body = HouseholdIn,
    responses((status = 201, body = HouseholdOut), (status = 422, body = Problem)))]
async fn create_household(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<HouseholdIn>,
) -> ApiResult<(StatusCode, Json<HouseholdOut>)> {
    let cmd = CreateHousehold {
        dwelling_id: body.dwelling_id,
        area_id: body.area_id,
        started_on: body.started_on,
    };
    let h = s.registry.create_household(&scope, cmd).await?;
    Ok((StatusCode::CREATED, Json(h.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdDetailOut {
    #[serde(flatten)]
    pub household: HouseholdOut,
    /// Current members first, then the history.
    pub members: Vec<MemberOut>,
    pub tags: Vec<TagAssignmentOut>,
}

#[utoipa::path(get, path = "/households/{id}", tag = "households",
    responses((status = 200, body = HouseholdDetailOut), (status = 404, body = Problem)))]
async fn get_household(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<HouseholdDetailOut>)> {
    let h = s.registry.store.household(&scope, id).await?;
    let audited = Extension(Audited {
        action: Some("household.read"),
        object_type: Some("household"),
        object_id: Some(h.id),
        area_path: Some(h.area_path.as_str().to_owned()),
        reason: None,
    });
    let members = s.registry.store.members(&scope, id, true).await?;
    let tags = current_tags(&s, &scope, Labelled::Household(id)).await?;
    Ok((
        audited,
        Json(HouseholdDetailOut {
            household: h.into(),
            members: members.into_iter().map(MemberOut::from).collect(),
            tags,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HouseholdPatchIn {
    /// Ends the household (moved away, dissolved); its current memberships end too.
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
}

#[utoipa::path(patch, path = "/households/{id}", tag = "households", request_body = HouseholdPatchIn,
    responses((status = 200, body = HouseholdOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn update_household(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HouseholdPatchIn>,
) -> ApiResult<Json<HouseholdOut>> {
    Ok(Json(
        s.registry
            .end_household(&scope, id, body.ended_on)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/households/{id}/members", tag = "households",
    responses((status = 200, body = Vec<MemberOut>), (status = 404, body = Problem)))]
async fn list_members(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<MemberOut>>> {
    s.registry.store.household(&scope, id).await?;
    let members = s.registry.store.members(&scope, id, true).await?;
    Ok(Json(members.into_iter().map(MemberOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberIn {
    pub person_id: i64,
    /// GB/T 4761 code or word: 户主, 配偶, 子, 女, 父亲 …
    pub relation: String,
    pub residence_type: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub started_on: Option<Date>,
}

#[utoipa::path(post, path = "/households/{id}/members", tag = "households", request_body = MemberIn,
    responses((status = 201, body = MemberOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_member(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<MemberIn>,
) -> ApiResult<(StatusCode, Json<MemberOut>)> {
    let mut f = Fields::default();
    let relation = f.domain("relation", Relation::parse(&body.relation));
    let residence = f.domain("residence_type", ResidenceType::parse(&body.residence_type));
    f.finish()?;
    let cmd = AddMember {
        person_id: body.person_id,
        relation: checked(relation),
        residence_type: checked(residence),
        started_on: body.started_on,
    };
    let m = s.registry.add_member(&scope, id, cmd).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberPatchIn {
    /// End the membership on this date (moved out, died).
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
    /// A new relation from `on`; the old row is kept as history.
    pub relation: Option<String>,
    pub residence_type: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<Date>,
}

#[utoipa::path(patch, path = "/households/{id}/members/{member_id}", tag = "households", request_body = MemberPatchIn,
    responses((status = 200, body = MemberOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_member(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path((id, member_id)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<MemberPatchIn>,
) -> ApiResult<Json<MemberOut>> {
    let mut f = Fields::default();
    let relation = f.optional("relation", body.relation.as_deref(), Relation::parse);
    let residence = f.optional(
        "residence_type",
        body.residence_type.as_deref(),
        ResidenceType::parse,
    );
    f.finish()?;
    let m = if relation.is_some() || residence.is_some() {
        s.registry
            .change_member(&scope, id, member_id, relation, residence, body.on)
            .await?
    } else {
        s.registry
            .end_member(&scope, id, member_id, body.ended_on)
            .await?
    };
    Ok(Json(m.into()))
}
