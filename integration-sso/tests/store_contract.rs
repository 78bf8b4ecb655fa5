//! The SSO stores' contract (`integration_testkit::contract::sso_stores`) on the memory stores.

use integration_sso::mfa::store::MemoryMfaStore;
use integration_sso::saml::MemoryAssertionLedger;
use integration_sso::scim::store::MemoryScimStore;
use integration_sso::session::store::MemorySessionStore;

integration_testkit::sso_store_contract_suite!(
    scim: async { Some(MemoryScimStore::new()) },
    mfa: async { Some(MemoryMfaStore::new()) },
    sessions: async { Some(MemorySessionStore::new()) },
    saml: async { Some(MemoryAssertionLedger::new()) },
);
