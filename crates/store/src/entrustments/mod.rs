//! Entrustments (委托) and key custody (钥匙托管). The domain decides every step
//! (`wangge_domain::entrustment`); this module keeps the rows, replays the custody chain before
//! each new event, hash-links the chain (`chain`), and holds what the resident's own view needs
//! (`resident`) and the overdue pass (`overdue`).
//!
//! An entrustment is seen by callers whose scope holds its household; its key chain and the
//! resident's phone follow it.

mod chain;
mod overdue;
mod resident;

pub use chain::{ChainBreak, KeyEventRecord, NewKeyEvent};
pub use overdue::OverdueKey;
pub use resident::{Access, CodeCheck, ResidentView};

use time::OffsetDateTime;
use wangge_domain::entrustment::{
    ContactChannel, Custody, Entrustment, EntrustmentError, EntrustmentParty, EntrustmentPeriod,
    EntrustmentState, EntrustmentStep, HolderKind, NamedStaff, Permissions, Purpose, StaffId,
    Terms,
};
use wangge_domain::{AreaPath, PhoneNumber, Scope};

use crate::crypto::Field;
use crate::db::{DbRow, Tx, Value};
use crate::error::decode;
use crate::page::{Cursor, Page, PageRequest};
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

/// An entrustment as stored, with the domain aggregate rebuilt from its row.
#[derive(Debug, Clone)]
pub struct EntrustmentRecord {
    pub id: i64,
    pub household_id: i64,
    pub dwelling_id: i64,
    /// The dwelling's standard address.
    pub address: String,
    pub resident_name: String,
    pub contact_phone_masked: String,
    pub entrustment: Entrustment,
    /// The named staff, by id and display name.
    pub staff: Vec<(i64, String)>,
    pub campaign_request_id: Option<i64>,
    pub key_events: i64,
    /// Where the key is now (kept in step with the chain, for lists).
    pub holder: HolderKind,
    pub holder_user_id: Option<i64>,
    pub holder_name: Option<String>,
    pub cabinet_slot: Option<String>,
    pub expected_return: Option<OffsetDateTime>,
    /// The work order raised when the key was kept too long.
    pub overdue_order_id: Option<i64>,
    /// Whether the resident's link exists.
    pub has_link: bool,
    pub created_by: String,
    pub area_path: AreaPath,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewEntrustment {
    pub household_id: i64,
    pub resident_name: String,
    pub contact_phone: PhoneNumber,
    /// From `Entrustment::propose` (staff) or `Entrustment::request` (a pre-registration).
    pub entrustment: Entrustment,
    pub campaign_request_id: Option<i64>,
    pub created_by: (Option<i64>, String),
}

#[derive(Debug, Clone, Default)]
pub struct EntrustmentFilter {
    pub state: Option<EntrustmentState>,
    /// Only entrustments whose key is held (staff, cabinet or contractor): the key cabinet view.
    pub key_held: bool,
    pub household_id: Option<i64>,
    /// Only those naming this staff member.
    pub staff_id: Option<i64>,
}

const COLUMNS: &str = "e.id, e.household_id, e.dwelling_id, d.address, e.resident_name, \
     e.contact_phone_masked, e.purpose, e.starts_at, e.ends_at, e.permissions, e.channel, e.state, \
     e.created_at, e.last_at, e.confirmed_at, e.ended_at, e.campaign_request_id, e.key_events, \
     e.holder, e.holder_user_id, hu.display_name, e.cabinet_slot, e.expected_return, \
     e.overdue_order_id, e.link_hash IS NOT NULL, e.created_by, e.area_path";

const FROM: &str = "entrustments e JOIN places d ON d.id = e.dwelling_id \
     LEFT JOIN users hu ON hu.id = e.holder_user_id";

/// A stored row that no longer parses into the domain (a bug or a hand-edited row).
fn domain<T>(r: Result<T, wangge_domain::DomainError>) -> Result<T, StoreError> {
    decode(r)
}

fn holder_kind(s: &str) -> Result<HolderKind, StoreError> {
    [
        HolderKind::NotYet,
        HolderKind::Staff,
        HolderKind::Cabinet,
        HolderKind::Contractor,
        HolderKind::Resident,
        HolderKind::Lost,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
    .ok_or_else(|| StoreError::Decode(format!("key holder {s}")))
}

/// A row without its staff, which the caller reads next.
fn row(r: &dyn DbRow) -> Result<(EntrustmentRecord, RawTerms), StoreError> {
    let raw = RawTerms {
        purpose: r.text(6)?,
        starts_at: r.timestamp(7)?,
        ends_at: r.timestamp(8)?,
        permissions: r.text(9)?,
        channel: r.text(10)?,
        state: r.text(11)?,
        created_at: r.timestamp(12)?,
        last_at: r.timestamp(13)?,
        confirmed_at: r.opt_timestamp(14)?,
        ended_at: r.opt_timestamp(15)?,
    };
    // The staff come from another table; the entrustment is rebuilt (and checked) once they are
    // read, this is only its frame.
    let staff = NamedStaff::new([]).map_err(|e| StoreError::Decode(e.code().into()))?;
    let placeholder = raw.rebuild(staff)?;
    Ok((
        EntrustmentRecord {
            id: r.int(0)?,
            household_id: r.int(1)?,
            dwelling_id: r.int(2)?,
            address: r.text(3)?,
            resident_name: r.text(4)?,
            contact_phone_masked: r.text(5)?,
            entrustment: placeholder,
            staff: Vec::new(),
            campaign_request_id: r.opt_int(16)?,
            key_events: r.int(17)?,
            holder: holder_kind(&r.text(18)?)?,
            holder_user_id: r.opt_int(19)?,
            holder_name: r.opt_text(20)?,
            cabinet_slot: r.opt_text(21)?,
            expected_return: r.opt_timestamp(22)?,
            overdue_order_id: r.opt_int(23)?,
            has_link: r.int(24)? != 0,
            created_by: r.text(25)?,
            area_path: decode(AreaPath::parse(&r.text(26)?))?,
            created_at: raw.created_at,
        },
        raw,
    ))
}

/// The stored parts of the terms and state, before the staff are known.
struct RawTerms {
    purpose: String,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    permissions: String,
    channel: String,
    state: String,
    created_at: OffsetDateTime,
    last_at: OffsetDateTime,
    confirmed_at: Option<OffsetDateTime>,
    ended_at: Option<OffsetDateTime>,
}

impl RawTerms {
    fn rebuild(&self, staff: NamedStaff) -> Result<Entrustment, StoreError> {
        Ok(Entrustment {
            terms: Terms {
                purpose: domain(Purpose::parse(&self.purpose))?,
                period: domain(EntrustmentPeriod::new(self.starts_at, self.ends_at))?,
                permissions: domain(Permissions::parse(&self.permissions))?,
                channel: domain(ContactChannel::parse(&self.channel))?,
                staff,
            },
            state: domain(EntrustmentState::parse(&self.state))?,
            created_at: self.created_at,
            last_at: self.last_at,
            confirmed_at: self.confirmed_at,
            ended_at: self.ended_at,
        })
    }

    fn build(&self, staff: NamedStaff) -> Result<Entrustment, StoreError> {
        let e = self.rebuild(staff)?;
        e.check()
            .map_err(|m| StoreError::Decode(format!("entrustment: {m}")))?;
        Ok(e)
    }
}

pub(crate) fn terms_hash(terms: &Terms, id: i64, dwelling_id: i64) -> Vec<u8> {
    blake3::hash(terms.canonical(id, dwelling_id).as_bytes())
        .as_bytes()
        .to_vec()
}

impl Store {
    /// Loads entrustments by a condition (with `p` its parameters), with their named staff.
    async fn load_entrustments(
        &self,
        tx: Option<&mut Tx>,
        cond: &str,
        p: &[Value],
        tail: &str,
    ) -> Result<Vec<EntrustmentRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {cond}{tail}");
        let rows = match tx {
            Some(tx) => tx.query(&sql, p, row).await?,
            None => self.db.query(&sql, p, row).await?,
        };
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Value> = rows.iter().map(|(r, _)| Value::Int(r.id)).collect();
        let marks = vec!["?"; ids.len()].join(", ");
        let staff = self
            .db
            .query(
                &format!(
                    "SELECT s.entrustment_id, u.id, u.display_name FROM entrustment_staff s \
                     JOIN users u ON u.id = s.user_id WHERE s.entrustment_id IN ({marks}) \
                     ORDER BY s.entrustment_id, u.id"
                ),
                &ids,
                |r| Ok((r.int(0)?, r.int(1)?, r.text(2)?)),
            )
            .await?;
        rows.into_iter()
            .map(|(mut rec, raw)| {
                rec.staff = staff
                    .iter()
                    .filter(|(e, _, _)| *e == rec.id)
                    .map(|(_, u, n)| (*u, n.clone()))
                    .collect();
                let named = NamedStaff::new(rec.staff.iter().map(|(u, _)| StaffId(*u)))
                    .map_err(|e| StoreError::Decode(e.code().into()))?;
                rec.entrustment = raw.build(named)?;
                Ok(rec)
            })
            .collect()
    }

    /// An entrustment the caller sees.
    pub async fn entrustment(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<EntrustmentRecord, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("e.area_path", scope, &mut p);
        self.load_entrustments(None, &format!("e.id = ? AND {inside}"), &p, "")
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    pub async fn entrustments(
        &self,
        scope: &Scope,
        filter: &EntrustmentFilter,
        page: &PageRequest,
    ) -> Result<Page<EntrustmentRecord>, StoreError> {
        let mut p = Vec::new();
        let mut conds = vec![within("e.area_path", scope, &mut p)];
        if let Some(s) = filter.state {
            conds.push("e.state = ?".into());
            p.push(s.as_str().into());
        }
        if filter.key_held {
            conds.push("e.holder IN ('staff', 'cabinet', 'contractor')".into());
        }
        if let Some(h) = filter.household_id {
            conds.push("e.household_id = ?".into());
            p.push(Value::Int(h));
        }
        if let Some(u) = filter.staff_id {
            conds.push(
                "EXISTS (SELECT 1 FROM entrustment_staff s WHERE s.entrustment_id = e.id \
                 AND s.user_id = ?)"
                    .into(),
            );
            p.push(Value::Int(u));
        }
        if let Some(c) = &page.after {
            conds.push("e.id < ?".into());
            p.push(Value::Int(c.id));
        }
        p.push(Value::Int(page.fetch()));
        let rows = self
            .load_entrustments(
                None,
                &conds.join(" AND "),
                &p,
                " ORDER BY e.id DESC LIMIT ?",
            )
            .await?;
        Ok(Page::from_rows(rows, page, |e| Cursor {
            path: String::new(),
            id: e.id,
        }))
    }

    /// Records a new entrustment on a household inside the scope (it must have a dwelling: the
    /// key opens a door). Its chain starts from the hash of its terms.
    pub async fn create_entrustment(
        &self,
        scope: &Scope,
        new: &NewEntrustment,
    ) -> Result<EntrustmentRecord, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut p = Vec::from(params![new.household_id]);
        let inside = within("area_path", scope, &mut p);
        let (dwelling, path) = tx
            .query_opt(
                &format!(
                    "SELECT dwelling_id, area_path FROM households WHERE id = ? AND {inside} \
                     AND ended_on IS NULL"
                ),
                &p,
                |r| Ok((r.opt_int(0)?, r.text(1)?)),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let dwelling =
            dwelling.ok_or_else(|| StoreError::Check("household_without_dwelling".into()))?;
        let e = &new.entrustment;
        let t = now();
        let id = tx
            .insert(
                "INSERT INTO entrustments (household_id, dwelling_id, resident_name, \
                 contact_phone_cipher, contact_phone_masked, purpose, permissions, channel, \
                 starts_at, ends_at, state, last_at, confirmed_at, ended_at, campaign_request_id, \
                 terms_hash, chain_head, created_by_id, created_by, area_path, created_at, \
                 updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
                 ?, ?) RETURNING id",
                &params![
                    new.household_id,
                    dwelling,
                    new.resident_name.as_str(),
                    self.crypto
                        .seal(Field::EntrustmentPhone, new.contact_phone.as_str()),
                    new.contact_phone.masked(),
                    e.terms.purpose.as_str(),
                    e.terms.permissions.as_list(),
                    e.terms.channel.as_str(),
                    e.terms.period.starts_at(),
                    e.terms.period.ends_at(),
                    e.state.as_str(),
                    e.last_at,
                    e.confirmed_at,
                    e.ended_at,
                    new.campaign_request_id,
                    Vec::<u8>::new(),
                    Vec::<u8>::new(),
                    new.created_by.0,
                    new.created_by.1.as_str(),
                    path,
                    e.created_at,
                    t
                ],
            )
            .await?;
        write_terms(&mut tx, id, dwelling, &e.terms).await?;
        tx.commit().await?;
        self.entrustment(scope, id).await
    }

    /// The entrustment and its custody replayed from the chain, locked for the transaction on
    /// PostgreSQL: every change decides on the state as it is.
    pub(crate) async fn entrustment_for_update(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        id: i64,
    ) -> Result<(EntrustmentRecord, Custody, Vec<u8>), StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("e.area_path", scope, &mut p);
        let lock = match self.for_update() {
            "" => "",
            _ => " FOR UPDATE OF e",
        };
        let rec = self
            .load_entrustments(Some(tx), &format!("e.id = ? AND {inside}"), &p, lock)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        let head = tx
            .query_opt(
                "SELECT chain_head FROM entrustments WHERE id = ?",
                &params![id],
                |r| r.blob(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let events = self.chain_events(tx, id).await?;
        let custody = Custody::replay(&rec.entrustment, events.iter()).map_err(|(seq, e)| {
            StoreError::Decode(format!("key chain event {seq}: {}", e.code()))
        })?;
        Ok((rec, custody, head))
    }

    /// Takes `step` for `party` at `at`; the domain decides.
    pub async fn entrustment_step(
        &self,
        scope: &Scope,
        id: i64,
        step: EntrustmentStep,
        party: EntrustmentParty,
        at: OffsetDateTime,
    ) -> Result<Result<EntrustmentRecord, EntrustmentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (rec, custody, _) = self.entrustment_for_update(&mut tx, scope, id).await?;
        let next = match rec.entrustment.apply(step, party, at, &custody) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        save_state(&mut tx, id, &next).await?;
        tx.commit().await?;
        Ok(Ok(self.entrustment(scope, id).await?))
    }

    /// Replaces the terms of an entrustment not yet confirmed (staff name themselves when they
    /// take a resident's request); the chain's start moves with them.
    pub async fn amend_entrustment(
        &self,
        scope: &Scope,
        id: i64,
        terms: &Terms,
        at: OffsetDateTime,
    ) -> Result<Result<EntrustmentRecord, EntrustmentError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (rec, _, _) = self.entrustment_for_update(&mut tx, scope, id).await?;
        let next = match rec
            .entrustment
            .amend(terms.clone(), EntrustmentParty::Staff, at)
        {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        tx.execute(
            "UPDATE entrustments SET purpose = ?, permissions = ?, channel = ?, starts_at = ?, \
             ends_at = ?, last_at = ?, updated_at = ? WHERE id = ?",
            &params![
                terms.purpose.as_str(),
                terms.permissions.as_list(),
                terms.channel.as_str(),
                terms.period.starts_at(),
                terms.period.ends_at(),
                next.last_at,
                now(),
                id
            ],
        )
        .await?;
        tx.execute(
            "DELETE FROM entrustment_staff WHERE entrustment_id = ?",
            &params![id],
        )
        .await?;
        write_terms(&mut tx, id, rec.dwelling_id, terms).await?;
        tx.commit().await?;
        Ok(Ok(self.entrustment(scope, id).await?))
    }

    /// The phone the resident left, for the staff calling them.
    pub async fn entrustment_phone(&self, scope: &Scope, id: i64) -> Result<String, StoreError> {
        let mut p = Vec::from(params![id]);
        let inside = within("area_path", scope, &mut p);
        let sealed = self
            .db
            .query_opt(
                &format!("SELECT contact_phone_cipher FROM entrustments WHERE id = ? AND {inside}"),
                &p,
                |r| r.blob(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        self.crypto.open(Field::EntrustmentPhone, &sealed)
    }
}

/// Writes the named staff and the chain's start (the hash of the terms). Only before any key
/// event: the terms cannot change once confirmed, and nothing happens to a key before that.
async fn write_terms(tx: &mut Tx, id: i64, dwelling: i64, terms: &Terms) -> Result<(), StoreError> {
    for s in terms.staff.ids() {
        tx.execute(
            "INSERT INTO entrustment_staff (entrustment_id, user_id) VALUES (?, ?)",
            &params![id, s.0],
        )
        .await?;
    }
    let hash = terms_hash(terms, id, dwelling);
    tx.execute(
        "UPDATE entrustments SET terms_hash = ?, chain_head = ? WHERE id = ? AND key_events = 0",
        &params![hash.clone(), hash, id],
    )
    .await?;
    Ok(())
}

async fn save_state(tx: &mut Tx, id: i64, e: &Entrustment) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE entrustments SET state = ?, last_at = ?, confirmed_at = ?, ended_at = ?, \
         updated_at = ? WHERE id = ?",
        &params![
            e.state.as_str(),
            e.last_at,
            e.confirmed_at,
            e.ended_at,
            now(),
            id
        ],
    )
    .await?;
    Ok(())
}
