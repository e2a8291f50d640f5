//! The resident's own page for an entrustment (`/r/{link}`), without an account. The link is the
//! key to the door of this page and the one-time code staff give by phone opens it for half an
//! hour (a cookie for this site only). The page shows the terms in plain words, where the key is
//! now, every hand-over with its receipt code (and checks a code from a paper receipt), the
//! photos, and who in the community looked at or handled the household's records and why; the
//! resident confirms, revokes or says the key is back.
//!
//! There is no staff session here and so no CSRF token: posts from another site are refused by
//! `Origin` / `Sec-Fetch-Site` like the campaign's public page, code attempts are limited per
//! client address, and a link that does not exist answers 404 like any missing page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use wangge_domain::Scope;
use wangge_domain::entrustment::{
    EntrustmentParty, EntrustmentState, EntrustmentStep, ReceiptCode,
};
use wangge_services::attachments::Variant;
use wangge_services::entrustments::OpenView;
use wangge_services::{FieldError, Registry, ServiceError};
use wangge_store::attachments::AttachmentParent;
use wangge_store::entrustments::ResidentView;

use super::detail::{EventRow, Names, event_rows, holder_text, kind_name, replay};
use super::{channel_name, period_text, staff_line, state_name};
use crate::AppState;
use crate::access::client_addr_of;
use crate::api::attachments::serve_file;
use crate::api::resident::{resident_session, session_cookie};
use crate::i18n::Texts;
use crate::pages::campaigns::same_site;
use crate::pages::work_orders::when;
use crate::pages::{Page, Shell, error_page, message_page, page_error, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/r/{link}", get(show).post(open))
        .route("/r/{link}/steps", post(step))
        .route("/r/{link}/photos/{id}", get(photo))
        .route("/r/{link}/photos/{id}/thumbnail", get(thumbnail))
}

