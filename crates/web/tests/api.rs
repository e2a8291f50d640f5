//! The HTTP API end to end, in process: every scenario runs on every backend from
//! `wangge_testkit::backends()` (SQLite always, PostgreSQL when reachable), as of 2026-11-25.

#[path = "api/assists.rs"]
mod assists;
#[path = "api/attachments.rs"]
mod attachments;
#[path = "api/campaigns.rs"]
mod campaigns;
#[path = "api/entrustments.rs"]
mod entrustments;
#[path = "api/support.rs"]
mod support;
#[path = "api/visits.rs"]
mod visits;
#[path = "api/work_orders.rs"]
mod work_orders;

use std::collections::{BTreeMap, HashSet};

use axum::http::Method;
use serde_json::{Value, json};
use support::*;
use wangge_testkit::backends;

// ---- 1. Areas -------------------------------------------------------------------------------

#[tokio::test]
async fn areas_tree_rules_and_paging() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;

        // A grid straight under a district: wrong level for that parent.
        api.post(
            "/api/v1/areas",
            json!({"code": "140109001001009", "name": "错层网格", "level": "grid", "parent_id": t.district}),
        )
        .await
        .invalid("level", "area.level_mismatch");

        // A sub-district whose code does not extend its district's.
        api.post(
            "/api/v1/areas",
            json!({"code": "140110001", "name": "别区街道", "level": "subdistrict", "parent_id": t.district}),
        )
        .await
        .invalid("code", "area_code.parent_mismatch");

        // The same code twice.
        api.post(
            "/api/v1/areas",
            json!({"code": "140109001001001", "name": "重复网格", "level": "grid", "parent_id": t.community}),
        )
        .await
        .problem(409, "area.duplicate_code");

        // A grid reaching outside its community.
        api.post(
            "/api/v1/areas",
            json!({"code": "140109001001009", "name": "越界网格", "level": "grid",
                   "parent_id": t.community, "boundary": square(112.55, 37.55, 0.1)}),
        )
        .await
        .invalid("boundary", "boundary.outside_parent");

        // An unknown parent.
        api.post(
            "/api/v1/areas",
            json!({"code": "140109001001009", "name": "无主网格", "level": "grid", "parent_id": 999_999}),
        )
        .await
        .invalid("parent_id", "reference.unknown");

        // GET shows the stored area, boundary as GeoJSON.
        let r = api.get(&format!("/api/v1/areas/{}", t.grid1)).await;
        let g = r.ok(200);
        assert_eq!(g["code"], "140109001001001", "[{b}]");
        assert_eq!(g["name"], "第一网格", "[{b}]");
        assert_eq!(g["level"], "grid", "[{b}]");
        assert_eq!(g["parent_id"], t.community, "[{b}]");
        assert_eq!(g["boundary"]["type"], "Polygon", "[{b}]");
        api.get("/api/v1/areas/999999")
            .await
            .problem(404, "not_found");

        // PATCH the name.
        let r = api
            .patch(
                &format!("/api/v1/areas/{}", t.grid1),
                json!({"name": "西矿街第一网格"}),
            )
            .await;
        assert_eq!(r.ok(200)["name"], "西矿街第一网格", "[{b}]");
        let r = api.get(&format!("/api/v1/areas/{}", t.grid1)).await;
        assert_eq!(r.ok(200)["name"], "西矿街第一网格", "[{b}]");
        assert_eq!(r.body["code"], "140109001001001", "[{b}] code unchanged");

        // Filters.
        let r = api
            .get(&format!("/api/v1/areas?parent_id={}", t.community))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![t.grid1, t.grid2],
            "[{b}] parent_id"
        );
        let r = api.get("/api/v1/areas?level=grid").await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![t.grid1, t.grid2, t.grid3],
            "[{b}] level"
        );
        let r = api.get("/api/v1/areas?level=community").await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![t.community, t.community2],
            "[{b}] level"
        );
        let r = api.get(&format!("/api/v1/areas?within={COMMUNITY}")).await;
        let inside: HashSet<i64> = ids(&items(r.ok(200))).into_iter().collect();
        assert!(
            inside.contains(&t.grid1) && inside.contains(&t.grid2),
            "[{b}] within: {inside:?}"
        );
        for outside in [t.city, t.district, t.subdistrict, t.community2, t.grid3] {
            assert!(!inside.contains(&outside), "[{b}] within leaks {outside}");
        }
        let r = api
            .get(&format!("/api/v1/areas?within={COMMUNITY}&level=grid"))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![t.grid1, t.grid2],
            "[{b}] within+level"
        );
        api.get("/api/v1/areas?level=planet")
            .await
            .invalid("level", "area_level.invalid");

        // Keyset paging with limit=2: every area exactly once, nothing the failed writes made.
        let all = api.get("/api/v1/areas?limit=500").await;
        let all_ids = ids(&items(all.ok(200)));
        assert!(all.body.get("next_cursor").is_none(), "[{b}] one page");
        let mut expected = vec![
            t.city,
            t.district,
            t.subdistrict,
            t.community,
            t.grid1,
            t.grid2,
            t.community2,
            t.grid3,
        ];
        expected.sort_unstable();
        assert_eq!(all_ids, expected, "[{b}] all areas");
        let paged = api.all_pages("/api/v1/areas?", 2).await;
        assert_eq!(ids(&paged), expected, "[{b}] paging, no gaps");
        let paged_order: Vec<i64> = paged.iter().map(id).collect();
        let one_page_order: Vec<i64> = items(&all.body).iter().map(id).collect();
        assert_eq!(paged_order, one_page_order, "[{b}] paging keeps the order");
        let grids = api.all_pages("/api/v1/areas?level=grid", 2).await;
        assert_eq!(
            ids(&grids),
            vec![t.grid1, t.grid2, t.grid3],
            "[{b}] paged grids"
        );
    }
}

// ---- 2. Places ------------------------------------------------------------------------------

