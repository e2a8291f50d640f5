//! Residents' pre-registrations on a campaign's public page: no account, nothing revealed. The
//! answer is the same whether or not the dwelling matched a door (a reference code to quote),
//! so the page cannot be used to learn who lives where; limits per client address and per
//! campaign keep it from being flooded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::{Rng, RngCore};
use wangge_domain::campaign::RequestKind;
use wangge_domain::campaign::request::REQUEST_MESSAGE_MAX;
use wangge_domain::{PersonName, PhoneNumber, Scope};
use wangge_store::campaigns::{
    Campaign, CampaignRequest, NewRequest, RequestLimits, RequestReceipt, RequestRefusal,
};

use super::text;
use crate::{FieldError, Registry, Result, ServiceError};

/// Reference codes: unambiguous letters and digits (no 0/O, 1/I/L).
const REFERENCE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const REFERENCE_LEN: usize = 8;
const LABEL_MAX: usize = 20;

/// A new unguessable token for a campaign's public link (128 bits).
pub fn new_public_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    B64.encode(bytes)
}

fn new_reference() -> String {
    let mut rng = rand::rng();
    (0..REFERENCE_LEN)
        .map(|_| char::from(REFERENCE_ALPHABET[rng.random_range(0..REFERENCE_ALPHABET.len())]))
        .collect()
}

/// What a resident typed on the public page.
#[derive(Debug, Clone, Default)]
pub struct PublicRequest {
    pub kind: String,
    pub message: Option<String>,
    pub name: String,
    pub phone: String,
    pub building_id: Option<i64>,
    pub unit: Option<String>,
    pub dwelling: String,
    /// A field people never see; bots fill it in.
    pub website: Option<String>,
}

fn label(field: &str, v: Option<String>) -> Result<Option<String>> {
    text(field, v, LABEL_MAX)
}

impl Registry {
    /// The campaign behind an open public link, and the buildings residents can pick from (their
    /// standard addresses: places, not people).
    pub async fn public_campaign(&self, token: &str) -> Result<(Campaign, Vec<(i64, String)>)> {
        let c = self.store.campaign_by_public_token(token).await?;
        let buildings = self.store.campaign_buildings(c.id).await?;
        Ok((c, buildings))
    }

    /// Takes a resident's request. `Ok(Err(_))` is a refusal by the abuse limits (nothing
    /// written).
    pub async fn submit_public_request(
        &self,
        token: &str,
        client: &str,
        req: PublicRequest,
        limits: RequestLimits,
    ) -> Result<std::result::Result<RequestReceipt, RequestRefusal>> {
        let c = self.store.campaign_by_public_token(token).await?;
        let mut errors = Vec::new();
        let kind = RequestKind::parse(&req.kind)
            .map_err(|e| errors.push(FieldError::from_domain("kind", &e)))
            .ok();
        let name = PersonName::parse(&req.name)
            .map_err(|e| errors.push(FieldError::from_domain("name", &e)))
            .ok();
        let phone = PhoneNumber::parse(&req.phone)
            .map_err(|e| errors.push(FieldError::from_domain("phone", &e)))
            .ok();
        let message = text("message", req.message, REQUEST_MESSAGE_MAX)
            .map_err(|e| push_invalid(&mut errors, e))
            .ok()
            .flatten();
        let unit = label("unit", req.unit)
            .map_err(|e| push_invalid(&mut errors, e))
            .ok()
            .flatten();
        let dwelling = match label("dwelling", Some(req.dwelling)) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                errors.push(FieldError::required("dwelling"));
                None
            }
            Err(e) => {
                push_invalid(&mut errors, e);
                None
            }
        };
        if let Some(b) = req.building_id
            && !self
                .store
                .campaign_buildings(c.id)
                .await?
                .iter()
                .any(|(id, _)| *id == b)
        {
            errors.push(FieldError::unknown_reference("building_id"));
        }
        let (Some(kind), Some(name), Some(phone), Some(dwelling)) = (kind, name, phone, dwelling)
        else {
            return Err(ServiceError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        if req.website.is_some_and(|w| !w.trim().is_empty()) {
            // A bot: answered like anyone refused for volume, and nothing is kept.
            return Ok(Err(RequestRefusal::ClientLimit));
        }
        let new = NewRequest {
            campaign_id: c.id,
            reference: new_reference(),
            kind,
            message,
            contact_name: name.as_str().to_owned(),
            contact_phone: phone,
            building_id: req.building_id,
            unit_label: unit,
            dwelling_label: dwelling,
            client: client.to_owned(),
        };
        Ok(self.store.submit_campaign_request(&new, limits).await?)
    }

    /// Marks a request handled, optionally linking it to the door it is about.
    pub async fn handle_campaign_request(
        &self,
        scope: &Scope,
        by: &str,
        id: i64,
        item_id: Option<i64>,
    ) -> Result<CampaignRequest> {
        match self
            .store
            .handle_campaign_request(scope, id, by, item_id)
            .await
        {
            Err(wangge_store::StoreError::NotFound) if item_id.is_some() => {
                // The request was found first, so a missing row here is the door.
                self.store.campaign_request(scope, id).await?;
                Err(ServiceError::invalid(FieldError::unknown_reference(
                    "item_id",
                )))
            }
            other => Ok(other?),
        }
    }
}

fn push_invalid(errors: &mut Vec<FieldError>, e: ServiceError) {
    if let ServiceError::Invalid(list) = e {
        errors.extend(list);
    }
}
