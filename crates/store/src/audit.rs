//! The audit trail: append-only rows, each carrying the hash of the previous one, so that an
//! edited, removed or inserted row breaks the chain at a point `verify_audit` names. Rows hold
//! ids and area paths, never personal data. Nothing in the product deletes them.

use time::OffsetDateTime;

use crate::db::{Backend, DbRow, Value};
use crate::page::{Cursor, Page, PageRequest};
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent {
    pub actor_id: Option<i64>,
    /// User name, or `anonymous` / `system`.
    pub actor: String,
    pub role: Option<String>,
    /// e.g. `auth.login`, `person.reveal`, `POST /api/v1/persons`.
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub area_path: Option<String>,
    pub reason: Option<String>,
    /// `ok`, `denied`, `failed`, or an HTTP status.
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: i64,
    pub at: OffsetDateTime,
    pub event: NewAuditEvent,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// The result of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    pub checked: u64,
    /// The first row whose stored hashes do not match, and why.
    pub first_broken: Option<(i64, String)>,
}

const COLUMNS: &str = "id, at, actor_id, actor, role, action, object_type, object_id, area_path, \
     reason, outcome, request_id, client_addr, prev_hash, hash";

fn event_from_row(r: &dyn DbRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: r.int(0)?,
        at: r.timestamp(1)?,
        event: NewAuditEvent {
            actor_id: r.opt_int(2)?,
            actor: r.text(3)?,
            role: r.opt_text(4)?,
            action: r.text(5)?,
            object_type: r.opt_text(6)?,
            object_id: r.opt_int(7)?,
            area_path: r.opt_text(8)?,
            reason: r.opt_text(9)?,
            outcome: r.text(10)?,
            request_id: r.opt_text(11)?,
            client_addr: r.opt_text(12)?,
        },
        prev_hash: r.blob(13)?,
        hash: r.blob(14)?,
    })
}

/// Both backends keep microseconds; hashing the truncated value keeps the chain verifiable.
fn micros(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .expect("truncated nanoseconds stay in range")
}

