//! Campaigns through the services and the scoped store, on SQLite and PostgreSQL: target rules
//! against a hand-checked fixture, freezing at launch, recording doors with their write-back,
//! coverage, scope and sensitive-tag visibility, and residents' pre-registrations with their
//! abuse limits.

use std::collections::BTreeMap;

use time::Date;
use time::macros::date;
use wangge_domain::PlaceKind;
use wangge_domain::campaign::RuleDraft;
use wangge_domain::campaign::Slot;
use wangge_domain::campaign::form::FieldDraft;
use wangge_domain::{
    AreaCode, CampaignKind, CampaignState, ContactMode, ItemOutcome, ItemStatus, PersonName,
    PhoneNumber, Relation, ResidenceType, Role, Scope, Sex, TagCode, Username,
};
use wangge_services::areas_import::import_areas;
use wangge_services::campaigns::{
    PlanCampaign, PreviewTargets, PublicRequest, RecordItem, SlotChange,
};
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::campaigns::{
    ItemFilter, ItemOrder, ItemSelection, RequestLimits, RequestRefusal,
};
use wangge_store::households::NewHousehold;
use wangge_store::identity::{NewUser, User};
use wangge_store::page::PageRequest;
use wangge_store::persons::{Joining, NewPerson};
use wangge_store::places::NewPlace;
use wangge_store::tags::{Labelled, NewTagAssignment};
use wangge_store::visits::{VisitFilter, Visited};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const TODAY: Date = date!(2026 - 11 - 25);
const COMMUNITY: &str = "140109001001";
const GRID1: &str = "140109001001001";
const GRID2: &str = "140109001001002";
const OTHER_GRID: &str = "140109001002001";

fn all() -> Scope {
    Scope::everything()
}

fn scope_of(u: &User) -> Scope {
    Scope::of(u.areas.iter().cloned()).with_tag_classes(u.role.tag_classes())
}

fn by(u: &User) -> (Option<i64>, &str) {
    (Some(u.id), u.username.as_str())
}

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

fn tag(s: &str) -> TagCode {
    TagCode::parse(s).unwrap()
}

async fn area_id(t: &TestStore, c: &str) -> i64 {
    t.store.area_by_code(&all(), &code(c)).await.unwrap().id
}

async fn user(t: &TestStore, name: &str, role: Role, c: &str) -> User {
    let area = area_id(t, c).await;
    t.store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            display_name: format!("{name}显示名"),
            role,
            password_hash: "unused".into(),
            area_ids: vec![area],
        })
        .await
        .unwrap()
}

async fn place(
    t: &TestStore,
    kind: PlaceKind,
    parent: Option<i64>,
    area: Option<i64>,
    label: &str,
    floor: Option<i64>,
) -> i64 {
    t.store
        .create_place(
            &all(),
            &NewPlace {
                kind,
                parent_id: parent,
                area_id: area,
                label: label.into(),
                floor,
            },
        )
        .await
        .unwrap()
        .id
}

/// A household in a dwelling with members (name, birth date, phone).
async fn household(
    t: &TestStore,
    dwelling: i64,
    members: &[(&str, Date, Option<&str>)],
) -> (i64, Vec<i64>) {
    let h = t
        .store
        .create_household(
            &all(),
            &NewHousehold {
                dwelling_id: Some(dwelling),
                area_id: None,
                started_on: date!(2020 - 01 - 01),
            },
        )
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for (i, (name, birth, phone)) in members.iter().enumerate() {
        let p = t
            .store
            .create_person(
                &all(),
                &NewPerson {
                    name: PersonName::parse(name).unwrap(),
                    id_number: None,
                    phone: phone.map(|p| PhoneNumber::parse(p).unwrap()),
                    sex: Sex::Unknown,
                    birth_date: Some(*birth),
                    area_id: None,
                    joining: Some(Joining {
                        household_id: h,
                        relation: Relation::parse(if i == 0 { "户主" } else { "配偶" }).unwrap(),
                        residence_type: ResidenceType::Registered,
                        started_on: date!(2020 - 01 - 01),
                    }),
                },
            )
            .await
            .unwrap()
            .id;
        ids.push(p);
    }
    (h, ids)
}

