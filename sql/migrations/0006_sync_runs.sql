-- The run log: one row per push or pull step (CLI or Dagster), so "what did each night do" is SQL.
-- counts holds the step's own totals (push: pushed, failed_retry_next_run, outcome_unknown, ...; pull:
-- records_received, clients_failed, <table>_inserted, ...), keys and counts only, never payloads.
CREATE TABLE IF NOT EXISTS confirma.sync_runs (
    id            bigserial PRIMARY KEY,
    run_id        text NOT NULL,                -- Dagster run id, or cli-<random> for a CLI push
    job           text NOT NULL,                -- Dagster job name, or the CLI command
    entity        text NOT NULL,                -- client, invoice, payments, settlements, distribution, ...
    direction     text NOT NULL CHECK (direction IN ('push', 'pull')),
    window_start  date,                         -- partition (or backfill) range, when the step has one
    window_end    date,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('succeeded', 'partial', 'failed')),
    counts        jsonb NOT NULL DEFAULT '{}'::jsonb,
    api_calls     integer NOT NULL DEFAULT 0,
    duration_s    double precision NOT NULL,
    error         text                          -- failed: the error's one line (redacted)
);
CREATE INDEX IF NOT EXISTS sync_runs_entity_started_idx ON confirma.sync_runs (entity, started_at);
CREATE INDEX IF NOT EXISTS sync_runs_run_idx ON confirma.sync_runs (run_id);
