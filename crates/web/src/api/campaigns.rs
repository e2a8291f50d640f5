//! Campaigns (专项行动 / 摸排): plan with a target preview, launch (the list freezes), add
//! newcomers on demand, coverage against the frozen denominator, the pre-registration link,
//! and the door list as an Excel export (masked unless revealed with a reason).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::campaign::RuleDraft;
use wangge_domain::campaign::form::{FieldDraft, FieldKind};
use wangge_domain::{AreaCode, CampaignKind, CampaignState, ResidenceType, TagCode};
use wangge_services::campaigns::{PlanCampaign, PreviewTargets};
use wangge_store::campaigns::{Campaign, CampaignFilter, Coverage, Preview, StatusCounts};

use super::{PageOf, area_filter, page_request};
use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CallerScope, Fields, checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(preview_campaign))
        .routes(routes!(get_campaign, replace_campaign))
        .routes(routes!(launch_campaign))
        .routes(routes!(close_campaign))
        .routes(routes!(preview_newcomers, add_newcomers))
        .routes(routes!(set_link))
        .routes(routes!(campaign_coverage))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
pub struct RuleIo {
    /// Area codes (subtrees); default: the campaign's area.
    #[serde(default)]
    pub areas: Vec<String>,
    /// Tag codes: a target holds any of them.
    #[serde(default)]
    pub tags: Vec<String>,
    pub age_min: Option<u16>,
    pub age_max: Option<u16>,
    /// registered, permanent, migrant or foreign.
    #[serde(default)]
    pub residence: Vec<String>,
    /// Compounds, buildings, units or dwellings (place ids).
    #[serde(default)]
    pub places: Vec<i64>,
    #[serde(default)]
    pub include_households: Vec<i64>,
    #[serde(default)]
    pub exclude_households: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FormFieldIo {
    /// Defaults to f1, f2, … by position.
    pub key: Option<String>,
    pub label: String,
    /// text, number, choice, yes_no, date or photo.
    #[serde(rename = "type")]
    pub kind: String,
    /// For a choice: its options.
    #[serde(default)]
    pub options: Vec<String>,
    /// Required when the outcome is done.
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: i64,
    pub name: String,
    /// sweep, delivery or care_check.
    pub kind: String,
    pub kind_name_zh: String,
    pub purpose: Option<String>,
    /// draft, active or closed.
    pub state: String,
    pub area_id: i64,
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    #[schema(value_type = String, format = Date)]
    pub ends_on: Date,
    pub owner: String,
    pub rule: RuleIo,
    pub form: Vec<FormFieldIo>,
    pub desk_user_id: Option<i64>,
    /// The residents' pre-registration page, while it is open.
    pub public_url: Option<String>,
    /// The frozen denominator: doors at launch plus those added on demand.
    pub target_count: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub launched_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

impl From<Campaign> for CampaignOut {
    fn from(c: Campaign) -> Self {
        let rule = RuleDraft::from(c.rule);
        CampaignOut {
            id: c.id,
            name: c.name,
            kind: c.kind.as_str().to_owned(),
            kind_name_zh: c.kind.name_zh().to_owned(),
            purpose: c.purpose,
            state: c.state.as_str().to_owned(),
            area_id: c.area_id,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            owner: c.owner,
            rule: RuleIo {
                areas: rule.areas.iter().map(|a| a.as_str().to_owned()).collect(),
                tags: rule.tags.iter().map(|t| t.as_str().to_owned()).collect(),
                age_min: rule.age_min,
                age_max: rule.age_max,
                residence: rule
                    .residence
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
                places: rule.places,
                include_households: rule.include_households,
                exclude_households: rule.exclude_households,
            },
            form: c
                .form
                .fields()
                .iter()
                .map(|f| FormFieldIo {
                    key: Some(f.key.clone()),
                    label: f.label.clone(),
                    kind: f.kind.as_str().to_owned(),
                    options: match &f.kind {
                        FieldKind::Choice(o) => o.clone(),
                        _ => Vec::new(),
                    },
                    required: f.required,
                })
                .collect(),
            desk_user_id: c.desk_user_id,
            public_url: c.public_token.map(|t| format!("/c/{t}")),
            target_count: c.target_count,
            launched_at: c.launched_at,
            closed_at: c.closed_at,
        }
    }
}

pub(crate) fn audited(action: &'static str, c: &Campaign) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("campaign"),
        object_id: Some(c.id),
        area_path: Some(c.area_path.as_str().to_owned()),
        reason: None,
    })
}

