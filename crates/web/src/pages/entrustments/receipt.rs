//! The printable receipt of one hand-over (A5, or A4 with room to spare): the dwelling, what the
//! entrustment is for, what happened to the key, who did it and who confirmed it, when, and the
//! verification code the resident can check on their own page. The print stylesheet drops the
//! navigation; the page itself is the receipt.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::detail::{EventRow, Names, audited, event_rows, replay};
use super::period_text;
use crate::AppState;
use crate::pages::work_orders::when;
use crate::pages::{Page, Shell, page_error, render};

#[derive(Template)]
#[template(path = "entrustment_receipt.html")]
struct ReceiptPage {
    shell: Shell,
    id: i64,
    address: String,
    resident: String,
    purpose: String,
    period: String,
    event: EventRow,
    /// "第 2 条：存入钥匙柜".
    event_line: String,
    /// When it was printed (a reprint says so by its own date).
    printed: String,
}

pub(super) async fn show(
    State(s): State<AppState>,
    page: Page,
    Path((id, seq)): Path<(i64, u32)>,
) -> Response {
    let t = page.t();
    let scope = page.scope();
    let store = &s.registry.store;
    let loaded = async {
        let rec = store.entrustment(&scope, id).await?;
        let events = store.key_events(&scope, id).await?;
        // A chain that no longer replays is not printed as if it were sound.
        replay(&rec, &events)?;
        Ok::<_, wangge_store::StoreError>((rec, events))
    };
    let (rec, events) = match loaded.await {
        Ok(v) => v,
        Err(e) => return page_error(page.shell, e),
    };
    let names = Names::new(&rec, &events);
    let Some(event) = event_rows(t, &names, &events)
        .into_iter()
        .find(|e| e.seq == seq)
    else {
        return page_error(page.shell, wangge_services::ServiceError::NotFound);
    };
    let out = ReceiptPage {
        event_line: t.tf("key.event_n", &[&event.seq, &event.kind]),
        id,
        address: rec.address.clone(),
        resident: rec.resident_name.clone(),
        purpose: rec.entrustment.terms.purpose.as_str().to_owned(),
        period: period_text(t, &rec),
        event,
        printed: when(t, time::OffsetDateTime::now_utc()),
        shell: page.shell,
    };
    (audited("entrustment.read", &rec), render(&out)).into_response()
}
