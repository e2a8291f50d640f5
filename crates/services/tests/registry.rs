//! The registry through the services and the scoped store, on SQLite and PostgreSQL.

use time::macros::date;
use wangge_demo::DemoConfig;
use wangge_domain::{
    AreaCode, AreaLevel, AreaPath, IdNumber, PersonName, PhoneNumber, PlaceKind, Relation,
    ResidenceType, Scope, Sex, TagCode,
};
use wangge_services::areas_import::import_areas;
use wangge_services::registry::{
    AssignTag, CreateHousehold, CreatePerson, CreatePlace, PersonListQuery,
};
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::StoreError;
use wangge_store::page::PageRequest;
use wangge_store::persons::{Joining, PersonFilter};
use wangge_store::tags::Labelled;
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const TODAY: time::Date = date!(2026 - 11 - 25);

fn registry(t: &TestStore) -> Registry {
    Registry::new(t.store.clone(), Clock::Fixed(TODAY))
}

async fn grid(t: &TestStore, code: &str) -> (i64, AreaPath) {
    let a = t
        .store
        .area_by_code(&Scope::everything(), &AreaCode::parse(code).unwrap())
        .await
        .unwrap();
    (a.id, a.path)
}

fn id_number(seq: u16, birth: time::Date) -> IdNumber {
    IdNumber::from_parts("140109", birth, seq).unwrap()
}

