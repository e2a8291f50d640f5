//! The P5 write lines: a person's phone number saved again, a phone visit recorded, and a
//! work-order step (reassigning a dispatched order to another unit), each through the API
//! beside the raw write endpoint doing the least SQL that records the same fact.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use rand::Rng;
use time::OffsetDateTime;
use wangge_domain::{Action, Scope};
use wangge_services::Registry;
use wangge_services::registry::ReportWorkOrder;
use wangge_store::work_orders::{Actor, Source};

use crate::http::{HttpRow, Runner, Side, op, throughput_verdict, within};
use crate::http_client::{MakeOp, Req};
use crate::targets::Targets;

/// Persons whose phone numbers the first line saves again (the same value, so the data stays
/// as it was), and who receive the benchmark's phone visits.
const SAMPLE: usize = 200;
/// The unit every benchmark order is first dispatched to.
const FIRST_UNIT: &str = "街道综合执法队";

pub(crate) struct Writes {
    /// (person id, phone number, masked phone number).
    phones: Arc<Vec<(i64, String, String)>>,
    persons: Arc<Vec<i64>>,
    /// One dispatched work order per connection for the product, then as many for the raw
    /// side, so concurrent steps never race on one order and the raw side's rows (written
    /// without the product's conventions) never meet the product.
    orders: Arc<Vec<i64>>,
}

impl Writes {
    /// Samples the persons and reports, accepts and dispatches two work orders per connection
    /// in the target grid.
    pub(crate) async fn prepare(
        registry: &Registry,
        t: &Targets,
        connections: usize,
    ) -> anyhow::Result<Writes> {
        let everything = Scope::everything();
        let store = &registry.store;
        let mut phones = Vec::new();
        for id in t.person_ids.iter().take(SAMPLE) {
            if let Some(p) = store.person_secrets(&everything, *id).await?.phone {
                phones.push((*id, p.as_str().to_owned(), p.masked()));
            }
        }
        if phones.is_empty() {
            bail!("no sampled person has a phone number");
        }
        let category = store
            .work_order_categories()
            .await?
            .first()
            .context("no work-order category")?
            .id;
        let actor = Actor {
            id: None,
            name: "bench".into(),
        };
        let now = OffsetDateTime::now_utc();
        let mut orders = Vec::with_capacity(2 * connections);
        for i in 0..2 * connections {
            let w = registry
                .report_work_order(
                    &everything,
                    &actor,
                    ReportWorkOrder {
                        category_id: category,
                        source: Source::GridWorker,
                        title: format!("压测工单 {i}"),
                        description: "写入基准测试用的工单".into(),
                        household_id: None,
                        place_id: None,
                        area_id: Some(t.grid.last_id()),
                        priority: None,
                    },
                    now,
                )
                .await?;
            for action in [
                Action::Accept,
                Action::Dispatch {
                    unit: FIRST_UNIT.into(),
                },
            ] {
                registry
                    .work_order_action(&everything, w.id, &actor, action, now)
                    .await?;
            }
            orders.push(w.id);
        }
        Ok(Writes {
            phones: Arc::new(phones),
            persons: Arc::new(t.person_ids.iter().take(SAMPLE).copied().collect()),
            orders: Arc::new(orders),
        })
    }

    /// The three write lines at `connections` connections.
    pub(crate) async fn measure(
        &self,
        r: &Runner<'_>,
        bearer: &str,
        connections: usize,
        out: &mut dyn Write,
    ) -> anyhow::Result<Vec<HttpRow>> {
        writeln!(out, "measuring P5 writes ...")?;
        let product = |o: MakeOp| Side {
            addr: r.product_addr,
            op: o,
        };
        let raw = |o: MakeOp| Side {
            addr: r.raw_addr,
            op: o,
        };
        let h = [bearer.to_owned()];
        let mut rows = Vec::new();

        let (ph, hh) = (self.phones.clone(), h.clone());
        let patch = product(op(move |rng| {
            let (id, phone, _) = &ph[rng.random_range(0..ph.len())];
            let body = serde_json::json!({ "phone": phone }).to_string();
            vec![Req::new(
                "PATCH",
                &format!("/api/v1/persons/{id}"),
                &hh,
                Some(&body),
            )]
        }));
        let ph = self.phones.clone();
        let patch_raw = raw(op(move |rng| {
            let (id, _, masked) = &ph[rng.random_range(0..ph.len())];
            let body = serde_json::json!({ "phone_masked": masked }).to_string();
            vec![Req::new(
                "PATCH",
                &format!("/raw/persons/{id}"),
                &[],
                Some(&body),
            )]
        }));
        let name = format!(
            "P5 person edit: PATCH /persons/{{id}} phone (same value; {} persons) vs one-row UPDATE",
            self.phones.len()
        );
        rows.push(
            r.pair("P5", name, connections, &patch, &patch_raw, out)
                .await?,
        );

        let (ps, hh) = (self.persons.clone(), h.clone());
        let visit = product(op(move |rng| {
            let id = ps[rng.random_range(0..ps.len())];
            let body = serde_json::json!({
                "person_id": id, "outcome": "phone", "purpose": "压测回访"
            })
            .to_string();
            vec![Req::new("POST", "/api/v1/visits", &hh, Some(&body))]
        }));
        let ps = self.persons.clone();
        let visit_raw = raw(op(move |rng| {
            let id = ps[rng.random_range(0..ps.len())];
            let body = serde_json::json!({ "person_id": id }).to_string();
            vec![Req::new("POST", "/raw/visits", &[], Some(&body))]
        }));
        let name = format!(
            "P5 visit: POST /visits, a phone visit ({} persons) vs one-row INSERT",
            self.persons.len()
        );
        rows.push(
            r.pair("P5", name, connections, &visit, &visit_raw, out)
                .await?,
        );

        let (os, hh) = (self.orders.clone(), h);
        let half = self.orders.len() / 2;
        // Every step names a new unit: reassigning to the current one is refused.
        let next = Arc::new(AtomicU64::new(0));
        let n = next.clone();
        let step: MakeOp = Arc::new(move |conn, _| {
            let id = os[conn % half];
            let unit = format!("维修班组{}", n.fetch_add(1, Ordering::Relaxed));
            let body = serde_json::json!({ "action": "reassign", "unit": unit }).to_string();
            vec![Req::new(
                "POST",
                &format!("/api/v1/work-orders/{id}/actions"),
                &hh,
                Some(&body),
            )]
        });
        let os = self.orders.clone();
        let step_raw: MakeOp = Arc::new(move |conn, _| {
            let id = os[half + conn % half];
            let unit = format!("维修班组{}", next.fetch_add(1, Ordering::Relaxed));
            let body = serde_json::json!({ "unit": unit }).to_string();
            vec![Req::new(
                "POST",
                &format!("/raw/work-orders/{id}/step"),
                &[],
                Some(&body),
            )]
        });
        let name = format!(
            "P5 work-order step: POST /work-orders/{{id}}/actions reassign ({half} orders, one per connection) vs UPDATE + timeline INSERT"
        );
        rows.push(
            r.pair("P5", name, connections, &product(step), &raw(step_raw), out)
                .await?,
        );

        for row in &mut rows {
            row.verdict = Some(throughput_verdict(row, 0.25, within(20.0)));
        }
        Ok(rows)
    }
}
