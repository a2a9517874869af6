-- The deliveries ingest creates are found through the primary key, not `deliveries_event`.
--
-- Every claim and every finish of a delivery is an update that cannot be HOT, and such an
-- update adds an entry to every index, even one whose key did not change: `deliveries_event`
-- took three entries for the same `event_id` per delivery taken from the queue (insert,
-- claim, finish) and two per delivery handed straight to a worker. Without them Postgres
-- spends 16–21 % less CPU per delivery taken from the queue and 1–3 % less per delivered event
-- in full serve (bench/RESULTS.md).
--
-- So a delivery created at ingest takes its event id's first 10 bytes (the event's
-- millisecond, version, 26 random bits, variant), then its place among the event's deliveries
-- and random bytes (src/store/delivery_ids.rs): still a UUIDv7 of the millisecond it was
-- created in, and its event's deliveries lie in the primary key's range over that prefix.
-- Replays and redeliveries keep ids of their own creation time, which the stats rollup and
-- bulk replays rely on. `deliveries_event` keeps only the rows whose id does not start with
-- their event's: those stored before this migration, replays and redeliveries. An event's
-- deliveries are then the `OR` of both (the `deliveries_of_event!` condition in
-- src/store/mod.rs), which Postgres reads as a `BitmapOr` of the two indexes.
--
-- Rebuilding the index holds writes to `deliveries` while it builds: about 0.3 s per million
-- stored deliveries here. Processes of the version before keep working, but their lookups by
-- `event_id` alone cannot use a partial index and read the whole table.
SET LOCAL statement_timeout = 0;

-- The first and last id a delivery created with the event `event` at ingest can have.
CREATE FUNCTION hookgate_first_delivery_of(event uuid) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (encode(substring(uuid_send(event) FROM 1 FOR 10), 'hex') || '000000000000')::uuid
$$;

CREATE FUNCTION hookgate_last_delivery_of(event uuid) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (encode(substring(uuid_send(event) FROM 1 FOR 10), 'hex') || 'ffffffffffff')::uuid
$$;

-- Whether the delivery `id` of the event `event` was created at ingest (its id starts with
-- its event's), and so is found through the primary key.
CREATE FUNCTION hookgate_delivery_id_from_event(id uuid, event uuid) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT substring(uuid_send(id) FROM 1 FOR 10) = substring(uuid_send(event) FROM 1 FOR 10)
$$;

DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id)
    WHERE NOT hookgate_delivery_id_from_event(id, event_id);
