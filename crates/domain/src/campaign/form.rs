//! A campaign's form: the few things staff note at each door (W3: health and living conditions,
//! suggestions). Defined per campaign; answers are checked against it, and required fields are
//! required only when the work was done (nobody fills a form at a door that stayed shut).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use super::input::{CampaignInput as I, InputProblem, problem};
use crate::error::Echo;

pub const MAX_FIELDS: usize = 20;
pub const MAX_OPTIONS: usize = 20;
pub const LABEL_MAX: usize = 60;
pub const TEXT_ANSWER_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "options")]
pub enum FieldKind {
    Text,
    Number,
    Choice(Vec<String>),
    YesNo,
    Date,
    /// Photos taken at the door; the answer is how many were attached.
    Photo,
}

impl FieldKind {
    pub const NAMES: [&'static str; 6] = ["text", "number", "choice", "yes_no", "date", "photo"];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Choice(_) => "choice",
            Self::YesNo => "yes_no",
            Self::Date => "date",
            Self::Photo => "photo",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
}

/// A field as typed by staff, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct FieldDraft {
    /// Defaults to `f1`, `f2`, … by position.
    pub key: Option<String>,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
}

/// A checked form: unique keys, labelled fields, choices with options.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CampaignForm(Vec<FormField>);

fn valid_key(k: &str) -> bool {
    (1..=32).contains(&k.len())
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl CampaignForm {
    pub fn fields(&self) -> &[FormField] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has_photo(&self) -> bool {
        self.0.iter().any(|f| f.kind == FieldKind::Photo)
    }

    /// Checks a form definition; every problem is reported with its `form[i].…` field.
    pub fn parse(drafts: Vec<FieldDraft>) -> Result<CampaignForm, Vec<InputProblem>> {
        let mut problems = Vec::new();
        if drafts.len() > MAX_FIELDS {
            problems.push(problem("form", I::TooMany { max: MAX_FIELDS }));
            return Err(problems);
        }
        let mut fields: Vec<FormField> = Vec::new();
        for (i, d) in drafts.into_iter().enumerate() {
            let at = |f: &str| format!("form[{i}].{f}");
            let key = d
                .key
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| format!("f{}", i + 1));
            if !valid_key(&key) {
                problems.push(problem(at("key"), I::FieldKey(Echo::of(&key))));
            } else if fields.iter().any(|f| f.key == key) {
                problems.push(problem(at("key"), I::FieldKeyDuplicate));
            }
            let label = d.label.trim().to_owned();
            if label.is_empty() {
                problems.push(problem(at("label"), I::Required));
            } else if label.chars().count() > LABEL_MAX {
                problems.push(problem(at("label"), I::TextTooLong { max: LABEL_MAX }));
            }
            let kind = match d.kind.trim() {
                "text" => Some(FieldKind::Text),
                "number" => Some(FieldKind::Number),
                "yes_no" => Some(FieldKind::YesNo),
                "date" => Some(FieldKind::Date),
                "photo" => Some(FieldKind::Photo),
                "choice" => {
                    let mut options: Vec<String> = Vec::new();
                    for o in d.options.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
                        if o.chars().count() > LABEL_MAX {
                            problems
                                .push(problem(at("options"), I::TextTooLong { max: LABEL_MAX }));
                        } else if !options.iter().any(|x| x == o) {
                            options.push(o.to_owned());
                        }
                    }
                    if !(2..=MAX_OPTIONS).contains(&options.len()) {
                        problems.push(problem(
                            at("options"),
                            I::ChoiceOptions { max: MAX_OPTIONS },
                        ));
                    }
                    Some(FieldKind::Choice(options))
                }
                other => {
                    problems.push(problem(at("kind"), I::FieldKind(Echo::of(other))));
                    None
                }
            };
            if let Some(kind) = kind {
                fields.push(FormField {
                    key,
                    label,
                    kind,
                    required: d.required,
                });
            }
        }
        if problems.is_empty() {
            Ok(CampaignForm(fields))
        } else {
            Err(problems)
        }
    }

    /// Checks answers typed at a door (`raw`: field key → text, as forms and the API send them)
    /// and the number of photos taken. With `complete`, every required field must be answered.
    pub fn answer(
        &self,
        raw: &BTreeMap<String, String>,
        photos: u32,
        complete: bool,
    ) -> Result<Answers, Vec<InputProblem>> {
        let mut problems = Vec::new();
        for key in raw.keys() {
            if !self.0.iter().any(|f| &f.key == key) {
                problems.push(problem(format!("answers.{key}"), I::FieldUnknown));
            }
        }
        let mut out = BTreeMap::new();
        for f in &self.0 {
            let at = format!("answers.{}", f.key);
            let text = raw.get(&f.key).map(|s| s.trim()).filter(|s| !s.is_empty());
            let parsed = match (&f.kind, text) {
                (FieldKind::Photo, _) => (photos > 0).then_some(Ok(Answer::Photos(photos))),
                (_, None) => None,
                (FieldKind::Text, Some(t)) => Some(if t.chars().count() > TEXT_ANSWER_MAX {
                    Err(I::TextTooLong {
                        max: TEXT_ANSWER_MAX,
                    })
                } else {
                    Ok(Answer::Text(t.to_owned()))
                }),
                (FieldKind::Number, Some(t)) => Some(
                    t.parse::<f64>()
                        .ok()
                        .filter(|n| n.is_finite() && n.abs() < 1e12)
                        .map(Answer::Number)
                        .ok_or_else(|| I::NumberAnswer(Echo::of(t))),
                ),
                (FieldKind::Choice(options), Some(t)) => Some(
                    options
                        .iter()
                        .find(|o| o.as_str() == t)
                        .map(|o| Answer::Choice(o.clone()))
                        .ok_or_else(|| I::ChoiceAnswer(Echo::of(t))),
                ),
                (FieldKind::YesNo, Some(t)) => Some(match t {
                    "yes" | "true" | "是" | "1" => Ok(Answer::YesNo(true)),
                    "no" | "false" | "否" | "0" => Ok(Answer::YesNo(false)),
                    other => Err(I::YesNoAnswer(Echo::of(other))),
                }),
                (FieldKind::Date, Some(t)) => Some(
                    Date::parse(t, format_description!("[year]-[month]-[day]"))
                        .map(Answer::Date)
                        .map_err(|_| I::DateAnswer(Echo::of(t))),
                ),
            };
            match parsed {
                Some(Ok(a)) => {
                    out.insert(f.key.clone(), a);
                }
                Some(Err(e)) => problems.push(problem(at, e)),
                None if complete && f.required => problems.push(problem(at, I::Required)),
                None => {}
            }
        }
        if problems.is_empty() {
            Ok(Answers(out))
        } else {
            Err(problems)
        }
    }

    /// Stored answers as (label, text) in the form's order, for pages and exports.
    pub fn display(
        &self,
        stored: &BTreeMap<String, StoredAnswer>,
        zh: bool,
    ) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|f| {
                let v = stored.get(&f.key)?;
                let text = match (&f.kind, v) {
                    (FieldKind::YesNo, StoredAnswer::Bool(b)) => match (b, zh) {
                        (true, true) => "是",
                        (false, true) => "否",
                        (true, false) => "yes",
                        (false, false) => "no",
                    }
                    .to_owned(),
                    (FieldKind::Photo, v) if zh => format!("{v} 张"),
                    (FieldKind::Photo, v) => format!("{v} photo(s)"),
                    (_, v) => v.to_string(),
                };
                Some((f.label.clone(), text))
            })
            .collect()
    }
}

