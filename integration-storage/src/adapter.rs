//! What every storage adapter shares: its descriptor's start ([`descriptor`]) and — through
//! the domain kit — [`build`] (a typed `Arc<dyn Storage>`) and [`register_all`].

use integration_core::descriptor::DescriptorBuilder;
pub use integration_core::domain::{Adapter, AdapterFactory};
use integration_core::{Capability, Domain};

use crate::storage::Storage;

/// The start of a storage adapter's descriptor: the provider, its documentation, its
/// `capabilities` and the streams they imply.
pub fn descriptor<const N: usize>(
    provider: &str,
    display_name: &str,
    documentation: &str,
    capabilities: [Capability; N],
) -> DescriptorBuilder {
    let streams = crate::streams::descriptors(&capabilities);
    integration_core::domain::descriptor(provider, Domain::Storage, display_name, documentation, capabilities, streams)
}

integration_core::domain_adapters!("storage", dyn Storage, mapped;
    #[cfg(feature = "dropbox")]
    crate::dropbox::PROVIDER => crate::dropbox::Dropbox,
    #[cfg(feature = "gdrive")]
    crate::gdrive::PROVIDER => crate::gdrive::GoogleDrive,
    #[cfg(feature = "onedrive")]
    crate::onedrive::PROVIDER => crate::onedrive::OneDrive,
    #[cfg(feature = "s3")]
    crate::s3::PROVIDER => crate::s3::S3,
    #[cfg(feature = "webdav")]
    crate::webdav::PROVIDER => crate::webdav::WebDav,
);
