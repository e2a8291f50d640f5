//! Entrustment use cases (W1): staff record a resident's entrustment (or take one on from a
//! campaign pre-registration), the resident confirms, revokes or says it is done on their own
//! page (`resident`), staff record each key hand-over (`custody`), and a periodic pass expires
//! finished periods and raises work orders for keys kept too long (`overdue`).
//!
//! The domain decides every step (`wangge_domain::entrustment`); refusals are 409 conflicts with
//! the domain's code and message.

mod custody;
mod overdue;
mod resident;

pub use custody::RecordKeyEvent;
pub use overdue::{KEY_OVERDUE_JOB, OverduePass, OverdueReport};
pub use resident::{CODE_TTL, OpenView, ResidentAccessRow, access_phrase};

use time::{Date, OffsetDateTime, UtcOffset};
use wangge_domain::entrustment::{
    ContactChannel, CustodyError, EntrustedAct, Entrustment, EntrustmentError, EntrustmentParty,
    EntrustmentPeriod, EntrustmentStep, NamedStaff, Permissions, Purpose, StaffId, Terms,
};
use wangge_domain::{PersonName, PhoneNumber, Scope};
use wangge_store::StoreError;
use wangge_store::entrustments::{EntrustmentRecord, NewEntrustment};

use crate::error::reference;
use crate::{FieldError, Registry, Result, ServiceError};

const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

/// What staff fill in when a resident entrusts their key.
#[derive(Debug, Clone, Default)]
pub struct EntrustCommand {
    pub household_id: i64,
    pub resident_name: String,
    pub phone: String,
    pub purpose: String,
    /// First and last day (Beijing) of the period.
    pub first_day: Option<Date>,
    pub last_day: Option<Date>,
    /// hold_key, let_contractors_in, take_photos.
    pub acts: Vec<String>,
    /// phone_call, sms or wechat.
    pub channel: String,
    /// The staff the resident names (the recording staff member by default).
    pub staff_ids: Vec<i64>,
}

pub fn entrustment_conflict(e: &EntrustmentError) -> ServiceError {
    ServiceError::Conflict {
        code: e.code(),
        message_zh: e.message_zh(),
        message_en: e.message_en(),
    }
}

pub fn custody_conflict(e: &CustodyError) -> ServiceError {
    ServiceError::Conflict {
        code: e.code(),
        message_zh: e.message_zh(),
        message_en: e.message_en(),
    }
}

fn field<T>(
    errors: &mut Vec<FieldError>,
    name: &str,
    r: std::result::Result<T, wangge_domain::DomainError>,
) -> Option<T> {
    r.map_err(|e| errors.push(FieldError::from_domain(name, &e)))
        .ok()
}

