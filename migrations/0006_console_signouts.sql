-- Console sessions signed out before they expired. A session cookie is signed, not stored, so
-- any instance sharing the admin token accepts it; signing out records its nonce here so that
-- a copy of the cookie is refused too. Rows go once the session would have expired anyway.

CREATE TABLE console_signouts (
    nonce      text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE INDEX console_signouts_expiry ON console_signouts (expires_at);
