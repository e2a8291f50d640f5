//! Recording a hand-over in two taps: the entrustment's page offers one big button per kind the
//! custody rules allow the signed-in staff member now (`Custody::offered`); each opens a short
//! form with only that kind's fields, the confirmation defaulting to the other side of the
//! hand-over (the resident, the contractor), and an optional photo.
//!
//! A photo is stored only once the hand-over is known to be accepted (`check_key_event`), so a
//! refused hand-over leaves nothing behind; the stored photo's hash then goes into the chain.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use time::{Duration, OffsetDateTime};
use wangge_domain::entrustment::{Custody, KeyActionKind, KeyHolder, StaffId, Witness};
use wangge_services::entrustments::RecordKeyEvent;
use wangge_services::{FieldError, ServiceError};
use wangge_store::assists::Colleague;
use wangge_store::attachments::AttachmentParent;
use wangge_store::entrustments::{EntrustmentRecord, KeyEventRecord};

use super::detail::{Extra, audited, kind_name, refused};
use super::{local_input, local_time};
use crate::AppState;
use crate::i18n::Texts;
use crate::pages::attachments::{PageForm, unavailable};
use crate::pages::{FormErrors, Page};

/// One hand-over form.
#[derive(Debug)]
pub struct KeyForm {
    pub kind: String,
    pub label: String,
    pub hint: String,
    /// Who confirms the hand-over, (value, label), the default first; empty when nobody needs
    /// to (moves inside staff custody, reports, corrections).
    pub witnesses: Vec<(String, String)>,
    /// Lends: who answers for the key, (id, name), the recording staff member first.
    pub supervisors: Vec<(i64, String)>,
    /// Corrections: the events one may name, (seq, label).
    pub corrects: Vec<(u32, String)>,
    /// Lends: the expected return offered (four hours on, never past the period's end).
    pub expected_return: String,
    pub photo: bool,
    /// Shown open, with these errors, after a refusal.
    pub open: bool,
    pub errors: FormErrors,
}

impl KeyForm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

/// The other side of a hand-over, who can confirm it themselves (as the custody rules ask).
fn counterparty(kind: KeyActionKind, holder: &KeyHolder) -> Option<Witness> {
    match kind {
        KeyActionKind::ReceivedFromResident | KeyActionKind::ReturnedToResident => {
            Some(Witness::Resident)
        }
        KeyActionKind::LentToContractor => Some(Witness::Contractor),
        KeyActionKind::ReturnedToCustody if matches!(holder, KeyHolder::Contractor(_)) => {
            Some(Witness::Contractor)
        }
        _ => None,
    }
}

/// The forms for what `me` may record now, in the domain's order.
pub(super) fn key_forms(
    t: Texts,
    rec: &EntrustmentRecord,
    events: &[KeyEventRecord],
    custody: &Custody,
    me: i64,
    colleagues: &[Colleague],
    now: OffsetDateTime,
) -> Vec<KeyForm> {
    let e = &rec.entrustment;
    let others: Vec<(String, String)> = colleagues
        .iter()
        .filter(|c| c.id != me)
        .map(|c| {
            (
                format!("colleague:{}", c.id),
                t.tf1("key.witness_colleague_named", &c.display_name),
            )
        })
        .collect();
    let back = (now + Duration::hours(4)).min(e.terms.period.ends_at());
    let mut supervisors: Vec<(i64, String)> = rec.staff.clone();
    supervisors.sort_by_key(|(id, _)| *id != me);
    custody
        .offered(e, StaffId(me), now)
        .into_iter()
        .map(|kind| {
            let witnesses = match counterparty(kind, custody.holder()) {
                Some(w) => {
                    let name = if t.is_zh() { w.name_zh() } else { w.name_en() };
                    std::iter::once((w.as_str().to_owned(), name.to_owned()))
                        .chain(others.iter().cloned())
                        .collect()
                }
                None => Vec::new(),
            };
            let corrects = if kind == KeyActionKind::Correction {
                events
                    .iter()
                    .filter(|k| k.event.action().kind() != KeyActionKind::Correction)
                    .map(|k| {
                        let label = t.tf(
                            "key.event_n",
                            &[&k.seq, &kind_name(t, k.event.action().kind())],
                        );
                        (k.seq, label)
                    })
                    .rev()
                    .collect()
            } else {
                Vec::new()
            };
            KeyForm {
                kind: kind.as_str().to_owned(),
                label: kind_name(t, kind).to_owned(),
                hint: t.t(&format!("key.hint_{}", kind.as_str())).to_owned(),
                witnesses,
                supervisors: if kind == KeyActionKind::LentToContractor {
                    supervisors.clone()
                } else {
                    Vec::new()
                },
                corrects,
                expected_return: local_input(back),
                photo: kind != KeyActionKind::Correction,
                open: false,
                errors: FormErrors::default(),
            }
        })
        .collect()
}

