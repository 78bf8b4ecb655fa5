//! A small adapter for the integration tests: a fixed directory of employees, paged by offset.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::descriptor::{Descriptor, Domain, StreamDescriptor, SyncMode};
use integration_core::schema::{ConfigField, FieldFormat};
use integration_core::*;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const API_KEY: &str = "bhr-live-4f9a1c2e7d";

/// A test adapter that only reads: its descriptor and its pages. Wrapped in [`ReadOnly`], it
/// is an `Integration` whose connect, disconnect and health check succeed.
#[async_trait]
pub trait Reads: Send + Sync + std::fmt::Debug {
    /// The descriptor.
    fn descriptor(&self) -> &Descriptor;
    /// One page.
    async fn read(&self, request: ReadRequest) -> Result<Page>;
}

/// A [`Reads`] as an `Integration`.
#[derive(Debug)]
pub struct ReadOnly<R>(pub R);

#[async_trait]
impl<R: Reads> Integration for ReadOnly<R> {
    fn descriptor(&self) -> &Descriptor {
        self.0.descriptor()
    }
    async fn connect(&self) -> Result<ConnectionInfo> {
        Ok(ConnectionInfo::default())
    }
    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }
    async fn health_check(&self) -> Result<Health> {
        Ok(Health::healthy(Default::default()))
    }
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        self.0.read(request).await
    }
}

/// The tenant the tests use.
pub fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

/// An engine over `store` for both its state and its records.
pub fn engine(store: &integration_core::store::MemoryStore) -> SyncEngine {
    SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "worker-1")
}

pub fn descriptor(provider: &str) -> Descriptor {
    Descriptor::builder(provider, Domain::Hris, "Directory")
        .stream(
            StreamDescriptor::new("employees", ["id"])
                .with_cursor_field("updated")
                .with_modes([SyncMode::FullRefresh, SyncMode::Incremental]),
        )
        .field(ConfigField::required("subdomain", FieldFormat::HostLabel).with_description("the company's subdomain"))
        .field(ConfigField::optional("base_url", FieldFormat::HttpsUrl))
        .field(ConfigField::secret("api_key"))
        .build()
        .expect("valid descriptor")
}

#[derive(Serialize, Deserialize)]
struct Offset {
    next: usize,
}

pub struct Directory {
    descriptor: Descriptor,
    api_key: SecretString,
    people: Vec<&'static str>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("provider", &self.descriptor.provider).finish_non_exhaustive()
    }
}

#[async_trait]
impl Integration for Directory {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        if self.api_key.expose_secret() == API_KEY {
            Ok(ConnectionInfo::with_account("acme", Some("Acme Corp".into())))
        } else {
            Err(Error::new(ErrorKind::AuthInvalid, "the API key was rejected").with_status(401))
        }
    }

    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }

    async fn health_check(&self) -> Result<Health> {
        self.connect().await.map(|_| Health::healthy(Duration::from_millis(3)))
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        if request.stream != "employees" {
            return Err(Error::not_found(format!("no stream {:?}", request.stream)));
        }
        let start = match &request.checkpoint {
            Some(cp) => cp.state::<Offset>()?.next,
            None => 0,
        };
        let size = request.page_size.map_or(2, |n| n.get() as usize);
        let end = (start + size).min(self.people.len());
        let records = self.people[start..end]
            .iter()
            .enumerate()
            .map(|(i, name)| Record::new((start + i).to_string(), json!({ "name": name })))
            .collect();
        let checkpoint = Checkpoint::from_state(&Offset { next: end })?;
        Ok(if end < self.people.len() {
            Page::more(records, checkpoint)
        } else {
            Page::last(records, Some(checkpoint))
        })
    }
}

#[derive(Debug)]
pub struct DirectoryFactory(pub Descriptor);

impl Factory for DirectoryFactory {
    fn descriptor(&self) -> &Descriptor {
        &self.0
    }

    fn build(&self, config: IntegrationConfig, _context: &BuildContext) -> Result<Arc<dyn Integration>> {
        Ok(Arc::new(Directory {
            descriptor: self.0.clone(),
            api_key: config.secret("api_key")?.clone(),
            people: vec!["Ada", "Grace", "Alan", "Edsger", "Barbara"],
        }))
    }
}

pub fn config(provider: &str) -> IntegrationConfig {
    IntegrationConfig::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("hr-main").expect("connection"),
        Domain::Hris,
        ProviderId::new(provider).expect("provider"),
    )
    .with_setting("subdomain", "acme")
    .with_secret("api_key", API_KEY)
}
