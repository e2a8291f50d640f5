//! Recording a key hand-over: the event as typed becomes a domain `KeyEvent` (every part parsed),
//! then the store replays the chain and appends it if the custody rules allow.

use time::{Duration, OffsetDateTime};
use wangge_domain::entrustment::{
    CabinetSlot, Company, Custody, KeyAction, KeyActionKind, KeyEvent, KeyNote, Lend, PhotoDigest,
    StaffId, Witness,
};
use wangge_domain::{PersonName, PhoneNumber, Scope};
use wangge_store::StoreError;
use wangge_store::attachments::AttachmentParent;
use wangge_store::entrustments::{EntrustmentRecord, KeyEventRecord, NewKeyEvent};

use super::{custody_conflict, field};
use crate::{FieldError, Registry, Result, ServiceError};

/// Phones drift; an event a few minutes "in the future" is still now. Later is refused: the chain
/// is replayed in time order and a future event would block every real one before it.
const CLOCK_SKEW: Duration = Duration::minutes(10);

/// A hand-over as typed (pages and the API).
#[derive(Debug, Clone, Default)]
pub struct RecordKeyEvent {
    /// received_from_resident, stored, taken_from_cabinet, lent_to_contractor,
    /// returned_to_custody, returned_to_resident, lost, correction.
    pub kind: String,
    /// Defaults to now.
    pub at: Option<OffsetDateTime>,
    /// colleague, resident or contractor.
    pub witness: Option<String>,
    pub witness_id: Option<i64>,
    pub slot: Option<String>,
    pub contractor_name: Option<String>,
    pub company: Option<String>,
    pub contractor_phone: Option<String>,
    pub expected_return: Option<OffsetDateTime>,
    /// The staff member who answers for a lent key (the recording one by default).
    pub supervisor_id: Option<i64>,
    pub note: Option<String>,
    /// The event a correction annotates.
    pub corrects: Option<u32>,
    /// A photo already attached to the entrustment.
    pub attachment_id: Option<i64>,
}

fn required<T>(errors: &mut Vec<FieldError>, name: &str, v: Option<T>) -> Option<T> {
    if v.is_none() {
        errors.push(FieldError::required(name));
    }
    v
}

impl Registry {
    /// Records a key hand-over if the custody rules allow it.
    pub async fn record_key_event(
        &self,
        scope: &Scope,
        by: (i64, &str),
        id: i64,
        cmd: RecordKeyEvent,
    ) -> Result<(EntrustmentRecord, KeyEventRecord)> {
        let event = self.key_event(scope, by, id, &cmd).await?;
        let new = NewKeyEvent {
            event,
            actor_name: by.1.to_owned(),
            attachment_id: cmd.attachment_id,
        };
        self.store
            .append_key_event(scope, id, &new)
            .await?
            .map_err(|e| custody_conflict(&e))
    }

    /// Whether `cmd` would be recorded now, without recording anything: the same field errors
    /// and custody conflicts as [`Registry::record_key_event`]. A page that takes a photo with the
    /// hand-over asks this before storing the photo, so a refused hand-over leaves no photo behind
    /// on the entrustment (the photo does not change what the rules allow).
    pub async fn check_key_event(
        &self,
        scope: &Scope,
        by: (i64, &str),
        id: i64,
        cmd: &RecordKeyEvent,
    ) -> Result<()> {
        let cmd = RecordKeyEvent {
            attachment_id: None,
            ..cmd.clone()
        };
        let event = self.key_event(scope, by, id, &cmd).await?;
        let rec = self.store.entrustment(scope, id).await?;
        let events = self.store.key_events(scope, id).await?;
        let custody = Custody::replay(&rec.entrustment, events.iter().map(|e| &e.event)).map_err(
            |(seq, e)| StoreError::Decode(format!("key chain event {seq}: {}", e.code())),
        )?;
        custody
            .apply(&rec.entrustment, &event)
            .map(|_| ())
            .map_err(|e| custody_conflict(&e))
    }