fn text(v: String) -> Option<String> {
    Some(v).filter(|v| !v.trim().is_empty())
}

/// The confirmation as the form sends it: `resident`, `contractor`, `colleague:ID`, or nothing.
fn witness_of(v: &str) -> (Option<String>, Option<i64>) {
    match v.trim() {
        "" => (None, None),
        w => match w.strip_prefix("colleague:") {
            // An id that does not parse names nobody: refused below like an unknown colleague.
            Some(id) => (Some("colleague".to_owned()), Some(id.parse().unwrap_or(-1))),
            None => (Some(w.to_owned()), None),
        },
    }
}

/// Records one hand-over from its form, then shows the entrustment with the new receipt code.
pub(super) async fn record(
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
    let rec = match store.entrustment(&scope, id).await {
        Ok(r) => r,
        Err(e) => return crate::pages::page_error(page.shell, e),
    };
    let mut form = match PageForm::read(&s, req).await {
        Ok(f) => f,
        Err(e) => return refused(&s, page, id, e, Extra::default()).await,
    };
    let kind = form.get("kind");
    let x = || Extra {
        open_kind: kind.clone(),
        ..Default::default()
    };
    let mut errors = Vec::new();
    let mut time_of = |field: &str| {
        local_time(field, &form.get(field))
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
    };
    let (at, expected_return) = (time_of("at"), time_of("expected_return"));
    let (witness, witness_id) = witness_of(&form.get("witness"));
    // A colleague who confirms must be one who works here, not any number typed into the form.
    if let Some(w) = witness_id {
        let works_here = store.user_covers(w, &rec.area_path).await.unwrap_or(false);
        if !works_here {
            errors.push(FieldError::new(
                "witness",
                "witness.unknown",
                "见证同事不存在或不负责该户所在区域",
                "That colleague does not exist or does not work where the household lives",
            ));
        }
    }
    if form.photos.len() > 1 {
        errors.push(FieldError::new(
            "file",
            "attachment.one",
            "每次交接最多附一张照片",
            "One photo per hand-over at most",
        ));
    }
    if !errors.is_empty() {
        return refused(&s, page, id, ServiceError::Invalid(errors), x()).await;
    }
    let cmd = RecordKeyEvent {
        kind: kind.clone(),
        at,
        witness,
        witness_id,
        slot: text(form.get("slot")),
        contractor_name: text(form.get("contractor_name")),
        company: text(form.get("company")),
        contractor_phone: text(form.get("contractor_phone")),
        expected_return,
        supervisor_id: form.get("supervisor_id").trim().parse().ok(),
        note: text(form.get("note")),
        corrects: form.get("corrects").trim().parse().ok(),
        attachment_id: None,
    };
    let by = (caller.user_id, caller.username.as_str());
    let photo = match form.photos.pop() {
        None => None,
        Some(upload) => {
            let Some(attachments) = s.attachments.as_ref() else {
                return refused(&s, page, id, unavailable(), x()).await;
            };
            match attachments.prepare(upload).await {
                Ok(p) => Some((attachments, p)),
                Err(e) => return refused(&s, page, id, e, x()).await,
            }
        }
    };
    if let Err(e) = s.registry.check_key_event(&scope, by, id, &cmd).await {
        return refused(&s, page, id, e, x()).await;
    }
    let attachment_id = match photo {
        None => None,
        Some((attachments, p)) => {
            let who = (Some(caller.user_id), caller.username.as_str());
            match attachments
                .attach(&scope, who, AttachmentParent::Entrustment(id), p)
                .await
            {
                Ok(a) => Some(a.id),
                Err(e) => return refused(&s, page, id, e, x()).await,
            }
        }
    };
    let cmd = RecordKeyEvent {
        attachment_id,
        ..cmd
    };
    match s.registry.record_key_event(&scope, by, id, cmd).await {
        Ok((r, ev)) => {
            let to = format!("/entrustments/{id}?recorded={}#chain", ev.seq);
            (audited("entrustment.key_event", &r), Redirect::to(&to)).into_response()
        }
        Err(e) => refused(&s, page, id, e, x()).await,
    }
}
