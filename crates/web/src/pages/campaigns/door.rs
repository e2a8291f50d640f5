//! One door of a campaign: where and who, how it is worked (contactless or at the door), its
//! slot, residents' requests about it and every attempt so far; the outcome form (big choices,
//! the campaign's form by field type, a note, photos from the camera, registry write-back), and
//! "save and next door" that goes straight to the next open door in walking order.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use wangge_domain::Scope;
use wangge_domain::campaign::form::{FieldKind, StoredAnswer};
use wangge_domain::{
    CampaignState, ContactMode, ItemOutcome, ItemStatus, Permission, TagCode, TagSubject,
};
use wangge_services::campaigns::RecordItem;
use wangge_services::registry::VisitTag;
use wangge_services::{FieldError, ServiceError};
use wangge_store::attachments::AttachmentParent;
use wangge_store::campaigns::{CampaignItem, ItemFilter, ItemOrder};
use wangge_store::page::PageRequest;
use wangge_store::tags::{Labelled, TagAssignmentFilter};
use wangge_store::{Store, StoreError};

use super::doors::DOORS_MAX;
use super::requests::{RequestRow, may_contact, request_rows};
use super::{mode_name, slot_text, status_name};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;
use crate::pages::attachments::{PageForm, unavailable};
use crate::pages::work_orders::when;
use crate::pages::{FormErrors, Page, Shell, page_error, render};

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/campaign-items/{id}", get(show))
        .route(
            "/campaign-items/{id}/outcome",
            post(record).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/campaign-items/{id}/reopen", post(reopen))
}

/// A form field as the door shows it.
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<String>,
    pub value: String,
    pub error: Option<String>,
}

pub struct AttemptLine {
    pub when: String,
    pub by: String,
    pub outcome: String,
    pub mode: String,
    pub note: String,
    pub answers: Vec<(String, String)>,
    pub photos: Vec<i64>,
}

/// A current tag the door's people hold, which the outcome may end.
pub struct EndChoice {
    pub id: i64,
    pub name: String,
    pub class: String,
}

/// What was typed, kept for a redisplay.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub outcome: String,
    pub mode: String,
    pub note: String,
    pub end_tags: Vec<String>,
    pub add_tag: String,
    pub member: String,
    pub answers: BTreeMap<String, String>,
}

impl Posted {
    fn of(form: &PageForm) -> Posted {
        let answers = form
            .fields
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("answer_")
                    .map(|key| (key.to_owned(), v.clone()))
            })
            .collect();
        Posted {
            outcome: form.get("outcome"),
            mode: form.get("mode"),
            note: form.get("note"),
            end_tags: form
                .fields
                .iter()
                .filter(|(k, _)| k == "end_tags")
                .map(|(_, v)| v.clone())
                .collect(),
            add_tag: form.get("add_tag"),
            member: form.get("member"),
            answers,
        }
    }

    pub fn ends(&self, id: &i64) -> bool {
        self.end_tags.iter().any(|t| t.trim() == id.to_string())
    }
}

#[derive(Template)]
#[template(path = "campaign_item.html")]
struct DoorPage {
    shell: Shell,
    item: CampaignItem,
    campaign_name: String,
    status: String,
    status_code: String,
    contactless: bool,
    mode: String,
    slot: String,
    assignee: String,
    requests: Vec<RequestRow>,
    attempts: Vec<AttemptLine>,
    answers: Vec<(String, String)>,
    can_record: bool,
    can_reopen: bool,
    outcomes: Vec<(String, String)>,
    modes: Vec<(String, String)>,
    fields: Vec<FieldView>,
    photo_label: String,
    end_choices: Vec<EndChoice>,
    add_choices: Vec<(String, String)>,
    members: Vec<(i64, String)>,
    posted: Posted,
    errors: FormErrors,
}

fn stored(json: Option<&str>) -> BTreeMap<String, StoredAnswer> {
    json.and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default()
}

fn outcome_name(t: Texts, code: &str) -> String {
    match ItemStatus::parse(code) {
        Ok(s) => status_name(t, s).to_owned(),
        Err(_) => t.t(&format!("campaign.attempt_{code}")).to_owned(),
    }
}

