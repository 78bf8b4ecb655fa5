//! What every HRIS adapter shares: how it is built from a connection's configuration, its
//! [`Factory`] for the [`Registry`], and [`build`], which gives a typed `Arc<dyn Hris>`.

use std::marker::PhantomData;
use std::sync::Arc;

use integration_core::descriptor::DescriptorBuilder;
use integration_core::http::HttpPolicy;
use integration_core::{
    BuildContext, Capability, Descriptor, Domain, Error, Factory, Integration, IntegrationConfig, Registry, Result,
};

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
///     .setting("base_url", FieldFormat::HttpsUrl, "the API host")
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
    Descriptor::builder(provider, Domain::Hris, display_name)
        .documentation(documentation)
        .http_policy(HttpPolicy::standard())
        .streams(HrisStream::for_capabilities(&capabilities))
        .capabilities(capabilities)
}

/// An HRIS adapter: a [`Hris`] built from one connection's configuration.
pub trait Adapter: Hris + Sized + 'static {
    /// The adapter's descriptor (streams, capabilities, configuration schema, HTTP policy).
    fn describe() -> Result<Descriptor>;

    /// The adapter for one connection; `config` has passed the descriptor's schema.
    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self>;
}

/// The [`Factory`] of an [`Adapter`], for a [`Registry`].
#[derive(Debug)]
pub struct AdapterFactory<A> {
    descriptor: Descriptor,
    adapter: PhantomData<fn() -> A>,
}

impl<A: Adapter> AdapterFactory<A> {
    /// The factory; fails only if the adapter's descriptor is inconsistent.
    pub fn new() -> Result<Self> {
        Ok(Self { descriptor: A::describe()?, adapter: PhantomData })
    }
}

impl<A: Adapter> Factory for AdapterFactory<A> {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn build(&self, config: IntegrationConfig, context: &BuildContext) -> Result<Arc<dyn Integration>> {
        Ok(Arc::new(A::from_config(&config, context)?))
    }
}

fn build_as<A: Adapter>(config: &IntegrationConfig, context: &BuildContext) -> Result<Arc<dyn Hris>> {
    let descriptor = A::describe()?;
    descriptor.config.validate(&config.provider, &config.settings, &config.secrets)?;
    Ok(Arc::new(A::from_config(config, context)?))
}

/// Registers every HRIS adapter compiled in (one feature each) with `registry`.
pub fn register_all(registry: &mut Registry) -> Result<()> {
    #[cfg(feature = "bamboohr")]
    registry.register(AdapterFactory::<crate::bamboohr::BambooHr>::new()?)?;
    #[cfg(feature = "workday")]
    registry.register(AdapterFactory::<crate::workday::Workday>::new()?)?;
    #[cfg(feature = "adp")]
    registry.register(AdapterFactory::<crate::adp::Adp>::new()?)?;
    let _ = &registry;
    Ok(())
}

/// Builds the HRIS adapter `config.provider` names, after checking `config` against its schema:
/// the typed counterpart of [`Registry::build`]. An unknown (or not compiled in) provider is a
/// [`Config`](integration_core::ErrorKind::Config) error naming `provider`.
pub fn build(config: &IntegrationConfig, context: &BuildContext) -> Result<Arc<dyn Hris>> {
    let _ = context;
    match config.provider.as_str() {
        #[cfg(feature = "bamboohr")]
        crate::bamboohr::PROVIDER => build_as::<crate::bamboohr::BambooHr>(config, context),
        #[cfg(feature = "workday")]
        crate::workday::PROVIDER => build_as::<crate::workday::Workday>(config, context),
        #[cfg(feature = "adp")]
        crate::adp::PROVIDER => build_as::<crate::adp::Adp>(config, context),
        other => Err(Error::config(format!(
            "{other:?} is not an HRIS provider compiled into this build (features: bamboohr, workday, adp)"
        ))
        .with_field("provider")),
    }
}
