-- The console's pages beyond the events (phase 2).
--
-- Who asked for a bulk replay, for the replay jobs page: `console` or `admin API` (there is one
-- admin token, so the way in is what tells requests apart). Replays recorded before this
-- column existed have none.
ALTER TABLE replays ADD COLUMN requested_by text;

-- Per-minute activity for the overview's rates and charts: each process counts in memory and
-- adds its counts here every few seconds (src/activity.rs). Ingest rows count requests per
-- source by outcome (accepted, duplicate, rejected; le_ms 0); delivery rows count attempts per
-- destination by outcome (success, failure) and latency bucket (le_ms: the bucket's upper
-- bound in milliseconds). Minutes older than a few hours are deleted.
CREATE TABLE activity_minutes (
    minute  timestamptz NOT NULL,
    kind    text        NOT NULL CHECK (kind IN ('ingest', 'delivery')),
    key     text        NOT NULL,
    outcome text        NOT NULL,
    le_ms   integer     NOT NULL,
    count   bigint      NOT NULL,
    PRIMARY KEY (minute, kind, key, outcome, le_ms)
);
