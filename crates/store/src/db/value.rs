//! Values bound to and read from SQL, the same on both backends.
//!
//! Dates and timestamps are native types on PostgreSQL and fixed-width ISO text on SQLite, so
//! that text comparison orders them correctly there.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    Date(Date),
    Timestamp(OffsetDateTime),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<Date> for Value {
    fn from(v: Date) -> Self {
        Value::Date(v)
    }
}
impl From<OffsetDateTime> for Value {
    fn from(v: OffsetDateTime) -> Self {
        Value::Timestamp(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter array: `&params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { [$($crate::db::Value::from($v)),*] };
}

const DATE_FMT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");
const TS_FMT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub(crate) fn date_to_text(d: Date) -> String {
    d.format(DATE_FMT).expect("a Date always formats")
}

pub(crate) fn text_to_date(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, DATE_FMT).map_err(|e| StoreError::Decode(format!("date: {e}")))
}

pub(crate) fn ts_to_text(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(TS_FMT)
        .expect("a timestamp always formats")
}

pub(crate) fn text_to_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Decode(format!("timestamp: {e}")))
}

/// Reads one result row by column position, whatever the backend.
pub trait DbRow {
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn opt_float(&self, i: usize) -> Result<Option<f64>, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
    fn opt_date(&self, i: usize) -> Result<Option<Date>, StoreError>;
    fn opt_timestamp(&self, i: usize) -> Result<Option<OffsetDateTime>, StoreError>;

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| null_at(i))
    }
    fn float(&self, i: usize) -> Result<f64, StoreError> {
        self.opt_float(i)?.ok_or_else(|| null_at(i))
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| null_at(i))
    }
    fn blob(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        self.opt_blob(i)?.ok_or_else(|| null_at(i))
    }
    fn date(&self, i: usize) -> Result<Date, StoreError> {
        self.opt_date(i)?.ok_or_else(|| null_at(i))
    }
    fn timestamp(&self, i: usize) -> Result<OffsetDateTime, StoreError> {
        self.opt_timestamp(i)?.ok_or_else(|| null_at(i))
    }
}

fn null_at(i: usize) -> StoreError {
    StoreError::Decode(format!("unexpected NULL in column {i}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_round_trip_and_sort_as_text() {
        let a = datetime!(2026-11-25 09:05:31.5 +08:00);
        let b = datetime!(2026-11-25 09:05:31.75 +08:00);
        assert_eq!(text_to_ts(&ts_to_text(a)).unwrap(), a);
        assert!(ts_to_text(a) < ts_to_text(b));
    }
}
