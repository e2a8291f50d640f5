//! Delivering the notifications outbox. Each channel has an adapter behind [`ChannelAdapter`]:
//! `in_app` (delivered = readable in the app) and `log` (a line with the event kind and ids, for
//! development). SMS and WeChat template messages are future adapters behind the same trait;
//! they receive the row's idempotency key to pass on as the provider's message id, so a retried
//! delivery is not sent twice by the provider either.
//!
//! Delivery runs as the `notifications.deliver` job: it claims due rows with a lease, hands each
//! to its channel's adapter, and marks it delivered (once: a second mark changes nothing) or
//! retries it after a capped exponential backoff, giving up after `max_attempts`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use wangge_domain::Channel;
use wangge_store::jobs::Job;
use wangge_store::notifications::Notification;
use wangge_store::{Store, StoreError};

use crate::jobs::{JobFuture, JobHandler, backoff};

pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One way of reaching people. Errors are recorded for operators: no personal data in them.
pub trait ChannelAdapter: Send + Sync {
    fn channel(&self) -> Channel;
    fn deliver<'a>(&'a self, n: &'a Notification) -> DeliveryFuture<'a>;
}

/// In-app: the row itself is the message; marking it delivered makes it readable.
pub struct InApp;

impl ChannelAdapter for InApp {
    fn channel(&self) -> Channel {
        Channel::InApp
    }

    fn deliver<'a>(&'a self, _n: &'a Notification) -> DeliveryFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// Development: logs the event kind and ids — never the title or anything about residents.
pub struct LogChannel;

impl ChannelAdapter for LogChannel {
    fn channel(&self) -> Channel {
        Channel::Log
    }

    fn deliver<'a>(&'a self, n: &'a Notification) -> DeliveryFuture<'a> {
        Box::pin(async move {
            tracing::info!(
                event = n.event.as_str(),
                notification_id = n.id,
                work_order_id = n.work_order_id,
                assist_request_id = n.assist_request_id,
                campaign_id = n.campaign_id,
                campaign_request_id = n.campaign_request_id,
                recipient_id = n.recipient_id,
                "notification"
            );
            Ok(())
        })
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

pub struct Delivery {
    store: Store,
    adapters: Vec<Arc<dyn ChannelAdapter>>,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How long a claimed row is held for this pass.
    pub lease: Duration,
    pub batch: u32,
    /// The longest the job waits between passes when nothing is due.
    pub idle: Duration,
}

impl Delivery {
    pub fn new(store: Store, adapters: Vec<Arc<dyn ChannelAdapter>>) -> Self {
        Delivery {
            store,
            adapters,
            max_attempts: 8,
            backoff_base: Duration::seconds(30),
            backoff_cap: Duration::hours(1),
            lease: Duration::minutes(5),
            batch: 200,
            idle: Duration::seconds(30),
        }
    }

    /// The adapters available today: in-app and log.
    pub fn standard(store: Store) -> Self {
        Delivery::new(store, vec![Arc::new(InApp), Arc::new(LogChannel)])
    }

    /// Delivers one batch of rows due at `now`.
    pub async fn deliver_due(&self, now: OffsetDateTime) -> Result<DeliveryReport, StoreError> {
        let rows = self
            .store
            .claim_notifications(now, self.lease, self.batch)
            .await?;
        let mut report = DeliveryReport::default();
        for n in rows {
            let outcome = match self.adapters.iter().find(|a| a.channel() == n.channel) {
                Some(a) => a.deliver(&n).await,
                None => Err(format!("no adapter for channel {}", n.channel.as_str())),
            };
            match outcome {
                Ok(()) => {
                    self.store.mark_notification_delivered(n.id, now).await?;
                    report.delivered += 1;
                }
                Err(e) if n.attempts >= self.max_attempts => {
                    tracing::error!(notification_id = n.id, attempts = n.attempts, error = %e,
                        "notification not delivered; giving up");
                    self.store.mark_notification_failed(n.id, &e, None).await?;
                    report.failed += 1;
                }
                Err(e) => {
                    let retry = now + backoff(n.attempts, self.backoff_base, self.backoff_cap);
                    self.store
                        .mark_notification_failed(n.id, &e, Some(retry))
                        .await?;
                    report.retried += 1;
                }
            }
        }
        Ok(report)
    }
}

impl JobHandler for Delivery {
    /// One pass, then again when the next row falls due (now, if more are waiting), and at
    /// least every `idle`.
    fn run<'a>(&'a self, _job: &'a Job, now: OffsetDateTime) -> JobFuture<'a> {
        Box::pin(async move {
            self.deliver_due(now).await.map_err(|e| e.to_string())?;
            let next = self
                .store
                .next_notification_at()
                .await
                .map_err(|e| e.to_string())?;
            let idle = now + self.idle;
            Ok(Some(next.map_or(idle, |at| at.clamp(now, idle))))
        })
    }
}
