//! The carrier and provider adapters: an insurance carrier taking 834 files (Sun Life,
//! Manulife, or any carrier by its profile) and a pension provider taking contribution files
//! (PAPDIS, or a Canadian group RRSP/DPSP remittance), both over an SFTP drop box.
//!
//! Configuration:
//!
//! | key | what |
//! |---|---|
//! | `host`, `port`, `user`, `host_key` | the SFTP drop box, its host key pinned |
//! | secret `password`, or secret `private_key` (+ secret `passphrase`) | how to sign in |
//! | `upload_dir`, `answers_dir` | its folders (`upload`, `outbound`) |
//! | `drop_box_regions` | where the drop box keeps files (`CA`, `CA-QC,CA-ON`): checked against the connection's `region` |
//! | `sender_id`, `sponsor_name`, `sponsor_tax_id` | insurance: the plan sponsor (`ISA06`, `N1*P5`) |
//! | `usage` | insurance: `test` or `production` (`ISA15`) |
//! | `profile` | insurance: the carrier profile's fields to change, as JSON (`{"receiver_id": "SLF123"}`) |
//! | `plans` | insurance: the group's plans, as JSON (`[{"line": "HLT", "plan": "Gold", "tiers": ["EMP", "FAM"]}]`) |
//! | `layout`, `confirmation` | pension: the file and confirmation layouts, as JSON, when not the provider's default |

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::descriptor::{Descriptor, StreamDescriptor};
use integration_core::domain::{self, Adapter};
use integration_core::residency::{Placement, Region};
use integration_core::schema::FieldFormat;
use integration_core::{
    BuildContext, Capability, ConnectionInfo, Domain, Error, Integration, IntegrationConfig, Page, ReadRequest, Record,
    Result, SyncMode,
};
use serde::de::DeserializeOwned;

use crate::delivery::{AnswerReader, DropBox, SftpConfig, SftpDropBox, X12Answers};
use crate::enrollment::{CarrierProfile, Party, Sender};
use crate::insurance::claims::{ClaimsLayout, claims_over_time};
use crate::insurance::{Claim, Insurance, Plan};
use crate::pension::{ConfirmationLayout, FileLayout, Pension};
use crate::x12::Usage;

/// The insurance carriers: Sun Life, Manulife, and any other by its profile.
pub const INSURANCE_PROVIDERS: [&str; 3] = ["sun_life", "manulife", "edi_834"];
/// The pension file formats: PAPDIS and the Canadian group RRSP/DPSP remittance.
pub const PENSION_PROVIDERS: [&str; 2] = ["papdis", "group_rrsp"];

/// The stream of the carrier's answers (acknowledgements, confirmations) in its drop box.
pub const ANSWERS_STREAM: &str = "answers";
/// The stream of claims, each with its status over time (carriers with a claims layout).
pub const CLAIMS_STREAM: &str = "claims";

fn sftp_fields(
    builder: integration_core::descriptor::DescriptorBuilder,
) -> integration_core::descriptor::DescriptorBuilder {
    builder
        .setting("host", FieldFormat::Text, "the SFTP drop box's host")
        .optional_setting("port", FieldFormat::Integer { min: 1, max: 65_535 }, "its port (22)")
        .setting("user", FieldFormat::Text, "the SFTP user the carrier gave you")
        .setting(
            "host_key",
            FieldFormat::Text,
            "the server's host key as in known_hosts (`ssh-ed25519 AAAA…`): any other is refused",
        )
        .field(
            integration_core::schema::ConfigField::secret("password")
                .not_required()
                .with_description("the SFTP password (or give private_key)"),
        )
        .field(
            integration_core::schema::ConfigField::secret("private_key")
                .not_required()
                .with_description("an OpenSSH private key the carrier authorized (or give password)"),
        )
        .field(
            integration_core::schema::ConfigField::secret("passphrase")
                .not_required()
                .with_description("the private key's passphrase, if it has one"),
        )
        .optional_setting("upload_dir", FieldFormat::Text, "where files are put (`upload`)")
        .optional_setting("answers_dir", FieldFormat::Text, "where the carrier's answers appear (`outbound`)")
        .optional_setting("drop_box_regions", FieldFormat::Text, "where the drop box keeps files (`CA`, `CA-QC,CA-ON`)")
        .stream(
            StreamDescriptor::new(ANSWERS_STREAM, ["name"])
                .with_cursor_field("name")
                .with_modes([SyncMode::FullRefresh, SyncMode::Incremental])
                .with_description(
                    "the carrier's answers in the drop box (999 / TA1 acknowledgements, confirmation files), each read",
                ),
        )
}

