//! The moto peer starts, serves S3 on loopback, and — started checking signatures — refuses an
//! unsigned request once its free requests are spent.

#![allow(clippy::unwrap_used)]

use integration_testkit::peers::Moto;

async fn moto_serves_s3_and_can_check_signatures() {
    let Some(moto) = Moto::start() else { return };
    let http = reqwest::Client::new();
    let put = |url: String, body: &'static str| http.put(url).header("content-type", "text/plain").body(body).send();
    assert!(put(format!("{}/bucket", moto.url()), "").await.expect("answers").status().is_success());
    assert!(put(format!("{}/bucket/a.txt", moto.url()), "hello").await.expect("answers").status().is_success());
    let listing = http.get(format!("{}/bucket?list-type=2", moto.url())).send().await.expect("answers");
    let listing = listing.text().await.expect("XML");
    assert!(listing.contains("<Key>a.txt</Key>") && listing.contains("<Size>5</Size>"), "{listing}");
    moto.reset().await;
    let gone = http.get(format!("{}/bucket?list-type=2", moto.url())).send().await.expect("answers");
    assert_eq!(gone.status().as_u16(), 404, "reset forgets the bucket");

    let Some(strict) = Moto::start_checking_signatures(1) else { return };
    let free = http.put(format!("{}/bucket", strict.url())).send().await.expect("answers");
    assert!(free.status().is_success(), "the first request is free: {}", free.status());
    let unsigned = http.get(format!("{}/bucket?list-type=2", strict.url())).send().await.expect("answers");
    // moto answers an unsigned request with a bare 500 (its quirk), a request signed by an
    // unknown key with S3's 403 InvalidAccessKeyId.
    assert!(!unsigned.status().is_success(), "then a signature is required: {}", unsigned.status());
    let unknown = http
        .get(format!("{}/bucket?list-type=2", strict.url()))
        .header("x-amz-date", "20261207T120000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20261207/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(unknown.status().as_u16(), 403);
    assert!(unknown.text().await.expect("XML").contains("<Code>InvalidAccessKeyId</Code>"));
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(&[Need::python("moto")], integration_testkit::trials![async moto_serves_s3_and_can_check_signatures])
}
