//! The key custody chain: every event appended after replaying the chain so far through the
//! domain, hash-linked (each row's hash covers its canonical text and the previous hash; the
//! first row's previous hash is the hash of the confirmed terms), never edited or deleted.
//! `verify_custody_chains` recomputes every link, like `wangge audit verify` for the trail.

use time::OffsetDateTime;
use wangge_domain::entrustment::{
    CabinetSlot, Company, Custody, CustodyError, KeyAction, KeyActionKind, KeyEvent, KeyHolder,
    KeyNote, Lend, PhotoDigest, ReceiptCode, StaffId, Witness,
};
use wangge_domain::{PersonName, PhoneNumber, Scope};

use super::{EntrustmentRecord, terms_hash};
use crate::crypto::Field;
use crate::db::{DbRow, Tx};
use crate::error::decode;
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

/// An event to append, with what only the store records about it.
#[derive(Debug, Clone)]
pub struct NewKeyEvent {
    pub event: KeyEvent,
    pub actor_name: String,
    /// The photo's attachment (on the entrustment), whose content hash the event carries.
    pub attachment_id: Option<i64>,
}

/// A stored event, for pages, receipts and the resident's view.
#[derive(Debug, Clone)]
pub struct KeyEventRecord {
    pub id: i64,
    pub seq: u32,
    pub event: KeyEvent,
    pub actor_name: String,
    pub witness_name: Option<String>,
    pub supervisor_name: Option<String>,
    /// The contractor's phone, masked (lends).
    pub contractor_phone_masked: Option<String>,
    /// Recorded after the key should have been back (held past the end, or lent past return).
    pub late: bool,
    pub receipt: ReceiptCode,
    pub attachment_id: Option<i64>,
    pub created_at: OffsetDateTime,
}

/// Where a chain no longer adds up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub entrustment_id: i64,
    /// The first event whose link or content fails; `None` when the terms themselves were changed.
    pub seq: Option<u32>,
    pub problem: &'static str,
}

pub(crate) fn chain_hash(prev: &[u8], canonical: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(prev);
    h.update(canonical.as_bytes());
    *h.finalize().as_bytes()
}

const EVENT_COLUMNS: &str = "k.id, k.seq, k.kind, k.at, k.actor_id, k.actor, k.witness, \
     k.witness_id, k.cabinet_slot, k.contractor_name, k.contractor_company, \
     k.contractor_phone_cipher, k.expected_return, k.supervisor_id, k.note, k.corrects, \
     k.photo_digest, k.late, k.receipt_code, k.attachment_id, k.created_at, w.display_name, \
     s.display_name, k.contractor_phone_masked, k.prev_hash, k.hash";

const EVENT_FROM: &str = "key_events k LEFT JOIN users w ON w.id = k.witness_id \
     LEFT JOIN users s ON s.id = k.supervisor_id";

/// A stored event and its stored hashes.
struct Stored {
    record: KeyEventRecord,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

fn text<T>(r: Result<T, wangge_domain::DomainError>) -> Result<T, StoreError> {
    decode(r)
}

impl Store {
    fn event_from_row(&self, r: &dyn DbRow) -> Result<Stored, StoreError> {
        let kind = text(KeyActionKind::parse(&r.text(2)?))?;
        let note = || -> Result<KeyNote, StoreError> {
            text(KeyNote::parse(&r.opt_text(14)?.unwrap_or_default()))
        };
        let action =
            match kind {
                KeyActionKind::ReceivedFromResident => KeyAction::ReceivedFromResident,
                KeyActionKind::Stored => KeyAction::Stored {
                    slot: text(CabinetSlot::parse(&r.opt_text(8)?.unwrap_or_default()))?,
                },
                KeyActionKind::TakenFromCabinet => KeyAction::TakenFromCabinet,
                KeyActionKind::LentToContractor => {
                    let sealed = r
                        .opt_blob(11)?
                        .ok_or_else(|| StoreError::Decode("lend without a phone".into()))?;
                    let phone = self.crypto.open(Field::ContractorPhone, &sealed)?;
                    KeyAction::LentToContractor(Lend {
                        contractor: text(PersonName::parse(&r.opt_text(9)?.unwrap_or_default()))?,
                        company: text(Company::parse(&r.opt_text(10)?.unwrap_or_default()))?,
                        phone: text(PhoneNumber::parse(&phone))?,
                        expected_return: r
                            .opt_timestamp(12)?
                            .ok_or_else(|| StoreError::Decode("lend without a return".into()))?,
                        supervisor: StaffId(r.opt_int(13)?.ok_or_else(|| {
                            StoreError::Decode("lend without a supervisor".into())
                        })?),
                    })
                }
                KeyActionKind::ReturnedToCustody => KeyAction::ReturnedToCustody,
                KeyActionKind::ReturnedToResident => KeyAction::ReturnedToResident,
                KeyActionKind::Lost => KeyAction::Lost { note: note()? },
                KeyActionKind::Correction => KeyAction::Correction {
                    of: u32::try_from(r.opt_int(15)?.unwrap_or(0))
                        .map_err(|e| StoreError::Decode(format!("correction target: {e}")))?,
                    note: note()?,
                },
            };
        let mut event = KeyEvent::new(action, r.timestamp(3)?, StaffId(r.int(4)?));
        if let Some(w) = r.opt_text(6)? {
            event = event.with_witness(text(Witness::from_parts(&w, r.opt_int(7)?.map(StaffId)))?);
        }
        if let Some(p) = r.opt_text(16)? {
            event = event.with_photo(text(PhotoDigest::parse(&p))?);
        }
        let seq = u32::try_from(r.int(1)?).map_err(|e| StoreError::Decode(format!("seq: {e}")))?;
        Ok(Stored {
            record: KeyEventRecord {
                id: r.int(0)?,
                seq,
                event,
                actor_name: r.text(5)?,
                late: r.int(17)? != 0,
                receipt: text(ReceiptCode::parse(&r.text(18)?))?,
                attachment_id: r.opt_int(19)?,
                created_at: r.timestamp(20)?,
                witness_name: r.opt_text(21)?,
                supervisor_name: r.opt_text(22)?,
                contractor_phone_masked: r.opt_text(23)?,
            },
            prev_hash: r.blob(24)?,
            hash: r.blob(25)?,
        })
    }

