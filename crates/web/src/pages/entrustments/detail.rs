//! One entrustment as staff see it: the terms, where the key is now (and whether it is overdue,
//! with the work order that raised), the chain of hand-overs with their receipt codes, photos,
//! the household's work orders (where an assist request for clutter starts), the hand-over forms
//! the custody rules allow now, and the staff actions (cancel, the resident's link and code, the
//! resident's phone). The actions themselves are in `actions`.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use wangge_domain::Permission;
use wangge_domain::entrustment::{
    Custody, EntrustedAct, EntrustmentParty, EntrustmentStep, KeyAction, KeyHolder, StaffId,
    Witness,
};
use wangge_services::ServiceError;
use wangge_store::StoreError;
use wangge_store::attachments::AttachmentParent;
use wangge_store::entrustments::{EntrustmentRecord, KeyEventRecord};
use wangge_store::page::PageRequest;
use wangge_store::work_orders::WorkOrderFilter;

use super::key_events::{KeyForm, key_forms};
use super::{channel_name, list_sep, may_contact, period_text, staff_line, state_name};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;
use crate::pages::attachments::PhotoPanel;
use crate::pages::work_orders::{OrderRow, when};
use crate::pages::{FormErrors, Page, Shell, page_error, render};

/// What a detail page shows besides the record: a secret shown once, why a form was refused,
/// which hand-over form to open again.
#[derive(Debug, Default)]
pub(super) struct Extra {
    pub errors: FormErrors,
    /// The hand-over form (its kind) to show open, with its errors.
    pub open_kind: String,
    /// The resident's link, just made: shown this once.
    pub link: Option<LinkView>,
    /// A one-time code for the resident, just issued.
    pub code: Option<String>,
    /// The resident's phone in full, just asked for (audited).
    pub phone: Option<String>,
    pub notice: Option<String>,
    pub photo_error: Option<String>,
}

#[derive(Debug)]
pub struct LinkView {
    pub url: String,
    /// The QR code as inline SVG markup (made here from the URL).
    pub qr: String,
}

/// One hand-over in the chain.
pub struct EventRow {
    pub seq: u32,
    pub kind: String,
    pub when: String,
    pub actor: String,
    pub witness: String,
    pub details: Vec<String>,
    pub late: bool,
    pub receipt: String,
    pub photo: Option<i64>,
}

/// Display names of the staff a chain mentions: the named staff first, then the names the events
/// were recorded under.
pub struct Names<'a> {
    rec: &'a EntrustmentRecord,
    events: &'a [KeyEventRecord],
}

impl<'a> Names<'a> {
    pub fn new(rec: &'a EntrustmentRecord, events: &'a [KeyEventRecord]) -> Names<'a> {
        Names { rec, events }
    }

    pub fn of(&self, id: StaffId) -> String {
        self.rec
            .staff
            .iter()
            .find(|(u, _)| *u == id.0)
            .map(|(_, n)| n.clone())
            .or_else(|| {
                self.events
                    .iter()
                    .find(|e| e.event.actor() == id)
                    .map(|e| e.actor_name.clone())
            })
            .unwrap_or_else(|| format!("#{}", id.0))
    }
}

pub fn kind_name(t: Texts, k: wangge_domain::entrustment::KeyActionKind) -> &'static str {
    if t.is_zh() { k.name_zh() } else { k.name_en() }
}

/// The chain, oldest first, in words (shared with the resident's page and the receipt).
pub fn event_rows(t: Texts, names: &Names<'_>, events: &[KeyEventRecord]) -> Vec<EventRow> {
    events
        .iter()
        .map(|k| {
            let e = &k.event;
            let witness = match e.witness() {
                None => String::new(),
                Some(Witness::Colleague(id)) => t.tf1(
                    "key.witness_colleague_named",
                    k.witness_name.clone().unwrap_or_else(|| names.of(id)),
                ),
                Some(w) => (if t.is_zh() { w.name_zh() } else { w.name_en() }).to_owned(),
            };
            let details = match e.action() {
                KeyAction::Stored { slot } => vec![t.tf1("key.slot_is", slot.as_str())],
                KeyAction::LentToContractor(l) => vec![
                    format!(
                        "{} · {} · {}",
                        l.contractor.as_str(),
                        l.company.as_str(),
                        k.contractor_phone_masked.clone().unwrap_or_default()
                    ),
                    t.tf(
                        "key.lend_terms",
                        &[&names.of(l.supervisor), &when(t, l.expected_return)],
                    ),
                ],
                KeyAction::Lost { note } => vec![note.as_str().to_owned()],
                KeyAction::Correction { of, note } => {
                    vec![t.tf("key.correction_of", &[of, &note.as_str()])]
                }
                _ => Vec::new(),
            };
            EventRow {
                seq: k.seq,
                kind: kind_name(t, e.action().kind()).to_owned(),
                when: when(t, e.at()),
                actor: names.of(e.actor()),
                witness,
                details,
                late: k.late,
                receipt: k.receipt.to_string(),
                photo: k.attachment_id,
            }
        })
        .collect()
}