fn drop_box(config: &IntegrationConfig) -> Result<Arc<dyn DropBox>> {
    let regions = config
        .setting_or("drop_box_regions", "")
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(Region::new)
        .collect::<Result<Vec<_>>>()
        .map_err(|e| Error::config(e.message().to_owned()).with_field("settings.drop_box_regions"))?;
    let placement = Placement::new(format!("{} drop box {}", config.provider, config.setting_or("host", "")), regions);
    Ok(Arc::new(SftpDropBox::new(SftpConfig::from_config(config, placement)?)?))
}

/// A JSON setting read as `T`, or `default`.
fn json_setting<T: DeserializeOwned>(config: &IntegrationConfig, key: &str, default: T) -> Result<T> {
    match config.settings.get(key) {
        None => Ok(default),
        Some(value) => {
            let value = match value {
                serde_json::Value::String(text) => serde_json::from_str(text).map_err(|e| {
                    Error::config(format!("settings.{key} is not JSON: {e}")).with_field(format!("settings.{key}"))
                })?,
                other => other.clone(),
            };
            serde_json::from_value(value)
                .map_err(|e| Error::config(format!("settings.{key}: {e}")).with_field(format!("settings.{key}")))
        }
    }
}

/// `base` with the fields of the JSON object `overrides` replaced.
fn overlay<T: serde::Serialize + DeserializeOwned>(base: T, config: &IntegrationConfig, key: &str) -> Result<T> {
    let overrides: serde_json::Map<String, serde_json::Value> = json_setting(config, key, serde_json::Map::new())?;
    let mut value = serde_json::to_value(base).map_err(|e| Error::config(e.to_string()))?;
    if let Some(object) = value.as_object_mut() {
        object.extend(overrides);
    }
    serde_json::from_value(value)
        .map_err(|e| Error::config(format!("settings.{key}: {e}")).with_field(format!("settings.{key}")))
}

async fn read_answers(drop_box: &dyn DropBox, reader: &dyn AnswerReader, request: &ReadRequest) -> Result<Page> {
    const PAGE: usize = 100;
    let after: Option<String> = match (&request.mode, &request.checkpoint) {
        (SyncMode::Incremental, Some(c)) => c.state().ok(),
        _ => None,
    };
    let names: Vec<String> =
        drop_box.answers().await?.into_iter().filter(|n| after.as_ref().is_none_or(|a| n > a)).collect();
    let mut records = Vec::new();
    for name in names.iter().take(PAGE) {
        let contents = drop_box.answer(name).await?;
        let data = match reader.read(name, &contents) {
            Ok(answers) => serde_json::json!({
                "name": name,
                "answers": answers.iter().map(|a| serde_json::json!({
                    "about": match &a.key {
                        crate::delivery::AnswerKey::Control(c) => serde_json::json!({"control": c}),
                        crate::delivery::AnswerKey::FileName(f) => serde_json::json!({"file": f}),
                    },
                    "status": a.status,
                    "notes": a.notes,
                })).collect::<Vec<_>>(),
            }),
            Err(e) => serde_json::json!({
                "name": name,
                "error": e.to_string(),
                "raw": String::from_utf8_lossy(&contents[..contents.len().min(4096)]),
            }),
        };
        records.push(Record::new(name.clone(), data));
    }
    let checkpoint = records.last().map(|r| integration_core::Checkpoint::from_state(&r.remote_id)).transpose()?;
    if names.len() > PAGE {
        Ok(Page::more(
            records,
            checkpoint.unwrap_or_else(|| integration_core::Checkpoint::new(serde_json::Value::Null)),
        ))
    } else {
        Ok(Page::last(records, checkpoint))
    }
}

/// Which carrier an [`EdiCarrier`] is: its provider id, name and starting profile.
pub trait Carrier: Send + Sync + std::fmt::Debug + 'static {
    /// The provider id (`sun_life`).
    const PROVIDER: &'static str;
    /// The display name.
    const NAME: &'static str;
    /// The profile its configuration's `profile` setting changes.
    fn profile() -> CarrierProfile;
}

/// Sun Life (Canada) group benefits ([`CarrierProfile::sun_life`]).
#[derive(Debug)]
pub struct SunLife;
impl Carrier for SunLife {
    const PROVIDER: &'static str = "sun_life";
    const NAME: &'static str = "Sun Life (EDI 834 over SFTP)";
    fn profile() -> CarrierProfile {
        CarrierProfile::sun_life()
    }
}

/// Manulife group benefits ([`CarrierProfile::manulife`]).
#[derive(Debug)]
pub struct Manulife;
impl Carrier for Manulife {
    const PROVIDER: &'static str = "manulife";
    const NAME: &'static str = "Manulife (EDI 834 over SFTP)";
    fn profile() -> CarrierProfile {
        CarrierProfile::manulife()
    }
}

/// Any carrier taking 834s, described wholly by its `profile` setting.
#[derive(Debug)]
pub struct AnyCarrier;
impl Carrier for AnyCarrier {
    const PROVIDER: &'static str = "edi_834";
    const NAME: &'static str = "Insurance carrier (EDI 834 over SFTP)";
    fn profile() -> CarrierProfile {
        CarrierProfile::default()
    }
}

