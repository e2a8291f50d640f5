//! The job runner: durable background work from the `jobs` table, safe on several servers.
//!
//! A runner claims due jobs of the kinds it knows with a lease (see `wangge_store::jobs`), runs
//! each through its [`JobHandler`], and records the outcome: a periodic job is put back at the
//! time its handler names, a one-off job is done; a failed attempt is retried after a capped
//! exponential backoff, and after `max_attempts` a one-off job is marked failed (its last error
//! kept) while a periodic job gives up that run and comes back at its next period. Time comes
//! from a [`Now`], so tests drive it; nothing here sleeps except [`JobRunner::run`].
//!
//! Why this is safe with two servers: a claim is one transaction that skips rows another runner
//! holds (PostgreSQL `FOR UPDATE SKIP LOCKED`) or is serialized by SQLite's single writer, and it
//! leases the job; the escalation pass itself is idempotent at one instant (row locks and the
//! domain rule), so even a job run twice after a lapsed lease escalates nothing twice.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use wangge_store::jobs::{ESCALATION_JOB, Job, NOTIFICATION_JOB};
use wangge_store::{Store, StoreError};

use crate::notifications::Delivery;
use crate::{Now, Registry};

/// What a handler answers: run again at this time (periodic), or `None` when done.
pub type JobResult = Result<Option<OffsetDateTime>, String>;
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = JobResult> + Send + 'a>>;

/// What one kind of job does. An error is a failed attempt; its text is recorded for
/// operators, so it must not carry personal data.
pub trait JobHandler: Send + Sync {
    fn run<'a>(&'a self, job: &'a Job, now: OffsetDateTime) -> JobFuture<'a>;
}

/// `base × 2^(attempt − 1)`, at most `cap`: the wait after failed attempt number `attempt`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 1i32 << attempt.saturating_sub(1).min(20);
    (base * factor).min(cap)
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// How long a claim holds a job; longer than any run takes.
    pub lease: Duration,
    /// Jobs claimed at a time.
    pub batch: u32,
    /// Attempts per run of a periodic job.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The longest the serving loop sleeps: events from other servers pull jobs forward in the
    /// database, and this is how soon a sleeping runner notices.
    pub poll: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            lease: Duration::minutes(5),
            batch: 20,
            max_attempts: 5,
            backoff_base: Duration::seconds(30),
            backoff_cap: Duration::hours(1),
            poll: Duration::seconds(2),
        }
    }
}

struct Registered {
    handler: Arc<dyn JobHandler>,
    /// Set for periodic jobs: created at start, and the wait after a run that gave up.
    every: Option<Duration>,
}

/// What one [`JobRunner::run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Runs that succeeded.
    pub succeeded: usize,
    /// Failed attempts that will be retried.
    pub retried: usize,
    /// Failed attempts that ended a one-off job or a periodic job's run.
    pub gave_up: usize,
    /// Runs whose lease had passed to another runner before they finished.
    pub lost: usize,
}

impl RunReport {
    pub fn claimed(&self) -> usize {
        self.succeeded + self.retried + self.gave_up + self.lost
    }
}

pub struct JobRunner {
    store: Store,
    now: Now,
    owner: String,
    config: RunnerConfig,
    kinds: HashMap<String, Registered>,
}

