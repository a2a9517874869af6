-- Pull destinations: a consumer leases deliveries over HTTP and acknowledges each by its lease
-- id, which carries the delivery id, the attempt and this token. The token is drawn anew (and
-- at random) by every pull lease and cleared when the lease ends, so an acknowledgement of an
-- earlier lease of the same delivery (expired, leased again since) never applies. Push claims
-- leave it NULL: that is also how the lease reclaimer tells the two kinds of lease apart.
--
-- No index: a lease id is looked up through the primary key, and expired pull leases through
-- deliveries_leased. Adding a nullable column without a default rewrites nothing.
ALTER TABLE deliveries ADD COLUMN lease_token uuid;
