-- A delivery a connection's transform chose not to make (it returned null) ends in its own
-- state, neither delivered nor dead. NOT VALID: every existing row is valid already, and
-- checking them would read the whole table while holding a lock ingest needs.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead', 'filtered')) NOT VALID;