async fn tag_person(t: &TestStore, code_: &str, person: i64) -> i64 {
    let id = t.store.tag_by_code(&all(), &tag(code_)).await.unwrap().id;
    t.store
        .create_tag_assignment(
            &all(),
            &NewTagAssignment {
                tag_id: id,
                on: Labelled::Person(person),
                started_on: date!(2024 - 01 - 01),
                note: None,
            },
        )
        .await
        .unwrap()
        .id
}

struct World {
    r: Registry,
    staff: User,
    worker1: User,
    worker2: User,
    outsider: User,
    district: User,
    compound: i64,
    building1: i64,
    /// 和平小区 1号楼 1单元 101 .. 202, then 2号楼 1单元 101; 幸福里 (grid 2) 1号楼 1单元 101.
    households: Vec<i64>,
    /// Elderly party members over 70: in 1-101, 1-102 (under home health monitoring), 2-101,
    /// and 幸福里 101; one aged 65 in 1-201; one in the other community.
    party: Vec<i64>,
    /// The home health monitoring assignment of the member in 1-102.
    monitoring: i64,
}

async fn world(t: &TestStore) -> World {
    import_areas(&t.store, &all(), AREAS).await.unwrap();
    let r = Registry::new(t.store.clone(), Clock::Fixed(TODAY));
    let staff = user(t, "staff", Role::CommunityStaff, COMMUNITY).await;
    let worker1 = user(t, "worker1", Role::GridWorker, GRID1).await;
    let worker2 = user(t, "worker2", Role::GridWorker, GRID2).await;
    let outsider = user(t, "outsider", Role::CommunityStaff, "140109001002").await;
    let district = user(t, "district", Role::DistrictManager, "140109").await;

    let g1 = area_id(t, GRID1).await;
    let g2 = area_id(t, GRID2).await;
    let go = area_id(t, OTHER_GRID).await;
    let compound = place(t, PlaceKind::Compound, None, Some(g1), "和平小区", None).await;
    let building1 = place(t, PlaceKind::Building, Some(compound), None, "1", None).await;
    let building2 = place(t, PlaceKind::Building, Some(compound), None, "2", None).await;
    let u1 = place(t, PlaceKind::Unit, Some(building1), None, "1", None).await;
    let u2 = place(t, PlaceKind::Unit, Some(building2), None, "1", None).await;
    let mut dwellings = Vec::new();
    for (label, floor) in [("101", 1), ("102", 1), ("201", 2), ("202", 2)] {
        dwellings.push(place(t, PlaceKind::Dwelling, Some(u1), None, label, Some(floor)).await);
    }
    dwellings.push(place(t, PlaceKind::Dwelling, Some(u2), None, "101", Some(1)).await);
    let c2 = place(t, PlaceKind::Compound, None, Some(g2), "幸福里", None).await;
    let b21 = place(t, PlaceKind::Building, Some(c2), None, "1", None).await;
    let u21 = place(t, PlaceKind::Unit, Some(b21), None, "1", None).await;
    dwellings.push(place(t, PlaceKind::Dwelling, Some(u21), None, "101", Some(1)).await);
    let co = place(t, PlaceKind::Compound, None, Some(go), "长兴苑", None).await;
    let bo = place(t, PlaceKind::Building, Some(co), None, "1", None).await;
    let uo = place(t, PlaceKind::Unit, Some(bo), None, "1", None).await;
    let dother = place(t, PlaceKind::Dwelling, Some(uo), None, "101", Some(1)).await;

    let old = date!(1945 - 03 - 01);
    let (h1, p1) = household(t, dwellings[0], &[("王建国", old, Some("13912345601"))]).await;
    let (h2, p2) = household(
        t,
        dwellings[1],
        &[("李秀兰", old, None), ("李明", date!(1980 - 05 - 05), None)],
    )
    .await;
    let (h3, p3) = household(
        t,
        dwellings[2],
        &[("赵六十五", date!(1961 - 01 - 01), None)],
    )
    .await;
    let (h4, _) = household(t, dwellings[3], &[("钱年轻", date!(1995 - 01 - 01), None)]).await;
    let (h5, p5) = household(t, dwellings[4], &[("孙老党", old, None)]).await;
    let (h6, p6) = household(t, dwellings[5], &[("周幸福", old, None)]).await;
    let (_, po) = household(t, dother, &[("吴外区", old, None)]).await;
    let mut party = Vec::new();
    for p in [p1[0], p2[0], p3[0], p5[0], p6[0], po[0]] {
        tag_person(t, "elderly_party_member", p).await;
        party.push(p);
    }
    let monitoring = tag_person(t, "home_health_monitoring", p2[1]).await;
    World {
        r,
        staff,
        worker1,
        worker2,
        outsider,
        district,
        compound,
        building1,
        households: vec![h1, h2, h3, h4, h5, h6],
        party,
        monitoring,
    }
}

