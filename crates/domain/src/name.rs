//! Person names and the keys a search index stores for them.

use pinyin::ToPinyinMulti;

use crate::error::{DomainError, NameCharProblem};

const MAX_CHARS: usize = 50;
/// Look-alikes of the interpunct that separates parts of transliterated names (努尔古丽·艾山).
const DOT_VARIANTS: [char; 5] = ['・', '•', '‧', '･', '\u{00B7}'];
const DOT: char = '\u{00B7}';
/// Heteronym readings multiply; past this many combinations the index would bloat.
const MAX_COMBINATIONS: usize = 16;

const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "夏侯", "端木",
    "长孙", "宇文", "司徒", "万俟",
];

/// Surnames read differently from the character's common reading. Added to, not replacing,
/// the dictionary readings: people search by whatever reading they know.
const SURNAME_READINGS: &[(&str, &[&str])] = &[
    ("尉迟", &["yu", "chi"]),
    ("万俟", &["mo", "qi"]),
    ("长孙", &["zhang", "sun"]),
    ("单于", &["chan", "yu"]),
    ("曾", &["zeng"]),
    ("单", &["shan"]),
    ("解", &["xie"]),
    ("仇", &["qiu"]),
    ("朴", &["piao"]),
    ("查", &["zha"]),
    ("区", &["ou"]),
    ("盖", &["ge"]),
    ("乐", &["yue"]),
    ("覃", &["qin"]),
    ("缪", &["miao"]),
    ("翟", &["zhai"]),
    ("秘", &["bi"]),
    ("种", &["chong"]),
    ("召", &["shao"]),
    ("华", &["hua"]),
    ("任", &["ren"]),
    ("纪", &["ji"]),
    ("燕", &["yan"]),
];

/// One way to read a stretch of a name, as syllables (a Latin word counts as one syllable).
type Reading = Vec<String>;
/// The alternative readings of one position in a name.
type Slot = Vec<Reading>;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut out = String::new();
        let mut gap = false;
        for c in s.trim().chars() {
            if c.is_whitespace() {
                gap = true;
                continue;
            }
            if c.is_control() {
                return Err(DomainError::NameInvalidChar(NameCharProblem::Control));
            }
            if c.is_ascii_digit() || ('０'..='９').contains(&c) {
                return Err(DomainError::NameInvalidChar(NameCharProblem::Digit));
            }
            if gap {
                out.push(' ');
                gap = false;
            }
            out.push(if DOT_VARIANTS.contains(&c) { DOT } else { c });
        }
        let len = out.chars().count();
        if len == 0 {
            return Err(DomainError::NameEmpty);
        }
        if len > MAX_CHARS {
            return Err(DomainError::NameTooLong {
                found: len,
                max: MAX_CHARS,
            });
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Keys for prefix search, already in [`normalize_query`] form: the name, the name without
    /// its surname, and full pinyin and initials of both (every heteronym reading, capped).
    pub fn search_keys(&self) -> Vec<String> {
        let mut keys = vec![self.0.clone()];
        push_pinyin_keys(&mut keys, full_name_slots(&self.0));
        for given in self.given_names() {
            keys.push(given.to_owned());
            push_pinyin_keys(&mut keys, slots(given));
        }
        let mut seen = std::collections::HashSet::new();
        keys.into_iter()
            .map(|k| normalize_query(&k))
            .filter(|k| !k.is_empty() && seen.insert(k.clone()))
            .collect()
    }

    /// The parts a person may be searched by without the surname. Names written in parts
    /// (努尔古丽·艾山, "Anna Li") have no leading surname: every later part is offered instead.
    fn given_names(&self) -> Vec<&str> {
        let n = &self.0;
        let separators: Vec<usize> = n
            .char_indices()
            .filter(|&(_, c)| c == DOT || c == ' ')
            .map(|(i, c)| i + c.len_utf8())
            .collect();
        if !separators.is_empty() {
            return separators.into_iter().map(|i| &n[i..]).collect();
        }
        let surname_len = surname(n).len();
        let given = &n[surname_len..];
        if given.is_empty() {
            vec![]
        } else {
            vec![given]
        }
    }
}

/// The surname prefix: a known compound surname, else the first character.
fn surname(name: &str) -> &str {
    if let Some(c) = COMPOUND_SURNAMES.iter().find(|c| name.starts_with(**c)) {
        return &name[..c.len()];
    }
    name.chars().next().map_or("", |c| &name[..c.len_utf8()])
}

/// Lower-cases ASCII, drops spaces and apostrophes ("Wang Xiao'ming"), and folds interpunct
/// and ü variants, so queries compare with keys the same way.
pub fn normalize_query(q: &str) -> String {
    q.trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '’' | '‘'))
        .map(|c| match c {
            c if DOT_VARIANTS.contains(&c) => DOT,
            'ü' | 'Ü' => 'v',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (('\u{00C0}'..='\u{024F}').contains(&c) && c.is_alphabetic())
}

/// Reading slots of a text: one per character with pinyin, one per Latin word; punctuation and
/// characters without pinyin are dropped.
fn slots(text: &str) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_latin_letter(c) {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(vec![vec![std::mem::take(&mut word)]]);
        }
        if let Some(multi) = c.to_pinyin_multi() {
            let mut slot: Slot = Vec::new();
            for p in multi {
                // IMEs type ü as v.
                let reading = vec![p.plain().replace('ü', "v")];
                if !slot.contains(&reading) {
                    slot.push(reading);
                }
            }
            out.push(slot);
        }
    }
    if !word.is_empty() {
        out.push(vec![vec![word]]);
    }
    out
}

