//! `wangge import areas FILE.geojson`: a FeatureCollection of area polygons with `code`, `name`,
//! `level` and `parent_code` properties. Everything is checked first (codes, levels, parents in
//! the file or the store, closed rings, each boundary inside its parent's); then all areas are
//! written in one transaction, or none.

use std::collections::HashMap;

use geo::Polygon;
use wangge_domain::{AreaCode, AreaLevel, Scope};
use wangge_store::areas::{Area, NewArea};
use wangge_store::{Store, StoreError};

use crate::registry::CreateArea;
use crate::registry::boundary::{check_inside, parse_polygon, stored_polygon};
use crate::registry::check_area_against_parent;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
}

struct Parsed {
    cmd: CreateArea,
    parent_code: Option<AreaCode>,
    polygon: Option<Polygon<f64>>,
}

fn problem(i: usize, e: FieldError) -> FieldError {
    FieldError {
        field: format!("features[{i}].{}", e.field),
        ..e
    }
}

fn prop<'a>(f: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    f.get("properties")?
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn parse_feature(
    i: usize,
    f: &serde_json::Value,
    problems: &mut Vec<FieldError>,
) -> Option<Parsed> {
    let before = problems.len();
    let code = match prop(f, "code").map(AreaCode::parse) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            problems.push(problem(i, FieldError::from_domain("code", &e)));
            None
        }
        None => {
            problems.push(problem(i, FieldError::required("code")));
            None
        }
    };
    let level = match prop(f, "level").map(AreaLevel::parse) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            problems.push(problem(i, FieldError::from_domain("level", &e)));
            None
        }
        None => {
            problems.push(problem(i, FieldError::required("level")));
            None
        }
    };
    let name = prop(f, "name").map(str::to_owned);
    if name.is_none() {
        problems.push(problem(i, FieldError::required("name")));
    }
    let parent_code = match prop(f, "parent_code").map(AreaCode::parse) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            problems.push(problem(i, FieldError::from_domain("parent_code", &e)));
            None
        }
        None => None,
    };
    let geometry = f.get("geometry").filter(|g| !g.is_null());
    let polygon = match geometry.map(|g| parse_polygon("geometry", g)) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            problems.push(problem(i, e));
            None
        }
        None => None,
    };
    if problems.len() > before {
        return None;
    }
    Some(Parsed {
        cmd: CreateArea {
            code: code?,
            name: name?,
            level: level?,
            parent_id: None,
            boundary: geometry.cloned(),
        },
        parent_code,
        polygon,
    })
}

/// Checks and imports; on any problem nothing is written and every problem is reported.
pub async fn import_areas(store: &Store, scope: &Scope, geojson: &str) -> Result<ImportReport> {
    let doc: serde_json::Value = serde_json::from_str(geojson).map_err(|e| {
        ServiceError::invalid(FieldError::new(
            "file",
            "geojson.syntax",
            format!(
                "文件不是有效的 JSON：第 {} 行第 {} 列",
                e.line(),
                e.column()
            ),
            format!(
                "File is not valid JSON: line {}, column {}",
                e.line(),
                e.column()
            ),
        ))
    })?;
    let features = match (
        doc.get("type").and_then(|t| t.as_str()),
        doc.get("features"),
    ) {
        (Some("FeatureCollection"), Some(serde_json::Value::Array(fs))) => fs,
        _ => {
            return Err(ServiceError::invalid(FieldError::new(
                "file",
                "geojson.not_feature_collection",
                "文件必须是 GeoJSON FeatureCollection",
                "File must be a GeoJSON FeatureCollection",
            )));
        }
    };
    let mut problems = Vec::new();
    let mut parsed: Vec<(usize, Parsed)> = features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| parse_feature(i, f, &mut problems).map(|p| (i, p)))
        .collect();
    let mut seen = HashMap::new();
    for (i, p) in &parsed {
        if let Some(first) = seen.insert(p.cmd.code.as_str().to_owned(), *i) {
            problems.push(FieldError::new(
                &format!("features[{i}].code"),
                "area.duplicate_code",
                format!("区划代码与第 {first} 个要素重复"),
                format!("Code repeats feature {first}"),
            ));
        }
    }
    // Parents first: the level order is the tree order.
    parsed.sort_by_key(|(i, p)| (p.cmd.level, *i));
    let in_file: HashMap<String, usize> = parsed
        .iter()
        .enumerate()
        .map(|(k, (_, p))| (p.cmd.code.as_str().to_owned(), k))
        .collect();
    for (i, p) in &parsed {
        match store.area_by_code(&Scope::everything(), &p.cmd.code).await {
            Ok(_) => problems.push(FieldError::new(
                &format!("features[{i}].code"),
                "area.duplicate_code",
                "该区划代码已存在",
                "An area with this code already exists",
            )),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let parent: Option<(Area, Option<Polygon<f64>>)> = match &p.parent_code {
            None => None,
            Some(code) => match in_file.get(code.as_str()) {
                Some(&k) => {
                    let pp = &parsed[k].1;
                    Some((pseudo_area(&pp.cmd), pp.polygon.clone()))
                }
                None => match store.area_by_code(scope, code).await {
                    Ok(a) => {
                        let poly = a.boundary.as_deref().and_then(stored_polygon);
                        Some((a, poly))
                    }
                    Err(StoreError::NotFound) => {
                        problems.push(problem(*i, FieldError::unknown_reference("parent_code")));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
            },
        };
        if let Err(e) = check_area_against_parent(&p.cmd, parent.as_ref().map(|(a, _)| a)) {
            problems.push(problem(*i, e));
        }
        if let (Some(child), Some((_, Some(pp)))) = (&p.polygon, &parent)
            && let Err(e) = check_inside("geometry", child, pp)
        {
            problems.push(problem(*i, e));
        }
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.field.cmp(&b.field));
        return Err(ServiceError::Invalid(problems));
    }
    let rows: Vec<(NewArea, Option<AreaCode>)> = parsed
        .into_iter()
        .map(|(_, p)| {
            (
                NewArea {
                    code: p.cmd.code,
                    name: p.cmd.name,
                    level: p.cmd.level,
                    parent_id: None,
                    boundary: p.cmd.boundary.map(|b| b.to_string()),
                },
                p.parent_code,
            )
        })
        .collect();
    let created = store.create_area_tree(scope, &rows).await?.len();
    Ok(ImportReport { created })
}

/// A parent that exists only in the file, shaped like a stored area for the rule checks.
fn pseudo_area(cmd: &CreateArea) -> Area {
    let t = time::OffsetDateTime::UNIX_EPOCH;
    Area {
        id: 0,
        code: cmd.code.clone(),
        name: cmd.name.clone(),
        level: cmd.level,
        parent_id: None,
        path: wangge_domain::AreaPath::root(1),
        boundary: None,
        created_at: t,
        updated_at: t,
    }
}
