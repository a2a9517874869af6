-- Headers are stored as `json` (the text, checked to be JSON) rather than `jsonb` (parsed
-- into a binary tree). hookgate writes every event's headers as a JSON object it built
-- itself and only ever reads them back whole (the admin API, the console, a transform's
-- input); nothing queries into them. Parsing them into jsonb was ~3.8 µs of Postgres's CPU
-- per event (a GitHub webhook's ten headers; `json` checks the same text in ~0.8 µs), about
-- a tenth of what storing an event costs Postgres.
--
-- Changing the column's type would rewrite every stored event under a lock ingest waits
-- for: minutes on a large database. So the jsonb column is kept, renamed, for the rows
-- stored before this migration, and a new nullable `headers` takes every new row (adding
-- and renaming columns rewrite nothing). Readers take `headers`, else `headers_jsonb`.
ALTER TABLE events RENAME COLUMN headers TO headers_jsonb;
ALTER TABLE events ALTER COLUMN headers_jsonb DROP NOT NULL;
ALTER TABLE events ADD COLUMN headers json;
