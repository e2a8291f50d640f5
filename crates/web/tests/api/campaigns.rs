//! Campaigns through the API on both backends: W3 (a delivery to elderly party members in one
//! compound, one contactless, with a form, photos and coverage) and W2 (a sweep over a building
//! with slots and a resident's pre-registration on the public endpoint). Bad input gets a
//! specific error and changes nothing.

use axum::http::Method;
use serde_json::{Value, json};
use wangge_media::fixtures::photo_with_location;
use wangge_testkit::backends;

use super::attachments::upload;
use super::support::*;

/// A member: name, birth date (YYYYMMDD), ID sequence number.
type Member = (&'static str, &'static str, u16);

/// 西矿街小区 3号楼 2单元 with 101 (an elderly party member, 81), 102 (an elderly party member
/// under home health monitoring, and her son), 201 (a young family); returns
/// (building, [households], [party members]).
async fn compound(api: &Api, t: &Tree) -> (i64, Vec<i64>, Vec<i64>) {
    let unit = api.unit(t).await;
    let building = api.get(&format!("/api/v1/places/{unit}")).await.ok(200)["parent_id"]
        .as_i64()
        .unwrap();
    let mut households = Vec::new();
    let mut party = Vec::new();
    let people: [(&str, &[Member]); 3] = [
        ("101", &[("王建国", "19450301", 11)]),
        (
            "102",
            &[("李秀兰", "19480716", 22), ("李明", "19800505", 33)],
        ),
        ("201", &[("钱年轻", "19950101", 44)]),
    ];
    for (room, members) in people {
        let d = api.dwelling(unit, room).await;
        let h = id(&api
            .create("/api/v1/households", json!({"dwelling_id": d}))
            .await);
        for (i, (name, birth, seq)) in members.iter().enumerate() {
            let p = api
                .create(
                    "/api/v1/persons",
                    json!({"name": name, "id_number": id18("140109", birth, *seq),
                           "household_id": h, "relation": if i == 0 { "户主" } else { "子" },
                           "residence_type": "registered"}),
                )
                .await;
            if birth.starts_with("194") {
                api.tag_person("elderly_party_member", id(&p), "2020-01-01")
                    .await;
                party.push(id(&p));
            }
            if *name == "李明" {
                api.tag_person("home_health_monitoring", id(&p), "2026-11-01")
                    .await;
            }
        }
        households.push(h);
    }
    (building, households, party)
}

fn w3_plan(compound_place: i64) -> Value {
    json!({
        "name": "送书上门", "kind": "delivery", "purpose": "为老党员送书，了解健康和生活情况",
        "area": COMMUNITY, "starts_on": "2026-11-20", "ends_on": "2026-11-30",
        "rule": {"tags": ["elderly_party_member"], "age_min": 70, "places": [compound_place]},
        "form": [
            {"label": "健康状况", "type": "text", "required": true},
            {"label": "居住情况", "type": "choice", "options": ["独居", "与家人同住"], "required": true},
            {"label": "意见建议", "type": "text"},
            {"label": "门口照片", "type": "photo"}
        ]
    })
}

