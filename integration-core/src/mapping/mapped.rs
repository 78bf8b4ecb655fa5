//! [`Mapped`]: an adapter with its connection's mappings applied to everything it reads.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Mapper;
use crate::descriptor::Descriptor;
use crate::domain::{Listing, Remote};
use crate::error::Result;
use crate::integration::{ConnectionInfo, Health, Integration, Page, ReadRequest, VerifiedWebhook, WebhookOutcome};

/// An adapter (any domain's trait object, or a plain [`Integration`]) whose reads pass through
/// a [`Mapper`]: the pages the sync reads, the changes webhooks bring, and — through the impl of
/// the domain's trait a domain crate writes once (`impl Hris for Mapped<dyn Hris>`, each typed
/// listing through [`listing`](Self::listing), each single read through [`one`](Self::one)) —
/// its typed listings. The adapter itself knows nothing of mappings.
pub struct Mapped<A: ?Sized> {
    inner: Arc<A>,
    mapper: Arc<Mapper>,
}

impl<A: ?Sized> Mapped<A> {
    /// `inner`, read through `mapper`.
    pub fn new(inner: Arc<A>, mapper: Arc<Mapper>) -> Self {
        Self { inner, mapper }
    }

    /// The adapter.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The mappings.
    pub fn mapper(&self) -> &Mapper {
        &self.mapper
    }

    /// A typed listing of `stream` from the adapter, mapped and checked (records that fail join
    /// its `rejected`).
    ///
    /// # Errors
    /// The adapter's error.
    pub fn listing<T: Serialize + DeserializeOwned>(
        &self,
        stream: &str,
        listing: Result<Listing<T>>,
    ) -> Result<Listing<T>> {
        Ok(self.mapper.listing(stream, listing?))
    }

    /// One typed record of `stream` from the adapter, mapped and checked.
    ///
    /// # Errors
    /// The adapter's error, or a [`Validation`](crate::ErrorKind::Validation) error naming the
    /// field and the rule the record breaks.
    pub fn one<T: Serialize + DeserializeOwned>(&self, stream: &str, remote: Result<Remote<T>>) -> Result<Remote<T>> {
        self.mapper.one(stream, remote?)
    }
}

impl<A: ?Sized + fmt::Debug> fmt::Debug for Mapped<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapped").field("inner", &self.inner).field("mapper", &self.mapper).finish()
    }
}

#[async_trait]
impl<A: Integration + ?Sized> Integration for Mapped<A> {
    fn descriptor(&self) -> &Descriptor {
        self.inner.descriptor()
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.inner.connect().await
    }

    async fn disconnect(&self) -> Result<()> {
        self.inner.disconnect().await
    }

    async fn health_check(&self) -> Result<Health> {
        self.inner.health_check().await
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        let stream = request.stream.clone();
        Ok(self.mapper.page(&stream, self.inner.read(request).await?))
    }

    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        Ok(self.mapper.webhook(self.inner.handle_webhook(delivery).await?))
    }
}
