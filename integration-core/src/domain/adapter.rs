//! Adapters of a domain: how each is built from a connection's configuration, its [`Factory`]
//! for the [`Registry`](crate::Registry), and the typed build and registration a domain crate
//! declares once with [`domain_adapters!`](crate::domain_adapters).

use std::marker::PhantomData;
use std::sync::Arc;

use crate::descriptor::{Descriptor, DescriptorBuilder, Domain, StreamDescriptor};
use crate::error::Result;
use crate::http::HttpPolicy;
use crate::integration::Integration;
use crate::registry::{BuildContext, Factory};
use crate::{Capability, IntegrationConfig};

/// An adapter of some domain: an [`Integration`] (and the domain's trait) built from one
/// connection's configuration.
pub trait Adapter: Integration + Sized + 'static {
    /// The adapter's descriptor (streams, capabilities, configuration schema, HTTP policy).
    fn describe() -> Result<Descriptor>;

    /// The adapter for one connection; `config` has passed the descriptor's schema.
    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self>;
}

/// The [`Factory`] of an [`Adapter`], for a [`Registry`](crate::Registry).
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

/// Builds adapter `A` for `config` once `config` passes `A`'s configuration schema (a
/// [`Config`](crate::ErrorKind::Config) error naming the field otherwise). A domain's typed
/// `build` (from [`domain_adapters!`](crate::domain_adapters)) calls it for the provider named.
pub fn build_adapter<A: Adapter>(config: &IntegrationConfig, context: &BuildContext) -> Result<Arc<A>> {
    let descriptor = A::describe()?;
    descriptor.config.validate(&config.provider, &config.settings, &config.secrets)?;
    Ok(Arc::new(A::from_config(config, context)?))
}

/// The start of a domain adapter's descriptor: the provider, its domain, the documentation it
/// follows, the standard HTTP policy, its `capabilities` and the `streams` its domain derives
/// from them (so streams are never declared twice). Add the configuration fields (and a webhook
/// scheme or another HTTP policy), then build.
pub fn descriptor(
    provider: &str,
    domain: Domain,
    display_name: &str,
    documentation: &str,
    capabilities: impl IntoIterator<Item = Capability>,
    streams: Vec<StreamDescriptor>,
) -> DescriptorBuilder {
    Descriptor::builder(provider, domain, display_name)
        .documentation(documentation)
        .http_policy(HttpPolicy::standard())
        .streams(streams)
        .capabilities(capabilities)
}

