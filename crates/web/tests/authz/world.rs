//! The world the authorization tests run in: an in-process client with explicit credentials,
//! two cities, grids A and B in different districts of the first city (so every area-bound role
//! over A is out of scope for B) and grid Z in the second city (out of scope for the city-wide
//! roles), the same small registry in each grid, and one user per role with a bearer token.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::Date;
use time::macros::date;
use tower::ServiceExt;
use wangge_domain::{
    AreaCode, AreaLevel, IdNumber, NewPassword, PersonName, PhoneNumber, PlaceKind, Relation,
    ResidenceType, Role, Scope, Sensitivity, TagCode, Username,
};
use wangge_services::attachments::{AttachmentSettings, Attachments};
use wangge_services::identity::Identity;
use wangge_services::registry::{AssignTag, CreateHousehold, CreatePerson, CreatePlace};
use wangge_services::{Clock, Registry};
use wangge_store::Store;
use wangge_store::areas::NewArea;
use wangge_store::persons::Joining;
use wangge_store::tags::Labelled;
use wangge_testkit::TestStore;

pub const TODAY: Date = date!(2026 - 11 - 25);
pub const PASSWORD: &str = "Authz-test-pass-1";
/// Everyone in the world has this name, so a name search finds one person per grid.
pub const NAME: &str = "张伟";
/// A person tag every role with resident data sees.
pub const CARE_TAG: &str = "veteran";
/// A united-front tag (invisible to grid workers and community staff).
pub const UF_TAG: &str = "returned_overseas_chinese";
/// A health tag.
pub const HEALTH_TAG: &str = "disabled";

// ---- Client ---------------------------------------------------------------------------------

/// How a request proves who sends it.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// A session cookie, with the CSRF header when given.
    Cookie {
        token: &'a str,
        csrf: Option<&'a str>,
    },
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    pub ctx: String,
}

impl Resp {
    pub fn code(&self) -> String {
        self.body["code"].as_str().unwrap_or("").to_owned()
    }

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

    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        self.ok(status);
        assert_eq!(self.code(), code, "{}: code in {}", self.ctx, self.text);
        &self.body
    }

    pub fn items(&self) -> Vec<Value> {
        self.body["items"].as_array().cloned().unwrap_or_default()
    }

    /// The ids of a page's items, or of a bare array.
    pub fn item_ids(&self) -> Vec<i64> {
        let list = match &self.body {
            Value::Array(a) => a.clone(),
            _ => self.items(),
        };
        list.iter().filter_map(|v| v["id"].as_i64()).collect()
    }
}

pub struct Client {
    pub app: Router,
    pub backend: &'static str,
}

