//! `/api/v1`: one module per resource; this file lists them all, so the route table and the
//! OpenAPI document come from one place.

pub mod areas;
pub mod assists;
pub mod attachments;
pub mod audit;
pub mod campaign_export;
pub mod campaign_items;
pub mod campaign_requests;
pub mod campaigns;
pub mod entrustments;
pub mod health;
pub mod households;
pub mod notifications;
pub mod persons;
pub mod places;
pub mod public;
pub mod resident;
pub mod session;
pub mod tags;
pub mod visits;
pub mod work_order_metrics;
pub mod work_orders;

use serde::{Deserialize, Serialize};
use utoipa::openapi::OpenApi;
use utoipa::{OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use wangge_domain::{AreaCode, AreaPath, Scope, TagCode};
use wangge_services::FieldError;
use wangge_store::StoreError;
use wangge_store::page::{Cursor, DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest};

use crate::AppState;
use crate::error::ApiError;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Wangge API",
        description = "全科网格 community grid governance: registry of areas, places, households, persons and tags. Errors are application/problem+json (RFC 9457)."
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField))
)]
struct ApiDoc;

/// `upload_body_limit` is the body limit of the photo upload routes; `upload_page_limit` that of
/// requests carrying several photos.
pub fn router(upload_body_limit: usize, upload_page_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .merge(areas::router())
            .merge(places::router())
            .merge(households::router())
            .merge(persons::router())
            .merge(tags::router())
            .merge(session::router())
            .merge(audit::router())
            .merge(visits::router())
            .merge(work_orders::router())
            .merge(work_order_metrics::router())
            .merge(notifications::router())
            .merge(assists::router())
            .merge(attachments::router(upload_body_limit))
            .merge(campaigns::router())
            .merge(campaign_export::router())
            .merge(campaign_items::router(upload_page_limit))
            .merge(campaign_requests::router())
            .merge(public::router())
            .merge(entrustments::router(upload_body_limit))
            .merge(resident::router()),
    )
}

pub(crate) fn openapi_json(doc: &OpenApi) -> serde_json::Value {
    serde_json::to_value(doc).unwrap_or_default()
}

/// Keyset pagination parameters shared by every list (kept as plain fields in each list's
/// parameters: flattened structs lose numeric types in query strings).
pub fn page_request(cursor: Option<&str>, limit: Option<u32>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(FieldError::new(
            "limit",
            "limit.range",
            format!("每页条数须在 1 到 {MAX_LIMIT} 之间"),
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )
        .into());
    }
    let after = match cursor {
        Some(c) => Some(Cursor::decode(c).map_err(|_| {
            ApiError::bad_request("cursor.invalid", "分页游标无效", "The cursor is not valid")
        })?),
        None => None,
    };
    Ok(PageRequest { after, limit })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> PageOf<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        PageOf {
            next_cursor: page.next.as_ref().map(Cursor::encode),
            items: page.items.into_iter().map(f).collect(),
        }
    }
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An area-code filter as a path inside the caller's scope; an unknown (or unseen) code is a
/// problem with that parameter, not a missing resource.
pub(crate) async fn area_filter(
    s: &AppState,
    scope: &Scope,
    field: &str,
    code: Option<AreaCode>,
) -> Result<Option<AreaPath>, ApiError> {
    match code {
        None => Ok(None),
        Some(code) => match s.registry.store.area_by_code(scope, &code).await {
            Ok(area) => Ok(Some(area.path)),
            Err(StoreError::NotFound) => Err(FieldError::unknown_reference(field).into()),
            Err(e) => Err(e.into()),
        },
    }
}

/// A tag-code filter as a tag id; an unknown code is a problem with that parameter.
pub(crate) async fn tag_filter(
    s: &AppState,
    scope: &Scope,
    field: &str,
    code: Option<TagCode>,
) -> Result<Option<i64>, ApiError> {
    match code {
        None => Ok(None),
        Some(code) => match s.registry.store.tag_by_code(scope, &code).await {
            Ok(tag) => Ok(Some(tag.id)),
            Err(StoreError::NotFound) => Err(FieldError::unknown_reference(field).into()),
            Err(e) => Err(e.into()),
        },
    }
}
