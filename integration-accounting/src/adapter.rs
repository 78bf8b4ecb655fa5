//! What every accounting adapter shares: its descriptor's start ([`descriptor`], the streams
//! derived from its capabilities), and — through the domain kit — how it is built
//! ([`Adapter`]), its factory, [`build`] (a typed `Arc<dyn Accounting>`) and [`register_all`].

use integration_core::descriptor::DescriptorBuilder;
pub use integration_core::domain::{Adapter, AdapterFactory};
use integration_core::{Capability, Domain};

use crate::accounting::Accounting;

/// The start of an accounting adapter's descriptor: the provider, the documentation it follows,
/// the standard HTTP policy, its `capabilities` and the streams they imply, so streams are
/// never declared twice.
///
/// ```
/// use integration_accounting::capability;
/// use integration_core::schema::FieldFormat;
///
/// let descriptor = integration_accounting::descriptor("ledgerly", "Ledgerly", "https://ledgerly.example.com/docs",
///         [capability::PAYMENTS, capability::CHANGES])
///     .base_url(None, "the API host")
///     .secret("token", FieldFormat::Text, "an API token")
///     .build()?;
/// assert!(descriptor.stream("payments").is_some());
/// assert!(descriptor.stream("journal_entries").is_none());
/// # Ok::<(), integration_core::Error>(())
/// ```
pub fn descriptor<const N: usize>(
    provider: &str,
    display_name: &str,
    documentation: &str,
    capabilities: [Capability; N],
) -> DescriptorBuilder {
    let streams = crate::streams::descriptors(&capabilities);
    integration_core::domain::descriptor(
        provider,
        Domain::Accounting,
        display_name,
        documentation,
        capabilities,
        streams,
    )
}

integration_core::domain_adapters!("accounting", dyn Accounting, mapped;
    #[cfg(feature = "quickbooks")]
    crate::quickbooks::PROVIDER => crate::quickbooks::QuickBooks,
    #[cfg(feature = "xero")]
    crate::xero::PROVIDER => crate::xero::Xero,
);
