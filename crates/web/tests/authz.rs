//! Security tests over HTTP, in process, on every backend (SQLite and PostgreSQL):
//!
//! - the authorization matrix, generated from `wangge_web::access::RULES`: every route × every
//!   role × {no credentials, in-scope object, out-of-scope object}, with out-of-scope answers
//!   compared to those for a missing id, and the route table compared with the OpenAPI document
//!   so that a route without a rule fails;
//! - sign-in answers, lockout, cookie flags and the login rate limit; session idle and absolute
//!   expiry and sign-out; CSRF for cookie sessions (not for bearer tokens); token expiry,
//!   revocation and disabled users; separation of duties; sensitive-tag invisibility; revealing
//!   personal numbers with a reason; and what the audit trail records (and never records);
//! - the resident's own entrustment page and recording entrustments (`entrustment_pages`).

#[path = "authz/entrustment_pages.rs"]
mod entrustment_pages;
#[path = "authz/world.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use wangge_domain::{Permission, Role, Sensitivity};
use wangge_store::Store;
use wangge_store::audit::{AuditEvent, AuditFilter};
use wangge_store::page::PageRequest;
use wangge_store::params;
use wangge_testkit::backends;
use wangge_web::access::{Access, PAGE_RULES, RULES, Rule};
use world::*;

/// An id no object has.
const MISSING: i64 = 987_654_321;

// ---- Helpers --------------------------------------------------------------------------------

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

async fn audit(store: &Store, action: Option<&str>) -> Vec<AuditEvent> {
    let filter = AuditFilter {
        action: action.map(str::to_owned),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: 500,
    };
    loop {
        let p = store.audit_events(&filter, &page).await.unwrap();
        out.extend(p.items);
        match p.next {
            Some(c) => page.after = Some(c),
            None => return out,
        }
    }
}

async fn latest_id(store: &Store, table: &str, user_id: i64) -> i64 {
    store
        .db()
        .query_opt(
            &format!("SELECT id FROM {table} WHERE user_id = ? ORDER BY id DESC"),
            &params![user_id],
            |r| r.int(0),
        )
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {table} row for user {user_id}"))
}

async fn set_time(store: &Store, table: &str, column: &str, id: i64, at: OffsetDateTime) {
    let n = store
        .db()
        .execute(
            &format!("UPDATE {table} SET {column} = ? WHERE id = ?"),
            &params![at, id],
        )
        .await
        .unwrap();
    assert_eq!(n, 1, "UPDATE {table}.{column} id {id}");
}

/// Whether `text` holds something shaped like a full ID number (17 digits and a digit or X).
fn has_unmasked_id(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if run >= 17 && (c.is_ascii_digit() || c == 'X') {
            return true;
        }
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
    }
    false
}

/// Full ID or phone numbers of the world's residents that appear in `text`.
fn leaked(w: &World, text: &str) -> Vec<String> {
    [&w.a, &w.b, &w.z]
        .iter()
        .flat_map(|g| [g.id_number.clone(), g.phone.clone()])
        .filter(|n| text.contains(n.as_str()))
        .collect()
}

// ---- 1. The route table and the OpenAPI document --------------------------------------------

#[tokio::test]
async fn every_route_has_a_rule_and_every_rule_a_route() {
    for ts in backends().await {
        let b = ts.name;
        let registry = wangge_services::Registry::new(ts.store.clone(), Default::default());
        let client = Client {
            app: wangge_web::app(registry),
            backend: b,
        };
        let r = client.get("/api/v1/openapi.json", Auth::None).await;
        let doc = r.ok(200).clone();
        let mut documented: BTreeSet<(String, String)> = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
                if item.get(method).is_some() {
                    documented.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        for extra in ["/healthz", "/readyz", "/api/v1/openapi.json"] {
            documented.insert(("GET".into(), extra.into()));
        }
        let mut ruled: BTreeSet<(String, String)> = BTreeSet::new();
        for rule in RULES {
            assert!(
                ruled.insert((rule.method.to_owned(), rule.path.to_owned())),
                "[{b}] two rules for {} {}",
                rule.method,
                rule.path
            );
        }
        let unruled: Vec<_> = documented.difference(&ruled).collect();
        let stale: Vec<_> = ruled.difference(&documented).collect();
        assert!(
            unruled.is_empty(),
            "[{b}] routes without an access rule (add them to RULES and the matrix): {unruled:?}"
        );
        assert!(
            stale.is_empty(),
            "[{b}] rules for routes that do not exist: {stale:?}"
        );
        // Page rules: no duplicates with the API's, and all distinct.
        for rule in PAGE_RULES {
            assert!(
                ruled.insert((rule.method.to_owned(), rule.path.to_owned())),
                "[{b}] two rules for {} {}",
                rule.method,
                rule.path
            );
        }
        // Every route a rule names answers (no 404/405 from the router itself).
        for rule in RULES.iter().chain(PAGE_RULES) {
            let uri = rule
                .path
                .replace("{id}", "1")
                .replace("{member_id}", "1")
                .replace("{name}", "app.css")
                .replace("{code}", "en")
                .replace("{token}", "x")
                .replace("{link}", "x")
                .replace("{seq}", "1");
            let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
            let r = client.send(method, &uri, None, Auth::None, &[]).await;
            assert!(
                r.status != 405 && !(r.status == 404 && r.text.is_empty()),
                "{}: the router does not know this route ({})",
                r.ctx,
                r.status
            );
        }
    }
}

// ---- 2. The authorization matrix ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    In,
    Out,
    Missing,
}

/// The resource a path is about, from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Area,
    Place,
    Household,
    Person,
    Tag,
    Assignment,
    Visit,
    WorkOrder,
    Assist,
    Attachment,
    Campaign,
    CampaignItem,
    CampaignRequest,
    /// A campaign's public page (`/c/{token}`, `/api/v1/public/campaigns/{token}`): no
    /// account, the link's token is the key.
    PublicCampaign,
    Entrustment,
    /// The key cabinet: the entrustments whose key is held, in scope.
    KeyCabinet,
    /// A key hand-over named by its receipt code.
    KeyReceipt,
    /// The resident's own entrustment page: the link and a one-time code are the key.
    ResidentView,
    /// Work-order categories: configuration, not area-scoped.
    Category,
    /// Work-order metrics: figures, not rows (scoping checked on its own below).
    Metrics,
    /// The caller's own notifications.
    Notification,
    Session,
    Audit,
    Probe,
}

fn kind_of(path: &str) -> Kind {
    let rest = path
        .strip_prefix("/api/v1/")
        .unwrap_or(path.trim_start_matches('/'));
    if rest.starts_with("work-orders/metrics") {
        return Kind::Metrics;
    }
    let first = rest.split('/').next().unwrap_or("");
    match first {
        "areas" => Kind::Area,
        "places" => Kind::Place,
        "households" => Kind::Household,
        "persons" => Kind::Person,
        "tags" => Kind::Tag,
        "tag-assignments" => Kind::Assignment,
        "visits" => Kind::Visit,
        "work-orders" => Kind::WorkOrder,
        "assists" => Kind::Assist,
        "attachments" => Kind::Attachment,
        "campaigns" => Kind::Campaign,
        "campaign-items" => Kind::CampaignItem,
        "campaign-requests" => Kind::CampaignRequest,
        "public" => Kind::PublicCampaign,
        "c" => Kind::PublicCampaign,
        "entrustments" => Kind::Entrustment,
        "key-cabinet" => Kind::KeyCabinet,
        "key-receipts" => Kind::KeyReceipt,
        "resident" | "r" => Kind::ResidentView,
        "work-order-categories" => Kind::Category,
        "notifications" => Kind::Notification,
        "session" => Kind::Session,
        "audit" => Kind::Audit,
        "healthz" | "readyz" | "openapi.json" => Kind::Probe,
        // Pages that are not about one registry object.
        "" | "assets" | "login" | "lang" | "logout" | "password" | "search" => Kind::Probe,
        _ => panic!("the matrix does not know what {path} is about: add its kind"),
    }
}

/// The ids a request targets.
#[derive(Debug, Clone)]
struct Objs {
    area: i64,
    community: i64,
    place: i64,
    household: i64,
    member: i64,
    person: i64,
    tag: i64,
    assignment: i64,
    visit: i64,
    work_order: i64,
    assist: i64,
    attachment: i64,
    /// A category (the same for every target, so the grid decides).
    category: i64,
    /// A notification: the role's own (in), another user's (out).
    notification: i64,
    campaign: i64,
    campaign_item: i64,
    campaign_request: i64,
    campaign_token: String,
    /// The grid worker (of grid A), whom doors can be given to.
    grid_worker: i64,
    entrustment: i64,
    receipt: String,
    entrustment_photo: i64,
    resident_link: String,
}

/// The objects a request targets for a role, or `None` when the role has no such object
/// (a tag class it sees, or one it does not).
fn objs(w: &World, role: Role, target: Target, kind: Kind) -> Option<(Objs, String)> {
    let (tag_in, tag_out) = w.tag_in_and_out(role);
    let (g, tag) = match target {
        Target::In => (&w.a, tag_in),
        Target::Out => (w.out_of_scope(role), tag_out),
        Target::Missing => {
            return Some((
                Objs {
                    area: MISSING,
                    community: MISSING,
                    place: MISSING,
                    household: MISSING,
                    member: MISSING,
                    person: MISSING,
                    tag: MISSING,
                    assignment: MISSING,
                    visit: MISSING,
                    work_order: MISSING,
                    assist: MISSING,
                    attachment: MISSING,
                    category: w.category,
                    notification: MISSING,
                    campaign: MISSING,
                    campaign_item: MISSING,
                    campaign_request: MISSING,
                    campaign_token: "missing".into(),
                    grid_worker: w.user(Role::GridWorker).user_id,
                    entrustment: MISSING,
                    receipt: "0000-0000".into(),
                    entrustment_photo: MISSING,
                    resident_link: "missing".into(),
                },
                w.a.community_code.clone(),
            ));
        }
    };
    if kind == Kind::Tag && tag.is_none() {
        return None;
    }
    Some((
        Objs {
            area: g.grid,
            community: g.community,
            place: g.dwelling,
            household: g.household,
            member: g.member,
            person: g.person,
            tag: tag.unwrap_or(MISSING),
            assignment: g.care_assignment,
            visit: g.visit,
            work_order: g.work_order,
            assist: g.assist,
            attachment: g.attachment,
            category: w.category,
            notification: match target {
                Target::In => w.notifications[&role],
                _ => w.someone_elses_notification(role),
            },
            campaign: g.campaign,
            campaign_item: g.campaign_item,
            campaign_request: g.campaign_request,
            campaign_token: g.campaign_token.clone(),
            grid_worker: w.user(Role::GridWorker).user_id,
            entrustment: g.entrustment,
            receipt: g.receipt.clone(),
            entrustment_photo: g.entrustment_photo,
            resident_link: g.resident_link.clone(),
        },
        g.community_code.clone(),
    ))
}

fn is_collection(path: &str) -> bool {
    !path.contains('{')
}

