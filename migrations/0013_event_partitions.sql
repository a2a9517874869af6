-- Events are partitioned by day on their time-ordered (UUIDv7) id, so retention drops a day
-- of events as one partition instead of deleting its rows one by one and vacuuming after
-- them. What this changes and why:
--
-- * Dedupe moves to `event_keys`. A unique constraint on a partitioned table must include the
--   partition key, and `(source_id, event_id)` with the id would dedupe nothing (each arrival
--   gets a new id). So the key lives in a narrow, unpartitioned table whose primary key is
--   `(source_id, event_id)`, written in the same statement as the event (ingest inserts the key
--   first, `ON CONFLICT DO NOTHING`, and the event only if its key was new) and deleted with
--   the event by retention: dedupe stays exact for as long as the event is kept.
-- * `events` becomes a table partitioned by RANGE (id): one partition per UTC day
--   (`events_YYYYMMDD`, created ahead of time by hookgate, see src/store/partitions.rs), plus
--   `events_default` for ids no day partition covers (events kept past their day because a
--   delivery of theirs is not final, and any id outside the days created).
-- * An existing database is upgraded in place: the current table, with its rows and indexes,
--   is attached as the partition `events_upto_YYYYMMDD` holding every id before the start of
--   tomorrow (UTC); rows with later ids (none, unless clocks were wrong) move to the default.
--   Its keys are copied to `event_keys` first: minutes for tens of millions of events, so the
--   migration lifts the statement timeout. Day partitions follow from tomorrow on. An empty
--   table (a new database) is simply replaced, and day partitions start today. A week of
--   them is created here, as hookgate keeps them (src/partitions.rs).
SET LOCAL statement_timeout = 0;

CREATE TABLE event_keys (
    source_id text NOT NULL,
    event_id  text NOT NULL,
    event     uuid NOT NULL,   -- the hookgate id of the event stored under this key
    PRIMARY KEY (source_id, event_id)
);
INSERT INTO event_keys (source_id, event_id, event) SELECT source_id, event_id, id FROM events;
ALTER TABLE events DROP CONSTRAINT events_source_event_unique;

-- The smallest UUIDv7 of the instant `at`: its first 48 bits are the Unix time in ms.
CREATE FUNCTION hookgate_first_id_at(at timestamptz) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0')
            || '00000000000000000000')::uuid
$$;

-- Creates the partition of `events` for the UTC day `day` unless it exists; answers its name.
-- Serialized by an advisory lock, so processes starting together do not race to create it.
CREATE FUNCTION hookgate_create_event_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    name text := 'events_' || to_char(day, 'YYYYMMDD');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('hookgate_create_event_partition'));
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                       name,
                       hookgate_first_id_at(day::timestamp AT TIME ZONE 'UTC'),
                       hookgate_first_id_at((day + 1)::timestamp AT TIME ZONE 'UTC'));
    END IF;
    RETURN name;
END $$;

DO $$
DECLARE
    tomorrow date := (now() AT TIME ZONE 'UTC')::date + 1;
    upto text := 'events_upto_' || to_char(tomorrow, 'YYYYMMDD');
    bound uuid := hookgate_first_id_at(tomorrow::timestamp AT TIME ZONE 'UTC');
    existing boolean := EXISTS (SELECT 1 FROM events);
    first_day date := CASE WHEN existing THEN tomorrow ELSE tomorrow - 1 END;
BEGIN
    ALTER TABLE events RENAME TO events_before_partitioning;
    CREATE TABLE events (LIKE events_before_partitioning
                         INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION)
        PARTITION BY RANGE (id);
    CREATE TABLE events_default PARTITION OF events DEFAULT;
    IF existing THEN
        EXECUTE format('ALTER TABLE events_before_partitioning RENAME TO %I', upto);
        EXECUTE format('ALTER INDEX events_pkey RENAME TO %I', upto || '_pkey');
        EXECUTE format('ALTER INDEX events_source_id RENAME TO %I', upto || '_source_id');
        EXECUTE format('ALTER INDEX events_type_id RENAME TO %I', upto || '_type_id');
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE id >= %L RETURNING *) '
                       'INSERT INTO events_default SELECT * FROM moved', upto, bound);
        EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)',
                       upto, bound);
    ELSE
        DROP TABLE events_before_partitioning;
    END IF;
    -- On the partitioned table these attach the upgraded table's own indexes (equal
    -- definitions) rather than building new ones.
    ALTER TABLE events ADD PRIMARY KEY (id);
    CREATE INDEX events_source_id ON events (source_id, id DESC);
    CREATE INDEX events_type_id ON events (event_type, id DESC);
    FOR day IN 0..7 LOOP
        PERFORM hookgate_create_event_partition(first_day + day);
    END LOOP;
END $$;
