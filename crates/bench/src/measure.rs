//! Timing: warm up, then time each operation on its own and keep every sample.

use std::time::{Duration, Instant};

/// One line's figures: latency percentiles over the timed samples and the sequential rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub samples: u32,
    /// Rows returned per operation, averaged (a sanity check that both sides did the same work).
    pub rows_per_op: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub mean: Duration,
    /// Operations per second on one thread, one after another (1 / mean).
    pub ops_per_sec: f64,
}

/// How long one line may run: at most `iterations` timed operations, and no more than
/// `max_time` once `min_samples` have been taken (slow references such as the naive join).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub iterations: u32,
    pub max_time: Duration,
    pub min_samples: u32,
}

impl Budget {
    pub fn new(iterations: u32) -> Self {
        Budget {
            iterations: iterations.max(1),
            max_time: Duration::from_secs(5),
            min_samples: 20,
        }
    }

    /// Enough to touch every sampled key once (lookups cycle through 1,000 of them), cut short
    /// by the time cap for slow lines.
    fn warm_ups(&self) -> u32 {
        self.iterations.min(1000)
    }
}

/// Runs `op(i)` for warm-up and then for the timed samples; `op` returns the rows it produced.
pub async fn measure<F>(budget: &Budget, mut op: F) -> anyhow::Result<Stats>
where
    F: AsyncFnMut(usize) -> anyhow::Result<usize>,
{
    let warm_start = Instant::now();
    for i in 0..budget.warm_ups() {
        op(i as usize).await?;
        if warm_start.elapsed() > budget.max_time / 5 {
            break;
        }
    }
    let mut times = Vec::with_capacity(budget.iterations as usize);
    let mut rows: u64 = 0;
    let start = Instant::now();
    for i in 0..budget.iterations {
        let t = Instant::now();
        let n = op(i as usize).await?;
        times.push(t.elapsed());
        rows += n as u64;
        if start.elapsed() > budget.max_time && times.len() as u32 >= budget.min_samples {
            break;
        }
    }
    Ok(summarize(times, rows))
}

pub(crate) fn summarize(mut times: Vec<Duration>, rows: u64) -> Stats {
    times.sort_unstable();
    let n = times.len().max(1);
    let total: Duration = times.iter().sum();
    let mean = total / n as u32;
    let secs = total.as_secs_f64();
    Stats {
        samples: times.len() as u32,
        rows_per_op: rows as f64 / n as f64,
        p50: percentile(&times, 0.50),
        p99: percentile(&times, 0.99),
        mean,
        ops_per_sec: if secs > 0.0 {
            times.len() as f64 / secs
        } else {
            0.0
        },
    }
}

/// Nearest-rank percentile of sorted samples.
pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&v, 0.50), Duration::from_micros(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&v[..1], 0.99), Duration::from_micros(1));
        let s = summarize(v, 200);
        assert_eq!(s.samples, 100);
        assert!((s.rows_per_op - 2.0).abs() < f64::EPSILON);
    }
}
