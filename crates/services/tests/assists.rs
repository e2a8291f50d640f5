//! Assist requests through the services and the scoped store, on SQLite and PostgreSQL.

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use wangge_domain::{Action, AreaCode, AssistState, AssistStep, Role, Scope, Username};
use wangge_services::areas_import::import_areas;
use wangge_services::registry::{ReportWorkOrder, RequestAssist};
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::assists::AssistFilter;
use wangge_store::identity::{NewUser, User};
use wangge_store::page::PageRequest;
use wangge_store::work_orders::{Actor, Source};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const T0: OffsetDateTime = datetime!(2026-11-25 09:00 +08:00);
const GRID: &str = "140109001001001";
const COMMUNITY: &str = "140109001001";
const OTHER_GRID: &str = "140109001002001";

struct World {
    r: Registry,
    order: i64,
    /// Grid worker of the order's grid: asks for help.
    asker: User,
    /// Another grid worker of the same grid.
    mate: User,
    /// Community staff over the grid's community.
    staff: User,
    /// A grid worker of another community.
    outsider: User,
    admin: User,
}

fn scope_of(u: &User) -> Scope {
    Scope::of(u.areas.iter().cloned())
}

fn by(u: &User) -> (i64, &str) {
    (u.id, u.username.as_str())
}

async fn user(t: &TestStore, name: &str, role: Role, code: &str) -> User {
    let area = t
        .store
        .area_by_code(&Scope::everything(), &AreaCode::parse(code).unwrap())
        .await
        .unwrap();
    t.store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            display_name: format!("{name} 显示名"),
            role,
            // Never used to sign in here.
            password_hash: "unused".into(),
            area_ids: vec![area.id],
        })
        .await
        .unwrap()
}

async fn world(t: &TestStore) -> World {
    import_areas(&t.store, &Scope::everything(), AREAS)
        .await
        .unwrap();
    let r = Registry::new(t.store.clone(), Clock::Fixed(date!(2026 - 11 - 25)));
    let asker = user(t, "asker", Role::GridWorker, GRID).await;
    let mate = user(t, "mate", Role::GridWorker, GRID).await;
    let staff = user(t, "staff", Role::CommunityStaff, COMMUNITY).await;
    let outsider = user(t, "outsider", Role::GridWorker, OTHER_GRID).await;
    let admin = user(t, "admin", Role::Admin, "140100").await;
    let gone = user(t, "gone", Role::GridWorker, GRID).await;
    t.store.disable_user(gone.id).await.unwrap();
    let grid = t
        .store
        .area_by_code(&Scope::everything(), &AreaCode::parse(GRID).unwrap())
        .await
        .unwrap();
    let category = t.store.work_order_categories().await.unwrap()[0].id;
    let order = r
        .report_work_order(
            &scope_of(&asker),
            &Actor {
                id: Some(asker.id),
                name: "asker".into(),
            },
            ReportWorkOrder {
                category_id: category,
                source: Source::GridWorker,
                title: "楼道堆物".into(),
                description: "窗户安装前需清理楼道杂物".into(),
                household_id: None,
                place_id: None,
                area_id: Some(grid.id),
                priority: None,
            },
            T0,
        )
        .await
        .unwrap()
        .id;
    World {
        r,
        order,
        asker,
        mate,
        staff,
        outsider,
        admin,
    }
}

fn ask(ids: &[i64], team: Option<Role>) -> RequestAssist {
    RequestAssist {
        assignee_ids: ids.to_vec(),
        team_role: team,
        message: "请帮忙清理楼道杂物".into(),
    }
}

fn code(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid(f) => f[0].code.clone(),
        ServiceError::Conflict { code, .. } => code.to_owned(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn colleagues_are_active_helpers_covering_the_order() {
    for t in backends().await {
        let w = world(&t).await;
        let found =
            w.r.colleagues(&scope_of(&w.asker), w.order, w.asker.id)
                .await
                .unwrap();
        let names: Vec<&str> = found.iter().map(|c| c.username.as_str()).collect();
        // By role, then in the order they were added.
        assert_eq!(names, ["staff", "mate"], "{}", t.name);
        // Outside the caller's scope the order is missing, and so are its colleagues.
        let e =
            w.r.colleagues(&scope_of(&w.outsider), w.order, w.outsider.id)
                .await
                .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound), "{}", t.name);
    }
}

