//! Runs the quickstart example and checks that what it reports is what it did.

#[path = "../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

use integration_core::store::{ChangeKind, RunStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_reports_the_changes_it_made() {
    let dir = std::env::temp_dir().join(format!("integrations-quickstart-test-{}", std::process::id()));
    let mut out = Vec::new();
    let summary = quickstart::run(&dir, &mut out).await.expect("the quickstart runs");
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8(out).expect("utf-8");

    assert_eq!(summary.first.status, RunStatus::Succeeded);
    assert_eq!(summary.first.counts.added, 8, "the first sync reads the eight employees");
    assert_eq!(summary.deliveries, 1, "one webhook delivery processed");
    let expected = vec![
        (ChangeKind::Added, summary.hired.clone(), "active".to_owned()),
        (ChangeKind::Updated, summary.terminated.clone(), "terminated".to_owned()),
    ];
    let mut got = summary.changes.clone();
    got.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(got, expected_sorted, "the change stream is exactly the hire and the termination\n{text}");
    assert_eq!(summary.second.status, RunStatus::Succeeded);
    assert_eq!(
        (summary.second.counts.added, summary.second.counts.updated, summary.second.counts.deleted),
        (0, 0, 0),
        "the webhook already applied the changes; the incremental sync finds nothing new\n{text}"
    );
    assert!(text.contains("Grace Hopper"), "{text}");
    assert!(text.contains("active → terminated"), "{text}");
    assert!(text.contains("webhook delivered, our endpoint answered [200]"), "{text}");
}
