//! Loads the synthetic demo city (crate `wangge-demo`) into a store through the bulk path: the
//! same sealing and search keys as single-row writes, in large transactions.

use std::collections::HashMap;

use wangge_demo::{Demo, DemoConfig, GridBatch};
use wangge_domain::{AreaPath, PlaceKind, Scope, standard_address};
use wangge_store::areas::NewArea;
use wangge_store::bulk::{
    BulkBatch, BulkHousehold, BulkMember, BulkPerson, BulkPlace, BulkTagAssignment, MaxIds,
    PreparedBatch,
};
use wangge_store::{Store, StoreError};

use crate::{Result, ServiceError};

/// Persons per bulk transaction: large enough to amortize commits, small enough to bound memory.
const BATCH_PERSONS: usize = 50_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct DemoProgress {
    pub grids_done: usize,
    pub grids_total: usize,
    pub persons: u64,
    pub households: u64,
}

struct AreaInfo {
    id: i64,
    path: AreaPath,
    /// City … community names, for standard addresses.
    names: Vec<String>,
}

/// Builds the demo city into an empty store.
pub async fn load_demo(
    store: &Store,
    cfg: DemoConfig,
    mut progress: impl FnMut(DemoProgress),
) -> Result<DemoProgress> {
    if store.max_ids().await?.person > 0 || !store.root_paths().await?.is_empty() {
        return Err(ServiceError::conflict(
            "demo.store_not_empty",
            "存储中已有数据；演示城市只能建在空的存储中",
            "The store already holds data; the demo city is built only into an empty store",
        ));
    }
    let mut demo = Demo::new(cfg);
    let scope = Scope::everything();
    let rows: Vec<(NewArea, Option<wangge_domain::AreaCode>)> = demo
        .areas()
        .iter()
        .map(|a| {
            let boundary = a.polygon.as_ref().map(|ring| {
                let coords: Vec<[f64; 2]> = ring.iter().map(|(lon, lat)| [*lon, *lat]).collect();
                serde_json::json!({"type": "Polygon", "coordinates": [coords]}).to_string()
            });
            (
                NewArea {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    level: a.level,
                    parent_id: None,
                    boundary,
                },
                a.parent_code.clone(),
            )
        })
        .collect();
    store.create_area_tree(&scope, &rows).await?;
    let mut areas: HashMap<String, AreaInfo> = HashMap::new();
    for a in demo.areas() {
        let stored = store.area_by_code(&scope, &a.code).await?;
        let mut names = match &a.parent_code {
            Some(pc) => areas
                .get(pc.as_str())
                .map(|p| p.names.clone())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        if a.level != wangge_domain::AreaLevel::Grid {
            names.push(a.name.clone());
        }
        areas.insert(
            a.code.as_str().to_owned(),
            AreaInfo {
                id: stored.id,
                path: stored.path,
                names,
            },
        );
    }
    let tags: HashMap<String, i64> = store
        .tags(&scope)
        .await?
        .into_iter()
        .map(|t| (t.code.as_str().to_owned(), t.id))
        .collect();
    let base = store.max_ids().await?;
    let grids_total = demo.grid_count();
    // Generating and sealing run on a thread of their own while the previous batch is written.
    let (sender, mut batches) =
        tokio::sync::mpsc::channel::<Result<(PreparedBatch, DemoProgress)>>(2);
    let preparer = store.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let mut p = DemoProgress {
            grids_total,
            ..DemoProgress::default()
        };
        let mut batch = BulkBatch::default();
        while let Some(grid) = demo.next_grid() {
            p.persons += grid.persons.len() as u64;
            p.households += grid.households.len() as u64;
            p.grids_done += 1;
            if let Err(e) = append(&mut batch, grid, &areas, &tags, base) {
                let _ = sender.blocking_send(Err(e));
                return;
            }
            let last = p.grids_done == grids_total;
            if batch.persons.len() >= BATCH_PERSONS || last {
                let ready = preparer.prepare_bulk(std::mem::take(&mut batch));
                if sender.blocking_send(Ok((ready, p))).is_err() {
                    return;
                }
            }
        }
    });
    let mut done = DemoProgress {
        grids_total,
        ..DemoProgress::default()
    };
    while let Some(next) = batches.recv().await {
        let (ready, p) = next?;
        store.load_prepared(ready).await?;
        done = p;
        progress(p);
    }
    producer
        .await
        .map_err(|e| ServiceError::Store(StoreError::Backend(format!("demo generator: {e}"))))?;
    store.finish_bulk_load().await?;
    Ok(done)
}

fn key(base: i64, k: u64) -> i64 {
    base + k as i64
}