#[tokio::test]
async fn places_chain_addresses_and_rules() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let compound = api
            .create(
                "/api/v1/places",
                json!({"kind": "compound", "area_id": t.community, "label": "西矿街小区"}),
            )
            .await;
        assert_eq!(compound["kind"], "compound", "[{b}]");
        assert_eq!(
            compound["address"],
            format!("{AREA_NAMES}西矿街小区"),
            "[{b}]"
        );
        let building = api
            .create(
                "/api/v1/places",
                json!({"kind": "building", "parent_id": id(&compound), "area_id": t.grid1, "label": "3"}),
            )
            .await;
        assert_eq!(building["area_id"], t.grid1, "[{b}]");
        let unit = api
            .create(
                "/api/v1/places",
                json!({"kind": "unit", "parent_id": id(&building), "label": "2"}),
            )
            .await;
        assert_eq!(
            unit["area_id"], t.grid1,
            "[{b}] unit inherits the building's grid"
        );
        let dwelling = api
            .create(
                "/api/v1/places",
                json!({"kind": "dwelling", "parent_id": id(&unit), "label": "601"}),
            )
            .await;
        assert_eq!(dwelling["floor"], 6, "[{b}] 601 is on floor 6");
        assert_eq!(dwelling["parent_id"], id(&unit), "[{b}]");
        let address = dwelling["address"].as_str().expect("address");
        assert_eq!(
            address,
            format!("{AREA_NAMES}西矿街小区3号楼2单元601室"),
            "[{b}] standard address"
        );
        for part in [
            "太原市",
            "万柏林区",
            "西矿街社区",
            "3号楼",
            "2单元",
            "601室",
        ] {
            assert!(address.contains(part), "[{b}] {address} lacks {part}");
        }
        let r = api.get(&format!("/api/v1/places/{}", id(&dwelling))).await;
        assert_eq!(r.ok(200)["address"], address, "[{b}] GET");

        // A dwelling straight under a building.
        api.post(
            "/api/v1/places",
            json!({"kind": "dwelling", "parent_id": id(&building), "label": "101"}),
        )
        .await
        .invalid("parent_id", "place.parent_kind");
        // A compound under a compound.
        api.post(
            "/api/v1/places",
            json!({"kind": "compound", "parent_id": id(&compound), "area_id": t.community, "label": "院中院"}),
        )
        .await
        .invalid("parent_id", "place.parent_not_allowed");
        // The same dwelling number twice in one unit.
        api.post(
            "/api/v1/places",
            json!({"kind": "dwelling", "parent_id": id(&unit), "label": "601"}),
        )
        .await
        .problem(409, "place.duplicate_label");
        // A building of this compound in a grid of another community.
        api.post(
            "/api/v1/places",
            json!({"kind": "building", "parent_id": id(&compound), "area_id": t.grid3, "label": "9"}),
        )
        .await
        .invalid("area_id", "place.outside_parent");
        // A dwelling whose number says nothing about the floor, with the floor given.
        let flat = api
            .create(
                "/api/v1/places",
                json!({"kind": "dwelling", "parent_id": id(&unit), "label": "A1", "floor": 1}),
            )
            .await;
        assert_eq!(flat["floor"], 1, "[{b}]");

        // Relabelling a building rewrites the addresses below it; a taken label is refused.
        let r = api
            .patch(
                &format!("/api/v1/places/{}", id(&building)),
                json!({"label": "5"}),
            )
            .await;
        r.ok(200);
        let r = api.get(&format!("/api/v1/places/{}", id(&dwelling))).await;
        assert_eq!(
            r.ok(200)["address"],
            format!("{AREA_NAMES}西矿街小区5号楼2单元601室"),
            "[{b}] readdressed"
        );
        api.patch(
            &format!("/api/v1/places/{}", id(&flat)),
            json!({"label": "601"}),
        )
        .await
        .problem(409, "place.duplicate_label");

        let r = api
            .get(&format!("/api/v1/places?parent_id={}", id(&unit)))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![id(&dwelling), id(&flat)],
            "[{b}] dwellings of the unit"
        );
        let r = api
            .get(&format!("/api/v1/places?kind=dwelling&area={COMMUNITY2}"))
            .await;
        assert!(items(r.ok(200)).is_empty(), "[{b}] none in community 2");
    }
}

// ---- 3. Persons -----------------------------------------------------------------------------

#[tokio::test]
async fn persons_identity_masking_and_validation() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let list_uri = format!("/api/v1/persons?area={COMMUNITY}&limit=500");

        // A valid ID: 201, masked numbers, facts derived from the ID.
        let idn = id18("140109", "19560315", 123);
        let r = api
            .post(
                "/api/v1/persons",
                json!({"name": "王小明", "id_number": idn, "phone": "13912345678", "area_id": t.grid1}),
            )
            .await;
        let p = r.ok(201).clone();
        assert_eq!(p["id_number"], masked_id(&idn), "[{b}] masked ID");
        assert!(
            p["id_number"]
                .as_str()
                .unwrap()
                .starts_with("140109********"),
            "[{b}]"
        );
        assert_eq!(p["phone"], "139****5678", "[{b}] masked phone");
        assert_eq!(p["sex"], "male", "[{b}] sex from the ID");
        assert_eq!(p["birth_date"], "1956-03-15", "[{b}] birth from the ID");
        assert_eq!(p["age"], 70, "[{b}] age on 2026-11-25");
        assert_eq!(p["area_id"], t.grid1, "[{b}]");
        assert!(p["household_id"].is_null(), "[{b}]");
        for leak in [idn.as_str(), "13912345678", &idn[6..]] {
            assert!(!r.text.contains(leak), "[{b}] create leaks {leak}");
        }
        let r = api.get(&format!("/api/v1/persons/{}", id(&p))).await;
        r.ok(200);
        assert!(
            !r.text.contains(&idn) && !r.text.contains("13912345678"),
            "[{b}] GET leaks"
        );
        let r = api.get(&list_uri).await;
        r.ok(200);
        assert!(
            !r.text.contains(&idn) && !r.text.contains("13912345678"),
            "[{b}] list leaks"
        );
        assert!(!has_unmasked_id(&r.text), "[{b}] list leaks an ID");

        // A wrong check character: 422 in Chinese by default, English on request; nothing written.
        let bad = wrong_check(&id18("140109", "19800101", 321));
        let body = json!({"name": "错号人", "id_number": bad, "area_id": t.grid1});
        let r = api.post("/api/v1/persons", body.clone()).await;
        let pz = r.invalid("id_number", "id_number.checksum").clone();
        assert_eq!(pz["detail"], pz["detail_zh"], "[{b}] Chinese by default");
        assert!(
            pz["detail"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "[{b}] detail is Chinese: {pz}"
        );
        assert!(
            !r.text.contains(&bad),
            "[{b}] error echoes the ID: {}",
            r.text
        );
        let r = api
            .call(
                Method::POST,
                "/api/v1/persons",
                Some(&body),
                &[("accept-language", "en-US,en;q=0.9,zh;q=0.5")],
            )
            .await;
        let pe = r.invalid("id_number", "id_number.checksum").clone();
        assert_eq!(pe["detail"], pe["detail_en"], "[{b}] English on request");
        assert!(
            pe["detail"].as_str().unwrap().is_ascii(),
            "[{b}] English detail: {pe}"
        );
        assert_eq!(
            pe["errors"][0]["detail"], pe["errors"][0]["detail_en"],
            "[{b}]"
        );
        assert!(!r.text.contains(&bad), "[{b}] English error echoes the ID");
        let r = api.get(&list_uri).await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![id(&p)],
            "[{b}] nothing written"
        );

        // 17 characters.
        api.post(
            "/api/v1/persons",
            json!({"name": "短号人", "id_number": &idn[..17], "area_id": t.grid1}),
        )
        .await
        .invalid("id_number", "id_number.length");

        // Lower-case and full-width X are accepted and normalized.
        let x1 = id18_x("140109", "19701010", 0);
        let lower = api
            .person("李晓", Some(&x1.replace('X', "x")), None, t.grid1)
            .await;
        assert_eq!(lower["id_number"], masked_id(&x1), "[{b}] lower-case x");
        assert!(lower["id_number"].as_str().unwrap().ends_with('X'), "[{b}]");
        let x2 = id18_x("140109", "19720202", 0);
        let wide = api
            .person("周宽", Some(&x2.replace('X', "Ｘ")), None, t.grid1)
            .await;
        assert_eq!(wide["id_number"], masked_id(&x2), "[{b}] full-width X");
        // The same numbers typed the other way are duplicates.
        api.post(
            "/api/v1/persons",
            json!({"name": "李晓", "id_number": x1, "area_id": t.grid2}),
        )
        .await
        .problem(409, "person.duplicate_id_number");

        // Legacy 15-digit numbers (YYMMDD, no check character).
        let legacy = "140109560315124";
        let old = api.person("赵老", Some(legacy), None, t.grid1).await;
        assert_eq!(old["birth_date"], "1956-03-15", "[{b}] legacy birth");
        assert_eq!(old["sex"], "female", "[{b}] legacy sex (4 is even)");
        assert_eq!(old["id_number"], "140109*****5124", "[{b}] legacy masked");

        // The same ID again in the same city, in another grid.
        let r = api
            .post(
                "/api/v1/persons",
                json!({"name": "王小明", "id_number": idn, "area_id": t.grid3}),
            )
            .await;
        r.problem(409, "person.duplicate_id_number");
        assert!(!r.text.contains(&idn), "[{b}] 409 echoes the ID");

        // The same ID in another city is another registration.
        let other_city = api
            .area("140200", "大同市", "city", None, Value::Null)
            .await;
        let d = api
            .area(
                "140213",
                "平城区",
                "district",
                Some(other_city),
                Value::Null,
            )
            .await;
        let sd = api
            .area("140213001", "南关街道", "subdistrict", Some(d), Value::Null)
            .await;
        let c = api
            .area(
                "140213001001",
                "南关社区",
                "community",
                Some(sd),
                Value::Null,
            )
            .await;
        let g = api
            .area(
                "140213001001001",
                "南关一网格",
                "grid",
                Some(c),
                Value::Null,
            )
            .await;
        api.person("王小明", Some(&idn), None, g).await;
        // PATCH to an ID someone in the city already has.
        api.patch(
            &format!("/api/v1/persons/{}", id(&old)),
            json!({"id_number": x2}),
        )
        .await
        .problem(409, "person.duplicate_id_number");

        // Sex that contradicts the ID.
        api.post(
            "/api/v1/persons",
            json!({"name": "钱某", "id_number": id18("140109", "19900101", 111), "sex": "female", "area_id": t.grid1}),
        )
        .await
        .invalid("sex", "sex.mismatch");
        // Birth date that contradicts the ID.
        api.post(
            "/api/v1/persons",
            json!({"name": "钱某", "id_number": id18("140109", "19900101", 111), "birth_date": "1990-01-02", "area_id": t.grid1}),
        )
        .await
        .invalid("birth_date", "birth_date.mismatch");
        // No grid and no household.
        api.post("/api/v1/persons", json!({"name": "无处人"}))
            .await
            .invalid("area_id", "required");

        // Joining a household on creation.
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "502").await;
        let h = api
            .create("/api/v1/households", json!({"dwelling_id": dwelling}))
            .await;
        let r = api
            .post(
                "/api/v1/persons",
                json!({"name": "孙户主", "id_number": id18("140109", "19650505", 135),
                       "household_id": id(&h), "relation": "户主", "residence_type": "registered"}),
            )
            .await;
        let head = r.ok(201).clone();
        assert_eq!(head["household_id"], id(&h), "[{b}] joined");
        assert_eq!(head["residence_type"], "registered", "[{b}]");
        assert_eq!(head["area_id"], t.grid1, "[{b}] grid of the household");
        let r = api.get(&format!("/api/v1/households/{}", id(&h))).await;
        let members = r.ok(200)["members"].as_array().unwrap().clone();
        assert_eq!(members.len(), 1, "[{b}]");
        assert_eq!(members[0]["person_id"], id(&head), "[{b}]");
        assert_eq!(members[0]["relation"], "02", "[{b}]");
        // household_id without relation and residence type.
        let r = api
            .post(
                "/api/v1/persons",
                json!({"name": "孙二", "household_id": id(&h)}),
            )
            .await;
        r.invalid("relation", "required");
        r.invalid("residence_type", "required");

        // PATCH name and phone; search keys follow the new name.
        let zw = api.person("张伟", None, Some("13811112222"), t.grid2).await;
        let r = api
            .patch(
                &format!("/api/v1/persons/{}", id(&zw)),
                json!({"name": "赵敏", "phone": "13700003333"}),
            )
            .await;
        let patched = r.ok(200).clone();
        assert_eq!(patched["name"], "赵敏", "[{b}]");
        assert_eq!(patched["phone"], "137****3333", "[{b}]");
        assert!(!r.text.contains("13700003333"), "[{b}] PATCH leaks phone");
        let found = api
            .post("/api/v1/persons/search", json!({"q": "zhaomin"}))
            .await;
        assert_eq!(
            ids(&items(found.ok(200))),
            vec![id(&zw)],
            "[{b}] new name found"
        );
        let found = api
            .post("/api/v1/persons/search", json!({"q": "zhangwei"}))
            .await;
        assert!(
            items(found.ok(200)).is_empty(),
            "[{b}] old name gone: {}",
            found.text
        );
        let found = api
            .post("/api/v1/persons/search", json!({"q": "3333"}))
            .await;
        assert_eq!(
            ids(&items(found.ok(200))),
            vec![id(&zw)],
            "[{b}] new phone tail"
        );
        let found = api
            .post("/api/v1/persons/search", json!({"q": "2222"}))
            .await;
        assert!(items(found.ok(200)).is_empty(), "[{b}] old phone tail gone");
        // PATCH with a bad ID changes nothing.
        api.patch(
            &format!("/api/v1/persons/{}", id(&zw)),
            json!({"id_number": wrong_check(&idn)}),
        )
        .await
        .invalid("id_number", "id_number.checksum");
        api.patch("/api/v1/persons/999999", json!({"name": "无人"}))
            .await
            .problem(404, "not_found");
    }
}

