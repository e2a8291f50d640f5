//! The resident's own view of an entrustment, without an account: a link (random, stored only as
//! a keyed hash), a one-time code given through the entrustment's contact channel (a handful of
//! tries, a few codes a day), and a short view session after the code. Also what the view shows
//! beyond the chain: who in the community read or changed the household's records, from the
//! audit trail.

use time::{Date, OffsetDateTime};
use wangge_domain::Scope;

use super::{EntrustmentRecord, KeyEventRecord};
use crate::crypto::Field;
use crate::{Store, StoreError, now, params};

/// A resident's link works while the entrustment is pending, in force or completed; revoking,
/// expiry and cancelling end it (and any view on it).
const LIVE: &str = "state NOT IN ('revoked', 'expired', 'cancelled')";

/// Wrong codes allowed per code before it is void.
pub const CODE_TRIES: i64 = 5;

/// What a code check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the view session is open.
    Opened,
    Wrong {
        tries_left: i64,
    },
    /// No live code (none issued, expired, or used up): ask for a new one.
    NoCode,
}

/// One access to the household's records, as the trail holds it.
#[derive(Debug, Clone)]
pub struct Access {
    pub at: OffsetDateTime,
    /// The staff member's display name (or their user name when they are gone).
    pub who: String,
    pub role: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub reason: Option<String>,
}

/// Everything the resident's page shows.
#[derive(Debug, Clone)]
pub struct ResidentView {
    pub entrustment: EntrustmentRecord,
    pub events: Vec<KeyEventRecord>,
    /// Photos on the entrustment (the finished work, hand-overs), by attachment id.
    pub photos: Vec<i64>,
    pub accesses: Vec<Access>,
}

impl Store {
    fn access_hash(&self, secret: &str) -> Vec<u8> {
        self.crypto.lookup_hash(Field::ResidentAccess, secret)
    }

    /// Sets (or replaces) the resident's link of an entrustment the caller sees.
    pub async fn set_resident_link(
        &self,
        scope: &Scope,
        id: i64,
        link: &str,
    ) -> Result<(), StoreError> {
        self.entrustment(scope, id).await?;
        self.db
            .execute(
                "UPDATE entrustments SET link_hash = ?, code_hash = NULL, view_hash = NULL, \
                 updated_at = ? WHERE id = ?",
                &params![self.access_hash(link), now(), id],
            )
            .await?;
        Ok(())
    }

