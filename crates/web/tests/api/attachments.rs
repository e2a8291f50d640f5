//! Photo attachments through the API on both backends: multipart upload to a visit and to a
//! work order, metadata stripped, served with safe headers, listed, and refused clearly.

use axum::http::Method;
use serde_json::json;
use wangge_media::fixtures::{SECRET, photo_with_location};
use wangge_testkit::backends;

use super::support::*;

const BOUNDARY: &str = "wangge-test-boundary";

pub(crate) fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, content_type, data) in parts {
        b.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").bytes(),
        );
        if let Some(ct) = content_type {
            b.extend(format!("; filename=\"p\"\r\nContent-Type: {ct}").bytes());
        }
        b.extend(b"\r\n\r\n");
        b.extend_from_slice(data);
        b.extend(b"\r\n");
    }
    b.extend(format!("--{BOUNDARY}--\r\n").bytes());
    b
}

pub(crate) async fn upload(api: &Api, uri: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Resp {
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    api.raw(
        Method::POST,
        uri,
        multipart(parts),
        &[("content-type", &ct)],
    )
    .await
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn photos_upload_stripped_and_are_served_safely() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "502").await;
        let h = api
            .create("/api/v1/households", json!({"dwelling_id": dwelling}))
            .await;
        let v = api
            .create(
                "/api/v1/visits",
                json!({"household_id": id(&h), "outcome": "at_home"}),
            )
            .await;
        let photo = photo_with_location();
        let uri = format!("/api/v1/visits/{}/attachments", id(&v));
        let a = upload(&api, &uri, &[("file", Some("image/jpeg"), &photo)]).await;
        let a = a.ok(201).clone();
        assert_eq!(a["parent_kind"], "visit", "[{b}]");
        assert_eq!(
            (a["width"].as_i64(), a["height"].as_i64()),
            (Some(64), Some(48))
        );
        assert_eq!(a["kept_location"], false);

        let got = api.get(a["url"].as_str().unwrap()).await;
        assert_eq!(got.status, 200, "[{b}]");
        let header = |n: &str| got.headers.get(n).unwrap().to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "image/jpeg");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("content-disposition"), "inline");
        assert!(header("cache-control").starts_with("private"));
        assert!(!contains(&got.bytes, SECRET), "[{b}] location served");
        let thumb = api.get(a["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(thumb.status, 200);
        assert!(thumb.bytes.starts_with(&[0xFF, 0xD8]));

        let listed = api.get(&uri).await;
        assert_eq!(
            ids(listed.ok(200).as_array().unwrap()),
            vec![id(&a)],
            "[{b}]"
        );

        // Kept on request.
        let kept = upload(
            &api,
            &uri,
            &[
                ("keep_location", None, b"true"),
                ("file", Some("image/jpeg"), &photo),
            ],
        )
        .await;
        let kept = kept.ok(201).clone();
        assert_eq!(kept["kept_location"], true);
        let got = api.get(kept["url"].as_str().unwrap()).await;
        assert_eq!(got.bytes, photo, "[{b}]");
    }
}

#[tokio::test]
async fn work_orders_and_their_timeline_entries_take_photos() {
    for ts in backends().await {
        let b = ts.name;
        let api = Api::new(&ts);
        let t = api.tree().await;
        let cats = api.get("/api/v1/work-order-categories").await;
        let category = cats.ok(200).as_array().unwrap()[0]["id"].as_i64().unwrap();
        let o = api
            .create(
                "/api/v1/work-orders",
                json!({"category_id": category, "title": "路灯不亮", "description": "3 号楼门口",
                       "area_id": t.grid1}),
            )
            .await;
        let detail = api.get(&format!("/api/v1/work-orders/{}", id(&o))).await;
        let event = detail.ok(200)["timeline"][0]["id"].as_i64().unwrap();
        let uri = format!("/api/v1/work-orders/{}/attachments", id(&o));
        let photo = photo_with_location();
        let on_order = upload(&api, &uri, &[("file", Some("image/jpeg"), &photo)]).await;
        let on_order = on_order.ok(201).clone();
        let ev = event.to_string();
        let on_event = upload(
            &api,
            &uri,
            &[("event_id", None, ev.as_bytes()), ("file", None, &photo)],
        )
        .await;
        let on_event = on_event.ok(201).clone();
        assert_eq!(on_event["parent_kind"], "work_order_event", "[{b}]");
        assert_eq!(on_event["parent_id"], event);
        let listed = api.get(&uri).await;
        assert_eq!(
            ids(listed.ok(200).as_array().unwrap()),
            vec![id(&on_order), id(&on_event)],
            "[{b}]"
        );
        // A timeline entry of another order (or none) is an unknown reference.
        let r = upload(
            &api,
            &uri,
            &[("event_id", None, b"999999"), ("file", None, &photo)],
        )
        .await;
        r.invalid("event_id", "reference.unknown");
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_with_specific_codes() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "503").await;
        let h = api
            .create("/api/v1/households", json!({"dwelling_id": dwelling}))
            .await;
        let v = api
            .create(
                "/api/v1/visits",
                json!({"household_id": id(&h), "outcome": "at_home"}),
            )
            .await;
        let uri = format!("/api/v1/visits/{}/attachments", id(&v));
        let photo = photo_with_location();
        let gif: &[u8] = b"GIF89a\x01\0\x01\0\0\0\0";
        upload(&api, &uri, &[("file", Some("image/gif"), gif)])
            .await
            .invalid("file", "attachment.unsupported_type");
        upload(&api, &uri, &[("file", Some("image/png"), &photo)])
            .await
            .invalid("file", "attachment.type_mismatch");
        upload(&api, &uri, &[("file", Some("image/jpeg"), &photo[..200])])
            .await
            .invalid("file", "attachment.corrupt");
        upload(&api, &uri, &[("keep_location", None, b"true")])
            .await
            .invalid("file", "required");
        upload(
            &api,
            &uri,
            &[("keep_location", None, b"perhaps"), ("file", None, &photo)],
        )
        .await
        .invalid("keep_location", "boolean.invalid");
        // Beyond the photo limit and its margin: the transport refuses it.
        let huge = vec![0xFFu8; 11 * 1024 * 1024];
        upload(&api, &uri, &[("file", Some("image/jpeg"), &huge)])
            .await
            .problem(413, "body.too_large");
        // JSON is not an upload.
        api.post(&uri, json!({"file": "x"}))
            .await
            .problem(400, "body.multipart");
        // Nothing was stored by any of these.
        let listed = api.get(&uri).await;
        assert!(
            listed.ok(200).as_array().unwrap().is_empty(),
            "[{}]",
            ts.name
        );
    }
}
