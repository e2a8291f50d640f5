//! Names: surnames by real frequency, given names by birth cohort, minority names, place stems.
//!
//! Sampling uses precomputed lookup tables (one uniform draw → index), so a name costs a couple
//! of table reads and one small string.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Surnames with shares in units of 1/100,000 (national 2020 census order, tilted towards
/// Shanxi: 郭 武 贾 郝 闫 梁 乔 霍 牛 温 田 薛 申 are noticeably more common in Taiyuan).
#[rustfmt::skip]
const SURNAMES: &[(&str, u32)] = &[
    ("王", 7600), ("李", 6900), ("张", 6900), ("刘", 5600), ("陈", 3600), ("杨", 3200), ("赵", 2400),
    ("郭", 2000), ("黄", 1300), ("吴", 1300), ("周", 1300), ("徐", 1100), ("孙", 1200), ("马", 1200),
    ("朱", 1000), ("胡", 1000), ("何", 800), ("高", 1100), ("林", 600), ("罗", 700), ("郑", 700),
    ("梁", 900), ("谢", 500), ("宋", 600), ("唐", 500), ("许", 500), ("韩", 700), ("冯", 600),
    ("邓", 400), ("曹", 500), ("彭", 400), ("曾", 300), ("肖", 400), ("田", 600), ("董", 500),
    ("袁", 400), ("潘", 300), ("于", 400), ("蒋", 300), ("蔡", 300), ("余", 300), ("杜", 400),
    ("叶", 300), ("程", 400), ("苏", 400), ("魏", 400), ("吕", 400), ("丁", 300), ("任", 400),
    ("沈", 200), ("姚", 300), ("卢", 300), ("姜", 300), ("崔", 300), ("钟", 200), ("谭", 200),
    ("陆", 200), ("汪", 200), ("范", 300), ("金", 200), ("石", 300), ("廖", 150), ("贾", 700),
    ("夏", 200), ("韦", 100), ("付", 200), ("方", 200), ("白", 400), ("邹", 150), ("孟", 300),
    ("熊", 150), ("秦", 300), ("邱", 150), ("江", 150), ("尹", 200), ("薛", 400), ("闫", 600),
    ("段", 300), ("雷", 200), ("侯", 300), ("龙", 100), ("史", 300), ("陶", 150), ("黎", 100),
    ("贺", 200), ("顾", 100), ("毛", 150), ("郝", 600), ("龚", 100), ("邵", 100), ("万", 100),
    ("钱", 100), ("严", 100), ("武", 800), ("戴", 100), ("孔", 150), ("向", 50), ("汤", 100),
    ("乔", 500), ("霍", 400), ("牛", 400), ("温", 400), ("申", 300), ("常", 300), ("冀", 200),
    ("阎", 200), ("原", 100), ("康", 200), ("岳", 150), ("翟", 150), ("樊", 200), ("耿", 150),
    ("柴", 150), ("邢", 150), ("祁", 100), ("卫", 100),
    // A longer tail, several of them typical of Shanxi.
    ("庞", 150), ("焦", 200), ("左", 100), ("安", 200), ("靳", 200), ("吉", 100), ("蔺", 100),
    ("栗", 100), ("智", 80), ("寇", 100), ("裴", 150), ("房", 80), ("关", 100), ("成", 100),
    ("葛", 100), ("路", 150), ("纪", 80), ("邸", 80), ("荆", 80), ("仝", 60), ("续", 60), ("聂", 100),
    ("苗", 150), ("齐", 100), ("甄", 60), ("解", 100), ("时", 80), ("郎", 60), ("穆", 60), ("宁", 100),
    ("辛", 100), ("燕", 60), ("屈", 60),
    // Compound surnames are rare; 令狐 and 尉迟 have roots in Shanxi.
    ("令狐", 20), ("欧阳", 10), ("司马", 5), ("上官", 5), ("皇甫", 5), ("尉迟", 5), ("诸葛", 3),
];

/// Cohorts by birth year: before 1955, 1955–69, 1970–84, 1985–99, 2000–09, 2010 on.
pub(crate) fn cohort(birth_year: i32) -> usize {
    match birth_year {
        ..1955 => 0,
        1955..1970 => 1,
        1970..1985 => 2,
        1985..2000 => 3,
        2000..2010 => 4,
        _ => 5,
    }
}