fn form() -> Vec<FieldDraft> {
    let mut living = FieldDraft {
        label: "居住情况".into(),
        kind: "choice".into(),
        required: true,
        ..Default::default()
    };
    living.options = vec!["独居".into(), "与家人同住".into()];
    vec![
        FieldDraft {
            label: "健康状况".into(),
            kind: "text".into(),
            required: true,
            ..Default::default()
        },
        living,
        FieldDraft {
            label: "意见建议".into(),
            kind: "text".into(),
            ..Default::default()
        },
    ]
}

fn delivery(rule: RuleDraft) -> PlanCampaign {
    PlanCampaign {
        name: "送书上门".into(),
        kind: CampaignKind::Delivery,
        purpose: Some("为老党员送书，了解健康和生活情况".into()),
        area: code(COMMUNITY),
        starts_on: date!(2026 - 11 - 20),
        ends_on: date!(2026 - 11 - 30),
        rule,
        form: form(),
        desk_user_id: None,
    }
}

fn w3_rule(w: &World) -> RuleDraft {
    RuleDraft {
        tags: vec![tag("elderly_party_member")],
        age_min: Some(70),
        places: vec![w.compound],
        ..Default::default()
    }
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

fn done(a: &[(&str, &str)]) -> RecordItem {
    RecordItem {
        outcome: ItemOutcome::Done,
        mode: None,
        answers: answers(a),
        photos: 0,
        note: None,
        add_tags: vec![],
        end_tags: vec![],
    }
}

async fn items(
    w: &World,
    scope: &Scope,
    campaign: i64,
) -> Vec<wangge_store::campaigns::CampaignItem> {
    w.r.store
        .campaign_items(
            scope,
            campaign,
            &ItemFilter::default(),
            ItemOrder::Doors,
            &PageRequest {
                after: None,
                limit: 500,
            },
        )
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn target_rules_select_the_hand_checked_doors() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.staff);
        let preview = |rule: RuleDraft, kind: CampaignKind| {
            let r = w.r.clone();
            let s = s.clone();
            async move {
                r.preview_campaign(
                    &s,
                    PreviewTargets {
                        area: code(COMMUNITY),
                        kind,
                        rule,
                    },
                )
                .await
                .unwrap()
            }
        };
        // W3: party members of 70 and over in 和平小区: 1-101, 1-102, 2-101 (not the one of 65,
        // not 幸福里, not the other community); 1-102 is contactless.
        let p = preview(w3_rule(&w), CampaignKind::Delivery).await;
        assert_eq!(
            (p.targets, p.households, p.contactless),
            (3, 3, 1),
            "[{b}] W3 preview"
        );
        // The whole community, every household: a sweep (6 households; none elsewhere).
        let p = preview(RuleDraft::default(), CampaignKind::Sweep).await;
        assert_eq!(
            (p.targets, p.households, p.contactless),
            (6, 6, 1),
            "[{b}] sweep"
        );
        // Households with a party member, any age, excluding 1-101, including 1-202.
        let p = preview(
            RuleDraft {
                tags: vec![tag("elderly_party_member")],
                exclude_households: vec![w.households[0]],
                include_households: vec![w.households[3]],
                ..Default::default()
            },
            CampaignKind::Sweep,
        )
        .await;
        assert_eq!(p.targets, 5, "[{b}] include/exclude");
        // Building 1 only, aged 70–90, persons: 王建国, 李秀兰.
        let p = preview(
            RuleDraft {
                places: vec![w.building1],
                age_min: Some(70),
                age_max: Some(90),
                ..Default::default()
            },
            CampaignKind::CareCheck,
        )
        .await;
        assert_eq!((p.targets, p.households), (2, 2), "[{b}] building and ages");
        // Grid 2 only.
        let p = preview(
            RuleDraft {
                areas: vec![code(GRID2)],
                ..Default::default()
            },
            CampaignKind::Sweep,
        )
        .await;
        assert_eq!(p.targets, 1, "[{b}] one grid");
        // An area outside the campaign's, a hidden tag, a bad age range: refused with fields.
        let e =
            w.r.preview_campaign(
                &s,
                PreviewTargets {
                    area: code(COMMUNITY),
                    kind: CampaignKind::Sweep,
                    rule: RuleDraft {
                        areas: vec![code(OTHER_GRID)],
                        tags: vec![tag("returned_overseas_chinese")],
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap_err();
        let ServiceError::Invalid(fields) = e else {
            panic!("[{b}] expected invalid")
        };
        let fields: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["rule.areas[0]", "rule.tags[0]"], "[{b}]");
        // Someone from another community cannot plan here at all.
        let e =
            w.r.preview_campaign(
                &scope_of(&w.outsider),
                PreviewTargets {
                    area: code(COMMUNITY),
                    kind: CampaignKind::Sweep,
                    rule: RuleDraft::default(),
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, ServiceError::Invalid(_)),
            "[{b}] outsider: {e:?}"
        );
    }
}

#[tokio::test]
async fn launch_freezes_the_list_and_newcomers_join_only_on_demand() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.staff);
        let c =
            w.r.create_campaign(&s, by(&w.staff), delivery(w3_rule(&w)))
                .await
                .unwrap();
        assert_eq!(c.state, CampaignState::Draft);
        assert!(
            items(&w, &s, c.id).await.is_empty(),
            "[{b}] a draft has no doors"
        );
        let c = w.r.launch_campaign(&s, c.id).await.unwrap();
        assert_eq!(
            (c.state, c.target_count),
            (CampaignState::Active, 3),
            "[{b}]"
        );
        let list = items(&w, &s, c.id).await;
        let names: Vec<&str> = list
            .iter()
            .map(|i| i.person_name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["王建国", "李秀兰", "孙老党"], "[{b}] walking order");
        assert_eq!(
            list[1].mode,
            ContactMode::Contactless,
            "[{b}] home health monitoring"
        );
        assert_eq!(
            list[0].assignee_id,
            Some(w.worker1.id),
            "[{b}] the grid's worker"
        );
        assert!(list[0].address.contains("和平小区"), "[{b}] address copied");

        // Launching twice is a conflict; so is changing the plan now.
        let e = w.r.launch_campaign(&s, c.id).await.unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Conflict {
                    code: "campaign.not_draft",
                    ..
                }
            ),
            "[{b}] {e:?}"
        );
        let e =
            w.r.update_campaign(&s, c.id, delivery(RuleDraft::default()))
                .await
                .unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Conflict {
                    code: "campaign.not_draft",
                    ..
                }
            ),
            "[{b}] {e:?}"
        );

        // The registry changes: the young member of 1-202 is tagged (the age rule keeps her
        // out), then an elderly party member moves into 1-202. Nothing joins by itself.
        tag_person(&t, "elderly_party_member", {
            let m =
                w.r.store
                    .members(&all(), w.households[3], false)
                    .await
                    .unwrap();
            m[0].person_id
        })
        .await;
        let fresh = w.r.preview_newcomers(&s, c.id).await.unwrap();
        assert_eq!(
            fresh.targets, 0,
            "[{b}] a young member does not enter the rule"
        );
        let (_, newcomer) = household(
            &t,
            {
                let d = w.r.store.household(&all(), w.households[3]).await.unwrap();
                d.dwelling_id.unwrap()
            },
            &[("冯新来", date!(1940 - 01 - 01), None)],
        )
        .await;
        tag_person(&t, "elderly_party_member", newcomer[0]).await;
        let c = w.r.store.campaign(&s, c.id).await.unwrap();
        assert_eq!(c.target_count, 3, "[{b}] frozen");
        assert_eq!(items(&w, &s, c.id).await.len(), 3, "[{b}] frozen");
        let fresh = w.r.preview_newcomers(&s, c.id).await.unwrap();
        assert_eq!(fresh.targets, 1, "[{b}] one newcomer");
        assert_eq!(w.r.add_newcomers(&s, c.id).await.unwrap(), 1, "[{b}]");
        assert_eq!(
            w.r.add_newcomers(&s, c.id).await.unwrap(),
            0,
            "[{b}] added once"
        );
        let c = w.r.store.campaign(&s, c.id).await.unwrap();
        assert_eq!(c.target_count, 4, "[{b}] denominator grew on demand");
        assert!(
            items(&w, &s, c.id)
                .await
                .iter()
                .any(|i| i.added_after_launch),
            "[{b}]"
        );
    }
}

