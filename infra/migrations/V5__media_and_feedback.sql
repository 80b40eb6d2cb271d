-- Uploads (DOMAIN §6): a row is created when a client asks for a pre-signed PUT URL, before any byte exists.
-- The client PUTs the original to `uploads/<id>` (private), says it is done, and the process-uploaded-file job
-- writes the processed object to `processed_key` (under `media/`, the only prefix that is served) and marks the
-- row ready — or rejected, with the reason, when the bytes are not the declared image.
-- The media clean-up deletes objects no row refers to: an original once its upload is processed or abandoned,
-- a processed object once its row is gone.
CREATE TABLE uploads (
    id                uuid PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose           text NOT NULL CHECK (purpose IN ('avatar', 'post_image', 'feedback_image')),
    content_type      text NOT NULL,
    declared_size     bigint NOT NULL CHECK (declared_size > 0),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'ready', 'rejected')),
    processed_key     text UNIQUE,
    processed_type    text,
    processed_size    bigint,
    width             integer,
    height            integer,
    rejection         text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    -- Set once the upload.completed event has left; the republish sweep takes rows still without it.
    event_published_at timestamptz,
    processed_at      timestamptz,
    CHECK ((status = 'ready') = (processed_key IS NOT NULL))
);
CREATE INDEX uploads_user_purpose_idx ON uploads (user_id, purpose, created_at DESC);
-- The clean-up's "abandoned": never completed, or completed but never processed.
CREATE INDEX uploads_unfinished_idx ON uploads (created_at) WHERE status IN ('pending', 'processing');
CREATE INDEX uploads_unpublished_idx ON uploads (completed_at) WHERE status = 'processing' AND event_published_at IS NULL;

-- Feedback from signed-in users (DOMAIN §5), with up to three of their processed feedback images.
CREATE TABLE feedback (
    id         uuid PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category   text NOT NULL CHECK (category IN ('bug', 'suggestion', 'complaint', 'other')),
    message    text NOT NULL CHECK (length(message) BETWEEN 3 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE feedback_images (
    feedback_id uuid NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    upload_id   uuid NOT NULL REFERENCES uploads (id) ON DELETE RESTRICT,
    position    smallint NOT NULL CHECK (position BETWEEN 0 AND 2),
    PRIMARY KEY (feedback_id, position),
    UNIQUE (upload_id)
);
