//! Planning a campaign: the form for a new one and for a draft (name, kind, area, period,
//! target rule, the door form, the desk), with a live preview of the targets (htmx posts the
//! form to `/campaigns/preview` on every change and swaps in the counts; choosing another area
//! also swaps in that area's compounds and staff).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use wangge_domain::campaign::form::{FieldKind, MAX_FIELDS};
use wangge_domain::{AreaCode, AreaLevel, CampaignKind, PlaceKind, ResidenceType, Scope};
use wangge_services::ServiceError;
use wangge_services::campaigns::{PreviewTargets, campaign_conflict};
use wangge_store::StoreError;
use wangge_store::areas::AreaFilter;
use wangge_store::campaigns::Campaign;
use wangge_store::page::PageRequest;
use wangge_store::places::PlaceFilter;

use super::plan_form::{FieldRow, PlanForm, place_errors, plan_of, ymd};
use super::{kind_name, manages};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;
use crate::pages::{FormErrors, Page, Shell, page_error, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns/new", get(new_form).post(create))
        .route("/campaigns/preview", post(preview))
        .route("/campaigns/{id}/edit", get(edit_form).post(update))
}

/// A tag to pick.
pub struct TagChoice {
    pub code: String,
    pub name: String,
    pub class: String,
}

/// A compound of the area with its buildings.
pub struct CompoundChoice {
    pub id: i64,
    pub label: String,
    pub buildings: Vec<(i64, String)>,
}

/// A row of the form builder on the page.
pub struct RowView {
    pub i: usize,
    pub row: FieldRow,
    pub error: Option<String>,
}

/// The counts the preview shows, or why there are none.
#[derive(Default)]
pub struct PreviewView {
    pub targets: i64,
    pub households: i64,
    pub contactless: i64,
    pub persons: bool,
    pub problems: Vec<String>,
}

impl PreviewView {
    pub fn detail(&self, t: &Texts) -> String {
        t.tf(
            "campaign.preview_detail",
            &[&self.households, &self.contactless],
        )
    }

    async fn of(s: &AppState, scope: &Scope, t: Texts, f: &PlanForm) -> PreviewView {
        let (plan, _) = plan_of(f);
        let result = match plan {
            Ok(p) => {
                let persons = p.kind.subject() == wangge_domain::TagSubject::Person;
                let q = PreviewTargets {
                    area: p.area,
                    kind: p.kind,
                    rule: p.rule,
                };
                s.registry
                    .preview_campaign(scope, q)
                    .await
                    .map(|r| (r, persons))
            }
            Err(e) => Err(e),
        };
        match result {
            Ok((p, persons)) => PreviewView {
                targets: p.targets,
                households: p.households,
                contactless: p.contactless,
                persons,
                problems: Vec::new(),
            },
            Err(ServiceError::Invalid(list)) => PreviewView {
                problems: list
                    .iter()
                    .filter(|f| !matches!(f.field.as_str(), "name" | "starts_on" | "ends_on"))
                    .filter(|f| !f.field.starts_with("form") && f.field != "desk_user_id")
                    .map(|f| {
                        if t.is_zh() {
                            f.message_zh.clone()
                        } else {
                            f.message_en.clone()
                        }
                    })
                    .collect(),
                ..Default::default()
            },
            Err(e) => {
                tracing::error!(error = %e, "campaign preview failed");
                PreviewView {
                    problems: vec![t.t("campaign.preview_failed").to_owned()],
                    ..Default::default()
                }
            }
        }
    }
}

/// The compounds and staff of the chosen area.
#[derive(Template)]
#[template(path = "_campaign_area_parts.html")]
pub struct AreaParts {
    pub shell: Shell,
    pub oob: bool,
    pub compounds: Vec<CompoundChoice>,
    pub staff: Vec<(i64, String)>,
    pub form: PlanForm,
    pub errors: FormErrors,
}

impl AreaParts {
    async fn load(
        s: &AppState,
        page: &Page,
        form: PlanForm,
        errors: FormErrors,
        oob: bool,
    ) -> Result<AreaParts, StoreError> {
        let scope = page.scope();
        let store = &s.registry.store;
        let t = page.t();
        let mut compounds = Vec::new();
        let mut staff = Vec::new();
        let area = match AreaCode::parse(&form.area) {
            Ok(code) => match store.area_by_code(&scope, &code).await {
                Ok(a) if scope.contains(&a.path) => Some(a),
                Ok(_) | Err(StoreError::NotFound) => None,
                Err(e) => return Err(e),
            },
            Err(_) => None,
        };
        if let Some(area) = area {
            let all = |kind| PlaceFilter {
                kind: Some(kind),
                within: Some(area.path.clone()),
                ..Default::default()
            };
            let req = PageRequest {
                after: None,
                limit: 500,
            };
            let buildings = store
                .places(&scope, &all(PlaceKind::Building), &req)
                .await?
                .items;
            for c in store
                .places(&scope, &all(PlaceKind::Compound), &req)
                .await?
                .items
            {
                let mut mine: Vec<(i64, String)> = buildings
                    .iter()
                    .filter(|b| b.parent_id == Some(c.id))
                    .map(|b| {
                        let label = b
                            .address
                            .strip_prefix(c.address.as_str())
                            .unwrap_or(&b.label);
                        (b.id, label.to_owned())
                    })
                    .collect();
                mine.sort_by(|a, b| (a.1.len(), &a.1).cmp(&(b.1.len(), &b.1)));
                compounds.push(CompoundChoice {
                    id: c.id,
                    label: c.label,
                    buildings: mine,
                });
            }
            for u in store.campaign_staff(&area.path).await? {
                let role = if t.is_zh() {
                    u.role.name_zh()
                } else {
                    u.role.name_en()
                };
                staff.push((u.id, format!("{} · {role}", u.display_name)));
            }
        }
        Ok(AreaParts {
            shell: page.shell.clone(),
            oob,
            compounds,
            staff,
            form,
            errors,
        })
    }
}