#[tokio::test]
async fn w3_delivery_to_a_target_list_with_a_form_and_coverage() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let (building, _, party) = compound(&api, &t).await;
        let compound_place =
            api.get(&format!("/api/v1/places/{building}")).await.ok(200)["parent_id"]
                .as_i64()
                .unwrap();

        // Preview: two party members of 70 and over, one household with home health monitoring.
        let p = api
            .post(
                "/api/v1/campaigns/preview",
                json!({"kind": "delivery", "area": COMMUNITY,
                       "rule": {"tags": ["elderly_party_member"], "age_min": 70, "places": [compound_place]}}),
            )
            .await;
        let p = p.ok(200);
        assert_eq!(
            (p["targets"].as_i64(), p["contactless"].as_i64()),
            (Some(2), Some(1)),
            "[{b}] {p}"
        );

        // Bad input: every problem named, nothing created.
        let mut bad = w3_plan(compound_place);
        bad["kind"] = json!("party");
        bad["area"] = json!("12");
        bad["form"][1]["options"] = json!(["独居"]);
        let r = api.post("/api/v1/campaigns", bad).await;
        r.problem(422, "validation.failed");
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["kind", "area"], "[{b}] parsed first");
        let mut bad = w3_plan(compound_place);
        bad["form"][1]["options"] = json!(["独居"]);
        api.post("/api/v1/campaigns", bad)
            .await
            .invalid("form[1].options", "form.choice_options");
        assert!(
            items(&api.get("/api/v1/campaigns").await.ok(200).clone()).is_empty(),
            "[{b}] nothing created"
        );

        let c = api
            .create("/api/v1/campaigns", w3_plan(compound_place))
            .await;
        assert_eq!(c["state"], "draft", "[{b}]");
        let cid = id(&c);
        let c = api
            .post(&format!("/api/v1/campaigns/{cid}/launch"), json!({}))
            .await
            .ok(200)
            .clone();
        assert_eq!(
            (c["state"].as_str(), c["target_count"].as_i64()),
            (Some("active"), Some(2)),
            "[{b}]"
        );
        api.post(&format!("/api/v1/campaigns/{cid}/launch"), json!({}))
            .await
            .problem(409, "campaign.not_draft");

        let doors = api
            .get(&format!("/api/v1/campaigns/{cid}/items?order=doors"))
            .await
            .ok(200)
            .clone();
        let doors = items(&doors);
        assert_eq!(doors.len(), 2, "[{b}]");
        assert_eq!(doors[0]["person_name"], "王建国", "[{b}] walking order");
        assert_eq!(doors[1]["mode"], "contactless", "[{b}]");
        assert!(
            doors
                .iter()
                .all(|d| party.contains(&d["person_id"].as_i64().unwrap())),
            "[{b}]"
        );

        // Done without the required answers: refused, the door unchanged.
        let first = id(&doors[0]);
        let uri = format!("/api/v1/campaign-items/{first}/outcome");
        api.post(
            &uri,
            json!({"outcome": "done", "answers": {"f1": "身体硬朗"}}),
        )
        .await
        .invalid("answers.f2", "required");
        api.post(&uri, json!({"outcome": "maybe"}))
            .await
            .invalid("outcome", "item_outcome.invalid");
        let detail = api.get(&format!("/api/v1/campaign-items/{first}")).await;
        assert_eq!(detail.ok(200)["status"], "pending", "[{b}]");

        // Delivered at the door with a photo (multipart: the outcome as JSON plus photos).
        let data = json!({"outcome": "done", "answers": {"f1": "身体硬朗", "f2": "独居", "f3": "希望多组织学习"}}).to_string();
        let photo = photo_with_location();
        let r = upload(
            &api,
            &uri,
            &[
                ("data", None, data.as_bytes()),
                ("photos", Some("image/jpeg"), &photo),
            ],
        )
        .await;
        let done = r.ok(200).clone();
        assert_eq!(done["status"], "done", "[{b}] {done}");
        assert_eq!(
            done["answers"]["f4"], 1,
            "[{b}] the photo answers the photo field"
        );
        assert_eq!(done["attachment_ids"].as_array().unwrap().len(), 1, "[{b}]");
        let visit = done["visit_id"].as_i64().unwrap();
        let photos = api
            .get(&format!("/api/v1/visits/{visit}/attachments"))
            .await;
        assert_eq!(
            photos.ok(200).as_array().unwrap().len(),
            1,
            "[{b}] attached to the visit"
        );
        let v = api
            .get(&format!("/api/v1/visits/{visit}"))
            .await
            .ok(200)
            .clone();
        assert_eq!(
            (v["outcome"].as_str(), v["purpose"].as_str()),
            (Some("at_home"), Some("送书上门")),
            "[{b}]"
        );

        // Contactless: hung on the door with a call; recorded as a phone visit.
        let second = id(&doors[1]);
        let r = api
            .post(
                &format!("/api/v1/campaign-items/{second}/outcome"),
                json!({"outcome": "done", "answers": {"f1": "居家观察，电话联系", "f2": "与家人同住"}, "note": "书挂门把手"}),
            )
            .await;
        let r = r.ok(200).clone();
        assert_eq!(r["mode"], "contactless", "[{b}]");
        let v = api
            .get(&format!("/api/v1/visits/{}", r["visit_id"]))
            .await
            .ok(200)
            .clone();
        assert_eq!(v["outcome"], "phone", "[{b}]");
        let attempts = api
            .get(&format!("/api/v1/campaign-items/{second}"))
            .await
            .ok(200)
            .clone();
        assert_eq!(attempts["attempts"].as_array().unwrap().len(), 1, "[{b}]");
        api.post(
            &format!("/api/v1/campaign-items/{second}/outcome"),
            json!({"outcome": "not_home"}),
        )
        .await
        .problem(409, "campaign_item.finished");

        // Coverage against the frozen list.
        let cov = api
            .get(&format!("/api/v1/campaigns/{cid}/coverage"))
            .await
            .ok(200)
            .clone();
        assert_eq!(cov["target_count"], 2, "[{b}]");
        assert_eq!(
            (
                cov["total"]["done"].as_i64(),
                cov["total"]["reached_permille"].as_i64()
            ),
            (Some(2), Some(1000)),
            "[{b}] {cov}"
        );
        let grid1 = cov["by_area"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["area_code"] == "140109001001001")
            .unwrap();
        assert_eq!(grid1["counts"]["contactless"], 1, "[{b}]");

        // The export: an xlsx workbook, masked unless revealed with a reason.
        let x = api.get(&format!("/api/v1/campaigns/{cid}/export")).await;
        assert_eq!(x.status, 200, "[{b}]");
        assert!(
            x.headers["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml"),
            "[{b}]"
        );
        assert_eq!(&x.bytes[..2], b"PK", "[{b}]");
        api.post(
            &format!("/api/v1/campaigns/{cid}/export"),
            json!({"reason": "x"}),
        )
        .await
        .invalid("reason", "reason.length");
        let x = api
            .post(
                &format!("/api/v1/campaigns/{cid}/export"),
                json!({"reason": "核对送书名单"}),
            )
            .await;
        assert_eq!(x.status, 200, "[{b}]");
    }
}