#[tokio::test]
async fn a_team_request_asks_each_member_once_and_lands_on_the_timeline() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let scope = scope_of(&w.asker);
        let created =
            w.r.request_assists(
                &scope,
                by(&w.asker),
                w.order,
                ask(&[w.staff.id], Some(Role::GridWorker)),
                T0 + Duration::hours(1),
            )
            .await
            .unwrap();
        let asked: Vec<(&str, Option<Role>)> = created
            .iter()
            .map(|a| (a.assignee.as_str(), a.team_role))
            .collect();
        assert_eq!(
            asked,
            [("staff", None), ("mate", Some(Role::GridWorker))],
            "[{b}]"
        );
        assert!(created.iter().all(|a| a.state == AssistState::Requested));
        assert_eq!(created[0].requested_by_name, "asker 显示名", "[{b}]");

        // Asking the same people again while they have not finished asks nobody.
        let again =
            w.r.request_assists(&scope, by(&w.asker), w.order, ask(&[w.mate.id], None), T0)
                .await
                .unwrap_err();
        assert_eq!(code(again), "assist.already_requested", "[{b}]");

        // Bad requests: nobody, oneself, someone outside the order's area, a role that does
        // not help, an empty message.
        for (cmd, want) in [
            (ask(&[], None), "assist.nobody"),
            (ask(&[w.asker.id], None), "assist.self"),
            (ask(&[w.outsider.id], None), "reference.unknown"),
            (ask(&[w.admin.id], None), "reference.unknown"),
            (ask(&[], Some(Role::Auditor)), "assist.team_role"),
            (ask(&[], Some(Role::DistrictManager)), "assist.team_empty"),
            (
                RequestAssist {
                    message: "  ".into(),
                    ..ask(&[w.staff.id], None)
                },
                "text.empty",
            ),
        ] {
            let e =
                w.r.request_assists(&scope, by(&w.asker), w.order, cmd, T0)
                    .await
                    .unwrap_err();
            assert_eq!(code(e), want, "[{b}]");
        }

        let timeline =
            w.r.store
                .work_order_timeline(&scope, w.order)
                .await
                .unwrap();
        let steps: Vec<(&str, Option<i64>)> = timeline
            .iter()
            .map(|e| (e.action.as_str(), e.assist_id))
            .collect();
        assert_eq!(
            steps,
            [
                ("report", None),
                ("assist_requested", Some(created[0].id)),
                ("assist_requested", Some(created[1].id)),
            ],
            "[{b}]"
        );
        assert_eq!(timeline[1].note.as_deref(), Some("请帮忙清理楼道杂物"));
        assert_eq!(timeline[1].from_state, Some(timeline[1].to_state));
    }
}

