//! Relation to the householder, coded per GB/T 4761-2008 (家庭关系代码).

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Echo};

/// A two-digit GB/T 4761-2008 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Relation(u8);

/// Every two-digit code of GB/T 4761-2008 with its canonical term. The 2008 edition dropped the
/// 1984 codes for 小集体户户主 and 保姆; 98 is unassigned.
const CODES: &[(u8, &str)] = &[
    (1, "本人"),
    (2, "户主"),
    (10, "配偶"),
    (11, "夫"),
    (12, "妻"),
    (20, "子"),
    (21, "独生子"),
    (22, "长子"),
    (23, "次子"),
    (24, "三子"),
    (25, "四子"),
    (26, "五子"),
    (27, "养子或继子"),
    (28, "女婿"),
    (29, "其他儿子"),
    (30, "女"),
    (31, "独生女"),
    (32, "长女"),
    (33, "次女"),
    (34, "三女"),
    (35, "四女"),
    (36, "五女"),
    (37, "养女或继女"),
    (38, "儿媳"),
    (39, "其他女儿"),
    (40, "孙子、孙女或外孙子、外孙女"),
    (41, "孙子"),
    (42, "孙女"),
    (43, "外孙子"),
    (44, "外孙女"),
    (45, "孙媳妇或外孙媳妇"),
    (46, "孙女婿或外孙女婿"),
    (47, "曾孙子或外曾孙子"),
    (48, "曾孙女或外曾孙女"),
    (49, "其他孙子、孙女或外孙子、外孙女"),
    (50, "父母"),
    (51, "父亲"),
    (52, "母亲"),
    (53, "公公"),
    (54, "婆婆"),
    (55, "岳父"),
    (56, "岳母"),
    (57, "继父或养父"),
    (58, "继母或养母"),
    (59, "其他父母关系"),
    (60, "祖父母或外祖父母"),
    (61, "祖父"),
    (62, "祖母"),
    (63, "外祖父"),
    (64, "外祖母"),
    (65, "配偶的祖父母或外祖父母"),
    (66, "曾祖父"),
    (67, "曾祖母"),
    (68, "配偶的曾祖父母或外曾祖父母"),
    (69, "其他祖父母或外祖父母关系"),
    (70, "兄弟姐妹"),
    (71, "兄"),
    (72, "嫂"),
    (73, "弟"),
    (74, "弟媳"),
    (75, "姐姐"),
    (76, "姐夫"),
    (77, "妹妹"),
    (78, "妹夫"),
    (79, "其他兄弟姐妹"),
    (80, "其他"),
    (81, "伯父"),
    (82, "伯母"),
    (83, "叔父"),
    (84, "婶母"),
    (85, "舅父"),
    (86, "舅母"),
    (87, "姨父"),
    (88, "姨母"),
    (89, "姑父"),
    (90, "姑母"),
    (91, "堂兄弟、堂姐妹"),
    (92, "表兄弟、表姐妹"),
    (93, "侄子"),
    (94, "侄女"),
    (95, "外甥"),
    (96, "外甥女"),
    (97, "其他亲属"),
    (99, "非亲属"),
];

/// Everyday register words that are not a canonical term above.
const SYNONYMS: &[(&str, u8)] = &[
    ("丈夫", 11),
    ("妻子", 12),
    ("儿子", 20),
    ("女儿", 30),
    ("父", 51),
    ("母", 52),
    ("哥哥", 71),
    ("嫂子", 72),
    ("弟弟", 73),
    ("姐", 75),
    ("妹", 77),
    ("儿媳妇", 38),
    ("侄儿", 93),
    // 保姆 had its own code in GB/T 4761-1984; the 2008 edition files it under 非亲属.
    ("保姆", 99),
];

impl Relation {
    pub fn from_code(code: u8) -> Result<Self, DomainError> {
        if CODES.iter().any(|&(c, _)| c == code) {
            Ok(Self(code))
        } else {
            Err(DomainError::Relation(Echo::of(&format!("{code:02}"))))
        }
    }

    pub fn code(&self) -> u8 {
        self.0
    }

    pub fn code_str(&self) -> String {
        format!("{:02}", self.0)
    }

    /// Accepts the two-digit code (a single digit is read as zero-padded) or a register term.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit()) {
            let code = t.parse().map_err(|_| DomainError::Relation(Echo::of(t)))?;
            return Self::from_code(code);
        }
        CODES
            .iter()
            .find(|&&(_, word)| word == t)
            .map(|&(c, _)| c)
            .or_else(|| SYNONYMS.iter().find(|&&(w, _)| w == t).map(|&(_, c)| c))
            .map(Self)
            .ok_or_else(|| DomainError::Relation(Echo::of(t)))
    }

    pub fn name_zh(&self) -> &'static str {
        CODES
            .iter()
            .find(|&&(c, _)| c == self.0)
            .map_or("", |&(_, word)| word)
    }

    /// Registers put the householder's own row as 02 户主 or 01 本人.
    pub fn is_householder(&self) -> bool {
        matches!(self.0, 1 | 2)
    }
}

impl TryFrom<String> for Relation {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Relation> for String {
    fn from(r: Relation) -> Self {
        r.code_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_words_map_to_codes() {
        let cases = [
            ("本人", 1),
            ("户主", 2),
            ("配偶", 10),
            ("夫", 11),
            ("妻", 12),
            ("子", 20),
            ("独生子", 21),
            ("长子", 22),
            ("次子", 23),
            ("三子", 24),
            ("女", 30),
            ("独生女", 31),
            ("长女", 32),
            ("次女", 33),
            ("三女", 34),
            ("孙子", 41),
            ("孙女", 42),
            ("外孙子", 43),
            ("外孙女", 44),
            ("父亲", 51),
            ("母亲", 52),
            ("公公", 53),
            ("婆婆", 54),
            ("岳父", 55),
            ("岳母", 56),
            ("祖父", 61),
            ("祖母", 62),
            ("外祖父", 63),
            ("外祖母", 64),
            ("兄", 71),
            ("弟", 73),
            ("姐姐", 75),
            ("妹妹", 77),
            ("哥哥", 71),
            ("弟弟", 73),
            ("姐", 75),
            ("妹", 77),
            ("儿媳", 38),
            ("女婿", 28),
            ("侄子", 93),
            ("侄女", 94),
            ("外甥", 95),
            ("外甥女", 96),
            ("其他亲属", 97),
            ("保姆", 99),
            ("非亲属", 99),
        ];
        for (word, code) in cases {
            assert_eq!(Relation::parse(word).unwrap().code(), code, "{word}");
        }
    }

    #[test]
    fn codes() {
        for &(code, word) in CODES {
            let r = Relation::from_code(code).unwrap();
            assert_eq!(r.name_zh(), word);
            assert_eq!(Relation::parse(&r.code_str()).unwrap(), r);
            assert_eq!(Relation::parse(word).unwrap(), r);
        }
        assert_eq!(Relation::parse("2").unwrap().code_str(), "02");
        assert!(Relation::from_code(3).is_err());
        assert!(Relation::from_code(98).is_err());
        assert_eq!(
            Relation::parse("邻居").unwrap_err().code(),
            "relation.invalid"
        );
        assert!(Relation::parse("户主").unwrap().is_householder());
        assert!(Relation::parse("01").unwrap().is_householder());
        assert!(!Relation::parse("10").unwrap().is_householder());
        let json = serde_json::to_string(&Relation::parse("妻").unwrap()).unwrap();
        assert_eq!(json, "\"12\"");
        assert_eq!(serde_json::from_str::<Relation>(&json).unwrap().code(), 12);
    }
}
