-- Ordered delivery per key (a destination's `ordering`): each delivery of an ordered
-- destination carries its key (NULL: unordered, as every existing row is). A claim takes a
-- keyed delivery only when no earlier delivery of its key is waiting, none of its key is in
-- flight, and (on_dead = "block") no earlier one lies dead unless replayed or skipped: see
-- src/store/ordering/mod.rs. Adding nullable columns without a default rewrites nothing; the
-- new indexes are partial over keyed rows, of which there are none yet.
ALTER TABLE deliveries ADD COLUMN ordering_key text;
-- When an operator let the key go on past this dead delivery (it stays dead, replayable).
ALTER TABLE deliveries ADD COLUMN ordering_skipped_at timestamptz;

-- Each key's queue in ingest order (event id, then delivery id: a replay takes its event's
-- place), holding only what can hold the key back: what waits, what is in flight, what died.
CREATE INDEX deliveries_ordering_queue ON deliveries (destination_id, ordering_key, event_id, id)
    WHERE ordering_key IS NOT NULL AND state IN ('pending', 'in_flight', 'dead');

-- Never two deliveries of one key in flight, whatever a claim's snapshot believed.
CREATE UNIQUE INDEX deliveries_ordering_in_flight ON deliveries (destination_id, ordering_key)
    WHERE ordering_key IS NOT NULL AND state = 'in_flight';
