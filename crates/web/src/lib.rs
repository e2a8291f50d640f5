//! HTTP: the JSON API under `/api/v1` (OpenAPI at `/api/v1/openapi.json`) and health probes.

pub mod access;
pub mod api;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use wangge_services::Registry;
use wangge_services::attachments::Attachments;
use wangge_services::identity::Identity;

/// Request bodies above this are refused with 413 (photo uploads have their own limit).
pub const BODY_LIMIT: usize = 256 * 1024;

/// Photos a page form may carry at once (the visit form).
pub const PHOTOS_PER_FORM: usize = 4;

#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub identity: Identity,
    pub login_limiter: Arc<access::LoginLimiter>,
    /// Photo storage; without it, upload and photo routes answer 503.
    pub attachments: Option<Attachments>,
    openapi: Arc<OpenApi>,
}

impl AppState {
    /// The largest multipart body a page form with photos may send.
    pub fn page_upload_limit(&self) -> usize {
        page_upload_limit(self.attachments.as_ref())
    }
}

fn max_photo_bytes(attachments: Option<&Attachments>) -> usize {
    attachments.map_or(wangge_media::DEFAULT_MAX_BYTES, |a| a.limits().max_bytes)
}

fn page_upload_limit(attachments: Option<&Attachments>) -> usize {
    PHOTOS_PER_FORM * (max_photo_bytes(attachments) + api::attachments::MULTIPART_MARGIN)
}

/// Content-Security-Policy: scripts and styles only from this server, no inline script, no
/// framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The whole HTTP application, without photo storage.
pub fn app(registry: Registry) -> Router {
    build(registry, None)
}

/// The whole HTTP application with photo attachments stored by `attachments`.
pub fn app_with_attachments(registry: Registry, attachments: Attachments) -> Router {
    build(registry, Some(attachments))
}

fn build(registry: Registry, attachments: Option<Attachments>) -> Router {
    let upload_limit = max_photo_bytes(attachments.as_ref()) + api::attachments::MULTIPART_MARGIN;
    let page_limit = page_upload_limit(attachments.as_ref());
    let (api, openapi) = api::router(upload_limit, page_limit).split_for_parts();
    let state = AppState {
        identity: Identity::new(registry.store.clone()),
        registry,
        attachments,
        login_limiter: Arc::new(access::LoginLimiter::new(
            10,
            std::time::Duration::from_secs(60),
        )),
        openapi: Arc::new(openapi),
    };
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .merge(api::health::router())
        .merge(pages::router(page_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(error::localize))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Registry,
    attachments: Attachments,
) -> std::io::Result<()> {
    let app = app_with_attachments(registry, attachments)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
