//! Work orders through the services and the scoped store, on SQLite and PostgreSQL.

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use wangge_domain::{Action, AreaCode, AreaPath, Priority, Satisfaction, Scope, WorkOrderState};
use wangge_services::areas_import::import_areas;
use wangge_services::registry::ReportWorkOrder;
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::page::PageRequest;
use wangge_store::work_orders::{Actor, Source, WorkOrderFilter};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const T0: OffsetDateTime = datetime!(2026-11-25 09:00 +08:00);

fn h(n: i64) -> Duration {
    Duration::hours(n)
}

fn worker() -> Actor {
    Actor {
        id: None,
        name: "网格员张三".into(),
    }
}

async fn setup(t: &TestStore) -> (Registry, i64, AreaPath, AreaPath) {
    import_areas(&t.store, &Scope::everything(), AREAS)
        .await
        .unwrap();
    let all = Scope::everything();
    let g1 = t
        .store
        .area_by_code(&all, &AreaCode::parse("140109001001001").unwrap())
        .await
        .unwrap();
    let g2 = t
        .store
        .area_by_code(&all, &AreaCode::parse("140109001002001").unwrap())
        .await
        .unwrap();
    (
        Registry::new(t.store.clone(), Clock::Fixed(date!(2026 - 11 - 25))),
        g1.id,
        g1.path,
        g2.path,
    )
}

async fn category(r: &Registry, code: &str) -> i64 {
    r.store
        .work_order_categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == code)
        .unwrap()
        .id
}

fn report(category_id: i64, grid: i64, title: &str) -> ReportWorkOrder {
    ReportWorkOrder {
        category_id,
        source: Source::GridWorker,
        title: title.into(),
        description: "3 号楼门口路灯不亮".into(),
        household_id: None,
        place_id: None,
        area_id: Some(grid),
        priority: None,
    }
}