/// Where the key is now, from the chain: who holds it, which slot, which contractor until when.
pub fn holder_text(t: Texts, names: &Names<'_>, custody: &Custody) -> String {
    match custody.holder() {
        KeyHolder::NotYet => t.t("key.not_yet").to_owned(),
        KeyHolder::Staff(id) => t.tf1("key.with_staff", names.of(*id)),
        KeyHolder::Cabinet(slot) => t.tf1("key.in_cabinet", slot.as_str()),
        KeyHolder::Contractor(l) => t.tf(
            "key.lent_to",
            &[
                &l.contractor.as_str(),
                &l.company.as_str(),
                &names.of(l.supervisor),
                &when(t, l.expected_return),
            ],
        ),
        KeyHolder::Resident => t.t("key.back_home").to_owned(),
        KeyHolder::Lost => t.t("key.lost").to_owned(),
    }
}

pub fn replay(rec: &EntrustmentRecord, events: &[KeyEventRecord]) -> Result<Custody, StoreError> {
    Custody::replay(&rec.entrustment, events.iter().map(|e| &e.event))
        .map_err(|(seq, e)| StoreError::Decode(format!("key chain event {seq}: {}", e.code())))
}

#[derive(Template)]
#[template(path = "entrustment.html")]
struct DetailPage {
    shell: Shell,
    rec: EntrustmentRecord,
    period: String,
    acts: String,
    channel: String,
    staff: String,
    state: String,
    state_code: String,
    created: String,
    confirmed: Option<String>,
    ended: Option<String>,
    holder: String,
    holder_code: String,
    overdue: Option<String>,
    events: Vec<EventRow>,
    forms: Vec<KeyForm>,
    photo_panel: PhotoPanel,
    photos_allowed: bool,
    /// The household's work orders (`_order_rows.html` calls them rows).
    rows: Vec<OrderRow>,
    can_write: bool,
    can_cancel: bool,
    can_contact: bool,
    x: Extra,
}

