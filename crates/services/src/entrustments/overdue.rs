//! The periodic pass over entrustments: periods that ended expire (the system's step), and a key
//! still out past the end or past a lend's expected return raises one work order to the
//! community (category 托管钥匙超期未还) and tells the staff answerable for it.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use wangge_domain::Scope;
use wangge_domain::entrustment::{EntrustmentParty, EntrustmentStep, OverdueKind};
use wangge_store::jobs::Job;
use wangge_store::work_orders::{Actor, Source};

use crate::jobs::{JobFuture, JobHandler};
use crate::registry::ReportWorkOrder;
use crate::{Registry, Result, ServiceError};

pub const KEY_OVERDUE_JOB: &str = "entrustments.overdue";
const CATEGORY: &str = "key_custody_overdue";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverdueReport {
    pub expired: usize,
    pub raised: usize,
}

impl Registry {
    /// One pass at `now`. Runs under the job runner's lease, one runner at a time.
    pub async fn entrustments_pass(&self, now: OffsetDateTime) -> Result<OverdueReport> {
        let all = Scope::everything();
        let mut report = OverdueReport::default();
        for id in self.store.entrustments_to_expire(now).await? {
            let step = self
                .store
                .entrustment_step(
                    &all,
                    id,
                    EntrustmentStep::Expire,
                    EntrustmentParty::System,
                    now,
                )
                .await?;
            report.expired += usize::from(step.is_ok());
        }
        let keys = self.store.overdue_keys(now).await?;
        if keys.is_empty() {
            return Ok(report);
        }
        let category = self
            .store
            .work_order_categories()
            .await?
            .into_iter()
            .find(|c| c.code == CATEGORY)
            .ok_or_else(|| {
                ServiceError::conflict("work_order.category", "缺少工单类别", "Category missing")
            })?;
        let system = Actor {
            id: None,
            name: "system".into(),
        };
        for k in keys {
            let e = &k.entrustment;
            let (what_zh, title) = match k.overdue.kind {
                OverdueKind::HeldPastEnd => ("委托期满后钥匙仍未交还居民", "托管钥匙超期未还"),
                OverdueKind::LentPastReturn => (
                    "钥匙借给施工人员后超过约定时间未归还",
                    "施工人员借用钥匙超期未还",
                ),
            };
            let cmd = ReportWorkOrder {
                category_id: category.id,
                source: Source::Alert,
                title: title.to_owned(),
                description: format!(
                    "委托编号 {}（{}）：{}。请经办人员尽快联系处理，钥匙交还后在委托页面登记。",
                    e.id,
                    e.entrustment.terms.purpose.as_str(),
                    what_zh
                ),
                household_id: Some(e.household_id),
                place_id: None,
                area_id: None,
                priority: None,
            };
            let order = self.report_work_order(&all, &system, cmd, now).await?;
            if self.store.mark_key_overdue(e.id, order.id).await? {
                let who: Vec<i64> = k.overdue.responsible.iter().map(|s| s.0).collect();
                self.store
                    .enqueue_key_overdue(e.id, order.id, &who, &order.title, &order.area_path, now)
                    .await?;
                report.raised += 1;
            }
        }
        Ok(report)
    }
}

/// The pass as a periodic job.
pub struct OverduePass {
    pub registry: Registry,
    pub every: Duration,
}

impl OverduePass {
    pub fn standard(registry: &Registry) -> Arc<OverduePass> {
        Arc::new(OverduePass {
            registry: registry.clone(),
            every: Duration::minutes(10),
        })
    }
}

impl JobHandler for OverduePass {
    fn run<'a>(&'a self, _job: &'a Job, now: OffsetDateTime) -> JobFuture<'a> {
        Box::pin(async move {
            match self.registry.entrustments_pass(now).await {
                Ok(r) => {
                    if r.raised > 0 || r.expired > 0 {
                        tracing::info!(expired = r.expired, raised = r.raised, "entrustments pass");
                    }
                    Ok(Some(now + self.every))
                }
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
