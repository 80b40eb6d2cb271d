-- Contact form messages: stored before anything else happens, so nothing a visitor sent is lost.
-- `published_at` is set once the contact.received event has left; the sweep re-publishes rows still without
-- it. `client_hash` is a SHA-256 of the client's address (the limit's key), never the address itself.
CREATE TABLE contact_messages (
    id               uuid PRIMARY KEY,
    name             text NOT NULL,
    email            text NOT NULL,
    message          text NOT NULL,
    client_hash      text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    mail_enqueued_at timestamptz
);
CREATE INDEX contact_messages_unpublished_idx ON contact_messages (created_at) WHERE published_at IS NULL;

-- Mail deliveries, one row per send-email job id: claimed ('sending') before SES is called, 'sent' after. A
-- second delivery of the same job finds the row and sends nothing; a failed send removes its claim, so the
-- queue's retry sends it; a claim older than any send can take (a crashed attempt) may be taken over.
CREATE TABLE mail_deliveries (
    job_id         uuid PRIMARY KEY,
    state          text NOT NULL CHECK (state IN ('sending', 'sent')),
    recipients     text[] NOT NULL,
    subject        text NOT NULL,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz,
    ses_message_id text
);
