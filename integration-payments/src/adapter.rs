//! What every payments adapter shares: its descriptor's start ([`descriptor`]) and — through
//! the domain kit — [`build`] (a typed `Arc<dyn Payments>`) and [`register_all`].

use integration_core::descriptor::DescriptorBuilder;
pub use integration_core::domain::{Adapter, AdapterFactory};
use integration_core::{Capability, Domain};

use crate::payments::Payments;

/// The start of a payments adapter's descriptor: the provider, its documentation, its
/// `capabilities` and the streams they imply.
pub fn descriptor<const N: usize>(
    provider: &str,
    display_name: &str,
    documentation: &str,
    capabilities: [Capability; N],
) -> DescriptorBuilder {
    let streams = crate::streams::descriptors(&capabilities);
    integration_core::domain::descriptor(provider, Domain::Payments, display_name, documentation, capabilities, streams)
}

integration_core::domain_adapters!("payments", dyn Payments, mapped;
    #[cfg(feature = "stripe")]
    crate::stripe::PROVIDER => crate::stripe::Stripe,
    #[cfg(feature = "adyen")]
    crate::adyen::PROVIDER => crate::adyen::Adyen,
);
