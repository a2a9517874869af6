-- What the admin API reads: event search, the dead-letter view and the stats rollup.

-- Event search filters by source or type and pages newest first on the time-ordered id.
CREATE INDEX events_source_id ON events (source_id, id DESC);
CREATE INDEX events_type_id ON events (event_type, id DESC);

-- Dead deliveries are few and read often (dead-letter view, stats, `status=dead` search):
-- a partial index keeps them one small scan away, with the event id for search joins.
CREATE INDEX deliveries_dead ON deliveries (destination_id, updated_at DESC, id DESC)
    INCLUDE (event_id) WHERE state = 'dead';

-- Running totals for /admin/stats, folded in the background from rows older than a lag
-- (never from the ingest path). Rows at or above `below` (by time-ordered id) are counted live.
CREATE TABLE stats_watermarks (
    kind  text PRIMARY KEY CHECK (kind IN ('events', 'deliveries')),
    below uuid NOT NULL
);
INSERT INTO stats_watermarks (kind, below) VALUES
    ('events', '00000000-0000-0000-0000-000000000000'),
    ('deliveries', '00000000-0000-0000-0000-000000000000');

CREATE TABLE stats_rollup (
    kind  text   NOT NULL REFERENCES stats_watermarks (kind),
    key   text   NOT NULL,            -- source id (events) or destination id (deliveries)
    count bigint NOT NULL,
    PRIMARY KEY (kind, key)
);
