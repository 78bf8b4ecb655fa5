//! The sync engine's guarantees on PostgreSQL: crash and resume (property), cursor boundaries.

mod common;

use integration_testkit::sync_contract::{crash_and_resume, cursor_boundaries, plans};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_sync_killed_after_any_page_resumes_to_exactly_the_source(plan in plans()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async {
            if let Some(store) = common::postgres().await {
                crash_and_resume(store, plan).await;
            }
        });
    }
}

#[tokio::test]
async fn records_sharing_a_cursor_value_are_neither_lost_nor_duplicated() {
    if let Some(store) = common::postgres().await {
        cursor_boundaries(store).await;
    }
}
