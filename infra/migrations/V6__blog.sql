-- The blog (DOMAIN §4): categories, posts, their images and their likes.
--
-- A post is a draft while `published_at` is NULL; readers never see drafts. `content_html` is stored already
-- sanitised (the write routes clean it), so every reader path can trust it. `views` and `likes` are counters kept
-- by the statements that count them: `post_likes` has one row per reader and post, so a double click likes once.
--
-- The Open Graph image is made in the background. Store-first: the statement that publishes a post (or changes a
-- published post's title or category) also sets `og_requested_at`; the job clears it when it stored the image,
-- and a sweep re-publishes the event of every request left unserved, so a publish lost on its way to the bus is
-- recovered rather than forgotten.

-- Trigram indexes make "search in title and content" (a substring, any case) an index scan.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE blog_categories (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE posts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug             text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    excerpt          text NOT NULL DEFAULT '' CHECK (length(excerpt) <= 500),
    content_html     text NOT NULL CHECK (length(content_html) <= 200000),
    -- What search reads: the title and the content without its tags, runs of white space made one space (a tag
    -- becomes a space, so "<em>a</em> b" reads "a b").
    search_text      text GENERATED ALWAYS AS (
                         regexp_replace(title || ' ' || regexp_replace(content_html, '<[^>]*>', ' ', 'g'), '\s+', ' ', 'g')
                     ) STORED,
    -- A category in use cannot be deleted from under its posts.
    category_id      bigint NOT NULL REFERENCES blog_categories (id) ON DELETE RESTRICT,
    published_at     timestamptz,
    featured         boolean NOT NULL DEFAULT false,
    views            bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
    likes            bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
    meta_description text NOT NULL DEFAULT '' CHECK (length(meta_description) <= 300),
    -- `og/<sha-256>.png` in the media bucket, once generated.
    og_image_key     text,
    -- Set when an Open Graph image is due, cleared by the job that stored it.
    og_requested_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Readers' lists: published posts newest first, all of them or one category's.
CREATE INDEX posts_published_idx ON posts (published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX posts_category_published_idx ON posts (category_id, published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX posts_search_idx ON posts USING gin (search_text gin_trgm_ops);
-- The sweep's "requested and still unserved".
-- The media clean-up asks which og/ objects a post still shows.
CREATE INDEX posts_og_image_key_idx ON posts (og_image_key) WHERE og_image_key IS NOT NULL;
CREATE INDEX posts_og_requested_idx ON posts (og_requested_at) WHERE og_requested_at IS NOT NULL;

-- A post's pictures: processed uploads of purpose `post_image`. An upload in use cannot be deleted (RESTRICT),
-- so the media clean-up never removes a picture a post still shows.
CREATE TABLE post_images (
    post_id   bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    upload_id uuid NOT NULL REFERENCES uploads (id) ON DELETE RESTRICT,
    is_main   boolean NOT NULL DEFAULT false,
    alt       text NOT NULL DEFAULT '' CHECK (length(alt) <= 300),
    position  smallint NOT NULL CHECK (position BETWEEN 0 AND 19),
    PRIMARY KEY (post_id, position),
    UNIQUE (post_id, upload_id)
);
CREATE UNIQUE INDEX post_images_one_main_idx ON post_images (post_id) WHERE is_main;
CREATE INDEX post_images_upload_idx ON post_images (upload_id);

CREATE TABLE post_likes (
    post_id    bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_likes_user_idx ON post_likes (user_id);