/// A name for this runner in the jobs table: host, process and a random part.
pub fn runner_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "wangge".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl JobRunner {
    pub fn new(store: Store, now: Now, owner: impl Into<String>, config: RunnerConfig) -> Self {
        JobRunner {
            store,
            now,
            owner: owner.into(),
            config,
            kinds: HashMap::new(),
        }
    }

    /// The server's jobs: the escalation pass every minute, notification delivery, and the
    /// entrustments pass (expiry, overdue keys) every ten minutes.
    pub fn standard(registry: &Registry, now: Now, owner: impl Into<String>) -> Self {
        let delivery = Delivery::standard(registry.store.clone());
        JobRunner::new(registry.store.clone(), now, owner, RunnerConfig::default())
            .register(
                ESCALATION_JOB,
                Arc::new(Escalation {
                    registry: registry.clone(),
                    every: Duration::minutes(1),
                }),
                Some(Duration::minutes(1)),
            )
            .register(
                NOTIFICATION_JOB,
                Arc::new(delivery),
                Some(Duration::seconds(30)),
            )
            .register(
                crate::entrustments::KEY_OVERDUE_JOB,
                crate::entrustments::OverduePass::standard(registry),
                Some(Duration::minutes(10)),
            )
    }

    /// Adds a kind; `every` makes it periodic (one job under the kind's own name).
    pub fn register(
        mut self,
        kind: &str,
        handler: Arc<dyn JobHandler>,
        every: Option<Duration>,
    ) -> Self {
        self.kinds
            .insert(kind.to_owned(), Registered { handler, every });
        self
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Makes sure every periodic job exists (due now if new or revived); safe to call from
    /// every server at every start.
    pub async fn start(&self) -> Result<(), StoreError> {
        let now = self.now.now();
        for (kind, r) in &self.kinds {
            if r.every.is_some() {
                self.store
                    .ensure_periodic_job(kind, now, self.config.max_attempts)
                    .await?;
            }
        }
        Ok(())
    }

    /// Claims one batch of due jobs and runs them, one after another.
    pub async fn run_due(&self) -> Result<RunReport, StoreError> {
        let now = self.now.now();
        let kinds: Vec<&str> = self.kinds.keys().map(String::as_str).collect();
        let jobs = self
            .store
            .claim_jobs(
                &self.owner,
                &kinds,
                now,
                self.config.lease,
                self.config.batch,
            )
            .await?;
        let mut report = RunReport::default();
        for job in jobs {
            let Some(reg) = self.kinds.get(&job.kind) else {
                continue;
            };
            let started = self.now.now();
            let outcome = reg.handler.run(&job, started).await;
            let held = match outcome {
                Ok(next) => {
                    report.succeeded += 1;
                    self.store.finish_job(job.id, &self.owner, next).await?
                }
                Err(error) => {
                    let at = self.now.now();
                    let exhausted = job.attempts >= job.max_attempts;
                    let (retry_at, reset) = match (exhausted, reg.every) {
                        (false, _) => (
                            Some(
                                at + backoff(
                                    job.attempts,
                                    self.config.backoff_base,
                                    self.config.backoff_cap,
                                ),
                            ),
                            false,
                        ),
                        (true, Some(every)) => (Some(at + every), true),
                        (true, None) => (None, false),
                    };
                    if exhausted {
                        report.gave_up += 1;
                        tracing::error!(kind = %job.kind, key = %job.key, attempts = job.attempts,
                            %error, "job gave up");
                    } else {
                        report.retried += 1;
                        tracing::warn!(kind = %job.kind, key = %job.key, attempts = job.attempts,
                            %error, "job failed; will retry");
                    }
                    self.store
                        .fail_job(job.id, &self.owner, &error, retry_at, reset)
                        .await?
                }
            };
            if !held {
                report.lost += 1;
                tracing::warn!(kind = %job.kind, key = %job.key, "job lease lost before it finished");
            }
        }
        Ok(report)
    }

    /// Runs jobs until `shutdown` completes: after each batch, sleeps until the next job falls
    /// due, at most [`RunnerConfig::poll`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        if let Err(e) = self.start().await {
            tracing::error!(error = %e, "job runner could not register its jobs");
        }
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let full = match self.run_due().await {
                Ok(r) => r.claimed() >= self.config.batch as usize,
                Err(e) => {
                    tracing::warn!(error = %e, "job runner pass failed");
                    false
                }
            };
            let wait = if full {
                Duration::ZERO
            } else {
                match self.store.next_job_at().await {
                    Ok(Some(at)) => (at - self.now.now()).clamp(Duration::ZERO, self.config.poll),
                    _ => self.config.poll,
                }
            };
            let wait = std::time::Duration::try_from(wait).unwrap_or_default();
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// The work-order escalation pass as a periodic job.
struct Escalation {
    registry: Registry,
    every: Duration,
}

impl JobHandler for Escalation {
    fn run<'a>(&'a self, _job: &'a Job, now: OffsetDateTime) -> JobFuture<'a> {
        Box::pin(async move {
            match self.registry.escalate_due(now).await {
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(escalated = n, "overdue work orders escalated");
                    }
                    Ok(Some(now + self.every))
                }
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let (base, cap) = (Duration::seconds(30), Duration::minutes(5));
        let waits: Vec<i64> = (1..=6)
            .map(|a| backoff(a, base, cap).whole_seconds())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        assert_eq!(backoff(0, base, cap), base);
        assert_eq!(backoff(u32::MAX, base, cap), cap);
    }
}
