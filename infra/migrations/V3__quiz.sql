-- Quiz content, answers and statistics (DOMAIN §2–§3), password reset tokens and favourite topics (§1).
--
-- One answers model for every client (web, Mini App, channel polls), so every leaderboard sees every answer.
-- `task_results` holds the first answer per user and task, which alone decides solved/failed; its primary key
-- makes two concurrent first answers count once. `attempts` logs every answer. `user_stats` is kept current by
-- the same statement that records a counted answer, so rating, streaks and the ranking never need a scan.

CREATE TABLE topics (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    icon        text CHECK (length(icon) <= 500),
    media_url   text CHECK (length(media_url) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX topics_name_key ON topics (lower(name));

CREATE TABLE subtopics (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic_id   bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX subtopics_topic_name_key ON subtopics (topic_id, lower(name));

CREATE TABLE tasks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic_id      bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    subtopic_id   bigint REFERENCES subtopics (id) ON DELETE SET NULL,
    difficulty    text NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
    -- What makes an import idempotent: 'group:<translation_group_id>' or 'question:<topic id>:<md5 of the first
    -- translation's language and question>'.
    identity_key  text NOT NULL UNIQUE,
    translation_group_id text,
    image_url     text CHECK (length(image_url) <= 2000),
    external_link text CHECK (length(external_link) <= 2000),
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_topic_idx ON tasks (topic_id) WHERE published_at IS NOT NULL;
CREATE INDEX tasks_subtopic_idx ON tasks (subtopic_id, difficulty) WHERE published_at IS NOT NULL;

CREATE TABLE task_translations (
    task_id       bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    language      text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    question      text NOT NULL CHECK (length(question) BETWEEN 1 AND 10000),
    -- The options in the order every client sees them (fixed at import).
    options       text[] NOT NULL CHECK (cardinality(options) BETWEEN 2 AND 10),
    correct_index smallint NOT NULL CHECK (correct_index >= 0 AND correct_index < cardinality(options)),
    explanation   text CHECK (length(explanation) <= 10000),
    PRIMARY KEY (task_id, language)
);
CREATE INDEX task_translations_language_idx ON task_translations (language, task_id);

-- The first answer of a user to a task. `chosen` is the option index in that language's order; NULL is
-- "I don't know", which always counts as wrong.
CREATE TABLE task_results (
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id     bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    language    text NOT NULL,
    chosen      smallint,
    solved      boolean NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, task_id)
);
-- Option shares of a task's first answers.
CREATE INDEX task_results_task_idx ON task_results (task_id, language, chosen);

-- Every answer, counted or practice.
CREATE TABLE attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id    bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    language   text NOT NULL,
    chosen     smallint,
    is_correct boolean NOT NULL,
    counted    boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_created_at_idx ON attempts (created_at);
CREATE INDEX attempts_user_idx ON attempts (user_id);

-- Running totals per user, updated with every counted answer.
CREATE TABLE user_stats (
    user_id           bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    attempts          bigint NOT NULL DEFAULT 0,
    solved            integer NOT NULL DEFAULT 0,
    failed            integer NOT NULL DEFAULT 0,
    rating            integer NOT NULL DEFAULT 0,
    current_streak    integer NOT NULL DEFAULT 0,
    best_streak       integer NOT NULL DEFAULT 0,
    -- When the user reached their current rating: the tie-breaker of the leaderboard.
    rating_reached_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_stats_ranking_idx ON user_stats (rating DESC, solved DESC, rating_reached_at, user_id);

CREATE TABLE user_favourite_topics (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX user_favourite_topics_topic_idx ON user_favourite_topics (topic_id);

-- One-time password reset tokens; only their SHA-256 is stored.
CREATE TABLE password_reset_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);