/// One checked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(String),
    Number(f64),
    Choice(String),
    YesNo(bool),
    Date(Date),
    Photos(u32),
}

/// Checked answers by field key; serializes to a JSON object of plain values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answers(BTreeMap<String, Answer>);

impl Answers {
    pub fn get(&self, key: &str) -> Option<&Answer> {
        self.0.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Answers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            match v {
                Answer::Text(t) | Answer::Choice(t) => m.serialize_entry(k, t)?,
                Answer::Number(n) => m.serialize_entry(k, n)?,
                Answer::YesNo(b) => m.serialize_entry(k, b)?,
                Answer::Date(d) => m.serialize_entry(
                    k,
                    &d.format(format_description!("[year]-[month]-[day]"))
                        .map_err(serde::ser::Error::custom)?,
                )?,
                Answer::Photos(n) => m.serialize_entry(k, n)?,
            }
        }
        m.end()
    }
}

/// An answer as stored (JSON): read back without the form, shown with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredAnswer {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl std::fmt::Display for StoredAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft(label: &str, kind: &str, required: bool) -> FieldDraft {
        FieldDraft {
            key: None,
            label: label.into(),
            kind: kind.into(),
            options: Vec::new(),
            required,
        }
    }

    fn w3_form() -> CampaignForm {
        let mut living = draft("居住情况", "choice", true);
        living.options = vec!["独居".into(), "与家人同住".into(), "独居".into()];
        CampaignForm::parse(vec![
            draft("健康状况", "text", true),
            living,
            draft("意见建议", "text", false),
            draft("是否需要帮扶", "yes_no", false),
            draft("门口照片", "photo", false),
        ])
        .unwrap()
    }

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn definitions_get_keys_and_reject_bad_fields() {
        let f = w3_form();
        assert_eq!(f.fields()[1].key, "f2");
        assert_eq!(
            f.fields()[1].kind,
            FieldKind::Choice(vec!["独居".into(), "与家人同住".into()])
        );
        let bad = CampaignForm::parse(vec![
            draft("", "text", false),
            draft("选择", "choice", false),
            draft("某项", "slider", false),
            FieldDraft {
                key: Some("Bad Key".into()),
                ..draft("键", "text", false)
            },
        ])
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "form[0].label",
                "form[1].options",
                "form[2].kind",
                "form[3].key"
            ]
        );
    }

    #[test]
    fn answers_are_checked_and_required_only_when_done() {
        let f = w3_form();
        let a = f
            .answer(
                &raw(&[("f1", "行动不便"), ("f2", "独居"), ("f4", "是")]),
                2,
                true,
            )
            .unwrap();
        assert_eq!(a.get("f4"), Some(&Answer::YesNo(true)));
        assert_eq!(a.get("f5"), Some(&Answer::Photos(2)));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"f1":"行动不便","f2":"独居","f4":true,"f5":2}"#);
        let stored: BTreeMap<String, StoredAnswer> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            f.display(&stored, true),
            vec![
                ("健康状况".to_owned(), "行动不便".to_owned()),
                ("居住情况".to_owned(), "独居".to_owned()),
                ("是否需要帮扶".to_owned(), "是".to_owned()),
                ("门口照片".to_owned(), "2 张".to_owned()),
            ]
        );

        // Not done: nothing required.
        assert!(f.answer(&raw(&[]), 0, false).unwrap().is_empty());
        // Done: required fields missing, a choice not offered, an unknown key.
        let e = f
            .answer(&raw(&[("f2", "合租"), ("zz", "x")]), 0, true)
            .unwrap_err();
        let fields: Vec<(&str, &str)> = e
            .iter()
            .map(|p| (p.field.as_str(), p.error.code()))
            .collect();
        assert_eq!(
            fields,
            [
                ("answers.zz", "form.field_unknown"),
                ("answers.f1", "required"),
                ("answers.f2", "form.choice_answer"),
            ]
        );
    }

    proptest! {
        /// Whatever is typed, checking never panics, and an accepted text answer is the trimmed
        /// input within the length limit.
        #[test]
        fn any_text_is_answered_or_refused(s in "\\PC{0,600}", n in "\\PC{0,20}") {
            let f = CampaignForm::parse(vec![draft("文本", "text", true), draft("数字", "number", false)]).unwrap();
            match f.answer(&raw(&[("f1", &s), ("f2", &n)]), 0, true) {
                Ok(a) => {
                    prop_assert_eq!(a.get("f1"), Some(&Answer::Text(s.trim().to_owned())));
                    prop_assert!(s.trim().chars().count() <= TEXT_ANSWER_MAX);
                }
                Err(p) => prop_assert!(!p.is_empty()),
            }
        }
    }
}