/// Slots of a whole name, with the surname's special reading put first so the cap keeps it.
fn full_name_slots(name: &str) -> Vec<Slot> {
    let Some(&(prefix, special)) = SURNAME_READINGS.iter().find(|(p, _)| name.starts_with(p))
    else {
        return slots(name);
    };
    let mut head: Slot = vec![special.iter().map(|s| (*s).to_owned()).collect()];
    for reading in combinations(&slots(prefix)) {
        if !head.contains(&reading) {
            head.push(reading);
        }
    }
    let mut all = vec![head];
    all.extend(slots(&name[prefix.len()..]));
    all
}

/// Cartesian product of the slots' readings, deduplicated, at most [`MAX_COMBINATIONS`].
/// Earlier readings (the dictionary's most common first) are kept when the cap bites.
fn combinations(slots: &[Slot]) -> Vec<Reading> {
    let mut acc: Vec<Reading> = vec![Vec::new()];
    for slot in slots {
        let mut next: Vec<Reading> = Vec::new();
        'fill: for prefix in &acc {
            for reading in slot {
                let mut r = prefix.clone();
                r.extend(reading.iter().cloned());
                if !next.contains(&r) {
                    next.push(r);
                }
                if next.len() == MAX_COMBINATIONS {
                    break 'fill;
                }
            }
        }
        acc = next;
    }
    acc
}

fn push_pinyin_keys(keys: &mut Vec<String>, slots: Vec<Slot>) {
    for reading in combinations(&slots) {
        keys.push(reading.concat());
        keys.push(reading.iter().filter_map(|s| s.chars().next()).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(s: &str) -> Vec<String> {
        PersonName::parse(s).unwrap().search_keys()
    }

    fn has_all(keys: &[String], wanted: &[&str]) {
        for w in wanted {
            assert!(keys.iter().any(|k| k == w), "missing {w} in {keys:?}");
        }
    }

    #[test]
    fn parse_normalizes() {
        assert_eq!(
            PersonName::parse("  王  小明 ").unwrap().as_str(),
            "王 小明"
        );
        assert_eq!(
            PersonName::parse("努尔古丽•艾山").unwrap().as_str(),
            "努尔古丽·艾山"
        );
        assert_eq!(
            PersonName::parse("努尔古丽・艾山").unwrap().as_str(),
            "努尔古丽·艾山"
        );
        assert_eq!(PersonName::parse("𠮷野家").unwrap().as_str(), "𠮷野家");
        let code = |s: &str| PersonName::parse(s).unwrap_err().code();
        assert_eq!(code("   "), "name.empty");
        assert_eq!(code("王小明2"), "name.invalid_char");
        assert_eq!(code("王\u{0}明"), "name.invalid_char");
        assert_eq!(code(&"王".repeat(51)), "name.too_long");
        assert!(PersonName::parse(&"王".repeat(50)).is_ok());
    }

    #[test]
    fn common_name_keys() {
        let k = keys("王小明");
        has_all(
            &k,
            &["王小明", "小明", "wangxiaoming", "wxm", "xiaoming", "xm"],
        );
        assert!(!k.iter().any(|x| x.is_empty()));
        let mut sorted = k.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), k.len());
    }

    #[test]
    fn heteronym_surnames_keep_both_readings() {
        has_all(
            &keys("曾小明"),
            &["zengxiaoming", "cengxiaoming", "zxm", "cxm"],
        );
        has_all(
            &keys("单田芳"),
            &["shantianfang", "dantianfang", "田芳", "tianfang"],
        );
        has_all(
            &keys("尉迟敬德"),
            &["yuchijingde", "ycjd", "敬德", "jingde"],
        );
        has_all(&keys("吕布"), &["lvbu", "lb"]);
    }

    #[test]
    fn compound_and_dotted_names() {
        has_all(&keys("欧阳娜娜"), &["娜娜", "ouyangnana", "nana", "oynn"]);
        has_all(
            &keys("努尔古丽·艾山"),
            &["努尔古丽·艾山", "艾山", "aishan", "nuerguliaishan"],
        );
        has_all(&keys("Anna Li"), &["annali", "li", "al"]);
    }

    #[test]
    fn cap_holds_for_many_heteronyms() {
        let k = keys("单曾乐长和行");
        // Full name + given name + pinyin and initials of both, each capped.
        assert!(k.len() <= 2 + 4 * MAX_COMBINATIONS, "{}", k.len());
        assert!(k.iter().any(|x| x.starts_with("shan")));
    }

    #[test]
    fn query_normalization_matches_keys() {
        assert_eq!(normalize_query(" Wang Xiao'ming "), "wangxiaoming");
        assert_eq!(normalize_query("努尔古丽•艾山"), "努尔古丽·艾山");
        assert_eq!(normalize_query("Lü"), "lv");
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(s in "\\PC{0,60}") {
            if let Ok(n) = PersonName::parse(&s) {
                prop_assert_eq!(PersonName::parse(n.as_str()).unwrap(), n.clone());
                prop_assert!(n.search_keys().iter().all(|k| *k == normalize_query(k)));
            }
        }

        #[test]
        fn chinese_names_always_have_pinyin(s in "[\u{4e00}-\u{9fa5}]{2,6}") {
            let n = PersonName::parse(&s).unwrap();
            let k = n.search_keys();
            prop_assert!(k.len() >= 3);
            prop_assert!(k.len() <= 2 + 4 * MAX_COMBINATIONS);
        }
    }
}
