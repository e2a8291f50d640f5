//! Keyset pagination: lists are ordered by (area_path, id) or by id, and a cursor is the opaque
//! position of the last row returned. No OFFSET, no total counts over millions of rows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::StoreError;
use crate::db::Value;

pub const MAX_LIMIT: u32 = 500;
pub const DEFAULT_LIMIT: u32 = 50;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub path: String,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        B64.encode(format!("{}|{}", self.path, self.id))
    }

    pub fn decode(s: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::Check("cursor".into());
        let raw = B64.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (path, id) = text.rsplit_once('|').ok_or_else(bad)?;
        Ok(Cursor {
            path: path.to_owned(),
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            after: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl PageRequest {
    pub(crate) fn fetch(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_LIMIT)) + 1
    }

    /// `(path_col, id_col) > (cursor)` as SQL, or nothing on the first page.
    pub(crate) fn after_sql(
        &self,
        path_col: &str,
        id_col: &str,
        params: &mut Vec<Value>,
    ) -> String {
        match &self.after {
            None => "1 = 1".to_owned(),
            Some(c) => {
                params.push(Value::Text(c.path.clone()));
                params.push(Value::Int(c.id));
                format!("({path_col}, {id_col}) > (?, ?)")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Trims the extra row fetched to detect a next page and derives its cursor.
    pub(crate) fn from_rows(
        mut rows: Vec<T>,
        req: &PageRequest,
        key: impl Fn(&T) -> Cursor,
    ) -> Self {
        let limit = req.limit.clamp(1, MAX_LIMIT) as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&key)
        } else {
            None
        };
        Page { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            path: "/1/2/3/".into(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not a cursor!").is_err());
    }
}
