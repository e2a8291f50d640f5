//! Entrustments and key custody through the services, on SQLite and PostgreSQL: W1's chain of
//! hand-overs, the resident's own page (link, code, confirm, complete, the access log), the
//! hash chain catching an edited event or edited terms, revocation, and overdue keys raising one
//! work order each.

use time::macros::date;
use time::{Duration, OffsetDateTime};
use wangge_domain::entrustment::{EntrustmentState, EntrustmentStep, HolderKind};
use wangge_domain::{
    AreaCode, PersonName, PhoneNumber, PlaceKind, Relation, ResidenceType, Role, Scope, Sex,
    Username,
};
use wangge_services::areas_import::import_areas;
use wangge_services::entrustments::{EntrustCommand, OpenView, RecordKeyEvent};
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::audit::NewAuditEvent;
use wangge_store::households::NewHousehold;
use wangge_store::identity::{NewUser, User};
use wangge_store::page::PageRequest;
use wangge_store::params;
use wangge_store::persons::{Joining, NewPerson};
use wangge_store::places::NewPlace;
use wangge_store::work_orders::WorkOrderFilter;
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const GRID: &str = "140109001001001";
const COMMUNITY: &str = "140109001001";

fn all() -> Scope {
    Scope::everything()
}

fn scope_of(u: &User) -> Scope {
    Scope::of(u.areas.iter().cloned()).with_tag_classes(u.role.tag_classes())
}

fn by(u: &User) -> (i64, &str) {
    (u.id, u.username.as_str())
}

async fn user(t: &TestStore, name: &str, role: Role, code: &str) -> User {
    let area = t
        .store
        .area_by_code(&all(), &AreaCode::parse(code).unwrap())
        .await
        .unwrap();
    t.store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            display_name: format!("{name}显示名"),
            role,
            password_hash: "unused".into(),
            area_ids: vec![area.id],
        })
        .await
        .unwrap()
}

struct World {
    r: Registry,
    worker: User,
    mate: User,
    staff: User,
    outsider: User,
    household: i64,
    person: i64,
}

