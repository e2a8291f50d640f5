//! The notifications outbox on SQLite and PostgreSQL: events write rows for the right people in
//! the transition's transaction, once; delivery through the job runner is retried and
//! idempotent; the inbox pages unread first and marks read only one's own.

use std::sync::Arc;

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use wangge_domain::{
    Action, AreaCode, Channel, NewPassword, NotificationEvent, Role, Scope, Username,
};
use wangge_services::areas_import::import_areas;
use wangge_services::identity::Identity;
use wangge_services::jobs::JobRunner;
use wangge_services::notifications::{
    ChannelAdapter, Delivery, DeliveryFuture, DeliveryReport, InApp,
};
use wangge_services::registry::ReportWorkOrder;
use wangge_services::{Clock, Now, Registry, ServiceError};
use wangge_store::Store;
use wangge_store::notifications::{DeliveryState, Notification};
use wangge_store::page::PageRequest;
use wangge_store::work_orders::{Actor, Source};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const T0: OffsetDateTime = datetime!(2026-11-25 09:00 +08:00);
const GRID: &str = "140109001001001";

fn h(n: i64) -> Duration {
    Duration::hours(n)
}

struct People {
    /// Grid worker of the order's grid; reports the order.
    reporter: Actor,
    /// Another grid worker of the same grid.
    colleague: i64,
    /// A grid worker of another grid.
    elsewhere: i64,
    /// A disabled grid worker of the order's grid.
    disabled: i64,
    /// Community staff over the order's community; dispatches.
    staff: Actor,
    /// Subdistrict manager.
    manager: i64,
}

async fn user(identity: &Identity, name: &str, role: Role, area: &str) -> i64 {
    identity
        .create_user(
            "test",
            &Username::parse(name).unwrap(),
            name,
            role,
            &[area.to_owned()],
            &NewPassword::parse("Notify-test-pass-1").unwrap(),
        )
        .await
        .unwrap()
        .id
}

async fn setup(t: &TestStore) -> (Registry, People, i64) {
    import_areas(&t.store, &Scope::everything(), AREAS)
        .await
        .unwrap();
    let identity = Identity::new(t.store.clone());
    let reporter = user(&identity, "gw_reporter", Role::GridWorker, GRID).await;
    let colleague = user(&identity, "gw_colleague", Role::GridWorker, GRID).await;
    let elsewhere = user(
        &identity,
        "gw_elsewhere",
        Role::GridWorker,
        "140109001002001",
    )
    .await;
    let disabled = user(&identity, "gw_disabled", Role::GridWorker, GRID).await;
    identity
        .disable_user("test", &Username::parse("gw_disabled").unwrap())
        .await
        .unwrap();
    let staff = user(&identity, "staff", Role::CommunityStaff, "140109001001").await;
    let manager = user(&identity, "manager", Role::SubdistrictManager, "140109001").await;
    let store = t.store.clone().with_notification_channels(&[Channel::Log]);
    let grid = store
        .area_by_code(&Scope::everything(), &AreaCode::parse(GRID).unwrap())
        .await
        .unwrap()
        .id;
    let people = People {
        reporter: Actor {
            id: Some(reporter),
            name: "gw_reporter".into(),
        },
        colleague,
        elsewhere,
        disabled,
        staff: Actor {
            id: Some(staff),
            name: "staff".into(),
        },
        manager,
    };
    (
        Registry::new(store, Clock::Fixed(date!(2026 - 11 - 25))),
        people,
        grid,
    )
}

async fn report(r: &Registry, by: &Actor, grid: i64, category: &str) -> i64 {
    let cat = r
        .store
        .work_order_categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == category)
        .unwrap()
        .id;
    let cmd = ReportWorkOrder {
        category_id: cat,
        source: Source::GridWorker,
        title: "3 号楼路灯不亮".into(),
        description: "晚上楼门口很黑".into(),
        household_id: None,
        place_id: None,
        area_id: Some(grid),
        priority: None,
    };
    r.report_work_order(&Scope::everything(), by, cmd, T0)
        .await
        .unwrap()
        .id
}

