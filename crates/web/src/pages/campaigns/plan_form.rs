//! The plan form as typed: its fields, checked into a `PlanCampaign` with every problem kept,
//! and the service's field names mapped back to the inputs (form-builder rows are compacted, so
//! an error on the service's second field belongs to whichever row held it).

use time::Date;
use time::macros::format_description;
use wangge_domain::campaign::RuleDraft;
use wangge_domain::campaign::form::{FieldDraft, FieldKind, MAX_FIELDS};
use wangge_domain::{AreaCode, CampaignKind, ResidenceType, TagCode};
use wangge_services::campaigns::PlanCampaign;
use wangge_services::{FieldError, ServiceError};
use wangge_store::campaigns::Campaign;

use crate::pages::FormErrors;

/// One row of the form builder as typed.
#[derive(Debug, Clone, Default)]
pub struct FieldRow {
    pub label: String,
    pub kind: String,
    pub options: String,
    pub required: bool,
}

/// The plan form as typed (every value kept for a redisplay).
#[derive(Debug, Clone, Default)]
pub struct PlanForm {
    pub name: String,
    pub kind: String,
    pub purpose: String,
    pub area: String,
    pub starts_on: String,
    pub ends_on: String,
    pub tags: Vec<String>,
    pub age_min: String,
    pub age_max: String,
    pub residence: Vec<String>,
    pub places: Vec<String>,
    pub rows: Vec<FieldRow>,
    pub desk: String,
}

