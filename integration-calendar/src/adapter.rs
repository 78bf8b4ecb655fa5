//! What every calendar adapter shares: its descriptor's start ([`descriptor`]) and — through
//! the domain kit — [`build`] (a typed `Arc<dyn Calendar>`) and [`register_all`].

use integration_core::descriptor::DescriptorBuilder;
pub use integration_core::domain::{Adapter, AdapterFactory};
use integration_core::{Capability, Domain};

use crate::calendar::Calendar;

/// The start of a calendar adapter's descriptor: the provider, its documentation, its
/// `capabilities` and the streams they imply.
pub fn descriptor<const N: usize>(
    provider: &str,
    display_name: &str,
    documentation: &str,
    capabilities: [Capability; N],
) -> DescriptorBuilder {
    let streams = crate::streams::descriptors(&capabilities);
    integration_core::domain::descriptor(provider, Domain::Calendar, display_name, documentation, capabilities, streams)
}

integration_core::domain_adapters!("calendar", dyn Calendar, mapped;
    #[cfg(feature = "caldav")]
    crate::caldav::PROVIDER => crate::caldav::CalDav,
    #[cfg(feature = "google")]
    crate::google::PROVIDER => crate::google::GoogleCalendar,
    #[cfg(feature = "microsoft")]
    crate::microsoft::PROVIDER => crate::microsoft::MicrosoftCalendar,
);
