//! What every HRIS adapter shares: its descriptor's start ([`descriptor`], the streams derived
//! from its capabilities), and — through the domain kit — how it is built ([`Adapter`]), its
//! factory, [`build`] (a typed `Arc<dyn Hris>`) and [`register_all`].

use integration_core::descriptor::DescriptorBuilder;
pub use integration_core::domain::{Adapter, AdapterFactory};
use integration_core::{Capability, Domain};

use crate::hris::Hris;
use crate::streams::HrisStream;

/// The start of an HRIS adapter's descriptor: the provider, the documentation it follows, the
/// standard HTTP policy, its `capabilities` and the streams they imply
/// ([`HrisStream::for_capabilities`]), so streams are never declared twice. Add the
/// configuration fields (and a webhook scheme or another HTTP policy), then build:
///
/// ```
/// use integration_core::Capability;
/// use integration_core::schema::FieldFormat;
/// use integration_hris::capability;
///
/// let descriptor = integration_hris::descriptor("tinyhr", "TinyHR", "https://tinyhr.example.com/docs",
///         [capability::DEPARTMENTS, Capability::HEALTH_CHECK])
///     .base_url(None, "the API host")
///     .secret("token", FieldFormat::Text, "an API token")
///     .build()?;
/// assert!(descriptor.stream("departments").is_some());
/// assert!(descriptor.stream("time_off").is_none());
/// # Ok::<(), integration_core::Error>(())
/// ```
pub fn descriptor<const N: usize>(
    provider: &str,
    display_name: &str,
    documentation: &str,
    capabilities: [Capability; N],
) -> DescriptorBuilder {
    let streams = HrisStream::for_capabilities(&capabilities);
    integration_core::domain::descriptor(provider, Domain::Hris, display_name, documentation, capabilities, streams)
}

integration_core::domain_adapters!("HRIS", dyn Hris, mapped;
    #[cfg(feature = "bamboohr")]
    crate::bamboohr::PROVIDER => crate::bamboohr::BambooHr,
    #[cfg(feature = "workday")]
    crate::workday::PROVIDER => crate::workday::Workday,
    #[cfg(feature = "adp")]
    crate::adp::PROVIDER => crate::adp::Adp,
);