/// A rule from the API's words into domain values, naming every bad part.
fn rule_draft(f: &mut Fields, r: RuleIo) -> RuleDraft {
    let areas = r
        .areas
        .iter()
        .enumerate()
        .filter_map(|(i, a)| f.domain(&format!("rule.areas[{i}]"), AreaCode::parse(a)))
        .collect();
    let tags = r
        .tags
        .iter()
        .enumerate()
        .filter_map(|(i, t)| f.domain(&format!("rule.tags[{i}]"), TagCode::parse(t)))
        .collect();
    let residence = r
        .residence
        .iter()
        .enumerate()
        .filter_map(|(i, t)| f.domain(&format!("rule.residence[{i}]"), ResidenceType::parse(t)))
        .collect();
    RuleDraft {
        areas,
        tags,
        age_min: r.age_min,
        age_max: r.age_max,
        residence,
        places: r.places,
        include_households: r.include_households,
        exclude_households: r.exclude_households,
    }
}

/// The rule, form and the rest of a campaign plan as the API sends them.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignIn {
    pub name: String,
    /// sweep (摸排), delivery (送达上门) or care_check (关爱探访).
    pub kind: String,
    pub purpose: Option<String>,
    /// The campaign's area code; the rule's areas default to it and lie within it.
    pub area: String,
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    #[schema(value_type = String, format = Date)]
    pub ends_on: Date,
    #[serde(default)]
    pub rule: RuleIo,
    #[serde(default)]
    pub form: Vec<FormFieldIo>,
    /// The staff member who handles residents' pre-registrations.
    pub desk_user_id: Option<i64>,
}

fn plan(body: CampaignIn) -> Result<PlanCampaign, ApiError> {
    let mut f = Fields::default();
    let kind = f.domain("kind", CampaignKind::parse(&body.kind));
    let area = f.domain("area", AreaCode::parse(&body.area));
    let rule = rule_draft(&mut f, body.rule);
    f.finish()?;
    Ok(PlanCampaign {
        name: body.name,
        kind: checked(kind),
        purpose: body.purpose,
        area: checked(area),
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        rule,
        form: body
            .form
            .into_iter()
            .map(|x| FieldDraft {
                key: x.key,
                label: x.label,
                kind: x.kind,
                options: x.options,
                required: x.required,
            })
            .collect(),
        desk_user_id: body.desk_user_id,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CampaignListParams {
    /// draft, active or closed.
    pub state: Option<String>,
    /// Area code: campaigns in that area or above it.
    pub area: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/campaigns", tag = "campaigns", params(CampaignListParams),
    responses((status = 200, body = PageOf<CampaignOut>), (status = 422, body = Problem)))]
async fn list_campaigns(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<CampaignListParams>,
) -> ApiResult<Json<PageOf<CampaignOut>>> {
    let page = page_request(q.cursor.as_deref(), q.limit)?;
    let mut f = Fields::default();
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    let state = f.optional("state", q.state.as_deref(), CampaignState::parse);
    f.finish()?;
    let filter = CampaignFilter {
        state,
        within: area_filter(&s, &scope, "area", area).await?,
    };
    let found = s.registry.store.campaigns(&scope, &filter, &page).await?;
    Ok(Json(PageOf::from_page(found, CampaignOut::from)))
}

/// Creates a draft: nothing is frozen until launch.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = CampaignIn,
    responses((status = 201, body = CampaignOut), (status = 422, body = Problem)))]
