//! Home visits: record one (optionally updating tags in the same step), list them, and the
//! households not reached for a while.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::{AreaCode, TagCode, VisitOutcome};
use wangge_services::FieldError;
use wangge_services::registry::{Observations, RecordVisit, VisitTag};
use wangge_store::visits::{Visit, VisitFilter, Visited};

use super::{PageOf, area_filter, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, CurrentCaller, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_visits, record_visit))
        .routes(routes!(get_visit))
        .routes(routes!(households_due))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
pub struct ObservationsIo {
    pub health: Option<String>,
    pub living: Option<String>,
    pub needs: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitOut {
    pub id: i64,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub visitor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub visited_at: OffsetDateTime,
    /// at_home, not_home, refused or phone.
    pub outcome: String,
    pub purpose: Option<String>,
    pub notes: Option<String>,
    pub observations: Option<ObservationsIo>,
}

impl From<Visit> for VisitOut {
    fn from(v: Visit) -> Self {
        VisitOut {
            id: v.id,
            household_id: v.household_id,
            person_id: v.person_id,
            visitor: v.visitor,
            visited_at: v.visited_at,
            outcome: v.outcome.as_str().to_owned(),
            purpose: v.purpose,
            notes: v.notes,
            observations: v.observations.and_then(|o| serde_json::from_str(&o).ok()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VisitListParams {
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    /// Area code.
    pub area: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/visits", tag = "visits", params(VisitListParams),
    responses((status = 200, body = PageOf<VisitOut>), (status = 422, body = Problem)))]
async fn list_visits(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<VisitListParams>,
) -> ApiResult<Json<PageOf<VisitOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    f.finish()?;
    let filter = VisitFilter {
        visited: match (q.household_id, q.person_id) {
            (Some(h), _) => Some(Visited::Household(h)),
            (None, Some(p)) => Some(Visited::Person(p)),
            _ => None,
        },
        within: area_filter(&s, &scope, "area", area).await?,
    };
    let found = s.registry.store.visits(&scope, &filter, &page).await?;
    Ok(Json(PageOf::from_page(found, VisitOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VisitTagIn {
    /// Tag code; person tags need `person_id` on a household visit.
    pub tag: String,
    pub person_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VisitIn {
    /// Exactly one of household_id and person_id.
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    /// Defaults to now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub visited_at: Option<OffsetDateTime>,
    /// at_home (在家), not_home (不在家), refused (拒访) or phone (电话).
    pub outcome: String,
    pub purpose: Option<String>,
    pub notes: Option<String>,
    pub observations: Option<ObservationsIo>,
    /// Tags seen at the door, added in the same step.
    #[serde(default)]
    pub add_tags: Vec<VisitTagIn>,
    /// Tag assignments that no longer hold, ended in the same step.
    #[serde(default)]
    pub end_tags: Vec<i64>,
}

#[utoipa::path(post, path = "/visits", tag = "visits", request_body = VisitIn,
    responses((status = 201, body = VisitOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_visit(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    ApiJson(body): ApiJson<VisitIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<VisitOut>)> {
    let mut f = Fields::default();
    let outcome = f.domain("outcome", VisitOutcome::parse(&body.outcome));
    let visited = match (body.household_id, body.person_id) {
        (Some(h), None) => Some(Visited::Household(h)),
        (None, Some(p)) => Some(Visited::Person(p)),
        _ => {
            f.push(FieldError::new(
                "household_id",
                "visit.subject",
                "须且只能指定 household_id 或 person_id 之一",
                "Give exactly one of household_id and person_id",
            ));
            None
        }
    };
    let add_tags: Vec<Option<VisitTag>> = body
        .add_tags
        .iter()
        .enumerate()
        .map(|(i, t)| {
            f.domain(&format!("add_tags[{i}].tag"), TagCode::parse(&t.tag))
                .map(|tag| VisitTag {
                    tag,
                    person_id: t.person_id,
                })
        })
        .collect();
    f.finish()?;
    let cmd = RecordVisit {
        visited: checked(visited),
        visited_at: body.visited_at,
        outcome: checked(outcome),
        purpose: body.purpose,
        notes: body.notes,
        observations: body.observations.map(|o| Observations {
            health: o.health,
            living: o.living,
            needs: o.needs,
        }),
        add_tags: add_tags.into_iter().map(checked).collect(),
        end_tags: body.end_tags,
    };
    let visit = s
        .registry
        .record_visit(&scope, (Some(caller.user_id), &caller.username), cmd)
        .await?;
    let audited = Extension(Audited {
        action: Some("visit.record"),
        object_type: Some("visit"),
        object_id: Some(visit.id),
        area_path: Some(visit.area_path.as_str().to_owned()),
        reason: None,
    });
    Ok((StatusCode::CREATED, audited, Json(visit.into())))
}

#[utoipa::path(get, path = "/visits/{id}", tag = "visits",
    responses((status = 200, body = VisitOut), (status = 404, body = Problem)))]
async fn get_visit(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<VisitOut>> {
    Ok(Json(s.registry.store.visit(&scope, id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DueParams {
    /// Area code (a grid, usually).
    pub area: Option<String>,
    /// Not reached by a visit in this many days (default 30).
    pub days: Option<u16>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DueOut {
    pub household_id: i64,
    pub dwelling_id: Option<i64>,
    pub area_id: i64,
    /// Never visited when absent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_visited_at: Option<OffsetDateTime>,
}

/// Households not reached by a visit in N days (or never), oldest first: the grid worker's
/// "visits due" list.
#[utoipa::path(get, path = "/visits/due", tag = "visits", params(DueParams),
    responses((status = 200, body = Vec<DueOut>), (status = 422, body = Problem)))]
async fn households_due(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<DueParams>,
) -> ApiResult<Json<Vec<DueOut>>> {
    let mut f = Fields::default();
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    f.finish()?;
    let root = area_filter(&s, &scope, "area", area).await?;
    let days = i64::from(q.days.unwrap_or(30).clamp(1, 3650));
    let since = OffsetDateTime::now_utc() - time::Duration::days(days);
    let due = s
        .registry
        .store
        .households_due(&scope, root.as_ref(), since, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(
        due.into_iter()
            .map(|(h, last)| DueOut {
                household_id: h.id,
                dwelling_id: h.dwelling_id,
                area_id: h.area_id,
                last_visited_at: last,
            })
            .collect(),
    ))
}
