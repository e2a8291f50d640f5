//! The campaign bench end to end on a tiny SQLite city: both kinds previewed and launched, the
//! product and raw sides agreeing on the work, and the store left as it was. No timing is
//! asserted.

use wangge_bench::{CampaignBenchConfig, run_campaign_bench};
use wangge_domain::Scope;
use wangge_services::storage::{StorageConfig, open_store};
use wangge_store::page::PageRequest;

#[tokio::test]
async fn campaign_bench_runs_on_a_tiny_sqlite_city() {
    let dir = std::env::temp_dir().join(format!("wangge-campaign-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = StorageConfig {
        data_dir: dir.clone(),
        database_url: None,
        secret_key: None,
    };
    let cfg = CampaignBenchConfig {
        residents: 3000,
        seed: 7,
        storage: storage.clone(),
        iterations: 1,
    };
    let mut out = Vec::new();
    let report = run_campaign_bench(&cfg, &mut out)
        .await
        .expect("bench runs");
    let text = String::from_utf8(out).expect("UTF-8 output");
    assert!(text.contains("| campaign launch, sweep"), "{text}");
    let names: Vec<&str> = report.rows.iter().map(|r| r.workload.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for r in &report.rows {
        let p = r.product.as_ref().expect("a product side");
        assert!(p.rows_per_op > 0.0, "{}: no targets", r.workload);
        assert_eq!(
            p.rows_per_op, r.raw.rows_per_op,
            "{}: same work",
            r.workload
        );
    }
    let store = open_store(&storage).await.unwrap();
    let left = store
        .campaigns(
            &Scope::everything(),
            &Default::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(left.items.is_empty(), "the bench removes its campaigns");
    let _ = std::fs::remove_dir_all(&dir);
}
