//! Interface texts in zh-CN (default) and English, from `locales/*.toml`, compiled in. Pages
//! look strings up by key; a test keeps both files on the same keys.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::extract::Lang;

type Table = BTreeMap<String, String>;

fn flatten(prefix: &str, value: &toml::Value, out: &mut Table) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

fn load(text: &str) -> Table {
    let value: toml::Value = toml::from_str(text).expect("locale file is valid TOML");
    let mut out = Table::new();
    flatten("", &value, &mut out);
    out
}

static ZH: LazyLock<Table> = LazyLock::new(|| load(include_str!("../locales/zh-CN.toml")));
static EN: LazyLock<Table> = LazyLock::new(|| load(include_str!("../locales/en.toml")));

/// The texts of one language, handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    pub lang: Lang,
}

impl Texts {
    pub fn new(lang: Lang) -> Self {
        Texts { lang }
    }

    fn table(&self) -> &'static Table {
        match self.lang {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The text for `key`; a missing key shows itself (and fails the locale test).
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.table().get(key).map_or(key, String::as_str)
    }

    /// `{n}`-style placeholders filled in order.
    pub fn tf(&self, key: &str, args: &[&dyn std::fmt::Display]) -> String {
        let mut s = self.t(key).to_owned();
        for a in args {
            if let Some(i) = s.find("{}") {
                s.replace_range(i..i + 2, &a.to_string());
            }
        }
        s
    }

    /// `tf` with one argument, for templates.
    pub fn tf1(&self, key: &str, arg: impl std::fmt::Display) -> String {
        self.tf(key, &[&arg])
    }

    /// A GB/T 4761 relation: the standard's own word in Chinese, its group in English.
    pub fn relation(&self, r: &wangge_domain::Relation) -> String {
        match self.lang {
            Lang::Zh => r.name_zh().to_owned(),
            Lang::En => self.t(&format!("relation.g{}", r.code() / 10)).to_owned(),
        }
    }

    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn is_zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// Dates as people write them: 2026年11月25日 / 25 Nov 2026.
    pub fn date(&self, d: &time::Date) -> String {
        match self.lang {
            Lang::Zh => format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()),
            Lang::En => format!("{} {} {}", d.day(), &d.month().to_string()[..3], d.year()),
        }
    }

    pub fn opt_date(&self, d: &Option<time::Date>) -> String {
        d.as_ref().map_or_else(|| "—".to_owned(), |d| self.date(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys_and_no_empty_texts() {
        let zh: Vec<&String> = ZH.keys().collect();
        let en: Vec<&String> = EN.keys().collect();
        assert_eq!(zh, en, "locale files must define the same keys");
        assert!(ZH.values().chain(EN.values()).all(|v| !v.trim().is_empty()));
    }

    #[test]
    fn chinese_texts_are_chinese_and_english_are_not() {
        let han = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        assert!(han(Texts::new(Lang::Zh).t("nav.home")));
        assert!(
            EN.values().all(|v| !han(v) || v.contains("中文")),
            "English texts must not mix in Chinese"
        );
    }

    #[test]
    fn dates_in_local_form() {
        let d = time::macros::date!(2026 - 11 - 25);
        assert_eq!(Texts::new(Lang::Zh).date(&d), "2026年11月25日");
        assert_eq!(Texts::new(Lang::En).date(&d), "25 Nov 2026");
    }
}