#[derive(Template)]
#[template(path = "campaign_plan.html")]
struct PlanPage {
    shell: Shell,
    /// The draft being edited.
    editing: Option<i64>,
    /// The draft's area (fixed once created), as shown.
    area_fixed: Option<String>,
    areas: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    tags: Vec<TagChoice>,
    residences: Vec<(String, String)>,
    field_kinds: Vec<(String, String)>,
    rows: Vec<RowView>,
    parts: AreaParts,
    preview: PreviewView,
    form: PlanForm,
    errors: FormErrors,
}

/// The areas a campaign may be planned in: the caller's own and the ones just below them.
async fn area_choices(
    s: &AppState,
    scope: &Scope,
    t: Texts,
) -> Result<Vec<(String, String)>, StoreError> {
    let store = &s.registry.store;
    let mut out = Vec::new();
    for root in scope.roots() {
        let area = store.area(scope, root.last_id()).await?;
        let level = super::super::home::level_name(t, area.level);
        out.push((
            area.code.as_str().to_owned(),
            format!("{} · {level} · {}", area.name, area.code.as_str()),
        ));
        if area.level == AreaLevel::Grid {
            continue;
        }
        let filter = AreaFilter {
            parent_id: Some(area.id),
            ..Default::default()
        };
        let req = PageRequest {
            after: None,
            limit: 200,
        };
        for child in store.areas(scope, &filter, &req).await?.items {
            if scope.contains(&child.path) {
                let level = super::super::home::level_name(t, child.level);
                out.push((
                    child.code.as_str().to_owned(),
                    format!("\u{3000}{} · {level} · {}", child.name, child.code.as_str()),
                ));
            }
        }
    }
    Ok(out)
}

async fn plan_view(
    s: &AppState,
    page: Page,
    editing: Option<&Campaign>,
    mut form: PlanForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let built = async {
        let areas = area_choices(s, &scope, t).await?;
        let area_fixed = match editing {
            Some(c) => {
                let a = store.area(&scope, c.area_id).await?;
                form.area = a.code.as_str().to_owned();
                Some(format!("{} · {}", a.name, a.code.as_str()))
            }
            None => {
                if !areas.iter().any(|(code, _)| *code == form.area) {
                    form.area = areas.first().map(|a| a.0.clone()).unwrap_or_default();
                }
                None
            }
        };
        let tags = store
            .tags(&scope)
            .await?
            .into_iter()
            .map(|tag| TagChoice {
                code: tag.code.as_str().to_owned(),
                name: if t.is_zh() { tag.name_zh } else { tag.name_en },
                class: tag.sensitivity.as_str().to_owned(),
            })
            .collect();
        let parts = AreaParts::load(s, &page, form.clone(), errors.clone(), false).await?;
        Ok::<_, StoreError>((areas, area_fixed, tags, parts))
    };
    let (areas, area_fixed, tags, parts) = match built.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let preview = PreviewView::of(s, &scope, t, &form).await;
    let used = form.rows.iter().filter(|r| PlanForm::is_used(r)).count();
    let shown = (used + 2).clamp(5, MAX_FIELDS);
    let mut kept: Vec<FieldRow> = form
        .rows
        .iter()
        .filter(|r| PlanForm::is_used(r))
        .cloned()
        .collect();
    kept.resize_with(shown, FieldRow::default);
    // Rows were compacted: errors keyed by the typed row follow their row.
    let typed: Vec<usize> = form
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| PlanForm::is_used(r))
        .map(|(i, _)| i)
        .collect();
    let rows = kept
        .into_iter()
        .enumerate()
        .map(|(i, row)| RowView {
            error: typed
                .get(i)
                .and_then(|r| errors.get(&format!("row{r}")))
                .map(str::to_owned),
            i,
            row,
        })
        .collect();
    let out = PlanPage {
        editing: editing.map(|c| c.id),
        area_fixed,
        areas,
        kinds: CampaignKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), kind_name(t, *k).to_owned()))
            .collect(),
        tags,
        residences: ResidenceType::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_owned(),
                    t.t(&format!("residence.{}", r.as_str())).to_owned(),
                )
            })
            .collect(),
        field_kinds: FieldKind::NAMES
            .iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    t.t(&format!("campaign.field_{k}")).to_owned(),
                )
            })
            .collect(),
        rows,
        parts,
        preview,
        form,
        errors,
        shell: page.shell,
    };
    (status, render(&out)).into_response()
}

