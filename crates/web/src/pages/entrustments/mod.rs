//! Entrustments and key custody (委托 / 钥匙托管) on the pages (W1): the list (`GET
//! /entrustments`), the form that records one from a household or takes on a resident's campaign
//! pre-registration (`form`), one entrustment with its key chain and the two-tap hand-over forms
//! (`detail`, `key_events`), the printable receipt of a hand-over (`receipt`), the key cabinet and
//! the today card (`cabinet`), and the resident's own page without an account (`resident`).
//!
//! The domain decides what may happen (`Custody::offered`, `Entrustment::steps_for`); these pages
//! only offer what it allows and show its refusals in words.

mod actions;
mod cabinet;
mod detail;
mod form;
mod key_events;
mod receipt;
mod resident;

pub use cabinet::{TodayKey, today};
pub use form::EntrustOffer;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use wangge_domain::Permission;
use wangge_domain::entrustment::{EntrustmentState, HolderKind};
use wangge_services::FieldError;
use wangge_store::entrustments::{EntrustmentFilter, EntrustmentRecord};
use wangge_store::page::{Cursor, MAX_LIMIT, PageRequest};

use super::work_orders::when;
use super::{Page, Shell, page_error, render};
use crate::AppState;
use crate::i18n::Texts;

pub fn router(upload_limit: usize) -> Router<AppState> {
    let uploads = DefaultBodyLimit::max(upload_limit);
    Router::new()
        .route("/entrustments", get(list))
        .route("/entrustments/new", get(form::new_form).post(form::create))
        .route("/campaign-requests/{id}/entrust", post(form::from_request))
        .route("/entrustments/{id}", get(detail::show))
        .route("/entrustments/{id}/cancel", post(actions::cancel))
        .route("/entrustments/{id}/resident-link", post(actions::link))
        .route("/entrustments/{id}/resident-code", post(actions::code))
        .route("/entrustments/{id}/contact", post(actions::contact))
        .route(
            "/entrustments/{id}/photos",
            post(actions::photos).layer(uploads),
        )
        .route(
            "/entrustments/{id}/key-events",
            post(key_events::record).layer(uploads),
        )
        .route("/entrustments/{id}/receipts/{seq}", get(receipt::show))
        .route("/key-cabinet", get(cabinet::show))
        .merge(resident::router())
}

/// Beijing time: what every date and time on these pages is typed and read in.
pub(crate) const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

pub fn state_name(t: Texts, s: EntrustmentState) -> &'static str {
    if t.is_zh() { s.name_zh() } else { s.name_en() }
}

/// A list in running text: 、 between items in Chinese, a comma in English.
pub fn list_sep(t: Texts) -> &'static str {
    if t.is_zh() { "、" } else { ", " }
}

/// The staff the resident named, as one line (the staff page and the resident's page).
pub fn staff_line(t: Texts, r: &EntrustmentRecord) -> String {
    r.staff
        .iter()
        .map(|(_, n)| n.as_str())
        .collect::<Vec<_>>()
        .join(list_sep(t))
}

pub fn channel_name(t: Texts, r: &EntrustmentRecord) -> &'static str {
    let c = r.entrustment.terms.channel;
    if t.is_zh() { c.name_zh() } else { c.name_en() }
}

/// The period as the resident picked it: first day – last day (the period ends at the midnight
/// after the last day).
pub fn period_text(t: Texts, r: &EntrustmentRecord) -> String {
    let p = r.entrustment.terms.period;
    let first = p.starts_at().to_offset(BEIJING).date();
    let last = (p.ends_at() - Duration::seconds(1))
        .to_offset(BEIJING)
        .date();
    if first == last {
        t.date(&first)
    } else {
        format!("{} – {}", t.date(&first), t.date(&last))
    }
}

/// Held now (with staff, in the cabinet or with a contractor) past the entrustment's end, or
/// lent past the expected return: the same reading as the API's `overdue`.
pub fn overdue_now(r: &EntrustmentRecord, now: OffsetDateTime) -> bool {
    let held = matches!(
        r.holder,
        HolderKind::Staff | HolderKind::Cabinet | HolderKind::Contractor
    );
    held && (now > r.entrustment.effective_end() || r.expected_return.is_some_and(|b| now > b))
}

/// Where the key is, in one line, from the entrustment's row (lists; the detail page says more
/// from the chain).
pub fn holder_line(t: Texts, r: &EntrustmentRecord) -> String {
    match r.holder {
        HolderKind::Staff => t.tf1("key.with_staff", r.holder_name.as_deref().unwrap_or("")),
        HolderKind::Cabinet => t.tf1("key.in_cabinet", r.cabinet_slot.as_deref().unwrap_or("")),
        HolderKind::Contractor => match r.expected_return {
            Some(b) => t.tf1("key.with_contractor_until", when(t, b)),
            None => t.t("key.with_contractor").to_owned(),
        },
        k => (if t.is_zh() { k.name_zh() } else { k.name_en() }).to_owned(),
    }
}

