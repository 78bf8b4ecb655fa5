-- A connection's field mappings and validation rules (integration_core::mapping), as JSON.

ALTER TABLE configs ADD COLUMN mappings TEXT NOT NULL DEFAULT '{}';