/// (event, recipient, channel) of each row, in id order.
fn summary(rows: &[Notification]) -> Vec<(NotificationEvent, i64, Channel)> {
    rows.iter()
        .map(|n| (n.event, n.recipient_id, n.channel))
        .collect()
}

#[tokio::test]
async fn events_notify_the_right_people_once_in_the_transitions_transaction() {
    use NotificationEvent::*;
    for t in backends().await {
        let b = t.name;
        let (r, p, grid) = setup(&t).await;
        let all = Scope::everything();
        let id = report(&r, &p.reporter, grid, "safety_hazard").await;
        let act = |a: Action, by: &Actor, at: OffsetDateTime| {
            let (r, all, by) = (r.clone(), all.clone(), by.clone());
            async move { r.work_order_action(&all, id, &by, a, at).await }
        };
        act(Action::Accept, &p.staff, T0).await.unwrap();
        assert!(
            r.store
                .notifications_for_order(&all, id)
                .await
                .unwrap()
                .is_empty(),
            "[{b}] accepting tells nobody"
        );

        // Dispatch: the grid's active grid workers (not the disabled one, not another grid's),
        // on both channels.
        let unit = || Action::Dispatch {
            unit: "路灯管理所".into(),
        };
        act(unit(), &p.staff, T0 + h(1)).await.unwrap();
        let rows = r.store.notifications_for_order(&all, id).await.unwrap();
        let reporter = p.reporter.id.unwrap();
        assert_eq!(
            summary(&rows),
            [
                (WorkOrderAssigned, reporter, Channel::InApp),
                (WorkOrderAssigned, reporter, Channel::Log),
                (WorkOrderAssigned, p.colleague, Channel::InApp),
                (WorkOrderAssigned, p.colleague, Channel::Log),
            ],
            "[{b}]"
        );
        for n in &rows {
            assert_eq!(n.state, DeliveryState::Pending, "[{b}]");
            assert_eq!(n.next_attempt_at, T0 + h(1), "[{b}]");
            assert_eq!(n.title, "3 号楼路灯不亮", "[{b}]");
            assert!(
                ![p.elsewhere, p.disabled].contains(&n.recipient_id),
                "[{b}]"
            );
        }

        // A refused step writes nothing.
        assert!(matches!(
            act(Action::Accept, &p.staff, T0 + h(1)).await,
            Err(ServiceError::Conflict { .. })
        ));
        assert_eq!(
            r.store
                .notifications_for_order(&all, id)
                .await
                .unwrap()
                .len(),
            4,
            "[{b}]"
        );

        // Escalation (2 h SLA, overdue at 3 h): community staff; by the system, so the staff
        // member is told even though they dispatched.
        assert_eq!(r.escalate_due(T0 + h(3)).await.unwrap(), 1);
        assert_eq!(r.escalate_due(T0 + h(3)).await.unwrap(), 0, "[{b}] once");
        let rows = r.store.notifications_for_order(&all, id).await.unwrap();
        let escalated: Vec<_> = rows
            .iter()
            .filter(|n| n.event == WorkOrderEscalated)
            .collect();
        assert_eq!(escalated.len(), 2, "[{b}]");
        assert!(
            escalated
                .iter()
                .all(|n| n.recipient_id == p.staff.id.unwrap() && n.level == Some(1)),
            "[{b}]"
        );

        // Reassigning after escalation tells the level now answerable: community staff, but
        // not the one who reassigned.
        act(
            Action::Reassign {
                unit: "社区应急服务站".into(),
            },
            &p.staff,
            T0 + h(4),
        )
        .await
        .unwrap();
        assert_eq!(
            r.store
                .notifications_for_order(&all, id)
                .await
                .unwrap()
                .len(),
            6,
            "[{b}] the actor is not told"
        );

        // Resolution: the reporter.
        act(Action::Start, &p.staff, T0 + h(5)).await.unwrap();
        act(
            Action::Resolve {
                note: "已修复".into(),
            },
            &p.staff,
            T0 + h(6),
        )
        .await
        .unwrap();
        let rows = r.store.notifications_for_order(&all, id).await.unwrap();
        let resolved: Vec<_> = rows
            .iter()
            .filter(|n| n.event == WorkOrderResolved)
            .collect();
        assert_eq!(
            resolved.iter().map(|n| n.recipient_id).collect::<Vec<_>>(),
            [reporter, reporter],
            "[{b}]"
        );
        assert!(
            rows.iter().all(|n| n.recipient_id != p.manager),
            "[{b}] the subdistrict is not involved"
        );

        // Assist requests: named colleagues who can see the order, once per request.
        let named = [p.colleague, p.elsewhere, p.staff.id.unwrap()];
        let added = r
            .store
            .enqueue_assist_requested(&all, id, 77, &named, p.staff.id, T0 + h(6))
            .await
            .unwrap();
        assert_eq!(added, 2, "[{b}] the colleague only, on both channels");
        let again = r
            .store
            .enqueue_assist_requested(&all, id, 77, &named, p.staff.id, T0 + h(7))
            .await
            .unwrap();
        assert_eq!(again, 0, "[{b}] a retried request adds nothing");
        let out_of_scope = Scope::of([wangge_domain::AreaPath::parse("/999/").unwrap()]);
        assert!(
            r.store
                .enqueue_assist_requested(&out_of_scope, id, 78, &named, None, T0)
                .await
                .is_err(),
            "[{b}] an order outside the scope is not found"
        );
    }
}

