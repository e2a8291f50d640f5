//! A campaign's dashboard: the plan, coverage per area against the frozen list (done, not home,
//! refused, not found, needs follow-up, pending), the revisit queue and overdue slots,
//! newcomers, the residents' pre-registration link with its QR code, the buildings with their
//! slots and assignees, and exports. The forms on it post to `manage` and `export`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_domain::campaign::form::FieldKind;
use wangge_domain::{AreaLevel, CampaignState, ItemStatus, Permission};
use wangge_services::ServiceError;
use wangge_services::campaigns::PreviewTargets;
use wangge_store::StoreError;
use wangge_store::areas::AreaFilter;
use wangge_store::campaigns::{
    Campaign, CampaignItem, Coverage, CoverageArea, ItemFilter, ItemOrder, Preview, StatusCounts,
};
use wangge_store::page::PageRequest;

use super::{kind_name, manages, period, site_base, slot_text, state_name, status_name};
use crate::AppState;
use crate::i18n::Texts;
use crate::pages::{FormErrors, Page, Shell, page_error, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/campaigns/{id}", get(show))
}

/// One line of the coverage table.
pub struct CoverageLine {
    pub name: String,
    pub c: StatusCounts,
}

impl CoverageLine {
    /// Doors with a result (anything but pending).
    pub fn worked(&self) -> i64 {
        self.c.total - self.c.pending
    }

    /// The `<progress>` maximum (never zero).
    pub fn max(&self) -> i64 {
        self.c.total.max(1)
    }

    pub fn worked_pct(&self) -> String {
        let p = self.c.worked_permille();
        format!("{}.{}%", p / 10, p % 10)
    }

    pub fn reached_pct(&self) -> String {
        let p = self.c.reached_permille();
        format!("{}.{}%", p / 10, p % 10)
    }
}

/// A door in a queue on the dashboard.
pub struct DoorLine {
    pub id: i64,
    pub address: String,
    pub person: String,
    pub status: String,
    pub slot: String,
}

impl DoorLine {
    pub fn of(t: Texts, i: &CampaignItem) -> DoorLine {
        DoorLine {
            id: i.id,
            address: i.address.clone(),
            person: i.person_name.clone().unwrap_or_default(),
            status: status_name(t, i.status).to_owned(),
            slot: i.slot.as_ref().map(|s| slot_text(t, s)).unwrap_or_default(),
        }
    }
}

/// A building with its doors, slots and who has them.
pub struct BuildingLine {
    pub id: Option<i64>,
    pub address: String,
    pub doors: i64,
    pub open: i64,
    pub slots: Vec<String>,
    pub assignees: Vec<String>,
}

