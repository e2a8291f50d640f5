//! Unique citizen ID numbers and mobile numbers.
//!
//! ## ID scheme (why IDs never collide)
//! A GB 11643 number is `area6 + birth date + 3-digit sequence + check`, and the sequence's parity
//! is the sex. We never draw the sequence at random: for every (origin area, birth day, sex) we
//! keep a `u16` counter in one flat array and hand out the counter's next slot. Slot `k` maps to
//! a sequence through a fixed bijection (`k * 137 + offset mod 500`), so numbers look scattered
//! over 001–999 like real ones do, yet two persons can only share a number if they share a slot,
//! which the counter rules out. The array covers a closed list of origin codes × 110 years of
//! birth days × 2 sexes: about 6 MB whatever the city size. If a day's 500 slots ever ran out (it
//! cannot at 5 M residents: a district sees ~15 births per day per code), the birth date moves
//! one day earlier, which keeps the scheme total and deterministic.
//!
//! ## Phone scheme
//! A real prefix is drawn at random, and the 8 remaining digits are an invertible scramble of the
//! person key (`key * A + B mod 10^8`, A coprime to 10^8): distinct keys give distinct numbers.

use time::Date;
use wangge_domain::{IdNumber, PhoneNumber};

/// Registration places, by index. The first nine are the city's districts (same order as
/// `areas::DISTRICTS`); then other Shanxi cities, other provinces, and Hong Kong / Macao /
/// Taiwan residence-permit codes (810000/820000/830000) for 境外 residents.
pub(crate) const ORIGINS: &[&str] = &[
    "140109", "140105", "140106", "140107", "140108", "140110", "140121", "140122", "140181",
    // Other Shanxi cities: most migrants to Taiyuan come from inside the province.
    "140211", "140302", "140402", "140502", "140602", "140702", "140802", "140902", "141002",
    "141102", // Other provinces.
    "130102", "410105", "510104", "610103", "370102", "150102", "620102", "230102", "340102",
    "420102", "430102", "650102", // Hong Kong, Macao, Taiwan.
    "810000", "820000", "830000",
];

/// First index of the "other Shanxi" block, of the other-province block, of HK/Macao/Taiwan.
pub(crate) const SHANXI_START: usize = 9;
pub(crate) const PROVINCES_START: usize = 19;
pub(crate) const ABROAD_START: usize = 31;
/// Index of the Xinjiang code, used for Uyghur-named migrants.
pub(crate) const XINJIANG: usize = 30;

const YEARS: i32 = 110;
const DAYS: usize = 110 * 366 + 2;

pub(crate) struct IdAllocator {
    base_day: i32,
    counters: Vec<u16>,
}

impl IdAllocator {
    pub(crate) fn new(today: Date) -> Self {
        let base_day = today.to_julian_day() - YEARS * 366;
        Self {
            base_day,
            counters: vec![0; ORIGINS.len() * DAYS * 2],
        }
    }

    /// Allocate a fresh ID for a person of `origin` born on `birth` (may move the date earlier
    /// by a day if that day is exhausted; the returned ID carries the final date).
    pub(crate) fn allocate(&mut self, origin: usize, birth: Date, male: bool) -> IdNumber {
        let mut day = birth.to_julian_day();
        loop {
            let off = (day - self.base_day).clamp(0, DAYS as i32 - 1) as usize;
            let idx = (origin * DAYS + off) * 2 + usize::from(male);
            let k = self.counters[idx];
            // Males: 500 odd sequences 001..999. Females: 499 even sequences 002..998 (000 is not
            // issued in practice).
            let slots: u32 = if male { 500 } else { 499 };
            if u32::from(k) < slots {
                self.counters[idx] = k + 1;
                let scatter = (off as u32).wrapping_mul(2_654_435_761) >> 7;
                let slot = (u32::from(k) * 137 + scatter) % slots;
                let seq = if male { slot * 2 + 1 } else { slot * 2 + 2 };
                let date = Date::from_julian_day(self.base_day + off as i32).expect("in range");
                return IdNumber::from_parts(ORIGINS[origin], date, seq as u16)
                    .expect("6-digit origin code, plausible date and sequence");
            }
            day -= 1;
        }
    }
}

/// Mobile prefixes of the three carriers, common ones listed more than once to weight them.
const MOBILE_PREFIXES: &[&str] = &[
    "139", "139", "138", "138", "137", "136", "135", "135", "134", "159", "158", "157", "152",
    "151", "150", "187", "188", "182", "183", "147", "178", "198", "130", "131", "132", "155",
    "156", "186", "186", "185", "176", "166", "133", "153", "180", "181", "189", "177", "173",
    "199", "191",
];

pub(crate) fn phone_for(person_key: u64, prefix_pick: u32) -> PhoneNumber {
    const A: u64 = 73_939_133; // odd and not a multiple of 5: invertible modulo 10^8
    let tail = (person_key.wrapping_mul(A).wrapping_add(41_772_053)) % 100_000_000;
    let prefix = MOBILE_PREFIXES[prefix_pick as usize % MOBILE_PREFIXES.len()];
    let mut s = String::with_capacity(11);
    s.push_str(prefix);
    push_padded(&mut s, tail, 8);
    PhoneNumber::parse(&s).expect("11-digit mobile with a real prefix")
}

fn push_padded(s: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    for i in (0..width).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    s.push_str(std::str::from_utf8(&buf[..width]).expect("ascii digits"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use time::macros::date;
    use wangge_domain::Sex;

    #[test]
    fn a_crowded_day_stays_unique_and_sex_consistent() {
        let mut a = IdAllocator::new(date!(2025 - 06 - 01));
        let mut seen = BTreeSet::new();
        for i in 0..2_000 {
            let male = i % 3 != 0;
            let id = a.allocate(0, date!(1990 - 05 - 05), male);
            assert_eq!(id.sex(), if male { Sex::Male } else { Sex::Female });
            assert!(seen.insert(id.as_str().to_owned()));
        }
    }

    #[test]
    fn phones_are_distinct_per_key() {
        let set: BTreeSet<_> = (1..5_000u64)
            .map(|k| phone_for(k, 0).as_str().to_owned())
            .collect();
        assert_eq!(set.len(), 4_999);
    }
}
