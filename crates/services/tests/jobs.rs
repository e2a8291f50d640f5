//! The job runner on SQLite and PostgreSQL, with a clock the tests drive: due jobs run once,
//! failures back off and stop, two runners (two stores on one database, as two servers) never
//! run a job twice nor escalate an order twice, and a restarted runner picks up where the old
//! one stopped — including a job whose runner died holding its lease.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use wangge_domain::{Action, AreaCode, Priority, Scope};
use wangge_services::areas_import::import_areas;
use wangge_services::jobs::{JobFuture, JobHandler, JobRunner, RunnerConfig};
use wangge_services::registry::ReportWorkOrder;
use wangge_services::storage::open_store;
use wangge_services::{Clock, Now, Registry};
use wangge_store::Store;
use wangge_store::jobs::{ESCALATION_JOB, Job, JobState};
use wangge_store::work_orders::{Actor, Source};
use wangge_testkit::{TestStore, backends};

const AREAS: &str = include_str!("fixtures/sample-areas.geojson");
const T0: OffsetDateTime = datetime!(2026-11-25 09:00 +08:00);

fn h(n: i64) -> Duration {
    Duration::hours(n)
}

fn min(n: i64) -> Duration {
    Duration::minutes(n)
}

/// Counts runs per job key; fails every run when `fail` is set.
#[derive(Default)]
struct Counter {
    runs: Mutex<HashMap<String, u32>>,
    fail: bool,
    /// Time spent inside a run, so that concurrent runners overlap.
    pause: Option<std::time::Duration>,
}

impl Counter {
    fn runs(&self, key: &str) -> u32 {
        self.runs.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn total(&self) -> u32 {
        self.runs.lock().unwrap().values().sum()
    }
}

impl JobHandler for Counter {
    fn run<'a>(&'a self, job: &'a Job, _now: OffsetDateTime) -> JobFuture<'a> {
        Box::pin(async move {
            *self
                .runs
                .lock()
                .unwrap()
                .entry(job.key.clone())
                .or_default() += 1;
            if let Some(p) = self.pause {
                tokio::time::sleep(p).await;
            }
            if self.fail {
                Err("boom (test)".to_owned())
            } else {
                Ok(None)
            }
        })
    }
}

fn config() -> RunnerConfig {
    RunnerConfig {
        lease: min(5),
        batch: 10,
        max_attempts: 2,
        backoff_base: Duration::seconds(30),
        backoff_cap: h(1),
        poll: Duration::seconds(1),
    }
}

fn runner(store: &Store, now: &Now, owner: &str, kind: &str, h: Arc<Counter>) -> JobRunner {
    JobRunner::new(store.clone(), now.clone(), owner, config()).register(kind, h, None)
}

#[tokio::test]
async fn a_due_job_runs_once() {
    for t in backends().await {
        let b = t.name;
        let now = Now::manual(T0 - min(1));
        let counter = Arc::new(Counter::default());
        let r = runner(&t.store, &now, "r1", "test.count", counter.clone());
        assert!(
            t.store
                .enqueue_job("test.count", "k1", T0, 3)
                .await
                .unwrap()
        );
        // The same key again is a no-op.
        assert!(
            !t.store
                .enqueue_job("test.count", "k1", T0 - h(1), 3)
                .await
                .unwrap()
        );
        // A kind this runner does not know is left alone.
        t.store
            .enqueue_job("test.other", "other", T0, 3)
            .await
            .unwrap();
        assert_eq!(r.run_due().await.unwrap().claimed(), 0, "[{b}] not yet due");
        now.set(T0);
        assert_eq!(r.run_due().await.unwrap().succeeded, 1, "[{b}]");
        assert_eq!(counter.runs("k1"), 1, "[{b}]");
        let job = t.store.job("k1").await.unwrap();
        assert_eq!(job.state, JobState::Done, "[{b}]");
        assert_eq!(job.lease_owner, None, "[{b}]");
        for later in [Duration::ZERO, h(1), Duration::days(30)] {
            now.set(T0 + later);
            assert_eq!(r.run_due().await.unwrap().claimed(), 0, "[{b}] {later}");
        }
        assert_eq!(counter.total(), 1, "[{b}]");
        assert_eq!(
            t.store.job("other").await.unwrap().state,
            JobState::Pending,
            "[{b}]"
        );
    }
}

#[tokio::test]
async fn a_failing_job_backs_off_and_stops_after_its_attempts() {
    for t in backends().await {
        let b = t.name;
        let now = Now::manual(T0);
        let counter = Arc::new(Counter {
            fail: true,
            ..Default::default()
        });
        let r = runner(&t.store, &now, "r1", "test.fail", counter.clone());
        t.store.enqueue_job("test.fail", "f1", T0, 3).await.unwrap();

        // Attempt 1 at T0; the next waits 30 s.
        assert_eq!(r.run_due().await.unwrap().retried, 1, "[{b}]");
        let job = t.store.job("f1").await.unwrap();
        assert_eq!(
            (job.state, job.attempts, job.run_at),
            (JobState::Pending, 1, T0 + Duration::seconds(30)),
            "[{b}]"
        );
        assert_eq!(job.last_error.as_deref(), Some("boom (test)"), "[{b}]");
        now.set(T0 + Duration::seconds(29));
        assert_eq!(r.run_due().await.unwrap().claimed(), 0, "[{b}] backing off");

        // Attempt 2 at +30 s; the next waits 60 s.
        now.set(T0 + Duration::seconds(30));
        assert_eq!(r.run_due().await.unwrap().retried, 1, "[{b}]");
        let job = t.store.job("f1").await.unwrap();
        assert_eq!(job.run_at, T0 + Duration::seconds(90), "[{b}]");
        now.set(T0 + Duration::seconds(89));
        assert_eq!(r.run_due().await.unwrap().claimed(), 0, "[{b}]");

        // Attempt 3 of 3 fails: the job has failed for good, its error kept.
        now.set(T0 + Duration::seconds(90));
        assert_eq!(r.run_due().await.unwrap().gave_up, 1, "[{b}]");
        let job = t.store.job("f1").await.unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Failed, 3), "[{b}]");
        assert_eq!(job.last_error.as_deref(), Some("boom (test)"), "[{b}]");
        now.set(T0 + Duration::days(1));
        assert_eq!(r.run_due().await.unwrap().claimed(), 0, "[{b}]");
        assert_eq!(counter.runs("f1"), 3, "[{b}]");