/// The current tags of the door's people (the person, their household and its members), and
/// the household's current members.
async fn write_back_choices(
    store: &Store,
    scope: &Scope,
    t: Texts,
    item: &CampaignItem,
) -> Result<(Vec<EndChoice>, Vec<(i64, String)>), StoreError> {
    let catalogue = store.tags(scope).await?;
    let mut members = Vec::new();
    let mut subjects: Vec<(Labelled, Option<String>)> = Vec::new();
    if let Some(h) = item.household_id {
        subjects.push((Labelled::Household(h), None));
        for m in store.members(scope, h, false).await? {
            let who = (Some(m.person_id) != item.person_id).then(|| m.person_name.clone());
            subjects.push((Labelled::Person(m.person_id), who));
            members.push((m.person_id, m.person_name));
        }
    } else if let Some(p) = item.person_id {
        subjects.push((Labelled::Person(p), None));
    }
    let mut out = Vec::new();
    for (on, who) in subjects {
        let f = TagAssignmentFilter {
            on: Some(on),
            ..Default::default()
        };
        let req = PageRequest {
            after: None,
            limit: 100,
        };
        for a in store.tag_assignments(scope, &f, &req).await?.items {
            if let Some(tag) = catalogue.iter().find(|c| c.id == a.tag_id) {
                let name = if t.is_zh() {
                    &tag.name_zh
                } else {
                    &tag.name_en
                };
                out.push(EndChoice {
                    id: a.id,
                    name: match &who {
                        Some(w) => format!("{name} · {w}"),
                        None => name.clone(),
                    },
                    class: tag.sensitivity.as_str().to_owned(),
                });
            }
        }
    }
    Ok((out, members))
}

async fn view(
    s: &AppState,
    page: Page,
    id: i64,
    posted: Option<Posted>,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let built = async {
        let item = store.campaign_item(&scope, id).await?;
        let c = store.campaign(&scope, item.campaign_id).await?;
        let attempts = store.item_attempts(&scope, id).await?;
        let parents: Vec<AttachmentParent> = attempts
            .iter()
            .filter_map(|a| a.visit_id.map(AttachmentParent::Visit))
            .collect();
        let photos = store.attachments_of(&scope, &parents).await?;
        let requests: Vec<_> = store
            .campaign_requests(&scope, c.id, false)
            .await?
            .into_iter()
            .filter(|r| r.item_id == Some(id))
            .collect();
        let (end_choices, members) = write_back_choices(store, &scope, t, &item).await?;
        let catalogue = store.tags(&scope).await?;
        Ok::<_, StoreError>((
            item,
            c,
            attempts,
            photos,
            requests,
            end_choices,
            members,
            catalogue,
        ))
    };
    let (item, c, attempts, photos, requests, end_choices, members, catalogue) = match built.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let active = c.state == CampaignState::Active;
    let can_write = caller.role.can(Permission::RegistryWrite);
    let manager = super::manages(s, &caller, &c).await;
    let mut requests = request_rows(t, requests);
    for r in &mut requests {
        r.can_contact = may_contact(&caller, r, manager);
        r.can_handle = can_write;
        r.back = format!("/campaign-items/{id}");
    }
    let posted = posted.unwrap_or_else(|| Posted {
        outcome: ItemOutcome::Done.as_str().to_owned(),
        mode: item.mode.as_str().to_owned(),
        member: item.person_id.map(|p| p.to_string()).unwrap_or_default(),
        answers: stored(item.answers.as_deref())
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    StoredAnswer::Bool(true) => "yes".to_owned(),
                    StoredAnswer::Bool(false) => "no".to_owned(),
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        ..Default::default()
    });
    let fields = c
        .form
        .fields()
        .iter()
        .filter(|f| f.kind != FieldKind::Photo)
        .map(|f| FieldView {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind.as_str(),
            required: f.required,
            options: match &f.kind {
                FieldKind::Choice(o) => o.clone(),
                _ => Vec::new(),
            },
            value: posted.answers.get(&f.key).cloned().unwrap_or_default(),
            error: errors.get(&format!("answer_{}", f.key)).map(str::to_owned),
        })
        .collect();
    let photo_fields: Vec<&str> = c
        .form
        .fields()
        .iter()
        .filter(|f| f.kind == FieldKind::Photo)
        .map(|f| f.label.as_str())
        .collect();
    let photo_label = if photo_fields.is_empty() {
        t.t("photo.add").to_owned()
    } else {
        photo_fields.join(t.t("campaign.list_sep"))
    };
    let mut by_visit: HashMap<i64, Vec<i64>> = HashMap::new();
    for a in photos {
        by_visit.entry(a.parent.id()).or_default().push(a.id);
    }
    let attempts = attempts
        .into_iter()
        .map(|a| AttemptLine {
            when: when(t, a.at),
            by: a.by_name,
            outcome: outcome_name(t, &a.outcome),
            mode: mode_name(t, a.mode).to_owned(),
            note: a.note.unwrap_or_default(),
            answers: c.form.display(&stored(a.answers.as_deref()), t.is_zh()),
            photos: a
                .visit_id
                .and_then(|v| by_visit.get(&v).cloned())
                .unwrap_or_default(),
        })
        .collect();
    let out = DoorPage {
        campaign_name: c.name.clone(),
        status: status_name(t, item.status).to_owned(),
        status_code: item.status.as_str().to_owned(),
        contactless: item.mode == ContactMode::Contactless,
        mode: mode_name(t, item.mode).to_owned(),
        slot: item
            .slot
            .as_ref()
            .map(|s| slot_text(t, s))
            .unwrap_or_default(),
        assignee: item.assignee_name.clone().unwrap_or_default(),
        requests,
        attempts,
        answers: c.form.display(&stored(item.answers.as_deref()), t.is_zh()),
        can_record: can_write && active && item.status.is_open(),
        can_reopen: caller.role.can(Permission::CampaignsManage)
            && active
            && !item.status.is_open(),
        outcomes: ItemOutcome::ALL
            .iter()
            .map(|o| (o.as_str().to_owned(), status_name(t, o.status()).to_owned()))
            .collect(),
        modes: ContactMode::ALL
            .iter()
            .map(|m| (m.as_str().to_owned(), mode_name(t, *m).to_owned()))
            .collect(),
        fields,
        photo_label,
        end_choices,
        add_choices: catalogue
            .into_iter()
            .map(|tag| {
                let name = if t.is_zh() { tag.name_zh } else { tag.name_en };
                (tag.code.as_str().to_owned(), name)
            })
            .collect(),
        members,
        posted,
        errors,
        item,
        shell: page.shell,
    };
    (status, render(&out)).into_response()
}