fn uri_for(rule: &Rule, o: &Objs) -> String {
    let kind = kind_of(rule.path);
    let id = match kind {
        Kind::Area => o.area,
        Kind::Place => o.place,
        Kind::Household => o.household,
        Kind::Person => o.person,
        Kind::Tag => o.tag,
        Kind::Assignment => o.assignment,
        Kind::Visit => o.visit,
        Kind::WorkOrder => o.work_order,
        Kind::Notification => o.notification,
        Kind::Assist => o.assist,
        Kind::Attachment => o.attachment,
        Kind::Campaign => o.campaign,
        Kind::CampaignItem => o.campaign_item,
        Kind::CampaignRequest => o.campaign_request,
        Kind::PublicCampaign => 0,
        Kind::Entrustment => o.entrustment,
        Kind::ResidentView => o.entrustment_photo,
        Kind::KeyCabinet | Kind::KeyReceipt => 0,
        Kind::Category | Kind::Metrics | Kind::Session | Kind::Audit | Kind::Probe => {
            assert!(
                is_collection(rule.path),
                "the matrix has no object for {}",
                rule.path
            );
            0
        }
    };
    let mut uri = rule
        .path
        .replace("{id}", &id.to_string())
        .replace("{member_id}", &o.member.to_string())
        .replace("{token}", &o.campaign_token)
        .replace("{code}", &o.receipt)
        .replace("{link}", &o.resident_link);
    assert!(
        !uri.contains('{'),
        "the matrix cannot fill {}: add the parameter",
        rule.path
    );
    if rule.method == "GET"
        && is_collection(rule.path)
        && !matches!(
            kind,
            Kind::Session
                | Kind::Probe
                | Kind::PublicCampaign
                | Kind::ResidentView
                | Kind::KeyReceipt
        )
    {
        uri.push_str("?limit=500");
    }
    uri
}

/// A plausible minimal body for each writing route; bodies are chosen to pass validation so that
/// the scope decides the answer, and to leave existing rows as they are (dates before the start
/// are refused after the record is found).
fn body_for(rule: &Rule, o: &Objs, community_code: &str, n: u32) -> Option<Value> {
    let b = match (rule.method, rule.path) {
        ("GET" | "DELETE", _) => return None,
        ("POST", "/api/v1/session") => {
            json!({"username": "nobody_matrix", "password": "Wrong-password-1"})
        }
        ("POST", "/api/v1/session/password") => {
            json!({"old_password": "Wrong-password-1", "new_password": "Another-pass-22"})
        }
        ("POST", "/api/v1/areas") => json!({
            "code": format!("{community_code}{:03}", 100 + n % 800),
            "name": "矩阵网格", "level": "grid", "parent_id": o.community
        }),
        ("PATCH", "/api/v1/areas/{id}") => json!({}),
        ("POST", "/api/v1/places") => {
            json!({"kind": "compound", "area_id": o.area, "label": format!("矩阵小区{n}")})
        }
        ("PATCH", "/api/v1/places/{id}") => json!({}),
        ("POST", "/api/v1/households") => json!({"area_id": o.area}),
        ("PATCH", "/api/v1/households/{id}") => json!({"ended_on": "1900-01-01"}),
        ("POST", "/api/v1/households/{id}/members") => json!({
            "person_id": o.person, "relation": "户主", "residence_type": "registered"
        }),
        ("PATCH", "/api/v1/households/{id}/members/{member_id}") => {
            json!({"ended_on": "1900-01-01"})
        }
        ("POST", "/api/v1/persons") => json!({"name": "矩阵人员", "area_id": o.area}),
        ("POST", "/api/v1/persons/search") => json!({"q": NAME}),
        ("PATCH", "/api/v1/persons/{id}") => json!({}),
        ("POST", "/api/v1/persons/{id}/reveal") => json!({"reason": "授权矩阵测试"}),
        ("POST", "/api/v1/tags") => json!({
            "code": format!("matrix_{n}"), "name_zh": "矩阵", "name_en": "Matrix",
            "sensitivity": "care", "subject": "person"
        }),
        ("PATCH", "/api/v1/tags/{id}") => json!({}),
        ("POST", "/api/v1/tag-assignments") => {
            json!({"tag": "empty_nest_elderly", "person_id": o.person})
        }
        ("PATCH", "/api/v1/tag-assignments/{id}") => json!({"ended_on": "1900-01-01"}),
        ("POST", "/api/v1/visits") => json!({"household_id": o.household, "outcome": "not_home"}),
        ("POST", "/api/v1/work-orders") => json!({
            "category_id": o.category, "title": "矩阵工单", "description": "授权矩阵测试",
            "area_id": o.area
        }),
        // Resuming a reported order is refused (409) once the order is found: rows stay as they are.
        ("POST", "/api/v1/work-orders/{id}/actions") => json!({"action": "resume"}),
        ("POST", "/api/v1/notifications/{id}/read") => return None,
        // Found in scope: a new request to the district manager, then 409 (already asked), or
        // 422 for the district manager (nobody else with the role); the scope decides first.
        ("POST", "/api/v1/work-orders/{id}/assists") => {
            json!({"team_role": "district_manager", "message": "授权矩阵测试"})
        }
        // Finishing a request nobody accepted is refused (409) once it is found.
        ("POST", "/api/v1/assists/{id}/actions") => json!({"action": "done", "note": "矩阵"}),
        ("POST", "/api/v1/visits/{id}/attachments" | "/api/v1/work-orders/{id}/attachments") => {
            world::photo_upload()
        }
        // A campaign in the target's community; a missing target names an area nobody has.
        ("POST", "/api/v1/campaigns" | "/api/v1/campaigns/preview") => {
            json!({"name": "矩阵行动", "kind": "sweep", "area": campaign_area(o, community_code),
                   "starts_on": "2026-11-20", "ends_on": "2026-11-30"})
        }
        // The campaigns are launched: replacing the plan is refused (409) once found.
        ("PUT", "/api/v1/campaigns/{id}") => {
            json!({"name": "矩阵行动", "kind": "sweep", "area": campaign_area(o, community_code),
                   "starts_on": "2026-11-20", "ends_on": "2026-11-30"})
        }
        ("POST", "/api/v1/campaigns/{id}/link") => json!({"open": true}),
        ("POST", "/api/v1/campaigns/{id}/export") => json!({"reason": "授权矩阵测试"}),
        ("POST", "/api/v1/campaigns/{id}/items/assign") => {
            json!({"item_ids": [o.campaign_item], "assignee_id": o.grid_worker})
        }
        ("POST", "/api/v1/campaigns/{id}/items/slots") => json!({
            "item_ids": [o.campaign_item], "starts_on": "2026-11-21", "ends_on": "2026-11-23"
        }),
        // Not home keeps the door open, so every role can record it again.
        ("POST", "/api/v1/campaign-items/{id}/outcome") => json!({"outcome": "not_home"}),
        ("POST", "/api/v1/campaign-requests/{id}/handle") => json!({}),
        ("POST", "/api/v1/public/campaigns/{token}/requests") => json!({
            "kind": "act_for_me", "name": "住户", "phone": "13700009999", "dwelling": "601"
        }),
        (
            "POST",
            "/api/v1/campaigns/{id}/launch"
            | "/api/v1/campaigns/{id}/close"
            | "/api/v1/campaigns/{id}/newcomers"
            | "/api/v1/campaign-items/{id}/reopen"
            | "/api/v1/campaign-requests/{id}/contact",
        ) => return None,
        // An entrustment on the target's household (the caller is the named staff member).
        ("POST", "/api/v1/entrustments") => json!({
            "household_id": o.household, "resident_name": "张伟", "phone": "13700001234",
            "purpose": "更换节能窗", "first_day": "2026-12-05", "last_day": "2026-12-07",
            "acts": ["hold_key"], "channel": "phone_call"
        }),
        // The entrustments are active: cancelling is refused (409) once found.
        ("POST", "/api/v1/entrustments/{id}/steps") => json!({"step": "cancel"}),
        // A correction annotates the first event and moves nothing.
        ("POST", "/api/v1/entrustments/{id}/key-events") => {
            json!({"kind": "correction", "corrects": 1, "note": "矩阵核对"})
        }
        ("POST", "/api/v1/entrustments/{id}/attachments") => world::photo_upload(),
        ("POST", "/api/v1/campaign-requests/{id}/entrust") => json!({
            "purpose": "更换节能窗", "first_day": "2026-12-05", "last_day": "2026-12-07",
            "acts": ["hold_key"], "channel": "phone_call"
        }),
        ("POST", "/api/v1/resident/entrustments/{link}/session") => json!({"code": "000000"}),
        ("POST", "/api/v1/resident/entrustments/{link}/steps") => json!({"step": "revoke"}),
        (
            "POST",
            "/api/v1/entrustments/{id}/resident-link"
            | "/api/v1/entrustments/{id}/resident-code"
            | "/api/v1/entrustments/{id}/contact",
        ) => return None,
        (m, p) => panic!("the matrix has no request body for {m} {p}: add one"),
    };
    Some(b)
}

/// The campaign area a body names: the target's community, or an area nobody has.
fn campaign_area(o: &Objs, community_code: &str) -> String {
    if o.community == MISSING {
        "140999999999".to_owned()
    } else {
        community_code.to_owned()
    }
}

/// Whether the route's answer depends on the caller's scope, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scoping {
    /// Not about area-scoped or class-scoped data.
    None,
    /// One object named in the path.
    Object,
    /// A list: out-of-scope rows must be absent.
    List,
    /// A create referring to a parent or subject in the body.
    CreateRef,
}

fn scoping(rule: &Rule) -> Scoping {
    let kind = kind_of(rule.path);
    if matches!(
        kind,
        Kind::Category
            | Kind::Metrics
            | Kind::Session
            | Kind::Audit
            | Kind::Probe
            | Kind::PublicCampaign
            | Kind::ResidentView
    ) {
        return Scoping::None;
    }
    if !is_collection(rule.path) {
        return Scoping::Object;
    }
    match (rule.method, kind) {
        ("GET", _) => Scoping::List,
        ("POST", Kind::Person) if rule.path.ends_with("/search") => Scoping::List,
        ("POST", Kind::Tag) => Scoping::None,
        ("POST", _) => Scoping::CreateRef,
        _ => Scoping::None,
    }
}

/// The ids a list must show (in scope) or hide (out of scope).
fn list_marker(w: &World, rule: &Rule, role: Role, target: Target) -> Vec<i64> {
    let g = match target {
        Target::In => &w.a,
        Target::Out => w.out_of_scope(role),
        Target::Missing => return vec![],
    };
    let (tag_in, tag_out) = w.tag_in_and_out(role);
    match kind_of(rule.path) {
        Kind::Area => vec![g.grid],
        Kind::Place => vec![g.compound, g.dwelling],
        Kind::Household => vec![g.household],
        Kind::Person => vec![g.person],
        Kind::Assignment => vec![g.care_assignment],
        Kind::WorkOrder => vec![g.work_order],
        Kind::Campaign => vec![g.campaign],
        Kind::Entrustment | Kind::KeyCabinet => vec![g.entrustment],
        Kind::Notification => match target {
            Target::In => vec![w.notifications[&role]],
            _ => vec![w.someone_elses_notification(role)],
        },
        // The list is the caller's own requests: the grid worker was asked in every grid, and
        // sees only the one whose order is in scope.
        Kind::Assist if role == Role::GridWorker => vec![g.assist],
        Kind::Tag => match target {
            Target::In => tag_in.into_iter().collect(),
            _ => tag_out.into_iter().collect(),
        },
        _ => vec![],
    }
}

