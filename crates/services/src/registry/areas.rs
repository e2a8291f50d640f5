use wangge_domain::{AreaCode, AreaLevel, Scope};
use wangge_store::StoreError;
use wangge_store::areas::{Area, AreaPatch, NewArea};

use super::Registry;
use super::boundary::{check_inside, parse_polygon, stored_polygon};
use crate::error::reference;
use crate::{FieldError, Result, ServiceError};

#[derive(Debug, Clone)]
pub struct CreateArea {
    pub code: AreaCode,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<i64>,
    pub boundary: Option<serde_json::Value>,
}

pub(crate) fn check_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid(FieldError::required(field)));
    }
    if name.chars().count() > 100 {
        return Err(ServiceError::invalid(FieldError::new(
            field,
            "name.too_long",
            "名称不能超过 100 个字",
            "Name must be at most 100 characters",
        )));
    }
    Ok(name.to_owned())
}

/// The rules that tie an area to its parent: level one step down, code extending the parent's,
/// boundary inside the parent's.
pub fn check_area_against_parent(
    new: &CreateArea,
    parent: Option<&Area>,
) -> Result<(), FieldError> {
    if new.code.implied_level() != Some(new.level) {
        return Err(FieldError::new(
            "code",
            "area_code.level_mismatch",
            format!("代码位数与层级“{}”不符", new.level.name_zh()),
            format!("Code length does not fit the level {}", new.level.name_en()),
        ));
    }
    match parent {
        None if new.level != AreaLevel::City => Err(FieldError::new(
            "parent_id",
            "area.parent_required",
            "除市级外，区域必须有上级区域",
            "Every area below a city needs a parent",
        )),
        None => Ok(()),
        Some(parent) => {
            if parent.level.child() != Some(new.level) {
                return Err(FieldError::new(
                    "level",
                    "area.level_mismatch",
                    format!(
                        "“{}”的下级应为{}",
                        parent.name,
                        parent.level.child().map_or("（无）", |l| l.name_zh())
                    ),
                    format!(
                        "An area under a {} must be a {}",
                        parent.level.name_en(),
                        parent.level.child().map_or("(none)", |l| l.name_en())
                    ),
                ));
            }
            if !new.code.is_valid_child_of(&parent.code, parent.level) {
                return Err(FieldError::new(
                    "code",
                    "area_code.parent_mismatch",
                    format!("代码必须以上级代码 {} 开头", parent.code),
                    format!("Code must extend the parent's code {}", parent.code),
                ));
            }
            Ok(())
        }
    }
}

impl Registry {
    pub async fn create_area(&self, scope: &Scope, cmd: CreateArea) -> Result<Area> {
        let name = check_name("name", &cmd.name)?;
        let parent = match cmd.parent_id {
            Some(id) => Some(reference(
                "parent_id",
                self.store.area_for_write(scope, id).await,
            )?),
            None => None,
        };
        check_area_against_parent(&cmd, parent.as_ref()).map_err(ServiceError::invalid)?;
        let boundary = match &cmd.boundary {
            Some(json) => {
                let poly = parse_polygon("boundary", json).map_err(ServiceError::invalid)?;
                if let Some(pp) = parent
                    .as_ref()
                    .and_then(|p| p.boundary.as_deref())
                    .and_then(stored_polygon)
                {
                    check_inside("boundary", &poly, &pp).map_err(ServiceError::invalid)?;
                }
                Some(json.to_string())
            }
            None => None,
        };
        let new = NewArea {
            code: cmd.code,
            name,
            level: cmd.level,
            parent_id: cmd.parent_id,
            boundary,
        };
        match self.store.create_area(scope, &new).await {
            Err(StoreError::Conflict(_)) => Err(ServiceError::conflict(
                "area.duplicate_code",
                "该区划代码已存在",
                "An area with this code already exists",
            )),
            Err(StoreError::NotFound) if cmd.parent_id.is_none() => {
                Err(ServiceError::invalid(FieldError::new(
                    "parent_id",
                    "area.root_not_allowed",
                    "您无权创建顶级区域",
                    "You may not create a top-level area",
                )))
            }
            other => reference("parent_id", other),
        }
    }

    pub async fn update_area(
        &self,
        scope: &Scope,
        id: i64,
        name: Option<String>,
        boundary: Option<Option<serde_json::Value>>,
    ) -> Result<Area> {
        let area = self.store.area_for_write(scope, id).await?;
        let name = name.map(|n| check_name("name", &n)).transpose()?;
        let boundary = match boundary {
            Some(Some(json)) => {
                let poly = parse_polygon("boundary", &json).map_err(ServiceError::invalid)?;
                if let Some(parent_id) = area.parent_id {
                    let parent = self.store.area(scope, parent_id).await?;
                    if let Some(pp) = parent.boundary.as_deref().and_then(stored_polygon) {
                        check_inside("boundary", &poly, &pp).map_err(ServiceError::invalid)?;
                    }
                }
                Some(Some(json.to_string()))
            }
            Some(None) => Some(None),
            None => None,
        };
        Ok(self
            .store
            .update_area(scope, id, &AreaPatch { name, boundary })
            .await?)
    }
}
