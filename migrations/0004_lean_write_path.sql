-- A leaner write path: every webhook inserts an event and its deliveries, and every attempt
-- updates a delivery and records an attempt, so each index and trigger on these tables is paid
-- thousands of times a second.
--
-- The foreign keys go: their row-by-row checks cost more than the rest of the deliveries insert.
-- The store keeps the same guarantees itself: an event and its deliveries are written by one
-- statement; a replay locks the event (FOR KEY SHARE) while it adds deliveries, so retention,
-- which locks events FOR UPDATE SKIP LOCKED, never purges an event a replay is adding to; and
-- retention deletes an event's deliveries and their attempts in the statement that deletes it.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;

-- Retention walks events by their time-ordered (UUIDv7) id instead, through the primary key.
DROP INDEX IF EXISTS events_received_at;

-- Only leased rows carry `lease_until` (claim sets it; finishing, handing back and reclaiming
-- clear it), so the reclaimer's index needs no condition on `state`. With one, the planner would
-- pick it for every `state = 'in_flight'` lookup by id (finishing, handing back) and scan all
-- its not-yet-vacuumed entries, thousands per statement under load, instead of the primary key.
DROP INDEX deliveries_in_flight_lease;
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE lease_until IS NOT NULL;