impl Client {
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method.clone()).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Cookie { token, csrf } => {
                req = req.header(header::COOKIE, format!("wangge_session={token}"));
                if let Some(c) = csrf {
                    req = req.header("x-csrf-token", c);
                }
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let bytes = match body {
            Some(b) if b.get(MULTIPART_PHOTO).is_some() => {
                req = req.header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                );
                multipart_photo()
            }
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                serde_json::to_vec(b).expect("serialize")
            }
            None => Vec::new(),
        };
        let req = req.body(Body::from(bytes)).expect("request");
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
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
            ctx: format!("[{}] {method} {uri}", self.backend),
        }
    }

    /// A form post (`application/x-www-form-urlencoded`), as the pages send.
    pub async fn form(&self, uri: &str, form: &str, auth: Auth<'_>) -> Resp {
        let ct = "application/x-www-form-urlencoded";
        self.form_body(uri, ct, form.as_bytes().to_vec(), auth)
            .await
    }

    /// A page form with a photo (`multipart/form-data`): the CSRF field first when given, then
    /// the text fields, then the photo as `photos`.
    pub async fn photo_form(
        &self,
        uri: &str,
        csrf: Option<&str>,
        fields: &[(&str, &str)],
        auth: Auth<'_>,
    ) -> Resp {
        let mut b = Vec::new();
        let all = csrf
            .map(|c| ("csrf_token", c))
            .into_iter()
            .chain(fields.iter().copied());
        for (k, v) in all {
            b.extend(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .into_bytes(),
            );
        }
        b.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photos\"; \
                 filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .into_bytes(),
        );
        b.extend(wangge_media::fixtures::photo_with_location());
        b.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        self.form_body(uri, &ct, b, auth).await
    }

    /// A form post without credentials but with extra headers (the resident's page: its own
    /// cookie, an `Origin`).
    pub async fn form_with(&self, uri: &str, form: &str, extra: &[(&str, &str)]) -> Resp {
        let ct = "application/x-www-form-urlencoded";
        self.form_body_with(uri, ct, form.as_bytes().to_vec(), Auth::None, extra)
            .await
    }

    async fn form_body(
        &self,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
        auth: Auth<'_>,
    ) -> Resp {
        self.form_body_with(uri, content_type, body, auth, &[])
            .await
    }

    async fn form_body_with(
        &self,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
        auth: Auth<'_>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, content_type);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Cookie { token, .. } => {
                req = req.header(header::COOKIE, format!("wangge_session={token}"));
            }
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
        Resp {
            status,
            headers,
            body: Value::Null,
            text,
            ctx: format!("[{}] POST {uri} (form)", self.backend),
        }
    }

    pub async fn get(&self, uri: &str, auth: Auth<'_>) -> Resp {
        self.send(Method::GET, uri, None, auth, &[]).await
    }

    pub async fn post(&self, uri: &str, body: Value, auth: Auth<'_>) -> Resp {
        self.send(Method::POST, uri, Some(&body), auth, &[]).await
    }

    /// Signs in through the API; returns the session cookie's value and the CSRF token.
    pub async fn sign_in(&self, username: &str, password: &str) -> (String, String) {
        let r = self
            .post(
                "/api/v1/session",
                json!({"username": username, "password": password}),
                Auth::None,
            )
            .await;
        r.ok(200);
        let cookie = r
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{}: no Set-Cookie", r.ctx))
            .to_owned();
        let token = cookie
            .split(';')
            .next()
            .and_then(|kv| kv.trim().strip_prefix("wangge_session="))
            .unwrap_or_else(|| panic!("{}: cookie {cookie}", r.ctx))
            .to_owned();
        let csrf = r.body["csrf_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no csrf_token in {}", r.ctx, r.text))
            .to_owned();
        (token, csrf)
    }
}

// ---- The world ------------------------------------------------------------------------------

/// One grid and the registry in it.
#[derive(Debug, Clone)]
pub struct GridData {
    pub city: i64,
    pub community: i64,
    pub community_code: String,
    pub grid: i64,
    pub compound: i64,
    pub dwelling: i64,
    pub household: i64,
    pub member: i64,
    pub person: i64,
    pub id_number: String,
    pub phone: String,
    /// The care-tag assignment on the person.
    pub care_assignment: i64,
    /// A visit to the household.
    pub visit: i64,
    /// A work order reported on the household (left in the reported state).
    pub work_order: i64,
    /// An assist request on the work order: the community staff user asked the grid worker
    /// (in every grid alike, so the grid worker's list must hide the ones outside their scope).
    pub assist: i64,
    /// A photo attached to the visit.
    pub attachment: i64,
    pub uf_assignment: i64,
    pub health_assignment: i64,
    pub building: i64,
    /// A launched sweep over the grid's community with its public link open.
    pub campaign: i64,
    pub campaign_token: String,
    /// The campaign's one door: the grid's household (assigned to the grid's worker, if any).
    pub campaign_item: i64,
    /// A resident's pre-registration matched to that door.
    pub campaign_request: i64,
    /// A confirmed entrustment on the household naming the grid worker, its key received (one
    /// event, with its receipt code), a photo on it, and the resident's link.
    pub entrustment: i64,
    pub receipt: String,
    pub entrustment_photo: i64,
    pub resident_link: String,
}