    /// The event as typed, every part parsed (field errors all at once), on an entrustment the
    /// caller sees.
    async fn key_event(
        &self,
        scope: &Scope,
        by: (i64, &str),
        id: i64,
        cmd: &RecordKeyEvent,
    ) -> Result<KeyEvent> {
        self.store.entrustment(scope, id).await?;
        let now = OffsetDateTime::now_utc();
        let at = cmd.at.unwrap_or(now);
        let mut errors = Vec::new();
        if at > now + CLOCK_SKEW {
            errors.push(FieldError::new(
                "at",
                "date.future",
                "交接时间不能晚于现在",
                "A hand-over cannot be in the future",
            ));
        }
        let kind = field(&mut errors, "kind", KeyActionKind::parse(&cmd.kind));
        let text = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let action = match kind {
            None => None,
            Some(KeyActionKind::ReceivedFromResident) => Some(KeyAction::ReceivedFromResident),
            Some(KeyActionKind::TakenFromCabinet) => Some(KeyAction::TakenFromCabinet),
            Some(KeyActionKind::ReturnedToCustody) => Some(KeyAction::ReturnedToCustody),
            Some(KeyActionKind::ReturnedToResident) => Some(KeyAction::ReturnedToResident),
            Some(KeyActionKind::Stored) => required(&mut errors, "slot", text(&cmd.slot))
                .and_then(|s| field(&mut errors, "slot", CabinetSlot::parse(&s)))
                .map(|slot| KeyAction::Stored { slot }),
            Some(KeyActionKind::Lost) => required(&mut errors, "note", text(&cmd.note))
                .and_then(|n| field(&mut errors, "note", KeyNote::parse(&n)))
                .map(|note| KeyAction::Lost { note }),
            Some(KeyActionKind::Correction) => {
                let of = required(&mut errors, "corrects", cmd.corrects);
                let note = required(&mut errors, "note", text(&cmd.note))
                    .and_then(|n| field(&mut errors, "note", KeyNote::parse(&n)));
                of.zip(note)
                    .map(|(of, note)| KeyAction::Correction { of, note })
            }
            Some(KeyActionKind::LentToContractor) => {
                let name = required(&mut errors, "contractor_name", text(&cmd.contractor_name))
                    .and_then(|n| field(&mut errors, "contractor_name", PersonName::parse(&n)));
                let company = required(&mut errors, "company", text(&cmd.company))
                    .and_then(|c| field(&mut errors, "company", Company::parse(&c)));
                let phone = required(&mut errors, "contractor_phone", text(&cmd.contractor_phone))
                    .and_then(|p| field(&mut errors, "contractor_phone", PhoneNumber::parse(&p)));
                let back = required(&mut errors, "expected_return", cmd.expected_return);
                match (name, company, phone, back) {
                    (Some(contractor), Some(company), Some(phone), Some(expected_return)) => {
                        Some(KeyAction::LentToContractor(Lend {
                            contractor,
                            company,
                            phone,
                            expected_return,
                            supervisor: StaffId(cmd.supervisor_id.unwrap_or(by.0)),
                        }))
                    }
                    _ => None,
                }
            }
        };
        let witness = match cmd
            .witness
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            None => None,
            Some(w) => field(
                &mut errors,
                "witness",
                Witness::from_parts(w, cmd.witness_id.map(StaffId)),
            ),
        };
        let photo = match cmd.attachment_id {
            None => None,
            Some(a) => match self.store.attachment(scope, a).await {
                Ok(att) if att.parent == AttachmentParent::Entrustment(id) => field(
                    &mut errors,
                    "attachment_id",
                    PhotoDigest::parse(&att.content_hash),
                ),
                Ok(_) | Err(StoreError::NotFound) => {
                    errors.push(FieldError::unknown_reference("attachment_id"));
                    None
                }
                Err(e) => return Err(e.into()),
            },
        };
        let Some(action) = action.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::Invalid(errors));
        };
        let mut event = KeyEvent::new(action, at, StaffId(by.0));
        if let Some(w) = witness {
            event = event.with_witness(w);
        }
        if let Some(p) = photo {
            event = event.with_photo(p);
        }
        Ok(event)
    }
}
