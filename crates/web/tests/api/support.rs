//! Helpers for the HTTP API tests: an in-process client over the whole app, a small area tree
//! built through the API, valid GB 11643 ID numbers, and checks for leaked personal numbers.

use std::collections::HashSet;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::Date;
use time::macros::date;
use tower::ServiceExt;
use wangge_services::attachments::{AttachmentSettings, Attachments};
use wangge_services::{Clock, Registry};
use wangge_testkit::TestStore;

/// Every test runs as of this day, so ages are fixed.
pub const TODAY: Date = date!(2026 - 11 - 25);

/// The whole app on one backend, driven in-process (no sockets), signed in with a bearer
/// token of a district manager whose scope covers every city the test created.
pub struct Api {
    pub app: Router,
    pub backend: &'static str,
    store: wangge_store::Store,
    cities: std::sync::Mutex<Vec<String>>,
    token: std::sync::Mutex<Option<String>>,
}

/// A response, with the request it answered for assertion messages.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The raw body text, for "never contains" checks.
    pub text: String,
    /// The body as sent (photos are not text).
    pub bytes: Vec<u8>,
    pub ctx: String,
}

impl Api {
    pub fn new(ts: &TestStore) -> Api {
        let registry = Registry::new(ts.store.clone(), Clock::Fixed(TODAY));
        Api {
            app: wangge_web::app_with_attachments(
                registry,
                Attachments::new(
                    ts.store.clone(),
                    AttachmentSettings::in_data_dir(&ts.storage.data_dir),
                )
                .expect("attachment storage"),
            ),
            backend: ts.name,
            store: ts.store.clone(),
            cities: std::sync::Mutex::new(Vec::new()),
            token: std::sync::Mutex::new(None),
        }
    }

    /// Signs in (as a new district manager) over these area codes; later requests carry the
    /// token.
    pub async fn sign_in_over(&self, codes: &[String]) {
        use wangge_domain::{NewPassword, Role, Username};
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let identity = wangge_services::identity::Identity::new(self.store.clone());
        let username = Username::parse(&format!("tester{n}")).unwrap();
        let password = NewPassword::parse("Test-password-1").unwrap();
        identity
            .create_user(
                "test",
                &username,
                "测试员",
                Role::DistrictManager,
                codes,
                &password,
            )
            .await
            .expect("test user");
        let (token, _) = identity
            .create_token(
                "test",
                &username,
                "tests",
                std::time::Duration::from_secs(3600),
            )
            .await
            .expect("test token");
        *self.token.lock().unwrap() = Some(token);
    }

    /// Top-level areas are installation set-up (`wangge import areas`), not an API call: the
    /// test creates the city in the store and signs in over it.
    async fn city(&self, code: &str, name: &str, boundary: Value) -> i64 {
        use wangge_domain::{AreaCode, AreaLevel, Scope};
        let boundary = (!boundary.is_null()).then(|| boundary.to_string());
        let new = wangge_store::areas::NewArea {
            code: AreaCode::parse(code).unwrap(),
            name: name.to_owned(),
            level: AreaLevel::City,
            parent_id: None,
            boundary,
        };
        let a = self
            .store
            .create_area(&Scope::everything(), &new)
            .await
            .expect("city");
        let codes = {
            let mut cities = self.cities.lock().unwrap();
            cities.push(code.to_owned());
            cities.clone()
        };
        self.sign_in_over(&codes).await;
        a.id
    }

