//! Assist requests through the API on both backends (W1: a grid worker asks colleagues to help
//! clear a stairwell): colleagues, asking a person or a team, the colleague's list, accept and
//! done, refusals as 409 naming the state, the order's timeline, and scope.

use axum::http::Method;
use serde_json::{Value, json};
use wangge_domain::{NewPassword, Role, Username};
use wangge_services::identity::Identity;
use wangge_testkit::backends;

use super::support::*;

/// A user of `role` over the area `code`, and their bearer token.
struct Member {
    id: i64,
    token: String,
}

async fn member(
    api: &Api,
    store: &wangge_store::Store,
    name: &str,
    role: Role,
    code: &str,
) -> Member {
    let identity = Identity::new(store.clone());
    let username = Username::parse(name).unwrap();
    let password = NewPassword::parse("Assist-test-pass-1").unwrap();
    let u = identity
        .create_user("test", &username, name, role, &[code.to_owned()], &password)
        .await
        .unwrap_or_else(|e| panic!("[{}] user {name}: {e:?}", api.backend));
    let (token, _) = identity
        .create_token(
            "test",
            &username,
            "tests",
            std::time::Duration::from_secs(3600),
        )
        .await
        .expect("token");
    Member { id: u.id, token }
}

async fn as_(api: &Api, who: &Member, method: Method, uri: &str, body: Option<Value>) -> Resp {
    let auth = format!("Bearer {}", who.token);
    api.call(
        method,
        uri,
        body.as_ref(),
        &[("authorization", auth.as_str())],
    )
    .await
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_grid_worker_asks_a_colleague_who_accepts_and_logs_the_work() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let store = &ts.store;
        let asker = member(&api, store, "gw_asker", Role::GridWorker, "140109001001001").await;
        let mate = member(&api, store, "gw_mate", Role::GridWorker, "140109001001001").await;
        let staff = member(&api, store, "staff_li", Role::CommunityStaff, COMMUNITY).await;
        let other = member(&api, store, "gw_other", Role::GridWorker, "140109001002001").await;

        let cats = api.get("/api/v1/work-order-categories").await;
        let cat = id(&cats.ok(200)[0]);
        let order = as_(
            &api,
            &asker,
            Method::POST,
            "/api/v1/work-orders",
            Some(json!({"category_id": cat, "title": "楼道堆物",
                        "description": "窗户安装前需清理楼道杂物", "area_id": t.grid1})),
        )
        .await;
        let oid = id(order.ok(201));

        // Colleagues: people covering the order's grid, not the caller, not other grids.
        let r = as_(
            &api,
            &asker,
            Method::GET,
            &format!("/api/v1/work-orders/{oid}/colleagues"),
            None,
        )
        .await;
        let who = names(r.ok(200), "username");
        assert!(
            who.contains(&"gw_mate".to_owned()) && who.contains(&"staff_li".to_owned()),
            "[{b}] {who:?}"
        );
        assert!(
            !who.contains(&"gw_asker".to_owned()) && !who.contains(&"gw_other".to_owned()),
            "[{b}] {who:?}"
        );

        // Ask the community staff member.
        let uri = format!("/api/v1/work-orders/{oid}/assists");
        let r = as_(
            &api,
            &asker,
            Method::POST,
            &uri,
            Some(json!({"assignee_ids": [staff.id], "message": "请帮忙清理楼道杂物"})),
        )
        .await;
        let created = r.ok(201).as_array().unwrap().clone();
        assert_eq!(created.len(), 1, "[{b}]");
        assert_eq!(created[0]["state"], "requested", "[{b}]");
        assert_eq!(created[0]["assignee_id"], staff.id, "[{b}]");
        assert_eq!(
            created[0]["actions"],
            json!(["cancel"]),
            "[{b}] the asker may cancel"
        );
        let aid = id(&created[0]);

        // The colleague sees it in their list, with what they may do.
        let mine = as_(&api, &staff, Method::GET, "/api/v1/assists", None).await;
        let mine = items(mine.ok(200));
        assert_eq!(ids(&mine), vec![aid], "[{b}]");
        assert_eq!(mine[0]["actions"], json!(["accept", "decline"]), "[{b}]");
        assert_eq!(mine[0]["work_order_title"], "楼道堆物", "[{b}]");
        as_(
            &api,
            &staff,
            Method::GET,
            "/api/v1/assists?for=gw_asker",
            None,
        )
        .await
        .invalid("for", "assist.only_me");

        // Illegal or not theirs: 409 naming the state or who may act; bad input: 422.
        let act = format!("/api/v1/assists/{aid}/actions");
        let r = as_(
            &api,
            &staff,
            Method::POST,
            &act,
            Some(json!({"action": "done", "note": "x"})),
        )
        .await;
        let p = r.problem(409, "assist.illegal_transition");
        assert!(
            p["detail_zh"].as_str().unwrap().contains("待接受"),
            "[{b}] {}",
            r.text
        );
        as_(
            &api,
            &mate,
            Method::POST,
            &act,
            Some(json!({"action": "accept"})),
        )
        .await
        .problem(409, "assist.not_assignee");
        as_(
            &api,
            &staff,
            Method::POST,
            &act,
            Some(json!({"action": "teleport"})),
        )
        .await
        .invalid("action", "assist.action");
        as_(
            &api,
            &staff,
            Method::POST,
            &act,
            Some(json!({"action": "decline"})),
        )
        .await
        .invalid("reason", "text.empty");

        // Accept, then log what was done.
        let r = as_(
            &api,
            &staff,
            Method::POST,
            &act,
            Some(json!({"action": "accept"})),
        )
        .await;
        assert_eq!(r.ok(200)["state"], "accepted", "[{b}]");
        assert_eq!(r.body["actions"], json!(["done"]), "[{b}]");
        let r = as_(
            &api,
            &staff,
            Method::POST,
            &act,
            Some(json!({"action": "done", "note": "清走三袋杂物，楼道已通"})),
        )
        .await;
        assert_eq!(r.ok(200)["state"], "done", "[{b}]");

        // The asker sees it on the order's timeline and in their own requests.
        let d = as_(
            &api,
            &asker,
            Method::GET,
            &format!("/api/v1/work-orders/{oid}"),
            None,
        )
        .await;
        let timeline = d.ok(200)["timeline"].as_array().unwrap().clone();
        let steps: Vec<(&str, Option<i64>)> = timeline
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["assist_id"].as_i64()))
            .collect();
        assert_eq!(
            steps,
            [
                ("report", None),
                ("assist_requested", Some(aid)),
                ("assist_accepted", Some(aid)),
                ("assist_done", Some(aid))
            ],
            "[{b}]"
        );
        assert_eq!(timeline[3]["note"], "清走三袋杂物，楼道已通", "[{b}]");
        assert_eq!(
            d.body["state"], "reported",
            "[{b}] the order's state is unchanged"
        );
        let r = as_(
            &api,
            &asker,
            Method::GET,
            "/api/v1/assists?requested_by=me",
            None,
        )
        .await;
        let theirs = items(r.ok(200));
        assert_eq!(theirs[0]["done_note"], "清走三袋杂物，楼道已通", "[{b}]");
        assert_eq!(theirs[0]["actions"], json!([]), "[{b}] done is final");

        // A team: every other grid worker covering the grid, one request each.
        let r = as_(
            &api,
            &asker,
            Method::POST,
            &uri,
            Some(json!({"team_role": "grid_worker", "message": "需要两人搬运"})),
        )
        .await;
        let team = r.ok(201).as_array().unwrap().clone();
        assert_eq!(
            names(&Value::Array(team.clone()), "assignee"),
            ["gw_mate"],
            "[{b}]"
        );
        assert_eq!(team[0]["team_role"], "grid_worker", "[{b}]");
        as_(
            &api,
            &asker,
            Method::POST,
            &uri,
            Some(json!({"team_role": "grid_worker", "message": "再问一次"})),
        )
        .await
        .problem(409, "assist.already_requested");
        as_(
            &api,
            &asker,
            Method::POST,
            &uri,
            Some(json!({"team_role": "boss", "message": "x"})),
        )
        .await
        .invalid("team_role", "role.invalid");
        as_(
            &api,
            &asker,
            Method::POST,
            &uri,
            Some(json!({"assignee_ids": [other.id], "message": "x"})),
        )
        .await
        .invalid("assignee_ids", "reference.unknown");
        let r = as_(&api, &asker, Method::GET, &uri, None).await;
        assert_eq!(r.ok(200).as_array().unwrap().len(), 2, "[{b}]");

        // Outside the order's area everything about it looks missing.
        for (m, u, body) in [
            (
                Method::GET,
                format!("/api/v1/work-orders/{oid}/colleagues"),
                None,
            ),
            (Method::GET, uri.clone(), None),
            (
                Method::POST,
                uri.clone(),
                Some(json!({"assignee_ids": [mate.id], "message": "x"})),
            ),
            (Method::POST, act.clone(), Some(json!({"action": "cancel"}))),
        ] {
            as_(&api, &other, m, &u, body)
                .await
                .problem(404, "not_found");
        }
        let r = as_(
            &api,
            &other,
            Method::GET,
            "/api/v1/assists?requested_by=me",
            None,
        )
        .await;
        assert!(items(r.ok(200)).is_empty(), "[{b}]");
    }
}
