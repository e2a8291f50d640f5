//! Visits on the pages: the form and history on a household, and the "visits due" list.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use time::OffsetDateTime;
use wangge_domain::{TagCode, VisitOutcome};
use wangge_services::FieldError;
use wangge_services::registry::{Observations, RecordVisit, VisitTag};
use wangge_store::StoreError;
use wangge_store::attachments::AttachmentParent;
use wangge_store::households::Household;
use wangge_store::page::PageRequest;
use wangge_store::visits::{Visit, VisitFilter, Visited};

use super::attachments::{PageForm, unavailable};
use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;
use crate::access::Audited;
use crate::i18n::Texts;

/// `upload_limit`: the visit form may carry photos.
pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/households/{id}/visits",
            post(record).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/visits/due", get(due))
}

/// A visit as the history shows it.
pub struct VisitRow {
    pub when: String,
    pub visitor: String,
    pub outcome: String,
    pub purpose: String,
    pub observations: Vec<(String, String)>,
    /// Photo attachment ids.
    pub photos: Vec<i64>,
}

pub fn rows(t: Texts, visits: Vec<Visit>) -> Vec<VisitRow> {
    visits
        .into_iter()
        .map(|v| {
            let obs: Observations = v
                .observations
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default();
            let observations = [
                ("visit.health", obs.health),
                ("visit.living", obs.living),
                ("visit.needs", obs.needs),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (t.t(k).to_owned(), v)))
            .collect();
            let local = v
                .visited_at
                .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("valid offset"));
            VisitRow {
                when: format!(
                    "{} {:02}:{:02}",
                    t.date(&local.date()),
                    local.hour(),
                    local.minute()
                ),
                visitor: v.visitor,
                outcome: t.t(&format!("visit.{}", v.outcome.as_str())).to_owned(),
                purpose: v.purpose.unwrap_or_default(),
                observations,
                photos: Vec::new(),
            }
        })
        .collect()
}

/// The household's visits, newest first.
pub async fn history(
    s: &AppState,
    page: &Page,
    household: i64,
) -> Result<Vec<VisitRow>, StoreError> {
    let f = VisitFilter {
        visited: Some(Visited::Household(household)),
        within: None,
    };
    let found = s
        .registry
        .store
        .visits(
            &page.scope(),
            &f,
            &PageRequest {
                after: None,
                limit: 50,
            },
        )
        .await?;
    let parents: Vec<AttachmentParent> = found
        .items
        .iter()
        .map(|v| AttachmentParent::Visit(v.id))
        .collect();
    let photos = s
        .registry
        .store
        .attachments_of(&page.scope(), &parents)
        .await?;
    let ids: Vec<i64> = found.items.iter().map(|v| v.id).collect();
    let mut rows = rows(page.t(), found.items);
    for a in photos {
        if let Some(i) = ids.iter().position(|id| *id == a.parent.id()) {
            rows[i].photos.push(a.id);
        }
    }
    Ok(rows)
}

pub fn outcomes(t: Texts) -> Vec<(String, String)> {
    VisitOutcome::ALL
        .iter()
        .map(|o| {
            (
                o.as_str().to_owned(),
                t.t(&format!("visit.{}", o.as_str())).to_owned(),
            )
        })
        .collect()
}

