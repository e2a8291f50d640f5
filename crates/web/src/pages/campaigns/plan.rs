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
use time::Date;
use time::macros::format_description;
use wangge_domain::campaign::RuleDraft;
use wangge_domain::campaign::form::{FieldDraft, FieldKind, MAX_FIELDS};
use wangge_domain::{AreaCode, AreaLevel, CampaignKind, PlaceKind, ResidenceType, Scope, TagCode};
use wangge_services::campaigns::{PlanCampaign, PreviewTargets, campaign_conflict};
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;
use wangge_store::areas::AreaFilter;
use wangge_store::campaigns::Campaign;
use wangge_store::page::PageRequest;
use wangge_store::places::PlaceFilter;

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

/// One row of the form builder as typed.
#[derive(Debug, Clone, Default)]
pub struct FieldRow {
    pub label: String,
    pub kind: String,
    pub options: String,
    pub required: bool,
}

/// The plan form as typed (every value kept for a redisplay).
#[derive(Debug, Clone, Default)]
pub struct PlanForm {
    pub name: String,
    pub kind: String,
    pub purpose: String,
    pub area: String,
    pub starts_on: String,
    pub ends_on: String,
    pub tags: Vec<String>,
    pub age_min: String,
    pub age_max: String,
    pub residence: Vec<String>,
    pub places: Vec<String>,
    pub rows: Vec<FieldRow>,
    pub desk: String,
}

