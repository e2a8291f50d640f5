//! What the entrustment API answers: an entrustment with where its key is now, and the key
//! events of its chain with their receipt codes.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use wangge_domain::entrustment::{HolderKind, KeyAction};
use wangge_store::entrustments::{EntrustmentRecord, KeyEventRecord};

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntrustmentOut {
    pub id: i64,
    pub household_id: i64,
    pub dwelling_id: i64,
    pub address: String,
    pub resident_name: String,
    pub contact_phone_masked: String,
    pub purpose: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// hold_key, let_contractors_in, take_photos.
    pub acts: Vec<String>,
    /// phone_call, sms or wechat.
    pub channel: String,
    /// requested, awaiting_confirmation, active, completed, revoked, expired or cancelled.
    pub state: String,
    pub state_name_zh: String,
    pub staff: Vec<StaffOut>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// not_yet, staff, cabinet, contractor, resident or lost.
    pub holder: String,
    pub holder_name_zh: String,
    pub holder_user_id: Option<i64>,
    pub cabinet_slot: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expected_return: Option<OffsetDateTime>,
    /// Held past the end, or lent past the expected return, now.
    pub overdue: bool,
    pub overdue_work_order_id: Option<i64>,
    pub key_events: i64,
    pub campaign_request_id: Option<i64>,
    /// The resident's link exists (it is shown only once, when made).
    pub resident_link: bool,
}

impl From<EntrustmentRecord> for EntrustmentOut {
    fn from(r: EntrustmentRecord) -> Self {
        let t = &r.entrustment.terms;
        let now = OffsetDateTime::now_utc();
        let held = matches!(
            r.holder,
            HolderKind::Staff | HolderKind::Cabinet | HolderKind::Contractor
        );
        let out_past_end = held && now > r.entrustment.effective_end();
        let late_back = r.expected_return.is_some_and(|b| now > b);
        EntrustmentOut {
            id: r.id,
            household_id: r.household_id,
            dwelling_id: r.dwelling_id,
            address: r.address,
            resident_name: r.resident_name,
            contact_phone_masked: r.contact_phone_masked,
            purpose: t.purpose.as_str().to_owned(),
            starts_at: t.period.starts_at(),
            ends_at: t.period.ends_at(),
            acts: t
                .permissions
                .acts()
                .map(|a| a.as_str().to_owned())
                .collect(),
            channel: t.channel.as_str().to_owned(),
            state: r.entrustment.state.as_str().to_owned(),
            state_name_zh: r.entrustment.state.name_zh().to_owned(),
            staff: r
                .staff
                .into_iter()
                .map(|(id, name)| StaffOut { id, name })
                .collect(),
            confirmed_at: r.entrustment.confirmed_at,
            ended_at: r.entrustment.ended_at,
            holder: r.holder.as_str().to_owned(),
            holder_name_zh: r.holder.name_zh().to_owned(),
            holder_user_id: r.holder_user_id,
            cabinet_slot: r.cabinet_slot,
            expected_return: r.expected_return,
            overdue: out_past_end || late_back,
            overdue_work_order_id: r.overdue_order_id,
            key_events: r.key_events,
            campaign_request_id: r.campaign_request_id,
            resident_link: r.has_link,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyEventOut {
    pub seq: u32,
    /// received_from_resident, stored, taken_from_cabinet, lent_to_contractor,
    /// returned_to_custody, returned_to_resident, lost or correction.
    pub kind: String,
    pub kind_name_zh: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: i64,
    pub actor: String,
    /// colleague, resident or contractor.
    pub witness: Option<String>,
    pub witness_id: Option<i64>,
    pub witness_name: Option<String>,
    pub cabinet_slot: Option<String>,
    pub contractor_name: Option<String>,
    pub contractor_company: Option<String>,
    pub contractor_phone_masked: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expected_return: Option<OffsetDateTime>,
    pub supervisor_id: Option<i64>,
    pub note: Option<String>,
    /// The event a correction annotates.
    pub corrects: Option<u32>,
    pub attachment_id: Option<i64>,
    /// Recorded after the key should have been back.
    pub late: bool,
    /// The receipt's verification code (e.g. 7KQ2-M9XD), read from the event's chain hash.
    pub receipt_code: String,
}

impl From<KeyEventRecord> for KeyEventOut {
    fn from(k: KeyEventRecord) -> Self {
        let e = &k.event;
        let (mut slot, mut name, mut company, mut back, mut sup, mut note, mut of) =
            (None, None, None, None, None, None, None);
        match e.action() {
            KeyAction::Stored { slot: s } => slot = Some(s.as_str().to_owned()),
            KeyAction::LentToContractor(l) => {
                name = Some(l.contractor.as_str().to_owned());
                company = Some(l.company.as_str().to_owned());
                back = Some(l.expected_return);
                sup = Some(l.supervisor.0);
            }
            KeyAction::Lost { note: n } => note = Some(n.as_str().to_owned()),
            KeyAction::Correction { of: o, note: n } => {
                of = Some(*o);
                note = Some(n.as_str().to_owned());
            }
            _ => {}
        }
        KeyEventOut {
            seq: k.seq,
            kind: e.action().kind().as_str().to_owned(),
            kind_name_zh: e.action().kind().name_zh().to_owned(),
            at: e.at(),
            actor_id: e.actor().0,
            actor: k.actor_name,
            witness: e.witness().map(|w| w.as_str().to_owned()),
            witness_id: e.witness().and_then(|w| w.colleague()).map(|s| s.0),
            witness_name: k.witness_name,
            cabinet_slot: slot,
            contractor_name: name,
            contractor_company: company,
            contractor_phone_masked: k.contractor_phone_masked,
            expected_return: back,
            supervisor_id: sup,
            note,
            corrects: of,
            attachment_id: k.attachment_id,
            late: k.late,
            receipt_code: k.receipt.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntrustmentDetail {
    #[serde(flatten)]
    pub entrustment: EntrustmentOut,
    /// The custody chain, oldest first.
    pub key_events: Vec<KeyEventOut>,
}