// ---- 4. Search ------------------------------------------------------------------------------

#[tokio::test]
async fn search_by_name_pinyin_phone_and_id() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let wxm_id = id18("140109", "19800808", 457);
        let wxm = api
            .person("王小明", Some(&wxm_id), Some("13912345678"), t.grid1)
            .await;
        let wdl = api
            .person("王大力", None, Some("13600001111"), t.grid2)
            .await;
        let zeng = api.person("曾国强", None, None, t.grid3).await;
        let other = api.person("李明", None, Some("15900005678"), t.grid1).await;

        let search = |q: &'static str| {
            let api = &api;
            async move {
                let r = api.post("/api/v1/persons/search", json!({"q": q})).await;
                let body = r.ok(200).clone();
                assert!(!has_unmasked_id(&r.text), "[{b}] search leaks an ID");
                assert!(
                    !r.text.contains("13912345678"),
                    "[{b}] search leaks a phone"
                );
                (body["matched_by"].as_str().unwrap().to_owned(), {
                    let mut v = ids(&items(&body));
                    v.dedup();
                    v
                })
            }
        };
        let name = |v: Vec<i64>| ("name".to_owned(), v);
        assert_eq!(
            search("王").await,
            name(vec![id(&wxm), id(&wdl)]),
            "[{b}] prefix"
        );
        assert_eq!(
            search("王小").await,
            name(vec![id(&wxm)]),
            "[{b}] longer prefix"
        );
        assert_eq!(
            search("wangxiaoming").await,
            name(vec![id(&wxm)]),
            "[{b}] pinyin"
        );
        assert_eq!(
            search("Wang Xiao'ming").await,
            name(vec![id(&wxm)]),
            "[{b}] spaced pinyin"
        );
        assert_eq!(search("wxm").await, name(vec![id(&wxm)]), "[{b}] initials");
        assert_eq!(
            search("小明").await,
            name(vec![id(&wxm)]),
            "[{b}] given name"
        );
        assert_eq!(
            search("zengguo").await,
            name(vec![id(&zeng)]),
            "[{b}] 曾 read zeng"
        );
        assert_eq!(
            search("zgq").await,
            name(vec![id(&zeng)]),
            "[{b}] 曾 initials"
        );
        assert_eq!(search("欧阳").await, name(vec![]), "[{b}] no match");

        let (kind, found) = search("5678").await;
        assert_eq!(kind, "phone_tail", "[{b}]");
        assert_eq!(found, vec![id(&wxm), id(&other)], "[{b}] phone tail");
        assert_eq!(
            search("13912345678").await,
            ("phone".to_owned(), vec![id(&wxm)]),
            "[{b}] full phone"
        );
        assert_eq!(
            search("139-1234-5678").await,
            ("phone".to_owned(), vec![id(&wxm)]),
            "[{b}] dashed phone"
        );
        assert_eq!(
            search("13900000000").await,
            ("phone".to_owned(), vec![]),
            "[{b}] unknown phone"
        );

        let r = api
            .post("/api/v1/persons/search", json!({"q": wxm_id}))
            .await;
        let body = r.ok(200);
        assert_eq!(body["matched_by"], "id_number", "[{b}]");
        assert_eq!(ids(&items(body)), vec![id(&wxm)], "[{b}] full ID, exact");
        assert!(!r.text.contains(&wxm_id), "[{b}] search echoes the ID");
        // A valid but unregistered ID finds nobody (no prefix matching on IDs).
        let r = api
            .post(
                "/api/v1/persons/search",
                json!({"q": id18("140109", "19800808", 459)}),
            )
            .await;
        assert!(items(r.ok(200)).is_empty(), "[{b}] unregistered ID");
        // An ID-shaped query with a bad check character.
        let bad = wrong_check(&wxm_id);
        let r = api.post("/api/v1/persons/search", json!({"q": bad})).await;
        r.invalid("q", "id_number.checksum");
        assert!(!r.text.contains(&bad), "[{b}] 422 echoes the query");
        api.post("/api/v1/persons/search", json!({"q": "   "}))
            .await
            .invalid("q", "required");
        // limit caps the answer.
        let r = api
            .post("/api/v1/persons/search", json!({"q": "王", "limit": 1}))
            .await;
        assert_eq!(items(r.ok(200)).len(), 1, "[{b}] limit");
    }
}