async fn person_in(r: &Registry, area_id: i64, name: &str, seq: u16, birth: time::Date) -> i64 {
    r.create_person(
        &Scope::everything(),
        CreatePerson {
            name: PersonName::parse(name).unwrap(),
            id_number: Some(id_number(seq, birth)),
            phone: Some(PhoneNumber::parse(&format!("1391234{:04}", seq)).unwrap()),
            sex: None,
            birth_date: None,
            area_id: Some(area_id),
            joining: None,
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn imports_the_sample_area_tree_all_or_nothing() {
    for t in backends().await {
        let report = import_areas(&t.store, &Scope::everything(), AREAS)
            .await
            .unwrap();
        assert_eq!(report.created, 11, "{}", t.name);
        let grids = t
            .store
            .areas(
                &Scope::everything(),
                &wangge_store::areas::AreaFilter {
                    level: Some(AreaLevel::Grid),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(grids.items.len(), 6, "{}", t.name);

        // A second import of the same file is refused as a whole.
        let again = import_areas(&t.store, &Scope::everything(), AREAS).await;
        assert!(
            matches!(again, Err(ServiceError::Invalid(ref p)) if p.len() == 11),
            "{}",
            t.name
        );

        // Grid outside its community, an open ring and an unknown parent: three problems, no writes.
        let bad = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": "140109001001004", "name": "越界网格", "level": "grid", "parent_code": "140109001001"},
             "geometry": {"type": "Polygon", "coordinates": [[[112.60, 37.87], [112.61, 37.87], [112.61, 37.88], [112.60, 37.88], [112.60, 37.87]]]}},
            {"type": "Feature", "properties": {"code": "140109001001005", "name": "未闭合", "level": "grid", "parent_code": "140109001001"},
             "geometry": {"type": "Polygon", "coordinates": [[[112.47, 37.87], [112.48, 37.87], [112.48, 37.88], [112.47, 37.88]]]}},
            {"type": "Feature", "properties": {"code": "140109009001", "name": "无上级", "level": "community", "parent_code": "140109009"},
             "geometry": null}
        ]});
        match import_areas(&t.store, &Scope::everything(), &bad.to_string()).await {
            Err(ServiceError::Invalid(problems)) => {
                let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
                assert!(
                    codes.contains(&"boundary.outside_parent"),
                    "{}: {codes:?}",
                    t.name
                );
                assert!(codes.contains(&"boundary.invalid"), "{}: {codes:?}", t.name);
                assert!(
                    codes.contains(&"reference.unknown"),
                    "{}: {codes:?}",
                    t.name
                );
            }
            other => panic!("{}: expected problems, got {other:?}", t.name),
        }
        let none = t
            .store
            .area_by_code(
                &Scope::everything(),
                &AreaCode::parse("140109001001004").unwrap(),
            )
            .await;
        assert!(matches!(none, Err(StoreError::NotFound)), "{}", t.name);
    }
}

#[tokio::test]
async fn scope_is_enforced_in_the_store_and_empty_sees_nothing() {
    for t in backends().await {
        import_areas(&t.store, &Scope::everything(), AREAS)
            .await
            .unwrap();
        let r = registry(&t);
        let (g1, p1) = grid(&t, "140109001001001").await;
        let (g2, _) = grid(&t, "140109001002001").await;
        let a = person_in(&r, g1, "王小明", 11, date!(1950 - 01 - 01)).await;
        let b = person_in(&r, g2, "李秀英", 12, date!(1951 - 02 - 02)).await;
        let mine = Scope::of([p1.clone()]);

        assert!(t.store.person(&mine, a).await.is_ok(), "{}", t.name);
        assert!(
            matches!(t.store.person(&mine, b).await, Err(StoreError::NotFound)),
            "{}",
            t.name
        );
        let listed = t
            .store
            .persons(&mine, &PersonFilter::default(), &PageRequest::default())
            .await
            .unwrap();
        assert_eq!(
            listed.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![a],
            "{}",
            t.name
        );

        let nothing = Scope::nothing();
        assert!(
            matches!(t.store.person(&nothing, a).await, Err(StoreError::NotFound)),
            "{}",
            t.name
        );
        assert!(
            t.store
                .persons(&nothing, &PersonFilter::default(), &PageRequest::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let found = r.search_persons(&mine, "李", 10).await.unwrap();
        assert!(
            found.persons.is_empty(),
            "{}: search leaks across scope",
            t.name
        );

        // Writing outside the scope looks exactly like writing against a missing record.
        let outside = r
            .create_person(
                &mine,
                CreatePerson {
                    name: PersonName::parse("张三").unwrap(),
                    id_number: None,
                    phone: None,
                    sex: Some(Sex::Male),
                    birth_date: None,
                    area_id: Some(g2),
                    joining: None,
                },
            )
            .await;
        assert!(
            matches!(outside, Err(ServiceError::Invalid(ref e)) if e[0].code == "reference.unknown"),
            "{}",
            t.name
        );

        // Areas above the scope are visible for navigation, siblings are not.
        let city = t
            .store
            .area_by_code(&mine, &AreaCode::parse("140100").unwrap())
            .await;
        assert!(city.is_ok(), "{}", t.name);
        let sibling = t
            .store
            .area_by_code(&mine, &AreaCode::parse("140109001002001").unwrap())
            .await;
        assert!(matches!(sibling, Err(StoreError::NotFound)), "{}", t.name);
    }
}

#[tokio::test]
async fn numbers_are_sealed_at_rest_and_a_wrong_key_is_refused() {
    for t in backends().await {
        import_areas(&t.store, &Scope::everything(), AREAS)
            .await
            .unwrap();
        let r = registry(&t);
        let (g1, _) = grid(&t, "140109001001001").await;
        let id = person_in(&r, g1, "王小明", 21, date!(1960 - 05 - 05)).await;
        let plain = id_number(21, date!(1960 - 05 - 05));
        let row = t
            .store
            .db()
            .query_opt(
                "SELECT id_number_cipher, id_number_hash, id_number_masked, phone_cipher, phone_masked FROM persons WHERE id = ?",
                &[id.into()],
                |r| Ok((r.blob(0)?, r.blob(1)?, r.text(2)?, r.blob(3)?, r.text(4)?)),
            )
            .await
            .unwrap()
            .unwrap();
        let needle = plain.as_str().as_bytes();
        for blob in [&row.0, &row.1, &row.3] {
            assert!(
                !blob.windows(needle.len()).any(|w| w == needle),
                "{}: plaintext at rest",
                t.name
            );
        }
        assert_eq!(row.2, plain.masked(), "{}", t.name);
        assert_eq!(row.4, "139****0021", "{}", t.name);
        let secrets = t
            .store
            .person_secrets(&Scope::everything(), id)
            .await
            .unwrap();
        assert_eq!(
            secrets.id_number.unwrap().as_str(),
            plain.as_str(),
            "{}",
            t.name
        );

        let other = wangge_store::crypto::FieldCrypto::new(&[9u8; 32]);
        let refused = wangge_store::Store::open(t.store.db().clone(), other).await;
        assert!(
            matches!(refused, Err(StoreError::KeyMismatch(_))),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn migrations_are_recorded_and_idempotent() {
    for t in backends().await {
        let again = wangge_store::migrate::migrate(t.store.db()).await.unwrap();
        assert!(again.is_empty(), "{}", t.name);
        assert_eq!(
            wangge_store::migrate::current_version(t.store.db())
                .await
                .unwrap(),
            10,
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn joining_a_household_in_another_grid_moves_the_person_and_their_tags() {
    for t in backends().await {
        import_areas(&t.store, &Scope::everything(), AREAS)
            .await
            .unwrap();
        let r = registry(&t);
        let all = Scope::everything();
        let (g1, p1) = grid(&t, "140109001001001").await;
        let (g2, p2) = grid(&t, "140109001002001").await;
        let compound = r
            .create_place(
                &all,
                CreatePlace {
                    kind: PlaceKind::Compound,
                    parent_id: None,
                    area_id: Some(g2),
                    label: "长兴苑".into(),
                    floor: None,
                },
            )
            .await
            .unwrap();
        let building = r
            .create_place(
                &all,
                CreatePlace {
                    kind: PlaceKind::Building,
                    parent_id: Some(compound.id),
                    area_id: None,
                    label: "3".into(),
                    floor: None,
                },
            )
            .await
            .unwrap();
        let unit = r
            .create_place(
                &all,
                CreatePlace {
                    kind: PlaceKind::Unit,
                    parent_id: Some(building.id),
                    area_id: None,
                    label: "2".into(),
                    floor: None,
                },
            )
            .await
            .unwrap();
        let dwelling = r
            .create_place(
                &all,
                CreatePlace {
                    kind: PlaceKind::Dwelling,
                    parent_id: Some(unit.id),
                    area_id: None,
                    label: "601".into(),
                    floor: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(dwelling.floor, Some(6), "{}", t.name);
        assert!(
            dwelling.address.ends_with("长兴苑3号楼2单元601室"),
            "{}: {}",
            t.name,
            dwelling.address
        );
        let household = r
            .create_household(
                &all,
                CreateHousehold {
                    dwelling_id: Some(dwelling.id),
                    area_id: None,
                    started_on: None,
                },
            )
            .await
            .unwrap();

        let pid = person_in(&r, g1, "曾国强", 31, date!(1948 - 03 - 03)).await;
        r.assign_tag(
            &all,
            AssignTag {
                tag: TagCode::parse("elderly_living_alone").unwrap(),
                on: Labelled::Person(pid),
                started_on: None,
                note: None,
            },
        )
        .await
        .unwrap();
        let member = wangge_services::registry::AddMember {
            person_id: pid,
            relation: Relation::parse("户主").unwrap(),
            residence_type: ResidenceType::Registered,
            started_on: None,
        };
        r.add_member(&all, household.id, member).await.unwrap();

        let moved = t.store.person(&all, pid).await.unwrap();
        assert_eq!(moved.area_path, p2, "{}", t.name);
        assert_eq!(moved.household_id, Some(household.id), "{}", t.name);
        let in_old = r
            .list_persons(
                &Scope::of([p1.clone()]),
                &PersonListQuery {
                    tag: Some(TagCode::parse("elderly_living_alone").unwrap()),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .unwrap();
        assert!(
            in_old.items.is_empty(),
            "{}: tag stayed in the old grid",
            t.name
        );
        let found = r
            .search_persons(&Scope::of([p2.clone()]), "zengguoqiang", 5)
            .await
            .unwrap();
        assert_eq!(
            found.persons.len(),
            1,
            "{}: search keys stayed in the old grid",
            t.name
        );

        // A second person joining the same household by creation lands in the same grid.
        let spouse = r
            .create_person(
                &all,
                CreatePerson {
                    name: PersonName::parse("李桂兰").unwrap(),
                    id_number: Some(id_number(32, date!(1950 - 04 - 04))),
                    phone: None,
                    sex: None,
                    birth_date: None,
                    area_id: None,
                    joining: Some(Joining {
                        household_id: household.id,
                        relation: Relation::parse("配偶").unwrap(),
                        residence_type: ResidenceType::Registered,
                        started_on: TODAY,
                    }),
                },
            )
            .await
            .unwrap();
        assert_eq!(spouse.area_path, p2, "{}", t.name);
        assert_eq!(
            t.store
                .members(&all, household.id, false)
                .await
                .unwrap()
                .len(),
            2,
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn the_demo_city_loads_once_and_matches_its_plan() {
    for t in backends().await {
        let cfg = DemoConfig {
            residents: 3_000,
            seed: 7,
            today: TODAY,
        };
        let p = wangge_services::demo::load_demo(&t.store, cfg.clone(), |_| {})
            .await
            .unwrap();
        assert_eq!(p.persons, 3_000, "{}", t.name);
        let persons: i64 = t
            .store
            .db()
            .query_opt("SELECT COUNT(*) FROM persons", &[], |r| r.int(0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(persons, 3_000, "{}", t.name);
        let again = wangge_services::demo::load_demo(&t.store, cfg, |_| {}).await;
        assert!(
            matches!(
                again,
                Err(ServiceError::Conflict {
                    code: "demo.store_not_empty",
                    ..
                })
            ),
            "{}",
            t.name
        );

        // Ids continue after the bulk-loaded ones on both backends.
        let (g, _) = {
            let grids = t
                .store
                .areas(
                    &Scope::everything(),
                    &wangge_store::areas::AreaFilter {
                        level: Some(AreaLevel::Grid),
                        ..Default::default()
                    },
                    &PageRequest::default(),
                )
                .await
                .unwrap();
            (grids.items[0].id, grids.items[0].path.clone())
        };
        let r = registry(&t);
        let new_id = person_in(&r, g, "新居民", 999, date!(1990 - 01 - 01)).await;
        assert!(new_id > 3_000, "{}", t.name);
    }
}
