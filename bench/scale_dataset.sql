-- Fills a migrated hookgate database with :events events received over the last :days days, each
-- delivered once to the destination `sink` at its first attempt (the delivery row carrying
-- its delivering attempt, as hookgate writes it), with ~300-byte JSON bodies from source `gh`: what a gateway
-- holds after weeks of traffic, for measuring ingest and retention at that size
-- (`BENCH_MODE=scale bench/run`). Written by SQL alone, a million events per transaction, so 20
-- million take minutes, not the hours HTTP would. Usage, on a scratch database:
--   psql "$URL" -v events=20000000 -v days=30 -f bench/scale_dataset.sql
-- Ids are UUIDv7 made from each row's time, as hookgate makes them (a delivery's starting with
-- its event's, see src/store/delivery_ids.rs), so retention's walk by id and the admin API's
-- time order see the rows as they would see real ones. The statistics
-- rollup is brought up to date at the end, as hookgate's background fold would have done.

\set ON_ERROR_STOP on
SET synchronous_commit = off;

-- The UUIDv7 of time `at` whose random bits come from `salt`.
CREATE FUNCTION pg_temp.uuid7(at timestamptz, salt text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(salt), 1, 3) || '8' || substr(md5(salt), 4, 15))::uuid
$$;

-- The id of a delivery of the event `event`, created with it: the event id's first 10 bytes,
-- then 6 from `salt`.
CREATE FUNCTION pg_temp.delivery_of(event uuid, salt text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT (encode(substring(uuid_send(event) FROM 1 FOR 10), 'hex') || substr(md5(salt), 1, 12))::uuid
$$;

CREATE PROCEDURE pg_temp.fill(total bigint, days int, chunk bigint)
LANGUAGE plpgsql AS $$
DECLARE
    first_at timestamptz := now() - make_interval(days => days);
    step interval := make_interval(days => days) / total;
    start bigint := 0;
BEGIN
    WHILE start < total LOOP
        WITH rows AS (
            SELECT g, first_at + g * step AS at
            FROM generate_series(start, least(start + chunk, total) - 1) AS g
        ), new_events AS (
            INSERT INTO events (id, source_id, event_id, event_type, received_at, content_type,
                                headers, body)
            SELECT pg_temp.uuid7(at, 'e' || g), 'gh', 'delivery-' || g, 'push', at,
                   'application/json',
                   jsonb_build_object('content-type', 'application/json',
                                      'x-github-event', 'push',
                                      'x-github-delivery', 'delivery-' || g),
                   convert_to(format('{"ref":"refs/heads/main","after":"%s","repository":{"id":%s,"full_name":"acme/payments"},"pusher":{"name":"octocat"},"head_commit":{"id":"%s","message":"Bump the ledger to v%s"},"padding":"%s"}',
                                     md5('a' || g), g % 1000, md5('c' || g), g,
                                     repeat('x', 40)), 'UTF8')
            FROM rows
        ), new_keys AS (
            INSERT INTO event_keys (source_id, event_id, event)
            SELECT 'gh', 'delivery-' || g, pg_temp.uuid7(at, 'e' || g) FROM rows
        )
        INSERT INTO deliveries (id, event_id, destination_id, state, attempts, run_at,
                                last_status, created_at, updated_at, delivered_started_at,
                                delivered_duration_ms)
        SELECT pg_temp.delivery_of(pg_temp.uuid7(at, 'e' || g), 'd' || g),
               pg_temp.uuid7(at, 'e' || g), 'sink',
               'delivered', 1, at, 200, at, at + interval '12 ms', at, 12
        FROM rows;
        start := start + chunk;
        COMMIT;
    END LOOP;
END $$;

-- The day partitions of those days, as hookgate would have created them day by day.
SELECT hookgate_create_event_partition(day::date)
FROM generate_series((now() AT TIME ZONE 'UTC')::date - :days - 1,
                     (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS day;

CALL pg_temp.fill(:events, :days, 1000000);

-- What the background fold would have counted by now.
INSERT INTO stats_rollup (kind, key, count)
SELECT 'events', source_id, count(*) FROM events GROUP BY source_id
ON CONFLICT (kind, key) DO UPDATE SET count = EXCLUDED.count;
INSERT INTO stats_rollup (kind, key, count)
SELECT 'deliveries', destination_id, count(*) FROM deliveries GROUP BY destination_id
ON CONFLICT (kind, key) DO UPDATE SET count = EXCLUDED.count;
-- The first id of this millisecond: every row above was written, every later one is not.
UPDATE stats_watermarks
SET below = (lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0')
             || '00000000000000000000')::uuid;

VACUUM ANALYZE events;
VACUUM ANALYZE event_keys;
VACUUM ANALYZE deliveries;
VACUUM ANALYZE delivery_attempts;
