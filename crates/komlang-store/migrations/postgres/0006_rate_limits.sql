-- Requests counted per client address and minute, shared by every app server, for the
-- rate limit of the public pages and API (docs/security.md). Rows older than an hour are
-- deleted by the server's hourly sweep.
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