/// Personal data on a phone that may be shared: never kept in a cache.
fn private(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn back_to(link: &str) -> Response {
    Redirect::to(&format!("/r/{link}")).into_response()
}

#[derive(Template)]
#[template(path = "resident_code.html")]
struct CodePage {
    shell: Shell,
    link: String,
    error: Option<String>,
}

fn code_page(shell: Shell, link: String, error: Option<String>, status: StatusCode) -> Response {
    let page = CodePage { shell, link, error };
    private((status, render(&page)).into_response())
}

/// One access to the household's records, as the resident reads it. The same person doing the
/// same thing for the same reason on one day (opening the entrustment after each hand-over) is
/// one line with a count: the list answers who looked and why, not how often a page reloaded.
pub struct AccessRow {
    /// The time, or the day's first and last time for a repeated access.
    pub when: String,
    /// "王某（网格员）查看了您家的登记信息".
    pub line: String,
    pub times: usize,
    pub reason: String,
}

/// The accesses, newest first, a day's repeats folded into their latest place in the list.
fn access_rows(t: Texts, view: &ResidentView) -> Vec<AccessRow> {
    struct Folded {
        day: time::Date,
        line: String,
        reason: String,
        times: usize,
        latest: OffsetDateTime,
        first: OffsetDateTime,
    }
    let mut out: Vec<Folded> = Vec::new();
    for a in Registry::access_rows(view) {
        let role = if t.is_zh() { a.role_zh } else { a.role_en };
        let who = if role.is_empty() {
            a.who
        } else {
            t.tf("resident.who_role", &[&a.who, &role])
        };
        let what = if t.is_zh() { a.what_zh } else { a.what_en };
        let line = t.tf("resident.access_line", &[&who, &what]);
        let reason = a.reason.unwrap_or_default();
        let day = a.at.to_offset(super::BEIJING).date();
        match out
            .iter_mut()
            .find(|f| f.day == day && f.line == line && f.reason == reason)
        {
            Some(f) => {
                f.times += 1;
                f.first = a.at;
            }
            None => out.push(Folded {
                day,
                line,
                reason,
                times: 1,
                latest: a.at,
                first: a.at,
            }),
        }
    }
    out.into_iter()
        .map(|f| {
            let last = f.latest.to_offset(super::BEIJING);
            AccessRow {
                when: if f.times == 1 {
                    when(t, f.latest)
                } else {
                    format!(
                        "{} – {:02}:{:02}",
                        when(t, f.first),
                        last.hour(),
                        last.minute()
                    )
                },
                line: f.line,
                times: f.times,
                reason: f.reason,
            }
        })
        .collect()
}

/// A step the resident may take now, with what it means.
pub struct StepOffer {
    pub step: String,
    pub label: String,
    pub explain: String,
    /// Revoking asks for a tick first: it cannot be undone.
    pub tick: bool,
}

/// What a receipt code typed on the page matched.
pub struct ReceiptCheck {
    pub code: String,
    pub ok: bool,
    pub message: String,
}

#[derive(Template)]
#[template(path = "resident.html")]
struct ViewPage {
    shell: Shell,
    link: String,
    resident: String,
    /// "3号楼2单元601室：2026年12月5日 – 2026年12月8日，更换节能窗。"
    terms_line: String,
    acts: Vec<String>,
    channel: String,
    staff: String,
    state: String,
    state_code: String,
    holder: String,
    overdue: Option<String>,
    events: Vec<EventRow>,
    photos: Vec<i64>,
    accesses: Vec<AccessRow>,
    steps: Vec<StepOffer>,
    /// Active with the key still out: completing waits for it.
    complete_later: bool,
    check: Option<ReceiptCheck>,
    notice: Option<String>,
    error: Option<String>,
}

fn step_offer(t: Texts, step: EntrustmentStep) -> StepOffer {
    let key = step.as_str();
    StepOffer {
        step: key.to_owned(),
        label: t.t(&format!("resident.step_{key}")).to_owned(),
        explain: t.t(&format!("resident.explain_{key}")).to_owned(),
        tick: step == EntrustmentStep::Revoke,
    }
}

fn check_receipt(t: Texts, view: &ResidentView, typed: &str) -> ReceiptCheck {
    let (ok, message) = match ReceiptCode::parse(typed) {
        Err(e) => {
            let f = FieldError::from_domain("receipt", &e);
            (
                false,
                if t.is_zh() {
                    f.message_zh
                } else {
                    f.message_en
                },
            )
        }
        Ok(code) => match view.events.iter().find(|e| e.receipt == code) {
            Some(e) => (
                true,
                t.tf(
                    "resident.receipt_found",
                    &[
                        &e.seq,
                        &kind_name(t, e.event.action().kind()),
                        &when(t, e.event.at()),
                    ],
                ),
            ),
            None => (false, t.t("resident.receipt_missing").to_owned()),
        },
    };
    ReceiptCheck {
        code: typed.trim().to_owned(),
        ok,
        message,
    }
}

#[derive(Debug, Default)]
struct Shown {
    receipt: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn view_page(
    s: &AppState,
    shell: Shell,
    link: String,
    session: &str,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, ServiceError> {
    let t = shell.t;
    let view = s.registry.resident_view(&link, session).await?;
    let rec = &view.entrustment;
    let e = &rec.entrustment;
    let custody = replay(rec, &view.events)?;
    let names = Names::new(rec, &view.events);
    let now = OffsetDateTime::now_utc();
    let steps: Vec<EntrustmentStep> = e.steps_for(EntrustmentParty::Resident, now, &custody);
    let complete_later =
        e.state == EntrustmentState::Active && !steps.contains(&EntrustmentStep::Complete);
    let accesses = access_rows(t, &view);
    let out = ViewPage {
        link: link.clone(),
        resident: rec.resident_name.clone(),
        terms_line: t.tf(
            "resident.terms_line",
            &[
                &rec.address,
                &period_text(t, rec),
                &e.terms.purpose.as_str(),
            ],
        ),
        acts: e
            .terms
            .permissions
            .acts()
            .map(|a| t.t(&format!("resident.act_{}", a.as_str())).to_owned())
            .collect(),
        channel: channel_name(t, rec).to_owned(),
        staff: staff_line(t, rec),
        state: state_name(t, e.state).to_owned(),
        state_code: e.state.as_str().to_owned(),
        holder: holder_text(t, &names, &custody),
        overdue: custody.overdue(e, now).map(|o| {
            (if t.is_zh() {
                o.kind.name_zh()
            } else {
                o.kind.name_en()
            })
            .to_owned()
        }),
        // A photo is linked only through this view's own photo route.
        events: event_rows(t, &names, &view.events)
            .into_iter()
            .map(|mut r| {
                r.photo = r.photo.filter(|p| view.photos.contains(p));
                r
            })
            .collect(),
        photos: view.photos.clone(),
        accesses,
        steps: steps.into_iter().map(|st| step_offer(t, st)).collect(),
        complete_later,
        check: shown
            .receipt
            .filter(|r| !r.trim().is_empty())
            .map(|r| check_receipt(t, &view, &r)),
        notice: shown.notice,
        error: shown.error,
        shell,
    };
    Ok(private((status, render(&out)).into_response()))
}

#[derive(Deserialize)]
struct ShowQuery {
    /// A receipt's verification code to check against the chain.
    receipt: Option<String>,
    /// The step just taken (after the redirect).
    done: Option<String>,
}

async fn show(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(link): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    if let Err(e) = s.registry.store.entrustment_by_link(&link).await {
        return page_error(page.shell, e);
    }
    let Some(session) = resident_session(&headers) else {
        return code_page(page.shell, link, None, StatusCode::OK);
    };
    let t = page.t();
    let shown = Shown {
        receipt: q.receipt,
        notice: q
            .done
            .as_deref()
            .and_then(EntrustmentStep::parse)
            .filter(|st| st.by() == EntrustmentParty::Resident)
            .map(|st| t.t(&format!("resident.done_{}", st.as_str())).to_owned()),
        error: None,
    };
    match view_page(
        &s,
        page.shell.clone(),
        link.clone(),
        &session,
        shown,
        StatusCode::OK,
    )
    .await
    {
        Ok(r) => r,
        // No live view on this link (expired, or a code for another link): ask for the code.
        Err(ServiceError::NotFound) => code_page(page.shell, link, None, StatusCode::OK),
        Err(e) => page_error(page.shell, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    code: String,
}

/// The code staff gave: right opens the view (cookie) and goes back to the page.
async fn open(
    State(s): State<AppState>,
    page: Page,
    Path(link): Path<String>,
    req: Request,
) -> Response {
    if !same_site(req.headers()) {
        return error_page(page.shell, StatusCode::FORBIDDEN);
    }
    let t = page.t();
    if !s.login_limiter.allow(client_addr_of(&req)) {
        let m = t.t("resident.too_many").to_owned();
        return message_page(page.shell, StatusCode::TOO_MANY_REQUESTS, m);
    }
    let secure = req
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v == "https");
    let Ok(body) = axum::body::to_bytes(req.into_body(), crate::BODY_LIMIT).await else {
        return error_page(page.shell, StatusCode::PAYLOAD_TOO_LARGE);
    };
    let form: CodeForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    match s.registry.open_resident_view(&link, &form.code).await {
        Ok(OpenView::Opened { session }) => {
            let mut resp = back_to(&link);
            resp.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&session, secure));
            resp
        }
        Ok(OpenView::Wrong { tries_left }) => {
            let m = t.tf1("resident.code_wrong", tries_left);
            code_page(page.shell, link, Some(m), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Ok(OpenView::NoCode) => {
            let m = t.t("resident.code_none").to_owned();
            code_page(page.shell, link, Some(m), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => page_error(page.shell, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StepForm {
    step: String,
    confirm: String,
}

/// Confirm, revoke or complete, as the domain allows the resident now.
async fn step(
    State(s): State<AppState>,
    page: Page,
    Path(link): Path<String>,
    req: Request,
) -> Response {
    if !same_site(req.headers()) {
        return error_page(page.shell, StatusCode::FORBIDDEN);
    }
    let Some(session) = resident_session(req.headers()) else {
        return back_to(&link);
    };
    let t = page.t();
    let Ok(body) = axum::body::to_bytes(req.into_body(), crate::BODY_LIMIT).await else {
        return error_page(page.shell, StatusCode::PAYLOAD_TOO_LARGE);
    };
    let form: StepForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let step =
        EntrustmentStep::parse(&form.step).filter(|st| st.by() == EntrustmentParty::Resident);
    let (status, message) = match step {
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.t("resident.step_unknown").to_owned(),
        ),
        Some(EntrustmentStep::Revoke) if form.confirm != "yes" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.t("resident.revoke_tick").to_owned(),
        ),
        Some(st) => match s.registry.resident_step(&link, &session, st).await {
            // Revoking ends the link: there is no page to go back to, so say so here.
            Ok(_) if st == EntrustmentStep::Revoke => {
                return message_page(
                    page.shell,
                    StatusCode::OK,
                    t.t("resident.done_revoke").to_owned(),
                );
            }
            Ok(_) => {
                let to = format!("/r/{link}?done={}", st.as_str());
                return Redirect::to(&to).into_response();
            }
            // The view ended (or the link changed): the code page says what to do.
            Err(ServiceError::NotFound) => return back_to(&link),
            Err(ServiceError::Conflict {
                message_zh,
                message_en,
                ..
            }) => (
                StatusCode::CONFLICT,
                if t.is_zh() { message_zh } else { message_en },
            ),
            Err(e) => return page_error(page.shell, e),
        },
    };
    let shown = Shown {
        error: Some(message),
        ..Default::default()
    };
    match view_page(
        &s,
        page.shell.clone(),
        link.clone(),
        &session,
        shown,
        status,
    )
    .await
    {
        Ok(r) => r,
        Err(ServiceError::NotFound) => back_to(&link),
        Err(e) => page_error(page.shell, e),
    }
}

async fn serve(
    s: &AppState,
    page: Page,
    headers: &HeaderMap,
    link: String,
    id: i64,
    variant: Variant,
) -> Response {
    let Some(session) = resident_session(headers) else {
        return back_to(&link);
    };
    let view = match s.registry.resident_view(&link, &session).await {
        Ok(v) => v,
        Err(ServiceError::NotFound) => return back_to(&link),
        Err(e) => return page_error(page.shell, e),
    };
    if !view.photos.contains(&id) {
        return page_error(page.shell, ServiceError::NotFound);
    }
    let Some(attachments) = s.attachments.as_ref() else {
        return error_page(page.shell, StatusCode::NOT_FOUND);
    };
    match attachments.read(&Scope::everything(), id, variant).await {
        Ok((a, bytes)) if a.parent == AttachmentParent::Entrustment(view.entrustment.id) => {
            serve_file(&a, variant, bytes)
        }
        Ok(_) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => page_error(page.shell, e),
    }
}

/// A photo on the resident's entrustment, for the view that is open.
async fn photo(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path((link, id)): Path<(String, i64)>,
) -> Response {
    serve(&s, page, &headers, link, id, Variant::Original).await
}

async fn thumbnail(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path((link, id)): Path<(String, i64)>,
) -> Response {
    serve(&s, page, &headers, link, id, Variant::Thumbnail).await
}
