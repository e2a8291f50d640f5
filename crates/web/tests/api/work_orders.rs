//! Work orders through the API on both backends: report to close, illegal steps as 409 naming
//! the state, suspension moving the deadline, and orders outside the scope looking missing.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wangge_testkit::backends;

use super::support::*;

async fn category(api: &Api, code: &str) -> i64 {
    let cats = api.get("/api/v1/work-order-categories").await;
    let cats = cats.ok(200).as_array().unwrap().clone();
    id(cats
        .iter()
        .find(|c| c["code"] == code)
        .expect("seeded category"))
}

async fn act(api: &Api, order: i64, body: Value) -> Resp {
    api.post(&format!("/api/v1/work-orders/{order}/actions"), body)
        .await
}

fn deadline(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v["deadline"].as_str().expect("a deadline"), &Rfc3339).unwrap()
}

#[tokio::test]
async fn a_work_order_goes_from_report_to_close() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "302").await;
        let h = api
            .create("/api/v1/households", json!({"dwelling_id": dwelling}))
            .await;

        let cats = api.get("/api/v1/work-order-categories").await;
        let cats = cats.ok(200).as_array().unwrap().clone();
        let emergency = cats.iter().find(|c| c["code"] == "emergency").unwrap();
        assert_eq!(emergency["sla_seconds"], 7200, "[{b}]");

        let streetlight = category(&api, "streetlight").await;
        let o = api
            .create(
                "/api/v1/work-orders",
                json!({"category_id": streetlight, "source": "resident", "title": "路灯不亮",
                       "description": "3 号楼门口路灯不亮", "household_id": id(&h)}),
            )
            .await;
        assert_eq!(o["state"], "reported", "[{b}]");
        assert_eq!(o["area_id"], t.grid1, "[{b}] the household's grid");
        assert_eq!(o["sla_seconds"], 86400, "[{b}]");
        assert!(o["deadline"].is_null(), "[{b}] no clock before acceptance");
        let oid = id(&o);

        for (body, state) in [
            (json!({"action": "accept"}), "accepted"),
            (
                json!({"action": "dispatch", "unit": "路灯管理所"}),
                "dispatched",
            ),
            (json!({"action": "start"}), "in_progress"),
            (json!({"action": "resolve", "note": "更换灯泡"}), "resolved"),
            (
                json!({"action": "close", "satisfaction": "满意", "follow_up_done": true}),
                "closed",
            ),
        ] {
            let r = act(&api, oid, body).await;
            let r = r.ok(200);
            assert_eq!(r["to_state"], state, "[{b}]");
            assert_eq!(r["work_order"]["state"], state, "[{b}]");
        }

        let detail = api.get(&format!("/api/v1/work-orders/{oid}")).await;
        let detail = detail.ok(200);
        assert_eq!(detail["state"], "closed", "[{b}]");
        assert_eq!(detail["satisfaction"], "satisfied", "[{b}]");
        assert_eq!(detail["unit"], "路灯管理所", "[{b}]");
        let actions: Vec<&str> = detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["report", "accept", "dispatch", "start", "resolve", "close"],
            "[{b}]"
        );

        // Illegal: a closed order cannot be started; 409 names the current state.
        let r = act(&api, oid, json!({"action": "start"})).await;
        let p = r.problem(409, "work_order.illegal_transition");
        assert!(
            p["detail_zh"].as_str().unwrap().contains("已关闭"),
            "[{b}] {}",
            r.text
        );
        assert!(
            p["detail_en"].as_str().unwrap().contains("closed"),
            "[{b}] {}",
            r.text
        );

        // Bad input: an unknown action, a dispatch without a unit.
        act(&api, oid, json!({"action": "teleport"}))
            .await
            .invalid("action", "work_order.action");
        let fresh = api
            .create(
                "/api/v1/work-orders",
                json!({"category_id": streetlight, "title": "路灯闪烁",
                       "description": "忽明忽暗", "area_id": t.grid2}),
            )
            .await;
        act(&api, id(&fresh), json!({"action": "accept"}))
            .await
            .ok(200);
        act(&api, id(&fresh), json!({"action": "dispatch"}))
            .await
            .invalid("unit", "field.required");
        // Reporting into a community (not a grid) is refused.
        api.post(
            "/api/v1/work-orders",
            json!({"category_id": streetlight, "title": "x", "description": "y",
                   "area_id": t.community}),
        )
        .await
        .invalid("area_id", "work_order.not_a_grid");

        // Lists: by state, by area.
        let accepted = api.get("/api/v1/work-orders?state=accepted").await;
        assert_eq!(ids(&items(accepted.ok(200))), vec![id(&fresh)], "[{b}]");
        let all = api
            .all_pages(&format!("/api/v1/work-orders?area={COMMUNITY}"), 1)
            .await;
        assert_eq!(all.len(), 2, "[{b}]");
        let overdue = api.get("/api/v1/work-orders?overdue=true").await;
        assert!(items(overdue.ok(200)).is_empty(), "[{b}]");
    }
}