/// Declares a domain's adapters once, giving the domain crate two functions:
///
/// - `register_all(&mut Registry)`: every adapter compiled in, registered;
/// - `build(&IntegrationConfig, &BuildContext) -> Result<Arc<dyn Domain>>`: the typed adapter
///   for the provider the configuration names, after checking the configuration against its
///   schema; an unknown provider (or one not compiled in) is a `Config` error naming `provider`.
///
/// With `mapped` after the trait object (`domain_adapters!("hris", dyn Hris, mapped; …)`), the
/// domain implements its trait for [`Mapped<dyn Domain>`](crate::mapping::Mapped) once, and
/// `build` wraps the adapter in it when the connection has [field mappings](crate::mapping), so
/// the typed listings apply them. Without it, a connection with mappings is refused by `build`
/// (`Unsupported`, naming `mappings`) rather than read without them; `Registry::build` applies
/// them to the sync either way.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use integration_core::domain::{self, Adapter};
/// use integration_core::*;
///
/// /// A domain's trait.
/// #[async_trait]
/// pub trait Notes: Integration {}
///
/// #[derive(Debug)]
/// pub struct Jot(Descriptor);
/// # #[async_trait]
/// # impl Integration for Jot {
/// #     fn descriptor(&self) -> &Descriptor { &self.0 }
/// #     async fn connect(&self) -> Result<ConnectionInfo> { Ok(ConnectionInfo::default()) }
/// #     async fn disconnect(&self) -> Result<()> { Ok(()) }
/// #     async fn health_check(&self) -> Result<Health> { Ok(Health::healthy(Default::default())) }
/// #     async fn read(&self, _: ReadRequest) -> Result<Page> { Ok(Page::last(Vec::new(), None)) }
/// # }
/// impl Notes for Jot {}
/// impl Adapter for Jot {
///     fn describe() -> Result<Descriptor> {
///         domain::descriptor("jot", Domain::Crm, "Jot", "https://jot.example.com/docs", [], Vec::new()).build()
///     }
///     fn from_config(_: &IntegrationConfig, _: &BuildContext) -> Result<Self> {
///         Ok(Jot(Self::describe()?))
///     }
/// }
///
/// integration_core::domain_adapters!("notes", dyn Notes; "jot" => Jot);
///
/// let config = IntegrationConfig::new(
///     TenantId::new("acme")?, ConnectionId::new("n")?, Domain::Crm, ProviderId::new("jot")?,
/// );
/// let notes: Arc<dyn Notes> = build(&config, &BuildContext::default())?;
/// assert_eq!(notes.descriptor().provider.as_str(), "jot");
/// let mut registry = Registry::new();
/// register_all(&mut registry)?;
/// assert_eq!(registry.build(config.clone())?.descriptor().provider.as_str(), "jot");
///
/// // Declared without `mapped`, the typed build refuses a connection with field mappings.
/// use integration_core::mapping::{Check, Mappings, Rule};
/// let mapped = config.with_mappings(Mappings::default().rule(Rule::new("notes", "text", Check::Required)));
/// assert_eq!(build(&mapped, &BuildContext::default()).unwrap_err().kind(), ErrorKind::Unsupported);
/// # Ok::<(), integration_core::Error>(())
/// ```
#[macro_export]
macro_rules! domain_adapters {
    ($domain:literal, $object:ty $(, $mapped:ident)?; $( $(#[$attr:meta])* $provider:pat => $adapter:ty ),* $(,)?) => {
        #[doc = concat!("Registers every ", $domain, " adapter compiled in (one feature each) with `registry`.")]
        pub fn register_all(registry: &mut $crate::Registry) -> $crate::Result<()> {
            $( $(#[$attr])* registry.register($crate::domain::AdapterFactory::<$adapter>::new()?)?; )*
            let _ = &registry;
            Ok(())
        }

        #[doc = concat!(
            "Builds the ", $domain, " adapter `config.provider` names, after checking `config` against its ",
            "schema: the typed counterpart of `Registry::build`. An unknown (or not compiled in) provider is ",
            "a `Config` error naming `provider`. The connection's field mappings are checked and applied ",
            "to everything the adapter reads (`integration_core::mapping`)."
        )]
        // With no adapter compiled in, every arm of the match returns.
        #[allow(unreachable_code)]
        pub fn build(
            config: &$crate::IntegrationConfig,
            context: &$crate::BuildContext,
        ) -> $crate::Result<::std::sync::Arc<$object>> {
            let _ = context;
            let adapter: ::std::sync::Arc<$object> = match config.provider.as_str() {
                $( $(#[$attr])* $provider => $crate::domain::build_adapter::<$adapter>(config, context)?, )*
                other => return Err($crate::Error::config(format!(
                    "{other:?} is not among the {} providers compiled into this build (each is a feature of its domain crate)",
                    $domain
                ))
                .with_field("provider")),
            };
            $crate::domain_adapters!(@mapped [$($mapped)?] $domain, $object, adapter, config)
        }
    };
    (@mapped [mapped] $domain:literal, $object:ty, $adapter:ident, $config:ident) => {{
        if $config.mappings.is_empty() {
            return Ok($adapter);
        }
        let mapper = $crate::mapping::Mapper::compile(&$config.mappings, Some($adapter.descriptor()))?;
        Ok(::std::sync::Arc::new($crate::mapping::Mapped::<$object>::new($adapter, ::std::sync::Arc::new(mapper))))
    }};
    (@mapped [] $domain:literal, $object:ty, $adapter:ident, $config:ident) => {{
        if $config.mappings.is_empty() {
            return Ok($adapter);
        }
        Err($crate::Error::unsupported(concat!("field mappings on the typed listings of the ", $domain, " domain"))
            .with_field("mappings"))
    }};
}
