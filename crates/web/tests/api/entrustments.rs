//! W1 through the API on both backends: an entrustment on a household, the resident's own page
//! (link, code, cookie) confirming it, the key chain with witnesses and a photo, receipts checked
//! by code, the access log showing a staff read with its reason, and the resident saying the key
//! is back. Bad input gets a specific error and changes nothing.

use axum::http::Method;
use serde_json::{Value, json};
use wangge_media::fixtures::photo_with_location;
use wangge_testkit::backends;

use super::attachments::upload;
use super::support::*;

fn cookie_of(r: &Resp) -> String {
    r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn w1_entrusted_key_from_the_resident_to_the_contractor_and_back() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let d = api.dwelling(unit, "601").await;
        let h = id(&api
            .create("/api/v1/households", json!({"dwelling_id": d}))
            .await);
        let p = api
            .create(
                "/api/v1/persons",
                json!({"name": "王建国", "household_id": h, "relation": "户主",
                       "residence_type": "registered", "phone": "13912340601"}),
            )
            .await;
        let me = api.get("/api/v1/session").await.ok(200)["user_id"]
            .as_i64()
            .unwrap();
        let today = time::OffsetDateTime::now_utc()
            .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
            .date();
        let plan = |first: time::Date, last: time::Date| {
            json!({"household_id": h, "resident_name": "王建国", "phone": "13912340601",
                   "purpose": "更换节能窗", "first_day": first.to_string(), "last_day": last.to_string(),
                   "acts": ["hold_key", "let_contractors_in", "take_photos"], "channel": "phone_call"})
        };
        // Bad input: named, nothing created.
        let mut bad = plan(today, today + time::Duration::days(200));
        bad["acts"] = json!(["dance"]);
        bad["phone"] = json!("12");
        let r = api.post("/api/v1/entrustments", bad).await;
        r.problem(422, "validation.failed");
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["phone", "acts[0]", "acts", "last_day"], "[{b}]");
        assert!(
            items(&api.get("/api/v1/entrustments").await.ok(200).clone()).is_empty(),
            "[{b}]"
        );

        let e = api
            .create(
                "/api/v1/entrustments",
                plan(today, today + time::Duration::days(3)),
            )
            .await;
        let eid = id(&e);
        assert_eq!(
            (e["state"].as_str(), e["staff"][0]["id"].as_i64()),
            (Some("awaiting_confirmation"), Some(me)),
            "[{b}]"
        );
        assert!(!e.to_string().contains("13912340601"), "[{b}] masked");
        let key = format!("/api/v1/entrustments/{eid}/key-events");
        api.post(
            &key,
            json!({"kind": "received_from_resident", "witness": "resident"}),
        )
        .await
        .problem(409, "custody.outside_consent");

        // The resident's page: the link, a wrong code, the right one (cookie), confirm.
        let url = api
            .post(
                &format!("/api/v1/entrustments/{eid}/resident-link"),
                json!({}),
            )
            .await
            .ok(200)["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let link = url.trim_start_matches("/r/").to_owned();
        let code = api
            .post(
                &format!("/api/v1/entrustments/{eid}/resident-code"),
                json!({}),
            )
            .await
            .ok(200)["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let anon = |extra: &[(&str, &str)]| {
            let mut h = vec![
                ("authorization", "none"),
                ("content-type", "application/json"),
            ];
            h.extend_from_slice(extra);
            h.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        let send = |method: Method, uri: String, body: Value, extra: Vec<(String, String)>| {
            let api = &api;
            async move {
                let h: Vec<(&str, &str)> = extra
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let bytes = if body.is_null() {
                    vec![]
                } else {
                    serde_json::to_vec(&body).unwrap()
                };
                api.raw(method, &uri, bytes, &h).await
            }
        };
        let session_uri = format!("/api/v1/resident/entrustments/{link}/session");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        send(
            Method::POST,
            session_uri.clone(),
            json!({"code": wrong}),
            anon(&[]),
        )
        .await
        .problem(422, "resident_code.wrong");
        send(
            Method::GET,
            format!("/api/v1/resident/entrustments/{link}"),
            Value::Null,
            anon(&[]),
        )
        .await
        .problem(401, "resident.code_required");
        let opened = send(Method::POST, session_uri, json!({"code": code}), anon(&[])).await;
        assert_eq!(opened.status, 204, "[{b}] {}", opened.text);
        let cookie = cookie_of(&opened);
        assert!(
            opened.headers["set-cookie"]
                .to_str()
                .unwrap()
                .contains("SameSite=Strict"),
            "[{b}]"
        );
        let with = anon(&[("cookie", cookie.as_str())]);
        let step = |s: &str| {
            send(
                Method::POST,
                format!("/api/v1/resident/entrustments/{link}/steps"),
                json!({"step": s}),
                with.clone(),
            )
        };
        step("take")
            .await
            .invalid("step", "entrustment_step.invalid");
        assert_eq!(step("confirm").await.ok(200)["state"], "active", "[{b}]");

        // The chain: received, a photo, stored, taken out, lent, back, home.
        let photo = photo_with_location();
        let up = upload(
            &api,
            &format!("/api/v1/entrustments/{eid}/attachments"),
            &[("file", Some("image/jpeg"), &photo)],
        )
        .await;
        let photo_id = up.ok(201)["id"].as_i64().unwrap();
        let back = (time::OffsetDateTime::now_utc() + time::Duration::hours(4))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let mut receipts = Vec::new();
        for body in [
            json!({"kind": "received_from_resident", "witness": "resident", "attachment_id": photo_id}),
            json!({"kind": "stored", "slot": "A-03"}),
            json!({"kind": "taken_from_cabinet"}),
            json!({"kind": "lent_to_contractor", "witness": "contractor", "contractor_name": "张师傅",
                   "company": "晋阳门窗安装公司", "contractor_phone": "13800001111", "expected_return": back}),
            json!({"kind": "returned_to_custody", "witness": "contractor"}),
            json!({"kind": "returned_to_resident", "witness": "resident"}),
        ] {
            let r = api.post(&key, body).await;
            let r = r.ok(201).clone();
            receipts.push(r["event"]["receipt_code"].as_str().unwrap().to_owned());
        }
        api.post(&key, json!({"kind": "stored", "slot": "？"}))
            .await
            .invalid("slot", "cabinet_slot.invalid");
        api.post(&key, json!({"kind": "taken_from_cabinet"}))
            .await
            .problem(409, "custody.ended");
        let detail = api
            .get(&format!("/api/v1/entrustments/{eid}"))
            .await
            .ok(200)
            .clone();
        assert_eq!(detail["key_events"].as_array().unwrap().len(), 6, "[{b}]");
        assert_eq!(detail["holder"], "resident", "[{b}]");
        assert_eq!(
            detail["key_events"][3]["contractor_phone_masked"], "138****1111",
            "[{b}]"
        );
        let r = api
            .get(&format!("/api/v1/key-receipts/{}", receipts[3]))
            .await
            .ok(200)
            .clone();
        assert_eq!(
            (r["entrustment_id"].as_i64(), r["event"]["seq"].as_i64()),
            (Some(eid), Some(4)),
            "[{b}]"
        );
        api.get("/api/v1/key-receipts/AAAA-AAAA")
            .await
            .problem(404, "not_found");

        // A staff member reveals the resident's numbers, with a reason: it shows on their page.
        api.post(
            &format!("/api/v1/persons/{}/reveal", id(&p)),
            json!({"reason": "核实委托人联系方式"}),
        )
        .await
        .ok(200);
        let view = send(
            Method::GET,
            format!("/api/v1/resident/entrustments/{link}"),
            Value::Null,
            with.clone(),
        )
        .await;
        let view = view.ok(200).clone();
        assert_eq!(view["key_events"].as_array().unwrap().len(), 6, "[{b}]");
        let codes: Vec<&str> = view["key_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["receipt_code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            receipts.iter().map(String::as_str).collect::<Vec<_>>(),
            "[{b}]"
        );
        let reveal = view["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["reason"] == "核实委托人联系方式")
            .expect("the reveal is listed");
        assert_eq!(
            reveal["what_zh"], "查看了家庭成员的完整身份证号或手机号",
            "[{b}]"
        );
        assert_eq!(view["photos"], json!([photo_id]), "[{b}]");
        assert!(
            view["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "complete"),
            "[{b}]"
        );
        let img = send(
            Method::GET,
            format!("/api/v1/resident/entrustments/{link}/photos/{photo_id}"),
            Value::Null,
            with.clone(),
        )
        .await;
        assert_eq!(img.status, 200, "[{b}]");
        assert!(!img.text.contains("GPS"), "[{b}] stripped");
        send(
            Method::GET,
            format!("/api/v1/resident/entrustments/{link}/photos/999999"),
            Value::Null,
            with.clone(),
        )
        .await
        .problem(404, "not_found");

        // The key is back: the resident says so; the key cabinet no longer lists it.
        assert_eq!(
            step("complete").await.ok(200)["state"],
            "completed",
            "[{b}]"
        );
        let cabinet = api.get("/api/v1/key-cabinet").await.ok(200).clone();
        assert!(cabinet["items"].as_array().unwrap().is_empty(), "[{b}]");
        // A new link ends the old one and its session.
        api.post(
            &format!("/api/v1/entrustments/{eid}/resident-link"),
            json!({}),
        )
        .await
        .ok(200);
        send(
            Method::GET,
            format!("/api/v1/resident/entrustments/{link}"),
            Value::Null,
            with,
        )
        .await
        .problem(404, "not_found");
    }
}