#[tokio::test]
async fn doors_are_recorded_with_visits_write_back_and_coverage() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.staff);
        let c =
            w.r.create_campaign(&s, by(&w.staff), delivery(w3_rule(&w)))
                .await
                .unwrap();
        w.r.launch_campaign(&s, c.id).await.unwrap();
        let gw = scope_of(&w.worker1);
        let list = items(&w, &gw, c.id).await;
        assert_eq!(list.len(), 3, "[{b}] the grid worker's doors");

        // Done without the required answers: refused, nothing recorded.
        let e =
            w.r.record_item(&gw, by(&w.worker1), list[0].id, done(&[("f1", "身体硬朗")]))
                .await
                .unwrap_err();
        let ServiceError::Invalid(f) = e else {
            panic!("[{b}]")
        };
        assert_eq!(f[0].field, "answers.f2", "[{b}]");
        assert_eq!(
            w.r.store
                .campaign_item(&gw, list[0].id)
                .await
                .unwrap()
                .attempts,
            0,
            "[{b}]"
        );

        // Not home first, then done: two attempts, two visits on the person's history.
        let mut nh = done(&[]);
        nh.outcome = ItemOutcome::NotHome;
        w.r.record_item(&gw, by(&w.worker1), list[0].id, nh)
            .await
            .unwrap();
        let (item, visit) =
            w.r.record_item(
                &gw,
                by(&w.worker1),
                list[0].id,
                done(&[("f1", "身体硬朗"), ("f2", "独居"), ("f3", "希望多组织活动")]),
            )
            .await
            .unwrap();
        assert_eq!((item.status, item.attempts), (ItemStatus::Done, 2), "[{b}]");
        let v = w.r.store.visit(&gw, visit.unwrap()).await.unwrap();
        assert_eq!(v.campaign_item_id, Some(item.id), "[{b}]");
        assert_eq!(v.purpose.as_deref(), Some("送书上门"), "[{b}]");
        assert!(
            v.notes.unwrap().contains("意见建议：希望多组织活动"),
            "[{b}]"
        );
        let history =
            w.r.store
                .visits(
                    &gw,
                    &VisitFilter {
                        visited: Some(Visited::Person(w.party[0])),
                        within: None,
                    },
                    &PageRequest::default(),
                )
                .await
                .unwrap();
        assert_eq!(history.items.len(), 2, "[{b}] both attempts are visits");
        // Finished: recording again is a conflict until staff reopen.
        let e =
            w.r.record_item(
                &gw,
                by(&w.worker1),
                item.id,
                done(&[("f1", "x"), ("f2", "独居")]),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Conflict {
                    code: "campaign_item.finished",
                    ..
                }
            ),
            "[{b}]"
        );

        // Contactless delivery that also ends the household's home health monitoring.
        let mut cl = done(&[("f1", "居家观察中，电话联系"), ("f2", "与家人同住")]);
        cl.end_tags = vec![w.monitoring];
        let (item, visit) =
            w.r.record_item(&gw, by(&w.worker1), list[1].id, cl)
                .await
                .unwrap();
        assert_eq!(item.mode, ContactMode::Contactless, "[{b}]");
        let v = w.r.store.visit(&gw, visit.unwrap()).await.unwrap();
        assert_eq!(v.outcome.as_str(), "phone", "[{b}] contactless is a call");
        let ended =
            w.r.store
                .tag_assignment(&all(), w.monitoring)
                .await
                .unwrap();
        assert!(
            ended.ended_on.is_some(),
            "[{b}] monitoring ended in the same step"
        );

        // Not found: no visit.
        let mut nf = done(&[]);
        nf.outcome = ItemOutcome::NotFound;
        let (_, visit) =
            w.r.record_item(&gw, by(&w.worker1), list[2].id, nf)
                .await
                .unwrap();
        assert!(visit.is_none(), "[{b}]");

        let counts = w.r.store.campaign_counts(&s, c.id, TODAY).await.unwrap();
        let total = counts.iter().fold((0, 0, 0, 0), |a, (_, c)| {
            (
                a.0 + c.total,
                a.1 + c.done,
                a.2 + c.not_found,
                a.3 + c.contactless,
            )
        });
        assert_eq!(
            total,
            (3, 2, 1, 1),
            "[{b}] coverage against the frozen list"
        );

        // Reopen (staff) and the grid worker of another grid sees none of these doors.
        let item = w.r.reopen_item(&s, by(&w.staff), list[2].id).await.unwrap();
        assert_eq!(item.status, ItemStatus::Pending, "[{b}]");
        assert!(
            items(&w, &scope_of(&w.worker2), c.id).await.is_empty(),
            "[{b}]"
        );
        assert!(
            w.r.store
                .campaign(&scope_of(&w.worker2), c.id)
                .await
                .is_ok(),
            "[{b}] campaign visible"
        );
        assert!(
            w.r.store
                .campaign(&scope_of(&w.outsider), c.id)
                .await
                .is_err(),
            "[{b}] other community"
        );
        assert!(
            w.r.store
                .campaign_item(&scope_of(&w.worker2), list[0].id)
                .await
                .is_err(),
            "[{b}]"
        );
    }
}