fn field(h: &mut blake3::Hasher, v: Option<&str>) {
    match v {
        None => {
            h.update(&[0]);
        }
        Some(s) => {
            h.update(&[1]);
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
}

/// The values of one `audit_events` row, in `COLUMNS` order.
fn row(id: i64, at: OffsetDateTime, e: &NewAuditEvent, prev: &[u8], hash: &[u8]) -> [Value; 15] {
    params![
        id,
        at,
        e.actor_id,
        e.actor.as_str(),
        e.role.clone(),
        e.action.as_str(),
        e.object_type.clone(),
        e.object_id,
        e.area_path.clone(),
        e.reason.clone(),
        e.outcome.as_str(),
        e.request_id.clone(),
        e.client_addr.clone(),
        prev.to_vec(),
        hash.to_vec()
    ]
}

/// The hash of a row: its content, length-prefixed, after the previous row's hash.
pub fn chain_hash(prev: &[u8], id: i64, at: OffsetDateTime, e: &NewAuditEvent) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(prev);
    h.update(&id.to_le_bytes());
    h.update(&micros(at).unix_timestamp_nanos().to_le_bytes());
    field(&mut h, e.actor_id.map(|v| v.to_string()).as_deref());
    field(&mut h, Some(&e.actor));
    field(&mut h, e.role.as_deref());
    field(&mut h, Some(&e.action));
    field(&mut h, e.object_type.as_deref());
    field(&mut h, e.object_id.map(|v| v.to_string()).as_deref());
    field(&mut h, e.area_path.as_deref());
    field(&mut h, e.reason.as_deref());
    field(&mut h, Some(&e.outcome));
    field(&mut h, e.request_id.as_deref());
    field(&mut h, e.client_addr.as_deref());
    h.finalize().as_bytes().to_vec()
}

impl Store {
    /// Appends one event. Appends are serialized by the chain head row (the SQLite writer lock,
    /// a row lock on PostgreSQL), so two servers never fork the chain.
    pub async fn append_audit(&self, e: &NewAuditEvent) -> Result<i64, StoreError> {
        let ids = self.append_audit_batch(std::slice::from_ref(e)).await?;
        Ok(ids[0])
    }

    /// Appends several events in one transaction: one head lock and one commit for all, which
    /// is what keeps auditing every read affordable under load.
    pub async fn append_audit_batch(
        &self,
        events: &[NewAuditEvent],
    ) -> Result<Vec<i64>, StoreError> {
        if self.db.backend() == Backend::Sqlite {
            // The whole batch runs on a blocking thread: SQLite writes are synchronous, and the
            // runtime's few threads should keep serving reads meanwhile.
            let events = events.to_vec();
            return self
                .db
                .with_sqlite_writer(move |conn| append_sqlite(conn, &events))
                .await;
        }
        let lock = " FOR UPDATE";
        let mut tx = self.db.begin().await?;
        let (mut last_id, mut last_hash) = tx
            .query_opt(
                &format!("SELECT last_id, last_hash FROM audit_head WHERE id = 1{lock}"),
                &[],
                |r| Ok((r.int(0)?, r.blob(1)?)),
            )
            .await?
            .ok_or_else(|| StoreError::Backend("audit chain head missing".into()))?;
        let mut ids = Vec::with_capacity(events.len());
        for e in events {
            let id = last_id + 1;
            let at = micros(now());
            let hash = chain_hash(&last_hash, id, at, e);
            tx.execute(
                &format!("INSERT INTO audit_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                &row(id, at, e, &last_hash, &hash),
            )
            .await?;
            ids.push(id);
            last_id = id;
            last_hash = hash;
        }
        tx.execute(
            "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1",
            &params![last_id, last_hash],
        )
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Events newest first; not area-scoped (only the auditor role reads them).
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let mut p: Vec<Value> = Vec::new();
        let mut conds = vec!["1 = 1".to_owned()];
        if let Some(a) = filter.actor_id {
            conds.push("actor_id = ?".into());
            p.push(a.into());
        }
        if let Some(a) = &filter.action {
            conds.push("action = ?".into());
            p.push(a.into());
        }
        if let Some(t) = &filter.object_type {
            conds.push("object_type = ?".into());
            p.push(t.into());
        }
        if let Some(o) = filter.object_id {
            conds.push("object_id = ?".into());
            p.push(o.into());
        }
        if let Some(s) = filter.since {
            conds.push("at >= ?".into());
            p.push(s.into());
        }
        if let Some(u) = filter.until {
            conds.push("at < ?".into());
            p.push(u.into());
        }
        if let Some(c) = &page.after {
            conds.push("id < ?".into());
            p.push(c.id.into());
        }
        p.push(page.fetch().into());
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY id DESC LIMIT ?",
            conds.join(" AND ")
        );
        let rows = self.db.query(&sql, &p, event_from_row).await?;
        Ok(Page::from_rows(rows, page, |e| Cursor {
            path: String::new(),
            id: e.id,
        }))
    }

    /// Recomputes the whole chain and names the first row that does not fit.
    pub async fn verify_audit(&self) -> Result<ChainCheck, StoreError> {
        let mut prev = vec![0u8; 32];
        let mut expected_id = 1;
        let mut checked = 0;
        loop {
            let rows = self
                .db
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM audit_events WHERE id >= ? ORDER BY id LIMIT 5000"
                    ),
                    &params![expected_id],
                    event_from_row,
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let broken = |why: &str| {
                    Ok(ChainCheck {
                        checked,
                        first_broken: Some((row.id, why.to_owned())),
                    })
                };
                if row.id != expected_id {
                    return broken("a row before this one is missing");
                }
                if row.prev_hash != prev {
                    return broken("previous-hash link does not match the row before");
                }
                if chain_hash(&prev, row.id, row.at, &row.event) != row.hash {
                    return broken("content does not match its hash (edited)");
                }
                prev = row.hash;
                expected_id += 1;
                checked += 1;
            }
        }
        let head = self
            .db
            .query_opt(
                "SELECT last_id, last_hash FROM audit_head WHERE id = 1",
                &[],
                |r| Ok((r.int(0)?, r.blob(1)?)),
            )
            .await?;
        match head {
            Some((last, hash)) if last == expected_id - 1 && (last == 0 || hash == prev) => {
                Ok(ChainCheck {
                    checked,
                    first_broken: None,
                })
            }
            Some((last, _)) => Ok(ChainCheck {
                checked,
                first_broken: Some((last, "rows at the end of the trail are missing".into())),
            }),
            None => Ok(ChainCheck {
                checked,
                first_broken: Some((0, "the chain head is missing".into())),
            }),
        }
    }
}

/// `append_audit_batch` for SQLite, on the writer connection.
fn append_sqlite(
    conn: &mut rusqlite::Connection,
    events: &[NewAuditEvent],
) -> Result<Vec<i64>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (mut last_id, mut last_hash): (i64, Vec<u8>) = tx.query_row(
        "SELECT last_id, last_hash FROM audit_head WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut ids = Vec::with_capacity(events.len());
    {
        let mut insert = tx.prepare_cached(&format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))?;
        for e in events {
            let id = last_id + 1;
            let at = micros(now());
            let hash = chain_hash(&last_hash, id, at, e);
            let values = row(id, at, e, &last_hash, &hash);
            insert.execute(rusqlite::params_from_iter(values.iter()))?;
            ids.push(id);
            last_id = id;
            last_hash = hash;
        }
    }
    tx.execute(
        "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1",
        rusqlite::params![last_id, last_hash],
    )?;
    tx.commit()?;
    Ok(ids)
}
