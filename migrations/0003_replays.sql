-- Bulk replays and their progress; the index retention purges through; and a mark on
-- deliveries that a replay has superseded, so a second redrive does not replay them again.

CREATE TABLE replays (
    id           uuid        PRIMARY KEY,
    filter       jsonb       NOT NULL,              -- as posted: source, destination, status, since, until
    state        text        NOT NULL DEFAULT 'running'
                             CHECK (state IN ('running', 'completed', 'failed')),
    matched      bigint      NOT NULL,              -- deliveries matching when the replay was created
    replayed     bigint      NOT NULL DEFAULT 0,    -- new deliveries created so far
    upper_bound  uuid,                              -- only deliveries with id <= this match
    cursor       uuid,                              -- keyset: last delivery id processed
    lease_until  timestamptz,                       -- the runner holding it; reclaimable after
    lease_token  uuid,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);

CREATE INDEX replays_running ON replays (created_at) WHERE state = 'running';

ALTER TABLE deliveries ADD COLUMN replayed_at timestamptz;

CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at);