fn ymd(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

impl PlanForm {
    fn from_pairs(pairs: &[(String, String)]) -> PlanForm {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let all = |k: &str| {
            pairs
                .iter()
                .filter(|(n, v)| n == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
                .collect::<Vec<_>>()
        };
        let rows = (0..MAX_FIELDS)
            .map(|i| FieldRow {
                label: one(&format!("f{i}_label")),
                kind: one(&format!("f{i}_kind")),
                options: one(&format!("f{i}_options")),
                required: !one(&format!("f{i}_required")).is_empty(),
            })
            .collect();
        PlanForm {
            name: one("name"),
            kind: one("kind"),
            purpose: one("purpose"),
            area: one("area").trim().to_owned(),
            starts_on: one("starts_on"),
            ends_on: one("ends_on"),
            tags: all("tags"),
            age_min: one("age_min"),
            age_max: one("age_max"),
            residence: all("residence"),
            places: all("places"),
            rows,
            desk: one("desk"),
        }
    }

    fn from_campaign(c: &Campaign, area_code: &str) -> PlanForm {
        let rule = &c.rule;
        PlanForm {
            name: c.name.clone(),
            kind: c.kind.as_str().to_owned(),
            purpose: c.purpose.clone().unwrap_or_default(),
            area: area_code.to_owned(),
            starts_on: ymd(c.starts_on),
            ends_on: ymd(c.ends_on),
            tags: rule.tags().iter().map(|t| t.as_str().to_owned()).collect(),
            age_min: rule.age_min().map(|a| a.to_string()).unwrap_or_default(),
            age_max: rule.age_max().map(|a| a.to_string()).unwrap_or_default(),
            residence: rule
                .residence()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            places: rule.places().iter().map(i64::to_string).collect(),
            rows: c
                .form
                .fields()
                .iter()
                .map(|f| FieldRow {
                    label: f.label.clone(),
                    kind: f.kind.as_str().to_owned(),
                    options: match &f.kind {
                        FieldKind::Choice(o) => o.join(", "),
                        _ => String::new(),
                    },
                    required: f.required,
                })
                .collect(),
            desk: c.desk_user_id.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    pub fn has_tag(&self, code: &str) -> bool {
        self.tags.iter().any(|t| t == code)
    }

    pub fn has_residence(&self, code: &str) -> bool {
        self.residence.iter().any(|t| t == code)
    }

    pub fn has_place(&self, id: &i64) -> bool {
        self.places.iter().any(|p| p.trim() == id.to_string())
    }

    fn is_used(r: &FieldRow) -> bool {
        !r.label.trim().is_empty() || !r.options.trim().is_empty()
    }
}

fn date(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let v = v.trim();
    if v.is_empty() {
        errors.push(FieldError::required(field));
        return None;
    }
    Date::parse(v, format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            errors.push(FieldError::new(
                field,
                "date.invalid",
                "日期无效，应为 YYYY-MM-DD",
                "Not a valid date (YYYY-MM-DD)",
            ));
        })
        .ok()
}

fn age(v: &str, errors: &mut Vec<FieldError>) -> Option<u16> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    v.parse()
        .map_err(|_| {
            errors.push(FieldError::new(
                "rule.age_min",
                "rule.age_range",
                "年龄应为 0–150 的整数",
                "Ages are whole numbers from 0 to 150",
            ));
        })
        .ok()
}

/// The options of a choice field: separated by commas (either width), 、 or semicolons.
fn options(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；'])
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect()
}

/// The plan the form describes, or every problem found in it (fields as the service names
/// them), and the row of each form field given to the service.
fn plan_of(f: &PlanForm) -> (Result<PlanCampaign, ServiceError>, Vec<usize>) {
    let mut errors = Vec::new();
    let kind = CampaignKind::parse(&f.kind)
        .map_err(|e| errors.push(FieldError::from_domain("kind", &e)))
        .ok();
    let area = AreaCode::parse(&f.area)
        .map_err(|_| errors.push(FieldError::required("area")))
        .ok();
    let starts_on = date("starts_on", &f.starts_on, &mut errors);
    let ends_on = date("ends_on", &f.ends_on, &mut errors);
    let mut tags = Vec::new();
    for (i, t) in f.tags.iter().enumerate() {
        match TagCode::parse(t) {
            Ok(t) => tags.push(t),
            Err(_) => errors.push(FieldError::unknown_reference(&format!("rule.tags[{i}]"))),
        }
    }
    let age_min = age(&f.age_min, &mut errors);
    let age_max = age(&f.age_max, &mut errors);
    let mut residence = Vec::new();
    for r in &f.residence {
        match ResidenceType::parse(r) {
            Ok(r) => residence.push(r),
            Err(e) => errors.push(FieldError::from_domain("rule.residence", &e)),
        }
    }
    let mut places = Vec::new();
    for (i, p) in f.places.iter().enumerate() {
        match p.trim().parse() {
            Ok(p) => places.push(p),
            Err(_) => errors.push(FieldError::unknown_reference(&format!("rule.places[{i}]"))),
        }
    }
    let mut drafts = Vec::new();
    let mut rows = Vec::new();
    for (i, r) in f
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| PlanForm::is_used(r))
    {
        rows.push(i);
        drafts.push(FieldDraft {
            key: None,
            label: r.label.clone(),
            kind: if r.kind.trim().is_empty() {
                "text".to_owned()
            } else {
                r.kind.clone()
            },
            options: options(&r.options),
            required: r.required,
        });
    }
    let desk_user_id = match f.desk.trim() {
        "" => None,
        d => match d.parse() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::unknown_reference("desk_user_id"));
                None
            }
        },
    };
    let plan = match (kind, area, starts_on, ends_on) {
        (Some(kind), Some(area), Some(starts_on), Some(ends_on)) if errors.is_empty() => {
            Ok(PlanCampaign {
                name: f.name.clone(),
                kind,
                purpose: Some(f.purpose.clone()),
                area,
                starts_on,
                ends_on,
                rule: RuleDraft {
                    areas: Vec::new(),
                    tags,
                    age_min,
                    age_max,
                    residence,
                    places,
                    include_households: Vec::new(),
                    exclude_households: Vec::new(),
                },
                form: drafts,
                desk_user_id,
            })
        }
        _ => Err(ServiceError::Invalid(errors)),
    };
    (plan, rows)
}

