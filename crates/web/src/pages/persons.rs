//! Households and persons: members with their history, tags with dates, the person form with
//! errors beside each field, and the reason-bound "show full numbers".

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use wangge_domain::{
    IdNumber, Permission, PersonName, PhoneNumber, Relation, ResidenceType, Sex, TagCode,
    TagSubject,
};
use wangge_services::registry::{AssignTag, CreatePerson};
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;
use wangge_store::page::PageRequest;
use wangge_store::persons::{Joining, Person, PersonPatch, PersonSecrets};
use wangge_store::tags::{Labelled, Tag, TagAssignment, TagAssignmentFilter};

use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;
use crate::access::Audited;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/persons/new", get(new_person_form).post(create_person))
        .route("/persons/{id}", get(person_page))
        .route(
            "/persons/{id}/edit",
            get(edit_person_form).post(edit_person),
        )
        .route("/persons/{id}/reveal", post(reveal))
        .route("/persons/{id}/tags", post(tag_person))
        .route("/tag-assignments/{id}/end", post(end_tag))
}

pub(super) struct TagRow {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub started_on: time::Date,
    pub ended_on: Option<time::Date>,
    pub note: String,
}

pub(super) async fn tag_rows(
    s: &AppState,
    page: &Page,
    on: Labelled,
) -> Result<(Vec<TagRow>, Vec<Tag>), StoreError> {
    let scope = page.scope();
    let catalogue = s.registry.store.tags(&scope).await?;
    let f = TagAssignmentFilter {
        on: Some(on),
        include_ended: true,
        ..Default::default()
    };
    let found: Vec<TagAssignment> = s
        .registry
        .store
        .tag_assignments(
            &scope,
            &f,
            &PageRequest {
                after: None,
                limit: 500,
            },
        )
        .await?
        .items;
    let zh = page.t().is_zh();
    let rows = found
        .into_iter()
        .filter_map(|a| {
            catalogue.iter().find(|t| t.id == a.tag_id).map(|t| TagRow {
                id: a.id,
                name: if zh {
                    t.name_zh.clone()
                } else {
                    t.name_en.clone()
                },
                class: t.sensitivity.as_str().to_owned(),
                started_on: a.started_on,
                ended_on: a.ended_on,
                note: a.note.unwrap_or_default(),
            })
        })
        .collect();
    let subject = match on {
        Labelled::Person(_) => TagSubject::Person,
        Labelled::Household(_) => TagSubject::Household,
    };
    let choices = catalogue
        .into_iter()
        .filter(|t| t.subject == subject)
        .collect();
    Ok((rows, choices))
}

#[derive(Deserialize)]
pub(super) struct TagForm {
    tag: String,
    note: Option<String>,
}

pub(super) async fn assign(
    s: &AppState,
    page: &Page,
    on: Labelled,
    f: TagForm,
) -> Result<(), ServiceError> {
    let tag = TagCode::parse(&f.tag)
        .map_err(|e| ServiceError::invalid(FieldError::from_domain("tag", &e)))?;
    s.registry
        .assign_tag(
            &page.scope(),
            AssignTag {
                tag,
                on,
                started_on: None,
                note: f.note,
            },
        )
        .await
        .map(|_| ())
}

// ---- persons ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    shell: Shell,
    person: Person,
    age: Option<i32>,
    residence: String,
    tags: Vec<TagRow>,
    choices: Vec<Tag>,
    secrets: Option<PersonSecrets>,
    can_write: bool,
    can_reveal: bool,
    errors: FormErrors,
}

fn residence_name(page: &Page, r: Option<ResidenceType>) -> String {
    r.map(|r| page.t().t(&format!("residence.{}", r.as_str())).to_owned())
        .unwrap_or_default()
}

async fn person_view(
    s: &AppState,
    page: &Page,
    id: i64,
    secrets: Option<PersonSecrets>,
    errors: FormErrors,
    audited: Audited,
) -> Result<Response, StoreError> {
    let scope = page.scope();
    let person = s.registry.store.person(&scope, id).await?;
    let (tags, choices) = tag_rows(s, page, Labelled::Person(id)).await?;
    let today = s.registry.clock.today();
    let age = person.birth_date.map(|b| {
        let mut a = today.year() - b.year();
        if (u8::from(today.month()), today.day()) < (u8::from(b.month()), b.day()) {
            a -= 1;
        }
        a
    });
    let role = page.caller.as_ref().map(|c| c.role);
    let audited = Audited {
        object_type: Some("person"),
        object_id: Some(person.id),
        area_path: Some(person.area_path.as_str().to_owned()),
        ..audited
    };
    Ok((
        Extension(audited),
        render(&PersonPage {
            shell: page.shell.clone(),
            residence: residence_name(page, person.residence_type),
            person,
            age,
            tags,
            choices,
            secrets,
            can_write: role.is_some_and(|r| r.can(Permission::RegistryWrite)),
            can_reveal: role.is_some_and(|r| r.can(Permission::RevealPersonal)),
            errors,
        }),
    )
        .into_response())
}