#[derive(Deserialize)]
struct NewQuery {
    area: Option<String>,
}

async fn new_form(State(s): State<AppState>, page: Page, Query(q): Query<NewQuery>) -> Response {
    let today = s.registry.clock.today();
    let form = PlanForm {
        kind: CampaignKind::Delivery.as_str().to_owned(),
        area: q.area.unwrap_or_default(),
        starts_on: ymd(today),
        ends_on: ymd(today + time::Duration::days(30)),
        ..Default::default()
    };
    plan_view(&s, page, None, form, FormErrors::default(), StatusCode::OK).await
}

/// A refused plan: the form again, each message beside its field.
async fn refused(
    s: &AppState,
    page: Page,
    editing: Option<&Campaign>,
    form: PlanForm,
    rows: &[usize],
    e: ServiceError,
) -> Response {
    let status = match &e {
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match FormErrors::from_service(e, page.t()) {
        Ok(errors) => {
            let errors = place_errors(errors, rows);
            plan_view(s, page, editing, form, errors, status).await
        }
        Err(e) => page_error(page.shell, e),
    }
}

async fn create(
    State(s): State<AppState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let form = PlanForm::from_pairs(&pairs);
    let (plan, rows) = plan_of(&form);
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return refused(&s, page, None, form, &rows, e).await,
    };
    let owner = (Some(caller.user_id), caller.username.as_str());
    match s.registry.create_campaign(&page.scope(), owner, plan).await {
        Ok(c) => {
            let audited = Audited {
                action: Some("campaign.create"),
                object_type: Some("campaign"),
                object_id: Some(c.id),
                area_path: Some(c.area_path.as_str().to_owned()),
                reason: None,
            };
            (
                Extension(audited),
                Redirect::to(&format!("/campaigns/{}", c.id)),
            )
                .into_response()
        }
        Err(e) => refused(&s, page, None, form, &rows, e).await,
    }
}

/// The draft the caller manages (anything else is not found; a launched one is a conflict).
async fn managed_draft(s: &AppState, page: &Page, id: i64) -> Result<Campaign, ServiceError> {
    let Some(caller) = page.caller.as_ref() else {
        return Err(ServiceError::NotFound);
    };
    let c = s.registry.store.campaign(&page.scope(), id).await?;
    if !manages(s, caller, &c).await {
        return Err(ServiceError::NotFound);
    }
    c.state.may_edit_plan().map_err(|e| campaign_conflict(&e))?;
    Ok(c)
}

async fn edit_form(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let c = match managed_draft(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let form = PlanForm::from_campaign(&c, "");
    plan_view(
        &s,
        page,
        Some(&c),
        form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let c = match managed_draft(&s, &page, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let mut form = PlanForm::from_pairs(&pairs);
    // The area is fixed: the draft's own, whatever was sent.
    match s.registry.store.area(&page.scope(), c.area_id).await {
        Ok(a) => form.area = a.code.as_str().to_owned(),
        Err(e) => return page_error(page.shell, e),
    }
    let (plan, rows) = plan_of(&form);
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return refused(&s, page, Some(&c), form, &rows, e).await,
    };
    match s.registry.update_campaign(&page.scope(), id, plan).await {
        Ok(c) => {
            let audited = Audited {
                action: Some("campaign.update"),
                object_type: Some("campaign"),
                object_id: Some(c.id),
                area_path: Some(c.area_path.as_str().to_owned()),
                reason: None,
            };
            (
                Extension(audited),
                Redirect::to(&format!("/campaigns/{id}")),
            )
                .into_response()
        }
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => refused(&s, page, Some(&c), form, &rows, e).await,
    }
}

#[derive(Template)]
#[template(path = "_campaign_preview.html")]
struct PreviewFragment {
    shell: Shell,
    preview: PreviewView,
    parts: Option<AreaParts>,
}

/// The live preview: the counts for the form as it stands; when the area was just changed,
/// also that area's compounds and staff (swapped in out of band).
async fn preview(
    State(s): State<AppState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let mut form = PlanForm::from_pairs(&pairs);
    // The compounds and staff on the page are those of `area_shown`; another area was chosen.
    let shown = pairs
        .iter()
        .find(|(k, _)| k == "area_shown")
        .map(|(_, v)| v.trim());
    let area_changed = shown.is_some_and(|a| a != form.area);
    if area_changed {
        // The places and desk chosen belonged to the area left behind.
        form.places.clear();
        form.desk.clear();
    }
    let preview = PreviewView::of(&s, &page.scope(), page.t(), &form).await;
    let parts = if area_changed {
        match AreaParts::load(&s, &page, form, FormErrors::default(), true).await {
            Ok(p) => Some(p),
            Err(e) => return page_error(page.shell, e),
        }
    } else {
        None
    };
    render(&PreviewFragment {
        shell: page.shell,
        preview,
        parts,
    })
}
