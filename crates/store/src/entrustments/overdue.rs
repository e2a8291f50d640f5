//! Keys kept too long: the entrustments whose key is still out (with staff, in the cabinet, or
//! with a contractor) past the entrustment's end or past a lend's expected return, with no work
//! order raised yet. The domain decides whether each really is overdue and who answers for it.

use time::OffsetDateTime;
use wangge_domain::Scope;
use wangge_domain::entrustment::{Custody, Overdue};

use super::EntrustmentRecord;
use crate::{Store, StoreError, now, params};

#[derive(Debug, Clone)]
pub struct OverdueKey {
    pub entrustment: EntrustmentRecord,
    pub overdue: Overdue,
}

impl Store {
    /// Entrustments whose key is out at `at` and past its end or return, not yet raised.
    pub async fn overdue_keys(&self, at: OffsetDateTime) -> Result<Vec<OverdueKey>, StoreError> {
        let everything = Scope::everything();
        let ids = self
            .db
            .query(
                "SELECT id FROM entrustments WHERE holder IN ('staff', 'cabinet', 'contractor') \
                 AND overdue_order_id IS NULL AND (ends_at < ? OR ended_at < ? \
                 OR expected_return < ?) ORDER BY id",
                &params![at, at, at],
                |r| r.int(0),
            )
            .await?;
        let mut out = Vec::new();
        for id in ids {
            let mut tx = self.db.begin().await?;
            let events = self.chain_events(&mut tx, id).await?;
            drop(tx);
            let rec = self.entrustment(&everything, id).await?;
            let custody =
                Custody::replay(&rec.entrustment, events.iter()).map_err(|(seq, e)| {
                    StoreError::Decode(format!("key chain event {seq}: {}", e.code()))
                })?;
            if let Some(overdue) = custody.overdue(&rec.entrustment, at) {
                out.push(OverdueKey {
                    entrustment: rec,
                    overdue,
                });
            }
        }
        Ok(out)
    }

    /// Records the work order raised for an overdue key (once: a second raise changes nothing).
    pub async fn mark_key_overdue(&self, id: i64, work_order_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .db
            .execute(
                "UPDATE entrustments SET overdue_order_id = ?, updated_at = ? WHERE id = ? \
                 AND overdue_order_id IS NULL",
                &params![work_order_id, now(), id],
            )
            .await?
            == 1)
    }

    /// Entrustments ending before `at` that are still pending or active: for the expiry pass.
    pub async fn entrustments_to_expire(&self, at: OffsetDateTime) -> Result<Vec<i64>, StoreError> {
        self.db
            .query(
                "SELECT id FROM entrustments WHERE ends_at <= ? AND state IN \
                 ('requested', 'awaiting_confirmation', 'active') ORDER BY id",
                &params![at],
                |r| r.int(0),
            )
            .await
    }
}