/// Whole given names typical of each cohort: [cohort][male, female].
#[rustfmt::skip]
const GIVEN: [[&[&str]; 2]; 6] = [
    [
        &[
            "建国", "国庆", "德华", "福海", "保国", "广才", "树林", "振华", "长顺", "满堂", "富贵",
            "有福", "金山", "占元", "文斌", "玉林", "志刚", "德明", "宝山", "根柱", "明", "忠",
            "福", "海", "全", "喜", "和平", "土生", "二虎", "锁柱",
        ],
        &[
            "秀英", "桂兰", "玉兰", "秀兰", "凤英", "桂英", "淑珍", "秀珍", "玉梅", "翠花", "兰英",
            "桂花", "素梅", "凤兰", "金凤", "爱莲", "淑英", "玉珍", "荷花", "银花", "改莲", "润梅",
            "桂香", "月娥", "巧英", "英", "兰", "芳", "珍", "梅",
        ],
    ],
    [
        &[
            "建华", "建军", "国强", "卫东", "红军", "向东", "卫国", "跃进", "志强", "建平", "建新",
            "利民", "永明", "振宇", "向阳", "援朝", "小平", "海军", "胜利", "晋生", "伟", "军",
            "勇", "强", "斌", "平", "刚", "杰", "峰", "林",
        ],
        &[
            "丽华", "红梅", "卫红", "亚萍", "爱华", "小红", "海燕", "春梅", "淑芬", "秀梅", "爱萍",
            "建英", "玉莲", "晋芳", "红霞", "丽", "红", "燕", "霞", "萍", "艳", "芳", "玲", "华",
            "敏", "英", "琴", "梅", "娟", "慧",
        ],
    ],
    [
        &[
            "海涛", "志勇", "晓东", "文军", "俊峰", "宏伟", "建伟", "晓明", "志伟", "永强", "晓峰",
            "小军", "立新", "亚军", "红兵", "伟", "军", "勇", "强", "斌", "涛", "磊", "鹏", "辉",
            "波", "峰", "刚", "亮", "东", "宁",
        ],
        &[
            "丽娟", "晓红", "丽萍", "晓燕", "春燕", "红艳", "秀芳", "丽霞", "晓丽", "小燕", "彩霞",
            "海霞", "静", "丽", "艳", "娟", "霞", "敏", "芳", "燕", "慧", "洁", "晶", "红", "琳",
            "颖", "莉", "萍", "蕾", "英",
        ],
    ],
    [
        &[
            "俊杰", "鹏飞", "文博", "家豪", "嘉伟", "天宇", "晓龙", "志鹏", "建波", "海龙", "晓宇",
            "振兴", "磊", "涛", "鹏", "超", "杰", "浩", "鑫", "亮", "宇", "帅", "晨", "飞", "博",
            "凯", "斌", "龙", "阳", "旭",
        ],
        &[
            "婷婷", "晓丽", "丽娜", "佳慧", "雪梅", "甜甜", "丹丹", "文静", "思思", "晓雪", "慧敏",
            "亚楠", "婷", "静", "丹", "娜", "洁", "敏", "雪", "颖", "莉", "倩", "晶", "佳", "琳",
            "欢", "悦", "璐", "蕊", "瑶",
        ],
    ],
    [
        &[
            "浩然", "子豪", "宇航", "俊豪", "家乐", "梓豪", "泽宇", "浩宇", "博文", "皓轩", "一帆",
            "子健", "天佑", "明轩", "锦程", "思远", "嘉豪", "宇飞", "子轩", "昊天", "鑫", "浩",
            "宇", "博", "昊", "航", "锐", "晨", "凯", "哲",
        ],
        &[
            "欣怡", "梓涵", "雨欣", "佳怡", "诗涵", "子涵", "雨涵", "可欣", "思涵", "梦琪", "心怡",
            "佳琪", "雅琪", "紫涵", "语嫣", "婧琪", "欣然", "雨萌", "佳欣", "思雨", "悦", "琪",
            "涵", "欣", "怡", "妍", "萌", "琳", "璇", "彤",
        ],
    ],
    [
        &[
            "梓轩", "宇轩", "子墨", "一诺", "沐宸", "奕辰", "宇泽", "思源", "子睿", "梓睿", "俊熙",
            "承泽", "皓宇", "铭泽", "瑞霖", "煜祺", "浩然", "睿泽", "景行", "子骞", "沐阳", "嘉懿",
            "辰", "睿", "泽", "航", "铭", "煜", "宸", "逸",
        ],
        &[
            "一诺", "若汐", "欣妍", "语桐", "芷若", "依诺", "诗琪", "可馨", "思彤", "梓萱", "雨桐",
            "沐晴", "雨萱", "子萱", "安然", "语汐", "梓涵", "若曦", "一涵", "星辰", "诗雨", "晨曦",
            "悦", "萱", "桐", "妍", "溪", "瑶", "然", "汐",
        ],
    ],
];