impl Registry {
    /// The terms as typed, checked: every problem named by its field.
    async fn terms(
        &self,
        cmd: &EntrustCommand,
        by: i64,
    ) -> Result<(PersonName, PhoneNumber, Terms)> {
        let mut errors = Vec::new();
        let name = field(
            &mut errors,
            "resident_name",
            PersonName::parse(&cmd.resident_name),
        );
        let phone = field(&mut errors, "phone", PhoneNumber::parse(&cmd.phone));
        let purpose = field(&mut errors, "purpose", Purpose::parse(&cmd.purpose));
        let acts: Vec<EntrustedAct> = cmd
            .acts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| field(&mut errors, &format!("acts[{i}]"), EntrustedAct::parse(a)))
            .collect();
        let permissions = field(&mut errors, "acts", Permissions::new(acts));
        let channel = field(&mut errors, "channel", ContactChannel::parse(&cmd.channel));
        let period = match (cmd.first_day, cmd.last_day) {
            (Some(a), Some(b)) => field(
                &mut errors,
                "last_day",
                EntrustmentPeriod::from_days(a, b, BEIJING),
            ),
            (None, _) => {
                errors.push(FieldError::required("first_day"));
                None
            }
            (_, None) => {
                errors.push(FieldError::required("last_day"));
                None
            }
        };
        let ids = if cmd.staff_ids.is_empty() {
            vec![by]
        } else {
            cmd.staff_ids.clone()
        };
        let staff = field(
            &mut errors,
            "staff_ids",
            NamedStaff::new(ids.iter().map(|i| StaffId(*i))),
        );
        let (
            Some(name),
            Some(phone),
            Some(purpose),
            Some(permissions),
            Some(channel),
            Some(period),
            Some(staff),
        ) = (name, phone, purpose, permissions, channel, period, staff)
        else {
            return Err(ServiceError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        Ok((
            name,
            phone,
            Terms {
                purpose,
                period,
                permissions,
                channel,
                staff,
            },
        ))
    }

    /// Every named staff member must work where the household lives.
    async fn check_staff(&self, staff: &NamedStaff, household: i64, scope: &Scope) -> Result<()> {
        let h = reference("household_id", self.store.household(scope, household).await)?;
        for (i, s) in staff.ids().iter().enumerate() {
            if !self.store.user_covers(s.0, &h.area_path).await? {
                return Err(ServiceError::invalid(FieldError::new(
                    &format!("staff_ids[{i}]"),
                    "entrustment.staff",
                    "被委托的工作人员不存在、已停用，或不负责该户所在区域",
                    "That staff member does not exist, is disabled, or does not work where the household lives",
                )));
            }
        }
        Ok(())
    }

    /// Records an entrustment proposed by staff; it awaits the resident's confirmation.
    pub async fn create_entrustment(
        &self,
        scope: &Scope,
        by: (i64, &str),
        cmd: EntrustCommand,
    ) -> Result<EntrustmentRecord> {
        let (name, phone, terms) = self.terms(&cmd, by.0).await?;
        self.check_staff(&terms.staff, cmd.household_id, scope)
            .await?;
        let e = Entrustment::propose(terms, OffsetDateTime::now_utc())
            .map_err(|e| entrustment_conflict(&e))?;
        self.save_entrustment(scope, by, cmd.household_id, name, phone, e, None)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn save_entrustment(
        &self,
        scope: &Scope,
        by: (i64, &str),
        household_id: i64,
        name: PersonName,
        phone: PhoneNumber,
        e: Entrustment,
        campaign_request_id: Option<i64>,
    ) -> Result<EntrustmentRecord> {
        let new = NewEntrustment {
            household_id,
            resident_name: name.as_str().to_owned(),
            contact_phone: phone,
            entrustment: e,
            campaign_request_id,
            created_by: (Some(by.0), by.1.to_owned()),
        };
        match self.store.create_entrustment(scope, &new).await {
            Err(StoreError::Check(c)) if c == "household_without_dwelling" => {
                Err(ServiceError::invalid(FieldError::new(
                    "household_id",
                    "entrustment.no_dwelling",
                    "该户没有登记户室地址，无法托管钥匙",
                    "The household has no dwelling on record: there is no door for a key",
                )))
            }
            other => reference("household_id", other),
        }
    }

    /// Takes on a resident's campaign pre-registration as an entrustment: the resident's request
    /// becomes the terms (the campaign's purpose and period, the staff member taking it on), and
    /// it goes to the resident for confirmation. The request is marked handled.
    pub async fn entrust_from_request(
        &self,
        scope: &Scope,
        by: (i64, &str),
        request_id: i64,
        cmd: EntrustCommand,
    ) -> Result<EntrustmentRecord> {
        let req = self.store.campaign_request(scope, request_id).await?;
        let item_id = req.item_id.ok_or_else(|| {
            ServiceError::conflict(
                "entrustment.request_unmatched",
                "该登记尚未对应到具体户室，请先在登记列表中指定入户",
                "The request matches no door yet: link it to a door first",
            )
        })?;
        let item = self.store.campaign_item(scope, item_id).await?;
        let household_id = item.household_id.ok_or(ServiceError::NotFound)?;
        let phone = self.store.campaign_request_phone(scope, request_id).await?;
        let cmd = EntrustCommand {
            household_id,
            resident_name: req.contact_name.clone(),
            phone,
            ..cmd
        };
        let (name, phone, terms) = self.terms(&cmd, by.0).await?;
        self.check_staff(&terms.staff, household_id, scope).await?;
        let at = OffsetDateTime::now_utc();
        let requested = Entrustment::request(terms, at).map_err(|e| entrustment_conflict(&e))?;
        let taken = requested
            .apply(
                EntrustmentStep::Take,
                EntrustmentParty::Staff,
                at,
                &wangge_domain::entrustment::Custody::new(),
            )
            .map_err(|e| entrustment_conflict(&e))?;
        let rec = self
            .save_entrustment(
                scope,
                by,
                household_id,
                name,
                phone,
                taken,
                Some(request_id),
            )
            .await?;
        self.store
            .handle_campaign_request(scope, request_id, by.1, None)
            .await?;
        Ok(rec)
    }

    /// Photos may be taken for an entrustment only while it is in force and the resident allowed
    /// them (NotFound outside the scope, like a missing one).
    pub async fn may_photograph(&self, scope: &Scope, id: i64) -> Result<()> {
        let rec = self.store.entrustment(scope, id).await?;
        if rec
            .entrustment
            .permits(EntrustedAct::TakePhotos, OffsetDateTime::now_utc())
        {
            Ok(())
        } else {
            Err(ServiceError::conflict(
                "entrustment.no_photos",
                "居民未允许拍照，或委托不在有效期内",
                "The resident has not allowed photos, or the entrustment is not in force",
            ))
        }
    }

    /// A staff step on an entrustment: cancel (decline or withdraw before confirmation).
    pub async fn entrustment_staff_step(
        &self,
        scope: &Scope,
        id: i64,
        step: EntrustmentStep,
    ) -> Result<EntrustmentRecord> {
        self.store
            .entrustment_step(
                scope,
                id,
                step,
                EntrustmentParty::Staff,
                OffsetDateTime::now_utc(),
            )
            .await?
            .map_err(|e| entrustment_conflict(&e))
    }
}
