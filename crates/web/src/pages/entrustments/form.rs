//! Recording an entrustment: from a household's page (who the resident is, their phone, what it
//! is for, which days, what staff may do, how to reach them, which colleagues are named), or by
//! taking on a resident's campaign pre-registration ("please act for me") from the requests page.
//! Either way it waits for the resident's own confirmation on their page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use time::{Date, Duration};
use wangge_domain::campaign::RequestKind;
use wangge_domain::entrustment::{ContactChannel, EntrustedAct};
use wangge_services::entrustments::EntrustCommand;
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;
use wangge_store::entrustments::EntrustmentRecord;

use super::ymd;
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;
use crate::pages::{FormErrors, Page, Shell, page_error, render};

/// The terms as typed (every value kept for a redisplay).
#[derive(Debug, Clone, Default)]
pub struct TermsForm {
    pub purpose: String,
    pub first_day: String,
    pub last_day: String,
    pub acts: Vec<String>,
    pub channel: String,
    pub staff: Vec<String>,
    pub resident_name: String,
    pub phone: String,
    pub household: String,
}

impl TermsForm {
    pub fn from_pairs(pairs: &[(String, String)]) -> TermsForm {
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
                .collect()
        };
        TermsForm {
            purpose: one("purpose"),
            first_day: one("first_day"),
            last_day: one("last_day"),
            acts: all("acts"),
            channel: one("channel"),
            staff: all("staff_ids"),
            resident_name: one("resident_name"),
            phone: one("phone"),
            household: one("household"),
        }
    }

    /// Sensible starting values: from today for three more days, the key held, a phone call,
    /// the staff member filling it in named.
    pub fn defaults(today: Date, me: i64) -> TermsForm {
        TermsForm {
            first_day: ymd(today),
            last_day: ymd(today + Duration::days(3)),
            acts: vec![EntrustedAct::HoldKey.as_str().to_owned()],
            channel: ContactChannel::PhoneCall.as_str().to_owned(),
            staff: vec![me.to_string()],
            ..Default::default()
        }
    }

    pub fn has_act(&self, act: &str) -> bool {
        self.acts.iter().any(|a| a == act)
    }

    pub fn names(&self, staff_id: impl std::fmt::Display) -> bool {
        let id = staff_id.to_string();
        self.staff.contains(&id)
    }

    /// The command, with the dates that did not parse as field errors of their own.
    fn command(&self, household_id: i64) -> (EntrustCommand, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut day = |field: &str, v: &str| -> Option<Date> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(v, format)
                .map_err(|_| {
                    errors.push(FieldError::new(
                        field,
                        "date.invalid",
                        "日期无效（格式：年-月-日）",
                        "Not a valid date (YYYY-MM-DD)",
                    ));
                })
                .ok()
        };
        let first_day = day("first_day", &self.first_day);
        let last_day = day("last_day", &self.last_day);
        let cmd = EntrustCommand {
            household_id,
            resident_name: self.resident_name.clone(),
            phone: self.phone.clone(),
            purpose: self.purpose.clone(),
            first_day,
            last_day,
            acts: self.acts.clone(),
            channel: self.channel.clone(),
            // An id that does not parse names nobody the service knows: it says so.
            staff_ids: self.staff.iter().map(|s| s.parse().unwrap_or(-1)).collect(),
        };
        (cmd, errors)
    }
}

/// A refusal as the form shows it: the dates that did not parse first, then the service's errors
/// on other fields; `acts[2]` and `staff_ids[0]` belong to their group of boxes.
fn form_errors(
    local: Vec<FieldError>,
    e: ServiceError,
    t: Texts,
) -> Result<FormErrors, ServiceError> {
    let e = match e {
        ServiceError::Invalid(list) => {
            let mut all = local;
            for f in list {
                if !all.iter().any(|l| l.field == f.field) {
                    all.push(f);
                }
            }
            ServiceError::Invalid(all)
        }
        other => other,
    };
    let mut errors = FormErrors::from_service(e, t)?;
    for (field, _) in &mut errors.fields {
        if let Some(i) = field.find('[') {
            field.truncate(i);
        }
    }
    Ok(errors)
}

/// (value, label) of what staff may do, and of the contact channels, in the page's language.
pub fn act_choices(t: Texts) -> Vec<(String, String)> {
    EntrustedAct::ALL
        .iter()
        .map(|a| {
            let name = if t.is_zh() { a.name_zh() } else { a.name_en() };
            (a.as_str().to_owned(), name.to_owned())
        })
        .collect()
}

pub fn channel_choices(t: Texts) -> Vec<(String, String)> {
    ContactChannel::ALL
        .iter()
        .map(|c| {
            let name = if t.is_zh() { c.name_zh() } else { c.name_en() };
            (c.as_str().to_owned(), name.to_owned())
        })
        .collect()
}

