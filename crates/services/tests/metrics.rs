//! Work-order metrics on SQLite and PostgreSQL, with figures worked out by hand.

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use wangge_domain::{Action, AreaCode, AreaPath, Satisfaction, Scope};
use wangge_services::areas_import::import_areas;
use wangge_services::metrics::{Figures, GroupBy, MetricsQuery};
use wangge_services::registry::ReportWorkOrder;
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::work_orders::{Actor, Source};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const T0: OffsetDateTime = datetime!(2026-11-25 09:00 +08:00);

fn h(n: i64) -> Duration {
    Duration::hours(n)
}

fn actor() -> Actor {
    Actor {
        id: None,
        name: "网格员".into(),
    }
}

async fn grid(r: &Registry, code: &str) -> (i64, AreaPath) {
    let a = r
        .store
        .area_by_code(&Scope::everything(), &AreaCode::parse(code).unwrap())
        .await
        .unwrap();
    (a.id, a.path)
}

/// Reports an order at `at` and applies `steps` (hours after T0).
async fn order(
    r: &Registry,
    grid: i64,
    category: &str,
    at: OffsetDateTime,
    steps: Vec<(i64, Action)>,
) {
    let all = Scope::everything();
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
        source: Source::Resident,
        title: "测试".into(),
        description: "测试工单".into(),
        household_id: None,
        place_id: None,
        area_id: Some(grid),
        priority: None,
    };
    let id = r
        .report_work_order(&all, &actor(), cmd, at)
        .await
        .unwrap()
        .id;
    for (hours, a) in steps {
        r.work_order_action(&all, id, &actor(), a, T0 + h(hours))
            .await
            .unwrap();
    }
}

/// Accepted, dispatched and started at T0.
fn handling() -> Vec<(i64, Action)> {
    vec![
        (0, Action::Accept),
        (
            0,
            Action::Dispatch {
                unit: "物业服务中心".into(),
            },
        ),
        (0, Action::Start),
    ]
}

fn then(mut steps: Vec<(i64, Action)>, more: Vec<(i64, Action)>) -> Vec<(i64, Action)> {
    steps.extend(more);
    steps
}

fn resolve() -> Action {
    Action::Resolve {
        note: "已处理".into(),
    }
}

/// Community 001 (grid 001001): A on time, B late, C reworked once and on time.
/// Community 002 (grid 002001): D extended and open, E suspended then overdue and open, F not
/// accepted. G was reported (and accepted) ten days before the range and is long overdue. Utilities: 24 h SLA; sanitation: 7 days.
async fn setup(t: &TestStore) -> Registry {
    import_areas(&t.store, &Scope::everything(), AREAS)
        .await
        .unwrap();
    let r = Registry::new(t.store.clone(), Clock::Fixed(date!(2026 - 11 - 25)));
    let (g1, _) = grid(&r, "140109001001001").await;
    let (g2, _) = grid(&r, "140109001002001").await;
    order(
        &r,
        g1,
        "utilities",
        T0,
        then(handling(), vec![(10, resolve())]),
    )
    .await;
    order(
        &r,
        g1,
        "utilities",
        T0,
        then(handling(), vec![(30, resolve())]),
    )
    .await;
    order(
        &r,
        g1,
        "sanitation",
        T0,
        then(
            handling(),
            vec![
                (1, resolve()),
                (
                    2,
                    Action::Reopen {
                        reason: "居民反映仍有垃圾".into(),
                    },
                ),
                (3, resolve()),
                (
                    4,
                    Action::Close {
                        satisfaction: Satisfaction::Satisfied,
                        follow_up_done: true,
                    },
                ),
            ],
        ),
    )
    .await;
    order(
        &r,
        g2,
        "utilities",
        T0,
        vec![
            (0, Action::Accept),
            (
                1,
                Action::RequestExtension {
                    by: h(24),
                    reason: "等待配件".into(),
                },
            ),
            (2, Action::ApproveExtension),
        ],
    )
    .await;
    order(
        &r,
        g2,
        "utilities",
        T0,
        vec![
            (0, Action::Accept),
            (
                1,
                Action::RequestSuspension {
                    reason: "居民外出".into(),
                },
            ),
            (2, Action::ApproveSuspension),
            (3, Action::Resume),
        ],
    )
    .await;
    order(&r, g2, "sanitation", T0, vec![]).await;
    order(
        &r,
        g1,
        "utilities",
        T0 - Duration::days(10),
        vec![(-240, Action::Accept)],
    )
    .await;
    r
}

fn q(area: Option<&str>, by: GroupBy) -> MetricsQuery {
    MetricsQuery {
        area: area.map(|a| AreaCode::parse(a).unwrap()),
        from: date!(2026 - 11 - 20),
        to: date!(2026 - 11 - 25),
        by,
    }
}