fn opt(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

/// Records a visit from the household page, with up to four photos. The photos are checked
/// first, so a refused photo records nothing.
async fn record(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let t = page.t();
    let redisplay = |errors: FormErrors| async {
        super::households::household_view(&s, &page, id, errors)
            .await
            .unwrap_or_else(|e| page_error(page.shell.clone(), e))
    };
    let mut form = match PageForm::read(&s, req).await {
        Ok(f) => f,
        Err(e) => match FormErrors::from_service(e, t) {
            Ok(errors) => return redisplay(errors).await,
            Err(e) => return page_error(page.shell.clone(), e),
        },
    };
    let mut photos = Vec::new();
    if !form.photos.is_empty() {
        let Some(attachments) = s.attachments.as_ref() else {
            return match FormErrors::from_service(unavailable(), t) {
                Ok(errors) => redisplay(errors).await,
                Err(e) => page_error(page.shell.clone(), e),
            };
        };
        for photo in std::mem::take(&mut form.photos) {
            match attachments.prepare(photo).await {
                Ok(p) => photos.push(p),
                Err(e) => {
                    return match FormErrors::from_service(e, t) {
                        Ok(errors) => redisplay(errors).await,
                        Err(e) => page_error(page.shell.clone(), e),
                    };
                }
            }
        }
    }
    let member = form.get("member");
    let f = VisitFields {
        outcome: form.get("outcome"),
        purpose: form.get("purpose"),
        health: form.get("health"),
        living: form.get("living"),
        needs: form.get("needs"),
        tag: form.get("tag"),
        member: Some(member).filter(|m| !m.is_empty()),
    };
    let mut errors = FormErrors::default();
    let outcome = VisitOutcome::parse(&f.outcome)
        .map_err(|e| errors.push("outcome", &FieldError::from_domain("outcome", &e), t))
        .ok();
    let add_tags = match opt(f.tag) {
        None => Vec::new(),
        Some(code) => match TagCode::parse(&code) {
            Ok(tag) => vec![VisitTag {
                tag,
                person_id: f.member.as_deref().and_then(|m| m.parse().ok()),
            }],
            Err(e) => {
                errors.push("tag", &FieldError::from_domain("tag", &e), t);
                Vec::new()
            }
        },
    };
    let Some(outcome) = outcome.filter(|_| errors.fields.is_empty()) else {
        errors.general = Some(t.t("form.fix").to_owned());
        return redisplay(errors).await;
    };
    let cmd = RecordVisit {
        visited: Visited::Household(id),
        visited_at: None,
        outcome,
        purpose: opt(f.purpose),
        notes: None,
        observations: Some(Observations {
            health: opt(f.health),
            living: opt(f.living),
            needs: opt(f.needs),
        }),
        add_tags,
        end_tags: Vec::new(),
    };
    match s
        .registry
        .record_visit(&page.scope(), (Some(caller.user_id), &caller.username), cmd)
        .await
    {
        Ok(v) => {
            if let Some(attachments) = s.attachments.as_ref() {
                let who = (Some(caller.user_id), caller.username.as_str());
                for p in photos {
                    let parent = AttachmentParent::Visit(v.id);
                    if let Err(e) = attachments.attach(&page.scope(), who, parent, p).await {
                        return page_error(page.shell.clone(), e);
                    }
                }
            }
            let audited = Audited {
                action: Some("visit.record"),
                object_type: Some("visit"),
                object_id: Some(v.id),
                area_path: Some(v.area_path.as_str().to_owned()),
                reason: None,
            };
            (
                Extension(audited),
                Redirect::to(&format!("/households/{id}")),
            )
                .into_response()
        }
        Err(e) => match FormErrors::from_service(e, t) {
            Ok(errors) => redisplay(errors).await,
            Err(e) => page_error(page.shell.clone(), e),
        },
    }
}

/// The visit form's text fields.
struct VisitFields {
    outcome: String,
    purpose: String,
    health: String,
    living: String,
    needs: String,
    tag: String,
    member: Option<String>,
}

pub struct DueRow {
    pub household: Household,
    pub address: String,
    pub last: String,
}

#[derive(Template)]
#[template(path = "visits_due.html")]
struct DuePage {
    shell: Shell,
    title: String,
    rows: Vec<DueRow>,
}

#[derive(Deserialize)]
struct DueQuery {
    days: Option<u16>,
}

async fn due(State(s): State<AppState>, page: Page, Query(q): Query<DueQuery>) -> Response {
    let t = page.t();
    let days = q.days.unwrap_or(30).clamp(1, 3650);
    let scope = page.scope();
    let since = OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let store = &s.registry.store;
    let found = match store.households_due(&scope, None, since, 200).await {
        Ok(f) => f,
        Err(e) => return page_error(page.shell, e),
    };
    let mut rows = Vec::new();
    for (h, last) in found {
        let address = match h.dwelling_id {
            Some(d) => store
                .place(&scope, d)
                .await
                .map(|p| p.address)
                .unwrap_or_default(),
            None => String::new(),
        };
        let last = last.map_or_else(|| t.t("visit.never").to_owned(), |l| t.date(&l.date()));
        rows.push(DueRow {
            household: h,
            address,
            last,
        });
    }
    render(&DuePage {
        title: t.tf1("visit.due_title", days),
        shell: page.shell,
        rows,
    })
}