/// An insurance carrier taking 834 files in its SFTP drop box.
#[derive(Debug)]
pub struct EdiCarrier<C: Carrier> {
    carrier: std::marker::PhantomData<C>,
    descriptor: Descriptor,
    profile: CarrierProfile,
    sender: Sender,
    plans: Vec<Plan>,
    claims: Option<ClaimsLayout>,
    drop_box: Arc<dyn DropBox>,
}

impl<C: Carrier> EdiCarrier<C> {
    async fn read_claims(&self) -> Result<Vec<Claim>> {
        let Some(layout) = &self.claims else {
            return Err(Error::unsupported(format!(
                "claims for {}: give the layout of its claims reports in settings.claims",
                self.profile.carrier
            ))
            .with_field("settings.claims"));
        };
        let mut events = Vec::new();
        for name in self.drop_box.answers().await?.into_iter().filter(|n| layout.is_report(n)) {
            let contents = self.drop_box.answer(&name).await?;
            events.extend(layout.read(&contents).map_err(|e| {
                Error::validation(
                    e.field().unwrap_or("claims").to_owned(),
                    format!("the claims report {name}: {}", e.message()),
                )
            })?);
        }
        Ok(claims_over_time(events))
    }
}

impl<C: Carrier> Adapter for EdiCarrier<C> {
    fn describe() -> Result<Descriptor> {
        let builder = domain::descriptor(
            C::PROVIDER,
            Domain::Benefits,
            C::NAME,
            "https://x12.org/products/transaction-sets (005010X220A1) and the carrier's companion guide",
            [Capability::HEALTH_CHECK],
            Vec::new(),
        );
        sftp_fields(builder)
            .setting("sender_id", FieldFormat::Text, "your interchange id with the carrier (ISA06)")
            .setting("sponsor_name", FieldFormat::Text, "the plan sponsor's name (N1*P5)")
            .setting("sponsor_tax_id", FieldFormat::Text, "the plan sponsor's tax id (N1*P5, qualifier FI)")
            .optional_setting(
                "usage",
                FieldFormat::OneOf { values: vec!["test".into(), "production".into()] },
                "test or production files (ISA15)",
            )
            .optional_setting("profile", FieldFormat::Text, "the carrier profile's fields to change, as JSON")
            .optional_setting("plans", FieldFormat::Text, "the group's plans, as JSON")
            .optional_setting(
                "claims",
                FieldFormat::Text,
                "the layout of the carrier's claims reports, as JSON (`{}` for the default)",
            )
            .stream(
                StreamDescriptor::new(CLAIMS_STREAM, ["id"])
                    .with_description("claims from the carrier's claims reports, each with its status over time"),
            )
            .build()
    }

    fn from_config(config: &IntegrationConfig, _context: &BuildContext) -> Result<Self> {
        let mut profile = overlay(C::profile(), config, "profile")?;
        profile.usage = match config.setting_or("usage", "production") {
            "test" => Usage::Test,
            _ => Usage::Production,
        };
        profile
            .delimiters
            .check()
            .map_err(|e| Error::config(e.to_string()).with_field("settings.profile.delimiters"))?;
        let sender_id = config.setting_str("sender_id")?.to_owned();
        let sender = Sender {
            qualifier: "ZZ".into(),
            application_sender: sender_id.clone(),
            id: sender_id,
            sponsor: Party {
                name: config.setting_str("sponsor_name")?.to_owned(),
                id_qualifier: "FI".into(),
                id: config.setting_str("sponsor_tax_id")?.to_owned(),
            },
        };
        Ok(Self {
            carrier: std::marker::PhantomData,
            descriptor: Self::describe()?,
            profile,
            sender,
            plans: json_setting(config, "plans", Vec::new())?,
            claims: match config.settings.get("claims") {
                None => None,
                Some(_) => Some(overlay(ClaimsLayout::default(), config, "claims")?),
            },
            drop_box: drop_box(config)?,
        })
    }
}

#[async_trait]
impl<C: Carrier> Integration for EdiCarrier<C> {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.drop_box.answers().await?;
        Ok(ConnectionInfo::with_account(self.sender.id.clone(), Some(self.profile.carrier.clone())))
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        if request.stream == CLAIMS_STREAM {
            let mut records = Vec::new();
            for claim in self.read_claims().await? {
                let data = serde_json::to_value(&claim).map_err(|e| Error::invalid_response(e.to_string()))?;
                records.push(Record::new(claim.id, data));
            }
            return Ok(Page::last(records, None));
        }
        read_answers(self.drop_box.as_ref(), &X12Answers, &request).await
    }
}