/// The page for entrustment `id` with `x` on it.
pub(super) async fn view(
    s: &AppState,
    page: &Page,
    id: i64,
    x: Extra,
) -> Result<Response, ServiceError> {
    let Some(caller) = page.caller.as_ref() else {
        return Ok(crate::pages::to_login(false));
    };
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let rec = store.entrustment(&scope, id).await?;
    let events = store.key_events(&scope, id).await?;
    let custody = replay(&rec, &events)?;
    let now = OffsetDateTime::now_utc();
    let names = Names::new(&rec, &events);
    let can_write = caller.role.can(Permission::RegistryWrite);
    let e = &rec.entrustment;
    let mut forms = if can_write {
        let colleagues = store.campaign_staff(&rec.area_path).await?;
        key_forms(t, &rec, &events, &custody, caller.user_id, &colleagues, now)
    } else {
        Vec::new()
    };
    for f in forms.iter_mut().filter(|f| f.kind == x.open_kind) {
        f.open = true;
        f.errors = x.errors.clone();
    }
    let upload = can_write && e.permits(EntrustedAct::TakePhotos, now);
    let photo_panel = PhotoPanel {
        error: x.photo_error.clone(),
        ..PhotoPanel::load(
            s,
            &scope,
            &[AttachmentParent::Entrustment(id)],
            upload.then(|| format!("/entrustments/{id}/photos")),
        )
        .await?
    };
    let filter = WorkOrderFilter {
        household_id: Some(rec.household_id),
        ..Default::default()
    };
    let first = PageRequest {
        after: None,
        limit: 10,
    };
    let rows = store
        .work_orders(&scope, &filter, &first)
        .await?
        .items
        .iter()
        .map(|w| OrderRow::of(t, w, now))
        .collect();
    let overdue = custody.overdue(e, now).map(|o| {
        let kind = if t.is_zh() {
            o.kind.name_zh()
        } else {
            o.kind.name_en()
        };
        t.tf("key.overdue_since", &[&kind, &when(t, o.since)])
    });
    let can_cancel = can_write
        && e.steps_for(EntrustmentParty::Staff, now, &custody)
            .contains(&EntrustmentStep::Cancel);
    let acts: Vec<&str> = e
        .terms
        .permissions
        .acts()
        .map(|a| if t.is_zh() { a.name_zh() } else { a.name_en() })
        .collect();
    let out = DetailPage {
        period: period_text(t, &rec),
        acts: acts.join(list_sep(t)),
        channel: channel_name(t, &rec).to_owned(),
        staff: staff_line(t, &rec),
        state: state_name(t, e.state).to_owned(),
        state_code: e.state.as_str().to_owned(),
        created: t.tf(
            "entrustment.created_by",
            &[&rec.created_by, &when(t, rec.created_at)],
        ),
        confirmed: e.confirmed_at.map(|c| when(t, c)),
        ended: e.ended_at.map(|c| when(t, c)),
        holder: holder_text(t, &names, &custody),
        holder_code: custody.holder().kind().as_str().to_owned(),
        overdue,
        events: event_rows(t, &names, &events),
        forms,
        photo_panel,
        photos_allowed: e.permits(EntrustedAct::TakePhotos, now),
        rows,
        can_write,
        can_cancel,
        can_contact: may_contact(caller, &rec) && x.phone.is_none(),
        rec,
        x,
        shell: page.shell.clone(),
    };
    Ok(render(&out))
}

/// Renders the page with `x` and `status`, or the error page.
pub(super) async fn respond(
    s: &AppState,
    page: Page,
    id: i64,
    x: Extra,
    status: StatusCode,
) -> Response {
    match view(s, &page, id, x).await {
        Ok(r) => (status, r).into_response(),
        Err(e) => page_error(page.shell, e),
    }
}

/// A refused form on this page: its errors in place (a 404 stays a 404).
pub(super) async fn refused(
    s: &AppState,
    page: Page,
    id: i64,
    e: ServiceError,
    mut x: Extra,
) -> Response {
    let status = match &e {
        ServiceError::NotFound => return page_error(page.shell, e),
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match FormErrors::from_service(e, page.t()) {
        Ok(errors) => {
            x.errors = errors;
            respond(s, page, id, x, status).await
        }
        Err(e) => page_error(page.shell, e),
    }
}

pub(super) fn audited(action: &'static str, r: &EntrustmentRecord) -> Extension<Audited> {
    Extension(Audited {
        action: Some(action),
        object_type: Some("entrustment"),
        object_id: Some(r.id),
        area_path: Some(r.area_path.as_str().to_owned()),
        reason: None,
    })
}

#[derive(Deserialize)]
pub(super) struct ShowQuery {
    /// The hand-over just recorded (after the redirect): its receipt code on top.
    recorded: Option<u32>,
}

pub(super) async fn show(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let t = page.t();
    let scope = page.scope();
    let rec = match s.registry.store.entrustment(&scope, id).await {
        Ok(r) => r,
        Err(e) => return page_error(page.shell, e),
    };
    let mut x = Extra::default();
    if let Some(seq) = q.recorded {
        let events = s
            .registry
            .store
            .key_events(&scope, id)
            .await
            .unwrap_or_default();
        if let Some(k) = events.iter().find(|k| k.seq == seq) {
            x.notice = Some(t.tf(
                "key.recorded",
                &[&seq, &kind_name(t, k.event.action().kind()), &k.receipt],
            ));
        }
    }
    let audit = audited("entrustment.read", &rec);
    match view(&s, &page, id, x).await {
        Ok(r) => (audit, r).into_response(),
        Err(e) => page_error(page.shell, e),
    }
}