    async fn stored_events(&self, tx: Option<&mut Tx>, id: i64) -> Result<Vec<Stored>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM {EVENT_FROM} WHERE k.entrustment_id = ? ORDER BY k.seq"
        );
        let p = params![id];
        let mut rows = Vec::new();
        let mut f = |r: &dyn DbRow| self.event_from_row(r);
        match tx {
            Some(tx) => rows.extend(tx.query(&sql, &p, &mut f).await?),
            None => rows.extend(self.db.query(&sql, &p, &mut f).await?),
        }
        Ok(rows)
    }

    /// The chain's events in order, as the domain replays them.
    pub(crate) async fn chain_events(
        &self,
        tx: &mut Tx,
        id: i64,
    ) -> Result<Vec<KeyEvent>, StoreError> {
        Ok(self
            .stored_events(Some(tx), id)
            .await?
            .into_iter()
            .map(|s| s.record.event)
            .collect())
    }

    /// The key events of an entrustment the caller sees, oldest first.
    pub async fn key_events(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Vec<KeyEventRecord>, StoreError> {
        self.entrustment(scope, id).await?;
        Ok(self
            .stored_events(None, id)
            .await?
            .into_iter()
            .map(|s| s.record)
            .collect())
    }

    /// Appends an event if the custody rules allow it (replayed over the chain so far); it is
    /// marked late when the key should already have been back.
    pub async fn append_key_event(
        &self,
        scope: &Scope,
        id: i64,
        new: &NewKeyEvent,
    ) -> Result<Result<(EntrustmentRecord, KeyEventRecord), CustodyError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let (rec, custody, head) = self.entrustment_for_update(&mut tx, scope, id).await?;
        let ev = &new.event;
        let late = custody.is_overdue(&rec.entrustment, ev.at());
        let next = match custody.apply(&rec.entrustment, ev) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let seq = custody.next_seq();
        let hash = chain_hash(&head, &ev.canonical(id, seq));
        let receipt = ReceiptCode::from_hash(&hash);
        let (slot, lend, note, corrects) = match ev.action() {
            KeyAction::Stored { slot } => (Some(slot.as_str().to_owned()), None, None, None),
            KeyAction::LentToContractor(l) => (None, Some(l), None, None),
            KeyAction::Lost { note } => (None, None, Some(note.as_str().to_owned()), None),
            KeyAction::Correction { of, note } => (
                None,
                None,
                Some(note.as_str().to_owned()),
                Some(i64::from(*of)),
            ),
            _ => (None, None, None, None),
        };
        tx.execute(
            "INSERT INTO key_events (entrustment_id, seq, kind, at, actor_id, actor, witness, \
             witness_id, cabinet_slot, contractor_name, contractor_company, \
             contractor_phone_cipher, contractor_phone_masked, expected_return, supervisor_id, \
             note, corrects, photo_digest, attachment_id, late, prev_hash, hash, receipt_code, \
             area_path, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &params![
                id,
                i64::from(seq),
                ev.action().kind().as_str(),
                ev.at(),
                ev.actor().0,
                new.actor_name.as_str(),
                ev.witness().map(|w| w.as_str()),
                ev.witness().and_then(|w| w.colleague()).map(|s| s.0),
                slot,
                lend.map(|l| l.contractor.as_str().to_owned()),
                lend.map(|l| l.company.as_str().to_owned()),
                lend.map(|l| self.crypto.seal(Field::ContractorPhone, l.phone.as_str())),
                lend.map(|l| l.phone.masked()),
                lend.map(|l| l.expected_return),
                lend.map(|l| l.supervisor.0),
                note,
                corrects,
                ev.photo().map(|p| p.as_str().to_owned()),
                new.attachment_id,
                i64::from(late),
                head,
                hash.to_vec(),
                receipt.as_str(),
                rec.area_path.as_str(),
                now()
            ],
        )
        .await?;
        let (user, slot, back) = match next.holder() {
            KeyHolder::Staff(s) => (Some(s.0), None, None),
            KeyHolder::Cabinet(c) => (None, Some(c.as_str().to_owned()), None),
            KeyHolder::Contractor(l) => (Some(l.supervisor.0), None, Some(l.expected_return)),
            KeyHolder::NotYet | KeyHolder::Resident | KeyHolder::Lost => (None, None, None),
        };
        tx.execute(
            "UPDATE entrustments SET chain_head = ?, key_events = ?, holder = ?, \
             holder_user_id = ?, cabinet_slot = ?, expected_return = ?, updated_at = ? \
             WHERE id = ?",
            &params![
                hash.to_vec(),
                i64::from(seq),
                next.holder().kind().as_str(),
                user,
                slot,
                back,
                now(),
                id
            ],
        )
        .await?;
        tx.commit().await?;
        let rec = self.entrustment(scope, id).await?;
        let stored = self
            .key_events(scope, id)
            .await?
            .into_iter()
            .find(|e| e.seq == seq)
            .ok_or(StoreError::NotFound)?;
        Ok(Ok((rec, stored)))
    }

    /// Recomputes every entrustment's chain: the terms' hash, then each event's link and hash
    /// from its stored content. Returns the first break of each broken chain.
    pub async fn verify_custody_chains(&self) -> Result<Vec<ChainBreak>, StoreError> {
        let everything = Scope::everything();
        let ids = self
            .db
            .query(
                "SELECT id, terms_hash FROM entrustments ORDER BY id",
                &[],
                |r| Ok((r.int(0)?, r.blob(1)?)),
            )
            .await?;
        let mut breaks = Vec::new();
        for (id, stored_terms) in ids {
            let rec = self.entrustment(&everything, id).await?;
            let terms = terms_hash(&rec.entrustment.terms, id, rec.dwelling_id);
            if terms != stored_terms {
                breaks.push(ChainBreak {
                    entrustment_id: id,
                    seq: None,
                    problem: "terms changed",
                });
                continue;
            }
            let mut prev = terms;
            let mut custody = Custody::new();
            for (i, s) in self.stored_events(None, id).await?.into_iter().enumerate() {
                let seq = s.record.seq;
                let broken = |problem| ChainBreak {
                    entrustment_id: id,
                    seq: Some(seq),
                    problem,
                };
                if usize::try_from(seq).ok() != Some(i + 1) {
                    breaks.push(broken("event missing"));
                    break;
                }
                if s.prev_hash != prev {
                    breaks.push(broken("link broken"));
                    break;
                }
                let hash = chain_hash(&prev, &s.record.event.canonical(id, seq));
                if s.hash != hash || s.record.receipt != ReceiptCode::from_hash(&hash) {
                    breaks.push(broken("content changed"));
                    break;
                }
                match custody.apply(&rec.entrustment, &s.record.event) {
                    Ok(c) => custody = c,
                    Err(_) => {
                        breaks.push(broken("breaks the custody rules"));
                        break;
                    }
                }
                prev = hash.to_vec();
            }
        }
        Ok(breaks)
    }

    /// The event with this receipt code on an entrustment the caller sees.
    pub async fn key_event_by_receipt(
        &self,
        scope: &Scope,
        code: &ReceiptCode,
    ) -> Result<(EntrustmentRecord, KeyEventRecord), StoreError> {
        let mut p = Vec::from(params![code.as_str()]);
        let inside = within("area_path", scope, &mut p);
        let (id, seq) = self
            .db
            .query_opt(
                &format!(
                    "SELECT entrustment_id, seq FROM key_events WHERE receipt_code = ? AND {inside}"
                ),
                &p,
                |r| Ok((r.int(0)?, r.int(1)?)),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let rec = self.entrustment(scope, id).await?;
        let ev = self
            .key_events(scope, id)
            .await?
            .into_iter()
            .find(|e| i64::from(e.seq) == seq)
            .ok_or(StoreError::NotFound)?;
        Ok((rec, ev))
    }
}
