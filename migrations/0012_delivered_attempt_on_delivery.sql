-- The attempt that delivers is kept on its delivery row rather than in a row of its own.
-- Nearly every delivery ends with its first attempt delivered, and finishing it already
-- rewrites the delivery row (its state changes): an attempt row beside it cost Postgres a heap
-- insert, a primary-key entry and its conflict check for every delivered webhook. Attempts
-- that do not deliver (failures, retries, dead ends, filtered) still get their own rows in
-- delivery_attempts; the admin API and the console show both as one history.
--
-- Nullable columns without a default: adding them rewrites nothing, and rows delivered before
-- this migration keep their attempt rows (their delivered_started_at stays NULL).
ALTER TABLE deliveries ADD COLUMN delivered_started_at timestamptz;
ALTER TABLE deliveries ADD COLUMN delivered_duration_ms integer;
ALTER TABLE deliveries ADD COLUMN delivered_excerpt text;