fn headers_ok(r: &Resp) -> Option<String> {
    let get = |h: &str| {
        r.headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let csp = get("content-security-policy");
    let ok = get("x-content-type-options") == "nosniff"
        && get("x-frame-options") == "DENY"
        && !get("x-request-id").is_empty()
        && !get("referrer-policy").is_empty()
        && csp.contains("frame-ancestors 'none'")
        && !csp.contains("unsafe-inline");
    (!ok).then(|| format!("{}: security headers missing", r.ctx))
}

fn granted(status: u16) -> bool {
    !matches!(status, 401 | 403 | 404 | 405) && status < 500
}

#[tokio::test]
async fn authorization_matrix() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let mut failures: Vec<String> = Vec::new();
        let mut table: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut n: u32 = 0;
        let mut fail = |f: String| failures.push(f);

        for rule in RULES {
            let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
            let kind = kind_of(rule.path);
            let scoping = scoping(rule);
            let mut cells = Vec::new();

            // No credentials, and a made-up bearer token.
            let (o, cc) = objs(&w, Role::DistrictManager, Target::In, kind)
                .or_else(|| objs(&w, Role::Admin, Target::In, kind))
                .expect("some role has an in-scope object");
            n += 1;
            let body = body_for(rule, &o, &cc, n);
            let uri = uri_for(rule, &o);
            let anon = w
                .client
                .send(method.clone(), &uri, body.as_ref(), Auth::None, &[])
                .await;
            fail_opt(&mut fail, headers_ok(&anon));
            match rule.access {
                Access::Public => {
                    let expected = if rule.path == "/api/v1/session" {
                        // Signing in is public; wrong credentials are its own 401.
                        anon.status == 401 && anon.code() == "auth.invalid_credentials"
                    } else if kind == Kind::ResidentView {
                        // The resident's page: without the code's session it shows nothing (and
                        // the matrix has replaced the link by the time it gets here: 404).
                        matches!(anon.status.as_u16(), 401 | 404 | 422)
                    } else if rule.method == "POST" {
                        // A resident's pre-registration is accepted, not created.
                        anon.status == 202
                    } else {
                        anon.status == 200
                    };
                    if !expected {
                        fail(format!(
                            "{}: public route answered {} {}",
                            anon.ctx, anon.status, anon.text
                        ));
                    }
                }
                _ => {
                    if anon.status != 401 || anon.code() != "auth.required" {
                        fail(format!(
                            "{}: no credentials → expected 401 auth.required, got {} {}",
                            anon.ctx, anon.status, anon.text
                        ));
                    }
                    let forged = w
                        .client
                        .send(
                            method.clone(),
                            &uri,
                            body.as_ref(),
                            Auth::Bearer("wg_forged"),
                            &[],
                        )
                        .await;
                    if forged.status != 401 {
                        fail(format!(
                            "{}: forged token → expected 401, got {}",
                            forged.ctx, forged.status
                        ));
                    }
                }
            }
            cells.push(anon.status.as_u16().to_string());
            if kind == Kind::ResidentView {
                // Staff credentials open nothing here: only the resident's code does (tested on
                // its own below).
                cells.extend(Role::ALL.map(|_| "-".to_owned()));
                table.push((rule.method.to_owned(), rule.path.to_owned(), cells));
                continue;
            }

            for role in Role::ALL {
                let auth = w.bearer(role);
                let mut answers: BTreeMap<&str, (u16, String, Resp)> = BTreeMap::new();
                for (label, target) in [
                    ("in", Target::In),
                    ("out", Target::Out),
                    ("missing", Target::Missing),
                ] {
                    let Some((o, cc)) = objs(&w, role, target, kind) else {
                        continue;
                    };
                    if scoping == Scoping::None && target != Target::In {
                        continue;
                    }
                    n += 1;
                    let body = body_for(rule, &o, &cc, n);
                    let uri = uri_for(rule, &o);
                    let r = w
                        .client
                        .send(method.clone(), &uri, body.as_ref(), auth, &[])
                        .await;
                    fail_opt(&mut fail, headers_ok(&r));
                    // Routes whose point is a full number for the allowed.
                    let reveals = matches!(
                        rule.path,
                        "/api/v1/persons/{id}/reveal"
                            | "/api/v1/campaigns/{id}/export"
                            | "/api/v1/campaign-requests/{id}/contact"
                            | "/api/v1/entrustments/{id}/contact"
                    );
                    if !reveals {
                        let l = leaked(&w, &r.text);
                        if !l.is_empty() || has_unmasked_id(&r.text) {
                            fail(format!(
                                "{}: full personal numbers in the answer: {l:?}",
                                r.ctx
                            ));
                        }
                    }
                    answers.insert(label, (r.status.as_u16(), r.code(), r));
                }
                let allowed = match rule.access {
                    Access::Public | Access::SignedIn => true,
                    Access::Needs(p) => role.can(p),
                };
                let who = format!("{} as {}", rule.path, role.as_str());
                if !allowed {
                    for (label, (status, code, r)) in &answers {
                        if *status != 403 || code != "auth.forbidden" {
                            fail(format!(
                                "{} ({who}, {label}): role lacks the permission → expected 403 auth.forbidden, got {status} {}",
                                r.ctx, r.text
                            ));
                        }
                    }
                    cells.push("403".into());
                    continue;
                }
                // Allowed: in scope is granted.
                let cell_in = match answers.get("in") {
                    Some((status, _, r)) => {
                        let public_sign_in =
                            rule.access == Access::Public && rule.path == "/api/v1/session";
                        if !public_sign_in && !granted(*status) {
                            fail(format!(
                                "{} ({who}, in scope): expected access, got {status} {}",
                                r.ctx, r.text
                            ));
                        }
                        if scoping == Scoping::List {
                            let ids = r.item_ids();
                            for id in list_marker(&w, rule, role, Target::In) {
                                if !ids.contains(&id) {
                                    fail(format!(
                                        "{} ({who}): in-scope row {id} missing from the list",
                                        r.ctx
                                    ));
                                }
                            }
                        }
                        status.to_string()
                    }
                    None => "-".into(),
                };
                // Allowed: out of scope is indistinguishable from missing.
                let cell_out = match (scoping, answers.get("out"), answers.get("missing")) {
                    (Scoping::None, _, _) | (_, None, _) => "-".into(),
                    (Scoping::List, Some((status, _, r)), _) => {
                        if !granted(*status) {
                            fail(format!(
                                "{} ({who}, list): expected access, got {status}",
                                r.ctx
                            ));
                        }
                        let ids = r.item_ids();
                        let leaked: Vec<i64> = list_marker(&w, rule, role, Target::Out)
                            .into_iter()
                            .filter(|id| ids.contains(id))
                            .collect();
                        if !leaked.is_empty() {
                            fail(format!(
                                "{} ({who}): out-of-scope rows {leaked:?} in the list",
                                r.ctx
                            ));
                        }
                        if leaked.is_empty() {
                            "hid".into()
                        } else {
                            "LEAK".into()
                        }
                    }
                    (_, Some((status, code, r)), Some((mstatus, mcode, _))) => {
                        if status != mstatus || code != mcode {
                            fail(format!(
                                "{} ({who}): out of scope answered {status} {code}, a missing id {mstatus} {mcode}: distinguishable",
                                r.ctx
                            ));
                        }
                        let want_ok = match scoping {
                            Scoping::Object => *status == 404 && code == "not_found",
                            _ => matches!(*status, 404 | 422),
                        };
                        if !want_ok {
                            fail(format!(
                                "{} ({who}, out of scope): expected 404 (or 422 naming the reference), got {status} {}",
                                r.ctx, r.text
                            ));
                        }
                        status.to_string()
                    }
                    (_, Some((status, _, _)), None) => status.to_string(),
                };
                cells.push(format!("{cell_in}/{cell_out}"));
            }
            table.push((rule.method.to_owned(), rule.path.to_owned(), cells));
        }

        print_matrix(b, &table);
        assert!(
            failures.is_empty(),
            "[{b}] {} authorization matrix failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

fn fail_opt(fail: &mut impl FnMut(String), f: Option<String>) {
    if let Some(f) = f {
        fail(f);
    }
}

fn print_matrix(backend: &str, table: &[(String, String, Vec<String>)]) {
    let short = |r: Role| match r {
        Role::GridWorker => "grid",
        Role::CommunityStaff => "comm",
        Role::SubdistrictManager => "subd",
        Role::DistrictManager => "dist",
        Role::Admin => "admin",
        Role::SecurityOfficer => "secu",
        Role::Auditor => "audit",
    };
    let mut out = format!(
        "\nauthorization matrix [{backend}] — cells: no-credentials | per role in-scope/out-of-scope (hid = out-of-scope rows absent, - = not applicable)\n{:<6} {:<46} {:>5}",
        "", "route", "anon"
    );
    for r in Role::ALL {
        out.push_str(&format!(" {:>9}", short(r)));
    }
    out.push('\n');
    for (m, p, cells) in table {
        out.push_str(&format!("{m:<6} {p:<46}"));
        for (i, c) in cells.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!(" {c:>5}"));
            } else {
                out.push_str(&format!(" {c:>9}"));
            }
        }
        out.push('\n');
    }
    println!("{out}");
}

// ---- 3. Signing in --------------------------------------------------------------------------

