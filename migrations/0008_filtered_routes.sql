-- The connections an event's filters dropped, as [{"destination": id or null, "rule": text}]:
-- shown with the event so that an operator can see why a destination never received it.
-- NULL (nothing filtered) is the common case and costs nothing to store; adding a nullable
-- column without a default rewrites no rows.
ALTER TABLE events ADD COLUMN filtered jsonb;