fn read_audit() -> Audited {
    Audited {
        action: Some("person.read"),
        ..Default::default()
    }
}

async fn person_page(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    person_view(&s, &page, id, None, FormErrors::default(), read_audit())
        .await
        .unwrap_or_else(|e| page_error(page.shell, e))
}

#[derive(Deserialize)]
struct RevealForm {
    reason: String,
}

async fn reveal(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<RevealForm>,
) -> Response {
    let reason = match wangge_domain::Reason::parse(&f.reason) {
        Ok(r) => r,
        Err(e) => {
            let mut errors = FormErrors::default();
            errors.push("reason", &FieldError::from_domain("reason", &e), page.t());
            return person_view(&s, &page, id, None, errors, read_audit())
                .await
                .unwrap_or_else(|e| page_error(page.shell, e));
        }
    };
    let secrets = match s.registry.store.person_secrets(&page.scope(), id).await {
        Ok(x) => x,
        Err(e) => return page_error(page.shell, e),
    };
    let audited = Audited {
        action: Some("person.reveal"),
        reason: Some(reason.as_str().to_owned()),
        ..Default::default()
    };
    person_view(&s, &page, id, Some(secrets), FormErrors::default(), audited)
        .await
        .unwrap_or_else(|e| page_error(page.shell, e))
}

async fn tag_person(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<TagForm>,
) -> Response {
    match assign(&s, &page, Labelled::Person(id), f).await {
        Ok(()) => Redirect::to(&format!("/persons/{id}")).into_response(),
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => person_view(&s, &page, id, None, errors, read_audit())
                .await
                .unwrap_or_else(|e| page_error(page.shell.clone(), e)),
            Err(e) => page_error(page.shell, e),
        },
    }
}

#[derive(Deserialize)]
struct EndTagForm {
    back: String,
}

async fn end_tag(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<EndTagForm>,
) -> Response {
    let back = super::local_path(Some(f.back));
    match s.registry.end_tag_assignment(&page.scope(), id, None).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => page_error(page.shell, e),
    }
}

// ---- the person form ---------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, Clone)]
pub struct PersonForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub residence_type: String,
    pub household_id: Option<i64>,
    pub area_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct PersonFormPage {
    shell: Shell,
    title: String,
    action: String,
    form: PersonForm,
    editing: bool,
    errors: FormErrors,
    residences: Vec<(String, String)>,
    relations: Vec<(String, String)>,
    cancel: String,
}

/// The relations offered in the form: the common GB/T 4761 codes.
pub(super) const FORM_RELATIONS: [u8; 10] = [2, 10, 20, 30, 40, 51, 52, 61, 70, 99];

fn form_page(
    page: &Page,
    title: &str,
    action: String,
    form: PersonForm,
    editing: bool,
    errors: FormErrors,
) -> Response {
    let t = page.t();
    let residences = ResidenceType::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_owned(),
                t.t(&format!("residence.{}", r.as_str())).to_owned(),
            )
        })
        .collect();
    let relations = FORM_RELATIONS
        .iter()
        .filter_map(|c| Relation::from_code(*c).ok())
        .map(|r| (r.code_str(), t.relation(&r)))
        .collect();
    let cancel = match form.household_id {
        Some(h) => format!("/households/{h}"),
        None => "/".to_owned(),
    };
    render(&PersonFormPage {
        shell: page.shell.clone(),
        title: t.t(title).to_owned(),
        action,
        form,
        editing,
        errors,
        residences,
        relations,
        cancel,
    })
}

#[derive(Deserialize)]
struct NewPersonQuery {
    household_id: Option<i64>,
    area_id: Option<i64>,
}

async fn new_person_form(page: Page, Query(q): Query<NewPersonQuery>) -> Response {
    let form = PersonForm {
        household_id: q.household_id,
        area_id: q.area_id,
        residence_type: "registered".into(),
        ..Default::default()
    };
    form_page(
        &page,
        "person.new",
        "/persons/new".into(),
        form,
        false,
        FormErrors::default(),
    )
}