pub fn ymd(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

impl PlanForm {
    pub fn from_pairs(pairs: &[(String, String)]) -> PlanForm {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let all = |k: &str| {
            pairs
                .iter()
                .filter(|(n, v)| n == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
                .collect::<Vec<_>>()
        };
        let rows = (0..MAX_FIELDS)
            .map(|i| FieldRow {
                label: one(&format!("f{i}_label")),
                kind: one(&format!("f{i}_kind")),
                options: one(&format!("f{i}_options")),
                required: !one(&format!("f{i}_required")).is_empty(),
            })
            .collect();
        PlanForm {
            name: one("name"),
            kind: one("kind"),
            purpose: one("purpose"),
            area: one("area").trim().to_owned(),
            starts_on: one("starts_on"),
            ends_on: one("ends_on"),
            tags: all("tags"),
            age_min: one("age_min"),
            age_max: one("age_max"),
            residence: all("residence"),
            places: all("places"),
            rows,
            desk: one("desk"),
        }
    }

    pub fn from_campaign(c: &Campaign, area_code: &str) -> PlanForm {
        let rule = &c.rule;
        PlanForm {
            name: c.name.clone(),
            kind: c.kind.as_str().to_owned(),
            purpose: c.purpose.clone().unwrap_or_default(),
            area: area_code.to_owned(),
            starts_on: ymd(c.starts_on),
            ends_on: ymd(c.ends_on),
            tags: rule.tags().iter().map(|t| t.as_str().to_owned()).collect(),
            age_min: rule.age_min().map(|a| a.to_string()).unwrap_or_default(),
            age_max: rule.age_max().map(|a| a.to_string()).unwrap_or_default(),
            residence: rule
                .residence()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            places: rule.places().iter().map(i64::to_string).collect(),
            rows: c
                .form
                .fields()
                .iter()
                .map(|f| FieldRow {
                    label: f.label.clone(),
                    kind: f.kind.as_str().to_owned(),
                    options: match &f.kind {
                        FieldKind::Choice(o) => o.join(", "),
                        _ => String::new(),
                    },
                    required: f.required,
                })
                .collect(),
            desk: c.desk_user_id.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    pub fn has_tag(&self, code: &str) -> bool {
        self.tags.iter().any(|t| t == code)
    }

    pub fn has_residence(&self, code: &str) -> bool {
        self.residence.iter().any(|t| t == code)
    }

    pub fn has_place(&self, id: &i64) -> bool {
        self.places.iter().any(|p| p.trim() == id.to_string())
    }

    pub fn is_used(r: &FieldRow) -> bool {
        !r.label.trim().is_empty() || !r.options.trim().is_empty()
    }
}

fn date(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let v = v.trim();
    if v.is_empty() {
        errors.push(FieldError::required(field));
        return None;
    }
    Date::parse(v, format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            errors.push(FieldError::new(
                field,
                "date.invalid",
                "日期无效，应为 YYYY-MM-DD",
                "Not a valid date (YYYY-MM-DD)",
            ));
        })
        .ok()
}

fn age(v: &str, errors: &mut Vec<FieldError>) -> Option<u16> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    v.parse()
        .map_err(|_| {
            errors.push(FieldError::new(
                "rule.age_min",
                "rule.age_range",
                "年龄应为 0–150 的整数",
                "Ages are whole numbers from 0 to 150",
            ));
        })
        .ok()
}

/// The options of a choice field: separated by commas (either width), 、 or semicolons.
fn options(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；'])
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect()
}

/// The plan the form describes, or every problem found in it (fields as the service names
/// them), and the row of each form field given to the service.
pub fn plan_of(f: &PlanForm) -> (Result<PlanCampaign, ServiceError>, Vec<usize>) {
    let mut errors = Vec::new();
    let kind = CampaignKind::parse(&f.kind)
        .map_err(|e| errors.push(FieldError::from_domain("kind", &e)))
        .ok();
    let area = AreaCode::parse(&f.area)
        .map_err(|_| errors.push(FieldError::required("area")))
        .ok();
    let starts_on = date("starts_on", &f.starts_on, &mut errors);
    let ends_on = date("ends_on", &f.ends_on, &mut errors);
    let mut tags = Vec::new();
    for (i, t) in f.tags.iter().enumerate() {
        match TagCode::parse(t) {
            Ok(t) => tags.push(t),
            Err(_) => errors.push(FieldError::unknown_reference(&format!("rule.tags[{i}]"))),
        }
    }
    let age_min = age(&f.age_min, &mut errors);
    let age_max = age(&f.age_max, &mut errors);
    let mut residence = Vec::new();
    for r in &f.residence {
        match ResidenceType::parse(r) {
            Ok(r) => residence.push(r),
            Err(e) => errors.push(FieldError::from_domain("rule.residence", &e)),
        }
    }
    let mut places = Vec::new();
    for (i, p) in f.places.iter().enumerate() {
        match p.trim().parse() {
            Ok(p) => places.push(p),
            Err(_) => errors.push(FieldError::unknown_reference(&format!("rule.places[{i}]"))),
        }
    }
    let mut drafts = Vec::new();
    let mut rows = Vec::new();
    for (i, r) in f
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| PlanForm::is_used(r))
    {
        rows.push(i);
        drafts.push(FieldDraft {
            key: None,
            label: r.label.clone(),
            kind: if r.kind.trim().is_empty() {
                "text".to_owned()
            } else {
                r.kind.clone()
            },
            options: options(&r.options),
            required: r.required,
        });
    }
    let desk_user_id = match f.desk.trim() {
        "" => None,
        d => match d.parse() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::unknown_reference("desk_user_id"));
                None
            }
        },
    };
    let plan = match (kind, area, starts_on, ends_on) {
        (Some(kind), Some(area), Some(starts_on), Some(ends_on)) if errors.is_empty() => {
            Ok(PlanCampaign {
                name: f.name.clone(),
                kind,
                purpose: Some(f.purpose.clone()),
                area,
                starts_on,
                ends_on,
                rule: RuleDraft {
                    areas: Vec::new(),
                    tags,
                    age_min,
                    age_max,
                    residence,
                    places,
                    include_households: Vec::new(),
                    exclude_households: Vec::new(),
                },
                form: drafts,
                desk_user_id,
            })
        }
        _ => Err(ServiceError::Invalid(errors)),
    };
    (plan, rows)
}

