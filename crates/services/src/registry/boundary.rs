//! Area boundaries: GeoJSON Polygon geometries in WGS-84, checked for closed rings and sane
//! coordinates, and for lying inside the parent's boundary.

use geo::{Contains, Polygon};
use geojson::{Geometry, GeometryValue};

use crate::FieldError;

fn bad(field: &str, zh: &str, en: &str) -> FieldError {
    FieldError::new(field, "boundary.invalid", zh, en)
}

/// Parses a GeoJSON Polygon geometry (as JSON) into a polygon.
pub fn parse_polygon(field: &str, json: &serde_json::Value) -> Result<Polygon<f64>, FieldError> {
    let geometry: Geometry = serde_json::from_value(json.clone()).map_err(|_| {
        bad(
            field,
            "边界不是有效的 GeoJSON 几何对象",
            "Boundary is not a GeoJSON geometry",
        )
    })?;
    let rings = match geometry.value {
        GeometryValue::Polygon { coordinates } => coordinates,
        _ => {
            return Err(bad(
                field,
                "边界必须是 Polygon（多边形）",
                "Boundary must be a Polygon",
            ));
        }
    };
    if rings.is_empty() {
        return Err(bad(field, "多边形没有外环", "Polygon has no outer ring"));
    }
    for ring in &rings {
        if ring.len() < 4 {
            return Err(bad(
                field,
                "多边形的环至少需要 4 个点",
                "A ring needs at least 4 positions",
            ));
        }
        if ring.first() != ring.last() {
            return Err(bad(
                field,
                "多边形的环未闭合（首尾坐标必须相同）",
                "Ring is not closed (first and last positions must be equal)",
            ));
        }
        for pos in ring {
            if pos.len() < 2 {
                return Err(bad(
                    field,
                    "坐标缺少经度或纬度",
                    "A position lacks longitude or latitude",
                ));
            }
            let (lon, lat) = (pos[0], pos[1]);
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(bad(
                    field,
                    "坐标超出 WGS-84 经纬度范围",
                    "Coordinates outside the WGS-84 range",
                ));
            }
        }
    }
    Polygon::<f64>::try_from(GeometryValue::Polygon { coordinates: rings })
        .map_err(|_| bad(field, "多边形无法解析", "Polygon could not be read"))
}

/// The child boundary must lie inside the parent's (shared edges allowed).
pub fn check_inside(
    field: &str,
    child: &Polygon<f64>,
    parent: &Polygon<f64>,
) -> Result<(), FieldError> {
    if parent.contains(child) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "boundary.outside_parent",
            "边界超出了上级区域的边界",
            "Boundary extends outside the parent area's boundary",
        ))
    }
}

/// A stored boundary (GeoJSON text) back into a polygon.
pub fn stored_polygon(text: &str) -> Option<Polygon<f64>> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    parse_polygon("boundary", &json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square(x0: f64, y0: f64, d: f64) -> serde_json::Value {
        json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]})
    }

    #[test]
    fn accepts_closed_rings_and_checks_containment() {
        let outer = parse_polygon("b", &square(112.0, 37.0, 1.0)).unwrap();
        let inner = parse_polygon("b", &square(112.0, 37.0, 0.5)).unwrap();
        assert!(check_inside("b", &inner, &outer).is_ok());
        let beyond = parse_polygon("b", &square(112.8, 37.0, 0.5)).unwrap();
        assert_eq!(
            check_inside("b", &beyond, &outer).unwrap_err().code,
            "boundary.outside_parent"
        );
    }

    #[test]
    fn rejects_open_rings_points_and_bad_coordinates() {
        let open = json!({"type": "Polygon", "coordinates": [[[112.0, 37.0], [113.0, 37.0], [113.0, 38.0], [112.0, 38.0]]]});
        assert!(parse_polygon("b", &open).is_err());
        assert!(
            parse_polygon("b", &json!({"type": "Point", "coordinates": [112.0, 37.0]})).is_err()
        );
        assert!(parse_polygon("b", &square(200.0, 37.0, 1.0)).is_err());
    }
}
