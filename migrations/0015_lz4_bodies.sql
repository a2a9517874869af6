-- Bodies (and headers) are compressed with lz4 rather than Postgres's default pglz. Postgres
-- compresses a value once its row passes ~2 KB, which most real webhooks do (Stripe,
-- GitHub and Shopify events are commonly 2–30 KB). pglz cost ~76 µs of Postgres's CPU per
-- 3.3 KB JSON body here, more than all the rest of storing an event; lz4 compressed the same
-- bodies as small (2,354 against 2,378 bytes) for about what storing them uncompressed
-- costs (bench/RESULTS.md). Values already stored keep their compression; both read back.
--
-- A partitioned table's setting is inherited by the partitions created after it, not by
-- those that exist: each is set too. Rewrites nothing. A server built without lz4 keeps pglz.
DO $$
DECLARE
    part regclass;
BEGIN
    ALTER TABLE events ALTER COLUMN body SET COMPRESSION lz4,
                       ALTER COLUMN headers SET COMPRESSION lz4;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'events'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN body SET COMPRESSION lz4, '
                       'ALTER COLUMN headers SET COMPRESSION lz4', part);
    END LOOP;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this Postgres has no lz4: event bodies stay compressed with pglz';
END $$;