#[tokio::test]
async fn sign_in_answers_alike_locks_out_and_sets_a_safe_cookie() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let gw = w.user(Role::GridWorker);

        // Unknown user, wrong password, disabled user: one status, one body.
        let disabled = w.user(Role::SecurityOfficer);
        w.identity
            .disable_user(
                "test",
                &wangge_domain::Username::parse(&disabled.username).unwrap(),
            )
            .await
            .unwrap();
        let answers = [
            ("no_such_user", PASSWORD),
            (gw.username.as_str(), "Wrong-password-1"),
            (disabled.username.as_str(), PASSWORD),
        ];
        let mut first: Option<Resp> = None;
        for (u, p) in answers {
            let r = c
                .post(
                    "/api/v1/session",
                    json!({"username": u, "password": p}),
                    Auth::None,
                )
                .await;
            r.problem(401, "auth.invalid_credentials");
            assert!(r.headers.get(header::SET_COOKIE).is_none(), "{}", r.ctx);
            if let Some(f) = &first {
                assert_eq!(
                    f.body, r.body,
                    "[{b}] {u}: a different answer reveals the account"
                );
            } else {
                first = Some(r);
            }
        }

        // Lockout over HTTP: the 5th failure locks, the right password then still fails.
        let victim = w.user(Role::CommunityStaff);
        for _ in 1..=4 {
            c.post(
                "/api/v1/session",
                json!({"username": victim.username, "password": "Wrong-password-1"}),
                Auth::None,
            )
            .await
            .problem(401, "auth.invalid_credentials");
        }
        c.post(
            "/api/v1/session",
            json!({"username": victim.username, "password": "Wrong-password-1"}),
            Auth::None,
        )
        .await
        .problem(403, "auth.locked");
        c.post(
            "/api/v1/session",
            json!({"username": victim.username, "password": PASSWORD}),
            Auth::None,
        )
        .await
        .problem(403, "auth.locked");
        set_time(
            &w.store,
            "users",
            "locked_until",
            victim.user_id,
            now() - time::Duration::seconds(1),
        )
        .await;
        c.sign_in(&victim.username, PASSWORD).await;

        // The cookie: HttpOnly, SameSite=Lax, Path=/; Secure behind TLS.
        for (proto, secure) in [(None, false), (Some("https"), true)] {
            let extra: Vec<(&str, &str)> = proto
                .map(|p| ("x-forwarded-proto", p))
                .into_iter()
                .collect();
            let body = json!({"username": gw.username, "password": PASSWORD});
            let r = c
                .send(
                    Method::POST,
                    "/api/v1/session",
                    Some(&body),
                    Auth::None,
                    &extra,
                )
                .await;
            r.ok(200);
            let cookie = r
                .headers
                .get(header::SET_COOKIE)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let attrs: Vec<String> = cookie
                .split(';')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect();
            assert!(attrs.contains(&"httponly".to_owned()), "[{b}] {cookie}");
            assert!(attrs.contains(&"samesite=lax".to_owned()), "[{b}] {cookie}");
            assert!(attrs.contains(&"path=/".to_owned()), "[{b}] {cookie}");
            assert_eq!(
                attrs.contains(&"secure".to_owned()),
                secure,
                "[{b}] {cookie}"
            );
            let token = attrs[0].strip_prefix("wangge_session=").unwrap();
            assert!(
                !r.text.contains(token),
                "[{b}] the session secret is in the body"
            );
            assert_eq!(r.body["username"], gw.username.as_str(), "[{b}]");
        }
    }
}

/// Sends a sign-in from a client address (as the server sees it behind `ConnectInfo`).
async fn sign_in_from(w: &World, ip: &str, username: &str) -> u16 {
    let body = json!({"username": username, "password": "Wrong-password-1"}).to_string();
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    let resp = w.client.app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    status
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_client_address() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let mut statuses = Vec::new();
        for _ in 0..11 {
            statuses.push(sign_in_from(&w, "192.0.2.10", "nobody_here").await);
        }
        assert!(
            statuses[..10].iter().all(|s| *s == 401),
            "[{b}] {statuses:?}"
        );
        assert_eq!(
            statuses[10], 429,
            "[{b}] 11th attempt in a minute: {statuses:?}"
        );
        assert_eq!(
            sign_in_from(&w, "192.0.2.11", "nobody_here").await,
            401,
            "[{b}] another address is not limited"
        );
        let failed = audit(&w.store, Some("auth.login")).await;
        assert!(
            failed
                .iter()
                .any(|e| e.event.client_addr.as_deref() == Some("192.0.2.10")),
            "[{b}] failed sign-ins record the client address"
        );
    }
}

// ---- 4. Sessions ----------------------------------------------------------------------------

#[tokio::test]
async fn cookie_sessions_expire_when_idle_or_old_and_sign_out_revokes() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let gw = w.user(Role::GridWorker);

        // Live session.
        let (token, csrf) = c.sign_in(&gw.username, PASSWORD).await;
        let me = c
            .get(
                "/api/v1/session",
                Auth::Cookie {
                    token: &token,
                    csrf: None,
                },
            )
            .await;
        assert_eq!(me.ok(200)["username"], gw.username.as_str(), "[{b}]");
        assert_eq!(me.body["csrf_token"], csrf.as_str(), "[{b}]");
        c.get(
            "/api/v1/persons",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .ok(200);

        // Idle for 31 minutes.
        let sid = latest_id(&w.store, "sessions", gw.user_id).await;
        set_time(
            &w.store,
            "sessions",
            "last_seen_at",
            sid,
            now() - time::Duration::minutes(31),
        )
        .await;
        c.get(
            "/api/v1/persons",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .problem(401, "auth.required");

        // Past the absolute limit while in use.
        let (token, _) = c.sign_in(&gw.username, PASSWORD).await;
        let sid = latest_id(&w.store, "sessions", gw.user_id).await;
        c.get(
            "/api/v1/persons",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .ok(200);
        set_time(
            &w.store,
            "sessions",
            "expires_at",
            sid,
            now() - time::Duration::seconds(1),
        )
        .await;
        c.get(
            "/api/v1/persons",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .problem(401, "auth.required");

        // Sign-out revokes the session and clears the cookie.
        let (token, csrf) = c.sign_in(&gw.username, PASSWORD).await;
        let r = c
            .send(
                Method::DELETE,
                "/api/v1/session",
                None,
                Auth::Cookie {
                    token: &token,
                    csrf: Some(&csrf),
                },
                &[],
            )
            .await;
        r.ok(204);
        let cleared = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cleared.contains("Max-Age=0"), "[{b}] {cleared}");
        c.get(
            "/api/v1/session",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .problem(401, "auth.required");
        // A password change through the API ends the session too.
        let (token, csrf) = c.sign_in(&gw.username, PASSWORD).await;
        let auth = Auth::Cookie {
            token: &token,
            csrf: Some(&csrf),
        };
        c.post(
            "/api/v1/session/password",
            json!({"old_password": "Wrong-password-1", "new_password": "Changed-pass-22"}),
            auth,
        )
        .await
        .problem(422, "password.wrong");
        c.post(
            "/api/v1/session/password",
            json!({"old_password": PASSWORD, "new_password": "short"}),
            auth,
        )
        .await
        .ok(422);
        c.post(
            "/api/v1/session/password",
            json!({"old_password": PASSWORD, "new_password": "Changed-pass-22"}),
            auth,
        )
        .await
        .ok(204);
        c.get(
            "/api/v1/session",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .problem(401, "auth.required");
        c.sign_in(&gw.username, "Changed-pass-22").await;
        assert!(
            !audit(&w.store, Some("user.password_change"))
                .await
                .is_empty(),
            "[{b}] password change audited"
        );
        let outs = audit(&w.store, Some("auth.logout")).await;
        assert!(
            outs.iter().any(|e| e.event.actor == gw.username),
            "[{b}] sign-out audited"
        );
    }
}

// ---- 5. CSRF --------------------------------------------------------------------------------

#[tokio::test]
async fn csrf_token_is_required_for_cookie_sessions_and_not_for_bearer_tokens() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let gw = w.user(Role::GridWorker);
        let (token, csrf) = c.sign_in(&gw.username, PASSWORD).await;
        let (_, other_csrf) = c
            .sign_in(&w.user(Role::CommunityStaff).username, PASSWORD)
            .await;
        let person = json!({"name": "跨站测试", "area_id": w.a.grid});

        for (label, sent) in [
            ("no header", None),
            ("wrong token", Some("not-the-token")),
            ("another session's token", Some(other_csrf.as_str())),
            ("empty", Some("")),
        ] {
            let auth = Auth::Cookie {
                token: &token,
                csrf: sent,
            };
            let r = c.post("/api/v1/persons", person.clone(), auth).await;
            assert_eq!(r.status, 403, "[{b}] POST with {label}: {}", r.text);
            assert_eq!(r.code(), "auth.csrf", "[{b}] POST with {label}");
            let r = c
                .send(
                    Method::PATCH,
                    &format!("/api/v1/persons/{}", w.a.person),
                    Some(&json!({"name": "改名"})),
                    auth,
                    &[],
                )
                .await;
            r.problem(403, "auth.csrf");
            let r = c
                .send(Method::DELETE, "/api/v1/session", None, auth, &[])
                .await;
            r.problem(403, "auth.csrf");
            let r = c
                .post(
                    "/api/v1/session/password",
                    json!({"old_password": PASSWORD, "new_password": "Changed-pass-22"}),
                    auth,
                )
                .await;
            r.problem(403, "auth.csrf");
        }
        // Nothing happened.
        let found = c
            .post(
                "/api/v1/persons/search",
                json!({"q": "跨站测试"}),
                w.bearer(Role::GridWorker),
            )
            .await;
        assert!(
            found.items().is_empty(),
            "[{b}] a refused request wrote: {}",
            found.text
        );
        let p = c
            .get(
                &format!("/api/v1/persons/{}", w.a.person),
                w.bearer(Role::GridWorker),
            )
            .await;
        assert_eq!(p.ok(200)["name"], NAME, "[{b}]");
        // Still signed in.
        c.get(
            "/api/v1/session",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .ok(200);

        // Reads need no token; the right token lets writes through.
        let ok = Auth::Cookie {
            token: &token,
            csrf: Some(&csrf),
        };
        c.get(
            "/api/v1/households",
            Auth::Cookie {
                token: &token,
                csrf: None,
            },
        )
        .await
        .ok(200);
        c.post("/api/v1/persons", person.clone(), ok).await.ok(201);

        // Bearer tokens carry no ambient authority: no CSRF token needed.
        c.post(
            "/api/v1/persons",
            person.clone(),
            w.bearer(Role::GridWorker),
        )
        .await
        .ok(201);

        // A bad bearer token is refused even next to a good cookie.
        let r = c
            .send(
                Method::GET,
                "/api/v1/persons",
                None,
                Auth::Cookie {
                    token: &token,
                    csrf: None,
                },
                &[("authorization", "Bearer wg_forged")],
            )
            .await;
        r.problem(401, "auth.required");
    }
}

// ---- 6. API tokens --------------------------------------------------------------------------

#[tokio::test]
async fn expired_revoked_and_disabled_users_tokens_get_401() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let dm = w.user(Role::DistrictManager);
        let name = wangge_domain::Username::parse(&dm.username).unwrap();
        let hour = std::time::Duration::from_secs(3600);
        c.get("/api/v1/persons", w.bearer(Role::DistrictManager))
            .await
            .ok(200);
        assert!(
            audit(&w.store, Some("auth.token_use"))
                .await
                .iter()
                .any(|e| e.event.actor_id == Some(dm.user_id)),
            "[{b}] token use audited"
        );

        // Expired.
        let tid = latest_id(&w.store, "api_tokens", dm.user_id).await;
        set_time(
            &w.store,
            "api_tokens",
            "expires_at",
            tid,
            now() - time::Duration::seconds(1),
        )
        .await;
        c.get("/api/v1/persons", w.bearer(Role::DistrictManager))
            .await
            .problem(401, "auth.required");

        // Revoked.
        let (tok, _) = w
            .identity
            .create_token("test", &name, "t2", hour)
            .await
            .unwrap();
        c.get("/api/v1/persons", Auth::Bearer(&tok)).await.ok(200);
        let tid = latest_id(&w.store, "api_tokens", dm.user_id).await;
        w.store.revoke_api_token(tid).await.unwrap();
        c.get("/api/v1/persons", Auth::Bearer(&tok))
            .await
            .problem(401, "auth.required");

        // Disabled user: token and session both end.
        let (tok, _) = w
            .identity
            .create_token("test", &name, "t3", hour)
            .await
            .unwrap();
        let (session, _) = c.sign_in(&dm.username, PASSWORD).await;
        c.get("/api/v1/persons", Auth::Bearer(&tok)).await.ok(200);
        w.identity.disable_user("test", &name).await.unwrap();
        c.get("/api/v1/persons", Auth::Bearer(&tok))
            .await
            .problem(401, "auth.required");
        c.get(
            "/api/v1/persons",
            Auth::Cookie {
                token: &session,
                csrf: None,
            },
        )
        .await
        .problem(401, "auth.required");
        c.post(
            "/api/v1/session",
            json!({"username": dm.username, "password": PASSWORD}),
            Auth::None,
        )
        .await
        .problem(401, "auth.invalid_credentials");
    }
}

