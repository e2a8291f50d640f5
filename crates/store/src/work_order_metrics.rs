//! The rows the work-order metrics are computed from: each order reported in a time range,
//! rebuilt as the domain aggregate (the metrics are the domain's, `WorkOrder::metrics`).

use time::OffsetDateTime;
use wangge_domain::{AreaPath, Scope, WorkOrder};

use crate::error::decode;
use crate::scope_sql::within;
use crate::work_orders::{STATE_COLS, order_from_row};
use crate::{Store, StoreError, params};

/// One order as the metrics see it.
#[derive(Debug, Clone)]
pub struct MetricsOrder {
    pub area_path: AreaPath,
    pub category_id: i64,
    pub order: WorkOrder,
}

impl Store {
    /// Orders in the scope reported in `[from, to)`.
    pub async fn work_orders_reported_between(
        &self,
        scope: &Scope,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<MetricsOrder>, StoreError> {
        let mut p = Vec::new();
        let inside = within("w.area_path", scope, &mut p);
        p.extend(params![from, to]);
        let state: Vec<String> = STATE_COLS[..24].iter().map(|c| format!("w.{c}")).collect();
        self.db
            .query(
                &format!(
                    "SELECT w.area_path, w.category_id, {} FROM work_orders w \
                     WHERE {inside} AND w.reported_at >= ? AND w.reported_at < ?",
                    state.join(", ")
                ),
                &p,
                |r| {
                    Ok(MetricsOrder {
                        area_path: decode(AreaPath::parse(&r.text(0)?))?,
                        category_id: r.int(1)?,
                        order: order_from_row(r, 2)?,
                    })
                },
            )
            .await
    }
}
