use std::sync::{Arc, Mutex};

use time::{Date, Duration, OffsetDateTime, UtcOffset};

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

/// The current instant, for background work: the system's, or one that tests set and advance
/// (shared by every clone, so several runners can be driven together).
#[derive(Debug, Clone, Default)]
pub struct Now(Option<Arc<Mutex<OffsetDateTime>>>);

impl Now {
    pub fn system() -> Now {
        Now(None)
    }

    pub fn manual(at: OffsetDateTime) -> Now {
        Now(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> OffsetDateTime {
        match &self.0 {
            None => OffsetDateTime::now_utc(),
            Some(t) => *t.lock().expect("clock poisoned"),
        }
    }

    /// Whether tests drive this clock (then nothing sleeps on it).
    pub fn is_manual(&self) -> bool {
        self.0.is_some()
    }

    /// Moves a manual clock on; the system clock cannot be moved.
    ///
    /// # Panics
    /// On the system clock: only tests move time.
    pub fn advance(&self, by: Duration) {
        let t = self.0.as_ref().expect("only a manual clock advances");
        *t.lock().expect("clock poisoned") += by;
    }

    /// Sets a manual clock.
    ///
    /// # Panics
    /// On the system clock.
    pub fn set(&self, at: OffsetDateTime) {
        let t = self.0.as_ref().expect("only a manual clock is set");
        *t.lock().expect("clock poisoned") = at;
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

    #[test]
    fn a_manual_clock_is_shared_by_its_clones() {
        let t0 = time::macros::datetime!(2026-11-25 09:00 +08:00);
        let a = Now::manual(t0);
        let b = a.clone();
        a.advance(Duration::minutes(5));
        assert_eq!(b.now(), t0 + Duration::minutes(5));
        b.set(t0);
        assert_eq!(a.now(), t0);
        assert!(!Now::system().is_manual());
    }
}