/// What the dashboard's planning panels read: doors per building with their slots and
/// assignees (inside the caller's scope), and the staff a campaign's doors may go to.
#[tokio::test]
async fn buildings_summarise_doors_slots_and_assignees_and_staff_cover_the_area() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.staff);
        let mut plan = delivery(RuleDraft::default());
        plan.kind = CampaignKind::Sweep;
        plan.form = vec![];
        let c = w.r.create_campaign(&s, by(&w.staff), plan).await.unwrap();
        w.r.launch_campaign(&s, c.id).await.unwrap();
        let slot = Slot::new(
            date!(2026 - 11 - 26),
            date!(2026 - 11 - 28),
            Some("需有人在家"),
        )
        .unwrap();
        w.r.set_item_slots(
            &s,
            c.id,
            &ItemSelection::Building(w.building1),
            &SlotChange::Set(slot.clone()),
        )
        .await
        .unwrap();
        let mut nh = done(&[]);
        nh.outcome = ItemOutcome::Refused;
        let first = items(&w, &s, c.id).await[0].id;
        w.r.record_item(&scope_of(&w.worker1), by(&w.worker1), first, nh)
            .await
            .unwrap();

        let rows = w.r.store.campaign_building_summary(&s, c.id).await.unwrap();
        // 和平小区 1号楼 (four households), 2号楼 (one), 幸福里 1号楼 (one).
        assert_eq!(rows.len(), 3, "[{b}] {rows:?}");
        let b1 = rows
            .iter()
            .find(|r| r.building_id == Some(w.building1))
            .unwrap();
        assert_eq!((b1.doors, b1.open), (4, 3), "[{b}] one refused");
        assert_eq!(b1.slots, vec![(slot, 4)], "[{b}]");
        assert_eq!(
            b1.assignees,
            vec![(Some("worker1显示名".to_owned()), 4)],
            "[{b}]"
        );
        assert!(
            b1.address.ends_with("和平小区1号楼"),
            "[{b}] {}",
            b1.address
        );
        let other = rows
            .iter()
            .find(|r| r.building_id != Some(w.building1))
            .unwrap();
        assert!(other.slots.is_empty(), "[{b}] no slot set there");
        // A grid worker sees the buildings of their own grid only.
        let theirs =
            w.r.store
                .campaign_building_summary(&scope_of(&w.worker2), c.id)
                .await
                .unwrap();
        assert_eq!(theirs.len(), 1, "[{b}]");
        assert_eq!(
            theirs[0].assignees,
            vec![(Some("worker2显示名".to_owned()), 1)],
            "[{b}]"
        );

        // Staff for the community: those working in it or inside it, or over it.
        let staff = w.r.store.campaign_staff(&c.area_path).await.unwrap();
        let mut names: Vec<&str> = staff.iter().map(|u| u.username.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["district", "staff", "worker1", "worker2"],
            "[{b}] not the other community's staff"
        );
        // For grid 2: its worker and those over it.
        let g2 = w.r.store.area_by_code(&all(), &code(GRID2)).await.unwrap();
        let staff = w.r.store.campaign_staff(&g2.path).await.unwrap();
        let mut names: Vec<&str> = staff.iter().map(|u| u.username.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["district", "staff", "worker2"], "[{b}]");
    }
}