/// One entrustment in a list.
pub struct EntrustmentRow {
    pub id: i64,
    pub address: String,
    pub resident: String,
    pub purpose: String,
    pub period: String,
    pub state: String,
    pub state_code: String,
    pub holder: String,
    pub held: bool,
    pub overdue: bool,
}

impl EntrustmentRow {
    pub fn of(t: Texts, r: &EntrustmentRecord, now: OffsetDateTime) -> EntrustmentRow {
        let state = r.entrustment.state;
        EntrustmentRow {
            id: r.id,
            address: r.address.clone(),
            resident: r.resident_name.clone(),
            purpose: r.entrustment.terms.purpose.as_str().to_owned(),
            period: period_text(t, r),
            state: state_name(t, state).to_owned(),
            state_code: state.as_str().to_owned(),
            holder: holder_line(t, r),
            held: matches!(
                r.holder,
                HolderKind::Staff | HolderKind::Cabinet | HolderKind::Contractor
            ),
            overdue: overdue_now(r, now),
        }
    }
}

/// A date and time as a `datetime-local` input sends it, read as Beijing time; empty is `None`.
pub(crate) fn local_time(field: &str, v: &str) -> Result<Option<OffsetDateTime>, FieldError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let long = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let short = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    PrimitiveDateTime::parse(v, short)
        .or_else(|_| PrimitiveDateTime::parse(v, long))
        .map(|t| Some(t.assume_offset(BEIJING)))
        .map_err(|_| {
            FieldError::new(
                field,
                "date.invalid",
                "请填写有效的日期和时间",
                "Enter a valid date and time",
            )
        })
}

/// The value a `datetime-local` input shows for `at` (Beijing time, minutes).
pub(crate) fn local_input(at: OffsetDateTime) -> String {
    let l = at.to_offset(BEIJING);
    format!("{}T{:02}:{:02}", ymd(l.date()), l.hour(), l.minute())
}

/// A date as a `date` input wants it.
pub(crate) fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[derive(Template)]
#[template(path = "entrustments.html")]
struct ListPage {
    shell: Shell,
    mine: bool,
    overdue: bool,
    state: String,
    states: Vec<(String, String)>,
    rows: Vec<EntrustmentRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    view: Option<String>,
    state: Option<String>,
    /// Only keys overdue now (held past the end, or lent past the expected return).
    overdue: Option<String>,
    cursor: Option<String>,
}

/// The entrustments naming me (default) or all in my area, newest first, by state; each with
/// where its key is and whether it is overdue. "Overdue only" looks at the keys held now (few:
/// the key cabinet's list), all on one page.
async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    let mine = q.view.as_deref() != Some("area");
    let overdue = q.overdue.as_deref().is_some_and(|o| !o.is_empty());
    let state = q
        .state
        .as_deref()
        .and_then(|s| EntrustmentState::parse(s).ok());
    let filter = EntrustmentFilter {
        state,
        key_held: overdue,
        staff_id: mine.then_some(caller.user_id),
        ..Default::default()
    };
    let req = PageRequest {
        after: q.cursor.as_deref().and_then(|c| Cursor::decode(c).ok()),
        limit: if overdue { MAX_LIMIT } else { 50 },
    };
    let found = match s
        .registry
        .store
        .entrustments(&page.scope(), &filter, &req)
        .await
    {
        Ok(f) => f,
        Err(e) => return page_error(page.shell, e),
    };
    let now = OffsetDateTime::now_utc();
    let (items, next) = if overdue {
        let late = found.items.into_iter().filter(|r| overdue_now(r, now));
        (late.collect::<Vec<_>>(), None)
    } else {
        (found.items, found.next)
    };
    render(&ListPage {
        mine,
        overdue,
        state: state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        states: EntrustmentState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), state_name(t, *s).to_owned()))
            .collect(),
        rows: items
            .iter()
            .map(|r| EntrustmentRow::of(t, r, now))
            .collect(),
        next: next.map(|c| c.encode()),
        shell: page.shell,
    })
}

/// Whether the caller may see the resident's phone in full: a named staff member (they call the
/// resident), or a role allowed full numbers.
pub fn may_contact(caller: &wangge_services::identity::Caller, r: &EntrustmentRecord) -> bool {
    caller.role.can(Permission::RegistryWrite)
        && (r.staff.iter().any(|(u, _)| *u == caller.user_id)
            || caller.role.can(Permission::RevealPersonal))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::{local_input, local_time};

    #[test]
    fn local_times_are_beijing_time_both_ways() {
        let at = local_time("at", "2026-12-05T09:30").unwrap().unwrap();
        assert_eq!(at, datetime!(2026-12-05 01:30 UTC));
        assert_eq!(local_input(at), "2026-12-05T09:30");
        assert_eq!(local_time("at", " ").unwrap(), None);
        assert_eq!(local_time("at", "明天").unwrap_err().code, "date.invalid");
    }
}
