use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{AreaCode, AreaLevel};
use wangge_services::registry::CreateArea;
use wangge_store::areas::{Area, AreaFilter};

use super::{PageOf, page_request};
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_areas, create_area))
        .routes(routes!(get_area, update_area))
        .routes(routes!(tag_counts))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaOut {
    pub id: i64,
    /// GB/T 2260 code, then 3 digits per level below the district.
    pub code: String,
    pub name: String,
    #[schema(value_type = String, example = "grid")]
    pub level: AreaLevel,
    pub parent_id: Option<i64>,
    /// GeoJSON Polygon, WGS-84.
    pub boundary: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Area> for AreaOut {
    fn from(a: Area) -> Self {
        AreaOut {
            id: a.id,
            code: a.code.as_str().to_owned(),
            name: a.name,
            level: a.level,
            parent_id: a.parent_id,
            boundary: a.boundary.and_then(|b| serde_json::from_str(&b).ok()),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaListParams {
    pub parent_id: Option<i64>,
    /// city, district, subdistrict, community or grid.
    pub level: Option<String>,
    /// Only areas inside the area with this code.
    pub within: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/areas", tag = "areas", params(AreaListParams),
    responses((status = 200, body = PageOf<AreaOut>), (status = 422, body = Problem)))]
async fn list_areas(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<AreaListParams>,
) -> ApiResult<Json<PageOf<AreaOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let level = f.optional("level", q.level.as_deref(), AreaLevel::parse);
    let within_code = f.optional("within", q.within.as_deref(), AreaCode::parse);
    f.finish()?;
    let within = super::area_filter(&s, &scope, "within", within_code).await?;
    let filter = AreaFilter {
        parent_id: q.parent_id,
        level,
        within,
    };
    let areas = s.registry.store.areas(&scope, &filter, &page).await?;
    Ok(Json(PageOf::from_page(areas, AreaOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AreaIn {
    pub code: String,
    pub name: String,
    pub level: String,
    /// Required for every level below city.
    pub parent_id: Option<i64>,
    /// GeoJSON Polygon geometry, WGS-84, closed rings.
    pub boundary: Option<serde_json::Value>,
}

#[utoipa::path(post, path = "/areas", tag = "areas", request_body = AreaIn,
    responses((status = 201, body = AreaOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_area(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<AreaIn>,
) -> ApiResult<(StatusCode, Json<AreaOut>)> {
    let mut f = Fields::default();
    let code = f.domain("code", AreaCode::parse(&body.code));
    let level = f.domain("level", AreaLevel::parse(&body.level));
    f.finish()?;
    let cmd = CreateArea {
        code: checked(code),
        name: body.name,
        level: checked(level),
        parent_id: body.parent_id,
        boundary: body.boundary.filter(|b| !b.is_null()),
    };
    let area = s.registry.create_area(&scope, cmd).await?;
    Ok((StatusCode::CREATED, Json(area.into())))
}

#[utoipa::path(get, path = "/areas/{id}", tag = "areas",
    responses((status = 200, body = AreaOut), (status = 404, body = Problem)))]
async fn get_area(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<AreaOut>> {
    Ok(Json(s.registry.store.area(&scope, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AreaPatchIn {
    pub name: Option<String>,
    /// A GeoJSON Polygon, or null to remove the boundary.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<Option<serde_json::Value>>,
}

#[utoipa::path(patch, path = "/areas/{id}", tag = "areas", request_body = AreaPatchIn,
    responses((status = 200, body = AreaOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_area(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AreaPatchIn>,
) -> ApiResult<Json<AreaOut>> {
    let area = s
        .registry
        .update_area(&scope, id, body.name, body.boundary)
        .await?;
    Ok(Json(area.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagCountOut {
    /// The grid (or deeper area) the count belongs to.
    pub area_id: i64,
    pub tag_id: i64,
    pub count: i64,
}

/// Current tag counts per grid under an area: the dashboard figure, from a covering index.
#[utoipa::path(get, path = "/areas/{id}/tag-counts", tag = "areas",
    responses((status = 200, body = Vec<TagCountOut>), (status = 404, body = Problem)))]
async fn tag_counts(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<TagCountOut>>> {
    let area = s.registry.store.area(&scope, id).await?;
    let counts = s
        .registry
        .store
        .tag_counts_per_grid(&scope, &area.path)
        .await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|c| TagCountOut {
                area_id: c.area_path.last_id(),
                tag_id: c.tag_id,
                count: c.count,
            })
            .collect(),
    ))
}