// ---- 7. Separation of duties ----------------------------------------------------------------

#[tokio::test]
async fn duties_are_separated() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let o = objs(&w, Role::DistrictManager, Target::In, Kind::Area)
            .unwrap()
            .0;

        let resident = |p: Permission| {
            matches!(
                p,
                Permission::RegistryRead | Permission::RegistryWrite | Permission::RevealPersonal
            )
        };
        let mut n = 0;
        for rule in RULES {
            let Access::Needs(p) = rule.access else {
                continue;
            };
            let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
            n += 1;
            let body = body_for(rule, &o, &w.a.community_code, 900 + n);
            let uri = uri_for(rule, &o);
            for (role, refused) in [
                // The administrator: no resident data, no audit trail, no security settings.
                (
                    Role::Admin,
                    resident(p) || matches!(p, Permission::AuditRead | Permission::SecurityManage),
                ),
                // The security officer: no resident data, no audit trail.
                (
                    Role::SecurityOfficer,
                    resident(p) || p == Permission::AuditRead,
                ),
                // The auditor reads the trail and nothing else, and changes nothing.
                (Role::Auditor, p != Permission::AuditRead),
            ] {
                let r = c
                    .send(method.clone(), &uri, body.as_ref(), w.bearer(role), &[])
                    .await;
                if refused {
                    assert_eq!(r.status, 403, "{} as {role}: {}", r.ctx, r.text);
                    assert_eq!(r.code(), "auth.forbidden", "{} as {role}", r.ctx);
                }
            }
        }
        // And explicitly, the cases the issue names.
        c.get("/api/v1/audit", w.bearer(Role::Admin))
            .await
            .problem(403, "auth.forbidden");
        c.get(
            &format!("/api/v1/persons/{}", w.a.person),
            w.bearer(Role::Admin),
        )
        .await
        .problem(403, "auth.forbidden");
        c.get("/api/v1/households", w.bearer(Role::Auditor))
            .await
            .problem(403, "auth.forbidden");
        let trail = c
            .get(
                "/api/v1/audit?action=auth.token_use&limit=500",
                w.bearer(Role::Auditor),
            )
            .await;
        let items = trail.ok(200)["items"].as_array().unwrap().clone();
        assert!(!items.is_empty(), "[{b}] token use shows in the trail");
        assert!(
            items.iter().all(|e| e["action"] == "auth.token_use"),
            "[{b}] action filter"
        );
        // Refusals are audited.
        let denied = audit(&w.store, None).await;
        assert!(
            denied
                .iter()
                .any(|e| e.event.actor == w.user(Role::Admin).username
                    && e.event.outcome == "denied"
                    && e.event.action == "GET /api/v1/audit"),
            "[{b}] the admin's refused audit read is itself audited"
        );
    }
}

// ---- 8. Sensitive tags ----------------------------------------------------------------------

#[tokio::test]
async fn sensitive_tags_are_invisible_without_their_class() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let a = &w.a;
        let roles: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.can(Permission::RegistryRead))
            .collect();
        assert!(roles.contains(&Role::GridWorker) && roles.contains(&Role::DistrictManager));
        // The table this test checks against: grid workers see health tags but not united-front
        // ones; district managers see both.
        assert!(
            !Role::GridWorker
                .tag_classes()
                .contains(Sensitivity::UnitedFront)
        );
        assert!(
            Role::DistrictManager
                .tag_classes()
                .contains(Sensitivity::UnitedFront)
        );

        for role in roles {
            let auth = w.bearer(role);
            let classes = role.tag_classes();
            let ctx = format!("[{b}] {role}");
            let tags = c.get("/api/v1/tags", auth).await;
            let tag_ids = tags.item_ids();
            let assignments = c
                .get("/api/v1/tag-assignments?limit=500", auth)
                .await
                .item_ids();
            let on_person = c
                .get(
                    &format!("/api/v1/tag-assignments?person_id={}&limit=500", a.person),
                    auth,
                )
                .await
                .item_ids();
            let detail = c.get(&format!("/api/v1/persons/{}", a.person), auth).await;
            let detail_tags: Vec<String> = detail.ok(200)["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["tag"].as_str().unwrap().to_owned())
                .collect();
            let mut counts: Vec<BTreeSet<i64>> = Vec::new();
            for area in [a.grid, a.community, a.city] {
                let r = c
                    .get(&format!("/api/v1/areas/{area}/tag-counts"), auth)
                    .await;
                counts.push(
                    r.ok(200)
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x["tag_id"].as_i64().unwrap())
                        .collect(),
                );
            }
            let search = c
                .post("/api/v1/persons/search", json!({"q": NAME}), auth)
                .await;
            search.ok(200);
            let household = c
                .get(&format!("/api/v1/households/{}", a.household), auth)
                .await;
            household.ok(200);
            let unknown_list = c.get("/api/v1/persons?tag=no_such_tag", auth).await;
            unknown_list.ok(422);
            let unknown_assign = c
                .post(
                    "/api/v1/tag-assignments",
                    json!({"tag": "no_such_tag", "person_id": a.person}),
                    auth,
                )
                .await;
            unknown_assign.ok(422);

            for (code, class, assignment) in [
                (UF_TAG, Sensitivity::UnitedFront, a.uf_assignment),
                (HEALTH_TAG, Sensitivity::Health, a.health_assignment),
                (CARE_TAG, Sensitivity::Care, a.care_assignment),
            ] {
                let visible = classes.contains(class);
                let tag_id = w.tag_id(code);
                let ctx = format!("{ctx} {code} (visible: {visible})");
                assert_eq!(tag_ids.contains(&tag_id), visible, "{ctx}: /tags");
                assert_eq!(tags.text.contains(code), visible, "{ctx}: /tags text");
                let one = c.get(&format!("/api/v1/tags/{tag_id}"), auth).await;
                if visible {
                    one.ok(200);
                } else {
                    one.problem(404, "not_found");
                }
                assert_eq!(
                    assignments.contains(&assignment),
                    visible,
                    "{ctx}: /tag-assignments"
                );
                assert_eq!(
                    on_person.contains(&assignment),
                    visible,
                    "{ctx}: ?person_id"
                );
                let one = c
                    .get(&format!("/api/v1/tag-assignments/{assignment}"), auth)
                    .await;
                if visible {
                    one.ok(200);
                } else {
                    one.problem(404, "not_found");
                }
                let by_tag = c
                    .get(
                        &format!("/api/v1/tag-assignments?tag={code}&limit=500"),
                        auth,
                    )
                    .await;
                let listed = c
                    .get(&format!("/api/v1/persons?tag={code}&limit=500"), auth)
                    .await;
                let assign = c
                    .post(
                        "/api/v1/tag-assignments",
                        json!({"tag": code, "person_id": a.person}),
                        auth,
                    )
                    .await;
                if visible {
                    assert!(by_tag.item_ids().contains(&assignment), "{ctx}: ?tag=");
                    assert!(
                        listed.item_ids().contains(&a.person),
                        "{ctx}: /persons?tag="
                    );
                    assign.problem(409, "tag_assignment.duplicate");
                } else {
                    // An invisible tag is an unknown tag, answer for answer.
                    assert_eq!(by_tag.status, 422, "{ctx}: ?tag= {}", by_tag.text);
                    assert_eq!(listed.status, 422, "{ctx}: /persons?tag= {}", listed.text);
                    assert_eq!(
                        listed.body, unknown_list.body,
                        "{ctx}: /persons?tag= differs from an unknown tag"
                    );
                    assert_eq!(assign.status, 422, "{ctx}: assigning {}", assign.text);
                    assert_eq!(
                        assign.body, unknown_assign.body,
                        "{ctx}: assigning differs from an unknown tag"
                    );
                }
                for (i, set) in counts.iter().enumerate() {
                    assert_eq!(set.contains(&tag_id), visible, "{ctx}: tag-counts #{i}");
                }
                assert_eq!(
                    detail_tags.iter().any(|t| t == code),
                    visible,
                    "{ctx}: person detail {detail_tags:?}"
                );
                if !visible {
                    for (what, text) in [
                        ("search", &search.text),
                        ("household detail", &household.text),
                        ("person detail", &detail.text),
                    ] {
                        assert!(!text.contains(code), "{ctx}: {what} names the tag");
                        assert!(
                            !text.contains(&format!("\"tag_id\":{tag_id},")),
                            "{ctx}: {what} carries the tag id"
                        );
                    }
                }
            }
            assert!(
                search.item_ids().contains(&a.person),
                "{ctx}: search finds the person"
            );
        }
    }
}

// ---- 9. Revealing personal numbers ----------------------------------------------------------

#[tokio::test]
async fn reveal_needs_a_reason_shows_the_numbers_and_is_audited() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let staff = w.user(Role::CommunityStaff);
        let auth = w.bearer(Role::CommunityStaff);
        let uri = format!("/api/v1/persons/{}/reveal", w.a.person);

        c.post(&uri, json!({}), auth).await.ok(422);
        for reason in ["", "   ", "x"] {
            let r = c.post(&uri, json!({"reason": reason}), auth).await;
            r.problem(422, "reason.length");
        }
        // Masked everywhere else.
        let p = c
            .get(&format!("/api/v1/persons/{}", w.a.person), auth)
            .await;
        let masked = p.ok(200)["id_number"].as_str().unwrap().to_owned();
        assert_ne!(masked, w.a.id_number, "[{b}]");
        assert!(masked.contains('*'), "[{b}] {masked}");
        assert!(leaked(&w, &p.text).is_empty(), "[{b}]");

        let r = c
            .post(&uri, json!({"reason": "核实低保申请材料"}), auth)
            .await;
        let shown = r.ok(200);
        assert_eq!(shown["id_number"], w.a.id_number.as_str(), "[{b}]");
        assert_eq!(shown["phone"], w.a.phone.as_str(), "[{b}]");

        let reveals = audit(&w.store, Some("person.reveal")).await;
        let row = reveals
            .iter()
            .find(|e| e.event.object_id == Some(w.a.person) && e.event.outcome == "200")
            .unwrap_or_else(|| panic!("[{b}] no audit row for the reveal: {reveals:#?}"));
        assert_eq!(row.event.actor, staff.username, "[{b}]");
        assert_eq!(row.event.actor_id, Some(staff.user_id), "[{b}]");
        assert_eq!(row.event.role.as_deref(), Some("community_staff"), "[{b}]");
        assert_eq!(row.event.object_type.as_deref(), Some("person"), "[{b}]");
        assert_eq!(
            row.event.reason.as_deref(),
            Some("核实低保申请材料"),
            "[{b}]"
        );
        assert!(
            row.event.area_path.is_some(),
            "[{b}] area path for the resident's view later"
        );
        assert!(row.event.request_id.is_some(), "[{b}] request id");
        assert!(
            !reveals
                .iter()
                .any(|e| e.event.outcome == "200" && e.event.reason.is_none()),
            "[{b}] a successful reveal without a reason"
        );
        // The auditor sees it through the API.
        let via_api = c
            .get(
                &format!(
                    "/api/v1/audit?action=person.reveal&object_id={}",
                    w.a.person
                ),
                w.bearer(Role::Auditor),
            )
            .await;
        assert!(
            via_api
                .items()
                .iter()
                .any(|e| e["reason"] == "核实低保申请材料"),
            "[{b}] {}",
            via_api.text
        );

        // Not for grid workers; not outside one's area.
        c.post(&uri, json!({"reason": "好奇"}), w.bearer(Role::GridWorker))
            .await
            .problem(403, "auth.forbidden");
        let out = c
            .post(
                &format!("/api/v1/persons/{}/reveal", w.b.person),
                json!({"reason": "好奇"}),
                auth,
            )
            .await;
        out.problem(404, "not_found");
        assert!(leaked(&w, &out.text).is_empty(), "[{b}]");

        // The whole trail: no full ID or phone number anywhere, and the chain holds.
        for e in audit(&w.store, None).await {
            let row = format!("{:?}", e.event);
            assert!(
                leaked(&w, &row).is_empty() && !has_unmasked_id(&row),
                "[{b}] audit row {}: {row}",
                e.id
            );
        }
        let check = w.store.verify_audit().await.unwrap();
        assert_eq!(check.first_broken, None, "[{b}]");
        w.store
            .db()
            .execute(
                "UPDATE audit_events SET actor = 'mallory' WHERE id = 3",
                &[],
            )
            .await
            .unwrap();
        assert!(
            matches!(
                w.store.verify_audit().await.unwrap().first_broken,
                Some((3, _))
            ),
            "[{b}] edited row 3 detected"
        );
    }
}

