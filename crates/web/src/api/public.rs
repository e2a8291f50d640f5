//! The residents' side of a campaign, no account needed: what the campaign is and which
//! buildings it covers, and a pre-registration (W2 "I will be away during my slot, please act
//! for me"). The answer never says whether the dwelling matched a door, so nothing about other
//! residents can be learned here; limits per client address and per campaign stop floods.

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::campaign::RequestKind;
use wangge_services::campaigns::PublicRequest;
use wangge_store::campaigns::{RequestLimits, RequestRefusal};

use crate::AppState;
use crate::access::client_addr_of;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_campaign))
        .routes(routes!(pre_register))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingOut {
    pub id: i64,
    /// Its standard address.
    pub address: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestKindOut {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCampaignOut {
    pub name: String,
    pub purpose: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    #[schema(value_type = String, format = Date)]
    pub ends_on: Date,
    pub buildings: Vec<BuildingOut>,
    pub request_kinds: Vec<RequestKindOut>,
}

/// A campaign's public page data, while its pre-registration link is open (404 otherwise).
#[utoipa::path(get, path = "/public/campaigns/{token}", tag = "public",
    responses((status = 200, body = PublicCampaignOut), (status = 404, body = Problem)))]
async fn public_campaign(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<PublicCampaignOut>> {
    let (c, buildings) = s.registry.public_campaign(&token).await?;
    Ok(Json(PublicCampaignOut {
        name: c.name,
        purpose: c.purpose,
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        buildings: buildings
            .into_iter()
            .map(|(id, address)| BuildingOut { id, address })
            .collect(),
        request_kinds: RequestKind::ALL
            .iter()
            .map(|k| RequestKindOut {
                code: k.as_str().to_owned(),
                name_zh: k.name_zh().to_owned(),
                name_en: k.name_en().to_owned(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreRegistrationIn {
    /// act_for_me, reschedule or other.
    pub kind: String,
    pub message: Option<String>,
    pub name: String,
    /// Where staff call back; stored encrypted.
    pub phone: String,
    pub building_id: Option<i64>,
    pub unit: Option<String>,
    /// The room, as on the door (e.g. 301).
    pub dwelling: String,
    /// Leave empty.
    pub website: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptOut {
    /// Quote it when staff call.
    pub reference: String,
    pub message_zh: String,
    pub message_en: String,
}

pub fn limited() -> ApiError {
    ApiError::Denied {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "request.rate_limited",
        zh: "提交过于频繁，请稍后再试，或直接联系社区".into(),
        en: "Too many requests; please try again later or contact the community".into(),
    }
}

/// Leaves a pre-registration. 202 with a reference whether or not the dwelling is on the
/// campaign's list.
#[utoipa::path(post, path = "/public/campaigns/{token}/requests", tag = "public",
    request_body = PreRegistrationIn,
    responses((status = 202, body = ReceiptOut), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn pre_register(
    State(s): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> ApiResult<(StatusCode, Json<ReceiptOut>)> {
    let client = client_addr_of(&req).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let ApiJson(body) = ApiJson::<PreRegistrationIn>::from_request(req, &s).await?;
    let r = PublicRequest {
        kind: body.kind,
        message: body.message,
        name: body.name,
        phone: body.phone,
        building_id: body.building_id,
        unit: body.unit,
        dwelling: body.dwelling,
        website: body.website,
    };
    match s
        .registry
        .submit_public_request(&token, &client, r, RequestLimits::default())
        .await?
    {
        Ok(receipt) => Ok((
            StatusCode::ACCEPTED,
            Json(ReceiptOut {
                message_zh: format!(
                    "已收到您的登记，工作人员会尽快与您联系。登记编号：{}",
                    receipt.reference
                ),
                message_en: format!(
                    "Received. Staff will contact you soon. Your reference: {}",
                    receipt.reference
                ),
                reference: receipt.reference,
            }),
        )),
        Err(RequestRefusal::ClientLimit | RequestRefusal::CampaignLimit) => Err(limited()),
    }
}