        // A periodic job gives up one run after its attempts and comes back next period.
        let now = Now::manual(T0);
        let periodic = Arc::new(Counter {
            fail: true,
            ..Default::default()
        });
        let r = JobRunner::new(t.store.clone(), now.clone(), "r2", config()).register(
            "test.periodic",
            periodic.clone(),
            Some(min(10)),
        );
        r.start().await.unwrap();
        assert_eq!(r.run_due().await.unwrap().retried, 1, "[{b}]");
        now.advance(Duration::seconds(30));
        assert_eq!(r.run_due().await.unwrap().gave_up, 1, "[{b}]");
        let job = t.store.job("test.periodic").await.unwrap();
        assert_eq!(
            (job.state, job.attempts, job.run_at),
            (JobState::Pending, 0, T0 + Duration::seconds(30) + min(10)),
            "[{b}]"
        );
        assert!(job.last_error.is_some(), "[{b}]");
        // Starting again (another server, a restart) leaves its schedule alone.
        r.start().await.unwrap();
        assert_eq!(
            t.store.job("test.periodic").await.unwrap().run_at,
            job.run_at,
            "[{b}]"
        );
    }
}

/// A second store on the same database: another server.
async fn second_server(t: &TestStore) -> Store {
    open_store(&t.storage).await.expect("second store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_database_never_run_a_job_twice() {
    for t in backends().await {
        let b = t.name;
        let other = second_server(&t).await;
        let now = Now::manual(T0);
        let counter = Arc::new(Counter {
            pause: Some(std::time::Duration::from_millis(5)),
            ..Default::default()
        });
        for i in 0..40 {
            t.store
                .enqueue_job("test.count", &format!("job-{i}"), T0 - min(i), 3)
                .await
                .unwrap();
        }
        let runners = [
            runner(&t.store, &now, "server-a", "test.count", counter.clone()),
            runner(&other, &now, "server-b", "test.count", counter.clone()),
        ];
        let mut tasks = Vec::new();
        for r in runners {
            tasks.push(tokio::spawn(async move {
                let mut ran = 0;
                loop {
                    let report = r.run_due().await.unwrap();
                    assert_eq!(report.lost, 0);
                    if report.claimed() == 0 {
                        return ran;
                    }
                    ran += report.succeeded;
                }
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 40, "[{b}]");
        for i in 0..40 {
            assert_eq!(counter.runs(&format!("job-{i}")), 1, "[{b}] job-{i}");
        }
    }
}

async fn setup_orders(t: &TestStore, n: usize) -> (Registry, Vec<i64>) {
    import_areas(&t.store, &Scope::everything(), AREAS)
        .await
        .unwrap();
    let all = Scope::everything();
    let grid = t
        .store
        .area_by_code(&all, &AreaCode::parse("140109001001001").unwrap())
        .await
        .unwrap()
        .id;
    let r = Registry::new(t.store.clone(), Clock::Fixed(date!(2026 - 11 - 25)));
    let cat = t
        .store
        .work_order_categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == "safety_hazard")
        .unwrap()
        .id;
    let actor = Actor {
        id: None,
        name: "网格员".into(),
    };
    let mut ids = Vec::new();
    for i in 0..n {
        let cmd = ReportWorkOrder {
            category_id: cat,
            source: Source::GridWorker,
            title: format!("隐患 {i}"),
            description: "楼道堆物".into(),
            household_id: None,
            place_id: None,
            area_id: Some(grid),
            priority: Some(Priority::Urgent),
        };
        let o = r.report_work_order(&all, &actor, cmd, T0).await.unwrap();
        r.work_order_action(&all, o.id, &actor, Action::Accept, T0)
            .await
            .unwrap();
        ids.push(o.id);
    }
    (r, ids)
}

/// Each order's escalation level and how many escalation steps its timeline holds.
async fn escalations(r: &Registry, ids: &[i64]) -> Vec<(u8, usize)> {
    let all = Scope::everything();
    let mut out = Vec::new();
    for id in ids {
        let level = r
            .store
            .work_order(&all, *id)
            .await
            .unwrap()
            .order
            .escalation_level;
        let steps = r
            .store
            .work_order_timeline(&all, *id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "escalate")
            .count();
        out.push((level, steps));
    }
    out
}

/// Two servers' standard runners: the escalation job runs on one of them at a time, orders go
/// up one level each, once; a runner that dies holding the job's lease delays it only until
/// the lease lapses.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_never_double_escalate_and_a_dead_runners_lease_lapses() {
    for t in backends().await {
        let b = t.name;
        // Urgent safety hazards: 2 h SLA, so levels fall due after 2, 4 and 6 hours.
        let (r1, ids) = setup_orders(&t, 12).await;
        let r2 = Registry::new(second_server(&t).await, Clock::Fixed(date!(2026 - 11 - 25)));
        let now = Now::manual(T0 + h(3));
        let a = JobRunner::standard(&r1, now.clone(), "server-a");
        let c = JobRunner::standard(&r2, now.clone(), "server-b");
        a.start().await.unwrap();
        c.start().await.unwrap();
        let (ra, rc) = tokio::join!(a.run_due(), c.run_due());
        let (ra, rc) = (ra.unwrap(), rc.unwrap());
        assert_eq!(ra.lost + rc.lost, 0, "[{b}]");
        let want: Vec<(u8, usize)> = vec![(1, 1); ids.len()];
        assert_eq!(escalations(&r1, &ids).await, want, "[{b}]");
        let job = t.store.job(ESCALATION_JOB).await.unwrap();
        assert_eq!(
            job.run_at,
            T0 + h(3) + min(1),
            "[{b}] next pass in a minute"
        );

        // Again at the same instant, from both: nothing new.
        now.advance(min(1));
        let (x, y) = tokio::join!(a.run_due(), c.run_due());
        x.unwrap();
        y.unwrap();
        assert_eq!(escalations(&r1, &ids).await, want, "[{b}]");

        // A third server claims the job and dies without finishing.
        now.set(T0 + h(4) + min(30));
        let dead = t
            .store
            .claim_jobs("server-dead", &[ESCALATION_JOB], now.now(), min(5), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1, "[{b}]");
        now.advance(min(4));
        a.run_due().await.unwrap();
        c.run_due().await.unwrap();
        assert_eq!(
            escalations(&r1, &ids).await,
            want,
            "[{b}] the lease still holds"
        );
        now.advance(min(1));
        let (x, y) = tokio::join!(a.run_due(), c.run_due());
        x.unwrap();
        y.unwrap();
        assert_eq!(
            escalations(&r1, &ids).await,
            vec![(2, 2); ids.len()],
            "[{b}] taken over once the lease lapsed"
        );
    }
}

/// A new runner on a freshly opened store (a restarted server) runs what is due: periodic jobs
/// left by the old one and one-off jobs it never got to.
#[tokio::test]
async fn a_restarted_runner_picks_up_due_jobs() {
    for t in backends().await {
        let b = t.name;
        let (r1, ids) = setup_orders(&t, 3).await;
        let now = Now::manual(T0);
        let before = JobRunner::standard(&r1, now.clone(), "before-restart");
        before.start().await.unwrap();
        before.run_due().await.unwrap();
        t.store
            .enqueue_job("test.count", "after-restart", T0 + h(1), 3)
            .await
            .unwrap();
        drop(before);

        let reopened = Registry::new(second_server(&t).await, Clock::Fixed(date!(2026 - 11 - 25)));
        now.set(T0 + h(3));
        let counter = Arc::new(Counter::default());
        let after = JobRunner::standard(&reopened, now.clone(), "after-restart").register(
            "test.count",
            counter.clone(),
            None,
        );
        after.start().await.unwrap();
        let report = after.run_due().await.unwrap();
        assert_eq!(
            report.succeeded, 4,
            "[{b}] escalation, delivery, the entrustments pass, the one-off job"
        );
        assert_eq!(counter.runs("after-restart"), 1, "[{b}]");
        assert_eq!(escalations(&r1, &ids).await, vec![(1, 1); 3], "[{b}]");
    }
}
