-- What the debug job received, once per job id: proof that a queued message reached its function exactly once.
CREATE TABLE debug_job_runs (
    job_id       uuid PRIMARY KEY,
    payload      jsonb NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