/// The form's field names for the service's: errors go beside the inputs they are about, and
/// anything else on top.
pub fn place_errors(mut e: FormErrors, rows: &[usize]) -> FormErrors {
    let mut placed: Vec<(String, String)> = Vec::new();
    let mut general: Vec<String> = Vec::new();
    for (field, message) in std::mem::take(&mut e.fields) {
        let key = match field.as_str() {
            "name" | "purpose" | "starts_on" | "ends_on" | "kind" | "area" => Some(field.clone()),
            "desk_user_id" => Some("desk".to_owned()),
            "form" => Some("rows".to_owned()),
            f if f.starts_with("rule.tags") => Some("tags".to_owned()),
            f if f.starts_with("rule.places") => Some("places".to_owned()),
            f if f.starts_with("rule.age") => Some("age".to_owned()),
            f if f.starts_with("rule.residence") => Some("residence".to_owned()),
            f if f.starts_with("rule.areas") => Some("area".to_owned()),
            f if f.starts_with("form[") => f[5..]
                .split(']')
                .next()
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| rows.get(i))
                .map(|row| format!("row{row}")),
            _ => None,
        };
        match key {
            Some(k) => match placed.iter_mut().find(|(f, _)| *f == k) {
                Some(p) => {
                    p.1.push('；');
                    p.1.push_str(&message);
                }
                None => placed.push((k, message)),
            },
            None => general.push(message),
        }
    }
    e.fields = placed;
    if !general.is_empty() {
        let head = e.general.take().unwrap_or_default();
        e.general = Some(
            std::iter::once(head)
                .chain(general)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_becomes_a_plan_with_its_rows_compacted() {
        let f = PlanForm::from_pairs(&pairs(&[
            ("name", "送书上门"),
            ("kind", "delivery"),
            ("area", "140109001001"),
            ("starts_on", "2026-11-20"),
            ("ends_on", "2026-11-30"),
            ("tags", "elderly_party_member"),
            ("places", "12"),
            ("age_min", "70"),
            ("f0_label", "健康状况"),
            ("f0_kind", "text"),
            ("f0_required", "on"),
            ("f2_label", "居住情况"),
            ("f2_kind", "choice"),
            ("f2_options", "独居，与家人同住、其他"),
        ]));
        let (plan, rows) = plan_of(&f);
        let plan = plan.unwrap();
        assert_eq!(rows, [0, 2]);
        assert_eq!(plan.form.len(), 2);
        assert!(plan.form[0].required);
        assert_eq!(plan.form[1].options, ["独居", "与家人同住", "其他"]);
        assert_eq!(plan.rule.places, [12]);
        assert_eq!(plan.rule.age_min, Some(70));
        assert_eq!(plan.kind, CampaignKind::Delivery);

        // A service error on the second field given lands on the third row typed.
        let e = FormErrors {
            fields: vec![
                ("form[1].options".into(), "选项不足".into()),
                ("rule.tags[0]".into(), "未知标签".into()),
                ("mystery".into(), "别处的问题".into()),
            ],
            general: Some("请修改".into()),
        };
        let e = place_errors(e, &rows);
        assert_eq!(e.get("row2"), Some("选项不足"));
        assert_eq!(e.get("tags"), Some("未知标签"));
        assert!(e.general.unwrap().contains("别处的问题"));
    }

    #[test]
    fn bad_dates_and_ages_are_field_errors() {
        let f = PlanForm::from_pairs(&pairs(&[
            ("kind", "sweep"),
            ("area", "140109001001"),
            ("starts_on", "2026-13-01"),
            ("age_min", "seventy"),
        ]));
        let Err(ServiceError::Invalid(list)) = plan_of(&f).0 else {
            panic!("expected field errors")
        };
        let fields: Vec<&str> = list.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["starts_on", "ends_on", "rule.age_min"]);
    }
}
