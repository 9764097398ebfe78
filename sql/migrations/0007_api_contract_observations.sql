-- Contract drift (api/drift.py): fields the API's answers have that the models do not know, and
-- optional fields they leave out, counted per endpoint and field path. Names and JSON types only,
-- never values.
CREATE TABLE IF NOT EXISTS confirma.api_contract_observations (
    endpoint        text NOT NULL,
    field_path      text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('unknown', 'missing')),
    json_type       text NOT NULL,
    answers         bigint NOT NULL DEFAULT 0,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint, field_path, kind, json_type)
);