#[tokio::test]
async fn campaigns_on_sensitive_tags_are_invisible_without_their_class() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let d = scope_of(&w.district);
        let mut plan = delivery(RuleDraft {
            tags: vec![tag("returned_overseas_chinese")],
            ..Default::default()
        });
        plan.name = "侨务走访".into();
        let c =
            w.r.create_campaign(&d, by(&w.district), plan)
                .await
                .unwrap();
        assert!(w.r.store.campaign(&d, c.id).await.is_ok(), "[{b}]");
        let staff = w.r.store.campaign(&scope_of(&w.staff), c.id).await;
        assert!(
            staff.is_err(),
            "[{b}] community staff may not see united-front campaigns"
        );
        let list =
            w.r.store
                .campaigns(
                    &scope_of(&w.staff),
                    &Default::default(),
                    &PageRequest::default(),
                )
                .await
                .unwrap();
        assert!(
            list.items.iter().all(|x| x.id != c.id),
            "[{b}] nor list them"
        );
    }
}

fn request(kind: &str, building: Option<i64>, dwelling: &str, phone: &str) -> PublicRequest {
    PublicRequest {
        kind: kind.into(),
        message: Some("11月12日出差，钥匙可交网格员".into()),
        name: "王建国".into(),
        phone: phone.into(),
        building_id: building,
        unit: Some("1".into()),
        dwelling: dwelling.into(),
        website: None,
    }
}

