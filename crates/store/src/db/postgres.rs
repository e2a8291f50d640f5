//! PostgreSQL through tokio-postgres with a deadpool pool. SQL text is written once with `?`
//! placeholders; they are numbered `$1, $2, …` here.

use std::borrow::Cow;
use std::error::Error as StdError;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};

use super::value::{DbRow, Value};
use crate::StoreError;

pub(crate) struct PgDb {
    pool: Pool,
}

impl PgDb {
    pub(crate) fn connect(url: &str, max_size: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Config(format!("database URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .build()
            .map_err(|e| StoreError::Config(format!("pool: {e}")))?;
        Ok(PgDb { pool })
    }

    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

/// `?` → `$n`, leaving quoted literals and identifiers alone.
pub(crate) fn number_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    Cow::Owned(out)
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

pub(crate) async fn query<T>(
    client: &Object,
    sql: &str,
    params: &[Value],
    f: &mut (dyn FnMut(&dyn DbRow) -> Result<T, StoreError> + Send),
) -> Result<Vec<T>, StoreError> {
    let stmt = client.prepare_cached(&number_placeholders(sql)).await?;
    let rows = client.query(&stmt, &refs(params)).await?;
    rows.iter().map(|r| f(&PgRow(r))).collect()
}

pub(crate) async fn execute(
    client: &Object,
    sql: &str,
    params: &[Value],
) -> Result<u64, StoreError> {
    let stmt = client.prepare_cached(&number_placeholders(sql)).await?;
    Ok(client.execute(&stmt, &refs(params)).await?)
}

/// A transaction on one pooled connection; rolled back unless committed.
pub(crate) struct PgTx {
    client: Option<Object>,
}

impl PgTx {
    pub(crate) async fn begin(client: Object) -> Result<Self, StoreError> {
        client.batch_execute("BEGIN").await?;
        Ok(PgTx {
            client: Some(client),
        })
    }

    pub(crate) fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("client present until commit or drop")
    }

    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let client = self.client.take().expect("client present until commit");
        client.batch_execute("COMMIT").await?;
        Ok(())
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            match tokio::runtime::Handle::try_current() {
                // The connection goes back to the pool only once the rollback is through.
                Ok(rt) => {
                    rt.spawn(async move {
                        if client.batch_execute("ROLLBACK").await.is_err() {
                            let _ = Object::take(client);
                        }
                    });
                }
                Err(_) => {
                    let _ = Object::take(client);
                }
            }
        }
    }
}

struct PgRow<'a>(&'a Row);

fn decode(i: usize, e: impl std::fmt::Display) -> StoreError {
    StoreError::Decode(format!("column {i}: {e}"))
}

impl DbRow for PgRow<'_> {
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        let ty = self.0.columns()[i].type_();
        let r = match *ty {
            Type::INT8 => self.0.try_get::<_, Option<i64>>(i),
            Type::INT4 => self
                .0
                .try_get::<_, Option<i32>>(i)
                .map(|v| v.map(i64::from)),
            Type::INT2 => self
                .0
                .try_get::<_, Option<i16>>(i)
                .map(|v| v.map(i64::from)),
            Type::BOOL => self
                .0
                .try_get::<_, Option<bool>>(i)
                .map(|v| v.map(i64::from)),
            _ => return Err(decode(i, format!("integer expected, found {ty}"))),
        };
        r.map_err(|e| decode(i, e))
    }
    fn opt_float(&self, i: usize) -> Result<Option<f64>, StoreError> {
        let ty = self.0.columns()[i].type_();
        match *ty {
            Type::FLOAT8 => self.0.try_get::<_, Option<f64>>(i),
            Type::FLOAT4 => self
                .0
                .try_get::<_, Option<f32>>(i)
                .map(|v| v.map(f64::from)),
            _ => return self.opt_int(i).map(|v| v.map(|v| v as f64)),
        }
        .map_err(|e| decode(i, e))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.0.try_get(i).map_err(|e| decode(i, e))
    }
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.try_get(i).map_err(|e| decode(i, e))
    }
    fn opt_date(&self, i: usize) -> Result<Option<time::Date>, StoreError> {
        self.0.try_get(i).map_err(|e| decode(i, e))
    }
    fn opt_timestamp(&self, i: usize) -> Result<Option<time::OffsetDateTime>, StoreError> {
        self.0.try_get(i).map_err(|e| decode(i, e))
    }
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Float(v) => v.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
            Value::Date(d) => d.to_sql(ty, out),
            Value::Timestamp(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        // The variant decides; a mismatch is reported by the inner type's encoder.
        true
    }

    to_sql_checked!();
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        if let Some(db) = e.as_db_error() {
            let detail = db.constraint().unwrap_or(db.message()).to_owned();
            let code = db.code();
            if *code == SqlState::UNIQUE_VIOLATION {
                return StoreError::Conflict(detail);
            }
            if *code == SqlState::FOREIGN_KEY_VIOLATION {
                return StoreError::ForeignKey(detail);
            }
            if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
                return StoreError::Check(detail);
            }
            return StoreError::Backend(format!("{}: {}", code.code(), db.message()));
        }
        StoreError::Backend(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::number_placeholders;

    #[test]
    fn numbers_placeholders_outside_quotes() {
        assert_eq!(
            number_placeholders("SELECT '?' , x FROM t WHERE a = ? AND b = ?"),
            "SELECT '?' , x FROM t WHERE a = $1 AND b = $2"
        );
    }
}
