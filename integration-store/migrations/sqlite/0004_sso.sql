-- SSO: SCIM resources provisioned into the host (integration_sso::scim::store::ScimStore) and
-- users' MFA enrolments (integration_sso::mfa::store::MfaStore). Attributes and records as JSON.

CREATE TABLE scim_resources (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    unique_key TEXT,
    attributes TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);

-- A user's userName, lowercased, is unique in its tenant.
CREATE UNIQUE INDEX scim_resources_unique_key ON scim_resources (tenant, kind, unique_key) WHERE unique_key IS NOT NULL;

CREATE TABLE mfa_records (
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    record TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject)
);