// ---- 5. Lists -------------------------------------------------------------------------------

#[tokio::test]
async fn person_lists_filter_by_tag_age_area_and_residence() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let tag = "elderly_party_member";
        let mk = |name: &'static str, birth: &'static str, seq: u16, grid: i64| {
            let api = &api;
            async move {
                let idn = id18("140109", birth, seq);
                api.person(name, Some(&idn), None, grid).await
            }
        };
        // Expected: tagged, 70 or over, in the first community (either grid).
        let old = mk("甲老", "19500101", 11, t.grid1).await;
        let seventy = mk("乙老", "19561125", 13, t.grid2).await;
        let retagged = mk("丙老", "19400606", 15, t.grid1).await;
        // Not expected.
        let young = mk("丁少", "19561126", 17, t.grid1).await;
        let untagged = mk("戊老", "19450303", 19, t.grid1).await;
        let elsewhere = mk("己老", "19450404", 21, t.grid3).await;
        let ended = mk("庚老", "19450505", 23, t.grid2).await;

        let mut assignment = BTreeMap::new();
        for p in [&old, &seventy, &retagged, &young, &elsewhere, &ended] {
            let a = api.tag_person(tag, id(p), "2020-07-01").await;
            assignment.insert(id(p), id(&a));
        }
        api.tag_person("elderly_living_alone", id(&untagged), "2020-07-01")
            .await;
        // `ended` had the tag and lost it; `retagged` lost it and got it back.
        api.patch(
            &format!("/api/v1/tag-assignments/{}", assignment[&id(&ended)]),
            json!({"ended_on": "2026-11-01"}),
        )
        .await
        .ok(200);
        api.patch(
            &format!("/api/v1/tag-assignments/{}", assignment[&id(&retagged)]),
            json!({"ended_on": "2025-01-01"}),
        )
        .await
        .ok(200);
        api.tag_person(tag, id(&retagged), "2025-06-01").await;

        let age = |p: &Value| p["age"].as_i64().unwrap();
        assert_eq!(age(&seventy), 70, "[{b}] birthday today");
        assert_eq!(age(&young), 69, "[{b}] birthday tomorrow");

        let uri = format!("/api/v1/persons?tag={tag}&age_min=70&area={COMMUNITY}");
        let r = api.get(&format!("{uri}&limit=500")).await;
        let found = items(r.ok(200));
        assert_eq!(
            ids(&found),
            vec![id(&old), id(&seventy), id(&retagged)],
            "[{b}] cohort: {}",
            r.text
        );
        assert!(!has_unmasked_id(&r.text), "[{b}] list leaks an ID");
        for p in &found {
            let m = p["id_number"].as_str().expect("masked ID");
            assert_eq!(&m[6..14], "********", "[{b}] masked: {m}");
        }
        // The same cohort a page at a time.
        let paged = api.all_pages(&uri, 1).await;
        assert_eq!(ids(&paged), ids(&found), "[{b}] cohort paged");
        // Without the area: the other community's member joins.
        let r = api
            .get(&format!("/api/v1/persons?tag={tag}&age_min=70"))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            {
                let mut v = vec![id(&old), id(&seventy), id(&retagged), id(&elsewhere)];
                v.sort_unstable();
                v
            },
            "[{b}] whole city"
        );
        // Age bounds.
        let r = api
            .get(&format!("/api/v1/persons?area={COMMUNITY}&age_max=69"))
            .await;
        assert_eq!(ids(&items(r.ok(200))), vec![id(&young)], "[{b}] age_max");
        let r = api
            .get(&format!(
                "/api/v1/persons?area={COMMUNITY}&age_min=70&age_max=70"
            ))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![id(&seventy)],
            "[{b}] exactly 70"
        );
        api.get("/api/v1/persons?age_min=80&age_max=70")
            .await
            .invalid("age_max", "age.range");

        // Residence types come from household memberships.
        let h1 = api
            .create("/api/v1/households", json!({"area_id": t.grid1}))
            .await;
        let h2 = api
            .create("/api/v1/households", json!({"area_id": t.grid2}))
            .await;
        for (h, p, rel, rt) in [
            (&h1, &old, "户主", "registered"),
            (&h1, &young, "子", "migrant"),
            (&h2, &seventy, "户主", "流动"),
        ] {
            api.create(
                &format!("/api/v1/households/{}/members", id(h)),
                json!({"person_id": id(p), "relation": rel, "residence_type": rt}),
            )
            .await;
        }
        let r = api
            .get(&format!(
                "/api/v1/persons?area={COMMUNITY}&residence_type=migrant"
            ))
            .await;
        let migrants = items(r.ok(200));
        assert_eq!(
            ids(&migrants),
            vec![id(&seventy), id(&young)],
            "[{b}] migrants"
        );
        assert!(
            migrants.iter().all(|p| p["residence_type"] == "migrant"),
            "[{b}]"
        );
        let r = api.get("/api/v1/persons?residence_type=registered").await;
        assert_eq!(ids(&items(r.ok(200))), vec![id(&old)], "[{b}] registered");
        let r = api.get(&format!("{uri}&residence_type=migrant")).await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![id(&seventy)],
            "[{b}] tag + age + area + residence"
        );
        let r = api
            .get(&format!("/api/v1/persons?household_id={}", id(&h1)))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            vec![id(&old), id(&young)],
            "[{b}] household"
        );
        api.get("/api/v1/persons?residence_type=tourist")
            .await
            .invalid("residence_type", "residence_type.invalid");

        // Moving into the first community brings the tag along.
        api.create(
            &format!("/api/v1/households/{}/members", id(&h1)),
            json!({"person_id": id(&elsewhere), "relation": "父亲", "residence_type": "registered"}),
        )
        .await;
        let r = api.get(&format!("{uri}&limit=500")).await;
        assert_eq!(
            ids(&items(r.ok(200))),
            {
                let mut v = vec![id(&old), id(&seventy), id(&retagged), id(&elsewhere)];
                v.sort_unstable();
                v
            },
            "[{b}] moved in with the tag"
        );
        let r = api
            .get(&format!("/api/v1/persons?tag={tag}&area={COMMUNITY2}"))
            .await;
        assert!(items(r.ok(200)).is_empty(), "[{b}] moved out: {}", r.text);

        // Paging parameters.
        for limit in ["0", "501"] {
            api.get(&format!("/api/v1/persons?limit={limit}"))
                .await
                .invalid("limit", "limit.range");
        }
        api.get("/api/v1/persons?limit=500").await.ok(200);
        for cursor in ["not-a-cursor!", "bm90aGluZw", "%2F1%2F%7Cx"] {
            api.get(&format!("/api/v1/persons?cursor={cursor}"))
                .await
                .problem(400, "cursor.invalid");
        }
        api.get("/api/v1/persons?limit=abc")
            .await
            .problem(400, "query.invalid");
        // Unknown tag and area codes name their parameter.
        api.get("/api/v1/persons?tag=no_such_tag")
            .await
            .invalid("tag", "reference.unknown");
        api.get("/api/v1/persons?area=140109009009")
            .await
            .invalid("area", "reference.unknown");
    }
}