fn taken<T>(
    errors: &mut FormErrors,
    t: crate::i18n::Texts,
    field: &str,
    r: Result<T, wangge_domain::DomainError>,
) -> Option<T> {
    r.map_err(|e| errors.push(field, &FieldError::from_domain(field, &e), t))
        .ok()
}

/// Parses the form into a command, collecting every field error in the page's language.
fn parse_new(page: &Page, f: &PersonForm, today: time::Date) -> Result<CreatePerson, FormErrors> {
    let t = page.t();
    let mut errors = FormErrors::default();
    let name = taken(&mut errors, t, "name", PersonName::parse(&f.name));
    let id_number = if f.id_number.trim().is_empty() {
        None
    } else {
        taken(&mut errors, t, "id_number", IdNumber::parse(&f.id_number))
    };
    let phone = if f.phone.trim().is_empty() {
        None
    } else {
        taken(&mut errors, t, "phone", PhoneNumber::parse(&f.phone))
    };
    let sex = if f.sex.trim().is_empty() {
        None
    } else {
        taken(&mut errors, t, "sex", Sex::parse(&f.sex))
    };
    let joining = match f.household_id {
        Some(household_id) => {
            let relation = taken(&mut errors, t, "relation", Relation::parse(&f.relation));
            let residence = taken(
                &mut errors,
                t,
                "residence_type",
                ResidenceType::parse(&f.residence_type),
            );
            relation
                .zip(residence)
                .map(|(relation, residence_type)| Joining {
                    household_id,
                    relation,
                    residence_type,
                    started_on: today,
                })
        }
        None => None,
    };
    match name {
        Some(name) if errors.fields.is_empty() => Ok(CreatePerson {
            name,
            id_number,
            phone,
            sex,
            birth_date: None,
            area_id: f.area_id,
            joining,
        }),
        _ => {
            errors.general = Some(t.t("form.fix").to_owned());
            Err(errors)
        }
    }
}

async fn create_person(
    State(s): State<AppState>,
    page: Page,
    Form(f): Form<PersonForm>,
) -> Response {
    let cmd = match parse_new(&page, &f, s.registry.clock.today()) {
        Ok(c) => c,
        Err(errors) => {
            return form_page(&page, "person.new", "/persons/new".into(), f, false, errors);
        }
    };
    match s.registry.create_person(&page.scope(), cmd).await {
        Ok(p) => match f.household_id {
            Some(h) => Redirect::to(&format!("/households/{h}")).into_response(),
            None => Redirect::to(&format!("/persons/{}", p.id)).into_response(),
        },
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => form_page(&page, "person.new", "/persons/new".into(), f, false, errors),
            Err(e) => page_error(page.shell, e),
        },
    }
}

async fn edit_person_form(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let person = match s.registry.store.person(&page.scope(), id).await {
        Ok(p) => p,
        Err(e) => return page_error(page.shell, e),
    };
    let form = PersonForm {
        name: person.name,
        ..Default::default()
    };
    form_page(
        &page,
        "person.edit",
        format!("/persons/{id}/edit"),
        form,
        true,
        FormErrors::default(),
    )
}

async fn edit_person(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<PersonForm>,
) -> Response {
    let t = page.t();
    let mut errors = FormErrors::default();
    let name = match PersonName::parse(&f.name) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.push("name", &FieldError::from_domain("name", &e), t);
            None
        }
    };
    // Blank number fields leave the recorded numbers unchanged.
    let id_number = match f.id_number.trim() {
        "" => None,
        raw => match IdNumber::parse(raw) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                errors.push("id_number", &FieldError::from_domain("id_number", &e), t);
                None
            }
        },
    };
    let phone = match f.phone.trim() {
        "" => None,
        raw => match PhoneNumber::parse(raw) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                errors.push("phone", &FieldError::from_domain("phone", &e), t);
                None
            }
        },
    };
    if !errors.fields.is_empty() {
        errors.general = Some(t.t("form.fix").to_owned());
        return form_page(
            &page,
            "person.edit",
            format!("/persons/{id}/edit"),
            f,
            true,
            errors,
        );
    }
    let patch = PersonPatch {
        name,
        id_number,
        phone,
        ..Default::default()
    };
    match s.registry.update_person(&page.scope(), id, patch).await {
        Ok(_) => Redirect::to(&format!("/persons/{id}")).into_response(),
        Err(e) => match FormErrors::from_service(e, t) {
            Ok(errors) => form_page(
                &page,
                "person.edit",
                format!("/persons/{id}/edit"),
                f,
                true,
                errors,
            ),
            Err(e) => page_error(page.shell, e),
        },
    }
}