#[tokio::test]
async fn the_colleague_accepts_and_logs_what_was_done() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let mine = scope_of(&w.asker);
        let theirs = scope_of(&w.staff);
        let a =
            w.r.request_assists(
                &mine,
                by(&w.asker),
                w.order,
                ask(&[w.staff.id, w.mate.id], None),
                T0,
            )
            .await
            .unwrap();
        let (for_staff, for_mate) = (a[0].id, a[1].id);

        // The colleague's list.
        let list =
            w.r.store
                .assists(
                    &theirs,
                    AssistFilter::AssignedTo(w.staff.id),
                    true,
                    &PageRequest::default(),
                )
                .await
                .unwrap();
        assert_eq!(list.items.len(), 1, "[{b}]");
        assert_eq!(list.items[0].work_order_title, "楼道堆物", "[{b}]");

        // Done before accepting: illegal, naming the state. Someone else accepting: refused.
        let step = |who: &User, id: i64, s: AssistStep, text: Option<&'static str>| {
            let r = w.r.clone();
            let scope = scope_of(who);
            let who = (who.id, who.username.as_str().to_owned());
            async move {
                r.assist_step(
                    &scope,
                    (who.0, &who.1),
                    id,
                    s,
                    text,
                    T0 + Duration::hours(2),
                )
                .await
            }
        };
        let e = step(&w.staff, for_staff, AssistStep::Done, Some("x"))
            .await
            .unwrap_err();
        match &e {
            ServiceError::Conflict {
                code, message_zh, ..
            } => {
                assert_eq!(*code, "assist.illegal_transition", "[{b}]");
                assert!(message_zh.contains("待接受"), "[{b}] {message_zh}");
            }
            other => panic!("[{b}] {other:?}"),
        }
        let e = step(&w.mate, for_staff, AssistStep::Accept, None)
            .await
            .unwrap_err();
        assert_eq!(code(e), "assist.not_assignee", "[{b}]");
        let e = step(&w.staff, for_staff, AssistStep::Cancel, None)
            .await
            .unwrap_err();
        assert_eq!(code(e), "assist.not_requester", "[{b}]");

        let accepted = step(&w.staff, for_staff, AssistStep::Accept, None)
            .await
            .unwrap();
        assert_eq!(accepted.state, AssistState::Accepted, "[{b}]");
        let e = step(&w.staff, for_staff, AssistStep::Done, Some(" "))
            .await
            .unwrap_err();
        assert_eq!(code(e), "text.empty", "[{b}]");
        let done = step(&w.staff, for_staff, AssistStep::Done, Some("清走三袋杂物"))
            .await
            .unwrap();
        assert_eq!(done.state, AssistState::Done, "[{b}]");
        assert_eq!(done.done_note.as_deref(), Some("清走三袋杂物"), "[{b}]");
        assert!(done.answered_at.is_some() && done.finished_at.is_some());

        // The other colleague declines with a reason; the requester cannot cancel it after.
        let e = step(&w.mate, for_mate, AssistStep::Decline, None)
            .await
            .unwrap_err();
        assert_eq!(code(e), "text.empty", "[{b}]");
        step(&w.mate, for_mate, AssistStep::Decline, Some("今天在外培训"))
            .await
            .unwrap();
        let e = step(&w.asker, for_mate, AssistStep::Cancel, None)
            .await
            .unwrap_err();
        assert_eq!(code(e), "assist.illegal_transition", "[{b}]");

        let timeline = w.r.store.work_order_timeline(&mine, w.order).await.unwrap();
        let actions: Vec<&str> = timeline.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "report",
                "assist_requested",
                "assist_requested",
                "assist_accepted",
                "assist_done",
                "assist_declined"
            ],
            "[{b}]"
        );
        assert_eq!(timeline[4].note.as_deref(), Some("清走三袋杂物"));
        assert_eq!(timeline[4].actor, "staff");
        assert_eq!(timeline[5].reason.as_deref(), Some("今天在外培训"));
        let order = w.r.store.work_order(&mine, w.order).await.unwrap();
        assert_eq!(
            order.order.state,
            wangge_domain::WorkOrderState::Reported,
            "[{b}] assists never move the order"
        );

        // Finished requests no longer block asking the same person again.
        w.r.request_assists(&mine, by(&w.asker), w.order, ask(&[w.mate.id], None), T0)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn scope_and_stopped_orders() {
    for t in backends().await {
        let b = t.name;
        let w = world(&t).await;
        let mine = scope_of(&w.asker);
        let a =
            w.r.request_assists(&mine, by(&w.asker), w.order, ask(&[w.mate.id], None), T0)
                .await
                .unwrap();
        // Outside the order's area the request looks missing, and lists hide it.
        let outside = scope_of(&w.outsider);
        assert!(
            matches!(
                w.r.store.assist(&outside, a[0].id).await,
                Err(wangge_store::StoreError::NotFound)
            ),
            "[{b}]"
        );
        let e =
            w.r.assist_step(
                &outside,
                by(&w.outsider),
                a[0].id,
                AssistStep::Accept,
                None,
                T0,
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound), "[{b}]");
        let e =
            w.r.request_assists(
                &outside,
                by(&w.outsider),
                w.order,
                ask(&[w.mate.id], None),
                T0,
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound), "[{b}]");
        // An assignee whose scope no longer covers the order does not see it in their list.
        let hidden =
            w.r.store
                .assists(
                    &outside,
                    AssistFilter::AssignedTo(w.mate.id),
                    false,
                    &PageRequest::default(),
                )
                .await
                .unwrap();
        assert!(hidden.items.is_empty(), "[{b}]");

        // A rejected order takes no new requests; 409 names its state.
        let actor = Actor {
            id: Some(w.asker.id),
            name: "asker".into(),
        };
        w.r.work_order_action(
            &mine,
            w.order,
            &actor,
            Action::Reject {
                reason: "重复上报".into(),
            },
            T0 + Duration::hours(1),
        )
        .await
        .unwrap();
        let e =
            w.r.request_assists(&mine, by(&w.asker), w.order, ask(&[w.staff.id], None), T0)
                .await
                .unwrap_err();
        match e {
            ServiceError::Conflict {
                code, message_zh, ..
            } => {
                assert_eq!(code, "assist.order_stopped", "[{b}]");
                assert!(message_zh.contains("不予受理"), "[{b}]");
            }
            other => panic!("[{b}] {other:?}"),
        }
        // Existing requests can still be answered: work done before can be logged.
        w.r.assist_step(
            &scope_of(&w.mate),
            by(&w.mate),
            a[0].id,
            AssistStep::Accept,
            None,
            T0 + Duration::hours(2),
        )
        .await
        .unwrap();
    }
}
