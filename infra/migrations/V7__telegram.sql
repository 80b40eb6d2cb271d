-- Telegram (DOMAIN §7): the bot's webhook, the channels tasks are published to, and what was published.

-- Every update the webhook accepted, by Telegram's `update_id`: a second delivery of the same update finds its
-- row and has no second effect. Rows older than a week are deleted by the webhook itself (Telegram redelivers
-- for at most a day).
CREATE TABLE telegram_updates (
    update_id   bigint PRIMARY KEY,
    kind        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telegram_updates_received_idx ON telegram_updates (received_at);

-- The channel of each topic and language; a translation without one is reported, not sent.
CREATE TABLE telegram_channels (
    topic_id   bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    language   text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    chat_id    bigint NOT NULL,
    -- The "learn more" link of tasks without their own, for this topic and language.
    default_link text CHECK (length(default_link) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic_id, language)
);
CREATE INDEX telegram_channels_chat_idx ON telegram_channels (chat_id);

-- Who is in which channel, kept current from `chat_member` updates.
CREATE TABLE telegram_channel_members (
    chat_id     bigint NOT NULL,
    telegram_id bigint NOT NULL,
    status      text NOT NULL,
    subscribed  boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, telegram_id)
);

-- One publication of one translation to its channel. The four messages go out in order and each step is
-- recorded as it succeeds, so a retried job resumes after the last message that went out and never sends one
-- twice; `state` says how far it got. `option_order[i]` is the stored option index shown as poll option i, NULL
-- for "I don't know": how a `poll_answer` is scored.
CREATE TABLE telegram_publications (
    id                 uuid PRIMARY KEY,
    task_id            bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    language           text NOT NULL,
    chat_id            bigint NOT NULL,
    state              text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'photo_sent', 'text_sent', 'poll_sent', 'published', 'failed')),
    photo_message_id   bigint,
    text_message_id    bigint,
    poll_message_id    bigint,
    poll_id            text UNIQUE,
    option_order       smallint[],
    button_message_id  bigint,
    error              text,
    requested_at       timestamptz NOT NULL DEFAULT now(),
    published_at       timestamptz,
    CHECK ((poll_id IS NULL) = (option_order IS NULL))
);
CREATE INDEX telegram_publications_task_idx ON telegram_publications (task_id, language, published_at);

-- The rendered code image of a translation, by the SHA-256 of what it shows: republishing reuses it.
CREATE TABLE telegram_code_images (
    task_id    bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    language   text NOT NULL,
    content_sha256 text NOT NULL,
    s3_key     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, language, content_sha256)
);
