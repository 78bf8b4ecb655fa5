//! The SSO stores' contract (`integration_testkit::contract::sso_stores`) on SQLite and
//! PostgreSQL.

#![cfg(feature = "sso")]

mod common;

mod sqlite {
    integration_testkit::sso_store_contract_suite!(scim: super::common::sqlite(), mfa: super::common::sqlite(), sessions: super::common::sqlite(), saml: super::common::sqlite());
}

mod postgres {
    integration_testkit::sso_store_contract_suite!(scim: super::common::postgres(), mfa: super::common::postgres(), sessions: super::common::postgres(), saml: super::common::postgres());
}
