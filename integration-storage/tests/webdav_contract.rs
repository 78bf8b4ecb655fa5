//! The storage contract, WebDAV adapter against the real WsgiDAV: each rule on a fresh server
//! sharing an empty folder, the connection rooted in a sub-folder of it.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use integration_storage::Storage;
use integration_testkit::contract::storage::StorageFixture;
use integration_testkit::peers::WsgiDav;

struct OnWsgiDav {
    _server: WsgiDav,
    storage: Arc<dyn Storage>,
}

#[async_trait]
impl StorageFixture for OnWsgiDav {
    async fn start() -> Option<Self> {
        let server = WsgiDav::start()?;
        // The connection's root is a folder with a space in its name, not the server's root.
        std::fs::create_dir_all(server.root().join("shared files")).expect("the root folder");
        let config = IntegrationConfig::new(
            TenantId::new("acme").ok()?,
            ConnectionId::new("files").ok()?,
            Domain::Storage,
            ProviderId::new("webdav").ok()?,
        )
        .with_setting("base_url", format!("{}/shared%20files/", server.url()))
        .with_setting("username", WsgiDav::USER)
        .with_secret("password", WsgiDav::PASSWORD);
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("the typed build");
        Some(Self { _server: server, storage })
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(&[Need::python("wsgidav")], integration_testkit::storage_contract_suite!(trials "webdav", OnWsgiDav))
}