async fn show(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    view(&s, page, id, None, FormErrors::default(), StatusCode::OK).await
}

/// The service's field names for the form's (anything without a place goes on top).
fn place_errors(mut e: FormErrors) -> FormErrors {
    let mut general = Vec::new();
    let fields = std::mem::take(&mut e.fields);
    for (field, message) in fields {
        let key = match field.as_str() {
            "outcome" | "mode" | "note" | "end_tags" | "file" | "member" => field.clone(),
            f if f.starts_with("answers.") => format!("answer_{}", &f["answers.".len()..]),
            f if f.starts_with("add_tags") => "add_tag".to_owned(),
            _ => {
                general.push(message);
                continue;
            }
        };
        e.fields.push((key, message));
    }
    if !general.is_empty() {
        let head = e.general.take().unwrap_or_default();
        e.general = Some(
            std::iter::once(head)
                .chain(general)
                .filter(|m| !m.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    e
}

async fn refused(s: &AppState, page: Page, id: i64, posted: Posted, e: ServiceError) -> Response {
    let status = match &e {
        ServiceError::NotFound => return page_error(page.shell, e),
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match FormErrors::from_service(e, page.t()) {
        Ok(errors) => view(s, page, id, Some(posted), place_errors(errors), status).await,
        Err(e) => page_error(page.shell, e),
    }
}

/// The next open door after `item` in walking order, among the doors of its grid that are the
/// caller's (when this one was theirs) or all of them; wraps around to the first one left.
async fn next_door(
    store: &Store,
    scope: &Scope,
    item: &CampaignItem,
    me: i64,
) -> Result<Option<i64>, StoreError> {
    let filter = ItemFilter {
        within: Some(item.area_path.clone()),
        assignee_id: (item.assignee_id == Some(me)).then_some(me),
        ..Default::default()
    };
    let req = PageRequest {
        after: None,
        limit: DOORS_MAX,
    };
    let all = store
        .campaign_items(scope, item.campaign_id, &filter, ItemOrder::Doors, &req)
        .await?
        .items;
    let at = all.iter().position(|i| i.id == item.id).unwrap_or(0);
    let open = |i: &&CampaignItem| i.id != item.id && i.status.is_open();
    Ok(all[at..]
        .iter()
        .find(open)
        .or_else(|| all[..at].iter().find(open))
        .map(|i| i.id))
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Records an outcome at the door, with photos (checked first: a refused photo records
/// nothing) attached to the visit it leaves on the household's history.
async fn record(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let scope = page.scope();
    let store = &s.registry.store;
    let item = match store.campaign_item(&scope, id).await {
        Ok(i) => i,
        Err(e) => return page_error(page.shell, e),
    };
    let mut form = match PageForm::read(&s, req).await {
        Ok(f) => f,
        Err(e) => return refused(&s, page, id, Posted::default(), e).await,
    };
    let posted = Posted::of(&form);
    let mut errors = Vec::new();
    let outcome = ItemOutcome::parse(&posted.outcome)
        .map_err(|e| errors.push(FieldError::from_domain("outcome", &e)))
        .ok();
    let mode = match posted.mode.trim() {
        "" => None,
        m => ContactMode::parse(m)
            .map_err(|e| errors.push(FieldError::from_domain("mode", &e)))
            .ok(),
    };
    let mut end_tags = Vec::new();
    for t in &posted.end_tags {
        match t.trim().parse() {
            Ok(t) => end_tags.push(t),
            Err(_) => errors.push(FieldError::unknown_reference("end_tags")),
        }
    }
    let mut add_tags = Vec::new();
    if let Some(code) = opt(&posted.add_tag) {
        match TagCode::parse(&code) {
            Ok(tag) => {
                let subject = match store.tag_by_code(&scope, &tag).await {
                    Ok(t) => Some(t.subject),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return page_error(page.shell, e),
                };
                let person_id = match subject {
                    Some(TagSubject::Person) => {
                        posted.member.trim().parse().ok().or(item.person_id)
                    }
                    _ => None,
                };
                add_tags.push(VisitTag { tag, person_id });
            }
            Err(e) => errors.push(FieldError::from_domain("add_tags", &e)),
        }
    }
    let (Some(outcome), true) = (outcome, errors.is_empty()) else {
        return refused(&s, page, id, posted, ServiceError::Invalid(errors)).await;
    };
    let mut photos = Vec::new();
    if !form.photos.is_empty() {
        if outcome.visit(mode.unwrap_or(item.mode)).is_none() {
            let e = FieldError::new(
                "file",
                "campaign_item.no_visit",
                "查无此户时不记录走访，照片无处附加",
                "A door not found leaves no visit to attach photos to",
            );
            return refused(&s, page, id, posted, ServiceError::invalid(e)).await;
        }
        let Some(attachments) = s.attachments.as_ref() else {
            return refused(&s, page, id, posted, unavailable()).await;
        };
        for photo in std::mem::take(&mut form.photos) {
            match attachments.prepare(photo).await {
                Ok(p) => photos.push(p),
                Err(e) => return refused(&s, page, id, posted, e).await,
            }
        }
    }
    let answers = posted
        .answers
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let cmd = RecordItem {
        outcome,
        mode,
        answers,
        photos: u32::try_from(photos.len()).unwrap_or(u32::MAX),
        note: opt(&posted.note),
        add_tags,
        end_tags,
    };
    let who = (Some(caller.user_id), caller.username.as_str());
    let (done, visit) = match s.registry.record_item(&scope, who, id, cmd).await {
        Ok(v) => v,
        Err(e) => return refused(&s, page, id, posted, e).await,
    };
    if let (Some(attachments), Some(v)) = (s.attachments.as_ref(), visit) {
        for p in photos {
            if let Err(e) = attachments
                .attach(&scope, who, AttachmentParent::Visit(v), p)
                .await
            {
                return page_error(page.shell, e);
            }
        }
    }
    let to = if form.get("then") == "next" {
        match next_door(store, &scope, &done, caller.user_id).await {
            Ok(Some(next)) => format!("/campaign-items/{next}"),
            Ok(None) => format!("/campaigns/{}/doors", done.campaign_id),
            Err(e) => return page_error(page.shell, e),
        }
    } else {
        format!("/campaigns/{}/doors", done.campaign_id)
    };
    let audited = Audited {
        action: Some("campaign_item.record"),
        object_type: Some("campaign_item"),
        object_id: Some(done.id),
        area_path: Some(done.area_path.as_str().to_owned()),
        reason: None,
    };
    (Extension(audited), Redirect::to(&to)).into_response()
}

/// Staff reopen a finished door (a wrong tap, a resident who changed their mind).
async fn reopen(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let who = (Some(caller.user_id), caller.username.as_str());
    match s.registry.reopen_item(&page.scope(), who, id).await {
        Ok(item) => {
            let audited = Audited {
                action: Some("campaign_item.reopen"),
                object_type: Some("campaign_item"),
                object_id: Some(item.id),
                area_path: Some(item.area_path.as_str().to_owned()),
                reason: None,
            };
            (
                Extension(audited),
                Redirect::to(&format!("/campaign-items/{id}")),
            )
                .into_response()
        }
        Err(e) => refused(&s, page, id, Posted::default(), e).await,
    }
}
