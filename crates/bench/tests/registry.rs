//! The registry bench end to end on a tiny SQLite city: every line present, every figure
//! positive. No timing is asserted.

use wangge_bench::{RegistryBenchConfig, run_registry_bench};
use wangge_services::storage::StorageConfig;

#[tokio::test]
async fn registry_bench_runs_on_a_tiny_sqlite_city() {
    let dir = std::env::temp_dir().join(format!("wangge-bench-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = RegistryBenchConfig {
        residents: 3000,
        seed: 7,
        storage: StorageConfig {
            data_dir: dir.clone(),
            database_url: None,
            secret_key: None,
        },
        iterations: 20,
    };
    let mut out = Vec::new();
    let report = run_registry_bench(&cfg, &mut out)
        .await
        .expect("bench runs");
    let text = String::from_utf8(out).expect("UTF-8 output");
    let _ = std::fs::remove_dir_all(&dir);

    let build = report
        .build
        .as_ref()
        .expect("the empty store got a demo city");
    assert_eq!(build.persons, 3000);
    assert!(build.persons_per_sec > 0.0);
    assert_eq!(report.backend, "sqlite");
    assert_eq!(report.persons, 3000);
    let ids: Vec<&str> = report.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, ["P2", "P4", "P4", "P7", "P3", "P3"]);
    for r in &report.rows {
        let mut stats = vec![&r.raw];
        stats.extend(r.product.as_ref());
        for s in stats {
            assert_eq!(s.samples, 20, "{}", r.workload);
            assert!(s.rows_per_op > 0.0, "{}: no rows", r.workload);
            assert!(
                !s.p50.is_zero() && s.p99 >= s.p50 && s.ops_per_sec > 0.0,
                "{}",
                r.workload
            );
        }
        if let Some(p) = &r.product {
            assert_eq!(
                p.rows_per_op, r.raw.rows_per_op,
                "{}: same work on both sides",
                r.workload
            );
            assert!(r.ratio().is_some_and(|x| x > 0.0));
        }
    }
    assert_eq!(
        report.rows.iter().filter(|r| r.product.is_none()).count(),
        1
    );
    assert!(text.contains("product/raw"), "{text}");
    assert!(text.contains("| workload |"), "{text}");
}