async fn create_campaign(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    crate::extract::CurrentCaller(caller): crate::extract::CurrentCaller,
    ApiJson(body): ApiJson<CampaignIn>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<CampaignOut>)> {
    let cmd = plan(body)?;
    let c = s
        .registry
        .create_campaign(&scope, (Some(caller.user_id), &caller.username), cmd)
        .await?;
    Ok((
        StatusCode::CREATED,
        audited("campaign.create", &c),
        Json(c.into()),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewIn {
    pub kind: String,
    pub area: String,
    #[serde(default)]
    pub rule: RuleIo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    /// Households (sweep) or persons (delivery, care check) the rule selects now.
    pub targets: i64,
    /// Distinct households among them: the doors.
    pub households: i64,
    /// Targets worked contactless (a household member under home health monitoring).
    pub contactless: i64,
}

impl From<Preview> for PreviewOut {
    fn from(p: Preview) -> Self {
        PreviewOut {
            targets: p.targets,
            households: p.households,
            contactless: p.contactless,
        }
    }
}

/// How many targets a rule selects now; nothing is saved.
#[utoipa::path(post, path = "/campaigns/preview", tag = "campaigns", request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 422, body = Problem)))]
async fn preview_campaign(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiJson(body): ApiJson<PreviewIn>,
) -> ApiResult<Json<PreviewOut>> {
    let mut f = Fields::default();
    let kind = f.domain("kind", CampaignKind::parse(&body.kind));
    let area = f.domain("area", AreaCode::parse(&body.area));
    let rule = rule_draft(&mut f, body.rule);
    f.finish()?;
    let p = s
        .registry
        .preview_campaign(
            &scope,
            PreviewTargets {
                area: checked(area),
                kind: checked(kind),
                rule,
            },
        )
        .await?;
    Ok(Json(p.into()))
}

#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns",
    responses((status = 200, body = CampaignOut), (status = 404, body = Problem)))]
async fn get_campaign(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignOut>> {
    Ok(Json(s.registry.store.campaign(&scope, id).await?.into()))
}

/// Replaces a draft's plan (409 once launched).
#[utoipa::path(put, path = "/campaigns/{id}", tag = "campaigns", request_body = CampaignIn,
    responses((status = 200, body = CampaignOut), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_campaign(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CampaignIn>,
) -> ApiResult<(Extension<Audited>, Json<CampaignOut>)> {
    let cmd = plan(body)?;
    let c = s.registry.update_campaign(&scope, id, cmd).await?;
    Ok((audited("campaign.update", &c), Json(c.into())))
}

/// Launches a draft: its targets are frozen as doors, each given to its grid's worker.
#[utoipa::path(post, path = "/campaigns/{id}/launch", tag = "campaigns",
    responses((status = 200, body = CampaignOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn launch_campaign(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<CampaignOut>)> {
    let c = s.registry.launch_campaign(&scope, id).await?;
    Ok((audited("campaign.launch", &c), Json(c.into())))
}

/// Closes a campaign (and its pre-registration link); its doors stay for the record.
#[utoipa::path(post, path = "/campaigns/{id}/close", tag = "campaigns",
    responses((status = 200, body = CampaignOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn close_campaign(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<CampaignOut>)> {
    let c = s.registry.close_campaign(&scope, id).await?;
    Ok((audited("campaign.close", &c), Json(c.into())))
}

/// Targets that entered the rule since launch and are not listed yet.
#[utoipa::path(get, path = "/campaigns/{id}/newcomers", tag = "campaigns",
    responses((status = 200, body = PreviewOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn preview_newcomers(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<PreviewOut>> {
    Ok(Json(s.registry.preview_newcomers(&scope, id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedOut {
    /// Doors added; the denominator grew by as many.
    pub added: i64,
    pub target_count: i64,
}

/// Adds the newcomers as doors, on demand.
#[utoipa::path(post, path = "/campaigns/{id}/newcomers", tag = "campaigns",
    responses((status = 200, body = AddedOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn add_newcomers(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Json<AddedOut>)> {
    let added = s.registry.add_newcomers(&scope, id).await?;
    let c = s.registry.store.campaign(&scope, id).await?;
    Ok((
        audited("campaign.add_newcomers", &c),
        Json(AddedOut {
            added,
            target_count: c.target_count,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkIn {
    /// true opens the residents' pre-registration page (with a new link), false closes it.
    pub open: bool,
}

#[utoipa::path(post, path = "/campaigns/{id}/link", tag = "campaigns", request_body = LinkIn,
    responses((status = 200, body = CampaignOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn set_link(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LinkIn>,
) -> ApiResult<(Extension<Audited>, Json<CampaignOut>)> {
    let c = s.registry.set_campaign_link(&scope, id, body.open).await?;
    let action = if body.open {
        "campaign.link_open"
    } else {
        "campaign.link_close"
    };
    Ok((audited(action, &c), Json(c.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountsOut {
    pub total: i64,
    pub pending: i64,
    pub done: i64,
    pub not_home: i64,
    pub refused: i64,
    pub not_found: i64,
    pub follow_up: i64,
    pub contactless: i64,
    /// Open doors whose slot has ended.
    pub overdue_slots: i64,
    /// Done or needing follow-up, in per mille of all doors (nobody found counts against it).
    pub reached_permille: i64,
    /// Anything but pending, in per mille.
    pub worked_permille: i64,
}

impl From<StatusCounts> for CountsOut {
    fn from(c: StatusCounts) -> Self {
        CountsOut {
            total: c.total,
            pending: c.pending,
            done: c.done,
            not_home: c.not_home,
            refused: c.refused,
            not_found: c.not_found,
            follow_up: c.follow_up,
            contactless: c.contactless,
            overdue_slots: c.overdue_slots,
            reached_permille: c.reached_permille(),
            worked_permille: c.worked_permille(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaCountsOut {
    pub area_id: i64,
    pub area_code: String,
    pub area_name: String,
    pub counts: CountsOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOut {
    /// The campaign's frozen denominator (all its doors, also those outside your area).
    pub target_count: i64,
    /// The doors you see.
    pub total: CountsOut,
    /// Per child area of `area` (default: of the campaign's area or, for a grid worker, of
    /// your own areas).
    pub by_area: Vec<AreaCountsOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CoverageParams {
    /// Break down by the children of this area (code).
    pub area: Option<String>,
}

/// Coverage and progress per area against the frozen denominator.
#[utoipa::path(get, path = "/campaigns/{id}/coverage", tag = "campaigns", params(CoverageParams),
    responses((status = 200, body = CoverageOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn campaign_coverage(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> ApiResult<Json<CoverageOut>> {
    let mut f = Fields::default();
    let area = f.optional("area", q.area.as_deref(), AreaCode::parse);
    f.finish()?;
    let c = s.registry.store.campaign(&scope, id).await?;
    let root = match area_filter(&s, &scope, "area", area).await? {
        Some(path) => Some(path),
        None => scope.contains(&c.area_path).then(|| c.area_path.clone()),
    };
    let coverage = s
        .registry
        .campaign_coverage(&scope, &c, root.as_ref())
        .await?;
    Ok(Json(coverage_out(c.target_count, coverage)))
}

fn coverage_out(target_count: i64, c: Coverage) -> CoverageOut {
    CoverageOut {
        target_count,
        total: c.total.into(),
        by_area: c
            .by_area
            .into_iter()
            .map(|r| AreaCountsOut {
                area_id: r.area_id,
                area_code: r.area_code,
                area_name: r.area_name,
                counts: r.counts.into(),
            })
            .collect(),
    }
}