// ---- 6. Households --------------------------------------------------------------------------

#[tokio::test]
async fn households_members_history_and_end() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "601").await;
        let h = api
            .create(
                "/api/v1/households",
                json!({"dwelling_id": dwelling, "started_on": "2020-01-01"}),
            )
            .await;
        assert_eq!(h["dwelling_id"], dwelling, "[{b}]");
        assert_eq!(h["area_id"], t.grid1, "[{b}] grid of the dwelling");
        assert_eq!(h["started_on"], "2020-01-01", "[{b}]");
        assert!(h["ended_on"].is_null(), "[{b}]");
        let hid = id(&h);
        let members_uri = format!("/api/v1/households/{hid}/members");
        // A household on something that is not a dwelling, or in the future.
        api.post("/api/v1/households", json!({"dwelling_id": unit}))
            .await
            .invalid("dwelling_id", "reference.unknown");
        api.post(
            "/api/v1/households",
            json!({"dwelling_id": dwelling, "started_on": "2026-11-26"}),
        )
        .await
        .invalid("started_on", "date.future");

        let father = api.person("孙建国", None, None, t.grid2).await;
        let mother = api.person("刘丽", None, None, t.grid1).await;
        let son = api.person("孙小军", None, None, t.grid1).await;

        let m1 = api
            .create(
                &members_uri,
                json!({"person_id": id(&father), "relation": "户主", "residence_type": "registered", "started_on": "2020-01-01"}),
            )
            .await;
        assert_eq!(m1["relation"], "02", "[{b}]");
        assert_eq!(m1["relation_zh"], "户主", "[{b}]");
        assert_eq!(m1["name"], "孙建国", "[{b}]");
        // Joining moved him to the household's grid.
        let r = api.get(&format!("/api/v1/persons/{}", id(&father))).await;
        assert_eq!(r.ok(200)["area_id"], t.grid1, "[{b}] moved to the grid");
        assert_eq!(r.body["household_id"], hid, "[{b}]");

        // A second householder.
        api.post(
            &members_uri,
            json!({"person_id": id(&mother), "relation": "02", "residence_type": "registered"}),
        )
        .await
        .problem(409, "household.householder_exists");
        let m2 = api
            .create(
                &members_uri,
                json!({"person_id": id(&mother), "relation": "配偶", "residence_type": "permanent", "started_on": "2020-01-01"}),
            )
            .await;
        let m3 = api
            .create(
                &members_uri,
                json!({"person_id": id(&son), "relation": "子", "residence_type": "registered", "started_on": "2021-03-01"}),
            )
            .await;
        assert_eq!(m3["relation"], "20", "[{b}]");
        api.post(
            &members_uri,
            json!({"person_id": 999_999, "relation": "子", "residence_type": "registered"}),
        )
        .await
        .invalid("person_id", "reference.unknown");
        api.post(
            &members_uri,
            json!({"person_id": id(&son), "relation": "外星人", "residence_type": "registered"}),
        )
        .await
        .invalid("relation", "relation.invalid");

        // The mother's residence type changes: old row ended, new row current.
        let r = api
            .patch(
                &format!("{members_uri}/{}", id(&m2)),
                json!({"residence_type": "registered", "on": "2026-11-01"}),
            )
            .await;
        let m2b = r.ok(200).clone();
        assert_ne!(id(&m2b), id(&m2), "[{b}] a new row");
        assert_eq!(m2b["residence_type"], "registered", "[{b}]");
        assert_eq!(m2b["relation"], "10", "[{b}] relation kept");
        assert_eq!(m2b["started_on"], "2026-11-01", "[{b}]");
        assert!(m2b["ended_on"].is_null(), "[{b}]");
        let r = api.get(&format!("/api/v1/persons/{}", id(&mother))).await;
        assert_eq!(r.ok(200)["residence_type"], "registered", "[{b}]");
        // The son moves out.
        let r = api
            .patch(
                &format!("{members_uri}/{}", id(&m3)),
                json!({"ended_on": "2026-11-20"}),
            )
            .await;
        assert_eq!(r.ok(200)["ended_on"], "2026-11-20", "[{b}]");
        let r = api.get(&format!("/api/v1/persons/{}", id(&son))).await;
        assert!(r.ok(200)["household_id"].is_null(), "[{b}] son left");
        api.patch(
            &format!("{members_uri}/{}", id(&m3)),
            json!({"ended_on": "2026-11-21"}),
        )
        .await
        .problem(409, "household.ended");
        api.patch(
            &format!("{members_uri}/{}", id(&m1)),
            json!({"ended_on": "2026-12-01"}),
        )
        .await
        .invalid("ended_on", "date.future");
        api.patch(
            &format!("{members_uri}/{}", id(&m1)),
            json!({"ended_on": "2019-12-31"}),
        )
        .await
        .invalid("ended_on", "date.before_start");
        api.patch(
            &format!("{members_uri}/999999"),
            json!({"ended_on": "2026-11-20"}),
        )
        .await
        .problem(404, "not_found");

        // Current members first, then the history.
        let r = api.get(&format!("/api/v1/households/{hid}")).await;
        let detail = r.ok(200).clone();
        let members = detail["members"].as_array().unwrap().clone();
        let current: Vec<i64> = members
            .iter()
            .filter(|m| m["ended_on"].is_null())
            .map(id)
            .collect();
        let history: Vec<(i64, String)> = members
            .iter()
            .filter(|m| !m["ended_on"].is_null())
            .map(|m| (id(m), m["ended_on"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(members.len(), 4, "[{b}] members: {}", r.text);
        let first_ended = members
            .iter()
            .position(|m| !m["ended_on"].is_null())
            .unwrap();
        assert!(
            members[first_ended..]
                .iter()
                .all(|m| !m["ended_on"].is_null()),
            "[{b}] current first: {}",
            r.text
        );
        let mut cur = current.clone();
        cur.sort_unstable();
        let mut want = vec![id(&m1), id(&m2b)];
        want.sort_unstable();
        assert_eq!(cur, want, "[{b}] current");
        let mut hist = history.clone();
        hist.sort();
        let mut want_hist = vec![
            (id(&m2), "2026-11-01".to_owned()),
            (id(&m3), "2026-11-20".to_owned()),
        ];
        want_hist.sort();
        assert_eq!(hist, want_hist, "[{b}] history");
        let r = api.get(&members_uri).await;
        assert_eq!(
            r.ok(200)
                .as_array()
                .unwrap()
                .iter()
                .map(id)
                .collect::<Vec<_>>(),
            members.iter().map(id).collect::<Vec<_>>(),
            "[{b}] /members agrees"
        );
        let r = api
            .get(&format!("/api/v1/persons?household_id={hid}"))
            .await;
        assert_eq!(
            ids(&items(r.ok(200))),
            {
                let mut v = vec![id(&father), id(&mother)];
                v.sort_unstable();
                v
            },
            "[{b}] persons in the household"
        );

        // End the household: every current membership ends with it.
        api.patch(
            &format!("/api/v1/households/{hid}"),
            json!({"ended_on": "2019-01-01"}),
        )
        .await
        .invalid("ended_on", "date.before_start");
        let r = api
            .patch(
                &format!("/api/v1/households/{hid}"),
                json!({"ended_on": "2026-11-24"}),
            )
            .await;
        assert_eq!(r.ok(200)["ended_on"], "2026-11-24", "[{b}]");
        let r = api.get(&format!("/api/v1/households/{hid}")).await;
        assert!(
            r.ok(200)["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| !m["ended_on"].is_null()),
            "[{b}] all memberships ended: {}",
            r.text
        );
        let r = api.get(&format!("/api/v1/persons/{}", id(&father))).await;
        assert!(r.ok(200)["household_id"].is_null(), "[{b}]");
        assert!(r.body["residence_type"].is_null(), "[{b}]");
        api.patch(&format!("/api/v1/households/{hid}"), json!({}))
            .await
            .problem(409, "household.ended");
        api.post(
            &members_uri,
            json!({"person_id": id(&son), "relation": "子", "residence_type": "registered"}),
        )
        .await
        .problem(409, "household.ended");
        let r = api
            .get(&format!("/api/v1/households?dwelling_id={dwelling}"))
            .await;
        assert!(items(r.ok(200)).is_empty(), "[{b}] ended hidden");
        let r = api
            .get(&format!(
                "/api/v1/households?dwelling_id={dwelling}&include_ended=true"
            ))
            .await;
        assert_eq!(ids(&items(r.ok(200))), vec![hid], "[{b}] with history");
        api.get("/api/v1/households/999999")
            .await
            .problem(404, "not_found");
    }
}

// ---- 7. Tags --------------------------------------------------------------------------------

#[tokio::test]
async fn tags_builtins_custom_and_assignments() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let r = api.get("/api/v1/tags").await;
        let tags = r.ok(200).as_array().unwrap().clone();
        let by_code = |code: &str| {
            tags.iter()
                .find(|x| x["code"] == code)
                .unwrap_or_else(|| panic!("[{b}] no tag {code}"))
                .clone()
        };
        let party = by_code("elderly_party_member");
        assert_eq!(party["name_zh"], "老党员", "[{b}]");
        assert_eq!(party["subject"], "person", "[{b}]");
        for (code, zh) in [
            ("elderly_living_alone", "独居老人"),
            ("disabled", "残疾人"),
            ("home_health_monitoring", "居家健康监测"),
            ("returned_overseas_chinese", "归侨侨眷"),
        ] {
            assert_eq!(by_code(code)["name_zh"], zh, "[{b}]");
        }
        assert_eq!(
            by_code("subsistence_allowance")["subject"],
            "household",
            "[{b}]"
        );

        // A custom tag.
        let custom = api
            .create(
                "/api/v1/tags",
                json!({"code": "dialysis_patient", "name_zh": "透析患者", "name_en": "Dialysis patient", "sensitivity": "health"}),
            )
            .await;
        assert_eq!(custom["sensitivity"], "health", "[{b}]");
        assert_eq!(custom["subject"], "person", "[{b}] person by default");
        let r = api.get(&format!("/api/v1/tags/{}", id(&custom))).await;
        assert_eq!(r.ok(200)["name_zh"], "透析患者", "[{b}]");
        api.post(
            "/api/v1/tags",
            json!({"code": "dialysis_patient", "name_zh": "重复", "name_en": "Dup", "sensitivity": "health"}),
        )
        .await
        .problem(409, "tag.duplicate_code");
        api.post(
            "/api/v1/tags",
            json!({"code": "Bad Code", "name_zh": "坏", "name_en": "Bad", "sensitivity": "health"}),
        )
        .await
        .invalid("code", "tag_code.invalid");
        api.post(
            "/api/v1/tags",
            json!({"code": "odd_tag", "name_zh": "怪", "name_en": "Odd", "sensitivity": "secret"}),
        )
        .await
        .invalid("sensitivity", "sensitivity.invalid");

        // Assign it to a person.
        let p = api.person("吴透析", None, None, t.grid1).await;
        let pid = id(&p);
        let a = api
            .create(
                "/api/v1/tag-assignments",
                json!({"tag": "dialysis_patient", "person_id": pid, "started_on": "2026-01-10", "note": "每周三次"}),
            )
            .await;
        assert_eq!(a["tag"], "dialysis_patient", "[{b}]");
        assert_eq!(a["tag_id"], id(&custom), "[{b}]");
        assert_eq!(a["person_id"], pid, "[{b}]");
        assert_eq!(a["started_on"], "2026-01-10", "[{b}]");
        assert_eq!(a["note"], "每周三次", "[{b}]");
        let r = api.get(&format!("/api/v1/persons/{pid}")).await;
        let current: Vec<String> = r.ok(200)["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["tag"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(current, vec!["dialysis_patient"], "[{b}] person's tags");

        // A household tag on a person.
        api.post(
            "/api/v1/tag-assignments",
            json!({"tag": "subsistence_allowance", "person_id": pid}),
        )
        .await
        .invalid("tag", "tag.subject_mismatch");
        // Twice at once.
        api.post(
            "/api/v1/tag-assignments",
            json!({"tag": "dialysis_patient", "person_id": pid}),
        )
        .await
        .problem(409, "tag_assignment.duplicate");
        // Starting tomorrow.
        api.post(
            "/api/v1/tag-assignments",
            json!({"tag": "disabled", "person_id": pid, "started_on": "2026-11-26"}),
        )
        .await
        .invalid("started_on", "date.future");
        // Neither or both subjects; unknown tag; unknown person.
        api.post("/api/v1/tag-assignments", json!({"tag": "disabled"}))
            .await
            .invalid("person_id", "tag_assignment.subject");
        api.post(
            "/api/v1/tag-assignments",
            json!({"tag": "no_such_tag", "person_id": pid}),
        )
        .await
        .invalid("tag", "reference.unknown");
        api.post(
            "/api/v1/tag-assignments",
            json!({"tag": "disabled", "person_id": 999_999}),
        )
        .await
        .invalid("person_id", "reference.unknown");

        // End it.
        let aid = id(&a);
        api.patch(
            &format!("/api/v1/tag-assignments/{aid}"),
            json!({"ended_on": "2025-12-31"}),
        )
        .await
        .invalid("ended_on", "date.before_start");
        api.patch(
            &format!("/api/v1/tag-assignments/{aid}"),
            json!({"ended_on": "2026-11-30"}),
        )
        .await
        .invalid("ended_on", "date.future");
        let r = api
            .patch(&format!("/api/v1/tag-assignments/{aid}"), json!({}))
            .await;
        assert_eq!(r.ok(200)["ended_on"], "2026-11-25", "[{b}] ends today");
        let r = api.get(&format!("/api/v1/persons/{pid}")).await;
        assert!(
            r.ok(200)["tags"].as_array().unwrap().is_empty(),
            "[{b}] no current tags: {}",
            r.text
        );
        let r = api
            .get(&format!("/api/v1/tag-assignments?person_id={pid}"))
            .await;
        assert!(items(r.ok(200)).is_empty(), "[{b}] current only");
        let r = api
            .get(&format!(
                "/api/v1/tag-assignments?person_id={pid}&include_ended=true"
            ))
            .await;
        assert_eq!(ids(&items(r.ok(200))), vec![aid], "[{b}] history kept");
        api.patch(&format!("/api/v1/tag-assignments/{aid}"), json!({}))
            .await
            .problem(409, "tag_assignment.ended");
        // Once ended it may be given again.
        api.create(
            "/api/v1/tag-assignments",
            json!({"tag": "dialysis_patient", "person_id": pid}),
        )
        .await;

        // A household tag on a household.
        let h = api
            .create("/api/v1/households", json!({"area_id": t.grid2}))
            .await;
        let ha = api
            .create(
                "/api/v1/tag-assignments",
                json!({"tag": "subsistence_allowance", "household_id": id(&h)}),
            )
            .await;
        assert_eq!(ha["household_id"], id(&h), "[{b}]");
        assert!(ha["person_id"].is_null(), "[{b}]");
        let r = api.get(&format!("/api/v1/households/{}", id(&h))).await;
        assert_eq!(
            r.ok(200)["tags"][0]["tag"],
            "subsistence_allowance",
            "[{b}]"
        );
        let r = api
            .get("/api/v1/households?tag=subsistence_allowance")
            .await;
        assert_eq!(ids(&items(r.ok(200))), vec![id(&h)], "[{b}]");
        api.post(
            "/api/v1/tag-assignments",
            json!({"tag": "disabled", "household_id": id(&h)}),
        )
        .await
        .invalid("tag", "tag.subject_mismatch");

        // Renaming a tag.
        let r = api
            .patch(
                &format!("/api/v1/tags/{}", id(&custom)),
                json!({"name_zh": "血液透析患者"}),
            )
            .await;
        assert_eq!(r.ok(200)["name_zh"], "血液透析患者", "[{b}]");
        assert_eq!(r.body["name_en"], "Dialysis patient", "[{b}]");
    }
}

// ---- 8. Error plumbing ----------------------------------------------------------------------

#[tokio::test]
async fn error_plumbing_health_and_openapi() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let json_ct = [("content-type", "application/json")];

        // Malformed JSON.
        let r = api
            .raw(
                Method::POST,
                "/api/v1/areas",
                b"{\"code\": ".to_vec(),
                &json_ct,
            )
            .await;
        r.problem(400, "json.syntax");
        let r = api
            .raw(
                Method::POST,
                "/api/v1/persons",
                "{\"name\": \"王小".as_bytes().to_vec(),
                &json_ct,
            )
            .await;
        r.problem(400, "json.syntax");
        // Wrong or missing content type.
        let body =
            serde_json::to_vec(&json!({"code": "140200", "name": "大同市", "level": "city"}))
                .unwrap();
        api.raw(
            Method::POST,
            "/api/v1/areas",
            body.clone(),
            &[("content-type", "text/plain")],
        )
        .await
        .problem(415, "body.content_type");
        api.raw(Method::POST, "/api/v1/areas", body.clone(), &[])
            .await
            .problem(415, "body.content_type");
        // JSON with parameters is accepted (and reaches the rules: cities come from imports).
        api.raw(
            Method::POST,
            "/api/v1/areas",
            body,
            &[("content-type", "application/json; charset=utf-8")],
        )
        .await
        .problem(422, "area.root_not_allowed");
        // Over 256 KiB.
        let big =
            serde_json::to_vec(&json!({"name": "长".repeat(100_000), "area_id": t.grid1})).unwrap();
        assert!(big.len() > 256 * 1024);
        api.raw(Method::POST, "/api/v1/persons", big, &json_ct)
            .await
            .problem(413, "body.too_large");
        // A missing required field.
        api.post(
            "/api/v1/areas",
            json!({"name": "无码区", "level": "district", "parent_id": t.city}),
        )
        .await
        .invalid("code", "required");
        api.post("/api/v1/persons/search", json!({}))
            .await
            .invalid("q", "required");
        // A mistyped field holding an ID number: 422 naming it, the value never echoed.
        let secret = id18("140109", "19660606", 777);
        for (uri, body, field) in [
            (
                "/api/v1/persons",
                json!({"name": "类型错", "area_id": secret}),
                "area_id",
            ),
            (
                "/api/v1/persons/search",
                json!({"q": "王", "limit": secret}),
                "limit",
            ),
            (
                "/api/v1/households",
                json!({"dwelling_id": [secret]}),
                "dwelling_id",
            ),
        ] {
            let r = api.post(uri, body).await;
            r.invalid(field, "json.type");
            assert!(
                !r.text.contains(&secret) && !has_unmasked_id(&r.text),
                "[{b}] {uri} echoes the value: {}",
                r.text
            );
        }
        // Unknown ids.
        for uri in [
            "/api/v1/areas/999999",
            "/api/v1/places/999999",
            "/api/v1/persons/999999",
            "/api/v1/households/999999",
            "/api/v1/households/999999/members",
            "/api/v1/tags/999999",
            "/api/v1/tag-assignments/999999",
            "/api/v1/areas/999999/tag-counts",
        ] {
            api.get(uri).await.problem(404, "not_found");
        }
        let r = api
            .call(
                Method::GET,
                "/api/v1/persons/999999",
                None,
                &[("accept-language", "en")],
            )
            .await;
        let p = r.problem(404, "not_found");
        assert_eq!(p["detail"], p["detail_en"], "[{b}] English 404");
        assert_eq!(p["title"], "Not Found", "[{b}]");

        // Security headers and request ids on every answer.
        let r = api.get("/healthz").await;
        assert_eq!(r.ok(200)["status"], "ok", "[{b}]");
        assert_eq!(
            r.headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "[{b}]"
        );
        assert!(r.headers.contains_key("x-request-id"), "[{b}] request id");
        let r = api.get("/readyz").await;
        assert_eq!(r.ok(200)["status"], "ready", "[{b}]");

        // The OpenAPI document.
        let r = api.get("/api/v1/openapi.json").await;
        let doc = r.ok(200);
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 15, "[{b}] only {} paths", paths.len());
        for p in paths.keys() {
            assert!(p.starts_with("/api/v1/"), "[{b}] path {p} outside /api/v1");
        }
        for p in [
            "/api/v1/persons",
            "/api/v1/persons/search",
            "/api/v1/areas/{id}",
        ] {
            assert!(paths.contains_key(p), "[{b}] OpenAPI lacks {p}");
        }
        assert!(
            doc["components"]["schemas"].get("Problem").is_some(),
            "[{b}] Problem schema"
        );
    }
}

