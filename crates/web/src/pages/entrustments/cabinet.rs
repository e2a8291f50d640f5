//! The key cabinet (钥匙柜): every entrusted key held now in the caller's area — with a staff
//! member, in the cabinet by slot, with a contractor — per community, overdue first: the daily
//! list a community keeps of the keys in its custody. And the today page's card: the keys on
//! entrustments naming the caller.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use time::OffsetDateTime;
use wangge_domain::entrustment::HolderKind;
use wangge_services::identity::Caller;
use wangge_store::StoreError;
use wangge_store::entrustments::{EntrustmentFilter, EntrustmentRecord};
use wangge_store::page::{MAX_LIMIT, PageRequest};

use super::{holder_line, overdue_now};
use crate::AppState;
use crate::pages::{Page, Shell, page_error, render};

/// One key in the cabinet view or on the today card.
pub struct TodayKey {
    pub id: i64,
    pub address: String,
    pub purpose: String,
    pub holder: String,
    pub holder_code: String,
    pub overdue: bool,
    pub overdue_order: Option<i64>,
}

impl TodayKey {
    fn of(t: crate::i18n::Texts, r: &EntrustmentRecord, now: OffsetDateTime) -> TodayKey {
        TodayKey {
            id: r.id,
            address: r.address.clone(),
            purpose: r.entrustment.terms.purpose.as_str().to_owned(),
            holder: holder_line(t, r),
            holder_code: r.holder.as_str().to_owned(),
            overdue: overdue_now(r, now),
            overdue_order: r.overdue_order_id,
        }
    }
}

/// Overdue first; then keys out of the office (contractors), in staff hands, in the cabinet by
/// slot: the order someone checking the keys at the end of the day walks them.
fn sort_key(r: &EntrustmentRecord, now: OffsetDateTime) -> (bool, u8, String, i64) {
    let place = match r.holder {
        HolderKind::Contractor => 0,
        HolderKind::Staff => 1,
        _ => 2,
    };
    (
        !overdue_now(r, now),
        place,
        r.cabinet_slot.clone().unwrap_or_default(),
        r.id,
    )
}

async fn held(
    s: &AppState,
    scope: &wangge_domain::Scope,
    staff_id: Option<i64>,
) -> Result<Vec<EntrustmentRecord>, StoreError> {
    let filter = EntrustmentFilter {
        key_held: true,
        staff_id,
        ..Default::default()
    };
    let all = PageRequest {
        after: None,
        limit: MAX_LIMIT,
    };
    let mut found = s
        .registry
        .store
        .entrustments(scope, &filter, &all)
        .await?
        .items;
    let now = OffsetDateTime::now_utc();
    found.sort_by_key(|r| sort_key(r, now));
    Ok(found)
}

/// The keys on entrustments naming the caller, overdue first (the today card).
pub async fn today(
    s: &AppState,
    caller: &Caller,
    t: crate::i18n::Texts,
) -> Result<Vec<TodayKey>, StoreError> {
    let now = OffsetDateTime::now_utc();
    Ok(held(s, &caller.scope, Some(caller.user_id))
        .await?
        .iter()
        .take(20)
        .map(|r| TodayKey::of(t, r, now))
        .collect())
}

/// The keys of one community.
pub struct Community {
    pub name: String,
    pub keys: Vec<TodayKey>,
    pub overdue: usize,
}

#[derive(Template)]
#[template(path = "key_cabinet.html")]
struct CabinetPage {
    shell: Shell,
    today: String,
    total: usize,
    communities: Vec<Community>,
}

pub(super) async fn show(State(s): State<AppState>, page: Page) -> Response {
    let t = page.t();
    let scope = page.scope();
    let now = OffsetDateTime::now_utc();
    let built = async {
        let keys = held(&s, &scope, None).await?;
        let total = keys.len();
        // Grouped by community (the fourth level of the area path), in the order first seen.
        let mut groups: Vec<(i64, Vec<TodayKey>)> = Vec::new();
        for r in &keys {
            let ids = r.area_path.ids();
            let community = ids.get(3).or(ids.last()).copied().unwrap_or_default();
            let key = TodayKey::of(t, r, now);
            match groups.iter_mut().find(|(c, _)| *c == community) {
                Some((_, list)) => list.push(key),
                None => groups.push((community, vec![key])),
            }
        }
        let mut communities = Vec::new();
        for (id, keys) in groups {
            let name = s
                .registry
                .store
                .area(&scope, id)
                .await
                .map(|a| a.name)
                .unwrap_or_default();
            communities.push(Community {
                overdue: keys.iter().filter(|k| k.overdue).count(),
                name,
                keys,
            });
        }
        Ok::<_, StoreError>((total, communities))
    };
    match built.await {
        Ok((total, communities)) => render(&CabinetPage {
            today: t.date(&s.registry.clock.today()),
            total,
            communities,
            shell: page.shell,
        }),
        Err(e) => page_error(page.shell, e),
    }
}