    /// Sends raw bytes with the given headers.
    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method.clone()).uri(uri);
        let own_auth = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if !own_auth && let Some(token) = self.token.lock().unwrap().clone() {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(body)).expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("read body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        Resp {
            status,
            headers,
            body,
            text,
            bytes: bytes.to_vec(),
            ctx: format!("[{}] {method} {uri}", self.backend),
        }
    }

    /// A JSON request (with `Content-Type: application/json` when there is a body).
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        let bytes = match body {
            Some(b) => {
                all.push(("content-type", "application/json"));
                serde_json::to_vec(b).expect("serialize")
            }
            None => Vec::new(),
        };
        self.raw(method, uri, bytes, &all).await
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.call(Method::GET, uri, None, &[]).await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Resp {
        self.call(Method::POST, uri, Some(&body), &[]).await
    }

    pub async fn patch(&self, uri: &str, body: Value) -> Resp {
        self.call(Method::PATCH, uri, Some(&body), &[]).await
    }

    /// POST that must answer 201; returns the created resource.
    pub async fn create(&self, uri: &str, body: Value) -> Value {
        self.post(uri, body).await.ok(201).clone()
    }

    /// Follows `next_cursor` from `uri` (which already has a query string) with the given page
    /// size, checking that no item comes twice; returns every item in order.
    pub async fn all_pages(&self, uri: &str, limit: u32) -> Vec<Value> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut page_uri = format!("{uri}&limit={limit}");
            if let Some(c) = &cursor {
                page_uri.push_str(&format!("&cursor={c}"));
            }
            let r = self.get(&page_uri).await;
            let body = r.ok(200);
            let page = body["items"].as_array().expect("items").clone();
            assert!(
                page.len() <= limit as usize,
                "{}: page larger than limit {limit}",
                r.ctx
            );
            for item in page {
                let id = item["id"].as_i64().expect("id");
                assert!(seen.insert(id), "{}: item {id} returned twice", r.ctx);
                items.push(item);
            }
            match body.get("next_cursor").and_then(Value::as_str) {
                Some(c) => {
                    assert!(
                        body["items"].as_array().is_some_and(|a| !a.is_empty()),
                        "{}: empty page with a next_cursor",
                        r.ctx
                    );
                    cursor = Some(c.to_owned());
                }
                None => return items,
            }
        }
        panic!("[{}] {uri}: paging never ended", self.backend);
    }

    /// A person in a grid, no household.
    pub async fn person(
        &self,
        name: &str,
        id_number: Option<&str>,
        phone: Option<&str>,
        grid: i64,
    ) -> Value {
        self.create(
            "/api/v1/persons",
            json!({"name": name, "id_number": id_number, "phone": phone, "area_id": grid}),
        )
        .await
    }

    /// Assigns a tag to a person, dated from `started_on`.
    pub async fn tag_person(&self, tag: &str, person: i64, started_on: &str) -> Value {
        self.create(
            "/api/v1/tag-assignments",
            json!({"tag": tag, "person_id": person, "started_on": started_on}),
        )
        .await
    }
}

impl Resp {
    /// Asserts the status; returns the body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}: expected {status}, body {}",
            self.ctx,
            self.text
        );
        &self.body
    }

    /// Asserts an `application/problem+json` answer with this status and machine code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        self.ok(status);
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(ct, "application/problem+json", "{}: content type", self.ctx);
        assert_eq!(
            self.body["code"], code,
            "{}: code in {}",
            self.ctx, self.text
        );
        assert_eq!(self.body["status"], status, "{}: status member", self.ctx);
        assert_eq!(
            self.body["type"],
            format!("urn:wangge:problem:{code}"),
            "{}: type member",
            self.ctx
        );
        for member in ["title", "detail", "detail_zh", "detail_en"] {
            assert!(
                self.body[member].as_str().is_some_and(|s| !s.is_empty()),
                "{}: problem lacks {member}: {}",
                self.ctx,
                self.text
            );
        }
        &self.body
    }

    /// A 422 problem naming `field` with `code` (alone or among several errors).
    #[track_caller]
    pub fn invalid(&self, field: &str, code: &str) -> &Value {
        self.ok(422);
        let errors = self.body["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{}: expected error {code} on {field}, got {}",
            self.ctx,
            self.text
        );
        if errors.len() == 1 {
            self.problem(422, code);
            assert_eq!(self.body["field"], field, "{}: field member", self.ctx);
        }
        &self.body
    }
}

/// `id` of a JSON object.
#[track_caller]
pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// The `id`s of a list of items, sorted.
pub fn ids(items: &[Value]) -> Vec<i64> {
    let mut out: Vec<i64> = items.iter().map(id).collect();
    out.sort_unstable();
    out
}

/// The items of a page body.
#[track_caller]
pub fn items(v: &Value) -> Vec<Value> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .clone()
}

// ---- ID numbers -----------------------------------------------------------------------------

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The GB 11643 check character of 17 digits.
pub fn check_char(first17: &str) -> char {
    assert_eq!(first17.len(), 17);
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

/// A valid 18-character number: area, birth date `YYYYMMDD`, sequence (odd = male).
pub fn id18(area6: &str, birth: &str, seq: u16) -> String {
    let first = format!("{area6}{birth}{seq:03}");
    format!("{first}{}", check_char(&first))
}

/// A valid number whose check character is X (sequence searched from `from`).
pub fn id18_x(area6: &str, birth: &str, from: u16) -> String {
    (from..1000)
        .map(|s| id18(area6, birth, s))
        .find(|n| n.ends_with('X'))
        .expect("some sequence gives X")
}

/// The same number with a wrong check character.
pub fn wrong_check(id: &str) -> String {
    let good = id.chars().last().expect("non-empty");
    let bad = if good == '0' { '1' } else { '0' };
    format!("{}{bad}", &id[..17])
}

/// How the API shows an 18-character number.
pub fn masked_id(id: &str) -> String {
    format!("{}********{}", &id[..6], &id[14..])
}

/// Whether `text` holds something shaped like a full ID number (`\d{17}[\dX]`).
pub fn has_unmasked_id(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if run >= 17 && (c.is_ascii_digit() || c == 'X') {
            return true;
        }
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
    }
    false
}