/// Malformed JSON is a 400 even when the part before the break already has a mistyped field:
/// the body is not JSON at all, so no field can be blamed.
#[tokio::test]
async fn truncated_json_is_a_syntax_error_not_a_field_error() {
    for ts in backends().await {
        let api = Api::new(&ts);
        api.sign_in_over(&[]).await;
        let json_ct = [("content-type", "application/json")];
        for raw in [&b"[1, 2"[..], &b"{\"name\": 5, \"area_id\": "[..]] {
            api.raw(Method::POST, "/api/v1/persons", raw.to_vec(), &json_ct)
                .await
                .problem(400, "json.syntax");
        }
    }
}

// ---- 9. The demo city -----------------------------------------------------------------------

#[tokio::test]
async fn demo_city_counts_and_masking() {
    for ts in backends().await {
        let b = ts.name;
        let cfg = wangge_demo::DemoConfig {
            residents: 2_500,
            seed: 7,
            today: TODAY,
        };
        wangge_services::demo::load_demo(&ts.store, cfg, |_| {})
            .await
            .expect("demo city");
        let api = Api::new(&ts);
        api.sign_in_over(&["140100".to_owned()]).await;

        let r = api.get("/api/v1/areas?level=district").await;
        let district = items(r.ok(200))
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("[{b}] no district"));
        let code = district["code"].as_str().unwrap().to_owned();
        let r = api
            .get(&format!("/api/v1/areas/{}/tag-counts", id(&district)))
            .await;
        let counts = r.ok(200).as_array().unwrap().clone();
        assert!(!counts.is_empty(), "[{b}] no tag counts");
        let mut per_tag: BTreeMap<i64, i64> = BTreeMap::new();
        for c in &counts {
            *per_tag.entry(c["tag_id"].as_i64().unwrap()).or_default() +=
                c["count"].as_i64().unwrap();
        }
        let r = api.get("/api/v1/tags").await;
        let tags = r.ok(200).as_array().unwrap().clone();
        let party = tags
            .iter()
            .find(|t| t["code"] == "elderly_party_member")
            .unwrap();
        let party_count = per_tag.get(&id(party)).copied().unwrap_or(0);
        assert!(party_count > 0, "[{b}] the demo has elderly party members");
        let cohort = api
            .all_pages(
                &format!("/api/v1/persons?tag=elderly_party_member&area={code}"),
                100,
            )
            .await;
        assert_eq!(cohort.len() as i64, party_count, "[{b}] tag-counts vs list");
        // Every grid's count agrees with a list of that grid.
        let grid_counts: Vec<(i64, i64)> = counts
            .iter()
            .filter(|c| c["tag_id"] == id(party))
            .map(|c| (c["area_id"].as_i64().unwrap(), c["count"].as_i64().unwrap()))
            .collect();
        for (grid, n) in grid_counts.iter().take(3) {
            let r = api.get(&format!("/api/v1/areas/{grid}")).await;
            let gcode = r.ok(200)["code"].as_str().unwrap().to_owned();
            let listed = api
                .all_pages(
                    &format!("/api/v1/persons?tag=elderly_party_member&area={gcode}"),
                    500,
                )
                .await;
            assert_eq!(listed.len() as i64, *n, "[{b}] grid {gcode}");
        }

        // No list body carries a full ID number.
        let everyone = api.all_pages("/api/v1/persons?x=1", 500).await;
        assert_eq!(everyone.len(), 2_500, "[{b}] residents");
        for p in &everyone {
            let text = p.to_string();
            assert!(!has_unmasked_id(&text), "[{b}] unmasked ID in {text}");
        }
        for uri in [
            format!("/api/v1/persons?area={code}&age_min=60&limit=500"),
            "/api/v1/households?limit=500".to_owned(),
            "/api/v1/tag-assignments?limit=500".to_owned(),
            "/api/v1/places?kind=dwelling&limit=500".to_owned(),
        ] {
            let r = api.get(&uri).await;
            let page: Value = json!({"items": r.ok(200)["items"].clone()});
            assert!(
                !has_unmasked_id(&page.to_string()),
                "[{b}] unmasked ID in {uri}"
            );
        }
        let r = api
            .post("/api/v1/persons/search", json!({"q": "wang", "limit": 500}))
            .await;
        assert!(!has_unmasked_id(&r.text), "[{b}] unmasked ID in search");
    }
}

