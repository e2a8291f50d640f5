//! The embedded static files, served with long cache lifetimes under versioned URLs.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

struct Asset {
    name: &'static str,
    body: &'static [u8],
    mime: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        body: include_bytes!("../../assets/app.css"),
        mime: "text/css; charset=utf-8",
    },
    Asset {
        name: "htmx-2.0.11.min.js",
        body: include_bytes!("../../assets/vendor/htmx-2.0.11.min.js"),
        mime: "text/javascript; charset=utf-8",
    },
];

fn versioned(name: &str) -> String {
    let a = ASSETS.iter().find(|a| a.name == name).expect("known asset");
    format!(
        "/assets/{}?v={}",
        a.name,
        &blake3::hash(a.body).to_hex()[..10]
    )
}

static CSS: LazyLock<String> = LazyLock::new(|| versioned("app.css"));
static HTMX: LazyLock<String> = LazyLock::new(|| versioned("htmx-2.0.11.min.js"));

pub fn css_url() -> &'static str {
    &CSS
}

pub fn htmx_url() -> &'static str {
    &HTMX
}

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(serve))
}

async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => {
            let mut resp = a.body.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.mime));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            resp
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
