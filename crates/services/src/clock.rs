use time::{Date, OffsetDateTime, UtcOffset};

/// Today's date where the work happens (Beijing time); fixed in tests.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    #[default]
    System,
    Fixed(Date),
}

const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

impl Clock {
    pub fn today(&self) -> Date {
        match self {
            Clock::System => OffsetDateTime::now_utc().to_offset(BEIJING).date(),
            Clock::Fixed(d) => *d,
        }
    }

    /// The latest birth date of someone at least `years` old today.
    pub fn born_by_age(&self, years: u16) -> Date {
        let today = self.today();
        let year = today.year() - i32::from(years);
        Date::from_calendar_date(year, today.month(), today.day())
            .or_else(|_| Date::from_calendar_date(year, today.month(), today.day() - 1))
            .expect("Feb 29 falls back to Feb 28")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ages_from_a_fixed_day() {
        let c = Clock::Fixed(date!(2026 - 11 - 25));
        assert_eq!(c.born_by_age(70), date!(1956 - 11 - 25));
        let leap = Clock::Fixed(date!(2024 - 02 - 29));
        assert_eq!(leap.born_by_age(1), date!(2023 - 02 - 28));
    }
}
