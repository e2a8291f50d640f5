//! A campaign's doors as a table for Excel: one row per door with its result and the form's
//! answers, one column per form field. Phones are masked unless the caller revealed them.

use std::collections::BTreeMap;

use wangge_domain::Scope;
use wangge_domain::campaign::form::StoredAnswer;

use crate::{Registry, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow(pub Vec<String>);

/// A sheet: its name, column headers and rows, in Chinese (the language of the registers).
#[derive(Debug, Clone)]
pub struct ExportSheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<ExportRow>,
}

impl Registry {
    /// The doors of a campaign the caller sees, in walking order.
    pub async fn campaign_sheet(
        &self,
        scope: &Scope,
        id: i64,
        reveal: bool,
    ) -> Result<ExportSheet> {
        let c = self.store.campaign(scope, id).await?;
        let items = self.store.campaign_export(scope, id, reveal).await?;
        let mut headers: Vec<String> = [
            "序号",
            "网格",
            "地址",
            "姓名",
            "联系电话",
            "状态",
            "方式",
            "时段",
            "负责人",
            "登记次数",
            "最后登记时间",
            "备注",
        ]
        .map(str::to_owned)
        .to_vec();
        headers.extend(c.form.fields().iter().map(|f| f.label.clone()));
        let beijing = time::UtcOffset::from_hms(8, 0, 0).expect("valid offset");
        let rows = items
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let it = e.item;
                let slot = it.slot.as_ref().map_or_else(String::new, |s| {
                    format!(
                        "{} 至 {}{}",
                        s.starts_on(),
                        s.ends_on(),
                        s.note().map(|n| format!("（{n}）")).unwrap_or_default()
                    )
                });
                let last = it.last_attempt_at.map_or_else(String::new, |t| {
                    let t = t.to_offset(beijing);
                    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
                });
                let stored: BTreeMap<String, StoredAnswer> = it
                    .answers
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or_default();
                let answers = c.form.display(&stored, true);
                let mut row = vec![
                    (i + 1).to_string(),
                    e.grid_name,
                    it.address,
                    it.person_name.unwrap_or_default(),
                    e.phone.unwrap_or_default(),
                    it.status.name_zh().to_owned(),
                    it.mode.name_zh().to_owned(),
                    slot,
                    it.assignee_name.unwrap_or_default(),
                    it.attempts.to_string(),
                    last,
                    it.note.unwrap_or_default(),
                ];
                row.extend(c.form.fields().iter().map(|f| {
                    answers
                        .iter()
                        .find(|(label, _)| *label == f.label)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                }));
                ExportRow(row)
            })
            .collect();
        Ok(ExportSheet {
            name: c.name,
            headers,
            rows,
        })
    }
}