fn append(
    batch: &mut BulkBatch,
    grid: GridBatch,
    areas: &HashMap<String, AreaInfo>,
    tags: &HashMap<String, i64>,
    base: MaxIds,
) -> Result<()> {
    let area = areas.get(grid.grid_code.as_str()).ok_or_else(|| {
        ServiceError::Store(StoreError::Decode("demo grid without an area".into()))
    })?;
    let names: Vec<&str> = area.names.iter().map(String::as_str).collect();
    let mut labels: HashMap<u64, (PlaceKind, String, Option<u64>)> = HashMap::new();
    for pl in grid.places {
        labels.insert(pl.key, (pl.kind, pl.label.clone(), pl.parent));
        let chain = place_chain(&labels, pl.key);
        let find = |k: PlaceKind| {
            chain
                .iter()
                .find(|(ck, _)| *ck == k)
                .map(|(_, l)| l.as_str())
        };
        let address = standard_address(
            &names,
            find(PlaceKind::Compound).unwrap_or(""),
            find(PlaceKind::Building),
            find(PlaceKind::Unit),
            find(PlaceKind::Dwelling),
        );
        batch.places.push(BulkPlace {
            id: key(base.place, pl.key),
            kind: pl.kind,
            parent_id: pl.parent.map(|k| key(base.place, k)),
            area_id: area.id,
            area_path: area.path.clone(),
            label: pl.label,
            floor: pl.floor.map(i64::from),
            address,
        });
    }
    for h in grid.households {
        batch.households.push(BulkHousehold {
            id: key(base.household, h.key),
            dwelling_id: Some(key(base.place, h.dwelling)),
            area_id: area.id,
            area_path: area.path.clone(),
            started_on: grid
                .members
                .iter()
                .filter(|m| m.household == h.key)
                .map(|m| m.since)
                .min()
                .unwrap_or(time::Date::MIN),
        });
    }
    let membership: HashMap<u64, (u64, wangge_domain::ResidenceType)> = grid
        .members
        .iter()
        .map(|m| (m.person, (m.household, m.residence)))
        .collect();
    for person in grid.persons {
        let current = membership.get(&person.key);
        batch.persons.push(BulkPerson {
            id: key(base.person, person.key),
            sex: person.id_number.sex(),
            birth_date: Some(person.id_number.birth_date()),
            name: person.name,
            id_number: Some(person.id_number),
            phone: person.phone,
            residence_type: current.map(|c| c.1),
            household_id: current.map(|c| key(base.household, c.0)),
            area_id: area.id,
            area_path: area.path.clone(),
        });
    }
    for m in grid.members {
        batch.members.push(BulkMember {
            household_id: key(base.household, m.household),
            person_id: key(base.person, m.person),
            relation: m.relation,
            residence_type: m.residence,
            started_on: m.since,
            area_path: area.path.clone(),
        });
    }
    for t in grid.tags {
        let tag_id = *tags.get(t.tag_code).ok_or_else(|| {
            ServiceError::Store(StoreError::Decode(format!(
                "unknown demo tag {}",
                t.tag_code
            )))
        })?;
        batch.tags.push(BulkTagAssignment {
            tag_id,
            person_id: t.person.map(|k| key(base.person, k)),
            household_id: t.household.map(|k| key(base.household, k)),
            area_path: area.path.clone(),
            started_on: t.since,
        });
    }
    Ok(())
}

/// Labels from this place up to its compound.
fn place_chain(
    labels: &HashMap<u64, (PlaceKind, String, Option<u64>)>,
    start: u64,
) -> Vec<(PlaceKind, String)> {
    let mut out = Vec::new();
    let mut at = Some(start);
    while let Some(k) = at {
        match labels.get(&k) {
            Some((kind, label, parent)) => {
                out.push((*kind, label.clone()));
                at = *parent;
            }
            None => break,
        }
    }
    out
}

/// A demo account: the user name, its role, and the generated password (shown once).
pub struct DemoUser {
    pub username: String,
    pub role: wangge_domain::Role,
    pub area: String,
    pub password: String,
}

fn demo_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let tail: String = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    // A fixed prefix guarantees the policy's character classes.
    format!("Wg-7{tail}")
}

/// Creates one account per everyday role on the demo city, each with a fresh random password.
pub async fn create_demo_users(store: &Store) -> Result<Vec<DemoUser>> {
    use wangge_domain::{AreaLevel, NewPassword, Role, Username};
    let identity = crate::identity::Identity::new(store.clone());
    let scope = Scope::everything();
    let first = |level: AreaLevel| {
        let store = store.clone();
        let scope = scope.clone();
        async move {
            let filter = wangge_store::areas::AreaFilter {
                level: Some(level),
                ..Default::default()
            };
            let page = wangge_store::page::PageRequest::default();
            store
                .areas(&scope, &filter, &page)
                .await?
                .items
                .into_iter()
                .next()
                .map(|a| a.code.as_str().to_owned())
                .ok_or(ServiceError::NotFound)
        }
    };
    let city = first(AreaLevel::City).await?;
    let district = first(AreaLevel::District).await?;
    let community = first(AreaLevel::Community).await?;
    let grid = first(AreaLevel::Grid).await?;
    let plan = [
        ("demo-admin", "演示管理员", Role::Admin, city.clone()),
        ("demo-grid", "演示网格员", Role::GridWorker, grid),
        (
            "demo-community",
            "演示社区工作人员",
            Role::CommunityStaff,
            community,
        ),
        (
            "demo-district",
            "演示区级管理人员",
            Role::DistrictManager,
            district,
        ),
        (
            "demo-security",
            "演示安全管理员",
            Role::SecurityOfficer,
            city.clone(),
        ),
        ("demo-auditor", "演示审计员", Role::Auditor, city),
    ];
    let mut out = Vec::new();
    for (name, display, role, area) in plan {
        let password = demo_password();
        let parsed = NewPassword::parse(&password)
            .map_err(|e| ServiceError::invalid(crate::FieldError::from_domain("password", &e)))?;
        let username = Username::parse(name)
            .map_err(|e| ServiceError::invalid(crate::FieldError::from_domain("username", &e)))?;
        identity
            .create_user(
                "demo",
                &username,
                display,
                role,
                std::slice::from_ref(&area),
                &parsed,
            )
            .await?;
        out.push(DemoUser {
            username: name.to_owned(),
            role,
            area,
            password,
        });
    }
    Ok(out)
}
