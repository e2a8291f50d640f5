//! Home visits through the API on both backends: recording one updates the registry in the same
//! step, "not home" keeps a household due, bad input changes nothing.

use serde_json::json;
use wangge_testkit::backends;

use super::support::*;

#[tokio::test]
async fn a_visit_records_what_was_seen_and_updates_tags_in_one_step() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "301").await;
        let h = api
            .create("/api/v1/households", json!({"dwelling_id": dwelling}))
            .await;
        let p = api
            .create(
                "/api/v1/persons",
                json!({"name": "李桂兰", "household_id": id(&h), "relation": "户主", "residence_type": "registered"}),
            )
            .await;
        let old = api
            .tag_person("home_health_monitoring", id(&p), "2026-01-05")
            .await;

        // Due before any visit.
        let due = api
            .get(&format!("/api/v1/visits/due?area={COMMUNITY}&days=30"))
            .await;
        let due = due.ok(200).as_array().unwrap().clone();
        assert!(
            due.iter().any(|d| d["household_id"] == id(&h)),
            "[{b}] due before visiting"
        );

        // Nobody home: recorded, still due.
        api.post(
            "/api/v1/visits",
            json!({"household_id": id(&h), "outcome": "not_home"}),
        )
        .await
        .ok(201);
        let due = api
            .get(&format!("/api/v1/visits/due?area={COMMUNITY}&days=30"))
            .await;
        assert!(
            due.ok(200)
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["household_id"] == id(&h)),
            "[{b}] still due"
        );

        // At home: observations, a new tag on the person and the old one ended, in one step.
        let v = api
            .post(
                "/api/v1/visits",
                json!({
                    "household_id": id(&h), "outcome": "at_home", "purpose": "冬季走访",
                    "observations": {"health": "行动不便", "living": "独自居住", "needs": "需要助餐"},
                    "add_tags": [{"tag": "elderly_living_alone", "person_id": id(&p)}],
                    "end_tags": [id(&old)]
                }),
            )
            .await;
        let v = v.ok(201).clone();
        assert_eq!(v["observations"]["needs"], "需要助餐", "[{b}]");
        let detail = api.get(&format!("/api/v1/persons/{}", id(&p))).await;
        let tags: Vec<String> = detail.ok(200)["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tag"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            tags,
            vec!["elderly_living_alone".to_owned()],
            "[{b}] tags after the visit"
        );
        let due = api
            .get(&format!("/api/v1/visits/due?area={COMMUNITY}&days=30"))
            .await;
        assert!(
            !due.ok(200)
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["household_id"] == id(&h)),
            "[{b}] no longer due"
        );

        // History, newest first; one visit by id.
        let history = api
            .get(&format!("/api/v1/visits?household_id={}", id(&h)))
            .await;
        let history = items(history.ok(200));
        assert_eq!(history.len(), 2, "[{b}]");
        assert_eq!(history[0]["outcome"], "at_home", "[{b}]");
        api.get(&format!("/api/v1/visits/{}", id(&v))).await.ok(200);

        // Bad input changes nothing: a wrong tag rolls the whole visit back.
        let r = api
            .post(
                "/api/v1/visits",
                json!({"household_id": id(&h), "outcome": "at_home", "add_tags": [{"tag": "subsistence_allowance", "person_id": id(&p)}]}),
            )
            .await;
        r.invalid("add_tags[0].tag", "tag.subject_mismatch");
        api.post(
            "/api/v1/visits",
            json!({"household_id": id(&h), "outcome": "maybe"}),
        )
        .await
        .invalid("outcome", "visit_outcome.invalid");
        api.post(
            "/api/v1/visits",
            json!({"household_id": id(&h), "outcome": "at_home", "visited_at": "2099-01-01T00:00:00+08:00"}),
        )
        .await
        .invalid("visited_at", "date.future");
        api.post(
            "/api/v1/visits",
            json!({"household_id": 999_999, "outcome": "at_home"}),
        )
        .await
        .invalid("household_id", "reference.unknown");
        let history = api
            .get(&format!("/api/v1/visits?household_id={}", id(&h)))
            .await;
        assert_eq!(
            items(history.ok(200)).len(),
            2,
            "[{b}] refused visits wrote nothing"
        );
    }
}
