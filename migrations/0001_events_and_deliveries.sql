-- Every accepted webhook, byte-exact, and one delivery per destination it fans out to.

CREATE TABLE events (
    id           uuid        PRIMARY KEY,           -- hookgate event id (UUIDv7: time-ordered)
    source_id    text        NOT NULL,
    event_id     text        NOT NULL,              -- the provider's id, or SHA-256 of the body
    event_type   text,
    received_at  timestamptz NOT NULL,
    content_type text,
    headers      jsonb       NOT NULL,              -- as received, secret-bearing headers removed
    body         bytea       NOT NULL,
    CONSTRAINT events_source_event_unique UNIQUE (source_id, event_id)
);

CREATE TABLE deliveries (
    id             uuid        PRIMARY KEY,
    event_id       uuid        NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination_id text        NOT NULL,
    state          text        NOT NULL DEFAULT 'pending'
                               CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
    attempts       integer     NOT NULL DEFAULT 0,
    run_at         timestamptz NOT NULL DEFAULT now(),  -- not claimed before this
    lease_until    timestamptz,                         -- in_flight: reclaimable after this
    last_status    integer,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The hot set the workers claim from stays small: only pending and in-flight rows are indexed.
CREATE INDEX deliveries_pending ON deliveries (destination_id, run_at) WHERE state = 'pending';
CREATE INDEX deliveries_in_flight_lease ON deliveries (lease_until) WHERE state = 'in_flight';
CREATE INDEX deliveries_event ON deliveries (event_id);

-- The queue table churns: vacuum it early so claims do not wade through dead rows.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Every attempt, for the admin API: when, how long, what came back.
CREATE TABLE delivery_attempts (
    delivery_id      uuid        NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt          integer     NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_ms      integer     NOT NULL,
    status           integer,                -- HTTP status, when a response came back
    error            text,                   -- error class: timeout, connect, http
    response_excerpt text,
    PRIMARY KEY (delivery_id, attempt, started_at)
);
