//! The entrustment pages beyond the matrix: the resident's own page (its code, its cookie, what
//! it refuses) and recording an entrustment from a household or a pre-registration.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use tower::ServiceExt;
use wangge_domain::Role;
use wangge_store::page::PageRequest;
use wangge_testkit::backends;

use super::world::*;
use super::{audit, leaked};

/// Posts the resident's code form from a client address (as the server sees it behind
/// `ConnectInfo`).
async fn code_from(w: &World, ip: &str, link: &str) -> u16 {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(format!("/r/{link}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("code=000000"))
        .unwrap();
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    let resp = w.client.app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    status
}

/// The resident's own page: the link alone shows nothing but the code form; staff credentials
/// open nothing; posts from other sites and code guessing are refused; the code opens a view
/// (its own strict cookie) with the chain, receipt checks, the photos of this entrustment only,
/// and the staff read just made; the resident's steps are those the domain allows.
#[tokio::test]
async fn the_residents_page_opens_with_its_code_only() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let worker = w.bearer(Role::GridWorker);
        let link = format!("/r/{}", w.a.resident_link);

        // The link alone: the code form, nothing about the household.
        let r = c.get(&link, Auth::None).await;
        assert_eq!(r.status, 200, "[{b}]");
        assert!(r.text.contains(r#"name="code""#), "[{b}]");
        assert!(
            !r.text.contains("张伟") && !r.text.contains(&w.a.receipt),
            "[{b}] nothing before the code"
        );
        assert_eq!(
            c.get("/r/no-such-link", Auth::None).await.status,
            404,
            "[{b}]"
        );
        let r = c.get(&link, worker).await;
        assert!(
            r.text.contains(r#"name="code""#) && !r.text.contains(&w.a.receipt),
            "[{b}] a staff token opens nothing here"
        );
        for (h, v) in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let r = c
                .send(Method::POST, &link, None, Auth::None, &[(h, v)])
                .await;
            assert_eq!(r.status, 403, "[{b}] {h}: {v}");
        }
        // Guessing is limited per client address.
        let statuses: Vec<u16> = {
            let mut v = Vec::new();
            for _ in 0..11 {
                v.push(code_from(&w, "10.77.0.1", &w.a.resident_link).await);
            }
            v
        };
        assert!(
            statuses[..10].iter().all(|s| *s == 422),
            "[{b}] {statuses:?}"
        );
        assert_eq!(statuses[10], 429, "[{b}] the eleventh try in a minute");

        // Staff read the entrustment, then give a code on its page.
        let page = format!("/entrustments/{}", w.a.entrustment);
        assert_eq!(c.get(&page, worker).await.status, 200, "[{b}]");
        let r = c.form(&format!("{page}/resident-code"), "", worker).await;
        assert_eq!(r.status, 200, "[{b}] {}", r.text);
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store", "[{b}]");
        let at = r.text.find(r#"id="resident-code">"#).expect("the code") + 19;
        let code = r.text[at..at + 6].to_owned();
        assert!(code.chars().all(|c| c.is_ascii_digit()), "[{b}] {code}");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let r = c.form(&link, &format!("code={wrong}"), Auth::None).await;
        assert_eq!(r.status, 422, "[{b}]");
        assert!(r.text.contains("验证码不正确"), "[{b}]");
        let r = c.form(&link, &format!("code={code}"), Auth::None).await;
        assert!(r.status.is_redirection(), "[{b}] {}", r.status);
        let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            set.starts_with("wangge_resident=") && set.contains("SameSite=Strict"),
            "[{b}] {set}"
        );
        let cookie = set.split(';').next().unwrap().to_owned();
        let with = [("cookie", cookie.as_str())];
        let get =
            |uri: String| async move { c.send(Method::GET, &uri, None, Auth::None, &with).await };

        let view = get(link.clone()).await;
        assert_eq!(view.status, 200, "[{b}]");
        assert_eq!(view.headers[header::CACHE_CONTROL], "no-store", "[{b}]");
        assert!(
            view.text.contains(&w.a.receipt),
            "[{b}] the chain's receipt code"
        );
        assert!(view.text.contains("谁查看或处理过我家的信息"), "[{b}]");
        assert!(
            view.text.contains("网格员（网格员）查看了您的委托"),
            "[{b}] the staff read, in plain words"
        );
        assert!(leaked(&w, &view.text).is_empty(), "[{b}] numbers masked");
        let found = get(format!("{link}?receipt={}", w.a.receipt.to_lowercase())).await;
        assert!(found.text.contains("核验码正确"), "[{b}]");
        let missing = get(format!("{link}?receipt=AAAA-AAAA")).await;
        assert!(missing.text.contains("没有这个核验码"), "[{b}]");

        // Photos: this entrustment's only, and only with the view open.
        let photo = format!("{link}/photos/{}", w.a.entrustment_photo);
        for uri in [photo.clone(), format!("{photo}/thumbnail")] {
            let r = get(uri).await;
            assert_eq!(r.status, 200, "[{b}]");
            assert_eq!(r.headers[header::CONTENT_TYPE], "image/jpeg", "[{b}]");
        }
        let other = get(format!("{link}/photos/{}", w.b.entrustment_photo)).await;
        assert_eq!(other.status, 404, "[{b}] another entrustment's photo");
        let r = c.get(&photo, Auth::None).await;
        assert!(r.status.is_redirection(), "[{b}] no view, no photo");

        // Steps: revoking needs the tick; completing waits for the key (with staff now);
        // only the resident's steps; never from another site.
        let steps = format!("{link}/steps");
        let step = |form: &'static str| {
            let (steps, cookie) = (steps.clone(), cookie.clone());
            async move {
                c.form_with(&steps, form, &[("cookie", cookie.as_str())])
                    .await
            }
        };
        assert_eq!(step("step=revoke").await.status, 422, "[{b}]");
        assert_eq!(step("step=take").await.status, 422, "[{b}]");
        let r = step("step=complete").await;
        assert_eq!(r.status, 409, "[{b}] {}", r.text);
        let cross = [
            ("cookie", cookie.as_str()),
            ("origin", "https://evil.example"),
        ];
        let r = c.form_with(&steps, "step=revoke&confirm=yes", &cross).await;
        assert_eq!(r.status, 403, "[{b}]");
        let still = get(link.clone()).await;
        assert!(still.text.contains("生效中"), "[{b}] nothing changed");
        let r = step("step=revoke&confirm=yes").await;
        assert_eq!(r.status, 200, "[{b}]");
        assert!(
            r.text.contains("已撤销") && r.text.contains("失效"),
            "[{b}]"
        );
        let dead = get(link.clone()).await;
        assert_eq!(
            dead.status, 404,
            "[{b}] the link stops working once revoked"
        );
        let events = audit(&w.store, Some("entrustment.revoke")).await;
        assert!(
            events
                .iter()
                .any(|e| e.event.object_id == Some(w.a.entrustment) && e.event.actor == "resident"),
            "[{b}] the resident's own step is audited as theirs"
        );
    }
}

/// Recording an entrustment from the pages: from a household (errors named by field, nothing
/// written), and by taking on a resident's pre-registration once (the second post finds it
/// handled); out of scope is a missing household.
#[tokio::test]
async fn entrustments_are_recorded_from_a_household_or_a_pre_registration_once() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let worker = w.bearer(Role::GridWorker);
        let all = wangge_domain::Scope::everything();
        let count = || async {
            w.store
                .entrustments(&all, &Default::default(), &PageRequest::default())
                .await
                .unwrap()
                .items
                .len()
        };
        let before = count().await;
        let me = w.user(Role::GridWorker).user_id;
        let form = |household: i64, phone: &str, acts: &str| {
            format!(
                "household={household}&resident_name=%E7%8E%8B%E5%BB%BA%E5%9B%BD&phone={phone}\
                 &purpose=%E6%9B%B4%E6%8D%A2%E8%8A%82%E8%83%BD%E7%AA%97&first_day=2030-01-07\
                 &last_day=2030-01-09{acts}&channel=phone_call&staff_ids={me}"
            )
        };
        let r = c
            .form("/entrustments/new", &form(w.a.household, "12", ""), worker)
            .await;
        assert_eq!(r.status, 422, "[{b}]");
        assert!(
            r.text.contains("请至少选择一项委托事项")
                && r.text.contains(r#"name="phone" type="tel" value="12""#),
            "[{b}] each error by its field, the form kept"
        );
        let out = c
            .form(
                "/entrustments/new",
                &form(w.b.household, "13912345678", "&acts=hold_key"),
                worker,
            )
            .await;
        assert_eq!(out.status, 404, "[{b}] another grid's household");
        assert_eq!(count().await, before, "[{b}] nothing written");
        let r = c
            .form(
                "/entrustments/new",
                &form(
                    w.a.household,
                    "13912345678",
                    "&acts=hold_key&acts=take_photos",
                ),
                worker,
            )
            .await;
        assert!(r.status.is_redirection(), "[{b}] {} {}", r.status, r.text);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
        let page = c.get(&to, worker).await;
        assert!(
            page.text.contains("待居民确认") && page.text.contains("139****5678"),
            "[{b}] awaiting the resident, phone masked"
        );
        assert!(!page.text.contains("13912345678"), "[{b}]");

        // A resident's pre-registration, taken on once.
        let uri = format!("/campaign-requests/{}/entrust", w.a.campaign_request);
        let terms = "purpose=%E6%9B%B4%E6%8D%A2%E8%8A%82%E8%83%BD%E7%AA%97&first_day=2030-01-07\
                     &last_day=2030-01-09&acts=hold_key&channel=phone_call";
        let list = c
            .get(&format!("/campaigns/{}/requests", w.a.campaign), worker)
            .await;
        assert!(
            list.text.contains(&format!(r#"action="{uri}""#)),
            "[{b}] offered"
        );
        let r = c.form(&uri, terms, worker).await;
        assert!(r.status.is_redirection(), "[{b}] {} {}", r.status, r.text);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
        let page = c.get(&to, worker).await;
        assert!(
            page.text.contains("李四") && page.text.contains("待居民确认"),
            "[{b}] the resident's name from the request"
        );
        let again = c.form(&uri, terms, worker).await;
        assert_eq!(again.status, 409, "[{b}] a second post changes nothing");
        assert_eq!(count().await, before + 2, "[{b}]");
        let list = c
            .get(&format!("/campaigns/{}/requests", w.a.campaign), worker)
            .await;
        assert!(
            !list.text.contains(&format!(r#"action="{uri}""#)),
            "[{b}] handled now"
        );
    }
}

/// A key still held after the entrustment's end is flagged everywhere staff look: the list
/// ("overdue only" finds it), the key cabinet (first, marked), the named staff member's today
/// card, and the entrustment's page with the reason. Out-of-scope keys appear nowhere.
#[tokio::test]
async fn overdue_keys_are_flagged_where_staff_look() {
    for ts in backends().await {
        let b = ts.name;
        let w = World::new(&ts).await;
        let c = &w.client;
        let worker = w.bearer(Role::GridWorker);
        let marker = format!(r#"href="/entrustments/{}""#, w.a.entrustment);
        let overdue_only = "/entrustments?view=area&overdue=1";
        let r = c.get(overdue_only, worker).await;
        assert!(!r.text.contains(&marker), "[{b}] not overdue yet");
        assert!(
            c.get("/entrustments", worker).await.text.contains(&marker),
            "[{b}]"
        );

        // The period ended just after the key was received; the key is still with the grid
        // worker. (Earlier than the hand-over, the chain would no longer replay.)
        let received = w
            .store
            .db()
            .query_opt(
                "SELECT at FROM key_events WHERE entrustment_id = ? AND seq = 1",
                &wangge_store::params![w.a.entrustment],
                |r| r.timestamp(0),
            )
            .await
            .unwrap()
            .expect("the world's key was received");
        let ended = received + time::Duration::milliseconds(1);
        super::set_time(&w.store, "entrustments", "ends_at", w.a.entrustment, ended).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let r = c.get(overdue_only, worker).await;
        assert!(r.text.contains(&marker) && r.text.contains("逾期"), "[{b}]");
        let other = format!(r#"href="/entrustments/{}""#, w.b.entrustment);
        assert!(!r.text.contains(&other), "[{b}] another grid's key");
        let cabinet = c.get("/key-cabinet", worker).await;
        assert!(
            cabinet.text.contains(&marker) && cabinet.text.contains("逾期 1 把"),
            "[{b}] {}",
            cabinet.text
        );
        let today = c.get("/", worker).await;
        let card = today.text.split(r#"id="my-keys""#).nth(1).unwrap_or("");
        assert!(
            card.contains(&marker) && card.contains("逾期"),
            "[{b}] the today card"
        );
        let page = c
            .get(&format!("/entrustments/{}", w.a.entrustment), worker)
            .await;
        assert!(
            page.text.contains("委托已结束，钥匙尚未归还居民"),
            "[{b}] the reason on the page"
        );
    }
}
