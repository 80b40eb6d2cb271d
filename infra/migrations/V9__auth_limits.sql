-- Limits on sign-in, registration and password reset (shared/src/identity/limits.rs): hits of one subject in a
-- fixed window. In PostgreSQL rather than Redis, because a limit must hold when the cache is cleared, evicts
-- (allkeys-lru) or is away. `subject` is an HMAC-SHA256 of the client address or the account under the secret
-- CLIENT_HASH_KEY, never the address itself. Rows of windows that ended a day ago are deleted by the daily
-- clean-up (`clear-expired-sessions`).
CREATE TABLE auth_limits (
    scope        text        NOT NULL,
    subject      bytea       NOT NULL CHECK (octet_length(subject) = 32),
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL CHECK (hits > 0),
    PRIMARY KEY (scope, subject)
);
CREATE INDEX auth_limits_window_start ON auth_limits (window_start);