#[tokio::test]
async fn categories_are_seeded_with_slas() {
    for t in backends().await {
        let cats = t.store.work_order_categories().await.unwrap();
        let by = |code: &str| cats.iter().find(|c| c.code == code).unwrap().clone();
        assert!(cats.len() >= 13, "{}", t.name);
        assert_eq!(by("emergency").sla.duration(), h(2), "{}", t.name);
        assert_eq!(by("utilities").sla.duration(), h(24), "{}", t.name);
        assert_eq!(by("sanitation").sla.duration(), Duration::days(7));
        assert_eq!(by("neighbour_dispute").sla.duration(), Duration::days(15));
        assert_eq!(
            by("streetlight").parent_id,
            Some(by("facility_repair").id),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn an_order_goes_from_report_to_close_with_a_timeline() {
    for t in backends().await {
        let (r, grid, p1, p2) = setup(&t).await;
        let all = Scope::everything();
        let cat = category(&r, "streetlight").await;
        let o = r
            .report_work_order(&all, &worker(), report(cat, grid, "路灯不亮"), T0)
            .await
            .unwrap();
        assert_eq!(o.order.state, WorkOrderState::Reported, "{}", t.name);
        assert_eq!(o.area_path, p1, "{}", t.name);
        assert_eq!(o.order.sla.duration(), h(24));
        let steps = [
            Action::Accept,
            Action::Dispatch {
                unit: " 路灯管理所 ".into(),
            },
            Action::Start,
            Action::Resolve {
                note: "更换灯泡".into(),
            },
            Action::Close {
                satisfaction: Satisfaction::Satisfied,
                follow_up_done: true,
            },
        ];
        for (i, a) in steps.into_iter().enumerate() {
            r.work_order_action(&all, o.id, &worker(), a, T0 + h(i as i64 + 1))
                .await
                .unwrap();
        }
        let done = r.store.work_order(&all, o.id).await.unwrap();
        assert_eq!(done.order.state, WorkOrderState::Closed, "{}", t.name);
        assert_eq!(done.order.unit.as_deref(), Some("路灯管理所"));
        assert_eq!(done.order.satisfaction, Some(Satisfaction::Satisfied));
        assert!(done.order.handled_on_time());
        let timeline = r.store.work_order_timeline(&all, o.id).await.unwrap();
        let actions: Vec<_> = timeline.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["report", "accept", "dispatch", "start", "resolve", "close"],
            "{}",
            t.name
        );
        assert_eq!(timeline[2].unit.as_deref(), Some("路灯管理所"));
        assert_eq!(timeline[4].note.as_deref(), Some("更换灯泡"));

        // Illegal: a closed order cannot be started; the refusal names the state.
        let e = r
            .work_order_action(&all, o.id, &worker(), Action::Start, T0 + h(9))
            .await
            .unwrap_err();
        match e {
            ServiceError::Conflict {
                code, message_zh, ..
            } => {
                assert_eq!(code, "work_order.illegal_transition");
                assert!(message_zh.contains("已关闭"), "{message_zh}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r.store.work_order_timeline(&all, o.id).await.unwrap().len(),
            6
        );

        // Out of scope looks missing.
        let other = Scope::of([p2.clone()]);
        assert!(matches!(
            r.work_order_action(&other, o.id, &worker(), Action::Start, T0 + h(9))
                .await,
            Err(ServiceError::NotFound)
        ));
        assert!(r.store.work_order(&other, o.id).await.is_err());
        assert!(
            r.store
                .work_orders(&other, &WorkOrderFilter::default(), &PageRequest::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        // Reporting into a grid outside the scope is refused.
        assert!(matches!(
            r.report_work_order(&other, &worker(), report(cat, grid, "x"), T0)
                .await,
            Err(ServiceError::Invalid(_))
        ));
        // A non-grid area is refused.
        let community = r
            .store
            .area_by_code(&all, &AreaCode::parse("140109001001").unwrap())
            .await
            .unwrap();
        assert!(matches!(
            r.report_work_order(&all, &worker(), report(cat, community.id, "x"), T0)
                .await,
            Err(ServiceError::Invalid(_))
        ));
        // Empty titles are refused.
        assert!(matches!(
            r.report_work_order(&all, &worker(), report(cat, grid, "  "), T0)
                .await,
            Err(ServiceError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn suspension_moves_the_deadline_and_overdue_lists_follow() {
    for t in backends().await {
        let (r, grid, _, _) = setup(&t).await;
        let all = Scope::everything();
        let cat = category(&r, "utilities").await;
        let o = r
            .report_work_order(&all, &worker(), report(cat, grid, "停水"), T0)
            .await
            .unwrap();
        let act = |a: Action, at: OffsetDateTime| {
            let r = r.clone();
            let all = all.clone();
            async move { r.work_order_action(&all, o.id, &worker(), a, at).await }
        };
        act(Action::Accept, T0).await.unwrap();
        let before = r.store.work_order(&all, o.id).await.unwrap();
        assert_eq!(before.order.deadline(T0), Some(T0 + h(24)));
        act(
            Action::RequestSuspension {
                reason: "等待供水公司".into(),
            },
            T0 + h(1),
        )
        .await
        .unwrap();
        act(Action::ApproveSuspension, T0 + h(2)).await.unwrap();
        act(Action::Resume, T0 + h(12)).await.unwrap();
        let after = r.store.work_order(&all, o.id).await.unwrap();
        assert_eq!(after.order.state, WorkOrderState::Accepted, "{}", t.name);
        assert_eq!(after.order.deadline(T0 + h(12)), Some(T0 + h(34)));

        let overdue = |at: OffsetDateTime| {
            let r = r.clone();
            let all = all.clone();
            async move {
                r.store
                    .work_orders(
                        &all,
                        &WorkOrderFilter {
                            overdue_at: Some(at),
                            ..Default::default()
                        },
                        &PageRequest::default(),
                    )
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        };
        assert_eq!(overdue(T0 + h(30)).await, 0, "{}", t.name);
        assert_eq!(overdue(T0 + h(35)).await, 1, "{}", t.name);
        let state_filter = r
            .store
            .work_orders(
                &all,
                &WorkOrderFilter {
                    state: Some(WorkOrderState::Accepted),
                    category_id: Some(cat),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(state_filter.items.len(), 1);
    }
}

#[tokio::test]
async fn keyset_paging_walks_every_order_once() {
    for t in backends().await {
        let (r, grid, _, _) = setup(&t).await;
        let all = Scope::everything();
        let cat = category(&r, "sanitation").await;
        for i in 0..5 {
            r.report_work_order(&all, &worker(), report(cat, grid, &format!("垃圾 {i}")), T0)
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut page = PageRequest {
            after: None,
            limit: 2,
        };
        loop {
            let p = r
                .store
                .work_orders(&all, &WorkOrderFilter::default(), &page)
                .await
                .unwrap();
            seen.extend(p.items.iter().map(|o| o.id));
            match p.next {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5, "{}", t.name);
        assert_eq!(seen.len(), 5, "{}", t.name);
    }
}

/// Two escalation passes at once (on PostgreSQL, truly concurrent) escalate each due order
/// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_escalation_passes_never_double_escalate() {
    for t in backends().await {
        let (r, grid, _, _) = setup(&t).await;
        let all = Scope::everything();
        let cat = category(&r, "safety_hazard").await;
        let mut ids = Vec::new();
        for i in 0..20 {
            let mut cmd = report(cat, grid, &format!("隐患 {i}"));
            cmd.priority = Some(Priority::Urgent);
            let o = r.report_work_order(&all, &worker(), cmd, T0).await.unwrap();
            r.work_order_action(&all, o.id, &worker(), Action::Accept, T0)
                .await
                .unwrap();
            ids.push(o.id);
        }
        // One order not yet accepted: its clock has not started, it never escalates.
        r.report_work_order(&all, &worker(), report(cat, grid, "未受理"), T0)
            .await
            .unwrap();
        assert_eq!(r.escalate_due(T0 + h(1)).await.unwrap(), 0, "{}", t.name);

        let now = T0 + h(3);
        let (a, b) = tokio::join!(
            {
                let r = r.clone();
                tokio::spawn(async move { r.escalate_due(now).await.unwrap() })
            },
            {
                let r = r.clone();
                tokio::spawn(async move { r.escalate_due(now).await.unwrap() })
            }
        );
        assert_eq!(a.unwrap() + b.unwrap(), ids.len(), "{}", t.name);
        for id in &ids {
            let o = r.store.work_order(&all, *id).await.unwrap();
            assert_eq!(o.order.escalation_level, 1, "{}", t.name);
            let escalations = r
                .store
                .work_order_timeline(&all, *id)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.action == "escalate")
                .count();
            assert_eq!(escalations, 1, "{}", t.name);
        }
        // A later pass catches the next level, once.
        assert_eq!(r.escalate_due(now).await.unwrap(), 0, "{}", t.name);
        assert_eq!(
            r.escalate_due(T0 + h(5)).await.unwrap(),
            ids.len(),
            "{}",
            t.name
        );
    }
}

/// The derived columns the lists and the job use (overdue from, escalation due at) agree with the
/// domain after every step, suspensions and extensions included.
#[tokio::test]
async fn stored_overdue_and_escalation_marks_agree_with_the_domain() {
    for t in backends().await {
        let (r, grid, _, _) = setup(&t).await;
        let all = Scope::everything();
        let cat = category(&r, "emergency").await;
        let o = r
            .report_work_order(&all, &worker(), report(cat, grid, "燃气泄漏"), T0)
            .await
            .unwrap();
        let steps = [
            (0, Action::Accept),
            (
                1,
                Action::RequestExtension {
                    by: h(1),
                    reason: "等待燃气公司".into(),
                },
            ),
            (1, Action::ApproveExtension),
            // Overdue (3 h allowance) before the suspension: stays overdue while suspended.
            (
                4,
                Action::RequestSuspension {
                    reason: "需停气检修".into(),
                },
            ),
            (5, Action::ApproveSuspension),
            (9, Action::Resume),
            (
                10,
                Action::Dispatch {
                    unit: "燃气公司".into(),
                },
            ),
            (11, Action::Start),
            (
                12,
                Action::Resolve {
                    note: "已修复".into(),
                },
            ),
        ];
        for (at, a) in steps {
            r.work_order_action(&all, o.id, &worker(), a, T0 + h(at))
                .await
                .unwrap();
            let stored = r.store.work_order(&all, o.id).await.unwrap();
            for probe in [at, at + 1, at + 3, at + 20] {
                let when = T0 + h(probe) + Duration::minutes(1);
                let listed = !r
                    .store
                    .work_orders(
                        &all,
                        &WorkOrderFilter {
                            overdue_at: Some(when),
                            ..Default::default()
                        },
                        &PageRequest::default(),
                    )
                    .await
                    .unwrap()
                    .items
                    .is_empty();
                assert_eq!(
                    listed,
                    stored.order.overdue_and_open(when),
                    "{} overdue after step at {at}h, probe {probe}h",
                    t.name
                );
                let due = !r
                    .store
                    .work_orders_escalation_due(&all, when, 10)
                    .await
                    .unwrap()
                    .is_empty();
                assert_eq!(
                    due,
                    stored.order.escalation_due(when),
                    "{} escalation after step at {at}h, probe {probe}h",
                    t.name
                );
            }
        }
    }
}