async fn world(t: &TestStore) -> World {
    import_areas(&t.store, &all(), AREAS).await.unwrap();
    let r = Registry::new(t.store.clone(), Clock::Fixed(date!(2026 - 11 - 25)));
    let worker = user(t, "worker", Role::GridWorker, GRID).await;
    let mate = user(t, "mate", Role::GridWorker, GRID).await;
    let staff = user(t, "staff", Role::CommunityStaff, COMMUNITY).await;
    let outsider = user(t, "outsider", Role::CommunityStaff, "140109001002").await;
    let grid = t
        .store
        .area_by_code(&all(), &AreaCode::parse(GRID).unwrap())
        .await
        .unwrap()
        .id;
    let place = |kind, parent, area, label: &str| {
        let store = t.store.clone();
        let label = label.to_owned();
        async move {
            store
                .create_place(
                    &all(),
                    &NewPlace {
                        kind,
                        parent_id: parent,
                        area_id: area,
                        label,
                        floor: Some(6),
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let c = place(PlaceKind::Compound, None, Some(grid), "和平小区").await;
    let b = place(PlaceKind::Building, Some(c), None, "14").await;
    let u = place(PlaceKind::Unit, Some(b), None, "2").await;
    let d = place(PlaceKind::Dwelling, Some(u), None, "601").await;
    let household = t
        .store
        .create_household(
            &all(),
            &NewHousehold {
                dwelling_id: Some(d),
                area_id: None,
                started_on: date!(2020 - 01 - 01),
            },
        )
        .await
        .unwrap()
        .id;
    let person = t
        .store
        .create_person(
            &all(),
            &NewPerson {
                name: PersonName::parse("王建国").unwrap(),
                id_number: None,
                phone: Some(PhoneNumber::parse("13912340601").unwrap()),
                sex: Sex::Male,
                birth_date: Some(date!(1962 - 03 - 01)),
                area_id: None,
                joining: Some(Joining {
                    household_id: household,
                    relation: Relation::parse("户主").unwrap(),
                    residence_type: ResidenceType::Registered,
                    started_on: date!(2020 - 01 - 01),
                }),
            },
        )
        .await
        .unwrap()
        .id;
    World {
        r,
        worker,
        mate,
        staff,
        outsider,
        household,
        person,
    }
}

fn today() -> time::Date {
    OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
}

fn entrust(w: &World, days: i64) -> EntrustCommand {
    EntrustCommand {
        household_id: w.household,
        resident_name: "王建国".into(),
        phone: "13912340601".into(),
        purpose: "更换节能窗".into(),
        first_day: Some(today()),
        last_day: Some(today() + Duration::days(days)),
        acts: vec![
            "hold_key".into(),
            "let_contractors_in".into(),
            "take_photos".into(),
        ],
        channel: "phone_call".into(),
        staff_ids: vec![w.worker.id, w.mate.id],
    }
}

fn key(kind: &str) -> RecordKeyEvent {
    RecordKeyEvent {
        kind: kind.into(),
        ..Default::default()
    }
}

fn witnessed(kind: &str, witness: &str) -> RecordKeyEvent {
    RecordKeyEvent {
        witness: Some(witness.into()),
        ..key(kind)
    }
}

/// A confirmed entrustment: link, code, the resident's confirmation. Returns the link and the
/// view session.
async fn confirmed(w: &World, s: &Scope, id: i64) -> (String, String) {
    let link = w.r.resident_link(s, id).await.unwrap();
    let code = w.r.resident_code(s, id).await.unwrap();
    let OpenView::Opened { session } = w.r.open_resident_view(&link, &code).await.unwrap() else {
        panic!("the right code opens the view");
    };
    let e =
        w.r.resident_step(&link, &session, EntrustmentStep::Confirm)
            .await
            .unwrap();
    assert_eq!(e.entrustment.state, EntrustmentState::Active);
    (link, session)
}

#[tokio::test]
async fn w1_key_chain_from_the_resident_and_back_with_the_residents_own_view() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.worker);
        let e =
            w.r.create_entrustment(&s, by(&w.worker), entrust(&w, 3))
                .await
                .unwrap();
        assert_eq!(
            e.entrustment.state,
            EntrustmentState::AwaitingConfirmation,
            "[{b}]"
        );
        assert!(e.address.contains("14号楼"), "[{b}] {}", e.address);
        assert_eq!(e.contact_phone_masked, "139****0601", "[{b}]");
        // Nothing happens to the key before the resident confirms.
        let err =
            w.r.record_key_event(
                &s,
                by(&w.worker),
                e.id,
                witnessed("received_from_resident", "resident"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Conflict {
                    code: "custody.outside_consent",
                    ..
                }
            ),
            "[{b}] {err:?}"
        );

        // The resident's page: a wrong code, then the right one; confirm.
        let link = w.r.resident_link(&s, e.id).await.unwrap();
        let code = w.r.resident_code(&s, e.id).await.unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_eq!(
            w.r.open_resident_view(&link, wrong).await.unwrap(),
            OpenView::Wrong { tries_left: 4 },
            "[{b}]"
        );
        let OpenView::Opened { session } = w.r.open_resident_view(&link, &code).await.unwrap()
        else {
            panic!("[{b}]")
        };
        assert_eq!(
            w.r.open_resident_view(&link, &code).await.unwrap(),
            OpenView::NoCode,
            "[{b}] a code works once"
        );
        w.r.resident_step(&link, &session, EntrustmentStep::Confirm)
            .await
            .unwrap();

        // W1: received, stored, taken out, lent to the contractor, back, home.
        let back = OffsetDateTime::now_utc() + Duration::hours(4);
        let steps = [
            witnessed("received_from_resident", "resident"),
            RecordKeyEvent {
                slot: Some("a3".into()),
                ..key("stored")
            },
            key("taken_from_cabinet"),
            RecordKeyEvent {
                contractor_name: Some("张师傅".into()),
                company: Some("晋阳门窗安装公司".into()),
                contractor_phone: Some("13800001111".into()),
                expected_return: Some(back),
                ..witnessed("lent_to_contractor", "contractor")
            },
            witnessed("returned_to_custody", "contractor"),
            RecordKeyEvent {
                witness: Some("colleague".into()),
                witness_id: Some(w.mate.id),
                ..key("returned_to_resident")
            },
        ];
        let mut receipts = Vec::new();
        for step in steps {
            let (rec, ev) =
                w.r.record_key_event(&s, by(&w.worker), e.id, step)
                    .await
                    .unwrap();
            receipts.push(ev.receipt);
            assert!(!ev.late, "[{b}]");
            if ev.seq == 2 {
                assert_eq!(
                    (rec.holder, rec.cabinet_slot.as_deref()),
                    (HolderKind::Cabinet, Some("A-03")),
                    "[{b}]"
                );
            }
            if ev.seq == 4 {
                assert_eq!(rec.holder, HolderKind::Contractor, "[{b}]");
                assert_eq!(
                    ev.contractor_phone_masked.as_deref(),
                    Some("138****1111"),
                    "[{b}]"
                );
            }
        }
        // The key is home: nothing but corrections now.
        let err =
            w.r.record_key_event(&s, by(&w.worker), e.id, key("taken_from_cabinet"))
                .await
                .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Conflict {
                    code: "custody.ended",
                    ..
                }
            ),
            "[{b}] {err:?}"
        );
        // Bad input: specific errors, nothing recorded.
        let err =
            w.r.record_key_event(
                &s,
                by(&w.worker),
                e.id,
                RecordKeyEvent {
                    kind: "stored".into(),
                    slot: Some("？".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        let ServiceError::Invalid(f) = err else {
            panic!("[{b}]")
        };
        assert_eq!(f[0].field, "slot", "[{b}]");

        // A staff read of the household is in the resident's access log, in plain words.
        w.r.store
            .append_audit(&NewAuditEvent {
                actor_id: Some(w.staff.id),
                actor: "staff".into(),
                role: Some("community_staff".into()),
                action: "person.reveal".into(),
                object_type: Some("person".into()),
                object_id: Some(w.person),
                reason: Some("核实委托人联系方式".into()),
                outcome: "200".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        // The resident says the key is back; their page shows the whole chain.
        let done =
            w.r.resident_step(&link, &session, EntrustmentStep::Complete)
                .await
                .unwrap();
        assert_eq!(done.entrustment.state, EntrustmentState::Completed, "[{b}]");
        let view = w.r.resident_view(&link, &session).await.unwrap();
        assert_eq!(view.events.len(), 6, "[{b}]");
        assert_eq!(
            view.events.iter().map(|e| e.receipt).collect::<Vec<_>>(),
            receipts,
            "[{b}]"
        );
        let rows = Registry::access_rows(&view);
        let reveal = rows
            .iter()
            .find(|r| r.who == "staff显示名")
            .expect("the staff read is listed");
        assert_eq!(
            reveal.what_zh, "查看了家庭成员的完整身份证号或手机号",
            "[{b}]"
        );
        assert_eq!(
            reveal.reason.as_deref(),
            Some("核实委托人联系方式"),
            "[{b}]"
        );
        assert_eq!(reveal.role_zh, "社区工作人员", "[{b}]");
        assert!(
            rows.iter().all(|r| r.who != "resident"),
            "[{b}] the resident's own steps are not accesses"
        );

        // Receipts can be checked by their code; the chain verifies.
        let (_, found) =
            w.r.store
                .key_event_by_receipt(&s, &receipts[3])
                .await
                .unwrap();
        assert_eq!(found.seq, 4, "[{b}]");
        assert!(
            w.r.store.verify_custody_chains().await.unwrap().is_empty(),
            "[{b}]"
        );

        // Out of scope: another community's staff see nothing.
        assert!(
            w.r.store
                .entrustment(&scope_of(&w.outsider), e.id)
                .await
                .is_err(),
            "[{b}]"
        );
        // A new link replaces the old one.
        w.r.resident_link(&s, e.id).await.unwrap();
        assert!(
            w.r.resident_view(&link, &session).await.is_err(),
            "[{b}] the old link is dead"
        );
    }
}

#[tokio::test]
async fn an_edited_event_or_edited_terms_break_the_chain_where_they_were_edited() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.worker);
        let e =
            w.r.create_entrustment(&s, by(&w.worker), entrust(&w, 3))
                .await
                .unwrap();
        confirmed(&w, &s, e.id).await;
        for step in [
            witnessed("received_from_resident", "resident"),
            RecordKeyEvent {
                slot: Some("A-03".into()),
                ..key("stored")
            },
            key("taken_from_cabinet"),
        ] {
            w.r.record_key_event(&s, by(&w.worker), e.id, step)
                .await
                .unwrap();
        }
        assert!(
            w.r.store.verify_custody_chains().await.unwrap().is_empty(),
            "[{b}]"
        );
        let db = w.r.store.db();
        db.execute(
            "UPDATE key_events SET cabinet_slot = 'B-09' WHERE entrustment_id = ? AND seq = 2",
            &params![e.id],
        )
        .await
        .unwrap();
        let broken = w.r.store.verify_custody_chains().await.unwrap();
        assert_eq!(
            (broken[0].entrustment_id, broken[0].seq, broken[0].problem),
            (e.id, Some(2), "content changed"),
            "[{b}]"
        );
        db.execute(
            "UPDATE key_events SET cabinet_slot = 'A-03' WHERE entrustment_id = ? AND seq = 2",
            &params![e.id],
        )
        .await
        .unwrap();
        db.execute(
            "UPDATE entrustments SET purpose = '其他用途' WHERE id = ?",
            &params![e.id],
        )
        .await
        .unwrap();
        let broken = w.r.store.verify_custody_chains().await.unwrap();
        assert_eq!(
            (broken[0].seq, broken[0].problem),
            (None, "terms changed"),
            "[{b}]"
        );
    }
}

#[tokio::test]
async fn a_revoked_entrustment_lends_nothing_and_overdue_keys_raise_one_work_order() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.worker);
        // Revoked with the key in hand: it can only go home.
        let e =
            w.r.create_entrustment(&s, by(&w.worker), entrust(&w, 3))
                .await
                .unwrap();
        let (link, session) = confirmed(&w, &s, e.id).await;
        w.r.record_key_event(
            &s,
            by(&w.worker),
            e.id,
            witnessed("received_from_resident", "resident"),
        )
        .await
        .unwrap();
        w.r.resident_step(&link, &session, EntrustmentStep::Revoke)
            .await
            .unwrap();
        let lend = RecordKeyEvent {
            contractor_name: Some("张师傅".into()),
            company: Some("晋阳门窗安装公司".into()),
            contractor_phone: Some("13800001111".into()),
            expected_return: Some(OffsetDateTime::now_utc() + Duration::hours(2)),
            ..witnessed("lent_to_contractor", "contractor")
        };
        let err =
            w.r.record_key_event(&s, by(&w.worker), e.id, lend.clone())
                .await
                .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Conflict {
                    code: "custody.outside_consent",
                    ..
                }
            ),
            "[{b}] {err:?}"
        );
        // Revoked with the key still held: overdue at once.
        let now = OffsetDateTime::now_utc();
        let report =
            w.r.entrustments_pass(now + Duration::minutes(1))
                .await
                .unwrap();
        assert_eq!(report.raised, 1, "[{b}] held past a revocation");
        w.r.record_key_event(
            &s,
            by(&w.worker),
            e.id,
            witnessed("returned_to_resident", "resident"),
        )
        .await
        .unwrap();

        // A key lent for a moment, past its expected return: one work order, once.
        let f =
            w.r.create_entrustment(&s, by(&w.worker), entrust(&w, 3))
                .await
                .unwrap();
        let (flink, fsession) = confirmed(&w, &s, f.id).await;
        w.r.record_key_event(
            &s,
            by(&w.worker),
            f.id,
            witnessed("received_from_resident", "resident"),
        )
        .await
        .unwrap();
        let brief = RecordKeyEvent {
            expected_return: Some(OffsetDateTime::now_utc() + Duration::seconds(1)),
            ..lend
        };
        w.r.record_key_event(&s, by(&w.worker), f.id, brief)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let later = now + Duration::hours(3);
        assert_eq!(
            w.r.entrustments_pass(later).await.unwrap().raised,
            1,
            "[{b}]"
        );
        assert_eq!(
            w.r.entrustments_pass(later).await.unwrap().raised,
            0,
            "[{b}] raised once"
        );
        let rec = w.r.store.entrustment(&s, f.id).await.unwrap();
        let order =
            w.r.store
                .work_order(&s, rec.overdue_order_id.unwrap())
                .await
                .unwrap();
        assert_eq!(order.title, "施工人员借用钥匙超期未还", "[{b}]");
        assert_eq!(order.household_id, Some(w.household), "[{b}]");
        // The household's orders (the entrustment's page lists them) hold it; another
        // household's do not.
        let of = |h: i64| {
            let filter = WorkOrderFilter {
                household_id: Some(h),
                ..Default::default()
            };
            let (r, s) = (&w.r, s.clone());
            async move {
                r.store
                    .work_orders(&s, &filter, &PageRequest::default())
                    .await
                    .unwrap()
                    .items
                    .iter()
                    .map(|o| o.id)
                    .collect::<Vec<_>>()
            }
        };
        assert!(of(w.household).await.contains(&order.id), "[{b}]");
        assert!(of(w.household + 1000).await.is_empty(), "[{b}]");
        let rows =
            w.r.store
                .notifications_for_order(&all(), order.id)
                .await
                .unwrap();
        assert!(
            rows.iter()
                .any(|n| n.recipient_id == w.worker.id && n.entrustment_id == Some(f.id)),
            "[{b}] the supervisor is told"
        );
        // The period ends: the entrustment expires; the late return is accepted and marked.
        let after = now + Duration::days(5);
        assert!(
            w.r.entrustments_pass(after).await.unwrap().expired >= 1,
            "[{b}]"
        );
        let rec = w.r.store.entrustment(&s, f.id).await.unwrap();
        assert_eq!(rec.entrustment.state, EntrustmentState::Expired, "[{b}]");
        assert!(
            w.r.resident_view(&flink, &fsession).await.is_err(),
            "[{b}] the link ends with expiry"
        );
        let (_, ev) =
            w.r.record_key_event(
                &s,
                by(&w.worker),
                f.id,
                witnessed("returned_to_custody", "contractor"),
            )
            .await
            .unwrap();
        assert!(ev.late, "[{b}] recorded late");
    }
}