/// Fails every delivery (an SMS gateway that is down).
struct Broken(Channel);

impl ChannelAdapter for Broken {
    fn channel(&self) -> Channel {
        self.0
    }

    fn deliver<'a>(&'a self, _n: &'a Notification) -> DeliveryFuture<'a> {
        Box::pin(async { Err("gateway unavailable".to_owned()) })
    }
}

#[tokio::test]
async fn delivery_is_retried_with_backoff_and_idempotent() {
    for t in backends().await {
        let b = t.name;
        let (r, p, grid) = setup(&t).await;
        let all = Scope::everything();
        let id = report(&r, &p.reporter, grid, "streetlight").await;
        for (i, a) in [
            Action::Accept,
            Action::Dispatch {
                unit: "路灯管理所".into(),
            },
        ]
        .into_iter()
        .enumerate()
        {
            r.work_order_action(&all, id, &p.staff, a, T0 + h(i as i64))
                .await
                .unwrap();
        }
        let mut delivery = Delivery::new(
            r.store.clone(),
            vec![Arc::new(InApp), Arc::new(Broken(Channel::Log))],
        );
        delivery.max_attempts = 3;
        let at = T0 + h(1);
        assert_eq!(
            delivery.deliver_due(at).await.unwrap(),
            DeliveryReport {
                delivered: 2,
                retried: 2,
                failed: 0
            },
            "[{b}]"
        );
        let rows = r.store.notifications_for_order(&all, id).await.unwrap();
        for n in &rows {
            match n.channel {
                Channel::InApp => {
                    assert_eq!(n.state, DeliveryState::Delivered, "[{b}]");
                    assert_eq!(n.delivered_at, Some(at), "[{b}]");
                }
                Channel::Log => {
                    assert_eq!(n.state, DeliveryState::Pending, "[{b}]");
                    assert_eq!(n.next_attempt_at, at + Duration::seconds(30), "[{b}]");
                    assert_eq!(n.last_error.as_deref(), Some("gateway unavailable"));
                }
            }
        }
        // Delivered stays delivered: a second mark changes nothing.
        assert!(
            !r.store
                .mark_notification_delivered(rows[0].id, at + h(1))
                .await
                .unwrap(),
            "[{b}]"
        );
        assert_eq!(
            delivery
                .deliver_due(at + Duration::seconds(29))
                .await
                .unwrap(),
            DeliveryReport::default(),
            "[{b}] backing off"
        );
        let second = delivery
            .deliver_due(at + Duration::seconds(30))
            .await
            .unwrap();
        assert_eq!(second.retried, 2, "[{b}]");
        let third = delivery
            .deliver_due(at + Duration::seconds(90))
            .await
            .unwrap();
        assert_eq!(third.failed, 2, "[{b}] given up after three attempts");
        let rows = r.store.notifications_for_order(&all, id).await.unwrap();
        assert!(
            rows.iter()
                .filter(|n| n.channel == Channel::Log)
                .all(|n| n.state == DeliveryState::Failed && n.attempts == 3),
            "[{b}]"
        );
    }
}

