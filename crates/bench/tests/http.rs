//! The HTTP bench end to end on a tiny SQLite city: every line present, every figure positive,
//! the product and raw answers of the same size. No timing is asserted.

use std::time::Duration;

use wangge_bench::{HttpBenchConfig, run_http_bench};
use wangge_services::storage::StorageConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bench_runs_on_a_tiny_sqlite_city() {
    let dir = std::env::temp_dir().join(format!("wangge-http-bench-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = HttpBenchConfig {
        residents: 3000,
        seed: 7,
        storage: StorageConfig {
            data_dir: dir.clone(),
            database_url: None,
            secret_key: None,
        },
        connections: 4,
        duration: Duration::from_secs(1),
        only: Vec::new(),
    };
    let mut out = Vec::new();
    let report = run_http_bench(&cfg, &mut out).await;
    let text = String::from_utf8(out).expect("UTF-8 output");
    let _ = std::fs::remove_dir_all(&dir);
    let report = report.unwrap_or_else(|e| panic!("bench runs: {e:#}\n{text}"));

    assert_eq!(report.backend, "sqlite");
    assert_eq!(report.persons, 3000);
    assert!(report.build.is_some(), "the empty store got a demo city");
    assert!(report.cpus > 0 && report.workers > 0);
    assert!(!report.raw_cohort_query.is_zero() && !report.raw_worklist_query.is_zero());
    let lines: Vec<(&str, usize)> = report.rows.iter().map(|r| (r.id, r.connections)).collect();
    assert_eq!(
        lines,
        [
            ("floor", 1),
            ("floor", 4),
            ("P2", 1),
            ("P2", 4),
            ("P4", 4),
            ("P4", 4),
            ("P7", 1),
            ("P7", 4),
            ("P5", 4),
            ("P5", 4),
            ("P5", 4),
        ]
    );
    for r in &report.rows {
        for s in [&r.product, &r.raw] {
            assert!(s.ops > 0, "{}: no operations", r.workload);
            assert!(
                s.ops_per_sec > 0.0 && !s.p50.is_zero() && s.p99 >= s.p50,
                "{}",
                r.workload
            );
        }
        assert!(r.product_rows > 0, "{}: no rows", r.workload);
        if r.id != "P5" && r.id != "floor" {
            assert_eq!(r.product_rows, r.raw_rows, "{}: same rows", r.workload);
        }
        assert!(r.throughput_ratio() > 0.0 && r.p50_ratio() > 0.0);
        assert_eq!(r.verdict.is_some(), r.id != "floor", "{}", r.workload);
    }
    let writes = report.rows.last().expect("a write line");
    assert!(
        writes.audit_rows_per_op >= 0.99,
        "each write is audited: {}",
        writes.audit_rows_per_op
    );
    assert!(text.contains("product/raw"), "{text}");
    assert!(text.contains("| workload |"), "{text}");
    assert!(text.contains("| line |"), "{text}");
}