pub struct UserCreds {
    pub username: String,
    pub user_id: i64,
    pub token: String,
    /// Which grids of the world the user's areas cover.
    pub sees: Vec<&'static str>,
}

pub struct World {
    pub client: Client,
    pub store: Store,
    pub identity: Identity,
    pub a: GridData,
    pub b: GridData,
    pub z: GridData,
    pub users: BTreeMap<Role, UserCreds>,
    /// Tag code → (id, sensitivity), the whole catalogue.
    pub tags: BTreeMap<String, (i64, Sensitivity)>,
    /// A work-order category.
    pub category: i64,
    /// One delivered in-app notification per role's user, about grid A's work order.
    pub notifications: BTreeMap<Role, i64>,
}

async fn area(store: &Store, code: &str, name: &str, level: AreaLevel, parent: Option<i64>) -> i64 {
    store
        .create_area(
            &Scope::everything(),
            &NewArea {
                code: AreaCode::parse(code).unwrap(),
                name: name.to_owned(),
                level,
                parent_id: parent,
                boundary: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("area {code}: {e}"))
        .id
}

async fn place(
    r: &Registry,
    kind: PlaceKind,
    parent: Option<i64>,
    area: Option<i64>,
    label: &str,
) -> i64 {
    r.create_place(
        &Scope::everything(),
        CreatePlace {
            kind,
            parent_id: parent,
            area_id: area,
            label: label.to_owned(),
            floor: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("place {label}: {e:?}"))
    .id
}

async fn assign(r: &Registry, tag: &str, person: i64) -> i64 {
    r.assign_tag(
        &Scope::everything(),
        AssignTag {
            tag: TagCode::parse(tag).unwrap(),
            on: Labelled::Person(person),
            started_on: Some(date!(2026 - 01 - 01)),
            note: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("assign {tag}: {e:?}"))
    .id
}

/// A city → district → subdistrict → community → grid chain (codes from `district6`), with a
/// compound, building, unit, dwelling, household, householder and three tags in the grid.
async fn grid(r: &Registry, name: &'static str, city: i64, district6: &str, seq: u16) -> GridData {
    let store = &r.store;
    let district = area(
        store,
        district6,
        &format!("{name}区"),
        AreaLevel::District,
        Some(city),
    )
    .await;
    let sub_code = format!("{district6}001");
    let subdistrict = area(
        store,
        &sub_code,
        &format!("{name}街道"),
        AreaLevel::Subdistrict,
        Some(district),
    )
    .await;
    let community_code = format!("{sub_code}001");
    let community = area(
        store,
        &community_code,
        &format!("{name}社区"),
        AreaLevel::Community,
        Some(subdistrict),
    )
    .await;
    let grid = area(
        store,
        &format!("{community_code}001"),
        &format!("{name}网格"),
        AreaLevel::Grid,
        Some(community),
    )
    .await;
    let compound = place(
        r,
        PlaceKind::Compound,
        None,
        Some(grid),
        &format!("{name}小区"),
    )
    .await;
    let building = place(r, PlaceKind::Building, Some(compound), Some(grid), "3").await;
    let unit = place(r, PlaceKind::Unit, Some(building), None, "2").await;
    let dwelling = place(r, PlaceKind::Dwelling, Some(unit), None, "601").await;
    let household = r
        .create_household(
            &Scope::everything(),
            CreateHousehold {
                dwelling_id: Some(dwelling),
                area_id: None,
                started_on: Some(date!(2020 - 01 - 01)),
            },
        )
        .await
        .expect("household")
        .id;
    let id_number = IdNumber::from_parts(district6, date!(1956 - 03 - 01), seq).unwrap();
    let phone = PhoneNumber::parse(&format!("1391234{seq:04}")).unwrap();
    let person = r
        .create_person(
            &Scope::everything(),
            CreatePerson {
                name: PersonName::parse(NAME).unwrap(),
                id_number: Some(id_number.clone()),
                phone: Some(phone.clone()),
                sex: None,
                birth_date: None,
                area_id: None,
                joining: Some(Joining {
                    household_id: household,
                    relation: Relation::parse("户主").unwrap(),
                    residence_type: ResidenceType::parse("registered").unwrap(),
                    started_on: date!(2020 - 01 - 01),
                }),
            },
        )
        .await
        .expect("person")
        .id;
    let member = store
        .members(&Scope::everything(), household, true)
        .await
        .unwrap()[0]
        .id;
    GridData {
        city,
        community,
        community_code,
        grid,
        compound,
        dwelling,
        household,
        member,
        person,
        id_number: id_number.as_str().to_owned(),
        phone: phone.as_str().to_owned(),
        care_assignment: assign(r, CARE_TAG, person).await,
        uf_assignment: assign(r, UF_TAG, person).await,
        health_assignment: assign(r, HEALTH_TAG, person).await,
        visit: visit(r, household).await,
        work_order: work_order(r, household).await,
        assist: 0,
        attachment: 0,
        building,
        campaign: 0,
        campaign_token: String::new(),
        campaign_item: 0,
        campaign_request: 0,
        entrustment: 0,
        receipt: String::new(),
        entrustment_photo: 0,
        resident_link: String::new(),
    }
}

/// A confirmed entrustment on the grid's household with its key received: created in the store
/// (the named grid worker works only in grid A, which the services would check), confirmed on
/// the resident's page, one key event, one photo.
async fn entrustment(r: &Registry, attachments: &Attachments, g: &mut GridData, worker: i64) {
    use wangge_domain::entrustment::{
        ContactChannel, Entrustment, EntrustmentPeriod, EntrustmentStep, KeyAction, KeyEvent,
        NamedStaff, Permissions, Purpose, StaffId, Terms, Witness,
    };
    use wangge_services::entrustments::OpenView;
    use wangge_store::entrustments::{NewEntrustment, NewKeyEvent};
    let all = Scope::everything();
    let now = time::OffsetDateTime::now_utc();
    let terms = Terms {
        purpose: Purpose::parse("更换节能窗").unwrap(),
        period: EntrustmentPeriod::new(
            now - time::Duration::hours(1),
            now + time::Duration::days(7),
        )
        .unwrap(),
        permissions: Permissions::parse("hold_key,let_contractors_in,take_photos").unwrap(),
        channel: ContactChannel::parse("phone_call").unwrap(),
        staff: NamedStaff::new([StaffId(worker)]).unwrap(),
    };
    let new = NewEntrustment {
        household_id: g.household,
        resident_name: "张伟".into(),
        contact_phone: PhoneNumber::parse(&g.phone).unwrap(),
        entrustment: Entrustment::propose(terms, now).unwrap(),
        campaign_request_id: None,
        created_by: (None, "matrix".into()),
    };
    let e = r
        .store
        .create_entrustment(&all, &new)
        .await
        .expect("entrustment");
    let link = r.resident_link(&all, e.id).await.expect("link");
    let code = r.resident_code(&all, e.id).await.expect("code");
    let OpenView::Opened { session } = r.open_resident_view(&link, &code).await.unwrap() else {
        panic!("the code opens the view");
    };
    r.resident_step(&link, &session, EntrustmentStep::Confirm)
        .await
        .expect("confirmed");
    let received = time::OffsetDateTime::now_utc();
    let event = KeyEvent::new(KeyAction::ReceivedFromResident, received, StaffId(worker))
        .with_witness(Witness::Resident);
    let (_, ev) = r
        .store
        .append_key_event(
            &all,
            e.id,
            &NewKeyEvent {
                event,
                actor_name: "u_grid_worker".into(),
                attachment_id: None,
            },
        )
        .await
        .expect("stored")
        .expect("the custody rules allow it");
    let upload = wangge_services::attachments::Upload {
        bytes: wangge_media::fixtures::photo_with_location(),
        declared_type: Some("image/jpeg".into()),
        keep_location: false,
    };
    g.entrustment_photo = attachments
        .upload(
            &all,
            (None, "matrix"),
            wangge_store::attachments::AttachmentParent::Entrustment(e.id),
            upload,
        )
        .await
        .expect("photo")
        .id;
    g.entrustment = e.id;
    g.receipt = ev.receipt.to_string();
    g.resident_link = link;
}

/// A sweep over the grid's community, launched (its one door goes to the grid's worker, where
/// there is one), its public link open, and one resident's request matched to the door (with a
/// phone that is nobody's in the registry).
async fn campaign(r: &Registry, g: &mut GridData, seq: u16) {
    use wangge_domain::CampaignKind;
    use wangge_domain::campaign::RuleDraft;
    use wangge_domain::campaign::form::FieldDraft;
    use wangge_services::campaigns::{PlanCampaign, PublicRequest};
    use wangge_store::campaigns::{ItemFilter, ItemOrder, RequestLimits};
    let all = Scope::everything();
    let plan = PlanCampaign {
        name: "节能窗改造入户".into(),
        kind: CampaignKind::Sweep,
        purpose: Some("核实安装时段是否有人在家".into()),
        area: AreaCode::parse(&g.community_code).unwrap(),
        starts_on: date!(2026 - 11 - 20),
        ends_on: date!(2026 - 12 - 20),
        rule: RuleDraft::default(),
        form: vec![FieldDraft {
            label: "在家情况".into(),
            kind: "text".into(),
            ..Default::default()
        }],
        desk_user_id: None,
    };
    let c = r
        .create_campaign(&all, (None, "matrix"), plan)
        .await
        .expect("campaign");
    r.launch_campaign(&all, c.id).await.expect("launch");
    let c = r.set_campaign_link(&all, c.id, true).await.expect("link");
    let token = c.public_token.clone().expect("token");
    let items = r
        .store
        .campaign_items(
            &all,
            c.id,
            &ItemFilter::default(),
            ItemOrder::Id,
            &wangge_store::page::PageRequest::default(),
        )
        .await
        .expect("doors")
        .items;
    assert_eq!(items.len(), 1, "one household per grid");
    let request = PublicRequest {
        kind: "act_for_me".into(),
        message: Some("安装期间出差，请代为办理".into()),
        name: "李四".into(),
        phone: format!("1370000{seq:04}"),
        building_id: Some(g.building),
        unit: Some("2".into()),
        dwelling: "601".into(),
        website: None,
    };
    let receipt = r
        .submit_public_request(
            &token,
            &format!("10.9.0.{seq}"),
            request,
            RequestLimits::default(),
        )
        .await
        .expect("request")
        .expect("within the limits");
    assert_eq!(
        receipt.item_id,
        Some(items[0].id),
        "the request matched the door"
    );
    g.campaign = c.id;
    g.campaign_token = token;
    g.campaign_item = items[0].id;
    g.campaign_request = receipt.request_id;
}

/// An assist request on grid A's work order naming every user (all of them cover grid A),
/// delivered: each user has one in-app notification.
async fn notify_everyone(
    store: &Store,
    a: &GridData,
    users: &BTreeMap<Role, UserCreds>,
) -> BTreeMap<Role, i64> {
    let all = Scope::everything();
    let ids: Vec<i64> = users.values().map(|u| u.user_id).collect();
    let now = time::OffsetDateTime::now_utc();
    store
        .enqueue_assist_requested(&all, a.work_order, 1, &ids, None, now)
        .await
        .expect("notifications");
    wangge_services::notifications::Delivery::standard(store.clone())
        .deliver_due(now)
        .await
        .expect("delivery");
    let rows = store
        .notifications_for_order(&all, a.work_order)
        .await
        .expect("notification rows");
    users
        .iter()
        .map(|(role, u)| {
            let n = rows
                .iter()
                .find(|n| n.recipient_id == u.user_id)
                .unwrap_or_else(|| panic!("no notification for {role}"));
            (*role, n.id)
        })
        .collect()
}

async fn assist(store: &Store, work_order: i64, by: &UserCreds, to: &UserCreds) -> i64 {
    let new = wangge_store::assists::NewAssists {
        work_order_id: work_order,
        requested_by_id: by.user_id,
        requested_by: by.username.clone(),
        assignees: vec![(to.user_id, None)],
        message: "请协助清理楼道".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    store
        .create_assists(&Scope::everything(), &new)
        .await
        .expect("assist")
        .expect("an open order takes assists")[0]
        .id
}

/// A photo on the grid's visit.
async fn attach_photo(attachments: &Attachments, g: &mut GridData) {
    let upload = wangge_services::attachments::Upload {
        bytes: wangge_media::fixtures::photo_with_location(),
        declared_type: Some("image/jpeg".into()),
        keep_location: false,
    };
    let parent = wangge_store::attachments::AttachmentParent::Visit(g.visit);
    g.attachment = attachments
        .upload(&Scope::everything(), (None, "matrix"), parent, upload)
        .await
        .expect("attachment")
        .id;
}

/// A request body standing for a multipart photo upload; `Client::send` sends it as one.
pub fn photo_upload() -> Value {
    let mut m = serde_json::Map::new();
    m.insert(MULTIPART_PHOTO.to_owned(), Value::Bool(true));
    Value::Object(m)
}

const MULTIPART_PHOTO: &str = "$multipart_photo";
const BOUNDARY: &str = "wangge-matrix-boundary";

/// A multipart/form-data body with one photo in the `file` field.
pub fn multipart_photo() -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    b.extend(wangge_media::fixtures::photo_with_location());
    b.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    b
}

/// A category every matrix request may name.
pub async fn work_order_category(store: &Store) -> i64 {
    store.work_order_categories().await.expect("categories")[0].id
}

async fn work_order(r: &Registry, household: i64) -> i64 {
    let cmd = wangge_services::registry::ReportWorkOrder {
        category_id: work_order_category(&r.store).await,
        source: wangge_store::work_orders::Source::GridWorker,
        title: "楼道堆物".into(),
        description: "楼道堆放杂物，影响通行".into(),
        household_id: Some(household),
        place_id: None,
        area_id: None,
        priority: None,
    };
    let actor = wangge_store::work_orders::Actor {
        id: None,
        name: "matrix".into(),
    };
    r.report_work_order(
        &Scope::everything(),
        &actor,
        cmd,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("work order")
    .id
}

async fn visit(r: &Registry, household: i64) -> i64 {
    let cmd = wangge_services::registry::RecordVisit {
        visited: wangge_store::visits::Visited::Household(household),
        visited_at: None,
        outcome: wangge_domain::VisitOutcome::AtHome,
        purpose: Some("入户走访".into()),
        notes: None,
        observations: None,
        add_tags: Vec::new(),
        end_tags: Vec::new(),
    };
    r.record_visit(&Scope::everything(), (None, "matrix"), cmd)
        .await
        .expect("visit")
        .id
}

impl World {
    pub async fn new(ts: &TestStore) -> World {
        let registry = Registry::new(ts.store.clone(), Clock::Fixed(TODAY));
        let store = ts.store.clone();
        let city = area(&store, "140100", "太原市", AreaLevel::City, None).await;
        let city2 = area(&store, "140200", "大同市", AreaLevel::City, None).await;
        let mut a = grid(&registry, "甲", city, "140109", 11).await;
        let mut b = grid(&registry, "乙", city, "140110", 21).await;
        let mut z = grid(&registry, "丙", city2, "140202", 31).await;
        let attachments = Attachments::new(
            store.clone(),
            AttachmentSettings::in_data_dir(&ts.storage.data_dir),
        )
        .expect("attachment storage");
        for g in [&mut a, &mut b, &mut z] {
            attach_photo(&attachments, g).await;
        }
        let identity = Identity::new(store.clone());
        let password = NewPassword::parse(PASSWORD).unwrap();
        let mut users = BTreeMap::new();
        for role in Role::ALL {
            let (codes, sees): (Vec<String>, Vec<&'static str>) = match role {
                Role::GridWorker => (vec![format!("{}001", a.community_code)], vec!["A"]),
                Role::CommunityStaff => (vec![a.community_code.clone()], vec!["A"]),
                Role::SubdistrictManager => (vec!["140109001".to_owned()], vec!["A"]),
                Role::DistrictManager => (vec!["140109".to_owned()], vec!["A"]),
                Role::Admin | Role::SecurityOfficer | Role::Auditor => {
                    (vec!["140100".to_owned()], vec!["A", "B"])
                }
            };
            let username = format!("u_{}", role.as_str());
            let uname = Username::parse(&username).unwrap();
            let u = identity
                .create_user("setup", &uname, role.name_zh(), role, &codes, &password)
                .await
                .unwrap_or_else(|e| panic!("user {username}: {e:?}"));
            let (token, _) = identity
                .create_token("setup", &uname, "authz", Duration::from_secs(3600))
                .await
                .expect("token");
            users.insert(
                role,
                UserCreds {
                    username,
                    user_id: u.id,
                    token,
                    sees,
                },
            );
        }
        let notifications = notify_everyone(&store, &a, &users).await;
        for g in [&mut a, &mut b, &mut z] {
            let (by, to) = (&users[&Role::CommunityStaff], &users[&Role::GridWorker]);
            g.assist = assist(&store, g.work_order, by, to).await;
        }
        for (g, seq) in [(&mut a, 11), (&mut b, 21), (&mut z, 31)] {
            campaign(&registry, g, seq).await;
        }
        let worker = users[&Role::GridWorker].user_id;
        for g in [&mut a, &mut b, &mut z] {
            entrustment(&registry, &attachments, g, worker).await;
        }
        let tags = store
            .tags(&Scope::everything())
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.code.as_str().to_owned(), (t.id, t.sensitivity)))
            .collect();
        World {
            client: Client {
                app: wangge_web::app_with_attachments(registry, attachments),
                backend: ts.name,
            },
            store,
            identity,
            a,
            b,
            z,
            users,
            tags,
            category: work_order_category(&ts.store).await,
            notifications,
        }
    }

    /// A notification that belongs to another user than the role's.
    pub fn someone_elses_notification(&self, role: Role) -> i64 {
        let other = if role == Role::GridWorker {
            Role::CommunityStaff
        } else {
            Role::GridWorker
        };
        self.notifications[&other]
    }

    pub fn user(&self, role: Role) -> &UserCreds {
        &self.users[&role]
    }

    pub fn bearer(&self, role: Role) -> Auth<'_> {
        Auth::Bearer(&self.users[&role].token)
    }

    /// The grid whose objects are out of the role's scope: B for roles bound to A's part of the
    /// first city, Z (the second city) for the city-wide roles.
    pub fn out_of_scope(&self, role: Role) -> &GridData {
        if self.users[&role].sees.contains(&"B") {
            &self.z
        } else {
            &self.b
        }
    }

    pub fn tag_id(&self, code: &str) -> i64 {
        self.tags[code].0
    }

    /// A tag the role sees and one it does not, by the role's tag classes.
    pub fn tag_in_and_out(&self, role: Role) -> (Option<i64>, Option<i64>) {
        let classes = role.tag_classes();
        let find = |visible: bool| {
            self.tags
                .values()
                .find(|(_, s)| classes.contains(*s) == visible)
                .map(|(id, _)| *id)
        };
        (find(true), find(false))
    }
}
