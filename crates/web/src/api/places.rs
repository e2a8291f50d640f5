use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{AreaCode, PlaceKind};
use wangge_services::registry::CreatePlace;
use wangge_store::places::{Place, PlaceFilter};

use super::{PageOf, page_request};
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_places, create_place))
        .routes(routes!(get_place, update_place))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceOut {
    pub id: i64,
    /// compound, building, unit or dwelling.
    #[schema(value_type = String, example = "dwelling")]
    pub kind: PlaceKind,
    pub parent_id: Option<i64>,
    pub area_id: i64,
    pub label: String,
    pub floor: Option<i64>,
    /// 标准地址, built from the area and place trees.
    pub address: String,
}

impl From<Place> for PlaceOut {
    fn from(p: Place) -> Self {
        PlaceOut {
            id: p.id,
            kind: p.kind,
            parent_id: p.parent_id,
            area_id: p.area_id,
            label: p.label,
            floor: p.floor,
            address: p.address,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PlaceListParams {
    pub parent_id: Option<i64>,
    pub kind: Option<String>,
    /// Only places inside the area with this code.
    pub area: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/places", tag = "places", params(PlaceListParams),
    responses((status = 200, body = PageOf<PlaceOut>), (status = 422, body = Problem)))]
async fn list_places(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<PlaceListParams>,
) -> ApiResult<Json<PageOf<PlaceOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let kind = f.optional("kind", q.kind.as_deref(), PlaceKind::parse);
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    f.finish()?;
    let within = super::area_filter(&s, &scope, "area", area).await?;
    let filter = PlaceFilter {
        parent_id: q.parent_id,
        kind,
        within,
    };
    let places = s.registry.store.places(&scope, &filter, &page).await?;
    Ok(Json(PageOf::from_page(places, PlaceOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaceIn {
    pub kind: String,
    /// Required except for a compound.
    pub parent_id: Option<i64>,
    /// Required for a compound; buildings below a community-level compound name their grid.
    pub area_id: Option<i64>,
    /// Compound name, building number, unit number or dwelling number.
    pub label: String,
    /// Derived from dwelling numbers like 601 when absent.
    pub floor: Option<i64>,
}

#[utoipa::path(post, path = "/places", tag = "places", request_body = PlaceIn,
    responses((status = 201, body = PlaceOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_place(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<PlaceIn>,
) -> ApiResult<(StatusCode, Json<PlaceOut>)> {
    let mut f = Fields::default();
    let kind = f.domain("kind", PlaceKind::parse(&body.kind));
    f.finish()?;
    let cmd = CreatePlace {
        kind: checked(kind),
        parent_id: body.parent_id,
        area_id: body.area_id,
        label: body.label,
        floor: body.floor,
    };
    let place = s.registry.create_place(&scope, cmd).await?;
    Ok((StatusCode::CREATED, Json(place.into())))
}

#[utoipa::path(get, path = "/places/{id}", tag = "places",
    responses((status = 200, body = PlaceOut), (status = 404, body = Problem)))]
async fn get_place(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<PlaceOut>> {
    Ok(Json(s.registry.store.place(&scope, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlacePatchIn {
    pub label: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i64>)]
    pub floor: Option<Option<i64>>,
}

#[utoipa::path(patch, path = "/places/{id}", tag = "places", request_body = PlacePatchIn,
    responses((status = 200, body = PlaceOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn update_place(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PlacePatchIn>,
) -> ApiResult<Json<PlaceOut>> {
    let place = s
        .registry
        .update_place(&scope, id, body.label, body.floor)
        .await?;
    Ok(Json(place.into()))
}