// ---- 10. Rules the product gets wrong (each test names the expected behaviour) ---------------

/// PATCHing sex or birth date alone must still agree with the stored ID number, as on create.
#[tokio::test]
async fn patching_sex_or_birth_date_must_agree_with_the_id_number() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let p = api
            .person(
                "王建军",
                Some(&id18("140109", "19600101", 111)),
                None,
                t.grid1,
            )
            .await;
        let uri = format!("/api/v1/persons/{}", id(&p));
        api.patch(&uri, json!({"sex": "female"}))
            .await
            .invalid("sex", "sex.mismatch");
        api.patch(&uri, json!({"birth_date": "1970-01-01"}))
            .await
            .invalid("birth_date", "birth_date.mismatch");
        let r = api.get(&uri).await;
        assert_eq!(r.ok(200)["sex"], "male", "[{b}] sex unchanged");
        assert_eq!(r.body["birth_date"], "1960-01-01", "[{b}] birth unchanged");
    }
}

/// Ending a household before one of its current memberships began would leave a membership
/// that ends before it starts.
#[tokio::test]
async fn a_household_cannot_end_before_a_current_membership_starts() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let h = api
            .create(
                "/api/v1/households",
                json!({"area_id": t.grid1, "started_on": "2020-01-01"}),
            )
            .await;
        let p = api.person("新住户", None, None, t.grid1).await;
        api.create(
            &format!("/api/v1/households/{}/members", id(&h)),
            json!({"person_id": id(&p), "relation": "户主", "residence_type": "registered", "started_on": "2026-11-01"}),
        )
        .await;
        api.patch(
            &format!("/api/v1/households/{}", id(&h)),
            json!({"ended_on": "2026-10-01"}),
        )
        .await
        .invalid("ended_on", "date.before_start");
        let r = api.get(&format!("/api/v1/households/{}", id(&h))).await;
        let m = &r.ok(200)["members"][0];
        assert!(
            m["ended_on"].is_null() || m["ended_on"].as_str() >= m["started_on"].as_str(),
            "[{b}] membership ends before it starts: {m}"
        );
    }
}

