//! A response verified: read once by a pure-Rust parser (no DOCTYPE, a size of tree bounded,
//! a `<Response>` at the root, signed somewhere), then samael and xmlsec check every signature
//! against the identity provider's certificates and keep only what they cover; what is kept
//! becomes the [`SignedAssertion`] that `integration_sso::saml` checks.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use integration_sso::saml::{Confirmation, SamlConfig, SamlRefusal, SignedAssertion};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::Endpoint;
use samael::metadata::{EntityDescriptor, HTTP_REDIRECT_BINDING, IdpSsoDescriptor, KeyDescriptor};
use samael::schema::Assertion;
use samael::service_provider::{Error as SamaelError, ServiceProvider};

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The signature algorithms taken: RSA and ECDSA with SHA-256 or stronger (never SHA-1).
const ALLOWED: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// The most XML nodes a response may have.
const MAX_NODES: u32 = 20_000;

fn parse(xml: &str) -> Result<roxmltree::Document<'_>, String> {
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..Default::default() };
    roxmltree::Document::parse_with_options(xml, options)
        .map_err(|e| format!("not well-formed XML without a DOCTYPE: {e}"))
}

/// Whether `xml` is well-formed, without a DOCTYPE and of a bounded size.
pub(crate) fn well_formed(xml: &str) -> Result<(), String> {
    parse(xml).map(drop)
}