/// Checking a hand-over answers as recording it would — field errors, the custody rule that
/// refuses it — and records nothing, so a page can store a photo only for a hand-over that will
/// be accepted.
#[tokio::test]
async fn checking_a_key_event_answers_like_recording_it_and_records_nothing() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let s = scope_of(&w.worker);
        let e =
            w.r.create_entrustment(&s, by(&w.worker), entrust(&w, 3))
                .await
                .unwrap();
        let received = witnessed("received_from_resident", "resident");
        // Before the resident confirms: the same conflict as recording.
        let err =
            w.r.check_key_event(&s, by(&w.worker), e.id, &received)
                .await
                .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Conflict {
                    code: "custody.outside_consent",
                    ..
                }
            ),
            "[{b}] {err:?}"
        );
        confirmed(&w, &s, e.id).await;
        w.r.check_key_event(&s, by(&w.worker), e.id, &received)
            .await
            .unwrap();
        // A colleague who is not named may not take the key; a bad slot is a field error.
        let err =
            w.r.check_key_event(&s, by(&w.staff), e.id, &received)
                .await
                .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Conflict {
                    code: "custody.not_named",
                    ..
                }
            ),
            "[{b}] {err:?}"
        );
        let bad_slot = RecordKeyEvent {
            slot: Some("？".into()),
            ..key("stored")
        };
        let ServiceError::Invalid(f) =
            w.r.check_key_event(&s, by(&w.worker), e.id, &bad_slot)
                .await
                .unwrap_err()
        else {
            panic!("[{b}]")
        };
        assert_eq!(f[0].field, "slot", "[{b}]");
        // Out of scope: like a missing entrustment.
        let err =
            w.r.check_key_event(&scope_of(&w.outsider), by(&w.outsider), e.id, &received)
                .await
                .unwrap_err();
        assert!(matches!(err, ServiceError::NotFound), "[{b}] {err:?}");
        // Nothing was recorded by any of it.
        assert!(
            w.r.store.key_events(&s, e.id).await.unwrap().is_empty(),
            "[{b}]"
        );
        let (_, ev) =
            w.r.record_key_event(&s, by(&w.worker), e.id, received)
                .await
                .unwrap();
        assert_eq!(ev.seq, 1, "[{b}]");
    }
}
