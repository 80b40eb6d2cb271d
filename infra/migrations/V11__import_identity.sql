-- Import identity without a translation group (issue 17). Until now such a task was identified by the digest of
-- its FIRST translation only ('question:<topic id>:<md5>' in tasks.identity_key), so the same task with its
-- translations in another order, or with a new translation put first, was created again. Now a task is the same
-- when its topic matches and ANY of its translations (language and question) is a known task's: each stored
-- translation files its key here, and the primary key is what keeps two concurrent imports of one task from both
-- creating it (the second waits for the first's key, finds it taken, and drops its copy).
CREATE TABLE task_question_keys (
    topic_id        bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    language        text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    -- Lowercase hex MD5 of the question as stored: a question may be longer than an index entry can hold.
    question_digest text NOT NULL CHECK (question_digest ~ '^[0-9a-f]{32}$'),
    task_id         bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (topic_id, language, question_digest)
);
CREATE INDEX task_question_keys_task_idx ON task_question_keys (task_id);

-- The keys of the translations stored so far. Where two tasks of a topic share a translation already (two
-- imports in different orders made them), the older task keeps the key, as the importer's own lookup would pick.
INSERT INTO task_question_keys (topic_id, language, question_digest, task_id)
SELECT k.topic_id, tr.language, md5(tr.question), k.id
FROM tasks k JOIN task_translations tr ON tr.task_id = k.id
ORDER BY k.id, tr.language
ON CONFLICT DO NOTHING;

-- identity_key now holds only 'group:<translation_group_id>'; a task without a group has none. Unique as before,
-- which is what makes concurrent imports of a grouped task race-safe.
ALTER TABLE tasks ALTER COLUMN identity_key DROP NOT NULL;
UPDATE tasks SET identity_key = NULL WHERE identity_key LIKE 'question:%';