#[tokio::test]
async fn reveal_reason_cannot_carry_a_full_number_into_the_audit_trail() {
    let mut problems = Vec::new();
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let auth = w.bearer(Role::CommunityStaff);
        let uri = format!("/api/v1/persons/{}/reveal", w.a.person);
        // Refusing such a reason (422) or keeping it without the number are both fine.
        for reason in [
            format!("核对身份证 {}", w.a.id_number),
            format!("回拨电话{}", w.a.phone),
        ] {
            let r = c.post(&uri, json!({"reason": reason}), auth).await;
            assert!(
                r.status == 422 || r.status == 200,
                "[{b}] {}: {}",
                r.ctx,
                r.text
            );
        }
        for e in audit(&w.store, None).await {
            let row = format!("{:?}", e.event);
            if !leaked(&w, &row).is_empty() {
                problems.push(format!(
                    "[{b}] audit row {} holds a full personal number typed into the reason: {:?}",
                    e.id, e.event.reason
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- 10. Detail reads leave a trace ---------------------------------------------------------

#[tokio::test]
async fn detail_reads_of_residents_are_audited() {
    let mut problems = Vec::new();
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let gw = w.user(Role::GridWorker);
        let auth = w.bearer(Role::GridWorker);
        c.get(&format!("/api/v1/households/{}", w.a.household), auth)
            .await
            .ok(200);
        c.get(&format!("/api/v1/persons/{}", w.a.person), auth)
            .await
            .ok(200);
        let trail = audit(&w.store, None).await;
        let read = |object_type: &str, id: i64| {
            trail.iter().any(|e| {
                e.event.actor_id == Some(gw.user_id)
                    && e.event.object_type.as_deref() == Some(object_type)
                    && e.event.object_id == Some(id)
                    && e.event.area_path.is_some()
            })
        };
        if !read("household", w.a.household) {
            problems.push(format!(
                "[{b}] GET /api/v1/households/{{id}} leaves no audit row"
            ));
        }
        if !read("person", w.a.person) {
            problems.push(format!(
                "[{b}] GET /api/v1/persons/{{id}} (a resident's record, with sensitive tags) leaves no audit row"
            ));
        }
        // The same records as pages, read by community staff.
        let cs = w.user(Role::CommunityStaff);
        let auth = w.bearer(Role::CommunityStaff);
        c.get(&format!("/households/{}", w.a.household), auth)
            .await
            .ok(200);
        c.get(&format!("/persons/{}", w.a.person), auth)
            .await
            .ok(200);
        let trail = audit(&w.store, None).await;
        for (object_type, id, page) in [
            ("household", w.a.household, "/households/{id}"),
            ("person", w.a.person, "/persons/{id}"),
        ] {
            let found = trail.iter().any(|e| {
                e.event.actor_id == Some(cs.user_id)
                    && e.event.object_type.as_deref() == Some(object_type)
                    && e.event.object_id == Some(id)
            });
            if !found {
                problems.push(format!("[{b}] page GET {page} leaves no audit row"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- 11. References and filters stay inside the scope ---------------------------------------

#[tokio::test]
async fn references_and_filters_never_reach_outside_the_scope() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let auth = w.bearer(Role::GridWorker);
        let (a, out) = (&w.a, &w.b);

        // A write naming an out-of-scope record answers like one naming a missing record, and
        // changes nothing.
        let pairs: Vec<(&str, Value, Value)> = vec![
            (
                "/api/v1/households/{A}/members",
                json!({"person_id": out.person, "relation": "子", "residence_type": "registered"}),
                json!({"person_id": MISSING, "relation": "子", "residence_type": "registered"}),
            ),
            (
                "/api/v1/persons",
                json!({"name": "越界", "household_id": out.household, "relation": "子", "residence_type": "registered"}),
                json!({"name": "越界", "household_id": MISSING, "relation": "子", "residence_type": "registered"}),
            ),
            (
                "/api/v1/places",
                json!({"kind": "building", "parent_id": out.compound, "label": "9"}),
                json!({"kind": "building", "parent_id": MISSING, "label": "9"}),
            ),
            (
                "/api/v1/places",
                json!({"kind": "building", "parent_id": a.compound, "area_id": out.grid, "label": "9"}),
                json!({"kind": "building", "parent_id": a.compound, "area_id": MISSING, "label": "9"}),
            ),
            (
                "/api/v1/tag-assignments",
                json!({"tag": "subsistence_allowance", "household_id": out.household}),
                json!({"tag": "subsistence_allowance", "household_id": MISSING}),
            ),
        ];
        for (path, outside, missing) in pairs {
            let uri = path.replace("{A}", &a.household.to_string());
            let r1 = c.post(&uri, outside, auth).await;
            let r2 = c.post(&uri, missing, auth).await;
            assert!(
                matches!(r1.status.as_u16(), 404 | 422),
                "{}: out-of-scope reference accepted: {} {}",
                r1.ctx,
                r1.status,
                r1.text
            );
            assert_eq!(
                (r1.status, &r1.body),
                (r2.status, &r2.body),
                "{}: an out-of-scope reference answers differently from a missing one",
                r1.ctx
            );
        }
        let moved = w
            .store
            .person(&wangge_domain::Scope::everything(), out.person)
            .await
            .unwrap();
        assert_eq!(
            moved.household_id,
            Some(out.household),
            "[{b}] B's resident moved"
        );

        // Filters naming out-of-scope records find nothing.
        for uri in [
            format!("/api/v1/persons?household_id={}", out.household),
            format!("/api/v1/tag-assignments?person_id={}", out.person),
            format!("/api/v1/tag-assignments?household_id={}", out.household),
            format!("/api/v1/places?parent_id={}", out.compound),
            format!("/api/v1/households?dwelling_id={}", out.dwelling),
            format!("/api/v1/areas?parent_id={}", out.community),
        ] {
            let r = c.get(&uri, auth).await;
            assert!(
                r.ok(200)["items"].as_array().unwrap().is_empty(),
                "{}: {}",
                r.ctx,
                r.text
            );
        }
        // Area-code filters: an out-of-scope area is an unknown area.
        let out_grid = format!("{}001", out.community_code);
        for (path, param) in [
            ("/api/v1/persons", "area"),
            ("/api/v1/households", "area"),
            ("/api/v1/places", "area"),
            ("/api/v1/tag-assignments", "area"),
            ("/api/v1/areas", "within"),
        ] {
            let r1 = c.get(&format!("{path}?{param}={out_grid}"), auth).await;
            let r2 = c
                .get(&format!("{path}?{param}=140109001001999"), auth)
                .await;
            r1.ok(422);
            assert_eq!(r1.body, r2.body, "{}: differs from an unknown area", r1.ctx);
        }
        // Search by B's full ID number, full phone, phone tail or shared name.
        for q in [
            out.id_number.clone(),
            out.phone.clone(),
            out.phone[7..].to_owned(),
            NAME.to_owned(),
        ] {
            let r = c
                .post("/api/v1/persons/search", json!({"q": q}), auth)
                .await;
            assert!(
                !r.ok(200)["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["id"] == out.person),
                "{}: search reaches outside the scope",
                r.ctx
            );
            assert!(leaked(&w, &r.text).is_empty(), "{}", r.ctx);
        }
        // Counts over an ancestor cover only the scope.
        let r = c
            .get(&format!("/api/v1/areas/{}/tag-counts", a.city), auth)
            .await;
        for row in r.ok(200).as_array().unwrap() {
            assert_eq!(
                row["area_id"], a.grid,
                "{}: count outside the scope: {row}",
                r.ctx
            );
        }

        // A user with no areas sees nothing (default deny).
        let name = wangge_domain::Username::parse("u_nowhere").unwrap();
        w.identity
            .create_user(
                "test",
                &name,
                "无区域",
                Role::DistrictManager,
                &[],
                &wangge_domain::NewPassword::parse(PASSWORD).unwrap(),
            )
            .await
            .unwrap();
        let (tok, _) = w
            .identity
            .create_token("test", &name, "t", std::time::Duration::from_secs(600))
            .await
            .unwrap();
        for path in [
            "/api/v1/persons",
            "/api/v1/households",
            "/api/v1/places",
            "/api/v1/areas",
            "/api/v1/tag-assignments",
        ] {
            let r = c.get(path, Auth::Bearer(&tok)).await;
            assert!(
                r.ok(200)["items"].as_array().unwrap().is_empty(),
                "{}: {}",
                r.ctx,
                r.text
            );
        }
        c.get(&format!("/api/v1/persons/{}", a.person), Auth::Bearer(&tok))
            .await
            .problem(404, "not_found");

        // Registering a person with an ID number that exists only outside the scope.
        let r = c
            .post(
                "/api/v1/persons",
                json!({"name": "重号", "id_number": out.id_number, "area_id": a.grid}),
                auth,
            )
            .await;
        println!(
            "[{b}] duplicate-ID probe across scopes: {} {}",
            r.status,
            r.code()
        );
    }
}

// ---- 12. The pages --------------------------------------------------------------------------

fn page_uri(rule: &Rule, g: Option<&GridData>) -> String {
    let id = match (kind_of(rule.path), g) {
        (_, None) => MISSING,
        (Kind::Area, Some(g)) => g.grid,
        (Kind::Place, Some(g)) => g.dwelling,
        (Kind::Household, Some(g)) => g.household,
        (Kind::Person, Some(g)) => g.person,
        (Kind::Assignment, Some(g)) => g.care_assignment,
        (Kind::WorkOrder, Some(g)) => g.work_order,
        (Kind::Assist, Some(g)) => g.assist,
        (Kind::Campaign, Some(g)) => g.campaign,
        (Kind::CampaignItem, Some(g)) => g.campaign_item,
        (Kind::CampaignRequest, Some(g)) => g.campaign_request,
        (Kind::Entrustment, Some(g)) => g.entrustment,
        (Kind::ResidentView, Some(g)) => g.entrustment_photo,
        (_, Some(_)) => 0,
    };
    let token = g.map_or("no-such-token", |g| g.campaign_token.as_str());
    let link = g.map_or("no-such-link", |g| g.resident_link.as_str());
    let uri = rule
        .path
        .replace("{id}", &id.to_string())
        .replace("{token}", token)
        .replace("{link}", link)
        .replace("{seq}", "1")
        .replace("{member_id}", &g.map_or(MISSING, |g| g.member).to_string())
        .replace("{name}", "app.css")
        .replace("{code}", "en");
    assert!(
        !uri.contains('{'),
        "the page matrix cannot fill {}",
        rule.path
    );
    uri
}

/// A form that passes validation where the scope should decide (empty elsewhere).
fn page_form(path: &str) -> &'static str {
    match path {
        "/persons/{id}/reveal" => "reason=%E9%A1%B5%E9%9D%A2%E7%9F%A9%E9%98%B5",
        "/persons/{id}/tags" => "tag=veteran",
        "/households/{id}/tags" => "tag=subsistence_allowance",
        "/tag-assignments/{id}/end" => "back=%2F",
        "/places/{id}/edit" => "label=601",
        // Refused (409) once found: a reported order cannot resume, nobody accepted the assist.
        "/work-orders/{id}/actions" => "action=resume",
        "/assists/{id}/actions" => "action=done&note=x",
        "/work-orders/{id}/assists" => "team_role=district_manager&message=%E7%9F%A9%E9%98%B5",
        "/households/{id}/members/{member_id}/change" => {
            "relation=%E6%88%B7%E4%B8%BB&residence_type=registered"
        }
        // The door stays open (not home), so every role records once; the scope decides first.
        "/campaign-items/{id}/outcome" => "outcome=not_home",
        "/campaigns/{id}/export" => "reason=%E9%A1%B5%E9%9D%A2%E7%9F%A9%E9%98%B5",
        // Refused (409) once found: the campaign is launched, so neither edits nor launches.
        "/campaigns/{id}/edit" => "name=x&kind=sweep&starts_on=2026-11-20&ends_on=2026-11-30",
        "/campaigns/{id}/launch" => "confirm=yes",
        // Refused (422) once found: the link form must say open or closed, the close form
        // must be confirmed, so the world's campaign stays open for the pages after these.
        "/campaigns/{id}/link" => "open=maybe",
        "/campaigns/{id}/close" => "confirm=no",
        "/campaigns/{id}/slots" => "building=x",
        "/campaigns/{id}/assign" => "building=x",
        // A correction annotates the first event and moves nothing.
        "/entrustments/{id}/key-events" => {
            "kind=correction&corrects=1&note=%E7%9F%A9%E9%98%B5%E6%A0%B8%E5%AF%B9"
        }
        // Refused (409) once found: the entrustment is confirmed, so it cannot be cancelled.
        "/entrustments/{id}/cancel" => "step=cancel",
        // The first role takes the request on; after that it is handled (409) once found.
        "/campaign-requests/{id}/entrust" => {
            "purpose=%E6%9B%B4%E6%8D%A2%E8%8A%82%E8%83%BD%E7%AA%97&first_day=2030-01-07\
             &last_day=2030-01-09&acts=hold_key&channel=phone_call"
        }
        // No session on the resident's page: a wrong code, and a step that goes to the code.
        "/r/{link}" => "code=000000",
        "/r/{link}/steps" => "step=revoke&confirm=yes",
        _ => "",
    }
}

async fn page(w: &World, rule: &Rule, uri: &str, auth: Auth<'_>) -> Resp {
    if rule.method == "POST" {
        w.client.form(uri, page_form(rule.path), auth).await
    } else {
        let m = Method::from_bytes(rule.method.as_bytes()).unwrap();
        w.client.send(m, uri, None, auth, &[]).await
    }
}

/// The HTML pages: no sign-in → sent to the sign-in page; lacking permission → 403; in scope →
/// served; out of scope → the same answer as a missing id.
#[tokio::test]
async fn page_routes_authorization_matrix() {
    let mut failures = Vec::new();
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let mut table = Vec::new();
        for rule in PAGE_RULES {
            let has_object = rule.path.contains("{id}");
            let mut cells = Vec::new();
            let anon = page(&w, rule, &page_uri(rule, Some(&w.a)), Auth::None).await;
            if let Some(f) = headers_ok(&anon) {
                failures.push(f);
            }
            let location = anon
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            match rule.access {
                Access::Public => {
                    if matches!(anon.status.as_u16(), 401 | 403 | 404 | 405)
                        || anon.status.as_u16() >= 500
                    {
                        failures.push(format!(
                            "{}: public page answered {}",
                            anon.ctx, anon.status
                        ));
                    }
                }
                _ => {
                    if !anon.status.is_redirection() || !location.starts_with("/login") {
                        failures.push(format!(
                            "{}: no sign-in → expected a redirect to /login, got {} {location}",
                            anon.ctx, anon.status
                        ));
                    }
                }
            }
            cells.push(anon.status.as_u16().to_string());
            for role in Role::ALL {
                let auth = w.bearer(role);
                let allowed = match rule.access {
                    Access::Public | Access::SignedIn => true,
                    Access::Needs(p) => role.can(p),
                };
                let r_in = page(&w, rule, &page_uri(rule, Some(&w.a)), auth).await;
                if let Some(f) = headers_ok(&r_in) {
                    failures.push(f);
                }
                // Pages whose point is a full number, for the roles allowed it.
                let reveals = matches!(
                    rule.path,
                    "/persons/{id}/reveal" | "/entrustments/{id}/contact"
                );
                if !reveals && !leaked(&w, &r_in.text).is_empty() {
                    failures.push(format!("{}: full personal numbers on the page", r_in.ctx));
                }
                let who = format!("{} as {role}", rule.path);
                if !allowed {
                    if r_in.status != 403 {
                        failures.push(format!(
                            "{} ({who}): expected 403, got {}",
                            r_in.ctx, r_in.status
                        ));
                    }
                    cells.push("403".to_owned());
                    continue;
                }
                let si = r_in.status.as_u16();
                if matches!(si, 401 | 403 | 405) || si >= 500 || (si == 404 && rule.method == "GET")
                {
                    failures.push(format!(
                        "{} ({who}, in scope): expected access, got {si}",
                        r_in.ctx
                    ));
                }
                if !has_object || rule.access == Access::Public {
                    cells.push(format!("{si}/-"));
                    continue;
                }
                let r_out = page(&w, rule, &page_uri(rule, Some(w.out_of_scope(role))), auth).await;
                let r_missing = page(&w, rule, &page_uri(rule, None), auth).await;
                let (so, sm) = (r_out.status.as_u16(), r_missing.status.as_u16());
                if so != sm {
                    failures.push(format!(
                        "{} ({who}): out of scope answered {so}, a missing id {sm}: distinguishable",
                        r_out.ctx
                    ));
                }
                // With a form that passes validation (or a GET) the scope decides: 404. Empty
                // forms may fail validation first; then only sameness with a missing id counts.
                if (!page_form(rule.path).is_empty() || rule.method == "GET") && so != 404 {
                    failures.push(format!(
                        "{} ({who}, out of scope): expected 404, got {so}",
                        r_out.ctx
                    ));
                }
                if !leaked(&w, &r_out.text).is_empty() {
                    failures.push(format!("{}: out-of-scope numbers on the page", r_out.ctx));
                }
                cells.push(format!("{si}/{so}"));
            }
            table.push((rule.method.to_owned(), rule.path.to_owned(), cells));
        }
        print_matrix(&format!("{b}, pages"), &table);
    }
    assert!(
        failures.is_empty(),
        "{} page matrix failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---- 13. Redirects stay on this site --------------------------------------------------------

/// Whether a browser would resolve `location` to this site: a path starting with one slash,
/// after browsers drop tabs and newlines and read backslashes as slashes.
fn stays_local(location: &str) -> bool {
    let seen: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    seen.starts_with('/') && !seen.starts_with("//")
}

#[tokio::test]
async fn back_parameters_never_redirect_off_site() {
    let mut problems = Vec::new();
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let hostile = [
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "https://evil.example/",
        ];
        let check = |r: &Resp, what: &str, problems: &mut Vec<String>| {
            let location = r
                .headers
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if r.status.is_server_error() {
                problems.push(format!("[{b}] {what}: {} {}", r.status, r.text));
            }
            if let Some(l) = location
                && !stays_local(&l)
            {
                problems.push(format!("[{b}] {what}: redirects off site to {l:?}"));
            }
        };
        // The language switch (public).
        for back in hostile {
            let enc: String = back.bytes().map(|c| format!("%{c:02X}")).collect();
            let r = w
                .client
                .get(&format!("/lang/en?back={enc}"), Auth::None)
                .await;
            check(&r, &format!("GET /lang/en?back={back:?}"), &mut problems);
        }
        // Ending a tag from a page (signed in); a fresh assignment each time.
        let gw = w.bearer(Role::GridWorker);
        for (i, back) in hostile.iter().enumerate() {
            let tag = [
                "elderly_living_alone",
                "empty_nest_elderly",
                "left_behind_child",
                "elderly_party_member",
            ][i];
            let created = w
                .client
                .post(
                    "/api/v1/tag-assignments",
                    json!({"tag": tag, "person_id": w.a.person}),
                    gw,
                )
                .await;
            let id = created.ok(201)["id"].as_i64().unwrap();
            let enc: String = back.bytes().map(|c| format!("%{c:02X}")).collect();
            let r = w
                .client
                .form(
                    &format!("/tag-assignments/{id}/end"),
                    &format!("back={enc}"),
                    gw,
                )
                .await;
            check(
                &r,
                &format!("POST /tag-assignments/{{id}}/end back={back:?}"),
                &mut problems,
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A visit form with a photo is a multipart body: the guard finds its CSRF field there, and a
/// form without the right token records neither the visit nor the photo.
#[tokio::test]
async fn multipart_page_forms_need_the_session_csrf_token() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let (token, csrf) = c
            .sign_in(&w.user(Role::GridWorker).username, PASSWORD)
            .await;
        let auth = Auth::Cookie {
            token: &token,
            csrf: None,
        };
        let uri = format!("/households/{}/visits", w.a.household);
        let visits = format!("/api/v1/visits?household_id={}", w.a.household);
        let before = c
            .get(&visits, w.bearer(Role::GridWorker))
            .await
            .items()
            .len();
        let fields = [("outcome", "at_home"), ("purpose", "拍照")];
        for sent in [None, Some("forged")] {
            let r = c.photo_form(&uri, sent, &fields, auth).await;
            assert_eq!(r.status, 403, "[{b}] token {sent:?}: {}", r.text);
        }
        let after = c.get(&visits, w.bearer(Role::GridWorker)).await.items();
        assert_eq!(after.len(), before, "[{b}] a refused form recorded a visit");

        let r = c.photo_form(&uri, Some(&csrf), &fields, auth).await;
        assert!(
            r.status.is_redirection(),
            "[{b}] with the token: {} {}",
            r.status,
            r.text
        );
        let after = c.get(&visits, w.bearer(Role::GridWorker)).await.items();
        assert_eq!(after.len(), before + 1, "[{b}]");
        let newest = after[0]["id"].as_i64().unwrap();
        let photos = c
            .get(
                &format!("/api/v1/visits/{newest}/attachments"),
                w.bearer(Role::GridWorker),
            )
            .await;
        assert_eq!(
            photos.body.as_array().map(Vec::len),
            Some(1),
            "[{b}] {}",
            photos.text
        );
    }
}

#[tokio::test]
async fn page_forms_need_the_session_csrf_token() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let (token, csrf) = c
            .sign_in(&w.user(Role::GridWorker).username, PASSWORD)
            .await;
        let auth = Auth::Cookie {
            token: &token,
            csrf: None,
        };
        let uri = format!("/persons/{}/tags", w.a.person);
        for form in [
            "tag=elderly_living_alone".to_owned(),
            "tag=elderly_living_alone&csrf_token=forged".to_owned(),
        ] {
            let r = c.form(&uri, &form, auth).await;
            assert_eq!(r.status, 403, "[{b}] {form}: {}", r.text);
        }
        let none = c
            .get(
                &format!(
                    "/api/v1/tag-assignments?person_id={}&tag=elderly_living_alone",
                    w.a.person
                ),
                w.bearer(Role::GridWorker),
            )
            .await;
        assert!(none.items().is_empty(), "[{b}] a refused form wrote");
        let r = c
            .form(
                &uri,
                &format!("tag=elderly_living_alone&csrf_token={csrf}"),
                auth,
            )
            .await;
        assert!(
            r.status.is_success() || r.status.is_redirection(),
            "[{b}] with the token: {} {}",
            r.status,
            r.text
        );
        // Sign-out from the page is a state change too.
        let r = c.form("/logout", "", auth).await;
        assert_eq!(r.status, 403, "[{b}] /logout without the token");
        let r = c.form("/logout", &format!("csrf_token={csrf}"), auth).await;
        assert!(r.status.is_redirection(), "[{b}] /logout: {}", r.status);
        c.get("/api/v1/session", auth)
            .await
            .problem(401, "auth.required");
    }
}

#[tokio::test]
async fn sensitive_tags_are_invisible_on_pages() {
    let mut problems = Vec::new();
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let a = &w.a;
        let uf = wangge_domain::BUILTIN_TAGS
            .iter()
            .find(|t| t.code == UF_TAG)
            .unwrap();
        for role in [
            Role::GridWorker,
            Role::CommunityStaff,
            Role::DistrictManager,
        ] {
            let visible = role.tag_classes().contains(Sensitivity::UnitedFront);
            let auth = w.bearer(role);
            let mut pages = Vec::new();
            for uri in [
                "/".to_owned(),
                format!("/persons/{}", a.person),
                format!("/persons/{}/edit", a.person),
                format!("/households/{}", a.household),
                format!("/areas/{}", a.grid),
                format!("/areas/{}", a.city),
                format!("/places/{}", a.dwelling),
            ] {
                pages.push(w.client.get(&uri, auth).await);
            }
            pages.push(w.client.form("/search", "q=%E5%BC%A0%E4%BC%9F", auth).await);
            pages.push(
                w.client
                    .form("/search/suggest", "q=%E5%BC%A0%E4%BC%9F", auth)
                    .await,
            );
            for r in &pages {
                if r.status != 200 {
                    problems.push(format!("{} as {role}: {}", r.ctx, r.status));
                }
                let shows = r.text.contains(uf.name_zh) || r.text.contains(UF_TAG);
                if shows && !visible {
                    problems.push(format!("{} as {role}: shows the united-front tag", r.ctx));
                }
                if !leaked(&w, &r.text).is_empty() {
                    problems.push(format!("{} as {role}: full personal numbers", r.ctx));
                }
            }
            let person_page = &pages[1].text;
            if visible && !person_page.contains(uf.name_zh) {
                problems.push(format!(
                    "[{b}] {role}: person page lacks a tag the role may see"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- 14. Work-order metrics -----------------------------------------------------------------

/// The metrics count only orders in the caller's scope (each world grid has one order; every
/// role with registry access sees grid A alone), and an area outside it is an unknown reference.
#[tokio::test]
async fn work_order_metrics_count_only_orders_in_scope() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        for role in Role::ALL
            .into_iter()
            .filter(|r| r.can(Permission::RegistryRead))
        {
            for by in ["area", "category"] {
                let r = w
                    .client
                    .get(
                        &format!("/api/v1/work-orders/metrics?by={by}"),
                        w.bearer(role),
                    )
                    .await;
                assert_eq!(
                    r.ok(200)["total"]["reported"],
                    1,
                    "[{b}] {role} by {by}: {}",
                    r.text
                );
            }
            let r = w
                .client
                .get(
                    &format!(
                        "/api/v1/work-orders/metrics?area={}",
                        w.out_of_scope(role).community_code
                    ),
                    w.bearer(role),
                )
                .await;
            r.problem(422, "reference.unknown");
        }
    }
}

// ---- 15. Notifications over HTTP ------------------------------------------------------------

/// The inbox lists one's own notifications, unread first; marking read in place (htmx) answers
/// the updated item, and the unread count follows.
#[tokio::test]
async fn notifications_are_read_in_place_and_counted() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let auth = w.bearer(Role::GridWorker);
        let mine = w.notifications[&Role::GridWorker];
        let inbox = w.client.get("/api/v1/notifications", auth).await;
        assert_eq!(inbox.ok(200)["unread"], 1, "[{b}]");
        assert_eq!(inbox.item_ids(), [mine], "[{b}]");
        assert_eq!(inbox.items()[0]["event"], "assist_requested", "[{b}]");
        assert_eq!(inbox.items()[0]["title"], "楼道堆物", "[{b}]");

        let page = w.client.get("/notifications", auth).await;
        assert_eq!(page.status, 200, "[{b}]");
        assert!(page.text.contains("楼道堆物"), "[{b}] the page lists it");
        assert!(
            page.text.contains(&format!("/notifications/{mine}/read")),
            "[{b}] with a mark-read form"
        );

        let r = w
            .client
            .send(
                Method::POST,
                &format!("/notifications/{mine}/read"),
                None,
                auth,
                &[("hx-request", "true")],
            )
            .await;
        assert_eq!(r.status, 200, "[{b}] {}", r.text);
        assert!(
            r.text.contains(&format!("notification-{mine}"))
                && !r.text.contains(&format!("/notifications/{mine}/read")),
            "[{b}] the item comes back read: {}",
            r.text
        );
        let inbox = w.client.get("/api/v1/notifications", auth).await;
        assert_eq!(inbox.ok(200)["unread"], 0, "[{b}]");
        assert!(inbox.items()[0]["read_at"].is_string(), "[{b}]");
        let events = audit(&w.store, Some("notification.read")).await;
        assert_eq!(events.len(), 1, "[{b}] marking read is audited");
    }
}

// ---- 16. Campaign pages ---------------------------------------------------------------------

/// The public pre-registration page takes no posts from other sites and answers a matched and an
/// unmatched dwelling alike; the resident's phone is shown only to whoever calls back, audited;
/// a revealed export needs and records a reason.
#[tokio::test]
async fn campaign_public_page_and_personal_numbers() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let all = wangge_domain::Scope::everything();
        let link = format!("/c/{}", w.a.campaign_token);
        let count = || async {
            w.store
                .campaign_requests(&all, w.a.campaign, false)
                .await
                .unwrap()
                .len()
        };
        let before = count().await;
        for (h, v) in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let r = w
                .client
                .send(Method::POST, &link, None, Auth::None, &[(h, v)])
                .await;
            assert_eq!(r.status, 403, "[{b}] {h}: {v}");
        }
        assert_eq!(count().await, before, "[{b}] a refused post writes nothing");

        let form = |dwelling: &str| {
            format!(
                "kind=act_for_me&building={}&unit=2&dwelling={dwelling}&name=%E7%8E%8B%E4%BA%94\
                 &phone=13800001234&website=",
                w.a.building
            )
        };
        let matched = w.client.form(&link, &form("601"), Auth::None).await;
        let unmatched = w.client.form(&link, &form("909"), Auth::None).await;
        for r in [&matched, &unmatched] {
            assert_eq!(r.status, 200, "[{b}] {}", r.text);
            assert!(r.text.contains(r#"id="reference""#), "[{b}] a reference");
            assert!(!r.text.contains(NAME), "[{b}] nobody's name on the answer");
        }
        let strip = |t: &str| {
            let at = t.find(r#"id="reference">"#).unwrap() + 15;
            format!("{}{}", &t[..at], &t[at + 8..])
        };
        assert_eq!(
            strip(&matched.text),
            strip(&unmatched.text),
            "[{b}] the same answer but for the reference"
        );
        assert_eq!(count().await, before + 2, "[{b}]");
        let bot = format!("{}http%3A%2F%2Fspam", form("601"));
        let r = w.client.form(&link, &bot, Auth::None).await;
        assert_eq!(
            r.status, 429,
            "[{b}] a filled honeypot is refused like a flood"
        );

        // The phone the resident left: masked on the list, in full on request, audited.
        let staff = w.bearer(Role::CommunityStaff);
        let list = w
            .client
            .get(&format!("/campaigns/{}/requests", w.a.campaign), staff)
            .await;
        assert_eq!(list.status, 200, "[{b}]");
        assert!(
            !list.text.contains("13700000011"),
            "[{b}] masked on the list"
        );
        let uri = format!("/campaign-requests/{}/contact", w.a.campaign_request);
        let r = w.client.form(&uri, "", staff).await;
        assert_eq!(r.status, 200, "[{b}] {}", r.text);
        assert!(
            r.text.contains("13700000011"),
            "[{b}] shown to who calls back"
        );
        let events = audit(&w.store, Some("campaign_request.contact")).await;
        assert!(
            events
                .iter()
                .any(|e| e.event.object_id == Some(w.a.campaign_request)),
            "[{b}] the reveal is audited"
        );

        // A revealed export: a reason is required, then recorded.
        let uri = format!("/campaigns/{}/export", w.a.campaign);
        let r = w.client.form(&uri, "reason=", staff).await;
        assert_eq!(r.status, 422, "[{b}] no reason, no export");
        let r = w
            .client
            .form(&uri, "reason=%E6%A0%B8%E5%AF%B9%E5%AE%89%E8%A3%85", staff)
            .await;
        assert_eq!(r.status, 200, "[{b}]");
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("spreadsheetml"),
            "[{b}]"
        );
        let events = audit(&w.store, Some("campaign.export_revealed")).await;
        assert_eq!(events.len(), 1, "[{b}]");
        assert_eq!(events[0].event.reason.as_deref(), Some("核对安装"), "[{b}]");
    }
}
