//! Photo attachments through the service and the scoped store, on SQLite and PostgreSQL.

use time::OffsetDateTime;
use time::macros::date;
use wangge_domain::{AreaCode, AreaPath, IdNumber, PersonName, Scope, VisitOutcome};
use wangge_media::fixtures::{SECRET, photo_with_location};
use wangge_services::areas_import::import_areas;
use wangge_services::attachments::{AttachmentSettings, Attachments, Upload, Variant};
use wangge_services::registry::{CreatePerson, RecordVisit, ReportWorkOrder};
use wangge_services::{Clock, Registry, ServiceError};
use wangge_store::attachments::AttachmentParent;
use wangge_store::visits::Visited;
use wangge_store::work_orders::{Actor, Source};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");

struct World {
    attachments: Attachments,
    dir: std::path::PathBuf,
    visit: i64,
    order: i64,
    event: i64,
    /// The grid that holds the visit and the order, and a sibling grid.
    home: AreaPath,
    other: AreaPath,
}

async fn grid(t: &TestStore, code: &str) -> (i64, AreaPath) {
    let a = t
        .store
        .area_by_code(&Scope::everything(), &AreaCode::parse(code).unwrap())
        .await
        .unwrap();
    (a.id, a.path)
}

async fn world(t: &TestStore) -> World {
    let all = Scope::everything();
    import_areas(&t.store, &all, AREAS).await.unwrap();
    let (g1, home) = grid(t, "140109001001001").await;
    let (_, other) = grid(t, "140109001002001").await;
    let registry = Registry::new(t.store.clone(), Clock::Fixed(date!(2026 - 11 - 25)));
    let person = registry
        .create_person(
            &all,
            CreatePerson {
                name: PersonName::parse("王秀英").unwrap(),
                id_number: Some(IdNumber::from_parts("140109", date!(1950 - 03 - 02), 12).unwrap()),
                phone: None,
                sex: None,
                birth_date: None,
                area_id: Some(g1),
                joining: None,
            },
        )
        .await
        .unwrap()
        .id;
    let visit = registry
        .record_visit(
            &all,
            (None, "网格员张三"),
            RecordVisit {
                visited: Visited::Person(person),
                visited_at: None,
                outcome: VisitOutcome::AtHome,
                purpose: None,
                notes: None,
                observations: None,
                add_tags: Vec::new(),
                end_tags: Vec::new(),
            },
        )
        .await
        .unwrap()
        .id;
    let category = t.store.work_order_categories().await.unwrap()[0].id;
    let order = registry
        .report_work_order(
            &all,
            &Actor {
                id: None,
                name: "网格员张三".into(),
            },
            ReportWorkOrder {
                category_id: category,
                source: Source::GridWorker,
                title: "楼道堆物".into(),
                description: "3 号楼 2 单元楼道堆放杂物".into(),
                household_id: None,
                place_id: None,
                area_id: Some(g1),
                priority: None,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .id;
    let event = t.store.work_order_timeline(&all, order).await.unwrap()[0].id;
    let dir = t.storage.data_dir.join("attachments");
    let attachments = Attachments::new(
        t.store.clone(),
        AttachmentSettings::in_data_dir(&t.storage.data_dir),
    )
    .unwrap();
    World {
        attachments,
        dir,
        visit,
        order,
        event,
        home,
        other,
    }
}

fn upload(keep_location: bool) -> Upload {
    Upload {
        bytes: photo_with_location(),
        declared_type: Some("image/jpeg".into()),
        keep_location,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_photo_is_stored_stripped_and_served_only_inside_its_parents_scope() {
    for t in backends().await {
        let w = world(&t).await;
        let mine = Scope::of([w.home.clone()]);
        let theirs = Scope::of([w.other.clone()]);
        let who = (None, "网格员张三");
        let a = w
            .attachments
            .upload(&mine, who, AttachmentParent::Visit(w.visit), upload(false))
            .await
            .unwrap();
        assert_eq!(a.parent, AttachmentParent::Visit(w.visit), "{}", t.name);
        assert_eq!(a.area_path, w.home, "{}", t.name);
        assert_eq!(
            (a.content_type.as_str(), a.width, a.height),
            ("image/jpeg", 64, 48)
        );
        assert!(!a.kept_location);
        // Names carry no id and cannot be guessed.
        assert!(!a.stored_name.starts_with(&a.id.to_string()));
        assert_eq!(a.stored_name.len(), 32 + 4, "{}", t.name);

        let (_, bytes) = w
            .attachments
            .read(&mine, a.id, Variant::Original)
            .await
            .unwrap();
        assert!(!contains(&bytes, SECRET), "{}: location served", t.name);
        assert_eq!(a.byte_size, bytes.len() as i64);
        assert_eq!(a.content_hash, blake3::hash(&bytes).to_hex().to_string());
        let (_, thumb) = w
            .attachments
            .read(&mine, a.id, Variant::Thumbnail)
            .await
            .unwrap();
        assert!(thumb.starts_with(&[0xFF, 0xD8]));

        // Out of scope reads exactly like missing.
        for v in [Variant::Original, Variant::Thumbnail] {
            assert!(matches!(
                w.attachments.read(&theirs, a.id, v).await,
                Err(ServiceError::NotFound)
            ));
            assert!(matches!(
                w.attachments.read(&mine, a.id + 1000, v).await,
                Err(ServiceError::NotFound)
            ));
        }
        assert!(matches!(
            w.attachments
                .read(&Scope::nothing(), a.id, Variant::Original)
                .await,
            Err(ServiceError::NotFound)
        ));
    }
}

#[tokio::test]
async fn keeping_the_location_is_the_uploaders_explicit_choice() {
    for t in backends().await {
        let w = world(&t).await;
        let all = Scope::everything();
        let a = w
            .attachments
            .upload(
                &all,
                (None, "张三"),
                AttachmentParent::WorkOrder(w.order),
                upload(true),
            )
            .await
            .unwrap();
        assert!(a.kept_location, "{}", t.name);
        let (_, bytes) = w
            .attachments
            .read(&all, a.id, Variant::Original)
            .await
            .unwrap();
        assert_eq!(bytes, photo_with_location(), "{}", t.name);
    }
}

#[tokio::test]
async fn orders_and_their_timeline_entries_list_their_photos() {
    for t in backends().await {
        let w = world(&t).await;
        let all = Scope::everything();
        let who = (None, "张三");
        let on_order = w
            .attachments
            .upload(
                &all,
                who,
                AttachmentParent::WorkOrder(w.order),
                upload(false),
            )
            .await
            .unwrap();
        let on_event = w
            .attachments
            .upload(
                &all,
                who,
                AttachmentParent::WorkOrderEvent(w.event),
                upload(false),
            )
            .await
            .unwrap();
        let parents = [
            AttachmentParent::WorkOrder(w.order),
            AttachmentParent::WorkOrderEvent(w.event),
        ];
        let ids: Vec<i64> = t
            .store
            .attachments_of(&all, &parents)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, vec![on_order.id, on_event.id], "{}", t.name);
        let theirs = Scope::of([w.other.clone()]);
        assert!(
            t.store
                .attachments_of(&theirs, &parents)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn refusals_leave_neither_rows_nor_files() {
    for t in backends().await {
        let w = world(&t).await;
        let mine = Scope::of([w.home.clone()]);
        let theirs = Scope::of([w.other.clone()]);
        let who = (None, "张三");
        let bad = |bytes: Vec<u8>, declared: &str| Upload {
            bytes,
            declared_type: Some(declared.into()),
            keep_location: false,
        };
        let cases = [
            (
                bad(b"GIF89a\x01\0\x01\0\0\0".to_vec(), "image/gif"),
                "attachment.unsupported_type",
            ),
            (
                bad(photo_with_location(), "image/png"),
                "attachment.type_mismatch",
            ),
            (
                bad(photo_with_location()[..100].to_vec(), "image/jpeg"),
                "attachment.corrupt",
            ),
            (bad(Vec::new(), "image/jpeg"), "attachment.empty"),
        ];
        for (u, code) in cases {
            match w
                .attachments
                .upload(&mine, who, AttachmentParent::Visit(w.visit), u)
                .await
            {
                Err(ServiceError::Invalid(e)) => {
                    assert_eq!(
                        (e[0].field.as_str(), e[0].code.as_str()),
                        ("file", code),
                        "{}",
                        t.name
                    )
                }
                other => panic!("{}: {code}: {other:?}", t.name),
            }
        }
        // A parent out of scope, or missing: NotFound, and nothing written.
        for parent in [
            AttachmentParent::Visit(w.visit),
            AttachmentParent::WorkOrder(w.order + 99),
        ] {
            assert!(matches!(
                w.attachments
                    .upload(&theirs, who, parent, upload(false))
                    .await,
                Err(ServiceError::NotFound)
            ));
        }
        assert!(
            files_in(&w.dir).is_empty(),
            "{}: {:?}",
            t.name,
            files_in(&w.dir)
        );
        let rows = t
            .store
            .attachments_of(&Scope::everything(), &[AttachmentParent::Visit(w.visit)])
            .await
            .unwrap();
        assert!(rows.is_empty(), "{}", t.name);
    }
}

#[tokio::test]
async fn a_failed_insert_removes_the_files_it_wrote() {
    for t in backends().await {
        let w = world(&t).await;
        let all = Scope::everything();
        // Prepared against a parent that then turns out not to exist: the row cannot be
        // written, and the files written for it are removed again.
        let photo = w.attachments.prepare(upload(false)).await.unwrap();
        let r = w
            .attachments
            .attach(
                &all,
                (None, "张三"),
                AttachmentParent::WorkOrderEvent(w.event + 99),
                photo,
            )
            .await;
        assert!(matches!(r, Err(ServiceError::NotFound)), "{}", t.name);
        assert!(
            files_in(&w.dir).is_empty(),
            "{}: {:?}",
            t.name,
            files_in(&w.dir)
        );
    }
}