/// The public link as the dashboard shows it.
pub struct LinkView {
    pub url: String,
    /// The QR code as inline SVG markup (made here from the URL).
    pub qr: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
pub(super) struct DashboardPage {
    shell: Shell,
    c: Campaign,
    kind: String,
    state: String,
    state_code: String,
    period: String,
    desk: Option<String>,
    rule: Vec<(String, String)>,
    fields: Vec<String>,
    can_manage: bool,
    can_export: bool,
    can_reveal: bool,
    is_draft: bool,
    is_active: bool,
    preview: Option<Preview>,
    total: CoverageLine,
    lines: Vec<CoverageLine>,
    revisit: Vec<DoorLine>,
    overdue: Vec<DoorLine>,
    newcomers: Option<i64>,
    link: Option<LinkView>,
    requests_label: String,
    preview_detail: String,
    coverage_text: String,
    buildings: Vec<BuildingLine>,
    staff: Vec<(i64, String)>,
    today: String,
    notice: Option<String>,
    errors: FormErrors,
}

/// The QR code of `url` as an inline `<svg>` (no XML prolog, no fixed size: CSS sizes it).
pub fn qr_svg(url: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(160, 160)
        .build();
    let start = svg.find("<svg")?;
    Some(svg[start..].to_owned())
}

fn describe_rule(
    t: Texts,
    c: &Campaign,
    area: &str,
    tag_names: &[(String, String)],
    places: Vec<String>,
) -> Vec<(String, String)> {
    let r = &c.rule;
    let mut out = vec![(t.t("campaign.area").to_owned(), area.to_owned())];
    if !r.tags().is_empty() {
        let names: Vec<&str> = r
            .tags()
            .iter()
            .map(|code| {
                tag_names
                    .iter()
                    .find(|(c, _)| c == code.as_str())
                    .map_or(code.as_str(), |(_, n)| n.as_str())
            })
            .collect();
        out.push((
            t.t("campaign.tags").to_owned(),
            names.join(t.t("campaign.list_sep")),
        ));
    }
    let ages = match (r.age_min(), r.age_max()) {
        (Some(a), Some(b)) => Some(t.tf("campaign.age_between", &[&a, &b])),
        (Some(a), None) => Some(t.tf1("campaign.age_from", a)),
        (None, Some(b)) => Some(t.tf1("campaign.age_to", b)),
        (None, None) => None,
    };
    if let Some(a) = ages {
        out.push((t.t("campaign.ages").to_owned(), a));
    }
    if !r.residence().is_empty() {
        let names: Vec<String> = r
            .residence()
            .iter()
            .map(|x| t.t(&format!("residence.{}", x.as_str())).to_owned())
            .collect();
        out.push((
            t.t("campaign.residence").to_owned(),
            names.join(t.t("campaign.list_sep")),
        ));
    }
    if !places.is_empty() {
        out.push((
            t.t("campaign.places").to_owned(),
            places.join(t.t("campaign.list_sep")),
        ));
    }
    let (inc, exc) = (r.include_households().len(), r.exclude_households().len());
    if inc + exc > 0 {
        out.push((
            t.t("campaign.named_households").to_owned(),
            t.tf("campaign.included_excluded", &[&inc, &exc]),
        ));
    }
    out
}

fn describe_fields(t: Texts, c: &Campaign) -> Vec<String> {
    c.form
        .fields()
        .iter()
        .map(|f| {
            let mut s = format!(
                "{} · {}",
                f.label,
                t.t(&format!("campaign.field_{}", f.kind.as_str()))
            );
            if let FieldKind::Choice(o) = &f.kind {
                s = t.tf("campaign.with_note", &[&s, &o.join(" / ")]);
            }
            if f.required {
                s.push_str(&format!(" · {}", t.t("campaign.field_required")));
            }
            s
        })
        .collect()
}

/// The dashboard, with `notice` on top and `errors` beside the forms that failed.
pub(super) async fn view(
    s: &AppState,
    page: Page,
    headers: &HeaderMap,
    id: i64,
    notice: Option<String>,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return crate::pages::to_login(false);
    };
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let today = s.registry.clock.today();
    let c = match store.campaign(&scope, id).await {
        Ok(c) => c,
        Err(e) => return page_error(page.shell, e),
    };
    let can_manage = manages(s, &caller, &c).await;
    let is_draft = c.state == CampaignState::Draft;
    let is_active = c.state == CampaignState::Active;
    let built = async {
        let area = store.area(&scope, c.area_id).await?;
        let desk = match c.desk_user_id {
            Some(d) => Some(store.user(d).await?.display_name),
            None => None,
        };
        let tag_names: Vec<(String, String)> = store
            .tags(&scope)
            .await?
            .into_iter()
            .map(|tag| {
                let name = if t.is_zh() { tag.name_zh } else { tag.name_en };
                (tag.code.as_str().to_owned(), name)
            })
            .collect();
        let mut places = Vec::new();
        for p in c.rule.places() {
            match store.place(&scope, *p).await {
                Ok(p) => places.push(p.address),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let rule = describe_rule(t, &c, &area.name, &tag_names, places);
        let preview = if is_draft && can_manage {
            let q = PreviewTargets {
                area: area.code.clone(),
                kind: c.kind,
                rule: c.rule.clone().into(),
            };
            s.registry.preview_campaign(&scope, q).await.ok()
        } else {
            None
        };
        let mut lines = Vec::new();
        let mut total = StatusCounts::default();
        let (mut revisit, mut overdue, mut buildings) = (Vec::new(), Vec::new(), Vec::new());
        let mut newcomers = None;
        let mut staff = Vec::new();
        if !is_draft {
            let grids = store.campaign_counts(&scope, id, today).await?;
            let row = |a: &wangge_store::areas::Area| CoverageArea {
                id: a.id,
                code: a.code.as_str().to_owned(),
                name: a.name.clone(),
                path: a.path.clone(),
            };
            let mut rows = Vec::new();
            if area.level == AreaLevel::Grid {
                rows.push(row(&area));
            } else {
                let filter = AreaFilter {
                    parent_id: Some(area.id),
                    ..Default::default()
                };
                let req = PageRequest {
                    after: None,
                    limit: 200,
                };
                for child in store.areas(&scope, &filter, &req).await?.items {
                    rows.push(row(&child));
                }
            }
            let coverage = Coverage::from_grids(&grids, &rows);
            total = coverage.total;
            lines = coverage
                .by_area
                .into_iter()
                .filter(|r| r.counts.total > 0)
                .map(|r| CoverageLine {
                    name: r.area_name,
                    c: r.counts,
                })
                .collect();
            let first = PageRequest {
                after: None,
                limit: 50,
            };
            let not_home = ItemFilter {
                status: Some(ItemStatus::NotHome),
                ..Default::default()
            };
            revisit = store
                .campaign_items(&scope, id, &not_home, ItemOrder::Doors, &first)
                .await?
                .items
                .iter()
                .map(|i| DoorLine::of(t, i))
                .collect();
            let late = ItemFilter {
                overdue_on: Some(today),
                ..Default::default()
            };
            overdue = store
                .campaign_items(&scope, id, &late, ItemOrder::Doors, &first)
                .await?
                .items
                .iter()
                .map(|i| DoorLine::of(t, i))
                .collect();
            buildings = store
                .campaign_building_summary(&scope, id)
                .await?
                .into_iter()
                .map(|b| BuildingLine {
                    id: b.building_id,
                    address: if b.address.is_empty() {
                        t.t("campaign.no_building").to_owned()
                    } else {
                        b.address
                    },
                    doors: b.doors,
                    open: b.open,
                    slots: b
                        .slots
                        .iter()
                        .map(|(slot, n)| t.tf("campaign.with_note", &[&slot_text(t, slot), n]))
                        .collect(),
                    assignees: b
                        .assignees
                        .into_iter()
                        .map(|(a, n)| {
                            let who = a.unwrap_or_else(|| t.t("campaign.unassigned").to_owned());
                            t.tf("campaign.with_note", &[&who, &n])
                        })
                        .collect(),
                })
                .collect();
            if is_active && can_manage {
                // A rule gone stale is told when adding; the dashboard still shows.
                newcomers = s
                    .registry
                    .preview_newcomers(&scope, id)
                    .await
                    .ok()
                    .map(|p| p.targets);
                for u in store.campaign_staff(&c.area_path).await? {
                    let role = if t.is_zh() {
                        u.role.name_zh()
                    } else {
                        u.role.name_en()
                    };
                    staff.push((u.id, format!("{} · {role}", u.display_name)));
                }
            }
        }
        let requests = store.campaign_requests(&scope, id, false).await?;
        let requests_open = requests.iter().filter(|r| r.open).count();
        Ok::<_, ServiceError>((
            desk,
            rule,
            preview,
            total,
            lines,
            revisit,
            overdue,
            buildings,
            newcomers,
            staff,
            requests_open,
            requests.len(),
        ))
    };
    let (
        desk,
        rule,
        preview,
        total,
        lines,
        revisit,
        overdue,
        buildings,
        newcomers,
        staff,
        requests_open,
        requests_total,
    ) = match built.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let link = c.public_token.as_ref().filter(|_| is_active).map(|token| {
        let url = format!("{}/c/{token}", site_base(headers));
        LinkView {
            qr: qr_svg(&url).unwrap_or_default(),
            url,
        }
    });
    let total = CoverageLine {
        name: t.t("campaign.total").to_owned(),
        c: total,
    };
    let coverage_text = t.tf(
        "campaign.coverage_line",
        &[
            &total.worked(),
            &total.c.total,
            &total.worked_pct(),
            &total.reached_pct(),
        ],
    );
    let preview_detail = preview.map_or_else(String::new, |p| {
        t.tf("campaign.preview_detail", &[&p.households, &p.contactless])
    });
    let out = DashboardPage {
        kind: kind_name(t, c.kind).to_owned(),
        state: state_name(t, c.state).to_owned(),
        state_code: c.state.as_str().to_owned(),
        period: period(t, &c),
        desk,
        rule,
        fields: describe_fields(t, &c),
        can_manage,
        can_export: !is_draft && caller.role.can(Permission::CampaignsManage),
        can_reveal: !is_draft && caller.role.can(Permission::RevealPersonal),
        is_draft,
        is_active,
        preview,
        total,
        coverage_text,
        preview_detail,
        lines,
        revisit,
        overdue,
        newcomers,
        link,
        requests_label: t.tf("campaign.requests_n", &[&requests_open, &requests_total]),
        buildings,
        staff,
        today: today.to_string(),
        notice,
        errors,
        c,
        shell: page.shell,
    };
    (status, render(&out)).into_response()
}

#[derive(Deserialize)]
struct ShowQuery {
    added: Option<u32>,
    slots: Option<u32>,
    assigned: Option<u32>,
}

async fn show(
    State(s): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let t = page.t();
    let notice = match (q.added, q.slots, q.assigned) {
        (Some(n), _, _) => Some(t.tf1("campaign.added_n", n)),
        (_, Some(n), _) => Some(t.tf1("campaign.slots_set_n", n)),
        (_, _, Some(n)) => Some(t.tf1("campaign.assigned_n", n)),
        _ => None,
    };
    view(
        &s,
        page,
        &headers,
        id,
        notice,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::qr_svg;

    #[test]
    fn the_qr_code_is_inline_svg_without_a_prolog_or_style() {
        let svg = qr_svg("http://127.0.0.1:8700/c/AbCdEfGhIjKlMnOpQrStUv").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("</svg>"));
        assert!(!svg.contains("<?xml"));
        // The CSP forbids inline styles.
        assert!(!svg.contains("style="));
    }
}