#[tokio::test]
async fn w2_sweep_with_slots_and_a_residents_pre_registration() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let (building, households, _) = compound(&api, &t).await;
        let c = api
            .create(
                "/api/v1/campaigns",
                json!({"name": "节能窗改造入户", "kind": "sweep", "area": COMMUNITY,
                       "starts_on": "2026-11-10", "ends_on": "2026-11-30",
                       "rule": {"places": [building]}}),
            )
            .await;
        let cid = id(&c);
        // No public link for a draft.
        api.post(
            &format!("/api/v1/campaigns/{cid}/link"),
            json!({"open": true}),
        )
        .await
        .problem(409, "campaign.not_active");
        api.post(&format!("/api/v1/campaigns/{cid}/launch"), json!({}))
            .await
            .ok(200);
        let doors = items(
            &api.get(&format!("/api/v1/campaigns/{cid}/items"))
                .await
                .ok(200)
                .clone(),
        );
        assert_eq!(
            ids(&doors).len(),
            households.len(),
            "[{b}] every household of the building"
        );

        // The building's slot: 20–22 Nov, already past on 25 Nov, so every open door is overdue.
        let slots = format!("/api/v1/campaigns/{cid}/items/slots");
        api.post(
            &slots,
            json!({"building_id": building, "starts_on": "2026-11-22", "ends_on": "2026-11-20"}),
        )
        .await
        .invalid("ends_on", "slot.order");
        api.post(&slots, json!({"building_id": building, "item_ids": [1], "starts_on": "2026-11-20", "ends_on": "2026-11-22"}))
            .await
            .invalid("item_ids", "campaign.selection");
        let r = api
            .post(&slots, json!({"building_id": building, "starts_on": "2026-11-20", "ends_on": "2026-11-22", "note": "需有人在家"}))
            .await;
        assert_eq!(r.ok(200)["changed"], 3, "[{b}]");
        let overdue = items(
            &api.get(&format!("/api/v1/campaigns/{cid}/items?overdue=true"))
                .await
                .ok(200)
                .clone(),
        );
        assert_eq!(overdue.len(), 3, "[{b}]");
        assert_eq!(overdue[0]["slot"]["note"], "需有人在家", "[{b}]");

        // Not home: the revisit queue.
        api.post(
            &format!("/api/v1/campaign-items/{}/outcome", id(&doors[2])),
            json!({"outcome": "not_home"}),
        )
        .await
        .ok(200);
        let revisit = items(
            &api.get(&format!("/api/v1/campaigns/{cid}/items?status=not_home"))
                .await
                .ok(200)
                .clone(),
        );
        assert_eq!(ids(&revisit), [id(&doors[2])], "[{b}]");

        // The resident's page: open the link, pre-register, get a reference.
        let c = api
            .post(
                &format!("/api/v1/campaigns/{cid}/link"),
                json!({"open": true}),
            )
            .await
            .ok(200)
            .clone();
        let url = c["public_url"].as_str().unwrap().to_owned();
        let token = url.trim_start_matches("/c/");
        let anon = [("authorization", "none")];
        let page = api
            .raw(
                Method::GET,
                &format!("/api/v1/public/campaigns/{token}"),
                vec![],
                &anon,
            )
            .await;
        let page = page.ok(200).clone();
        assert_eq!(page["name"], "节能窗改造入户", "[{b}]");
        assert_eq!(page["buildings"][0]["id"], building, "[{b}]");
        assert!(
            !page.to_string().contains("王建国"),
            "[{b}] no residents on the public page"
        );
        let submit = |body: Value| {
            let uri = format!("/api/v1/public/campaigns/{token}/requests");
            let api = &api;
            async move {
                api.raw(
                    Method::POST,
                    &uri,
                    serde_json::to_vec(&body).unwrap(),
                    &[
                        ("authorization", "none"),
                        ("content-type", "application/json"),
                    ],
                )
                .await
            }
        };
        submit(json!({"kind": "act_for_me", "name": "王建国", "phone": "12", "dwelling": ""}))
            .await
            .problem(422, "validation.failed");
        let ok = submit(
            json!({"kind": "act_for_me", "name": "王建国", "phone": "13912340101",
                               "building_id": building, "unit": "2", "dwelling": "101",
                               "message": "11月20日至22日出差，钥匙可交网格员"}),
        )
        .await;
        let receipt = ok.ok(202).clone();
        assert_eq!(receipt["reference"].as_str().unwrap().len(), 8, "[{b}]");
        let unknown = submit(
            json!({"kind": "act_for_me", "name": "路人", "phone": "13912340102",
                                    "building_id": building, "dwelling": "909"}),
        )
        .await;
        let unknown = unknown.ok(202).clone();
        assert_eq!(
            unknown.as_object().unwrap().keys().collect::<Vec<_>>(),
            receipt.as_object().unwrap().keys().collect::<Vec<_>>(),
            "[{b}] the same answer"
        );

        // Staff see it on the door and in the list, call back, and mark it handled.
        let reqs = api
            .get(&format!("/api/v1/campaigns/{cid}/requests?open=true"))
            .await
            .ok(200)
            .clone();
        let reqs = reqs.as_array().unwrap().clone();
        assert_eq!(reqs.len(), 2, "[{b}]");
        let matched = reqs
            .iter()
            .find(|r| r["reference"] == receipt["reference"])
            .unwrap();
        assert_eq!(
            matched["item_id"],
            id(&doors[0]),
            "[{b}] 101 is the first door"
        );
        assert!(!matched.to_string().contains("13912340101"), "[{b}] masked");
        let door = api
            .get(&format!("/api/v1/campaign-items/{}", id(&doors[0])))
            .await
            .ok(200)
            .clone();
        assert_eq!(door["requests"][0]["kind"], "act_for_me", "[{b}]");
        let phone = api
            .post(
                &format!("/api/v1/campaign-requests/{}/contact", matched["id"]),
                json!({}),
            )
            .await;
        assert_eq!(phone.ok(200)["phone"], "13912340101", "[{b}]");
        let other = reqs.iter().find(|r| r["item_id"].is_null()).unwrap();
        api.post(
            &format!("/api/v1/campaign-requests/{}/handle", other["id"]),
            json!({"item_id": 987_654}),
        )
        .await
        .invalid("item_id", "reference.unknown");
        let h = api
            .post(
                &format!("/api/v1/campaign-requests/{}/handle", other["id"]),
                json!({"item_id": id(&doors[1])}),
            )
            .await;
        assert_eq!(
            (h.ok(200)["open"].as_bool(), h.body["item_id"].as_i64()),
            (Some(false), Some(id(&doors[1]))),
            "[{b}]"
        );

        // Closing the campaign closes its page.
        api.post(&format!("/api/v1/campaigns/{cid}/close"), json!({}))
            .await
            .ok(200);
        api.raw(
            Method::GET,
            &format!("/api/v1/public/campaigns/{token}"),
            vec![],
            &anon,
        )
        .await
        .problem(404, "not_found");
    }
}
