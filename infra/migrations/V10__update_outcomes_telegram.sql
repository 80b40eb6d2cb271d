-- An update's effect happens once; only its reply may be retried (issue 17).
--
-- The webhook now writes an update's row in the same transaction as the update's effect (a feedback row, the
-- publications of `/publish`, a channel member), together with what is left to do once that transaction has
-- committed: the jobs to enqueue and the reply to send. A redelivery of the update finds the row and only does
-- what is still left (enqueues the jobs if they never left, sends the reply if it never went out); it never
-- runs the effect again. Rows written before this migration have nothing left to do.
ALTER TABLE telegram_updates
    -- What the webhook did (the answer's `handled`); NULL for rows from before this migration.
    ADD COLUMN handled          text,
    -- Job envelopes to enqueue after the commit (the import of a document, one publication each); each job is
    -- idempotent by its id, so enqueueing them again after a crash does no harm.
    ADD COLUMN jobs             jsonb,
    ADD COLUMN jobs_enqueued_at timestamptz,
    -- The Bot API `sendMessage` parameters of the reply, and when it went out (or was given up: `reply_error`
    -- says why Telegram refused it).
    ADD COLUMN reply            jsonb,
    ADD COLUMN replied_at       timestamptz,
    ADD COLUMN reply_error      text;