#[tokio::test]
async fn residents_pre_register_without_learning_anything_and_within_limits() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.staff);
        let mut plan = delivery(RuleDraft::default());
        plan.kind = CampaignKind::Sweep;
        plan.name = "节能窗改造入户".into();
        plan.form = vec![];
        plan.desk_user_id = Some(w.staff.id);
        let c = w.r.create_campaign(&s, by(&w.staff), plan).await.unwrap();
        // No link while a draft.
        assert!(
            w.r.set_campaign_link(&s, c.id, true).await.is_err(),
            "[{b}]"
        );
        w.r.launch_campaign(&s, c.id).await.unwrap();
        let c = w.r.set_campaign_link(&s, c.id, true).await.unwrap();
        let token = c.public_token.clone().unwrap();
        let (_, buildings) = w.r.public_campaign(&token).await.unwrap();
        assert_eq!(
            buildings.len(),
            3,
            "[{b}] two buildings in 和平小区, one in 幸福里"
        );
        let limits = RequestLimits {
            per_client_per_hour: 3,
            per_campaign_per_day: 100,
        };

        // Matched (with the registered phone) and unmatched requests both get a reference.
        let ok =
            w.r.submit_public_request(
                &token,
                "10.0.0.1",
                request("act_for_me", Some(w.building1), "101", "13912345601"),
                limits,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ok.reference.len(), 8, "[{b}]");
        assert!(ok.item_id.is_some(), "[{b}] matched a door");
        assert_eq!(ok.handler_id, Some(w.staff.id), "[{b}] the named desk");
        let miss =
            w.r.submit_public_request(
                &token,
                "10.0.0.1",
                request("reschedule", Some(w.building1), "909", "13700000000"),
                limits,
            )
            .await
            .unwrap()
            .unwrap();
        assert!(miss.item_id.is_none(), "[{b}] kept for staff to resolve");
        let reqs = w.r.store.campaign_requests(&s, c.id, true).await.unwrap();
        assert_eq!(reqs.len(), 2, "[{b}]");
        let matched = reqs.iter().find(|r| r.id == ok.request_id).unwrap();
        assert!(matched.phone_matches, "[{b}] phone matches a member");
        assert!(
            !matched.contact_phone_masked.contains("12345601"),
            "[{b}] masked"
        );
        assert_eq!(
            w.r.store
                .campaign_request_phone(&s, ok.request_id)
                .await
                .unwrap(),
            "13912345601"
        );
        // The desk was told.
        let inbox =
            w.r.store
                .inbox(&s, w.staff.id, &PageRequest::default())
                .await
                .unwrap();
        assert!(inbox.items.is_empty(), "[{b}] not yet delivered");

        // Bad input: specific errors, nothing written.
        let e =
            w.r.submit_public_request(
                &token,
                "10.0.0.2",
                request("party", None, "", "123"),
                limits,
            )
            .await
            .unwrap_err();
        let ServiceError::Invalid(f) = e else {
            panic!("[{b}]")
        };
        let fields: Vec<&str> = f.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["kind", "phone", "dwelling"], "[{b}]");
        // A bot filling the hidden field: refused, nothing kept.
        let mut bot = request("other", None, "101", "13900000000");
        bot.website = Some("http://spam".into());
        let r =
            w.r.submit_public_request(&token, "10.0.0.3", bot, limits)
                .await
                .unwrap();
        assert_eq!(r, Err(RequestRefusal::ClientLimit), "[{b}]");
        // The client limit: a third request passes, a fourth is refused and writes nothing.
        w.r.submit_public_request(
            &token,
            "10.0.0.1",
            request("other", None, "102", "13900000001"),
            limits,
        )
        .await
        .unwrap()
        .unwrap();
        let r =
            w.r.submit_public_request(
                &token,
                "10.0.0.1",
                request("other", None, "102", "13900000001"),
                limits,
            )
            .await
            .unwrap();
        assert_eq!(r, Err(RequestRefusal::ClientLimit), "[{b}]");
        assert_eq!(
            w.r.store
                .campaign_requests(&s, c.id, false)
                .await
                .unwrap()
                .len(),
            3,
            "[{b}]"
        );
        // Another address is fine; the campaign limit stops a flood.
        let tight = RequestLimits {
            per_client_per_hour: 3,
            per_campaign_per_day: 3,
        };
        let r =
            w.r.submit_public_request(
                &token,
                "10.0.0.9",
                request("other", None, "102", "13900000002"),
                tight,
            )
            .await
            .unwrap();
        assert_eq!(r, Err(RequestRefusal::CampaignLimit), "[{b}]");

        // Staff resolve the unmatched one onto a door; closing the link ends the page.
        let door = items(&w, &s, c.id).await[3].id;
        let h =
            w.r.handle_campaign_request(&s, "staff", miss.request_id, Some(door))
                .await
                .unwrap();
        assert_eq!((h.open, h.item_id), (false, Some(door)), "[{b}]");
        w.r.set_campaign_link(&s, c.id, false).await.unwrap();
        assert!(
            w.r.public_campaign(&token).await.is_err(),
            "[{b}] link closed"
        );
    }
}