/// The identity provider as samael's metadata, with its certificates for signing.
pub(crate) fn idp_descriptor(config: &SamlConfig) -> EntityDescriptor {
    let key_descriptors = config
        .idp
        .certificates
        .iter()
        .map(|certificate| KeyDescriptor {
            key_use: Some("signing".into()),
            key_info: KeyInfo {
                id: None,
                x509_data: Some(X509Data { certificates: vec![base64_of(certificate.der())] }),
            },
            encryption_methods: None,
        })
        .collect();
    EntityDescriptor {
        entity_id: Some(config.idp.entity_id.clone()),
        idp_sso_descriptors: Some(vec![IdpSsoDescriptor {
            id: None,
            valid_until: None,
            cache_duration: None,
            protocol_support_enumeration: Some(PROTOCOL.into()),
            error_url: None,
            signature: None,
            key_descriptors,
            organization: None,
            contact_people: Vec::new(),
            artifact_resolution_service: Vec::new(),
            single_logout_services: Vec::new(),
            manage_name_id_services: Vec::new(),
            name_id_formats: Vec::new(),
            want_authn_requests_signed: None,
            single_sign_on_services: vec![Endpoint {
                binding: HTTP_REDIRECT_BINDING.into(),
                location: config.idp.sso_url.clone(),
                response_location: None,
            }],
            name_id_mapping_services: Vec::new(),
            assertion_id_request_services: Vec::new(),
            attribute_profiles: Vec::new(),
            attributes: Vec::new(),
        }]),
        ..EntityDescriptor::default()
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The signed assertion of `xml`, or why not.
pub(crate) fn verify(sp: &ServiceProvider, xml: &str) -> Result<SignedAssertion, SamlRefusal> {
    {
        let document = parse(xml).map_err(SamlRefusal::Malformed)?;
        let root = document.root_element();
        if !root.has_tag_name((PROTOCOL, "Response")) {
            return Err(SamlRefusal::Malformed(format!(
                "the root is <{}>, not a SAML <Response>",
                root.tag_name().name()
            )));
        }
        if document.descendants().any(|n| n.has_tag_name((ASSERTION, "EncryptedAssertion"))) {
            return Err(SamlRefusal::Unsupported("encrypted assertions".into()));
        }
        if !document.descendants().any(|n| n.has_tag_name((DSIG, "Signature"))) {
            return Err(SamlRefusal::Unsigned);
        }
    }
    // The times, the request answered and the pending login are checked by integration-sso
    // at the caller's instant: samael is given room enough not to decide them first.
    let sp = ServiceProvider {
        allow_idp_initiated: true,
        max_issue_delay: TimeDelta::days(1),
        max_clock_skew: TimeDelta::days(1),
        allowed_signature_algorithms: Some(ALLOWED.to_vec()),
        ..sp.clone()
    };
    let assertion = sp.parse_xml_response(xml, None).map_err(refusal)?;
    signed_assertion(assertion)
}

fn refusal(error: SamaelError) -> SamlRefusal {
    match error {
        SamaelError::FailedToValidateSignature | SamaelError::CryptoXmlError(_) => SamlRefusal::Signature,
        SamaelError::ResponseIssuerMismatch { issuer, .. } | SamaelError::AssertionIssuerMismatch { issuer, .. } => {
            SamlRefusal::Issuer(issuer.unwrap_or_else(|| "none".into()))
        }
        SamaelError::DestinationValidationError { response_destination, .. } => {
            SamlRefusal::Destination(response_destination.unwrap_or_else(|| "none".into()))
        }
        SamaelError::AssertionRecipientMismatch { assertion_recipient, .. } => {
            SamlRefusal::Recipient(assertion_recipient.unwrap_or_else(|| "none".into()))
        }
        SamaelError::AssertionConditionAudienceRestrictionFailed { requirement } => {
            SamlRefusal::Audience(format!("the audiences do not name {requirement}"))
        }
        SamaelError::ResponseBadStatusCode { code } => SamlRefusal::Status(code),
        SamaelError::AssertionExpired { time }
        | SamaelError::ResponseExpired { time }
        | SamaelError::AssertionConditionExpired { time }
        | SamaelError::AssertionSubjectConfirmationExpired { time } => SamlRefusal::Expired(time),
        SamaelError::AssertionConditionExpiredBefore { time }
        | SamaelError::AssertionSubjectConfirmationExpiredBefore { time } => SamlRefusal::NotYetValid(time),
        SamaelError::EncryptedAssertionsNotYetSupported | SamaelError::MissingPrivateKeySP => {
            SamlRefusal::Unsupported("encrypted assertions".into())
        }
        other => SamlRefusal::Malformed(other.to_string()),
    }
}

fn signed_assertion(assertion: Assertion) -> Result<SignedAssertion, SamlRefusal> {
    let malformed = |what: &str| SamlRefusal::Malformed(format!("the assertion has no {what}"));
    let subject = assertion.subject.ok_or_else(|| malformed("subject"))?;
    let name_id = subject.name_id.ok_or_else(|| malformed("NameID"))?;
    let confirmations = subject
        .subject_confirmations
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let data = c.subject_confirmation_data;
            Confirmation {
                method: c.method.unwrap_or_default(),
                recipient: data.as_ref().and_then(|d| d.recipient.clone()),
                in_response_to: data.as_ref().and_then(|d| d.in_response_to.clone()),
                not_before: data.as_ref().and_then(|d| d.not_before),
                not_on_or_after: data.as_ref().and_then(|d| d.not_on_or_after),
            }
        })
        .collect();
    let conditions = assertion.conditions;
    let mut attributes = BTreeMap::<String, Vec<String>>::new();
    for attribute in assertion.attribute_statements.into_iter().flatten().flat_map(|s| s.attributes) {
        let Some(name) = attribute.name.or(attribute.friendly_name) else { continue };
        attributes.entry(name).or_default().extend(attribute.values.into_iter().filter_map(|v| v.value));
    }
    Ok(SignedAssertion {
        id: assertion.id,
        issuer: assertion.issuer.value.ok_or_else(|| malformed("issuer"))?,
        issue_instant: assertion.issue_instant,
        name_id: name_id.value,
        name_id_format: name_id.format,
        confirmations,
        not_before: conditions.as_ref().and_then(|c| c.not_before),
        not_on_or_after: conditions.as_ref().and_then(|c| c.not_on_or_after),
        audience_restrictions: conditions
            .and_then(|c| c.audience_restrictions)
            .unwrap_or_default()
            .into_iter()
            .map(|restriction| restriction.audience)
            .collect(),
        session_index: assertion.authn_statements.into_iter().flatten().find_map(|s| s.session_index),
        attributes,
    })
}
