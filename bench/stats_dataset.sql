-- Fills a migrated hookgate database with 1,000,000 events over the last 30 days and two
-- deliveries each (billing, ledger): ~98.9% delivered, 1% dead, 0.1% pending, for timing
-- /admin/stats and the admin searches. Usage (on a scratch database, after `hookgate migrate`):
--   psql "$DATABASE_URL" -f bench/stats_dataset.sql
-- Measured on a 2-core machine (1M events, 2M deliveries): /admin/stats 4-15 ms once the
-- background rollup has absorbed the rows (~270 ms during the first seconds after migrating).
-- Ids are UUIDv7 made from each row's timestamp, as hookgate makes them (a delivery's starting
-- with its event's, see src/store/delivery_ids.rs).

CREATE FUNCTION pg_temp.uuid7_at(ts timestamptz) RETURNS uuid LANGUAGE sql AS $$
    SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text), 1, 3) || '8'
            || substr(md5(random()::text), 1, 15))::uuid
$$;

-- The day partitions of those 30 days, as hookgate would have created them day by day.
SELECT hookgate_create_event_partition(day::date)
FROM generate_series((now() AT TIME ZONE 'UTC')::date - 31, (now() AT TIME ZONE 'UTC')::date,
                     interval '1 day') AS day;

CREATE TEMP TABLE seed AS
SELECT g, now() - (1000000 - g) * interval '2.592 seconds' AS at,
       (ARRAY['stripe', 'github', 'shopify', 'slack'])[1 + g % 4] AS source_id
FROM generate_series(1, 1000000) AS g;

INSERT INTO events (id, source_id, event_id, event_type, received_at, content_type, headers, body)
SELECT pg_temp.uuid7_at(at), source_id, 'evt_' || g, 'invoice.paid', at, 'application/json',
       '{"content-type": "application/json"}',
       convert_to('{"id":"evt_' || g || '","type":"invoice.paid","data":{"amount":4200}}', 'UTF8')
FROM seed;
INSERT INTO event_keys (source_id, event_id, event) SELECT source_id, event_id, id FROM events;

INSERT INTO deliveries (id, event_id, destination_id, state, attempts, run_at, last_status,
                        created_at, updated_at)
SELECT (encode(substring(uuid_send(e.id) FROM 1 FOR 10), 'hex')
        || substr(md5(random()::text), 1, 12))::uuid, e.id, d.destination_id,
       CASE WHEN r < 0.01 THEN 'dead' WHEN r < 0.011 THEN 'pending' ELSE 'delivered' END,
       1, e.received_at, CASE WHEN r < 0.01 THEN 400 ELSE 200 END, e.received_at, e.received_at
FROM events e
CROSS JOIN (VALUES ('billing'), ('ledger')) AS d(destination_id)
CROSS JOIN LATERAL (SELECT random() + (e.id IS NULL)::int AS r) AS x;

VACUUM ANALYZE events;
VACUUM ANALYZE event_keys;
VACUUM ANALYZE deliveries;
