//! SigV4 against the real moto with signature checking on: requests signed with the right key
//! are served, with a wrong secret refused (`403 SignatureDoesNotMatch`); a presigned URL
//! works without credentials; no secret in an error or Debug output.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use integration_core::ProviderId;
use integration_core::http::{HttpClient, HttpPolicy, ProviderClient};
use integration_storage::s3::SigV4;
use integration_testkit::peers::Moto;

/// What moto's IAM API answers to `action`, sent unsigned (one of the free requests).
async fn iam(moto: &Moto, form: &[(&str, &str)]) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    reqwest::Client::new()
        .post(format!("{}/", moto.url()))
        // Routes the request to IAM; not checked while requests are free.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAFREE/20261207/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("moto answers")
        .text()
        .await
        .expect("XML")
}

fn between<'a>(xml: &'a str, tag: &str) -> &'a str {
    let start = xml.find(&format!("<{tag}>")).map(|i| i + tag.len() + 2).expect(tag);
    &xml[start..start + xml[start..].find('<').expect("closed")]
}

/// An access key allowed everything on S3 (four free requests).
async fn access_key(moto: &Moto) -> (String, String) {
    let version = ("Version", "2010-05-08");
    iam(moto, &[("Action", "CreateUser"), ("UserName", "tester"), version]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let created =
        iam(moto, &[("Action", "CreatePolicy"), ("PolicyName", "s3-all"), ("PolicyDocument", policy), version]).await;
    let arn = between(&created, "Arn").to_owned();
    iam(moto, &[("Action", "AttachUserPolicy"), ("UserName", "tester"), ("PolicyArn", &arn), version]).await;
    let key = iam(moto, &[("Action", "CreateAccessKey"), ("UserName", "tester"), version]).await;
    (between(&key, "AccessKeyId").to_owned(), between(&key, "SecretAccessKey").to_owned())
}

fn s3(signer: SigV4) -> ProviderClient {
    HttpClient::new()
        .expect("client")
        .provider_with(ProviderId::new("s3").expect("id"), HttpPolicy::standard())
        .with_auth(Arc::new(signer))
}

async fn signed_requests_are_served_and_a_wrong_secret_is_refused() {
    let Some(moto) = Moto::start_checking_signatures(4) else { return };
    let (key_id, secret) = access_key(&moto).await;
    let client = s3(SigV4::new(&key_id, &secret, "us-east-1"));
    let base = moto.url();
    client.put(format!("{base}/reports")).send().await.expect("a bucket, signed");
    client
        .put(format!("{base}/reports/2026/Q4%20plan.txt"))
        .body("the plan", "text/plain")
        .send()
        .await
        .expect("an object, signed");
    let read = client.get(format!("{base}/reports/2026/Q4%20plan.txt")).send().await.expect("read, signed");
    assert_eq!(read.bytes().as_ref(), b"the plan");
    let listing = client.get(format!("{base}/reports?list-type=2")).send().await.expect("listed, signed");
    assert!(String::from_utf8_lossy(listing.bytes()).contains("<Key>2026/Q4 plan.txt</Key>"));
    // Keys that need encoding, through the bucket client: the signature covers the path as sent.
    let bucket = integration_storage::s3::Bucket::new(
        client.clone(),
        base,
        "reports",
        integration_storage::s3::Addressing::Path,
    )
    .expect("a bucket");
    let odd = "odd/Café ☕ +%&=;.txt";
    bucket.put(odd, bytes::Bytes::from_static(b"odd"), "text/plain").await.expect("written, signed");
    assert_eq!(bucket.head(odd).await.expect("looked up, signed").expect("there").size, 3);
    let page = bucket.list("odd/", Some("/"), None, 10).await.expect("listed with a query, signed");
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), [odd]);

    let wrong_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYwrongSECRET";
    let refused = s3(SigV4::new(&key_id, wrong_secret, "us-east-1"));
    let error = refused.get(format!("{base}/reports?list-type=2")).send().await.expect_err("a wrong secret");
    assert_eq!(error.status(), Some(403));
    assert!(
        error.to_string().contains("SignatureDoesNotMatch")
            || error.body().is_some_and(|b| b.contains("SignatureDoesNotMatch")),
        "{error:?}"
    );
    let shown = format!("{error} {error:?} {:?}", SigV4::new(&key_id, wrong_secret, "us-east-1"));
    for secret in [secret.as_str(), wrong_secret] {
        assert!(!shown.contains(secret), "a secret in {shown}");
    }
}

async fn a_presigned_url_works_without_credentials_until_it_expires() {
    // moto answers presigned URLs with 500 while it checks signatures: with checking off.
    let Some(moto) = Moto::start() else { return };
    let signer = SigV4::new("AKIAEXAMPLE", "secret-example-key", "us-east-1");
    let client = s3(signer.clone());
    let base = moto.url();
    client.put(format!("{base}/shared")).send().await.expect("a bucket");
    client.put(format!("{base}/shared/a.txt")).body("shared", "text/plain").send().await.expect("an object");
    let url = url::Url::parse(&format!("{base}/shared/a.txt")).expect("URL");
    let presigned = signer.presign("GET", &url, Duration::from_secs(300), SystemTime::now()).expect("presigned");
    let query = presigned.query().unwrap_or_default();
    for part in ["X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=300", "X-Amz-Signature="] {
        assert!(query.contains(part), "{part} not in {query}");
    }
    assert!(!presigned.as_str().contains("secret-example-key"));
    let fetched = reqwest::get(presigned.as_str()).await.expect("fetched");
    assert!(fetched.status().is_success(), "{}", fetched.status());
    assert_eq!(fetched.text().await.expect("text"), "shared");
    assert!(
        signer.presign("GET", &url, Duration::from_secs(8 * 24 * 3600), SystemTime::now()).is_err(),
        "past S3's seven days"
    );
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("moto")],
        integration_testkit::trials![async signed_requests_are_served_and_a_wrong_secret_is_refused, async a_presigned_url_works_without_credentials_until_it_expires],
    )
}