// ---- Areas ----------------------------------------------------------------------------------

/// A closed square ring as a GeoJSON Polygon.
pub fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]
    ]]})
}

/// 太原市 140100 → 万柏林区 140109 → 小井峪街道 140109001 → 西矿街社区 140109001001 (grids
/// …001, …002) and 千峰社区 140109001002 (grid …001), each with a boundary inside its parent's.
pub struct Tree {
    pub city: i64,
    pub district: i64,
    pub subdistrict: i64,
    pub community: i64,
    pub grid1: i64,
    pub grid2: i64,
    pub community2: i64,
    pub grid3: i64,
}

pub const COMMUNITY: &str = "140109001001";
pub const COMMUNITY2: &str = "140109001002";
/// The area names a standard address in the first community starts with.
pub const AREA_NAMES: &str = "太原市万柏林区小井峪街道西矿街社区";

impl Api {
    pub async fn area(
        &self,
        code: &str,
        name: &str,
        level: &str,
        parent: Option<i64>,
        boundary: Value,
    ) -> i64 {
        if level == "city" && parent.is_none() {
            return self.city(code, name, boundary).await;
        }
        let body = json!({"code": code, "name": name, "level": level, "parent_id": parent, "boundary": boundary});
        let a = self.create("/api/v1/areas", body).await;
        assert_eq!(a["code"], code, "[{}] area code", self.backend);
        assert_eq!(a["level"], level, "[{}] area level", self.backend);
        assert_eq!(
            a["parent_id"].as_i64(),
            parent,
            "[{}] area parent",
            self.backend
        );
        id(&a)
    }

    pub async fn tree(&self) -> Tree {
        let city = self
            .area("140100", "太原市", "city", None, square(112.0, 37.0, 1.0))
            .await;
        let district = self
            .area(
                "140109",
                "万柏林区",
                "district",
                Some(city),
                square(112.2, 37.2, 0.6),
            )
            .await;
        let subdistrict = self
            .area(
                "140109001",
                "小井峪街道",
                "subdistrict",
                Some(district),
                square(112.3, 37.3, 0.4),
            )
            .await;
        let community = self
            .area(
                COMMUNITY,
                "西矿街社区",
                "community",
                Some(subdistrict),
                square(112.4, 37.4, 0.2),
            )
            .await;
        let grid1 = self
            .area(
                "140109001001001",
                "第一网格",
                "grid",
                Some(community),
                square(112.41, 37.41, 0.08),
            )
            .await;
        let grid2 = self
            .area(
                "140109001001002",
                "第二网格",
                "grid",
                Some(community),
                square(112.51, 37.41, 0.08),
            )
            .await;
        let community2 = self
            .area(
                COMMUNITY2,
                "千峰社区",
                "community",
                Some(subdistrict),
                square(112.62, 37.4, 0.06),
            )
            .await;
        let grid3 = self
            .area(
                "140109001002001",
                "千峰第一网格",
                "grid",
                Some(community2),
                square(112.63, 37.41, 0.04),
            )
            .await;
        Tree {
            city,
            district,
            subdistrict,
            community,
            grid1,
            grid2,
            community2,
            grid3,
        }
    }

    /// 西矿街小区 (community level) → 3号楼 (grid 1) → 2单元; returns the unit's id.
    pub async fn unit(&self, t: &Tree) -> i64 {
        let compound = self
            .create(
                "/api/v1/places",
                json!({"kind": "compound", "area_id": t.community, "label": "西矿街小区"}),
            )
            .await;
        let building = self
            .create(
                "/api/v1/places",
                json!({"kind": "building", "parent_id": id(&compound), "area_id": t.grid1, "label": "3"}),
            )
            .await;
        let unit = self
            .create(
                "/api/v1/places",
                json!({"kind": "unit", "parent_id": id(&building), "label": "2"}),
            )
            .await;
        id(&unit)
    }

    pub async fn dwelling(&self, unit: i64, label: &str) -> i64 {
        id(&self
            .create(
                "/api/v1/places",
                json!({"kind": "dwelling", "parent_id": unit, "label": label}),
            )
            .await)
    }
}
