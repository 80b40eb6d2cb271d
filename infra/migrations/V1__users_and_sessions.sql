-- One users table for everyone, however they signed in (DOMAIN §1), and server-side sessions.
-- Relations to later tables (favourite topics, avatars) arrive with the migrations that create those tables.

CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    telegram_id        bigint UNIQUE,
    email              text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    username           text CHECK (username IS NULL OR length(username) BETWEEN 1 AND 64),
    password_hash      text,
    first_name         text CHECK (length(first_name) <= 128),
    last_name          text CHECK (length(last_name) <= 128),
    language           text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$'),
    avatar_url         text,
    telegram_photo_url text,
    bio                text CHECK (length(bio) <= 1000),
    gender             text CHECK (gender IN ('male', 'female', 'other')),
    birth_date         date,
    grade              text CHECK (grade IN ('junior', 'middle', 'senior')),
    is_public          boolean NOT NULL DEFAULT true,
    is_admin           boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz,
    deactivated_at     timestamptz
);

-- Unique when present, whatever the case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE username IS NOT NULL;
-- "Online" (seen in the last 5 minutes) and the statistics refresh (seen in the last 24 hours).
CREATE INDEX users_last_seen_at_idx ON users (last_seen_at) WHERE last_seen_at IS NOT NULL;

-- A session token is given to the client once; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL DEFAULT now(),
    user_agent   text
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
