use wangge_domain::{AreaLevel, PlaceKind, Scope};
use wangge_store::StoreError;
use wangge_store::places::{NewPlace, Place, PlacePatch};

use super::Registry;
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone)]
pub struct CreatePlace {
    pub kind: PlaceKind,
    pub parent_id: Option<i64>,
    pub area_id: Option<i64>,
    pub label: String,
    pub floor: Option<i64>,
}

fn check_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() {
        return Err(ServiceError::invalid(FieldError::required("label")));
    }
    if label.chars().count() > 50 {
        return Err(ServiceError::invalid(FieldError::new(
            "label",
            "label.too_long",
            "名称或编号不能超过 50 个字",
            "Label must be at most 50 characters",
        )));
    }
    Ok(label.to_owned())
}

/// Dwellings numbered like 601 are on floor 6: what everyone in a Chinese building assumes.
fn implied_floor(kind: PlaceKind, label: &str) -> Option<i64> {
    if kind != PlaceKind::Dwelling || label.len() < 3 || !label.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    label
        .parse::<i64>()
        .ok()
        .map(|n| n / 100)
        .filter(|f| *f > 0)
}

fn duplicate() -> ServiceError {
    ServiceError::conflict(
        "place.duplicate_label",
        "同一上级下已有相同名称或编号的地点",
        "A place with this label already exists under the same parent",
    )
}

impl Registry {
    pub async fn create_place(&self, scope: &Scope, cmd: CreatePlace) -> Result<Place> {
        let label = check_label(&cmd.label)?;
        let parent = match cmd.parent_id {
            Some(id) => Some(reference("parent_id", self.store.place(scope, id).await)?),
            None => None,
        };
        match (cmd.kind.parent_kind(), &parent) {
            (None, Some(_)) => {
                return Err(ServiceError::invalid(FieldError::new(
                    "parent_id",
                    "place.parent_not_allowed",
                    "小区是地点树的顶层，不能有上级地点",
                    "A compound is the top of the place tree and has no parent",
                )));
            }
            (Some(_), None) => {
                return Err(ServiceError::invalid(FieldError::required("parent_id")));
            }
            (Some(want), Some(p)) if p.kind != want => {
                return Err(ServiceError::invalid(FieldError::new(
                    "parent_id",
                    "place.parent_kind",
                    format!("{}的上级必须是{}", cmd.kind.name_zh(), want.name_zh()),
                    format!(
                        "A {}'s parent must be a {}",
                        cmd.kind.name_en(),
                        want.name_en()
                    ),
                )));
            }
            _ => {}
        }
        let area_id = cmd.area_id.or(parent.as_ref().map(|p| p.area_id));
        let Some(area_id) = area_id else {
            return Err(ServiceError::invalid(FieldError::required("area_id")));
        };
        let area = reference("area_id", self.store.area_for_write(scope, area_id).await)?;
        let needs_grid = cmd.kind != PlaceKind::Compound;
        if needs_grid && area.level != AreaLevel::Grid {
            return Err(ServiceError::invalid(FieldError::new(
                "area_id",
                "place.grid_required",
                format!("{}必须属于某个网格", cmd.kind.name_zh()),
                format!("A {} must belong to a grid", cmd.kind.name_en()),
            )));
        }
        if !needs_grid && matches!(area.level, AreaLevel::City | AreaLevel::District) {
            return Err(ServiceError::invalid(FieldError::new(
                "area_id",
                "place.area_level",
                "小区应属于街道、社区或网格",
                "A compound belongs to a subdistrict, community or grid",
            )));
        }
        let floor = cmd.floor.or_else(|| implied_floor(cmd.kind, &label));
        let new = NewPlace {
            kind: cmd.kind,
            parent_id: cmd.parent_id,
            area_id: Some(area_id),
            label,
            floor,
        };
        match self.store.create_place(scope, &new).await {
            Err(StoreError::Conflict(_)) => Err(duplicate()),
            Err(StoreError::Check(_)) => Err(ServiceError::invalid(FieldError::new(
                "area_id",
                "place.outside_parent",
                "地点所在网格不在上级地点的区域内",
                "The place's grid is outside its parent's area",
            ))),
            other => reference("parent_id", other),
        }
    }

    pub async fn update_place(
        &self,
        scope: &Scope,
        id: i64,
        label: Option<String>,
        floor: Option<Option<i64>>,
    ) -> Result<Place> {
        let label = label.map(|l| check_label(&l)).transpose()?;
        match self
            .store
            .update_place(scope, id, &PlacePatch { label, floor })
            .await
        {
            Err(StoreError::Conflict(_)) => Err(duplicate()),
            other => Ok(other?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_follow_dwelling_numbers() {
        assert_eq!(implied_floor(PlaceKind::Dwelling, "601"), Some(6));
        assert_eq!(implied_floor(PlaceKind::Dwelling, "1102"), Some(11));
        assert_eq!(implied_floor(PlaceKind::Dwelling, "A1"), None);
        assert_eq!(implied_floor(PlaceKind::Unit, "201"), None);
    }
}
