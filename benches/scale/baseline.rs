//! The hand-written baseline the scale bench compares the SDK's syncs with: a BambooHR custom
//! report fetched with bare reqwest (the fields the adapter asks for) and parsed by serde_json
//! into values — no mapping, no store, no run log.

/// Fetches the report from the BambooHR fake at `base_url`; how many employees it holds.
pub(crate) async fn fetch_report(client: &reqwest::Client, base_url: &str) -> usize {
    let url = format!(
        "{base_url}/api/gateway.php/{}/v1/reports/custom?format=JSON&onlyCurrent=true",
        integration_testkit::fake::bamboohr::COMPANY
    );
    let fields: Vec<&str> = integration_hris::bamboohr::REPORT_FIELDS.split(',').collect();
    let answer = client
        .post(&url)
        .basic_auth(integration_testkit::fake::bamboohr::API_KEY, Some("x"))
        .header("Accept", "application/json")
        .json(&serde_json::json!({ "title": "baseline", "fields": fields }))
        .send()
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    report["employees"].as_array().map_or(0, Vec::len)
}