#[async_trait]
impl<C: Carrier> Insurance for EdiCarrier<C> {
    fn profile(&self) -> &CarrierProfile {
        &self.profile
    }
    fn sender(&self) -> &Sender {
        &self.sender
    }
    fn plans(&self) -> &[Plan] {
        &self.plans
    }
    fn drop_box(&self) -> Arc<dyn DropBox> {
        self.drop_box.clone()
    }
    async fn claims(&self) -> Result<Vec<Claim>> {
        self.read_claims().await
    }
}

/// Which file format a [`PensionFiles`] provider takes by default.
pub trait PensionFormat: Send + Sync + std::fmt::Debug + 'static {
    /// The provider id (`papdis`).
    const PROVIDER: &'static str;
    /// The display name.
    const NAME: &'static str;
    /// The layout its configuration's `layout` setting replaces.
    fn layout() -> FileLayout;
}

/// PAPDIS 1.1 ([`FileLayout::papdis`]).
#[derive(Debug)]
pub struct Papdis;
impl PensionFormat for Papdis {
    const PROVIDER: &'static str = "papdis";
    const NAME: &'static str = "Pension provider taking PAPDIS files over SFTP";
    fn layout() -> FileLayout {
        FileLayout::papdis()
    }
}

/// A Canadian group RRSP/DPSP remittance ([`FileLayout::canadian_group_rrsp_dpsp`]).
#[derive(Debug)]
pub struct GroupRrsp;
impl PensionFormat for GroupRrsp {
    const PROVIDER: &'static str = "group_rrsp";
    const NAME: &'static str = "Canadian group RRSP/DPSP carrier taking remittance files over SFTP";
    fn layout() -> FileLayout {
        FileLayout::canadian_group_rrsp_dpsp()
    }
}

/// A pension provider taking contribution files in its SFTP drop box.
#[derive(Debug)]
pub struct PensionFiles<F: PensionFormat> {
    format: std::marker::PhantomData<F>,
    descriptor: Descriptor,
    layout: FileLayout,
    confirmations: ConfirmationLayout,
    drop_box: Arc<dyn DropBox>,
}

impl<F: PensionFormat> Adapter for PensionFiles<F> {
    fn describe() -> Result<Descriptor> {
        let builder = domain::descriptor(
            F::PROVIDER,
            Domain::Benefits,
            F::NAME,
            "https://www.papdis.org/ (PAPDIS) and the provider's file specification",
            [Capability::HEALTH_CHECK],
            Vec::new(),
        );
        sftp_fields(builder)
            .optional_setting(
                "layout",
                FieldFormat::Text,
                "the contribution file layout, as JSON, when not the provider's default",
            )
            .optional_setting("confirmation", FieldFormat::Text, "the confirmation file layout, as JSON")
            .build()
    }

    fn from_config(config: &IntegrationConfig, _context: &BuildContext) -> Result<Self> {
        Ok(Self {
            format: std::marker::PhantomData,
            descriptor: Self::describe()?,
            layout: json_setting(config, "layout", F::layout())?,
            confirmations: json_setting(config, "confirmation", ConfirmationLayout::default())?,
            drop_box: drop_box(config)?,
        })
    }
}

#[async_trait]
impl<F: PensionFormat> Integration for PensionFiles<F> {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.drop_box.answers().await?;
        Ok(ConnectionInfo::default())
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        read_answers(self.drop_box.as_ref(), &self.answer_reader(), &request).await
    }
}

impl<F: PensionFormat> Pension for PensionFiles<F> {
    fn layout(&self) -> &FileLayout {
        &self.layout
    }
    fn confirmations(&self) -> &ConfirmationLayout {
        &self.confirmations
    }
    fn drop_box(&self) -> Arc<dyn DropBox> {
        self.drop_box.clone()
    }
}

/// Insurance carriers: [`build`](insurance::build) a typed `Arc<dyn Insurance>`.
pub mod insurance {
    use crate::insurance::Insurance;
    integration_core::domain_adapters!("insurance", dyn Insurance;
        "sun_life" => super::EdiCarrier<super::SunLife>,
        "manulife" => super::EdiCarrier<super::Manulife>,
        "edi_834" => super::EdiCarrier<super::AnyCarrier>,
    );
}

/// Pension providers: [`build`](pension::build) a typed `Arc<dyn Pension>`.
pub mod pension {
    use crate::pension::Pension;
    integration_core::domain_adapters!("pension", dyn Pension;
        "papdis" => super::PensionFiles<super::Papdis>,
        "group_rrsp" => super::PensionFiles<super::GroupRrsp>,
    );
}

/// Registers every benefits adapter: the insurance carriers and the pension providers.
///
/// # Errors
/// A provider registered twice.
pub fn register_all(registry: &mut integration_core::Registry) -> Result<()> {
    insurance::register_all(registry)?;
    pension::register_all(registry)
}
