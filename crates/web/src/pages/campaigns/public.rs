//! A campaign's public page (`/c/{token}`): residents pre-register without an account (W2: "I
//! will be away during my slot, please act for me"). The answer is the same reference whether or
//! not the dwelling matched a door, so the page tells nobody who lives where; the abuse limits
//! answer 429. There is no session here and so no CSRF token: a post from another site (an
//! `Origin` that is not this host, or `Sec-Fetch-Site: cross-site`) is refused instead.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_domain::campaign::RequestKind;
use wangge_services::ServiceError;
use wangge_services::campaigns::PublicRequest;
use wangge_store::campaigns::RequestLimits;

use super::{period, request_kind_name};
use crate::AppState;
use crate::access::client_addr_of;
use crate::pages::{FormErrors, Page, Shell, error_page, message_page, page_error, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/c/{token}", get(show).post(submit))
}

/// What the resident typed (echoed back to them only, on a redisplay).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PublicForm {
    pub kind: String,
    pub message: String,
    pub name: String,
    pub phone: String,
    pub building: String,
    pub unit: String,
    pub dwelling: String,
    pub website: String,
}

#[derive(Template)]
#[template(path = "campaign_public.html")]
struct PublicPage {
    shell: Shell,
    token: String,
    name: String,
    purpose: String,
    period: String,
    buildings: Vec<(i64, String)>,
    kinds: Vec<(String, String)>,
    form: PublicForm,
    errors: FormErrors,
    /// Set once the request was taken: the reference to quote.
    reference: Option<String>,
}

/// A post from this site: no foreign `Origin`, not a cross-site fetch. Under this site's
/// `Referrer-Policy: no-referrer` browsers send `Origin: null` with their own form posts; such a
/// post passes only when the browser also says it is same-origin (`Sec-Fetch-Site`).
pub fn same_site(headers: &HeaderMap) -> bool {
    let text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let fetch_site = text("sec-fetch-site");
    if fetch_site == Some("cross-site") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    if origin.as_bytes() == b"null" {
        return fetch_site == Some("same-origin");
    }
    let host = text(header::HOST.as_str()).unwrap_or("");
    let origin = origin.to_str().unwrap_or("");
    let named = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    !host.is_empty() && named == Some(host)
}

/// A label as residents write it ("2单元", "601室") as the registry keeps it ("2", "601").
fn bare(label: &str, words: &[&str]) -> String {
    let mut l = label.trim();
    for w in words {
        if let Some(x) = l.strip_suffix(w) {
            l = x.trim_end();
        }
    }
    l.to_owned()
}

async fn page_for(
    s: &AppState,
    page: Page,
    token: String,
    form: PublicForm,
    errors: FormErrors,
    reference: Option<String>,
    status: StatusCode,
) -> Response {
    let t = page.t();
    let (c, buildings) = match s.registry.public_campaign(&token).await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let out = PublicPage {
        name: c.name.clone(),
        purpose: c.purpose.clone().unwrap_or_default(),
        period: period(t, &c),
        buildings,
        kinds: RequestKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), request_kind_name(t, *k).to_owned()))
            .collect(),
        form,
        errors,
        reference,
        token,
        shell: page.shell,
    };
    (status, render(&out)).into_response()
}

async fn show(State(s): State<AppState>, page: Page, Path(token): Path<String>) -> Response {
    let form = PublicForm {
        kind: RequestKind::ActForMe.as_str().to_owned(),
        ..Default::default()
    };
    page_for(
        &s,
        page,
        token,
        form,
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn submit(
    State(s): State<AppState>,
    page: Page,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    if !same_site(req.headers()) {
        return error_page(page.shell, StatusCode::FORBIDDEN);
    }
    let client = client_addr_of(&req).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let t = page.t();
    let Ok(body) = axum::body::to_bytes(req.into_body(), crate::BODY_LIMIT).await else {
        return error_page(page.shell, StatusCode::PAYLOAD_TOO_LARGE);
    };
    let form: PublicForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let building_id = match form.building.trim() {
        "" => None,
        b => Some(b.parse().unwrap_or(-1)),
    };
    let cmd = PublicRequest {
        kind: form.kind.clone(),
        message: Some(form.message.clone()),
        name: form.name.clone(),
        phone: form.phone.clone(),
        building_id,
        unit: Some(bare(&form.unit, &["单元"])),
        dwelling: bare(&form.dwelling, &["室", "号"]),
        website: Some(form.website.clone()),
    };
    let limits = RequestLimits::default();
    match s
        .registry
        .submit_public_request(&token, &client, cmd, limits)
        .await
    {
        Ok(Ok(receipt)) => {
            page_for(
                &s,
                page,
                token,
                PublicForm::default(),
                FormErrors::default(),
                Some(receipt.reference),
                StatusCode::OK,
            )
            .await
        }
        Ok(Err(_)) => message_page(
            page.shell,
            StatusCode::TOO_MANY_REQUESTS,
            t.t("campaign.public_busy").to_owned(),
        ),
        Err(ServiceError::NotFound) => page_error(page.shell, ServiceError::NotFound),
        Err(e) => match FormErrors::from_service(e, t) {
            Ok(errors) => {
                page_for(
                    &s,
                    page,
                    token,
                    form,
                    errors,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => page_error(page.shell, e),
        },
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{bare, same_site};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_posts_from_this_site_pass() {
        let host = (header::HOST.as_str(), "wg.example.cn:8700");
        assert!(same_site(&headers(&[host])), "no Origin: an old browser");
        assert!(same_site(&headers(&[
            host,
            ("origin", "http://wg.example.cn:8700")
        ])));
        assert!(same_site(&headers(&[
            host,
            ("origin", "https://wg.example.cn:8700"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_site(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!same_site(&headers(&[host, ("origin", "null")])));
        // What Chromium sends for this site's own form under `no-referrer`.
        assert!(same_site(&headers(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_site(&headers(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-site")
        ])));
        assert!(!same_site(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_site(&headers(&[(
            "origin",
            "http://wg.example.cn:8700"
        )])));
    }

    #[test]
    fn labels_lose_the_words_residents_add() {
        assert_eq!(bare(" 2单元 ", &["单元"]), "2");
        assert_eq!(bare("601室", &["室", "号"]), "601");
        assert_eq!(bare("A座", &["室", "号"]), "A座");
    }
}
