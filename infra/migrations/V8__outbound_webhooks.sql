-- Outbound webhooks (DOMAIN §7): URLs admins register, and every delivery of an event to one of them.

CREATE TABLE outbound_webhooks (
    id         uuid PRIMARY KEY,
    url        text NOT NULL CHECK (length(url) <= 2000),
    -- The HMAC-SHA256 key of the signature header; shown to the admin once, when the URL is registered.
    secret     text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outbound_webhooks_active_url_key ON outbound_webhooks (url) WHERE active;

-- One event for one URL. The id is derived from the event's and the webhook's, so an event delivered to the job
-- twice makes one delivery. `attempts` counts the POSTs made; a delivery is `failed` after the last retry.
CREATE TABLE webhook_deliveries (
    id           uuid PRIMARY KEY,
    webhook_id   uuid NOT NULL REFERENCES outbound_webhooks (id) ON DELETE CASCADE,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    payload      jsonb NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    last_status  integer,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC);

-- A published translation's `quiz.published` event: set once it left; the republish sweep takes the rest.
ALTER TABLE telegram_publications ADD COLUMN event_published_at timestamptz;
CREATE INDEX telegram_publications_unannounced_idx ON telegram_publications (published_at)
    WHERE state = 'published' AND event_published_at IS NULL;
