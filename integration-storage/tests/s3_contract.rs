//! The storage contract, S3 adapter against the real moto: each rule on a fresh moto and bucket.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use integration_storage::Storage;
use integration_storage::s3::S3;
use integration_testkit::contract::storage::StorageFixture;
use integration_testkit::peers::Moto;

struct OnMoto {
    _moto: Moto,
    storage: Arc<dyn Storage>,
}

#[async_trait]
impl StorageFixture for OnMoto {
    async fn start() -> Option<Self> {
        let moto = Moto::start()?;
        let config = IntegrationConfig::new(
            TenantId::new("acme").ok()?,
            ConnectionId::new("archive").ok()?,
            Domain::Storage,
            ProviderId::new("s3").ok()?,
        )
        .with_setting("base_url", moto.url())
        .with_setting("bucket", "contract")
        .with_setting("access_key_id", "AKIAEXAMPLE")
        .with_secret("secret_access_key", "secret-example-key");
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("the typed build");
        let s3 = integration_core::domain::build_adapter::<S3>(&config, &BuildContext::default()).expect("S3");
        s3.bucket().create().await.expect("the bucket");
        s3.bucket().set_versioning(true).await.expect("versioned");
        Some(Self { _moto: moto, storage })
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(&[Need::python("moto")], integration_testkit::storage_contract_suite!(trials "s3", OnMoto))
}
