-- SAML assertions already accepted (integration_sso::saml::AssertionLedger), remembered until
-- they could no longer be accepted anyway, so that a replay is refused by every worker.

CREATE TABLE saml_assertions (
    tenant TEXT NOT NULL,
    issuer TEXT NOT NULL,
    id TEXT NOT NULL,
    until_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, issuer, id)
);

CREATE INDEX saml_assertions_by_until ON saml_assertions (until_at);
