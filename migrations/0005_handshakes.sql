-- Handshakes hookgate answered itself (Slack url_verification, Meta subscribe, Notion's
-- verification token, …): what an operator sees in GET /admin/handshakes. Only the most recent
-- ones per source are kept (trimmed on insert), so the table stays small.

CREATE TABLE handshakes (
    id          uuid        PRIMARY KEY,           -- v7: ordered by time
    source_id   text        NOT NULL,
    provider    text        NOT NULL,
    kind        text        NOT NULL,              -- e.g. url_verification, subscribe, crc
    outcome     text        NOT NULL CHECK (outcome IN ('answered', 'confirmed', 'refused')),
    reason      text,                              -- why it was refused
    action      text,                              -- what the operator must do, if anything
    received_at timestamptz NOT NULL
);

CREATE INDEX handshakes_by_source ON handshakes (source_id, id DESC);
