//! Arbitrary text as a decoded `SAMLResponse`, given to the XML side as it is and inside a
//! signed-looking `<Response>` shell (so that it reaches samael and xmlsec past the first
//! reading): never a panic, and never an assertion — nothing here is signed by the key.
#![no_main]

use integration_saml::XmlSecProtocol;
use integration_sso::saml::{Certificate, IdentityProvider, SamlConfig, SamlProtocol};
use libfuzzer_sys::fuzz_target;

fn config() -> SamlConfig {
    let certificate = Certificate::from_pem(include_str!("../idp-cert.pem")).expect("the fixture certificate");
    let idp = IdentityProvider::new("https://idp.example", "https://idp.example/sso").with_certificate(certificate);
    SamlConfig::new("https://app.example/saml", "https://app.example/saml/acs", idp)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let config = config();
    let shell = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r\" Version=\"2.0\" \
         IssueInstant=\"2026-12-07T11:04:05Z\"><saml:Issuer>https://idp.example</saml:Issuer>\
         <ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{text}</ds:Signature>{text}</samlp:Response>"
    );
    for response in [text.as_ref(), shell.as_str()] {
        assert!(XmlSecProtocol.verify(&config, response).is_err(), "an unsigned input verified");
    }
});