/// Uyghur names for the few Xinjiang migrants: given name · father's given name.
#[rustfmt::skip]
const UYGHUR_MALE: &[&str] = &[
    "艾力", "买买提", "阿不都热合曼", "吐尔逊", "艾山", "卡德尔", "阿力木", "依明", "努尔", "热合曼", "伊力哈木", "亚森",
];
#[rustfmt::skip]
const UYGHUR_FEMALE: &[&str] = &[
    "努尔古丽", "古丽米拉", "迪丽娜尔", "热依拉", "阿依古丽", "帕提古丽", "米热古丽", "阿娜尔", "祖丽胡玛尔", "热娜",
];

/// Street and place stems used for community and compound names (Taiyuan flavoured).
#[rustfmt::skip]
pub(crate) const PLACE_STEMS: &[&str] = &[
    "西矿街", "千峰南路", "和平北路", "兴华", "长风西", "漪汾", "滨河西路", "南寒", "公园路", "迎泽西", "晋祠路", "下元", "大井峪",
    "小井峪", "前进", "胜利", "新建路", "五一", "府东", "府西", "桃园", "并州", "双塔", "文源", "学府", "坞城", "亲贤", "平阳",
    "长治路", "体育路", "建设北路", "解放", "柳巷", "老军营", "郝庄", "东岗", "北营", "南内环", "新华", "光华", "康乐", "宏图",
    "华苑", "锦绣", "玉门", "晋阳", "龙城", "汾东", "汾西", "义井", "西铭", "南屯", "白家庄", "杜儿坪", "神堂沟", "化客头",
    "矿机", "重机", "钢园", "晋机", "纺织", "煤机", "化工", "电建", "铁路", "东社", "西社", "金刚里", "寇庄", "红沟", "王村",
    "彭村", "冶峪", "马庄", "南堰", "北堰", "沙河", "西山", "玉泉", "瓦窑", "古寨", "晋安", "乐园", "西华", "新庄", "兴业",
    "望景", "漪园", "千峰", "后王", "前王", "窊流", "和平", "迎宾", "春晖", "阳光", "幸福", "丽华", "金色", "星河",
];

/// Compound suffixes: 小区 and the older 宿舍 / 新村 forms are weighted by repetition.
#[rustfmt::skip]
pub(crate) const COMPOUND_SUFFIXES: &[&str] = &[
    "小区", "小区", "小区", "苑", "花园", "家园", "新村", "西里", "东里", "公寓", "佳苑", "宿舍",
    "嘉园", "南区", "北区", "雅居",
];

pub(crate) struct NameTables {
    surname_table: Vec<u8>,
}

impl NameTables {
    pub(crate) fn new() -> Self {
        let mut surname_table = Vec::new();
        for (i, &(_, w)) in SURNAMES.iter().enumerate() {
            surname_table.extend(std::iter::repeat_n(i as u8, w as usize));
        }
        Self { surname_table }
    }

    /// A surname index (pass it to `surname`), so family members can share it.
    pub(crate) fn draw_surname(&self, rng: &mut ChaCha8Rng) -> u8 {
        self.surname_table[rng.random_range(0..self.surname_table.len())]
    }

    pub(crate) fn surname(i: u8) -> &'static str {
        SURNAMES[i as usize].0
    }

    /// Append a cohort-typical given name.
    pub(crate) fn push_given(out: &mut String, birth_year: i32, male: bool, rng: &mut ChaCha8Rng) {
        let pool = GIVEN[cohort(birth_year)][usize::from(!male)];
        // Mostly a whole name; sometimes recombine two pool names' characters, which multiplies
        // the variety without leaving the cohort's style.
        let a = pool[rng.random_range(0..pool.len())];
        if rng.random_range(0..4u8) == 0 {
            let b = pool[rng.random_range(0..pool.len())];
            let first = a.chars().next().expect("non-empty");
            let last = b.chars().last().expect("non-empty");
            if first != last {
                out.push(first);
                out.push(last);
                return;
            }
        }
        out.push_str(a);
    }

    /// A Uyghur given name (names are written given name · father's given name).
    pub(crate) fn uyghur_given(male: bool, rng: &mut ChaCha8Rng) -> &'static str {
        let pool = if male { UYGHUR_MALE } else { UYGHUR_FEMALE };
        pool[rng.random_range(0..pool.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surname_shares_favour_the_big_ones() {
        let t = NameTables::new();
        let total = t.surname_table.len() as f64;
        let wang = t.surname_table.iter().filter(|&&i| i == 0).count() as f64;
        // 王 is a little more common in Shanxi (≈ 8–9%) than nationally (≈ 7%).
        assert!((0.07..0.10).contains(&(wang / total)));
        assert!(SURNAMES.len() < 256);
    }

    #[test]
    fn stems_are_distinct() {
        let mut s: Vec<_> = PLACE_STEMS.to_vec();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), PLACE_STEMS.len());
    }
}
