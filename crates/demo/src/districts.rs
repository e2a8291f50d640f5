//! The city's districts: real GB/T 2260 codes and names, a rectangle near each one's real
//! location, and real (or, where unknown, plausible) sub-district names.

use crate::areas::Rect;

pub(crate) struct District {
    pub code: &'static str,
    pub name: &'static str,
    /// West, south, east, north (degrees, WGS-84), near the real location.
    pub rect: Rect,
    pub subdistricts: &'static [&'static str],
}

#[rustfmt::skip]
pub(crate) const DISTRICTS: &[District] = &[
    District {
        code: "140109",
        name: "万柏林区",
        rect: Rect {
            west: 112.43,
            south: 37.84,
            east: 112.53,
            north: 37.90,
        },
        subdistricts: &[
            "千峰街道",
            "下元街道",
            "和平街道",
            "万柏林街道",
            "杜儿坪街道",
            "白家庄街道",
            "南寒街道",
            "东社街道",
            "小井峪街道",
            "神堂沟街道",
            "西铭街道",
            "化客头街道",
        ],
    },
    District {
        code: "140105",
        name: "小店区",
        rect: Rect {
            west: 112.53,
            south: 37.70,
            east: 112.65,
            north: 37.82,
        },
        subdistricts: &[
            "坞城街道",
            "营盘街道",
            "北营街道",
            "平阳路街道",
            "黄陵街道",
            "亲贤街道",
            "龙城街道",
            "小店街道",
            "太榆路街道",
        ],
    },
    District {
        code: "140106",
        name: "迎泽区",
        rect: Rect {
            west: 112.55,
            south: 37.82,
            east: 112.65,
            north: 37.87,
        },
        subdistricts: &[
            "柳巷街道",
            "文庙街道",
            "庙前街道",
            "迎泽街道",
            "桥东街道",
            "老军营街道",
            "郝庄街道",
            "桃园街道",
        ],
    },
    District {
        code: "140107",
        name: "杏花岭区",
        rect: Rect {
            west: 112.55,
            south: 37.87,
            east: 112.65,
            north: 37.93,
        },
        subdistricts: &[
            "巨轮街道",
            "三桥街道",
            "杏花岭街道",
            "坝陵桥街道",
            "大东关街道",
            "职工新村街道",
            "敦化坊街道",
            "鼓楼街道",
            "涧河街道",
            "杨家峪街道",
        ],
    },
    District {
        code: "140108",
        name: "尖草坪区",
        rect: Rect {
            west: 112.45,
            south: 37.93,
            east: 112.58,
            north: 38.02,
        },
        subdistricts: &[
            "尖草坪街道",
            "光社街道",
            "上兰街道",
            "南寨街道",
            "迎新街街道",
            "古城街道",
            "汇丰街道",
            "新城街道",
        ],
    },
    District {
        code: "140110",
        name: "晋源区",
        rect: Rect {
            west: 112.40,
            south: 37.68,
            east: 112.50,
            north: 37.80,
        },
        subdistricts: &["义井街道", "罗城街道", "晋源街道", "金胜街道", "晋祠街道"],
    },
    District {
        code: "140121",
        name: "清徐县",
        rect: Rect {
            west: 112.30,
            south: 37.60,
            east: 112.45,
            north: 37.67,
        },
        subdistricts: &["清源街道", "徐沟街道", "东于街道", "孟封街道"],
    },
    District {
        code: "140122",
        name: "阳曲县",
        rect: Rect {
            west: 112.55,
            south: 38.02,
            east: 112.75,
            north: 38.10,
        },
        subdistricts: &["黄寨街道", "大盂街道", "东黄水街道"],
    },
    District {
        code: "140181",
        name: "古交市",
        rect: Rect {
            west: 112.30,
            south: 37.86,
            east: 112.38,
            north: 37.94,
        },
        subdistricts: &["东曲街道", "西曲街道", "桃园街道", "屯兰街道", "河口街道"],
    },
];