async fn inbox_ids(store: &Store, scope: &Scope, user: i64, limit: u32) -> Vec<(i64, bool)> {
    let mut out = Vec::new();
    let mut page = PageRequest { after: None, limit };
    loop {
        let p = store.inbox(scope, user, &page).await.unwrap();
        out.extend(p.items.iter().map(|n| (n.id, n.read_at.is_some())));
        match p.next {
            Some(c) => page.after = Some(c),
            None => return out,
        }
    }
}

#[tokio::test]
async fn the_job_runner_delivers_and_the_inbox_shows_unread_first() {
    for t in backends().await {
        let b = t.name;
        let (r, p, grid) = setup(&t).await;
        let all = Scope::everything();
        let now = Now::manual(T0);
        let runner = JobRunner::standard(&r, now.clone(), "runner");
        runner.start().await.unwrap();
        runner.run_due().await.unwrap();
        let reporter = p.reporter.id.unwrap();
        let mut orders = Vec::new();
        for i in 0..3 {
            let id = report(&r, &p.reporter, grid, "sanitation").await;
            for a in [
                Action::Accept,
                Action::Dispatch {
                    unit: "环卫所".into(),
                },
            ] {
                r.work_order_action(&all, id, &p.staff, a, T0 + Duration::seconds(i))
                    .await
                    .unwrap();
            }
            orders.push(id);
        }
        let scope = Scope::of([r
            .store
            .area_by_code(&all, &AreaCode::parse(GRID).unwrap())
            .await
            .unwrap()
            .path]);
        // Not delivered yet: nothing to read.
        assert!(
            inbox_ids(&r.store, &scope, reporter, 10).await.is_empty(),
            "[{b}]"
        );
        // The events pulled the delivery job forward: it is due now.
        now.set(T0 + Duration::seconds(10));
        let report = runner.run_due().await.unwrap();
        assert_eq!(report.succeeded, 1, "[{b}] the delivery job ran");
        assert_eq!(
            r.store
                .unread_notifications(&scope, reporter)
                .await
                .unwrap(),
            3
        );

        let ids = inbox_ids(&r.store, &scope, reporter, 1).await;
        assert_eq!(ids.len(), 3, "[{b}] paging walks every row once");
        let oldest = ids[2].0;
        let read = r
            .store
            .mark_notification_read(&scope, reporter, oldest, T0 + h(1))
            .await
            .unwrap();
        assert_eq!(read.read_at, Some(T0 + h(1)), "[{b}]");
        // Reading again keeps the first time.
        let again = r
            .store
            .mark_notification_read(&scope, reporter, oldest, T0 + h(2))
            .await
            .unwrap();
        assert_eq!(again.read_at, Some(T0 + h(1)), "[{b}]");
        assert_eq!(
            r.store
                .unread_notifications(&scope, reporter)
                .await
                .unwrap(),
            2
        );
        let listed = inbox_ids(&r.store, &scope, reporter, 2).await;
        assert_eq!(
            listed,
            [(ids[0].0, false), (ids[1].0, false), (oldest, true)],
            "[{b}] unread first, newest first"
        );
        // Someone else's notification, or one outside the scope, is not found.
        assert!(
            r.store
                .mark_notification_read(&scope, p.colleague, oldest, T0)
                .await
                .is_err(),
            "[{b}]"
        );
        let elsewhere = Scope::of([r
            .store
            .area_by_code(&all, &AreaCode::parse("140109001002001").unwrap())
            .await
            .unwrap()
            .path]);
        assert!(
            inbox_ids(&r.store, &elsewhere, reporter, 10)
                .await
                .is_empty(),
            "[{b}]"
        );
        assert!(
            r.store
                .mark_notification_read(&elsewhere, reporter, ids[0].0, T0)
                .await
                .is_err(),
            "[{b}]"
        );
    }
}