fn fig(r: [u32; 7]) -> Figures {
    Figures {
        reported: r[0],
        handled_on_time: r[1],
        handled_overdue: r[2],
        rework: r[3],
        extensions: r[4],
        suspended: r[5],
        overdue_and_open: r[6],
    }
}

#[tokio::test]
async fn metrics_per_area_and_category_match_hand_counts() {
    for t in backends().await {
        let b = t.name;
        let r = setup(&t).await;
        let all = Scope::everything();
        // 40 h after T0: D's allowance is 48 h (not overdue); E has used 39 h of 24 (overdue).
        let at = T0 + h(40);
        let by_area = r
            .work_order_metrics(&all, &q(Some("140109001"), GroupBy::Area), at)
            .await
            .unwrap();
        let rows: Vec<_> = by_area
            .rows
            .iter()
            .map(|r| (r.code.as_str(), r.figures))
            .collect();
        assert_eq!(
            rows,
            [
                ("140109001001", fig([3, 2, 1, 1, 0, 0, 0])),
                ("140109001002", fig([3, 0, 0, 0, 1, 1, 1])),
            ],
            "[{b}]"
        );
        assert_eq!(by_area.total, fig([6, 2, 1, 1, 1, 1, 1]), "[{b}]");

        let by_category = r
            .work_order_metrics(&all, &q(Some("140109001"), GroupBy::Category), at)
            .await
            .unwrap();
        let rows: Vec<_> = by_category
            .rows
            .iter()
            .map(|r| (r.code.as_str(), r.figures))
            .collect();
        assert_eq!(
            rows,
            [
                ("utilities", fig([4, 1, 1, 0, 1, 1, 1])),
                ("sanitation", fig([2, 1, 0, 1, 0, 0, 0])),
            ],
            "[{b}]"
        );

        // The range reaches back to G: one more report, open and overdue.
        let mut wide = q(Some("140109001"), GroupBy::Area);
        wide.from = date!(2026 - 11 - 01);
        let wide = r.work_order_metrics(&all, &wide, at).await.unwrap();
        assert_eq!(wide.total, fig([7, 2, 1, 1, 1, 1, 2]), "[{b}]");

        // Earlier, E was not yet overdue (24 h of allowance, 1 h suspended).
        let early = r
            .work_order_metrics(&all, &q(Some("140109001"), GroupBy::Area), T0 + h(20))
            .await
            .unwrap();
        assert_eq!(early.total.overdue_and_open, 0, "[{b}]");
    }
}

#[tokio::test]
async fn metrics_stay_inside_the_scope_and_refuse_bad_ranges() {
    for t in backends().await {
        let b = t.name;
        let r = setup(&t).await;
        let (_, g1) = grid(&r, "140109001001001").await;
        let mine = Scope::of([g1]);
        let at = T0 + h(40);
        // A grid worker asking about the subdistrict sees only their own community's row.
        let seen = r
            .work_order_metrics(&mine, &q(Some("140109001"), GroupBy::Area), at)
            .await
            .unwrap();
        let codes: Vec<_> = seen.rows.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["140109001001"], "[{b}]");
        assert_eq!(seen.total, fig([3, 2, 1, 1, 0, 0, 0]), "[{b}]");
        // Without an area: their own grid.
        let own = r
            .work_order_metrics(&mine, &q(None, GroupBy::Area), at)
            .await
            .unwrap();
        assert_eq!(own.rows.len(), 1, "[{b}]");
        assert_eq!(own.rows[0].code, "140109001001001", "[{b}]");
        assert_eq!(own.rows[0].figures, fig([3, 2, 1, 1, 0, 0, 0]), "[{b}]");
        // Another community's area is an unknown reference.
        assert!(matches!(
            r.work_order_metrics(&mine, &q(Some("140109001002"), GroupBy::Area), at)
                .await,
            Err(ServiceError::Invalid(e)) if e[0].code == "reference.unknown"
        ));
        let mut backwards = q(None, GroupBy::Area);
        backwards.from = date!(2026 - 12 - 01);
        assert!(matches!(
            r.work_order_metrics(&mine, &backwards, at).await,
            Err(ServiceError::Invalid(e)) if e[0].code == "metrics.range_order"
        ));
        let mut long = q(None, GroupBy::Area);
        long.from = date!(2025 - 01 - 01);
        assert!(matches!(
            r.work_order_metrics(&mine, &long, at).await,
            Err(ServiceError::Invalid(e)) if e[0].code == "metrics.range_too_long"
        ));
    }
}