/// The form's field names for the service's: errors go beside the inputs they are about, and
/// anything else on top.
fn place_errors(mut e: FormErrors, rows: &[usize]) -> FormErrors {
    let mut placed: Vec<(String, String)> = Vec::new();
    let mut general: Vec<String> = Vec::new();
    for (field, message) in std::mem::take(&mut e.fields) {
        let key = match field.as_str() {
            "name" | "purpose" | "starts_on" | "ends_on" | "kind" | "area" => Some(field.clone()),
            "desk_user_id" => Some("desk".to_owned()),
            "form" => Some("rows".to_owned()),
            f if f.starts_with("rule.tags") => Some("tags".to_owned()),
            f if f.starts_with("rule.places") => Some("places".to_owned()),
            f if f.starts_with("rule.age") => Some("age".to_owned()),
            f if f.starts_with("rule.residence") => Some("residence".to_owned()),
            f if f.starts_with("rule.areas") => Some("area".to_owned()),
            f if f.starts_with("form[") => f[5..]
                .split(']')
                .next()
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| rows.get(i))
                .map(|row| format!("row{row}")),
            _ => None,
        };
        match key {
            Some(k) => match placed.iter_mut().find(|(f, _)| *f == k) {
                Some(p) => {
                    p.1.push('；');
                    p.1.push_str(&message);
                }
                None => placed.push((k, message)),
            },
            None => general.push(message),
        }
    }
    e.fields = placed;
    if !general.is_empty() {
        let head = e.general.take().unwrap_or_default();
        e.general = Some(
            std::iter::once(head)
                .chain(general)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    e
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_becomes_a_plan_with_its_rows_compacted() {
        let f = PlanForm::from_pairs(&pairs(&[
            ("name", "送书上门"),
            ("kind", "delivery"),
            ("area", "140109001001"),
            ("starts_on", "2026-11-20"),
            ("ends_on", "2026-11-30"),
            ("tags", "elderly_party_member"),
            ("places", "12"),
            ("age_min", "70"),
            ("f0_label", "健康状况"),
            ("f0_kind", "text"),
            ("f0_required", "on"),
            ("f2_label", "居住情况"),
            ("f2_kind", "choice"),
            ("f2_options", "独居，与家人同住、其他"),
        ]));
        let (plan, rows) = plan_of(&f);
        let plan = plan.unwrap();
        assert_eq!(rows, [0, 2]);
        assert_eq!(plan.form.len(), 2);
        assert!(plan.form[0].required);
        assert_eq!(plan.form[1].options, ["独居", "与家人同住", "其他"]);
        assert_eq!(plan.rule.places, [12]);
        assert_eq!(plan.rule.age_min, Some(70));
        assert_eq!(plan.kind, CampaignKind::Delivery);

        // A service error on the second field given lands on the third row typed.
        let e = FormErrors {
            fields: vec![
                ("form[1].options".into(), "选项不足".into()),
                ("rule.tags[0]".into(), "未知标签".into()),
                ("mystery".into(), "别处的问题".into()),
            ],
            general: Some("请修改".into()),
        };
        let e = place_errors(e, &rows);
        assert_eq!(e.get("row2"), Some("选项不足"));
        assert_eq!(e.get("tags"), Some("未知标签"));
        assert!(e.general.unwrap().contains("别处的问题"));
    }

    #[test]
    fn bad_dates_and_ages_are_field_errors() {
        let f = PlanForm::from_pairs(&pairs(&[
            ("kind", "sweep"),
            ("area", "140109001001"),
            ("starts_on", "2026-13-01"),
            ("age_min", "seventy"),
        ]));
        let Err(ServiceError::Invalid(list)) = plan_of(&f).0 else {
            panic!("expected field errors")
        };
        let fields: Vec<&str> = list.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["starts_on", "ends_on", "rule.age_min"]);
    }
}