/// Changing a member's relation to householder must respect the one-householder rule, as
/// adding a member does.
#[tokio::test]
async fn changing_a_member_to_householder_checks_the_existing_householder() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let h = api
            .create("/api/v1/households", json!({"area_id": t.grid1}))
            .await;
        let members = format!("/api/v1/households/{}/members", id(&h));
        let a = api.person("户主甲", None, None, t.grid1).await;
        let c = api.person("配偶乙", None, None, t.grid1).await;
        api.create(
            &members,
            json!({"person_id": id(&a), "relation": "户主", "residence_type": "registered"}),
        )
        .await;
        let m = api
            .create(
                &members,
                json!({"person_id": id(&c), "relation": "配偶", "residence_type": "registered"}),
            )
            .await;
        api.patch(
            &format!("{members}/{}", id(&m)),
            json!({"relation": "户主"}),
        )
        .await
        .problem(409, "household.householder_exists");
        let r = api.get(&members).await;
        let heads = r
            .ok(200)
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["ended_on"].is_null() && m["relation"] == "02")
            .count();
        assert_eq!(heads, 1, "[{b}] householders: {}", r.text);
    }
}

/// The standard address is built from the area and place trees: renaming an area must show in
/// the addresses below it, as relabelling a place does.
#[tokio::test]
async fn renaming_an_area_rewrites_standard_addresses_below_it() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let b = ts.name;
        let t = api.tree().await;
        let unit = api.unit(&t).await;
        let dwelling = api.dwelling(unit, "601").await;
        api.patch(
            &format!("/api/v1/areas/{}", t.community),
            json!({"name": "西矿新村社区"}),
        )
        .await
        .ok(200);
        let r = api.get(&format!("/api/v1/places/{dwelling}")).await;
        assert_eq!(
            r.ok(200)["address"],
            "太原市万柏林区小井峪街道西矿新村社区西矿街小区3号楼2单元601室",
            "[{b}] stale address"
        );
    }
}

/// An area or tag code that names nothing is a 422 naming the parameter on every list, as on
/// `GET /persons`, not a 404 for the whole collection.
#[tokio::test]
async fn unknown_filter_codes_name_their_parameter_on_every_list() {
    for ts in backends().await {
        let api = Api::new(&ts);
        api.tree().await;
        for (uri, field) in [
            ("/api/v1/persons?area=140109009009", "area"),
            ("/api/v1/areas?within=140109009009", "within"),
            ("/api/v1/places?area=140109009009", "area"),
            ("/api/v1/households?area=140109009009", "area"),
            ("/api/v1/households?tag=no_such_tag", "tag"),
            ("/api/v1/tag-assignments?area=140109009009", "area"),
            ("/api/v1/tag-assignments?tag=no_such_tag", "tag"),
        ] {
            api.get(uri).await.invalid(field, "reference.unknown");
        }
    }
}

/// Creating a person into an ended household says the household ended (as adding a member
/// does), not that the person is already a member.
#[tokio::test]
async fn joining_an_ended_household_on_creation_says_the_household_ended() {
    for ts in backends().await {
        let api = Api::new(&ts);
        let t = api.tree().await;
        let h = api
            .create(
                "/api/v1/households",
                json!({"area_id": t.grid1, "started_on": "2020-01-01"}),
            )
            .await;
        api.patch(
            &format!("/api/v1/households/{}", id(&h)),
            json!({"ended_on": "2026-11-01"}),
        )
        .await
        .ok(200);
        api.post(
            "/api/v1/persons",
            json!({"name": "迟来者", "household_id": id(&h), "relation": "子", "residence_type": "registered"}),
        )
        .await
        .problem(409, "household.ended");
    }
}