    /// The entrustment behind a resident's link.
    pub async fn entrustment_by_link(&self, link: &str) -> Result<EntrustmentRecord, StoreError> {
        let id = self
            .db
            .query_opt(
                &format!("SELECT id FROM entrustments WHERE link_hash = ? AND {LIVE}"),
                &params![self.access_hash(link)],
                |r| r.int(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        self.entrustment(&Scope::everything(), id).await
    }

    /// Stores a new one-time code unless `per_day` codes were already issued today; `Ok(false)`
    /// when the day's allowance is used.
    pub async fn issue_resident_code(
        &self,
        id: i64,
        code: &str,
        expires_at: OffsetDateTime,
        today: Date,
        per_day: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let lock = self.for_update();
        let (day, n) = tx
            .query_opt(
                &format!("SELECT codes_day, codes_today FROM entrustments WHERE id = ?{lock}"),
                &params![id],
                |r| Ok((r.opt_date(0)?, r.int(1)?)),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let issued = if day == Some(today) { n } else { 0 };
        if issued >= per_day {
            return Ok(false);
        }
        tx.execute(
            "UPDATE entrustments SET code_hash = ?, code_expires_at = ?, code_attempts = 0, \
             codes_day = ?, codes_today = ?, updated_at = ? WHERE id = ?",
            &params![
                self.access_hash(code),
                expires_at,
                today,
                issued + 1,
                now(),
                id
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Checks a code given on the resident's link; the right one opens a view session under
    /// `session` until `session_until` and is used up.
    pub async fn check_resident_code(
        &self,
        link: &str,
        code: &str,
        at: OffsetDateTime,
        session: &str,
        session_until: OffsetDateTime,
    ) -> Result<CodeCheck, StoreError> {
        let mut tx = self.db.begin().await?;
        let lock = self.for_update();
        let (id, stored, expires, attempts) = tx
            .query_opt(
                &format!(
                    "SELECT id, code_hash, code_expires_at, code_attempts FROM entrustments \
                     WHERE link_hash = ? AND {LIVE}{lock}"
                ),
                &params![self.access_hash(link)],
                |r| Ok((r.int(0)?, r.opt_blob(1)?, r.opt_timestamp(2)?, r.int(3)?)),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let live = stored.is_some() && expires.is_some_and(|e| at < e) && attempts < CODE_TRIES;
        if !live {
            return Ok(CodeCheck::NoCode);
        }
        if stored.as_deref() != Some(self.access_hash(code).as_slice()) {
            tx.execute(
                "UPDATE entrustments SET code_attempts = code_attempts + 1 WHERE id = ?",
                &params![id],
            )
            .await?;
            tx.commit().await?;
            return Ok(CodeCheck::Wrong {
                tries_left: CODE_TRIES - attempts - 1,
            });
        }
        tx.execute(
            "UPDATE entrustments SET code_hash = NULL, code_expires_at = NULL, view_hash = ?, \
             view_expires_at = ?, updated_at = ? WHERE id = ?",
            &params![self.access_hash(session), session_until, now(), id],
        )
        .await?;
        tx.commit().await?;
        Ok(CodeCheck::Opened)
    }

    /// The entrustment a live view session on its link opens.
    pub async fn entrustment_by_view(
        &self,
        link: &str,
        session: &str,
        at: OffsetDateTime,
    ) -> Result<EntrustmentRecord, StoreError> {
        let id = self
            .db
            .query_opt(
                &format!(
                    "SELECT id FROM entrustments WHERE link_hash = ? AND view_hash = ? \
                     AND view_expires_at > ? AND {LIVE}"
                ),
                &params![self.access_hash(link), self.access_hash(session), at],
                |r| r.int(0),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        self.entrustment(&Scope::everything(), id).await
    }

    /// Ends a view session (the resident signs out of their page).
    pub async fn end_resident_view(&self, link: &str) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE entrustments SET view_hash = NULL, view_expires_at = NULL WHERE link_hash = ?",
                &params![self.access_hash(link)],
            )
            .await?;
        Ok(())
    }

    /// What the resident's page shows for an entrustment: the chain, the photos, and who
    /// accessed the household's records (the household, its members past and present, their
    /// campaign doors and visits, this entrustment), newest first.
    pub async fn resident_view(&self, rec: EntrustmentRecord) -> Result<ResidentView, StoreError> {
        let everything = Scope::everything();
        let events = self.key_events(&everything, rec.id).await?;
        let photos = self
            .db
            .query(
                "SELECT id FROM attachments WHERE parent_kind = 'entrustment' AND parent_id = ? \
                 ORDER BY id",
                &params![rec.id],
                |r| r.int(0),
            )
            .await?;
        let h = rec.household_id;
        let accesses = self
            .db
            .query(
                "SELECT a.at, COALESCE(u.display_name, a.actor), a.role, a.action, a.object_type, \
                 a.reason FROM audit_events a LEFT JOIN users u ON u.id = a.actor_id \
                 WHERE a.actor_id IS NOT NULL AND ( \
                 (a.object_type = 'household' AND a.object_id = ?) \
                 OR (a.object_type = 'person' AND a.object_id IN \
                     (SELECT person_id FROM household_members WHERE household_id = ?)) \
                 OR (a.object_type = 'campaign_item' AND a.object_id IN \
                     (SELECT id FROM campaign_items WHERE household_id = ?)) \
                 OR (a.object_type = 'visit' AND a.object_id IN \
                     (SELECT id FROM visits WHERE household_id = ?)) \
                 OR (a.object_type = 'entrustment' AND a.object_id = ?)) \
                 ORDER BY a.id DESC LIMIT 200",
                &params![h, h, h, h, rec.id],
                |r| {
                    Ok(Access {
                        at: r.timestamp(0)?,
                        who: r.text(1)?,
                        role: r.opt_text(2)?,
                        action: r.text(3)?,
                        object_type: r.opt_text(4)?,
                        reason: r.opt_text(5)?,
                    })
                },
            )
            .await?;
        Ok(ResidentView {
            entrustment: rec,
            events,
            photos,
            accesses,
        })
    }
}
