//! The jobs table: durable background work claimed with a lease. A claim marks due jobs with the
//! runner's name and a lease expiry in one transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
//! two servers pass over each other's rows instead of waiting; SQLite: the single writer), so a
//! job runs on one runner at a time, and a job whose runner died is claimed again once its lease
//! lapses. Finishing and failing are guarded by the lease owner: a runner that lost its lease
//! cannot overwrite the new owner's bookkeeping.

use time::{Duration, OffsetDateTime};

use crate::db::{Backend, DbRow, Value};
use crate::{Store, StoreError, params};

/// The periodic job that runs the work-order escalation pass.
pub const ESCALATION_JOB: &str = "work_orders.escalate";
/// The periodic job that delivers due notifications; events pull it forward.
pub const NOTIFICATION_JOB: &str = "notifications.deliver";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Done,
    Failed,
}

impl JobState {
    fn parse(s: &str) -> Result<JobState, StoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Decode(format!("job state {other}"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub state: JobState,
    pub run_at: OffsetDateTime,
    /// Attempts of the current run, this one included once claimed.
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
}

const COLS: &str =
    "id, kind, key, state, run_at, attempts, max_attempts, last_error, lease_owner, lease_until";

fn job_from_row(r: &dyn DbRow) -> Result<Job, StoreError> {
    let count = |i| -> Result<u32, StoreError> {
        u32::try_from(r.int(i)?).map_err(|e| StoreError::Decode(e.to_string()))
    };
    Ok(Job {
        id: r.int(0)?,
        kind: r.text(1)?,
        key: r.text(2)?,
        state: JobState::parse(&r.text(3)?)?,
        run_at: r.timestamp(4)?,
        attempts: count(5)?,
        max_attempts: count(6)?,
        last_error: r.opt_text(7)?,
        lease_owner: r.opt_text(8)?,
        lease_until: r.opt_timestamp(9)?,
    })
}

/// Error texts are kept short: they are for operators, and must not grow without bound.
fn short(error: &str) -> String {
    error.chars().take(500).collect()
}

impl Store {
    /// Schedules a job under a unique key; a key already present (whatever its state) is left
    /// as it is. Returns whether a job was added.
    pub async fn enqueue_job(
        &self,
        kind: &str,
        key: &str,
        run_at: OffsetDateTime,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        let now = crate::now();
        let n = self
            .db
            .execute(
                "INSERT INTO jobs (kind, key, state, run_at, attempts, max_attempts, created_at, \
                 updated_at) VALUES (?, ?, 'pending', ?, 0, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                &params![kind, key, run_at, i64::from(max_attempts.max(1)), now, now],
            )
            .await?;
        Ok(n == 1)
    }

    /// A periodic job exists and is pending: created due at `run_at` if missing, revived (due
    /// at `run_at`, attempts reset) if it had ended. Its schedule is otherwise left alone, so
    /// several servers starting up do not push each other's runs around.
    pub async fn ensure_periodic_job(
        &self,
        kind: &str,
        run_at: OffsetDateTime,
        max_attempts: u32,
    ) -> Result<(), StoreError> {
        if self.enqueue_job(kind, kind, run_at, max_attempts).await? {
            return Ok(());
        }
        self.db
            .execute(
                "UPDATE jobs SET state = 'pending', run_at = ?, attempts = 0, max_attempts = ?, \
                 lease_owner = NULL, lease_until = NULL, updated_at = ? \
                 WHERE key = ? AND state <> 'pending'",
                &params![run_at, i64::from(max_attempts.max(1)), crate::now(), kind],
            )
            .await?;
        Ok(())
    }

    /// Claims up to `limit` jobs of `kinds` due at `now` for `owner` until `now + lease`,
    /// counting an attempt on each. Jobs leased to a runner whose lease has not lapsed are not
    /// due; kinds a runner does not know are left to runners that do.
    pub async fn claim_jobs(
        &self,
        owner: &str,
        kinds: &[&str],
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let lock = match self.db.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut p: Vec<Value> = params![now, now].into();
        p.extend(kinds.iter().map(|k| Value::from(*k)));
        p.push(Value::Int(i64::from(limit.clamp(1, 1000))));
        let mut tx = self.db.begin().await?;
        let ids = tx
            .query(
                &format!(
                    "SELECT id FROM jobs WHERE state = 'pending' AND run_at <= ? \
                     AND (lease_until IS NULL OR lease_until <= ?) AND kind IN ({}) \
                     ORDER BY run_at, id LIMIT ?{lock}",
                    vec!["?"; kinds.len()].join(", ")
                ),
                &p,
                |r| r.int(0),
            )
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let mut p: Vec<Value> = params![owner, now + lease, crate::now()].into();
        p.extend(ids.into_iter().map(Value::Int));
        let mut jobs = tx
            .query(
                &format!(
                    "UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, \
                     updated_at = ? WHERE id IN ({marks}) RETURNING {COLS}"
                ),
                &p,
                job_from_row,
            )
            .await?;
        tx.commit().await?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// A successful run: a periodic job goes back to pending at `next` with its attempts
    /// cleared; a one-off job (`next` None) is done. False if `owner` no longer holds the lease.
    pub async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        next: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let n = match next {
            Some(at) => {
                self.db
                    .execute(
                        "UPDATE jobs SET run_at = ?, attempts = 0, lease_owner = NULL, \
                         lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?",
                        &params![at, crate::now(), id, owner],
                    )
                    .await?
            }
            None => {
                self.db
                    .execute(
                        "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, \
                         updated_at = ? WHERE id = ? AND lease_owner = ?",
                        &params![crate::now(), id, owner],
                    )
                    .await?
            }
        };
        Ok(n == 1)
    }

    /// A failed run, its error recorded. With `retry_at` the job is pending again then (with
    /// `reset_attempts`, as a fresh run: a periodic job that gave up on one run); without, it
    /// has failed for good. False if `owner` no longer holds the lease.
    pub async fn fail_job(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        reset_attempts: bool,
    ) -> Result<bool, StoreError> {
        let (state, run_at) = match retry_at {
            Some(at) => ("pending", Value::from(at)),
            None => ("failed", Value::Null),
        };
        let n = self
            .db
            .execute(
                "UPDATE jobs SET state = ?, run_at = COALESCE(?, run_at), \
                 attempts = CASE WHEN ? = 1 THEN 0 ELSE attempts END, last_error = ?, \
                 lease_owner = NULL, lease_until = NULL, updated_at = ? \
                 WHERE id = ? AND lease_owner = ?",
                &[
                    state.into(),
                    run_at,
                    Value::Int(i64::from(reset_attempts)),
                    short(error).into(),
                    crate::now().into(),
                    Value::Int(id),
                    owner.into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn job(&self, key: &str) -> Result<Job, StoreError> {
        self.db
            .query_opt(
                &format!("SELECT {COLS} FROM jobs WHERE key = ?"),
                &params![key],
                job_from_row,
            )
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// When the next pending job falls due (its lease, if one is held, counted), for the
    /// runner's sleep.
    pub async fn next_job_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT run_at, lease_until FROM jobs WHERE state = 'pending' \
                 ORDER BY run_at LIMIT 50",
                &[],
                |r| Ok((r.timestamp(0)?, r.opt_timestamp(1)?)),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(run, lease)| lease.map_or(run, |l| l.max(run)))
            .min())
    }
}