#[derive(Template)]
#[template(path = "entrustment_new.html")]
struct NewPage {
    shell: Shell,
    /// The household (id, address); none when the form was opened without one.
    household: Option<(i64, String)>,
    members: Vec<String>,
    acts: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    /// Colleagues who work where the household lives: (id, name and role).
    staff: Vec<(i64, String)>,
    form: TermsForm,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub(super) struct NewQuery {
    household: Option<String>,
}

async fn new_view(
    s: &AppState,
    page: Page,
    household: Option<i64>,
    form: TermsForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let loaded = async {
        let Some(id) = household else {
            return Ok((None, Vec::new(), Vec::new()));
        };
        let h = store.household(&scope, id).await?;
        let address = match h.dwelling_id {
            Some(d) => store.place(&scope, d).await?.address,
            None => String::new(),
        };
        let members = store
            .members(&scope, id, false)
            .await?
            .into_iter()
            .map(|m| m.person_name)
            .collect();
        let staff = store
            .campaign_staff(&h.area_path)
            .await?
            .into_iter()
            .map(|c| {
                let role = if t.is_zh() {
                    c.role.name_zh()
                } else {
                    c.role.name_en()
                };
                (c.id, format!("{} · {role}", c.display_name))
            })
            .collect();
        Ok::<_, StoreError>((Some((h.id, address)), members, staff))
    };
    let (household, members, staff) = match loaded.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let out = NewPage {
        household,
        members,
        acts: act_choices(t),
        channels: channel_choices(t),
        staff,
        form,
        errors,
        shell: page.shell,
    };
    (status, render(&out)).into_response()
}

/// The form for a household (`?household=ID`, from its page).
pub(super) async fn new_form(
    State(s): State<AppState>,
    page: Page,
    Query(q): Query<NewQuery>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let household = q.household.as_deref().and_then(|h| h.trim().parse().ok());
    let mut form = TermsForm::defaults(s.registry.clock.today(), caller.user_id);
    form.household = household.map(|h: i64| h.to_string()).unwrap_or_default();
    new_view(
        &s,
        page,
        household,
        form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) fn created(r: &EntrustmentRecord) -> Response {
    let audited = Audited {
        action: Some("entrustment.create"),
        object_type: Some("entrustment"),
        object_id: Some(r.id),
        area_path: Some(r.area_path.as_str().to_owned()),
        reason: None,
    };
    let to = format!("/entrustments/{}", r.id);
    (Extension(audited), Redirect::to(&to)).into_response()
}

pub(super) async fn create(
    State(s): State<AppState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let t = page.t();
    let form = TermsForm::from_pairs(&pairs);
    let household = form.household.trim().parse::<i64>().ok();
    let Some(household_id) = household else {
        let e = ServiceError::invalid(FieldError::required("household_id"));
        return page_error(page.shell, e);
    };
    let (cmd, local) = form.command(household_id);
    let by = (caller.user_id, caller.username.as_str());
    match s.registry.create_entrustment(&page.scope(), by, cmd).await {
        Ok(r) => created(&r),
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => {
            let status = match &e {
                ServiceError::Conflict { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            match form_errors(local, e, t) {
                Ok(errors) => new_view(&s, page, household, form, errors, status).await,
                Err(e) => page_error(page.shell, e),
            }
        }
    }
}

/// Takes on a resident's pre-registration ("please act for me", matched to a door): the named
/// staff member is whoever takes it on, the resident's name and phone come from the request.
pub(super) async fn from_request(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let t = page.t();
    let scope = page.scope();
    let req = match s.registry.store.campaign_request(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    let campaign_id = req.campaign_id;
    // One entrustment per request: a second post (a double tap, another colleague) finds it
    // handled already and changes nothing.
    if !req.open || req.kind != RequestKind::ActForMe {
        let e = ServiceError::conflict(
            "entrustment.request_handled",
            "这条登记已处理或不是代办请求，不能再转为委托",
            "This request is handled already or does not ask to be acted for",
        );
        return super::super::campaigns::requests_refused(&s, page, campaign_id, e).await;
    }
    let form = TermsForm::from_pairs(&pairs);
    let (cmd, local) = form.command(0);
    let by = (caller.user_id, caller.username.as_str());
    match s.registry.entrust_from_request(&scope, by, id, cmd).await {
        Ok(r) => created(&r),
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => {
            let e = match form_errors(local, e, t) {
                Ok(errors) => ServiceError::conflict(
                    "entrustment.form",
                    &errors_text(&errors),
                    &errors_text(&errors),
                ),
                Err(e) => e,
            };
            super::super::campaigns::requests_refused(&s, page, campaign_id, e).await
        }
    }
}

/// Every message of a refused form on one line (the requests page has one message box per page).
fn errors_text(errors: &FormErrors) -> String {
    let fields: Vec<&str> = errors.fields.iter().map(|(_, m)| m.as_str()).collect();
    if fields.is_empty() {
        errors.general.clone().unwrap_or_default()
    } else {
        fields.join(" ")
    }
}

/// The "take it on as an entrustment" form under a resident's pre-registration: the terms to
/// agree with the resident on the phone, with sensible starting values.
#[derive(Debug, Clone)]
pub struct EntrustOffer {
    pub first_day: String,
    pub last_day: String,
    pub acts: Vec<(String, String)>,
    pub channels: Vec<(String, String)>,
}

impl EntrustOffer {
    pub fn new(t: Texts, today: Date) -> EntrustOffer {
        let d = TermsForm::defaults(today, 0);
        EntrustOffer {
            first_day: d.first_day,
            last_day: d.last_day,
            acts: act_choices(t),
            channels: channel_choices(t),
        }
    }
}