#[tokio::test]
async fn suspension_moves_the_deadline() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let cat = category(&api, "utilities").await;
        let o = api
            .create(
                "/api/v1/work-orders",
                json!({"category_id": cat, "title": "停水", "description": "整栋楼停水",
                       "area_id": t.grid1}),
            )
            .await;
        let oid = id(&o);
        let r = act(&api, oid, json!({"action": "accept"})).await;
        let before = deadline(&r.ok(200)["work_order"]);

        // Asking does not pause the clock; approval needs a request.
        act(&api, oid, json!({"action": "approve_suspension"}))
            .await
            .problem(409, "work_order.no_pending_request");
        act(&api, oid, json!({"action": "request_suspension"}))
            .await
            .invalid("reason", "field.required");
        let r = act(
            &api,
            oid,
            json!({"action": "request_suspension", "reason": "等待供水公司抢修"}),
        )
        .await;
        let r = r.ok(200);
        assert_eq!(r["work_order"]["pending"], "request_suspension", "[{b}]");
        assert_eq!(deadline(&r["work_order"]), before, "[{b}] a request alone");

        let r = act(&api, oid, json!({"action": "approve_suspension"})).await;
        assert_eq!(r.ok(200)["to_state"], "suspended", "[{b}]");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Suspended: only resume.
        act(&api, oid, json!({"action": "start"}))
            .await
            .problem(409, "work_order.illegal_transition");
        let r = act(&api, oid, json!({"action": "resume"})).await;
        let r = r.ok(200);
        assert_eq!(r["to_state"], "accepted", "[{b}]");
        let after = deadline(&r["work_order"]);
        assert!(
            after - before >= time::Duration::milliseconds(50),
            "[{b}] the deadline moved by the suspension: {before} → {after}"
        );

        // An approved extension moves it by the hours asked.
        act(
            &api,
            oid,
            json!({"action": "request_extension", "reason": "需更换管道", "extend_hours": 48}),
        )
        .await
        .ok(200);
        let r = act(&api, oid, json!({"action": "approve_extension"})).await;
        let extended = deadline(&r.ok(200)["work_order"]);
        assert_eq!(extended - after, time::Duration::hours(48), "[{b}]");

        let detail = api.get(&format!("/api/v1/work-orders/{oid}")).await;
        let timeline = detail.ok(200)["timeline"].as_array().unwrap().clone();
        assert_eq!(timeline.len(), 7, "[{b}]");
        assert_eq!(timeline[2]["reason"], "等待供水公司抢修", "[{b}]");
    }
}

#[tokio::test]
async fn orders_outside_the_scope_look_missing() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let cat = category(&api, "sanitation").await;
        let o = api
            .create(
                "/api/v1/work-orders",
                json!({"category_id": cat, "title": "垃圾满溢", "description": "垃圾桶满溢",
                       "area_id": t.grid1}),
            )
            .await;
        let oid = id(&o);

        // Signed in over the other community only.
        api.sign_in_over(&[COMMUNITY2.to_owned()]).await;
        api.get(&format!("/api/v1/work-orders/{oid}"))
            .await
            .problem(404, "not_found");
        act(&api, oid, json!({"action": "accept"}))
            .await
            .problem(404, "not_found");
        let list = api.get("/api/v1/work-orders").await;
        assert!(items(list.ok(200)).is_empty(), "[{b}]");
        api.post(
            "/api/v1/work-orders",
            json!({"category_id": cat, "title": "x", "description": "y", "area_id": t.grid1}),
        )
        .await
        .invalid("area_id", "reference.unknown");

        // Back over the first community: untouched.
        api.sign_in_over(&[COMMUNITY.to_owned()]).await;
        let r = api.get(&format!("/api/v1/work-orders/{oid}")).await;
        assert_eq!(r.ok(200)["state"], "reported", "[{b}]");
    }
}
